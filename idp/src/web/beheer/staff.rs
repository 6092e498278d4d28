//! Leerkrachten: the school's staff, one page for the list (and adding someone the LAS does not
//! list) and one per person (address and invitation, roles, groups, deactivation). The rules
//! are `crate::school_admin::staff`'s; the school's two-step verification policy (on the list
//! page, with who has a second factor) and a person's reset are `crate::school_admin::second_factor`'s.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use directory::model::{Date, StaffRole};
use directory::people::StaffStatus;
use directory::second_factor::SecondFactorPolicy;
use directory::staff_admin::{GroupLink, SchoolStaffMember};

use super::{Nav, SchoolAdmin, again};
use crate::http::extract::{Path, Query};
use crate::http::{ConfirmForm, Csrf, FormView, NoticeQuery, PageError, Text, see};
use crate::school_admin::second_factor::{self as factors, policy_label};
use crate::school_admin::staff::{self as rules, EXTRA_ROLES, Sent, role_label, status_label};
use crate::school_admin::{AdminError, staff_name};
use crate::web::{PersonForm, mailing};

const LIST: &str = "/beheer/leerkrachten";

fn person_path(staff_id: &str) -> String {
    format!("{LIST}/{staff_id}")
}

/// The person's page after a change, with the notice `melding` names.
fn person_notice(staff_id: &str, melding: &str) -> Response {
    see(&format!("{}?melding={melding}", person_path(staff_id)))
}

/// The person's page after a mail: the notice says whether it went out.
fn after_mail(s: &SchoolAdmin, staff_id: &str, sent: &Sent) -> Response {
    let notice = match sent {
        Ok(link) => {
            if s.state.web.log_links {
                tracing::info!(%link, "development mode: activation link mailed from Beheer");
            }
            "gemaild"
        }
        Err(_) => "mail-mislukt",
    };
    person_notice(staff_id, notice)
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
    /// Has a second factor (yes or no: nothing more is shown).
    factor: bool,
}

/// One choice of the school's two-step verification policy on the list page.
pub struct PolicyChoice {
    value: &'static str,
    label: (String, String),
    chosen: bool,
}

#[derive(Template)]
#[template(path = "beheer_leerkrachten.html")]
struct ListPage {
    nav: Nav,
    csrf: String,
    rows: Vec<Row>,
    error: Option<Text>,
    typed: PersonForm,
    policy: Vec<PolicyChoice>,
    /// The policy that applies now, as the school reads it.
    policy_now: (&'static str, &'static str),
    notice: Option<Text>,
}

fn today() -> Date {
    Date::in_netherlands(crate::clock::unix_now())
}

fn row(m: SchoolStaffMember, factor: bool, today: &Date) -> Row {
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
        name: staff_name(&m.staff),
        email: m.staff.email.clone().unwrap_or_default(),
        status: status_label(m.staff.status),
        roles: roles_text(&m.roles),
        groups,
        factor,
        id: m.staff.id,
    }
}

async fn render_list(
    s: SchoolAdmin,
    view: FormView<PersonForm>,
    notice: Option<Text>,
) -> Result<Response, PageError> {
    let today = today();
    let rows = factors::staff_with_factors(s.directory(), &s.admin)
        .await?
        .into_iter()
        .map(|(m, factor)| row(m, factor, &today))
        .collect();
    let default = s.state.web.second_factor_policy;
    let now = factors::policy(s.directory(), &s.admin, default).await?;
    let (default_nl, default_en) = policy_label(default);
    let mut policy = vec![PolicyChoice {
        value: "standaard",
        label: (
            format!("zoals de beheerder van openpoort instelt (nu: {default_nl})"),
            format!("as openpoort's operator sets it (now: {default_en})"),
        ),
        chosen: now.school.is_none(),
    }];
    policy.extend(SecondFactorPolicy::ALL.into_iter().map(|p| {
        let (nl, en) = policy_label(p);
        PolicyChoice {
            value: p.as_str(),
            label: (nl.to_owned(), en.to_owned()),
            chosen: now.school == Some(p),
        }
    }));
    let nav = s.nav("leerkrachten");
    Ok(s.form_page(view, |csrf, error, typed| ListPage {
        nav,
        csrf,
        rows,
        error,
        typed,
        policy,
        policy_now: policy_label(now.effective),
        notice,
    }))
}

