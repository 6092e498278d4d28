//! Staff passkeys (issue #21): the page `/passkeys` (linked from `/tweestapsverificatie`) lists a
//! staff member's passkeys with their names and moments, adds one (the page's script asks the
//! browser to create it and posts the answer), renames and removes one (removal after the
//! password or a current code, as the authenticator app's removal asks); and the login with a
//! passkey alone at `/inloggen/passkey`. The ceremonies and their checks are
//! `flow::passkey`'s; the script is `/static/passkeys.js` (no inline script: the pages' CSP
//! allows only openpoort's own files, and no `fetch`: the script fills in a form and submits it).

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;

use directory::Actor;
use directory::model::netherlands_clock;

use super::login::safe_next;
use super::second_factor::{NextQuery, OwnerProof, PasskeyAnswer, confirm_owner, wait_minutes};
use super::{Text, see_other};
use crate::app_state::AppState;
use crate::flow::passkey::{self, Outcome};
use crate::http::extract::{Path, Query};
use crate::http::{ClientIp, Csrf, FormToken, NoticeQuery, PageError, see};
use crate::session::{SecondFactor, SignedInStaff};

#[derive(Template)]
#[template(path = "passkeys.html")]
struct PasskeysPage {
    csrf: String,
    notice: Option<Text>,
    error: Option<Text>,
    passkeys: Vec<Shown>,
    /// The options for `navigator.credentials.create`, as JSON for the script; none when this
    /// server offers no passkeys.
    options: Option<String>,
    /// The name typed, shown back with a refusal.
    name: String,
}

struct Shown {
    id: String,
    name: String,
    created: String,
    last_used: String,
}

fn notice_text(code: &str) -> Option<Text> {
    match code {
        "toegevoegd" => Some(Text::new(
            "Je passkey is toegevoegd. Je kunt er nu mee inloggen.",
            "Your passkey has been added. You can sign in with it now.",
        )),
        "hernoemd" => Some(Text::new(
            "De naam van je passkey is gewijzigd.",
            "Your passkey's name has been changed.",
        )),
        "verwijderd" => Some(Text::new(
            "Je passkey is verwijderd. Er kan niet meer mee worden ingelogd.",
            "Your passkey has been removed. It can no longer be used to sign in.",
        )),
        _ => None,
    }
}

async fn render(
    state: &AppState,
    staff: &SignedInStaff,
    token: &FormToken,
    status: StatusCode,
    notice: Option<Text>,
    error: Option<Text>,
    name: String,
) -> Result<Response, PageError> {
    let passkeys = state
        .directory
        .staff_passkeys(&staff.staff_id)
        .await?
        .into_iter()
        .map(|p| Shown {
            id: p.id,
            name: p.name,
            created: netherlands_clock(p.created_at),
            last_used: p.last_used_at.map(netherlands_clock).unwrap_or_default(),
        })
        .collect();
    let options = match &state.webauthn {
        Some(rp) => {
            let options =
                passkey::start_registration(state, rp, &staff.staff_id, &staff.session.data.sid)
                    .await?;
            Some(serde_json::to_string(&options).map_err(PageError::internal)?)
        }
        None => None,
    };
    Ok(token.page(status, |csrf| PasskeysPage {
        csrf,
        notice,
        error,
        passkeys,
        options,
        name,
    }))
}

/// The page again, saying why what was asked was refused; `name` is the name typed, shown back.
async fn refuse(
    state: &AppState,
    staff: &SignedInStaff,
    token: &FormToken,
    status: StatusCode,
    error: Text,
    name: String,
) -> Result<Response, PageError> {
    render(state, staff, token, status, None, Some(error), name).await
}

pub async fn overview(
    State(state): State<AppState>,
    staff: SignedInStaff,
    token: FormToken,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let notice = q.melding.as_deref().and_then(notice_text);
    render(
        &state,
        &staff,
        &token,
        StatusCode::OK,
        notice,
        None,
        String::new(),
    )
    .await
}

#[derive(Deserialize)]
pub struct AddForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    credential: String,
}

/// Stores the passkey the browser just created, under the name typed with it.
pub async fn add(
    State(state): State<AppState>,
    staff: SignedInStaff,
    token: FormToken,
    Csrf(form): Csrf<AddForm>,
) -> Result<Response, PageError> {
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    if let Err(e) = directory::passkeys::passkey_name(&form.name) {
        let error = Text::new(
            "Geef je passkey een naam van 1 tot 60 tekens, zodat je hem later herkent, bijvoorbeeld 'laptop school'.",
            "Give your passkey a name of 1 to 60 characters, so that you recognise it later, for example 'school laptop'.",
        );
        tracing::debug!(error = %e, "passkey name refused");
        return refuse(&state, &staff, &token, status, error, form.name).await;
    }
    let Some(rp) = state.webauthn.clone() else {
        return Ok(see("/passkeys"));
    };
    let sid = &staff.session.data.sid;
    match passkey::finish_registration(
        &state,
        &rp,
        &staff.staff_id,
        sid,
        &form.credential,
        &form.name,
    )
    .await?
    {
        Outcome::Accepted(_) => Ok(see("/passkeys?melding=toegevoegd")),
        Outcome::Refused | Outcome::Throttled(_) => {
            let error = Text::new(
                "Het toevoegen van de passkey is niet gelukt (de tijd was om, de passkey is al toegevoegd, of je apparaat weigerde). Probeer het opnieuw.",
                "Adding the passkey did not work (the time ran out, the passkey was added already, or your device refused). Please try again.",
            );
            refuse(&state, &staff, &token, status, error, form.name).await
        }
    }
}

