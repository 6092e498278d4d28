//! The authorization endpoint: code flow with PKCE.
//!
//! Errors go back to the client (RFC 6749 §4.1.2.1) only once the client and its redirect URI
//! are known to be valid; before that, a page, so that openpoort never redirects to an address
//! nobody registered.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use crate::clock::unix_now;
use crate::http::extract::{Path, Query};
use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use crate::flow::login::{to_login, to_school_choice};
use crate::flow::release::{self, Outcome, Recipient};

use super::{claims_of, new_token, requested_attributes};
use crate::app_state::AppState;
use crate::grants::{
    CODE_TTL, Client, CodeGrant, GrantSubject, REFRESH_TOKEN_TTL, family_key, load_client, put_json,
};
use crate::http::csrf_token;
use crate::http::{
    Text, client_ip, cookie_value, internal_error, message, page, see_other, sha256_hex, url_encode,
};
use crate::session::{self, Who};
use crate::state::StateStore;

fn bad_request(nl: &str, en: &str) -> Response {
    message(
        StatusCode::BAD_REQUEST,
        "Ongeldig verzoek",
        Text::new(nl, en),
        None,
    )
}

/// A redirect with an OAuth error to a validated redirect URI.
fn error_redirect(
    redirect_uri: &str,
    error: &str,
    description: &str,
    state_param: Option<&str>,
    issuer: &str,
) -> Response {
    let answer = format!(
        "error={error}&error_description={}",
        url_encode(description)
    );
    see_other(
        &response_url(redirect_uri, &answer, state_param, issuer),
        HeaderMap::new(),
    )
}

/// The client's redirect URI (which may carry a query of its own) with the authorization
/// response: `answer`, then `state` and `iss` (RFC 9207).
fn response_url(
    redirect_uri: &str,
    answer: &str,
    state_param: Option<&str>,
    issuer: &str,
) -> String {
    let mut url = format!(
        "{redirect_uri}{}{answer}",
        if redirect_uri.contains('?') { '&' } else { '?' }
    );
    if let Some(s) = state_param {
        url.push_str(&format!("&state={}", url_encode(s)));
    }
    url.push_str(&format!("&iss={}", url_encode(issuer)));
    url
}

#[derive(Template)]
#[template(path = "denied.html")]
struct DeniedPage {
    title: String,
    text: Text,
    back: String,
    client: String,
}

