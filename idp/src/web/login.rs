//! Staff login: e-mail and password, and for a staff member with an authenticator app or a
//! passkey the code page after it (`second_factor.rs`, `flow::second_factor`); the login with a
//! passkey alone is in `passkeys.rs`.
//!
//! An unknown address, a wrong password and an account that cannot log in get the same answer
//! after the same work (a full argon2 verification). Failures are counted per address (known or
//! not) and per client IP over a fixed window; past the limit the address or IP is locked until
//! the window ends, and every failure after the third waits a little longer before it is answered.
//! Each attempt takes its place in both counters before the password is checked (atomically, so
//! parallel guesses cannot pass the limit together); a successful login gives its own place back.

use std::net::IpAddr;
use std::time::Duration;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;

use directory::model::Email;
use directory::people::StaffStatus;

use super::{Text, see_other, sha256_hex};
use crate::app_state::AppState;
use crate::flow::second_factor;
use crate::http::extract::Query;
use crate::http::{ClientIp, Csrf, FormToken, PageError};
use crate::session;
use crate::state::{Attempt, StateError, StateStore, release_all, reserve_all};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    next: String,
    /// The home-code login, carrying `next` so that a pupil at home continues to the product.
    home_link: String,
    /// Schools whose network this request comes from, when a product sent it: their pupils
    /// pick their group there and then continue to the product.
    schools_here: Vec<SchoolLink>,
    email: String,
    error: Option<Text>,
    notice: Option<Text>,
    /// The passkey login, carrying `next`, when this server offers passkeys.
    passkey_link: Option<String>,
}

struct SchoolLink {
    name: String,
    href: String,
}

#[derive(Deserialize)]
pub struct Notice {
    melding: Option<String>,
    next: Option<String>,
    login_hint: Option<String>,
}

pub use crate::flow::login::safe_next;

/// `path` carrying `next` along, when there is one.
fn with_next(path: &str, next: Option<String>) -> String {
    match next {
        Some(n) => format!("{path}?next={}", super::url_encode(&n)),
        None => path.to_owned(),
    }
}

/// The home-code login page, with `next` when it is one `safe_next` accepts.
fn home_link(next: Option<&str>) -> String {
    with_next("/thuis", safe_next(next))
}

/// The passkey login page, with `next` when it is one `safe_next` accepts.
fn passkey_link(state: &AppState, next: Option<&str>) -> Option<String> {
    state.webauthn.as_ref()?;
    Some(with_next("/inloggen/passkey", safe_next(next)))
}

/// Fixed texts for the notices that other pages redirect to: the query names one, it never
/// carries text of its own (no reflected content).
fn notice_text(code: &str) -> Option<Text> {
    match code {
        "uitgelogd" => Some(Text::new("Je bent uitgelogd.", "You are logged out.")),
        "overal-uitgelogd" => Some(Text::new(
            "Je bent op alle apparaten uitgelogd.",
            "You are logged out on all devices.",
        )),
        "wachtwoord-ingesteld" => Some(Text::new(
            "Je wachtwoord is ingesteld. Je kunt nu inloggen.",
            "Your password has been set. You can log in now.",
        )),
        "sessie-verlopen" => Some(Text::new(
            "Je sessie is verlopen. Log opnieuw in.",
            "Your session has expired. Please log in again.",
        )),
        "passkey-verlopen" => Some(Text::new(
            "De tijd om je passkey te gebruiken is verstreken. Probeer het opnieuw.",
            "The time to use your passkey has passed. Please try again.",
        )),
        "code-verlopen" => Some(Text::new(
            "De tijd om de code van je authenticator-app in te vullen is verstreken. Log opnieuw in.",
            "The time to enter the code of your authenticator app has passed. Please log in again.",
        )),
        _ => None,
    }
}

pub async fn form(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    token: FormToken,
    Query(q): Query<Notice>,
) -> Result<Response, PageError> {
    let notice = q.melding.as_deref().and_then(notice_text);
    // Only a login that a product started looks up the network: the plain login page is for
    // staff, and pupils at school come in through their shortcut.
    let schools_here = match safe_next(q.next.as_deref()) {
        Some(next) => state
            .directory
            .schools_on_network(ip)
            .await?
            .into_iter()
            .map(|s| SchoolLink {
                href: format!(
                    "/s/{}?TARGET={}",
                    s.instelling_ref,
                    super::url_encode(&next)
                ),
                name: s.name,
            })
            .collect(),
        None => Vec::new(),
    };
    Ok(token.page(StatusCode::OK, |csrf| LoginPage {
        csrf,
        home_link: home_link(q.next.as_deref()),
        schools_here,
        next: safe_next(q.next.as_deref()).unwrap_or_default(),
        email: q
            .login_hint
            .filter(|h| h.len() <= 254 && !h.chars().any(char::is_control))
            .unwrap_or_default(),
        error: None,
        notice,
        passkey_link: passkey_link(&state, q.next.as_deref()),
    }))
}

