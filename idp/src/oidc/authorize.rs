//! The authorization endpoint: code flow with PKCE.
//!
//! Errors go back to the client (RFC 6749 §4.1.2.1) only once the client and its redirect URI
//! are known to be valid; before that, a page, so that openpoort never redirects to an address
//! nobody registered.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::clock::unix_now;
use crate::http::extract::{Path, Query};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::flow::login::{to_login, to_network, to_school_choice};
use crate::flow::release::{self, Outcome, Recipient};

use super::bad_request;
use super::{claims_of, new_token, requested_attributes};
use crate::app_state::AppState;
use crate::grants::{
    CODE_TTL, Client, CodeGrant, GrantSubject, REFRESH_TOKEN_TTL, family_key, load_client, put_json,
};
use crate::http::PageError;
use crate::http::csrf_token;
use crate::http::{ClientIp, Text, cookie_value, message, page, see_other, sha256_hex, url_encode};
use crate::session::{self, Who};
use crate::state::StateStore;

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

/// An OAuth error for the client, sent to its validated redirect URI (RFC 6749 §4.1.2.1).
#[derive(Debug, PartialEq, Eq)]
pub struct OAuthError {
    pub error: &'static str,
    pub description: String,
}

fn oauth(error: &'static str, description: impl Into<String>) -> OAuthError {
    OAuthError {
        error,
        description: description.into(),
    }
}

/// How an authorization ends short of a code, once the client and its redirect URI are known.
enum Stop {
    /// An OAuth error back to the client.
    ToClient(OAuthError),
    /// A page of openpoort's own (the denial, a login redirect, too many requests).
    Page(Response),
    /// Something failed on our side, or a store did not answer.
    Internal(PageError),
}

impl From<OAuthError> for Stop {
    fn from(e: OAuthError) -> Stop {
        Stop::ToClient(e)
    }
}

macro_rules! internal_stop {
    ($($error:ty),*) => {
        $(impl From<$error> for Stop {
            fn from(e: $error) -> Stop {
                Stop::Internal(PageError::internal(e))
            }
        })*
    };
}
internal_stop!(
    super::OidcError,
    crate::grants::GrantError,
    crate::state::StateError,
    crate::session::SessionError,
    crate::flow::release::ReleaseError,
    crate::flow::logout::LogoutError,
    directory::DirectoryError
);

/// The `prompt` values openpoort answers.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
}

/// An authorization request whose parameters were checked against the client's registration.
/// The raw parameters stay beside it: a request is sent back to itself after a login with every
/// parameter as it came, and a re-login marker is bound to all of them.
#[derive(Debug)]
pub struct AuthorizeRequest {
    pub scopes: Vec<String>,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    /// The network provider the client knows the user comes from (its party code or issuer):
    /// the login then happens there rather than on openpoort's own page.
    pub idp_hint: Option<String>,
    /// The name of a forced re-login's marker, on the way back from the login.
    pub op_reauth: Option<String>,
}

