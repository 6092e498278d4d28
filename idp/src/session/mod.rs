//! Sessions of staff and pupils on the short-lived state store.
//!
//! The browser holds a random id; the store holds the session under a SHA-256 of that id, so a
//! copy of Redis holds no usable session. A session is valid while it is younger than the
//! absolute timeout, used within the idle timeout, and, for staff, created under the staff
//! member's current session epoch with the account still active: a password change, "log out
//! everywhere", a deactivation or a removal by import therefore ends it on every node at once.

pub mod guard;

use std::time::Duration;

use axum::http::{HeaderMap, header};

pub use guard::{SchoolManager, SignedIn, SignedInOperator, SignedInStaff};
use serde::{Deserialize, Serialize};

use broker::{Context, Subject};

use crate::app_state::AppState;
use crate::app_state::WebConfig;
use crate::clock::unix_now;
use crate::http::{cookie_value, random_token, sha256_hex};
use crate::state::{StateStore, Step};

/// Who is signed in.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Who {
    /// A staff member, under the session epoch that was current at login.
    Staff { staff_id: String, epoch: i64 },
    /// A pupil, with the group they picked at school (none at home).
    Pupil {
        pupil_id: String,
        group_id: Option<String>,
    },
}

/// The second factor a staff member proved at login, after the password.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SecondFactor {
    /// A code of their authenticator app (TOTP).
    Totp,
    /// One of their single-use recovery codes, standing in for a lost authenticator.
    RecoveryCode,
    /// One of their passkeys (WebAuthn, with user verification), after the password.
    Passkey,
    /// One of their passkeys alone, without the password: the authenticator proved possession
    /// of the key and verified the user (PIN or biometric), two factors in one step.
    PasskeyLogin,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionData {
    pub who: Who,
    pub school_id: Option<String>,
    /// How the session was opened: school network, home code or password; the release
    /// decision and the portal depend on it.
    pub context: Context,
    /// A product URL from the shortcut's TARGET, kept for the protocol endpoints to complete.
    pub target: Option<String>,
    /// The network provider that vouched for the user (its party code), for a brokered login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    pub created_at: i64,
    pub last_seen: i64,
    /// The session's id towards relying parties (`sid` in ID and logout tokens): random and
    /// unrelated to the cookie, which must never leave openpoort.
    pub sid: String,
    /// The second factor proved after the password, if any, or a passkey that signed in alone
    /// (`PasskeyLogin`): it raises the login's `acr` and names its methods in `amr` (`amr_of`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_factor: Option<SecondFactor>,
    // What the session handed out (token families, clients told of it) is not kept here but in
    // sets of its own (see `record_grant`): a record that every authorization loads, extends and
    // saves loses the writes of parallel requests, and with them tokens its logout must end.
}

impl SessionData {
    pub fn staff_id(&self) -> Option<&str> {
        match &self.who {
            Who::Staff { staff_id, .. } => Some(staff_id),
            Who::Pupil { .. } => None,
        }
    }

    pub fn subject(&self) -> Subject {
        match &self.who {
            Who::Staff { staff_id, .. } => Subject::Staff(staff_id.clone()),
            Who::Pupil { pupil_id, .. } => Subject::Pupil(pupil_id.clone()),
        }
    }

    /// The authentication context class of this session's login (see [`acr`]).
    pub fn acr(&self) -> String {
        acr(
            self.context,
            self.network.as_deref(),
            self.second_factor.is_some(),
        )
    }
}

/// The authentication context class of a login: OIDC `acr` and SAML AuthnContextClassRef. A
/// brokered login names its network provider (`network`, the party code); a password login with
/// a second factor (`second_factor`) is a class of its own.
pub fn acr(context: Context, network: Option<&str>, second_factor: bool) -> String {
    match (context, network) {
        (Context::SchoolNetwork, _) => metadata::discovery::ACR_SCHOOL_NETWORK.to_owned(),
        (Context::HomeCode, _) => metadata::discovery::ACR_HOME_CODE.to_owned(),
        (Context::Password, _) if second_factor => metadata::discovery::ACR_MFA.to_owned(),
        (Context::Password, _) => metadata::discovery::ACR_PASSWORD.to_owned(),
        (Context::Network, code) => format!(
            "{}{}",
            metadata::discovery::ACR_NETWORK_PREFIX,
            code.unwrap_or("unknown")
        ),
    }
}

