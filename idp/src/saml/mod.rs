//! The SAML 2.0 identity provider: one file per endpoint, what they share here.
//!
//! Every message from a service provider is read by the metadata crate's strict reader, from a
//! registered SP only, and answered only at an endpoint from that SP's metadata. Requests that
//! arrive by HTTP-POST are parked in the short-lived store and continued by a same-site GET,
//! because the session cookie (SameSite=Lax) does not travel with a cross-site POST.

mod acs;
mod initiate;
mod metadata;
mod receive;
mod slo;
mod sp_metadata;
mod sso;

use askama::Template;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use ::metadata::saml::response::Status;
use ::metadata::saml::sign::XmlSigner;
use ::metadata::saml::{SamlError, ServiceProvider};

use crate::app_state::AppState;
use crate::http::{Text, message, page, see_other};
use crate::state::StateStore;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/saml/metadata", get(metadata::metadata))
        .route(
            "/saml/sso",
            get(sso::redirect_binding).post(sso::post_binding),
        )
        .route("/saml/sso/verder", get(sso::resume))
        .route("/saml/start", get(initiate::start))
        .route(
            "/saml/slo",
            get(slo::redirect_binding).post(slo::post_binding),
        )
        .route("/saml/slo/verder", get(slo::resume))
        // openpoort as the SP of network providers (brokered login).
        .route("/saml/sp/metadata", get(sp_metadata::metadata))
        .route("/saml/acs", axum::routing::post(acs::post))
        .route("/saml/acs/verder", get(acs::resume))
        .route(
            "/static/autopost.js",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                        (header::CACHE_CONTROL, "public, max-age=3600"),
                    ],
                    include_str!("../../static/autopost.js"),
                )
            }),
        )
}

