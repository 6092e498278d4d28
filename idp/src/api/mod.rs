//! The admin REST API at `/api/v1`, described by `idp/api/openapi.json`.
//!
//! Callers are machine clients of openpoort itself: OAuth 2.0 clients whose registration holds
//! the `openpoort:admin` scope (client credentials only, see `metadata::scopes`), with a bearer
//! access token from openpoort's own token endpoint. Every change is audited with the client as
//! the actor (`api:<client_id>`). Errors are `application/problem+json` (RFC 9457) with the
//! Dutch `detail` first and `detail_en` next to it.
//!
//! Adding a resource: a file here with `pub fn endpoints() -> Vec<Endpoint>`, its line in
//! [`RESOURCES`], and its paths in the document; a test fails while the two disagree.

mod edexml;
mod oidc_clients;
mod openapi;
mod saml_sps;

use std::collections::BTreeMap;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::FromRequestParts;
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use directory::{Actor, DirectoryError};
use http_body_util::BodyExt;
use metadata::client::{GrantType, RegistrationError};
use metadata::scopes::ADMIN_SCOPE;
use serde_json::{Value, json};

use crate::app_state::AppState;
use crate::config::Config;

/// Where the API is mounted.
pub const PREFIX: &str = "/api/v1";

/// Every resource's endpoints. The router and the document test both read this list.
const RESOURCES: &[fn() -> Vec<Endpoint>] = &[
    oidc_clients::endpoints,
    saml_sps::endpoints,
    edexml::endpoints,
    openapi::endpoints,
];

/// What the API needs from the configuration.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// Registrations may use http on loopback hosts (see `ClientRegistration::validate`).
    pub development: bool,
    /// The import's size limit, for uploads too.
    pub edexml_max_bytes: usize,
}

impl ApiConfig {
    pub fn from_config(config: &Config) -> ApiConfig {
        ApiConfig {
            development: config.is_development(),
            edexml_max_bytes: config.import.max_bytes(),
        }
    }
}

/// One operation: a method on a path (relative to [`PREFIX`], in the document's `{param}`
/// syntax, which is also axum's).
pub struct Endpoint {
    pub method: Method,
    pub path: &'static str,
    route: MethodRouter<AppState>,
}

/// An endpoint whose route answers exactly `method`, so the two cannot disagree.
pub fn endpoint<H, T>(method: Method, path: &'static str, handler: H) -> Endpoint
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone()).expect("a standard HTTP method");
    Endpoint {
        method,
        path,
        route: on(filter, handler),
    }
}

fn endpoints() -> Vec<Endpoint> {
    RESOURCES.iter().flat_map(|resource| resource()).collect()
}

/// The API's router, to be nested at [`PREFIX`].
pub fn routes() -> Router<AppState> {
    let mut by_path: BTreeMap<&'static str, MethodRouter<AppState>> = BTreeMap::new();
    for e in endpoints() {
        tracing::trace!(method = %e.method, path = e.path, "admin API route");
        let route = match by_path.remove(e.path) {
            Some(existing) => existing.merge(e.route),
            None => e.route,
        };
        by_path.insert(e.path, route);
    }
    let mut router = Router::new();
    for (path, route) in by_path {
        router = router.route(path, route);
    }
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

async fn not_found() -> ApiError {
    ApiError::new(
        Problem::NotFound,
        "Deze API-route bestaat niet; zie /api/v1/openapi.json.",
        "This API route does not exist; see /api/v1/openapi.json.",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        Problem::MethodNotAllowed,
        "Deze methode kan niet op deze route; zie /api/v1/openapi.json.",
        "This method is not available on this route; see /api/v1/openapi.json.",
    )
}

// ---------------------------------------------------------------------------------------------
// Problems (RFC 9457)

/// Every kind of problem the API answers with; its `type` is `urn:openpoort:problem:<slug>`.
/// The document lists exactly these (a test checks it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    Unauthorized,
    InsufficientScope,
    AdminScopeReserved,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    BadRequest,
    Validation,
    Edexml,
    WrongSchool,
    Internal,
}

impl Problem {
    #[cfg(test)]
    pub const ALL: [Problem; 13] = [
        Problem::Unauthorized,
        Problem::InsufficientScope,
        Problem::AdminScopeReserved,
        Problem::NotFound,
        Problem::MethodNotAllowed,
        Problem::Conflict,
        Problem::PayloadTooLarge,
        Problem::UnsupportedMediaType,
        Problem::BadRequest,
        Problem::Validation,
        Problem::Edexml,
        Problem::WrongSchool,
        Problem::Internal,
    ];

