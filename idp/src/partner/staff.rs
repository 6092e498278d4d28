//! `GET /rest/v2/instellingen/{id}/staf`: the school's staff with their roles and groups.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use super::roster::{Lists, StaffOut};
use super::{AtSchool, PartnerError};
use crate::app_state::AppState;

pub async fn staff(at: AtSchool, State(state): State<AppState>) -> Result<Response, PartnerError> {
    at.roster_call(&state, "instellingen/staf", Lists::Staff, |roster| {
        let answer = Answer {
            medewerkers: roster.staff(&state, &at.partner)?,
            meta_result: roster.meta(),
        };
        Ok(Json(answer).into_response())
    })
    .await
}

/// Fields in serde_json's key order (see roster.rs).
#[derive(Serialize)]
struct Answer<'a> {
    medewerkers: Vec<StaffOut<'a>>,
    #[serde(rename = "metaResult")]
    meta_result: Value,
}