#[derive(Deserialize)]
pub struct Credentials {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

fn wrong() -> Text {
    Text::new(
        "Dit e-mailadres en wachtwoord horen niet bij elkaar, of het account kan niet inloggen.",
        "This e-mail address and password do not match, or the account cannot log in.",
    )
}

pub async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    token: FormToken,
    Csrf(form): Csrf<Credentials>,
) -> Result<Response, PageError> {
    let counters = StaffCounters::new(&form.email, ip);
    let relogin = |error: Text, status: StatusCode| {
        PageError::from(token.page(status, |csrf| LoginPage {
            csrf,
            home_link: home_link(Some(&form.next)),
            schools_here: Vec::new(),
            next: safe_next(Some(&form.next)).unwrap_or_default(),
            email: form.email.clone(),
            error: Some(error),
            notice: None,
            passkey_link: passkey_link(&state, Some(&form.next)),
        }))
    };

    // The attempt is counted before the password is checked, in one atomic step per counter:
    // checking first and counting after the (slow) verification let every parallel guess
    // through the check before the first one was counted.
    let web = &state.web;
    let failures = match counters.reserve(&state).await? {
        Attempt::Admitted(counts) => counts[1],
        Attempt::Refused(index) => {
            let wait = state
                .state
                .ttl(counters.keys()[index])
                .await?
                .unwrap_or(web.failure_window);
            let minutes = wait.as_secs().div_ceil(60).max(1);
            return Err(relogin(
                Text::new(
                    format!(
                        "Te veel mislukte pogingen. Probeer het over {minutes} minuten opnieuw, of vraag een nieuw wachtwoord aan."
                    ),
                    format!(
                        "Too many failed attempts. Try again in {minutes} minutes, or request a new password."
                    ),
                ),
                StatusCode::TOO_MANY_REQUESTS,
            ));
        }
    };

    let login = match Email::parse(&form.email) {
        Ok(email) => state.directory.staff_login(&email).await?,
        Err(_) => None,
    };
    // Only an active account's hash is checked; every other case is checked against the dummy,
    // so that all failures cost the same.
    let stored = login
        .as_ref()
        .filter(|l| l.staff.status == StaffStatus::Active)
        .and_then(|l| l.password_hash.clone());
    let matched = state.hasher.verify(form.password.clone(), stored).await?;

    let Some(login) = login.filter(|_| matched) else {
        // The reservation stays: it was a failure.
        tokio::time::sleep(penalty(failures)).await;
        tracing::info!(%ip, "staff login failed");
        return Err(relogin(wrong(), StatusCode::UNAUTHORIZED));
    };

    // Only this attempt's own place is given back. Resetting the counter would reopen the
    // window for guesses racing alongside this login; earlier typos expire with the window.
    counters.release(&state).await?;
    let after = safe_next(Some(&form.next));
    // With an authenticator or a passkey the password alone signs nobody in: the login waits
    // for the second factor. Without one, where a school's policy requires one, it waits for
    // one to be set up.
    let staff_id = &login.staff.id;
    let has_factor = state.directory.staff_has_second_factor(staff_id).await?;
    let enrol = !has_factor && second_factor::policy_requires(&state, staff_id).await?;
    if has_factor || enrol {
        let pending = second_factor::Pending {
            staff_id: staff_id.clone(),
            epoch: login.session_epoch,
            next: after,
            enrol,
        };
        let set = second_factor::park(&state, &pending).await?;
        tracing::info!(staff = %staff_id, %ip, enrol, "password accepted, waiting for the second factor");
        let to = if enrol {
            second_factor::ENROL_PATH
        } else {
            "/inloggen/code"
        };
        return Ok(see_other(to, set));
    }
    tracing::info!(staff = %login.staff.id, %ip, "staff logged in");
    sign_in(
        &state,
        &login.staff.id,
        login.session_epoch,
        None,
        after,
        HeaderMap::new(),
    )
    .await
}

