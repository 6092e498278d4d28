//! What the token endpoints hand out and where it is kept: registered clients as loaded,
//! authorization codes, access and refresh grants, token families, and a deleted client's
//! marker. Below the front ends: the OIDC endpoints issue and redeem these, the admin API checks
//! its callers' bearer tokens against them, and logout ends them.
//!
//! Codes, access tokens and refresh tokens are random values the client holds; openpoort keeps
//! their SHA-256 in the short-lived state store with what they grant. Every token issued from
//! one authorization code belongs to one family; replaying that code, or reusing a rotated
//! refresh token, ends the family and with it every token still alive in it.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use broker::Context;
use metadata::client::ClientRegistration;

use crate::app_state::AppState;
use crate::clock::unix_now;
use crate::http::sha256_hex;
use crate::session::Who;
use crate::state::{StateStore, Step};

pub const CODE_TTL: Duration = Duration::from_secs(60);
pub const ACCESS_TOKEN_TTL: Duration = Duration::from_secs(600);
/// A school day: a refresh token outlives neither the session rules nor the day.
pub const REFRESH_TOKEN_TTL: Duration = Duration::from_secs(12 * 3_600);
pub const ID_TOKEN_TTL: Duration = Duration::from_secs(300);

/// A registered client with its owner.
#[derive(Clone, Debug)]
pub struct Client {
    pub registration: ClientRegistration,
    pub secret_hash: Option<String>,
}

impl Client {
    pub fn id(&self) -> &str {
        &self.registration.client_id
    }

    /// The pairwise sector: the client's own, or its party's (all clients of one publisher see
    /// one identifier per user).
    pub fn sector(&self) -> String {
        self.registration.sector()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    #[error("register: {0}")]
    Directory(#[from] directory::DirectoryError),
    #[error("state store: {0}")]
    State(#[from] crate::state::StateError),
    #[error("stored grant: {0}")]
    Json(#[from] serde_json::Error),
    #[error("stored client {0} does not parse: {1}")]
    BadRegistration(String, String),
}

pub async fn load_client(state: &AppState, client_id: &str) -> Result<Option<Client>, GrantError> {
    if client_id.is_empty() || client_id.len() > 128 {
        return Ok(None);
    }
    let Some(stored) = state.directory.oidc_client(client_id).await? else {
        return Ok(None);
    };
    let registration: ClientRegistration = serde_json::from_str(&stored.registration)
        .map_err(|e| GrantError::BadRegistration(client_id.to_owned(), e.to_string()))?;
    Ok(Some(Client {
        registration,
        secret_hash: stored.secret_hash,
    }))
}

/// Who a grant is about: enough to decide again (refresh) and to answer userinfo.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GrantSubject {
    pub who: Who,
    pub school_id: String,
    pub context: Context,
    /// The network provider of a brokered login (its party code), for `acr`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    pub auth_time: i64,
    pub sid: String,
    /// The second factor proved after the password, for `acr` and `amr`. Grants stored before
    /// this field existed read as none, which is what their logins had.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_factor: Option<crate::session::SecondFactor>,
}

impl GrantSubject {
    pub fn user_id(&self) -> &str {
        match &self.who {
            Who::Staff { staff_id, .. } => staff_id,
            Who::Pupil { pupil_id, .. } => pupil_id,
        }
    }

    pub fn broker_subject(&self) -> broker::Subject {
        match &self.who {
            Who::Staff { staff_id, .. } => broker::Subject::Staff(staff_id.clone()),
            Who::Pupil { pupil_id, .. } => broker::Subject::Pupil(pupil_id.clone()),
        }
    }

    pub fn acr(&self) -> String {
        crate::session::acr(
            self.context,
            self.network.as_deref(),
            self.second_factor.is_some(),
        )
    }

    /// The login's methods as RFC 8176 names them (`amr`); empty when it names none.
    pub fn amr(&self) -> Vec<&'static str> {
        crate::session::amr_of(self.context, self.second_factor)
    }
}

/// What an authorization code grants, kept until the client redeems it (once).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CodeGrant {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    pub scopes: Vec<String>,
    pub subject: GrantSubject,
    /// The released claims, from the decision made while the user was there.
    pub claims: Map<String, Value>,
    pub family: String,
    /// When the user authorized the client: the start of the family. Grants stored before
    /// this field existed read as 0, which only ever makes them count as older.
    #[serde(default)]
    pub issued_at: i64,
}

/// What an access token grants (userinfo, introspection).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccessGrant {
    pub client_id: String,
    pub party_id: String,
    pub scopes: Vec<String>,
    /// `sub` as the client knows it: pairwise, or the client id for client credentials.
    pub sub: String,
    pub claims: Map<String, Value>,
    pub issued_at: i64,
    pub expires_at: i64,
    pub family: Option<String>,
    /// The staff member behind a user's token, under the session epoch of their login: the
    /// token dies with their sessions (removal by an import, deactivation, a password change).
    /// Absent for pupils and machine clients, and in grants stored before it existed.
    #[serde(default)]
    pub staff: Option<Who>,
    /// How that staff member signed in: a brokered login keeps a not-yet-activated account
    /// acting (see `broker::staff_may_act`).
    #[serde(default = "password_context")]
    pub staff_context: Context,
}

