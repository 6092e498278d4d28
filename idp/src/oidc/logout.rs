//! RP-initiated logout (`end_session_endpoint`): the confirmation page and the redirect back.
//! Ending the session tells every relying party of it through `crate::flow::logout`.

use std::collections::HashMap;

use crate::http::extract::{Form, Query};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;

use super::bad_request;
use crate::app_state::AppState;
use crate::grants::load_client;
use crate::http::{PageError, page, see_other, url_encode};
use crate::http::{csrf_ok, csrf_token};
use crate::session::{self};

#[derive(Template)]
#[template(path = "logout_confirm.html")]
struct ConfirmPage {
    csrf: String,
    post_logout_redirect_uri: String,
    state: String,
    client_id: String,
}

/// The claims of an ID token openpoort issued (expired ones too: a logout often comes later).
async fn hint_claims(state: &AppState, hint: &str) -> Result<Option<Value>, super::OidcError> {
    let mut records = Vec::new();
    for record in state.keys.list().await? {
        records.push(record);
    }
    let set = metadata::jwks::jwk_set(&records)?;
    Ok(metadata::jose::verify(hint, &set)
        .ok()
        .map(|v| v.claims)
        .filter(|c| c.get("iss").and_then(Value::as_str) == Some(state.web.public_url.as_str())))
}

pub async fn end_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    handle(state, headers, q, false).await
}

pub async fn end_session_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    handle(state, headers, f, true).await
}

async fn handle(
    state: AppState,
    headers: HeaderMap,
    p: HashMap<String, String>,
    posted: bool,
) -> Result<Response, PageError> {
    let param = |k: &str| p.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let hint = match param("id_token_hint") {
        Some(h) => match hint_claims(&state, h).await.map_err(PageError::internal)? {
            Some(c) => Some(c),
            None => {
                return Ok(bad_request(
                    "De id_token_hint is niet door openpoort uitgegeven.",
                    "The id_token_hint was not issued by openpoort.",
                ));
            }
        },
        None => None,
    };
    let hinted_client = hint.as_ref().and_then(|c| match c.get("aud") {
        Some(Value::String(a)) => Some(a.clone()),
        Some(Value::Array(a)) => a.first().and_then(Value::as_str).map(str::to_owned),
        _ => None,
    });
    let client_id = match (param("client_id"), hinted_client.as_deref()) {
        (Some(a), Some(b)) if a != b => {
            return Ok(bad_request(
                "client_id en id_token_hint horen niet bij elkaar.",
                "client_id and id_token_hint do not match.",
            ));
        }
        (a, b) => a.or(b).map(str::to_owned),
    };
    let redirect = match param("post_logout_redirect_uri") {
        None => None,
        Some(uri) => {
            let client = match &client_id {
                Some(id) => load_client(&state, id).await.map_err(PageError::internal)?,
                None => None,
            };
            match client {
                Some(c) if c.registration.has_post_logout_redirect_uri(uri) => Some(uri.to_owned()),
                _ => {
                    return Ok(bad_request(
                        "Het adres om na het uitloggen naar terug te gaan is niet geregistreerd.",
                        "The post_logout_redirect_uri is not registered.",
                    ));
                }
            }
        }
    };
    let state_param = param("state").map(str::to_owned);

    // Without proof that the request comes from the session's own relying party, the user
    // confirms, so that a link elsewhere cannot log them out.
    let s = session::load(&state, &headers).await?;
    if s.is_none() && posted && !p.contains_key("csrf") {
        // A relying party's cross-site POST carries no SameSite=Lax cookie; the same request as
        // a top-level GET does, so continue there.
        let query = p
            .iter()
            .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        return Ok(see_other(
            &format!("/oidc/logout?{query}"),
            HeaderMap::new(),
        ));
    }
    if let Some(s) = s {
        let hint_matches = hint
            .as_ref()
            .and_then(|c| c.get("sid"))
            .and_then(Value::as_str)
            == Some(s.data.sid.as_str());
        let confirmed = posted
            && csrf_ok(
                &state.web,
                &headers,
                p.get("csrf").map(String::as_str).unwrap_or(""),
            );
        // A form of openpoort's own confirmation page must carry its token; a relying party's
        // POST proves itself with the ID token hint instead.
        if posted && p.contains_key("csrf") && !confirmed {
            return Err(PageError::Csrf);
        }
        if !hint_matches && !confirmed {
            let (csrf, set) = csrf_token(&state.web, &headers);
            return Ok(page(
                StatusCode::OK,
                &ConfirmPage {
                    csrf,
                    post_logout_redirect_uri: redirect.clone().unwrap_or_default(),
                    state: state_param.clone().unwrap_or_default(),
                    client_id: client_id.clone().unwrap_or_default(),
                },
                set,
            ));
        }
        let data = s.data.clone();
        s.destroy(&state).await?;
        crate::flow::logout::session_ended(&state, &data).await?;
    }
    let clear = session::clear_cookie(&state.web);
    Ok(match redirect {
        Some(uri) => {
            let mut to = uri.clone();
            if let Some(st) = state_param {
                to.push_str(&format!(
                    "{}state={}",
                    if uri.contains('?') { '&' } else { '?' },
                    url_encode(&st)
                ));
            }
            see_other(&to, clear)
        }
        None => see_other("/inloggen?melding=uitgelogd", clear),
    })
}
