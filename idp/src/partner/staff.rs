//! `GET /rest/v2/instellingen/{id}/staf`: the school's staff with their roles and groups.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::roster::Roster;
use super::{Partner, PartnerError};
use crate::app_state::AppState;
use crate::http::extract::Path;

pub async fn staff(
    partner: Partner,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, PartnerError> {
    let consented = partner.school(&state, &id).await?;
    let roster = Roster::load(&state, &partner, &consented, false, true).await?;
    let staff = roster.staff(&state, &partner)?;
    partner
        .audit(&state, "instellingen/staf", Some(&roster.school_id))
        .await?;
    Ok(Json(
        json!({"medewerkers": staff, "metaResult": roster.meta()}),
    ))
}
