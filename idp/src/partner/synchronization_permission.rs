//! `GET /rest/v2/instellingen/{id}/uitgever/synchronizationpermission?request-permission=…`:
//! whether the school consents to the party (`{"hasSynchronizationPermission": bool}`), and,
//! with `request-permission=true` while it does not, a request that the school's
//! ICT-coördinator sees in Beheer (one waiting request per party and school).
//! `DELETE` on the same path: the party gives the permission up; the school's consent ends at
//! once, as withdrawn by the party, and the school is listed under `…/ingetrokken/{date}`.
//!
//! Unlike every other per-school path, `{id}` may name a school that does not consent: the
//! party found it with `nawsearch`, and asking is how consent begins.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use directory::DirectoryError;
use directory::permission_requests::RequestOutcome;
use directory::schools::School;
use serde_json::{Value, json};

use super::{Partner, PartnerError};
use crate::app_state::AppState;
use crate::http::extract::Path;

const CALL: &str = "uitgever/synchronizationpermission";

/// The school a party's number names, among every school of the register.
async fn any_school(partner: &Partner, state: &AppState, id: &str) -> Result<School, PartnerError> {
    let unknown = || PartnerError::NoSuchSchool(id.to_owned());
    let wanted: i64 = id.parse().map_err(|_| unknown())?;
    // Numbers are keyed hashes and cannot be turned back: the register is read and numbered.
    // Some thousands of locations take a few milliseconds, for a call made now and then.
    for school_id in state.directory.all_school_ids().await? {
        if partner.number(state, "school", &school_id)? == wanted {
            return state
                .directory
                .school_by_id(&school_id)
                .await?
                .ok_or_else(unknown);
        }
    }
    Err(unknown())
}

/// `request-permission=true|false`; absent is false.
fn wants_request(query: Option<&str>) -> Result<bool, PartnerError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.unwrap_or("")).map_err(|e| PartnerError::BadRequest {
            nl: format!("De zoekparameters zijn niet leesbaar: {e}."),
            en: format!("The query parameters cannot be read: {e}."),
        })?;
    let mut wanted = None;
    for (key, value) in pairs {
        let refused = |nl: String, en: String| Err(PartnerError::BadRequest { nl, en });
        match (key.as_str(), value.as_str(), wanted) {
            ("request-permission", _, Some(_)) => {
                return refused(
                    "De parameter request-permission staat er meer dan één keer.".into(),
                    "The parameter request-permission is given more than once.".into(),
                );
            }
            ("request-permission", "true", None) => wanted = Some(true),
            ("request-permission", "false", None) => wanted = Some(false),
            ("request-permission", other, None) => {
                return refused(
                    format!("request-permission moet true of false zijn, niet {other:?}."),
                    format!("request-permission must be true or false, not {other:?}."),
                );
            }
            (other, _, _) => {
                return refused(
                    format!(
                        "Onbekende parameter {other:?}; dit pad kent alleen request-permission (true of false)."
                    ),
                    format!(
                        "Unknown parameter {other:?}; this path knows only request-permission (true or false)."
                    ),
                );
            }
        }
    }
    Ok(wanted.unwrap_or(false))
}

pub async fn get(
    partner: Partner,
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, PartnerError> {
    let request = wants_request(query.as_deref())?;
    let school = any_school(&partner, &state, &id).await?;
    let d = &state.directory;
    let permitted = if request {
        match d
            .request_permission(&school.id, &partner.party.id, &partner.actor)
            .await
        {
            Ok(outcome) => outcome == RequestOutcome::Consented,
            Err(DirectoryError::Conflict { nl, en }) => {
                return Err(PartnerError::Conflict { nl, en });
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        d.open_consent(&school.id, &partner.party.id)
            .await?
            .is_some()
    };
    partner.audit(&state, CALL, Some(&school.id)).await?;
    Ok(Json(json!({"hasSynchronizationPermission": permitted})))
}

/// Answers with an empty body, which the published client reads as "done"; also when there
/// was nothing to give up, so that a retried call does not fail.
pub async fn relinquish(
    partner: Partner,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, PartnerError> {
    let school = any_school(&partner, &state, &id).await?;
    state
        .directory
        .relinquish_permission(&school.id, &partner.party.id, &partner.actor)
        .await?;
    partner
        .audit(
            &state,
            "uitgever/synchronizationpermission (DELETE)",
            Some(&school.id),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
