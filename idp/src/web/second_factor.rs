//! Staff's second factor (issue #21): setting up an authenticator app at `/tweestapsverificatie`
//! (the secret in base32, as an `otpauth://` link and as a QR code; one code confirms it, and
//! only then is it stored, with ten recovery codes shown once), removing it (with the password
//! or a current code), new recovery codes (likewise), the code page of a login at
//! `/inloggen/code`, and the set-up that a login the policy requires a second factor of waits
//! for at `/inloggen/instellen` (see `flow::second_factor` for the logins waiting there and the
//! checks).

use std::time::Duration;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;

use directory::{Actor, DirectoryError};

use super::home::{CurrentPassword, check_current_password, too_many_attempts};
use super::login::safe_next;
use super::{Text, page, see_other, sha256_hex};
use crate::app_state::AppState;
use crate::clock::unix_now;
use crate::flow::passkey::{self, Outcome};
use crate::flow::second_factor::{self, Checked, Pending};
use crate::http::extract::Query;
use crate::http::{ClientIp, Csrf, FormToken, NoticeQuery, PageError, see};
use crate::session::SignedInStaff;
use crate::state::StateStore;
use crate::totp::{self, TotpSecret};

/// How long a secret shown for set-up waits for its confirming code.
const ENROLMENT_TTL: Duration = second_factor::ENROLMENT_TTL;
/// The issuer an authenticator app lists the account under.
const ISSUER: &str = "openpoort";

#[derive(Template)]
#[template(path = "login_code.html")]
struct CodePage {
    csrf: String,
    next: String,
    /// A signed-in session raised for a relying party, rather than a login finishing.
    step_up: bool,
    /// Whether they have an authenticator app (the code form is shown only then).
    totp: bool,
    /// The options of a passkey check, as JSON for the page's script, when they have passkeys.
    passkey: Option<String>,
    error: Option<Text>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    pub(super) next: Option<String>,
}

/// An authenticator's answer to a passkey check, posted by the page's script; for the code
/// page's check and the passkey login alike.
#[derive(Deserialize)]
pub struct PasskeyAnswer {
    #[serde(default)]
    pub(super) credential: String,
    #[serde(default)]
    pub(super) next: String,
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
    #[serde(default)]
    next: String,
}

/// Who the code page is for.
enum Waiting {
    /// A password login of this browser, parked until its second factor.
    Login { key: String, pending: Pending },
    /// A session signed in with the password alone, which a relying party wants raised.
    StepUp(SignedInStaff),
}

impl Waiting {
    fn must_enrol(&self) -> bool {
        matches!(self, Waiting::Login { pending, .. } if pending.enrol)
    }

    fn staff_id(&self) -> &str {
        match self {
            Waiting::Login { pending, .. } => &pending.staff_id,
            Waiting::StepUp(s) => &s.staff_id,
        }
    }

    /// What a passkey check of this page is bound to: the parked login, or the session.
    fn binding(&self) -> &str {
        match self {
            Waiting::Login { key, .. } => key,
            Waiting::StepUp(s) => &s.session.data.sid,
        }
    }
}

async fn waiting(
    state: &AppState,
    headers: &HeaderMap,
    staff: Option<SignedInStaff>,
) -> Result<Option<Waiting>, PageError> {
    if let Some((key, pending)) = second_factor::parked(state, headers).await? {
        return Ok(Some(Waiting::Login { key, pending }));
    }
    let Some(s) = staff else {
        return Ok(None);
    };
    let data = &s.session.data;
    if data.context != broker::Context::Password || data.second_factor.is_some() {
        return Ok(None);
    }
    let enrolled = state.directory.staff_has_second_factor(&s.staff_id).await?;
    Ok(enrolled.then_some(Waiting::StepUp(s)))
}

/// Nothing waits for a code here (it took too long, or the login was finished elsewhere).
fn expired() -> Response {
    see_other("/inloggen?melding=code-verlopen", HeaderMap::new())
}

fn wrong_code() -> Text {
    Text::new(
        "Deze code klopt niet, is verlopen of is al gebruikt. Vul de code in die je app nu toont, of een herstelcode.",
        "This code is not correct, has expired or was used already. Enter the code your app shows now, or a recovery code.",
    )
}

/// A throttled attempt's wait in whole minutes, rounded up, as the pages say it.
pub(super) fn wait_minutes(wait: Duration) -> u64 {
    wait.as_secs().div_ceil(60).max(1)
}

