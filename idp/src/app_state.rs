//! What every request handler may reach: the shared state built once at start-up and the
//! settings derived from the configuration. Below every front end; no globals.

use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderValue;
use certs::KeyManager;
use directory::Directory;
use directory::model::Cidr;

use crate::config::Config;
use crate::mail::Mailer;
use crate::metrics::Metrics;
use crate::password::Hasher;
use crate::state::State;

/// A product icon as last fetched: from which URL, when, and the image (`None` when the fetch
/// failed or the answer was no image we serve, so that a broken URL is not fetched on every
/// portal view).
#[derive(Clone)]
pub struct CachedIcon {
    pub url: String,
    pub fetched: std::time::Instant,
    pub image: Option<(&'static str, axum::body::Bytes)>,
}

/// Per product id, the lock its icon fetch is made under.
pub type IconFetches =
    Arc<std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Mutex<()>>>>>;

/// Everything a request handler may reach. Built once at start-up and passed by axum; no globals.
/// axum clones the state for every extractor and middleware of every request, so it is one
/// shared pointer rather than a dozen (the clones took about 2% of a login's CPU).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub directory: Directory,
    pub keys: Arc<KeyManager<Directory>>,
    pub metrics: Arc<Metrics>,
    pub state: State,
    pub hasher: Hasher,
    pub mailer: Mailer,
    pub web: Arc<WebConfig>,
    pub api: Arc<ApiConfig>,
    pub broker: broker::Broker,
    /// Outgoing HTTP within the outbound policy: back-channel logout, clients' jwks_uri.
    pub http: directory::outbound::Outbound,
    /// The operator's outage notice, refreshed from the register every few seconds.
    pub outage: Arc<std::sync::RwLock<Option<directory::pupil_login::Notice>>>,
    /// SAML signers of RS256 keys by key id, newest first (see `xml_signing`): making one
    /// decodes the key into xmlsec, which costs more than the signature, so it is made once per
    /// key.
    pub saml_signers: Arc<std::sync::Mutex<Vec<(String, metadata::saml::sign::XmlSigner)>>>,
    /// Product icons fetched from their registered URLs, by product id (see `web::icons`).
    pub icons: Arc<std::sync::Mutex<std::collections::HashMap<String, CachedIcon>>>,
    /// One lock per product whose icon is being fetched, so that concurrent first requests
    /// share one fetch instead of each asking the publisher's server (see `web::icons`).
    pub icon_fetches: IconFetches,
    /// The WebAuthn relying party for staff passkeys, from `server.public_url`; none when that
    /// URL's host is not a domain name (see `webauthn`), and then no page offers passkeys.
    pub webauthn: Option<Arc<crate::webauthn::Webauthn>>,
}

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
    /// Who must have a second factor where a school chose no policy (`login.second_factor_policy`).
    pub second_factor_policy: directory::second_factor::SecondFactorPolicy,
    /// In development, links that were mailed are also logged, so that a demo works without
    /// reading the outbox.
    pub log_links: bool,
    pub saml: crate::config::SamlConfig,
    /// The processing agreement's version in force (`privacy.agreement_version`), if any.
    pub agreement_version: Option<String>,
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
            second_factor_policy: config.login.second_factor_policy,
            log_links: config.is_development(),
            saml: config.saml.clone(),
            agreement_version: config.privacy.current_agreement().map(str::to_owned),
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

/// Settings the admin API needs, derived once from the configuration.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// Registrations may use http on loopback hosts (see `ClientRegistration::validate`).
    pub development: bool,
    /// The import's size limit, for uploads too.
    pub edexml_max_bytes: usize,
    /// A pull from a school's LAS (Beheer's "nu ophalen"): its time limit and where it may go.
    pub las_timeout: Duration,
    pub outbound: directory::outbound::OutboundPolicy,
}

impl ApiConfig {
    pub fn from_config(config: &Config) -> ApiConfig {
        ApiConfig {
            development: config.is_development(),
            edexml_max_bytes: config.import.max_bytes(),
            las_timeout: Duration::from_secs(config.las.timeout_seconds),
            outbound: config.outbound_policy(),
        }
    }
}
