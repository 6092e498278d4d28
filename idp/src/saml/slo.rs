//! Single logout, SP-initiated, by HTTP-Redirect and HTTP-POST: ends the openpoort session
//! (and with it the OIDC tokens it issued) and answers with a signed LogoutResponse.

use crate::http::extract::Query;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use ::metadata::saml::logout::{LogoutRequest, logout_response};
use ::metadata::saml::sp::Binding;
use ::metadata::saml::{SIG_RSA_SHA256, STATUS_SUCCESS, SamlError, ServiceProvider, binding};

use super::receive::{self, ByPost, ByRedirect, Freshness, Refusal};
use super::{
    Outgoing, continue_same_site, entity_id, load_sp, parked, post_page, refused_logout, signer,
    slo_url,
};
use crate::app_state::AppState;
use crate::http::{PageError, Text, message, see_other, url_encode};
use crate::session;

fn unreadable(e: &SamlError) -> Response {
    tracing::info!(error = %e, "SAML logout request refused");
    refused_logout(
        "Het uitlogverzoek van de toepassing is onleesbaar, niet of verkeerd ondertekend, verlopen of al gebruikt.",
        "The application's logout request is unreadable, unsigned or wrongly signed, expired or used before.",
    )
}

fn refusal(r: Refusal) -> Response {
    match r {
        Refusal::Unreadable(e) => unreadable(&e),
        Refusal::UnknownIssuer => unreadable(&SamlError::invalid("unknown issuer")),
        Refusal::Unsigned => unreadable(&SamlError::MissingSignature),
        Refusal::TooMany => super::too_many_requests(),
        Refusal::Failed(e) => e.into_response(),
    }
}

impl receive::Inbound for LogoutRequest {
    /// A logout must be authenticated (SAML Profiles 4.4.4.1) whenever the SP can sign.
    fn must_sign(sp: &ServiceProvider) -> bool {
        !sp.signing_certificates.is_empty()
    }

    fn refused(r: Refusal) -> Response {
        refusal(r)
    }
}

pub async fn redirect_binding(
    State(state): State<AppState>,
    headers: HeaderMap,
    ByRedirect(r): ByRedirect<LogoutRequest>,
) -> Result<Response, PageError> {
    validate(&state, &r.sp, &r.request, r.relay_state.as_deref()).await?;
    act(
        &state,
        &headers,
        &r.sp,
        &r.request.id,
        &r.request.session_indexes,
        r.relay_state,
    )
    .await
}

/// A logout waiting for its same-site continuation.
#[derive(Serialize, Deserialize)]
struct PendingLogout {
    sp: String,
    request_id: String,
    session_indexes: Vec<String>,
    relay_state: Option<String>,
}

pub async fn post_binding(
    State(state): State<AppState>,
    ByPost(r): ByPost<LogoutRequest>,
) -> Result<Response, PageError> {
    validate(&state, &r.sp, &r.request, r.relay_state.as_deref()).await?;
    let pending = PendingLogout {
        sp: r.sp.entity_id.clone(),
        request_id: r.request.id,
        session_indexes: r.request.session_indexes,
        relay_state: r.relay_state,
    };
    Ok(continue_same_site(&state, &pending, "/saml/slo/verder").await?)
}

pub async fn resume(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<super::Resume>,
) -> Result<Response, PageError> {
    let Some(p) = parked::<PendingLogout>(&state, &q.id, true).await? else {
        return Ok(refused_logout(
            "Dit uitlogverzoek is verlopen.",
            "This logout request has expired.",
        ));
    };
    let Some(sp) = load_sp(&state, &p.sp).await? else {
        return Ok(unreadable(&SamlError::invalid("unknown issuer")));
    };
    act(
        &state,
        &headers,
        &sp,
        &p.request_id,
        &p.session_indexes,
        p.relay_state,
    )
    .await
}

