//! Leerlingen: the groups a staff member manages and their pupils. Set and reset picture
//! passwords (one by one, or a random one for every pupil of a group without one), lift a pupil's
//! pause after wrong pictures, issue, print and void home codes.
//!
//! A teacher manages the groups they are linked to, the ICT-coördinator every group of the
//! school (`SchoolManager` says which).

use std::time::Duration;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use directory::people::Pupil;

use super::super::pupil::{MAX_WRONG_PICTURES, wrong_picture_key};
use super::super::{csrf_token, page, see_other};
use super::{Nav, not_allowed};
use crate::app_state::AppState;
use crate::homecode;
use crate::http::extract::Path;
use crate::http::{Csrf, NoFields, PageError};
use crate::pictures::{CATALOGUE, Picture, by_name, spread};
use crate::school_admin::by_name_naturally;
use crate::session::SchoolManager;
use crate::state::StateStore;

pub struct GroupRow {
    id: String,
    name: String,
    pupils: usize,
}

#[derive(Template)]
#[template(path = "beheer.html")]
struct OverviewPage {
    nav: Nav,
    csrf: String,
    groups: Vec<GroupRow>,
    ict: bool,
    picture_password: bool,
    home_login: bool,
}

pub async fn overview(
    State(state): State<AppState>,
    m: SchoolManager,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let mut groups = Vec::with_capacity(m.groups.len());
    // A group an import ended stays in the register (for licences and history), not here.
    for g in m.groups.iter().filter(|g| g.active) {
        let pupils = state
            .directory
            .active_pupils_of_group(&m.school.id, &g.id)
            .await?;
        groups.push(GroupRow {
            id: g.id.clone(),
            name: g.name.clone(),
            pupils: pupils.len(),
        });
    }
    groups.sort_by(|a, b| by_name_naturally(&a.name, &b.name));
    let (csrf, set) = csrf_token(&state.web, &headers);
    Ok(page(
        StatusCode::OK,
        &OverviewPage {
            nav: Nav::of(&m, "leerlingen"),
            csrf,
            groups,
            ict: m.ict,
            picture_password: m.school.picture_password_enabled,
            home_login: m.school.home_login_allowed,
        },
        set,
    ))
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
    nav: Nav,
    csrf: String,
    group: String,
    group_id: String,
    pupils: Vec<PupilRow>,
    without_picture: usize,
    picture_password: bool,
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
        let locked = state.state.count(&wrong_picture_key(&p.id)).await? >= MAX_WRONG_PICTURES;
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
            nav: Nav::of(&m, "leerlingen"),
            csrf,
            group: group.name.clone(),
            group_id,
            without_picture: rows.iter().filter(|r| r.picture.is_none()).count(),
            pupils: rows,
            picture_password: m.school.picture_password_enabled,
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

fn group_page(group_id: &str) -> Response {
    see_other(&format!("/beheer/groep/{group_id}"), HeaderMap::new())
}

fn back_to_group(p: &Pupil) -> Response {
    group_page(p.stamgroep_id.as_deref().unwrap_or_default())
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

/// How long one group's pictures may take to hand out before another request may try again
/// (a crashed node's claim runs out by itself).
const BULK_CLAIM: Duration = Duration::from_secs(60);

/// Gives every pupil of the group without a picture a random one, no two alike in the group
/// while the catalogue allows. One request per group at a time: two at once would both see the
/// same pupils without a picture and could give two of them the same one, so the second leaves
/// it to the first.
pub async fn bulk_pictures(
    State(state): State<AppState>,
    m: SchoolManager,
    Path(group_id): Path<String>,
    _: Csrf<NoFields>,
) -> Result<Response, PageError> {
    if m.group(&group_id).is_none() {
        return Err(not_allowed());
    }
    let claim = format!("beheer-plaatjes:group:{group_id}");
    if !state.state.put_if_absent(&claim, b"1", BULK_CLAIM).await? {
        return Ok(group_page(&group_id));
    }
    let given = give_missing_pictures(&state, &m, &group_id).await;
    state.state.delete(&claim).await?;
    let given = given?;
    tracing::info!(
        staff = %m.staff_id,
        group = %group_id,
        school = %m.school.code(),
        given,
        "pictures given to the pupils of a group without one"
    );
    Ok(group_page(&group_id))
}

async fn give_missing_pictures(
    state: &AppState,
    m: &SchoolManager,
    group_id: &str,
) -> Result<usize, PageError> {
    let d = &state.directory;
    let mut taken = Vec::new();
    let mut without = Vec::new();
    for p in d.active_pupils_of_group(&m.school.id, group_id).await? {
        match d.picture_secret(&p.id).await? {
            Some(name) => taken.push(name),
            None => without.push(p),
        }
    }
    let taken: Vec<&str> = taken.iter().map(String::as_str).collect();
    let pictures = spread(&taken, without.len());
    for (pupil, picture) in without.iter().zip(pictures) {
        d.set_picture_secret(&pupil.id, Some(picture.name), &m.actor())
            .await?;
    }
    Ok(without.len())
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
    state.state.delete(&wrong_picture_key(&pupil.id)).await?;
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

#[derive(Template)]
#[template(path = "beheer_codes_confirm.html")]
struct ConfirmCodesPage {
    nav: Nav,
    csrf: String,
    group: String,
    group_id: String,
    pupils: usize,
    /// Names of the pupils whose card stops working.
    voided: Vec<String>,
}

#[derive(Deserialize)]
pub struct CodesForm {
    confirm: Option<String>,
}

/// New home codes for the whole group. When pupils of the group have a card already, those
/// cards stop working, so that is asked first: a teacher who meant to print one card does not
/// void thirty by accident.
pub async fn group_codes(
    State(state): State<AppState>,
    m: SchoolManager,
    headers: HeaderMap,
    Path(group_id): Path<String>,
    Csrf(form): Csrf<CodesForm>,
) -> Result<Response, PageError> {
    let Some(group) = m.group(&group_id) else {
        return Err(not_allowed());
    };
    let d = &state.directory;
    let (pupils, with_code) = tokio::try_join!(
        d.active_pupils_of_group(&m.school.id, &group_id),
        d.pupils_with_home_code(&m.school.id)
    )?;
    let voided: Vec<String> = pupils
        .iter()
        .filter(|p| with_code.contains(&p.id))
        .map(display_name)
        .collect();
    if !voided.is_empty() && form.confirm.is_none() {
        let (csrf, set) = csrf_token(&state.web, &headers);
        return Ok(page(
            StatusCode::OK,
            &ConfirmCodesPage {
                nav: Nav::of(&m, "leerlingen"),
                csrf,
                group: group.name.clone(),
                group_id,
                pupils: pupils.len(),
                voided,
            },
            set,
        ));
    }
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
