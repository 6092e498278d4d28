//! The UserInfo endpoint: the claims released with the access token, nothing more.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{AccessGrant, access_key, bearer, family_alive, get_json, server_error};
use crate::app::unix_now;
use crate::app_state::AppState;

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

/// The live grant behind a bearer token: known, unexpired, its family not revoked, and for a
/// staff member's token their sessions still standing.
pub async fn live_grant(
    state: &AppState,
    token: &str,
) -> Result<Option<AccessGrant>, super::OidcError> {
    let Some(grant) = get_json::<AccessGrant>(state, &access_key(token)).await? else {
        return Ok(None);
    };
    if grant.expires_at <= unix_now()
        || super::ended_by_deletion(state, &grant.client_id, grant.issued_at).await?
    {
        return Ok(None);
    }
    if let Some(f) = &grant.family
        && !family_alive(state, f).await?
    {
        return Ok(None);
    }
    // A staff member's access ends with their sessions, not ten minutes later.
    if let Some(who) = &grant.staff
        && !super::staff_sessions_stand(state, who).await?
    {
        return Ok(None);
    }
    Ok(Some(grant))
}

pub async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = bearer(&headers) else {
        return invalid_token();
    };
    let grant = match live_grant(&state, token).await {
        Ok(Some(g)) if g.scopes.iter().any(|s| s == "openid") => g,
        Ok(_) => return invalid_token(),
        Err(e) => return server_error(e),
    };
    let mut claims = grant.claims;
    claims.insert("sub".into(), Value::String(grant.sub));
    let mut r = axum::Json(Value::Object(claims)).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
