//! IdP-initiated SSO: a portal tile (or a shortcut's TARGET) of a SAML product sends an
//! unsolicited, signed Response to the SP's default AssertionConsumerService.

use crate::http::extract::Query;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use ::metadata::saml::{MAX_RELAY_STATE, NAMEID_PERSISTENT};

use super::{load_sp, park, parked, refused};
use crate::app_state::AppState;
use crate::http::{PageError, Text, message, see_other, url_encode};
use crate::session;

#[derive(Deserialize)]
pub struct Start {
    sp: String,
    product: Option<String>,
    /// The one-time id of a confirmation page openpoort showed this session.
    confirm: Option<String>,
}

/// What a confirmation page's link may start, and for which session: parked under a random id
/// that only that page carries, so a page elsewhere cannot forge the click.
#[derive(Serialize, Deserialize, PartialEq, Eq)]
struct Confirmation {
    sid: String,
    sp: String,
    product: Option<String>,
}

/// Whether the browser says this navigation began on openpoort itself (`same-origin`) or with
/// the user (`none`: typed, a bookmark). `same-site` is another host of the same site, and a
/// missing header may be a browser that does not send it: neither proves the user's intent.
fn started_here(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|site| site == "same-origin" || site == "none")
}

pub async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Start>,
) -> Result<Response, PageError> {
    let Some(s) = session::load(&state, &headers).await? else {
        return Ok(see_other("/", HeaderMap::new()));
    };
    let Some(sp) = load_sp(&state, &q.sp).await? else {
        return Ok(refused(
            "Deze toepassing is niet bij openpoort geregistreerd.",
            "This application is not registered with openpoort.",
        ));
    };
    if let Some(page) = super::expired_metadata(&state, &sp).await? {
        return Ok(page);
    }
    // Only a product of the SP's own party: its launch URL becomes the RelayState, which the SP
    // uses as the place to land.
    let product = match &q.product {
        Some(id) => state
            .directory
            .product_by_id(id)
            .await?
            .filter(|p| p.party_id == sp.party_id),
        None => None,
    };
    // A login at a third party that openpoort cannot tell the user started here is confirmed
    // first: a page elsewhere must not be able to sign the user in to a product unnoticed.
    let confirmation = Confirmation {
        sid: s.data.sid.clone(),
        sp: sp.entity_id.clone(),
        product: product.as_ref().map(|p| p.id.clone()),
    };
    let confirmed = match &q.confirm {
        Some(id) => parked::<Confirmation>(&state, id, true)
            .await?
            .is_some_and(|c| c == confirmation),
        None => false,
    };
    if !confirmed && !started_here(&headers) {
        let id = park(&state, &confirmation, None).await?;
        let here = format!(
            "/saml/start?sp={}{}&confirm={}",
            url_encode(&sp.entity_id),
            product
                .as_ref()
                .map(|p| format!("&product={}", url_encode(&p.id)))
                .unwrap_or_default(),
            url_encode(&id)
        );
        let label = format!("Verder naar {} / Continue to {}", sp.name, sp.name);
        return Ok(message(
            StatusCode::OK,
            "Doorgaan?",
            Text::new(
                format!(
                    "Een andere website wil je misschien aanmelden bij {}. Ga alleen verder als je dat zelf wilde.",
                    sp.name
                ),
                format!(
                    "Another website may want to sign you in to {}. Only continue if you meant to.",
                    sp.name
                ),
            ),
            Some((&here, &label)),
        ));
    }
    let Some(acs) = sp.default_acs() else {
        return Ok(refused(
            "Deze toepassing heeft geen adres om het inloggen te ontvangen.",
            "This application has no address to receive the login.",
        ));
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
