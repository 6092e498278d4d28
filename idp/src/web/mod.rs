//! Server-rendered pages: staff login, activation, password reset, school choice and logout; the
//! pupils' shortcut, pickers and home-code login; the portal and /beheer.
//!
//! Every page is Dutch first with English beside it, every form carries a CSRF token, and every
//! response of these routes is marked `no-store` and framed by nobody.

mod account;
mod beheer;
mod home;
pub mod login;
mod portal;
mod pupil;
pub mod session;

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use directory::model::Cidr;

use crate::config::Config;
// The pages' own submodules reach these through `super::`, as before they moved down.
use crate::http::{
    Text, address_key, client_ip, cookie_value, internal_error, message, page, random_token,
    see_other, sha256_hex, url_encode,
};
use crate::server::AppState;

/// Settings the pages need, derived once from the configuration.
#[derive(Clone, Debug)]
pub struct WebConfig {
    pub public_url: String,
    /// Cookies are `Secure` with the `__Host-` prefix unless openpoort runs on plain http in
    /// development mode, where browsers would drop such cookies.
    pub secure_cookies: bool,
    pub session_cookie: &'static str,
    pub csrf_cookie: &'static str,
    pub idle: Duration,
    pub absolute: Duration,
    pub trusted_proxies: Vec<Cidr>,
    pub max_failures_per_account: u64,
    pub max_failures_per_ip: u64,
    pub failure_window: Duration,
    /// In development, links that were mailed are also logged, so that a demo works without
    /// reading the outbox.
    pub log_links: bool,
    pub saml: crate::config::SamlConfig,
}

impl WebConfig {
    pub fn from_config(config: &Config) -> WebConfig {
        let secure = config.server.public_url.starts_with("https://");
        WebConfig {
            public_url: config.server.public_url.clone(),
            secure_cookies: secure,
            session_cookie: if secure {
                "__Host-openpoort"
            } else {
                "openpoort"
            },
            csrf_cookie: if secure {
                "__Host-openpoort-csrf"
            } else {
                "openpoort-csrf"
            },
            idle: Duration::from_secs(u64::from(config.sessions.idle_minutes) * 60),
            absolute: Duration::from_secs(u64::from(config.sessions.absolute_hours) * 3_600),
            trusted_proxies: config.server.trusted_proxies.clone(),
            max_failures_per_account: u64::from(config.login.max_failures_per_account),
            max_failures_per_ip: u64::from(config.login.max_failures_per_ip),
            failure_window: Duration::from_secs(
                u64::from(config.login.failure_window_minutes) * 60,
            ),
            log_links: config.is_development(),
            saml: config.saml.clone(),
        }
    }

    /// A `Set-Cookie` value with the attributes every openpoort cookie carries.
    pub fn cookie(&self, name: &str, value: &str, max_age: Option<u64>) -> HeaderValue {
        let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
        if self.secure_cookies {
            c.push_str("; Secure");
        }
        if let Some(age) = max_age {
            c.push_str(&format!("; Max-Age={age}"));
        }
        HeaderValue::from_str(&c).expect("cookie values are base64url")
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(portal::portal))
        .route("/login/leerlingen/snelkoppelaar", get(pupil::shortcut))
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
            "/beheer/groep/{group}/thuiscodes",
            axum::routing::post(beheer::group_codes),
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
        .route("/inloggen", get(login::form).post(login::submit))
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
            get(account::activation_form).post(account::activate),
        )
        .route(
            "/wachtwoord-herstellen",
            get(account::reset_form).post(account::reset),
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
            "/static/jsQR.js",
            get(|| async { script(include_str!("../../static/jsQR.js")) }),
        )
        .route("/static/plaatjes/{file}", get(picture))
}

fn script(body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

async fn picture(crate::extract::Path(file): crate::extract::Path<String>) -> Response {
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
        "<div class=\"outage\" role=\"alert\"><strong>Storing / Outage:</strong> {}</div>",
        escape_html(&notice)
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
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/openpoort.css"),
    )
        .into_response()
}

/// The CSRF token of this browser, and the `Set-Cookie` to send when it is new. The token is
/// a double-submit value in a `__Host-` cookie: another site can neither read it nor, thanks to
/// the prefix, plant one of its own.
pub fn csrf_token(web: &WebConfig, headers: &HeaderMap) -> (String, HeaderMap) {
    if let Some(t) = cookie_value(headers, web.csrf_cookie).filter(|t| t.len() == 43) {
        return (t.to_owned(), HeaderMap::new());
    }
    let token = random_token();
    let mut set = HeaderMap::new();
    set.insert(
        header::SET_COOKIE,
        web.cookie(web.csrf_cookie, &token, None),
    );
    (token, set)
}

/// Whether a submitted form carries this browser's CSRF token.
pub fn csrf_ok(web: &WebConfig, headers: &HeaderMap, submitted: &str) -> bool {
    match cookie_value(headers, web.csrf_cookie) {
        Some(expected) if expected.len() == submitted.len() && !expected.is_empty() => {
            openssl::memcmp::eq(expected.as_bytes(), submitted.as_bytes())
        }
        _ => false,
    }
}

pub fn csrf_refused() -> Response {
    message(
        StatusCode::FORBIDDEN,
        "Formulier verlopen",
        Text::new(
            "Dit formulier is verlopen of niet van openpoort afkomstig. Laad de pagina opnieuw en probeer het nog eens.",
            "This form has expired or did not come from openpoort. Reload the page and try again.",
        ),
        Some(("/inloggen", "Naar inloggen / To log in")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_token_must_match_the_cookie() {
        let web = WebConfig::from_config(&Config::default());
        let mut h = HeaderMap::new();
        let token = random_token();
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("other=1; {}={token}", web.csrf_cookie)).unwrap(),
        );
        assert!(csrf_ok(&web, &h, &token));
        assert!(!csrf_ok(&web, &h, &random_token()));
        assert!(!csrf_ok(&web, &h, ""));
        assert!(!csrf_ok(&web, &HeaderMap::new(), &token));
    }
}
