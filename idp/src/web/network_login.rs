//! Entry points of a brokered login: Basispoort's form
//! `/login/snelkoppelaar?NETWERKBEHEERDER=<provider>&INSTELLING_REF=<school>&TARGET=<product>`,
//! which a network environment's tiles link to, and `/login/netwerk/{provider}?next=…`, where a
//! publisher-started login goes when it names the user's provider (OIDC `idp_hint`, SAML
//! Scoping). Both send the user to the provider; the answer comes back at `/saml/acs` (SAML) or
//! `/login/netwerk/terug` (OpenID Connect).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use directory::model::PartyKind;
use directory::parties::Party;
use directory::upstreams::{StoredUpstream, UpstreamProtocol};
use serde::Deserialize;

use crate::app_state::AppState;
use crate::flow::brokered::{self, Arrival, Vouched};
use crate::flow::login::safe_next;
use crate::http::extract::Path;
use crate::http::{PageError, Text, message, see_other};
use crate::upstream::oidc::VerifiedLogin;
use crate::upstream::{self, Outstanding};

#[derive(Deserialize)]
pub struct ShortcutQuery {
    #[serde(rename = "NETWERKBEHEERDER")]
    provider: Option<String>,
    #[serde(rename = "INSTELLING_REF")]
    school: Option<String>,
    #[serde(rename = "TARGET")]
    target: Option<String>,
}

#[derive(Deserialize)]
pub struct HintQuery {
    next: Option<String>,
    /// `1`: the publisher asked for a fresh login, so the provider is asked for one too.
    force: Option<String>,
}

fn not_valid(nl: &str, en: &str) -> PageError {
    message(
        StatusCode::NOT_FOUND,
        "Link niet geldig",
        Text::new(nl, en),
        Some(("/", "Naar het portaal / To the portal")),
    )
    .into()
}

/// The provider a link names, with its upstream: unknown, not a network provider and not
/// connected all read alike to the user.
async fn connected(
    state: &AppState,
    code: Option<&str>,
) -> Result<(Party, StoredUpstream), PageError> {
    let unknown = || {
        not_valid(
            "Deze link noemt geen netwerkaanbieder die aan openpoort gekoppeld is. Vraag je netwerkaanbieder om de juiste link.",
            "This link names no network provider connected to openpoort. Ask your network provider for the right link.",
        )
    };
    let code = code
        .filter(|c| !c.is_empty() && c.len() <= 64)
        .ok_or_else(unknown)?;
    let party = state
        .directory
        .party_by_code(code)
        .await
        .map_err(PageError::internal)?
        .filter(|p| p.kind == PartyKind::NetworkProvider)
        .ok_or_else(unknown)?;
    let stored = state
        .directory
        .upstream_of(&party.id)
        .await
        .map_err(PageError::internal)?
        .ok_or_else(unknown)?;
    Ok((party, stored))
}

pub async fn shortcut(
    State(state): State<AppState>,
    Query(q): Query<ShortcutQuery>,
) -> Result<Response, PageError> {
    let (party, stored) = connected(&state, q.provider.as_deref()).await?;
    let school = match q
        .school
        .as_deref()
        .filter(|s| !s.is_empty() && s.len() <= 64)
    {
        Some(reference) => {
            let school = state
                .directory
                .school_by_instelling_ref(reference)
                .await
                .map_err(PageError::internal)?
                .ok_or_else(|| {
                    not_valid(
                        "Deze link noemt een school die openpoort niet kent. Vraag je netwerkaanbieder om de juiste link.",
                        "This link names a school openpoort does not know. Ask your network provider for the right link.",
                    )
                })?;
            // Refused before the user is sent away: the school's choice decides, not the link.
            let selected = state
                .directory
                .open_consent(&school.id, &party.id)
                .await
                .map_err(PageError::internal)?
                .is_some();
            if !selected {
                return Err(message(
                    StatusCode::FORBIDDEN,
                    "Inloggen lukt niet",
                    Text::new(
                        format!(
                            "Je school heeft {} niet gekozen als netwerkaanbieder in openpoort. De ICT-coördinator van je school kan dat aanzetten in Beheer › Partijen.",
                            party.name
                        ),
                        format!(
                            "Your school has not chosen {} as its network provider in openpoort. Your school's ICT coordinator can switch it on in Beheer › Partijen.",
                            party.name
                        ),
                    ),
                    Some(("/", "Naar het portaal / To the portal")),
                )
                .into());
            }
            Some(school.id)
        }
        None => None,
    };
    // Only a web address is carried; it opens only if it is the launch URL of a product the
    // user may use (checked when the session opens).
    let target = q
        .target
        .filter(|t| t.len() <= 2048 && (t.starts_with("https://") || t.starts_with("http://")));
    start(&state, &party, &stored, school, None, target, false).await
}