#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error("register: {0}")]
    Directory(#[from] directory::DirectoryError),
    #[error("state store: {0}")]
    State(#[from] crate::state::StateError),
    #[error("keys: {0}")]
    Keys(#[from] certs::CertsError),
    #[error("SAML: {0}")]
    Saml(#[from] SamlError),
    #[error("release decision: {0}")]
    Broker(#[from] broker::BrokerError),
    #[error("stored JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("session: {0}")]
    Session(#[from] crate::session::SessionError),
    #[error("stored service provider {0} does not parse: {1}")]
    BadRegistration(String, String),
    #[error("signing: {0}")]
    Signing(#[from] crate::xml_signing::SigningError),
    #[error("{0}")]
    Release(#[from] crate::flow::release::ReleaseError),
}

/// openpoort's entity ID: the address of its metadata, as SAML deployments conventionally use.
pub fn entity_id(state: &AppState) -> String {
    format!("{}/saml/metadata", state.web.public_url)
}

pub fn sso_url(state: &AppState) -> String {
    format!("{}/saml/sso", state.web.public_url)
}

pub fn slo_url(state: &AppState) -> String {
    format!("{}/saml/slo", state.web.public_url)
}

pub async fn load_sp(state: &AppState, entity: &str) -> Result<Option<ServiceProvider>, FlowError> {
    if entity.is_empty() || entity.len() > 1024 {
        return Ok(None);
    }
    let Some(stored) = state.directory.saml_sp(entity).await? else {
        return Ok(None);
    };
    serde_json::from_str(&stored.registration)
        .map(Some)
        .map_err(|e| FlowError::BadRegistration(entity.to_owned(), e.to_string()))
}

/// The current RS256 key with its certificate, ready for xmlsec.
pub async fn signer(state: &AppState) -> Result<XmlSigner, FlowError> {
    Ok(crate::xml_signing::signer(state).await?)
}

/// A page for a request openpoort will not answer to the SP (unknown issuer, ACS not in the
/// metadata, bad signature …): answering would mean posting to an address nobody vouched for.
pub fn refused(nl: &str, en: &str) -> Response {
    refusal_page("Ongeldig inlogverzoek", nl, en)
}

/// [`refused`] for a logout request, which the page then names as such.
pub fn refused_logout(nl: &str, en: &str) -> Response {
    refusal_page("Ongeldig uitlogverzoek", nl, en)
}

fn refusal_page(title: &str, nl: &str, en: &str) -> Response {
    message(
        StatusCode::BAD_REQUEST,
        title,
        Text::new(nl, en),
        Some(("/", "Naar het portaal / To the portal")),
    )
}

/// The refusal of an SP whose stored metadata has passed its `validUntil`, audited; `None` while
/// the metadata is valid. Metadata past its date may describe keys and endpoints the SP no
/// longer controls, so nothing is sent to it, not even a status.
pub async fn expired_metadata(
    state: &AppState,
    sp: &ServiceProvider,
) -> Result<Option<Response>, FlowError> {
    let Some(until) = sp
        .metadata_valid_until
        .filter(|t| *t <= crate::clock::unix_now())
    else {
        return Ok(None);
    };
    let date = ::metadata::saml::time::format(until);
    tracing::info!(sp = %sp.entity_id, valid_until = %date, "SAML login refused: SP metadata expired");
    state
        .directory
        .audit(directory::audit::AuditEvent {
            actor: &directory::Actor::system("saml"),
            action: "saml_sp.metadata_expired",
            school_id: None,
            party_id: Some(&sp.party_id),
            subject: Some(&sp.entity_id),
            details: serde_json::json!({"valid_until": date}),
        })
        .await?;
    Ok(Some(message(
        StatusCode::BAD_REQUEST,
        "Registratie verlopen",
        Text::new(
            format!(
                "De registratie van {} bij openpoort is verlopen op {date} (validUntil in de metadata van de toepassing). Inloggen bij deze toepassing kan pas weer als de leverancier nieuwe metadata heeft aangeleverd.",
                sp.name
            ),
            format!(
                "The registration of {} with openpoort expired on {date} (validUntil in the application's metadata). Logging in to this application is possible again once its supplier has provided new metadata.",
                sp.name
            ),
        ),
        Some(("/", "Naar het portaal / To the portal")),
    )))
}

/// Answer to an address past `saml.max_requests_per_address`.
pub fn too_many_requests() -> Response {
    message(
        StatusCode::TOO_MANY_REQUESTS,
        "Even wachten",
        Text::new(
            "Vanaf dit adres zijn in korte tijd te veel inlog- of uitlogverzoeken gekomen. Probeer het over een kwartier opnieuw.",
            "Too many login or logout requests came from this address in a short time. Try again in a quarter of an hour.",
        ),
        Some(("/", "Naar het portaal / To the portal")),
    )
}

pub fn failed(e: impl std::fmt::Display + 'static) -> Response {
    crate::http::internal_error(e)
}

/// A signed metadata document (openpoort's IdP or SP metadata) as SAML peers fetch it.
fn metadata_document<E: std::fmt::Display + 'static>(xml: Result<String, E>) -> Response {
    match xml {
        Ok(xml) => {
            let mut r = xml.into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/samlmetadata+xml"),
            );
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            );
            r
        }
        Err(e) => failed(e),
    }
}

#[derive(Template)]
#[template(path = "saml_post.html")]
struct PostPage<'a> {
    action: &'a str,
    field: &'a str,
    message: &'a str,
    relay_state: Option<&'a str>,
    name: &'a str,
    title: &'a str,
    text: Option<Text>,
}

/// The origin (`scheme://host[:port]`) of an absolute URL, for a page's CSP form-action.
fn origin(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    Some(u.origin().ascii_serialization()).filter(|o| o != "null")
}

/// An HTML-POST binding page that sends `message` (base64) to `action`; with `text`, it
/// explains first and waits for the user (a refusal), otherwise it submits itself.
/// A message for an SP's endpoint by HTTP-POST.
pub struct Outgoing<'a> {
    pub action: &'a str,
    /// `SAMLResponse` or `SAMLRequest`.
    pub field: &'a str,
    pub message_b64: &'a str,
    pub relay_state: Option<&'a str>,
    /// The SP's name, for the button.
    pub name: &'a str,
}

pub fn post_page(
    out: Outgoing<'_>,
    text: Option<Text>,
    status: StatusCode,
    extra: HeaderMap,
) -> Response {
    let Outgoing {
        action,
        field,
        message_b64,
        relay_state,
        name,
    } = out;
    let Some(origin) = origin(action) else {
        return failed(format!("the endpoint {action} has no origin"));
    };
    let title = if text.is_some() {
        "Geen toegang"
    } else {
        "Doorsturen"
    };
    let mut r = page(
        status,
        &PostPage {
            action,
            field,
            message: message_b64,
            relay_state,
            name,
            title,
            text,
        },
        extra,
    );
    // The form leaves openpoort for the SP's own, registered endpoint; nothing else may.
    match HeaderValue::from_str(&format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action {origin}; frame-ancestors 'none'; base-uri 'none'"
    )) {
        Ok(v) => {
            r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
            r
        }
        Err(e) => failed(e),
    }
}

/// A request waiting for the user to be signed in (or for its same-site continuation).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Pending {
    pub sp: String,
    /// The AuthnRequest's ID, for InResponseTo.
    pub request_id: String,
    pub acs: String,
    pub relay_state: Option<String>,
    pub force_authn: bool,
    pub is_passive: bool,
    pub name_id_format: String,
    pub created_at: i64,
    /// ForceAuthn: set once the user was sent to log in, with the session (its `sid`) that
    /// existed then; only a session other than that one counts as the fresh login.
    #[serde(default)]
    pub login_asked: bool,
    #[serde(default)]
    pub stale_sid: Option<String>,
    /// Scoping/IDPList: the entityIDs of identity providers the SP wants the user to log in
    /// at; the first that is a connected network provider takes the login.
    #[serde(default)]
    pub idp_list: Vec<String>,
    /// What the SP asked of the login, checked against the session before answering.
    #[serde(default)]
    pub requested_authn_context: Option<::metadata::saml::authn_context::RequestedAuthnContext>,
}