impl AuthorizeRequest {
    /// Checks the request's parameters (all but client_id and redirect_uri, checked before)
    /// against the client's registration, in the order the errors were always reported.
    pub fn validate(
        q: &HashMap<String, String>,
        client: &Client,
    ) -> Result<AuthorizeRequest, OAuthError> {
        let param = |k: &str| q.get(k).map(String::as_str).filter(|v| !v.is_empty());
        if param("request").is_some() {
            return Err(oauth(
                "request_not_supported",
                "request objects are not supported",
            ));
        }
        if param("request_uri").is_some() {
            return Err(oauth(
                "request_uri_not_supported",
                "request_uri is not supported",
            ));
        }
        if param("response_type") != Some("code") {
            return Err(oauth(
                "unsupported_response_type",
                "only response_type=code is supported",
            ));
        }
        if !client
            .registration
            .allows(metadata::client::GrantType::AuthorizationCode)
        {
            return Err(oauth(
                "unauthorized_client",
                "this client may not use the authorization code flow",
            ));
        }
        let scopes: Vec<String> = param("scope")
            .unwrap_or("")
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if !scopes.iter().any(|s| s == "openid") {
            return Err(oauth("invalid_scope", "the openid scope is required"));
        }
        // Registration already keeps API scopes away from code-flow clients; this holds even
        // for a registration stored before that rule, so that no user's login can carry admin
        // access.
        if let Some(api) = scopes.iter().find(|s| metadata::scopes::is_api_scope(s)) {
            return Err(oauth(
                "invalid_scope",
                format!("scope {api} is only available through client credentials"),
            ));
        }
        if let Some(unknown) = scopes
            .iter()
            .find(|s| !client.registration.scopes.contains(s))
        {
            return Err(oauth(
                "invalid_scope",
                format!("scope {unknown} is not registered for this client"),
            ));
        }
        let challenge = param("code_challenge");
        match (challenge, param("code_challenge_method")) {
            (Some(c), Some("S256"))
                if c.len() == 43
                    && c.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') => {}
            (Some(_), Some("S256")) => {
                return Err(oauth(
                    "invalid_request",
                    "code_challenge must be a base64url SHA-256",
                ));
            }
            (Some(_), _) => {
                return Err(oauth(
                    "invalid_request",
                    "only code_challenge_method=S256 is supported",
                ));
            }
            (None, Some(_)) => {
                return Err(oauth(
                    "invalid_request",
                    "code_challenge_method without code_challenge",
                ));
            }
            (None, None) if client.registration.is_public() => {
                return Err(oauth(
                    "invalid_request",
                    "PKCE (S256) is required for public clients",
                ));
            }
            (None, None) => {}
        }
        let nonce = param("nonce").map(str::to_owned);
        if nonce.as_ref().is_some_and(|n| n.len() > 512) {
            return Err(oauth("invalid_request", "nonce too long"));
        }
        let prompts: Vec<&str> = param("prompt")
            .unwrap_or("")
            .split(' ')
            .filter(|p| !p.is_empty())
            .collect();
        if prompts.iter().any(|p| !["none", "login"].contains(p))
            || (prompts.contains(&"none") && prompts.len() > 1)
        {
            return Err(oauth("invalid_request", "prompt supports none or login"));
        }
        let max_age = match param("max_age").map(str::parse::<i64>) {
            None => None,
            Some(Ok(v)) if v >= 0 => Some(v),
            Some(_) => {
                return Err(oauth(
                    "invalid_request",
                    "max_age must be a non-negative number",
                ));
            }
        };
        Ok(AuthorizeRequest {
            scopes,
            code_challenge: challenge.map(str::to_owned),
            nonce,
            prompt: Prompt {
                none: prompts.contains(&"none"),
                login: prompts.contains(&"login"),
            },
            max_age,
            login_hint: param("login_hint").map(str::to_owned),
            idp_hint: param("idp_hint").map(str::to_owned),
            op_reauth: param("op_reauth").map(str::to_owned),
        })
    }
}

/// The client and its redirect URI, or the page that says which is wrong: until both are
/// valid, errors are pages, never redirects.
async fn client_and_redirect<'q>(
    state: &AppState,
    q: &'q HashMap<String, String>,
) -> Result<(Client, &'q str), Response> {
    let param = |k: &str| q.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let Some(client_id) = param("client_id") else {
        return Err(bad_request(
            "Er ontbreekt een client_id.",
            "client_id is missing.",
        ));
    };
    let client = match load_client(state, client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return Err(bad_request(
                "Deze toepassing is niet bij openpoort bekend.",
                "This application is not known to openpoort.",
            ));
        }
        Err(e) => return Err(PageError::internal(e).into_response()),
    };
    let Some(redirect_uri) =
        param("redirect_uri").filter(|r| client.registration.has_redirect_uri(r))
    else {
        return Err(bad_request(
            "Het terugstuuradres (redirect_uri) van deze toepassing is niet geregistreerd.",
            "The application's redirect_uri is not registered.",
        ));
    };
    Ok((client, redirect_uri))
}

