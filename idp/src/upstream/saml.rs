//! openpoort as a SAML service provider towards network providers: its SP metadata, the signed
//! AuthnRequest that sends a user to their provider, and the Response that comes back to the
//! AssertionConsumerService, verified by `metadata::saml::inbound` against the provider's
//! registered metadata and recorded against replay in the store all nodes share.

use ::metadata::saml::binding;
use ::metadata::saml::dom::{self, Limits};
use ::metadata::saml::inbound::{Expectations, InboundError, VerifiedAssertion, verify_response};
use ::metadata::saml::upstream::{
    SpMetadata, UpstreamRequest, authn_request_xml, signed_sp_metadata,
};
use ::metadata::saml::{NS_ASSERTION, NS_PROTOCOL, SIG_RSA_SHA256, SamlError, new_id};
use certs::Algorithm;
use directory::DirectoryError;
use directory::upstreams::{StoredUpstream, UpstreamProtocol};

use super::registry::{UpstreamError, saml_idp, settings_of};
use super::{Outstanding, take};
use crate::app_state::{AppState, WebConfig};
use crate::http::url_encode;
use crate::state::{StateError, StateStore};
use crate::xml_signing::{SigningError, metadata_signer, published_certificates, signer};

/// openpoort's entityID as a service provider: the address of its SP metadata. Distinct from
/// its IdP entityID, so that a provider's federation can hold both roles apart.
pub fn sp_entity_id(web: &WebConfig) -> String {
    format!("{}/saml/sp/metadata", web.public_url)
}

pub fn acs_url(web: &WebConfig) -> String {
    format!("{}/saml/acs", web.public_url)
}

/// SP metadata is re-read by providers well within this.
const METADATA_VALID_FOR: i64 = 7 * 86_400;