fn throttled(wait: Duration) -> Text {
    let minutes = wait_minutes(wait);
    Text::new(
        format!("Te veel onjuiste codes. Probeer het over {minutes} minuten opnieuw."),
        format!("Too many wrong codes. Try again in {minutes} minutes."),
    )
}

/// The code page for `w`: the code form when they have an authenticator app, and a passkey
/// check (started afresh, replacing an earlier one of this login) when they have passkeys.
async fn code_page(
    state: &AppState,
    w: &Waiting,
    token: &FormToken,
    status: StatusCode,
    next: Option<String>,
    error: Option<Text>,
) -> Result<Response, PageError> {
    let factors = state.directory.staff_factors(w.staff_id()).await?;
    let passkey = match (&state.webauthn, factors.passkeys > 0) {
        (Some(rp), true) => passkey::start_second_factor(state, rp, w.staff_id(), w.binding())
            .await?
            .map(|options| serde_json::to_string(&options))
            .transpose()
            .map_err(PageError::internal)?,
        _ => None,
    };
    Ok(token.page(status, |csrf| CodePage {
        csrf,
        next: next.unwrap_or_default(),
        step_up: matches!(w, Waiting::StepUp(_)),
        // Someone with neither (a passkey removed meanwhile, a server without passkeys) sees
        // the code form, which refuses what they type.
        totp: factors.totp || passkey.is_none(),
        passkey,
        error,
    }))
}

/// What this browser waits with for a second factor (a parked login, or a session to raise);
/// when nothing waits, the login page says the code expired, and a login that must set up a
/// factor is finished by the set-up alone, so it goes there.
async fn waiting_for_factor(
    state: &AppState,
    headers: &HeaderMap,
    staff: Option<SignedInStaff>,
) -> Result<Waiting, PageError> {
    let Some(w) = waiting(state, headers, staff).await? else {
        return Err(expired().into());
    };
    if w.must_enrol() {
        return Err(see(second_factor::ENROL_PATH).into());
    }
    Ok(w)
}

pub async fn code_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    staff: Option<SignedInStaff>,
    token: FormToken,
    Query(q): Query<NextQuery>,
) -> Result<Response, PageError> {
    let w = waiting_for_factor(&state, &headers, staff).await?;
    let next = safe_next(q.next.as_deref());
    code_page(&state, &w, &token, StatusCode::OK, next, None).await
}

pub async fn code_submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    staff: Option<SignedInStaff>,
    token: FormToken,
    Csrf(form): Csrf<CodeForm>,
) -> Result<Response, PageError> {
    let w = waiting_for_factor(&state, &headers, staff).await?;
    let next = safe_next(Some(&form.next));
    let checked = second_factor::check(&state, w.staff_id(), ip, &form.code).await?;
    answer(&state, ip, w, &token, next, checked, wrong_code()).await
}

/// The code page's answer to a checked factor: the login finishes (or the session is raised),
/// or the page comes again saying why not (`wrong` for a refusal).
async fn answer(
    state: &AppState,
    ip: std::net::IpAddr,
    w: Waiting,
    token: &FormToken,
    next: Option<String>,
    checked: Checked,
    wrong: Text,
) -> Result<Response, PageError> {
    let (status, error) = match checked {
        Checked::Accepted(factor) => return finish(state, ip, w, factor, next).await,
        Checked::Wrong => (StatusCode::UNAUTHORIZED, wrong),
        Checked::Throttled(wait) => (StatusCode::TOO_MANY_REQUESTS, throttled(wait)),
    };
    code_page(state, &w, token, status, next, Some(error)).await
}

fn passkey_refused() -> Text {
    Text::new(
        "Inloggen met je passkey is niet gelukt. Probeer het opnieuw.",
        "Signing in with your passkey did not work. Please try again.",
    )
}

/// The code page's passkey check: the authenticator's answer, posted by the page's script.
pub async fn code_passkey(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    staff: Option<SignedInStaff>,
    token: FormToken,
    Csrf(form): Csrf<PasskeyAnswer>,
) -> Result<Response, PageError> {
    let w = waiting_for_factor(&state, &headers, staff).await?;
    let next = safe_next(Some(&form.next));
    let checked = match state.webauthn.clone() {
        None => Checked::Wrong,
        Some(rp) => {
            let (staff_id, binding) = (w.staff_id(), w.binding());
            match passkey::finish_second_factor(
                &state,
                &rp,
                staff_id,
                binding,
                ip,
                &form.credential,
            )
            .await?
            {
                Outcome::Accepted(factor) => Checked::Accepted(factor),
                Outcome::Refused => Checked::Wrong,
                Outcome::Throttled(wait) => Checked::Throttled(wait),
            }
        }
    };
    answer(&state, ip, w, &token, next, checked, passkey_refused()).await
}

