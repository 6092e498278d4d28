//! A network provider's SAML Response, verified before openpoort believes a word of it.
//!
//! Accepting someone else's assertion is where most SAML vulnerabilities live (signature
//! wrapping, comment truncation, key confusion), so the order here is deliberate:
//!
//! 1. the raw message is read by our strict reader ([`dom`]): UTF-8, no DOCTYPE, no processing
//!    instructions, bounded size — libxml2 under xmlsec would otherwise "recover" it;
//! 2. every `ds:Signature` in it must verify against the provider's registered certificates
//!    (never a KeyInfo in the message) with an accepted algorithm (no SHA-1), and the message is
//!    reduced to what those signatures cover ([`verified_content`]);
//! 3. only that reduced, re-serialised document is read for the assertion. It must be rooted at
//!    the message's own Response or at its one Assertion, and the raw message may hold no other
//!    Assertion than the signed one, in its proper place — so content next to, around or inside
//!    the signature (XSW1–XSW8) is never read;
//! 4. issuer, status, Destination, Recipient, InResponseTo, audience and validity windows.
//!
//! An EncryptedAssertion (AES-GCM, key transported by RSA-OAEP to openpoort's SP key) goes
//! through the same steps twice: the Response's signature over the ciphertext, then the
//! decrypted Assertion read strictly and reduced to its own signed content.
//!
//! Replay is left to the caller, who holds the shared state store: record
//! [`VerifiedAssertion::replay_key`] with put-if-absent until [`VerifiedAssertion::replay_until`]
//! and refuse the login when the key was already there.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Padding;
use openssl::symm::{Cipher, decrypt_aead};
use thiserror::Error;

use super::dom::{self, Element, Limits};
use super::response::{BEARER, ENC_AES128_GCM, ENC_RSA_OAEP};
use super::sign::verified_content;
use super::{
    NS_ASSERTION, NS_DSIG, NS_PROTOCOL, NS_XENC, STATUS_SUCCESS, SamlError, time, valid_id,
};

pub const ENC_AES256_GCM: &str = "http://www.w3.org/2009/xmlenc11#aes256-gcm";
const DIGEST_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";

/// Clock skew allowed by default between the provider and openpoort, in seconds.
pub const DEFAULT_SKEW: i64 = 120;

/// What openpoort expects of one Response, from the provider's registered metadata and from the
/// AuthnRequest it sent (if any).
#[derive(Clone, Debug)]
pub struct Expectations {
    /// The provider's entityID: the Issuer of the assertion (and of the Response, if it names one).
    pub issuer: String,
    /// The provider's signing certificates (DER) from its registered metadata: the only keys
    /// a signature may verify with.
    pub certificates: Vec<Vec<u8>>,
    /// openpoort's SP entityID: an Audience of every AudienceRestriction.
    pub audience: String,
    /// openpoort's AssertionConsumerService URL: Destination and Recipient.
    pub acs_url: String,
    /// The ID of the AuthnRequest this Response answers; `None` when no request is outstanding
    /// (an unsolicited response, which then must not claim to answer one).
    pub request_id: Option<String>,
    /// Policy: the Assertion must carry its own signature, not only be inside a signed Response.
    pub require_signed_assertion: bool,
    /// Clock skew allowed on every validity window, in seconds.
    pub max_skew: i64,
    /// openpoort's own SP keys (current first, then those still published during a rollover)
    /// for assertions the provider encrypted to openpoort.
    pub decryption_keys: Vec<PKey<Private>>,
}

impl Expectations {
    /// Expectations with the default policy: signed assertion required, [`DEFAULT_SKEW`].
    pub fn new(
        issuer: impl Into<String>,
        certificates: Vec<Vec<u8>>,
        audience: impl Into<String>,
        acs_url: impl Into<String>,
        request_id: Option<String>,
    ) -> Expectations {
        Expectations {
            issuer: issuer.into(),
            certificates,
            audience: audience.into(),
            acs_url: acs_url.into(),
            request_id,
            require_signed_assertion: true,
            max_skew: DEFAULT_SKEW,
            decryption_keys: Vec::new(),
        }
    }
}

