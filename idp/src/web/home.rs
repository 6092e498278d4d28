//! The signed-in start page, school choice and logout.

use crate::http::extract::{Form, Query};
use askama::Template;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use directory::Actor;

use super::{Text, client_ip, csrf_ok, csrf_refused, csrf_token, internal_error, page, see_other};
use crate::app_state::AppState;
use crate::http::PageError;
use crate::session::{self, Session, SignedInStaff};
use crate::state::{Attempt, release_all, reserve_all};

pub struct SchoolOption {
    id: String,
    name: String,
    code: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "school_choice.html")]
struct SchoolChoicePage {
    csrf: String,
    next: String,
    schools: Vec<SchoolOption>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

#[derive(Deserialize)]
pub struct Choice {
    csrf: String,
    school_id: String,
    #[serde(default)]
    next: String,
}

async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<Option<Session>, Response> {
    session::load(state, headers).await.map_err(internal_error)
}

/// A staff member's session with their id; a pupil's session does not count here.
async fn signed_in_staff(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(Session, String)>, Response> {
    Ok(signed_in(state, headers).await?.and_then(|s| {
        let id = s.data.staff_id()?.to_owned();
        Some((s, id))
    }))
}

/// The schools this staff member can act for: where they work or hold a role.
pub(super) async fn schools_of(
    state: &AppState,
    staff_id: &str,
) -> Result<Vec<directory::schools::School>, directory::DirectoryError> {
    let mut schools = Vec::new();
    for at in state.directory.schools_of_staff(staff_id).await? {
        if let Some(s) = state.directory.school_by_id(&at.school_id).await? {
            schools.push(s);
        }
    }
    schools.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(schools)
}

pub async fn choose_form(
    State(state): State<AppState>,
    SignedInStaff {
        session: s,
        staff_id,
    }: SignedInStaff,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Result<Response, PageError> {
    let schools = schools_of(&state, &staff_id).await?;
    let (csrf, set) = csrf_token(&state.web, &headers);
    let schools = schools
        .into_iter()
        .map(|sc| SchoolOption {
            current: s.data.school_id.as_deref() == Some(sc.id.as_str()),
            code: sc.code(),
            id: sc.id,
            name: sc.name,
        })
        .collect();
    let next = super::login::safe_next(q.next.as_deref()).unwrap_or_default();
    Ok(page(
        StatusCode::OK,
        &SchoolChoicePage {
            csrf,
            next,
            schools,
        },
        set,
    ))
}

pub async fn choose(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<Choice>,
) -> Response {
    if !csrf_ok(&state.web, &headers, &form.csrf) {
        return csrf_refused();
    }
    let (mut s, staff_id) = match signed_in_staff(&state, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return see_other("/inloggen?melding=sessie-verlopen", HeaderMap::new()),
        Err(r) => return r,
    };
    let schools = match schools_of(&state, &staff_id).await {
        Ok(v) => v,
        Err(e) => return internal_error(e),
    };
    // Only a school this person belongs to: the form's value is not trusted.
    if !schools.iter().any(|sc| sc.id == form.school_id) {
        return super::message(
            StatusCode::FORBIDDEN,
            "School niet beschikbaar",
            Text::new(
                "Je bent niet aan deze school gekoppeld.",
                "You are not linked to this school.",
            ),
            Some(("/school-kiezen", "Kies een school / Choose a school")),
        );
    }
    s.data.school_id = Some(form.school_id);
    if let Err(e) = s.save(&state).await {
        return internal_error(e);
    }
    let next = super::login::safe_next(Some(&form.next)).unwrap_or_else(|| "/".to_owned());
    see_other(&next, HeaderMap::new())
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if !csrf_ok(&state.web, &headers, &form.csrf) {
        return csrf_refused();
    }
    match signed_in(&state, &headers).await {
        Ok(Some(s)) => {
            let data = s.data.clone();
            if let Err(e) = s.destroy(&state).await {
                return internal_error(e);
            }
            // Tokens issued in this session end with it, and its relying parties hear of it.
            if let Err(e) = crate::flow::logout::session_ended(&state, &data).await {
                return internal_error(e);
            }
        }
        Ok(None) => {}
        Err(r) => return r,
    }
    see_other(
        "/inloggen?melding=uitgelogd",
        session::clear_cookie(&state.web),
    )
}

pub async fn logout_everywhere(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if !csrf_ok(&state.web, &headers, &form.csrf) {
        return csrf_refused();
    }
    let (s, staff_id) = match signed_in_staff(&state, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return see_other(
                "/inloggen?melding=sessie-verlopen",
                session::clear_cookie(&state.web),
            );
        }
        Err(r) => return r,
    };
    if let Err(e) = state
        .directory
        .bump_session_epoch(&staff_id, &Actor::staff(&staff_id))
        .await
    {
        return internal_error(e);
    }
    let data = s.data.clone();
    if let Err(e) = s.destroy(&state).await {
        return internal_error(e);
    }
    if let Err(e) = crate::flow::logout::session_ended(&state, &data).await {
        return internal_error(e);
    }
    if let Err(e) = crate::flow::logout::all_sessions_ended(&state, &staff_id).await {
        return internal_error(e);
    }
    see_other(
        "/inloggen?melding=overal-uitgelogd",
        session::clear_cookie(&state.web),
    )
}

#[derive(Template)]
#[template(path = "change_password.html")]
struct ChangePasswordPage {
    csrf: String,
    error: Option<Text>,
}

pub async fn change_form(
    State(state): State<AppState>,
    _: SignedInStaff,
    headers: HeaderMap,
) -> Response {
    let (csrf, set) = csrf_token(&state.web, &headers);
    page(
        StatusCode::OK,
        &ChangePasswordPage { csrf, error: None },
        set,
    )
}

#[derive(Deserialize)]
pub struct PasswordChange {
    csrf: String,
    current_password: String,
    password: String,
    password_repeat: String,
}

/// A password change needs the current password, ends every other session and keeps this one
/// (under a new id, created under the new session epoch).
pub async fn change(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<PasswordChange>,
) -> Response {
    if !csrf_ok(&state.web, &headers, &form.csrf) {
        return csrf_refused();
    }
    let (s, staff_id) = match signed_in_staff(&state, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return see_other("/inloggen?melding=sessie-verlopen", HeaderMap::new()),
        Err(r) => return r,
    };
    let refuse_with = |status: StatusCode, error: Text| {
        let (csrf, set) = csrf_token(&state.web, &headers);
        page(
            status,
            &ChangePasswordPage {
                csrf,
                error: Some(error),
            },
            set,
        )
    };
    let refuse = |error: Text| refuse_with(StatusCode::UNPROCESSABLE_ENTITY, error);
    let staff = match state.directory.staff_by_id(&staff_id).await {
        Ok(Some(staff)) => staff,
        Ok(None) => return see_other("/inloggen", HeaderMap::new()),
        Err(e) => return internal_error(e),
    };
    let email = staff.email.clone().unwrap_or_default();
    let stored = match directory::model::Email::parse(&email) {
        Ok(e) => match state.directory.staff_login(&e).await {
            Ok(l) => l.and_then(|l| l.password_hash),
            Err(e) => return internal_error(e),
        },
        Err(_) => None,
    };
    // A session left open on a classroom computer must not become a way to guess the password
    // without limit: the current password is checked under the staff login's own counters (per
    // address and per IP), reserved before the check as there.
    let ip = client_ip(peer, &headers, &state.web.trusted_proxies);
    let account_key = super::login::account_failure_key(&email);
    let ip_key = super::login::ip_failure_key(ip);
    let web = &state.web;
    let limits = [
        (ip_key.as_str(), web.max_failures_per_ip),
        (account_key.as_str(), web.max_failures_per_account),
    ];
    match reserve_all(&state.state, &limits, web.failure_window).await {
        Ok(Attempt::Admitted(_)) => {}
        Ok(Attempt::Refused(_)) => {
            return refuse_with(
                StatusCode::TOO_MANY_REQUESTS,
                Text::new(
                    "Te veel mislukte pogingen. Probeer het later opnieuw.",
                    "Too many failed attempts. Try again later.",
                ),
            );
        }
        Err(e) => return internal_error(e),
    }
    match state
        .hasher
        .verify(form.current_password.clone(), stored)
        .await
    {
        Ok(true) => {
            if let Err(e) = release_all(&state.state, &[&ip_key, &account_key]).await {
                return internal_error(e);
            }
        }
        Ok(false) => {
            return refuse(Text::new(
                "Je huidige wachtwoord klopt niet.",
                "Your current password is not correct.",
            ));
        }
        Err(e) => return internal_error(e),
    }
    if form.password != form.password_repeat {
        return refuse(Text::new(
            "De twee nieuwe wachtwoorden zijn niet gelijk.",
            "The two new passwords are not the same.",
        ));
    }
    if let Err(r) = crate::password::check_staff_password(&form.password, &staff) {
        return refuse(Text::new(r.nl, r.en));
    }
    let hash = match state.hasher.hash(form.password.clone()).await {
        Ok(h) => h,
        Err(e) => return internal_error(e),
    };
    let school_id = s.data.school_id.clone();
    let epoch = match state
        .directory
        .set_password(&staff_id, &hash, &Actor::staff(&staff_id))
        .await
    {
        Ok(epoch) => epoch,
        Err(e) => return internal_error(e),
    };
    let old = s.data.clone();
    if let Err(e) = s.destroy(&state).await {
        return internal_error(e);
    }
    // The password change ended every session: their tokens and relying parties too.
    if let Err(e) = crate::flow::logout::session_ended(&state, &old).await {
        return internal_error(e);
    }
    if let Err(e) = crate::flow::logout::all_sessions_ended(&state, &staff_id).await {
        return internal_error(e);
    }
    let who = session::Who::Staff {
        staff_id: staff_id.clone(),
        epoch,
    };
    match session::create(&state, who, school_id, broker::Context::Password, None).await {
        Ok(set) => see_other("/?melding=wachtwoord-gewijzigd", set),
        Err(e) => internal_error(e),
    }
}
