//! `…/{publisherCode}/methode`: the publisher's methods.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use directory::lika::Written;
use serde_json::json;

use super::{
    ApplicationBody, Publisher, Route, answer, application_json, body, done, not_found, route,
    same_id,
};
use crate::app_state::AppState;
use crate::http::problem::ApiError;

const SHAPE: &str = "{\"id\", \"code\", \"naam\", \"icon\", \"iconUrl\", \"url\", \"tags\"}";

pub fn routes() -> Vec<Route> {
    vec![
        route(Method::GET, "methode", list),
        route(Method::POST, "methode", create),
        route(Method::GET, "methode/{methodId}", read),
        route(Method::PUT, "methode/{methodId}", replace),
        route(Method::DELETE, "methode/{methodId}", delete),
    ]
}

async fn list(p: Publisher, State(state): State<AppState>) -> Result<Response, ApiError> {
    let methods = state.directory.lika_methods(p.party_id()).await?;
    let all: Vec<_> = methods
        .iter()
        .map(|m| application_json(&m.application))
        .collect();
    Ok(answer(json!({"methodes": all})))
}

async fn read(p: Publisher, State(state): State<AppState>) -> Result<Response, ApiError> {
    let method = state
        .directory
        .lika_method(p.party_id(), p.method())
        .await?;
    let method = method.ok_or_else(|| not_found("methode", p.method()))?;
    Ok(answer(application_json(&method.application)))
}

async fn create(
    p: Publisher,
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, ApiError> {
    let new: ApplicationBody = body(&headers, raw, SHAPE).await?;
    state
        .directory
        .create_lika_method(p.party_id(), new.into_application(), p.actor())
        .await?;
    Ok(done(StatusCode::CREATED))
}

async fn replace(
    p: Publisher,
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, ApiError> {
    let new: ApplicationBody = body(&headers, raw, SHAPE).await?;
    let app = new.into_application();
    same_id(p.method(), &app.id)?;
    let written = state
        .directory
        .put_lika_method(p.party_id(), app, p.actor())
        .await?;
    Ok(done(match written {
        Written::Created => StatusCode::CREATED,
        Written::Replaced => StatusCode::NO_CONTENT,
    }))
}

async fn delete(p: Publisher, State(state): State<AppState>) -> Result<Response, ApiError> {
    state
        .directory
        .delete_lika_method(p.party_id(), p.method(), p.actor())
        .await?;
    Ok(done(StatusCode::NO_CONTENT))
}
