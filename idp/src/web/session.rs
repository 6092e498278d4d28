//! Staff sessions on the short-lived state store.
//!
//! The browser holds a random id; the store holds the session under a SHA-256 of that id, so a
//! copy of Redis holds no usable session. A session is valid while it is younger than the
//! absolute timeout, used within the idle timeout, and created under the staff member's current
//! session epoch with the account still active: a password change, "log out everywhere" or a
//! deactivation therefore ends it on every node at once.

use std::time::Duration;

use axum::http::{HeaderMap, header};
use serde::{Deserialize, Serialize};

use directory::people::StaffStatus;

use super::{WebConfig, cookie_value, random_token, sha256_hex};
use crate::server::AppState;
use crate::state::StateStore;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionData {
    pub staff_id: String,
    pub school_id: Option<String>,
    pub epoch: i64,
    pub created_at: i64,
    pub last_seen: i64,
}

/// A loaded session and the key it lives under.
pub struct Session {
    key: String,
    pub data: SessionData,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("session store: {0}")]
    State(#[from] crate::state::StateError),
    #[error("register: {0}")]
    Directory(#[from] directory::DirectoryError),
    #[error("session record: {0}")]
    Corrupt(#[from] serde_json::Error),
    #[error("new session id collided with a live one")]
    Collision,
}

/// How often last_seen is written back: every request would turn each page view into a store
/// write; a minute of slack on a 60-minute idle timeout is immaterial.
const TOUCH_AFTER: i64 = 60;

fn key_of(id: &str) -> String {
    format!("session:{}", sha256_hex(id))
}

fn now() -> i64 {
    crate::app::unix_now()
}

fn ttl(web: &WebConfig, data: &SessionData, at: i64) -> Duration {
    let left = web.absolute.as_secs() as i64 - (at - data.created_at);
    Duration::from_secs(left.clamp(1, web.idle.as_secs() as i64) as u64)
}

/// Starts a fresh session (always a new id: an id from before the login is never reused) and
/// returns the `Set-Cookie` header for it.
pub async fn create(
    state: &AppState,
    staff_id: &str,
    school_id: Option<String>,
    epoch: i64,
) -> Result<HeaderMap, SessionError> {
    let id = random_token();
    let at = now();
    let data = SessionData {
        staff_id: staff_id.to_owned(),
        school_id,
        epoch,
        created_at: at,
        last_seen: at,
    };
    // Never overwrite: a new login must not be able to take over a live session, however
    // unlikely a collision of 256 random bits is.
    let stored = state
        .state
        .put_if_absent(
            &key_of(&id),
            &serde_json::to_vec(&data)?,
            ttl(&state.web, &data, at),
        )
        .await?;
    if !stored {
        return Err(SessionError::Collision);
    }
    let mut h = HeaderMap::new();
    h.insert(
        header::SET_COOKIE,
        state.web.cookie(state.web.session_cookie, &id, None),
    );
    Ok(h)
}

/// The valid session of this request, if any. Invalid ones are removed on the way.
pub async fn load(state: &AppState, headers: &HeaderMap) -> Result<Option<Session>, SessionError> {
    let Some(id) = cookie_value(headers, state.web.session_cookie) else {
        return Ok(None);
    };
    let key = key_of(id);
    let Some(raw) = state.state.get(&key).await? else {
        return Ok(None);
    };
    let mut data: SessionData = serde_json::from_slice(&raw)?;
    let at = now();
    let expired = at - data.created_at >= state.web.absolute.as_secs() as i64
        || at - data.last_seen >= state.web.idle.as_secs() as i64;
    let current = match state.directory.staff_session_state(&data.staff_id).await? {
        Some((StaffStatus::Active, epoch)) => epoch == data.epoch,
        _ => false,
    };
    if expired || !current {
        state.state.delete(&key).await?;
        return Ok(None);
    }
    if at - data.last_seen >= TOUCH_AFTER {
        data.last_seen = at;
        state
            .state
            .put(
                &key,
                &serde_json::to_vec(&data)?,
                ttl(&state.web, &data, at),
            )
            .await?;
    }
    Ok(Some(Session { key, data }))
}

impl Session {
    /// Stores changed session data (the chosen school) under the same id.
    pub async fn save(&self, state: &AppState) -> Result<(), SessionError> {
        state
            .state
            .put(
                &self.key,
                &serde_json::to_vec(&self.data)?,
                ttl(&state.web, &self.data, now()),
            )
            .await?;
        Ok(())
    }

    pub async fn destroy(self, state: &AppState) -> Result<(), SessionError> {
        state.state.delete(&self.key).await?;
        Ok(())
    }
}

/// The `Set-Cookie` that removes the session cookie.
pub fn clear_cookie(web: &WebConfig) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        header::SET_COOKIE,
        web.cookie(web.session_cookie, "", Some(0)),
    );
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn data(created_at: i64, last_seen: i64) -> SessionData {
        SessionData {
            staff_id: "s".into(),
            school_id: None,
            epoch: 0,
            created_at,
            last_seen,
        }
    }

    #[test]
    fn stored_lifetime_is_the_idle_timeout_capped_by_the_absolute_one() {
        let web = WebConfig::from_config(&Config::default()); // 60 minutes idle, 12 hours absolute
        assert_eq!(ttl(&web, &data(0, 0), 0), Duration::from_secs(3_600));
        // Forty minutes before the absolute end, the session cannot outlive it.
        let late = 12 * 3_600 - 40 * 60;
        assert_eq!(
            ttl(&web, &data(0, late), late),
            Duration::from_secs(40 * 60)
        );
        // Past the end: the shortest lifetime the store accepts, and load() refuses it anyway.
        assert_eq!(ttl(&web, &data(0, 0), 13 * 3_600), Duration::from_secs(1));
    }

    #[test]
    fn session_keys_do_not_contain_the_id() {
        let id = random_token();
        let key = key_of(&id);
        assert!(!key.contains(&id));
        assert_eq!(key, key_of(&id));
    }
}