const PENDING_TTL: std::time::Duration = std::time::Duration::from_secs(900);

fn pending_key(id: &str) -> String {
    format!("saml:pending:{}", crate::http::sha256_hex(id))
}

/// Keeps a request for its same-site continuation or until the user has signed in, under `id`
/// (a new random one when `None`); returns the id for the continuation URL.
pub async fn park<T: Serialize>(
    state: &AppState,
    value: &T,
    id: Option<&str>,
) -> Result<String, FlowError> {
    let id = id.map_or_else(crate::http::random_token, str::to_owned);
    state
        .state
        .put(&pending_key(&id), &serde_json::to_vec(value)?, PENDING_TTL)
        .await?;
    Ok(id)
}

/// Parks what arrived by a cross-site POST and sends the browser on to `resume` (its
/// `/saml/…/verder` page), to continue in a same-site GET, where the session cookie travels.
pub async fn continue_same_site<T: Serialize>(
    state: &AppState,
    value: &T,
    resume: &str,
) -> Result<Response, FlowError> {
    let id = park(state, value, None).await?;
    Ok(see_other(&format!("{resume}?id={id}"), HeaderMap::new()))
}

/// The query of the page that picks up a parked request (`/saml/sso/verder`, `/saml/slo/verder`).
#[derive(Deserialize)]
pub struct Resume {
    id: String,
}

/// A parked request, taken (single use) or only read; `None` when expired or unreadable.
pub async fn parked<T: for<'de> Deserialize<'de>>(
    state: &AppState,
    id: &str,
    take: bool,
) -> Result<Option<T>, FlowError> {
    let raw = if take {
        state.state.take(&pending_key(id)).await?
    } else {
        state.state.get(&pending_key(id)).await?
    };
    Ok(raw.and_then(|v| serde_json::from_slice(&v).ok()))
}

/// Forgets a parked request once it has been answered.
pub async fn unpark(state: &AppState, id: &str) -> Result<(), FlowError> {
    state.state.delete(&pending_key(id)).await?;
    Ok(())
}

/// Answers a request at the SP's ACS with a status (no assertion), signed.
pub async fn status_to_sp(
    state: &AppState,
    sp: &ServiceProvider,
    acs: &str,
    in_response_to: Option<&str>,
    relay_state: Option<&str>,
    status: Status<'_>,
) -> Result<Response, FlowError> {
    let signer = signer(state).await?;
    let xml = ::metadata::saml::response::status_response(
        &entity_id(state),
        acs,
        in_response_to,
        status,
        crate::clock::unix_now(),
        &signer,
    )?;
    Ok(post_page(
        Outgoing {
            action: acs,
            field: "SAMLResponse",
            message_b64: &::metadata::saml::binding::encode_post(&xml),
            relay_state,
            name: &sp.name,
        },
        None,
        StatusCode::OK,
        HeaderMap::new(),
    ))
}

impl IntoResponse for FlowError {
    fn into_response(self) -> Response {
        crate::http::PageError::internal(self).into_response()
    }
}

impl From<FlowError> for crate::http::PageError {
    fn from(e: FlowError) -> crate::http::PageError {
        crate::http::PageError::internal(e)
    }
}
