//! `GET /rest/v2/instellingen/{id}/staf`: the school's staff with their roles and groups.

use axum::extract::State;
use axum::response::Response;

use super::roster::Lists;
use super::{AtSchool, PartnerError};
use crate::app_state::AppState;

pub async fn staff(at: AtSchool, State(state): State<AppState>) -> Result<Response, PartnerError> {
    at.roster_call(&state, "instellingen/staf", Lists::Staff, |roster| {
        roster.staff_answer(&state, &at.partner)
    })
    .await
}
