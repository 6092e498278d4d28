//! `GET /rest/v2/instellingen`: the numbers of the schools that consent to the party now.

use axum::Json;
use axum::extract::State;

use super::{Partner, PartnerError};
use crate::app_state::AppState;

pub async fn list(
    partner: Partner,
    State(state): State<AppState>,
) -> Result<Json<Vec<i64>>, PartnerError> {
    let schools = state.directory.consented_schools(&partner.party.id).await?;
    let mut ids = Vec::with_capacity(schools.len());
    for consented in &schools {
        ids.push(partner.number(&state, "school", &consented.school.id)?);
    }
    partner.audit(&state, "instellingen", None).await?;
    Ok(Json(ids))
}
