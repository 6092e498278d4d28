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

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use askama::Template;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use directory::model::Cidr;

use crate::config::Config;
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

/// Text in both languages.
#[derive(Clone, Debug)]
pub struct Text {
    pub nl: String,
    pub en: String,
}

impl Text {
    pub fn new(nl: impl Into<String>, en: impl Into<String>) -> Text {
        Text {
            nl: nl.into(),
            en: en.into(),
        }
    }
}

/// A rendered page with the headers every page of openpoort carries.
pub fn page(status: StatusCode, template: &impl Template, extra: HeaderMap) -> Response {
    match template.render() {
        Ok(html) => {
            let mut response = (status, html).into_response();
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            // Pages that carry tokens or personal data must not be kept by browsers or proxies.
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
                ),
            );
            for (name, value) in extra.iter() {
                h.append(name, value.clone());
            }
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "page template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub title: String,
    pub text: Text,
    pub alert: bool,
    pub next: Option<(String, String)>,
}

pub fn message(
    status: StatusCode,
    title: &str,
    text: Text,
    next: Option<(&str, &str)>,
) -> Response {
    page(
        status,
        &MessagePage {
            title: title.to_owned(),
            text,
            alert: !status.is_success(),
            next: next.map(|(h, l)| (h.to_owned(), l.to_owned())),
        },
        HeaderMap::new(),
    )
}

/// Something went wrong on our side: log it, show a plain page without details. A password
/// check refused because too many wait ([`crate::password::HashError::Busy`]) is no fault
/// but a full queue: 503 with Retry-After. It is recognised here so that every handler that
/// hashes answers it so, without each having to know.
pub fn internal_error(e: impl std::fmt::Display + 'static) -> Response {
    if let Some(crate::password::HashError::Busy) =
        (&e as &dyn std::any::Any).downcast_ref::<crate::password::HashError>()
    {
        return password_queue_full();
    }
    tracing::error!(error = %e, "request failed");
    message(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Er ging iets mis",
        Text::new(
            "Er ging iets mis bij openpoort. Probeer het later opnieuw.",
            "Something went wrong at openpoort. Please try again later.",
        ),
        None,
    )
}

/// The answer when the password queue is full: try again in a moment.
pub fn password_queue_full() -> Response {
    tracing::warn!("password check refused: the queue is full");
    let mut response = message(
        StatusCode::SERVICE_UNAVAILABLE,
        "Even geduld",
        Text::new(
            "Het is op dit moment erg druk bij openpoort. Probeer het over een paar seconden opnieuw.",
            "openpoort is very busy right now. Please try again in a few seconds.",
        ),
        None,
    );
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(crate::password::BUSY_RETRY_AFTER_SECONDS),
    );
    response
}

/// The value of one cookie from the request.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// 32 random bytes, base64url: session ids, CSRF tokens and link tokens.
pub fn random_token() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    openssl::rand::rand_bytes(&mut bytes).expect("OpenSSL random generator");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 in hex: how tokens and e-mail addresses appear in storage keys.
pub fn sha256_hex(data: &str) -> String {
    openssl::sha::sha256(data.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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

/// The client's address: the peer, or, when the peer is a trusted proxy, the right-most
/// `X-Forwarded-For` entry that is not itself a trusted proxy. Entries further left are
/// written by the client and prove nothing, so reading stops at the first entry that is not a
/// trusted proxy, whether it is an address or something unreadable: an unreadable entry there
/// gives the nearest trusted hop's address (skipping it would hand the choice to the client).
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let peer_ip = peer.ip().to_canonical();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer_ip) {
        return peer_ip;
    }
    // Every entry in order, left to right over all the header's lines; `None` for one that
    // cannot be read (a line that is not text counts as one unreadable entry).
    let entries: Vec<Option<IpAddr>> = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|v| match v.to_str() {
            Ok(text) => text.split(',').map(forwarded_address).collect(),
            Err(_) => vec![None],
        })
        .collect();
    let mut nearest = peer_ip;
    for entry in entries.iter().rev() {
        match entry {
            Some(ip) if is_trusted(*ip) => nearest = *ip,
            Some(ip) => return *ip,
            None => return nearest,
        }
    }
    // Every hop is a trusted proxy: the client is on the inside, and the left-most is it.
    nearest
}

/// One `X-Forwarded-For` entry as proxies write it: `192.0.2.1`, `192.0.2.1:5678`,
/// `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:443`, any of them in double quotes.
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    let entry = entry
        .strip_prefix('"')
        .and_then(|e| e.strip_suffix('"'))
        .unwrap_or(entry);
    let ip = if let Ok(ip) = entry.parse::<IpAddr>() {
        ip
    } else if let Ok(socket) = entry.parse::<SocketAddr>() {
        socket.ip()
    } else {
        entry
            .strip_prefix('[')?
            .strip_suffix(']')?
            .parse::<std::net::Ipv6Addr>()
            .ok()?
            .into()
    };
    Some(ip.to_canonical())
}

