//! The portal at `/`: one tile per product the signed-in pupil or staff member may open now.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use broker::Context;

use super::home::schools_of;
use super::{Text, see_other};
use crate::app_state::AppState;
use crate::http::extract::Query;
use crate::http::{FormToken, NoticeQuery, PageError};
use crate::session::{SignedIn, Who};

/// One of a teacher's own groups, with its pupils, as the portal lists them.
pub struct MyGroup {
    id: String,
    name: String,
    pupils: Vec<String>,
}

pub struct TileView {
    name: String,
    party: String,
    launch_url: String,
    href: String,
    icon_url: Option<String>,
    letter: String,
}

#[derive(Template)]
#[template(path = "portal.html")]
struct PortalPage {
    csrf: String,
    name: String,
    school: Option<String>,
    at_home: bool,
    staff: bool,
    several_schools: bool,
    notice: Option<Text>,
    tiles: Vec<TileView>,
    my_groups: Vec<MyGroup>,
    empty: Text,
    continue_to: Option<(String, String)>,
}

/// Words a teacher understands for an empty portal; names no party, since there may be several.
fn empty_text(reason: Option<broker::DenyReason>) -> Text {
    use broker::DenyReason::*;
    match reason {
        Some(NoConsent) => Text::new(
            "Er is nog niets te zien: je school heeft de uitgeverij nog geen toestemming gegeven om gegevens te ontvangen. De ICT-coördinator van je school kan dat regelen.",
            "Nothing to show yet: your school has not allowed the publisher to receive data. The school's ICT coordinator can arrange that.",
        ),
        Some(LicenceExpired) => Text::new(
            "Er is nu niets te zien: de licentie van je school is verlopen. De ICT-coördinator van je school kan die laten verlengen.",
            "Nothing to show now: your school's licence has expired. The school's ICT coordinator can have it renewed.",
        ),
        Some(NotAllowedAtHome) => Text::new(
            "Thuis kun je geen van je lesmethodes gebruiken; op school wel.",
            "None of your learning materials can be used at home; they can at school.",
        ),
        Some(HomeLoginSwitchedOff) => Text::new(
            "Je school heeft thuis inloggen uitgezet. Op school kun je je lesmateriaal gebruiken.",
            "Your school has switched logging in from home off. You can use your materials at school.",
        ),
        Some(AccountInactive) => Text::new(
            "Je account is niet actief op deze school. Vraag de ICT-coördinator van je school.",
            "Your account is not active at this school. Ask the school's ICT coordinator.",
        ),
        Some(NoLicence) | None => Text::new(
            "Er is nog niets te zien: je school heeft (nog) geen licentie die voor jou geldt. De ICT-coördinator van je school kan die bij de uitgeverij regelen.",
            "Nothing to show yet: your school has no licence that covers you. The school's ICT coordinator can arrange one with the publisher.",
        ),
    }
}

