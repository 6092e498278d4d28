//! The UserInfo endpoint: the claims released with the access token, nothing more.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{bearer, server_error};
use crate::app_state::AppState;
use crate::grants::live_grant;

fn invalid_token() -> Response {
    let mut r = (
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({"error": "invalid_token"})),
    )
        .into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"openpoort\", error=\"invalid_token\""),
    );
    r
}

pub async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let refused = || async {
        let mut r = invalid_token();
        if headers.contains_key(header::ORIGIN) {
            super::cors::allow_public_clients(&mut r, &state).await;
        }
        r
    };
    let Some(token) = bearer(&headers) else {
        return refused().await;
    };
    let grant = match live_grant(&state, token).await {
        Ok(Some(g)) if g.scopes.iter().any(|s| s == "openid") => g,
        Ok(_) => return refused().await,
        Err(e) => return server_error(e),
    };
    // The client is read only for a cross-origin request, the one case that needs it.
    let client = match headers.get(header::ORIGIN) {
        Some(_) => match crate::grants::load_client(&state, &grant.client_id).await {
            Ok(c) => c,
            Err(e) => return server_error(e),
        },
        None => None,
    };
    let mut claims = grant.claims;
    claims.insert("sub".into(), Value::String(grant.sub));
    let mut r = axum::Json(Value::Object(claims)).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(client) = client {
        super::cors::allow_client(&mut r, &client);
    }
    r
}
