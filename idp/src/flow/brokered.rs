//! A login a network provider vouched for (brokered login), whichever protocol it came over:
//! the vouched-for identity is matched to a user of a school that selected that provider, by
//! the rule configured for the provider (never by an e-mail address), and a session opens with
//! an `acr` naming the provider. What may then be released to a publisher is the ordinary
//! release decision's.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use broker::{Context, Subject};
use directory::audit::AuditEvent;
use directory::model::SchoolCode;
use directory::parties::Party;
use directory::upstreams::SchoolMember;
use directory::{Actor, DirectoryError};
use serde_json::json;

use super::login::safe_next;
use crate::app_state::AppState;
use crate::http::{PageError, Text, message, see_other};
use crate::session::{self, SessionError, Who};
use crate::upstream::registry::{self, MatchBy, Settings};
use crate::upstream::{self, Outstanding};

/// What a provider vouched for, read from verified protocol messages only: the SAML NameID or
/// OIDC `sub`, and the attributes or claims by name.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Vouched {
    pub subject: String,
    pub attributes: BTreeMap<String, Vec<String>>,
}

impl Vouched {
    fn value(&self, name: Option<&str>) -> Option<&str> {
        match name {
            None => Some(self.subject.as_str()).filter(|s| !s.is_empty()),
            Some(n) => self
                .attributes
                .get(n)
                .and_then(|v| v.first())
                .map(String::as_str),
        }
    }
}

/// Why a vouched-for identity found no user. Each says who can fix it.
#[derive(Debug, PartialEq, Eq)]
pub enum Unmatched {
    /// The provider sent no value where its settings look for one.
    Missing { attribute: String },
    /// The school the provider named does not exist in openpoort.
    UnknownSchool { code: String },
    /// The school (named by the provider or the entry point) did not select this provider.
    SchoolNotSelected,
    /// No school selected this provider.
    NoSchool,
    /// No active pupil or staff member carries the identifier.
    NotFound,
    /// More than one user carries it (a LAS key of a pupil and of a teacher, the same ECK-iD at
    /// two schools without a school named): openpoort refuses rather than guesses.
    Ambiguous,
}

