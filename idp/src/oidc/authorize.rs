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
use crate::state::{StateStore, Step};

/// The client's redirect URI (which may carry a query of its own) with the authorization
/// response's fields as its query.
fn response_url(redirect_uri: &str, fields: &[(&'static str, String)]) -> String {
    let query = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", url_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{redirect_uri}{}{query}",
        if redirect_uri.contains('?') { '&' } else { '?' }
    )
}

/// How the authorization response travels to the client (`response_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseMode {
    /// A 303 to the redirect URI with the response in its query: the code flow's default.
    Query,
    /// An auto-submitting form that POSTs the response to the redirect URI, so that the code
    /// never appears in a URL (browser history, Referer, access logs).
    FormPost,
}

impl ResponseMode {
    /// The requested mode; one openpoort does not implement is refused rather than ignored,
    /// since a client expecting its answer in a fragment or a JWT would not find it.
    pub fn of(q: &HashMap<String, String>) -> Result<ResponseMode, OAuthError> {
        match q.get("response_mode").map(String::as_str) {
            None | Some("") | Some("query") => Ok(ResponseMode::Query),
            Some("form_post") => Ok(ResponseMode::FormPost),
            Some(other) => Err(oauth(
                "invalid_request",
                format!(
                    "response_mode {} is not supported; supported: {}",
                    shortened(other),
                    metadata::discovery::RESPONSE_MODES.join(", ")
                ),
            )),
        }
    }
}

/// A value the client sent, cut short for an error message.
fn shortened(value: &str) -> String {
    const MAX: usize = 100;
    if value.chars().count() <= MAX {
        value.to_owned()
    } else {
        format!("{}…", value.chars().take(MAX).collect::<String>())
    }
}

#[derive(Template)]
#[template(path = "denied.html")]
struct DeniedPage {
    title: String,
    text: Text,
    /// The refusal as a link back (query mode)…
    back: Option<String>,
    /// …or as a form the user posts (form_post), to `action`.
    action: String,
    post: Option<Vec<(&'static str, String)>>,
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

use metadata::discovery::PROMPT_VALUES;

/// The `prompt` values openpoort answers.
///
/// `consent` is satisfied by the school's consent: in openpoort the school, not the user,
/// decides what a party receives, so there is no user consent screen to show; a request whose
/// release the school's rules refuse gets the denial page (or `consent_required` with `none`
/// when it is the school's consent that is missing). `select_account` lets a staff member of
/// several schools choose the school again; everyone else has one account in the session.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
    pub select_account: bool,
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
    /// The `acr_values` openpoort can issue, in the client's order; values it never issues are
    /// left out, since no login could meet them. A voluntary request (OIDC Core 5.5.1.1): the
    /// ID token's `acr` always says what was done.
    pub acr_values: Vec<String>,
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
        let scopes = granted_scopes(param("scope").unwrap_or(""), client)?;
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
        if let Some(unknown) = prompts.iter().find(|p| !PROMPT_VALUES.contains(p)) {
            return Err(oauth(
                "invalid_request",
                format!(
                    "prompt {unknown} is not supported; supported: {}",
                    PROMPT_VALUES.join(", ")
                ),
            ));
        }
        // OIDC Core 3.1.2.1: none with any other value is an error.
        if prompts.contains(&"none") && prompts.len() > 1 {
            return Err(oauth(
                "invalid_request",
                "prompt=none cannot be combined with other prompt values",
            ));
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
                consent: prompts.contains(&"consent"),
                select_account: prompts.contains(&"select_account"),
            },
            acr_values: param("acr_values")
                .unwrap_or("")
                .split(' ')
                .filter(|v| metadata::discovery::is_issued_acr(v))
                .map(str::to_owned)
                .collect(),
            max_age,
            login_hint: param("login_hint").map(str::to_owned),
            idp_hint: param("idp_hint").map(str::to_owned),
            op_reauth: param("op_reauth").map(str::to_owned),
        })
    }
}

