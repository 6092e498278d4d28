//! Receiving a request from an SP by either binding: decode, read strictly, find the registered
//! issuer, and check the signature the binding carries. Shared by SSO and single logout.

use std::net::SocketAddr;

use ::metadata::saml::dom::{self, Limits};
use ::metadata::saml::{SamlError, ServiceProvider, SpRequest, binding, sign};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::{FlowError, load_sp};
use crate::app_state::AppState;
use crate::http::extract::Form;
use crate::state::StateStore;

/// Why a request is not taken further.
pub enum Refusal {
    /// Unreadable, too large, a DOCTYPE, a bad or missing signature …
    Unreadable(SamlError),
    UnknownIssuer,
    /// The SP must sign (its metadata says so, or it is a logout) and did not.
    Unsigned,
    /// This address sent more requests than `saml.max_requests_per_address` in the window.
    TooMany,
    Failed(FlowError),
}

impl From<SamlError> for Refusal {
    fn from(e: SamlError) -> Self {
        Refusal::Unreadable(e)
    }
}

/// A request by HTTP-POST as the browser posts it (SAML Bindings 3.5.4).
#[derive(serde::Deserialize)]
pub struct PostForm {
    #[serde(rename = "SAMLRequest")]
    pub saml_request: String,
    #[serde(rename = "RelayState")]
    pub relay_state: Option<String>,
}

pub struct Received<T> {
    pub request: T,
    pub sp: ServiceProvider,
    pub relay_state: Option<String>,
}

async fn registered_issuer(state: &AppState, issuer: &str) -> Result<ServiceProvider, Refusal> {
    match load_sp(state, issuer).await {
        Ok(Some(sp)) => Ok(sp),
        Ok(None) => Err(Refusal::UnknownIssuer),
        Err(e) => Err(Refusal::Failed(e)),
    }
}

/// The window of `saml.max_requests_per_address`.
const REQUESTS_WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Counts a SAML request against its address before anything of it is read or stored: every
/// request read leaves a replay marker, and often a parked request, in the short-lived store
/// before anyone has logged in. Reserved atomically, so a burst gets no more than the limit.
pub async fn admit(
    state: &AppState,
    peer: std::net::SocketAddr,
    headers: &axum::http::HeaderMap,
) -> Result<(), Refusal> {
    let ip = crate::http::client_ip(peer, headers, &state.web.trusted_proxies);
    let key = format!("saml:requests:{}", crate::http::address_key(ip));
    let limit = u64::from(state.web.saml.max_requests_per_address);
    match state.state.reserve(&key, limit, REQUESTS_WINDOW).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(Refusal::TooMany),
        Err(e) => Err(Refusal::Failed(e.into())),
    }
}

/// A request by HTTP-Redirect: `query` is the raw query string, whose signature (SAML Bindings
/// 3.4.4.1) covers the parameters exactly as sent. `must_sign` says, per SP, whether an unsigned
/// request is refused.
async fn redirect<T: SpRequest>(
    state: &AppState,
    query: &str,
    must_sign: fn(&ServiceProvider) -> bool,
) -> Result<Received<T>, Refusal> {
    if query.len() > 128 * 1024 {
        return Err(SamlError::TooLarge {
            size: query.len(),
            limit: 128 * 1024,
        }
        .into());
    }
    // One reading of the query serves both the signature check and the message: see
    // [`binding::RedirectQuery`] for why a duplicated SAML parameter is refused.
    let params = binding::RedirectQuery::parse(query, "SAMLRequest")?;
    let xml = params.message_xml()?;
    let request = T::from_element(&dom::parse(&xml, Limits::MESSAGE)?)?;
    let sp = registered_issuer(state, request.issuer()).await?;
    if request.has_xml_signature() {
        return Err(SamlError::invalid("XML signature in the Redirect binding").into());
    }
    match params.signature() {
        Some(signature) => {
            let certificates = sp.signing_certificates_der()?;
            let octets = params.signed_octets().ok_or(SamlError::MissingSignature)?;
            let alg = params.sig_alg().unwrap_or_default();
            sign::verify_redirect(&octets, &alg, &signature, &certificates)?;
        }
        None if must_sign(&sp) => return Err(Refusal::Unsigned),
        None => {}
    }
    Ok(Received {
        request,
        sp,
        relay_state: params.relay_state(),
    })
}