/// The authentication methods of a login as RFC 8176 names them (OIDC `amr`): `pwd` for a
/// password, with `otp` for a one-time code after it (an authenticator's or a recovery code).
/// Empty for logins without a password: a pupil's picture or home code, or a network provider's
/// word, which RFC 8176 has no names for.
pub fn amr(context: Context, second_factor: bool) -> Vec<&'static str> {
    match context {
        Context::Password if second_factor => vec!["pwd", "otp"],
        Context::Password => vec!["pwd"],
        Context::SchoolNetwork | Context::HomeCode | Context::Network => Vec::new(),
    }
}

/// The authentication methods of a login (OIDC `amr`, RFC 8176), knowing which second factor it
/// proved: [`amr`] for a code; for a passkey `pop` (possession of a key, which RFC 8176 names
/// without saying hardware or software: a synced passkey is not bound to hardware, and openpoort
/// asks for no attestation that would tell), `user` (the user was present and verified at the
/// authenticator) and `mfa` (possession and the verification are two factors), after `pwd` when
/// the password came first.
pub fn amr_of(context: Context, factor: Option<SecondFactor>) -> Vec<&'static str> {
    match (context, factor) {
        (Context::Password, Some(SecondFactor::Passkey)) => vec!["pwd", "pop", "user", "mfa"],
        (Context::Password, Some(SecondFactor::PasskeyLogin)) => vec!["pop", "user", "mfa"],
        (context, factor) => amr(context, factor.is_some()),
    }
}