/// The scopes an authorization request is answered with: those the client asked for that
/// openpoort knows and the client may have. A scope that would release data the client did not
/// register (or openpoort's own API) is refused; `offline_access` is kept for a client allowed
/// refresh tokens and otherwise ignored (OIDC Core 11); any other value openpoort does not know
/// is ignored (RFC 6749 3.3), so that a library's default scopes do not fail the login.
fn granted_scopes(requested: &str, client: &Client) -> Result<Vec<String>, OAuthError> {
    use metadata::scopes::{OFFLINE_ACCESS, is_api_scope, is_known_scope};
    let requested: Vec<&str> = requested.split(' ').filter(|s| !s.is_empty()).collect();
    if !requested.contains(&"openid") {
        return Err(oauth("invalid_scope", "the openid scope is required"));
    }
    let mut granted: Vec<String> = Vec::new();
    for scope in requested {
        // Registration already keeps API scopes away from code-flow clients; this holds even
        // for a registration stored before that rule, so that no user's login can carry admin
        // access.
        if is_api_scope(scope) {
            return Err(oauth(
                "invalid_scope",
                format!("scope {scope} is only available through client credentials"),
            ));
        }
        let keep = if scope == OFFLINE_ACCESS {
            client
                .registration
                .allows(metadata::client::GrantType::RefreshToken)
        } else if is_known_scope(scope) {
            if !client.registration.scopes.iter().any(|s| s == scope) {
                return Err(oauth(
                    "invalid_scope",
                    format!(
                        "scope {scope} is not registered for this client (registered: {})",
                        client.registration.scopes.join(" ")
                    ),
                ));
            }
            true
        } else {
            false
        };
        if keep && !granted.iter().any(|g| g == scope) {
            granted.push(scope.to_owned());
        }
    }
    Ok(granted)
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
            "Er ontbreekt een client_id: de toepassing zei niet wie ze is.",
            "client_id is missing: the application did not say who it is.",
        ));
    };
    let client = match load_client(state, client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            let shown = shortened(client_id);
            return Err(bad_request(
                &format!("Deze toepassing (client_id \"{shown}\") is niet bij openpoort bekend."),
                &format!("This application (client_id \"{shown}\") is not known to openpoort."),
            ));
        }
        Err(e) => return Err(PageError::internal(e).into_response()),
    };
    let registered = client.registration.redirect_uris.join(", ");
    let redirect_uri = match param("redirect_uri") {
        Some(r) if client.registration.has_redirect_uri(r) => r,
        // Shown on this page only, escaped like every value in it; never a redirect target.
        Some(r) => {
            let shown = shortened(r);
            return Err(bad_request(
                &format!(
                    "Het terugstuuradres (redirect_uri) \"{shown}\" is niet geregistreerd voor {name}. \
                     Geregistreerd: {registered}. Adressen moeten precies gelijk zijn.",
                    name = client.registration.name
                ),
                &format!(
                    "The redirect_uri \"{shown}\" is not registered for {name}. \
                     Registered: {registered}. Addresses must match exactly.",
                    name = client.registration.name
                ),
            ));
        }
        None => {
            return Err(bad_request(
                &format!(
                    "Er ontbreekt een terugstuuradres (redirect_uri) voor {name}. Geregistreerd: {registered}.",
                    name = client.registration.name
                ),
                &format!(
                    "The redirect_uri is missing for {name}. Registered: {registered}.",
                    name = client.registration.name
                ),
            ));
        }
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
    let mut to_client = Reply {
        redirect_uri,
        state_param,
        issuer: &issuer,
        mode: ResponseMode::Query,
    };
    match ResponseMode::of(&q) {
        Ok(mode) => to_client.mode = mode,
        Err(e) => return to_client.error(&e),
    }
    match code_for(&state, ip, &headers, &q, &client, &to_client).await {
        Ok(response) => response,
        Err(Stop::ToClient(e)) => to_client.error(&e),
        Err(Stop::Page(page)) => page,
        Err(Stop::Internal(e)) => e.into_response(),
    }
}

/// Where the answer of a validated request goes, and how.
struct Reply<'a> {
    redirect_uri: &'a str,
    state_param: Option<&'a str>,
    issuer: &'a str,
    mode: ResponseMode,
}

