//! The access lists of a method or a product: `…/gebruiker` (the publisher's user numbers, as
//! the partner API gave them) and `…/gebruiker_eckid` (school number and ECK-iD). Each can be
//! read, replaced (PUT), cleared (DELETE), added to (`addlist`) and removed from (`removelist`,
//! where users not on the list are ignored). Lists read back sorted.

use axum::extract::State;
use axum::handler::Handler;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use directory::lika::{ChainId, Edit, Entries};
use serde::Deserialize;
use serde_json::json;

use super::{MAX_BODY_BYTES, Publisher, Route, done, route};
use crate::app_state::AppState;
use crate::http::json::{JsonBody, JsonShape, ok};
use crate::http::problem::ApiError;

pub fn routes() -> Vec<Route> {
    let mut all = Vec::new();
    for owner in [
        "methode/{methodId}",
        "methode/{methodId}/product/{productId}",
    ] {
        all.extend(list_routes::<UserIds, _, _>(
            &format!("{owner}/gebruiker"),
            read_users,
        ));
        all.extend(list_routes::<ChainIds, _, _>(
            &format!("{owner}/gebruiker_eckid"),
            read_chains,
        ));
    }
    all
}

/// One kind of list's routes at `path`: read, replace, clear, add to and remove from.
fn list_routes<L: AccessList, H: Handler<T, AppState>, T: 'static>(
    path: &str,
    read: H,
) -> Vec<Route> {
    vec![
        route(Method::GET, path, read),
        route(Method::PUT, path, replace::<L>),
        route(Method::DELETE, path, clear::<L>),
        route(Method::POST, &format!("{path}/addlist"), add::<L>),
        route(Method::POST, &format!("{path}/removelist"), remove::<L>),
    ]
}

/// The body of a change to one kind of list: its entries.
trait AccessList: JsonShape + Send + 'static {
    fn entries(self) -> Entries;
    /// No entries of this kind, for clearing the list.
    fn none() -> Entries;
}

/// Basispoort's `UserIdList`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserIds {
    gebruikers: Vec<i64>,
}

impl JsonShape for UserIds {
    const LIMIT: usize = MAX_BODY_BYTES;
    const SHAPE: &'static str = "{\"gebruikers\": [123, 456]}";
}

impl AccessList for UserIds {
    fn entries(self) -> Entries {
        Entries::Users(self.gebruikers)
    }

    fn none() -> Entries {
        Entries::Users(Vec::new())
    }
}

/// Basispoort's `UserChainIdList`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChainIds {
    gebruikers: Vec<ChainIdBody>,
}

impl JsonShape for ChainIds {
    const LIMIT: usize = MAX_BODY_BYTES;
    const SHAPE: &'static str =
        "{\"gebruikers\": [{\"instellingId\": 123, \"eckId\": \"https://ketenid.nl/…\"}]}";
}

impl AccessList for ChainIds {
    fn entries(self) -> Entries {
        Entries::Chains(self.gebruikers.into_iter().map(ChainId::from).collect())
    }

    fn none() -> Entries {
        Entries::Chains(Vec::new())
    }
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

async fn read_users(p: Publisher, State(state): State<AppState>) -> Result<Response, ApiError> {
    let users = state
        .directory
        .lika_user_numbers(p.party_id(), p.target())
        .await?;
    Ok(ok(json!({"gebruikers": users})))
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
    Ok(ok(json!({"gebruikers": all})))
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

async fn replace<L: AccessList>(
    p: Publisher,
    State(state): State<AppState>,
    JsonBody(list): JsonBody<L>,
) -> Result<Response, ApiError> {
    edit(&p, &state, Edit::Replace, list.entries()).await
}

async fn add<L: AccessList>(
    p: Publisher,
    State(state): State<AppState>,
    JsonBody(list): JsonBody<L>,
) -> Result<Response, ApiError> {
    edit(&p, &state, Edit::Add, list.entries()).await
}

async fn remove<L: AccessList>(
    p: Publisher,
    State(state): State<AppState>,
    JsonBody(list): JsonBody<L>,
) -> Result<Response, ApiError> {
    edit(&p, &state, Edit::Remove, list.entries()).await
}

async fn clear<L: AccessList>(
    p: Publisher,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    edit(&p, &state, Edit::Clear, L::none()).await
}
