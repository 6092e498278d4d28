//! openpoort as an OpenID Connect relying party of a network provider, over HTTP: the
//! authorization request that sends a user there and the callback (`/login/netwerk/terug`) that
//! redeems the code. The protocol checks are [`super::oidc`]'s; this keeps the login in the
//! shared state store between the two and knows the provider's stored settings.

use std::time::Duration;

use axum::http::HeaderMap;
use directory::DirectoryError;
use directory::upstreams::{StoredUpstream, UpstreamProtocol};

use super::oidc::{
    ClientAuth, OidcProvider, Pending, ProviderInfo, Secret, UpstreamOidcError, VerifiedLogin,
    begin, discover, finish,
};
use super::registry::{OidcClientAuth, UpstreamError, settings_of};
use super::{Outstanding, keep_as, take};
use crate::app_state::{AppState, WebConfig};
use crate::http::sha256_hex;
use crate::state::{StateError, StateStore};

/// Where providers send the user back; registered with every provider as the redirect URI.
pub fn redirect_uri(web: &WebConfig) -> String {
    format!("{}/login/netwerk/terug", web.public_url)
}

/// How long a provider's discovery document and keys are used before they are read again
/// (a key the provider rotated in meanwhile is fetched when a token names it).
const PROVIDER_INFO_TTL: Duration = Duration::from_secs(3_600);

#[derive(Debug, thiserror::Error)]
pub enum OidcLoginError {
    #[error("{0}")]
    Protocol(#[from] UpstreamOidcError),
    #[error("{0}")]
    Upstream(#[from] UpstreamError),
    #[error("register: {0}")]
    Directory(#[from] DirectoryError),
    #[error("state store: {0}")]
    State(#[from] StateError),
    #[error("keys: {0}")]
    Keys(#[from] certs::CertsError),
    #[error("the login's record does not parse: {0}")]
    Record(#[from] serde_json::Error),
    /// The provider's settings changed to another protocol or issuer while the user was away.
    #[error("the network provider's connection changed during the login")]
    Changed,
    /// RFC 9207: the authorization response names another issuer than the login was sent to.
    #[error("the answer names issuer `{0}`, not the provider the login was sent to")]
    OtherIssuer(String),
}

impl OidcLoginError {
    /// Failures of openpoort's own parts, as against what the provider or the browser sent.
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            OidcLoginError::Directory(_)
                | OidcLoginError::State(_)
                | OidcLoginError::Keys(_)
                | OidcLoginError::Record(_)
        )
    }
}

fn info_key(issuer: &str) -> String {
    format!("upstream:oidc:provider:{}", sha256_hex(issuer))
}

/// The provider's discovery document and keys: from the shared store while fresh, else read.
async fn provider_info(state: &AppState, issuer: &str) -> Result<ProviderInfo, OidcLoginError> {
    if let Some(raw) = state.state.get(&info_key(issuer)).await?
        && let Ok(info) = serde_json::from_slice::<ProviderInfo>(&raw)
    {
        return Ok(info);
    }
    let info = discover(&state.http, issuer, crate::clock::unix_now()).await?;
    remember(state, issuer, &info).await?;
    Ok(info)
}

async fn remember(
    state: &AppState,
    issuer: &str,
    info: &ProviderInfo,
) -> Result<(), OidcLoginError> {
    state
        .state
        .put(
            &info_key(issuer),
            &serde_json::to_vec(info)?,
            PROVIDER_INFO_TTL,
        )
        .await?;
    Ok(())
}

/// The relying party's view of a stored provider.
fn provider_of(stored: &StoredUpstream) -> Result<OidcProvider, UpstreamError> {
    let settings = settings_of(stored)?;
    let oidc = settings.oidc.ok_or_else(|| {
        UpstreamError::Stored(stored.party_id.clone(), "no OpenID Connect settings".into())
    })?;
    let secret = || {
        stored
            .client_secret
            .clone()
            .map(Secret::new)
            .ok_or_else(|| {
                UpstreamError::Stored(stored.party_id.clone(), "no client secret".into())
            })
    };
    let auth = match oidc.auth {
        OidcClientAuth::ClientSecretBasic => ClientAuth::ClientSecretBasic(secret()?),
        OidcClientAuth::ClientSecretPost => ClientAuth::ClientSecretPost(secret()?),
        OidcClientAuth::PrivateKeyJwt => ClientAuth::PrivateKeyJwt,
    };
    Ok(OidcProvider {
        issuer: stored.issuer.clone(),
        client_id: oidc.client_id,
        auth,
        scopes: oidc.scopes,
    })
}

/// Sends the user to the provider: the authorization URL and the `Set-Cookie` binding the
/// login to this browser. `force` asks the provider for a fresh login (`prompt=login`).
pub async fn start(
    state: &AppState,
    stored: &StoredUpstream,
    mut outstanding: Outstanding,
    force: bool,
) -> Result<(String, HeaderMap), OidcLoginError> {
    let provider = provider_of(stored)?;
    let info = provider_info(state, &stored.issuer).await?;
    let (mut url, pending) = begin(&info, &provider, &redirect_uri(&state.web), None)?;
    if force {
        url.query_pairs_mut().append_pair("prompt", "login");
    }
    let relay = pending.state().to_owned();
    outstanding.oidc = Some(serde_json::to_value(&pending)?);
    let set = keep_as(state, &relay, outstanding).await?;
    Ok((url.to_string(), set))
}

/// The callback: the login waiting under `relay` (the OIDC `state`), taken once, and what the
/// provider vouched for. `Ok(None)` when no such login waits (expired, used, or never made).
pub async fn callback(
    state: &AppState,
    relay: &str,
    code: &str,
    iss: Option<&str>,
) -> Result<Option<(Outstanding, VerifiedLogin)>, OidcLoginError> {
    let Some(outstanding) = take(state, relay).await? else {
        return Ok(None);
    };
    let Some(record) = outstanding.oidc.clone() else {
        // A SAML login's relay token presented here: it is spent all the same.
        return Ok(None);
    };
    let pending: Pending = serde_json::from_value(record)?;
    let stored = state
        .directory
        .upstream_of(&outstanding.party_id)
        .await?
        .filter(|s| s.protocol == UpstreamProtocol::Oidc && s.issuer == pending.issuer())
        .ok_or(OidcLoginError::Changed)?;
    if let Some(iss) = iss
        && iss != stored.issuer
    {
        return Err(OidcLoginError::OtherIssuer(iss.chars().take(200).collect()));
    }
    let provider = provider_of(&stored)?;
    let mut info = provider_info(state, &stored.issuer).await?;
    let before = serde_json::to_vec(&info)?;
    let signing = state
        .keys
        .current_signing_key(certs::Algorithm::Rs256)
        .await?;
    let outcome = finish(
        &state.http,
        &mut info,
        &provider,
        pending,
        code,
        &signing,
        crate::clock::unix_now(),
    )
    .await;
    // Keys fetched again for a rotated kid are kept for the other nodes and later logins.
    if serde_json::to_vec(&info)? != before {
        remember(state, &stored.issuer, &info).await?;
    }
    Ok(Some((outstanding, outcome?)))
}
