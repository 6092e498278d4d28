//! Publishers and network providers and a publisher's products, as the operator keeps them on
//! the `/operator` pages: the rules are `crate::operator_admin::parties`'s.

use axum::extract::State;
use axum::response::Response;
use directory::parties::{Party, Product};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, JsonBody, JsonShape, Name, Operator, PartyAdmin, created, list_of, ok};
use crate::app_state::AppState;
use crate::http::extract::Path;
use crate::operator_admin::parties;

fn party_json(p: &Party) -> Value {
    json!({"id": p.id, "code": p.code, "kind": p.kind.as_str(), "name": p.name})
}

fn product_json(p: &Product) -> Value {
    json!({
        "id": p.id, "code": p.code, "methode": p.methode, "name": p.name,
        "launch_url": p.launch_url, "icon_url": p.icon_url, "home_allowed": p.home_allowed,
    })
}

pub async fn list(
    Operator(op): Operator,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let all = parties::list(&state.directory, &op).await?;
    Ok(list_of("parties", all.iter().map(party_json)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewParty {
    code: String,
    kind: String,
    name: String,
}

impl JsonShape for NewParty {
    const SHAPE: &'static str =
        "{\"code\": …, \"kind\": \"publisher\"|\"network_provider\", \"name\": …}";
}

pub async fn add(
    Operator(op): Operator,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<NewParty>,
) -> Result<Response, ApiError> {
    let p = parties::add(&state.directory, &op, &new.code, &new.kind, &new.name).await?;
    Ok(created(
        &state,
        &format!("/parties/{}", p.code),
        party_json(&p),
    ))
}

pub async fn rename(
    PartyAdmin { op, party }: PartyAdmin,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<Name>,
) -> Result<Response, ApiError> {
    let p = parties::rename(&state.directory, &op, &party.code, &new.name).await?;
    Ok(ok(party_json(&p)))
}

pub async fn products(
    PartyAdmin { op, party }: PartyAdmin,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let (p, list) = parties::products(&state.directory, &op, &party.code).await?;
    let list: Vec<Value> = list.iter().map(product_json).collect();
    Ok(ok(json!({"party": p.code, "products": list})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProductBody {
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

impl JsonShape for ProductBody {
    const SHAPE: &'static str = "{\"code\": …, \"methode\": …, \"name\": …, \"launch_url\": \"https://…\", \"icon_url\": …, \"home_allowed\": false}";
}

pub async fn add_product(
    PartyAdmin { op, party }: PartyAdmin,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<ProductBody>,
) -> Result<Response, ApiError> {
    let product =
        parties::add_product(&state.directory, &op, &party.code, &new.code, &new.rules()).await?;
    Ok(created(
        &state,
        &format!("/parties/{}/products/{}", party.code, product.code),
        product_json(&product),
    ))
}

pub async fn change_product(
    PartyAdmin { op, party }: PartyAdmin,
    State(state): State<AppState>,
    Path((_, code)): Path<(String, String)>,
    JsonBody(new): JsonBody<ProductBody>,
) -> Result<Response, ApiError> {
    let product =
        parties::change_product(&state.directory, &op, &party.code, &code, &new.rules()).await?;
    Ok(ok(product_json(&product)))
}
