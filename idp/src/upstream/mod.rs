//! Network providers as upstream identity providers (brokered login): how openpoort connects to
//! them ([`registry`]), sends a user there and believes what comes back ([`saml`], and [`oidc`]
//! with [`oidc_login`]), and what a login in progress keeps meanwhile ([`Outstanding`]).
//! Matching the vouched-for identity to a user and opening the session is the login flow's
//! (`flow::brokered`).

pub mod oidc;
pub mod oidc_login;
pub mod registry;
pub mod saml;

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, header};
use serde::{Deserialize, Serialize};

use crate::app_state::{AppState, WebConfig};
use crate::http::{cookie_value, random_token, sha256_hex};
use crate::state::{StateError, StateStore};

/// How long a user may take at the provider before the login must start again.
pub const OUTSTANDING_TTL: Duration = Duration::from_secs(600);

/// A login sent to a network provider, waiting for its answer. Kept in the shared state store
/// under the relay token (SAML RelayState, OIDC `state`), taken once.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Outstanding {
    pub party_id: String,
    /// SAML: the AuthnRequest's ID, which the Response must answer.
    #[serde(default)]
    pub request_id: Option<String>,
    /// Where openpoort continues after the login: a path of its own (a parked publisher
    /// request), never an outside address.
    #[serde(default)]
    pub next: Option<String>,
    /// A product's launch URL from the snelkoppelaar's TARGET, opened after the login when the
    /// user may use it.
    #[serde(default)]
    pub target: Option<String>,
    /// The school the entry point named (INSTELLING_REF): the login must land there.
    #[serde(default)]
    pub school_id: Option<String>,
    /// SHA-256 of the browser cookie set when the login started: the answer must come back in
    /// the same browser, so that nobody can finish a login they started in someone else's.
    pub browser: String,
    /// OIDC: the relying party's own record (PKCE verifier, nonce).
    #[serde(default)]
    pub oidc: Option<serde_json::Value>,
    pub created_at: i64,
}

fn outstanding_key(relay: &str) -> String {
    format!("upstream:outstanding:{}", sha256_hex(relay))
}

/// The name of the cookie binding a login to the browser that started it.
pub fn browser_cookie(web: &WebConfig) -> &'static str {
    if web.secure_cookies {
        "__Host-openpoort-broker"
    } else {
        "openpoort-broker"
    }
}

/// Keeps `o` under a new relay token; returns the token and the `Set-Cookie` binding the
/// browser. `o.browser` is filled in here.
pub async fn keep(state: &AppState, o: Outstanding) -> Result<(String, HeaderMap), StateError> {
    let relay = random_token();
    let set = keep_as(state, &relay, o).await?;
    Ok((relay, set))
}

/// As [`keep`], under a relay token made elsewhere (the OIDC `state` of the relying party's
/// own request); returns the `Set-Cookie` binding the browser.
pub async fn keep_as(
    state: &AppState,
    relay: &str,
    mut o: Outstanding,
) -> Result<HeaderMap, StateError> {
    let cookie = random_token();
    o.browser = sha256_hex(&cookie);
    let value = serde_json::to_vec(&o).expect("an Outstanding serialises");
    state
        .state
        .put(&outstanding_key(relay), &value, OUTSTANDING_TTL)
        .await?;
    let mut h = HeaderMap::new();
    h.insert(
        header::SET_COOKIE,
        state.web.cookie(
            browser_cookie(&state.web),
            &cookie,
            Some(OUTSTANDING_TTL.as_secs()),
        ),
    );
    Ok(h)
}

/// Takes (single use) the login waiting under `relay`; `None` when unknown, expired or used.
pub async fn take(state: &AppState, relay: &str) -> Result<Option<Outstanding>, StateError> {
    if relay.is_empty() || relay.len() > 128 {
        return Ok(None);
    }
    let raw = state.state.take(&outstanding_key(relay)).await?;
    Ok(raw.and_then(|v| serde_json::from_slice(&v).ok()))
}

/// Whether the request comes from the browser that started `o`.
pub fn same_browser(state: &AppState, headers: &HeaderMap, o: &Outstanding) -> bool {
    cookie_value(headers, browser_cookie(&state.web)).is_some_and(|c| {
        let seen = sha256_hex(c);
        seen.len() == o.browser.len() && openssl::memcmp::eq(seen.as_bytes(), o.browser.as_bytes())
    })
}

/// The `Set-Cookie` that removes the browser binding once the login is done.
pub fn clear_browser_cookie(web: &WebConfig) -> HeaderValue {
    web.cookie(browser_cookie(web), "", Some(0))
}

/// What openpoort gives a network provider to connect it: for SAML its SP metadata (whose
/// address is also its SP entityID) and AssertionConsumerService, for OpenID Connect the
/// redirect URI to register with the provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForProvider {
    pub sp_entity_id: String,
    pub sp_metadata_url: String,
    pub acs_url: String,
    pub redirect_uri: String,
}

impl ForProvider {
    pub fn of(web: &WebConfig) -> ForProvider {
        ForProvider {
            sp_entity_id: saml::sp_entity_id(web),
            sp_metadata_url: saml::sp_entity_id(web),
            acs_url: saml::acs_url(web),
            redirect_uri: oidc_login::redirect_uri(web),
        }
    }
}
