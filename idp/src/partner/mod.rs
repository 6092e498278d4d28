//! The partner API: Basispoort's "Instellingen V2" paths under `/rest/v2/`, served on the
//! partner listener (`partner.listen`, mutual TLS) so that a publisher's existing software moves
//! by changing a host name.
//!
//! The caller is a party (publisher or network provider), known from the client certificate it
//! registered, or from a client-credentials bearer token of its client with the
//! `openpoort:partner` scope. It sees only schools that consent to it now; every other school
//! answers exactly as one that does not exist. Identifiers are pairwise numbers (the broker's
//! `partner_number`, per party sector), so two parties cannot join their lists on them.
//! Every call is audited with the party as the actor.
//!
//! One file per endpoint; this file holds what they share: the caller, the school in the path,
//! errors and the JSON conventions (`metaResult`, RFC 3339 in UTC).

mod details;
mod groups;
mod institutions;
mod lika;
mod nawsearch;
mod openapi;
mod overview;
mod permissions;
mod pupils;
mod pupils_eckid;
mod reference;
mod roster;
mod staff;
mod synchronization_permission;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use directory::audit::AuditEvent;
use directory::parties::Party;
use directory::partner::ConsentedSchool;
use directory::{Actor, DirectoryError};
use metadata::scopes::PARTNER_SCOPE;
use serde_json::{Value, json};

use crate::accept::PeerCertificate;
use crate::app_state::AppState;
use crate::clock::unix_now;
use crate::http::extract::Path;
use crate::http::problem::{ApiError, Problem};
use crate::http::routes::{Endpoint, at, router_of};

