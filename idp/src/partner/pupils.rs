//! `GET /rest/v2/instellingen/{id}/leerlingen`, and `POST` with a JSON list of the party's
//! pupil numbers to get only those. Numbers the party does not know are left out, as Basispoort
//! does.

use std::collections::HashSet;

use axum::extract::State;
use axum::response::Response;

use super::roster::Lists;
use super::{AtSchool, PartnerError, json_list};
use crate::app_state::AppState;

const CALL: &str = "instellingen/leerlingen";

pub async fn all(at: AtSchool, State(state): State<AppState>) -> Result<Response, PartnerError> {
    at.roster_call(&state, CALL, Lists::Pupils, |roster| {
        roster.pupils_answer(&state, &at.partner, |_, _| true)
    })
    .await
}

pub async fn by_number(
    at: AtSchool,
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Response, PartnerError> {
    let wanted: HashSet<i64> = json_list(&body, "leerling-ids / pupil ids")?;
    at.roster_call(&state, CALL, Lists::Pupils, |roster| {
        roster.pupils_answer(&state, &at.partner, |n, _| wanted.contains(&n))
    })
    .await
}