/// A second factor was proved: the parked login signs in, or the session is raised.
async fn finish(
    state: &AppState,
    ip: std::net::IpAddr,
    w: Waiting,
    factor: crate::session::SecondFactor,
    next: Option<String>,
) -> Result<Response, PageError> {
    match w {
        Waiting::Login { key, pending } => {
            // Of two requests that both proved a factor (a code and a recovery code at once),
            // one finishes the login.
            if !second_factor::unpark(state, &key).await? {
                return Ok(expired());
            }
            let mut clear = HeaderMap::new();
            clear.insert(header::SET_COOKIE, second_factor::clear_cookie(&state.web));
            tracing::info!(staff = %pending.staff_id, %ip, ?factor, "staff logged in with a second factor");
            super::login::sign_in(
                state,
                &pending.staff_id,
                pending.epoch,
                Some(factor),
                pending.next,
                clear,
            )
            .await
        }
        Waiting::StepUp(s) => {
            tracing::info!(staff = %s.staff_id, %ip, ?factor, "session raised by a second factor");
            let set = s.session.add_second_factor(state, factor).await?;
            Ok(see_other(&next.unwrap_or_else(|| "/".to_owned()), set))
        }
    }
}

#[derive(Template)]
#[template(path = "second_factor.html")]
struct FactorPage {
    csrf: String,
    notice: Option<Text>,
    error: Option<Text>,
    enrolled: Option<Enrolled>,
    setup: Option<Setup>,
    /// A login the school's policy holds until the set-up: no session, no way around it.
    forced: bool,
    /// Where the set-up's confirming code is posted.
    action: &'static str,
}

struct Enrolled {
    since: String,
    codes_left: i64,
}

/// A secret waiting for its confirming code, as the page shows it.
struct Setup {
    /// Base32 in groups of four, as people type it.
    secret: String,
    link: String,
    qr: String,
}

#[derive(Template)]
#[template(path = "second_factor_codes.html")]
struct RecoveryCodesPage {
    codes: Vec<String>,
    /// Where "Verder" goes: the page itself, or where a finished login continues.
    next: String,
    /// New codes for an authenticator set up before (the old codes no longer work).
    renewed: bool,
}

fn notice_text(code: &str) -> Option<Text> {
    match code {
        "verwijderd" => Some(Text::new(
            "Je authenticator-app en herstelcodes zijn verwijderd. Je logt nu in met alleen je wachtwoord, tenzij je school tweestapsverificatie verplicht: dan stel je bij je volgende login een nieuwe app in.",
            "Your authenticator app and recovery codes have been removed. You now log in with your password only, unless your school requires two-step verification: then you set up a new app at your next login.",
        )),
        _ => None,
    }
}

/// The state-store key of the secret shown to this session for set-up: it is not stored in the
/// register before a code confirms it.
fn enrolment_key(sid: &str) -> String {
    format!("totp-enrolment:{}", sha256_hex(sid))
}

/// The waiting secret is sealed like a stored one, bound to its owner.
fn enrolment_aad(staff_id: &str) -> Vec<u8> {
    format!("totp-enrolment|{staff_id}").into_bytes()
}

/// Whom a secret shown for set-up is for: a signed-in staff member, or a parked login that
/// must set one up; the secret is bound to that session or that login.
struct Enroller<'a> {
    staff_id: &'a str,
    /// The session id, or the parked login's state-store key.
    owner: &'a str,
    /// A parked login that the school's policy holds until the set-up.
    forced: bool,
}

impl<'a> Enroller<'a> {
    fn signed_in(staff: &'a SignedInStaff) -> Enroller<'a> {
        Enroller {
            staff_id: &staff.staff_id,
            owner: &staff.session.data.sid,
            forced: false,
        }
    }

    fn parked(key: &'a str, pending: &'a Pending) -> Enroller<'a> {
        Enroller {
            staff_id: &pending.staff_id,
            owner: key,
            forced: true,
        }
    }
}

