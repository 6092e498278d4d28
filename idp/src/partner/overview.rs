//! `GET /rest/v2/instellingen/{id}`: the school's groups, pupils and staff in one answer.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use super::roster::{GroupOut, Lists, PupilOut, StaffOut};
use super::{AtSchool, PartnerError};
use crate::app_state::AppState;

pub async fn overview(
    at: AtSchool,
    State(state): State<AppState>,
) -> Result<Response, PartnerError> {
    let (partner, school) = (&at.partner, &at.consented.school);
    at.roster_call(&state, "instellingen", Lists::Everyone, |roster| {
        let merged_into = match &school.merged_into {
            Some(other) => Some(partner.number(&state, "school", other)?),
            None => None,
        };
        let (groups, combined) = roster.groups();
        let answer = Answer {
            actief: school.active,
            gefuseerd_naar: merged_into,
            groepen: groups,
            leerlingen: roster.pupils(&state, partner, |_, _| true)?,
            medewerkers: roster.staff(&state, partner)?,
            meta_result: roster.meta(),
            subgroepen: combined,
        };
        Ok(Json(answer).into_response())
    })
    .await
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
