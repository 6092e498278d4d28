//! `GET /rest/v2/instellingen/{id}/groepen`: stamgroepen and combined groups.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use super::roster::{GroupOut, Lists};
use super::{AtSchool, PartnerError};
use crate::app_state::AppState;

pub async fn groups(at: AtSchool, State(state): State<AppState>) -> Result<Response, PartnerError> {
    at.roster_call(&state, "instellingen/groepen", Lists::Groups, |roster| {
        let (groups, combined) = roster.groups();
        let answer = Answer {
            groepen: groups,
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
    groepen: Vec<GroupOut<'a>>,
    #[serde(rename = "metaResult")]
    meta_result: Value,
    subgroepen: Vec<GroupOut<'a>>,
}