/// The secret shown to this session or parked login for set-up; a new one when there is none
/// and `create`.
async fn enrolment_secret(
    state: &AppState,
    who: &Enroller<'_>,
    create: bool,
) -> Result<Option<TotpSecret>, PageError> {
    let key = enrolment_key(who.owner);
    let aad = enrolment_aad(who.staff_id);
    let kek = state.keys.kek();
    if let Some(sealed) = state.state.get(&key).await? {
        return Ok(Some(TotpSecret::new(kek.open(&sealed, &aad)?)));
    }
    if !create {
        return Ok(None);
    }
    let secret = totp::new_secret();
    // Two page loads at once show the same secret: the first one stored is kept.
    if state
        .state
        .put_if_absent(&key, &kek.seal(secret.expose(), &aad)?, ENROLMENT_TTL)
        .await?
    {
        return Ok(Some(secret));
    }
    match state.state.get(&key).await? {
        Some(sealed) => Ok(Some(TotpSecret::new(kek.open(&sealed, &aad)?))),
        None => Ok(None),
    }
}

fn grouped(base32: &str) -> String {
    base32
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

async fn render(
    state: &AppState,
    staff: &SignedInStaff,
    token: FormToken,
    status: StatusCode,
    notice: Option<Text>,
    error: Option<Text>,
) -> Result<Response, PageError> {
    render_for(
        state,
        &Enroller::signed_in(staff),
        token,
        status,
        notice,
        error,
    )
    .await
}

async fn render_for(
    state: &AppState,
    who: &Enroller<'_>,
    token: FormToken,
    status: StatusCode,
    notice: Option<Text>,
    error: Option<Text>,
) -> Result<Response, PageError> {
    let forced = who.forced;
    let (enrolled, setup) = match state.directory.staff_second_factor(who.staff_id).await? {
        Some(f) => (
            Some(Enrolled {
                since: directory::model::netherlands_clock(f.created_at),
                codes_left: f.recovery_codes_left,
            }),
            None,
        ),
        None => {
            let secret = enrolment_secret(state, who, true)
                .await?
                .ok_or_else(|| PageError::bug("a set-up secret was stored and then gone"))?;
            let account = state
                .directory
                .staff_by_id(who.staff_id)
                .await?
                .and_then(|s| s.email)
                .unwrap_or_default();
            let link = totp::otpauth_uri(&secret, ISSUER, &account);
            let qr = crate::homecode::qr_svg(&link)?;
            let setup = Setup {
                secret: grouped(&totp::base32(&secret)),
                link,
                qr,
            };
            (None, Some(setup))
        }
    };
    Ok(token.page(status, |csrf| FactorPage {
        csrf,
        notice,
        error,
        enrolled,
        setup,
        forced,
        action: if forced {
            second_factor::ENROL_PATH
        } else {
            "/tweestapsverificatie"
        },
    }))
}

pub async fn overview(
    State(state): State<AppState>,
    staff: SignedInStaff,
    token: FormToken,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let notice = q.melding.as_deref().and_then(notice_text);
    render(&state, &staff, token, StatusCode::OK, notice, None).await
}

#[derive(Deserialize)]
pub struct ConfirmCode {
    code: String,
}

/// What became of a code typed to confirm a set-up.
enum Confirmed {
    /// Stored: the recovery codes, to show once.
    Stored(Vec<String>),
    /// There is an authenticator already (the form was sent twice, and the other one stored
    /// it first: its codes were shown).
    Already,
    /// Refused, with the reason to show on the set-up page.
    Refused(Text),
}

/// Stores the authenticator once a code of it confirms that the app holds the secret, with new
/// recovery codes: the register keeps only their hashes. The confirming code's time step is
/// accepted with it, so that it cannot also serve a login.
async fn confirm(state: &AppState, who: &Enroller<'_>, code: &str) -> Result<Confirmed, PageError> {
    if state
        .directory
        .staff_second_factor(who.staff_id)
        .await?
        .is_some()
    {
        return Ok(Confirmed::Already);
    }
    let Some(secret) = enrolment_secret(state, who, false).await? else {
        return Ok(Confirmed::Refused(Text::new(
            "De tijd om de app in te stellen is verstreken. Hieronder staat een nieuwe sleutel; stel de app opnieuw in.",
            "The time to set up the app has passed. Below is a new key; set up the app again.",
        )));
    };
    let Some(step) = totp::matching_step(&secret, code, unix_now()) else {
        return Ok(Confirmed::Refused(Text::new(
            "Deze code klopt niet. Controleer of de tijd op je telefoon goed staat en vul de code in die de app nu toont.",
            "This code is not correct. Check that your phone's clock is right and enter the code the app shows now.",
        )));
    };
    let codes = totp::new_recovery_codes();
    let actor = Actor::staff(who.staff_id);
    let kek = state.keys.kek();
    if let Err(e) = state
        .directory
        .enrol_totp_confirmed(
            who.staff_id,
            &secret,
            kek,
            &hashes(&codes),
            Some(step),
            &actor,
        )
        .await
    {
        let enrolled_meanwhile = matches!(e, DirectoryError::Conflict { .. })
            && state
                .directory
                .staff_second_factor(who.staff_id)
                .await?
                .is_some();
        if enrolled_meanwhile {
            return Ok(Confirmed::Already);
        }
        return Err(e.into());
    }
    state.state.delete(&enrolment_key(who.owner)).await?;
    tracing::info!(staff = %who.staff_id, forced = who.forced, "authenticator set up");
    Ok(Confirmed::Stored(codes))
}

fn hashes(codes: &[String]) -> Vec<String> {
    codes
        .iter()
        .filter_map(|c| totp::recovery_code_hash(c))
        .collect()
}

fn recovery_codes_page(
    codes: Vec<String>,
    next: String,
    renewed: bool,
    headers: HeaderMap,
) -> Response {
    let mut headers = headers;
    // Shown once: no cache may keep them.
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    page(
        StatusCode::OK,
        &RecoveryCodesPage {
            codes,
            next,
            renewed,
        },
        headers,
    )
}

/// Stores the authenticator of a signed-in staff member (see [`confirm`]) and shows the
/// recovery codes, once.
pub async fn enrol(
    State(state): State<AppState>,
    staff: SignedInStaff,
    token: FormToken,
    Csrf(form): Csrf<ConfirmCode>,
) -> Result<Response, PageError> {
    match confirm(&state, &Enroller::signed_in(&staff), &form.code).await? {
        Confirmed::Stored(codes) => Ok(recovery_codes_page(
            codes,
            "/tweestapsverificatie".to_owned(),
            false,
            HeaderMap::new(),
        )),
        Confirmed::Already => Ok(see("/tweestapsverificatie")),
        Confirmed::Refused(error) => {
            let refuse = StatusCode::UNPROCESSABLE_ENTITY;
            render(&state, &staff, token, refuse, None, Some(error)).await
        }
    }
}

/// The login this browser parked because the policy requires a second factor it has not set up.
async fn parked_enrolment(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(String, Pending)>, PageError> {
    Ok(second_factor::parked(state, headers)
        .await?
        .filter(|(_, pending)| pending.enrol))
}

/// The set-up a login waits for when the school's policy requires a second factor: the same
/// secret, QR code and confirmation as `/tweestapsverificatie`, without a session.
pub async fn forced_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    token: FormToken,
) -> Result<Response, PageError> {
    let Some((key, pending)) = parked_enrolment(&state, &headers).await? else {
        return Ok(expired());
    };
    // Set up meanwhile in another way: this login starts again, and asks for the code.
    if state
        .directory
        .staff_has_second_factor(&pending.staff_id)
        .await?
    {
        second_factor::unpark(&state, &key).await?;
        return Ok(expired());
    }
    let who = Enroller::parked(&key, &pending);
    render_for(&state, &who, token, StatusCode::OK, None, None).await
}

/// Confirms the set-up of a parked login; then, and only then, the login is finished: the
/// session opens (with the factor just proved) and the recovery codes are shown once, with the
/// way on to where the login was going.
pub async fn forced_submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    token: FormToken,
    Csrf(form): Csrf<ConfirmCode>,
) -> Result<Response, PageError> {
    let Some((key, pending)) = parked_enrolment(&state, &headers).await? else {
        return Ok(expired());
    };
    let who = Enroller::parked(&key, &pending);
    let codes = match confirm(&state, &who, &form.code).await? {
        Confirmed::Stored(codes) => codes,
        // Set up meanwhile in another way (another tab): its code finishes a login, not this.
        Confirmed::Already => {
            second_factor::unpark(&state, &key).await?;
            return Ok(expired());
        }
        Confirmed::Refused(error) => {
            let refuse = StatusCode::UNPROCESSABLE_ENTITY;
            return render_for(&state, &who, token, refuse, None, Some(error)).await;
        }
    };
    if !second_factor::unpark(&state, &key).await? {
        return Ok(expired());
    }
    let mut clear = HeaderMap::new();
    clear.insert(header::SET_COOKIE, second_factor::clear_cookie(&state.web));
    tracing::info!(staff = %pending.staff_id, %ip, "staff logged in after setting up the second factor the policy requires");
    let (headers, next) = super::login::open_session(
        &state,
        &pending.staff_id,
        pending.epoch,
        Some(crate::session::SecondFactor::Totp),
        pending.next,
        clear,
    )
    .await?;
    Ok(recovery_codes_page(codes, next, false, headers))
}

