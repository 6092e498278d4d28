//! `GET /rest/v2/instellingen/{id}/staf`: the school's staff with their roles and groups.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use super::roster::{Roster, StaffOut};
use super::{Partner, PartnerError};
use crate::app_state::AppState;
use crate::http::extract::Path;

pub async fn staff(
    partner: Partner,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, PartnerError> {
    let consented = partner.school(&state, &id).await?;
    let roster = Roster::load(&state, &partner, &consented, false, true).await?;
    let staff = roster.staff(&state, &partner)?;
    partner
        .audit(&state, "instellingen/staf", Some(&roster.school_id))
        .await?;
    let answer = Answer {
        medewerkers: staff,
        meta_result: roster.meta(),
    };
    Ok(Json(answer).into_response())
}

/// Fields in serde_json's key order (see roster.rs).
#[derive(Serialize)]
struct Answer<'a> {
    medewerkers: Vec<StaffOut<'a>>,
    #[serde(rename = "metaResult")]
    meta_result: Value,
}
