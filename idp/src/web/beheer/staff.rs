//! Leerkrachten: the school's staff, one page for the list (and adding someone the LAS does not
//! list) and one per person (address and invitation, roles, groups, deactivation). The rules
//! are `crate::school_admin::staff`'s.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use directory::model::{Date, StaffRole};
use directory::people::{Staff, StaffStatus};
use directory::staff_admin::{GroupLink, SchoolStaffMember};

use super::{Nav, SchoolAdmin};
use crate::app_state::AppState;
use crate::http::extract::{Path, Query};
use crate::http::{Csrf, PageError, Text, csrf_token, page, see_other};
use crate::school_admin::AdminError;
use crate::school_admin::staff::{
    self as rules, EXTRA_ROLES, Mailing, NewPerson, Sent, role_label, status_label,
};

const LIST: &str = "/beheer/leerkrachten";

fn person_path(staff_id: &str) -> String {
    format!("{LIST}/{staff_id}")
}

fn mailing(state: &AppState) -> Mailing<'_> {
    Mailing {
        mailer: &state.mailer,
        public_url: &state.web.public_url,
    }
}

/// Where to go after a mail: the notice says whether it went out.
fn after_mail(state: &AppState, to: &str, sent: &Sent) -> Response {
    let notice = match sent {
        Ok(link) => {
            if state.web.log_links {
                tracing::info!(%link, "development mode: activation link mailed from Beheer");
            }
            "gemaild"
        }
        Err(_) => "mail-mislukt",
    };
    see_other(&format!("{to}?melding={notice}"), HeaderMap::new())
}

