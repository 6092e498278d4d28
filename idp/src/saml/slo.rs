//! Single logout, SP-initiated, by HTTP-Redirect and HTTP-POST: ends the openpoort session
//! (and with it the OIDC tokens it issued) and answers with a signed LogoutResponse.

use std::net::SocketAddr;

use crate::http::extract::{Form, Query};
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use ::metadata::saml::logout::{LogoutRequest, logout_response};
use ::metadata::saml::sp::Binding;
use ::metadata::saml::{SIG_RSA_SHA256, STATUS_SUCCESS, SamlError, ServiceProvider, binding};

use super::receive::{self, Freshness, Refusal};
use super::{
    Outgoing, entity_id, failed, load_sp, park, parked, post_page, refused, signer, slo_url,
};
use crate::app_state::AppState;
use crate::http::{Text, message, see_other, url_encode};
use crate::session;

fn unreadable(e: &SamlError) -> Response {
    tracing::info!(error = %e, "SAML logout request refused");
    refused(
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
        Refusal::Failed(e) => failed(e),
    }
}

/// A logout must be authenticated (SAML Profiles 4.4.4.1) whenever the SP can sign.
fn must_sign(sp: &ServiceProvider) -> bool {
    !sp.signing_certificates.is_empty()
}

pub async fn redirect_binding(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(r) = receive::admit(&state, peer, &headers).await {
        return refusal(r);
    }
    let r = match receive::redirect::<LogoutRequest>(&state, &query.unwrap_or_default(), must_sign)
        .await
    {
        Ok(r) => r,
        Err(r) => return refusal(r),
    };
    match validate(&state, &r.sp, &r.request, r.relay_state.as_deref()).await {
        Ok(()) => {
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
        Err(response) => response,
    }
}

#[derive(Deserialize)]
pub struct PostForm {
    #[serde(rename = "SAMLRequest")]
    saml_request: String,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
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
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<PostForm>,
) -> Response {
    if let Err(r) = receive::admit(&state, peer, &headers).await {
        return refusal(r);
    }
    let r = match receive::post::<LogoutRequest>(
        &state,
        &form.saml_request,
        form.relay_state,
        must_sign,
    )
    .await
    {
        Ok(r) => r,
        Err(r) => return refusal(r),
    };
    if let Err(response) = validate(&state, &r.sp, &r.request, r.relay_state.as_deref()).await {
        return response;
    }
    let pending = PendingLogout {
        sp: r.sp.entity_id.clone(),
        request_id: r.request.id,
        session_indexes: r.request.session_indexes,
        relay_state: r.relay_state,
    };
    match park(&state, &pending, None).await {
        Ok(id) => see_other(&format!("/saml/slo/verder?id={id}"), HeaderMap::new()),
        Err(e) => failed(e),
    }
}

pub async fn resume(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<super::Resume>,
) -> Response {
    let pending: Option<PendingLogout> = match parked(&state, &q.id, true).await {
        Ok(p) => p,
        Err(e) => return failed(e),
    };
    let Some(p) = pending else {
        return refused(
            "Dit uitlogverzoek is verlopen.",
            "This logout request has expired.",
        );
    };
    let sp = match load_sp(&state, &p.sp).await {
        Ok(Some(sp)) => sp,
        Ok(None) => return unreadable(&SamlError::invalid("unknown issuer")),
        Err(e) => return failed(e),
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
) -> Result<(), Response> {
    if request
        .destination
        .as_deref()
        .is_some_and(|d| d != slo_url(state))
    {
        return Err(unreadable(&SamlError::invalid(
            "Destination is not this endpoint",
        )));
    }
    let skew = i64::from(state.web.saml.clock_skew_seconds);
    if request
        .not_on_or_after
        .is_some_and(|t| t + skew <= crate::clock::unix_now())
    {
        return Err(unreadable(&SamlError::invalid("expired")));
    }
    if relay_state.is_some_and(|r| r.len() > ::metadata::saml::MAX_RELAY_STATE) {
        return Err(unreadable(&SamlError::invalid("RelayState over 80 bytes")));
    }
    match receive::freshness(state, "logout", sp, &request.id, request.issue_instant).await {
        Ok(Freshness::Fresh) => Ok(()),
        Ok(Freshness::Expired) => Err(unreadable(&SamlError::invalid("expired"))),
        Ok(Freshness::Replayed) => Err(unreadable(&SamlError::invalid("request ID used twice"))),
        Err(e) => Err(failed(e)),
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
) -> Response {
    match session::load(state, headers).await {
        Ok(Some(s)) => {
            let ours = super::sso::session_index(&s.data.sid, &sp.entity_id);
            if session_indexes.is_empty() || session_indexes.contains(&ours) {
                let data = s.data.clone();
                if let Err(e) = s.destroy(state).await {
                    return failed(e);
                }
                if let Err(e) = crate::flow::logout::session_ended(state, &data).await {
                    return failed(e);
                }
            }
        }
        Ok(None) => {}
        Err(e) => return failed(e),
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
        return done;
    };
    let destination = endpoint
        .response_location
        .clone()
        .unwrap_or_else(|| endpoint.location.clone());
    let signer = match signer(state).await {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    let now = crate::clock::unix_now();
    let idp = entity_id(state);
    match endpoint.binding {
        Binding::HttpPost => {
            match logout_response(
                &idp,
                &destination,
                request_id,
                STATUS_SUCCESS,
                now,
                Some(&signer),
            ) {
                Ok(xml) => post_page(
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
                ),
                Err(e) => failed(e),
            }
        }
        Binding::HttpRedirect => {
            let xml =
                match logout_response(&idp, &destination, request_id, STATUS_SUCCESS, now, None) {
                    Ok(x) => x,
                    Err(e) => return failed(e),
                };
            let mut octets = format!(
                "SAMLResponse={}",
                url_encode(&binding::encode_redirect(&xml))
            );
            if let Some(r) = &relay_state {
                octets.push_str(&format!("&RelayState={}", url_encode(r)));
            }
            octets.push_str(&format!("&SigAlg={}", url_encode(SIG_RSA_SHA256)));
            match signer.sign_redirect(&octets) {
                Ok(signature) => see_other(
                    &format!(
                        "{destination}{}{octets}&Signature={}",
                        if destination.contains('?') { '&' } else { '?' },
                        url_encode(&signature)
                    ),
                    cleared,
                ),
                Err(e) => failed(e),
            }
        }
    }
}
