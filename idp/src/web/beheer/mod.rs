//! Beheer: what staff do for their school in the browser. Here, for pupils: set and reset
//! picture passwords, issue, print and void home codes; the ICT-coördinator also switches
//! picture passwords and home login on or off for the school. The school's network and the
//! parties it consents to are in `network` and `parties` (ICT-coördinator only).
//!
//! A teacher manages the groups they are linked to; the ICT-coördinator every group of the
//! school. Everything acts on the school chosen in the session; the rules themselves are in
//! `crate::school_admin`, shared with the admin API and the CLI.

use askama::Template;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use directory::people::Pupil;

use super::{csrf_token, page, see_other};
use crate::app_state::AppState;
use crate::homecode;
use crate::http::extract::Path;
use crate::http::{Csrf, NoFields, PageError};
use crate::pictures::{CATALOGUE, Picture, by_name};
use crate::school_admin::Administered;
use crate::session::SchoolManager;
use crate::state::StateStore;

mod material;
mod network;
mod parties;
mod staff;

pub use material::{material, shortcuts_zip};
pub use network::{add_range, network, remove_range};
pub use parties::{network_providers, publishers, save_network_providers, save_publishers};
pub use staff::{
    add_staff, deactivate, invite, link_group, person, set_email, set_roles, staff_list,
    unlink_group,
};

fn not_allowed() -> PageError {
    SchoolManager::not_allowed()
}

/// The head of every Beheer page: which school, the way to another one for those at several,
/// and the sections this administrator may open.
pub struct Nav {
    school: String,
    several_schools: bool,
    ict: bool,
    current: &'static str,
}

impl Nav {
    fn of(m: &SchoolManager, current: &'static str) -> Nav {
        Nav {
            school: format!("{} ({})", m.school.name, m.school.code()),
            several_schools: m.several_schools,
            ict: m.ict,
            current,
        }
    }
}

/// An ICT-coördinator of the school chosen in the session: the school's own settings need one.
/// Other staff get the refusal every Beheer page gives.
pub struct SchoolAdmin {
    pub manager: SchoolManager,
    pub admin: Administered,
}

impl FromRequestParts<AppState> for SchoolAdmin {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let manager = SchoolManager::from_request_parts(parts, state).await?;
        let admin =
            Administered::by_staff(&state.directory, &manager.staff_id, &manager.school.id).await?;
        Ok(SchoolAdmin { manager, admin })
    }
}

#[derive(Template)]
#[template(path = "beheer.html")]
struct OverviewPage {
    nav: Nav,
    csrf: String,
    groups: Vec<(String, String)>,
    ict: bool,
    picture_password: bool,
    home_login: bool,
}

pub async fn overview(
    State(state): State<AppState>,
    m: SchoolManager,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (csrf, set) = csrf_token(&state.web, &headers);
    Ok(page(
        StatusCode::OK,
        &OverviewPage {
            nav: Nav::of(&m, "leerlingen"),
            csrf,
            groups: m
                .groups
                .iter()
                .map(|g| (g.id.clone(), g.name.clone()))
                .collect(),
            ict: m.ict,
            picture_password: m.school.picture_password_enabled,
            home_login: m.school.home_login_allowed,
        },
        set,
    ))
}

#[derive(Deserialize)]
pub struct SettingsForm {
    picture_password: Option<String>,
    home_login: Option<String>,
}

pub async fn settings(
    State(state): State<AppState>,
    m: SchoolManager,
    Csrf(form): Csrf<SettingsForm>,
) -> Result<Response, PageError> {
    if !m.ict {
        return Err(not_allowed());
    }
    let d = &state.directory;
    let picture = form.picture_password.is_some();
    let home = form.home_login.is_some();
    if picture != m.school.picture_password_enabled {
        d.set_picture_password_enabled(&m.school.id, picture, &m.actor())
            .await?;
    }
    if home != m.school.home_login_allowed {
        d.set_home_login_allowed(&m.school.id, home, &m.actor())
            .await?;
    }
    Ok(see_other("/beheer", HeaderMap::new()))
}

pub struct PupilRow {
    id: String,
    name: String,
    picture: Option<String>,
    has_code: bool,
    /// Paused after too many wrong pictures: the teacher can lift the pause.
    locked: bool,
}

#[derive(Template)]
#[template(path = "beheer_group.html")]
struct GroupPage {
    csrf: String,
    group: String,
    group_id: String,
    pupils: Vec<PupilRow>,
    pictures: &'static [Picture],
}

fn display_name(p: &Pupil) -> String {
    let first = p
        .roepnaam
        .clone()
        .or(p.voornamen.clone())
        .unwrap_or_default();
    let middle = p
        .voorvoegsel
        .as_deref()
        .map(|v| format!("{v} "))
        .unwrap_or_default();
    format!("{first} {middle}{}", p.achternaam)
}

