//! Single logout: the LogoutRequest an SP sends, and openpoort's LogoutResponse.

use super::authn_request::{header, issuer};
use super::dom::{self, Element, Limits};
use super::response::status_xml;
use super::sign::XmlSigner;
use super::{NS_ASSERTION, NS_DSIG, NS_PROTOCOL, SamlError, escape, new_id, time};

#[derive(Clone, Debug, PartialEq)]
pub struct LogoutRequest {
    pub id: String,
    pub issue_instant: i64,
    pub issuer: String,
    pub destination: Option<String>,
    pub name_id: String,
    pub session_indexes: Vec<String>,
    pub not_on_or_after: Option<i64>,
    pub has_xml_signature: bool,
}

impl LogoutRequest {
    pub fn parse(xml: &[u8]) -> Result<LogoutRequest, SamlError> {
        LogoutRequest::from_element(&dom::parse(xml, Limits::MESSAGE)?)
    }

    pub fn from_element(root: &Element) -> Result<LogoutRequest, SamlError> {
        if !root.is(NS_PROTOCOL, "LogoutRequest") {
            return Err(SamlError::invalid(
                "the message is not a samlp:LogoutRequest",
            ));
        }
        let (id, issue_instant) = header(root)?;
        let name_id = root
            .child(NS_ASSERTION, "NameID")
            .map(|n| n.trimmed_text().to_owned())
            .filter(|n| !n.is_empty())
            .ok_or_else(|| SamlError::invalid("the LogoutRequest has no NameID"))?;
        Ok(LogoutRequest {
            id,
            issue_instant,
            issuer: issuer(root)?,
            destination: root.attr("Destination").map(str::to_owned),
            name_id,
            session_indexes: root
                .children(NS_PROTOCOL, "SessionIndex")
                .map(|s| s.trimmed_text().to_owned())
                .collect(),
            not_on_or_after: root.attr("NotOnOrAfter").and_then(time::parse),
            has_xml_signature: root.child(NS_DSIG, "Signature").is_some(),
        })
    }
}

/// A LogoutResponse; signed with an enveloped signature when `signer` is given (POST binding),
/// else for the Redirect binding, whose signature goes in the query.
pub fn logout_response(
    idp: &str,
    destination: &str,
    in_response_to: &str,
    status: &str,
    now: i64,
    signer: Option<&XmlSigner>,
) -> Result<String, SamlError> {
    let id = new_id();
    let mut x = format!(
        r#"<samlp:LogoutResponse xmlns:samlp="{NS_PROTOCOL}" xmlns:saml="{NS_ASSERTION}" ID="{id}" Version="2.0" IssueInstant="{}" Destination="{}" InResponseTo="{}"><saml:Issuer>{}</saml:Issuer>"#,
        time::format(now),
        escape(destination),
        escape(in_response_to),
        escape(idp)
    );
    if let Some(s) = signer {
        x.push_str(&s.template(&id));
    }
    x.push_str(&status_xml(status, None, ""));
    x.push_str("</samlp:LogoutResponse>");
    match signer {
        Some(s) => s.sign(&x),
        None => Ok(x),
    }
}
