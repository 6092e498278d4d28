//! The URL prefixes a publisher's hosted licence API (LIKA) methods and products may point to,
//! as the operator registers them (`openpoort party url-allow` does the same): the rules are
//! `directory::lika::UrlPrefix`'s.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::{ApiError, JsonBody, JsonShape, PartyAdmin, created, list_of};
use crate::app_state::AppState;
use crate::http::extract::Path;

const MAX_BODY_BYTES: usize = 8 * 1024;

pub async fn list(
    PartyAdmin { party: p, .. }: PartyAdmin,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let prefixes = state.directory.party_url_prefixes(&p.id).await?;
    Ok(list_of(
        "url_prefixes",
        prefixes.iter().map(|u| json!(u.as_str())),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewPrefix {
    url: String,
}

impl JsonShape for NewPrefix {
    const LIMIT: usize = MAX_BODY_BYTES;
    const SHAPE: &'static str = "{\"url\": \"https://apps.uitgeverij.nl/lesstof\"}";
}

pub async fn add(
    PartyAdmin { op, party: p }: PartyAdmin,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<NewPrefix>,
) -> Result<Response, ApiError> {
    let prefix = state
        .directory
        .allow_party_url(&p.id, &new.url, &op.actor)
        .await?;
    Ok(created(
        &state,
        &format!(
            "/parties/{}/url-prefixes/{}",
            p.code,
            crate::http::token::url_encode(prefix.as_str())
        ),
        json!({"url": prefix.as_str()}),
    ))
}

pub async fn remove(
    PartyAdmin { op, party: p }: PartyAdmin,
    State(state): State<AppState>,
    Path((_, prefix)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    state
        .directory
        .disallow_party_url(&p.id, &prefix, &op.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