pub async fn authorize(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let issuer = state.web.public_url.clone();
    let param = |k: &str| q.get(k).map(String::as_str).filter(|v| !v.is_empty());

    // 1. Client and redirect URI: until both are valid, errors are pages.
    let Some(client_id) = param("client_id") else {
        return bad_request("Er ontbreekt een client_id.", "client_id is missing.");
    };
    let client = match load_client(&state, client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return bad_request(
                "Deze toepassing is niet bij openpoort bekend.",
                "This application is not known to openpoort.",
            );
        }
        Err(e) => return internal_error(e),
    };
    let Some(redirect_uri) =
        param("redirect_uri").filter(|r| client.registration.has_redirect_uri(r))
    else {
        return bad_request(
            "Het terugstuuradres (redirect_uri) van deze toepassing is niet geregistreerd.",
            "The application's redirect_uri is not registered.",
        );
    };
    let state_param = param("state");
    let fail = |error: &str, description: &str| {
        error_redirect(redirect_uri, error, description, state_param, &issuer)
    };

    // 2. The request itself.
    if param("request").is_some() {
        return fail("request_not_supported", "request objects are not supported");
    }
    if param("request_uri").is_some() {
        return fail("request_uri_not_supported", "request_uri is not supported");
    }
    if param("response_type") != Some("code") {
        return fail(
            "unsupported_response_type",
            "only response_type=code is supported",
        );
    }
    if !client
        .registration
        .allows(metadata::client::GrantType::AuthorizationCode)
    {
        return fail(
            "unauthorized_client",
            "this client may not use the authorization code flow",
        );
    }
    let scopes: Vec<String> = param("scope")
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if !scopes.iter().any(|s| s == "openid") {
        return fail("invalid_scope", "the openid scope is required");
    }
    // Registration already keeps API scopes away from code-flow clients; this holds even for
    // a registration stored before that rule, so that no user's login can carry admin access.
    if let Some(api) = scopes.iter().find(|s| metadata::scopes::is_api_scope(s)) {
        return fail(
            "invalid_scope",
            &format!("scope {api} is only available through client credentials"),
        );
    }
    if let Some(unknown) = scopes
        .iter()
        .find(|s| !client.registration.scopes.contains(s))
    {
        return fail(
            "invalid_scope",
            &format!("scope {unknown} is not registered for this client"),
        );
    }
    let challenge = param("code_challenge");
    match (challenge, param("code_challenge_method")) {
        (Some(c), Some("S256"))
            if c.len() == 43
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') => {}
        (Some(_), Some("S256")) => {
            return fail(
                "invalid_request",
                "code_challenge must be a base64url SHA-256",
            );
        }
        (Some(_), _) => {
            return fail(
                "invalid_request",
                "only code_challenge_method=S256 is supported",
            );
        }
        (None, Some(_)) => {
            return fail(
                "invalid_request",
                "code_challenge_method without code_challenge",
            );
        }
        (None, None) if client.registration.is_public() => {
            return fail(
                "invalid_request",
                "PKCE (S256) is required for public clients",
            );
        }
        (None, None) => {}
    }
    let nonce = param("nonce").map(str::to_owned);
    if nonce.as_ref().is_some_and(|n| n.len() > 512) {
        return fail("invalid_request", "nonce too long");
    }
    let prompt = param("prompt").unwrap_or("");
    let prompts: Vec<&str> = prompt.split(' ').filter(|p| !p.is_empty()).collect();
    if prompts.iter().any(|p| !["none", "login"].contains(p))
        || (prompts.contains(&"none") && prompts.len() > 1)
    {
        return fail("invalid_request", "prompt supports none or login");
    }
    let max_age = match param("max_age").map(str::parse::<i64>) {
        None => None,
        Some(Ok(v)) if v >= 0 => Some(v),
        Some(_) => return fail("invalid_request", "max_age must be a non-negative number"),
    };
    // A login that prompt=login or max_age forced is recognised by a marker kept here, not in
    // the URL: the URL carries only its random name, so nobody can claim a login that did not
    // happen by editing the request. The marker counts only for the browser it was issued to
    // and for this very request: one taken from another browser, or issued for another request
    // (another client, state or prompt), proves nothing here.
    let reauth_after: Option<i64> = match param("op_reauth") {
        Some(id) => match crate::grants::get_json::<ReauthMarker>(&state, &reauth_key(id)).await {
            Ok(marker) => marker
                .filter(|m| {
                    let browser = cookie_value(&headers, state.web.csrf_cookie).map(sha256_hex);
                    browser.as_deref() == Some(m.browser.as_str())
                        && m.request == request_digest(&q)
                })
                .map(|m| m.after),
            Err(e) => return internal_error(e),
        },
        None => None,
    };

    // 3. Who is signed in.
    let s = match session::load(&state, &headers).await {
        Ok(s) => s,
        Err(e) => return internal_error(e),
    };
    let t = unix_now();
    let needs_login = match &s {
        None => true,
        Some(s) => {
            let created = s.data.created_at;
            let reauthenticated = reauth_after.is_some_and(|after| created >= after);
            !reauthenticated
                && (prompts.contains(&"login") || max_age.is_some_and(|m| t - created > m))
        }
    };
    if needs_login {
        if prompts.contains(&"none") {
            return fail("login_required", "no active session");
        }
        // Back here after the login, with every parameter as it was plus the marker's name.
        // Anyone can make openpoort store a marker without logging in, so each address gets a
        // bounded number per marker lifetime.
        let ip = client_ip(peer, &headers, &state.web.trusted_proxies);
        match state
            .state
            .reserve(&reauth_ip_key(ip), MAX_REAUTH_PER_IP, REAUTH_TTL)
            .await
        {
            Ok(Some(_)) => {}
            Ok(None) => {
                return message(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Even wachten",
                    Text::new(
                        "Er komen te veel inlogverzoeken van dit adres. Probeer het over een paar minuten opnieuw.",
                        "Too many login requests come from this address. Try again in a few minutes.",
                    ),
                    None,
                );
            }
            Err(e) => return internal_error(e),
        }
        // The browser is recognised by its CSRF cookie, which it keeps through the login; one
        // without it gets it here.
        let (csrf, set_cookie) = csrf_token(&state.web, &headers);
        let marker = new_token();
        let record = ReauthMarker {
            after: t,
            browser: sha256_hex(&csrf),
            request: request_digest(&q),
        };
        if let Err(e) = put_json(&state, &reauth_key(&marker), &record, REAUTH_TTL).await {
            return internal_error(e);
        }
        let mut back: Vec<(String, String)> = q
            .iter()
            .filter(|(k, _)| k.as_str() != "op_reauth")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        back.sort();
        back.push(("op_reauth".into(), marker));
        let query = back
            .iter()
            .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let next = format!("/oidc/authorize?{query}");
        return see_other(&to_login(&next, param("login_hint")), set_cookie);
    }
    let s = s.expect("checked above");
    let Some(school_id) = s.data.school_id.clone() else {
        if prompts.contains(&"none") {
            return fail(
                "interaction_required",
                "the user must choose a school first",
            );
        }
        // A staff member of several schools picks one first, then comes back.
        let here = format!("/oidc/authorize?{}", query_string(&q));
        return see_other(&to_school_choice(&here), HeaderMap::new());
    };

    // 4. The release decision, with what the scopes ask for.
    let requested = requested_attributes(&scopes);
    let sector = client.sector();
    let to = Recipient {
        party_id: &client.registration.party_id,
        fallback_name: &client.registration.name,
        sector: &sector,
        product_id: None,
        requested: Some(&requested),
    };
    let release = match release::decide(&state, &s.data, &school_id, &to, t).await {
        Ok(Outcome::Allow(r)) => r,
        Ok(Outcome::Deny(_)) if prompts.contains(&"none") => {
            // No page may be shown: the client hears only that it was refused.
            return fail(
                "access_denied",
                "the school's rules do not allow this login",
            );
        }
        Err(e) => return internal_error(e),
        Ok(Outcome::Deny(explanation)) => {
            let answer = format!(
                "error=access_denied&error_description={}",
                url_encode("the school's rules do not allow this login")
            );
            let back = response_url(redirect_uri, &answer, state_param, &issuer);
            return page(
                StatusCode::FORBIDDEN,
                &DeniedPage {
                    title: "Geen toegang".into(),
                    text: explanation,
                    back,
                    client: client.registration.name.clone(),
                },
                HeaderMap::new(),
            );
        }
    };

    // 5. The code.
    let family = new_token();
    let grant = CodeGrant {
        client_id: client.id().to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        code_challenge: challenge.map(str::to_owned),
        nonce,
        scopes,
        subject: GrantSubject {
            who: s.data.who.clone(),
            school_id,
            context: s.data.context,
            auth_time: s.data.created_at,
            sid: s.data.sid.clone(),
        },
        claims: claims_of(&release),
        family: family.clone(),
        issued_at: unix_now(),
    };
    let code = new_token();
    let stored = async {
        // The family lives as long as its longest token could.
        state
            .state
            .put(&family_key(&family), b"1", REFRESH_TOKEN_TTL)
            .await?;
        put_json(&state, &crate::grants::code_key(&code), &grant, CODE_TTL).await
    }
    .await;
    if let Err(e) = stored {
        return internal_error(e);
    }
    // The session remembers what it handed out, so that its end can take it back: an addition
    // to a set, never a rewrite of the session, so parallel authorizations lose nothing.
    if let Err(e) = session::record_grant(&state, &s.data, client.id(), &family).await {
        return internal_error(e);
    }
    // A logout that collected the session's grants just before this one was recorded has
    // already deleted the session (it deletes first, then collects); the family is then ended
    // here instead.
    match s.still_stored(&state).await {
        Ok(true) => {}
        Ok(false) => {
            let ended = async {
                crate::grants::revoke_family(&state, &family).await?;
                state.state.delete(&crate::grants::code_key(&code)).await?;
                Ok::<_, super::OidcError>(())
            };
            if let Err(e) = ended.await {
                return internal_error(e);
            }
            return fail("login_required", "the session ended");
        }
        Err(e) => return internal_error(e),
    }
    // Only a client with a back-channel logout URI is ever told about "log out everywhere";
    // remembering the others would grow the user's list by one entry per login for nothing
    // (and every later login reads and rewrites that whole list). A client that registers a URI
    // later is told about sessions from then on; the ending of one session still reaches every
    // client the session itself recorded.
    if client.registration.backchannel_logout_uri.is_some()
        && let Err(e) =
            crate::flow::logout::remember_relying_party(&state, &grant.subject, client.id()).await
    {
        return internal_error(e);
    }
    see_other(
        &response_url(redirect_uri, &format!("code={code}"), state_param, &issuer),
        HeaderMap::new(),
    )
}