pub async fn authorize(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let issuer = state.web.public_url.clone();
    let (client, redirect_uri) = match client_and_redirect(&state, &q).await {
        Ok(known) => known,
        Err(page) => return page,
    };
    let state_param = q.get("state").map(String::as_str).filter(|v| !v.is_empty());
    let to_client = Reply {
        redirect_uri,
        state_param,
        issuer: &issuer,
    };
    match code_for(&state, ip, &headers, &q, &client, &to_client).await {
        Ok(response) => response,
        Err(Stop::ToClient(e)) => to_client.error(&e),
        Err(Stop::Page(page)) => page,
        Err(Stop::Internal(e)) => e.into_response(),
    }
}

/// Where the answer of a validated request goes.
struct Reply<'a> {
    redirect_uri: &'a str,
    state_param: Option<&'a str>,
    issuer: &'a str,
}

impl Reply<'_> {
    fn url(&self, answer: &str) -> String {
        response_url(self.redirect_uri, answer, self.state_param, self.issuer)
    }

    fn error(&self, e: &OAuthError) -> Response {
        error_redirect(
            self.redirect_uri,
            e.error,
            &e.description,
            self.state_param,
            self.issuer,
        )
    }
}

/// The rest of an authorization once the client and redirect URI are valid: the request, who
/// is signed in (or the way to the login), the release decision, the code.
async fn code_for(
    state: &AppState,
    ip: IpAddr,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
    client: &Client,
    reply: &Reply<'_>,
) -> Result<Response, Stop> {
    let request = AuthorizeRequest::validate(q, client)?;
    // A login that prompt=login or max_age forced is recognised by a marker kept here, not in
    // the URL: the URL carries only its random name, so nobody can claim a login that did not
    // happen by editing the request. The marker counts only for the browser it was issued to
    // and for this very request: one taken from another browser, or issued for another request
    // (another client, state or prompt), proves nothing here.
    let reauth_after: Option<i64> = match &request.op_reauth {
        Some(id) => crate::grants::get_json::<ReauthMarker>(state, &reauth_key(id))
            .await?
            .filter(|m| {
                let browser = cookie_value(headers, state.web.csrf_cookie).map(sha256_hex);
                browser.as_deref() == Some(m.browser.as_str()) && m.request == request_digest(q)
            })
            .map(|m| m.after),
        None => None,
    };

    // Who is signed in.
    let s = session::load(state, headers).await?;
    let t = unix_now();
    let needs_login = match &s {
        None => true,
        Some(s) => {
            let created = s.data.created_at;
            let reauthenticated = reauth_after.is_some_and(|after| created >= after);
            !reauthenticated
                && (request.prompt.login || request.max_age.is_some_and(|m| t - created > m))
        }
    };
    let Some(s) = s.filter(|_| !needs_login) else {
        if request.prompt.none {
            return Err(oauth("login_required", "no active session").into());
        }
        return Err(Stop::Page(
            to_forced_login(state, ip, headers, q, &request, t).await?,
        ));
    };
    let Some(school_id) = s.data.school_id.clone() else {
        if request.prompt.none {
            return Err(oauth(
                "interaction_required",
                "the user must choose a school first",
            )
            .into());
        }
        // A staff member of several schools picks one first, then comes back.
        let here = format!("/oidc/authorize?{}", query_string(q));
        return Ok(see_other(&to_school_choice(&here), HeaderMap::new()));
    };

    // The release decision, with what the scopes ask for.
    let requested = requested_attributes(&request.scopes);
    let sector = client.sector();
    let to = Recipient {
        party_id: &client.registration.party_id,
        fallback_name: &client.registration.name,
        sector: &sector,
        product_id: None,
        requested: Some(&requested),
    };
    let release = match release::decide(state, &s.data, &school_id, &to, t).await? {
        Outcome::Allow(r) => r,
        // No page may be shown: the client hears only that it was refused.
        Outcome::Deny(_) if request.prompt.none => {
            return Err(oauth(
                "access_denied",
                "the school's rules do not allow this login",
            )
            .into());
        }
        Outcome::Deny(explanation) => {
            let answer = format!(
                "error=access_denied&error_description={}",
                url_encode("the school's rules do not allow this login")
            );
            return Ok(page(
                StatusCode::FORBIDDEN,
                &DeniedPage {
                    title: "Geen toegang".into(),
                    text: explanation,
                    back: reply.url(&answer),
                    client: client.registration.name.clone(),
                },
                HeaderMap::new(),
            ));
        }
    };

    // The code.
    let family = new_token();
    let grant = CodeGrant {
        client_id: client.id().to_owned(),
        redirect_uri: reply.redirect_uri.to_owned(),
        code_challenge: request.code_challenge,
        nonce: request.nonce,
        scopes: request.scopes,
        subject: GrantSubject {
            who: s.data.who.clone(),
            school_id,
            context: s.data.context,
            network: s.data.network.clone(),
            auth_time: s.data.created_at,
            sid: s.data.sid.clone(),
        },
        claims: claims_of(&release),
        family: family.clone(),
        issued_at: unix_now(),
    };
    let code = new_token();
    // The family lives as long as its longest token could.
    state
        .state
        .put(&family_key(&family), b"1", REFRESH_TOKEN_TTL)
        .await?;
    put_json(state, &crate::grants::code_key(&code), &grant, CODE_TTL).await?;
    // The session remembers what it handed out, so that its end can take it back: an addition
    // to a set, never a rewrite of the session, so parallel authorizations lose nothing.
    session::record_grant(state, &s.data, client.id(), &family).await?;
    // A logout that collected the session's grants just before this one was recorded has
    // already deleted the session (it deletes first, then collects); the family is then ended
    // here instead.
    if !s.still_stored(state).await? {
        crate::grants::revoke_family(state, &family).await?;
        state.state.delete(&crate::grants::code_key(&code)).await?;
        return Err(oauth("login_required", "the session ended").into());
    }
    // Only a client with a back-channel logout URI is ever told about "log out everywhere";
    // remembering the others would grow the user's list by one entry per login for nothing
    // (and every later login reads and rewrites that whole list). A client that registers a URI
    // later is told about sessions from then on; the ending of one session still reaches every
    // client the session itself recorded.
    if client.registration.backchannel_logout_uri.is_some() {
        crate::flow::logout::remember_relying_party(state, &grant.subject, client.id()).await?;
    }
    Ok(see_other(
        &reply.url(&format!("code={code}")),
        HeaderMap::new(),
    ))
}

