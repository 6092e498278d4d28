//! Compact JWS (RFC 7515) signing and verification: ID tokens and logout tokens that openpoort
//! signs, and the private_key_jwt client assertions and id_token_hint values it verifies.
//!
//! Only public-key algorithms are accepted (RS256, PS256, ES256): a token can never be verified
//! with a shared secret, which closes the RS256-to-HS256 key confusion attack, and `alg` must
//! agree with the key's type and declared `alg`. Claims (`exp`, `aud`, `iss`, ...) are the
//! caller's to check, because each token kind has its own rules.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Public};
use openssl::rsa::{Padding, Rsa};
use openssl::sha::sha256;
use openssl::sign::{RsaPssSaltlen, Verifier};
use serde_json::{Map, Value, json};

/// Largest token [`verify`] and [`peek_claims`] look at. Our ID tokens are a few kilobytes; the
/// bound keeps a hostile client assertion or id_token_hint from costing more than parsing that.
pub const MAX_TOKEN_LEN: usize = 64 * 1024;

/// RSA keys below 2048 bits are refused (NIST SP 800-131A); above 16384 bits OpenSSL refuses
/// them anyway, and checking first gives a clearer error.
const MIN_RSA_BITS: i32 = 2048;
const MAX_RSA_BITS: i32 = 16384;
/// Public exponents above 32 bits have no legitimate use and make verification expensive.
const MAX_RSA_EXPONENT_BITS: i32 = 32;
/// Each of r and s (and each EC coordinate) is 32 bytes for P-256 (RFC 7518, sections 3.4 and 6.2.1).
const P256_FIELD_LEN: usize = 32;
/// JWK members that only a private or symmetric key has (RFC 7518, section 6).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
/// Attacker-controlled strings (kid, alg) are echoed in errors, and errors end up in logs.
const MAX_ECHO_CHARS: usize = 64;

/// Why a token could not be signed or verified, or a key could not be published.
#[derive(Debug, thiserror::Error)]
pub enum JoseError {
    /// Not a compact JWS, or a part is not base64url-encoded JSON of the right shape.
    #[error("malformed JWS: {0}")]
    Malformed(String),

    #[error("token of {0} bytes is longer than the {MAX_TOKEN_LEN} bytes accepted")]
    TooLarge(usize),

    #[error("alg \"none\" (an unsigned token) is refused")]
    AlgorithmNone,

    #[error("symmetric algorithm {0:?} is refused: only public-key signatures are accepted")]
    SymmetricAlgorithm(String),

    #[error("signature algorithm {0:?} is not supported (accepted: RS256, PS256, ES256)")]
    UnsupportedAlgorithm(String),

    /// RFC 7515 section 4.1.11: a recipient must refuse extensions it does not understand, and
    /// openpoort understands none.
    #[error("critical header parameters are not supported")]
    CriticalHeader,

    #[error("invalid JWK Set: {0}")]
    InvalidJwks(String),

    #[error("no key with kid {0:?} in the JWK Set")]
    UnknownKid(String),

    /// The header's kid names a key that may not verify this token.
    #[error("key {kid:?} cannot verify this token: {reason}")]
    KeyUnusable { kid: String, reason: String },