async fn validate(
    state: &AppState,
    sp: &ServiceProvider,
    request: &LogoutRequest,
    relay_state: Option<&str>,
) -> Result<(), PageError> {
    if request
        .destination
        .as_deref()
        .is_some_and(|d| d != slo_url(state))
    {
        return Err(PageError::from(unreadable(&SamlError::invalid(
            "Destination is not this endpoint",
        ))));
    }
    let skew = i64::from(state.web.saml.clock_skew_seconds);
    if request
        .not_on_or_after
        .is_some_and(|t| t + skew <= crate::clock::unix_now())
    {
        return Err(PageError::from(unreadable(&SamlError::invalid("expired"))));
    }
    if relay_state.is_some_and(|r| r.len() > ::metadata::saml::MAX_RELAY_STATE) {
        return Err(PageError::from(unreadable(&SamlError::invalid(
            "RelayState over 80 bytes",
        ))));
    }
    match receive::freshness(state, "logout", sp, &request.id, request.issue_instant).await? {
        Freshness::Fresh => Ok(()),
        Freshness::Expired => Err(unreadable(&SamlError::invalid("expired")).into()),
        Freshness::Replayed => Err(unreadable(&SamlError::invalid("request ID used twice")).into()),
    }
}

/// Ends the session this SP knows (by SessionIndex; any session of this browser when the
/// request names none) and answers the SP.
async fn act(
    state: &AppState,
    headers: &HeaderMap,
    sp: &ServiceProvider,
    request_id: &str,
    session_indexes: &[String],
    relay_state: Option<String>,
) -> Result<Response, PageError> {
    if let Some(s) = session::load(state, headers).await? {
        let ours = super::sso::session_index(&s.data.sid, &sp.entity_id);
        if session_indexes.is_empty() || session_indexes.contains(&ours) {
            let data = s.data.clone();
            s.destroy(state).await?;
            crate::flow::logout::session_ended(state, &data).await?;
        }
    }
    let cleared = session::clear_cookie(&state.web);
    let Some(endpoint) = sp.slo_endpoint() else {
        let mut done = message(
            StatusCode::OK,
            "Uitgelogd",
            Text::new("Je bent uitgelogd.", "You are logged out."),
            Some(("/", "Naar het portaal / To the portal")),
        );
        done.headers_mut().extend(cleared);
        return Ok(done);
    };
    let destination = endpoint
        .response_location
        .clone()
        .unwrap_or_else(|| endpoint.location.clone());
    let signer = signer(state).await?;
    let now = crate::clock::unix_now();
    let idp = entity_id(state);
    match endpoint.binding {
        Binding::HttpPost => {
            let xml = logout_response(
                &idp,
                &destination,
                request_id,
                STATUS_SUCCESS,
                now,
                Some(&signer),
            )
            .map_err(PageError::internal)?;
            Ok(post_page(
                Outgoing {
                    action: &destination,
                    field: "SAMLResponse",
                    message_b64: &binding::encode_post(&xml),
                    relay_state: relay_state.as_deref(),
                    name: &sp.name,
                },
                None,
                StatusCode::OK,
                cleared,
            ))
        }
        Binding::HttpRedirect => {
            let xml = logout_response(&idp, &destination, request_id, STATUS_SUCCESS, now, None)
                .map_err(PageError::internal)?;
            let mut octets = format!(
                "SAMLResponse={}",
                url_encode(&binding::encode_redirect(&xml))
            );
            if let Some(r) = &relay_state {
                octets.push_str(&format!("&RelayState={}", url_encode(r)));
            }
            octets.push_str(&format!("&SigAlg={}", url_encode(SIG_RSA_SHA256)));
            let signature = signer.sign_redirect(&octets).map_err(PageError::internal)?;
            Ok(see_other(
                &format!(
                    "{destination}{}{octets}&Signature={}",
                    if destination.contains('?') { '&' } else { '?' },
                    url_encode(&signature)
                ),
                cleared,
            ))
        }
    }
}