    fn slug(self) -> &'static str {
        match self {
            Problem::Unauthorized => "unauthorized",
            Problem::InsufficientScope => "insufficient-scope",
            Problem::AdminScopeReserved => "admin-scope-reserved",
            Problem::NotFound => "not-found",
            Problem::MethodNotAllowed => "method-not-allowed",
            Problem::Conflict => "conflict",
            Problem::PayloadTooLarge => "payload-too-large",
            Problem::UnsupportedMediaType => "unsupported-media-type",
            Problem::BadRequest => "bad-request",
            Problem::Validation => "validation",
            Problem::Edexml => "edexml",
            Problem::WrongSchool => "wrong-school",
            Problem::Internal => "internal",
        }
    }

    pub fn type_uri(self) -> String {
        format!("urn:openpoort:problem:{}", self.slug())
    }

    fn status(self) -> StatusCode {
        match self {
            Problem::Unauthorized => StatusCode::UNAUTHORIZED,
            Problem::InsufficientScope | Problem::AdminScopeReserved => StatusCode::FORBIDDEN,
            Problem::NotFound => StatusCode::NOT_FOUND,
            Problem::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Problem::Conflict => StatusCode::CONFLICT,
            Problem::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Problem::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Problem::BadRequest => StatusCode::BAD_REQUEST,
            Problem::Validation | Problem::Edexml | Problem::WrongSchool => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Problem::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Problem::Unauthorized => "Niet aangemeld / Not authenticated",
            Problem::InsufficientScope => "Geen beheerrechten / Insufficient scope",
            Problem::AdminScopeReserved => {
                "Beheerscope alleen via de beheerder / Admin scope reserved to the operator"
            }
            Problem::NotFound => "Niet gevonden / Not found",
            Problem::MethodNotAllowed => "Methode niet toegestaan / Method not allowed",
            Problem::Conflict => "Conflict / Conflict",
            Problem::PayloadTooLarge => "Te groot / Payload too large",
            Problem::UnsupportedMediaType => "Verkeerd inhoudstype / Unsupported media type",
            Problem::BadRequest => "Ongeldig verzoek / Bad request",
            Problem::Validation => "Ongeldige gegevens / Validation failed",
            Problem::Edexml => "EDEXML-bestand afgekeurd / EDEXML file rejected",
            Problem::WrongSchool => "Bestand van een andere school / File for another school",
            Problem::Internal => "Interne fout / Internal error",
        }
    }
}

/// An answer of the `application/problem+json` kind.
#[derive(Debug)]
pub struct ApiError {
    problem: Problem,
    detail_nl: String,
    detail_en: String,
    errors: Option<Vec<Value>>,
    challenge: Option<String>,
}

impl ApiError {
    pub fn new(problem: Problem, nl: impl Into<String>, en: impl Into<String>) -> ApiError {
        ApiError {
            problem,
            detail_nl: nl.into(),
            detail_en: en.into(),
            errors: None,
            challenge: None,
        }
    }

    /// The itemised problems of a validation failure.
    pub fn with_errors(mut self, errors: Vec<Value>) -> ApiError {
        self.errors = Some(errors);
        self
    }

    /// Logs the cause and answers without it: internals are not the caller's business.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "admin API request failed");
        ApiError::new(
            Problem::Internal,
            "Er ging iets mis in openpoort; probeer het later opnieuw of meld het de beheerder.",
            "Something went wrong in openpoort; try again later or tell the operator.",
        )
    }

    fn challenge(mut self, value: String) -> ApiError {
        self.challenge = Some(value);
        self
    }

    /// A registration that breaks a rule, with the field as an RFC 6901 pointer too.
    pub fn registration(e: &RegistrationError) -> ApiError {
        ApiError::new(
            Problem::Validation,
            format!("De registratie is afgekeurd: {}", e.message_nl()),
            format!("The registration was refused: {e}"),
        )
        .with_errors(vec![json!({
            "field": e.field(),
            "pointer": pointer(e.field()),
            "detail": e.message_nl(),
            "detail_en": e.to_string(),
        })])
    }
}

