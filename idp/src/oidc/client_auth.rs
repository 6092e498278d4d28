//! Client authentication at the token, revocation and introspection endpoints: exactly the
//! method the client registered (client_secret_basic, client_secret_post, private_key_jwt, or
//! none for public clients), never another one it happens to present.

use std::collections::HashMap;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use metadata::client::TokenAuthMethod;
use serde_json::Value;

use super::{oauth_error, server_error};
use crate::app_state::AppState;
use crate::clock::unix_now;
use crate::grants::{Client, load_client};
use crate::http::sha256_hex;
use crate::state::StateStore;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn invalid_client(why: &str) -> Response {
    oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", why)
}

/// `Authorization: Basic` credentials, each part form-urlencoded as RFC 6749 §2.3.1 says.
fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

/// A request to the token, revocation or introspection endpoint from a client that proved who
/// it is by its registered method: the endpoint's handler takes this, so none of them can skip
/// client authentication. `form` is the whole posted form.
pub struct AuthenticatedClient {
    pub client: Client,
    pub form: HashMap<String, String>,
}

impl axum::extract::FromRequest<AppState> for AuthenticatedClient {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &AppState) -> Result<Self, Response> {
        let headers = req.headers().clone();
        let crate::http::extract::Form(form) =
            crate::http::extract::Form::<HashMap<String, String>>::from_request(req, state)
                .await
                .map_err(axum::response::IntoResponse::into_response)?;
        let client = authenticate(state, &headers, &form).await?;
        Ok(AuthenticatedClient { client, form })
    }
}

/// The authenticated client, or the error response to send.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<Client, Response> {
    let basic = basic(headers);
    let assertion = match (
        form.get("client_assertion_type"),
        form.get("client_assertion"),
    ) {
        (Some(t), Some(a)) if t == ASSERTION_TYPE => Some(a.as_str()),
        (None, None) => None,
        _ => return Err(invalid_client("unsupported client assertion")),
    };
    let presented_id = match (&basic, assertion) {
        (Some((id, _)), _) => id.clone(),
        (None, Some(a)) => metadata::jose::peek_claims(a)
            .ok()
            .and_then(|c| c.get("sub").and_then(Value::as_str).map(str::to_owned))
            .ok_or_else(|| invalid_client("client assertion without subject"))?,
        (None, None) => form
            .get("client_id")
            .cloned()
            .ok_or_else(|| invalid_client("client authentication required"))?,
    };
    if let Some(form_id) = form.get("client_id")
        && form_id != &presented_id
    {
        return Err(invalid_client("client_id does not match the credentials"));
    }
    let client = match load_client(state, &presented_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return Err(invalid_client("unknown client")),
        Err(e) => return Err(server_error(e)),
    };
    let form_secret = form.get("client_secret");
    let ok = match client.registration.token_endpoint_auth_method {
        TokenAuthMethod::ClientSecretBasic => match (&basic, form_secret, assertion) {
            (Some((_, secret)), None, None) => secret_matches(&client, secret),
            _ => false,
        },
        TokenAuthMethod::ClientSecretPost => match (&basic, form_secret, assertion) {
            (None, Some(secret), None) => secret_matches(&client, secret),
            _ => false,
        },
        TokenAuthMethod::PrivateKeyJwt => match (&basic, form_secret, assertion) {
            (None, None, Some(a)) => match verify_assertion(state, &client, a).await {
                Ok(ok) => ok,
                Err(r) => return Err(r),
            },
            _ => false,
        },
        TokenAuthMethod::None => basic.is_none() && form_secret.is_none() && assertion.is_none(),
    };
    if ok {
        Ok(client)
    } else {
        tracing::info!(client = %client.id(), "client authentication failed");
        let method = client.registration.token_endpoint_auth_method;
        let mut refused = invalid_client(&format!(
            "client authentication failed: this client is registered for {method} ({})",
            how_to(method)
        ));
        // A browser client's failure is readable to it too.
        super::cors::allow_client(&mut refused, &client);
        Err(refused)
    }
}

/// What a client registered for `method` sends, for the error that tells it.
fn how_to(method: TokenAuthMethod) -> &'static str {
    match method {
        TokenAuthMethod::ClientSecretBasic => {
            "the client_id and secret in an Authorization: Basic header, nothing in the form"
        }
        TokenAuthMethod::ClientSecretPost => {
            "client_id and client_secret in the form, no Authorization header"
        }
        TokenAuthMethod::PrivateKeyJwt => {
            "a client_assertion signed with a key of its registered JWK Set, no secret"
        }
        TokenAuthMethod::None => "only client_id in the form: a public client sends no secret",
    }
}

fn secret_matches(client: &Client, secret: &str) -> bool {
    match &client.secret_hash {
        Some(stored) => {
            let presented = sha256_hex(secret);
            stored.len() == presented.len()
                && openssl::memcmp::eq(stored.as_bytes(), presented.as_bytes())
        }
        None => false,
    }
}

