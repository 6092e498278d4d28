//! `POST /rest/v2/instellingen/{id}/leerlingen_eckid`: the pupils with the given ECK-iDs. Only
//! for a party whose release policy includes the ECK-iD: to anyone else the pupils' ECK-iDs are
//! not released, so looking them up by it would release them all the same (403).

use std::collections::HashSet;

use axum::extract::State;
use axum::response::Response;
use broker::Attribute;

use super::roster::Lists;
use super::{AtSchool, PartnerError, json_list};
use crate::app_state::AppState;

pub async fn by_eck_id(
    at: AtSchool,
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Response, PartnerError> {
    let call = "instellingen/leerlingen_eckid";
    at.roster_call(&state, call, Lists::Pupils, |roster| {
        if !roster.allows(Attribute::EckId) {
            return Err(PartnerError::NotReleased("eck_id"));
        }
        let wanted: HashSet<String> = json_list(&body, "ECK-iD's / ECK-iDs")?;
        roster.pupils_answer(&state, &at.partner, |_, p| {
            p.eck_id.as_ref().is_some_and(|e| wanted.contains(e))
        })
    })
    .await
}