    /// Without a kid, no key of the set fits the token's algorithm.
    #[error("no key in the JWK Set can verify an {0} signature")]
    NoUsableKey(&'static str),

    #[error("ES256 signature must be 64 bytes (r || s), got {0}")]
    SignatureLength(usize),

    #[error("signature does not verify")]
    BadSignature,

    /// A stored key cannot be published as a JWK.
    #[error("key {kid}: {reason}")]
    InvalidKeyRecord { kid: String, reason: String },

    #[error("JWT claims must be a JSON object")]
    ClaimsNotObject,

    #[error("invalid JWS header: {0}")]
    InvalidHeader(&'static str),

    #[error("signing failed: {0}")]
    Signing(#[from] certs::CertsError),

    #[error("OpenSSL error: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),

    #[error("JSON serialisation failed: {0}")]
    Json(#[from] serde_json::Error),
}

/// A token whose signature verified; its claims are not checked yet.
#[derive(Clone, Debug, PartialEq)]
pub struct Verified {
    pub header: Value,
    pub claims: Value,
}

/// Signs `claims` as a compact JWS with header `{"alg", "kid", "typ"}`.
///
/// `typ` is `"JWT"` for ID tokens and `"logout+jwt"` for logout tokens (OIDC Back-Channel
/// Logout 1.0, section 2.4), so that one kind can never be replayed as the other.
pub fn sign(key: &certs::SigningKey, typ: &str, claims: &Value) -> Result<String, JoseError> {
    if typ.is_empty() {
        return Err(JoseError::InvalidHeader("typ must not be empty"));
    }
    if !claims.is_object() {
        return Err(JoseError::ClaimsNotObject);
    }
    let header = json!({"alg": key.alg().as_str(), "kid": key.kid(), "typ": typ});
    let mut token = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(serde_json::to_vec(claims)?, &mut token);
    let signature = key.sign_jws(token.as_bytes())?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    Ok(token)
}

/// The OIDC hash of a value (`at_hash`, `c_hash`; OIDC Core 1.0, section 3.3.2.11): the left
/// half of its SHA-256 digest, base64url without padding. SHA-256 because both RS256 and ES256
/// hash with it.
pub fn half_hash(value: &str) -> String {
    let digest = sha256(value.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

/// Verifies a compact JWS against a JWK Set and returns its header and claims.
///
/// With a `kid`, only keys of that kid are considered (a kid may name keys of several types);
/// without one, every key that fits the algorithm is tried. A key must fit the header's `alg`
/// by type, by its own `alg` if it has one, by `use` ("sig") and by `key_ops` ("verify").
/// Claims are not checked.
pub fn verify(token: &str, jwks: &Value) -> Result<Verified, JoseError> {
    let parts = Parts::split(token)?;
    let header = decode_header(parts.header)?;
    if header.contains_key("crit") {
        return Err(JoseError::CriticalHeader);
    }
    let alg = match header.get("alg") {
        Some(Value::String(alg)) => JwsAlg::from_header(alg)?,
        Some(_) => return Err(malformed("alg is not a string")),
        None => return Err(malformed("the header has no alg")),
    };
    let kid = match header.get("kid") {
        Some(Value::String(kid)) => Some(kid.as_str()),
        Some(_) => return Err(malformed("kid is not a string")),
        None => None,
    };
    let signature = decode(parts.signature, "signature")?;
    if alg == JwsAlg::Es256 && signature.len() != 2 * P256_FIELD_LEN {
        return Err(JoseError::SignatureLength(signature.len()));
    }
    let keys = jwks_keys(jwks)?;
    let candidates = match kid {
        Some(kid) => keys_for_kid(keys, kid, alg)?,
        None => {
            let usable: Vec<_> = keys
                .iter()
                .filter_map(|key| parse_jwk(key).ok())
                .filter(|key| key.fits(alg).is_ok())
                .collect();
            if usable.is_empty() {
                return Err(JoseError::NoUsableKey(alg.as_str()));
            }
            usable
        }
    };
    for key in &candidates {
        if key.verifies(alg, parts.signing_input.as_bytes(), &signature)? {
            return Ok(Verified {
                header: Value::Object(header),
                claims: decode_claims(parts.payload)?,
            });
        }
    }
    Err(JoseError::BadSignature)
}

/// The claims of a compact JWS without verifying it: only to find out who claims to have sent
/// it (the client of an assertion, the audience of an id_token_hint) before choosing keys.
/// Nothing read here may be trusted until [`verify`] succeeds.
pub fn peek_claims(token: &str) -> Result<Value, JoseError> {
    let parts = Parts::split(token)?;
    decode_claims(parts.payload)
}

/// The three parts of a compact JWS, still encoded.
struct Parts<'a> {
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
    signing_input: &'a str,
}

impl<'a> Parts<'a> {
    fn split(token: &'a str) -> Result<Parts<'a>, JoseError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(JoseError::TooLarge(token.len()));
        }
        let mut parts = token.split('.');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(header), Some(payload), Some(signature), None) => Ok(Parts {
                header,
                payload,
                signature,
                signing_input: &token[..header.len() + 1 + payload.len()],
            }),
            // Five parts would be a JWE, which openpoort neither issues nor accepts.
            _ => Err(malformed("expected three base64url parts separated by '.'")),
        }
    }
}

fn malformed(reason: &str) -> JoseError {
    JoseError::Malformed(reason.to_owned())
}

/// Strict base64url without padding, as RFC 7515 section 2 requires: padded, standard-alphabet
/// or non-canonical input is refused rather than guessed at.
fn decode(part: &str, what: &str) -> Result<Vec<u8>, JoseError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JoseError::Malformed(format!("the {what} is not base64url")))
}

fn decode_json(part: &str, what: &str) -> Result<Value, JoseError> {
    serde_json::from_slice(&decode(part, what)?)
        .map_err(|_| JoseError::Malformed(format!("the {what} is not JSON")))
}

fn decode_header(part: &str) -> Result<Map<String, Value>, JoseError> {
    match decode_json(part, "header")? {
        Value::Object(header) => Ok(header),
        _ => Err(malformed("the header is not a JSON object")),
    }
}

fn decode_claims(part: &str) -> Result<Value, JoseError> {
    let claims = decode_json(part, "payload")?;
    if claims.is_object() {
        Ok(claims)
    } else {
        Err(JoseError::ClaimsNotObject)
    }
}