/// The current password or a current code, typed to confirm that whoever sits at a signed-in
/// session is its owner ([`confirm_owner`]).
#[derive(Deserialize)]
pub struct OwnerProof {
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
}

/// Removes the authenticator and the recovery codes, after the current password or a current
/// code ([`confirm_owner`]). Under a policy that requires a second factor the next login sets
/// up a new one: removal is how a new phone replaces a lost one, and no way around the policy.
pub async fn remove(
    State(state): State<AppState>,
    staff: SignedInStaff,
    ClientIp(ip): ClientIp,
    token: FormToken,
    Csrf(form): Csrf<OwnerProof>,
) -> Result<Response, PageError> {
    owner_at_hand(&state, &staff, ip, token, &form).await?;
    state
        .directory
        .remove_second_factor(&staff.staff_id, &Actor::staff(&staff.staff_id))
        .await?;
    tracing::info!(staff = %staff.staff_id, "authenticator removed");
    Ok(see("/tweestapsverificatie?melding=verwijderd"))
}

/// Replaces every recovery code by ten new ones, shown once, after the current password or a
/// current code ([`confirm_owner`], under the same counters as removal); the authenticator stays.
pub async fn renew_recovery_codes(
    State(state): State<AppState>,
    staff: SignedInStaff,
    ClientIp(ip): ClientIp,
    token: FormToken,
    Csrf(form): Csrf<OwnerProof>,
) -> Result<Response, PageError> {
    owner_at_hand(&state, &staff, ip, token, &form).await?;
    let codes = totp::new_recovery_codes();
    let renewed = state
        .directory
        .renew_recovery_codes(
            &staff.staff_id,
            &hashes(&codes),
            &Actor::staff(&staff.staff_id),
        )
        .await?;
    if !renewed {
        // Removed meanwhile: the page offers the set-up.
        return Ok(see("/tweestapsverificatie"));
    }
    tracing::info!(staff = %staff.staff_id, "recovery codes renewed");
    Ok(recovery_codes_page(
        codes,
        "/tweestapsverificatie".to_owned(),
        true,
        HeaderMap::new(),
    ))
}

