//! `GET /rest/v2/instellingen/{id}/ref`: the school's INSTELLING_REF, which a party puts in the
//! shortcut links it hands out (`/s/{ref}`), as a JSON string.

use axum::Json;
use axum::extract::State;

use super::{Partner, PartnerError};
use crate::app_state::AppState;
use crate::http::extract::Path;

pub async fn reference(
    partner: Partner,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<String>, PartnerError> {
    let consented = partner.school(&state, &id).await?;
    partner
        .audit(&state, "instellingen/ref", Some(&consented.school.id))
        .await?;
    Ok(Json(consented.school.instelling_ref))
}
