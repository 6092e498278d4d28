//! The demo product as a SAML 2.0 service provider: an AuthnRequest over HTTP-Redirect, the
//! Response over HTTP-POST, and an assertion read only from what openpoort's signature covers,
//! with the certificates of openpoort's published metadata.

use std::time::Instant;

use axum::Form;
use axum::http::HeaderMap;
use axum::response::Response;
use metadata::saml::dom::{self, Element, Limits};
use metadata::saml::{
    BINDING_POST, NAMEID_PERSISTENT, NS_ASSERTION, NS_DSIG, NS_METADATA, NS_PROTOCOL,
    STATUS_SUCCESS, binding, escape, new_id, sign, time,
};
use serde::Deserialize;

use super::{DemoError, DemoProduct, Pending, Product, SignedIn, signed_in};
use crate::http::{random_token, url_encode};

/// Clock difference tolerated between openpoort and the product.
const SKEW_SECONDS: i64 = 60;

/// The SP's metadata as the operator would receive it from the publisher.
pub fn metadata(p: &DemoProduct) -> String {
    format!(
        r#"<md:EntityDescriptor xmlns:md="{NS_METADATA}" entityID="{entity}"><md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true" protocolSupportEnumeration="{NS_PROTOCOL}"><md:NameIDFormat>{NAMEID_PERSISTENT}</md:NameIDFormat><md:AssertionConsumerService Binding="{BINDING_POST}" Location="{acs}" index="0" isDefault="true"/></md:SPSSODescriptor></md:EntityDescriptor>"#,
        entity = escape(&p.entity_id()),
        acs = escape(&p.acs()),
    )
}

pub async fn login(axum::extract::State(p): Product) -> Result<Response, DemoError> {
    let id = new_id();
    let xml = format!(
        r#"<samlp:AuthnRequest xmlns:samlp="{NS_PROTOCOL}" xmlns:saml="{NS_ASSERTION}" ID="{id}" Version="2.0" IssueInstant="{now}" Destination="{sso}" AssertionConsumerServiceURL="{acs}" ProtocolBinding="{BINDING_POST}"><saml:Issuer>{entity}</saml:Issuer><samlp:NameIDPolicy Format="{NAMEID_PERSISTENT}" AllowCreate="true"/></samlp:AuthnRequest>"#,
        now = time::format(crate::clock::unix_now()),
        sso = escape(&format!("{}/saml/sso", p.issuer)),
        acs = escape(&p.acs()),
        entity = escape(&p.entity_id()),
    );
    let relay = random_token();
    let location = format!(
        "{}/saml/sso?SAMLRequest={}&RelayState={relay}",
        p.issuer,
        url_encode(&binding::encode_redirect(&xml)),
    );
    p.start(
        relay,
        Pending::Saml {
            request_id: id,
            at: Instant::now(),
        },
        &location,
    )
}

