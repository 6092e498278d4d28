//! Leerlingen: the groups a staff member manages and their pupils. Set and reset picture
//! passwords (one by one, or a random one for every pupil of a group without one), lift a pupil's
//! pause after wrong pictures, issue, print and void home codes. The rules are
//! `crate::school_admin::pupils`'s.
//!
//! A teacher manages the groups they are linked to, the ICT-coördinator every group of the
//! school (`SchoolManager` says which).

use askama::Template;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::super::{page, see_other};
use super::{Nav, not_allowed};
use crate::homecode;
use crate::http::extract::Path;
use crate::http::{ConfirmForm, Csrf, Desk, NoFields, PageError};
use crate::pictures::{CATALOGUE, Picture};
use crate::school_admin::AdminError;
use crate::school_admin::pupils::{
    self as rules, GroupCodes, IssuedCode, PupilManager, display_name,
};
use crate::session::SchoolManager;

/// The staff member as the pupil rules know them.
fn manager(m: &SchoolManager) -> PupilManager {
    PupilManager {
        school: m.school.clone(),
        actor: m.actor(),
        groups: m.groups.clone(),
        whole_school: m.ict,
    }
}

/// A staff member at the pupils' pages, with the state and the form token.
type Teacher = Desk<SchoolManager>;

/// A pupil or group outside what they manage is refused the same way, whether it exists or not.
fn refused(e: AdminError) -> PageError {
    match e {
        AdminError::NotAllowed | AdminError::NotFound { .. } => not_allowed(),
        other => other.into(),
    }
}

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

pub async fn overview(t: Teacher) -> Result<Response, PageError> {
    let groups = rules::groups(&t.state.directory, &manager(&t))
        .await
        .map_err(refused)?
        .into_iter()
        .map(|(g, pupils)| GroupRow {
            id: g.id,
            name: g.name,
            pupils: pupils.len(),
        })
        .collect();
    let m = &*t;
    let (nav, ict) = (Nav::of(m, "leerlingen"), m.ict);
    let picture_password = m.school.picture_password_enabled;
    let home_login = m.school.home_login_allowed;
    Ok(t.page(StatusCode::OK, |csrf| OverviewPage {
        nav,
        csrf,
        groups,
        ict,
        picture_password,
        home_login,
    }))
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

pub async fn group(t: Teacher, Path(group_id): Path<String>) -> Result<Response, PageError> {
    let (group, pupils) = rules::group_pupils(&t.state, &manager(&t), &group_id)
        .await
        .map_err(refused)?;
    let rows: Vec<PupilRow> = pupils
        .into_iter()
        .map(|p| PupilRow {
            name: display_name(&p.pupil),
            id: p.pupil.id,
            picture: p.picture,
            has_code: p.has_home_code,
            locked: p.locked,
        })
        .collect();
    let nav = Nav::of(&t, "leerlingen");
    let picture_password = t.school.picture_password_enabled;
    Ok(t.page(StatusCode::OK, |csrf| GroupPage {
        nav,
        csrf,
        group: group.name,
        group_id,
        without_picture: rows.iter().filter(|r| r.picture.is_none()).count(),
        pupils: rows,
        picture_password,
        pictures: &CATALOGUE,
    }))
}

#[derive(Deserialize)]
pub struct PictureForm {
    picture: String,
}

fn group_page(group_id: &str) -> Response {
    see_other(&format!("/beheer/groep/{group_id}"), HeaderMap::new())
}

fn back_to_group(p: &directory::people::Pupil) -> Response {
    group_page(p.stamgroep_id.as_deref().unwrap_or_default())
}

pub async fn set_picture(
    t: Teacher,
    Path(pupil_id): Path<String>,
    Csrf(form): Csrf<PictureForm>,
) -> Result<Response, PageError> {
    let picture = Some(form.picture.as_str()).filter(|p| !p.is_empty());
    let pupil = rules::set_picture(&t.state.directory, &manager(&t), &pupil_id, picture)
        .await
        .map_err(|e| match e {
            // Only a tampered form names a picture outside the catalogue.
            AdminError::Refused { .. } => not_allowed(),
            other => refused(other),
        })?;
    Ok(back_to_group(&pupil))
}

/// Gives every pupil of the group without a picture a random one. A second click while the
/// first is still at work leaves it to the first.
pub async fn bulk_pictures(
    t: Teacher,
    Path(group_id): Path<String>,
    _: Csrf<NoFields>,
) -> Result<Response, PageError> {
    rules::give_missing_pictures(&t.state, &manager(&t), &group_id)
        .await
        .map_err(refused)?;
    Ok(group_page(&group_id))
}

/// Lifts a pupil's pause after too many wrong pictures: only for a teacher of the pupil's group
/// or the ICT-coördinator.
pub async fn unlock(
    t: Teacher,
    Path(pupil_id): Path<String>,
    _: Csrf<NoFields>,
) -> Result<Response, PageError> {
    let pupil = rules::unlock(&t.state, &manager(&t), &pupil_id)
        .await
        .map_err(refused)?;
    Ok(back_to_group(&pupil))
}

pub async fn void_code(
    t: Teacher,
    Path(pupil_id): Path<String>,
    _: Csrf<NoFields>,
) -> Result<Response, PageError> {
    let pupil = rules::void_home_code(&t.state.directory, &manager(&t), &pupil_id)
        .await
        .map_err(refused)?;
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

/// The cards of freshly issued home codes; the plain code and pin exist only in this response.
fn cards(t: &Teacher, issued: Vec<IssuedCode>, back: String) -> Response {
    let home_url = format!("{}/thuis", t.state.web.public_url);
    let mut cards = Vec::with_capacity(issued.len());
    for i in issued {
        let qr = match homecode::qr_svg(&format!("{home_url}?code={}", i.code)) {
            Ok(qr) => qr,
            Err(e) => return crate::http::internal_error(e),
        };
        cards.push(Card {
            name: display_name(&i.pupil),
            qr,
            code: i.code,
            pin: i.pin,
        });
    }
    page(
        StatusCode::OK,
        &CardsPage {
            school: t.school.name.clone(),
            home_url,
            back,
            cards,
        },
        HeaderMap::new(),
    )
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

/// New home codes for the whole group, after a confirmation when some cards would stop working.
pub async fn group_codes(
    t: Teacher,
    Path(group_id): Path<String>,
    Csrf(form): Csrf<ConfirmForm>,
) -> Result<Response, PageError> {
    match rules::issue_group_codes(&t.state, &manager(&t), &group_id, form.confirmed())
        .await
        .map_err(refused)?
    {
        GroupCodes::Confirm {
            group,
            pupils,
            voided,
        } => {
            let nav = Nav::of(&t, "leerlingen");
            Ok(t.page(StatusCode::OK, |csrf| ConfirmCodesPage {
                nav,
                csrf,
                group: group.name,
                group_id,
                pupils,
                voided: voided.iter().map(display_name).collect(),
            }))
        }
        GroupCodes::Issued(issued) => Ok(cards(&t, issued, format!("/beheer/groep/{group_id}"))),
    }
}

pub async fn pupil_code(
    t: Teacher,
    Path(pupil_id): Path<String>,
    _: Csrf<NoFields>,
) -> Result<Response, PageError> {
    let issued = rules::issue_home_code(&t.state, &manager(&t), &pupil_id)
        .await
        .map_err(refused)?;
    let back = format!(
        "/beheer/groep/{}",
        issued.pupil.stamgroep_id.clone().unwrap_or_default()
    );
    Ok(cards(&t, vec![issued], back))
}
