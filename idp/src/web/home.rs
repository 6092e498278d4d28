//! What a signed-in user does with their session, apart from the portal (`portal.rs`): staff
//! choose the school they act for and change their password; anyone logs out, here or (staff)
//! on every device.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use directory::Actor;

use super::{Text, see_other};
use crate::app_state::AppState;
use crate::http::extract::Query;
use crate::http::{ClientIp, Csrf, FormToken, NoFields, PageError};
use crate::session::{self, SignedIn, SignedInStaff};
use crate::state::Attempt;

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
pub struct Choice {
    school_id: String,
    #[serde(default)]
    next: String,
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
    token: FormToken,
    Query(q): Query<NextQuery>,
) -> Result<Response, PageError> {
    let schools = schools_of(&state, &staff_id).await?;
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
    Ok(token.page(StatusCode::OK, |csrf| SchoolChoicePage {
        csrf,
        next,
        schools,
    }))
}

pub async fn choose(
    State(state): State<AppState>,
    SignedInStaff {
        session: mut s,
        staff_id,
    }: SignedInStaff,
    Csrf(form): Csrf<Choice>,
) -> Result<Response, PageError> {
    let schools = schools_of(&state, &staff_id).await?;
    // Only a school this person belongs to: the form's value is not trusted.
    if !schools.iter().any(|sc| sc.id == form.school_id) {
        return Err(super::message(
            StatusCode::FORBIDDEN,
            "School niet beschikbaar",
            Text::new(
                "Je bent niet aan deze school gekoppeld.",
                "You are not linked to this school.",
            ),
            Some(("/school-kiezen", "Kies een school / Choose a school")),
        )
        .into());
    }
    s.data.school_id = Some(form.school_id);
    s.save(&state).await?;
    let next = super::login::safe_next(Some(&form.next)).unwrap_or_else(|| "/".to_owned());
    Ok(see_other(&next, HeaderMap::new()))
}

/// Ends a session: the tokens issued in it end with it, and its relying parties hear of it.
/// What it held is returned, for what follows.
async fn end(state: &AppState, s: session::Session) -> Result<session::SessionData, PageError> {
    let data = s.data.clone();
    s.destroy(state).await?;
    crate::flow::logout::session_ended(state, &data).await?;
    Ok(data)
}

/// Logs out whoever is signed in; without a session it only clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    signed_in: Option<SignedIn>,
    _: Csrf<NoFields>,
) -> Result<Response, PageError> {
    let mut next = "/inloggen?melding=uitgelogd".to_owned();
    if let Some(SignedIn(s)) = signed_in {
        let data = end(&state, s).await?;
        // A pupil at school leaves the classroom's computer at the school's group list, where
        // the next pupil starts; a pupil at home (no group picked) and staff at the login page.
        if let session::Who::Pupil {
            group_id: Some(_), ..
        } = &data.who
            && let Some(school_id) = &data.school_id
            && let Some(school) = state.directory.school_by_id(school_id).await?
        {
            next = format!("/s/{}", super::url_encode(&school.instelling_ref));
        }
    }
    Ok(see_other(&next, session::clear_cookie(&state.web)))
}

pub async fn logout_everywhere(
    State(state): State<AppState>,
    staff: Option<SignedInStaff>,
    _: Csrf<NoFields>,
) -> Result<Response, PageError> {
    // Not the guard's refusal: this one clears the cookie as well.
    let Some(SignedInStaff {
        session: s,
        staff_id,
    }) = staff
    else {
        return Ok(see_other(
            "/inloggen?melding=sessie-verlopen",
            session::clear_cookie(&state.web),
        ));
    };
    state
        .directory
        .bump_session_epoch(&staff_id, &Actor::staff(&staff_id))
        .await?;
    end(&state, s).await?;
    crate::flow::logout::all_sessions_ended(&state, &staff_id).await?;
    Ok(see_other(
        "/inloggen?melding=overal-uitgelogd",
        session::clear_cookie(&state.web),
    ))
}

/// How a signed-in staff member's current password checked out.
pub(super) enum CurrentPassword {
    Correct,
    Wrong,
    /// Too many wrong passwords for this account or from this address.
    Throttled,
}

