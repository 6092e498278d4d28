use std::fmt;

use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, PKeyRef, Private, Public};
use openssl::rand::rand_bytes;
use openssl::rsa::Rsa;
use openssl::sign::Signer;
use openssl::x509::X509;

use crate::cert::{self_signed_certificate, validate_profile};
use crate::error::CertsError;
use crate::kek::{Kek, hex_lower, wipe};
use crate::record::{Algorithm, CertificateProfile, KeyRecord, KeyState, record_aad};

const RSA_BITS: u32 = 2048;
const RSA_PUBLIC_EXPONENT: u32 = 65537;
/// Byte length of each of r and s for P-256 in a JWS signature (RFC 7518, section 3.4).
const ES256_COMPONENT_LEN: i32 = 32;

/// Generates a key pair for `alg` and seals its private key under `kek`.
///
/// RS256 keys get a self-signed certificate for SAML. RSA generation takes tens to hundreds of
/// milliseconds of CPU; call it from a blocking context when latency matters.
pub fn generate_key(
    alg: Algorithm,
    state: KeyState,
    kek: &Kek,
    profile: &CertificateProfile,
    now: i64,
) -> Result<KeyRecord, CertsError> {
    if alg == Algorithm::Rs256 {
        // Fail before spending time on RSA generation.
        validate_profile(profile)?;
    }
    let pkey = match alg {
        Algorithm::Rs256 => {
            let e = BigNum::from_u32(RSA_PUBLIC_EXPONENT)?;
            PKey::from_rsa(Rsa::generate_with_e(RSA_BITS, &e)?)?
        }
        Algorithm::Es256 => {
            let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
            PKey::from_ec_key(EcKey::generate(&group)?)?
        }
    };
    let kid = new_kid(alg)?;
    let public_key_pem = pem_string(pkey.public_key_to_pem()?);
    let certificate_pem = match alg {
        Algorithm::Rs256 => Some(pem_string(
            self_signed_certificate(&pkey, profile, now)?.to_pem()?,
        )),
        Algorithm::Es256 => None,
    };
    let mut der = pkey.private_key_to_pkcs8()?;
    let sealed = kek.seal(&der, record_aad(&kid, alg).as_bytes());
    wipe(&mut der);

    Ok(KeyRecord {
        kid,
        alg,
        state,
        public_key_pem,
        certificate_pem,
        encrypted_private_key: sealed?,
        kek_id: kek.id(),
        created_at: now,
        activated_at: (state == KeyState::Current).then_some(now),
        retired_at: (state == KeyState::Retired).then_some(now),
    })
}

/// Lowercase algorithm name plus 64 random bits in hex: URL-safe, and the prefix lets operators
/// see the algorithm in logs and JWS headers at a glance.
fn new_kid(alg: Algorithm) -> Result<String, CertsError> {
    let mut bytes = [0u8; 8];
    rand_bytes(&mut bytes)?;
    Ok(format!(
        "{}-{}",
        alg.as_str().to_ascii_lowercase(),
        hex_lower(&bytes)
    ))
}

// PEM is ASCII by construction, so the lossy conversion never alters it.
fn pem_string(pem: Vec<u8>) -> String {
    String::from_utf8_lossy(&pem).into_owned()
}

/// A decrypted private key, ready to sign.
///
/// Cloning shares the underlying OpenSSL key (reference counted) rather than copying it.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    alg: Algorithm,
    pkey: PKey<Private>,
}

impl SigningKey {
    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    pub fn pkey(&self) -> &PKeyRef<Private> {
        &self.pkey
    }