/// What the provider vouched for, read only from signed content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedAssertion {
    pub assertion_id: String,
    pub issuer: String,
    pub name_id: String,
    pub name_id_format: Option<String>,
    /// SAML attribute name → values, in document order.
    pub attributes: BTreeMap<String, Vec<String>>,
    /// Unix seconds.
    pub authn_instant: i64,
    pub session_index: Option<String>,
    /// The earliest end of the assertion's validity (bearer confirmation and Conditions), Unix
    /// seconds: how long the assertion ID must be remembered against replay.
    pub not_on_or_after: i64,
    /// Whether the Response as a whole was signed (else only the Assertion was).
    pub response_signed: bool,
    /// Whether the Assertion carries a signature of its own.
    pub assertion_signed: bool,
}

impl VerifiedAssertion {
    /// The key under which the caller must record this assertion (put-if-absent in the store
    /// shared by all nodes) before accepting it; an assertion whose key is already present is a
    /// replay and must be refused. Assertion IDs are only unique per issuer, hence both.
    pub fn replay_key(&self) -> String {
        let digest =
            openssl::sha::sha256(format!("{}\n{}", self.issuer, self.assertion_id).as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("saml-inbound-assertion:{hex}")
    }

    /// Until when (Unix seconds) the replay key must be kept: past that moment the assertion is
    /// refused as expired anyway, skew included.
    pub fn replay_until(&self, max_skew: i64) -> i64 {
        self.not_on_or_after.saturating_add(max_skew.max(0))
    }
}

/// Which check refused the Response. School users never see these; the log and the HTTP slice
/// do, so each names the check and what was found.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum InboundError {
    #[error("the message is {size} bytes; at most {limit} are accepted")]
    TooLarge { size: usize, limit: usize },
    #[error("a DOCTYPE is not allowed in a SAML Response")]
    Doctype,
    #[error("malformed Response: {0}")]
    Malformed(String),
    #[error("the message is not a samlp:Response")]
    NotAResponse,
    #[error("encryption algorithm `{0}` is not accepted (AES-GCM with RSA-OAEP only)")]
    EncryptionAlgorithm(String),
    #[error("the EncryptedAssertion does not decrypt with openpoort's keys")]
    Decryption,
    #[error("the Response carries no signature at all")]
    Unsigned,
    #[error(
        "a signature does not verify against the provider's registered certificates, or uses an algorithm that is not accepted (SHA-1)"
    )]
    Signature,
    #[error("the signed content is neither this Response nor its Assertion")]
    SignedElementMisplaced,
    #[error("a signature references `{0}`, which is neither the Response nor its Assertion")]
    ReferenceTarget(String),
    #[error("the Response holds no Assertion")]
    NoAssertion,
    #[error("the signed content holds {0} Assertions; exactly one is accepted")]
    MultipleAssertions(usize),
    #[error(
        "the Response holds an Assertion that no signature covers, or the signed Assertion is not in its place"
    )]
    AssertionOutsideSignature,
    #[error("the Assertion is not signed itself, and the provider's policy requires it")]
    AssertionNotSigned,
    #[error("Issuer `{found}` is not the provider's entityID")]
    Issuer { found: String },
    #[error("the Response's status is `{0}`, not Success")]
    Status(String),
    #[error("Destination `{found}` is not openpoort's ACS URL")]
    Destination { found: String },
    #[error("Recipient `{found}` is not openpoort's ACS URL")]
    Recipient { found: String },
    #[error("InResponseTo `{found}` does not answer the outstanding request ({expected})")]
    InResponseTo { expected: String, found: String },
    #[error("no Audience names openpoort in an AudienceRestriction")]
    Audience,
    #[error("the assertion expired at {0}")]
    Expired(String),
    #[error("the assertion is valid only from {0}")]
    NotYetValid(String),
    #[error("no bearer SubjectConfirmation")]
    SubjectConfirmation,
    #[error("missing or invalid {0}")]
    Missing(&'static str),
}

impl From<SamlError> for InboundError {
    fn from(e: SamlError) -> InboundError {
        match e {
            SamlError::TooLarge { size, limit } => InboundError::TooLarge { size, limit },
            SamlError::Doctype => InboundError::Doctype,
            SamlError::BadSignature | SamlError::MissingSignature => InboundError::Signature,
            other => InboundError::Malformed(other.to_string()),
        }
    }
}

