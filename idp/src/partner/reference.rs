//! `GET /rest/v2/instellingen/{id}/ref`: the school's INSTELLING_REF, which a party puts in the
//! shortcut links it hands out (`/s/{ref}`), as a JSON string.

use axum::Json;
use axum::extract::State;

use super::{AtSchool, PartnerError};
use crate::app_state::AppState;

pub async fn reference(
    AtSchool { partner, consented }: AtSchool,
    State(state): State<AppState>,
) -> Result<Json<String>, PartnerError> {
    partner
        .audit(&state, "instellingen/ref", Some(&consented.school.id))
        .await?;
    Ok(Json(consented.school.instelling_ref))
}
