//! `GET /rest/v2/instellingen/{id}/groepen`: stamgroepen and combined groups.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::roster::Roster;
use super::{Partner, PartnerError};
use crate::app_state::AppState;
use crate::http::extract::Path;

pub async fn groups(
    partner: Partner,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, PartnerError> {
    let consented = partner.school(&state, &id).await?;
    let roster = Roster::load(&state, &partner, &consented, false, false).await?;
    let (groups, combined) = roster.groups();
    partner
        .audit(&state, "instellingen/groepen", Some(&roster.school_id))
        .await?;
    Ok(Json(
        json!({"groepen": groups, "subgroepen": combined, "metaResult": roster.meta()}),
    ))
}