fn password_context() -> Context {
    Context::Password
}

/// Whether a staff member's sessions of `who` still stand: the account active and the session
/// epoch unmoved since the login. Pupils and machine clients have no such sessions.
pub async fn staff_sessions_stand(
    state: &AppState,
    who: &Who,
    context: Context,
) -> Result<bool, GrantError> {
    let Who::Staff { staff_id, epoch } = who else {
        return Ok(true);
    };
    let current = state.directory.staff_session_state(staff_id).await?;
    Ok(
        matches!(current, Some((status, e)) if e == *epoch && broker::staff_may_act(status, context)),
    )
}

/// What a refresh token grants: a new decision and new tokens for the same subject.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RefreshGrant {
    pub client_id: String,
    pub scopes: Vec<String>,
    pub subject: GrantSubject,
    pub family: String,
    /// When the family started (the authorization), kept through every rotation, so that a
    /// rotated token is as old as the login it comes from.
    #[serde(default)]
    pub issued_at: i64,
}

pub fn code_key(code: &str) -> String {
    format!("oidc:code:{}", sha256_hex(code))
}
pub fn code_used_key(code: &str) -> String {
    format!("oidc:code-used:{}", sha256_hex(code))
}
pub fn access_key(token: &str) -> String {
    format!("oidc:at:{}", sha256_hex(token))
}
pub fn refresh_key(token: &str) -> String {
    format!("oidc:rt:{}", sha256_hex(token))
}
pub fn refresh_used_key(token: &str) -> String {
    format!("oidc:rt-used:{}", sha256_hex(token))
}
pub fn family_key(family: &str) -> String {
    format!("oidc:family:{family}")
}
pub fn client_deleted_key(client_id: &str) -> String {
    format!("oidc:client-deleted:{client_id}")
}

/// How long a deleted client's marker outlives it: longer than any token issued before the
/// deletion can live (a refresh token that is not used within its lifetime expires, and one
/// that is used after the deletion is refused and consumed).
const CLIENT_DELETED_TTL: Duration = Duration::from_secs(REFRESH_TOKEN_TTL.as_secs() + 600);

/// Ends every code, access token and refresh token issued to `client_id` until now. Tokens
/// live in the short-lived store by their hash and cannot be listed per client; instead, a
/// marker with the time of deletion makes every check of a grant of this client refuse what
/// was issued before it. A client registered again under the same id later (by the same
/// party or another) gets none of the old client's grants.
pub async fn end_client_tokens(
    store: &crate::state::State,
    client_id: &str,
) -> Result<(), crate::state::StateError> {
    store
        .put(
            &client_deleted_key(client_id),
            unix_now().to_string().as_bytes(),
            CLIENT_DELETED_TTL,
        )
        .await
}

/// Whether a grant issued to `client_id` at `issued_at` was ended by the client's deletion.
/// A grant from the second of the deletion counts as ended: a client deleted and registered
/// again within one second loses that second's tokens, never the other way round.
pub async fn ended_by_deletion(
    state: &AppState,
    client_id: &str,
    issued_at: i64,
) -> Result<bool, GrantError> {
    let marker = state.state.get(&client_deleted_key(client_id)).await?;
    Ok(ended_by_marker(marker.as_deref(), issued_at))
}

/// [`ended_by_deletion`] for a deletion marker already read.
fn ended_by_marker(marker: Option<&[u8]>, issued_at: i64) -> bool {
    match marker {
        Some(raw) => {
            let deleted_at = std::str::from_utf8(raw)
                .ok()
                .and_then(|t| t.parse::<i64>().ok())
                // An unreadable marker ends everything: the safe reading of a deletion.
                .unwrap_or(i64::MAX);
            issued_at <= deleted_at
        }
        None => false,
    }
}

