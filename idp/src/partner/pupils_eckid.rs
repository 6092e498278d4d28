//! `POST /rest/v2/instellingen/{id}/leerlingen_eckid`: the pupils with the given ECK-iDs. Only
//! for a party whose release policy includes the ECK-iD: to anyone else the pupils' ECK-iDs are
//! not released, so looking them up by it would release them all the same (403).

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use broker::Attribute;

use super::roster::{PupilsAnswer, Roster};
use super::{Partner, PartnerError, json_list};
use crate::app_state::AppState;
use crate::http::extract::Path;

pub async fn by_eck_id(
    partner: Partner,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, PartnerError> {
    let consented = partner.school(&state, &id).await?;
    let roster = Roster::load(&state, &partner, &consented, true, false).await?;
    if !roster.allows(Attribute::EckId) {
        return Err(PartnerError::NotReleased("eck_id"));
    }
    let wanted: HashSet<String> = json_list(&body, "ECK-iD's / ECK-iDs")?;
    let pupils = roster.pupils(&state, &partner, |_, p| {
        p.eck_id.as_ref().is_some_and(|e| wanted.contains(e))
    })?;
    partner
        .audit(
            &state,
            "instellingen/leerlingen_eckid",
            Some(&roster.school_id),
        )
        .await?;
    let answer = PupilsAnswer {
        leerlingen: pupils,
        meta_result: roster.meta(),
    };
    Ok(Json(answer).into_response())
}