/// The owner confirmed ([`confirm_owner`]) before this page's factor changes; else the page
/// again, saying why, as the answer.
async fn owner_at_hand(
    state: &AppState,
    staff: &SignedInStaff,
    ip: std::net::IpAddr,
    token: FormToken,
    proof: &OwnerProof,
) -> Result<(), PageError> {
    match confirm_owner(state, &staff.staff_id, ip, proof).await? {
        None => Ok(()),
        Some((status, error)) => Err(render(state, staff, token, status, None, Some(error))
            .await?
            .into()),
    }
}

/// Whether the person at a signed-in session is its owner, before a factor is removed: a current
/// code (when `code` is filled in) or the current password, either checked under the login's
/// counters. `None` when confirmed, else the refusal's status and text. A session left open on a
/// shared computer is not enough.
pub(super) async fn confirm_owner(
    state: &AppState,
    staff_id: &str,
    ip: std::net::IpAddr,
    proof: &OwnerProof,
) -> Result<Option<(StatusCode, Text)>, PageError> {
    let (password, code) = (&proof.password, &proof.code);
    Ok(if !code.trim().is_empty() {
        match second_factor::check(state, staff_id, ip, code).await? {
            Checked::Accepted(_) => None,
            Checked::Wrong => Some((StatusCode::UNAUTHORIZED, wrong_code())),
            Checked::Throttled(wait) => Some((StatusCode::TOO_MANY_REQUESTS, throttled(wait))),
        }
    } else {
        let Some(person) = state.directory.staff_by_id(staff_id).await? else {
            return Ok(Some((
                StatusCode::UNAUTHORIZED,
                super::home::wrong_current_password(),
            )));
        };
        match check_current_password(state, &person, ip, password.to_owned()).await? {
            CurrentPassword::Correct => None,
            CurrentPassword::Wrong => Some((
                StatusCode::UNAUTHORIZED,
                super::home::wrong_current_password(),
            )),
            CurrentPassword::Throttled => {
                Some((StatusCode::TOO_MANY_REQUESTS, too_many_attempts()))
            }
        }
    })
}
