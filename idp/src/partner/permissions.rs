//! `GET /rest/v2/instellingen/synchronizationpermission/toegekend/{date}` and
//! `…/ingetrokken/{date}`: schools that gave the party permission, or took it back, on or after
//! a calendar day (the Dutch day, from midnight in the Netherlands). A school that took its
//! permission back is listed under `ingetrokken` and is invisible on every other path at once.

use axum::Json;
use axum::extract::State;
use directory::model::netherlands_time;

use super::{Partner, PartnerError};
use crate::app_state::AppState;
use crate::http::extract::Path;

fn day_start(date: &str) -> Result<i64, PartnerError> {
    netherlands_time("datum", &format!("{date} 00:00")).map_err(|_| PartnerError::BadParameter {
        what: "datum (JJJJ-MM-DD) / date (YYYY-MM-DD)",
        value: date.to_owned(),
    })
}

pub async fn granted_since(
    partner: Partner,
    State(state): State<AppState>,
    Path(date): Path<String>,
) -> Result<Json<Vec<i64>>, PartnerError> {
    since(partner, state, &date, Change::Granted).await
}

pub async fn revoked_since(
    partner: Partner,
    State(state): State<AppState>,
    Path(date): Path<String>,
) -> Result<Json<Vec<i64>>, PartnerError> {
    since(partner, state, &date, Change::Revoked).await
}

enum Change {
    Granted,
    Revoked,
}

async fn since(
    partner: Partner,
    state: AppState,
    date: &str,
    change: Change,
) -> Result<Json<Vec<i64>>, PartnerError> {
    let since = day_start(date)?;
    let d = &state.directory;
    let (schools, call) = match change {
        Change::Granted => (
            d.consents_granted_since(&partner.party.id, since).await?,
            "synchronizationpermission/toegekend",
        ),
        Change::Revoked => (
            d.consents_revoked_since(&partner.party.id, since).await?,
            "synchronizationpermission/ingetrokken",
        ),
    };
    let ids = schools
        .iter()
        .map(|id| partner.number(&state, "school", id))
        .collect::<Result<Vec<_>, _>>()?;
    partner.audit(&state, call, None).await?;
    Ok(Json(ids))
}