fn list_notice(code: &str) -> Option<Text> {
    match code {
        "beleid-opgeslagen" => Some(Text::new(
            "Opgeslagen. Wie tweestapsverificatie moet hebben en die nog niet heeft, stelt die in bij de volgende login.",
            "Saved. Whoever must have two-step verification and has not set it up yet does so at their next login.",
        )),
        _ => None,
    }
}

pub async fn staff_list(
    s: SchoolAdmin,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let notice = q.melding.as_deref().and_then(list_notice);
    render_list(s, FormView::default(), notice).await
}

#[derive(Deserialize)]
pub struct PolicyForm {
    policy: String,
}

/// The school's two-step verification policy: one of the three, or the operator's default.
pub async fn set_policy(
    s: SchoolAdmin,
    Csrf(form): Csrf<PolicyForm>,
) -> Result<Response, PageError> {
    let policy = match form.policy.as_str() {
        "standaard" => None,
        other => Some(SecondFactorPolicy::parse(other).map_err(AdminError::from)?),
    };
    factors::set_policy(s.directory(), &s.admin, policy).await?;
    Ok(see(&format!("{LIST}?melding=beleid-opgeslagen")))
}

pub async fn add_staff(
    s: SchoolAdmin,
    Csrf(form): Csrf<PersonForm>,
) -> Result<Response, PageError> {
    match rules::add(s.directory(), &mailing(&s.state), &s.admin, &form.person()).await {
        Ok((staff, sent)) => Ok(after_mail(&s, &staff.id, &sent)),
        // The form comes back with what was typed and what is wrong with it.
        Err(e) => render_list(s, again(e, form)?, None).await,
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
    /// Has a second factor, which an administrator may reset.
    has_factor: bool,
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
        "hersteld" => Text::new(
            "De tweestapsverificatie is hersteld: de app, de herstelcodes en de passkeys werken niet meer, de sessies van deze persoon zijn beëindigd en er is een mail gestuurd.",
            "Two-step verification has been reset: the app, the recovery codes and the passkeys no longer work, this person's sessions have ended and they have been mailed.",
        ),
        "hersteld-mail-mislukt" => Text::new(
            "De tweestapsverificatie is hersteld en de sessies van deze persoon zijn beëindigd, maar de mail kon niet worden verstuurd. Laat het de persoon zelf weten.",
            "Two-step verification has been reset and this person's sessions have ended, but the mail could not be sent. Tell the person yourself.",
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
    s: SchoolAdmin,
    staff_id: &str,
    shown: Shown,
) -> Result<Response, PageError> {
    let d = s.directory();
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
    let status = if shown.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let nav = s.nav("leerkrachten");
    let is_self = s.manager.staff_id == m.staff.id;
    let has_factor = d.staff_has_second_factor(&m.staff.id).await?;
    Ok(s.page(status, |csrf| PersonPage {
        nav,
        csrf,
        id: m.staff.id.clone(),
        name: staff_name(&m.staff),
        status: status_label(m.staff.status),
        deactivated: m.staff.status == StaffStatus::Deactivated,
        activated: m.staff.status == StaffStatus::Active,
        has_email: m.staff.email.is_some(),
        is_self,
        has_factor,
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
    }))
}

pub async fn person(
    s: SchoolAdmin,
    Path(staff_id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let shown = Shown {
        notice: q.melding.as_deref().and_then(notice),
        ..Shown::default()
    };
    render_person(s, &staff_id, shown).await
}

/// The person page again with the refusal, or the refusal page for what is no form's fault.
async fn refused(
    s: SchoolAdmin,
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
            render_person(s, staff_id, shown).await
        }
        e => Err(e.into()),
    }
}

/// The person page after a change: with the notice `melding` names, or again with the refusal.
async fn changed(
    s: SchoolAdmin,
    staff_id: &str,
    done: Result<(), AdminError>,
    melding: &str,
) -> Result<Response, PageError> {
    match done {
        Ok(()) => Ok(person_notice(staff_id, melding)),
        Err(e) => refused(s, staff_id, e, None).await,
    }
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

pub async fn set_email(
    s: SchoolAdmin,
    Path(staff_id): Path<String>,
    Csrf(form): Csrf<EmailForm>,
) -> Result<Response, PageError> {
    let (d, a) = (s.directory(), &s.admin);
    match rules::set_email(d, &mailing(&s.state), a, &staff_id, &form.email).await {
        Ok(Some(sent)) => Ok(after_mail(&s, &staff_id, &sent)),
        Ok(None) => Ok(person_notice(&staff_id, "opgeslagen")),
        Err(e) => refused(s, &staff_id, e, Some(form.email)).await,
    }
}

pub async fn invite(
    s: SchoolAdmin,
    Path(staff_id): Path<String>,
    _: Csrf<crate::http::NoFields>,
) -> Result<Response, PageError> {
    match rules::invite(s.directory(), &mailing(&s.state), &s.admin, &staff_id).await {
        Ok(sent) => Ok(after_mail(&s, &staff_id, &sent)),
        Err(e) => refused(s, &staff_id, e, None).await,
    }
}

pub async fn set_roles(
    s: SchoolAdmin,
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
    let done = rules::set_roles(s.directory(), &s.admin, &staff_id, &wanted).await;
    changed(s, &staff_id, done, "opgeslagen").await
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
    s: SchoolAdmin,
    Path(staff_id): Path<String>,
    Csrf(form): Csrf<LinkForm>,
) -> Result<Response, PageError> {
    let (d, a) = (s.directory(), &s.admin);
    let done = rules::link_group(d, a, &staff_id, &form.group, &form.van, &form.tot).await;
    changed(s, &staff_id, done, "opgeslagen").await
}

#[derive(Deserialize)]
pub struct UnlinkForm {
    group: String,
}

pub async fn unlink_group(
    s: SchoolAdmin,
    Path(staff_id): Path<String>,
    Csrf(form): Csrf<UnlinkForm>,
) -> Result<Response, PageError> {
    let done = rules::unlink_group(s.directory(), &s.admin, &staff_id, &form.group).await;
    changed(s, &staff_id, done, "opgeslagen").await
}

pub async fn deactivate(
    s: SchoolAdmin,
    Path(staff_id): Path<String>,
    Csrf(form): Csrf<ConfirmForm>,
) -> Result<Response, PageError> {
    let done = if !form.confirmed() {
        Err(AdminError::refused(
            "Vink eerst aan dat je het account wilt deactiveren.",
            "First tick that you want to deactivate the account.",
        ))
    } else {
        rules::deactivate(s.directory(), &s.admin, &staff_id).await
    };
    changed(s, &staff_id, done, "gedeactiveerd").await
}

/// Resets the person's two-step verification (they lost their phone and their recovery codes),
/// after the box is ticked: see `school_admin::second_factor::reset`.
pub async fn reset_factor(
    s: SchoolAdmin,
    Path(staff_id): Path<String>,
    Csrf(form): Csrf<ConfirmForm>,
) -> Result<Response, PageError> {
    if !form.confirmed() {
        let e = AdminError::refused(
            "Vink eerst aan dat je de tweestapsverificatie wilt herstellen.",
            "First tick that you want to reset two-step verification.",
        );
        return refused(s, &staff_id, e, None).await;
    }
    let mailing = mailing(&s.state);
    let default = s.state.web.second_factor_policy;
    match factors::reset(s.directory(), &mailing, &s.admin, &staff_id, default).await {
        Ok(mailed) => {
            // Their sessions ended with the epoch; the relying parties hear of it too.
            crate::flow::logout::all_sessions_ended(&s.state, &staff_id).await?;
            let melding = if mailed.is_ok() {
                "hersteld"
            } else {
                "hersteld-mail-mislukt"
            };
            Ok(person_notice(&staff_id, melding))
        }
        Err(e) => refused(s, &staff_id, e, None).await,
    }
}
