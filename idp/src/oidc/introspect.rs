//! Token introspection (RFC 7662) for the resource servers of a party: a confidential client may
//! introspect tokens issued to any client of its own party, and learns nothing about others'.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::client_auth::AuthenticatedClient;
use super::{json_no_store, server_error};
use crate::app_state::AppState;
use crate::grants::live_grant;

pub async fn introspect(
    State(state): State<AppState>,
    AuthenticatedClient { client, form }: AuthenticatedClient,
) -> Response {
    if client.registration.is_public() {
        return super::oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "public clients cannot introspect",
        );
    }
    let Some(token) = form.get("token") else {
        return super::oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "token is missing",
        );
    };
    match live_grant(&state, token).await {
        Ok(Some(g)) if g.party_id == client.registration.party_id => json_no_store(
            StatusCode::OK,
            json!({
                "active": true,
                "client_id": g.client_id,
                "sub": g.sub,
                "scope": g.scopes.join(" "),
                "token_type": "Bearer",
                "iat": g.issued_at,
                "exp": g.expires_at,
                "iss": state.web.public_url,
            }),
        ),
        Ok(_) => json_no_store(StatusCode::OK, json!({"active": false})),
        Err(e) => server_error(e),
    }
}
