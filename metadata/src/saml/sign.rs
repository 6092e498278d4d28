//! XML signatures through libxmlsec1 (our own binding for signing with a loaded key, samael's
//! for verifying) and the HTTP-Redirect binding's query
//! signatures through OpenSSL. Nothing here implements cryptography or canonicalisation itself.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, PKeyRef, Private};
use openssl::sign::{Signer, Verifier};
use openssl::x509::X509;
use samael::crypto::{
    AllowedSignatureAlgorithm, CertificateDer, Crypto, CryptoProvider, ReduceMode,
};

use super::xmlsec::LoadedKey;
use super::{C14N_EXCLUSIVE, DIGEST_SHA256, ENVELOPED, SIG_RSA_SHA256, SamlError, escape};

/// Signature algorithms accepted from service providers. SHA-1 is refused: collisions are
/// practical, and every SAML product of the last decade can sign with SHA-256.
pub const ACCEPTED_XML_ALGORITHMS: [AllowedSignatureAlgorithm; 6] = [
    AllowedSignatureAlgorithm::RsaSha256,
    AllowedSignatureAlgorithm::RsaSha384,
    AllowedSignatureAlgorithm::RsaSha512,
    AllowedSignatureAlgorithm::EcdsaSha256,
    AllowedSignatureAlgorithm::EcdsaSha384,
    AllowedSignatureAlgorithm::EcdsaSha512,
];

/// openpoort's signing key and certificate in the forms xmlsec and metadata need. Build one per
/// key and keep it: making one decodes the key and signs twice.
#[derive(Clone)]
pub struct XmlSigner {
    key: PKey<Private>,
    loaded: Arc<LoadedKey>,
    /// The certificate's DER in base64, as it appears in KeyInfo and metadata.
    pub certificate_b64: String,
}

impl XmlSigner {
    pub fn new(key: &PKeyRef<Private>, certificate_pem: &str) -> Result<XmlSigner, SamlError> {
        let cert = X509::from_pem(certificate_pem.as_bytes())
            .map_err(|e| SamlError::Certificate(e.to_string()))?;
        let der = cert
            .to_der()
            .map_err(|e| SamlError::Certificate(e.to_string()))?;
        let key_der = key
            .private_key_to_der()
            .map_err(|e| SamlError::Signing(e.to_string()))?;
        let certificate_b64 = STANDARD.encode(der);
        // samael owns libxmlsec1's process-wide initialisation, so one signature goes through
        // it before the key is loaded here. Its result is also the yardstick: PKCS#1 v1.5
        // signatures are deterministic, so the loaded key must produce the same document.
        let probe = format!(
            r#"<p:Probe xmlns:p="urn:openpoort:probe" ID="_probe">{}</p:Probe>"#,
            template("_probe", &certificate_b64)
        );
        let expected =
            Crypto::sign_xml(&probe, &key_der).map_err(|e| SamlError::Signing(e.to_string()))?;
        let signer = XmlSigner {
            key: key.to_owned(),
            loaded: Arc::new(LoadedKey::from_der(&key_der)?),
            certificate_b64,
        };
        if signer.sign(&probe)? != expected {
            return Err(SamlError::Signing(
                "the loaded key signs differently from samael".into(),
            ));
        }
        Ok(signer)
    }

    /// The enveloped-signature template for the element with ID `reference`: RSA-SHA256,
    /// exclusive canonicalisation, SHA-256 digest (samael's own template digests with SHA-1).
    pub fn template(&self, reference: &str) -> String {
        template(reference, &self.certificate_b64)
    }

    /// Fills in the first signature template of `xml` (document order). To sign a Response and
    /// its Assertion, sign the Assertion first, then add the Response's template and sign again.
    pub fn sign(&self, xml: &str) -> Result<String, SamlError> {
        self.loaded.sign(xml)
    }

    /// Signs the HTTP-Redirect binding's octets (`SAMLResponse=…&RelayState=…&SigAlg=…`, each
    /// value URL-encoded as sent) with RSA-SHA256; returns the base64 signature.
    pub fn sign_redirect(&self, octets: &str) -> Result<String, SamlError> {
        let mut signer = Signer::new(MessageDigest::sha256(), &self.key)
            .map_err(|e| SamlError::Signing(e.to_string()))?;
        let sig = signer
            .sign_oneshot_to_vec(octets.as_bytes())
            .map_err(|e| SamlError::Signing(e.to_string()))?;
        Ok(STANDARD.encode(sig))
    }
}