/// The `keys` of a JWK Set (RFC 7517, section 5).
pub(crate) fn jwks_keys(jwks: &Value) -> Result<&[Value], JoseError> {
    match jwks.get("keys") {
        Some(Value::Array(keys)) => Ok(keys),
        Some(_) => Err(JoseError::InvalidJwks("keys is not an array".to_owned())),
        None if jwks.is_object() => Err(JoseError::InvalidJwks("it has no keys".to_owned())),
        None => Err(JoseError::InvalidJwks("it is not a JSON object".to_owned())),
    }
}

fn keys_for_kid(keys: &[Value], kid: &str, alg: JwsAlg) -> Result<Vec<VerificationKey>, JoseError> {
    let mut reason = None;
    let mut fitting = Vec::new();
    for value in keys
        .iter()
        .filter(|key| key.get("kid").and_then(Value::as_str) == Some(kid))
    {
        match parse_jwk(value).and_then(|key| key.fits(alg).map(|()| key)) {
            Ok(key) => fitting.push(key),
            Err(problem) => reason = Some(problem.reason().to_owned()),
        }
    }
    match (fitting.is_empty(), reason) {
        (false, _) => Ok(fitting),
        (true, Some(reason)) => Err(JoseError::KeyUnusable {
            kid: echo(kid),
            reason,
        }),
        (true, None) => Err(JoseError::UnknownKid(echo(kid))),
    }
}

/// Cuts an attacker-controlled string short enough to log.
fn echo(value: &str) -> String {
    match value.char_indices().nth(MAX_ECHO_CHARS) {
        Some((end, _)) => format!("{}…", &value[..end]),
        None => value.to_owned(),
    }
}

/// The signature algorithms openpoort verifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JwsAlg {
    Rs256,
    Ps256,
    Es256,
}

impl JwsAlg {
    const ALL: [JwsAlg; 3] = [JwsAlg::Rs256, JwsAlg::Ps256, JwsAlg::Es256];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            JwsAlg::Rs256 => "RS256",
            JwsAlg::Ps256 => "PS256",
            JwsAlg::Es256 => "ES256",
        }
    }

    fn from_name(name: &str) -> Option<JwsAlg> {
        JwsAlg::ALL.into_iter().find(|alg| alg.as_str() == name)
    }

    /// A header's `alg`, with a specific error for the values attackers try.
    fn from_header(name: &str) -> Result<JwsAlg, JoseError> {
        if let Some(alg) = JwsAlg::from_name(name) {
            Ok(alg)
        } else if name.eq_ignore_ascii_case("none") {
            Err(JoseError::AlgorithmNone)
        } else if name.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("HS")) {
            Err(JoseError::SymmetricAlgorithm(echo(name)))
        } else {
            Err(JoseError::UnsupportedAlgorithm(echo(name)))
        }
    }

    fn kty(self) -> Kty {
        match self {
            JwsAlg::Rs256 | JwsAlg::Ps256 => Kty::Rsa,
            JwsAlg::Es256 => Kty::Ec,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kty {
    Rsa,
    Ec,
}

impl Kty {
    fn as_str(self) -> &'static str {
        match self {
            Kty::Rsa => "RSA",
            Kty::Ec => "EC",
        }
    }
}

/// Why a JWK cannot be used to verify signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum JwkProblem {
    /// A key of a type openpoort verifies with, but broken, weak or private: a registration
    /// holding it is refused.
    Malformed(String),
    /// A well-formed key that is not for signatures or not of a supported type or algorithm;
    /// JWK Sets may hold such keys (RFC 7517, section 5) and they are passed over.
    Unusable(String),
}

impl JwkProblem {
    pub(crate) fn reason(&self) -> &str {
        match self {
            JwkProblem::Malformed(reason) | JwkProblem::Unusable(reason) => reason,
        }
    }
}

/// A public key from a JWK that may verify signatures.
pub(crate) struct VerificationKey {
    pub(crate) kid: Option<String>,
    alg: Option<JwsAlg>,
    kty: Kty,
    pkey: PKey<Public>,
}

impl VerificationKey {
    /// Whether this key may verify a signature made with `alg`.
    fn fits(&self, alg: JwsAlg) -> Result<(), JwkProblem> {
        if alg.kty() != self.kty {
            return Err(JwkProblem::Unusable(format!(
                "it is an {} key, and {} needs an {} key",
                self.kty.as_str(),
                alg.as_str(),
                alg.kty().as_str()
            )));
        }
        match self.alg {
            Some(declared) if declared != alg => Err(JwkProblem::Unusable(format!(
                "it is declared for {}, not {}",
                declared.as_str(),
                alg.as_str()
            ))),
            _ => Ok(()),
        }
    }