/// Whether a login of class `done` meets an `acr_values` request (empty: nothing asked). The
/// classes say how someone signed in, so a class meets a request for itself; the one stronger
/// class, a password with a second factor, also meets a request for the password it includes.
pub fn acr_meets(done: &str, requested: &[String]) -> bool {
    use metadata::discovery::{ACR_MFA, ACR_PASSWORD};
    requested.is_empty()
        || requested
            .iter()
            .any(|r| r == done || (done == ACR_MFA && r == ACR_PASSWORD))
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

fn ttl(web: &WebConfig, data: &SessionData, at: i64) -> Duration {
    let left = web.absolute.as_secs() as i64 - (at - data.created_at);
    Duration::from_secs(left.clamp(1, web.idle.as_secs() as i64) as u64)
}

/// Starts a fresh session (always a new id: an id from before the login is never reused) and
/// returns the `Set-Cookie` header for it.
pub async fn create(
    state: &AppState,
    who: Who,
    school_id: Option<String>,
    context: Context,
    target: Option<String>,
    network: Option<String>,
) -> Result<HeaderMap, SessionError> {
    let at = unix_now();
    let data = SessionData {
        who,
        school_id,
        context,
        target,
        network,
        created_at: at,
        last_seen: at,
        sid: random_token(),
        second_factor: None,
    };
    store_new(state, &data).await
}

/// Starts a fresh session for a staff member who proved `factor` after their password.
pub async fn create_with_second_factor(
    state: &AppState,
    who: Who,
    school_id: Option<String>,
    factor: SecondFactor,
) -> Result<HeaderMap, SessionError> {
    let at = unix_now();
    let data = SessionData {
        who,
        school_id,
        context: Context::Password,
        target: None,
        network: None,
        created_at: at,
        last_seen: at,
        sid: random_token(),
        second_factor: Some(factor),
    };
    store_new(state, &data).await
}

/// Stores `data` under a new id and returns the `Set-Cookie` header for it.
async fn store_new(state: &AppState, data: &SessionData) -> Result<HeaderMap, SessionError> {
    let id = random_token();
    let at = data.last_seen;
    // Never overwrite: a new login must not be able to take over a live session, however
    // unlikely a collision of 256 random bits is.
    let stored = state
        .state
        .put_if_absent(
            &key_of(&id),
            &serde_json::to_vec(data)?,
            ttl(&state.web, data, at),
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
    let at = unix_now();
    let expired = at - data.created_at >= state.web.absolute.as_secs() as i64
        || at - data.last_seen >= state.web.idle.as_secs() as i64;
    let current = match &data.who {
        Who::Staff { staff_id, epoch } => matches!(
            state.directory.staff_session_state(staff_id).await?,
            Some((status, e)) if e == *epoch && broker::staff_may_act(status, data.context)
        ),
        // A pupil's session lasts while the pupil is active at that school and, at home, while
        // the school allows home login.
        Who::Pupil { pupil_id, .. } => {
            let standing = match &data.school_id {
                Some(school_id) => {
                    state
                        .directory
                        .pupil_session_state(pupil_id, school_id)
                        .await?
                }
                None => None,
            };
            standing.is_some_and(|s| {
                s.pupil_active
                    && s.school_active
                    && (data.context != Context::HomeCode || s.home_login_allowed)
            })
        }
    };
    // A brokered session lasts only while the school keeps the provider that vouched for it:
    // deselecting a network provider in Beheer ends its users' sessions at once.
    let current = current
        && match (&data.network, &data.school_id) {
            (None, _) => true,
            (Some(code), Some(school_id)) => match state.directory.party_by_code(code).await? {
                Some(party) => state
                    .directory
                    .open_consent(school_id, &party.id)
                    .await?
                    .is_some(),
                None => false,
            },
            (Some(_), None) => false,
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
                ttl(&state.web, &self.data, unix_now()),
            )
            .await?;
        Ok(())
    }

    /// Raises a password session by the second factor just proved (a step-up that a relying
    /// party's `acr_values` asked for), under a new id: the old one stops working, as at every
    /// login. The rest stays, the `sid` too, so the session still ends what it handed out.
    pub async fn add_second_factor(
        self,
        state: &AppState,
        factor: SecondFactor,
    ) -> Result<HeaderMap, SessionError> {
        let mut data = self.data.clone();
        data.second_factor = Some(factor);
        data.last_seen = unix_now();
        let set = store_new(state, &data).await?;
        state.state.delete(&self.key).await?;
        Ok(set)
    }

    pub async fn destroy(self, state: &AppState) -> Result<(), SessionError> {
        state.state.delete(&self.key).await?;
        Ok(())
    }

    /// Stores `writes` (an authorization's code and token family), records that this session
    /// handed the token family to `client_id`, and answers whether the session is still stored,
    /// all in one step on the store ([`StateStore::steps`]): one round trip to Redis instead of
    /// five.
    ///
    /// The records are additions to sets (so that parallel authorizations in one session all
    /// stay recorded), kept for as long as the session can last, never a rewrite of the
    /// session. The answer comes after them: a logout deletes the session first and collects
    /// the sets after, so when the session is still stored here the logout to come will find
    /// this grant, and when it is gone the caller ends the grant itself.
    pub async fn record_grant(
        &self,
        state: &AppState,
        writes: &[Step<'_>],
        client_id: &str,
        family: &str,
    ) -> Result<bool, SessionError> {
        let ttl = state.web.absolute;
        let (families, clients) = (families_key(&self.data.sid), clients_key(&self.data.sid));
        let mut steps = writes.to_vec();
        steps.extend([
            Step::AddToSet(&families, family.as_bytes(), ttl),
            Step::AddToSet(&clients, client_id.as_bytes(), ttl),
            Step::Get(&self.key),
        ]);
        let answers = state.state.steps(&steps).await?;
        Ok(answers.last().is_some_and(Option::is_some))
    }
}

fn families_key(sid: &str) -> String {
    format!("session-families:{}", sha256_hex(sid))
}

fn clients_key(sid: &str) -> String {
    format!("session-clients:{}", sha256_hex(sid))
}

/// What a session handed out: its token families and its clients, removed from the store in
/// the same step (each is ended or told once).
pub struct Grants {
    pub families: Vec<String>,
    pub clients: Vec<String>,
}

pub async fn take_grants(state: &AppState, sid: &str) -> Result<Grants, crate::state::StateError> {
    let text = |members: Vec<Vec<u8>>| {
        members
            .into_iter()
            .filter_map(|m| String::from_utf8(m).ok())
            .collect::<Vec<_>>()
    };
    Ok(Grants {
        families: text(state.state.take_set(&families_key(sid)).await?),
        clients: text(state.state.take_set(&clients_key(sid)).await?),
    })
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
            who: Who::Staff {
                staff_id: "s".into(),
                epoch: 0,
            },
            school_id: None,
            context: Context::Password,
            target: None,
            network: None,
            created_at,
            last_seen,
            sid: "sid".into(),
            second_factor: None,
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
    fn a_second_factor_raises_the_class_and_adds_otp_to_the_methods() {
        use metadata::discovery::{ACR_HOME_CODE, ACR_MFA, ACR_PASSWORD};
        assert_eq!(acr(Context::Password, None, false), ACR_PASSWORD);
        assert_eq!(acr(Context::Password, None, true), ACR_MFA);
        assert_eq!(amr(Context::Password, false), ["pwd"]);
        assert_eq!(amr(Context::Password, true), ["pwd", "otp"]);
        assert!(amr(Context::HomeCode, false).is_empty());
        let asked = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        // The stronger class meets a request for the password; the password does not meet one
        // for the stronger class, and neither meets a pupil's class.
        assert!(acr_meets(ACR_MFA, &asked(&[ACR_PASSWORD])));
        assert!(acr_meets(ACR_MFA, &asked(&[ACR_MFA])));
        assert!(!acr_meets(ACR_PASSWORD, &asked(&[ACR_MFA])));
        assert!(!acr_meets(ACR_MFA, &asked(&[ACR_HOME_CODE])));
        assert!(acr_meets(ACR_PASSWORD, &[]));
        // A session stored before the field existed reads as a password login without it.
        let old = serde_json::json!({
            "who": {"kind": "staff", "staff_id": "s", "epoch": 0}, "school_id": null,
            "context": "password", "target": null, "created_at": 0, "last_seen": 0, "sid": "x"
        });
        let old: SessionData = serde_json::from_value(old).unwrap();
        assert_eq!(old.second_factor, None);
        assert_eq!(old.acr(), ACR_PASSWORD);
    }

    #[test]
    fn a_passkey_is_the_mfa_class_and_names_possession_and_verification() {
        use metadata::discovery::ACR_MFA;
        use metadata::saml::authn_context::{TIME_SYNC_TOKEN, class_ref};
        let mut alone = data(0, 0);
        alone.second_factor = Some(SecondFactor::PasskeyLogin);
        let mut after = data(0, 0);
        after.second_factor = Some(SecondFactor::Passkey);
        for s in [&alone, &after] {
            assert_eq!(s.acr(), ACR_MFA);
            // SAML: the second factor's rung and class.
            assert_eq!(class_ref(&s.acr()), TIME_SYNC_TOKEN);
        }
        assert_eq!(
            amr_of(Context::Password, Some(SecondFactor::PasskeyLogin)),
            ["pop", "user", "mfa"]
        );
        assert_eq!(
            amr_of(Context::Password, Some(SecondFactor::Passkey)),
            ["pwd", "pop", "user", "mfa"]
        );
        // The codes keep their methods.
        assert_eq!(
            amr_of(Context::Password, Some(SecondFactor::Totp)),
            ["pwd", "otp"]
        );
        assert_eq!(amr_of(Context::Password, None), ["pwd"]);
        assert!(amr_of(Context::HomeCode, None).is_empty());
        // Stored and read back as a session or a grant keeps it.
        let json = serde_json::to_string(&alone).unwrap();
        assert!(json.contains("\"passkey_login\""), "{json}");
        let back: SessionData = serde_json::from_str(&json).unwrap();
        assert_eq!(back, alone);
    }

    #[test]
    fn session_keys_do_not_contain_the_id() {
        let id = random_token();
        let key = key_of(&id);
        assert!(!key.contains(&id));
        assert_eq!(key, key_of(&id));
    }
}
