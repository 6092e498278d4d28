//! Pupil login. At school: the school's shortcut (Basispoort's path and parameters, or the short
//! `/s/{INSTELLING_REF}`), from one of the school's IP ranges, then group → name → (picture).
//! At home: a home code and pin.
//!
//! Every step checks the school network again, so a URL copied out of school shows nothing.
//! The steps are plain URLs (no flow state to lose when a node goes away); the step that signs
//! in is a POST with a CSRF token, so no other site can sign a browser in as a pupil.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use askama::Template;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use broker::{Context, Subject};
use directory::people::Pupil;
use directory::schools::School;

use super::login::safe_next;
use super::{Text, message, page, see_other, sha256_hex};
use crate::app_state::AppState;
use crate::homecode;
use crate::http::extract::{Path, Query};
use crate::http::{ClientIp, Csrf, FormToken, PageError};
use crate::pictures::{self, Picture};
use crate::pictures::{MAX_WRONG_PICTURES, wrong_picture_key};
use crate::session::{self, Who};
use crate::state::{Attempt, StateStore, release_all, reserve_all};

/// Wrong pins per home code before a pause.
const MAX_WRONG_PINS: u64 = 5;
/// Wrong picks or pins per client address: a whole class shares one address, so that limit is
/// higher.
const MAX_WRONG_PER_IP: u64 = 100;
const WRONG_WINDOW: Duration = Duration::from_secs(15 * 60);

/// The counter of wrong picks and pins from one address (an IPv6 /64 is one address).
fn wrong_ip_key(ip: std::net::IpAddr) -> String {
    format!("pupil-wrong:ip:{}", super::address_key(ip))
}

#[derive(Deserialize)]
pub struct ShortcutQuery {
    #[serde(rename = "INSTELLING_REF")]
    instelling_ref: Option<String>,
    #[serde(rename = "TARGET")]
    target: Option<String>,
}

#[derive(Deserialize)]
pub struct TargetQuery {
    #[serde(rename = "TARGET")]
    target: Option<String>,
}

pub struct GroupLink {
    name: String,
    href: String,
}

#[derive(Template)]
#[template(path = "pupil_groups.html")]
struct GroupsPage {
    groups: Vec<GroupLink>,
}

pub struct PupilButton {
    label: String,
    action: String,
}

#[derive(Template)]
#[template(path = "pupil_names.html")]
struct NamesPage {
    csrf: String,
    target: String,
    back: String,
    pupils: Vec<PupilButton>,
}

#[derive(Template)]
#[template(path = "pupil_picture.html")]
struct PicturePage {
    csrf: String,
    target: String,
    name: String,
    action: String,
    back: String,
    pictures: Vec<&'static Picture>,
    error: Option<Text>,
}

#[derive(Deserialize)]
pub struct PickForm {
    #[serde(default)]
    target: String,
    picture: Option<String>,
}

fn link_not_valid() -> PageError {
    message(
        StatusCode::NOT_FOUND,
        "Link niet geldig",
        Text::new(
            "Deze inloglink is niet geldig. Vraag je leerkracht om de goede link.",
            "This login link is not valid. Ask your teacher for the right link.",
        ),
        None,
    )
    .into()
}

fn outside_school(ip: IpAddr) -> PageError {
    message(
        StatusCode::FORBIDDEN,
        "Hier kun je niet inloggen",
        Text::new(
            format!(
                "Je kunt op deze computer niet inloggen met de schoollink. Vraag het je leerkracht. (Voor de ICT-coördinator: het adres {ip} staat niet bij de IP-bereiken van de school in openpoort.)"
            ),
            format!(
                "You cannot log in with the school link on this computer. Ask your teacher. (For the ICT coordinator: the address {ip} is not one of the school's IP ranges in openpoort.)"
            ),
        ),
        None,
    )
    .into()
}

/// TARGET is carried along, bounded; it is only ever used after it matched a product URL.
/// A TARGET is either a product's launch URL (checked against the pupil's products at the end)
/// or, when a product sent the pupil to the login page, the request to continue with.
fn clean_target(target: Option<String>) -> String {
    target
        .filter(|t| {
            (t.len() <= 2048 && (t.starts_with("https://") || t.starts_with("http://")))
                || safe_next(Some(t)).is_some()
        })
        .unwrap_or_default()
}