/// Verifies `xml` (the decoded SAMLResponse) and returns what its signed Assertion states.
/// `now` is Unix seconds. The caller must still record [`VerifiedAssertion::replay_key`].
pub fn verify_response(
    xml: &[u8],
    expect: &Expectations,
    now: i64,
) -> Result<VerifiedAssertion, InboundError> {
    let original = dom::parse(xml, Limits::MESSAGE)?;
    if !original.is(NS_PROTOCOL, "Response") {
        return Err(InboundError::NotAResponse);
    }
    let response_id = original
        .attr("ID")
        .filter(|id| valid_id(id))
        .ok_or(InboundError::Missing("Response ID"))?;
    // dom::parse accepted the bytes as UTF-8.
    let text = std::str::from_utf8(xml).map_err(|_| InboundError::Malformed("not UTF-8".into()))?;
    if original
        .descendants(NS_ASSERTION, "EncryptedAssertion")
        .is_empty()
    {
        verify_plain(text, &original, response_id, expect, now)
    } else {
        verify_encrypted(text, &original, response_id, expect, now)
    }
}

/// A Response with a plain Assertion.
fn verify_plain(
    text: &str,
    original: &Element,
    response_id: &str,
    expect: &Expectations,
    now: i64,
) -> Result<VerifiedAssertion, InboundError> {
    let signatures = original.descendants(NS_DSIG, "Signature");
    if signatures.is_empty() {
        return Err(InboundError::Unsigned);
    }
    let reduced = verified_content(text, &expect.certificates)?;
    let signed = dom::parse(reduced.as_bytes(), Limits::MESSAGE)?;

    // The reduced document is rooted at the outermost signed element, kept with its attributes
    // only when a signature covered it whole. It must be this message's own Response or its
    // Assertion; a signed Response copied elsewhere (XSW1, XSW2) roots at a different ID.
    let response_signed = if signed.is(NS_PROTOCOL, "Response") {
        if signed.attr("ID") != Some(response_id) {
            return Err(InboundError::SignedElementMisplaced);
        }
        true
    } else if signed.is(NS_ASSERTION, "Assertion") {
        false
    } else {
        return Err(InboundError::SignedElementMisplaced);
    };

    let mut assertions = signed.descendants(NS_ASSERTION, "Assertion");
    if !response_signed {
        assertions.insert(0, &signed);
    }
    let assertion = match assertions.as_slice() {
        [] => return Err(InboundError::NoAssertion),
        [one] => *one,
        many => return Err(InboundError::MultipleAssertions(many.len())),
    };
    let assertion_id = assertion
        .attr("ID")
        .filter(|id| valid_id(id))
        .ok_or(InboundError::Missing("Assertion ID"))?;

    // The raw message may hold no Assertion besides the signed one, and that one must be a
    // child of the Response (not inside Extensions, an Object or another assertion). IDs are
    // unique (xmlsec refuses duplicates), so the ID identifies the signed element.
    let raw_assertions = original.descendants(NS_ASSERTION, "Assertion");
    let in_place = original
        .children(NS_ASSERTION, "Assertion")
        .any(|a| a.attr("ID") == Some(assertion_id));
    if raw_assertions.len() != 1 || !in_place {
        return Err(InboundError::AssertionOutsideSignature);
    }

    // Every signature verified; each must also be about this Response or this Assertion, so
    // that "signed" means signed by a reference to the element we read.
    if response_signed {
        only_references(&signatures, &[response_id, assertion_id])?;
    } else {
        only_references(&signatures, &[assertion_id])?;
    }

    let assertion_signed = !response_signed || signs_itself(assertion, assertion_id);
    if expect.require_signed_assertion && !assertion_signed {
        return Err(InboundError::AssertionNotSigned);
    }

    // The Response's own fields are authentic only when it was signed; otherwise they are
    // still checked where present, but the bearer confirmation below is what binds the
    // assertion to openpoort's ACS and request.
    let envelope = if response_signed { &signed } else { original };
    check_response(envelope, response_signed, expect)?;
    check_assertion(
        assertion,
        assertion_id,
        expect,
        now,
        response_signed,
        assertion_signed,
    )
}

