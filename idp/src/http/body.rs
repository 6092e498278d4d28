//! JSON request bodies and answers of openpoort's machine APIs (the admin API, the partner
//! API): the media type required, the size bounded while the body streams in, the answer never
//! cached.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use serde_json::Value;

use super::problem::{ApiError, Problem};

/// A JSON body of at most `limit` bytes in the shape `T`; `shape` shows the caller that shape.
pub async fn json_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    shape: &str,
) -> Result<T, ApiError> {
    require_media_type(headers, &["application/json"])?;
    let bytes = read_body(headers, body, limit).await?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            Problem::Validation,
            format!("De body heeft niet de vorm {shape}: {e}"),
            format!("The body does not have the shape {shape}: {e}"),
        )
    })
}

/// Requires one of `accepted` media types (parameters such as `charset` allowed).
pub fn require_media_type(headers: &HeaderMap, accepted: &[&str]) -> Result<(), ApiError> {
    let given = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    match given {
        Some(t) if accepted.contains(&t.as_str()) => Ok(()),
        _ => Err(ApiError::new(
            Problem::UnsupportedMediaType,
            format!("Stuur de body met Content-Type {}.", accepted.join(" of ")),
            format!("Send the body with Content-Type {}.", accepted.join(" or ")),
        )),
    }
}

fn too_large(limit: usize) -> ApiError {
    let size = if limit >= 1024 * 1024 {
        format!("{} MiB", limit / (1024 * 1024))
    } else {
        format!("{} KiB", limit.div_ceil(1024))
    };
    ApiError::new(
        Problem::PayloadTooLarge,
        format!("De body is groter dan {size}, de grens voor deze route."),
        format!("The body is larger than {size}, the limit of this route."),
    )
}

/// The whole body, at most `limit` bytes: a larger one is refused by its Content-Length before
/// a byte is read, or as soon as it passes the limit while streaming.
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large(limit)),
        Err(e) if crate::http::extract::body_timed_out(e.as_ref()) => Err(ApiError::new(
            Problem::BadRequest,
            "De body kwam niet op tijd binnen (server.body_timeout_seconds). Verstuur het verzoek opnieuw.",
            "The body did not arrive in time (server.body_timeout_seconds). Send the request again.",
        )),
        Err(e) => Err(ApiError::new(
            Problem::BadRequest,
            format!("De body kon niet gelezen worden: {e}"),
            format!("The body could not be read: {e}"),
        )),
    }
}

/// A JSON answer; never cached, since answers may carry a secret.
pub fn json_answer(status: StatusCode, body: Value) -> Response {
    let mut r = (status, axum::Json(body)).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
