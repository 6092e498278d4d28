//! `GET /rest/v2/instellingen/{id}`: the school's groups, pupils and staff in one answer.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use super::roster::{GroupOut, PupilOut, Roster, StaffOut};
use super::{Partner, PartnerError};
use crate::app_state::AppState;
use crate::http::extract::Path;

pub async fn overview(
    partner: Partner,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, PartnerError> {
    let consented = partner.school(&state, &id).await?;
    let roster = Roster::load(&state, &partner, &consented, true, true).await?;
    let merged_into = match &consented.school.merged_into {
        Some(other) => Some(partner.number(&state, "school", other)?),
        None => None,
    };
    let (groups, combined) = roster.groups();
    let answer = Answer {
        actief: consented.school.active,
        gefuseerd_naar: merged_into,
        groepen: groups,
        leerlingen: roster.pupils(&state, &partner, |_, _| true)?,
        medewerkers: roster.staff(&state, &partner)?,
        meta_result: roster.meta(),
        subgroepen: combined,
    };
    partner
        .audit(&state, "instellingen", Some(&roster.school_id))
        .await?;
    Ok(Json(answer).into_response())
}

/// Fields in serde_json's key order (see roster.rs).
#[derive(Serialize)]
struct Answer<'a> {
    actief: bool,
    #[serde(rename = "gefuseerdNaar")]
    gefuseerd_naar: Option<i64>,
    groepen: Vec<GroupOut<'a>>,
    leerlingen: Vec<PupilOut<'a>>,
    medewerkers: Vec<StaffOut<'a>>,
    #[serde(rename = "metaResult")]
    meta_result: Value,
    subgroepen: Vec<GroupOut<'a>>,
}