/// `redirect_uris[1]` → `/redirect_uris/1`, `jwks.keys[0].kid` → `/jwks/keys/0/kid`.
fn pointer(field: &str) -> String {
    let mut out = String::new();
    for part in field.split('.') {
        let (name, indices) = part.split_once('[').unwrap_or((part, ""));
        out.push('/');
        out.push_str(&name.replace('~', "~0").replace('/', "~1"));
        for index in indices.split('[').filter(|i| !i.is_empty()) {
            out.push('/');
            out.push_str(index.trim_end_matches(']'));
        }
    }
    out
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.problem.status();
        let mut body = json!({
            "type": self.problem.type_uri(),
            "title": self.problem.title(),
            "status": status.as_u16(),
            "detail": self.detail_nl,
            "detail_en": self.detail_en,
        });
        if let Some(errors) = self.errors {
            body["errors"] = Value::Array(errors);
        }
        let mut response = (status, body.to_string()).into_response();
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(c) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            h.insert(header::WWW_AUTHENTICATE, c);
        }
        // A body refused for its size is left unread, so the connection cannot carry another
        // request; saying so keeps clients from sending the next one on it.
        if self.problem == Problem::PayloadTooLarge {
            h.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

impl From<DirectoryError> for ApiError {
    fn from(e: DirectoryError) -> ApiError {
        match e {
            DirectoryError::NotFound { what, key } => ApiError::new(
                Problem::NotFound,
                format!("{what} {key:?} bestaat niet"),
                format!("{what} {key:?} does not exist"),
            ),
            DirectoryError::Duplicate { field, value } => ApiError::new(
                Problem::Conflict,
                format!("{field} {value:?} is al in gebruik; kies een andere waarde"),
                format!("{field} {value:?} is already in use; choose another value"),
            ),
            DirectoryError::Conflict { nl, en } => ApiError::new(Problem::Conflict, nl, en),
            DirectoryError::Invalid {
                field,
                value,
                rule_nl,
                rule_en,
            } => ApiError::new(
                Problem::Validation,
                format!("{field} {value:?} is ongeldig: {rule_nl}"),
                format!("{field} {value:?} is invalid: {rule_en}"),
            )
            .with_errors(vec![json!({
                "field": field,
                "detail": format!("{field} {value:?} is ongeldig: {rule_nl}"),
                "detail_en": format!("{field} {value:?} is invalid: {rule_en}"),
            })]),
            other => ApiError::internal(other),
        }
    }
}

impl From<crate::clients::ClientError> for ApiError {
    fn from(e: crate::clients::ClientError) -> ApiError {
        use crate::clients::ClientError;
        match e {
            ClientError::Invalid(e) => ApiError::registration(&e),
            ClientError::Directory(e) => e.into(),
            other => ApiError::internal(other),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Authentication

/// The caller: a client holding a live access token with the admin scope, whose registration
/// still grants that scope (a client that lost it, or was deleted, is refused at once).
pub struct Admin {
    pub client_id: String,
    pub actor: Actor,
}

const REALM: &str = "Bearer realm=\"openpoort\"";

fn unauthorized(nl: &str, en: &str, error: Option<&str>) -> ApiError {
    let challenge = match error {
        // RFC 6750 section 3.1: no error code when the request carried no credentials.
        None => REALM.to_owned(),
        Some(code) => format!("{REALM}, error=\"{code}\", error_description=\"{en}\""),
    };
    ApiError::new(Problem::Unauthorized, nl, en).challenge(challenge)
}

fn insufficient_scope() -> ApiError {
    ApiError::new(
        Problem::InsufficientScope,
        format!(
            "Dit toegangstoken geeft geen beheerrechten: vraag een token met scope {ADMIN_SCOPE} aan voor een client die deze scope heeft."
        ),
        format!(
            "This access token grants no admin access: request a token with scope {ADMIN_SCOPE} for a client registered with that scope."
        ),
    )
    .challenge(format!(
        "{REALM}, error=\"insufficient_scope\", scope=\"{ADMIN_SCOPE}\""
    ))
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Admin, ApiError> {
        let Some(token) = crate::oidc::bearer(&parts.headers) else {
            return Err(unauthorized(
                "Aanmelden is nodig: stuur een toegangstoken als 'Authorization: Bearer …'.",
                "Authentication required: send an access token as 'Authorization: Bearer ...'.",
                None,
            ));
        };
        let invalid = || {
            unauthorized(
                "Het toegangstoken is onbekend, verlopen of ingetrokken; vraag een nieuw token aan.",
                "The access token is unknown, expired or revoked; request a new one.",
                Some("invalid_token"),
            )
        };
        let grant = match crate::oidc::live_grant(state, token).await {
            Ok(Some(g)) => g,
            Ok(None) => return Err(invalid()),
            Err(e) => return Err(ApiError::internal(e)),
        };
        // A token from a user's login (it has a family) never carries the admin scope; one
        // that claims to is refused like any other token without it.
        if grant.family.is_some() || !grant.scopes.iter().any(|s| s == ADMIN_SCOPE) {
            return Err(insufficient_scope());
        }
        let client = match crate::oidc::load_client(state, &grant.client_id).await {
            Ok(Some(c)) => c,
            Ok(None) => return Err(invalid()),
            Err(e) => return Err(ApiError::internal(e)),
        };
        let registration = &client.registration;
        if !registration.scopes.iter().any(|s| s == ADMIN_SCOPE)
            || registration.grant_types != [GrantType::ClientCredentials]
        {
            return Err(insufficient_scope());
        }
        Ok(Admin {
            actor: Actor::api_client(&grant.client_id),
            client_id: grant.client_id,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Request bodies and answers

/// Requires one of `accepted` media types (parameters such as `charset` allowed).
pub fn require_media_type(headers: &HeaderMap, accepted: &[&str]) -> Result<(), ApiError> {
    let given = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    match given {
        Some(t) if accepted.contains(&t.as_str()) => Ok(()),
        _ => Err(ApiError::new(
            Problem::UnsupportedMediaType,
            format!("Stuur de body met Content-Type {}.", accepted.join(" of ")),
            format!("Send the body with Content-Type {}.", accepted.join(" or ")),
        )),
    }
}

fn too_large(limit: usize) -> ApiError {
    let size = if limit >= 1024 * 1024 {
        format!("{} MiB", limit / (1024 * 1024))
    } else {
        format!("{} KiB", limit.div_ceil(1024))
    };
    ApiError::new(
        Problem::PayloadTooLarge,
        format!("De body is groter dan {size}, de grens voor deze route."),
        format!("The body is larger than {size}, the limit of this route."),
    )
}

/// The whole body, at most `limit` bytes: a larger one is refused by its Content-Length before
/// a byte is read, or as soon as it passes the limit while streaming.
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large(limit)),
        Err(e) if crate::extract::body_timed_out(e.as_ref()) => Err(ApiError::new(
            Problem::BadRequest,
            "De body kwam niet op tijd binnen (server.body_timeout_seconds). Verstuur het verzoek opnieuw.",
            "The body did not arrive in time (server.body_timeout_seconds). Send the request again.",
        )),
        Err(e) => Err(ApiError::new(
            Problem::BadRequest,
            format!("De body kon niet gelezen worden: {e}"),
            format!("The body could not be read: {e}"),
        )),
    }
}

/// A JSON answer; never cached, since answers may carry a secret.
/// `201 Created` with the new resource's address (`path` below [`PREFIX`]) in `Location`.
pub fn created(state: &AppState, path: &str, body: Value) -> Response {
    let mut response = json_answer(StatusCode::CREATED, body);
    if let Ok(location) = format!("{}{PREFIX}{path}", state.web.public_url).parse() {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

pub fn json_answer(status: StatusCode, body: Value) -> Response {
    let mut r = (status, axum::Json(body)).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A party by its id or, for people typing URLs, its code.
pub(super) async fn party(
    state: &AppState,
    reference: &str,
) -> Result<directory::parties::Party, ApiError> {
    if let Some(p) = state.directory.party_by_id(reference).await? {
        return Ok(p);
    }
    state
        .directory
        .party_by_code(reference)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                Problem::NotFound,
                format!("partij {reference:?} bestaat niet (geef het id of de code van de partij)"),
                format!("party {reference:?} does not exist (give the party's id or code)"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_become_json_pointers() {
        assert_eq!(pointer("client_id"), "/client_id");
        assert_eq!(pointer("redirect_uris[1]"), "/redirect_uris/1");
        assert_eq!(pointer("jwks.keys[0].kid"), "/jwks/keys/0/kid");
    }

    #[test]
    fn every_problem_has_its_own_type() {
        let mut types: Vec<String> = Problem::ALL.iter().map(|p| p.type_uri()).collect();
        types.sort();
        types.dedup();
        assert_eq!(types.len(), Problem::ALL.len());
    }
}