fn with_target(path: String, target: &str) -> String {
    if target.is_empty() {
        path
    } else {
        let encoded: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
        format!("{path}?TARGET={encoded}")
    }
}

/// The active school named by the path's `{reference}`, for a client on one of that school's
/// IP ranges: every step of the school login takes this, so that a URL copied out of school
/// shows nothing. An unknown or inactive school is "link not valid"; another address is
/// refused with the address named, for the ICT-coördinator.
pub struct OnSchoolNetwork {
    pub school: School,
    pub ip: IpAddr,
}

impl FromRequestParts<AppState> for OnSchoolNetwork {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state).await?;
        let Path(params) =
            Path::<HashMap<String, String>>::from_request_parts(parts, state).await?;
        let Some(reference) = params.get("reference") else {
            return Err(PageError::bug(format!(
                "OnSchoolNetwork on a route without {{reference}}: {}",
                parts.uri.path()
            )));
        };
        let Some((school, ranges)) = state
            .directory
            .school_with_ranges_by_instelling_ref(reference)
            .await?
            .filter(|(school, _)| school.active)
        else {
            return Err(link_not_valid());
        };
        let inside = ranges
            .iter()
            .filter_map(|r| r.network().ok())
            .any(|c| c.contains(ip));
        if inside {
            Ok(OnSchoolNetwork { school, ip })
        } else {
            Err(outside_school(ip))
        }
    }
}

/// Basispoort's shortcut path; it leads to the same pages as `/s/{ref}`.
pub async fn shortcut(Query(q): Query<ShortcutQuery>) -> Result<Response, PageError> {
    let r = q
        .instelling_ref
        .filter(|r| uuid::Uuid::parse_str(r).is_ok())
        .ok_or_else(link_not_valid)?;
    Ok(see_other(
        &with_target(format!("/s/{r}"), &clean_target(q.target)),
        HeaderMap::new(),
    ))
}

pub async fn groups(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    Query(q): Query<TargetQuery>,
    OnSchoolNetwork { school, .. }: OnSchoolNetwork,
) -> Result<Response, PageError> {
    let target = clean_target(q.target);
    let groups = state
        .directory
        .groups_of_school(&school.id)
        .await?
        .into_iter()
        .filter(|g| g.active)
        .map(|g| GroupLink {
            href: with_target(format!("/s/{reference}/g/{}", g.id), &target),
            name: g.name,
        })
        .collect();
    Ok(page(
        StatusCode::OK,
        &GroupsPage { groups },
        HeaderMap::new(),
    ))
}

pub async fn names(
    State(state): State<AppState>,
    token: FormToken,
    Path((reference, group_id)): Path<(String, String)>,
    Query(q): Query<TargetQuery>,
    OnSchoolNetwork { school, .. }: OnSchoolNetwork,
) -> Result<Response, PageError> {
    let target = clean_target(q.target);
    let pupils = state
        .directory
        .active_pupils_of_group(&school.id, &group_id)
        .await?
        .into_iter()
        .map(|p| {
            let first = first_name(&p);
            let initial = p
                .achternaam
                .chars()
                .next()
                .map(|c| format!(" {}.", c.to_uppercase()))
                .unwrap_or_default();
            PupilButton {
                label: format!("{first}{initial}"),
                action: pick_path(&reference, &group_id, &p.id),
            }
        })
        .collect();
    let back = with_target(format!("/s/{reference}"), &target);
    Ok(token.page(StatusCode::OK, |csrf| NamesPage {
        csrf,
        target,
        back,
        pupils,
    }))
}

/// The name a pupil knows themselves by, on the name buttons and above the pictures.
fn first_name(p: &Pupil) -> String {
    p.roepnaam
        .clone()
        .or(p.voornamen.clone())
        .unwrap_or_default()
}

/// Where a name button posts: [`pick`], which also takes the picture chosen on its own page.
fn pick_path(reference: &str, group_id: &str, pupil_id: &str) -> String {
    format!("/s/{reference}/g/{group_id}/p/{pupil_id}")
}

