//! Service providers as registered from their SAML metadata, and the rules a registration must
//! meet before openpoort answers its requests.

use serde::{Deserialize, Serialize};

use super::dom::{self, Element, Limits};
pub use super::response::Signing;
use super::sign::{certificate_der, verified_content};
use super::{BINDING_POST, BINDING_REDIRECT, NS_DSIG, NS_METADATA, NS_PROTOCOL, SamlError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Binding {
    HttpPost,
    HttpRedirect,
}

impl Binding {
    pub fn from_urn(urn: &str) -> Option<Binding> {
        match urn {
            BINDING_POST => Some(Binding::HttpPost),
            BINDING_REDIRECT => Some(Binding::HttpRedirect),
            _ => None,
        }
    }

    pub fn urn(self) -> &'static str {
        match self {
            Binding::HttpPost => BINDING_POST,
            Binding::HttpRedirect => BINDING_REDIRECT,
        }
    }
}

/// An AssertionConsumerService of the SP. openpoort answers with HTTP-POST only (a signed
/// Response does not fit a URL), so only POST endpoints are kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AcsEndpoint {
    pub location: String,
    pub index: u16,
    #[serde(default)]
    pub is_default: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SloEndpoint {
    pub binding: Binding,
    pub location: String,
    #[serde(default)]
    pub response_location: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestedAttribute {
    pub name: String,
    #[serde(default)]
    pub friendly_name: Option<String>,
    #[serde(default)]
    pub required: bool,
}

/// One service provider of a party, from its metadata plus openpoort's own settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceProvider {
    pub entity_id: String,
    pub party_id: String,
    /// Shown to users on error pages.
    pub name: String,
    pub acs: Vec<AcsEndpoint>,
    #[serde(default)]
    pub slo: Vec<SloEndpoint>,
    /// Base64 DER certificates the SP signs requests with.
    #[serde(default)]
    pub signing_certificates: Vec<String>,
    /// Base64 DER certificates to encrypt assertions to.
    #[serde(default)]
    pub encryption_certificates: Vec<String>,
    /// From metadata: the SP signs its AuthnRequests, so unsigned ones are refused.
    #[serde(default)]
    pub authn_requests_signed: bool,
    #[serde(default)]
    pub want_assertions_signed: bool,
    /// openpoort's setting: sign the Response (see [`ServiceProvider::signing`]).
    #[serde(default)]
    pub sign_response: bool,
    /// openpoort's setting: sign the Assertion; false only when the SP chose a signed Response
    /// alone (registrations from before the choice existed always signed it).
    #[serde(default = "yes")]
    pub sign_assertion: bool,
    /// openpoort's setting: the names attributes go by.
    #[serde(default)]
    pub attribute_names: AttributeNames,
    /// openpoort's setting: encrypt assertions to the SP's encryption certificate.
    #[serde(default)]
    pub encrypt_assertions: bool,
    #[serde(default)]
    pub name_id_formats: Vec<String>,
    #[serde(default)]
    pub requested_attributes: Vec<RequestedAttribute>,
    /// The pairwise sector; `None` means the party's own, shared with its OIDC clients.
    #[serde(default)]
    pub sector_identifier: Option<String>,
    /// Where the metadata is fetched from when it is refreshed on a schedule.
    #[serde(default)]
    pub metadata_url: Option<String>,
    /// PEM certificate that must have signed the metadata, when the operator configured one.
    #[serde(default)]
    pub metadata_signing_certificate: Option<String>,
    /// The metadata's own validUntil (Unix seconds), if it gave one.
    #[serde(default)]
    pub metadata_valid_until: Option<i64>,
}

fn yes() -> bool {
    true
}

/// The names an SP receives attributes under. Either way the same attributes with the same
/// values are released; only their Name, NameFormat and FriendlyName differ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeNames {
    /// The catalogue's SAML names (`eduPersonAffiliation`, `mail` …) with the basic NameFormat.
    #[default]
    Basic,
    /// `urn:oid:` names with the URI NameFormat and the catalogue name as FriendlyName, where
    /// the attribute has a standard OID; the others keep their basic names.
    Uri,
}