fn template(reference: &str, certificate_b64: &str) -> String {
    format!(
        concat!(
            r#"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>"#,
            r#"<ds:CanonicalizationMethod Algorithm="{c14n}"/><ds:SignatureMethod Algorithm="{sig}"/>"#,
            r##"<ds:Reference URI="#{id}"><ds:Transforms><ds:Transform Algorithm="{env}"/>"##,
            r#"<ds:Transform Algorithm="{c14n}"/></ds:Transforms><ds:DigestMethod Algorithm="{digest}"/>"#,
            r#"<ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue></ds:SignatureValue>"#,
            r#"<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"#,
            r#"</ds:Signature>"#
        ),
        c14n = C14N_EXCLUSIVE,
        sig = SIG_RSA_SHA256,
        env = ENVELOPED,
        digest = DIGEST_SHA256,
        id = escape(reference),
        cert = certificate_b64,
    )
}

/// A certificate from metadata (base64 DER, whitespace allowed) as DER.
pub fn certificate_der(b64: &str) -> Result<Vec<u8>, SamlError> {
    let compact: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
    let der = STANDARD
        .decode(compact)
        .map_err(|_| SamlError::Certificate("X509Certificate is not base64".into()))?;
    X509::from_der(&der)
        .map_err(|e| SamlError::Certificate(format!("not an X.509 certificate: {e}")))?;
    Ok(der)
}

/// Verifies the enveloped signatures of `xml` against `certificates` (DER) and returns only
/// what they cover, re-serialised: callers parse that, never the original, so that content
/// outside the signature (signature wrapping) cannot be read by mistake.
pub fn verified_content(xml: &str, certificates: &[Vec<u8>]) -> Result<String, SamlError> {
    if certificates.is_empty() {
        return Err(SamlError::BadSignature);
    }
    let certs: Vec<CertificateDer> = certificates
        .iter()
        .cloned()
        .map(CertificateDer::from)
        .collect();
    Crypto::reduce_xml_to_signed_with_allowed_algorithms(
        xml,
        &certs,
        ReduceMode::ValidateAndMarkNoAncestors,
        Some(&ACCEPTED_XML_ALGORITHMS),
    )
    .map_err(|_| SamlError::BadSignature)
}

/// The digest for a Redirect-binding `SigAlg`; other algorithms (SHA-1 above all) are refused.
fn redirect_digest(sig_alg: &str) -> Option<MessageDigest> {
    match sig_alg {
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
        | "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256" => Some(MessageDigest::sha256()),
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
        | "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384" => Some(MessageDigest::sha384()),
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
        | "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512" => Some(MessageDigest::sha512()),
        _ => None,
    }
}

/// Verifies an HTTP-Redirect binding signature over `octets` (the raw query parameters in the
/// binding's order, as received) with any of `certificates`.
pub fn verify_redirect(
    octets: &str,
    sig_alg: &str,
    signature_b64: &str,
    certificates: &[Vec<u8>],
) -> Result<(), SamlError> {
    let digest = redirect_digest(sig_alg).ok_or_else(|| {
        SamlError::invalid(format!("signature algorithm {sig_alg} is not accepted"))
    })?;
    let signature = STANDARD
        .decode(signature_b64.trim())
        .map_err(|_| SamlError::BadSignature)?;
    let is_ec = sig_alg.contains("ecdsa");
    for der in certificates {
        let Ok(cert) = X509::from_der(der) else {
            continue;
        };
        let Ok(public) = cert.public_key() else {
            continue;
        };
        if is_ec != (public.id() == openssl::pkey::Id::EC) {
            continue;
        }
        let Ok(mut verifier) = Verifier::new(digest, &public) else {
            continue;
        };
        if verifier
            .verify_oneshot(&signature, octets.as_bytes())
            .unwrap_or(false)
        {
            return Ok(());
        }
    }
    Err(SamlError::BadSignature)
}
