//! `…/{publisherCode}/methode`: the publisher's methods, and `…/methode/{methodId}/product`: a
//! method's products. Each product is a product of openpoort as well, with a tile, an icon and
//! a launch like any other. Both are written, read and answered alike, as Basispoort's
//! `MethodDetails` and `ProductDetails`; only where the register keeps them differs, which
//! [`Records`] says for each, so that one set of handlers serves both.

use std::future::Future;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use directory::lika::{Application, Written};
use directory::{Directory, DirectoryError};
use serde_json::{Value, json};

use super::{ApplicationBody, Publisher, application_json, done, not_found, put_answer, same_id};
use crate::app_state::AppState;
use crate::http::json::{JsonBody, ok};
use crate::http::problem::ApiError;

type Stored<T> = Result<T, DirectoryError>;

/// Where the register keeps one kind of record, for the publisher the path names.
pub trait Records: Send + Sync + 'static {
    /// One record, as a refusal names it.
    const ONE: &'static str;
    /// The list's key in an answer.
    const MANY: &'static str;
    /// The id the path gives the record.
    fn id(p: &Publisher) -> &str;
    fn list(d: &Directory, p: &Publisher) -> impl Future<Output = Stored<Vec<Application>>> + Send;
    fn read(
        d: &Directory,
        p: &Publisher,
    ) -> impl Future<Output = Stored<Option<Application>>> + Send;
    fn create(
        d: &Directory,
        p: &Publisher,
        new: Application,
    ) -> impl Future<Output = Stored<()>> + Send;
    fn put(
        d: &Directory,
        p: &Publisher,
        new: Application,
    ) -> impl Future<Output = Stored<Written>> + Send;
    fn delete(d: &Directory, p: &Publisher) -> impl Future<Output = Stored<()>> + Send;
}

/// The publisher's methods.
pub struct Methods;

impl Records for Methods {
    const ONE: &'static str = "methode";
    const MANY: &'static str = "methodes";

    fn id(p: &Publisher) -> &str {
        p.method()
    }

    async fn list(d: &Directory, p: &Publisher) -> Stored<Vec<Application>> {
        let all = d.lika_methods(p.party_id()).await?;
        Ok(all.into_iter().map(|m| m.application).collect())
    }

    async fn read(d: &Directory, p: &Publisher) -> Stored<Option<Application>> {
        let one = d.lika_method(p.party_id(), p.method()).await?;
        Ok(one.map(|m| m.application))
    }

    async fn create(d: &Directory, p: &Publisher, new: Application) -> Stored<()> {
        d.create_lika_method(p.party_id(), new, p.actor()).await
    }

    async fn put(d: &Directory, p: &Publisher, new: Application) -> Stored<Written> {
        d.put_lika_method(p.party_id(), new, p.actor()).await
    }

    async fn delete(d: &Directory, p: &Publisher) -> Stored<()> {
        d.delete_lika_method(p.party_id(), p.method(), p.actor())
            .await
    }
}

/// The products of the method the path names; the method must exist.
pub struct Products;

impl Records for Products {
    const ONE: &'static str = "product";
    const MANY: &'static str = "producten";

    fn id(p: &Publisher) -> &str {
        p.product.as_deref().unwrap_or_default()
    }

    async fn list(d: &Directory, p: &Publisher) -> Stored<Vec<Application>> {
        let all = d.lika_products(p.party_id(), p.method()).await?;
        Ok(all.into_iter().map(|m| m.application).collect())
    }

    async fn read(d: &Directory, p: &Publisher) -> Stored<Option<Application>> {
        let one = d
            .lika_product(p.party_id(), p.method(), Self::id(p))
            .await?;
        Ok(one.map(|m| m.application))
    }

    async fn create(d: &Directory, p: &Publisher, new: Application) -> Stored<()> {
        d.create_lika_product(p.party_id(), p.method(), new, p.actor())
            .await
    }

    async fn put(d: &Directory, p: &Publisher, new: Application) -> Stored<Written> {
        d.put_lika_product(p.party_id(), p.method(), new, p.actor())
            .await
    }

    async fn delete(d: &Directory, p: &Publisher) -> Stored<()> {
        d.delete_lika_product(p.party_id(), p.method(), Self::id(p), p.actor())
            .await
    }
}

pub async fn list<R: Records>(
    p: Publisher,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let all = R::list(&state.directory, &p).await?;
    let all: Vec<Value> = all.iter().map(application_json).collect();
    let key = R::MANY;
    Ok(ok(json!({ key: all })))
}

pub async fn read<R: Records>(
    p: Publisher,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let one = R::read(&state.directory, &p).await?;
    let one = one.ok_or_else(|| not_found(R::ONE, R::id(&p)))?;
    Ok(ok(application_json(&one)))
}

pub async fn create<R: Records>(
    p: Publisher,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<ApplicationBody>,
) -> Result<Response, ApiError> {
    R::create(&state.directory, &p, new.into_application()).await?;
    Ok(done(StatusCode::CREATED))
}

/// A PUT cannot rename: the body's id must be the path's.
pub async fn replace<R: Records>(
    p: Publisher,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<ApplicationBody>,
) -> Result<Response, ApiError> {
    let new = new.into_application();
    same_id(R::id(&p), &new.id)?;
    Ok(put_answer(R::put(&state.directory, &p, new).await?))
}

pub async fn delete<R: Records>(
    p: Publisher,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    R::delete(&state.directory, &p).await?;
    Ok(done(StatusCode::NO_CONTENT))
}