    fn verifies(&self, alg: JwsAlg, input: &[u8], signature: &[u8]) -> Result<bool, JoseError> {
        let mut verifier = Verifier::new(MessageDigest::sha256(), &self.pkey)?;
        let der;
        let signature = match alg {
            JwsAlg::Rs256 => {
                verifier.set_rsa_padding(Padding::PKCS1)?;
                signature
            }
            // RFC 7518 section 3.5: MGF1 with SHA-256 and a salt as long as the hash.
            JwsAlg::Ps256 => {
                verifier.set_rsa_padding(Padding::PKCS1_PSS)?;
                verifier.set_rsa_mgf1_md(MessageDigest::sha256())?;
                verifier.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)?;
                signature
            }
            // JWS carries r || s; OpenSSL verifies the DER structure.
            JwsAlg::Es256 => {
                let (r, s) = signature.split_at(P256_FIELD_LEN);
                let sig = EcdsaSig::from_private_components(
                    BigNum::from_slice(r)?,
                    BigNum::from_slice(s)?,
                )?;
                der = sig.to_der()?;
                &der
            }
        };
        // OpenSSL reports some forged inputs (an RSA signature of the wrong length, r or s out
        // of range) as errors rather than as a mismatch; either way the signature is bad.
        Ok(verifier.verify_oneshot(signature, input).unwrap_or(false))
    }
}

/// Reads a JWK as a signature verification key (RFC 7517 section 4, RFC 7518 section 6).
pub(crate) fn parse_jwk(value: &Value) -> Result<VerificationKey, JwkProblem> {
    let malformed = |reason: &str| JwkProblem::Malformed(reason.to_owned());
    let jwk = value
        .as_object()
        .ok_or_else(|| malformed("it is not a JSON object"))?;
    if let Some(member) = PRIVATE_MEMBERS.iter().find(|m| jwk.contains_key(**m)) {
        // A published private key is a compromised key, whatever else the set holds.
        return Err(JwkProblem::Malformed(format!(
            "it holds private key material ({member:?}); only the public key may be given"
        )));
    }
    let kty = match jwk.get("kty") {
        Some(Value::String(kty)) => kty.as_str(),
        Some(_) => return Err(malformed("kty is not a string")),
        None => return Err(malformed("it has no kty")),
    };
    let kid = match jwk.get("kid") {
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return Err(malformed("kid is not a string")),
        None => None,
    };
    match jwk.get("use") {
        None => {}
        Some(Value::String(u)) if u == "sig" => {}
        Some(Value::String(u)) => {
            return Err(JwkProblem::Unusable(format!(
                "its use is {:?}, not \"sig\"",
                echo(u)
            )));
        }
        Some(_) => return Err(malformed("use is not a string")),
    }
    match jwk.get("key_ops") {
        None => {}
        Some(Value::Array(ops)) if ops.iter().any(|op| op == "verify") => {}
        Some(Value::Array(_)) => {
            return Err(JwkProblem::Unusable(
                "its key_ops do not include \"verify\"".to_owned(),
            ));
        }
        Some(_) => return Err(malformed("key_ops is not an array")),
    }
    let alg = match jwk.get("alg") {
        None => None,
        Some(Value::String(alg)) => Some(JwsAlg::from_name(alg).ok_or_else(|| {
            JwkProblem::Unusable(format!(
                "its alg {:?} is not one of RS256, PS256, ES256",
                echo(alg)
            ))
        })?),
        Some(_) => return Err(malformed("alg is not a string")),
    };
    let (kty, pkey) = match kty {
        "RSA" => (Kty::Rsa, rsa_public_key(jwk)?),
        "EC" => (Kty::Ec, ec_public_key(jwk)?),
        other => {
            return Err(JwkProblem::Unusable(format!(
                "key type {:?} is not supported (RSA and EC P-256 are)",
                echo(other)
            )));
        }
    };
    if let Some(alg) = alg
        && alg.kty() != kty
    {
        return Err(JwkProblem::Malformed(format!(
            "alg {} does not fit key type {}",
            alg.as_str(),
            kty.as_str()
        )));
    }
    Ok(VerificationKey {
        kid,
        alg,
        kty,
        pkey,
    })
}

fn member_bytes(jwk: &Map<String, Value>, name: &str) -> Result<Vec<u8>, JwkProblem> {
    let text = jwk
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| JwkProblem::Malformed(format!("it has no {name}")))?;
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| JwkProblem::Malformed(format!("{name} is not base64url")))
}

