//! The access lists of a method or a product: `…/gebruiker` (the publisher's user numbers, as
//! the partner API gave them) and `…/gebruiker_eckid` (school number and ECK-iD). Each can be
//! read, replaced (PUT), cleared (DELETE), added to (`addlist`) and removed from (`removelist`,
//! where users not on the list are ignored). Lists read back sorted.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use directory::lika::{ChainId, Edit, Entries};
use serde::Deserialize;
use serde_json::json;

use super::{Publisher, Route, answer, body, done, route};
use crate::app_state::AppState;
use crate::http::problem::ApiError;

pub fn routes() -> Vec<Route> {
    let mut all = Vec::new();
    for owner in [
        "methode/{methodId}",
        "methode/{methodId}/product/{productId}",
    ] {
        let users = format!("{owner}/gebruiker");
        all.push(route(Method::GET, &users, read_users));
        all.push(route(Method::PUT, &users, replace_users));
        all.push(route(Method::DELETE, &users, clear_users));
        all.push(route(Method::POST, &format!("{users}/addlist"), add_users));
        all.push(route(
            Method::POST,
            &format!("{users}/removelist"),
            remove_users,
        ));
        let chains = format!("{owner}/gebruiker_eckid");
        all.push(route(Method::GET, &chains, read_chains));
        all.push(route(Method::PUT, &chains, replace_chains));
        all.push(route(Method::DELETE, &chains, clear_chains));
        all.push(route(
            Method::POST,
            &format!("{chains}/addlist"),
            add_chains,
        ));
        all.push(route(
            Method::POST,
            &format!("{chains}/removelist"),
            remove_chains,
        ));
    }
    all
}

/// Basispoort's `UserIdList`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserIds {
    gebruikers: Vec<i64>,
}

/// Basispoort's `UserChainIdList`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChainIds {
    gebruikers: Vec<ChainIdBody>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct ChainIdBody {
    instelling_id: i64,
    eck_id: String,
}

impl From<ChainIdBody> for ChainId {
    fn from(c: ChainIdBody) -> ChainId {
        ChainId {
            school_number: c.instelling_id,
            eck_id: c.eck_id,
        }
    }
}

const USERS: &str = "{\"gebruikers\": [123, 456]}";
const CHAINS: &str =
    "{\"gebruikers\": [{\"instellingId\": 123, \"eckId\": \"https://ketenid.nl/…\"}]}";

async fn read_users(p: Publisher, State(state): State<AppState>) -> Result<Response, ApiError> {
    let users = state
        .directory
        .lika_user_numbers(p.party_id(), p.target())
        .await?;
    Ok(answer(json!({"gebruikers": users})))
}

async fn read_chains(p: Publisher, State(state): State<AppState>) -> Result<Response, ApiError> {
    let chains = state
        .directory
        .lika_chain_ids(p.party_id(), p.target())
        .await?;
    let all: Vec<_> = chains
        .iter()
        .map(|c| json!({"instellingId": c.school_number, "eckId": c.eck_id}))
        .collect();
    Ok(answer(json!({"gebruikers": all})))
}

async fn edit(
    p: &Publisher,
    state: &AppState,
    edit: Edit,
    entries: Entries,
) -> Result<Response, ApiError> {
    state
        .directory
        .edit_lika_access(p.party_id(), p.target(), edit, &entries, p.actor())
        .await?;
    Ok(done(StatusCode::NO_CONTENT))
}

async fn users(headers: &HeaderMap, raw: Body) -> Result<Entries, ApiError> {
    let list: UserIds = body(headers, raw, USERS).await?;
    Ok(Entries::Users(list.gebruikers))
}

async fn chains(headers: &HeaderMap, raw: Body) -> Result<Entries, ApiError> {
    let list: ChainIds = body(headers, raw, CHAINS).await?;
    Ok(Entries::Chains(
        list.gebruikers.into_iter().map(ChainId::from).collect(),
    ))
}

async fn replace_users(
    p: Publisher,
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, ApiError> {
    edit(&p, &state, Edit::Replace, users(&headers, raw).await?).await
}

async fn add_users(
    p: Publisher,
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, ApiError> {
    edit(&p, &state, Edit::Add, users(&headers, raw).await?).await
}

async fn remove_users(
    p: Publisher,
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, ApiError> {
    edit(&p, &state, Edit::Remove, users(&headers, raw).await?).await
}

async fn clear_users(p: Publisher, State(state): State<AppState>) -> Result<Response, ApiError> {
    edit(&p, &state, Edit::Clear, Entries::Users(Vec::new())).await
}

async fn replace_chains(
    p: Publisher,
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, ApiError> {
    edit(&p, &state, Edit::Replace, chains(&headers, raw).await?).await
}

async fn add_chains(
    p: Publisher,
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, ApiError> {
    edit(&p, &state, Edit::Add, chains(&headers, raw).await?).await
}

async fn remove_chains(
    p: Publisher,
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, ApiError> {
    edit(&p, &state, Edit::Remove, chains(&headers, raw).await?).await
}

async fn clear_chains(p: Publisher, State(state): State<AppState>) -> Result<Response, ApiError> {
    edit(&p, &state, Edit::Clear, Entries::Chains(Vec::new())).await
}
