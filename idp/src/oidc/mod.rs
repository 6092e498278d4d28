//! The OpenID Connect provider: one file per endpoint. What the endpoints hand out (codes,
//! grants, token families) is kept by `crate::grants`.

mod authorize;
mod client_auth;
mod cors;
mod discovery;
mod form_post;
mod introspect;
mod jwks;
mod logout;
mod revoke;
mod token;
mod userinfo;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use broker::Release;

use crate::app_state::AppState;
use crate::http::random_token;

pub use crate::http::oauth::{bearer, json_no_store, oauth_error};

/// A request the user's browser brought that no client may send: shown, never redirected.
fn bad_request(nl: &str, en: &str) -> Response {
    crate::http::message(
        StatusCode::BAD_REQUEST,
        "Ongeldig verzoek",
        crate::http::Text::new(nl, en),
        None,
    )
}

pub fn routes() -> Router<AppState> {
    let public = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::discovery),
        )
        .route("/oidc/jwks", get(jwks::jwks))
        .layer(axum::middleware::from_fn(cors::public));
    // Introspection is for resource servers, not browsers: no CORS there.
    let for_clients = Router::new()
        .route("/oidc/token", post(token::token).options(cors::preflight))
        .route(
            "/oidc/userinfo",
            get(userinfo::userinfo)
                .post(userinfo::userinfo)
                .options(cors::preflight),
        )
        .route(
            "/oidc/revoke",
            post(revoke::revoke).options(cors::preflight),
        )
        .layer(axum::middleware::from_fn(cors::for_clients));
    Router::new()
        .merge(public)
        .merge(for_clients)
        .route("/oidc/authorize", get(authorize::authorize))
        .route("/oidc/introspect", post(introspect::introspect))
        .route(
            "/oidc/logout",
            get(logout::end_session).post(logout::end_session_form),
        )
        .route("/oidc/initiate/{client}", get(authorize::initiate))
}

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("register: {0}")]
    Directory(#[from] directory::DirectoryError),
    #[error("state store: {0}")]
    State(#[from] crate::state::StateError),
    #[error("stored grant: {0}")]
    Json(#[from] serde_json::Error),
    #[error("signing: {0}")]
    Keys(#[from] certs::CertsError),
    #[error("token: {0}")]
    Jose(#[from] metadata::jose::JoseError),
    #[error("release decision: {0}")]
    Broker(#[from] broker::BrokerError),
    #[error("{0}")]
    Grant(#[from] crate::grants::GrantError),
    #[error("{0}")]
    Logout(#[from] crate::flow::logout::LogoutError),
}

/// The released claims as OIDC claims (single values as strings, multiple as arrays).
pub fn claims_of(release: &Release) -> Map<String, Value> {
    let mut claims = Map::new();
    for (attribute, value) in &release.claims {
        let v = match value {
            broker::Value::One(s) => Value::String(s.clone()),
            broker::Value::Many(list) => json!(list),
        };
        claims.insert(attribute.oidc_claim().to_owned(), v);
    }
    claims
}

/// Catalogue attributes for the requested scopes.
pub fn requested_attributes(scopes: &[String]) -> Vec<broker::Attribute> {
    let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
    metadata::scopes::attributes_for_scopes(&scopes)
        .into_iter()
        .filter_map(|name| broker::Attribute::parse(name).ok())
        .collect()
}

pub fn new_token() -> String {
    random_token()
}

pub fn server_error(e: impl std::error::Error + 'static) -> Response {
    if crate::http::error::is_outage(&e) {
        tracing::warn!(error = %e, "a store openpoort needs does not answer");
        // RFC 6749 names temporarily_unavailable for the authorization endpoint; the same code
        // with 503 and Retry-After tells a client at the others to try again, not to give up.
        let mut response = oauth_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "the service is temporarily unavailable",
        );
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(crate::http::page::OUTAGE_RETRY_AFTER_SECONDS),
        );
        return response;
    }
    tracing::error!(error = %e, "OpenID Connect request failed");
    oauth_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        "internal error",
    )
}