impl AttributeNames {
    pub fn name(self) -> &'static str {
        match self {
            AttributeNames::Basic => "basic",
            AttributeNames::Uri => "uri",
        }
    }

    pub fn parse(name: &str) -> Option<AttributeNames> {
        [AttributeNames::Basic, AttributeNames::Uri]
            .into_iter()
            .find(|a| a.name() == name)
    }
}

/// What the operator says about an SP beyond its metadata.
#[derive(Clone, Debug, Default)]
pub struct SpSettings {
    pub party_id: String,
    pub name: Option<String>,
    /// `None`: from the metadata (see [`default_signing`]).
    pub signing: Option<Signing>,
    pub attribute_names: AttributeNames,
    pub encrypt_assertions: bool,
    pub sector_identifier: Option<String>,
    pub metadata_url: Option<String>,
    pub metadata_signing_certificate: Option<String>,
}

impl ServiceProvider {
    /// The ACS an AuthnRequest asked for: by URL (exactly as registered), by index, or the
    /// default. `None` when what was asked is not in the metadata.
    pub fn acs(&self, url: Option<&str>, index: Option<u16>) -> Option<&AcsEndpoint> {
        match (url, index) {
            (Some(_), Some(_)) => None,
            (Some(url), None) => self.acs.iter().find(|a| a.location == url),
            (None, Some(i)) => self.acs.iter().find(|a| a.index == i),
            (None, None) => self.default_acs(),
        }
    }

    /// The default ACS (SAML Metadata section 2.2.3): the one marked default, else the first.
    pub fn default_acs(&self) -> Option<&AcsEndpoint> {
        self.acs.iter().find(|a| a.is_default).or(self.acs.first())
    }

    /// The single logout endpoint to answer on: POST where offered, else Redirect.
    pub fn slo_endpoint(&self) -> Option<&SloEndpoint> {
        self.slo
            .iter()
            .find(|s| s.binding == Binding::HttpPost)
            .or_else(|| self.slo.iter().find(|s| s.binding == Binding::HttpRedirect))
    }

    pub fn signing_certificates_der(&self) -> Result<Vec<Vec<u8>>, SamlError> {
        self.signing_certificates
            .iter()
            .map(|c| certificate_der(c))
            .collect()
    }

    /// Which parts of a Response to this SP are signed.
    pub fn signing(&self) -> Signing {
        match (self.sign_assertion, self.sign_response) {
            (true, true) => Signing::Both,
            (false, true) => Signing::Response,
            _ => Signing::Assertion,
        }
    }

    /// The pairwise sector for this SP (see [`crate::pairwise_sector`]).
    pub fn sector(&self) -> String {
        crate::pairwise_sector(&self.party_id, self.sector_identifier.as_deref())
    }