/// The name was picked (and, when the school uses them, the picture): sign in or ask for the
/// picture.
pub async fn pick(
    State(state): State<AppState>,
    token: FormToken,
    Path((reference, group_id, pupil_id)): Path<(String, String, String)>,
    OnSchoolNetwork { school, ip }: OnSchoolNetwork,
    Csrf(form): Csrf<PickForm>,
) -> Result<Response, PageError> {
    // The pupil must be an active member of the group the picker showed, at this school.
    let (pupil, secret) = state
        .directory
        .active_pupil_in_group(&school.id, &group_id, &pupil_id)
        .await?
        .ok_or_else(link_not_valid)?;
    let target = clean_target(Some(form.target.clone()));
    let back = with_target(format!("/s/{reference}/g/{group_id}"), &target);

    if school.picture_password_enabled {
        let Some(secret) = secret else {
            return Err(message(
                StatusCode::FORBIDDEN,
                "Nog geen plaatje",
                Text::new(
                    "Je hebt nog geen eigen plaatje. Vraag je leerkracht om er een voor je te kiezen.",
                    "You do not have your own picture yet. Ask your teacher to choose one for you.",
                ),
                Some((back.as_str(), "Terug / Back")),
            )
            .into());
        };
        let name = first_name(&pupil);
        let show = |error: Option<Text>, status: StatusCode| {
            token.page(status, |csrf| PicturePage {
                csrf,
                target: target.clone(),
                name: name.clone(),
                action: pick_path(&reference, &group_id, &pupil.id),
                back: back.clone(),
                pictures: pictures::choices_for(&pupil.id, &secret).to_vec(),
                error,
            })
        };
        let pupil_key = wrong_picture_key(&pupil.id);
        let ip_key = wrong_ip_key(ip);
        let limits = [
            (ip_key.as_str(), MAX_WRONG_PER_IP),
            (pupil_key.as_str(), MAX_WRONG_PICTURES),
        ];
        let Some(picked) = form.picture.as_deref() else {
            // Showing the pictures costs no attempt; a pupil already paused hears so at once.
            if state.state.count(&pupil_key).await? >= MAX_WRONG_PICTURES {
                return Err(too_many(&back));
            }
            return Ok(show(None, StatusCode::OK));
        };
        // The pick takes its place in the counters before it is compared, atomically, so that
        // parallel picks cannot try more pictures than the limit allows.
        if let Attempt::Refused(_) = reserve_all(&state.state, &limits, WRONG_WINDOW).await? {
            return Err(too_many(&back));
        }
        if picked != secret {
            return Err(show(
                Some(Text::new(
                    "Dat is niet jouw plaatje. Probeer het nog eens.",
                    "That is not your picture. Try again.",
                )),
                StatusCode::UNAUTHORIZED,
            )
            .into());
        }
        release_all(&state.state, &[&ip_key, &pupil_key]).await?;
    }

    // A request that sent the pupil to the login page continues; its own checks (consent,
    // licence) follow there.
    let resume = safe_next(Some(&target));
    // A TARGET is kept only when it is the launch URL of a product this pupil may use now.
    let target = if target.is_empty() || resume.is_some() {
        None
    } else {
        state
            .broker
            .portal(
                &Subject::Pupil(pupil.id.clone()),
                &school.id,
                Context::SchoolNetwork,
                crate::clock::unix_now(),
            )
            .await?
            .tiles
            .iter()
            .any(|t| t.product.launch_url == target)
            .then_some(target)
    };
    let who = Who::Pupil {
        pupil_id: pupil.id.clone(),
        group_id: Some(group_id),
    };
    let set = session::create(
        &state,
        who,
        Some(school.id.clone()),
        Context::SchoolNetwork,
        target,
        None,
    )
    .await?;
    tracing::info!(pupil = %pupil.id, school = %school.code(), "pupil logged in at school");
    Ok(see_other(resume.as_deref().unwrap_or("/"), set))
}

fn too_many(back: &str) -> PageError {
    message(
        StatusCode::TOO_MANY_REQUESTS,
        "Even wachten",
        Text::new(
            "Er is te vaak een verkeerd plaatje of een verkeerde code gekozen. Wacht een kwartier, of vraag je leerkracht om hulp.",
            "The wrong picture or code was chosen too often. Wait a quarter of an hour, or ask your teacher for help.",
        ),
        Some((back, "Terug / Back")),
    )
    .into()
}

