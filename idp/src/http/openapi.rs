//! The OpenAPI documents of the machine APIs (the admin API's, the partner API's two trees) as
//! they are served: JSON, with this server's own token endpoint filled in.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// `document` with the token URL of its OAuth scheme `scheme` at `public_url`, so that a
/// generated client or a viewer can use it as it is.
pub fn with_token_url(
    document: &str,
    scheme: &str,
    public_url: &str,
) -> Result<Value, serde_json::Error> {
    let mut doc: Value = serde_json::from_str(document)?;
    let flows = format!("/components/securitySchemes/{scheme}/flows");
    if let Some(flows) = doc.pointer_mut(&flows) {
        flows["clientCredentials"]["tokenUrl"] = Value::String(format!("{public_url}/oidc/token"));
    }
    Ok(doc)
}

/// A document's text as the answer.
pub fn served(text: impl IntoResponse) -> Response {
    let mut r = text.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}
