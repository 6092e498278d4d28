//! OpenID Provider metadata at `/.well-known/openid-configuration`.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::app_state::AppState;

pub async fn discovery(State(state): State<AppState>) -> Response {
    (
        // Relying parties cache this; an hour keeps endpoint changes reasonably quick.
        [(header::CACHE_CONTROL, "public, max-age=3600")],
        axum::Json(metadata::discovery::discovery_document(
            &state.web.public_url,
        )),
    )
        .into_response()
}