fn rsa_public_key(jwk: &Map<String, Value>) -> Result<PKey<Public>, JwkProblem> {
    let crypto = |_| JwkProblem::Malformed("it is not a valid RSA public key".to_owned());
    let n = BigNum::from_slice(&member_bytes(jwk, "n")?).map_err(crypto)?;
    let e = BigNum::from_slice(&member_bytes(jwk, "e")?).map_err(crypto)?;
    let bits = n.num_bits();
    if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
        return Err(JwkProblem::Malformed(format!(
            "its modulus has {bits} bits; {MIN_RSA_BITS} to {MAX_RSA_BITS} are accepted"
        )));
    }
    if !e.is_bit_set(0) || e.num_bits() < 2 || e.num_bits() > MAX_RSA_EXPONENT_BITS {
        return Err(JwkProblem::Malformed(
            "its public exponent is not an odd number of 2 to 32 bits".to_owned(),
        ));
    }
    let rsa = Rsa::from_public_components(n, e).map_err(crypto)?;
    PKey::from_rsa(rsa).map_err(crypto)
}

fn ec_public_key(jwk: &Map<String, Value>) -> Result<PKey<Public>, JwkProblem> {
    match jwk.get("crv") {
        Some(Value::String(crv)) if crv == "P-256" => {}
        Some(Value::String(crv)) => {
            return Err(JwkProblem::Unusable(format!(
                "curve {:?} is not supported (P-256 is)",
                echo(crv)
            )));
        }
        _ => return Err(JwkProblem::Malformed("it has no crv".to_owned())),
    }
    let crypto = |_| JwkProblem::Malformed("its point is not on P-256".to_owned());
    let mut coordinates = Vec::with_capacity(2);
    for name in ["x", "y"] {
        let bytes = member_bytes(jwk, name)?;
        if bytes.len() != P256_FIELD_LEN {
            return Err(JwkProblem::Malformed(format!(
                "{name} must be {P256_FIELD_LEN} bytes, got {}",
                bytes.len()
            )));
        }
        coordinates.push(BigNum::from_slice(&bytes).map_err(crypto)?);
    }
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).map_err(crypto)?;
    // OpenSSL checks that the point lies on the curve here, which stops invalid-curve attacks.
    let key = EcKey::from_public_key_affine_coordinates(&group, &coordinates[0], &coordinates[1])
        .map_err(crypto)?;
    PKey::from_ec_key(key).map_err(crypto)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use certs::{Algorithm, CertificateProfile, Kek, KeyRecord, KeyState, SigningKey};
    use openssl::pkey::Private;
    use openssl::sign::Signer;

    pub(crate) fn key_pair(alg: Algorithm) -> (KeyRecord, SigningKey) {
        let kek = Kek::generate();
        let record = certs::generate_key(
            alg,
            KeyState::Current,
            &kek,
            &CertificateProfile::default(),
            1_700_000_000,
        )
        .unwrap();
        let signing = certs::decrypt_private_key(&record, &kek).unwrap();
        (record, signing)
    }

    fn claims() -> Value {
        json!({"iss": "https://openpoort.example", "sub": "abc", "aud": "client-1", "exp": 2_000_000_000})
    }

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// A token with the given header and payload, signed with `key` under RS256 rules.
    fn rs256_token(header: &Value, payload: &str, key: &PKey<Private>) -> String {
        let input = format!(
            "{}.{}",
            b64(&serde_json::to_vec(header).unwrap()),
            b64(payload.as_bytes())
        );
        let mut signer = Signer::new(MessageDigest::sha256(), key).unwrap();
        let signature = signer.sign_oneshot_to_vec(input.as_bytes()).unwrap();
        format!("{input}.{}", b64(&signature))
    }

    fn replace_part(token: &str, index: usize, part: &str) -> String {
        let mut parts: Vec<&str> = token.split('.').collect();
        parts[index] = part;
        parts.join(".")
    }

    #[test]
    fn signed_token_verifies_against_our_own_jwks() {
        for alg in Algorithm::ALL {
            let (record, key) = key_pair(alg);
            let (other, _) = key_pair(Algorithm::Es256);
            let jwks = crate::jwks::jwk_set(&[other, record.clone()]).unwrap();

            let token = sign(&key, "JWT", &claims()).unwrap();
            let verified = verify(&token, &jwks).unwrap();
            assert_eq!(verified.claims, claims());
            assert_eq!(
                verified.header,
                json!({"alg": alg.as_str(), "kid": record.kid, "typ": "JWT"})
            );
            assert_eq!(peek_claims(&token).unwrap(), claims());

            let logout = sign(&key, "logout+jwt", &json!({"events": {}})).unwrap();
            assert_eq!(verify(&logout, &jwks).unwrap().header["typ"], "logout+jwt");
        }
    }

    #[test]
    fn token_without_kid_verifies_with_any_fitting_key() {
        let (record, key) = key_pair(Algorithm::Es256);
        let (other, _) = key_pair(Algorithm::Es256);
        let jwks = crate::jwks::jwk_set(&[other.clone(), record]).unwrap();
        let header = json!({"alg": "ES256", "typ": "JWT"});
        let input = format!(
            "{}.{}",
            b64(&serde_json::to_vec(&header).unwrap()),
            b64(&serde_json::to_vec(&claims()).unwrap())
        );
        let token = format!("{input}.{}", b64(&key.sign_jws(input.as_bytes()).unwrap()));
        assert_eq!(verify(&token, &jwks).unwrap().claims, claims());

        let only_other = crate::jwks::jwk_set(&[other]).unwrap();
        assert!(matches!(
            verify(&token, &only_other),
            Err(JoseError::BadSignature)
        ));
    }

    #[test]
    fn tampered_payload_fails() {
        for alg in Algorithm::ALL {
            let (record, key) = key_pair(alg);
            let jwks = crate::jwks::jwk_set(&[record]).unwrap();
            let token = sign(&key, "JWT", &claims()).unwrap();
            let mut forged = claims();
            forged["sub"] = json!("someone-else");
            let tampered = replace_part(&token, 1, &b64(&serde_json::to_vec(&forged).unwrap()));
            assert!(
                matches!(verify(&tampered, &jwks), Err(JoseError::BadSignature)),
                "{alg}"
            );
            // A flipped bit in the signature fails too.
            let mut signature = URL_SAFE_NO_PAD
                .decode(token.split('.').nth(2).unwrap())
                .unwrap();
            signature[10] ^= 1;
            let flipped = replace_part(&token, 2, &b64(&signature));
            assert!(matches!(
                verify(&flipped, &jwks),
                Err(JoseError::BadSignature)
            ));
        }
    }

    #[test]
    fn alg_none_is_refused() {
        let (record, _) = key_pair(Algorithm::Es256);
        let jwks = crate::jwks::jwk_set(std::slice::from_ref(&record)).unwrap();
        let payload = b64(&serde_json::to_vec(&claims()).unwrap());
        for alg in ["none", "None", "NONE"] {
            let header = b64(&serde_json::to_vec(&json!({"alg": alg, "kid": record.kid})).unwrap());
            for signature in ["", "AAAA"] {
                let token = format!("{header}.{payload}.{signature}");
                assert!(
                    matches!(verify(&token, &jwks), Err(JoseError::AlgorithmNone)),
                    "{alg} {signature:?}"
                );
            }
        }
    }

    #[test]
    fn hs256_is_refused_even_with_a_matching_kid() {
        // The classic confusion: HMAC keyed with the bytes of the published public key.
        let (record, _) = key_pair(Algorithm::Rs256);
        let jwks = crate::jwks::jwk_set(std::slice::from_ref(&record)).unwrap();
        let header = json!({"alg": "HS256", "kid": record.kid, "typ": "JWT"});
        let input = format!(
            "{}.{}",
            b64(&serde_json::to_vec(&header).unwrap()),
            b64(&serde_json::to_vec(&claims()).unwrap())
        );
        let hmac_key = PKey::hmac(record.public_key_pem.as_bytes()).unwrap();
        let mut signer = Signer::new(MessageDigest::sha256(), &hmac_key).unwrap();
        let signature = signer.sign_oneshot_to_vec(input.as_bytes()).unwrap();
        let token = format!("{input}.{}", b64(&signature));
        assert!(matches!(
            verify(&token, &jwks),
            Err(JoseError::SymmetricAlgorithm(alg)) if alg == "HS256"
        ));
        // Even a set that holds an oct key under that kid does not make HS256 acceptable.
        let oct = json!({"keys": [{"kty": "oct", "kid": record.kid, "k": b64(record.public_key_pem.as_bytes())}]});
        assert!(matches!(
            verify(&token, &oct),
            Err(JoseError::SymmetricAlgorithm(_))
        ));
    }

    #[test]
    fn unknown_kid_is_refused() {
        let (record, key) = key_pair(Algorithm::Es256);
        let (other, _) = key_pair(Algorithm::Es256);
        let token = sign(&key, "JWT", &claims()).unwrap();
        let jwks = crate::jwks::jwk_set(&[other]).unwrap();
        assert!(matches!(
            verify(&token, &jwks),
            Err(JoseError::UnknownKid(kid)) if kid == record.kid
        ));
        assert!(matches!(
            verify(&token, &json!({"keys": []})),
            Err(JoseError::UnknownKid(_))
        ));
    }

    #[test]
    fn es256_signature_of_wrong_length_is_refused() {
        let (record, key) = key_pair(Algorithm::Es256);
        let jwks = crate::jwks::jwk_set(&[record]).unwrap();
        let token = sign(&key, "JWT", &claims()).unwrap();
        let signature = URL_SAFE_NO_PAD
            .decode(token.split('.').nth(2).unwrap())
            .unwrap();
        assert_eq!(signature.len(), 64);
        // The DER encoding OpenSSL produces, or r || s with a byte missing or added.
        let der = EcdsaSig::from_private_components(
            BigNum::from_slice(&signature[..32]).unwrap(),
            BigNum::from_slice(&signature[32..]).unwrap(),
        )
        .unwrap()
        .to_der()
        .unwrap();
        let mut long = signature.clone();
        long.push(0);
        for wrong in [der, signature[..63].to_vec(), long] {
            let len = wrong.len();
            let token = replace_part(&token, 2, &b64(&wrong));
            assert!(
                matches!(verify(&token, &jwks), Err(JoseError::SignatureLength(n)) if n == len),
                "{len}"
            );
        }
    }

    #[test]
    fn key_must_agree_with_alg_use_and_type() {
        let (record, key) = key_pair(Algorithm::Rs256);
        let jwk = crate::jwks::jwk(&record).unwrap();
        let token = sign(&key, "JWT", &claims()).unwrap();

        let mut encryption = jwk.clone();
        encryption["use"] = json!("enc");
        let err = verify(&token, &json!({"keys": [encryption]})).unwrap_err();
        assert!(
            matches!(&err, JoseError::KeyUnusable { reason, .. } if reason.contains("enc")),
            "{err}"
        );

        let mut no_verify = jwk.clone();
        no_verify["key_ops"] = json!(["encrypt"]);
        assert!(matches!(
            verify(&token, &json!({"keys": [no_verify]})),
            Err(JoseError::KeyUnusable { .. })
        ));

        // The same RSA key declared for RS256 may not verify a PS256 signature.
        let pss_header = json!({"alg": "PS256", "kid": record.kid});
        let input = format!(
            "{}.{}",
            b64(&serde_json::to_vec(&pss_header).unwrap()),
            b64(&serde_json::to_vec(&claims()).unwrap())
        );
        let mut signer = Signer::new(MessageDigest::sha256(), key.pkey()).unwrap();
        signer.set_rsa_padding(Padding::PKCS1_PSS).unwrap();
        signer.set_rsa_mgf1_md(MessageDigest::sha256()).unwrap();
        signer
            .set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)
            .unwrap();
        let pss = format!(
            "{input}.{}",
            b64(&signer.sign_oneshot_to_vec(input.as_bytes()).unwrap())
        );
        let err = verify(&pss, &json!({"keys": [jwk.clone()]})).unwrap_err();
        assert!(
            matches!(&err, JoseError::KeyUnusable { reason, .. } if reason.contains("RS256")),
            "{err}"
        );
        // Without a declared alg the key may verify PS256 client assertions.
        let mut any_alg = jwk.clone();
        any_alg.as_object_mut().unwrap().remove("alg");
        assert_eq!(
            verify(&pss, &json!({"keys": [any_alg]})).unwrap().claims,
            claims()
        );

        // An ES256 header naming an RSA key.
        let (ec_record, ec_key) = key_pair(Algorithm::Es256);
        let mut mislabelled = crate::jwks::jwk(&ec_record).unwrap();
        mislabelled["kid"] = json!(record.kid);
        mislabelled.as_object_mut().unwrap().remove("alg");
        let es = sign(&ec_key, "JWT", &claims()).unwrap();
        let es_with_rsa_kid = {
            let header = json!({"alg": "ES256", "kid": record.kid});
            replace_part(&es, 0, &b64(&serde_json::to_vec(&header).unwrap()))
        };
        assert!(matches!(
            verify(&es_with_rsa_kid, &json!({"keys": [jwk]})),
            Err(JoseError::KeyUnusable { .. })
        ));
        // The kid is shared by an RSA and an EC key: the EC one is chosen (and the signature,
        // made over another header, fails).
        assert!(matches!(
            verify(
                &es_with_rsa_kid,
                &json!({"keys": [crate::jwks::jwk(&record).unwrap(), mislabelled]})
            ),
            Err(JoseError::BadSignature)
        ));
    }

    #[test]
    fn weak_private_or_off_curve_keys_are_refused() {
        let rsa1024 = Rsa::generate(1024).unwrap();
        let weak = PKey::from_rsa(rsa1024.clone()).unwrap();
        let jwk = json!({
            "kty": "RSA", "kid": "weak",
            "n": b64(&rsa1024.n().to_vec()), "e": b64(&rsa1024.e().to_vec()),
        });
        let token = rs256_token(&json!({"alg": "RS256", "kid": "weak"}), "{}", &weak);
        let err = verify(&token, &json!({"keys": [jwk]})).unwrap_err();
        assert!(
            matches!(&err, JoseError::KeyUnusable { reason, .. } if reason.contains("1024")),
            "{err}"
        );

        let (record, key) = key_pair(Algorithm::Es256);
        let mut private = crate::jwks::jwk(&record).unwrap();
        let d = key
            .pkey()
            .ec_key()
            .unwrap()
            .private_key()
            .to_vec_padded(32)
            .unwrap();
        private["d"] = json!(b64(&d));
        assert!(matches!(
            parse_jwk(&private),
            Err(JwkProblem::Malformed(reason)) if reason.contains("private")
        ));

        let mut off_curve = crate::jwks::jwk(&record).unwrap();
        let mut y = URL_SAFE_NO_PAD
            .decode(off_curve["y"].as_str().unwrap())
            .unwrap();
        y[31] ^= 1;
        off_curve["y"] = json!(b64(&y));
        assert!(matches!(
            parse_jwk(&off_curve),
            Err(JwkProblem::Malformed(reason)) if reason.contains("P-256")
        ));

        let mut p384 = crate::jwks::jwk(&record).unwrap();
        p384["crv"] = json!("P-384");
        assert!(matches!(parse_jwk(&p384), Err(JwkProblem::Unusable(_))));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let (record, key) = key_pair(Algorithm::Es256);
        let jwks = crate::jwks::jwk_set(&[record]).unwrap();
        let token = sign(&key, "JWT", &claims()).unwrap();
        let [header, payload, signature]: [&str; 3] =
            token.split('.').collect::<Vec<_>>().try_into().unwrap();

        let cases = [
            format!("{header}.{payload}"),
            format!("{header}.{payload}.{signature}.x.y"),
            // Padding, the standard alphabet and stray characters are not base64url.
            format!("{header}=.{payload}.{signature}"),
            format!("{}/{}.{payload}.{signature}", &header[..4], &header[4..]),
            format!("{header}.{payload}.{signature}!"),
            format!("{}.{payload}.{signature}", b64(b"not json")),
            format!("{}.{payload}.{signature}", b64(b"[1,2]")),
            format!("{}.{payload}.{signature}", b64(br#"{"kid":"x"}"#)),
            format!("{}.{payload}.{signature}", b64(br#"{"alg":256}"#)),
        ];
        for case in &cases {
            assert!(
                matches!(verify(case, &jwks), Err(JoseError::Malformed(_))),
                "{case}: {:?}",
                verify(case, &jwks)
            );
        }
        let crit = b64(br#"{"alg":"ES256","crit":["exp"],"exp":1}"#);
        assert!(matches!(
            verify(&format!("{crit}.{payload}.{signature}"), &jwks),
            Err(JoseError::CriticalHeader)
        ));
        let rs512 = b64(br#"{"alg":"RS512"}"#);
        assert!(matches!(
            verify(&format!("{rs512}.{payload}.{signature}"), &jwks),
            Err(JoseError::UnsupportedAlgorithm(alg)) if alg == "RS512"
        ));
        let huge = "a".repeat(MAX_TOKEN_LEN + 1);
        assert!(matches!(verify(&huge, &jwks), Err(JoseError::TooLarge(_))));
        assert!(matches!(peek_claims(&huge), Err(JoseError::TooLarge(_))));
        assert!(matches!(
            peek_claims(&format!("{header}.{}.{signature}", b64(b"\"sub\""))),
            Err(JoseError::ClaimsNotObject)
        ));
        for bad in [json!([]), json!({}), json!({"keys": {}})] {
            assert!(matches!(
                verify(&token, &bad),
                Err(JoseError::InvalidJwks(_))
            ));
        }
    }

    #[test]
    fn signing_refuses_claims_that_are_not_an_object() {
        let (_, key) = key_pair(Algorithm::Es256);
        assert!(matches!(
            sign(&key, "JWT", &json!(["sub"])),
            Err(JoseError::ClaimsNotObject)
        ));
        assert!(matches!(
            sign(&key, "", &claims()),
            Err(JoseError::InvalidHeader(_))
        ));
    }

    #[test]
    fn half_hash_matches_the_oidc_example() {
        // OIDC Core 1.0, appendix A.3 (at_hash) and A.4 (c_hash).
        assert_eq!(
            half_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        assert_eq!(
            half_hash("Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"),
            "LDktKdoQak3Pk0cnXxCltA"
        );
    }

    #[test]
    fn long_kids_are_cut_short_in_errors() {
        let kid = "k".repeat(1000);
        let header = b64(&serde_json::to_vec(&json!({"alg": "ES256", "kid": kid})).unwrap());
        let token = format!("{header}.{}.{}", b64(b"{}"), b64(&[0; 64]));
        let err = verify(&token, &json!({"keys": []}))
            .unwrap_err()
            .to_string();
        assert!(err.len() < 200, "{err}");
    }
}