pub async fn group(
    State(state): State<AppState>,
    m: SchoolManager,
    headers: HeaderMap,
    Path(group_id): Path<String>,
) -> Result<Response, PageError> {
    let Some(group) = m.group(&group_id) else {
        return Err(not_allowed());
    };
    let d = &state.directory;
    let (pupils, with_code) = tokio::try_join!(
        d.active_pupils_of_group(&m.school.id, &group_id),
        d.pupils_with_home_code(&m.school.id)
    )?;
    let mut rows = Vec::new();
    for p in pupils {
        let picture = d.picture_secret(&p.id).await?;
        let locked = state
            .state
            .count(&super::pupil::wrong_picture_key(&p.id))
            .await?
            >= super::pupil::MAX_WRONG_PICTURES;
        rows.push(PupilRow {
            locked,
            has_code: with_code.contains(&p.id),
            name: display_name(&p),
            id: p.id,
            picture,
        });
    }
    let (csrf, set) = csrf_token(&state.web, &headers);
    Ok(page(
        StatusCode::OK,
        &GroupPage {
            csrf,
            group: group.name.clone(),
            group_id,
            pupils: rows,
            pictures: &CATALOGUE,
        },
        set,
    ))
}

#[derive(Deserialize)]
pub struct PictureForm {
    picture: String,
}

/// The pupil named in the URL, if this staff member may manage them.
async fn managed_pupil(
    state: &AppState,
    m: &SchoolManager,
    pupil_id: &str,
) -> Result<Pupil, PageError> {
    match state.directory.pupil_by_id(pupil_id).await? {
        Some(p) if m.may_manage(&p) => Ok(p),
        _ => Err(not_allowed()),
    }
}

fn back_to_group(p: &Pupil) -> Response {
    see_other(
        &format!(
            "/beheer/groep/{}",
            p.stamgroep_id.clone().unwrap_or_default()
        ),
        HeaderMap::new(),
    )
}

pub async fn set_picture(
    State(state): State<AppState>,
    m: SchoolManager,
    Path(pupil_id): Path<String>,
    Csrf(form): Csrf<PictureForm>,
) -> Result<Response, PageError> {
    let pupil = managed_pupil(&state, &m, &pupil_id).await?;
    let picture = match form.picture.as_str() {
        "" => None,
        name => Some(by_name(name).ok_or_else(not_allowed)?.name),
    };
    state
        .directory
        .set_picture_secret(&pupil.id, picture, &m.actor())
        .await?;
    Ok(back_to_group(&pupil))
}

/// Lifts a pupil's pause after too many wrong pictures, so that a pupil who forgot their picture
/// and got help need not wait out the window. Only for a teacher of the pupil's group or the
/// ICT-coördinator, and logged with who did it.
pub async fn unlock(
    State(state): State<AppState>,
    m: SchoolManager,
    Path(pupil_id): Path<String>,
    _: Csrf<NoFields>,
) -> Result<Response, PageError> {
    let pupil = managed_pupil(&state, &m, &pupil_id).await?;
    state
        .state
        .delete(&super::pupil::wrong_picture_key(&pupil.id))
        .await?;
    tracing::info!(
        staff = %m.staff_id,
        pupil = %pupil.id,
        school = %m.school.code(),
        "pupil's picture login unlocked by staff"
    );
    Ok(back_to_group(&pupil))
}

pub async fn void_code(
    State(state): State<AppState>,
    m: SchoolManager,
    Path(pupil_id): Path<String>,
    _: Csrf<NoFields>,
) -> Result<Response, PageError> {
    let pupil = managed_pupil(&state, &m, &pupil_id).await?;
    state
        .directory
        .void_home_code(&pupil.id, &m.actor())
        .await?;
    Ok(back_to_group(&pupil))
}

pub struct Card {
    name: String,
    qr: String,
    code: String,
    pin: String,
}

#[derive(Template)]
#[template(path = "home_code_cards.html")]
struct CardsPage {
    school: String,
    home_url: String,
    back: String,
    cards: Vec<Card>,
}

/// Issues a new home code for each pupil and renders the cards. The plain code and pin exist
/// only in this response: the register keeps their hashes.
async fn issue_cards(
    state: &AppState,
    m: &SchoolManager,
    pupils: &[Pupil],
    back: String,
) -> Result<Response, PageError> {
    let home_url = format!("{}/thuis", state.web.public_url);
    let mut cards = Vec::new();
    for p in pupils {
        let (code, pin) =
            homecode::issue(&state.directory, &state.hasher, &p.id, &m.actor()).await?;
        let qr =
            homecode::qr_svg(&format!("{home_url}?code={code}")).map_err(PageError::internal)?;
        cards.push(Card {
            name: display_name(p),
            qr,
            code,
            pin,
        });
    }
    Ok(page(
        StatusCode::OK,
        &CardsPage {
            school: m.school.name.clone(),
            home_url,
            back,
            cards,
        },
        HeaderMap::new(),
    ))
}

pub async fn group_codes(
    State(state): State<AppState>,
    m: SchoolManager,
    Path(group_id): Path<String>,
    _: Csrf<NoFields>,
) -> Result<Response, PageError> {
    if m.group(&group_id).is_none() {
        return Err(not_allowed());
    }
    let pupils = state
        .directory
        .active_pupils_of_group(&m.school.id, &group_id)
        .await?;
    issue_cards(&state, &m, &pupils, format!("/beheer/groep/{group_id}")).await
}

pub async fn pupil_code(
    State(state): State<AppState>,
    m: SchoolManager,
    Path(pupil_id): Path<String>,
    _: Csrf<NoFields>,
) -> Result<Response, PageError> {
    let pupil = managed_pupil(&state, &m, &pupil_id).await?;
    let back = format!(
        "/beheer/groep/{}",
        pupil.stamgroep_id.clone().unwrap_or_default()
    );
    issue_cards(&state, &m, std::slice::from_ref(&pupil), back).await
}