    /// Checks the registration before storage: what metadata parsing guarantees, again, so that
    /// a registration from any source (metadata, admin API, stored JSON) is held to one rule.
    pub fn validate(&self, development: bool) -> Result<(), SamlError> {
        if self.entity_id.is_empty() || self.entity_id.len() > 1024 {
            return Err(SamlError::invalid("entityID must be 1 to 1024 characters"));
        }
        if self
            .entity_id
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(SamlError::invalid("entityID must not contain whitespace"));
        }
        if self.party_id.trim().is_empty() {
            return Err(SamlError::invalid("the SP must belong to a party"));
        }
        if self.name.trim().is_empty()
            || self.name.len() > 200
            || self.name.chars().any(char::is_control)
        {
            return Err(SamlError::invalid(
                "name must be 1 to 200 printable characters",
            ));
        }
        if self.acs.is_empty() {
            return Err(SamlError::invalid(
                "the SP has no AssertionConsumerService with the HTTP-POST binding",
            ));
        }
        let mut indexes = std::collections::HashSet::new();
        for (i, a) in self.acs.iter().enumerate() {
            check_location(
                &format!("AssertionConsumerService[{i}]"),
                &a.location,
                development,
            )?;
            if !indexes.insert(a.index) {
                return Err(SamlError::invalid(format!(
                    "AssertionConsumerService index {} appears twice",
                    a.index
                )));
            }
        }
        for (i, s) in self.slo.iter().enumerate() {
            check_location(
                &format!("SingleLogoutService[{i}]"),
                &s.location,
                development,
            )?;
            if let Some(r) = &s.response_location {
                check_location(
                    &format!("SingleLogoutService[{i}] ResponseLocation"),
                    r,
                    development,
                )?;
            }
        }
        for c in self
            .signing_certificates
            .iter()
            .chain(&self.encryption_certificates)
        {
            check_key(&certificate_der(c)?)?;
        }
        if self.authn_requests_signed && self.signing_certificates.is_empty() {
            return Err(SamlError::invalid(
                "AuthnRequestsSigned is true but the metadata has no signing certificate",
            ));
        }
        if !self.sign_assertion && !self.sign_response {
            return Err(SamlError::invalid(
                "neither the Assertion nor the Response would be signed",
            ));
        }
        if self.want_assertions_signed && !self.sign_assertion {
            return Err(SamlError::invalid(
                "the metadata says WantAssertionsSigned=\"true\"; signing the Response alone leaves the Assertion unsigned (choose assertion or both)",
            ));
        }
        if self.encrypt_assertions && self.encryption_certificates.is_empty() {
            return Err(SamlError::invalid(
                "encryption was asked for but the metadata has no encryption certificate",
            ));
        }
        if let Some(url) = &self.metadata_url {
            check_location("metadata URL", url, development)?;
        }
        if let Some(sector) = &self.sector_identifier
            && (sector.is_empty()
                || sector.len() > 255
                || sector.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            return Err(SamlError::invalid(
                "sector identifier must be 1 to 255 characters without whitespace",
            ));
        }
        Ok(())
    }
}

fn check_location(field: &str, url: &str, development: bool) -> Result<(), SamlError> {
    crate::client::check_uri(field, url, development).map_err(|e| SamlError::invalid(e.to_string()))
}

/// Keys openpoort accepts from an SP: RSA of 2048 bits or more, or EC P-256/384/521.
fn check_key(der: &[u8]) -> Result<(), SamlError> {
    let cert =
        openssl::x509::X509::from_der(der).map_err(|e| SamlError::Certificate(e.to_string()))?;
    let key = cert
        .public_key()
        .map_err(|e| SamlError::Certificate(e.to_string()))?;
    match key.id() {
        openssl::pkey::Id::RSA if key.bits() >= 2048 => Ok(()),
        openssl::pkey::Id::RSA => Err(SamlError::Certificate(format!(
            "RSA key of {} bits; at least 2048 are required",
            key.bits()
        ))),
        openssl::pkey::Id::EC => Ok(()),
        _ => Err(SamlError::Certificate(
            "only RSA and EC keys are accepted".into(),
        )),
    }
}

/// A metadata document's root as read, or, when `signing_certificate` (PEM) pins the key that
/// must have signed it, as its verified signed content: the document must carry a signature by
/// that key over itself, not over an element copied into it.
pub(super) fn metadata_root(
    xml: &[u8],
    signing_certificate: Option<&str>,
) -> Result<Element, SamlError> {
    let parsed = dom::parse(xml, Limits::METADATA)?;
    let Some(pem) = signing_certificate else {
        return Ok(parsed);
    };
    let cert = openssl::x509::X509::from_pem(pem.as_bytes())
        .map_err(|e| SamlError::Certificate(format!("metadata signing certificate: {e}")))?;
    let der = cert
        .to_der()
        .map_err(|e| SamlError::Certificate(e.to_string()))?;
    if parsed.child(NS_DSIG, "Signature").is_none() {
        return Err(SamlError::MissingSignature);
    }
    let text = std::str::from_utf8(xml).map_err(|_| SamlError::Malformed("not UTF-8".into()))?;
    let signed = verified_content(text, &[der])?;
    let signed_root = dom::parse(signed.as_bytes(), Limits::METADATA)?;
    if signed_root.name != parsed.name || signed_root.attr("ID") != parsed.attr("ID") {
        return Err(SamlError::BadSignature);
    }
    Ok(signed_root)
}

