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
mod las_link;
mod material;
mod oidc_clients;
mod openapi;
mod parties;
mod party_certificates;
mod party_urls;
mod privacy;
mod pupils;
mod register;
mod saml_sps;
mod school_staff;
mod schools;
mod upstreams;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::Response;
use directory::{Actor, DirectoryError};
use metadata::client::RegistrationError;
use metadata::scopes::ADMIN_SCOPE;
use serde_json::{Value, json};

use crate::app_state::AppState;
pub use crate::http::body::{json_answer, json_body, read_body, require_media_type};
pub use crate::http::problem::{ApiError, Problem};

/// Where the API is mounted.
pub const PREFIX: &str = crate::http::extract::ADMIN_API_PREFIX;

/// Every resource's endpoints. The router and the document test both read this list.
const RESOURCES: &[fn() -> Vec<Endpoint>] = &[
    oidc_clients::endpoints,
    saml_sps::endpoints,
    edexml::endpoints,
    schools::endpoints,
    school_staff::endpoints,
    las_link::endpoints,
    privacy::endpoints,
    pupils::endpoints,
    material::endpoints,
    register::endpoints,
    parties::endpoints,
    party_certificates::endpoints,
    party_urls::endpoints,
    upstreams::endpoints,
    openapi::endpoints,
];

use crate::http::routes::router_of;
pub use crate::http::routes::{Endpoint, endpoint};

fn endpoints() -> Vec<Endpoint> {
    RESOURCES.iter().flat_map(|resource| resource()).collect()
}

/// The API's router, to be nested at [`PREFIX`].
pub fn routes() -> Router<AppState> {
    router_of(endpoints())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // So that a query or path axum's extractors refuse is answered as problem+json.
        .layer(axum::Extension(crate::http::extract::AdminApiRequest))
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
// Problems (RFC 9457): the body and its kinds live in `crate::http::problem`, below every
// front end, so that a request refused before it reaches the API is answered the same way.

impl ApiError {
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
            ClientError::AdminScopeReserved => {
                let (nl, en) = ClientError::ADMIN_SCOPE_RESERVED;
                ApiError::new(Problem::AdminScopeReserved, nl, en)
            }
            ClientError::Directory(e) => e.into(),
            other => ApiError::internal(other),
        }
    }
}

/// A school location by its id or its code (`12AB00`).
pub(super) async fn school(
    state: &AppState,
    reference: &str,
) -> Result<directory::schools::School, ApiError> {
    if let Some(s) = state.directory.school_by_id(reference).await? {
        return Ok(s);
    }
    if let Ok(code) = directory::model::SchoolCode::parse(reference)
        && let Some(s) = state.directory.school_by_code(&code).await?
    {
        return Ok(s);
    }
    Err(ApiError::new(
        Problem::NotFound,
        format!("school {reference:?} bestaat niet (geef het id of de code, zoals 12AB00)"),
        format!("school {reference:?} does not exist (give its id or its code, such as 12AB00)"),
    ))
}

/// The operator's right over the school named by the path's `{school_id}` (its id or code), for
/// an admin API client: the school resources take this instead of repeating the lookup.
pub struct SchoolAdmin(pub crate::school_admin::Administered);

impl FromRequestParts<AppState> for SchoolAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let admin = Admin::from_request_parts(parts, state).await?;
        let params = axum::extract::RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(ApiError::internal)?;
        let reference = params
            .iter()
            .find(|(name, _)| *name == "school_id")
            .map(|(_, value)| value.to_owned())
            .ok_or_else(|| ApiError::internal("a school route without {school_id}"))?;
        let school = school(state, &reference).await?;
        Ok(SchoolAdmin(crate::school_admin::Administered::operator(
            school,
            admin.actor,
        )))
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
        let Some(token) = crate::http::oauth::bearer(&parts.headers) else {
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
        let grant = match crate::grants::machine_access(state, token, ADMIN_SCOPE).await {
            Ok(crate::grants::MachineAccess::Granted(g)) => g,
            Ok(crate::grants::MachineAccess::Unknown) => return Err(invalid()),
            Ok(crate::grants::MachineAccess::LacksScope) => return Err(insufficient_scope()),
            Err(e) => return Err(ApiError::internal(e)),
        };
        Ok(Admin {
            actor: Actor::api_client(&grant.client_id),
            client_id: grant.client_id,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Request bodies and answers

/// `201 Created` with the new resource's address (`path` below [`PREFIX`]) in `Location`.
pub fn created(state: &AppState, path: &str, body: Value) -> Response {
    let mut response = json_answer(StatusCode::CREATED, body);
    if let Ok(location) = format!("{}{PREFIX}{path}", state.web.public_url).parse() {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
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