/// A Response with an EncryptedAssertion: the Response's signature (if any) covers the
/// ciphertext, the Assertion's own signature is inside it. Both are checked as for a plain
/// Response, and the decrypted Assertion is read strictly and only from its signed content.
fn verify_encrypted(
    text: &str,
    original: &Element,
    response_id: &str,
    expect: &Expectations,
    now: i64,
) -> Result<VerifiedAssertion, InboundError> {
    let in_place = original
        .children(NS_ASSERTION, "EncryptedAssertion")
        .count();
    if in_place != 1
        || original
            .descendants(NS_ASSERTION, "EncryptedAssertion")
            .len()
            != 1
        || !original.descendants(NS_ASSERTION, "Assertion").is_empty()
    {
        return Err(InboundError::AssertionOutsideSignature);
    }
    let signatures = original.descendants(NS_DSIG, "Signature");
    // Outside the ciphertext only the Response itself may be signed.
    let signed_response = if signatures.is_empty() {
        None
    } else {
        let reduced = verified_content(text, &expect.certificates)?;
        let signed = dom::parse(reduced.as_bytes(), Limits::MESSAGE)?;
        if !signed.is(NS_PROTOCOL, "Response") || signed.attr("ID") != Some(response_id) {
            return Err(InboundError::SignedElementMisplaced);
        }
        only_references(&signatures, &[response_id])?;
        Some(signed)
    };
    let envelope = signed_response.as_ref().unwrap_or(original);
    let encrypted = envelope
        .child(NS_ASSERTION, "EncryptedAssertion")
        .ok_or(InboundError::AssertionOutsideSignature)?;

    let plaintext = decrypt(encrypted, &expect.decryption_keys)?;
    let inner = dom::parse(&plaintext, Limits::MESSAGE)?;
    if !inner.is(NS_ASSERTION, "Assertion") {
        return Err(InboundError::Malformed(
            "the EncryptedAssertion does not hold an Assertion".into(),
        ));
    }
    let assertion_id = inner
        .attr("ID")
        .filter(|id| valid_id(id))
        .ok_or(InboundError::Missing("Assertion ID"))?
        .to_owned();
    let nested = inner.descendants(NS_ASSERTION, "Assertion").len();
    if nested > 0 {
        return Err(InboundError::MultipleAssertions(nested + 1));
    }
    let inner_signatures = inner.descendants(NS_DSIG, "Signature");
    let signed_assertion = if inner_signatures.is_empty() {
        None
    } else {
        let text = std::str::from_utf8(&plaintext)
            .map_err(|_| InboundError::Malformed("not UTF-8".into()))?;
        let reduced = verified_content(text, &expect.certificates)?;
        let signed = dom::parse(reduced.as_bytes(), Limits::MESSAGE)?;
        if !signed.is(NS_ASSERTION, "Assertion") || signed.attr("ID") != Some(assertion_id.as_str())
        {
            return Err(InboundError::SignedElementMisplaced);
        }
        only_references(&inner_signatures, &[assertion_id.as_str()])?;
        Some(signed)
    };
    let response_signed = signed_response.is_some();
    let assertion_signed = signed_assertion.is_some();
    if !response_signed && !assertion_signed {
        return Err(InboundError::Unsigned);
    }
    if expect.require_signed_assertion && !assertion_signed {
        return Err(InboundError::AssertionNotSigned);
    }
    check_response(envelope, response_signed, expect)?;
    // Without its own signature the assertion is bound by the Response's signature over the
    // ciphertext and by AES-GCM's authentication of the plaintext.
    let assertion = signed_assertion.as_ref().unwrap_or(&inner);
    check_assertion(
        assertion,
        &assertion_id,
        expect,
        now,
        response_signed,
        assertion_signed,
    )
}

/// Every reference of `signatures` (all verified) must point at one of `ids`.
fn only_references(signatures: &[&Element], ids: &[&str]) -> Result<(), InboundError> {
    for signature in signatures {
        for reference in signature.descendants(NS_DSIG, "Reference") {
            let uri = reference.attr("URI").unwrap_or_default();
            if !uri.strip_prefix('#').is_some_and(|t| ids.contains(&t)) {
                return Err(InboundError::ReferenceTarget(uri.to_owned()));
            }
        }
    }
    Ok(())
}