pub async fn portal(
    State(state): State<AppState>,
    SignedIn(s): SignedIn,
    token: FormToken,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let (name, staff, several_schools) = match &s.data.who {
        Who::Staff { staff_id, .. } => {
            let (staff, schools) = tokio::try_join!(
                state.directory.staff_by_id(staff_id),
                schools_of(&state, staff_id)
            )?;
            let Some(staff) = staff else {
                return Ok(see_other("/inloggen", HeaderMap::new()));
            };
            if s.data.school_id.is_none() && schools.len() > 1 {
                return Ok(see_other("/school-kiezen", HeaderMap::new()));
            }
            (
                staff
                    .roepnaam
                    .or(staff.voornamen)
                    .unwrap_or(staff.achternaam),
                true,
                schools.len() > 1,
            )
        }
        Who::Pupil { pupil_id, .. } => match state.directory.pupil_by_id(pupil_id).await? {
            Some(p) => (
                p.roepnaam.or(p.voornamen).unwrap_or(p.achternaam),
                false,
                false,
            ),
            None => return Ok(see_other("/inloggen", HeaderMap::new())),
        },
    };
    let school = match &s.data.school_id {
        Some(id) => state.directory.school_by_id(id).await?,
        None => None,
    };
    let portal = match &school {
        Some(sc) => Some(
            state
                .broker
                .portal(
                    &s.data.subject(),
                    &sc.id,
                    s.data.context,
                    crate::clock::unix_now(),
                )
                .await?,
        ),
        None => None,
    };
    let empty_because = portal.as_ref().and_then(|p| p.empty_because);
    let mut tiles: Vec<TileView> = Vec::new();
    for t in portal.map(|p| p.tiles).unwrap_or_default() {
        // A product of a party with an OpenID Connect client that can be started from a portal
        // begins with third-party initiated login; others open their launch URL directly.
        let initiate = state
            .directory
            .oidc_clients_of_party(&t.product.party_id)
            .await?
            .into_iter()
            .find(|c| {
                serde_json::from_str::<metadata::client::ClientRegistration>(&c.registration)
                    .is_ok_and(|r| r.initiate_login_uri.is_some())
            });
        // Without one, a party with a SAML service provider gets an IdP-initiated response.
        let saml_sp = match &initiate {
            Some(_) => None,
            None => state
                .directory
                .saml_sps_of_party(&t.product.party_id)
                .await?
                .into_iter()
                .next(),
        };
        let href = match (initiate, saml_sp) {
            (Some(c), _) => format!(
                "/oidc/initiate/{}?product={}",
                super::url_encode(&c.client_id),
                super::url_encode(&t.product.id)
            ),
            (None, Some(sp)) => format!(
                "/saml/start?sp={}&product={}",
                super::url_encode(&sp.entity_id),
                super::url_encode(&t.product.id)
            ),
            (None, None) => t.product.launch_url.clone(),
        };
        tiles.push(TileView {
            letter: t
                .product
                .name
                .chars()
                .next()
                .map(|c| c.to_uppercase().to_string())
                .unwrap_or_default(),
            name: t.product.name,
            party: t.party_name,
            launch_url: t.product.launch_url,
            href,
            // Served by openpoort itself: the pages' CSP allows no other image host.
            icon_url: (t.product.icon_url.is_some() || t.product.icon_stored)
                .then(|| super::icons::path(&t.product.id)),
        });
    }
    // A TARGET from the shortcut that is one of these tiles: offered as the way on. Only a
    // registered product URL can get here, so this is no open redirect.
    let continue_to = s
        .data
        .target
        .as_ref()
        .and_then(|t| tiles.iter().find(|tile| &tile.launch_url == t))
        .map(|tile| (tile.href.clone(), tile.name.clone()));
    let notice = (q.melding.as_deref() == Some("wachtwoord-gewijzigd")).then(|| {
        Text::new(
            "Je wachtwoord is gewijzigd. Op je andere apparaten ben je uitgelogd.",
            "Your password has been changed. You are logged out on your other devices.",
        )
    });
    let my_groups = match (&s.data.who, &school) {
        (Who::Staff { staff_id, .. }, Some(sc)) => my_groups(&state, staff_id, &sc.id).await?,
        _ => Vec::new(),
    };
    Ok(token.page(StatusCode::OK, |csrf| PortalPage {
        csrf,
        name,
        school: school.map(|sc| format!("{} ({})", sc.name, sc.code())),
        at_home: s.data.context == Context::HomeCode,
        staff,
        several_schools,
        notice,
        tiles,
        my_groups,
        empty: empty_text(empty_because),
        continue_to,
    }))
}

/// The groups a teacher teaches at this school today (a substitute's only within the period of
/// the link), each with its pupils, so the class is in view without going through Beheer. Only
/// the teacher's own groups: an ICT-coördinator's other groups are in Beheer.
async fn my_groups(
    state: &AppState,
    staff_id: &str,
    school_id: &str,
) -> Result<Vec<MyGroup>, PageError> {
    let d = &state.directory;
    let mut groups = Vec::new();
    for g in d.groups_of_staff(staff_id).await? {
        if g.school_id != school_id || !g.active {
            continue;
        }
        let mut pupils: Vec<String> = d
            .active_pupils_of_group(school_id, &g.id)
            .await?
            .into_iter()
            .map(|p| {
                let first = p.roepnaam.or(p.voornamen).unwrap_or_default();
                match p.voorvoegsel {
                    Some(v) => format!("{first} {v} {}", p.achternaam),
                    None => format!("{first} {}", p.achternaam),
                }
            })
            .collect();
        pupils.sort_by(|a, b| crate::school_admin::by_name_naturally(a, b));
        groups.push(MyGroup {
            id: g.id,
            name: g.name,
            pupils,
        });
    }
    groups.sort_by(|a, b| crate::school_admin::by_name_naturally(&a.name, &b.name));
    Ok(groups)
}