    /// Signs a JWS signing input (`base64url(header) "." base64url(payload)`).
    ///
    /// RS256 yields RSASSA-PKCS1-v1_5 over SHA-256. ES256 yields the fixed-width `r || s` (64
    /// bytes) that JWS requires instead of the DER structure OpenSSL produces.
    pub fn sign_jws(&self, signing_input: &[u8]) -> Result<Vec<u8>, CertsError> {
        let mut signer = Signer::new(MessageDigest::sha256(), &self.pkey)?;
        match self.alg {
            Algorithm::Rs256 => {
                signer.set_rsa_padding(openssl::rsa::Padding::PKCS1)?;
                Ok(signer.sign_oneshot_to_vec(signing_input)?)
            }
            Algorithm::Es256 => {
                let der = signer.sign_oneshot_to_vec(signing_input)?;
                let signature = EcdsaSig::from_der(&der)?;
                let mut jose = signature.r().to_vec_padded(ES256_COMPONENT_LEN)?;
                jose.extend(signature.s().to_vec_padded(ES256_COMPONENT_LEN)?);
                Ok(jose)
            }
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// Opens the record's private key with `kek`.
///
/// Checks, in order: the record names this KEK (else [`CertsError::WrongKek`]); the ciphertext
/// authenticates against kid and algorithm (else [`CertsError::Decrypt`]); the key is of the
/// record's algorithm and matches its public key and certificate (else
/// [`CertsError::KeyMismatch`]), so that what is published always verifies what is signed.
pub fn decrypt_private_key(record: &KeyRecord, kek: &Kek) -> Result<SigningKey, CertsError> {
    let kek_id = kek.id();
    if record.kek_id != kek_id {
        return Err(CertsError::WrongKek {
            kid: record.kid.clone(),
            expected_kek_id: record.kek_id.clone(),
            actual_kek_id: kek_id,
        });
    }
    let mut der = kek
        .open(&record.encrypted_private_key, record.aad().as_bytes())
        .map_err(|err| match err {
            CertsError::Open(_) => CertsError::Decrypt {
                kid: record.kid.clone(),
            },
            other => other,
        })?;
    let parsed = PKey::private_key_from_pkcs8(&der);
    wipe(&mut der);
    let pkey = parsed.map_err(|_| mismatch(record, "the decrypted key is not PKCS#8"))?;

    check_algorithm(record, &pkey)?;
    let public = PKey::public_key_from_pem(record.public_key_pem.as_bytes())
        .map_err(|_| mismatch(record, "public_key_pem is not a PEM public key"))?;
    if !public.public_eq(&pkey) {
        return Err(mismatch(
            record,
            "public_key_pem does not belong to the private key",
        ));
    }
    if let Some(pem) = &record.certificate_pem {
        let certificate = X509::from_pem(pem.as_bytes())
            .map_err(|_| mismatch(record, "certificate_pem is not a PEM certificate"))?;
        let certified: PKey<Public> = certificate.public_key()?;
        if !certified.public_eq(&pkey) {
            return Err(mismatch(
                record,
                "the certificate does not certify the private key",
            ));
        }
    }
    Ok(SigningKey {
        kid: record.kid.clone(),
        alg: record.alg,
        pkey,
    })
}

fn check_algorithm(record: &KeyRecord, pkey: &PKeyRef<Private>) -> Result<(), CertsError> {
    match record.alg {
        Algorithm::Rs256 => {
            if pkey.id() != Id::RSA {
                return Err(mismatch(record, "an RS256 record holds a non-RSA key"));
            }
            if pkey.bits() < RSA_BITS {
                return Err(mismatch(
                    record,
                    &format!("RSA key of {} bits is below {RSA_BITS}", pkey.bits()),
                ));
            }
        }
        Algorithm::Es256 => {
            let on_p256 = pkey.id() == Id::EC
                && pkey.ec_key()?.group().curve_name() == Some(Nid::X9_62_PRIME256V1);
            if !on_p256 {
                return Err(mismatch(record, "an ES256 record holds a key not on P-256"));
            }
        }
    }
    Ok(())
}

fn mismatch(record: &KeyRecord, reason: &str) -> CertsError {
    CertsError::KeyMismatch {
        kid: record.kid.clone(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{SystemTime, UNIX_EPOCH};

    use openssl::asn1::Asn1Time;
    use openssl::sign::Verifier;

    use super::*;
    use crate::error::OpenError;

    fn now() -> i64 {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        i64::try_from(secs).unwrap()
    }

    fn key(alg: Algorithm, kek: &Kek) -> KeyRecord {
        generate_key(
            alg,
            KeyState::Current,
            kek,
            &CertificateProfile::default(),
            now(),
        )
        .unwrap()
    }

    fn public_key(record: &KeyRecord) -> PKey<Public> {
        PKey::public_key_from_pem(record.public_key_pem.as_bytes()).unwrap()
    }

    #[test]
    fn generated_keys_have_expected_type_and_metadata() {
        let kek = Kek::generate();
        let rs = key(Algorithm::Rs256, &kek);
        let es = key(Algorithm::Es256, &kek);

        let rsa = public_key(&rs).rsa().unwrap();
        assert_eq!(rsa.n().num_bits(), 2048);
        assert_eq!(rsa.e(), &*BigNum::from_u32(65537).unwrap());
        let ec = public_key(&es).ec_key().unwrap();
        assert_eq!(ec.group().curve_name(), Some(Nid::X9_62_PRIME256V1));
        assert!(es.certificate_pem.is_none());

        for record in [&rs, &es] {
            assert!(
                record
                    .public_key_pem
                    .starts_with("-----BEGIN PUBLIC KEY-----")
            );
            assert_eq!(record.kek_id, kek.id());
            assert_eq!(record.activated_at, Some(record.created_at));
            assert_eq!(record.retired_at, None);
            let prefix = format!("{}-", record.alg.as_str().to_ascii_lowercase());
            let suffix = record.kid.strip_prefix(&prefix).unwrap();
            assert_eq!(suffix.len(), 16);
            assert!(suffix.bytes().all(|b| b.is_ascii_hexdigit()));
        }
        assert_ne!(rs.kid, key(Algorithm::Rs256, &kek).kid);

        let next = generate_key(
            Algorithm::Es256,
            KeyState::Next,
            &kek,
            &CertificateProfile::default(),
            1,
        )
        .unwrap();
        assert_eq!((next.activated_at, next.retired_at), (None, None));
    }

    #[test]
    fn sealed_private_key_does_not_open_with_another_kek() {
        let kek = Kek::generate();
        let other = Kek::generate();
        let record = key(Algorithm::Es256, &kek);

        match decrypt_private_key(&record, &other).unwrap_err() {
            CertsError::WrongKek {
                kid,
                expected_kek_id,
                actual_kek_id,
            } => {
                assert_eq!(kid, record.kid);
                assert_eq!(expected_kek_id, kek.id());
                assert_eq!(actual_kek_id, other.id());
            }
            err => panic!("unexpected error: {err}"),
        }
        // Even when the stored KEK id is forged to match, the ciphertext itself must not open.
        let forged = KeyRecord {
            kek_id: other.id(),
            ..record.clone()
        };
        assert!(matches!(
            decrypt_private_key(&forged, &other).unwrap_err(),
            CertsError::Decrypt { kid } if kid == record.kid
        ));
        assert!(matches!(
            other
                .open(&record.encrypted_private_key, record.aad().as_bytes())
                .unwrap_err(),
            CertsError::Open(OpenError::Authentication)
        ));
        assert!(decrypt_private_key(&record, &kek).is_ok());
    }

    #[test]
    fn aad_binds_ciphertext_to_its_kid() {
        let kek = Kek::generate();
        let a = key(Algorithm::Es256, &kek);
        let b = key(Algorithm::Es256, &kek);
        // b's identity with a's private key: what a database writer swapping blobs would produce.
        let swapped = KeyRecord {
            encrypted_private_key: a.encrypted_private_key.clone(),
            ..b.clone()
        };
        assert!(matches!(
            decrypt_private_key(&swapped, &kek).unwrap_err(),
            CertsError::Decrypt { kid } if kid == b.kid
        ));
        let renamed = KeyRecord {
            kid: b.kid.clone(),
            ..a.clone()
        };
        assert!(matches!(
            decrypt_private_key(&renamed, &kek).unwrap_err(),
            CertsError::Decrypt { .. }
        ));
        assert_eq!(decrypt_private_key(&a, &kek).unwrap().kid(), a.kid);
    }

    #[test]
    fn tampered_record_ciphertext_is_rejected() {
        let kek = Kek::generate();
        let mut record = key(Algorithm::Es256, &kek);
        let middle = record.encrypted_private_key.len() / 2;
        record.encrypted_private_key[middle] ^= 0x80;
        assert!(matches!(
            decrypt_private_key(&record, &kek).unwrap_err(),
            CertsError::Decrypt { .. }
        ));
    }

    #[test]
    fn decrypt_rejects_public_key_that_does_not_match() {
        let kek = Kek::generate();
        let a = key(Algorithm::Es256, &kek);
        let b = key(Algorithm::Es256, &kek);
        let wrong_public = KeyRecord {
            public_key_pem: b.public_key_pem.clone(),
            ..a.clone()
        };
        assert!(matches!(
            decrypt_private_key(&wrong_public, &kek).unwrap_err(),
            CertsError::KeyMismatch { .. }
        ));

        let rs1 = key(Algorithm::Rs256, &kek);
        let rs2 = key(Algorithm::Rs256, &kek);
        let wrong_certificate = KeyRecord {
            certificate_pem: rs2.certificate_pem.clone(),
            ..rs1.clone()
        };
        assert!(matches!(
            decrypt_private_key(&wrong_certificate, &kek).unwrap_err(),
            CertsError::KeyMismatch { .. }
        ));
    }

    #[test]
    fn rs256_key_has_self_signed_certificate_that_verifies() {
        let kek = Kek::generate();
        let now = now();
        let profile = CertificateProfile {
            common_name: "idp.school.example".to_owned(),
            organization: "Stichting Voorbeeld".to_owned(),
            validity_days: 30,
        };
        let record = generate_key(Algorithm::Rs256, KeyState::Next, &kek, &profile, now).unwrap();
        let certificate =
            X509::from_pem(record.certificate_pem.as_ref().unwrap().as_bytes()).unwrap();

        let certified = certificate.public_key().unwrap();
        assert!(certified.public_eq(&public_key(&record)));
        assert!(certificate.verify(&certified).unwrap());
        let stranger = key(Algorithm::Rs256, &kek);
        assert!(!certificate.verify(&public_key(&stranger)).unwrap());

        let not_before = Asn1Time::from_unix(now - 300).unwrap();
        let not_after = Asn1Time::from_unix(now + 30 * 86_400).unwrap();
        assert!(
            certificate.not_before() == not_before,
            "notBefore {} != {}",
            certificate.not_before(),
            &*not_before
        );
        assert!(
            certificate.not_after() == not_after,
            "notAfter {} != {}",
            certificate.not_after(),
            &*not_after
        );
        let common_name = certificate
            .subject_name()
            .entries_by_nid(Nid::COMMONNAME)
            .next()
            .unwrap()
            .data()
            .to_string()
            .unwrap();
        assert_eq!(common_name, "idp.school.example");
        let organization = certificate
            .subject_name()
            .entries_by_nid(Nid::ORGANIZATIONNAME)
            .next()
            .unwrap()
            .data()
            .to_string()
            .unwrap();
        assert_eq!(organization, "Stichting Voorbeeld");
        assert_eq!(
            certificate.issuer_name().to_der().unwrap(),
            certificate.subject_name().to_der().unwrap()
        );
        assert_eq!(certificate.version(), 2);
        assert_eq!(
            certificate.signature_algorithm().object().nid(),
            Nid::SHA256WITHRSAENCRYPTION
        );
        assert!(certificate.subject_key_id().is_some());

        let text = String::from_utf8(certificate.to_text().unwrap()).unwrap();
        let after = |marker: &str| {
            let start = text
                .find(marker)
                .unwrap_or_else(|| panic!("{marker} missing: {text}"));
            text[start..].lines().take(2).collect::<Vec<_>>().join("\n")
        };
        let basic = after("X509v3 Basic Constraints");
        assert!(
            basic.contains("critical") && basic.contains("CA:FALSE"),
            "{basic}"
        );
        let usage = after("X509v3 Key Usage");
        assert!(usage.contains("critical"), "{usage}");
        assert!(
            usage.lines().nth(1).unwrap().trim() == "Digital Signature",
            "{usage}"
        );
    }

    #[test]
    fn rs256_signature_verifies_with_public_key() {
        let kek = Kek::generate();
        let record = key(Algorithm::Rs256, &kek);
        let signing = decrypt_private_key(&record, &kek).unwrap();
        assert_eq!(signing.alg(), Algorithm::Rs256);
        let input = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0";
        let signature = signing.sign_jws(input).unwrap();
        assert_eq!(signature.len(), 256);

        let public = public_key(&record);
        let mut verifier = Verifier::new(MessageDigest::sha256(), &public).unwrap();
        verifier
            .set_rsa_padding(openssl::rsa::Padding::PKCS1)
            .unwrap();
        assert!(verifier.verify_oneshot(&signature, input).unwrap());
        let mut verifier = Verifier::new(MessageDigest::sha256(), &public).unwrap();
        assert!(!verifier.verify_oneshot(&signature, b"other input").unwrap());
    }

    fn verify_es256(public: &PKeyRef<Public>, signature: &[u8], input: &[u8]) -> bool {
        assert_eq!(signature.len(), 64);
        let r = BigNum::from_slice(&signature[..32]).unwrap();
        let s = BigNum::from_slice(&signature[32..]).unwrap();
        let der = EcdsaSig::from_private_components(r, s)
            .unwrap()
            .to_der()
            .unwrap();
        let mut verifier = Verifier::new(MessageDigest::sha256(), public).unwrap();
        verifier.verify_oneshot(&der, input).unwrap()
    }

    #[test]
    fn es256_signature_verifies_with_public_key() {
        let kek = Kek::generate();
        let record = key(Algorithm::Es256, &kek);
        let signing = decrypt_private_key(&record, &kek).unwrap();
        assert_eq!(signing.alg(), Algorithm::Es256);
        let public = public_key(&record);
        let input = b"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0";
        let signature = signing.sign_jws(input).unwrap();
        assert!(verify_es256(&public, &signature, input));
        assert!(!verify_es256(&public, &signature, b"other input"));
    }

    #[test]
    fn es256_signature_is_always_64_bytes() {
        // About 1 in 128 signatures has an r or s with a leading zero byte, which DER drops;
        // 3000 signatures miss that case with a probability of about 1e-10.
        let kek = Kek::generate();
        let record = key(Algorithm::Es256, &kek);
        let signing = decrypt_private_key(&record, &kek).unwrap();
        let public = public_key(&record);
        let mut saw_short_component = false;
        for i in 0..3000u32 {
            let input = i.to_be_bytes();
            let signature = signing.sign_jws(&input).unwrap();
            assert_eq!(signature.len(), 64);
            saw_short_component |= signature[0] == 0 || signature[32] == 0;
            assert!(verify_es256(&public, &signature, &input));
        }
        assert!(saw_short_component);
    }

    #[test]
    fn signing_key_debug_output_does_not_reveal_key() {
        let kek = Kek::generate();
        let record = key(Algorithm::Es256, &kek);
        let signing = decrypt_private_key(&record, &kek).unwrap();
        let debug = format!("{signing:?}");
        assert!(debug.contains(&record.kid), "{debug}");
        let der = signing.pkey().private_key_to_pkcs8().unwrap();
        let private = signing
            .pkey()
            .ec_key()
            .unwrap()
            .private_key()
            .to_hex_str()
            .unwrap();
        assert!(
            !debug.to_lowercase().contains(&private.to_lowercase()),
            "{debug}"
        );
        assert!(!debug.contains(&format!("{der:?}")), "{debug}");
    }
}