fn base64_value(e: &Element) -> Result<Vec<u8>, InboundError> {
    let compact: String = e.text.chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD
        .decode(compact)
        .map_err(|_| InboundError::Decryption)
}

/// XML Encryption with AES-GCM content keys transported by RSA-OAEP. CBC (padding oracles,
/// Jager and Somorovsky 2011) and RSA PKCS#1 v1.5 key transport (Bleichenbacher) are refused
/// by name; every decryption failure gives the same error, so that no oracle remains.
fn decrypt(encrypted: &Element, keys: &[PKey<Private>]) -> Result<Vec<u8>, InboundError> {
    let data = encrypted
        .child(NS_XENC, "EncryptedData")
        .ok_or(InboundError::Missing("EncryptedData"))?;
    let algorithm = data
        .child(NS_XENC, "EncryptionMethod")
        .and_then(|m| m.attr("Algorithm"))
        .ok_or(InboundError::Missing("EncryptionMethod"))?;
    let (cipher, key_len) = match algorithm {
        ENC_AES128_GCM => (Cipher::aes_128_gcm(), 16),
        ENC_AES256_GCM => (Cipher::aes_256_gcm(), 32),
        other => return Err(InboundError::EncryptionAlgorithm(other.to_owned())),
    };
    let value = data
        .child(NS_XENC, "CipherData")
        .and_then(|c| c.child(NS_XENC, "CipherValue"))
        .ok_or(InboundError::Missing("CipherValue"))?;
    let bytes = base64_value(value)?;
    // xmlenc 1.1: a 96-bit IV, the ciphertext, a 128-bit tag.
    if bytes.len() < 12 + 16 {
        return Err(InboundError::Decryption);
    }
    let (iv, rest) = bytes.split_at(12);
    let (ciphertext, tag) = rest.split_at(rest.len() - 16);

    // The key travels in EncryptedData's KeyInfo or next to EncryptedData (SAML Core 2.2.4).
    let mut transported: Vec<&Element> = data
        .child(NS_DSIG, "KeyInfo")
        .map(|k| k.children(NS_XENC, "EncryptedKey").collect())
        .unwrap_or_default();
    transported.extend(encrypted.children(NS_XENC, "EncryptedKey"));
    if transported.is_empty() {
        return Err(InboundError::Missing("EncryptedKey"));
    }
    for encrypted_key in transported {
        let method = encrypted_key
            .child(NS_XENC, "EncryptionMethod")
            .ok_or(InboundError::Missing("EncryptedKey EncryptionMethod"))?;
        let oaep_digest = method
            .child(NS_DSIG, "DigestMethod")
            .and_then(|d| d.attr("Algorithm"));
        if method.attr("Algorithm") != Some(ENC_RSA_OAEP)
            || oaep_digest.is_some_and(|d| d != DIGEST_SHA1)
        {
            return Err(InboundError::EncryptionAlgorithm(
                method.attr("Algorithm").unwrap_or_default().to_owned(),
            ));
        }
        let wrapped = encrypted_key
            .child(NS_XENC, "CipherData")
            .and_then(|c| c.child(NS_XENC, "CipherValue"))
            .ok_or(InboundError::Missing("EncryptedKey CipherValue"))?;
        let wrapped = base64_value(wrapped)?;
        for key in keys {
            let Ok(rsa) = key.rsa() else { continue };
            let mut content_key = vec![0u8; rsa.size() as usize];
            let Ok(n) = rsa.private_decrypt(&wrapped, &mut content_key, Padding::PKCS1_OAEP) else {
                continue;
            };
            if n != key_len {
                continue;
            }
            if let Ok(plaintext) =
                decrypt_aead(cipher, &content_key[..n], Some(iv), &[], ciphertext, tag)
            {
                return Ok(plaintext);
            }
        }
    }
    Err(InboundError::Decryption)
}

