//! The Response openpoort sends to an AssertionConsumerService: built as text with every value
//! escaped, the Assertion signed (and optionally encrypted), the Response signed when the SP
//! wants it. samael's own response builder is not used: it omits NotBefore, NotOnOrAfter and
//! SessionIndex and leaves the NameID format unspecified (../shared/STACK.md, trap 3).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use openssl::rsa::Padding;
use openssl::symm::{Cipher, encrypt_aead};
use openssl::x509::X509;

use super::sign::{XmlSigner, certificate_der};
use super::{NS_ASSERTION, NS_PROTOCOL, NS_XENC, SamlError, escape, new_id, time};

pub const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
pub const ENC_AES128_GCM: &str = "http://www.w3.org/2009/xmlenc11#aes128-gcm";
pub const ENC_RSA_OAEP: &str = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";

/// Everything one assertion states.
#[derive(Clone, Debug)]
pub struct AssertionParams {
    pub idp_entity_id: String,
    pub sp_entity_id: String,
    /// The ACS the Response goes to: Destination and Recipient.
    pub acs_url: String,
    /// The AuthnRequest's ID; `None` for IdP-initiated (unsolicited) responses.
    pub in_response_to: Option<String>,
    pub name_id: String,
    pub name_id_format: String,
    pub session_index: String,
    pub authn_instant: i64,
    pub authn_context: String,
    /// In release order.
    pub attributes: Vec<SamlAttribute>,
    pub now: i64,
    /// Seconds the assertion may be used after `now` (NotOnOrAfter).
    pub lifetime: i64,
    /// Seconds of clock skew allowed before `now` (NotBefore).
    pub skew: i64,
    pub session_not_on_or_after: Option<i64>,
}

/// One attribute as the assertion names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SamlAttribute {
    pub name: String,
    /// `ATTRNAME_BASIC` or `ATTRNAME_URI`.
    pub name_format: &'static str,
    pub friendly_name: String,
    pub values: Vec<String>,
}

impl SamlAttribute {
    /// An attribute under a plain name, which is also its FriendlyName.
    pub fn basic(name: impl Into<String>, values: Vec<String>) -> SamlAttribute {
        let name = name.into();
        SamlAttribute {
            friendly_name: name.clone(),
            name,
            name_format: super::ATTRNAME_BASIC,
            values,
        }
    }
}

impl From<(String, Vec<String>)> for SamlAttribute {
    fn from((name, values): (String, Vec<String>)) -> SamlAttribute {
        SamlAttribute::basic(name, values)
    }
}

/// Which parts of a Response carry openpoort's signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signing {
    Assertion,
    Response,
    Both,
}

impl Signing {
    pub fn assertion(self) -> bool {
        matches!(self, Signing::Assertion | Signing::Both)
    }

    pub fn response(self) -> bool {
        matches!(self, Signing::Response | Signing::Both)
    }