/// private_key_jwt (RFC 7523): signed by a key of the client's registered JWK Set, issued by
/// and about the client, for this token endpoint, short-lived, and used once.
async fn verify_assertion(
    state: &AppState,
    client: &Client,
    assertion: &str,
) -> Result<bool, Response> {
    let jwks = match client_jwks(state, client).await {
        Ok(Some(j)) => j,
        Ok(None) => return Ok(false),
        Err(e) => return Err(server_error(e)),
    };
    let Ok(verified) = metadata::jose::verify(assertion, &jwks) else {
        return Ok(false);
    };
    let c = &verified.claims;
    let s = |k: &str| c.get(k).and_then(Value::as_str);
    let endpoint = format!("{}/oidc/token", state.web.public_url);
    let audience_ok = match c.get("aud") {
        Some(Value::String(a)) => a == &endpoint || a == &state.web.public_url,
        Some(Value::Array(list)) => list
            .iter()
            .any(|a| a.as_str() == Some(&endpoint) || a.as_str() == Some(&state.web.public_url)),
        _ => false,
    };
    let t = unix_now();
    let exp = c.get("exp").and_then(Value::as_i64).unwrap_or(0);
    let fresh = exp > t - 30 && exp <= t + 600;
    let (Some(jti), true, true, true) = (
        s("jti"),
        s("iss") == Some(client.id()) && s("sub") == Some(client.id()),
        audience_ok,
        fresh,
    ) else {
        return Ok(false);
    };
    let key = format!("oidc:jti:{}:{}", client.id(), sha256_hex(jti));
    let ttl = Duration::from_secs((exp - t + 60).max(60) as u64);
    match state.state.put_if_absent(&key, b"1", ttl).await {
        Ok(first) => Ok(first),
        Err(e) => Err(server_error(e)),
    }
}

/// The most a client's jwks_uri may answer: a JWK Set of a few keys is a few kilobytes.
const JWKS_MAX_BYTES: usize = 64 * 1024;
/// How long one fetch of a jwks_uri may take.
const JWKS_FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a fetched JWK Set is used before it is fetched again: short, so that a key rotation
/// at the client reaches openpoort quickly.
const JWKS_CACHE: Duration = Duration::from_secs(300);
/// How long a failed fetch is remembered: the client's token requests fail meanwhile without
/// making openpoort fetch again for each of them.
const JWKS_FAILURE_CACHE: Duration = Duration::from_secs(60);

/// The client's JWK Set: registered inline, or fetched from its jwks_uri within the outbound
/// policy and a size limit. One fetch at a time per client, across nodes: a burst of token
/// requests waits for that one fetch rather than starting its own; a failure is remembered for
/// [`JWKS_FAILURE_CACHE`].
async fn client_jwks(state: &AppState, client: &Client) -> Result<Option<Value>, super::OidcError> {
    if let Some(j) = &client.registration.jwks {
        return Ok(Some(j.clone()));
    }
    let Some(uri) = &client.registration.jwks_uri else {
        return Ok(None);
    };
    let cache = format!("oidc:client-jwks:{}", client.id());
    let failed = format!("oidc:client-jwks-failed:{}", client.id());
    let fetching = format!("oidc:client-jwks-fetching:{}", client.id());
    let give_up = tokio::time::Instant::now() + JWKS_FETCH_TIMEOUT + Duration::from_secs(1);
    loop {
        if let Some(j) = crate::grants::get_json::<Value>(state, &cache).await? {
            return Ok(Some(j));
        }
        if state.state.get(&failed).await?.is_some() {
            return Ok(None);
        }
        // The claim outlives a fetch's timeout, so a node that dies mid-fetch frees it.
        if state
            .state
            .put_if_absent(&fetching, b"1", JWKS_FETCH_TIMEOUT + Duration::from_secs(2))
            .await?
        {
            // Another request may have fetched and released the claim between the checks
            // above and this claim: its result stands, whether a set or a failure.
            let settled = match crate::grants::get_json::<Value>(state, &cache).await? {
                Some(j) => Some(Some(j)),
                None if state.state.get(&failed).await?.is_some() => Some(None),
                None => None,
            };
            if let Some(known) = settled {
                state.state.delete(&fetching).await?;
                return Ok(known);
            }
            break;
        }
        if tokio::time::Instant::now() >= give_up {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let fetched = state
        .http
        .get_bounded(uri, JWKS_MAX_BYTES, JWKS_FETCH_TIMEOUT)
        .await
        .map_err(|e| e.to_string())
        .and_then(|body| {
            serde_json::from_slice::<Value>(&body)
                .ok()
                .filter(|j| j.get("keys").is_some_and(Value::is_array))
                .ok_or_else(|| "not a JWK Set / geen JWK Set".to_owned())
        });
    let outcome = match fetched {
        Ok(j) => crate::grants::put_json(state, &cache, &j, JWKS_CACHE)
            .await
            .map(|()| Some(j)),
        Err(reason) => {
            tracing::warn!(client = %client.id(), error = %reason, "cannot fetch the client's jwks_uri; not tried again for a minute");
            state
                .state
                .put(&failed, b"1", JWKS_FAILURE_CACHE)
                .await
                .map(|()| None)
                .map_err(Into::into)
        }
    };
    state.state.delete(&fetching).await?;
    Ok(outcome?)
}
