//! What teachers and the ICT-coördinator do for their pupils: set and reset picture passwords,
//! issue, print and void home codes; the ICT-coördinator also switches picture passwords and
//! home login on or off for the school.
//!
//! A teacher manages the groups they are linked to; the ICT-coördinator every group of the
//! school. Everything acts on the school chosen in the session.

use crate::extract::{Form, Path};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use directory::Actor;
use directory::model::StaffRole;
use directory::people::{Group, Pupil};
use directory::schools::School;

use super::{Text, csrf_ok, csrf_refused, csrf_token, internal_error, message, page, see_other};
use crate::app_state::AppState;
use crate::homecode;
use crate::pictures::{CATALOGUE, Picture, by_name};
use crate::session::{self, Who};
use crate::state::StateStore;

/// The signed-in staff member and what they may manage at the chosen school.
struct Manager {
    staff_id: String,
    school: School,
    ict: bool,
    groups: Vec<Group>,
}

impl Manager {
    fn group(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    fn may_manage(&self, pupil: &Pupil) -> bool {
        pupil.school_id == self.school.id
            && (self.ict
                || self.groups.iter().any(|g| {
                    pupil.stamgroep_id.as_deref() == Some(g.id.as_str())
                        || pupil.combined_group_ids.contains(&g.id)
                }))
    }

    fn actor(&self) -> Actor {
        Actor::staff(&self.staff_id)
    }
}

fn not_allowed() -> Response {
    message(
        StatusCode::FORBIDDEN,
        "Geen toegang",
        Text::new(
            "Dit kun je alleen doen voor je eigen groepen, of als ICT-coördinator van de school.",
            "You can only do this for your own classes, or as the school's ICT coordinator.",
        ),
        Some(("/beheer", "Terug / Back")),
    )
}

async fn manager(state: &AppState, headers: &HeaderMap) -> Result<Manager, Response> {
    let s = match session::load(state, headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return Err(see_other("/inloggen", HeaderMap::new())),
        Err(e) => return Err(internal_error(e)),
    };
    let (Who::Staff { staff_id, .. }, Some(school_id)) = (&s.data.who, &s.data.school_id) else {
        return Err(see_other("/", HeaderMap::new()));
    };
    let d = &state.directory;
    let at = d.schools_of_staff(staff_id).await.map_err(internal_error)?;
    let Some(here) = at.into_iter().find(|a| &a.school_id == school_id) else {
        return Err(not_allowed());
    };
    let school = match d.school_by_id(school_id).await {
        Ok(Some(s)) => s,
        Ok(None) => return Err(not_allowed()),
        Err(e) => return Err(internal_error(e)),
    };
    let ict = here.roles.contains(&StaffRole::IctCoordinator);
    let groups = if ict {
        d.groups_of_school(school_id)
            .await
            .map_err(internal_error)?
    } else {
        d.groups_of_staff(staff_id)
            .await
            .map_err(internal_error)?
            .into_iter()
            .filter(|g| &g.school_id == school_id)
            .collect()
    };
    Ok(Manager {
        staff_id: staff_id.clone(),
        school,
        ict,
        groups,
    })
}

#[derive(Template)]
#[template(path = "beheer.html")]
struct OverviewPage {
    csrf: String,
    school: String,
    groups: Vec<(String, String)>,
    ict: bool,
    picture_password: bool,
    home_login: bool,
}

pub async fn overview(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let m = match manager(&state, &headers).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let (csrf, set) = csrf_token(&state.web, &headers);
    page(
        StatusCode::OK,
        &OverviewPage {
            csrf,
            school: format!("{} ({})", m.school.name, m.school.code()),
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
    )
}

#[derive(Deserialize)]
pub struct SettingsForm {
    csrf: String,
    picture_password: Option<String>,
    home_login: Option<String>,
}

pub async fn settings(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SettingsForm>,
) -> Response {
    if !csrf_ok(&state.web, &headers, &form.csrf) {
        return csrf_refused();
    }
    let m = match manager(&state, &headers).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    if !m.ict {
        return not_allowed();
    }
    let d = &state.directory;
    let picture = form.picture_password.is_some();
    let home = form.home_login.is_some();
    if picture != m.school.picture_password_enabled
        && let Err(e) = d
            .set_picture_password_enabled(&m.school.id, picture, &m.actor())
            .await
    {
        return internal_error(e);
    }
    if home != m.school.home_login_allowed
        && let Err(e) = d
            .set_home_login_allowed(&m.school.id, home, &m.actor())
            .await
    {
        return internal_error(e);
    }
    see_other("/beheer", HeaderMap::new())
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
    headers: HeaderMap,
    Path(group_id): Path<String>,
) -> Response {
    let m = match manager(&state, &headers).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let Some(group) = m.group(&group_id) else {
        return not_allowed();
    };
    let d = &state.directory;
    let (pupils, with_code) = match tokio::try_join!(
        d.active_pupils_of_group(&m.school.id, &group_id),
        d.pupils_with_home_code(&m.school.id)
    ) {
        Ok(v) => v,
        Err(e) => return internal_error(e),
    };
    let mut rows = Vec::new();
    for p in pupils {
        let picture = match d.picture_secret(&p.id).await {
            Ok(s) => s,
            Err(e) => return internal_error(e),
        };
        let locked = match state
            .state
            .count(&super::pupil::wrong_picture_key(&p.id))
            .await
        {
            Ok(n) => n >= super::pupil::MAX_WRONG_PICTURES,
            Err(e) => return internal_error(e),
        };
        rows.push(PupilRow {
            locked,
            has_code: with_code.contains(&p.id),
            name: display_name(&p),
            id: p.id,
            picture,
        });
    }
    let (csrf, set) = csrf_token(&state.web, &headers);
    page(
        StatusCode::OK,
        &GroupPage {
            csrf,
            group: group.name.clone(),
            group_id,
            pupils: rows,
            pictures: &CATALOGUE,
        },
        set,
    )
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

#[derive(Deserialize)]
pub struct PictureForm {
    csrf: String,
    picture: String,
}

/// The pupil named in the URL, if this staff member may manage them.
async fn managed_pupil(state: &AppState, m: &Manager, pupil_id: &str) -> Result<Pupil, Response> {
    match state.directory.pupil_by_id(pupil_id).await {
        Ok(Some(p)) if m.may_manage(&p) => Ok(p),
        Ok(_) => Err(not_allowed()),
        Err(e) => Err(internal_error(e)),
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
    headers: HeaderMap,
    Path(pupil_id): Path<String>,
    Form(form): Form<PictureForm>,
) -> Response {
    if !csrf_ok(&state.web, &headers, &form.csrf) {
        return csrf_refused();
    }
    let m = match manager(&state, &headers).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let pupil = match managed_pupil(&state, &m, &pupil_id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let picture = match form.picture.as_str() {
        "" => None,
        name => match by_name(name) {
            Some(p) => Some(p.name),
            None => return not_allowed(),
        },
    };
    match state
        .directory
        .set_picture_secret(&pupil.id, picture, &m.actor())
        .await
    {
        Ok(()) => back_to_group(&pupil),
        Err(e) => internal_error(e),
    }
}

/// Lifts a pupil's pause after too many wrong pictures, so that a pupil who forgot their picture
/// and got help need not wait out the window. Only for a teacher of the pupil's group or the
/// ICT-coördinator, and logged with who did it.
pub async fn unlock(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(pupil_id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !csrf_ok(&state.web, &headers, &form.csrf) {
        return csrf_refused();
    }
    let m = match manager(&state, &headers).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let pupil = match managed_pupil(&state, &m, &pupil_id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    match state
        .state
        .delete(&super::pupil::wrong_picture_key(&pupil.id))
        .await
    {
        Ok(_) => {
            tracing::info!(
                staff = %m.staff_id,
                pupil = %pupil.id,
                school = %m.school.code(),
                "pupil's picture login unlocked by staff"
            );
            back_to_group(&pupil)
        }
        Err(e) => internal_error(e),
    }
}

pub async fn void_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(pupil_id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !csrf_ok(&state.web, &headers, &form.csrf) {
        return csrf_refused();
    }
    let m = match manager(&state, &headers).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let pupil = match managed_pupil(&state, &m, &pupil_id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    match state.directory.void_home_code(&pupil.id, &m.actor()).await {
        Ok(_) => back_to_group(&pupil),
        Err(e) => internal_error(e),
    }
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
async fn issue_cards(state: &AppState, m: &Manager, pupils: &[Pupil], back: String) -> Response {
    let home_url = format!("{}/thuis", state.web.public_url);
    let mut cards = Vec::new();
    for p in pupils {
        let (code, pin) =
            match homecode::issue(&state.directory, &state.hasher, &p.id, &m.actor()).await {
                Ok(issued) => issued,
                // As itself, so that a full password queue is answered 503 with Retry-After.
                Err(homecode::HomeCodeError::Hash(e)) => return internal_error(e),
                Err(e) => return internal_error(e),
            };
        let qr = match homecode::qr_svg(&format!("{home_url}?code={code}")) {
            Ok(svg) => svg,
            Err(e) => return internal_error(e),
        };
        cards.push(Card {
            name: display_name(p),
            qr,
            code,
            pin,
        });
    }
    page(
        StatusCode::OK,
        &CardsPage {
            school: m.school.name.clone(),
            home_url,
            back,
            cards,
        },
        HeaderMap::new(),
    )
}

pub async fn group_codes(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(group_id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !csrf_ok(&state.web, &headers, &form.csrf) {
        return csrf_refused();
    }
    let m = match manager(&state, &headers).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    if m.group(&group_id).is_none() {
        return not_allowed();
    }
    let pupils = match state
        .directory
        .active_pupils_of_group(&m.school.id, &group_id)
        .await
    {
        Ok(p) => p,
        Err(e) => return internal_error(e),
    };
    issue_cards(&state, &m, &pupils, format!("/beheer/groep/{group_id}")).await
}

pub async fn pupil_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(pupil_id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !csrf_ok(&state.web, &headers, &form.csrf) {
        return csrf_refused();
    }
    let m = match manager(&state, &headers).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let pupil = match managed_pupil(&state, &m, &pupil_id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let back = format!(
        "/beheer/groep/{}",
        pupil.stamgroep_id.clone().unwrap_or_default()
    );
    issue_cards(&state, &m, std::slice::from_ref(&pupil), back).await
}