#[derive(Deserialize)]
pub struct Posted {
    #[serde(rename = "SAMLResponse")]
    response: String,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

pub async fn acs(
    axum::extract::State(p): Product,
    headers: HeaderMap,
    Form(form): Form<Posted>,
) -> Result<Response, DemoError> {
    let relay = form.relay_state.ok_or(DemoError::Unknown)?;
    let Pending::Saml { request_id, .. } = p.take(&relay, &headers)? else {
        return Err(DemoError::Unknown);
    };
    let xml = binding::decode_post(&form.response).map_err(protocol)?;
    let xml = String::from_utf8(xml).map_err(|_| protocol("the response is not UTF-8"))?;
    // The status is read unsigned only to explain a refusal; a success counts only through the
    // signed assertion below.
    let unsigned = dom::parse(xml.as_bytes(), Limits::MESSAGE).map_err(protocol)?;
    let status = unsigned
        .child(NS_PROTOCOL, "Status")
        .and_then(|s| s.child(NS_PROTOCOL, "StatusCode"))
        .and_then(|c| c.attr("Value"))
        .unwrap_or_default();
    if status != STATUS_SUCCESS {
        let message = unsigned
            .child(NS_PROTOCOL, "Status")
            .and_then(|s| s.child(NS_PROTOCOL, "StatusMessage"))
            .map(|m| m.trimmed_text().to_owned())
            .unwrap_or_default();
        return Err(DemoError::Refused(format!("{status} {message}")));
    }

    let (idp_entity, certificates) = idp_metadata(&p).await?;
    let signed = sign::verified_content(&xml, &certificates).map_err(protocol)?;
    let root = dom::parse(signed.as_bytes(), Limits::MESSAGE).map_err(protocol)?;
    let assertion = if root.is(NS_ASSERTION, "Assertion") {
        &root
    } else {
        root.child(NS_ASSERTION, "Assertion")
            .ok_or_else(|| protocol("no signed assertion"))?
    };
    let (subject, attributes) = check_assertion(
        assertion,
        &Expected {
            idp: &idp_entity,
            audience: &p.entity_id(),
            acs: &p.acs(),
            request_id: &request_id,
            now: crate::clock::unix_now(),
        },
    )?;
    let greeting = attributes
        .iter()
        .find(|(name, _)| name.ends_with("givenName") || name == "given_name")
        .map(|(_, v)| v.clone());
    let mut received = vec![("NameID".to_owned(), subject)];
    received.extend(attributes);
    Ok(signed_in(SignedIn {
        protocol: "SAML 2.0",
        greeting,
        received,
    }))
}

fn protocol(e: impl std::fmt::Display) -> DemoError {
    DemoError::Protocol(e.to_string())
}

/// openpoort's entity id and signing certificates, from the metadata it publishes.
async fn idp_metadata(p: &DemoProduct) -> Result<(String, Vec<Vec<u8>>), DemoError> {
    let xml = p
        .http
        .get(format!("{}/saml/metadata", p.backend))
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let root = dom::parse(&xml, Limits::METADATA).map_err(protocol)?;
    let entity = root
        .attr("entityID")
        .ok_or_else(|| protocol("metadata without entityID"))?
        .to_owned();
    let idp = root
        .child(NS_METADATA, "IDPSSODescriptor")
        .ok_or_else(|| protocol("metadata without IDPSSODescriptor"))?;
    let mut certificates = Vec::new();
    for kd in idp.children(NS_METADATA, "KeyDescriptor") {
        if kd.attr("use").is_some_and(|u| u != "signing") {
            continue;
        }
        for c in kd.descendants(NS_DSIG, "X509Certificate") {
            certificates.push(sign::certificate_der(c.trimmed_text()).map_err(protocol)?);
        }
    }
    Ok((entity, certificates))
}

/// What the assertion must say to be for this login.
struct Expected<'a> {
    idp: &'a str,
    audience: &'a str,
    acs: &'a str,
    request_id: &'a str,
    now: i64,
}