/// The `/rest/v2` tree: the router and the OpenAPI document's test both read this list.
pub fn endpoints() -> Vec<Endpoint> {
    [
        at("/rest/v2/instellingen").get(institutions::list),
        at("/rest/v2/instellingen/{id}").get(overview::overview),
        at("/rest/v2/instellingen/{id}/groepen").get(groups::groups),
        at("/rest/v2/instellingen/{id}/leerlingen")
            .get(pupils::all)
            .post(pupils::by_number),
        at("/rest/v2/instellingen/{id}/leerlingen_eckid").post(pupils_eckid::by_eck_id),
        at("/rest/v2/instellingen/{id}/staf").get(staff::staff),
        at("/rest/v2/instellingen/{id}/details").get(details::details),
        at("/rest/v2/instellingen/{id}/ref").get(reference::reference),
        at("/rest/v2/instellingen/synchronizationpermission/toegekend/{date}")
            .get(permissions::granted_since),
        at("/rest/v2/instellingen/synchronizationpermission/ingetrokken/{date}")
            .get(permissions::revoked_since),
        at("/rest/v2/instellingen/{id}/uitgever/synchronizationpermission")
            .get(synchronization_permission::get)
            .delete(synchronization_permission::relinquish),
        at("/rest/v2/nawsearch").get(nawsearch::search),
        at("/rest/v2/openapi.json").get(openapi::document),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The partner listener's routes.
pub fn router(state: AppState) -> Router {
    router_of(endpoints())
        // The hosted licence API (`/hosted-lika/…`), a publisher's own tree.
        .merge(lika::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

async fn not_found() -> PartnerError {
    PartnerError::NoSuchPath
}

async fn method_not_allowed() -> PartnerError {
    PartnerError::NoSuchMethod
}

#[derive(Debug, thiserror::Error)]
pub enum PartnerError {
    #[error("no client certificate and no bearer token")]
    Unauthenticated,
    #[error("client certificate {sha256} is not registered")]
    UnknownCertificate { sha256: String },
    #[error("bearer token unknown, expired or without the partner scope")]
    InvalidToken,
    #[error("school {0} not visible to this party")]
    NoSuchSchool(String),
    #[error("no such path")]
    NoSuchPath,
    #[error("method not allowed on this path")]
    NoSuchMethod,
    #[error("{en}")]
    BadRequest { nl: String, en: String },
    #[error("{en}")]
    Conflict { nl: String, en: String },
    #[error("attribute {0} is not released to this party")]
    NotReleased(&'static str),
    #[error("bad {what}: {value}")]
    BadParameter { what: &'static str, value: String },
    #[error("register: {0}")]
    Directory(#[from] DirectoryError),
    /// A failure on our side; the cause is kept as the source, so that an outage of the
    /// session store under a token check still reads as one (503, not 500).
    #[error("{0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<broker::BrokerError> for PartnerError {
    fn from(e: broker::BrokerError) -> PartnerError {
        PartnerError::Internal(e.into())
    }
}

impl From<crate::grants::GrantError> for PartnerError {
    fn from(e: crate::grants::GrantError) -> PartnerError {
        PartnerError::Internal(e.into())
    }
}

const REALM: &str = "Bearer realm=\"openpoort partner\"";

/// So that an extractor refusing with a `Response` can pass a refusal on with `?`.
impl From<PartnerError> for Response {
    fn from(e: PartnerError) -> Response {
        e.into_response()
    }
}

impl IntoResponse for PartnerError {
    fn into_response(self) -> Response {
        let error = match self {
            PartnerError::Unauthenticated => ApiError::new(
                Problem::Unauthorized,
                "Aanmelden is nodig: gebruik het clientcertificaat dat voor je organisatie is geregistreerd, of stuur een toegangstoken als 'Authorization: Bearer …' (scope openpoort:partner).",
                "Authentication required: use the client certificate registered for your organisation, or send an access token as 'Authorization: Bearer ...' (scope openpoort:partner).",
            )
            .challenge(REALM.to_owned()),
            PartnerError::UnknownCertificate { sha256 } => ApiError::new(
                Problem::Unauthorized,
                format!("Dit clientcertificaat (SHA-256 {sha256}) is bij openpoort niet geregistreerd, of het is verlopen. Vraag de beheerder van openpoort het te registreren voor je organisatie."),
                format!("This client certificate (SHA-256 {sha256}) is not registered with openpoort, or it has expired. Ask openpoort's operator to register it for your organisation."),
            ),
            PartnerError::InvalidToken => ApiError::new(
                Problem::Unauthorized,
                "Het toegangstoken is onbekend, verlopen of ingetrokken, of het geeft geen toegang tot de partner-API (scope openpoort:partner); vraag een nieuw token aan.",
                "The access token is unknown, expired or revoked, or grants no partner API access (scope openpoort:partner); request a new one.",
            )
            .challenge(format!("{REALM}, error=\"invalid_token\"")),
            PartnerError::NoSuchSchool(id) => ApiError::new(
                Problem::NotFound,
                format!("Instelling {id} bestaat niet, of heeft je organisatie geen toestemming gegeven."),
                format!("Institution {id} does not exist, or has not given your organisation permission."),
            ),
            PartnerError::NoSuchPath => ApiError::new(
                Problem::NotFound,
                "Dit pad bestaat niet in de partner-API; zie /rest/v2/openapi.json.",
                "This path does not exist in the partner API; see /rest/v2/openapi.json.",
            ),
            PartnerError::NoSuchMethod => ApiError::new(
                Problem::MethodNotAllowed,
                "Deze methode kan niet op dit pad van de partner-API; zie /rest/v2/openapi.json.",
                "This method is not available on this path of the partner API; see /rest/v2/openapi.json.",
            ),
            PartnerError::BadRequest { nl, en } => ApiError::new(Problem::BadRequest, nl, en),
            PartnerError::Conflict { nl, en } => ApiError::new(Problem::Conflict, nl, en),
            PartnerError::NotReleased(attribute) => ApiError::new(
                Problem::InsufficientScope,
                format!("De school geeft je organisatie het gegeven {attribute} niet; zoeken op dat gegeven kan daarom niet. Vraag de beheerder van openpoort welke gegevens je ontvangt."),
                format!("Your organisation does not receive {attribute}, so searching by it is not possible. Ask openpoort's operator which data you receive."),
            ),
            PartnerError::BadParameter { what, value } => ApiError::new(
                Problem::BadRequest,
                format!("Ongeldige {what}: {value:?}."),
                format!("Invalid {what}: {value:?}."),
            ),
            e @ (PartnerError::Directory(_) | PartnerError::Internal(_)) => ApiError::internal(e),
        };
        error.into_response()
    }
}

/// The calling party.
pub struct Partner {
    pub party: Party,
    pub actor: Actor,
}

impl Partner {
    /// The sector the party's numbers are made for: its default pairwise sector.
    fn sector(&self) -> String {
        metadata::pairwise_sector(&self.party.id, None)
    }

    /// The party's number for a school, group or person.
    pub fn number(&self, state: &AppState, kind: &str, id: &str) -> Result<i64, PartnerError> {
        Ok(state.broker.partner_number(&self.sector(), kind, id)?)
    }

    /// The school a path's `{id}` names, if it consents to this party now.
    pub async fn school(
        &self,
        state: &AppState,
        id: &str,
    ) -> Result<ConsentedSchool, PartnerError> {
        let consented = state.directory.consented_schools(&self.party.id).await?;
        self.numbered(state, id, consented)
    }

    /// As [`Partner::school`], and also a school that merged into another after consenting
    /// to this party: only its details, which say where it went, are readable then.
    pub async fn school_or_merged(
        &self,
        state: &AppState,
        id: &str,
    ) -> Result<ConsentedSchool, PartnerError> {
        match self.school(state, id).await {
            Err(PartnerError::NoSuchSchool(_)) => {}
            other => return other,
        }
        let d = &state.directory;
        let merged = d.merged_schools_once_consented(&self.party.id).await?;
        self.numbered(state, id, merged)
    }

    /// The school of `schools` that the party's number `id` names.
    fn numbered(
        &self,
        state: &AppState,
        id: &str,
        schools: Vec<ConsentedSchool>,
    ) -> Result<ConsentedSchool, PartnerError> {
        let unknown = || PartnerError::NoSuchSchool(id.to_owned());
        let wanted: i64 = id.parse().map_err(|_| unknown())?;
        let sector = self.sector();
        for consented in schools {
            if state
                .broker
                .partner_number(&sector, "school", &consented.school.id)?
                == wanted
            {
                return Ok(consented);
            }
        }
        Err(unknown())
    }

    /// Writes the call into the audit log, with the school it concerned.
    pub async fn audit(
        &self,
        state: &AppState,
        what: &str,
        school_id: Option<&str>,
    ) -> Result<(), PartnerError> {
        state
            .directory
            .audit(AuditEvent {
                actor: &self.actor,
                action: "partner.read",
                school_id,
                party_id: Some(&self.party.id),
                subject: None,
                details: json!({"call": what}),
            })
            .await?;
        Ok(())
    }
}

impl FromRequestParts<AppState> for Partner {
    type Rejection = PartnerError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Partner, PartnerError> {
        if let Some(certificate) = parts.extensions.get::<PeerCertificate>() {
            let party = state
                .directory
                .party_by_certificate(&certificate.sha256, unix_now())
                .await?
                .ok_or_else(|| PartnerError::UnknownCertificate {
                    sha256: certificate.sha256.clone(),
                })?;
            let actor = Actor(format!("party:{}", party.code));
            return Ok(Partner { party, actor });
        }
        let Some(token) = crate::http::oauth::bearer(&parts.headers) else {
            return Err(PartnerError::Unauthenticated);
        };
        // Both refusals look alike to the caller: a partner token either opens this API or not.
        let crate::grants::MachineAccess::Granted(grant) =
            crate::grants::machine_access(state, token, PARTNER_SCOPE).await?
        else {
            return Err(PartnerError::InvalidToken);
        };
        let party = state
            .directory
            .party_by_id(&grant.party_id)
            .await?
            .ok_or(PartnerError::InvalidToken)?;
        let actor = Actor(format!("party:{}:client:{}", party.code, grant.client_id));
        Ok(Partner { party, actor })
    }
}

/// The calling party and the school its path's `{id}` names, which consents to it now: the
/// per-school paths take this instead of repeating the lookup.
pub struct AtSchool {
    pub partner: Partner,
    pub consented: ConsentedSchool,
}

impl FromRequestParts<AppState> for AtSchool {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let partner = Partner::from_request_parts(parts, state).await?;
        let Path(id) = Path::<String>::from_request_parts(parts, state).await?;
        let consented = partner.school(state, &id).await?;
        Ok(AtSchool { partner, consented })
    }
}

/// A request body that is a JSON list (of numbers or of strings), at most 64 KiB worth.
pub fn json_list<T: serde::de::DeserializeOwned + std::hash::Hash + Eq>(
    body: &[u8],
    what: &'static str,
) -> Result<std::collections::HashSet<T>, PartnerError> {
    const LIMIT: usize = 64 * 1024;
    if body.len() > LIMIT {
        return Err(PartnerError::BadParameter {
            what,
            value: format!("{} bytes (at most {LIMIT})", body.len()),
        });
    }
    serde_json::from_slice::<Vec<T>>(body)
        .map(|v| v.into_iter().collect())
        .map_err(|e| PartnerError::BadParameter {
            what,
            value: format!("not a JSON list: {e}"),
        })
}

/// Basispoort's `metaResult`: when the data last changed and when this answer was made.
pub fn meta_result(mutated_at: i64) -> Value {
    json!({
        "mutationTimestamp": directory::model::utc_date_time(mutated_at),
        "generationTimestamp": directory::model::utc_date_time(unix_now()),
    })
}