/// The address a per-address limit counts under. An IPv6 client usually holds a whole /64 and
/// can pick any address in it, so the /64 is what counts as one address; an IPv4 address (or an
/// IPv4-mapped IPv6 one) counts alone.
pub fn address_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// Percent-encodes a query-parameter value.
pub fn url_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// A redirect that also sets headers (cookies).
pub fn see_other(location: &str, extra: HeaderMap) -> Response {
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for (name, value) in extra.iter() {
        h.append(name, value.clone());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn peer(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap(), 40000)
    }

    #[test]
    fn addresses_of_one_ipv6_64_count_as_one_address() {
        let key = |text: &str| super::address_key(text.parse().unwrap());
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.7"), key("192.0.2.7"));
        assert_ne!(key("192.0.2.7"), key("192.0.2.8"));
    }

    #[test]
    fn forwarded_for_is_ignored_from_an_untrusted_peer() {
        let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
        let ip = client_ip(peer("198.51.100.7"), &headers(&["192.0.2.1"]), &trusted);
        assert_eq!(ip, "198.51.100.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn forwarded_for_is_read_right_to_left_past_trusted_proxies() {
        let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
        // The client wrote 203.0.113.66 itself; the proxy chain added 192.0.2.1 and 10.1.1.1.
        let h = headers(&["203.0.113.66, 192.0.2.1", "10.1.1.1"]);
        let ip = client_ip(peer("10.0.0.5"), &h, &trusted);
        assert_eq!(ip, "192.0.2.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn malformed_forwarded_for_falls_back_to_the_peer() {
        let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
        let ip = client_ip(peer("10.0.0.5"), &headers(&["not-an-ip"]), &trusted);
        assert_eq!(ip, "10.0.0.5".parse::<IpAddr>().unwrap());
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_unreadable_entry_left_of_the_client_does_not_hide_the_client() {
        let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
        // The client wrote garbage itself; the proxy appended the address it saw.
        let h = headers(&["<script>, 192.0.2.1"]);
        assert_eq!(client_ip(peer("10.0.0.5"), &h, &trusted), ip("192.0.2.1"));
    }

    #[test]
    fn an_unreadable_entry_where_the_client_would_be_read_does_not_let_the_client_choose() {
        let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
        // Left of the unreadable entry everything is the client's own writing: 198.51.100.9
        // must not be taken. The nearest trusted hop (10.2.2.2) is what is known.
        for xff in [
            "198.51.100.9, unknown, 10.2.2.2",
            "198.51.100.9, , 10.2.2.2",
            "198.51.100.9, 192.0.2.1:notaport, 10.2.2.2",
        ] {
            let got = client_ip(peer("10.0.0.5"), &headers(&[xff]), &trusted);
            assert_eq!(got, ip("10.2.2.2"), "{xff}");
        }
        let h = headers(&["198.51.100.9, garbage"]);
        assert_eq!(client_ip(peer("10.0.0.5"), &h, &trusted), ip("10.0.0.5"));
    }

    #[test]
    fn forwarded_for_entries_with_ports_brackets_and_quotes_are_read() {
        let trusted = [
            Cidr::parse("10.0.0.0/8").unwrap(),
            Cidr::parse("fd00::/8").unwrap(),
        ];
        for (xff, client) in [
            ("192.0.2.1:5678", "192.0.2.1"),
            ("[2001:db8::1]:443", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
            ("2001:db8::1", "2001:db8::1"),
            ("\"[2001:db8::1]:443\"", "2001:db8::1"),
            ("\"192.0.2.1\"", "192.0.2.1"),
            ("::ffff:192.0.2.1", "192.0.2.1"),
            // Proxies that add their own port are passed as proxies.
            (
                "203.0.113.66, 192.0.2.1:1234, 10.1.1.1:8080, [fd00::7]:443",
                "192.0.2.1",
            ),
        ] {
            let got = client_ip(peer("10.0.0.5"), &headers(&[xff]), &trusted);
            assert_eq!(got, ip(client), "{xff}");
        }
    }

    #[test]
    fn an_inside_client_behind_trusted_proxies_only_is_the_left_most() {
        let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
        let h = headers(&["10.9.9.9, 10.1.1.1"]);
        assert_eq!(client_ip(peer("10.0.0.5"), &h, &trusted), ip("10.9.9.9"));
    }

    #[test]
    fn a_full_password_queue_is_answered_503_with_retry_after() {
        let response = internal_error(crate::password::HashError::Busy);
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
        let other = internal_error(crate::password::HashError::Closed);
        assert_eq!(other.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

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
