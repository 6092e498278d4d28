//! The end of a session, whichever protocol or page ended it: the token families it issued end,
//! and every OpenID Connect relying party that received tokens in it is told by back-channel
//! logout (in the background: a slow or dead relying party must not hold up the user).

use std::time::Duration;

use serde_json::json;

use crate::app_state::AppState;
use crate::clock::unix_now;
use crate::http::random_token;
use crate::session::{self, SessionData, Who};
use crate::state::StateStore;

#[derive(Debug, thiserror::Error)]
pub enum LogoutError {
    #[error("state store: {0}")]
    State(#[from] crate::state::StateError),
    #[error("stored relying party: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Grant(#[from] crate::grants::GrantError),
}

impl From<LogoutError> for crate::http::PageError {
    fn from(e: LogoutError) -> crate::http::PageError {
        crate::http::PageError::internal(e)
    }
}

/// One relying party that received tokens in one session, remembered per user so that
/// "log out everywhere" can tell every client of every session.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Delivery {
    sid: String,
    client: String,
}

fn deliveries_key(user_id: &str) -> String {
    format!("oidc:user-rps:{}", crate::http::sha256_hex(user_id))
}

pub async fn remember_relying_party(
    state: &AppState,
    subject: &crate::grants::GrantSubject,
    client_id: &str,
) -> Result<(), LogoutError> {
    let entry = Delivery {
        sid: subject.sid.clone(),
        client: client_id.to_owned(),
    };
    // An addition to a set: parallel logins of one user all stay remembered.
    state
        .state
        .add_to_set(
            &deliveries_key(subject.user_id()),
            &serde_json::to_vec(&entry)?,
            crate::grants::REFRESH_TOKEN_TTL,
        )
        .await?;
    Ok(())
}

fn user_of(data: &SessionData) -> &str {
    match &data.who {
        Who::Staff { staff_id, .. } => staff_id,
        Who::Pupil { pupil_id, .. } => pupil_id,
    }
}

/// A session ended: the token families it issued end too, and its relying parties are told.
pub async fn session_ended(state: &AppState, data: &SessionData) -> Result<(), LogoutError> {
    let grants = session::take_grants(state, &data.sid).await?;
    for family in &grants.families {
        crate::grants::revoke_family(state, family).await?;
    }
    let deliveries = grants
        .clients
        .into_iter()
        .map(|client| Delivery {
            sid: data.sid.clone(),
            client,
        })
        .collect();
    send_all(state, user_of(data).to_owned(), deliveries);
    Ok(())
}

/// Every session of a user ended (log out everywhere, password change): tell every relying
/// party of every one of them. Their refresh tokens already fail on the session epoch.
pub async fn all_sessions_ended(state: &AppState, user_id: &str) -> Result<(), LogoutError> {
    let list = state
        .state
        .take_set(&deliveries_key(user_id))
        .await?
        .iter()
        .map(|raw| serde_json::from_slice::<Delivery>(raw))
        .collect::<Result<Vec<_>, _>>()?;
    send_all(state, user_id.to_owned(), list);
    Ok(())
}

/// Sends logout tokens in the background: a slow or dead relying party must not hold up the
/// user's logout.
fn send_all(state: &AppState, user_id: String, deliveries: Vec<Delivery>) {
    if deliveries.is_empty() {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        for d in &deliveries {
            if let Err(e) = send_one(&state, &user_id, &d.sid, &d.client).await {
                tracing::warn!(client = %d.client, error = %e, "back-channel logout failed");
            }
        }
    });
}

async fn send_one(
    state: &AppState,
    user_id: &str,
    sid: &str,
    client_id: &str,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let Some(client) = crate::grants::load_client(state, client_id).await? else {
        return Ok(());
    };
    let Some(uri) = client.registration.backchannel_logout_uri.clone() else {
        return Ok(());
    };
    let t = unix_now();
    let claims = json!({
        "iss": state.web.public_url,
        "aud": client.id(),
        "iat": t,
        "exp": t + 120,
        "jti": random_token(),
        "sub": state.broker.pseudonym(&client.sector(), user_id)?,
        "sid": sid,
        "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
    });
    let key = state
        .keys
        .current_signing_key(client.registration.id_token_signed_response_alg)
        .await?;
    let token = metadata::jose::sign(&key, "logout+jwt", &claims)?;
    // Within the outbound policy like every fetch; the client's resolver checks a host name.
    let uri = state.http.policy().check_url(&uri)?;
    state
        .http
        .client()
        .post(uri)
        .timeout(Duration::from_secs(5))
        .form(&[("logout_token", token)])
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}
