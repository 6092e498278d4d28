//! The admin REST API at `/api/v1`, described by `idp/api/openapi.json`.
//!
//! Callers are machine clients of openpoort itself: OAuth 2.0 clients whose registration holds
//! the `openpoort:admin` scope (client credentials only, see `metadata::scopes`), with a bearer
//! access token from openpoort's own token endpoint. Every change is audited with the client as
//! the actor (`api:<client_id>`). Errors are `application/problem+json` (RFC 9457) with the
//! Dutch `detail` first and `detail_en` next to it.
//!
//! Adding a resource: a file here with its handlers, their operations in [`endpoints`], and
//! their paths in the document; a test fails while the two disagree.

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

use std::collections::HashMap;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::Response;
use directory::parties::Party;
use directory::{Actor, DirectoryError};
use metadata::client::RegistrationError;
use metadata::scopes::ADMIN_SCOPE;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app_state::AppState;
pub use crate::http::body::{json_answer, read_body, require_media_type};
use crate::http::extract::Path;
pub use crate::http::json::{JsonBody, JsonShape, ok};
pub use crate::http::problem::{ApiError, Problem};
use crate::http::routes::{Endpoint, at, router_of};
use crate::operator_admin::Operating;
use crate::school_admin::Administered;
use crate::school_admin::staff::Mailing;

/// Where the API is mounted.
pub const PREFIX: &str = crate::http::extract::ADMIN_API_PREFIX;

/// Every operation of the API, by resource (one file each). The router and the document test
/// both read this list.
fn endpoints() -> Vec<Endpoint> {
    [
        // OpenID Connect clients of a party (`oidc_clients.rs`)
        at("/parties/{party_id}/oidc-clients")
            .get(oidc_clients::list)
            .post(oidc_clients::create),
        at("/oidc-clients/{client_id}")
            .get(oidc_clients::show)
            .put(oidc_clients::replace)
            .delete(oidc_clients::delete),
        at("/oidc-clients/{client_id}/secret").post(oidc_clients::rotate_secret),
        // SAML service providers of a party (`saml_sps.rs`)
        at("/parties/{party_id}/saml-sps")
            .get(saml_sps::list)
            .post(saml_sps::create),
        at("/saml-sps/{entity_id}")
            .get(saml_sps::show)
            .delete(saml_sps::delete),
        at("/saml-sps/{entity_id}/refresh").post(saml_sps::refresh),
        // EDEXML upload (`edexml.rs`)
        at("/schools/{school_id}/edexml").post(edexml::upload),
        // A school's own settings (`schools.rs`)
        at("/schools/{school_id}/ip-ranges")
            .get(schools::list_ranges)
            .post(schools::add_range),
        at("/schools/{school_id}/ip-ranges/{cidr}").delete(schools::remove_range),
        at("/schools/{school_id}/consents").get(schools::list_consents),
        at("/schools/{school_id}/consents/{party}")
            .put(schools::grant)
            .delete(schools::revoke),
        at("/schools/{school_id}/second-factor-policy")
            .get(schools::second_factor_policy)
            .put(schools::set_second_factor_policy),
        // A school's staff (`school_staff.rs`)
        at("/schools/{school_id}/staff")
            .get(school_staff::list)
            .post(school_staff::add),
        at("/schools/{school_id}/staff/{staff_id}").get(school_staff::one),
        at("/schools/{school_id}/staff/{staff_id}/email").put(school_staff::set_email),
        at("/schools/{school_id}/staff/{staff_id}/invitation").post(school_staff::invite),
        at("/schools/{school_id}/staff/{staff_id}/roles/{role}")
            .put(school_staff::grant_role)
            .delete(school_staff::revoke_role),
        at("/schools/{school_id}/staff/{staff_id}/groups/{group_id}")
            .put(school_staff::link_group)
            .delete(school_staff::unlink_group),
        at("/schools/{school_id}/staff/{staff_id}/deactivation").post(school_staff::deactivate),
        at("/schools/{school_id}/staff/{staff_id}/second-factor-reset")
            .post(school_staff::reset_second_factor),
        // A school's link to its LAS (`las_link.rs`)
        at("/schools/{school_id}/las-link")
            .get(las_link::read)
            .put(las_link::add),
        at("/schools/{school_id}/las-link/key").put(las_link::set_key),
        at("/schools/{school_id}/las-link/enabled").put(las_link::switch),
        at("/schools/{school_id}/las-link/pull").post(las_link::pull),
        // A school's privacy (`privacy.rs`)
        at("/schools/{school_id}/releases").get(privacy::releases),
        at("/schools/{school_id}/releases.csv").get(privacy::releases_csv),
        at("/schools/{school_id}/processing-agreement").get(privacy::agreement),
        at("/schools/{school_id}/processing-agreement/acceptances").post(privacy::accept),
        // A school's groups and pupils (`pupils.rs`)
        at("/schools/{school_id}/pupil-login")
            .get(pupils::login_methods)
            .put(pupils::set_login_methods),
        at("/schools/{school_id}/groups").get(pupils::groups),
        at("/schools/{school_id}/groups/{group_id}/pupils").get(pupils::group_pupils),
        at("/schools/{school_id}/groups/{group_id}/missing-pictures")
            .post(pupils::missing_pictures),
        at("/schools/{school_id}/groups/{group_id}/home-codes").post(pupils::group_codes),
        at("/schools/{school_id}/pupils/{pupil_id}/picture").put(pupils::set_picture),
        at("/schools/{school_id}/pupils/{pupil_id}/unlock").post(pupils::unlock),
        at("/schools/{school_id}/pupils/{pupil_id}/home-code")
            .post(pupils::issue_code)
            .delete(pupils::void_code),
        // Lesmateriaal (`material.rs`)
        at("/schools/{school_id}/licences").get(material::licences),
        at("/schools/{school_id}/portals").get(material::portals),
        at("/schools/{school_id}/shortcuts").get(material::shortcuts),
        at("/schools/{school_id}/shortcuts.zip").get(material::shortcuts_zip),
        // The register: the notice, boards, school locations (`register.rs`)
        at("/notice")
            .get(register::get_notice)
            .put(register::put_notice)
            .delete(register::delete_notice),
        at("/boards")
            .get(register::list_boards)
            .post(register::add_board),
        at("/boards/{bestuursnummer}").put(register::rename_board),
        at("/schools")
            .get(register::list_schools)
            .post(register::add_school),
        at("/schools/{school_id}")
            .get(register::get_school)
            .put(register::rename_school),
        at("/schools/{school_id}/first-ict-coordinator").post(register::first_ict),
        // Publishers and network providers, and their products (`parties.rs`)
        at("/parties").get(parties::list).post(parties::add),
        at("/parties/{party_id}").put(parties::rename),
        at("/parties/{party_id}/products")
            .get(parties::products)
            .post(parties::add_product),
        at("/parties/{party_id}/products/{product}").put(parties::change_product),
        // A party's client certificates (`party_certificates.rs`)
        at("/parties/{party_id}/certificates")
            .get(party_certificates::list)
            .post(party_certificates::add),
        at("/parties/{party_id}/certificates/{sha256}").delete(party_certificates::remove),
        // A publisher's LIKA URL prefixes (`party_urls.rs`)
        at("/parties/{party_id}/url-prefixes")
            .get(party_urls::list)
            .post(party_urls::add),
        at("/parties/{party_id}/url-prefixes/{prefix}").delete(party_urls::remove),
        // A network provider's upstream (`upstreams.rs`)
        at("/parties/{party_id}/upstream")
            .get(upstreams::show)
            .put(upstreams::connect)
            .delete(upstreams::disconnect),
        at("/parties/{party_id}/upstream/refresh").post(upstreams::refresh),
        // This document (`openapi.rs`)
        at("/openapi.json").get(openapi::document),
    ]
    .into_iter()
    .flatten()
    .collect()
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
            } => {
                let nl = format!("{field} {value:?} is ongeldig: {rule_nl}");
                let en = format!("{field} {value:?} is invalid: {rule_en}");
                ApiError::new(Problem::Validation, nl.clone(), en.clone())
                    .with_errors(vec![json!({"field": field, "detail": nl, "detail_en": en})])
            }
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
pub struct SchoolAdmin(pub Administered);