/// Whether `assertion` (from signed content, where every signature verified) holds its own
/// signature whose only reference is the assertion itself.
fn signs_itself(assertion: &Element, id: &str) -> bool {
    let own = format!("#{id}");
    assertion.children(NS_DSIG, "Signature").any(|s| {
        let refs = s.descendants(NS_DSIG, "Reference");
        refs.len() == 1 && refs[0].attr("URI") == Some(own.as_str())
    })
}

fn check_in_response_to(found: Option<&str>, expect: &Expectations) -> Result<(), InboundError> {
    match (expect.request_id.as_deref(), found) {
        (_, None) if expect.request_id.is_none() => Ok(()),
        (Some(e), Some(f)) if e == f => Ok(()),
        (e, f) => Err(InboundError::InResponseTo {
            expected: e.unwrap_or("none: unsolicited").to_owned(),
            found: f.unwrap_or("").to_owned(),
        }),
    }
}

fn check_response(
    response: &Element,
    signed: bool,
    expect: &Expectations,
) -> Result<(), InboundError> {
    if response.attr("Version") != Some("2.0") {
        return Err(InboundError::Missing("Response Version 2.0"));
    }
    if let Some(issuer) = response.child(NS_ASSERTION, "Issuer") {
        let found = issuer.trimmed_text();
        if found != expect.issuer {
            return Err(InboundError::Issuer {
                found: found.to_owned(),
            });
        }
    }
    let status = response
        .child(NS_PROTOCOL, "Status")
        .and_then(|s| s.child(NS_PROTOCOL, "StatusCode"))
        .and_then(|c| c.attr("Value"))
        .ok_or(InboundError::Missing("Status"))?;
    if status != STATUS_SUCCESS {
        return Err(InboundError::Status(status.to_owned()));
    }
    // SAML Bindings 3.5.5.2: a signed Response must name its Destination; an unsigned one is
    // checked when it names one.
    match response.attr("Destination") {
        Some(d) if d == expect.acs_url => {}
        None if !signed => {}
        found => {
            return Err(InboundError::Destination {
                found: found.unwrap_or("").to_owned(),
            });
        }
    }
    check_in_response_to(response.attr("InResponseTo"), expect)
}

fn instant(e: &Element, attr: &'static str) -> Result<Option<i64>, InboundError> {
    match e.attr(attr) {
        None => Ok(None),
        Some(v) => time::parse(v).map(Some).ok_or(InboundError::Missing(attr)),
    }
}

fn check_window(
    not_before: Option<i64>,
    not_on_or_after: Option<i64>,
    now: i64,
    skew: i64,
) -> Result<(), InboundError> {
    if let Some(nb) = not_before
        && now.saturating_add(skew) < nb
    {
        return Err(InboundError::NotYetValid(time::format(nb)));
    }
    if let Some(end) = not_on_or_after
        && now.saturating_sub(skew) >= end
    {
        return Err(InboundError::Expired(time::format(end)));
    }
    Ok(())
}

/// The text of a simple element; child elements would let a reader pick a part of the value.
fn simple_text<'a>(e: &'a Element, what: &'static str) -> Result<&'a str, InboundError> {
    if !e.children.is_empty() {
        return Err(InboundError::Malformed(format!(
            "{what} has child elements"
        )));
    }
    Ok(e.trimmed_text())
}

