//! Activation, password reset and "wachtwoord vergeten".

use std::time::Duration;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use directory::Actor;
use directory::credentials::TokenPurpose;
use directory::model::Email;
use directory::people::StaffStatus;

use super::{Text, message, see_other, sha256_hex};
use crate::app_state::AppState;
use crate::http::extract::Query;
use crate::http::{ClientIp, Csrf, FormToken, PageError};
use crate::links::send_link;
use crate::state::StateStore;

#[derive(Template)]
#[template(path = "set_password.html")]
struct SetPasswordPage {
    csrf: String,
    token: String,
    email: String,
    action: &'static str,
    error: Option<Text>,
}

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    csrf: String,
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

#[derive(Deserialize)]
pub struct NewPassword {
    token: String,
    password: String,
    password_repeat: String,
}

fn action(purpose: TokenPurpose) -> &'static str {
    match purpose {
        TokenPurpose::Activation => "/activeren",
        TokenPurpose::Reset => "/wachtwoord-herstellen",
    }
}

fn link_not_valid() -> PageError {
    message(
        StatusCode::GONE,
        "Link niet geldig",
        Text::new(
            "Deze link is niet (meer) geldig: hij is al gebruikt, verlopen of vervangen door een nieuwere. Vraag hieronder een nieuwe aan.",
            "This link is not valid (any more): it was used, has expired or was replaced by a newer one. Request a new one below.",
        ),
        Some((
            "/wachtwoord-vergeten",
            "Nieuwe link aanvragen / Request a new link",
        )),
    )
    .into()
}

/// Which link a page serves: a new account's activation or a password reset. A type, so that
/// one handler serves the routes of both (`show_form::<Activation>`, `set_password::<Reset>`).
pub trait LinkPurpose {
    const PURPOSE: TokenPurpose;
}

pub struct Activation;

impl LinkPurpose for Activation {
    const PURPOSE: TokenPurpose = TokenPurpose::Activation;
}

pub struct Reset;

impl LinkPurpose for Reset {
    const PURPOSE: TokenPurpose = TokenPurpose::Reset;
}

/// The owner of a link, if the link still works. A deactivated owner's link does not: the
/// register voids them at deactivation, and this holds also for one that slipped through.
async fn owner(
    state: &AppState,
    token: &str,
    purpose: TokenPurpose,
) -> Result<Option<directory::people::Staff>, directory::DirectoryError> {
    match state
        .directory
        .staff_token_owner(&sha256_hex(token), purpose)
        .await?
    {
        Some(id) => Ok(state
            .directory
            .staff_by_id(&id)
            .await?
            .filter(|s| s.status != StaffStatus::Deactivated)),
        None => Ok(None),
    }
}

pub async fn show_form<P: LinkPurpose>(
    State(state): State<AppState>,
    form_token: FormToken,
    Query(q): Query<TokenQuery>,
) -> Result<Response, PageError> {
    let purpose = P::PURPOSE;
    let Some(token) = q.token.filter(|t| !t.is_empty() && t.len() <= 64) else {
        return Err(link_not_valid());
    };
    let staff = owner(&state, &token, purpose)
        .await?
        .ok_or_else(link_not_valid)?;
    let email = staff.email.unwrap_or_default();
    Ok(form_token.page(StatusCode::OK, |csrf| SetPasswordPage {
        csrf,
        token,
        email,
        action: action(purpose),
        error: None,
    }))
}

pub async fn set_password<P: LinkPurpose>(
    State(state): State<AppState>,
    form_token: FormToken,
    Csrf(form): Csrf<NewPassword>,
) -> Result<Response, PageError> {
    let purpose = P::PURPOSE;
    let staff = owner(&state, &form.token, purpose)
        .await?
        .ok_or_else(link_not_valid)?;
    let email = staff.email.clone().unwrap_or_default();
    let refuse = |error: Text| {
        PageError::from(
            form_token.page(StatusCode::UNPROCESSABLE_ENTITY, |csrf| SetPasswordPage {
                csrf,
                token: form.token.clone(),
                email: email.clone(),
                action: action(purpose),
                error: Some(error),
            }),
        )
    };
    let mismatch = Text::new(
        "De twee wachtwoorden zijn niet gelijk.",
        "The two passwords are not the same.",
    );
    check_new_password(&form.password, &form.password_repeat, &staff, mismatch).map_err(refuse)?;
    let hash = state.hasher.hash(form.password.clone()).await?;
    let id = state
        .directory
        .set_password_with_token(&sha256_hex(&form.token), purpose, &hash)
        .await?
        .ok_or_else(link_not_valid)?;
    tracing::info!(staff = %id, purpose = purpose.as_str(), "password set through link");
    Ok(see_other(
        "/inloggen?melding=wachtwoord-ingesteld",
        HeaderMap::new(),
    ))
}

