//! Staff passkeys in a sign-in (WebAuthn, issue #21): registering one, signing in with a passkey
//! alone (a discoverable credential: the authenticator names the account, nobody types an
//! address), and a passkey as the second factor after the password or as a step-up.
//!
//! Every ceremony's state (the challenge and what the library needs to check the answer) waits
//! in the shared state store for [`CEREMONY_TTL`], never in this process's memory, so any node
//! can finish what another started. It is bound to what only this browser holds: the session
//! (registration, step-up), the parked password login's cookie (second factor), or a cookie of
//! its own (passkey login); and it is taken when the answer comes, so a challenge answers once.
//! webauthn-rs checks the answer (challenge, origin, relying party id hash, user verification,
//! signature, signature counter); nothing here checks WebAuthn by hand.
//!
//! Attempts count under the login's counters, per address (shared with the password login and
//! the codes) and per account (shared with the codes), reserved before the check in one atomic
//! step; only a success gives its place back. A passkey login learns the account it claims from
//! the answer's user handle before anything is checked, and reserves on that account too. Every
//! refusal reads the same to the browser, whatever failed, so the passkey login tells nobody
//! which accounts or credentials exist. No ceremony state, credential or assertion is logged.

use std::net::IpAddr;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, header};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    CreationChallengeResponse, DiscoverableAuthentication, DiscoverableKey, Passkey,
    PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, Uuid,
};

use directory::Actor;
use directory::passkeys::StaffPasskey;
use directory::people::StaffStatus;

use super::second_factor::{code_failure_key, ip_failure_key};
use crate::app_state::{AppState, WebConfig};
use crate::http::{PageError, cookie_value, random_token, sha256_hex};
use crate::session::SecondFactor;
use crate::state::{Attempt, StateError, StateStore, release_all, reserve_all};
use crate::webauthn::{Webauthn, credential_id_text};

/// How long a ceremony waits for the authenticator's answer.
pub const CEREMONY_TTL: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    #[error("register: {0}")]
    Directory(#[from] directory::DirectoryError),
    #[error("state store: {0}")]
    State(#[from] StateError),
    #[error("stored ceremony or passkey: {0}")]
    Corrupt(#[from] serde_json::Error),
    #[error("the staff id {0:?} is not a UUID, which a passkey's user handle must be")]
    UserHandle(String),
    #[error("starting a WebAuthn ceremony: {0}")]
    Start(webauthn_rs::prelude::WebauthnError),
}

impl From<PasskeyError> for PageError {
    fn from(e: PasskeyError) -> PageError {
        PageError::internal(e)
    }
}

/// What became of an authenticator's answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome<T> {
    Accepted(T),
    /// Not accepted: no ceremony waiting (too late, or answered already), an answer that is not
    /// WebAuthn, or one the library or the register refused. One answer for all of them.
    Refused,
    /// Too many failures for this account or from this address; try again after this long.
    Throttled(Duration),
}

fn registration_key(sid: &str) -> String {
    format!("passkey-registration:{}", sha256_hex(sid))
}

fn second_factor_key(binding: &str) -> String {
    format!("passkey-2fa:{}", sha256_hex(binding))
}

fn login_key(id: &str) -> String {
    format!("passkey-login:{}", sha256_hex(id))
}

fn login_cookie(web: &WebConfig) -> &'static str {
    if web.secure_cookies {
        "__Host-openpoort-passkey"
    } else {
        "openpoort-passkey"
    }
}

/// Keeps a ceremony's state under `key` until its answer comes, at the most [`CEREMONY_TTL`].
async fn put_ceremony(
    state: &AppState,
    key: &str,
    ceremony: &impl Serialize,
) -> Result<(), PasskeyError> {
    let stored = serde_json::to_vec(ceremony)?;
    state.state.put(key, &stored, CEREMONY_TTL).await?;
    Ok(())
}

/// Takes the ceremony waiting under `key`: taken, so that a challenge answers once, whatever
/// the answer. `None` when none waits (too late, or answered already).
async fn take_ceremony<T: DeserializeOwned>(
    state: &AppState,
    key: &str,
) -> Result<Option<T>, PasskeyError> {
    match state.state.take(key).await? {
        Some(raw) => Ok(Some(serde_json::from_slice(&raw)?)),
        None => Ok(None),
    }
}

