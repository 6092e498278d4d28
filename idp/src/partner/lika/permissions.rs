//! `…/{publisherCode}/permissions/grant` and `…/revoke`: every listed user (by number or by
//! school and ECK-iD) to or from every listed method and product, all or nothing. A revoke
//! ignores users that are not on a list; an unknown method or product refuses the call.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use directory::lika::{Bulk, ChainId};
use serde::Deserialize;

use super::access::ChainIdBody;
use super::{Publisher, Route, body, done, route};
use crate::app_state::AppState;
use crate::http::problem::ApiError;

pub fn routes() -> Vec<Route> {
    vec![
        route(Method::POST, "permissions/grant", grant),
        route(Method::POST, "permissions/revoke", revoke),
    ]
}

/// Basispoort's `BulkRequest`; each list may be left out.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct BulkBody {
    #[serde(default)]
    methodes: Vec<String>,
    #[serde(default)]
    producten: Vec<String>,
    #[serde(default)]
    gebruikers: Vec<i64>,
    #[serde(default)]
    gebruiker_eck_ids: Vec<ChainIdBody>,
}

const SHAPE: &str = "{\"methodes\": [\"…\"], \"producten\": [\"…\"], \"gebruikers\": [123], \"gebruikerEckIds\": [{\"instellingId\": 1, \"eckId\": \"…\"}]}";

async fn bulk(
    p: Publisher,
    state: AppState,
    headers: HeaderMap,
    raw: Body,
    grant: bool,
) -> Result<Response, ApiError> {
    let b: BulkBody = body(&headers, raw, SHAPE).await?;
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

async fn grant(
    p: Publisher,
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, ApiError> {
    bulk(p, state, headers, raw, true).await
}

async fn revoke(
    p: Publisher,
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, ApiError> {
    bulk(p, state, headers, raw, false).await
}