pub(super) fn bool_attr(e: &Element, name: &str) -> Result<bool, SamlError> {
    match e.attr(name) {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(other) => Err(SamlError::invalid(format!(
            "{name}=\"{other}\" is not a boolean"
        ))),
    }
}

/// Reads SP metadata into a registration. When `settings.metadata_signing_certificate` is set,
/// the metadata must carry a signature by it, and only what it covers is read. An
/// EntitiesDescriptor is accepted when it holds exactly one SP.
pub fn from_metadata(
    xml: &[u8],
    settings: &SpSettings,
    now: i64,
    development: bool,
) -> Result<ServiceProvider, SamlError> {
    let root = metadata_root(xml, settings.metadata_signing_certificate.as_deref())?;
    let descriptor = if root.is(NS_METADATA, "EntityDescriptor") {
        check_valid_until(&root, now)?;
        root.clone()
    } else if root.is(NS_METADATA, "EntitiesDescriptor") {
        check_valid_until(&root, now)?;
        let sps: Vec<&Element> = root
            .descendants(NS_METADATA, "EntityDescriptor")
            .into_iter()
            .filter(|e| e.child(NS_METADATA, "SPSSODescriptor").is_some())
            .collect();
        match sps.as_slice() {
            [one] => (*one).clone(),
            [] => {
                return Err(SamlError::invalid(
                    "the metadata describes no service provider",
                ));
            }
            _ => {
                return Err(SamlError::invalid(
                    "the metadata describes several service providers; register each from its own EntityDescriptor",
                ));
            }
        }
    } else {
        return Err(SamlError::invalid(
            "the root element is not md:EntityDescriptor",
        ));
    };
    check_valid_until(&descriptor, now)?;
    let entity_id = descriptor
        .attr("entityID")
        .ok_or_else(|| SamlError::invalid("EntityDescriptor has no entityID"))?
        .to_owned();
    let sso = descriptor
        .children(NS_METADATA, "SPSSODescriptor")
        .find(|d| {
            d.attr("protocolSupportEnumeration")
                .is_some_and(|p| p.split_whitespace().any(|p| p == NS_PROTOCOL))
        })
        .ok_or_else(|| SamlError::invalid("no SPSSODescriptor for the SAML 2.0 protocol"))?;

    let mut signing = Vec::new();
    let mut encryption = Vec::new();
    for kd in sso.children(NS_METADATA, "KeyDescriptor") {
        let certs: Vec<String> = kd
            .descendants(NS_DSIG, "X509Certificate")
            .into_iter()
            .map(|c| c.text.chars().filter(|c| !c.is_whitespace()).collect())
            .collect();
        for c in &certs {
            certificate_der(c)?;
        }
        match kd.attr("use") {
            Some("signing") => signing.extend(certs),
            Some("encryption") => encryption.extend(certs),
            None => {
                signing.extend(certs.clone());
                encryption.extend(certs);
            }
            Some(other) => {
                return Err(SamlError::invalid(format!(
                    "KeyDescriptor use=\"{other}\" is unknown"
                )));
            }
        }
    }

    let mut acs = Vec::new();
    for (position, a) in sso
        .children(NS_METADATA, "AssertionConsumerService")
        .enumerate()
    {
        if a.attr("Binding") != Some(BINDING_POST) {
            continue;
        }
        let location = a
            .attr("Location")
            .ok_or_else(|| SamlError::invalid("an AssertionConsumerService has no Location"))?;
        let index = match a.attr("index") {
            Some(i) => i.parse::<u16>().map_err(|_| {
                SamlError::invalid(format!(
                    "AssertionConsumerService index \"{i}\" is not a number"
                ))
            })?,
            None => position as u16,
        };
        acs.push(AcsEndpoint {
            location: location.to_owned(),
            index,
            is_default: bool_attr(a, "isDefault")?,
        });
    }
    let mut slo = Vec::new();
    for s in sso.children(NS_METADATA, "SingleLogoutService") {
        let Some(binding) = s.attr("Binding").and_then(Binding::from_urn) else {
            continue;
        };
        slo.push(SloEndpoint {
            binding,
            location: s
                .attr("Location")
                .ok_or_else(|| SamlError::invalid("a SingleLogoutService has no Location"))?
                .to_owned(),
            response_location: s.attr("ResponseLocation").map(str::to_owned),
        });
    }
    let name_id_formats = sso
        .children(NS_METADATA, "NameIDFormat")
        .map(|f| f.trimmed_text().to_owned())
        .collect();
    let requested_attributes = sso
        .children(NS_METADATA, "AttributeConsumingService")
        .flat_map(|s| s.children(NS_METADATA, "RequestedAttribute"))
        .map(|r| {
            Ok(RequestedAttribute {
                name: r
                    .attr("Name")
                    .ok_or_else(|| SamlError::invalid("a RequestedAttribute has no Name"))?
                    .to_owned(),
                friendly_name: r.attr("FriendlyName").map(str::to_owned),
                required: bool_attr(r, "isRequired")?,
            })
        })
        .collect::<Result<Vec<_>, SamlError>>()?;
    // The SP's own name for users: its mdui:DisplayName, else its organisation's, Dutch first.
    let names: Vec<&Element> = descriptor
        .descendants("urn:oasis:names:tc:SAML:metadata:ui", "DisplayName")
        .into_iter()
        .chain(descriptor.descendants(NS_METADATA, "OrganizationDisplayName"))
        .collect();
    let display = names
        .iter()
        .find(|d| d.attr_ns("http://www.w3.org/XML/1998/namespace", "lang") == Some("nl"))
        .or(names.first())
        .map(|d| d.trimmed_text().to_owned())
        .filter(|n| !n.is_empty());
    let valid_until = descriptor
        .attr("validUntil")
        .or(root.attr("validUntil"))
        .and_then(super::time::parse);
    let want_assertions_signed = bool_attr(sso, "WantAssertionsSigned")?;
    let signed_parts = settings
        .signing
        .unwrap_or(default_signing(want_assertions_signed));
    let sp = ServiceProvider {
        name: settings
            .name
            .clone()
            .or(display)
            .unwrap_or_else(|| entity_id.clone()),
        entity_id,
        party_id: settings.party_id.clone(),
        acs,
        slo,
        signing_certificates: signing,
        encryption_certificates: encryption,
        authn_requests_signed: bool_attr(sso, "AuthnRequestsSigned")?,
        want_assertions_signed,
        sign_response: signed_parts.response(),
        sign_assertion: signed_parts.assertion(),
        attribute_names: settings.attribute_names,
        encrypt_assertions: settings.encrypt_assertions,
        name_id_formats,
        requested_attributes,
        sector_identifier: settings.sector_identifier.clone(),
        metadata_url: settings.metadata_url.clone(),
        metadata_signing_certificate: settings.metadata_signing_certificate.clone(),
        metadata_valid_until: valid_until,
    };
    sp.validate(development)?;
    Ok(sp)
}

/// The signing of an SP whose registration does not choose: the Assertion where its metadata
/// says WantAssertionsSigned (what it asked for, one signature per login); otherwise both,
/// since nothing says which of the two it checks, and libraries differ (pysaml2 by default
/// wants the Response signed, python3-saml with wantAssertionsSigned the Assertion).
pub fn default_signing(want_assertions_signed: bool) -> Signing {
    if want_assertions_signed {
        Signing::Assertion
    } else {
        Signing::Both
    }
}

pub(super) fn check_valid_until(e: &Element, now: i64) -> Result<(), SamlError> {
    if let Some(v) = e.attr("validUntil") {
        let t = super::time::parse(v).ok_or_else(|| {
            SamlError::invalid(format!("validUntil \"{v}\" is not a UTC date-time"))
        })?;
        if t <= now {
            return Err(SamlError::invalid(format!(
                "the metadata expired at {v} (validUntil)"
            )));
        }
    }
    Ok(())
}
