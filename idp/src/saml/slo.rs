//! Single logout, SP-initiated, by HTTP-Redirect and HTTP-POST: ends the openpoort session
//! (and with it the OIDC tokens it issued) and answers with a signed LogoutResponse.

use axum::extract::{Form, Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use ::metadata::saml::logout::{LogoutRequest, logout_response};
use ::metadata::saml::sp::Binding;
use ::metadata::saml::{SIG_RSA_SHA256, STATUS_SUCCESS, SamlError, ServiceProvider, binding};

use super::receive::{self, Refusal};
use super::{
    Outgoing, PENDING_TTL, entity_id, failed, load_sp, pending_key, post_page, refused, signer,
    slo_url,
};
use crate::server::AppState;
use crate::state::StateStore;
use crate::web::session;
use crate::web::{Text, message, random_token, see_other, sha256_hex, url_encode};

const MAX_REQUEST_AGE: i64 = 600;

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
        Refusal::Failed(e) => failed(e),
    }
}

/// A logout must be authenticated (SAML Profiles 4.4.4.1) whenever the SP can sign.
fn must_sign(sp: &ServiceProvider) -> bool {
    !sp.signing_certificates.is_empty()
}

pub async fn redirect_binding(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
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

pub async fn post_binding(State(state): State<AppState>, Form(form): Form<PostForm>) -> Response {
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
    let id = random_token();
    let pending = PendingLogout {
        sp: r.sp.entity_id.clone(),
        request_id: r.request.id,
        session_indexes: r.request.session_indexes,
        relay_state: r.relay_state,
    };
    let stored = match serde_json::to_vec(&pending) {
        Ok(v) => state.state.put(&pending_key(&id), &v, PENDING_TTL).await,
        Err(e) => return failed(e),
    };
    match stored {
        Ok(()) => see_other(&format!("/saml/slo/verder?id={id}"), HeaderMap::new()),
        Err(e) => failed(e),
    }
}

#[derive(Deserialize)]
pub struct Resume {
    id: String,
}

pub async fn resume(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Resume>,
) -> Response {
    let pending: Option<PendingLogout> = match state.state.take(&pending_key(&q.id)).await {
        Ok(v) => v.and_then(|v| serde_json::from_slice(&v).ok()),
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
    let now = crate::app::unix_now();
    let skew = i64::from(state.web.saml.clock_skew_seconds);
    if request
        .destination
        .as_deref()
        .is_some_and(|d| d != slo_url(state))
    {
        return Err(unreadable(&SamlError::invalid(
            "Destination is not this endpoint",
        )));
    }
    if request.issue_instant > now + skew
        || now - request.issue_instant > MAX_REQUEST_AGE + skew
        || request.not_on_or_after.is_some_and(|t| t + skew <= now)
    {
        return Err(unreadable(&SamlError::invalid("expired")));
    }
    if relay_state.is_some_and(|r| r.len() > ::metadata::saml::MAX_RELAY_STATE) {
        return Err(unreadable(&SamlError::invalid("RelayState over 80 bytes")));
    }
    let key = format!(
        "saml:logout-id:{}",
        sha256_hex(&format!("{}\n{}", sp.entity_id, request.id))
    );
    let ttl = std::time::Duration::from_secs((MAX_REQUEST_AGE + 2 * skew) as u64);
    match state.state.put_if_absent(&key, b"1", ttl).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(unreadable(&SamlError::invalid("request ID used twice"))),
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
                if let Err(e) = crate::oidc::session_ended(state, &data).await {
                    return failed(e);
                }
            }
        }
        Ok(None) => {}
        Err(e) => return failed(e),
    }
    let cleared = session::clear_cookie(&state.web);
    let Some(endpoint) = sp.slo_endpoint() else {
        return message(
            StatusCode::OK,
            "Uitgelogd",
            Text::new("Je bent uitgelogd.", "You are logged out."),
            Some(("/", "Naar het portaal / To the portal")),
        );
    };
    let destination = endpoint
        .response_location
        .clone()
        .unwrap_or_else(|| endpoint.location.clone());
    let signer = match signer(state).await {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    let now = crate::app::unix_now();
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