impl Unmatched {
    /// The explanation the user reads, naming the provider.
    pub fn explanation(&self, provider: &str) -> Text {
        match self {
            Unmatched::Missing { attribute } => Text::new(
                format!(
                    "{provider} heeft niet meegestuurd wie je bent (het gegeven `{attribute}` ontbreekt). Vraag de ICT-coördinator van je school om dit bij {provider} te melden."
                ),
                format!(
                    "{provider} did not send who you are (the value `{attribute}` is missing). Ask your school's ICT coordinator to report this to {provider}."
                ),
            ),
            Unmatched::UnknownSchool { code } => Text::new(
                format!(
                    "{provider} meldt school {code}, maar die school kent openpoort niet. Vraag de ICT-coördinator van je school om contact op te nemen met {provider}."
                ),
                format!(
                    "{provider} names school {code}, which openpoort does not know. Ask your school's ICT coordinator to contact {provider}."
                ),
            ),
            Unmatched::SchoolNotSelected | Unmatched::NoSchool => Text::new(
                format!(
                    "Je school heeft {provider} niet gekozen als netwerkaanbieder in openpoort. De ICT-coördinator van je school kan dat aanzetten in Beheer › Partijen."
                ),
                format!(
                    "Your school has not chosen {provider} as its network provider in openpoort. Your school's ICT coordinator can switch it on in Beheer › Partijen."
                ),
            ),
            Unmatched::NotFound => Text::new(
                format!(
                    "openpoort kan je niet vinden bij je school. Misschien zijn de leerling- en medewerkergegevens van je school nog niet bijgewerkt. Vraag de ICT-coördinator van je school om te controleren of jij erin staat, en of {provider} dezelfde gegevens gebruikt."
                ),
                format!(
                    "openpoort cannot find you at your school. Perhaps your school's pupil and staff data has not been updated yet. Ask your school's ICT coordinator to check that you are in it, and that {provider} uses the same data."
                ),
            ),
            Unmatched::Ambiguous => Text::new(
                format!(
                    "Wat {provider} over je meestuurt past bij meer dan één gebruiker in openpoort, dus openpoort kiest niet. Vraag de ICT-coördinator van je school om dit bij {provider} te melden."
                ),
                format!(
                    "What {provider} sends about you fits more than one user in openpoort, so openpoort does not choose. Ask your school's ICT coordinator to report this to {provider}."
                ),
            ),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Unmatched::Missing { .. } => "missing_identifier",
            Unmatched::UnknownSchool { .. } => "unknown_school",
            Unmatched::SchoolNotSelected => "school_did_not_select_provider",
            Unmatched::NoSchool => "no_school_selected_provider",
            Unmatched::NotFound => "no_such_user",
            Unmatched::Ambiguous => "ambiguous",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BrokeredError {
    #[error("register: {0}")]
    Directory(#[from] DirectoryError),
    #[error("release decision: {0}")]
    Broker(#[from] broker::BrokerError),
    #[error("session: {0}")]
    Session(#[from] SessionError),
}

impl From<BrokeredError> for crate::http::PageError {
    fn from(e: BrokeredError) -> crate::http::PageError {
        crate::http::PageError::internal(e)
    }
}

/// A user the identity matched.
#[derive(Debug, PartialEq, Eq)]
pub struct Matched {
    pub school_id: String,
    pub member: SchoolMember,
}

/// Finds the user `vouched` names among the schools that selected `provider`. `entry_school`
/// is the school the entry point named (INSTELLING_REF), which the login must then land at.
pub async fn find_user(
    state: &AppState,
    provider: &Party,
    settings: &Settings,
    vouched: &Vouched,
    entry_school: Option<&str>,
) -> Result<Result<Matched, Unmatched>, BrokeredError> {
    let d = &state.directory;
    // Only schools that selected this provider, now: a consent to it is the school's choice.
    let selected: Vec<String> = d
        .consented_schools(&provider.id)
        .await?
        .into_iter()
        .map(|c| c.school.id)
        .collect();
    let named = match settings.school.as_deref() {
        Some(attribute) => match vouched.value(Some(attribute)) {
            Some(code) => {
                let school = match SchoolCode::parse(code.trim()) {
                    Ok(parsed) => d.school_by_code(&parsed).await?,
                    Err(_) => None,
                };
                match school {
                    Some(s) => Some(s.id),
                    None => {
                        return Ok(Err(Unmatched::UnknownSchool {
                            code: code.chars().take(32).collect(),
                        }));
                    }
                }
            }
            // Required for LAS keys (the settings' validation holds that); otherwise the user
            // is looked for at every school that selected the provider.
            None if settings.match_by == MatchBy::LasKey => {
                return Ok(Err(Unmatched::Missing {
                    attribute: attribute.to_owned(),
                }));
            }
            None => None,
        },
        None => None,
    };
    if let (Some(a), Some(b)) = (&named, entry_school)
        && a != b
    {
        return Ok(Err(Unmatched::SchoolNotSelected));
    }
    let candidates: Vec<String> = match named.as_deref().or(entry_school) {
        Some(one) if selected.iter().any(|s| s == one) => vec![one.to_owned()],
        Some(_) => return Ok(Err(Unmatched::SchoolNotSelected)),
        None if selected.is_empty() => return Ok(Err(Unmatched::NoSchool)),
        None => selected,
    };
    let Some(identifier) = vouched.value(settings.identifier.as_deref()) else {
        return Ok(Err(Unmatched::Missing {
            attribute: settings
                .identifier
                .clone()
                .unwrap_or_else(|| "NameID / sub".to_owned()),
        }));
    };
    let identifier = identifier.trim();
    let mut found: Vec<Matched> = Vec::new();
    for school_id in &candidates {
        let members = match settings.match_by {
            MatchBy::EckId => d
                .member_by_eck_id(school_id, identifier)
                .await?
                .into_iter()
                .collect(),
            MatchBy::LasKey => d.members_by_las_key(school_id, identifier).await?,
            MatchBy::PartnerNumber => {
                partner_numbered(state, provider, school_id, identifier).await?
            }
        };
        found.extend(members.into_iter().map(|member| Matched {
            school_id: school_id.clone(),
            member,
        }));
    }
    Ok(match found.len() {
        0 => Err(Unmatched::NotFound),
        1 => Ok(found.remove(0)),
        _ => Err(Unmatched::Ambiguous),
    })
}

/// The members of `school_id` whose number in the provider's partner API is `identifier`.
/// Those numbers are keyed hashes (one sector per party), so they are computed for the school's
/// members and compared, not looked up.
async fn partner_numbered(
    state: &AppState,
    provider: &Party,
    school_id: &str,
    identifier: &str,
) -> Result<Vec<SchoolMember>, BrokeredError> {
    let Ok(wanted) = identifier.parse::<i64>() else {
        return Ok(Vec::new());
    };
    let sector = broker::partner_sector(&provider.id);
    let mut hits = Vec::new();
    for m in state.directory.members_of_school(school_id).await? {
        let (kind, id) = match &m {
            SchoolMember::Pupil(id) => ("pupil", id),
            SchoolMember::Staff(id) => ("staff", id),
        };
        if state.broker.partner_number(&sector, kind, id)? == wanted {
            hits.push(m);
        }
    }
    Ok(hits)
}

/// Opens the session of a matched user, audited with the provider, and returns its
/// `Set-Cookie`. `target` (a product's launch URL) is kept only when it is a product this user
/// may open now.
pub async fn open_session(
    state: &AppState,
    provider: &Party,
    matched: &Matched,
    target: Option<&str>,
) -> Result<HeaderMap, BrokeredError> {
    let (who, subject) = match &matched.member {
        SchoolMember::Pupil(id) => (
            Who::Pupil {
                pupil_id: id.clone(),
                group_id: None,
            },
            Subject::Pupil(id.clone()),
        ),
        SchoolMember::Staff(id) => {
            let epoch = state
                .directory
                .staff_session_state(id)
                .await?
                .map(|(_, e)| e)
                .unwrap_or_default();
            (
                Who::Staff {
                    staff_id: id.clone(),
                    epoch,
                },
                Subject::Staff(id.clone()),
            )
        }
    };
    let target = match target {
        Some(t) => state
            .broker
            .portal(
                &subject,
                &matched.school_id,
                Context::Network,
                crate::clock::unix_now(),
            )
            .await?
            .tiles
            .iter()
            .any(|tile| tile.product.launch_url == t)
            .then(|| t.to_owned()),
        None => None,
    };
    let user_id = match &matched.member {
        SchoolMember::Pupil(id) | SchoolMember::Staff(id) => id.clone(),
    };
    state
        .directory
        .audit(AuditEvent {
            actor: &Actor::system(&format!("network-provider:{}", provider.code)),
            action: "broker.login",
            school_id: Some(&matched.school_id),
            party_id: Some(&provider.id),
            subject: Some(&user_id),
            details: json!({"provider": provider.code}),
        })
        .await?;
    Ok(session::create(
        state,
        who,
        Some(matched.school_id.clone()),
        Context::Network,
        target,
        Some(provider.code.clone()),
    )
    .await?)
}

/// Records a refused brokered login for the operator (who sees why a provider's users fail).
pub async fn audit_unmatched(
    state: &AppState,
    provider: &Party,
    why: &Unmatched,
) -> Result<(), BrokeredError> {
    state
        .directory
        .audit(AuditEvent {
            actor: &Actor::system(&format!("network-provider:{}", provider.code)),
            action: "broker.unmatched",
            school_id: None,
            party_id: Some(&provider.id),
            subject: None,
            details: json!({"reason": why.code()}),
        })
        .await?;
    Ok(())
}

/// The page for a provider's answer that finds no login waiting for it (too late, used before,
/// or never started here).
pub fn expired() -> PageError {
    message(
        StatusCode::BAD_REQUEST,
        "Inloggen verlopen",
        Text::new(
            "Deze inlog is verlopen of al gebruikt. Begin opnieuw vanuit het portaal van je netwerkomgeving.",
            "This login has expired or was used already. Start again from your network environment's portal.",
        ),
        Some(("/", "Naar het portaal / To the portal")),
    )
    .into()
}

/// A provider's answer, verified by its protocol's front end, on its way to a session.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Arrival {
    pub party_id: String,
    pub vouched: Vouched,
    /// The login openpoort sent to the provider; `None` for an unsolicited (IdP-initiated) one.
    pub outstanding: Option<Outstanding>,
    /// A product to open, from an unsolicited login's RelayState.
    pub relay_target: Option<String>,
}

/// Matches the arrival to a user, opens the session and sends the browser on: to the request
/// that sent the user to the provider, else to the product asked for, else to the portal.
pub async fn finish(
    state: &AppState,
    headers: &HeaderMap,
    arrival: Arrival,
) -> Result<Response, PageError> {
    let refused = |text: Text| -> PageError {
        message(
            StatusCode::FORBIDDEN,
            "Inloggen lukt niet",
            text,
            Some(("/", "Naar het portaal / To the portal")),
        )
        .into()
    };
    if let Some(o) = &arrival.outstanding
        && !upstream::same_browser(state, headers, o)
    {
        // Someone else's answer (a link or form planted on this user) must not sign this
        // browser in as them.
        return Err(refused(Text::new(
            "Deze inlog is in een andere browser begonnen. Begin opnieuw vanuit het portaal of de snelkoppeling van je school.",
            "This login was started in another browser. Start again from your school's portal or shortcut.",
        )));
    }
    let provider = state
        .directory
        .party_by_id(&arrival.party_id)
        .await
        .map_err(PageError::internal)?
        .ok_or_else(|| PageError::bug("the provider of an arrival is gone"))?;
    let stored = state
        .directory
        .upstream_of(&provider.id)
        .await
        .map_err(PageError::internal)?
        .ok_or_else(|| PageError::bug("the upstream of an arrival is gone"))?;
    let settings = registry::settings_of(&stored).map_err(PageError::internal)?;
    let entry_school = arrival
        .outstanding
        .as_ref()
        .and_then(|o| o.school_id.as_deref());
    let matched = match find_user(state, &provider, &settings, &arrival.vouched, entry_school)
        .await?
    {
        Ok(m) => m,
        Err(why) => {
            audit_unmatched(state, &provider, &why).await?;
            tracing::info!(provider = %provider.code, reason = why.code(), "brokered login found no user");
            return Err(refused(why.explanation(&provider.name)));
        }
    };
    let target = arrival
        .outstanding
        .as_ref()
        .and_then(|o| o.target.clone())
        .or(arrival.relay_target.clone());
    let mut set = open_session(state, &provider, &matched, target.as_deref()).await?;
    set.append(
        axum::http::header::SET_COOKIE,
        upstream::clear_browser_cookie(&state.web),
    );
    let next = arrival
        .outstanding
        .as_ref()
        .and_then(|o| safe_next(o.next.as_deref()));
    Ok(see_other(next.as_deref().unwrap_or("/"), set))
}
