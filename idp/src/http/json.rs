//! A JSON request body as an extractor, for the machine APIs (the admin API, the partner
//! listener's LIKA tree): the body type says how large it may be and what shape to show a
//! caller who sent something else, so that no handler can read a body without its limit.

use axum::extract::{FromRequest, OptionalFromRequest, Request};
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::body::{json_answer, json_body};
use super::problem::ApiError;

/// A request body read as JSON.
pub trait JsonShape: DeserializeOwned {
    /// The largest body accepted, in bytes; a larger one is refused before it is parsed. 16 KiB
    /// is far more than a body of a few fields needs; one that carries more (a certificate,
    /// metadata, an icon) or should carry less says so.
    const LIMIT: usize = 16 * 1024;
    /// The shape as the refusal of a body that does not fit it shows it.
    const SHAPE: &'static str;
}

/// The body as `T`: `application/json`, at most `T::LIMIT` bytes, in `T`'s shape. As an
/// `Option`, a request without a `Content-Type` has no body (`None`); with one, the body must
/// be there and fit.
pub struct JsonBody<T>(pub T);

impl<T: JsonShape, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        json_body(&parts.headers, body, T::LIMIT, T::SHAPE)
            .await
            .map(JsonBody)
    }
}

impl<T: JsonShape, S: Send + Sync> OptionalFromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, ApiError> {
        if !req.headers().contains_key(header::CONTENT_TYPE) {
            return Ok(None);
        }
        <Self as FromRequest<S>>::from_request(req, state)
            .await
            .map(Some)
    }
}

/// `200 OK` with a JSON answer, never cached.
pub fn ok(body: Value) -> Response {
    json_answer(StatusCode::OK, body)
}
