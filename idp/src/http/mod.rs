//! The HTTP layer below every front end (pages, OIDC, SAML, the admin API): responses every
//! one of them sends, the client's address, tokens and encodings. Nothing here knows a
//! protocol or a page; the front ends import from here, never the other way round.

pub mod body;
mod client;
pub mod csrf;
pub mod error;
pub mod extract;
pub mod form;
mod forwarded;
pub mod json;
pub mod oauth;
pub mod openapi;
#[cfg(test)]
pub mod openapi_check;
pub mod page;
pub mod problem;
pub mod routes;
pub mod token;

pub use client::{ClientIp, address_key, client_ip};
pub use csrf::{ConfirmForm, Csrf, NoFields, csrf_ok, csrf_refused, csrf_token};
pub use error::PageError;
pub use form::{Desk, FormToken, FormView, NoticeQuery, see};
pub use page::{Text, internal_error, message, page, see_other, unavailable};
pub use token::{cookie_value, random_token, sha256_hex, url_encode};

/// A file to download: `body` as `filename` (plain ASCII, chosen by openpoort, never by a
/// user), not stored by caches and not sniffed into another type.
pub fn attachment(
    body: axum::body::Body,
    content_type: &'static str,
    filename: &str,
) -> Result<axum::response::Response, axum::http::header::InvalidHeaderValue> {
    use axum::http::{HeaderValue, StatusCode, header};
    use axum::response::IntoResponse;
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))?;
    let mut response = (StatusCode::OK, body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CONTENT_DISPOSITION, disposition);
    Ok(response)
}
