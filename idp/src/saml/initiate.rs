//! IdP-initiated SSO: a portal tile (or a shortcut's TARGET) of a SAML product sends an
//! unsolicited, signed Response to the SP's default AssertionConsumerService.

use crate::extract::Query;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use ::metadata::saml::{MAX_RELAY_STATE, NAMEID_PERSISTENT};

use super::{failed, load_sp, refused};
use crate::server::AppState;
use crate::web::session;
use crate::web::{Text, message, see_other, url_encode};

#[derive(Deserialize)]
pub struct Start {
    sp: String,
    product: Option<String>,
}

pub async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Start>,
) -> Response {
    let s = match session::load(&state, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return see_other("/", HeaderMap::new()),
        Err(e) => return failed(e),
    };
    let sp = match load_sp(&state, &q.sp).await {
        Ok(Some(sp)) => sp,
        Ok(None) => {
            return refused(
                "Deze toepassing is niet bij openpoort geregistreerd.",
                "This application is not registered with openpoort.",
            );
        }
        Err(e) => return failed(e),
    };
    // Only a product of the SP's own party: its launch URL becomes the RelayState, which the SP
    // uses as the place to land.
    let product = match &q.product {
        Some(id) => match state.directory.product_by_id(id).await {
            Ok(p) => p.filter(|p| p.party_id == sp.party_id),
            Err(e) => return failed(e),
        },
        None => None,
    };
    // A login at a third party from a link on another site is confirmed first: a page elsewhere
    // must not be able to sign the user in to a product without them noticing.
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|site| site == "cross-site")
    {
        let here = format!(
            "/saml/start?sp={}{}",
            url_encode(&sp.entity_id),
            product
                .as_ref()
                .map(|p| format!("&product={}", url_encode(&p.id)))
                .unwrap_or_default()
        );
        let label = format!("Verder naar {} / Continue to {}", sp.name, sp.name);
        return message(
            StatusCode::OK,
            "Doorgaan?",
            Text::new(
                format!(
                    "Een andere website wil je aanmelden bij {}. Ga alleen verder als je dat zelf wilde.",
                    sp.name
                ),
                format!(
                    "Another website wants to sign you in to {}. Only continue if you meant to.",
                    sp.name
                ),
            ),
            Some((&here, &label)),
        );
    }
    let Some(acs) = sp.default_acs() else {
        return refused(
            "Deze toepassing heeft geen adres om het inloggen te ontvangen.",
            "This application has no address to receive the login.",
        );
    };
    let relay = product
        .as_ref()
        .map(|p| p.launch_url.as_str())
        .filter(|u| u.len() <= MAX_RELAY_STATE);
    let format = if sp.name_id_formats.first().map(String::as_str)
        == Some(::metadata::saml::NAMEID_TRANSIENT)
    {
        ::metadata::saml::NAMEID_TRANSIENT
    } else {
        NAMEID_PERSISTENT
    };
    super::sso::issue(
        &state,
        &s,
        &sp,
        &acs.location,
        None,
        relay,
        format,
        product.as_ref().map(|p| p.id.as_str()),
    )
    .await
}