/// Opens the session of a staff member whose login is complete (with the second factor they
/// proved, if any) and sends them on to `after`, through the school choice when they work at
/// several schools; `headers` go along with the session's cookie.
pub(super) async fn sign_in(
    state: &AppState,
    staff_id: &str,
    epoch: i64,
    factor: Option<session::SecondFactor>,
    after: Option<String>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (headers, next) = open_session(state, staff_id, epoch, factor, after, headers).await?;
    Ok(see_other(&next, headers))
}

/// [`sign_in`]'s session, with where it goes on to, for a page that shows something first.
pub(super) async fn open_session(
    state: &AppState,
    staff_id: &str,
    epoch: i64,
    factor: Option<session::SecondFactor>,
    after: Option<String>,
    mut headers: HeaderMap,
) -> Result<(HeaderMap, String), PageError> {
    let schools = state.directory.schools_of_staff(staff_id).await?;
    let only = (schools.len() == 1).then(|| schools[0].school_id.clone());
    let set = staff_session(state, staff_id, epoch, only, factor).await?;
    for value in set.get_all(header::SET_COOKIE) {
        headers.append(header::SET_COOKIE, value.clone());
    }
    let next = match (schools.len() > 1, after) {
        (true, after) => with_next("/school-kiezen", after),
        (false, Some(n)) => n,
        (false, None) => "/".to_owned(),
    };
    Ok((headers, next))
}

/// A new password-based session for a staff member, at `school_id`; a second factor they
/// proved (at this login, or in the session a password change replaces) goes into it.
pub(super) async fn staff_session(
    state: &AppState,
    staff_id: &str,
    epoch: i64,
    school_id: Option<String>,
    factor: Option<session::SecondFactor>,
) -> Result<HeaderMap, session::SessionError> {
    let who = session::Who::Staff {
        staff_id: staff_id.to_owned(),
        epoch,
    };
    match factor {
        Some(factor) => session::create_with_second_factor(state, who, school_id, factor).await,
        None => session::create(state, who, school_id, broker::Context::Password, None, None).await,
    }
}

/// The staff login's two failure counters for one attempt: the client's address and the address
/// as typed (known or not). The password change's check of the current password counts under the
/// same ones, so that a session left open does not give more guesses.
pub(super) struct StaffCounters {
    ip_key: String,
    account_key: String,
}

impl StaffCounters {
    pub(super) fn new(email: &str, ip: IpAddr) -> StaffCounters {
        StaffCounters {
            ip_key: ip_failure_key(ip),
            account_key: account_failure_key(email),
        }
    }

    /// The client's address first, then the account: the order of [`Self::reserve`]'s counts.
    fn keys(&self) -> [&str; 2] {
        [&self.ip_key, &self.account_key]
    }

    /// Takes this attempt's place in both counters at once, each against its own limit.
    pub(super) async fn reserve(&self, state: &AppState) -> Result<Attempt, StateError> {
        let web = &state.web;
        let [ip, account] = self.keys();
        let limits = [
            (ip, web.max_failures_per_ip),
            (account, web.max_failures_per_account),
        ];
        reserve_all(&state.state, &limits, web.failure_window).await
    }

    /// Gives this attempt's place back, after a correct password.
    pub(super) async fn release(&self, state: &AppState) -> Result<(), StateError> {
        release_all(&state.state, &self.keys()).await
    }
}

/// The failure counter of an address as typed (known or not).
fn account_failure_key(email: &str) -> String {
    format!(
        "login-fail:account:{}",
        sha256_hex(&email.trim().to_lowercase())
    )
}

use crate::flow::second_factor::ip_failure_key;

/// Growing delay for repeated failures on one address: nothing for the first three typos, then
/// 0.25 s doubling up to 4 s.
fn penalty(failures: u64) -> Duration {
    if failures <= 3 {
        Duration::ZERO
    } else {
        Duration::from_millis(250u64 << (failures - 4).min(4))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_failures_wait_longer_up_to_a_cap() {
        assert_eq!(penalty(1), Duration::ZERO);
        assert_eq!(penalty(3), Duration::ZERO);
        assert_eq!(penalty(4), Duration::from_millis(250));
        assert_eq!(penalty(5), Duration::from_millis(500));
        assert_eq!(penalty(8), Duration::from_secs(4));
        assert_eq!(penalty(1000), Duration::from_secs(4));
    }

    #[test]
    fn unknown_notice_codes_show_nothing() {
        assert!(notice_text("<script>").is_none());
        assert!(notice_text("uitgelogd").is_some());
    }
}