impl Reply<'_> {
    /// `answer` with `state` and `iss` (RFC 9207) added.
    fn fields(&self, answer: Vec<(&'static str, String)>) -> Vec<(&'static str, String)> {
        let mut fields = answer;
        if let Some(s) = self.state_param {
            fields.push(("state", s.to_owned()));
        }
        fields.push(("iss", self.issuer.to_owned()));
        fields
    }

    fn send(&self, answer: Vec<(&'static str, String)>) -> Response {
        let fields = self.fields(answer);
        match self.mode {
            ResponseMode::Query => {
                see_other(&response_url(self.redirect_uri, &fields), HeaderMap::new())
            }
            ResponseMode::FormPost => super::form_post::page(self.redirect_uri, &fields),
        }
    }

    fn error(&self, e: &OAuthError) -> Response {
        self.send(error_fields(e))
    }
}

fn error_fields(e: &OAuthError) -> Vec<(&'static str, String)> {
    vec![
        ("error", e.error.to_owned()),
        ("error_description", e.description.clone()),
    ]
}

/// Why a session is sent to log in when its login's class is not among `acr_values`.
const ACR_NOT_MET: &str = "the session's login does not meet acr_values";

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

    // Who is signed in, and whether that login will do for this request.
    let s = session::load(state, headers).await?;
    let t = unix_now();
    let reauthenticated = s
        .as_ref()
        .is_some_and(|s| reauth_after.is_some_and(|after| s.data.created_at >= after));
    let why_login = match &s {
        None => Some("no active session"),
        // A login made for this very request is what it asked for: prompt=login and max_age
        // are met, and an acr_values request the new login did not meet is voluntary; the ID
        // token's acr says what was done.
        Some(_) if reauthenticated => None,
        Some(_) if request.prompt.login => Some("prompt=login asks for a new login"),
        Some(s) if request.max_age.is_some_and(|m| t - s.data.created_at > m) => {
            Some("the session is older than max_age")
        }
        Some(s) if !session::acr_meets(&s.data.acr(), &request.acr_values) => Some(ACR_NOT_MET),
        Some(_) => None,
    };
    // A password login that falls short only of the second factor a relying party asked for is
    // raised by that factor alone (step-up), when the staff member has one: asking for the
    // password again would prove nothing new. Without one, the request goes on as any other
    // the session does not meet.
    let step_up = match &s {
        Some(s)
            if why_login == Some(ACR_NOT_MET)
                && request
                    .acr_values
                    .iter()
                    .any(|v| v == metadata::discovery::ACR_MFA) =>
        {
            crate::flow::second_factor::can_step_up(state, &s.data).await?
        }
        _ => false,
    };
    let s = match (s, why_login) {
        (Some(s), None) => s,
        (_, Some(why)) if request.prompt.none => return Err(oauth("login_required", why).into()),
        (Some(_), Some(_)) if step_up => {
            let here = format!("/oidc/authorize?{}", query_string(q));
            return Ok(see_other(
                &crate::flow::second_factor::to_code(&here),
                HeaderMap::new(),
            ));
        }
        _ => {
            return Err(Stop::Page(
                to_forced_login(state, ip, headers, q, &request, t).await?,
            ));
        }
    };
    // A staff member of several schools picks one first (or again, with select_account: the
    // school is the account a staff member works under), then comes back.
    let choose_again = match (&s.data.who, &s.data.school_id) {
        (Who::Staff { staff_id, .. }, Some(_))
            if request.prompt.select_account && !reauthenticated =>
        {
            state.directory.schools_of_staff(staff_id).await?.len() > 1
        }
        _ => false,
    };
    let school_id = match s.data.school_id.clone() {
        Some(school) if !choose_again => school,
        _ if request.prompt.none => {
            return Err(oauth(
                "account_selection_required",
                "the user must choose a school first",
            )
            .into());
        }
        _ => {
            // Back without select_account, or the choice would be asked for again and again.
            let here = format!(
                "/oidc/authorize?{}",
                query_string(&without_select_account(q))
            );
            return Ok(see_other(&to_school_choice(&here), HeaderMap::new()));
        }
    };

    // The release decision, with what the scopes ask for. prompt=consent asks for nothing more:
    // the school's consent is the consent (see [`Prompt`]).
    let requested = requested_attributes(&request.scopes);
    let sector = client.sector();
    let to = Recipient {
        party_id: &client.registration.party_id,
        fallback_name: &client.registration.name,
        sector: &sector,
        product_id: None,
        requested: Some(&requested),
    };
    let release = match release::decide_with_reason(state, &s.data, &school_id, &to, t).await? {
        (Outcome::Allow(r), _) => r,
        // No page may be shown: the client hears only that it was refused, and whether the
        // missing piece is consent (which an interactive request would explain to the user).
        (Outcome::Deny(_), reason) if request.prompt.none => {
            return Err(match reason {
                Some(broker::DenyReason::NoConsent) => oauth(
                    "consent_required",
                    "the school has not consented to releasing data to this client",
                ),
                _ => oauth(
                    "access_denied",
                    "the school's rules do not allow this login",
                ),
            }
            .into());
        }
        (Outcome::Deny(explanation), _) => {
            let refusal = reply.fields(error_fields(&oauth(
                "access_denied",
                "the school's rules do not allow this login",
            )));
            let (back, post) = match reply.mode {
                ResponseMode::Query => (Some(response_url(reply.redirect_uri, &refusal)), None),
                ResponseMode::FormPost => (None, Some(refusal)),
            };
            let mut answer = page(
                StatusCode::FORBIDDEN,
                &DeniedPage {
                    title: "Geen toegang".into(),
                    text: explanation,
                    back,
                    action: reply.redirect_uri.to_owned(),
                    post,
                    client: client.registration.name.clone(),
                },
                HeaderMap::new(),
            );
            if reply.mode == ResponseMode::FormPost {
                super::form_post::allow_form_to(&mut answer, reply.redirect_uri, false);
            }
            return Ok(answer);
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
            second_factor: s.data.second_factor,
        },
        claims: claims_of(&release),
        family: family.clone(),
        issued_at: unix_now(),
    };
    let code = new_token();
    let (family_at, code_at) = (family_key(&family), crate::grants::code_key(&code));
    let grant_json = serde_json::to_vec(&grant).map_err(crate::grants::GrantError::from)?;
    // The family lives as long as its longest token could. The session remembers what it
    // handed out, so that its end can take it back.
    let still_stored = s
        .record_grant(
            state,
            &[
                Step::Put(&family_at, b"1", REFRESH_TOKEN_TTL),
                Step::Put(&code_at, &grant_json, CODE_TTL),
            ],
            client.id(),
            &family,
        )
        .await?;
    // A logout that collected the session's grants just before this one was recorded has
    // already deleted the session (it deletes first, then collects); the family is then ended
    // here instead.
    if !still_stored {
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
    Ok(reply.send(vec![("code", code)]))
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

/// The request without `select_account` among its prompt values.
fn without_select_account(q: &HashMap<String, String>) -> HashMap<String, String> {
    let mut q = q.clone();
    if let Some(prompt) = q.get_mut("prompt") {
        *prompt = prompt
            .split(' ')
            .filter(|p| !p.is_empty() && *p != "select_account")
            .collect::<Vec<_>>()
            .join(" ");
    }
    q
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
                login: true,
                ..Prompt::default()
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
    fn unknown_scope_values_are_dropped_and_offline_access_follows_the_refresh_grant() {
        let scopes = |scope: &str, grants: &[&str]| {
            let mut c = client("none");
            c.registration.grant_types = grants
                .iter()
                .map(|g| serde_json::from_value(serde_json::json!(g)).unwrap())
                .collect();
            AuthorizeRequest::validate(&query(&[("scope", scope)]), &c).map(|r| r.scopes)
        };
        assert_eq!(
            scopes("openid address openid profile", &["authorization_code"]),
            Ok(vec!["openid".to_owned(), "profile".to_owned()])
        );
        assert_eq!(
            scopes("openid offline_access", &["authorization_code"]),
            Ok(vec!["openid".to_owned()])
        );
        assert_eq!(
            scopes(
                "openid offline_access",
                &["authorization_code", "refresh_token"]
            ),
            Ok(vec!["openid".to_owned(), "offline_access".to_owned()])
        );
    }

    #[test]
    fn every_prompt_value_of_oidc_core_is_read_and_none_stands_alone() {
        let r = AuthorizeRequest::validate(
            &query(&[("prompt", "consent select_account login")]),
            &client("none"),
        )
        .expect("valid");
        assert_eq!(
            r.prompt,
            Prompt {
                none: false,
                login: true,
                consent: true,
                select_account: true
            }
        );
        assert_eq!(
            error_of(&[("prompt", "none consent")], "none").map(|e| e.error),
            Some("invalid_request")
        );
        assert_eq!(
            error_of(&[("prompt", "create")], "none").map(|e| e.error),
            Some("invalid_request")
        );
    }

    #[test]
    fn only_acr_values_openpoort_issues_are_kept() {
        let r = AuthorizeRequest::validate(
            &query(&[(
                "acr_values",
                "urn:other:gold urn:openpoort:acr:password urn:openpoort:acr:network:moo",
            )]),
            &client("none"),
        )
        .expect("valid");
        assert_eq!(
            r.acr_values,
            [
                "urn:openpoort:acr:password",
                "urn:openpoort:acr:network:moo"
            ]
        );
    }

    #[test]
    fn response_modes_other_than_query_and_form_post_are_refused() {
        let mode = |m: &str| ResponseMode::of(&query(&[("response_mode", m)]));
        assert_eq!(mode(""), Ok(ResponseMode::Query));
        assert_eq!(mode("query"), Ok(ResponseMode::Query));
        assert_eq!(mode("form_post"), Ok(ResponseMode::FormPost));
        for refused in ["fragment", "query.jwt", "form_post.jwt"] {
            assert_eq!(mode(refused).map_err(|e| e.error), Err("invalid_request"));
        }
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
