//! The URL prefixes a publisher's hosted licence API (LIKA) methods and products may point to,
//! as the operator registers them (`openpoort party url-allow` does the same): the rules are
//! `directory::lika::UrlPrefix`'s.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::register::Operator;
use super::{ApiError, Endpoint, created, endpoint, json_answer, json_body, party};
use crate::app_state::AppState;
use crate::http::extract::Path;

const MAX_BODY_BYTES: usize = 8 * 1024;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(Method::GET, "/parties/{party_id}/url-prefixes", list),
        endpoint(Method::POST, "/parties/{party_id}/url-prefixes", add),
        endpoint(
            Method::DELETE,
            "/parties/{party_id}/url-prefixes/{prefix}",
            remove,
        ),
    ]
}

async fn list(
    _op: Operator,
    State(state): State<AppState>,
    Path(party_ref): Path<String>,
) -> Result<Response, ApiError> {
    let p = party(&state, &party_ref).await?;
    let prefixes = state.directory.party_url_prefixes(&p.id).await?;
    let all: Vec<&str> = prefixes.iter().map(|u| u.as_str()).collect();
    Ok(json_answer(StatusCode::OK, json!({"url_prefixes": all})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPrefix {
    url: String,
}

async fn add(
    Operator(op): Operator,
    State(state): State<AppState>,
    Path(party_ref): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let p = party(&state, &party_ref).await?;
    let new: NewPrefix = json_body(
        &headers,
        body,
        MAX_BODY_BYTES,
        "{\"url\": \"https://apps.uitgeverij.nl/lesstof\"}",
    )
    .await?;
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

async fn remove(
    Operator(op): Operator,
    State(state): State<AppState>,
    Path((party_ref, prefix)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let p = party(&state, &party_ref).await?;
    state
        .directory
        .disallow_party_url(&p.id, &prefix, &op.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
