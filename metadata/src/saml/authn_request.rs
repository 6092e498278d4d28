//! AuthnRequest (SAML Core section 3.4.1) as openpoort reads it.

use super::dom::{self, Element, Limits};
use super::{NS_ASSERTION, NS_DSIG, NS_PROTOCOL, SamlError, time, valid_id};

#[derive(Clone, Debug, PartialEq)]
pub struct AuthnRequest {
    pub id: String,
    pub issue_instant: i64,
    pub destination: Option<String>,
    pub issuer: String,
    pub acs_url: Option<String>,
    pub acs_index: Option<u16>,
    pub protocol_binding: Option<String>,
    pub force_authn: bool,
    pub is_passive: bool,
    pub name_id_format: Option<String>,
    /// Whether the request carries an enveloped XML signature (POST binding).
    pub has_xml_signature: bool,
    /// The identity providers the SP wants the user to log in at (Scoping/IDPList, SAML Core
    /// 3.4.1.3), by entityID, in the SP's order: a network provider the SP knows the user by.
    pub idp_list: Vec<String>,
    pub requested_authn_context: Option<super::authn_context::RequestedAuthnContext>,
}

fn flag(e: &Element, name: &str) -> Result<bool, SamlError> {
    match e.attr(name) {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(v) => Err(SamlError::invalid(format!(
            "{name}=\"{v}\" is not a boolean"
        ))),
    }
}

/// The Issuer of a protocol message: required here, since openpoort answers registered SPs
/// only, and of the entity format when a format is given.
pub(crate) fn issuer(root: &Element) -> Result<String, SamlError> {
    let issuer = root
        .child(NS_ASSERTION, "Issuer")
        .ok_or_else(|| SamlError::invalid("the request has no Issuer"))?;
    if let Some(f) = issuer.attr("Format")
        && f != "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
    {
        return Err(SamlError::invalid(format!(
            "Issuer Format {f} is not the entity format"
        )));
    }
    let value = issuer.trimmed_text();
    if value.is_empty() {
        return Err(SamlError::invalid("the Issuer is empty"));
    }
    Ok(value.to_owned())
}

/// Version, ID and IssueInstant, shared by every request openpoort reads.
pub(crate) fn header(root: &Element) -> Result<(String, i64), SamlError> {
    if root.attr("Version") != Some("2.0") {
        return Err(SamlError::invalid("Version must be 2.0"));
    }
    let id = root
        .attr("ID")
        .filter(|id| valid_id(id))
        .ok_or_else(|| SamlError::invalid("the request has no valid ID"))?;
    let instant = root
        .attr("IssueInstant")
        .and_then(time::parse)
        .ok_or_else(|| SamlError::invalid("IssueInstant is missing or not a UTC date-time"))?;
    Ok((id.to_owned(), instant))
}

impl AuthnRequest {
    pub fn parse(xml: &[u8]) -> Result<AuthnRequest, SamlError> {
        AuthnRequest::from_element(&dom::parse(xml, Limits::MESSAGE)?)
    }

    pub fn from_element(root: &Element) -> Result<AuthnRequest, SamlError> {
        if !root.is(NS_PROTOCOL, "AuthnRequest") {
            return Err(SamlError::invalid(
                "the message is not a samlp:AuthnRequest",
            ));
        }
        let (id, issue_instant) = header(root)?;
        let acs_index = match root.attr("AssertionConsumerServiceIndex") {
            Some(i) => Some(i.parse::<u16>().map_err(|_| {
                SamlError::invalid("AssertionConsumerServiceIndex is not a number")
            })?),
            None => None,
        };
        let acs_url = root.attr("AssertionConsumerServiceURL").map(str::to_owned);
        if acs_url.is_some() && acs_index.is_some() {
            // SAML Core 3.4.1: the two are mutually exclusive.
            return Err(SamlError::invalid(
                "AssertionConsumerServiceURL and AssertionConsumerServiceIndex are both given",
            ));
        }
        let name_id_format = root
            .child(NS_PROTOCOL, "NameIDPolicy")
            .and_then(|p| p.attr("Format"))
            .map(str::to_owned);
        let idp_list = root
            .child(NS_PROTOCOL, "Scoping")
            .and_then(|s| s.child(NS_PROTOCOL, "IDPList"))
            .map(|l| {
                l.children(NS_PROTOCOL, "IDPEntry")
                    .filter_map(|e| e.attr("ProviderID"))
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Ok(AuthnRequest {
            id,
            issue_instant,
            destination: root.attr("Destination").map(str::to_owned),
            issuer: issuer(root)?,
            acs_url,
            acs_index,
            protocol_binding: root.attr("ProtocolBinding").map(str::to_owned),
            force_authn: flag(root, "ForceAuthn")?,
            is_passive: flag(root, "IsPassive")?,
            name_id_format,
            has_xml_signature: root.child(NS_DSIG, "Signature").is_some(),
            idp_list,
            requested_authn_context: super::authn_context::RequestedAuthnContext::from_request(
                root,
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: &str = r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_abc" Version="2.0" IssueInstant="2026-11-23T07:00:00Z" Destination="https://idp/saml/sso" AssertionConsumerServiceURL="https://sp/acs" ForceAuthn="true"><saml:Issuer>https://sp</saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient" AllowCreate="true"/></samlp:AuthnRequest>"#;

    #[test]
    fn a_plain_request_is_read_with_its_options() {
        let r = AuthnRequest::parse(REQUEST.as_bytes()).unwrap();
        assert_eq!(r.id, "_abc");
        assert_eq!(r.issuer, "https://sp");
        assert_eq!(r.acs_url.as_deref(), Some("https://sp/acs"));
        assert!(r.force_authn && !r.is_passive && !r.has_xml_signature);
        assert_eq!(
            r.name_id_format.as_deref(),
            Some(super::super::NAMEID_TRANSIENT)
        );
    }

    #[test]
    fn a_request_without_issuer_or_with_a_bad_id_is_refused() {
        let no_issuer = REQUEST.replace("<saml:Issuer>https://sp</saml:Issuer>", "");
        assert!(AuthnRequest::parse(no_issuer.as_bytes()).is_err());
        let bad_id = REQUEST.replace("ID=\"_abc\"", "ID=\"1&lt;x\"");
        assert!(AuthnRequest::parse(bad_id.as_bytes()).is_err());
    }

    #[test]
    fn the_idp_list_of_a_scoping_is_read_in_order() {
        let scoped = REQUEST.replace(
            "</samlp:AuthnRequest>",
            r#"<samlp:Scoping><samlp:IDPList><samlp:IDPEntry ProviderID="https://moo.example/idp" Name="MOO"/><samlp:IDPEntry ProviderID="https://other.example"/></samlp:IDPList></samlp:Scoping></samlp:AuthnRequest>"#,
        );
        let r = AuthnRequest::parse(scoped.as_bytes()).unwrap();
        assert_eq!(
            r.idp_list,
            ["https://moo.example/idp", "https://other.example"]
        );
        assert!(
            AuthnRequest::parse(REQUEST.as_bytes())
                .unwrap()
                .idp_list
                .is_empty()
        );
    }

    #[test]
    fn acs_url_and_index_together_are_refused() {
        let both = REQUEST.replace(
            "ForceAuthn",
            "AssertionConsumerServiceIndex=\"1\" ForceAuthn",
        );
        assert!(AuthnRequest::parse(both.as_bytes()).is_err());
    }
}
