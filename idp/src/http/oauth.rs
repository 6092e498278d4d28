//! OAuth 2.0's answers over HTTP that more than one front end sends: JSON errors (RFC 6749
//! 5.2), the no-store headers of token responses, and bearer tokens (RFC 6750). The OIDC
//! endpoints send them, and so do the admin API's bearer check and the extractors' refusals.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A JSON answer with the headers RFC 6749 requires on token responses.
pub fn json_no_store(status: StatusCode, body: Value) -> Response {
    let mut r = (status, axum::Json(body)).into_response();
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

/// An OAuth error for JSON endpoints.
pub fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut r = json_no_store(
        status,
        json!({"error": error, "error_description": description}),
    );
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"openpoort\""),
        );
    }
    r
}

/// The bearer token of a request, if it carries exactly one in the Authorization header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}
