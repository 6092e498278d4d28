//! openpoort as a SAML service provider towards network providers: reading a provider's IdP
//! metadata, writing openpoort's own SP metadata, and the AuthnRequest openpoort sends. What
//! comes back is verified by [`super::inbound`].

use super::dom::Element;
use super::inbound::ENC_AES256_GCM;
use super::response::{ENC_AES128_GCM, ENC_RSA_OAEP};
use super::sign::{XmlSigner, certificate_der};
use super::sp::{bool_attr, check_valid_until, metadata_root};
use super::{
    BINDING_POST, BINDING_REDIRECT, NAMEID_PERSISTENT, NS_ASSERTION, NS_DSIG, NS_METADATA,
    NS_PROTOCOL, SamlError, escape, new_id, time,
};

/// A network provider's identity provider, as its metadata describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpstreamIdp {
    pub entity_id: String,
    /// Base64 DER signing certificates: the only keys an assertion of this provider may verify
    /// with.
    pub signing_certificates: Vec<String>,
    /// SingleSignOnService for the HTTP-Redirect binding, where openpoort sends its requests.
    pub sso_redirect: Option<String>,
    pub sso_post: Option<String>,
    pub want_authn_requests_signed: bool,
    /// Unix seconds; `None` when the document names no end.
    pub valid_until: Option<i64>,
}

impl UpstreamIdp {
    pub fn signing_certificates_der(&self) -> Result<Vec<Vec<u8>>, SamlError> {
        self.signing_certificates
            .iter()
            .map(|c| certificate_der(c))
            .collect()
    }
}

/// Reads a provider's IdP metadata. With `signing_certificate` (PEM), the document must be
/// signed by it and only what the signature covers is read. An EntitiesDescriptor (a
/// federation's aggregate) is accepted when `entity_id` picks one IdP from it, or when it
/// holds exactly one.
pub fn idp_from_metadata(
    xml: &[u8],
    entity_id: Option<&str>,
    signing_certificate: Option<&str>,
    now: i64,
) -> Result<UpstreamIdp, SamlError> {
    let root = metadata_root(xml, signing_certificate)?;
    check_valid_until(&root, now)?;
    let descriptor = if root.is(NS_METADATA, "EntityDescriptor") {
        root.clone()
    } else if root.is(NS_METADATA, "EntitiesDescriptor") {
        let idps: Vec<&Element> = root
            .descendants(NS_METADATA, "EntityDescriptor")
            .into_iter()
            .filter(|e| e.child(NS_METADATA, "IDPSSODescriptor").is_some())
            .filter(|e| entity_id.is_none_or(|id| e.attr("entityID") == Some(id)))
            .collect();
        match idps.as_slice() {
            [one] => (*one).clone(),
            [] => {
                return Err(SamlError::invalid(match entity_id {
                    Some(id) => format!("the metadata describes no identity provider {id}"),
                    None => "the metadata describes no identity provider".into(),
                }));
            }
            _ => {
                return Err(SamlError::invalid(
                    "the metadata describes several identity providers; name the entityID of the one to use",
                ));
            }
        }
    } else {
        return Err(SamlError::invalid(
            "the root element is not md:EntityDescriptor",
        ));
    };
    check_valid_until(&descriptor, now)?;
    let found_id = descriptor
        .attr("entityID")
        .ok_or_else(|| SamlError::invalid("EntityDescriptor has no entityID"))?
        .to_owned();
    if let Some(wanted) = entity_id
        && wanted != found_id
    {
        return Err(SamlError::invalid(format!(
            "the metadata describes {found_id}, not {wanted}"
        )));
    }
    let sso = descriptor
        .children(NS_METADATA, "IDPSSODescriptor")
        .find(|d| {
            d.attr("protocolSupportEnumeration")
                .is_some_and(|p| p.split_whitespace().any(|p| p == NS_PROTOCOL))
        })
        .ok_or_else(|| SamlError::invalid("no IDPSSODescriptor for the SAML 2.0 protocol"))?;
    check_valid_until(sso, now)?;

    let mut signing = Vec::new();
    for kd in sso.children(NS_METADATA, "KeyDescriptor") {
        match kd.attr("use") {
            Some("signing") | None => {}
            Some("encryption") => continue,
            Some(other) => {
                return Err(SamlError::invalid(format!(
                    "KeyDescriptor use=\"{other}\" is unknown"
                )));
            }
        }
        for c in kd.descendants(NS_DSIG, "X509Certificate") {
            let compact: String = c.text.chars().filter(|c| !c.is_whitespace()).collect();
            certificate_der(&compact)?;
            signing.push(compact);
        }
    }
    if signing.is_empty() {
        return Err(SamlError::invalid(
            "the identity provider's metadata holds no signing certificate; without one no assertion of it can be verified",
        ));
    }
    let location = |binding: &str| -> Result<Option<String>, SamlError> {
        match sso
            .children(NS_METADATA, "SingleSignOnService")
            .find(|s| s.attr("Binding") == Some(binding))
        {
            Some(s) => Ok(Some(
                s.attr("Location")
                    .ok_or_else(|| SamlError::invalid("a SingleSignOnService has no Location"))?
                    .to_owned(),
            )),
            None => Ok(None),
        }
    };
    let sso_redirect = location(BINDING_REDIRECT)?;
    let sso_post = location(BINDING_POST)?;
    for url in [&sso_redirect, &sso_post].into_iter().flatten() {
        let parsed = url::Url::parse(url).map_err(|_| {
            SamlError::invalid(format!("SingleSignOnService Location {url} is not a URL"))
        })?;
        if !matches!(parsed.scheme(), "https" | "http") {
            return Err(SamlError::invalid(format!(
                "SingleSignOnService Location {url} is not a web address"
            )));
        }
    }
    let valid_until = [
        root.attr("validUntil"),
        descriptor.attr("validUntil"),
        sso.attr("validUntil"),
    ]
    .into_iter()
    .flatten()
    .filter_map(time::parse)
    .min();
    Ok(UpstreamIdp {
        entity_id: found_id,
        signing_certificates: signing,
        sso_redirect,
        sso_post,
        want_authn_requests_signed: bool_attr(sso, "WantAuthnRequestsSigned")?,
        valid_until,
    })
}