impl FromRequestParts<AppState> for SchoolAdmin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let admin = Admin::from_request_parts(parts, state).await?;
        let school = school(state, &path_param(parts, state, "school_id").await?).await?;
        Ok(SchoolAdmin(Administered::operator(school, admin.actor)))
    }
}

/// The path's `{name}`. A segment that is no UTF-8 is refused as by the API's `Path`.
async fn path_param(parts: &mut Parts, state: &AppState, name: &str) -> Result<String, Response> {
    let Path(mut params) =
        Path::<HashMap<String, String>>::from_request_parts(parts, state).await?;
    let missing = || ApiError::bug(format!("a route without {{{name}}}"));
    Ok(params.remove(name).ok_or_else(missing)?)
}

/// An admin API client, acting as the operator.
pub struct Operator(pub Operating);

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let admin = Admin::from_request_parts(parts, state).await?;
        Ok(Operator(Operating::trusted(admin.actor)))
    }
}

/// The party named by the path's `{party_id}` (its id or code), with the operator's right over
/// it, for an admin API client: the party resources take this instead of repeating the lookup.
pub struct PartyAdmin {
    pub op: Operating,
    pub party: Party,
}

impl FromRequestParts<AppState> for PartyAdmin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Operator(op) = Operator::from_request_parts(parts, state).await?;
        let party = party(state, &path_param(parts, state, "party_id").await?).await?;
        Ok(PartyAdmin { op, party })
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
async fn party(state: &AppState, reference: &str) -> Result<Party, ApiError> {
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

/// A list without its school or party beside it: `{key: [...]}`.
pub fn list_of(key: &str, items: impl IntoIterator<Item = Value>) -> Response {
    let items: Vec<Value> = items.into_iter().collect();
    ok(json!({key: items}))
}

/// A school's list, as the school resources answer one: `{"school": "12AB00", key: [...]}`.
pub fn school_list(
    a: &Administered,
    key: &str,
    items: impl IntoIterator<Item = Value>,
) -> Response {
    let items: Vec<Value> = items.into_iter().collect();
    ok(json!({"school": a.school.code(), key: items}))
}

/// A party's list, as the party resources answer one, with the party's id and code.
pub fn party_list(party: &Party, key: &str, items: impl IntoIterator<Item = Value>) -> Response {
    let items: Vec<Value> = items.into_iter().collect();
    ok(json!({"party_id": party.id, "party_code": party.code, key: items}))
}

/// How the resources that mail (an activation link, an invitation) reach the mailer.
pub fn mailing(state: &AppState) -> Mailing<'_> {
    Mailing {
        mailer: &state.mailer,
        public_url: &state.web.public_url,
    }
}

/// The body of a rename: `{"name": …}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Name {
    pub name: String,
}

impl JsonShape for Name {
    const SHAPE: &'static str = "{\"name\": …}";
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
