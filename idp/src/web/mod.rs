//! Server-rendered pages: staff login with its second factor, activation, password reset and
//! change, setting up an authenticator app, school choice and logout; the pupils' shortcut,
//! pickers and home-code login; the portal and /beheer.
//!
//! Every page is Dutch first with English beside it, every form carries a CSRF token that the
//! handler's `Csrf<Form>` argument checks, and every response of these routes is marked
//! `no-store` and framed by nobody. Handlers return `Result<Response, PageError>`; who may see a
//! page is said by an extractor argument (`SignedIn`, `SignedInStaff`, `SchoolManager`,
//! `pupil::OnSchoolNetwork`).

mod account;
mod beheer;
mod home;
mod icons;
pub mod login;
mod network_login;
mod operator;
mod passkeys;
mod portal;
mod pupil;
mod second_factor;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

// What every page needs, for the submodules to reach through `super::`.
use crate::app_state::AppState;
use crate::http::{Text, address_key, message, page, see_other, sha256_hex, url_encode};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(portal::portal))
        .route("/login/leerlingen/snelkoppelaar", get(pupil::shortcut))
        .route("/login/snelkoppelaar", get(network_login::shortcut))
        .route("/login/netwerk/{code}", get(network_login::hinted))
        // A static segment wins over `{code}` in axum's router.
        .route("/login/netwerk/terug", get(network_login::callback))
        .route("/s/{reference}", get(pupil::groups))
        .route("/s/{reference}/g/{group}", get(pupil::names))
        .route(
            "/s/{reference}/g/{group}/p/{pupil}",
            axum::routing::post(pupil::pick),
        )
        .route("/thuis", get(pupil::home_form).post(pupil::home_login))
        .route("/beheer", get(beheer::overview).post(beheer::settings))
        .route("/beheer/groep/{group}", get(beheer::group))
        .route(
            "/beheer/ip-adressen",
            get(beheer::network).post(beheer::add_range),
        )
        .route(
            "/beheer/ip-adressen/verwijderen",
            axum::routing::post(beheer::remove_range),
        )
        .route("/beheer/privacy", get(beheer::privacy))
        .route("/beheer/privacy.csv", get(beheer::privacy_csv))
        .route(
            "/beheer/privacy/verwerkersovereenkomst",
            axum::routing::post(beheer::accept_agreement),
        )
        .route("/beheer/lesmateriaal", get(beheer::material))
        .route(
            "/beheer/lesmateriaal/snelkoppelingen.zip",
            get(beheer::shortcuts_zip),
        )
        .route(
            "/beheer/uitgeverijen",
            get(beheer::party_page::<beheer::Publishers>)
                .post(beheer::save_consents::<beheer::Publishers>),
        )
        .route(
            "/beheer/netwerkbeheerders",
            get(beheer::party_page::<beheer::NetworkProviders>)
                .post(beheer::save_consents::<beheer::NetworkProviders>),
        )
        .route(
            "/beheer/uitgeverijen/verzoeken/{party}/afwijzen",
            axum::routing::post(beheer::decline_request::<beheer::Publishers>),
        )
        .route(
            "/beheer/netwerkbeheerders/verzoeken/{party}/afwijzen",
            axum::routing::post(beheer::decline_request::<beheer::NetworkProviders>),
        )
        .route("/beheer/gebruikersgegevens", get(beheer::user_data))
        .route(
            "/beheer/gebruikersgegevens/voorbeeld",
            // The file's own limit (import.max_mib) is applied as it is read.
            axum::routing::post(beheer::upload).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route(
            "/beheer/gebruikersgegevens/toepassen",
            axum::routing::post(beheer::apply),
        )
        .route("/beheer/las", axum::routing::post(beheer::save_las))
        .route(
            "/beheer/las/schakelaar",
            axum::routing::post(beheer::switch_las),
        )
        .route("/beheer/las/ophalen", axum::routing::post(beheer::pull_las))
        .route(
            "/beheer/leerkrachten",
            get(beheer::staff_list).post(beheer::add_staff),
        )
        .route(
            "/beheer/leerkrachten/tweestapsverificatie",
            axum::routing::post(beheer::set_policy),
        )
        .route("/beheer/leerkrachten/{staff}", get(beheer::person))
        .route(
            "/beheer/leerkrachten/{staff}/tweestapsverificatie-herstellen",
            axum::routing::post(beheer::reset_factor),
        )
        .route(
            "/beheer/leerkrachten/{staff}/e-mailadres",
            axum::routing::post(beheer::set_email),
        )
        .route(
            "/beheer/leerkrachten/{staff}/uitnodigen",
            axum::routing::post(beheer::invite),
        )
        .route(
            "/beheer/leerkrachten/{staff}/rollen",
            axum::routing::post(beheer::set_roles),
        )
        .route(
            "/beheer/leerkrachten/{staff}/groepen",
            axum::routing::post(beheer::link_group),
        )
        .route(
            "/beheer/leerkrachten/{staff}/groepen/ontkoppelen",
            axum::routing::post(beheer::unlink_group),
        )
        .route(
            "/beheer/leerkrachten/{staff}/deactiveren",
            axum::routing::post(beheer::deactivate),
        )
        .route(
            "/beheer/groep/{group}/thuiscodes",
            axum::routing::post(beheer::group_codes),
        )
        .route(
            "/beheer/groep/{group}/plaatjes",
            axum::routing::post(beheer::bulk_pictures),
        )
        .route(
            "/beheer/leerling/{pupil}/plaatje",
            axum::routing::post(beheer::set_picture),
        )
        .route(
            "/beheer/leerling/{pupil}/ontgrendelen",
            axum::routing::post(beheer::unlock),
        )
        .route(
            "/beheer/leerling/{pupil}/thuiscode",
            axum::routing::post(beheer::pupil_code),
        )
        .route(
            "/beheer/leerling/{pupil}/thuiscode-intrekken",
            axum::routing::post(beheer::void_code),
        )
        .merge(operator::routes())
        .route("/inloggen", get(login::form).post(login::submit))
        .route(
            "/inloggen/code",
            get(second_factor::code_form).post(second_factor::code_submit),
        )
        .route(
            "/tweestapsverificatie",
            get(second_factor::overview).post(second_factor::enrol),
        )
        .route(
            "/inloggen/instellen",
            get(second_factor::forced_form).post(second_factor::forced_submit),
        )
        .route(
            "/tweestapsverificatie/verwijderen",
            axum::routing::post(second_factor::remove),
        )
        .route(
            "/tweestapsverificatie/herstelcodes",
            axum::routing::post(second_factor::renew_recovery_codes),
        )
        .route(
            "/inloggen/code/passkey",
            axum::routing::post(second_factor::code_passkey),
        )
        .route(
            "/inloggen/passkey",
            get(passkeys::login_form).post(passkeys::login_submit),
        )
        .route("/passkeys", get(passkeys::overview).post(passkeys::add))
        .route("/passkeys/{id}/naam", axum::routing::post(passkeys::rename))
        .route(
            "/passkeys/{id}/verwijderen",
            axum::routing::post(passkeys::remove),
        )
        .route("/uitloggen", axum::routing::post(home::logout))
        .route(
            "/uitloggen/overal",
            axum::routing::post(home::logout_everywhere),
        )
        .route("/school-kiezen", get(home::choose_form).post(home::choose))
        .route(
            "/wachtwoord-wijzigen",
            get(home::change_form).post(home::change),
        )
        .route(
            "/activeren",
            get(account::show_form::<account::Activation>)
                .post(account::set_password::<account::Activation>),
        )
        .route(
            "/wachtwoord-herstellen",
            get(account::show_form::<account::Reset>).post(account::set_password::<account::Reset>),
        )
        .route(
            "/wachtwoord-vergeten",
            get(account::forgot_form).post(account::forgot),
        )
        .route("/static/openpoort.css", get(stylesheet))
        .route(
            "/static/thuis.js",
            get(|| async { script(include_str!("../../static/thuis.js")) }),
        )
        .route(
            "/static/beheer.js",
            get(|| async { script(include_str!("../../static/beheer.js")) }),
        )
        .route(
            "/static/passkeys.js",
            get(|| async { script(include_str!("../../static/passkeys.js")) }),
        )
        .route(
            "/static/jsQR.js",
            get(|| async { script(include_str!("../../static/jsQR.js")) }),
        )
        .route("/static/plaatjes/{file}", get(picture))
        .route("/static/icon/{product}", get(icons::icon))
}