/// How long a forced re-login may take before the request has to start again.
const REAUTH_TTL: std::time::Duration = std::time::Duration::from_secs(600);

/// Forced re-logins one address may start per marker lifetime: a whole school behind one address
/// fits many times over.
const MAX_REAUTH_PER_IP: u64 = 1_000;

fn reauth_key(marker: &str) -> String {
    format!("oidc:reauth:{}", sha256_hex(marker))
}

/// The counter of markers issued to an address (an IPv6 /64 counts as one, see
/// [`crate::http::address_key`]).
fn reauth_ip_key(ip: IpAddr) -> String {
    format!("oidc:reauth-ip:{}", crate::http::address_key(ip))
}

/// What a forced re-login marker is valid for.
#[derive(serde::Serialize, serde::Deserialize)]
struct ReauthMarker {
    /// A session created at or after this time is the forced login.
    after: i64,
    /// SHA-256 of the CSRF cookie of the browser it was issued to.
    browser: String,
    /// [`request_digest`] of the request it was issued for.
    request: String,
}

/// The authorization request without its marker: every parameter, in a fixed order, with
/// lengths so that no two different requests give the same text.
fn request_digest(q: &HashMap<String, String>) -> String {
    let mut pairs: Vec<_> = q
        .iter()
        .filter(|(k, _)| k.as_str() != "op_reauth")
        .collect();
    pairs.sort();
    let text: String = pairs
        .iter()
        .map(|(k, v)| format!("{}:{k}={}:{v};", k.len(), v.len()))
        .collect();
    sha256_hex(&text)
}

