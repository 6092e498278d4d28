//! Publishers and network providers and a publisher's products, as the operator keeps them on
//! the `/operator` pages: the rules are `crate::operator_admin::parties`'s.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use directory::parties::{Party, Product};
use serde::Deserialize;
use serde_json::{Value, json};

use super::register::Operator;
use super::{ApiError, Endpoint, created, endpoint, json_answer, json_body};
use crate::app_state::AppState;
use crate::http::extract::Path;
use crate::operator_admin::parties;

const MAX_BODY_BYTES: usize = 16 * 1024;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(Method::GET, "/parties", list),
        endpoint(Method::POST, "/parties", add),
        endpoint(Method::PUT, "/parties/{party_id}", rename),
        endpoint(Method::GET, "/parties/{party_id}/products", products),
        endpoint(Method::POST, "/parties/{party_id}/products", add_product),
        endpoint(
            Method::PUT,
            "/parties/{party_id}/products/{product}",
            change_product,
        ),
    ]
}

fn party_json(p: &Party) -> Value {
    json!({"id": p.id, "code": p.code, "kind": p.kind.as_str(), "name": p.name})
}

fn product_json(p: &Product) -> Value {
    json!({
        "id": p.id, "code": p.code, "methode": p.methode, "name": p.name,
        "launch_url": p.launch_url, "icon_url": p.icon_url, "home_allowed": p.home_allowed,
    })
}

async fn list(Operator(op): Operator, State(state): State<AppState>) -> Result<Response, ApiError> {
    let all: Vec<Value> = parties::list(&state.directory, &op)
        .await?
        .iter()
        .map(party_json)
        .collect();
    Ok(json_answer(StatusCode::OK, json!({"parties": all})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewParty {
    code: String,
    kind: String,
    name: String,
}

async fn add(
    Operator(op): Operator,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let new: NewParty = json_body(
        &headers,
        body,
        MAX_BODY_BYTES,
        "{\"code\": …, \"kind\": \"publisher\"|\"network_provider\", \"name\": …}",
    )
    .await?;
    let p = parties::add(&state.directory, &op, &new.code, &new.kind, &new.name).await?;
    Ok(created(
        &state,
        &format!("/parties/{}", p.code),
        party_json(&p),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Name {
    name: String,
}

async fn rename(
    Operator(op): Operator,
    State(state): State<AppState>,
    Path(reference): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let p = super::party(&state, &reference).await?;
    let new: Name = json_body(&headers, body, MAX_BODY_BYTES, "{\"name\": …}").await?;
    let p = parties::rename(&state.directory, &op, &p.code, &new.name).await?;
    Ok(json_answer(StatusCode::OK, party_json(&p)))
}

async fn products(
    Operator(op): Operator,
    State(state): State<AppState>,
    Path(reference): Path<String>,
) -> Result<Response, ApiError> {
    let p = super::party(&state, &reference).await?;
    let (p, list) = parties::products(&state.directory, &op, &p.code).await?;
    let list: Vec<Value> = list.iter().map(product_json).collect();
    Ok(json_answer(
        StatusCode::OK,
        json!({"party": p.code, "products": list}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductBody {
    #[serde(default)]
    code: String,
    methode: String,
    name: String,
    launch_url: String,
    #[serde(default)]
    icon_url: Option<String>,
    #[serde(default)]
    home_allowed: bool,
}

impl ProductBody {
    fn rules(&self) -> parties::ProductForm<'_> {
        parties::ProductForm {
            methode: &self.methode,
            name: &self.name,
            launch_url: &self.launch_url,
            icon_url: self.icon_url.as_deref().unwrap_or(""),
            home_allowed: self.home_allowed,
        }
    }
}

const PRODUCT_SHAPE: &str = "{\"code\": …, \"methode\": …, \"name\": …, \"launch_url\": \"https://…\", \"icon_url\": …, \"home_allowed\": false}";

async fn add_product(
    Operator(op): Operator,
    State(state): State<AppState>,
    Path(reference): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let p = super::party(&state, &reference).await?;
    let new: ProductBody = json_body(&headers, body, MAX_BODY_BYTES, PRODUCT_SHAPE).await?;
    let product =
        parties::add_product(&state.directory, &op, &p.code, &new.code, &new.rules()).await?;
    Ok(created(
        &state,
        &format!("/parties/{}/products/{}", p.code, product.code),
        product_json(&product),
    ))
}

async fn change_product(
    Operator(op): Operator,
    State(state): State<AppState>,
    Path((reference, code)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let p = super::party(&state, &reference).await?;
    let new: ProductBody = json_body(&headers, body, MAX_BODY_BYTES, PRODUCT_SHAPE).await?;
    let product =
        parties::change_product(&state.directory, &op, &p.code, &code, &new.rules()).await?;
    Ok(json_answer(StatusCode::OK, product_json(&product)))
}
