//! The JWK Set: current and next keys of each algorithm, so that relying parties already hold
//! the next key when a rotation makes it current, and the keys retired within
//! `keys.retired_published_days`, so that ID tokens signed before a rotation still verify.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::server_error;
use crate::app_state::AppState;

pub async fn jwks(State(state): State<AppState>) -> Response {
    let mut records = Vec::new();
    for alg in certs::Algorithm::ALL {
        match state.keys.published(alg, crate::clock::unix_now()).await {
            Ok(r) => records.extend(r),
            Err(e) => return server_error(e),
        }
    }
    match metadata::jwks::jwk_set(&records) {
        // Short caching: a rotation must reach relying parties well within a day.
        Ok(set) => (
            [(header::CACHE_CONTROL, "public, max-age=600")],
            axum::Json(set),
        )
            .into_response(),
        Err(e) => server_error(e),
    }
}