/// Why a new password, typed twice, cannot be set: `mismatch` when the two differ, else what
/// the staff password rules refuse. The password change asks the same.
pub(super) fn check_new_password(
    password: &str,
    repeat: &str,
    staff: &directory::people::Staff,
    mismatch: Text,
) -> Result<(), Text> {
    if password != repeat {
        return Err(mismatch);
    }
    crate::password::check_staff_password(password, staff).map_err(|r| Text::new(r.nl, r.en))
}

pub async fn forgot_form(form_token: FormToken) -> Result<Response, PageError> {
    Ok(form_token.page(StatusCode::OK, |csrf| ForgotPage { csrf }))
}

#[derive(Deserialize)]
pub struct ForgotForm {
    email: String,
}

/// Mails per address and per client IP per hour: enough for a teacher who lost a mail, too few
/// to flood someone's mailbox through openpoort.
const MAILS_PER_ADDRESS: u64 = 3;
const MAILS_PER_IP: u64 = 30;

pub async fn forgot(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Csrf(form): Csrf<ForgotForm>,
) -> Result<Response, PageError> {
    // The work happens after the answer, so neither the answer nor its timing tells whether
    // the address is known.
    if let Ok(email) = Email::parse(&form.email) {
        let state = state.clone();
        tokio::spawn(async move {
            if let Err(e) = mail_link_if_known(&state, &email, ip).await {
                tracing::error!(error = %e, "password-reset mail failed");
            }
        });
    }
    Ok(message(
        StatusCode::OK,
        "Kijk in je mail",
        Text::new(
            "Als dit e-mailadres bij openpoort bekend is, ontvang je binnen enkele minuten een e-mail met een link. Geen mail? Kijk ook bij ongewenste mail, of vraag de ICT-coördinator van je school.",
            "If openpoort knows this e-mail address, you will receive an e-mail with a link within a few minutes. No mail? Check your spam folder, or ask your school's ICT coordinator.",
        ),
        Some(("/inloggen", "Terug naar inloggen / Back to log in")),
    ))
}

async fn mail_link_if_known(
    state: &AppState,
    email: &Email,
    ip: std::net::IpAddr,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let hour = Duration::from_secs(3_600);
    let per_address = state
        .state
        .incr(
            &format!("reset-mail:account:{}", sha256_hex(email.as_str())),
            hour,
        )
        .await?;
    let per_ip = state
        .state
        .incr(&format!("reset-mail:ip:{}", super::address_key(ip)), hour)
        .await?;
    if per_address > MAILS_PER_ADDRESS || per_ip > MAILS_PER_IP {
        tracing::warn!(%ip, "reset mail limit reached; nothing sent");
        return Ok(());
    }
    let Some(login) = state.directory.staff_login(email).await? else {
        return Ok(());
    };
    // Active: a reset link. Never activated: the activation link again. Deactivated: nothing,
    // also when it was deactivated before its owner ever set a password, because a removed
    // teacher must not come back through a mail; only an administrator's re-invite does that.
    let purpose = match (login.staff.status, login.password_hash.is_some()) {
        (StaffStatus::Active, _) => TokenPurpose::Reset,
        (StaffStatus::Inactive, false) => TokenPurpose::Activation,
        (StaffStatus::Inactive, true) | (StaffStatus::Deactivated, _) => return Ok(()),
    };
    let actor = Actor::system("wachtwoord-vergeten");
    let link = send_link(
        &state.directory,
        &state.mailer,
        &state.web.public_url,
        &login.staff,
        purpose,
        &actor,
    )
    .await?;
    if state.web.log_links {
        tracing::info!(%link, "development mode: link mailed");
    }
    Ok(())
}