/// openpoort's SP metadata for network providers.
pub struct SpMetadata<'a> {
    pub entity_id: &'a str,
    pub acs_url: &'a str,
    /// Base64 DER certificates of openpoort's keys, current first, then next: used for the
    /// signatures of its AuthnRequests and for assertions encrypted to it.
    pub certificates: &'a [String],
    pub now: i64,
    pub valid_for: i64,
}

/// The signed SP EntityDescriptor. It asks for signed assertions and signs its own requests;
/// providers that encrypt find the accepted algorithms (AES-GCM, RSA-OAEP) in it.
pub fn signed_sp_metadata(m: &SpMetadata<'_>, signer: &XmlSigner) -> Result<String, SamlError> {
    let id = new_id();
    let mut x = String::with_capacity(8192);
    x.push_str(&format!(
        r#"<md:EntityDescriptor xmlns:md="{NS_METADATA}" ID="{id}" entityID="{}" validUntil="{}" cacheDuration="PT6H">"#,
        escape(m.entity_id),
        time::format(m.now + m.valid_for)
    ));
    x.push_str(&signer.template(&id));
    x.push_str(&format!(
        r#"<md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="{NS_PROTOCOL}">"#
    ));
    for cert in m.certificates {
        x.push_str(&format!(
            r#"<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="{NS_DSIG}"><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"#
        ));
    }
    for cert in m.certificates {
        x.push_str(&format!(
            r#"<md:KeyDescriptor use="encryption"><ds:KeyInfo xmlns:ds="{NS_DSIG}"><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo><md:EncryptionMethod Algorithm="{ENC_AES256_GCM}"/><md:EncryptionMethod Algorithm="{ENC_AES128_GCM}"/><md:EncryptionMethod Algorithm="{ENC_RSA_OAEP}"/></md:KeyDescriptor>"#
        ));
    }
    x.push_str(&format!(
        "<md:NameIDFormat>{NAMEID_PERSISTENT}</md:NameIDFormat>"
    ));
    x.push_str(&format!(
        r#"<md:AssertionConsumerService Binding="{BINDING_POST}" Location="{}" index="0" isDefault="true"/>"#,
        escape(m.acs_url)
    ));
    x.push_str("</md:SPSSODescriptor></md:EntityDescriptor>");
    signer.sign(&x)
}

