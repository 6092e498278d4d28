//! `/saml/acs`: where network providers post their users' SAML Responses (solicited, or
//! unsolicited from a tile in their portal). The Response is verified here, in the POST, and its
//! assertion recorded against replay; the session then opens in a same-site GET
//! (`/saml/acs/verder`), where the browser sends the cookie that binds a solicited login to the
//! browser that started it.

use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::receive::{self, Refusal};
use super::{Resume, continue_same_site, parked};
use crate::app_state::AppState;
use crate::flow::brokered::{self, Arrival, Vouched};
use crate::http::{PageError, Text, message};
use crate::upstream::saml::{AcsError, receive as verify};

#[derive(Deserialize)]
pub struct AcsForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: String,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

pub async fn post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<AcsForm>,
) -> Result<Response, PageError> {
    // Verifying costs xmlsec work: the same per-address limit as requests from SPs.
    receive::admit(&state, peer, &headers)
        .await
        .map_err(|r| match r {
            Refusal::Failed(e) => PageError::internal(e),
            _ => PageError::Answer(super::too_many_requests()),
        })?;
    let received = match verify(&state, &form.saml_response, form.relay_state.as_deref()).await {
        Ok(r) => r,
        Err(e) if e.is_internal() => return Err(PageError::internal(e)),
        Err(e) => {
            tracing::warn!(error = %e, "network provider's SAML Response refused");
            return Err(refused(&e));
        }
    };
    let a = received.assertion;
    let arrival = Arrival {
        party_id: received.upstream.party_id,
        vouched: Vouched {
            subject: a.name_id,
            attributes: a.attributes,
        },
        outstanding: received.outstanding,
        relay_target: received.relay_target,
    };
    Ok(continue_same_site(&state, &arrival, "/saml/acs/verder").await?)
}

pub async fn resume(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Resume>,
) -> Result<Response, PageError> {
    let Some(arrival) = parked::<Arrival>(&state, &q.id, true).await? else {
        return Err(brokered::expired());
    };
    brokered::finish(&state, &headers, arrival).await
}

/// The page for a refused Response. It names the check for the provider's support desk, not
/// what the message held.
fn refused(e: &AcsError) -> PageError {
    let (nl, en) = match e {
        AcsError::Replay(_) => (
            "Dit inlogbericht is al eens gebruikt. Begin opnieuw vanuit het portaal van je netwerkomgeving.".to_owned(),
            "This login message was used before. Start again from your network environment's portal.".to_owned(),
        ),
        AcsError::UnknownIssuer(_) | AcsError::NoIssuer => (
            "Dit inlogbericht komt van een netwerkaanbieder die niet aan openpoort gekoppeld is.".to_owned(),
            "This login message comes from a network provider that is not connected to openpoort.".to_owned(),
        ),
        AcsError::Unsolicited(_) => (
            "openpoort neemt van deze netwerkaanbieder alleen inlogberichten aan waar openpoort zelf om vroeg. Begin bij de snelkoppeling van je school.".to_owned(),
            "openpoort accepts login messages from this network provider only when it asked for them. Start at your school's shortcut.".to_owned(),
        ),
        other => (
            format!("Het inlogbericht van de netwerkaanbieder is geweigerd: {other}. Meld dit bij de netwerkaanbieder."),
            format!("The network provider's login message was refused: {other}. Report this to the network provider."),
        ),
    };
    message(
        StatusCode::BAD_REQUEST,
        "Inloggen geweigerd",
        Text::new(nl, en),
        Some(("/", "Naar het portaal / To the portal")),
    )
    .into()
}
