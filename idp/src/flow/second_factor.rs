//! The second factor of a staff login (issue #21): after a correct password, a staff member
//! with an authenticator is not signed in yet. The login waits in the state store (a few
//! minutes, under a hash of a random value only this browser holds in a cookie) until a code of
//! the authenticator or a recovery code finishes it. A relying party that asks for the second
//! factor (`acr_values`) of a session signed in with the password alone is sent to the same
//! code page, which then raises that session (step-up).
//!
//! Codes are checked under the password login's counters, per account and per address, each
//! attempt reserved before the check (atomically, so parallel guesses get no more tries than the
//! limit) and only a success given back. An authenticator's code is single-use: its time step is
//! accepted by a conditional update in the register that moves the last accepted step forward,
//! so of two submissions of one code, also at the same moment and on different nodes, one is
//! admitted, and it stays used when the state store is emptied. A recovery code is used up by a
//! conditional update in the register too.
//!
//! A staff member whom the policy of one of their schools requires to have a second factor, and
//! who has none, is not signed in by the password either: the login is parked the same way,
//! marked `enrol`, and only setting up an authenticator finishes it (`/inloggen/instellen`).
//! Until then there is no session at all, so nothing (the portal, Beheer, an OIDC or SAML
//! release) can be reached by skipping the set-up.

use std::net::IpAddr;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, header};
use serde::{Deserialize, Serialize};

use directory::Actor;

use crate::app_state::{AppState, WebConfig};
use crate::clock::unix_now;
use crate::http::{PageError, address_key, cookie_value, random_token, sha256_hex, url_encode};
use crate::session::{SecondFactor, SessionData};
use crate::state::{Attempt, StateError, StateStore, release_all, reserve_all};
use crate::totp;