/// The user handle of a staff member's passkeys: their staff id, a random UUID that says
/// nothing about them.
fn user_handle(staff_id: &str) -> Result<Uuid, PasskeyError> {
    Uuid::parse_str(staff_id).map_err(|_| PasskeyError::UserHandle(staff_id.to_owned()))
}

/// Reserves one attempt on every counter in `limits`; the wait when one is full.
async fn reserve(state: &AppState, limits: &[(&str, u64)]) -> Result<Option<Duration>, StateError> {
    let web = &state.web;
    match reserve_all(&state.state, limits, web.failure_window).await? {
        Attempt::Admitted(_) => Ok(None),
        Attempt::Refused(index) => Ok(Some(
            state
                .state
                .ttl(limits[index].0)
                .await?
                .unwrap_or(web.failure_window),
        )),
    }
}

/// A stored passkey, checked against a fresh answer, and recorded as used: true when the use was
/// recorded against the credential as the check read it (see
/// `Directory::record_passkey_use`).
async fn record_use(
    state: &AppState,
    credential_id: &str,
    seen: &str,
    mut passkey: Passkey,
    result: &webauthn_rs::prelude::AuthenticationResult,
) -> Result<bool, PasskeyError> {
    let updated = match passkey.update_credential(result) {
        Some(true) => Some(serde_json::to_string(&passkey)?),
        _ => None,
    };
    Ok(state
        .directory
        .record_passkey_use(credential_id, seen, updated.as_deref())
        .await?)
}

// Registration.

/// Starts registering a passkey for the signed-in staff member of session `sid`: the options for
/// `navigator.credentials.create`. A newer start replaces an older one of the same session.
pub async fn start_registration(
    state: &AppState,
    rp: &Webauthn,
    staff_id: &str,
    sid: &str,
) -> Result<CreationChallengeResponse, PasskeyError> {
    let staff = state.directory.staff_by_id(staff_id).await?;
    let (name, display) = match &staff {
        Some(s) => (s.email.clone().unwrap_or_default(), s.shown_name()),
        None => (String::new(), String::new()),
    };
    let name = if name.is_empty() {
        "openpoort".to_owned()
    } else {
        name
    };
    let display = if display.is_empty() {
        name.clone()
    } else {
        display
    };
    // The authenticator is told which of this person's passkeys it holds already.
    let exclude = state
        .directory
        .staff_passkeys(staff_id)
        .await?
        .iter()
        .filter_map(|p| serde_json::from_str::<Passkey>(&p.passkey).ok())
        .map(|p| p.cred_id().clone())
        .collect();
    let (options, ceremony) = rp
        .start_passkey_registration(user_handle(staff_id)?, &name, &display, Some(exclude))
        .map_err(PasskeyError::Start)?;
    put_ceremony(state, &registration_key(sid), &ceremony).await?;
    Ok(options)
}

/// Finishes the registration of session `sid` with the authenticator's answer (the JSON the
/// page's script posts) and stores the passkey under `name`. The ceremony is taken first: an
/// answer is checked once.
pub async fn finish_registration(
    state: &AppState,
    rp: &Webauthn,
    staff_id: &str,
    sid: &str,
    answer: &str,
    name: &str,
) -> Result<Outcome<String>, PasskeyError> {
    let Some(ceremony) =
        take_ceremony::<PasskeyRegistration>(state, &registration_key(sid)).await?
    else {
        return Ok(Outcome::Refused);
    };
    let Ok(answer) = serde_json::from_str::<RegisterPublicKeyCredential>(answer) else {
        return Ok(Outcome::Refused);
    };
    let passkey = match rp.finish_passkey_registration(&answer, &ceremony) {
        Ok(p) => p,
        Err(e) => {
            tracing::info!(staff = %staff_id, error = %e, "passkey registration refused");
            return Ok(Outcome::Refused);
        }
    };
    let credential_id = credential_id_text(passkey.cred_id().as_ref());
    let id = match state
        .directory
        .register_passkey(
            staff_id,
            &credential_id,
            &serde_json::to_string(&passkey)?,
            name,
            &Actor::staff(staff_id),
        )
        .await
    {
        Ok(id) => id,
        // Registered before (to this account or another): the register keeps one.
        Err(directory::DirectoryError::Conflict { .. }) => return Ok(Outcome::Refused),
        Err(e) => return Err(e.into()),
    };
    tracing::info!(staff = %staff_id, passkey = %id, "passkey registered");
    Ok(Outcome::Accepted(id))
}

