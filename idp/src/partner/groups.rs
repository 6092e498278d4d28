//! `GET /rest/v2/instellingen/{id}/groepen`: stamgroepen and combined groups.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use super::roster::{GroupOut, Roster};
use super::{Partner, PartnerError};
use crate::app_state::AppState;
use crate::http::extract::Path;

pub async fn groups(
    partner: Partner,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, PartnerError> {
    let consented = partner.school(&state, &id).await?;
    let roster = Roster::load(&state, &partner, &consented, false, false).await?;
    let (groups, combined) = roster.groups();
    partner
        .audit(&state, "instellingen/groepen", Some(&roster.school_id))
        .await?;
    let answer = Answer {
        groepen: groups,
        meta_result: roster.meta(),
        subgroepen: combined,
    };
    Ok(Json(answer).into_response())
}

/// Fields in serde_json's key order (see roster.rs).
#[derive(Serialize)]
struct Answer<'a> {
    groepen: Vec<GroupOut<'a>>,
    #[serde(rename = "metaResult")]
    meta_result: Value,
    subgroepen: Vec<GroupOut<'a>>,
}