pub(super) fn too_many_attempts() -> Text {
    Text::new(
        "Te veel mislukte pogingen. Probeer het later opnieuw.",
        "Too many failed attempts. Try again later.",
    )
}

pub(super) fn wrong_current_password() -> Text {
    Text::new(
        "Je huidige wachtwoord klopt niet.",
        "Your current password is not correct.",
    )
}

/// Checks the current password of a signed-in staff member (a password change, removing the
/// second factor). A session left open on a classroom computer must not become a way to guess
/// the password without limit: it is checked under the staff login's own counters (per address
/// and per IP), reserved before the check as there, and only a correct one gives its place back.
pub(super) async fn check_current_password(
    state: &AppState,
    staff: &directory::people::Staff,
    ip: std::net::IpAddr,
    password: String,
) -> Result<CurrentPassword, PageError> {
    let email = staff.email.clone().unwrap_or_default();
    let stored = match directory::model::Email::parse(&email) {
        Ok(e) => state
            .directory
            .staff_login(&e)
            .await?
            .and_then(|l| l.password_hash),
        Err(_) => None,
    };
    let counters = super::login::StaffCounters::new(&email, ip);
    if let Attempt::Refused(_) = counters.reserve(state).await? {
        return Ok(CurrentPassword::Throttled);
    }
    if !state.hasher.verify(password, stored).await? {
        return Ok(CurrentPassword::Wrong);
    }
    counters.release(state).await?;
    Ok(CurrentPassword::Correct)
}

#[derive(Template)]
#[template(path = "change_password.html")]
struct ChangePasswordPage {
    csrf: String,
    error: Option<Text>,
}

pub async fn change_form(_: SignedInStaff, token: FormToken) -> Result<Response, PageError> {
    Ok(token.page(StatusCode::OK, |csrf| ChangePasswordPage {
        csrf,
        error: None,
    }))
}

#[derive(Deserialize)]
pub struct PasswordChange {
    current_password: String,
    password: String,
    password_repeat: String,
}

/// A password change needs the current password, ends every other session and keeps this one
/// (under a new id, created under the new session epoch).
pub async fn change(
    State(state): State<AppState>,
    SignedInStaff {
        session: s,
        staff_id,
    }: SignedInStaff,
    ClientIp(ip): ClientIp,
    token: FormToken,
    Csrf(form): Csrf<PasswordChange>,
) -> Result<Response, PageError> {
    let refuse_with = |status: StatusCode, error: Text| {
        PageError::from(token.page(status, |csrf| ChangePasswordPage {
            csrf,
            error: Some(error),
        }))
    };
    let refuse = |error: Text| refuse_with(StatusCode::UNPROCESSABLE_ENTITY, error);
    let Some(staff) = state.directory.staff_by_id(&staff_id).await? else {
        return Ok(see_other("/inloggen", HeaderMap::new()));
    };
    match check_current_password(&state, &staff, ip, form.current_password.clone()).await? {
        CurrentPassword::Correct => {}
        CurrentPassword::Throttled => {
            return Err(refuse_with(
                StatusCode::TOO_MANY_REQUESTS,
                too_many_attempts(),
            ));
        }
        CurrentPassword::Wrong => return Err(refuse(wrong_current_password())),
    }
    let mismatch = Text::new(
        "De twee nieuwe wachtwoorden zijn niet gelijk.",
        "The two new passwords are not the same.",
    );
    super::account::check_new_password(&form.password, &form.password_repeat, &staff, mismatch)
        .map_err(refuse)?;
    let hash = state.hasher.hash(form.password.clone()).await?;
    let school_id = s.data.school_id.clone();
    let epoch = state
        .directory
        .set_password(&staff_id, &hash, &Actor::staff(&staff_id))
        .await?;
    // The password change ended every session: their tokens and relying parties too.
    let old = end(&state, s).await?;
    crate::flow::logout::all_sessions_ended(&state, &staff_id).await?;
    // The new session keeps the second factor the old one proved: the password changed, the
    // phone did not.
    let set =
        super::login::staff_session(&state, &staff_id, epoch, school_id, old.second_factor).await?;
    Ok(see_other("/?melding=wachtwoord-gewijzigd", set))
}