/// The checks of SAML 2.0 Profiles §4.1.4.3 on a signed assertion; its NameID and attributes.
fn check_assertion(
    a: &Element,
    e: &Expected<'_>,
) -> Result<(String, Vec<(String, String)>), DemoError> {
    let issuer = a.child(NS_ASSERTION, "Issuer").map(Element::trimmed_text);
    if issuer != Some(e.idp) {
        return Err(protocol("the assertion is not from openpoort"));
    }
    let at = |el: &Element, name: &str| el.attr(name).and_then(time::parse);
    let conditions = a
        .child(NS_ASSERTION, "Conditions")
        .ok_or_else(|| protocol("no Conditions"))?;
    if at(conditions, "NotBefore").is_some_and(|t| t > e.now + SKEW_SECONDS) {
        return Err(protocol("the assertion is not valid yet"));
    }
    if at(conditions, "NotOnOrAfter").is_none_or(|t| t + SKEW_SECONDS <= e.now) {
        return Err(protocol("the assertion has expired"));
    }
    let for_us = conditions
        .children(NS_ASSERTION, "AudienceRestriction")
        .flat_map(|r| r.children(NS_ASSERTION, "Audience"))
        .any(|aud| aud.trimmed_text() == e.audience);
    if !for_us {
        return Err(protocol("the assertion is for another audience"));
    }
    let subject = a
        .child(NS_ASSERTION, "Subject")
        .ok_or_else(|| protocol("no Subject"))?;
    let bearer = subject
        .children(NS_ASSERTION, "SubjectConfirmation")
        .filter(|c| c.attr("Method") == Some("urn:oasis:names:tc:SAML:2.0:cm:bearer"))
        .filter_map(|c| c.child(NS_ASSERTION, "SubjectConfirmationData"))
        .any(|d| {
            d.attr("Recipient") == Some(e.acs)
                && d.attr("InResponseTo") == Some(e.request_id)
                && at(d, "NotOnOrAfter").is_some_and(|t| t + SKEW_SECONDS > e.now)
        });
    if !bearer {
        return Err(protocol(
            "no bearer confirmation for this request and this address",
        ));
    }
    let name_id = subject
        .child(NS_ASSERTION, "NameID")
        .map(|n| n.trimmed_text().to_owned())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| protocol("no NameID"))?;
    let mut attributes = Vec::new();
    for statement in a.children(NS_ASSERTION, "AttributeStatement") {
        for attr in statement.children(NS_ASSERTION, "Attribute") {
            let name = attr
                .attr("FriendlyName")
                .or(attr.attr("Name"))
                .unwrap_or_default()
                .to_owned();
            let values: Vec<&str> = attr
                .children(NS_ASSERTION, "AttributeValue")
                .map(Element::trimmed_text)
                .collect();
            attributes.push((name, values.join(", ")));
        }
    }
    Ok((name_id, attributes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDP: &str = "http://localhost:8080/saml/metadata";
    const SP: &str = "http://localhost:8080/demo-product/saml";
    const ACS: &str = "http://localhost:8080/demo-product/saml/acs";

    fn assertion(issuer: &str, audience: &str, in_response_to: &str) -> Element {
        let xml = format!(
            r#"<saml:Assertion xmlns:saml="{NS_ASSERTION}" ID="_a" Version="2.0" IssueInstant="2026-12-05T10:00:00Z"><saml:Issuer>{issuer}</saml:Issuer><saml:Subject><saml:NameID>pseudo</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData InResponseTo="{in_response_to}" Recipient="{ACS}" NotOnOrAfter="2026-12-05T10:05:00Z"/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="2026-12-05T09:59:00Z" NotOnOrAfter="2026-12-05T10:05:00Z"><saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AttributeStatement><saml:Attribute Name="urn:oid:2.5.4.42" FriendlyName="givenName"><saml:AttributeValue>Sem</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion>"#
        );
        dom::parse(xml.as_bytes(), Limits::MESSAGE).unwrap()
    }

    fn expected(now: i64) -> Expected<'static> {
        Expected {
            idp: IDP,
            audience: SP,
            acs: ACS,
            request_id: "_req",
            now,
        }
    }

    fn at(s: &str) -> i64 {
        time::parse(s).unwrap()
    }

    #[test]
    fn an_assertion_for_this_request_is_read() {
        let (who, attrs) = check_assertion(
            &assertion(IDP, SP, "_req"),
            &expected(at("2026-12-05T10:00:30Z")),
        )
        .unwrap();
        assert_eq!(who, "pseudo");
        assert_eq!(attrs, [("givenName".to_owned(), "Sem".to_owned())]);
    }

    #[test]
    fn an_assertion_for_another_request_is_refused() {
        let now = at("2026-12-05T10:00:30Z");
        assert!(check_assertion(&assertion(IDP, SP, "_other"), &expected(now)).is_err());
    }

    #[test]
    fn an_assertion_for_another_audience_or_issuer_is_refused() {
        let now = at("2026-12-05T10:00:30Z");
        assert!(check_assertion(&assertion(IDP, "urn:elders", "_req"), &expected(now)).is_err());
        assert!(check_assertion(&assertion("urn:elders", SP, "_req"), &expected(now)).is_err());
    }

    #[test]
    fn an_expired_assertion_is_refused() {
        let late = at("2026-12-05T10:05:00Z") + SKEW_SECONDS;
        assert!(check_assertion(&assertion(IDP, SP, "_req"), &expected(late)).is_err());
    }
}