// The passkey as second factor, after the password or as a step-up.

#[derive(Serialize, Deserialize)]
struct SecondFactorCeremony {
    staff_id: String,
    ceremony: PasskeyAuthentication,
}

/// Starts a passkey check of `staff_id`'s passkeys, bound to `binding` (the parked login's key,
/// or the session's id for a step-up): the options for `navigator.credentials.get`, or `None`
/// when they have no passkey.
pub async fn start_second_factor(
    state: &AppState,
    rp: &Webauthn,
    staff_id: &str,
    binding: &str,
) -> Result<Option<RequestChallengeResponse>, PasskeyError> {
    let passkeys: Vec<Passkey> = state
        .directory
        .staff_passkeys(staff_id)
        .await?
        .iter()
        .map(|p| serde_json::from_str(&p.passkey))
        .collect::<Result<_, _>>()?;
    if passkeys.is_empty() {
        return Ok(None);
    }
    let (options, ceremony) = rp
        .start_passkey_authentication(&passkeys)
        .map_err(PasskeyError::Start)?;
    let stored = SecondFactorCeremony {
        staff_id: staff_id.to_owned(),
        ceremony,
    };
    put_ceremony(state, &second_factor_key(binding), &stored).await?;
    Ok(Some(options))
}

/// Checks the authenticator's answer to the check bound to `binding`, for `staff_id`, from
/// `ip`, under the login's counters.
pub async fn finish_second_factor(
    state: &AppState,
    rp: &Webauthn,
    staff_id: &str,
    binding: &str,
    ip: IpAddr,
    answer: &str,
) -> Result<Outcome<SecondFactor>, PasskeyError> {
    let (ip_key, account_key) = (ip_failure_key(ip), code_failure_key(staff_id));
    let web = &state.web;
    let limits = [
        (ip_key.as_str(), web.max_failures_per_ip),
        (account_key.as_str(), web.max_failures_per_account),
    ];
    if let Some(wait) = reserve(state, &limits).await? {
        return Ok(Outcome::Throttled(wait));
    }
    let accepted = check_second_factor(state, rp, staff_id, binding, answer).await?;
    if accepted {
        release_all(&state.state, &[&ip_key, &account_key]).await?;
        Ok(Outcome::Accepted(SecondFactor::Passkey))
    } else {
        tracing::info!(staff = %staff_id, %ip, "passkey refused as second factor");
        Ok(Outcome::Refused)
    }
}

/// The passkey with this credential id as the register holds it now, when it is `staff_id`'s.
async fn own_passkey(
    state: &AppState,
    credential_id: &str,
    staff_id: &str,
) -> Result<Option<(StaffPasskey, Passkey)>, PasskeyError> {
    match state.directory.passkey_by_credential(credential_id).await? {
        Some(found) if found.staff_id == staff_id => {
            let passkey = serde_json::from_str(&found.passkey)?;
            Ok(Some((found, passkey)))
        }
        _ => Ok(None),
    }
}

async fn check_second_factor(
    state: &AppState,
    rp: &Webauthn,
    staff_id: &str,
    binding: &str,
    answer: &str,
) -> Result<bool, PasskeyError> {
    let Some(stored) =
        take_ceremony::<SecondFactorCeremony>(state, &second_factor_key(binding)).await?
    else {
        return Ok(false);
    };
    if stored.staff_id != staff_id {
        return Ok(false);
    }
    let Ok(answer) = serde_json::from_str::<PublicKeyCredential>(answer) else {
        return Ok(false);
    };
    let credential_id = credential_id_text(answer.get_credential_id());
    // The library accepts only the passkeys the ceremony named; the register must still hold
    // the one used (it may have been removed since the page was shown).
    let Some((found, passkey)) = own_passkey(state, &credential_id, staff_id).await? else {
        return Ok(false);
    };
    let result = match rp.finish_passkey_authentication(&answer, &stored.ceremony) {
        Ok(r) if r.user_verified() => r,
        Ok(_) => return Ok(false),
        Err(e) => {
            tracing::info!(staff = %staff_id, error = %e, "passkey assertion refused");
            return Ok(false);
        }
    };
    record_use(state, &credential_id, &found.passkey, passkey, &result).await
}

// Signing in with a passkey alone.

