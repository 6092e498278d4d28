//! Product icons, served by openpoort from `/static/icon/{product}`. The pages' CSP allows
//! images from openpoort only (`img-src 'self'`); rather than widen it to every publisher's
//! host, openpoort fetches the icon the operator registered and serves it itself. That also
//! keeps pupils' browsers from telling a publisher's server who looks at the portal and when.
//!
//! The fetch goes through the outbound policy (no private networks outside development, no
//! redirects, a timeout), reads at most [`MAX_BYTES`], and serves only PNG, JPEG, GIF and WebP
//! recognised by their first bytes, whatever the publisher's server called them: an SVG could
//! carry script under openpoort's origin, and a wrong type is a broken tile, not a risk.
//!
//! A product registered through the hosted licence API may carry its icon inline (`mime,base64`,
//! checked by `directory::lika::Icon` when it was written, SVG included). That one is served
//! from the register, never fetched, with a Content-Security-Policy that allows nothing and
//! sandboxes the document, so that an SVG opened on its own runs no script under this origin.

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::app_state::{AppState, CachedIcon};
use crate::http::PageError;
use crate::http::extract::Path;

/// An icon is a 64×64 tile: far below this.
pub const MAX_BYTES: usize = 256 * 1024;
/// How long a fetched icon is served before it is fetched again.
const FRESH: Duration = Duration::from_secs(24 * 3_600);
/// How long a failed fetch is remembered before it is tried again.
const RETRY: Duration = Duration::from_secs(5 * 60);
const TIMEOUT: Duration = Duration::from_secs(5);

/// For an icon from the register, SVG among them: an image needs no script, no fetch and no
/// frame; opened as a document it is sandboxed (no script, a unique origin).
pub const STORED_ICON_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

/// The media type of an image we serve, from its first bytes.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// The path a page uses for a product's icon.
pub fn path(product_id: &str) -> String {
    format!("/static/icon/{}", super::url_encode(product_id))
}

fn cached(state: &AppState, product_id: &str, url: &str) -> Option<CachedIcon> {
    let icons = state.icons.lock().unwrap_or_else(|e| e.into_inner());
    let hit = icons.get(product_id)?;
    let age = hit.fetched.elapsed();
    let fresh = if hit.image.is_some() { FRESH } else { RETRY };
    (hit.url == url && age < fresh).then(|| hit.clone())
}

async fn fetch(state: &AppState, url: &str) -> Option<(&'static str, Bytes)> {
    match state.http.get_bounded(url, MAX_BYTES, TIMEOUT).await {
        Ok(bytes) => match sniff(&bytes) {
            Some(media_type) => Some((media_type, Bytes::from(bytes))),
            None => {
                tracing::warn!(
                    url,
                    "product icon is no PNG, JPEG, GIF or WebP image; not served"
                );
                None
            }
        },
        Err(e) => {
            tracing::warn!(url, error = %e, "product icon could not be fetched");
            None
        }
    }
}

/// Fetches the icon unless a request that held the product's lock before this one fetched it
/// already: a class opening the portal at once asks for the same icon dozens of times before
/// the first fetch is done, and the publisher's server should see one request, not a class.
async fn fetch_once(state: &AppState, product_id: String, url: String) -> CachedIcon {
    // One lock per registered product with an icon: bounded by the register, like the cache.
    let lock = state
        .icon_fetches
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(product_id.clone())
        .or_default()
        .clone();
    let _fetching = lock.lock().await;
    if let Some(hit) = cached(state, &product_id, &url) {
        return hit;
    }
    let entry = CachedIcon {
        image: fetch(state, &url).await,
        url,
        fetched: Instant::now(),
    };
    state
        .icons
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(product_id, entry.clone());
    entry
}

pub async fn icon(
    State(state): State<AppState>,
    Path(product_id): Path<String>,
) -> Result<Response, PageError> {
    let not_found = || StatusCode::NOT_FOUND.into_response();
    let Some(product) = state.directory.product_by_id(&product_id).await? else {
        return Ok(not_found());
    };
    if product.icon_stored {
        let Some(icon) = state.directory.stored_icon(&product_id).await? else {
            return Ok(not_found());
        };
        return Ok((
            [
                (header::CONTENT_TYPE, icon.media_type),
                (header::CACHE_CONTROL, "public, max-age=3600"),
                (header::CONTENT_SECURITY_POLICY, STORED_ICON_POLICY),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            icon.bytes,
        )
            .into_response());
    }
    let Some(url) = product.icon_url else {
        return Ok(not_found());
    };
    let entry = match cached(&state, &product_id, &url) {
        Some(hit) => hit,
        None => fetch_once(&state, product_id, url).await,
    };
    let Some((media_type, bytes)) = entry.image else {
        return Ok(not_found());
    };
    Ok((
        [
            (header::CONTENT_TYPE, media_type),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_raster_images_are_recognised_by_their_first_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(&[0xff, 0xd8, 0xff, 0xe0]), Some("image/jpeg"));
        assert_eq!(sniff(b"GIF89a.."), Some("image/gif"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"<svg xmlns=\"http://www.w3.org/2000/svg\">"), None);
        assert_eq!(sniff(b"<!doctype html>"), None);
        assert_eq!(sniff(b""), None);
    }
}