    pub fn name(self) -> &'static str {
        match self {
            Signing::Assertion => "assertion",
            Signing::Response => "response",
            Signing::Both => "both",
        }
    }

    pub fn parse(name: &str) -> Option<Signing> {
        [Signing::Assertion, Signing::Response, Signing::Both]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

fn in_response_to(id: Option<&str>) -> String {
    id.map(|id| format!(r#" InResponseTo="{}""#, escape(id)))
        .unwrap_or_default()
}

/// The unsigned Assertion, with a signature template after its Issuer when `signer` is given.
fn assertion_xml(p: &AssertionParams, id: &str, signer: Option<&XmlSigner>) -> String {
    let now = time::format(p.now);
    let not_on_or_after = time::format(p.now + p.lifetime);
    let mut x = String::with_capacity(4096);
    x.push_str(&format!(
        r#"<saml:Assertion xmlns:saml="{NS_ASSERTION}" ID="{id}" Version="2.0" IssueInstant="{now}"><saml:Issuer>{}</saml:Issuer>"#,
        escape(&p.idp_entity_id)
    ));
    if let Some(signer) = signer {
        x.push_str(&signer.template(id));
    }
    x.push_str(&format!(
        r#"<saml:Subject><saml:NameID Format="{}" NameQualifier="{}" SPNameQualifier="{}">{}</saml:NameID><saml:SubjectConfirmation Method="{BEARER}"><saml:SubjectConfirmationData{} NotOnOrAfter="{not_on_or_after}" Recipient="{}"/></saml:SubjectConfirmation></saml:Subject>"#,
        escape(&p.name_id_format),
        escape(&p.idp_entity_id),
        escape(&p.sp_entity_id),
        escape(&p.name_id),
        in_response_to(p.in_response_to.as_deref()),
        escape(&p.acs_url),
    ));
    x.push_str(&format!(
        r#"<saml:Conditions NotBefore="{}" NotOnOrAfter="{not_on_or_after}"><saml:AudienceRestriction><saml:Audience>{}</saml:Audience></saml:AudienceRestriction></saml:Conditions>"#,
        time::format(p.now - p.skew),
        escape(&p.sp_entity_id),
    ));
    let session_end = p
        .session_not_on_or_after
        .map(|t| format!(r#" SessionNotOnOrAfter="{}""#, time::format(t)))
        .unwrap_or_default();
    x.push_str(&format!(
        r#"<saml:AuthnStatement AuthnInstant="{}" SessionIndex="{}"{session_end}><saml:AuthnContext><saml:AuthnContextClassRef>{}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>"#,
        time::format(p.authn_instant),
        escape(&p.session_index),
        escape(&p.authn_context),
    ));
    if !p.attributes.is_empty() {
        x.push_str("<saml:AttributeStatement>");
        for a in &p.attributes {
            x.push_str(&format!(
                r#"<saml:Attribute Name="{}" NameFormat="{}" FriendlyName="{}">"#,
                escape(&a.name),
                escape(a.name_format),
                escape(&a.friendly_name),
            ));
            for v in &a.values {
                x.push_str(&format!(
                    "<saml:AttributeValue>{}</saml:AttributeValue>",
                    escape(v)
                ));
            }
            x.push_str("</saml:Attribute>");
        }
        x.push_str("</saml:AttributeStatement>");
    }
    x.push_str("</saml:Assertion>");
    x
}

/// libxml2 writes an XML declaration in front of a signed document; an embedded element must
/// not carry one.
fn without_declaration(xml: &str) -> &str {
    let xml = xml.trim_start();
    match xml.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or(xml, |(_, r)| r.trim_start()),
        None => xml,
    }
}

fn response_open(
    idp: &str,
    destination: &str,
    in_response: Option<&str>,
    now: i64,
    id: &str,
) -> String {
    format!(
        r#"<samlp:Response xmlns:samlp="{NS_PROTOCOL}" xmlns:saml="{NS_ASSERTION}" ID="{id}" Version="2.0" IssueInstant="{}" Destination="{}"{}><saml:Issuer>{}</saml:Issuer>"#,
        time::format(now),
        escape(destination),
        in_response_to(in_response),
        escape(idp),
    )
}

/// A successful Response, signed as `signing` says: the Assertion, the whole Response (in a
/// second pass, over the signed Assertion), or both; `encrypt_to` (a base64 DER certificate)
/// encrypts the Assertion to that key after it is signed.
pub fn success_response(
    p: &AssertionParams,
    signer: &XmlSigner,
    signing: Signing,
    encrypt_to: Option<&str>,
) -> Result<String, SamlError> {
    let assertion_id = new_id();
    let assertion = if signing.assertion() {
        let signed = signer.sign(&assertion_xml(p, &assertion_id, Some(signer)))?;
        without_declaration(&signed).to_owned()
    } else {
        assertion_xml(p, &assertion_id, None)
    };
    let sign_response = signing.response();
    let assertion = match encrypt_to {
        Some(cert) => encrypted_assertion(&assertion, cert)?,
        None => assertion,
    };
    let id = new_id();
    let mut x = response_open(
        &p.idp_entity_id,
        &p.acs_url,
        p.in_response_to.as_deref(),
        p.now,
        &id,
    );
    if sign_response {
        x.push_str(&signer.template(&id));
    }
    x.push_str(&format!(
        r#"<samlp:Status><samlp:StatusCode Value="{}"/></samlp:Status>"#,
        super::STATUS_SUCCESS
    ));
    x.push_str(&assertion);
    x.push_str("</samlp:Response>");
    if sign_response {
        Ok(without_declaration(&signer.sign(&x)?).to_owned())
    } else {
        Ok(x)
    }
}

/// A SAML status: top-level code, optional second-level code, and a message for the SP's logs.
#[derive(Clone, Copy, Debug)]
pub struct Status<'a> {
    pub code: &'a str,
    pub sub_code: Option<&'a str>,
    pub message: &'a str,
}

/// A Response without assertion that tells the SP why not (SAML Core 3.2.2.2), signed.
pub fn status_response(
    idp: &str,
    destination: &str,
    in_response: Option<&str>,
    status: Status<'_>,
    now: i64,
    signer: &XmlSigner,
) -> Result<String, SamlError> {
    let id = new_id();
    let mut x = response_open(idp, destination, in_response, now, &id);
    x.push_str(&signer.template(&id));
    x.push_str(&status_xml(status.code, status.sub_code, status.message));
    x.push_str("</samlp:Response>");
    Ok(without_declaration(&signer.sign(&x)?).to_owned())
}

pub(crate) fn status_xml(status: &str, sub_status: Option<&str>, message: &str) -> String {
    let inner = sub_status
        .map(|s| format!(r#"<samlp:StatusCode Value="{}"/>"#, escape(s)))
        .unwrap_or_default();
    let message = if message.is_empty() {
        String::new()
    } else {
        format!(
            "<samlp:StatusMessage>{}</samlp:StatusMessage>",
            escape(message)
        )
    };
    format!(
        r#"<samlp:Status><samlp:StatusCode Value="{}">{inner}</samlp:StatusCode>{message}</samlp:Status>"#,
        escape(status)
    )
}

/// XML Encryption of the signed Assertion: a fresh AES-128-GCM key (xmlenc 1.1) transported
/// with RSA-OAEP to the SP's certificate. Everything cryptographic is OpenSSL's.
fn encrypted_assertion(assertion: &str, certificate_b64: &str) -> Result<String, SamlError> {
    let der = certificate_der(certificate_b64)?;
    let cert = X509::from_der(&der).map_err(|e| SamlError::Certificate(e.to_string()))?;
    let rsa = cert
        .public_key()
        .and_then(|k| k.rsa())
        .map_err(|_| SamlError::Certificate("the encryption certificate has no RSA key".into()))?;
    let fail = |e: openssl::error::ErrorStack| SamlError::Signing(format!("encryption: {e}"));
    let mut key = [0u8; 16];
    let mut iv = [0u8; 12];
    openssl::rand::rand_bytes(&mut key).map_err(fail)?;
    openssl::rand::rand_bytes(&mut iv).map_err(fail)?;
    let mut tag = [0u8; 16];
    let ciphertext = encrypt_aead(
        Cipher::aes_128_gcm(),
        &key,
        Some(&iv),
        &[],
        assertion.as_bytes(),
        &mut tag,
    )
    .map_err(fail)?;
    let mut wrapped = vec![0u8; rsa.size() as usize];
    let n = rsa
        .public_encrypt(&key, &mut wrapped, Padding::PKCS1_OAEP)
        .map_err(fail)?;
    wrapped.truncate(n);
    let mut data = iv.to_vec();
    data.extend(ciphertext);
    data.extend(tag);
    Ok(format!(
        concat!(
            r#"<saml:EncryptedAssertion><xenc:EncryptedData xmlns:xenc="{xenc}" Type="http://www.w3.org/2001/04/xmlenc#Element">"#,
            r#"<xenc:EncryptionMethod Algorithm="{aes}"/><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">"#,
            r#"<xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="{oaep}"><ds:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/></xenc:EncryptionMethod>"#,
            r#"<xenc:CipherData><xenc:CipherValue>{key}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>"#,
            r#"<xenc:CipherData><xenc:CipherValue>{data}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData></saml:EncryptedAssertion>"#
        ),
        xenc = NS_XENC,
        aes = ENC_AES128_GCM,
        oaep = ENC_RSA_OAEP,
        key = STANDARD.encode(wrapped),
        data = STANDARD.encode(data),
    ))
}