#[derive(Deserialize)]
pub struct RenameForm {
    #[serde(default)]
    name: String,
}

pub async fn rename(
    State(state): State<AppState>,
    staff: SignedInStaff,
    token: FormToken,
    Path(id): Path<String>,
    Csrf(form): Csrf<RenameForm>,
) -> Result<Response, PageError> {
    let actor = Actor::staff(&staff.staff_id);
    match state
        .directory
        .rename_passkey(&staff.staff_id, &id, &form.name, &actor)
        .await
    {
        Ok(true) => Ok(see("/passkeys?melding=hernoemd")),
        Ok(false) => Ok(see("/passkeys")),
        Err(directory::DirectoryError::Invalid { .. }) => {
            let error = Text::new(
                "Een naam heeft 1 tot 60 tekens.",
                "A name has 1 to 60 characters.",
            );
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            refuse(&state, &staff, &token, status, error, String::new()).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Removes one passkey, after the current password or a current code of the authenticator app.
pub async fn remove(
    State(state): State<AppState>,
    staff: SignedInStaff,
    ClientIp(ip): ClientIp,
    token: FormToken,
    Path(id): Path<String>,
    Csrf(form): Csrf<OwnerProof>,
) -> Result<Response, PageError> {
    let refused = confirm_owner(&state, &staff.staff_id, ip, &form).await?;
    if let Some((status, error)) = refused {
        return refuse(&state, &staff, &token, status, error, String::new()).await;
    }
    let actor = Actor::staff(&staff.staff_id);
    if !state
        .directory
        .remove_passkey(&staff.staff_id, &id, &actor)
        .await?
    {
        return Ok(see("/passkeys"));
    }
    tracing::info!(staff = %staff.staff_id, passkey = %id, "passkey removed");
    Ok(see("/passkeys?melding=verwijderd"))
}

// The login with a passkey alone.

#[derive(Template)]
#[template(path = "login_passkey.html")]
struct LoginPage {
    csrf: String,
    next: String,
    /// The password login, carrying `next`.
    password_link: String,
    options: String,
    error: Option<Text>,
}

/// A page with a fresh passkey login (its ceremony bound to this browser by a cookie).
async fn login_page(
    state: &AppState,
    token: &FormToken,
    status: StatusCode,
    next: Option<String>,
    error: Option<Text>,
) -> Result<Response, PageError> {
    let Some(rp) = &state.webauthn else {
        return Ok(see_other("/inloggen", HeaderMap::new()));
    };
    let (options, cookie) = passkey::start_login(state, rp).await?;
    let options = serde_json::to_string(&options).map_err(PageError::internal)?;
    let password_link = match &next {
        Some(n) => crate::flow::login::to_login(n, None),
        None => "/inloggen".to_owned(),
    };
    let mut response = token.page(status, |csrf| LoginPage {
        csrf,
        password_link,
        next: next.unwrap_or_default(),
        options,
        error,
    });
    for value in cookie.get_all(header::SET_COOKIE) {
        response
            .headers_mut()
            .append(header::SET_COOKIE, value.clone());
    }
    Ok(response)
}

pub async fn login_form(
    State(state): State<AppState>,
    token: FormToken,
    Query(q): Query<NextQuery>,
) -> Result<Response, PageError> {
    let next = safe_next(q.next.as_deref());
    login_page(&state, &token, StatusCode::OK, next, None).await
}

/// Signs in with the passkey the browser's authenticator chose: a complete login (possession of
/// the key and the user verified by the authenticator), on to `next` as the password login goes.
pub async fn login_submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    token: FormToken,
    Csrf(form): Csrf<PasskeyAnswer>,
) -> Result<Response, PageError> {
    let next = safe_next(Some(&form.next));
    let Some(rp) = state.webauthn.clone() else {
        return Ok(see_other("/inloggen", HeaderMap::new()));
    };
    let outcome = passkey::finish_login(&state, &rp, &headers, ip, &form.credential).await?;
    let (status, error) = match outcome {
        Outcome::Accepted(who) => {
            let mut clear = HeaderMap::new();
            clear.insert(header::SET_COOKIE, passkey::clear_login_cookie(&state.web));
            tracing::info!(staff = %who.staff_id, %ip, "staff logged in with a passkey");
            return super::login::sign_in(
                &state,
                &who.staff_id,
                who.epoch,
                Some(SecondFactor::PasskeyLogin),
                next,
                clear,
            )
            .await;
        }
        Outcome::Refused => (
            StatusCode::UNAUTHORIZED,
            Text::new(
                "Inloggen met deze passkey is niet gelukt. Probeer het opnieuw, of log in met je e-mailadres en wachtwoord.",
                "Signing in with this passkey did not work. Please try again, or log in with your e-mail address and password.",
            ),
        ),
        Outcome::Throttled(wait) => {
            let minutes = wait_minutes(wait);
            (
                StatusCode::TOO_MANY_REQUESTS,
                Text::new(
                    format!(
                        "Te veel mislukte pogingen. Probeer het over {minutes} minuten opnieuw."
                    ),
                    format!("Too many failed attempts. Try again in {minutes} minutes."),
                ),
            )
        }
    };
    login_page(&state, &token, status, next, Some(error)).await
}
