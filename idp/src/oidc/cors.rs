//! Cross-origin requests from browser-based public clients (a single-page app that redeems its
//! code with PKCE and calls userinfo itself).
//!
//! Discovery and the JWK Set are public documents: any origin may read them. The token,
//! userinfo and revocation endpoints answer a page only when its origin is one of the client's
//! own: the origin (`scheme://host[:port]`) of one of its registered redirect URIs, compared
//! exactly, and only for a public client (a confidential client's secret does not belong in a
//! browser). The origin sent is never reflected otherwise, credentials (cookies) are never
//! allowed, and every answer says `Vary: Origin` so that no cache hands one origin's answer to
//! another.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app_state::AppState;
use crate::grants::Client;
use metadata::client::ClientRegistration;

/// The origins a response may be read from, as the handler that knew the client set them.
#[derive(Clone, Debug)]
pub struct ClientOrigins(Vec<String>);

/// How long a browser may keep a preflight's answer, and how long the list of every client's
/// origins (which the preflight, without a client, checks) is kept before it is read again.
const PREFLIGHT_MAX_AGE: u64 = 600;
const KNOWN_ORIGINS_TTL: Duration = Duration::from_secs(60);
const KNOWN_ORIGINS_KEY: &str = "oidc:cors-origins";

/// The origins of a public client's redirect URIs; none for a confidential client.
pub fn origins_of(registration: &ClientRegistration) -> Vec<String> {
    if !registration.is_public() {
        return Vec::new();
    }
    let mut origins: Vec<String> = registration
        .redirect_uris
        .iter()
        .filter_map(|uri| url::Url::parse(uri).ok())
        .filter(|u| matches!(u.scheme(), "https" | "http"))
        .map(|u| u.origin().ascii_serialization())
        .filter(|o| o != "null")
        .collect();
    origins.sort();
    origins.dedup();
    origins
}

/// Lets `client`'s own origins read `response`.
pub fn allow_client(response: &mut Response, client: &Client) {
    response
        .extensions_mut()
        .insert(ClientOrigins(origins_of(&client.registration)));
}

/// Lets every public client's origin read `response`: for an answer that is about no client
/// (userinfo refusing an expired or unknown token), so that a browser app learns it must sign in
/// again instead of seeing a network error. It must carry nothing about anyone.
pub async fn allow_public_clients(response: &mut Response, state: &AppState) {
    match known_origins(state).await {
        Ok(list) => {
            response.extensions_mut().insert(ClientOrigins(list));
        }
        Err(e) => tracing::warn!(error = %e, "cannot read the clients' origins"),
    }
}

/// For the token, userinfo and revocation endpoints: the response is readable by the request's
/// origin only when the handler named it among the client's.
pub async fn for_clients(req: Request, next: Next) -> Response {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let mut response = next.run(req).await;
    let allowed = match (&origin, response.extensions().get::<ClientOrigins>()) {
        (Some(origin), Some(ClientOrigins(list))) => {
            list.iter().any(|o| o.as_bytes() == origin.as_bytes())
        }
        _ => false,
    };
    let h = response.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if let (true, Some(origin)) = (allowed, origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("WWW-Authenticate"),
        );
    }
    response
}

/// For discovery and the JWK Set: public, for every origin.
pub async fn public(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// The preflight of a cross-origin request with an Authorization header (userinfo with a bearer
/// token, a token request with Basic credentials). It carries no client, so it is allowed for
/// an origin of any public client; what the request then reads is decided by
/// [`for_clients`] with the client known.
pub async fn preflight(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let known = match headers.get(header::ORIGIN) {
        Some(origin) => match known_origins(&state).await {
            Ok(list) => list
                .iter()
                .any(|o| o.as_bytes() == origin.as_bytes())
                .then(|| origin.clone()),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the clients' origins for a preflight");
                None
            }
        },
        None => None,
    };
    let h = response.headers_mut();
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = known {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Authorization, Content-Type"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from(PREFLIGHT_MAX_AGE),
        );
    }
    response
}

/// Every public client's origins, kept in the state store for a minute so that preflights do
/// not each read every registration.
async fn known_origins(state: &AppState) -> Result<Vec<String>, super::OidcError> {
    if let Some(list) = crate::grants::get_json::<Vec<String>>(state, KNOWN_ORIGINS_KEY).await? {
        return Ok(list);
    }
    let mut list = Vec::new();
    for stored in state.directory.all_oidc_clients().await? {
        // A registration that no longer reads is skipped here; loading the client says why.
        if let Ok(registration) = serde_json::from_str::<ClientRegistration>(&stored.registration) {
            list.extend(origins_of(&registration));
        }
    }
    list.sort();
    list.dedup();
    crate::grants::put_json(state, KNOWN_ORIGINS_KEY, &list, KNOWN_ORIGINS_TTL).await?;
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration(auth: &str, uris: &[&str]) -> ClientRegistration {
        serde_json::from_value(serde_json::json!({
            "client_id": "spa-client",
            "party_id": "p",
            "name": "SPA",
            "redirect_uris": uris,
            "grant_types": ["authorization_code"],
            "scopes": ["openid"],
            "token_endpoint_auth_method": auth,
        }))
        .unwrap()
    }

    #[test]
    fn cors_origins_are_the_public_clients_redirect_uri_origins() {
        let spa = registration(
            "none",
            &[
                "https://app.example/cb",
                "https://app.example/other?x=1",
                "http://127.0.0.1:5173/cb",
                "nl.example.app:/cb",
            ],
        );
        assert_eq!(
            origins_of(&spa),
            ["http://127.0.0.1:5173", "https://app.example"]
        );
        // A confidential client's secret does not belong in a browser.
        let server = registration("client_secret_basic", &["https://app.example/cb"]);
        assert!(origins_of(&server).is_empty());
    }
}
