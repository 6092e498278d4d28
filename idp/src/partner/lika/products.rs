//! `…/{publisherCode}/methode/{methodId}/product`: a method's products. Each is a product of
//! openpoort as well, with a tile, an icon and a launch like any other.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use directory::lika::Written;
use serde_json::json;

use super::{
    ApplicationBody, Publisher, Route, answer, body, done, not_found, product_json, route, same_id,
};
use crate::app_state::AppState;
use crate::http::problem::ApiError;

const SHAPE: &str = "{\"id\", \"code\", \"naam\", \"icon\", \"iconUrl\", \"url\", \"tags\"}";

pub fn routes() -> Vec<Route> {
    vec![
        route(Method::GET, "methode/{methodId}/product", list),
        route(Method::POST, "methode/{methodId}/product", create),
        route(Method::GET, "methode/{methodId}/product/{productId}", read),
        route(
            Method::PUT,
            "methode/{methodId}/product/{productId}",
            replace,
        ),
        route(
            Method::DELETE,
            "methode/{methodId}/product/{productId}",
            delete,
        ),
    ]
}

fn product(p: &Publisher) -> &str {
    p.product.as_deref().unwrap_or_default()
}

async fn list(p: Publisher, State(state): State<AppState>) -> Result<Response, ApiError> {
    let products = state
        .directory
        .lika_products(p.party_id(), p.method())
        .await?;
    let all: Vec<_> = products.iter().map(product_json).collect();
    Ok(answer(json!({"producten": all})))
}

async fn read(p: Publisher, State(state): State<AppState>) -> Result<Response, ApiError> {
    let found = state
        .directory
        .lika_product(p.party_id(), p.method(), product(&p))
        .await?;
    let found = found.ok_or_else(|| not_found("product", product(&p)))?;
    Ok(answer(product_json(&found)))
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
        .create_lika_product(p.party_id(), p.method(), new.into_application(), p.actor())
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
    same_id(product(&p), &app.id)?;
    let written = state
        .directory
        .put_lika_product(p.party_id(), p.method(), app, p.actor())
        .await?;
    Ok(done(match written {
        Written::Created => StatusCode::CREATED,
        Written::Replaced => StatusCode::NO_CONTENT,
    }))
}

async fn delete(p: Publisher, State(state): State<AppState>) -> Result<Response, ApiError> {
    state
        .directory
        .delete_lika_product(p.party_id(), p.method(), product(&p), p.actor())
        .await?;
    Ok(done(StatusCode::NO_CONTENT))
}