/// Sends the browser to the login, coming back here with every parameter as it was plus the
/// name of a marker that will recognise the login it is sent to make.
async fn to_forced_login(
    state: &AppState,
    ip: IpAddr,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
    request: &AuthorizeRequest,
    t: i64,
) -> Result<Response, Stop> {
    // Anyone can make openpoort store a marker without logging in, so each address gets a
    // bounded number per marker lifetime.
    if state
        .state
        .reserve(&reauth_ip_key(ip), MAX_REAUTH_PER_IP, REAUTH_TTL)
        .await?
        .is_none()
    {
        return Ok(message(
            StatusCode::TOO_MANY_REQUESTS,
            "Even wachten",
            Text::new(
                "Er komen te veel inlogverzoeken van dit adres. Probeer het over een paar minuten opnieuw.",
                "Too many login requests come from this address. Try again in a few minutes.",
            ),
            None,
        ));
    }
    // The browser is recognised by its CSRF cookie, which it keeps through the login; one
    // without it gets it here.
    let (csrf, set_cookie) = csrf_token(&state.web, headers);
    let marker = new_token();
    let record = ReauthMarker {
        after: t,
        browser: sha256_hex(&csrf),
        request: request_digest(q),
    };
    put_json(state, &reauth_key(&marker), &record, REAUTH_TTL).await?;
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
    let provider = match request.idp_hint.as_deref() {
        Some(hint) => crate::upstream::registry::hinted_provider(&state.directory, hint).await?,
        None => None,
    };
    let login = match provider {
        Some(code) => to_network(
            &code,
            &next,
            request.prompt.login || request.max_age.is_some(),
        ),
        None => to_login(&next, request.login_hint.as_deref()),
    };
    Ok(see_other(&login, set_cookie))
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
) -> Result<Response, PageError> {
    let Some(client): Option<Client> = load_client(&state, &client_id)
        .await
        .map_err(PageError::internal)?
    else {
        return Ok(bad_request(
            "Deze toepassing is niet bij openpoort bekend.",
            "This application is not known to openpoort.",
        ));
    };
    let Some(initiate) = client.registration.initiate_login_uri.clone() else {
        return Ok(bad_request(
            "Deze toepassing start niet vanuit het portaal.",
            "This application cannot be started from the portal.",
        ));
    };
    match session::load(&state, &headers).await? {
        Some(s) if matches!(s.data.who, Who::Pupil { .. } | Who::Staff { .. }) => {}
        _ => return Ok(see_other("/inloggen", HeaderMap::new())),
    }
    // The tile's product, when it is one of this client's party: its launch URL is where the
    // user wanted to go.
    let product = match q.get("product") {
        Some(id) => state
            .directory
            .product_by_id(id)
            .await?
            .filter(|p| p.party_id == client.registration.party_id),
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
    Ok(see_other(&url, HeaderMap::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(auth: &str) -> Client {
        Client {
            registration: serde_json::from_value(serde_json::json!({
                "client_id": "c",
                "party_id": "p",
                "name": "Rekentuin",
                "redirect_uris": ["https://rp.example/cb"],
                "grant_types": ["authorization_code"],
                "scopes": ["openid", "profile"],
                "token_endpoint_auth_method": auth,
            }))
            .expect("a registration"),
            secret_hash: None,
        }
    }

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let mut q: HashMap<String, String> = [
            ("response_type", "code"),
            ("scope", "openid"),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in pairs {
            if v.is_empty() {
                q.remove(*k);
            } else {
                q.insert(k.to_string(), v.to_string());
            }
        }
        q
    }

    fn error_of(pairs: &[(&str, &str)], auth: &str) -> Option<OAuthError> {
        AuthorizeRequest::validate(&query(pairs), &client(auth)).err()
    }

    #[test]
    fn a_well_formed_request_is_read_into_its_parts() {
        let r = AuthorizeRequest::validate(
            &query(&[
                ("scope", "openid profile"),
                ("prompt", "login"),
                ("max_age", "60"),
            ]),
            &client("none"),
        )
        .expect("valid");
        assert_eq!(r.scopes, ["openid", "profile"]);
        assert_eq!(
            r.prompt,
            Prompt {
                none: false,
                login: true
            }
        );
        assert_eq!(r.max_age, Some(60));
    }

    #[test]
    fn pkce_is_required_for_public_clients_only() {
        let none = [("code_challenge", ""), ("code_challenge_method", "")];
        assert_eq!(
            error_of(&none, "none").map(|e| e.description),
            Some("PKCE (S256) is required for public clients".into())
        );
        assert_eq!(error_of(&none, "client_secret_basic"), None);
    }

    #[test]
    fn only_s256_challenges_of_the_right_shape_are_taken() {
        for (pairs, why) in [
            (vec![("code_challenge_method", "plain")], "plain"),
            (vec![("code_challenge", "short")], "short challenge"),
            (vec![("code_challenge", "")], "method without challenge"),
        ] {
            assert_eq!(
                error_of(&pairs, "none").map(|e| e.error),
                Some("invalid_request"),
                "{why}"
            );
        }
    }

    #[test]
    fn scopes_beyond_the_registration_or_for_machines_are_refused() {
        assert_eq!(
            error_of(&[("scope", "profile")], "none").map(|e| e.description),
            Some("the openid scope is required".into())
        );
        assert_eq!(
            error_of(&[("scope", "openid email")], "none").map(|e| e.error),
            Some("invalid_scope")
        );
        assert_eq!(
            error_of(&[("scope", "openid openpoort:admin")], "none").map(|e| e.error),
            Some("invalid_scope")
        );
    }

    #[test]
    fn unsupported_request_forms_are_named_in_the_error() {
        assert_eq!(
            error_of(&[("response_type", "token")], "none").map(|e| e.error),
            Some("unsupported_response_type")
        );
        assert_eq!(
            error_of(&[("request", "eyJ")], "none").map(|e| e.error),
            Some("request_not_supported")
        );
        assert_eq!(
            error_of(&[("prompt", "none login")], "none").map(|e| e.error),
            Some("invalid_request")
        );
        assert_eq!(
            error_of(&[("max_age", "-1")], "none").map(|e| e.error),
            Some("invalid_request")
        );
    }
}