/// A request by HTTP-POST. A signed one is read again from what its signature covers, and must
/// be the whole request (root and ID), not an element somewhere inside it.
async fn post<T: SpRequest>(
    state: &AppState,
    message_b64: &str,
    relay_state: Option<String>,
    must_sign: fn(&ServiceProvider) -> bool,
) -> Result<Received<T>, Refusal> {
    let xml = binding::decode_post(message_b64)?;
    let request = T::from_element(&dom::parse(&xml, Limits::MESSAGE)?)?;
    let sp = registered_issuer(state, request.issuer()).await?;
    let request = if request.has_xml_signature() {
        let certificates = sp.signing_certificates_der()?;
        let text =
            std::str::from_utf8(&xml).map_err(|_| SamlError::Malformed("not UTF-8".into()))?;
        let signed = sign::verified_content(text, &certificates)?;
        let signed = T::from_element(&dom::parse(signed.as_bytes(), Limits::MESSAGE)?)
            .map_err(|_| SamlError::BadSignature)?;
        if signed.id() != request.id() || signed.issuer() != request.issuer() {
            return Err(SamlError::BadSignature.into());
        }
        signed
    } else if must_sign(&sp) {
        return Err(Refusal::Unsigned);
    } else {
        request
    };
    Ok(Received {
        request,
        sp,
        relay_state,
    })
}

/// What each kind of SP request (AuthnRequest, LogoutRequest) decides for itself at the door.
pub trait Inbound: SpRequest + Send + Sized {
    /// Whether an unsigned request of this kind from `sp` is refused.
    fn must_sign(sp: &ServiceProvider) -> bool;
    /// The page that answers a request refused at the door.
    fn refused(refusal: Refusal) -> Response;
}

/// An SP request by HTTP-Redirect, counted against its address ([`admit`]) before it is read,
/// then received ([`redirect`]). As an extractor, no endpoint can read a request it did not count.
pub struct ByRedirect<T>(pub Received<T>);

impl<T: Inbound> FromRequestParts<AppState> for ByRedirect<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let ConnectInfo(peer) = ConnectInfo::<SocketAddr>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        admit(state, peer, &parts.headers)
            .await
            .map_err(T::refused)?;
        let query = parts.uri.query().unwrap_or_default();
        redirect(state, query, T::must_sign)
            .await
            .map(ByRedirect)
            .map_err(T::refused)
    }
}

/// An SP request by HTTP-POST: the form read, then counted and received as [`ByRedirect`] is.
pub struct ByPost<T>(pub Received<T>);

impl<T: Inbound> FromRequest<AppState> for ByPost<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let ConnectInfo(peer) = ConnectInfo::<SocketAddr>::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let headers = parts.headers.clone();
        let Form(form) = Form::<PostForm>::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        admit(state, peer, &headers).await.map_err(T::refused)?;
        post(state, &form.saml_request, form.relay_state, T::must_sign)
            .await
            .map(ByPost)
            .map_err(T::refused)
    }
}

/// How old a request may be. Browsers deliver it within seconds; a request held back longer is
/// more likely a replay than a slow network.
const MAX_REQUEST_AGE: i64 = 600;

pub enum Freshness {
    Fresh,
    /// Dated too long ago, or in the future beyond the allowed clock skew.
    Expired,
    /// Its ID came from this SP before.
    Replayed,
}

/// Whether a request of `kind` (`request`, `logout`) may still be answered: dated within the
/// window, and its ID never seen from this SP before. IDs are remembered in the short-lived store
/// (so across nodes with Redis) for as long as the request could still be fresh.
pub async fn freshness(
    state: &AppState,
    kind: &str,
    sp: &ServiceProvider,
    id: &str,
    issue_instant: i64,
) -> Result<Freshness, FlowError> {
    let now = crate::clock::unix_now();
    let skew = i64::from(state.web.saml.clock_skew_seconds);
    if issue_instant > now + skew || now - issue_instant > MAX_REQUEST_AGE + skew {
        return Ok(Freshness::Expired);
    }
    let key = format!(
        "saml:{kind}-id:{}",
        crate::http::sha256_hex(&format!("{}\n{id}", sp.entity_id))
    );
    let ttl = std::time::Duration::from_secs((MAX_REQUEST_AGE + 2 * skew) as u64);
    Ok(if state.state.put_if_absent(&key, b"1", ttl).await? {
        Freshness::Fresh
    } else {
        tracing::warn!(sp = %sp.entity_id, kind, "SAML request ID used twice; refused");
        Freshness::Replayed
    })
}