/// How long a password login waits for its code.
pub const PENDING_TTL: Duration = Duration::from_secs(5 * 60);
/// How long a password login waits for the set-up of an authenticator the policy requires
/// (installing an app takes longer than typing a code), and a shown secret for its confirmation.
pub const ENROLMENT_TTL: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, thiserror::Error)]
pub enum FactorError {
    #[error("register: {0}")]
    Directory(#[from] directory::DirectoryError),
    #[error("state store: {0}")]
    State(#[from] StateError),
    #[error("parked login: {0}")]
    Corrupt(#[from] serde_json::Error),
    #[error("a new parked login's id collided with a live one")]
    Collision,
}

impl From<FactorError> for PageError {
    fn from(e: FactorError) -> PageError {
        PageError::internal(e)
    }
}

/// The code page, coming back to `back` (a path of openpoort's own) afterwards.
pub fn to_code(back: &str) -> String {
    format!("/inloggen/code?next={}", url_encode(back))
}

/// Whether a session can be raised by a second factor alone (step-up), when a relying party
/// asks for one: a staff member's password login without one, with an authenticator or a
/// passkey.
pub async fn can_step_up(
    state: &AppState,
    data: &SessionData,
) -> Result<bool, directory::DirectoryError> {
    let Some(staff_id) = data.staff_id() else {
        return Ok(false);
    };
    if data.context != broker::Context::Password || data.second_factor.is_some() {
        return Ok(false);
    }
    state.directory.staff_has_second_factor(staff_id).await
}

/// A password login waiting for its second factor.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Pending {
    pub staff_id: String,
    /// The session epoch at the password check: a password change meanwhile voids the login.
    pub epoch: i64,
    /// Where the login goes on to (a parked protocol request), as the login form had it.
    pub next: Option<String>,
    /// The policy requires a second factor and there is none: only setting one up finishes
    /// this login (the code page does not).
    #[serde(default)]
    pub enrol: bool,
}

impl Pending {
    fn ttl(&self) -> Duration {
        if self.enrol {
            ENROLMENT_TTL
        } else {
            PENDING_TTL
        }
    }
}

/// Where a parked login that must set up a second factor does so.
pub const ENROL_PATH: &str = "/inloggen/instellen";

/// Whether the policy of any school the staff member works at requires them to have a second
/// factor (the operator's default for a school without a policy of its own). Asked of a
/// password login without a factor: then only setting one up finishes it.
pub async fn policy_requires(
    state: &AppState,
    staff_id: &str,
) -> Result<bool, directory::DirectoryError> {
    state
        .directory
        .second_factor_required(staff_id, state.web.second_factor_policy)
        .await
}

fn cookie_name(web: &WebConfig) -> &'static str {
    if web.secure_cookies {
        "__Host-openpoort-2fa"
    } else {
        "openpoort-2fa"
    }
}

fn pending_key(id: &str) -> String {
    format!("login-2fa:{}", sha256_hex(id))
}

/// Parks a password login; returns the `Set-Cookie` that binds it to this browser.
pub async fn park(state: &AppState, pending: &Pending) -> Result<HeaderMap, FactorError> {
    let id = random_token();
    let stored = state
        .state
        .put_if_absent(
            &pending_key(&id),
            &serde_json::to_vec(pending)?,
            pending.ttl(),
        )
        .await?;
    if !stored {
        // 256 random bits collided with a live login: never take it over.
        return Err(FactorError::Collision);
    }
    let mut h = HeaderMap::new();
    h.insert(
        header::SET_COOKIE,
        state
            .web
            .cookie(cookie_name(&state.web), &id, Some(pending.ttl().as_secs())),
    );
    Ok(h)
}

/// The login this browser parked, with the key it is parked under.
pub async fn parked(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(String, Pending)>, FactorError> {
    let Some(id) = cookie_value(headers, cookie_name(&state.web)) else {
        return Ok(None);
    };
    let key = pending_key(id);
    match state.state.get(&key).await? {
        Some(raw) => Ok(Some((key, serde_json::from_slice(&raw)?))),
        None => Ok(None),
    }
}

/// Ends a parked login (it was finished); `false` when another request finished it first.
pub async fn unpark(state: &AppState, key: &str) -> Result<bool, FactorError> {
    Ok(state.state.take(key).await?.is_some())
}

/// The `Set-Cookie` value that removes the parked login's cookie.
pub fn clear_cookie(web: &WebConfig) -> HeaderValue {
    web.cookie(cookie_name(web), "", Some(0))
}

/// What became of a typed code.
#[derive(Debug, PartialEq, Eq)]
pub enum Checked {
    Accepted(SecondFactor),
    /// Not a code of this account now: wrong, too old, used, or no factor enrolled.
    Wrong,
    /// Too many wrong codes for this account or from this address; try again after this long.
    Throttled(Duration),
}

/// The per-account failure counter of the second factor, shared by codes and passkeys.
pub fn code_failure_key(staff_id: &str) -> String {
    format!("code-fail:staff:{staff_id}")
}

/// The per-address failure counter, shared with the password login: an address guessing
/// passwords and codes is one address guessing.
pub fn ip_failure_key(ip: IpAddr) -> String {
    format!("login-fail:ip:{}", address_key(ip))
}

/// Checks what `staff_id` typed (an authenticator's code or a recovery code) from `ip`.
pub async fn check(
    state: &AppState,
    staff_id: &str,
    ip: IpAddr,
    input: &str,
) -> Result<Checked, FactorError> {
    let account_key = code_failure_key(staff_id);
    let ip_key = ip_failure_key(ip);
    let web = &state.web;
    let limits = [
        (ip_key.as_str(), web.max_failures_per_ip),
        (account_key.as_str(), web.max_failures_per_account),
    ];
    // Reserved before the check, in one step on both counters (see the module comment).
    if let Attempt::Refused(index) = reserve_all(&state.state, &limits, web.failure_window).await? {
        let wait = state
            .state
            .ttl(limits[index].0)
            .await?
            .unwrap_or(web.failure_window);
        return Ok(Checked::Throttled(wait));
    }
    match verify(state, staff_id, input).await? {
        Some(factor) => {
            // Only this attempt's place is given back; earlier wrong codes count on.
            release_all(&state.state, &[&ip_key, &account_key]).await?;
            Ok(Checked::Accepted(factor))
        }
        None => {
            tracing::info!(staff = %staff_id, %ip, "second factor refused");
            Ok(Checked::Wrong)
        }
    }
}

async fn verify(
    state: &AppState,
    staff_id: &str,
    input: &str,
) -> Result<Option<SecondFactor>, FactorError> {
    let Some(factor) = state.directory.staff_second_factor(staff_id).await? else {
        return Ok(None);
    };
    if totp::normalise_code(input).is_some() {
        let secret = state
            .directory
            .open_totp_secret(&factor, state.keys.kek())?;
        let Some(step) = totp::matching_step(&secret, input, unix_now()) else {
            return Ok(None);
        };
        let fresh = state.directory.accept_totp_step(staff_id, step).await?;
        return Ok(fresh.then_some(SecondFactor::Totp));
    }
    if let Some(hash) = totp::recovery_code_hash(input) {
        let left = state
            .directory
            .use_recovery_code(staff_id, &hash, &Actor::staff(staff_id))
            .await?;
        if let Some(left) = left {
            tracing::info!(staff = %staff_id, left, "recovery code used");
        }
        return Ok(left.map(|_| SecondFactor::RecoveryCode));
    }
    Ok(None)
}
