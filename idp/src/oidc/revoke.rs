//! Token revocation (RFC 7009). Revoking a refresh token ends its whole family (the access
//! tokens issued with it too); an unknown or foreign token is answered like a revoked one.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::client_auth::AuthenticatedClient;
use super::server_error;
use crate::app_state::AppState;
use crate::grants::{AccessGrant, RefreshGrant, access_key, get_json, refresh_key, revoke_family};
use crate::state::StateStore;

pub async fn revoke(
    State(state): State<AppState>,
    AuthenticatedClient { client, form }: AuthenticatedClient,
) -> Response {
    let mut response = revoke_for(&state, &client, &form).await;
    super::cors::allow_client(&mut response, &client);
    response
}

async fn revoke_for(
    state: &AppState,
    client: &crate::grants::Client,
    form: &std::collections::HashMap<String, String>,
) -> Response {
    let Some(token) = form.get("token") else {
        return super::oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "token is missing",
        );
    };
    let result = async {
        if let Some(grant) = get_json::<RefreshGrant>(state, &refresh_key(token)).await?
            && grant.client_id == client.id()
        {
            state.state.delete(&refresh_key(token)).await?;
            revoke_family(state, &grant.family).await?;
        } else if let Some(grant) = get_json::<AccessGrant>(state, &access_key(token)).await?
            && grant.client_id == client.id()
        {
            state.state.delete(&access_key(token)).await?;
        }
        Ok::<(), super::OidcError>(())
    }
    .await;
    match result {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => server_error(e),
    }
}