#[derive(Template)]
#[template(path = "thuis.html")]
struct HomePage {
    csrf: String,
    code: String,
    /// Where the login continues: an authorization or SAML request that sent the pupil here.
    next: String,
    error: Option<Text>,
}

#[derive(Deserialize)]
pub struct HomeQuery {
    code: Option<String>,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct HomeForm {
    code: String,
    pin: String,
    #[serde(default)]
    next: String,
}

pub async fn home_form(
    token: FormToken,
    Query(q): Query<HomeQuery>,
) -> Result<Response, PageError> {
    let code = q
        .code
        .filter(|c| c.len() <= 32 && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-'))
        .unwrap_or_default();
    Ok(token.page(StatusCode::OK, |csrf| HomePage {
        csrf,
        code,
        next: safe_next(q.next.as_deref()).unwrap_or_default(),
        error: None,
    }))
}

pub async fn home_login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    token: FormToken,
    Csrf(form): Csrf<HomeForm>,
) -> Result<Response, PageError> {
    let again = |error: Text, status: StatusCode| {
        PageError::from(token.page(status, |csrf| HomePage {
            csrf,
            code: form.code.chars().take(32).collect(),
            next: safe_next(Some(&form.next)).unwrap_or_default(),
            error: Some(error),
        }))
    };
    let wrong_code = || {
        Text::new(
            "De thuiscode of de pincode klopt niet.",
            "The home code or the PIN is not correct.",
        )
    };
    let normalised = homecode::normalise(&form.code);
    let code_key = format!(
        "pupil-wrong:code:{}",
        sha256_hex(normalised.as_deref().unwrap_or(""))
    );
    let ip_key = wrong_ip_key(ip);
    // Counted before the pin is checked, atomically (see `pick`).
    let limits = [
        (ip_key.as_str(), MAX_WRONG_PER_IP),
        (code_key.as_str(), MAX_WRONG_PINS),
    ];
    if let Attempt::Refused(_) = reserve_all(&state.state, &limits, WRONG_WINDOW).await? {
        return Err(too_many("/thuis"));
    }
    let record = match &normalised {
        Some(code) => {
            state
                .directory
                .home_code(&homecode::code_hash(code))
                .await?
        }
        None => None,
    };
    // Unknown codes cost a pin check too, so that timing does not sort real codes from others.
    let matched = state
        .hasher
        .verify(
            form.pin.clone(),
            record.as_ref().map(|r| r.pin_hash.clone()),
        )
        .await?;
    let Some(record) = record.filter(|_| matched) else {
        // The reservation stays: it was a wrong pin.
        return Err(again(wrong_code(), StatusCode::UNAUTHORIZED));
    };
    // An inactive pupil or school gets the wrong-code answer: it tells a guesser nothing more.
    let pupil = state
        .directory
        .pupil_by_id(&record.pupil_id)
        .await?
        .filter(|p| p.active);
    let school = match &pupil {
        Some(p) => state
            .directory
            .school_by_id(&p.school_id)
            .await?
            .filter(|s| s.active),
        None => None,
    };
    let (Some(pupil), Some(school)) = (pupil, school) else {
        return Err(again(wrong_code(), StatusCode::UNAUTHORIZED));
    };
    if !school.home_login_allowed {
        return Err(again(
            Text::new(
                "Je school heeft thuis inloggen uitgezet. Je kunt je lesmateriaal op school gebruiken.",
                "Your school has switched logging in from home off. You can use your materials at school.",
            ),
            StatusCode::FORBIDDEN,
        ));
    }
    // Only this attempt's place is given back; resetting the counter would reopen the window for
    // guesses racing alongside.
    release_all(&state.state, &[&ip_key, &code_key]).await?;
    let who = Who::Pupil {
        pupil_id: pupil.id.clone(),
        group_id: None,
    };
    let set = session::create(&state, who, Some(school.id), Context::HomeCode, None, None).await?;
    tracing::info!(pupil = %pupil.id, "pupil logged in at home");
    let next = safe_next(Some(&form.next)).unwrap_or_else(|| "/".to_owned());
    Ok(see_other(&next, set))
}