#[derive(Debug, thiserror::Error)]
pub enum AcsError {
    #[error("the SAMLResponse is not readable: {0}")]
    Unreadable(SamlError),
    #[error("no network provider is connected with entityID `{0}`")]
    UnknownIssuer(String),
    #[error("the Response names no Issuer and answers no login of openpoort")]
    NoIssuer,
    #[error(
        "network provider {0} sent a Response no request asked for, and its settings refuse that"
    )]
    Unsolicited(String),
    #[error("the Response comes from another provider than the login was sent to")]
    OtherProvider,
    #[error("{0}")]
    Refused(#[from] InboundError),
    #[error("assertion {0} was used before (replay)")]
    Replay(String),
    #[error("register: {0}")]
    Directory(#[from] DirectoryError),
    #[error("{0}")]
    Upstream(#[from] UpstreamError),
    #[error("state store: {0}")]
    State(#[from] StateError),
    #[error("keys: {0}")]
    Keys(#[from] certs::CertsError),
    #[error("verification task: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl AcsError {
    /// Whether the fault is openpoort's (its store, register or keys) rather than the message's.
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            AcsError::Directory(_)
                | AcsError::State(_)
                | AcsError::Keys(_)
                | AcsError::Task(_)
                | AcsError::Upstream(UpstreamError::Stored(..) | UpstreamError::Directory(_))
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("{0}")]
    Upstream(#[from] UpstreamError),
    #[error("signing: {0}")]
    Signing(#[from] SigningError),
    #[error("SAML: {0}")]
    Saml(#[from] SamlError),
    #[error("the provider's metadata names no SingleSignOnService for the HTTP-Redirect binding")]
    NoRedirectEndpoint,
}

/// openpoort's signed SP metadata.
pub async fn sp_metadata(state: &AppState) -> Result<String, RequestError> {
    let certificates = published_certificates(state).await?;
    let signer = metadata_signer(state).await?;
    let (entity, acs) = (sp_entity_id(&state.web), acs_url(&state.web));
    let now = crate::clock::unix_now();
    let xml = tokio::task::spawn_blocking(move || {
        signed_sp_metadata(
            &SpMetadata {
                entity_id: &entity,
                acs_url: &acs,
                certificates: &certificates,
                now,
                valid_for: METADATA_VALID_FOR,
            },
            &signer,
        )
    })
    .await
    .map_err(|e| SamlError::Signing(e.to_string()))??;
    Ok(xml)
}

/// A fresh AuthnRequest ID, to keep with the login before the request is made.
pub fn new_request_id() -> String {
    new_id()
}

/// The address that sends the user to the provider with a signed AuthnRequest `id`
/// (HTTP-Redirect binding) carrying `relay` as RelayState.
pub async fn request_redirect(
    state: &AppState,
    stored: &StoredUpstream,
    relay: &str,
    id: &str,
    force_authn: bool,
) -> Result<String, RequestError> {
    let now = crate::clock::unix_now();
    let idp = saml_idp(stored, now)?;
    let destination = idp.sso_redirect.ok_or(RequestError::NoRedirectEndpoint)?;
    let xml = authn_request_xml(&UpstreamRequest {
        id,
        sp_entity_id: &sp_entity_id(&state.web),
        acs_url: &acs_url(&state.web),
        destination: &destination,
        now,
        force_authn,
    });
    let mut octets = format!(
        "SAMLRequest={}&RelayState={}&SigAlg={}",
        url_encode(&binding::encode_redirect(&xml)),
        url_encode(relay),
        url_encode(SIG_RSA_SHA256)
    );
    let signature = signer(state).await?.sign_redirect(&octets)?;
    octets.push_str(&format!("&Signature={}", url_encode(&signature)));
    let separator = if destination.contains('?') { '&' } else { '?' };
    Ok(format!("{destination}{separator}{octets}"))
}

/// What a provider vouched for, verified, with the login it answers (none when unsolicited).
#[derive(Debug)]
pub struct Received {
    pub upstream: StoredUpstream,
    pub assertion: VerifiedAssertion,
    pub outstanding: Option<Outstanding>,
    /// An unsolicited Response's RelayState, which providers' portal tiles use for the product
    /// to open; only ever compared with registered launch URLs.
    pub relay_target: Option<String>,
}

/// Verifies a Response posted to the ACS and records its assertion against replay.
pub async fn receive(
    state: &AppState,
    saml_response: &str,
    relay_state: Option<&str>,
) -> Result<Received, AcsError> {
    let xml = binding::decode_post(saml_response).map_err(AcsError::Unreadable)?;
    let outstanding = match relay_state {
        Some(relay) => take(state, relay).await?,
        None => None,
    };
    let upstream = match &outstanding {
        Some(o) => state
            .directory
            .upstream_of(&o.party_id)
            .await?
            .filter(|u| u.protocol == UpstreamProtocol::Saml)
            .ok_or(AcsError::OtherProvider)?,
        None => {
            // Only to find whose metadata to verify with: the verification itself checks that
            // the signed Issuer is this provider's.
            let issuer = claimed_issuer(&xml)?;
            state
                .directory
                .upstream_by_issuer(&issuer)
                .await?
                .filter(|u| u.protocol == UpstreamProtocol::Saml)
                .ok_or(AcsError::UnknownIssuer(issuer))?
        }
    };
    let settings = settings_of(&upstream)?;
    if outstanding.is_none() && !settings.allow_unsolicited {
        return Err(AcsError::Unsolicited(upstream.issuer.clone()));
    }
    let now = crate::clock::unix_now();
    let idp = saml_idp(&upstream, now)?;
    let mut expect = Expectations::new(
        upstream.issuer.clone(),
        idp.signing_certificates_der()
            .map_err(|e| AcsError::Upstream(e.into()))?,
        sp_entity_id(&state.web),
        acs_url(&state.web),
        outstanding.as_ref().and_then(|o| o.request_id.clone()),
    );
    expect.require_signed_assertion = settings.require_signed_assertion;
    expect.max_skew = i64::from(state.web.saml.clock_skew_seconds);
    // Decrypting needs the private keys, which are stored encrypted: load them only for a
    // message that could need them (the verifier decides whether it does).
    if contains(&xml, b"EncryptedAssertion") {
        for record in state.keys.published(Algorithm::Rs256, now).await? {
            let key = certs::decrypt_private_key(&record, state.keys.kek())?;
            expect.decryption_keys.push(key.pkey().to_owned());
        }
    }
    let max_skew = expect.max_skew;
    // Signature checks and decryption are CPU work: off the async threads.
    let assertion =
        tokio::task::spawn_blocking(move || verify_response(&xml, &expect, now)).await??;
    let ttl = (assertion.replay_until(max_skew) - now).max(1) as u64;
    let fresh = state
        .state
        .put_if_absent(
            &assertion.replay_key(),
            b"1",
            std::time::Duration::from_secs(ttl),
        )
        .await?;
    if !fresh {
        return Err(AcsError::Replay(assertion.assertion_id.clone()));
    }
    let relay_target = match (&outstanding, relay_state) {
        (None, Some(r)) if r.starts_with("https://") || r.starts_with("http://") => {
            Some(r.to_owned())
        }
        _ => None,
    };
    Ok(Received {
        upstream,
        assertion,
        outstanding,
        relay_target,
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The Issuer a Response claims (its own, else its Assertion's), read strictly but unverified.
fn claimed_issuer(xml: &[u8]) -> Result<String, AcsError> {
    let root = dom::parse(xml, Limits::MESSAGE).map_err(AcsError::Unreadable)?;
    if !root.is(NS_PROTOCOL, "Response") {
        return Err(AcsError::Refused(InboundError::NotAResponse));
    }
    let own = root.child(NS_ASSERTION, "Issuer");
    let nested = root
        .child(NS_ASSERTION, "Assertion")
        .and_then(|a| a.child(NS_ASSERTION, "Issuer"));
    own.or(nested)
        .map(|i| i.trimmed_text().to_owned())
        .filter(|i| !i.is_empty())
        .ok_or(AcsError::NoIssuer)
}