/// Starts a passkey login in this browser: the options for `navigator.credentials.get` (no
/// credentials named: the authenticator offers the ones it holds for openpoort) and the
/// `Set-Cookie` that binds the ceremony to this browser.
pub async fn start_login(
    state: &AppState,
    rp: &Webauthn,
) -> Result<(RequestChallengeResponse, HeaderMap), PasskeyError> {
    let (options, ceremony) = rp
        .start_discoverable_authentication()
        .map_err(PasskeyError::Start)?;
    let id = random_token();
    put_ceremony(state, &login_key(&id), &ceremony).await?;
    let mut h = HeaderMap::new();
    h.insert(
        header::SET_COOKIE,
        state
            .web
            .cookie(login_cookie(&state.web), &id, Some(CEREMONY_TTL.as_secs())),
    );
    Ok((options, h))
}

/// The `Set-Cookie` value that removes the passkey login's cookie.
pub fn clear_login_cookie(web: &WebConfig) -> HeaderValue {
    web.cookie(login_cookie(web), "", Some(0))
}

/// A staff member signed in by a passkey, under their current session epoch.
#[derive(Debug, PartialEq, Eq)]
pub struct SignedInBy {
    pub staff_id: String,
    pub epoch: i64,
}

/// Checks the answer to this browser's passkey login, from `ip`.
pub async fn finish_login(
    state: &AppState,
    rp: &Webauthn,
    headers: &HeaderMap,
    ip: IpAddr,
    answer: &str,
) -> Result<Outcome<SignedInBy>, PasskeyError> {
    // The account the answer claims (its user handle), read before anything is checked, so that
    // the attempt counts on that account as well as on the address.
    let parsed = serde_json::from_str::<PublicKeyCredential>(answer).ok();
    let claimed = parsed.as_ref().and_then(|a| {
        rp.identify_discoverable_authentication(a)
            .ok()
            .map(|(user, _)| user.to_string())
    });
    let ip_key = ip_failure_key(ip);
    let account_key = claimed.as_deref().map(code_failure_key);
    let web = &state.web;
    let mut limits = vec![(ip_key.as_str(), web.max_failures_per_ip)];
    if let Some(k) = &account_key {
        limits.push((k.as_str(), web.max_failures_per_account));
    }
    if let Some(wait) = reserve(state, &limits).await? {
        return Ok(Outcome::Throttled(wait));
    }
    let signed_in = match (parsed, claimed) {
        (Some(answer), Some(claimed)) => check_login(state, rp, headers, &answer, &claimed).await?,
        _ => None,
    };
    match signed_in {
        Some(who) => {
            let keys: Vec<&str> = limits.iter().map(|(k, _)| *k).collect();
            release_all(&state.state, &keys).await?;
            Ok(Outcome::Accepted(who))
        }
        None => {
            tracing::info!(%ip, "passkey login refused");
            Ok(Outcome::Refused)
        }
    }
}

async fn check_login(
    state: &AppState,
    rp: &Webauthn,
    headers: &HeaderMap,
    answer: &PublicKeyCredential,
    claimed: &str,
) -> Result<Option<SignedInBy>, PasskeyError> {
    let Some(id) = cookie_value(headers, login_cookie(&state.web)) else {
        return Ok(None);
    };
    let Some(ceremony) = take_ceremony::<DiscoverableAuthentication>(state, &login_key(id)).await?
    else {
        return Ok(None);
    };
    let credential_id = credential_id_text(answer.get_credential_id());
    // The credential must be the claimed account's own.
    let Some((found, passkey)) = own_passkey(state, &credential_id, claimed).await? else {
        return Ok(None);
    };
    let result = match rp.finish_discoverable_authentication(
        answer,
        ceremony,
        &[DiscoverableKey::from(&passkey)],
    ) {
        Ok(r) if r.user_verified() => r,
        Ok(_) => return Ok(None),
        Err(e) => {
            tracing::info!(error = %e, "passkey assertion refused");
            return Ok(None);
        }
    };
    // Only an active account signs in; the answer is the same as for a wrong passkey.
    let Some((status, epoch)) = state.directory.staff_session_state(&found.staff_id).await? else {
        return Ok(None);
    };
    if status != StaffStatus::Active {
        return Ok(None);
    }
    if !record_use(state, &credential_id, &found.passkey, passkey, &result).await? {
        return Ok(None);
    }
    Ok(Some(SignedInBy {
        staff_id: found.staff_id,
        epoch,
    }))
}
