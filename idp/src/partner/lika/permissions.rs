//! `…/{publisherCode}/permissions/grant` and `…/revoke`: every listed user (by number or by
//! school and ECK-iD) to or from every listed method and product, all or nothing. A revoke
//! ignores users that are not on a list; an unknown method or product refuses the call.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use directory::lika::{Bulk, ChainId};
use serde::Deserialize;

use super::access::ChainIdBody;
use super::{MAX_BODY_BYTES, Publisher, done};
use crate::app_state::AppState;
use crate::http::json::{JsonBody, JsonShape};
use crate::http::problem::ApiError;

/// Basispoort's `BulkRequest`; each list may be left out.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct BulkBody {
    #[serde(default)]
    methodes: Vec<String>,
    #[serde(default)]
    producten: Vec<String>,
    #[serde(default)]
    gebruikers: Vec<i64>,
    #[serde(default)]
    gebruiker_eck_ids: Vec<ChainIdBody>,
}

impl JsonShape for BulkBody {
    const LIMIT: usize = MAX_BODY_BYTES;
    const SHAPE: &'static str = "{\"methodes\": [\"…\"], \"producten\": [\"…\"], \"gebruikers\": [123], \"gebruikerEckIds\": [{\"instellingId\": 1, \"eckId\": \"…\"}]}";
}

async fn bulk(
    p: Publisher,
    state: AppState,
    b: BulkBody,
    grant: bool,
) -> Result<Response, ApiError> {
    let bulk = Bulk {
        methods: b.methodes,
        products: b.producten,
        users: b.gebruikers,
        chains: b.gebruiker_eck_ids.into_iter().map(ChainId::from).collect(),
    };
    state
        .directory
        .lika_bulk(p.party_id(), &bulk, grant, p.actor())
        .await?;
    Ok(done(StatusCode::NO_CONTENT))
}

pub async fn grant(
    p: Publisher,
    State(state): State<AppState>,
    JsonBody(b): JsonBody<BulkBody>,
) -> Result<Response, ApiError> {
    bulk(p, state, b, true).await
}

pub async fn revoke(
    p: Publisher,
    State(state): State<AppState>,
    JsonBody(b): JsonBody<BulkBody>,
) -> Result<Response, ApiError> {
    bulk(p, state, b, false).await
}