/// Why a token of a token family no longer stands, if it does not.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// The family was revoked (a logout, a replay, a revocation).
    Family,
    /// The client was deleted after the grant was issued.
    Client,
}

/// Whether a grant of `client_id` issued at `issued_at` in token family `family` (if it has
/// one) still stands: the family's marker and the client's deletion marker, read in one step on
/// the store ([`StateStore::steps`]) instead of one round trip each. A revoked family is named
/// first, as a refresh answers it before the deletion.
pub async fn grant_ended(
    state: &AppState,
    client_id: &str,
    issued_at: i64,
    family: Option<&str>,
) -> Result<Option<Ended>, GrantError> {
    let deleted_key = client_deleted_key(client_id);
    let family_at = family.map(family_key);
    let mut reads = vec![Step::Get(&deleted_key)];
    if let Some(key) = &family_at {
        reads.push(Step::Get(key));
    }
    let answers = state.state.steps(&reads).await?;
    Ok(
        if family.is_some() && answers.get(1).is_none_or(Option::is_none) {
            Some(Ended::Family)
        } else if ended_by_marker(answers[0].as_deref(), issued_at) {
            Some(Ended::Client)
        } else {
            None
        },
    )
}

pub async fn put_json<T: Serialize>(
    state: &AppState,
    key: &str,
    value: &T,
    ttl: Duration,
) -> Result<(), GrantError> {
    state
        .state
        .put(key, &serde_json::to_vec(value)?, ttl)
        .await?;
    Ok(())
}

pub async fn get_json<T: for<'de> Deserialize<'de>>(
    state: &AppState,
    key: &str,
) -> Result<Option<T>, GrantError> {
    match state.state.get(key).await? {
        Some(raw) => Ok(Some(serde_json::from_slice(&raw)?)),
        None => Ok(None),
    }
}

/// Ends a token family: every access and refresh token issued in it stops working.
pub async fn revoke_family(state: &AppState, family: &str) -> Result<(), GrantError> {
    state.state.delete(&family_key(family)).await?;
    Ok(())
}

/// The live grant behind a bearer token: known, unexpired, its family not revoked, and for a
/// staff member's token their sessions still standing.
/// What a bearer token is worth to one of openpoort's own APIs (`metadata::scopes::API_SCOPES`).
pub enum MachineAccess {
    /// A live token of a machine client that asked for the scope and still holds it.
    Granted(Box<AccessGrant>),
    /// Unknown, expired or revoked, or its client is gone.
    Unknown,
    /// Live, but without the scope: a user's token, or a client that lost the scope.
    LacksScope,
}

/// The token as a machine client's access to `scope`. The client's registration is read at
/// every request, so that taking the scope away or deleting the client ends access before the
/// token expires. A token from a user's login (it has a family) never carries an API scope; one
/// that claims to is treated as lacking it.
pub async fn machine_access(
    state: &AppState,
    token: &str,
    scope: &str,
) -> Result<MachineAccess, GrantError> {
    let Some(grant) = live_grant(state, token).await? else {
        return Ok(MachineAccess::Unknown);
    };
    if grant.family.is_some() || !grant.scopes.iter().any(|s| s == scope) {
        return Ok(MachineAccess::LacksScope);
    }
    let Some(client) = load_client(state, &grant.client_id).await? else {
        return Ok(MachineAccess::Unknown);
    };
    let registration = &client.registration;
    if !registration.scopes.iter().any(|s| s == scope)
        || registration.grant_types != [metadata::client::GrantType::ClientCredentials]
    {
        return Ok(MachineAccess::LacksScope);
    }
    Ok(MachineAccess::Granted(Box::new(grant)))
}

pub async fn live_grant(state: &AppState, token: &str) -> Result<Option<AccessGrant>, GrantError> {
    let Some(grant) = get_json::<AccessGrant>(state, &access_key(token)).await? else {
        return Ok(None);
    };
    if grant.expires_at <= unix_now()
        || grant_ended(
            state,
            &grant.client_id,
            grant.issued_at,
            grant.family.as_deref(),
        )
        .await?
        .is_some()
    {
        return Ok(None);
    }
    // A staff member's access ends with their sessions, not ten minutes later.
    if let Some(who) = &grant.staff
        && !staff_sessions_stand(state, who, grant.staff_context).await?
    {
        return Ok(None);
    }
    Ok(Some(grant))
}
