//! `GET /rest/v2/instellingen/{id}`: the school's groups, pupils and staff in one answer.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::roster::Roster;
use super::{Partner, PartnerError};
use crate::app_state::AppState;
use crate::http::extract::Path;

pub async fn overview(
    partner: Partner,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, PartnerError> {
    let consented = partner.school(&state, &id).await?;
    let roster = Roster::load(&state, &partner, &consented, true, true).await?;
    let merged_into = match &consented.school.merged_into {
        Some(other) => Some(partner.number(&state, "school", other)?),
        None => None,
    };
    let (groups, combined) = roster.groups();
    let answer = json!({
        "groepen": groups,
        "subgroepen": combined,
        "leerlingen": roster.pupils(&state, &partner, |_, _| true)?,
        "medewerkers": roster.staff(&state, &partner)?,
        "actief": consented.school.active,
        "gefuseerdNaar": merged_into,
        "metaResult": roster.meta(),
    });
    partner
        .audit(&state, "instellingen", Some(&roster.school_id))
        .await?;
    Ok(Json(answer))
}