/// A new staff member as Beheer's form and the operator's first-ICT form send them. Blank is
/// allowed here: the rules say what is missing, and the form comes back with what was typed.
#[derive(Default, serde::Deserialize)]
pub struct PersonForm {
    #[serde(default)]
    roepnaam: String,
    #[serde(default)]
    voorvoegsel: String,
    #[serde(default)]
    achternaam: String,
    #[serde(default)]
    email: String,
}

impl PersonForm {
    fn person(&self) -> crate::school_admin::staff::NewPerson<'_> {
        crate::school_admin::staff::NewPerson {
            roepnaam: &self.roepnaam,
            voorvoegsel: &self.voorvoegsel,
            achternaam: &self.achternaam,
            email: &self.email,
        }
    }
}

/// How Beheer and the operator's pages mail a staff member their link.
fn mailing(state: &AppState) -> crate::school_admin::staff::Mailing<'_> {
    crate::school_admin::staff::Mailing {
        mailer: &state.mailer,
        public_url: &state.web.public_url,
    }
}

fn script(body: &'static str) -> Response {
    asset("text/javascript; charset=utf-8", body)
}

/// A file built into the binary; it changes only with a new release, so browsers may keep it
/// an hour.
fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

async fn picture(crate::http::extract::Path(file): crate::http::extract::Path<String>) -> Response {
    crate::pictures::svg_response(&file).unwrap_or_else(|| StatusCode::NOT_FOUND.into_response())
}

/// The place in `base.html` where an outage notice goes.
const OUTAGE_MARKER: &str = "<!--openpoort-outage-->";

/// Puts the operator's outage notice (if any) into every page: login pages, pupil pages and the
/// portal alike, without each handler having to fetch it.
pub async fn outage_banner(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(req).await;
    let notice = state
        .outage
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    // An ended notice is left in the register until the operator clears it, but not shown.
    let notice = notice.filter(|n| n.shown_at(crate::clock::unix_now()));
    let Some(notice) = notice.filter(|_| html) else {
        return response;
    };
    let (mut parts, body) = response.into_parts();
    // Pages are small and rendered in memory already; 1 MiB is far above any of them.
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let text = String::from_utf8_lossy(&bytes);
    let banner = format!(
        "<div class=\"outage\" role=\"alert\"><p><strong>Storing:</strong> {}</p><p class=\"en\" lang=\"en\"><strong>Outage:</strong> {}</p></div>",
        escape_html(&notice.nl),
        escape_html(&notice.en)
    );
    let body = text.replacen(OUTAGE_MARKER, &banner, 1);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(body))
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

async fn stylesheet() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../static/openpoort.css"),
    )
}
