//! `GET /rest/v2/instellingen/{id}/leerlingen`, and `POST` with a JSON list of the party's
//! pupil numbers to get only those. Numbers the party does not know are left out, as Basispoort
//! does.

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::roster::{PupilsAnswer, Roster};
use super::{Partner, PartnerError, json_list};
use crate::app_state::AppState;
use crate::http::extract::Path;

pub async fn all(
    partner: Partner,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, PartnerError> {
    let consented = partner.school(&state, &id).await?;
    let roster = Roster::load(&state, &partner, &consented, true, false).await?;
    let pupils = roster.pupils(&state, &partner, |_, _| true)?;
    partner
        .audit(&state, "instellingen/leerlingen", Some(&roster.school_id))
        .await?;
    let answer = PupilsAnswer {
        leerlingen: pupils,
        meta_result: roster.meta(),
    };
    Ok(Json(answer).into_response())
}

pub async fn by_number(
    partner: Partner,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, PartnerError> {
    let consented = partner.school(&state, &id).await?;
    let wanted: HashSet<i64> = json_list(&body, "leerling-ids / pupil ids")?;
    let roster = Roster::load(&state, &partner, &consented, true, false).await?;
    let pupils = roster.pupils(&state, &partner, |n, _| wanted.contains(&n))?;
    partner
        .audit(&state, "instellingen/leerlingen", Some(&roster.school_id))
        .await?;
    let answer = PupilsAnswer {
        leerlingen: pupils,
        meta_result: roster.meta(),
    };
    Ok(Json(answer).into_response())
}