pub async fn hinted(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<HintQuery>,
) -> Result<Response, PageError> {
    let (party, stored) = connected(&state, Some(&code)).await?;
    let next = safe_next(q.next.as_deref());
    let force = q.force.as_deref() == Some("1");
    start(&state, &party, &stored, None, next, None, force).await
}

async fn start(
    state: &AppState,
    party: &Party,
    stored: &StoredUpstream,
    school_id: Option<String>,
    next: Option<String>,
    target: Option<String>,
    force: bool,
) -> Result<Response, PageError> {
    let outstanding = Outstanding {
        party_id: party.id.clone(),
        request_id: None,
        next,
        target,
        school_id,
        browser: String::new(),
        oidc: None,
        created_at: crate::clock::unix_now(),
    };
    match stored.protocol {
        UpstreamProtocol::Saml => {
            let request_id = upstream::saml::new_request_id();
            let outstanding = Outstanding {
                request_id: Some(request_id.clone()),
                ..outstanding
            };
            let (relay, set) = upstream::keep(state, outstanding)
                .await
                .map_err(PageError::internal)?;
            let to = upstream::saml::request_redirect(state, stored, &relay, &request_id, force)
                .await
                .map_err(PageError::internal)?;
            Ok(see_other(&to, set))
        }
        UpstreamProtocol::Oidc => {
            match upstream::oidc_login::start(state, stored, outstanding, force).await {
                Ok((to, set)) => Ok(see_other(&to, set)),
                Err(e) if e.is_internal() => Err(PageError::internal(e)),
                Err(e) => {
                    tracing::warn!(provider = %party.code, error = %e, "network provider's OpenID Connect configuration cannot be used");
                    Err(message(
                        StatusCode::BAD_GATEWAY,
                        "Netwerkaanbieder niet bereikbaar",
                        Text::new(
                            format!("openpoort kan nu niet inloggen via {}: {e}. Probeer het later opnieuw of meld het bij de netwerkaanbieder.", party.name),
                            format!("openpoort cannot sign in through {} now: {e}. Try again later or report it to the network provider.", party.name),
                        ),
                        Some(("/", "Naar het portaal / To the portal")),
                    )
                    .into())
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    /// RFC 9207: the issuer of the authorization response, where the provider sends it.
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `/login/netwerk/terug`: a provider's OpenID Connect authorization response.
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, PageError> {
    let relay = q.state.as_deref().unwrap_or_default();
    if let Some(error) = q.error.as_deref() {
        // The login is over either way: its record goes.
        upstream::take(&state, relay)
            .await
            .map_err(PageError::internal)?;
        let said: String = error
            .chars()
            .chain(
                q.error_description
                    .as_deref()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
                    .chars(),
            )
            .filter(|c| !c.is_control())
            .take(300)
            .collect();
        return Err(message(
            StatusCode::FORBIDDEN,
            "Inloggen lukt niet",
            Text::new(
                format!("De netwerkaanbieder heeft het inloggen niet voltooid ({said}). Begin opnieuw vanuit het portaal van je netwerkomgeving."),
                format!("The network provider did not complete the login ({said}). Start again from your network environment's portal."),
            ),
            Some(("/", "Naar het portaal / To the portal")),
        )
        .into());
    }
    let Some(code) = q
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 2048)
    else {
        return Err(brokered::expired());
    };
    let (outstanding, login) = match upstream::oidc_login::callback(
        &state,
        relay,
        code,
        q.iss.as_deref(),
    )
    .await
    {
        Ok(Some(found)) => found,
        Ok(None) => return Err(brokered::expired()),
        Err(e) if e.is_internal() => return Err(PageError::internal(e)),
        Err(e) => {
            tracing::warn!(error = %e, "network provider's OpenID Connect answer refused");
            return Err(message(
                    StatusCode::BAD_REQUEST,
                    "Inloggen geweigerd",
                    Text::new(
                        format!("Het antwoord van de netwerkaanbieder is geweigerd: {e}. Meld dit bij de netwerkaanbieder."),
                        format!("The network provider's answer was refused: {e}. Report this to the network provider."),
                    ),
                    Some(("/", "Naar het portaal / To the portal")),
                )
                .into());
        }
    };
    let arrival = Arrival {
        party_id: outstanding.party_id.clone(),
        vouched: vouched(login),
        outstanding: Some(outstanding),
        relay_target: None,
    };
    brokered::finish(&state, &headers, arrival).await
}

/// The ID token's claims as the matching reads them: strings and numbers as one value, arrays
/// of them as several; objects are not identifiers and are left out.
fn vouched(login: VerifiedLogin) -> Vouched {
    let one = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let attributes = login
        .claims
        .iter()
        .filter_map(|(name, v)| {
            let values: Vec<String> = match v {
                serde_json::Value::Array(items) => items.iter().filter_map(one).collect(),
                other => one(other).into_iter().collect(),
            };
            (!values.is_empty()).then(|| (name.clone(), values))
        })
        .collect();
    Vouched {
        subject: login.subject,
        attributes,
    }
}
