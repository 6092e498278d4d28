//! openpoort's own IdP metadata: what SPs load to trust it.

use super::sign::XmlSigner;
use super::{
    ATTRNAME_BASIC, BINDING_POST, BINDING_REDIRECT, NAMEID_PERSISTENT, NAMEID_TRANSIENT,
    NS_ASSERTION, NS_METADATA, NS_PROTOCOL, SamlError, escape, new_id, time,
};

pub struct IdpMetadata<'a> {
    pub entity_id: &'a str,
    /// Absolute URLs of the SSO and SLO endpoints.
    pub sso_url: &'a str,
    pub slo_url: &'a str,
    /// Base64 DER certificates, current first, then next: SPs that load the next one before a
    /// rotation keep working through it.
    pub certificates: &'a [String],
    /// SAML names of the attributes openpoort can release.
    pub attributes: &'a [&'a str],
    pub now: i64,
    /// How long the document may be trusted (validUntil = now + this).
    pub valid_for: i64,
}

/// The signed EntityDescriptor.
pub fn signed_metadata(m: &IdpMetadata<'_>, signer: &XmlSigner) -> Result<String, SamlError> {
    let id = new_id();
    let mut x = String::with_capacity(8192);
    x.push_str(&format!(
        r#"<md:EntityDescriptor xmlns:md="{NS_METADATA}" xmlns:saml="{NS_ASSERTION}" ID="{id}" entityID="{}" validUntil="{}" cacheDuration="PT6H">"#,
        escape(m.entity_id),
        time::format(m.now + m.valid_for)
    ));
    x.push_str(&signer.template(&id));
    // WantAuthnRequestsSigned is per SP in openpoort (its own metadata says whether it signs);
    // samael's serialiser drops the attribute (STACK.md trap 5), so it is written here.
    x.push_str(&format!(
        r#"<md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="{NS_PROTOCOL}">"#
    ));
    for cert in m.certificates {
        x.push_str(&format!(
            r#"<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"#
        ));
    }
    for binding in [BINDING_REDIRECT, BINDING_POST] {
        x.push_str(&format!(
            r#"<md:SingleLogoutService Binding="{binding}" Location="{}"/>"#,
            escape(m.slo_url)
        ));
    }
    for format in [NAMEID_PERSISTENT, NAMEID_TRANSIENT] {
        x.push_str(&format!("<md:NameIDFormat>{format}</md:NameIDFormat>"));
    }
    for binding in [BINDING_REDIRECT, BINDING_POST] {
        x.push_str(&format!(
            r#"<md:SingleSignOnService Binding="{binding}" Location="{}"/>"#,
            escape(m.sso_url)
        ));
    }
    for name in m.attributes {
        x.push_str(&format!(
            r#"<saml:Attribute Name="{n}" NameFormat="{ATTRNAME_BASIC}" FriendlyName="{n}"/>"#,
            n = escape(name)
        ));
    }
    x.push_str("</md:IDPSSODescriptor></md:EntityDescriptor>");
    signer.sign(&x)
}