/// The AuthnRequest openpoort sends to a provider, for the HTTP-Redirect binding (signed there
/// as a query, not in the XML).
pub struct UpstreamRequest<'a> {
    pub id: &'a str,
    pub sp_entity_id: &'a str,
    pub acs_url: &'a str,
    pub destination: &'a str,
    pub now: i64,
    /// ForceAuthn: the provider must ask its user again (a publisher asked for it).
    pub force_authn: bool,
}

pub fn authn_request_xml(r: &UpstreamRequest<'_>) -> String {
    format!(
        r#"<samlp:AuthnRequest xmlns:samlp="{NS_PROTOCOL}" xmlns:saml="{NS_ASSERTION}" ID="{id}" Version="2.0" IssueInstant="{at}" Destination="{dest}" AssertionConsumerServiceURL="{acs}" ProtocolBinding="{BINDING_POST}"{force}><saml:Issuer>{issuer}</saml:Issuer><samlp:NameIDPolicy AllowCreate="true"/></samlp:AuthnRequest>"#,
        id = escape(r.id),
        at = time::format(r.now),
        dest = escape(r.destination),
        acs = escape(r.acs_url),
        issuer = escape(r.sp_entity_id),
        force = if r.force_authn {
            r#" ForceAuthn="true""#
        } else {
            ""
        },
    )
}

#[cfg(test)]
mod tests {
    use super::super::dom::{self, Limits};
    use super::*;

    const IDP: &str = r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://netwerk.example/idp">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAuthnRequestsSigned="true">
    <md:KeyDescriptor use="encryption"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>bm90IGEgY2VydA==</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://netwerk.example/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"#;

    #[test]
    fn idp_metadata_without_a_signing_certificate_is_refused() {
        // An encryption-only key must not be taken as a signing key: it would let whoever
        // holds it vouch for users.
        let e = idp_from_metadata(IDP.as_bytes(), None, None, 0).unwrap_err();
        assert!(e.to_string().contains("no signing certificate"), "{e}");
    }

    #[test]
    fn idp_metadata_with_a_doctype_is_refused() {
        let xml = format!("<!DOCTYPE x [<!ENTITY e \"x\">]>{IDP}");
        assert!(matches!(
            idp_from_metadata(xml.as_bytes(), None, None, 0),
            Err(SamlError::Doctype)
        ));
    }

    #[test]
    fn expired_idp_metadata_is_refused() {
        let xml = IDP.replacen(
            "entityID=",
            r#"validUntil="2020-01-01T00:00:00Z" entityID="#,
            1,
        );
        let e = idp_from_metadata(xml.as_bytes(), None, None, 1_800_000_000).unwrap_err();
        assert!(e.to_string().contains("expired"), "{e}");
    }

    #[test]
    fn authn_request_escapes_what_it_writes() {
        let xml = authn_request_xml(&UpstreamRequest {
            id: "_a",
            sp_entity_id: "https://op.example/sp?a=1&b=2",
            acs_url: "https://op.example/acs",
            destination: "https://netwerk.example/sso",
            now: 0,
            force_authn: true,
        });
        assert!(xml.contains("a=1&amp;b=2"));
        assert!(xml.contains(r#"ForceAuthn="true""#));
        dom::parse(xml.as_bytes(), Limits::MESSAGE).unwrap();
    }
}