fn query_string(q: &HashMap<String, String>) -> String {
    let mut pairs: Vec<_> = q.iter().collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Third-party initiated login (OIDC Core §4): a portal tile of an OIDC product sends the
/// browser to the client's `initiate_login_uri` with `iss`, `login_hint` (none: the client
/// must not learn who before the login) and `target_link_uri`.
pub async fn initiate(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(client_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let client: Client = match load_client(&state, &client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return bad_request(
                "Deze toepassing is niet bij openpoort bekend.",
                "This application is not known to openpoort.",
            );
        }
        Err(e) => return internal_error(e),
    };
    let Some(initiate) = client.registration.initiate_login_uri.clone() else {
        return bad_request(
            "Deze toepassing start niet vanuit het portaal.",
            "This application cannot be started from the portal.",
        );
    };
    match session::load(&state, &headers).await {
        Ok(Some(s)) if matches!(s.data.who, Who::Pupil { .. } | Who::Staff { .. }) => {}
        Ok(_) => return see_other("/inloggen", HeaderMap::new()),
        Err(e) => return internal_error(e),
    }
    // The tile's product, when it is one of this client's party: its launch URL is where the
    // user wanted to go.
    let product = match q.get("product") {
        Some(id) => match state.directory.product_by_id(id).await {
            Ok(p) => p.filter(|p| p.party_id == client.registration.party_id),
            Err(e) => return internal_error(e),
        },
        None => None,
    };
    let target = product
        .map(|p| p.launch_url)
        .or_else(|| client.registration.redirect_uris.first().cloned())
        .unwrap_or_default();
    let url = format!(
        "{initiate}{}iss={}&target_link_uri={}",
        if initiate.contains('?') { '&' } else { '?' },
        url_encode(&state.web.public_url),
        url_encode(&target)
    );
    see_other(&url, HeaderMap::new())
}