fn check_assertion(
    assertion: &Element,
    assertion_id: &str,
    expect: &Expectations,
    now: i64,
    response_signed: bool,
    assertion_signed: bool,
) -> Result<VerifiedAssertion, InboundError> {
    let skew = expect.max_skew.max(0);
    if assertion.attr("Version") != Some("2.0") {
        return Err(InboundError::Missing("Assertion Version 2.0"));
    }
    let issuer = assertion
        .child(NS_ASSERTION, "Issuer")
        .ok_or(InboundError::Missing("Assertion Issuer"))?;
    let issuer = simple_text(issuer, "Issuer")?;
    if issuer != expect.issuer {
        return Err(InboundError::Issuer {
            found: issuer.to_owned(),
        });
    }

    let subject = assertion
        .child(NS_ASSERTION, "Subject")
        .ok_or(InboundError::Missing("Subject"))?;
    let name_id = subject
        .child(NS_ASSERTION, "NameID")
        .ok_or(InboundError::Missing("NameID"))?;
    let name_id_value = simple_text(name_id, "NameID")?;
    if name_id_value.is_empty() {
        return Err(InboundError::Missing("NameID"));
    }

    // Among bearer confirmations, one must fit; report why the last one did not.
    let mut confirmation: Result<i64, InboundError> = Err(InboundError::SubjectConfirmation);
    for sc in subject.children(NS_ASSERTION, "SubjectConfirmation") {
        if sc.attr("Method") != Some(BEARER) {
            continue;
        }
        confirmation = bearer(sc, expect, now, skew);
        if confirmation.is_ok() {
            break;
        }
    }
    let confirmation_end = confirmation?;

    let conditions = assertion
        .child(NS_ASSERTION, "Conditions")
        .ok_or(InboundError::Missing("Conditions"))?;
    let conditions_end = instant(conditions, "NotOnOrAfter")?;
    check_window(instant(conditions, "NotBefore")?, conditions_end, now, skew)?;
    // Every AudienceRestriction must be met (SAML Core 2.5.1.4), and there must be one: an
    // assertion for anyone is an assertion another SP can replay here.
    let mut restrictions = conditions
        .children(NS_ASSERTION, "AudienceRestriction")
        .peekable();
    if restrictions.peek().is_none() {
        return Err(InboundError::Audience);
    }
    for r in restrictions {
        if !r
            .children(NS_ASSERTION, "Audience")
            .any(|a| a.trimmed_text() == expect.audience)
        {
            return Err(InboundError::Audience);
        }
    }

    let authn = assertion
        .child(NS_ASSERTION, "AuthnStatement")
        .ok_or(InboundError::Missing("AuthnStatement"))?;
    let authn_instant =
        instant(authn, "AuthnInstant")?.ok_or(InboundError::Missing("AuthnInstant"))?;
    if let Some(end) = instant(authn, "SessionNotOnOrAfter")?
        && now.saturating_sub(skew) >= end
    {
        return Err(InboundError::Expired(time::format(end)));
    }

    let mut attributes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for statement in assertion.children(NS_ASSERTION, "AttributeStatement") {
        for attribute in statement.children(NS_ASSERTION, "Attribute") {
            let name = attribute
                .attr("Name")
                .ok_or(InboundError::Missing("Attribute Name"))?;
            let values = attributes.entry(name.to_owned()).or_default();
            for v in attribute.children(NS_ASSERTION, "AttributeValue") {
                values.push(simple_text(v, "AttributeValue")?.to_owned());
            }
        }
    }

    Ok(VerifiedAssertion {
        assertion_id: assertion_id.to_owned(),
        issuer: issuer.to_owned(),
        name_id: name_id_value.to_owned(),
        name_id_format: name_id.attr("Format").map(str::to_owned),
        attributes,
        authn_instant,
        session_index: authn.attr("SessionIndex").map(str::to_owned),
        not_on_or_after: conditions_end.map_or(confirmation_end, |c| c.min(confirmation_end)),
        response_signed,
        assertion_signed,
    })
}

/// One bearer SubjectConfirmation (SAML Profiles 4.1.4.2): Recipient is the ACS, InResponseTo
/// the outstanding request, NotOnOrAfter present and not passed. Returns its NotOnOrAfter.
fn bearer(sc: &Element, expect: &Expectations, now: i64, skew: i64) -> Result<i64, InboundError> {
    let data = sc
        .child(NS_ASSERTION, "SubjectConfirmationData")
        .ok_or(InboundError::Missing("SubjectConfirmationData"))?;
    match data.attr("Recipient") {
        Some(r) if r == expect.acs_url => {}
        found => {
            return Err(InboundError::Recipient {
                found: found.unwrap_or("").to_owned(),
            });
        }
    }
    check_in_response_to(data.attr("InResponseTo"), expect)?;
    let end = instant(data, "NotOnOrAfter")?.ok_or(InboundError::Missing(
        "SubjectConfirmationData NotOnOrAfter",
    ))?;
    check_window(instant(data, "NotBefore")?, Some(end), now, skew)?;
    Ok(end)
}
