//! SAML 2.0 for openpoort as identity provider: reading what service providers send (metadata,
//! AuthnRequest, LogoutRequest) and writing what openpoort answers (its metadata, Response,
//! LogoutResponse), signed through libxmlsec1 (samael's bindings) or OpenSSL.
//!
//! Input is read by our own strict reader ([`dom`]) before anything else sees it. Output is
//! written as text with every value escaped here ([`escape`]), because samael writes text nodes
//! unescaped (../shared/STACK.md, trap 1) and libxml2 would silently "recover" and sign a
//! different document.

pub mod authn_context;
pub mod authn_request;
pub mod binding;
pub mod dom;
pub mod idp_metadata;
pub mod inbound;
pub mod logout;
pub mod response;
pub mod sign;
pub mod sp;
pub mod time;
pub mod upstream;
pub mod xmlsec;

use thiserror::Error;

pub use authn_request::AuthnRequest;
pub use sp::{AcsEndpoint, Binding, ServiceProvider};

pub const NS_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub const NS_ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub const NS_METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
pub const NS_DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const NS_XENC: &str = "http://www.w3.org/2001/04/xmlenc#";

pub const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
pub const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

pub const NAMEID_PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
pub const NAMEID_TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
pub const NAMEID_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
pub const ATTRNAME_URI: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri";
pub const ATTRNAME_BASIC: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic";

pub const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
pub const STATUS_REQUESTER: &str = "urn:oasis:names:tc:SAML:2.0:status:Requester";
pub const STATUS_RESPONDER: &str = "urn:oasis:names:tc:SAML:2.0:status:Responder";
pub const STATUS_REQUEST_DENIED: &str = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied";
pub const STATUS_NO_PASSIVE: &str = "urn:oasis:names:tc:SAML:2.0:status:NoPassive";
pub const STATUS_INVALID_NAMEID_POLICY: &str =
    "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy";
pub const STATUS_NO_AUTHN_CONTEXT: &str = "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext";
pub const STATUS_AUTHN_FAILED: &str = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed";

pub const SIG_RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
pub const DIGEST_SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
pub const C14N_EXCLUSIVE: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
pub const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

/// RelayState is at most 80 bytes (SAML 2.0 Bindings, section 3.4.3 and 3.5.3).
pub const MAX_RELAY_STATE: usize = 80;

#[derive(Debug, Error)]
pub enum SamlError {
    #[error("the message is {size} bytes; at most {limit} are accepted")]
    TooLarge { size: usize, limit: usize },
    #[error("a DOCTYPE is not allowed in SAML messages or metadata")]
    Doctype,
    #[error("malformed: {0}")]
    Malformed(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the signature does not verify against the registered certificates")]
    BadSignature,
    #[error("signature required but missing")]
    MissingSignature,
    #[error("signing: {0}")]
    Signing(String),
    #[error("certificate: {0}")]
    Certificate(String),
}

impl SamlError {
    pub fn invalid(reason: impl Into<String>) -> SamlError {
        SamlError::Invalid(reason.into())
    }
}

/// Escapes text for element content and attribute values alike (`& < > " '`).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Carriage returns would be normalised away by any parser and change the digest.
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// A fresh message or assertion ID: an NCName (starts with a letter or `_`) with 160 random
/// bits, as SAML Core section 1.3.4 asks.
pub fn new_id() -> String {
    let mut bytes = [0u8; 20];
    openssl::rand::rand_bytes(&mut bytes).expect("OpenSSL random generator");
    let mut id = String::with_capacity(41);
    id.push('_');
    for b in bytes {
        id.push_str(&format!("{b:02x}"));
    }
    id
}

/// An ID that came from outside must be an NCName of sane length before it is echoed into
/// InResponseTo or used as a replay key.
pub fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    (1..=256).contains(&id.len())
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// What openpoort reads from every request an SP sends, whatever its kind.
pub trait SpRequest: Sized {
    fn from_element(root: &dom::Element) -> Result<Self, SamlError>;
    fn id(&self) -> &str;
    fn issuer(&self) -> &str;
    fn has_xml_signature(&self) -> bool;
}

impl SpRequest for AuthnRequest {
    fn from_element(root: &dom::Element) -> Result<Self, SamlError> {
        AuthnRequest::from_element(root)
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn issuer(&self) -> &str {
        &self.issuer
    }
    fn has_xml_signature(&self) -> bool {
        self.has_xml_signature
    }
}

impl SpRequest for logout::LogoutRequest {
    fn from_element(root: &dom::Element) -> Result<Self, SamlError> {
        logout::LogoutRequest::from_element(root)
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn issuer(&self) -> &str {
        &self.issuer
    }
    fn has_xml_signature(&self) -> bool {
        self.has_xml_signature
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_every_markup_character() {
        assert_eq!(escape(r#"a&b<c>d"e'f"#), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
    }

    #[test]
    fn new_ids_are_ncnames_and_differ() {
        let (a, b) = (new_id(), new_id());
        assert!(valid_id(&a) && valid_id(&b));
        assert_ne!(a, b);
    }

    #[test]
    fn ids_with_markup_or_leading_digits_are_not_valid() {
        assert!(!valid_id("1abc"));
        assert!(!valid_id("_a\"b"));
        assert!(!valid_id(""));
        assert!(!valid_id(&"a".repeat(257)));
    }
}