fn name(s: &Staff) -> String {
    [
        s.roepnaam.as_deref().or(s.voornamen.as_deref()),
        s.voorvoegsel.as_deref(),
        Some(s.achternaam.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ")
}

fn roles_text(roles: &[StaffRole]) -> String {
    roles
        .iter()
        .map(|r| role_label(*r).0)
        .collect::<Vec<_>>()
        .join(", ")
}

fn dutch(d: &str) -> String {
    match (d.get(0..4), d.get(5..7), d.get(8..10)) {
        (Some(y), Some(m), Some(day)) => format!(
            "{}-{}-{y}",
            day.trim_start_matches('0'),
            m.trim_start_matches('0')
        ),
        _ => d.to_owned(),
    }
}

/// A link's period as people read it, and whether it gives access today.
fn period(l: &GroupLink, today: &Date) -> (Option<Text>, bool) {
    let text = match (&l.valid_from, &l.valid_until) {
        (None, None) => None,
        (Some(f), None) => Some(Text::new(
            format!("vanaf {}", dutch(f)),
            format!("from {}", dutch(f)),
        )),
        (None, Some(u)) => Some(Text::new(
            format!("tot en met {}", dutch(u)),
            format!("until {}", dutch(u)),
        )),
        (Some(f), Some(u)) => Some(Text::new(
            format!("{} tot en met {}", dutch(f), dutch(u)),
            format!("{} until {}", dutch(f), dutch(u)),
        )),
    };
    (text, l.holds_on(today))
}

pub struct Row {
    id: String,
    name: String,
    email: String,
    status: (&'static str, &'static str),
    roles: String,
    groups: String,
}

#[derive(Template)]
#[template(path = "beheer_leerkrachten.html")]
struct ListPage {
    nav: Nav,
    csrf: String,
    rows: Vec<Row>,
    error: Option<Text>,
    typed: AddForm,
}

fn today() -> Date {
    Date::in_netherlands(crate::clock::unix_now())
}

fn row(m: SchoolStaffMember, today: &Date) -> Row {
    let groups = m
        .groups
        .iter()
        .filter(|l| l.holds_on(today))
        .map(|l| match period(l, today).0 {
            Some(p) => format!("{} ({})", l.group.name, p.nl),
            None => l.group.name.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ");
    Row {
        name: name(&m.staff),
        email: m.staff.email.clone().unwrap_or_default(),
        status: status_label(m.staff.status),
        roles: roles_text(&m.roles),
        groups,
        id: m.staff.id,
    }
}

async fn render_list(
    state: &AppState,
    s: &SchoolAdmin,
    headers: &HeaderMap,
    refused: Option<(Text, AddForm)>,
) -> Result<Response, PageError> {
    let today = today();
    let rows = rules::list(&state.directory, &s.admin)
        .await?
        .into_iter()
        .map(|m| row(m, &today))
        .collect();
    let (csrf, set) = csrf_token(&state.web, headers);
    let status = if refused.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let (error, typed) = match refused {
        Some((e, typed)) => (Some(e), typed),
        None => (None, AddForm::default()),
    };
    Ok(page(
        status,
        &ListPage {
            nav: Nav::of(&s.manager, "leerkrachten"),
            csrf,
            rows,
            error,
            typed,
        },
        set,
    ))
}

pub async fn staff_list(
    State(state): State<AppState>,
    s: SchoolAdmin,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    render_list(&state, &s, &headers, None).await
}

#[derive(Default, Deserialize)]
pub struct AddForm {
    #[serde(default)]
    roepnaam: String,
    #[serde(default)]
    voorvoegsel: String,
    #[serde(default)]
    achternaam: String,
    #[serde(default)]
    email: String,
}

pub async fn add_staff(
    State(state): State<AppState>,
    s: SchoolAdmin,
    headers: HeaderMap,
    Csrf(form): Csrf<AddForm>,
) -> Result<Response, PageError> {
    let new = NewPerson {
        roepnaam: &form.roepnaam,
        voorvoegsel: &form.voorvoegsel,
        achternaam: &form.achternaam,
        email: &form.email,
    };
    match rules::add(&state.directory, &mailing(&state), &s.admin, &new).await {
        Ok((staff, sent)) => Ok(after_mail(&state, &person_path(&staff.id), &sent)),
        // The form comes back with what was typed and what is wrong with it.
        Err(AdminError::Refused { nl, en } | AdminError::Conflict { nl, en }) => {
            render_list(&state, &s, &headers, Some((Text::new(nl, en), form))).await
        }
        Err(e) => Err(e.into()),
    }
}

pub struct LinkRow {
    group_id: String,
    group: String,
    period: Option<Text>,
    current: bool,
}

pub struct RoleBox {
    value: &'static str,
    label: (&'static str, &'static str),
    held: bool,
}

#[derive(Template)]
#[template(path = "beheer_leerkracht.html")]
struct PersonPage {
    nav: Nav,
    csrf: String,
    id: String,
    name: String,
    status: (&'static str, &'static str),
    deactivated: bool,
    activated: bool,
    has_email: bool,
    is_self: bool,
    email: String,
    las: Option<String>,
    leerkracht: bool,
    roles: Vec<RoleBox>,
    links: Vec<LinkRow>,
    groups: Vec<(String, String)>,
    notice: Option<Text>,
    error: Option<Text>,
}

fn notice(code: &str) -> Option<Text> {
    Some(match code {
        "gemaild" => Text::new(
            "De activatielink is gemaild.",
            "The activation link has been mailed.",
        ),
        "mail-mislukt" => Text::new(
            "De wijziging is opgeslagen, maar de mail kon niet worden verstuurd. Probeer ‘Uitnodiging opnieuw sturen’ later nog eens.",
            "The change is saved, but the mail could not be sent. Try ‘Send the invitation again’ later.",
        ),
        "opgeslagen" => Text::new("Opgeslagen.", "Saved."),
        "gedeactiveerd" => Text::new(
            "Het account is gedeactiveerd; de sessies van deze persoon zijn beëindigd.",
            "The account is deactivated; this person's sessions have ended.",
        ),
        _ => return None,
    })
}

/// What a person page shows besides the register's state: a notice after a change, or a
/// refusal with the address as typed.
#[derive(Default)]
struct Shown {
    notice: Option<Text>,
    error: Option<Text>,
    email: Option<String>,
}

async fn render_person(
    state: &AppState,
    s: &SchoolAdmin,
    headers: &HeaderMap,
    staff_id: &str,
    shown: Shown,
) -> Result<Response, PageError> {
    let d = &state.directory;
    let m = rules::member(d, &s.admin, staff_id).await?;
    let today = today();
    let links = m
        .groups
        .iter()
        .map(|l| {
            let (period, current) = period(l, &today);
            LinkRow {
                group_id: l.group.id.clone(),
                group: l.group.name.clone(),
                period,
                current,
            }
        })
        .collect();
    let groups = d
        .groups_of_school(&s.admin.school.id)
        .await?
        .into_iter()
        .filter(|g| g.active)
        .map(|g| (g.id, g.name))
        .collect();
    let (csrf, set) = csrf_token(&state.web, headers);
    let status = if shown.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(page(
        status,
        &PersonPage {
            nav: Nav::of(&s.manager, "leerkrachten"),
            csrf,
            id: m.staff.id.clone(),
            name: name(&m.staff),
            status: status_label(m.staff.status),
            deactivated: m.staff.status == StaffStatus::Deactivated,
            activated: m.staff.status == StaffStatus::Active,
            has_email: m.staff.email.is_some(),
            is_self: s.manager.staff_id == m.staff.id,
            email: shown
                .email
                .unwrap_or_else(|| m.staff.email.clone().unwrap_or_default()),
            las: m.las_key.clone(),
            leerkracht: m.roles.contains(&StaffRole::Leerkracht),
            roles: EXTRA_ROLES
                .into_iter()
                .map(|r| RoleBox {
                    value: r.as_str(),
                    label: role_label(r),
                    held: m.roles.contains(&r),
                })
                .collect(),
            links,
            groups,
            notice: shown.notice,
            error: shown.error,
        },
        set,
    ))
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    melding: Option<String>,
}

pub async fn person(
    State(state): State<AppState>,
    s: SchoolAdmin,
    headers: HeaderMap,
    Path(staff_id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let shown = Shown {
        notice: q.melding.as_deref().and_then(notice),
        ..Shown::default()
    };
    render_person(&state, &s, &headers, &staff_id, shown).await
}

/// The person page again with the refusal, or the refusal page for what is no form's fault.
async fn refused(
    state: &AppState,
    s: &SchoolAdmin,
    headers: &HeaderMap,
    staff_id: &str,
    e: AdminError,
    email: Option<String>,
) -> Result<Response, PageError> {
    match e {
        AdminError::Refused { nl, en } | AdminError::Conflict { nl, en } => {
            let shown = Shown {
                error: Some(Text::new(nl, en)),
                email,
                ..Shown::default()
            };
            render_person(state, s, headers, staff_id, shown).await
        }
        e => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

pub async fn set_email(
    State(state): State<AppState>,
    s: SchoolAdmin,
    headers: HeaderMap,
    Path(staff_id): Path<String>,
    Csrf(form): Csrf<EmailForm>,
) -> Result<Response, PageError> {
    let to = person_path(&staff_id);
    match rules::set_email(
        &state.directory,
        &mailing(&state),
        &s.admin,
        &staff_id,
        &form.email,
    )
    .await
    {
        Ok(Some(sent)) => Ok(after_mail(&state, &to, &sent)),
        Ok(None) => Ok(see_other(
            &format!("{to}?melding=opgeslagen"),
            HeaderMap::new(),
        )),
        Err(e) => refused(&state, &s, &headers, &staff_id, e, Some(form.email)).await,
    }
}

pub async fn invite(
    State(state): State<AppState>,
    s: SchoolAdmin,
    headers: HeaderMap,
    Path(staff_id): Path<String>,
    _: Csrf<crate::http::NoFields>,
) -> Result<Response, PageError> {
    match rules::invite(&state.directory, &mailing(&state), &s.admin, &staff_id).await {
        Ok(sent) => Ok(after_mail(&state, &person_path(&staff_id), &sent)),
        Err(e) => refused(&state, &s, &headers, &staff_id, e, None).await,
    }
}

pub async fn set_roles(
    State(state): State<AppState>,
    s: SchoolAdmin,
    headers: HeaderMap,
    Path(staff_id): Path<String>,
    Csrf(fields): Csrf<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let mut wanted = Vec::new();
    for (_, value) in fields.iter().filter(|(name, _)| name == "rol") {
        match EXTRA_ROLES.into_iter().find(|r| r.as_str() == value) {
            Some(r) => wanted.push(r),
            None => {
                return Err(AdminError::NotFound {
                    what: "rol",
                    key: value.clone(),
                }
                .into());
            }
        }
    }
    match rules::set_roles(&state.directory, &s.admin, &staff_id, &wanted).await {
        Ok(()) => Ok(see_other(
            &format!("{}?melding=opgeslagen", person_path(&staff_id)),
            HeaderMap::new(),
        )),
        Err(e) => refused(&state, &s, &headers, &staff_id, e, None).await,
    }
}

#[derive(Deserialize)]
pub struct LinkForm {
    group: String,
    #[serde(default)]
    van: String,
    #[serde(default)]
    tot: String,
}

pub async fn link_group(
    State(state): State<AppState>,
    s: SchoolAdmin,
    headers: HeaderMap,
    Path(staff_id): Path<String>,
    Csrf(form): Csrf<LinkForm>,
) -> Result<Response, PageError> {
    match rules::link_group(
        &state.directory,
        &s.admin,
        &staff_id,
        &form.group,
        &form.van,
        &form.tot,
    )
    .await
    {
        Ok(()) => Ok(see_other(
            &format!("{}?melding=opgeslagen", person_path(&staff_id)),
            HeaderMap::new(),
        )),
        Err(e) => refused(&state, &s, &headers, &staff_id, e, None).await,
    }
}

#[derive(Deserialize)]
pub struct UnlinkForm {
    group: String,
}

pub async fn unlink_group(
    State(state): State<AppState>,
    s: SchoolAdmin,
    headers: HeaderMap,
    Path(staff_id): Path<String>,
    Csrf(form): Csrf<UnlinkForm>,
) -> Result<Response, PageError> {
    match rules::unlink_group(&state.directory, &s.admin, &staff_id, &form.group).await {
        Ok(()) => Ok(see_other(
            &format!("{}?melding=opgeslagen", person_path(&staff_id)),
            HeaderMap::new(),
        )),
        Err(e) => refused(&state, &s, &headers, &staff_id, e, None).await,
    }
}

#[derive(Deserialize)]
pub struct DeactivateForm {
    confirm: Option<String>,
}

pub async fn deactivate(
    State(state): State<AppState>,
    s: SchoolAdmin,
    headers: HeaderMap,
    Path(staff_id): Path<String>,
    Csrf(form): Csrf<DeactivateForm>,
) -> Result<Response, PageError> {
    if form.confirm.is_none() {
        let e = AdminError::refused(
            "Vink eerst aan dat je het account wilt deactiveren.",
            "First tick that you want to deactivate the account.",
        );
        return refused(&state, &s, &headers, &staff_id, e, None).await;
    }
    match rules::deactivate(&state.directory, &s.admin, &staff_id).await {
        Ok(()) => Ok(see_other(
            &format!("{}?melding=gedeactiveerd", person_path(&staff_id)),
            HeaderMap::new(),
        )),
        Err(e) => refused(&state, &s, &headers, &staff_id, e, None).await,
    }
}
