//! openpoort's settings: one commented TOML file, overridden by `OPENPOORT_*`
//! environment variables, checked in full before anything starts.
//!
//! Layering is built-in defaults, then the file, then the environment. Every
//! key that exists is listed once in [`SETTINGS`]; unknown sections, keys and
//! environment variables are refused rather than ignored, because a silently
//! ignored typo in an identity provider's configuration (a trusted proxy, a
//! mode) is a security problem that nobody notices until it matters.
//!
//! Every error names the key as `section.key` together with its environment
//! variable, so the operator can fix it wherever they configure openpoort.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use directory::model::Cidr;
use serde::Deserialize;
use toml::{Table, Value};

/// Names the config file to read when `--config` is not given. It is the only
/// `OPENPOORT_` variable that is not a setting.
pub const CONFIG_PATH_ENV: &str = "OPENPOORT_CONFIG";

const ENV_PREFIX: &str = "OPENPOORT_";

/// What the error messages point operators at; it is the documentation.
const SHIPPED_FILE: &str = "config/openpoort.toml";

/// SQLite database file name inside `storage.data_dir` when `database.url` is empty.
const SQLITE_FILE_NAME: &str = "openpoort.sqlite";

/// X.509 upper bound for a common name (RFC 5280 `ub-common-name`); longer
/// names produce certificates that strict parsers reject.
const MAX_COMMON_NAME_CHARS: usize = 64;

// ---------------------------------------------------------------------------
// The settings
// ---------------------------------------------------------------------------

/// Every openpoort setting. Build with [`Config::load`]; a value from there
/// has passed all checks. [`Config::default`] is the unchecked built-in
/// baseline and does not start in production mode on its own (it has no
/// `keys.kek` and an `http://` public URL).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub database: DatabaseConfig,
    pub keys: KeysConfig,
    pub sessions: SessionsConfig,
    pub login: LoginConfig,
    pub mail: MailConfig,
    pub audit: AuditConfig,
    pub saml: SamlConfig,
    pub import: ImportConfig,
    pub log: LogConfig,
    pub las: LasConfig,
    pub outbound: OutboundConfig,
    pub privacy: PrivacyConfig,
    pub partner: PartnerConfig,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub mode: Mode,
    pub listen: SocketAddr,
    /// The issuer: `http(s)://host[:port][/path]`, never with a trailing slash.
    pub public_url: String,
    pub trusted_proxies: Vec<Cidr>,
    pub shutdown_grace_seconds: u64,
    pub header_read_timeout_seconds: u64,
    pub idle_timeout_seconds: u64,
    pub body_timeout_seconds: u64,
    pub password_queue: u32,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            mode: Mode::Production,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: "http://localhost:8080".to_owned(),
            trusted_proxies: Vec::new(),
            shutdown_grace_seconds: 30,
            header_read_timeout_seconds: 10,
            idle_timeout_seconds: 60,
            body_timeout_seconds: 30,
            password_queue: 64,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Production,
    Development,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    pub data_dir: PathBuf,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            data_dir: PathBuf::from("data"),
        }
    }
}

/// Debug is written by hand because a PostgreSQL URL may carry a password
/// and configs end up in logs.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// Empty means the embedded SQLite file; use [`Config::database_url`].
    pub url: String,
    pub max_connections: u32,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: String::new(),
            max_connections: 10,
        }
    }
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// Debug is written by hand so the key-encryption key never reaches a log.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeysConfig {
    /// Standard base64 of 32 bytes, or empty; decoded by the key store.
    pub kek: String,
    pub certificate_common_name: String,
    pub certificate_validity_days: u32,
    /// Days a scheduled rotation waits after a key became current; 0: rotation by command only.
    pub rotate_days: u32,
    /// Days a retired key stays published in JWKS and metadata after its rotation.
    pub retired_published_days: u32,
}

impl Default for KeysConfig {
    fn default() -> Self {
        KeysConfig {
            kek: String::new(),
            certificate_common_name: "openpoort".to_owned(),
            certificate_validity_days: 3650,
            rotate_days: 0,
            retired_published_days: 7,
        }
    }
}

impl fmt::Debug for KeysConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeysConfig")
            .field("kek", &redact_secret(&self.kek))
            .field("certificate_common_name", &self.certificate_common_name)
            .field("certificate_validity_days", &self.certificate_validity_days)
            .field("rotate_days", &self.rotate_days)
            .field("retired_published_days", &self.retired_published_days)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionStoreKind {
    Memory,
    Redis,
}

/// Debug is written by hand because a Redis URL may carry a password.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionsConfig {
    pub store: SessionStoreKind,
    pub redis_url: String,
    pub redis_prefix: String,
    pub idle_minutes: u32,
    pub absolute_hours: u32,
}

impl Default for SessionsConfig {
    fn default() -> Self {
        SessionsConfig {
            store: SessionStoreKind::Memory,
            redis_url: "redis://127.0.0.1:6379/".to_owned(),
            redis_prefix: "openpoort:".to_owned(),
            idle_minutes: 60,
            absolute_hours: 12,
        }
    }
}

impl fmt::Debug for SessionsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionsConfig")
            .field("store", &self.store)
            .field("redis_url", &redact_url(&self.redis_url))
            .field("redis_prefix", &self.redis_prefix)
            .field("idle_minutes", &self.idle_minutes)
            .field("absolute_hours", &self.absolute_hours)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoginConfig {
    pub max_failures_per_account: u32,
    pub max_failures_per_ip: u32,
    pub failure_window_minutes: u32,
    /// Who must have a second factor at a school that chose no policy of its own.
    pub second_factor_policy: directory::second_factor::SecondFactorPolicy,
}

impl Default for LoginConfig {
    fn default() -> Self {
        LoginConfig {
            max_failures_per_account: 10,
            max_failures_per_ip: 100,
            failure_window_minutes: 15,
            second_factor_policy: directory::second_factor::SecondFactorPolicy::None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    Outbox,
    Smtp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    None,
    Starttls,
    Tls,
}

/// Debug is written by hand so the SMTP password never reaches a log.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    pub transport: MailTransport,
    pub from: String,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_tls: SmtpTls,
    pub smtp_username: String,
    pub smtp_password: String,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            transport: MailTransport::Outbox,
            from: "openpoort <noreply@localhost>".to_owned(),
            smtp_host: String::new(),
            smtp_port: 587,
            smtp_tls: SmtpTls::Starttls,
            smtp_username: String::new(),
            smtp_password: String::new(),
        }
    }
}

impl fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailConfig")
            .field("transport", &self.transport)
            .field("from", &self.from)
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_tls", &self.smtp_tls)
            .field("smtp_username", &self.smtp_username)
            .field("smtp_password", &redact_secret(&self.smtp_password))
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// Entries older than this many days are removed once a day.
    pub retention_days: u32,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            retention_days: 730,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SamlConfig {
    /// An assertion's NotOnOrAfter lies this many seconds after it was issued.
    pub assertion_lifetime_seconds: u32,
    /// NotBefore lies this many seconds before issue, for service providers whose clocks run
    /// behind; also how far an AuthnRequest's IssueInstant may lie in the future.
    pub clock_skew_seconds: u32,
    /// Service providers registered from a metadata URL are re-read this often.
    pub metadata_refresh_hours: u32,
    /// SAML requests (SSO and logout, either binding) one address may send per 15 minutes: each
    /// one read leaves a replay marker and often a parked request in the short-lived store.
    pub max_requests_per_address: u32,
}

impl Default for SamlConfig {
    fn default() -> Self {
        SamlConfig {
            assertion_lifetime_seconds: 300,
            clock_skew_seconds: 60,
            metadata_refresh_hours: 6,
            max_requests_per_address: 10_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImportConfig {
    /// EDEXML files larger than this many MiB are refused before they are read, from the
    /// command line and the admin API alike.
    pub max_mib: u32,
}

impl Default for ImportConfig {
    fn default() -> Self {
        ImportConfig { max_mib: 64 }
    }
}

impl ImportConfig {
    /// The limit in bytes, as the EDEXML reader takes it.
    pub fn max_bytes(&self) -> usize {
        self.max_mib as usize * 1024 * 1024
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LasConfig {
    /// "HH:MM", Dutch local time, of the nightly pull of every switched-on LAS link.
    pub pull_time: String,
    /// Longest a single pull may take, from connecting to the file's last byte.
    pub timeout_seconds: u64,
}

impl Default for LasConfig {
    fn default() -> Self {
        LasConfig {
            pull_time: "02:30".to_owned(),
            timeout_seconds: 120,
        }
    }
}

impl LasConfig {
    /// Minutes after midnight of `pull_time`; [`Config::load`] has checked its form.
    pub fn pull_minutes(&self) -> u32 {
        parse_time_of_day(&self.pull_time).unwrap_or(150)
    }
}

/// "HH:MM" on a 24-hour clock to minutes after midnight.
fn parse_time_of_day(text: &str) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// What openpoort may fetch on its own (SP metadata, clients' jwks_uri, LAS files, back-channel
/// logout): see [`directory::outbound`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboundConfig {
    /// Internal networks (loopback, private, link-local …) that may be fetched from all the
    /// same, such as a LAS or an SP in the school board's own network.
    pub allow_networks: Vec<Cidr>,
}

/// The processing agreement (verwerkersovereenkomst) the boards are asked to accept.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyConfig {
    /// The version in force; empty when the operator has none to ask for yet.
    pub agreement_version: String,
}

impl PrivacyConfig {
    pub fn current_agreement(&self) -> Option<&str> {
        let v = self.agreement_version.trim();
        (!v.is_empty()).then_some(v)
    }
}

/// The partner API's own mutual-TLS listener (Basispoort's `rest/v2` and Hosted LIKA paths).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PartnerConfig {
    /// Address and port, e.g. "0.0.0.0:8443"; empty: no partner listener.
    pub listen: String,
    /// The listener's certificate chain (PEM).
    pub certificate: PathBuf,
    /// The listener's private key (PEM).
    pub private_key: PathBuf,
}

impl PartnerConfig {
    /// Where to listen, when the listener is on (checked by [`Config::load`]).
    pub fn address(&self) -> Option<SocketAddr> {
        self.listen.trim().parse().ok()
    }
}

impl Config {
    /// The outbound policy of this mode and allowance.
    pub fn outbound_policy(&self) -> directory::outbound::OutboundPolicy {
        directory::outbound::OutboundPolicy::new(
            self.is_development(),
            self.outbound.allow_networks.clone(),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A `tracing_subscriber::EnvFilter` directive; checked by whoever builds the filter.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Human,
            level: "info".to_owned(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// Where a setting's final value came from; bad values say so, because an
/// environment variable silently overriding the file is a classic puzzle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueSource {
    BuiltIn,
    File(String),
    Environment,
}

impl fmt::Display for ValueSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueSource::BuiltIn => f.write_str("the built-in default"),
            ValueSource::File(origin) => write!(f, "set in {origin}"),
            ValueSource::Environment => f.write_str("set in the environment"),
        }
    }
}

/// Why the configuration was refused. Underlying I/O and TOML errors are part
/// of the message rather than `source()`, so error-chain printers do not
/// repeat them.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },

    // toml's message ends in a newline, which would dangle in a log line.
    #[error("config file {origin} is not valid TOML: {}", .error.to_string().trim_end())]
    Syntax {
        origin: String,
        error: toml::de::Error,
    },

    #[error(
        "unknown section `[{section}]` in {origin} (known sections: {})",
        section_list()
    )]
    UnknownSection { section: String, origin: String },

    #[error("`{section}` in {origin} must be a section written as [{section}], not a single value")]
    NotASection {
        section: &'static str,
        origin: String,
    },

    #[error("unknown key `{key}` in {origin} (known keys in [{section}]: {})", key_list(.section))]
    UnknownKey {
        /// Dotted, as written: `section.key`.
        key: String,
        section: &'static str,
        origin: String,
    },

    #[error("unknown environment variable {name}: no such setting (see {SHIPPED_FILE})")]
    UnknownEnvironmentVariable { name: String },

    #[error("bad value for `{key}` ({env}): {reason} ({set_by})")]
    BadValue {
        key: &'static str,
        env: &'static str,
        reason: String,
        set_by: ValueSource,
    },

    /// Only reachable if [`SETTINGS`] and the structs disagree; kept so such a
    /// mistake is a start-up error instead of a panic.
    #[error("the configuration does not fit openpoort's settings: {detail}")]
    Mismatch { detail: String },
}

fn section_list() -> String {
    sections().collect::<Vec<_>>().join(", ")
}

fn key_list(section: &str) -> String {
    SETTINGS
        .iter()
        .filter(|s| s.section == section)
        .map(|s| s.key)
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------
// The table of known keys
// ---------------------------------------------------------------------------

/// How a value is written, both in TOML and in the environment. Checking the
/// kind before serde sees the value is what lets every type error name its key.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Choice(&'static [&'static str]),
    SocketAddr,
    CidrList,
    Integer { min: i64, max: i64 },
}

struct Setting {
    section: &'static str,
    key: &'static str,
    dotted: &'static str,
    env: &'static str,
    kind: Kind,
}

/// The single source of truth for what can be configured, in file order.
/// Spelled out rather than derived so names stay greppable; a test checks
/// that `dotted` and `env` follow from `section` and `key`.
/// The shortest scheduled rotation period (see `validate`).
const MIN_ROTATE_DAYS: u32 = 14;

const SETTINGS: &[Setting] = &[
    Setting {
        section: "server",
        key: "mode",
        dotted: "server.mode",
        env: "OPENPOORT_SERVER_MODE",
        kind: Kind::Choice(&["production", "development"]),
    },
    Setting {
        section: "server",
        key: "listen",
        dotted: "server.listen",
        env: "OPENPOORT_SERVER_LISTEN",
        kind: Kind::SocketAddr,
    },
    Setting {
        section: "server",
        key: "public_url",
        dotted: "server.public_url",
        env: "OPENPOORT_SERVER_PUBLIC_URL",
        kind: Kind::Text,
    },
    Setting {
        section: "server",
        key: "trusted_proxies",
        dotted: "server.trusted_proxies",
        env: "OPENPOORT_SERVER_TRUSTED_PROXIES",
        kind: Kind::CidrList,
    },
    Setting {
        section: "server",
        key: "shutdown_grace_seconds",
        dotted: "server.shutdown_grace_seconds",
        env: "OPENPOORT_SERVER_SHUTDOWN_GRACE_SECONDS",
        kind: Kind::Integer { min: 1, max: 600 },
    },
    Setting {
        section: "server",
        key: "header_read_timeout_seconds",
        dotted: "server.header_read_timeout_seconds",
        env: "OPENPOORT_SERVER_HEADER_READ_TIMEOUT_SECONDS",
        kind: Kind::Integer { min: 1, max: 300 },
    },
    Setting {
        section: "server",
        key: "idle_timeout_seconds",
        dotted: "server.idle_timeout_seconds",
        env: "OPENPOORT_SERVER_IDLE_TIMEOUT_SECONDS",
        kind: Kind::Integer { min: 1, max: 3600 },
    },
    Setting {
        section: "server",
        key: "body_timeout_seconds",
        dotted: "server.body_timeout_seconds",
        env: "OPENPOORT_SERVER_BODY_TIMEOUT_SECONDS",
        kind: Kind::Integer { min: 1, max: 3600 },
    },
    Setting {
        section: "server",
        key: "password_queue",
        dotted: "server.password_queue",
        env: "OPENPOORT_SERVER_PASSWORD_QUEUE",
        kind: Kind::Integer {
            min: 1,
            max: 100_000,
        },
    },
    Setting {
        section: "storage",
        key: "data_dir",
        dotted: "storage.data_dir",
        env: "OPENPOORT_STORAGE_DATA_DIR",
        kind: Kind::Text,
    },
    Setting {
        section: "database",
        key: "url",
        dotted: "database.url",
        env: "OPENPOORT_DATABASE_URL",
        kind: Kind::Text,
    },
    Setting {
        section: "database",
        key: "max_connections",
        dotted: "database.max_connections",
        env: "OPENPOORT_DATABASE_MAX_CONNECTIONS",
        kind: Kind::Integer { min: 1, max: 1000 },
    },
    Setting {
        section: "keys",
        key: "kek",
        dotted: "keys.kek",
        env: "OPENPOORT_KEYS_KEK",
        kind: Kind::Text,
    },
    Setting {
        section: "keys",
        key: "certificate_common_name",
        dotted: "keys.certificate_common_name",
        env: "OPENPOORT_KEYS_CERTIFICATE_COMMON_NAME",
        kind: Kind::Text,
    },
    Setting {
        section: "keys",
        key: "certificate_validity_days",
        dotted: "keys.certificate_validity_days",
        env: "OPENPOORT_KEYS_CERTIFICATE_VALIDITY_DAYS",
        kind: Kind::Integer { min: 1, max: 36500 },
    },
    Setting {
        section: "keys",
        key: "rotate_days",
        dotted: "keys.rotate_days",
        env: "OPENPOORT_KEYS_ROTATE_DAYS",
        kind: Kind::Integer { min: 0, max: 3650 },
    },
    Setting {
        section: "keys",
        key: "retired_published_days",
        dotted: "keys.retired_published_days",
        env: "OPENPOORT_KEYS_RETIRED_PUBLISHED_DAYS",
        kind: Kind::Integer { min: 1, max: 365 },
    },
    Setting {
        section: "sessions",
        key: "store",
        dotted: "sessions.store",
        env: "OPENPOORT_SESSIONS_STORE",
        kind: Kind::Choice(&["memory", "redis"]),
    },
    Setting {
        section: "sessions",
        key: "redis_url",
        dotted: "sessions.redis_url",
        env: "OPENPOORT_SESSIONS_REDIS_URL",
        kind: Kind::Text,
    },
    Setting {
        section: "sessions",
        key: "redis_prefix",
        dotted: "sessions.redis_prefix",
        env: "OPENPOORT_SESSIONS_REDIS_PREFIX",
        kind: Kind::Text,
    },
    Setting {
        section: "sessions",
        key: "idle_minutes",
        dotted: "sessions.idle_minutes",
        env: "OPENPOORT_SESSIONS_IDLE_MINUTES",
        kind: Kind::Integer { min: 5, max: 1440 },
    },
    Setting {
        section: "sessions",
        key: "absolute_hours",
        dotted: "sessions.absolute_hours",
        env: "OPENPOORT_SESSIONS_ABSOLUTE_HOURS",
        kind: Kind::Integer { min: 1, max: 168 },
    },
    Setting {
        section: "login",
        key: "max_failures_per_account",
        dotted: "login.max_failures_per_account",
        env: "OPENPOORT_LOGIN_MAX_FAILURES_PER_ACCOUNT",
        kind: Kind::Integer { min: 3, max: 1000 },
    },
    Setting {
        section: "login",
        key: "max_failures_per_ip",
        dotted: "login.max_failures_per_ip",
        env: "OPENPOORT_LOGIN_MAX_FAILURES_PER_IP",
        kind: Kind::Integer {
            min: 10,
            max: 100000,
        },
    },
    Setting {
        section: "login",
        key: "failure_window_minutes",
        dotted: "login.failure_window_minutes",
        env: "OPENPOORT_LOGIN_FAILURE_WINDOW_MINUTES",
        kind: Kind::Integer { min: 1, max: 1440 },
    },
    Setting {
        section: "login",
        key: "second_factor_policy",
        dotted: "login.second_factor_policy",
        env: "OPENPOORT_LOGIN_SECOND_FACTOR_POLICY",
        kind: Kind::Choice(&["none", "managers", "all_staff"]),
    },
    Setting {
        section: "mail",
        key: "transport",
        dotted: "mail.transport",
        env: "OPENPOORT_MAIL_TRANSPORT",
        kind: Kind::Choice(&["outbox", "smtp"]),
    },
    Setting {
        section: "mail",
        key: "from",
        dotted: "mail.from",
        env: "OPENPOORT_MAIL_FROM",
        kind: Kind::Text,
    },
    Setting {
        section: "mail",
        key: "smtp_host",
        dotted: "mail.smtp_host",
        env: "OPENPOORT_MAIL_SMTP_HOST",
        kind: Kind::Text,
    },
    Setting {
        section: "mail",
        key: "smtp_port",
        dotted: "mail.smtp_port",
        env: "OPENPOORT_MAIL_SMTP_PORT",
        kind: Kind::Integer { min: 1, max: 65535 },
    },
    Setting {
        section: "mail",
        key: "smtp_tls",
        dotted: "mail.smtp_tls",
        env: "OPENPOORT_MAIL_SMTP_TLS",
        kind: Kind::Choice(&["none", "starttls", "tls"]),
    },
    Setting {
        section: "mail",
        key: "smtp_username",
        dotted: "mail.smtp_username",
        env: "OPENPOORT_MAIL_SMTP_USERNAME",
        kind: Kind::Text,
    },
    Setting {
        section: "mail",
        key: "smtp_password",
        dotted: "mail.smtp_password",
        env: "OPENPOORT_MAIL_SMTP_PASSWORD",
        kind: Kind::Text,
    },
    Setting {
        section: "audit",
        key: "retention_days",
        dotted: "audit.retention_days",
        env: "OPENPOORT_AUDIT_RETENTION_DAYS",
        kind: Kind::Integer {
            min: 30,
            max: 36500,
        },
    },
    Setting {
        section: "saml",
        key: "assertion_lifetime_seconds",
        dotted: "saml.assertion_lifetime_seconds",
        env: "OPENPOORT_SAML_ASSERTION_LIFETIME_SECONDS",
        kind: Kind::Integer { min: 30, max: 3600 },
    },
    Setting {
        section: "saml",
        key: "clock_skew_seconds",
        dotted: "saml.clock_skew_seconds",
        env: "OPENPOORT_SAML_CLOCK_SKEW_SECONDS",
        kind: Kind::Integer { min: 0, max: 600 },
    },
    Setting {
        section: "saml",
        key: "metadata_refresh_hours",
        dotted: "saml.metadata_refresh_hours",
        env: "OPENPOORT_SAML_METADATA_REFRESH_HOURS",
        kind: Kind::Integer { min: 1, max: 168 },
    },
    Setting {
        section: "saml",
        key: "max_requests_per_address",
        dotted: "saml.max_requests_per_address",
        env: "OPENPOORT_SAML_MAX_REQUESTS_PER_ADDRESS",
        kind: Kind::Integer {
            min: 10,
            max: 10_000_000,
        },
    },
    Setting {
        section: "import",
        key: "max_mib",
        dotted: "import.max_mib",
        env: "OPENPOORT_IMPORT_MAX_MIB",
        kind: Kind::Integer { min: 1, max: 1024 },
    },
    Setting {
        section: "log",
        key: "format",
        dotted: "log.format",
        env: "OPENPOORT_LOG_FORMAT",
        kind: Kind::Choice(&["human", "json"]),
    },
    Setting {
        section: "log",
        key: "level",
        dotted: "log.level",
        env: "OPENPOORT_LOG_LEVEL",
        kind: Kind::Text,
    },
    Setting {
        section: "las",
        key: "pull_time",
        dotted: "las.pull_time",
        env: "OPENPOORT_LAS_PULL_TIME",
        kind: Kind::Text,
    },
    Setting {
        section: "las",
        key: "timeout_seconds",
        dotted: "las.timeout_seconds",
        env: "OPENPOORT_LAS_TIMEOUT_SECONDS",
        kind: Kind::Integer { min: 5, max: 3600 },
    },
    Setting {
        section: "outbound",
        key: "allow_networks",
        dotted: "outbound.allow_networks",
        env: "OPENPOORT_OUTBOUND_ALLOW_NETWORKS",
        kind: Kind::CidrList,
    },
    Setting {
        section: "privacy",
        key: "agreement_version",
        dotted: "privacy.agreement_version",
        env: "OPENPOORT_PRIVACY_AGREEMENT_VERSION",
        kind: Kind::Text,
    },
    Setting {
        section: "partner",
        key: "listen",
        dotted: "partner.listen",
        env: "OPENPOORT_PARTNER_LISTEN",
        kind: Kind::Text,
    },
    Setting {
        section: "partner",
        key: "certificate",
        dotted: "partner.certificate",
        env: "OPENPOORT_PARTNER_CERTIFICATE",
        kind: Kind::Text,
    },
    Setting {
        section: "partner",
        key: "private_key",
        dotted: "partner.private_key",
        env: "OPENPOORT_PARTNER_PRIVATE_KEY",
        kind: Kind::Text,
    },
];

/// All keys as (dotted name, environment variable), in file order.
pub fn known_keys() -> Vec<(&'static str, &'static str)> {
    SETTINGS.iter().map(|s| (s.dotted, s.env)).collect()
}

fn sections() -> impl Iterator<Item = &'static str> {
    SETTINGS
        .iter()
        .enumerate()
        .filter(|(i, s)| *i == 0 || SETTINGS[i - 1].section != s.section)
        .map(|(_, s)| s.section)
}

fn setting(dotted: &str) -> &'static Setting {
    SETTINGS
        .iter()
        .find(|s| s.dotted == dotted)
        .unwrap_or_else(|| panic!("`{dotted}` is missing from SETTINGS"))
}

fn bad_value(setting: &Setting, reason: String, set_by: ValueSource) -> ConfigError {
    ConfigError::BadValue {
        key: setting.dotted,
        env: setting.env,
        reason,
        set_by,
    }
}

impl Kind {
    /// Checks a value's type and syntax; the returned reason never quotes the
    /// value of a free-text setting, since `keys.kek` is one.
    fn check(self, value: &Value) -> Result<(), String> {
        match (self, value) {
            (Kind::Text, Value::String(_)) => Ok(()),
            (Kind::Choice(allowed), Value::String(s)) => {
                if allowed.contains(&s.as_str()) {
                    Ok(())
                } else {
                    Err(format!("\"{s}\" is not one of {}", quoted_list(allowed)))
                }
            }
            (Kind::SocketAddr, Value::String(s)) => match s.parse::<SocketAddr>() {
                Ok(_) => Ok(()),
                Err(_) => Err(format!(
                    "\"{s}\" is not a socket address such as 127.0.0.1:8080"
                )),
            },
            (Kind::CidrList, Value::Array(entries)) => {
                for entry in entries {
                    let Value::String(text) = entry else {
                        return Err(format!(
                            "expected a list of quoted CIDRs such as [\"10.0.0.0/8\"], found {} in the list",
                            describe(entry)
                        ));
                    };
                    if let Err(reason) = text.parse::<Cidr>() {
                        return Err(format!(
                            "entry \"{text}\" is not a CIDR such as 10.0.0.0/8 or fd00::/8: {reason}"
                        ));
                    }
                }
                Ok(())
            }
            (Kind::Integer { min, max }, Value::Integer(n)) => {
                if (min..=max).contains(n) {
                    Ok(())
                } else {
                    Err(format!("{n} is not between {min} and {max}"))
                }
            }
            (Kind::CidrList, other) => Err(format!(
                "expected a list of quoted CIDRs such as [\"10.0.0.0/8\"], found {}",
                describe(other)
            )),
            (Kind::Integer { min, max }, other) => Err(format!(
                "expected a whole number between {min} and {max} without quotes, found {}",
                describe(other)
            )),
            (Kind::Text | Kind::Choice(_) | Kind::SocketAddr, other) => Err(format!(
                "expected a quoted string, found {}",
                describe(other)
            )),
        }
    }

    /// Turns an environment variable's text into the TOML value it stands for.
    fn parse_env(self, raw: &str) -> Result<Value, String> {
        match self {
            Kind::Text | Kind::Choice(_) | Kind::SocketAddr => Ok(Value::String(raw.to_owned())),
            Kind::Integer { min, max } => raw
                .trim()
                .parse::<i64>()
                .map(Value::Integer)
                .map_err(|_| format!("\"{raw}\" is not a whole number between {min} and {max}")),
            // Empty entries are skipped so that "" means no proxies and a
            // trailing comma left by a templating tool is harmless.
            Kind::CidrList => Ok(Value::Array(
                raw.split(',')
                    .map(str::trim)
                    .filter(|entry| !entry.is_empty())
                    .map(|entry| Value::String(entry.to_owned()))
                    .collect(),
            )),
        }
    }
}

fn quoted_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|item| format!("\"{item}\""))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Names a value's type without quoting it: the value may be a secret.
fn describe(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Integer(_) => "a number",
        Value::Float(_) => "a decimal number",
        Value::Boolean(_) => "true/false",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "a list",
        Value::Table(_) => "a table",
    }
}

// ---------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------

/// Which layer supplied each key that is not at its built-in default.
#[derive(Default)]
struct Sources(Vec<(&'static str, ValueSource)>);

impl Sources {
    fn set(&mut self, dotted: &'static str, source: ValueSource) {
        self.0.retain(|(key, _)| *key != dotted);
        self.0.push((dotted, source));
    }

    fn of(&self, dotted: &str) -> ValueSource {
        self.0
            .iter()
            .find(|(key, _)| *key == dotted)
            .map_or(ValueSource::BuiltIn, |(_, source)| source.clone())
    }
}

impl Config {
    /// `file`: `Some(path)` reads that file (a missing file is an error);
    /// `None` uses the built-in defaults. `env` is the process environment:
    /// every variable starting with `OPENPOORT_` must name a setting, except
    /// [`CONFIG_PATH_ENV`].
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
                    path: path.to_path_buf(),
                    error,
                })?;
                Config::from_toml_str(&text, &path.display().to_string(), env)
            }
            None => Config::from_table(Table::new(), "the built-in defaults", env),
        }
    }

    /// As [`Config::load`], for TOML text that did not come from a file;
    /// `origin` is how messages refer to it.
    pub fn from_toml_str(
        text: &str,
        origin: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let table = text.parse::<Table>().map_err(|error| ConfigError::Syntax {
            origin: origin.to_owned(),
            error,
        })?;
        Config::from_table(table, origin, env)
    }

    /// The database to connect to: `database.url`, or the SQLite file in
    /// `storage.data_dir` when that is empty.
    pub fn database_url(&self) -> String {
        if self.database.url.is_empty() {
            format!(
                "sqlite://{}",
                self.storage.data_dir.join(SQLITE_FILE_NAME).display()
            )
        } else {
            self.database.url.clone()
        }
    }

    pub fn is_development(&self) -> bool {
        self.server.mode == Mode::Development
    }

    fn from_table(
        table: Table,
        origin: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let (mut config, sources) = layer(table, origin, env)?;
        config.validate(&sources)?;
        Ok(config)
    }

    /// Rules that involve more than one key's syntax, plus normalisation.
    fn validate(&mut self, sources: &Sources) -> Result<(), ConfigError> {
        let fail = |dotted: &str, reason: String| {
            let setting = setting(dotted);
            bad_value(setting, reason, sources.of(setting.dotted))
        };

        self.server.public_url = check_public_url(&self.server.public_url, self.server.mode)
            .map_err(|reason| fail("server.public_url", reason))?;

        if self.storage.data_dir.as_os_str().is_empty() {
            return Err(fail(
                "storage.data_dir",
                "must not be empty; use \".\" for the working directory".to_owned(),
            ));
        }

        check_database_url(&self.database.url).map_err(|reason| fail("database.url", reason))?;

        if self.server.mode == Mode::Production && self.keys.kek.is_empty() {
            return Err(fail(
                "keys.kek",
                "must be set in production mode: generate one with `openssl rand -base64 32` \
                 and keep it safe, since signing keys cannot be recovered without it \
                 (or set server.mode = \"development\" on a test machine)"
                    .to_owned(),
            ));
        }

        // The next key is published a whole period ahead; a period shorter than the week SPs
        // may keep openpoort's metadata (its validUntil) would make a key current before some
        // of them could have read it.
        if (1..MIN_ROTATE_DAYS).contains(&self.keys.rotate_days) {
            return Err(fail(
                "keys.rotate_days",
                format!(
                    "must be 0 (rotation by command only) or at least {MIN_ROTATE_DAYS} days, \
                     twice the week service providers may keep openpoort's metadata"
                ),
            ));
        }

        let cn = &self.keys.certificate_common_name;
        if cn.trim().is_empty() || cn.chars().count() > MAX_COMMON_NAME_CHARS {
            return Err(fail(
                "keys.certificate_common_name",
                format!("\"{cn}\" must be 1 to {MAX_COMMON_NAME_CHARS} characters"),
            ));
        }
        if cn.chars().any(char::is_control) {
            return Err(fail(
                "keys.certificate_common_name",
                format!("{cn:?} must not contain control characters"),
            ));
        }

        let redis = &self.sessions.redis_url;
        if !(redis.starts_with("redis://") || redis.starts_with("rediss://")) {
            return Err(fail(
                "sessions.redis_url",
                format!(
                    "must start with redis:// or rediss:// (TLS), e.g. redis://127.0.0.1:6379/ (got scheme of {:?})",
                    redis.split(':').next().unwrap_or_default()
                ),
            ));
        }

        let prefix = &self.sessions.redis_prefix;
        if prefix.is_empty()
            || prefix.len() > 64
            || prefix.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(fail(
                "sessions.redis_prefix",
                format!(
                    "{prefix:?} must be 1 to 64 characters without spaces, e.g. \"openpoort:\""
                ),
            ));
        }

        if self.mail.transport == MailTransport::Smtp && self.mail.smtp_host.trim().is_empty() {
            return Err(fail(
                "mail.smtp_host",
                "must name the SMTP server when mail.transport = \"smtp\"".to_owned(),
            ));
        }
        if lettre::message::Mailbox::from_str(&self.mail.from).is_err() {
            return Err(fail(
                "mail.from",
                format!(
                    "{:?} is not a mail address such as \"openpoort <noreply@school.nl>\"",
                    self.mail.from
                ),
            ));
        }

        if parse_time_of_day(&self.las.pull_time).is_none() {
            return Err(fail(
                "las.pull_time",
                format!(
                    "{:?} is not a time of day written as HH:MM on a 24-hour clock, such as \"02:30\"",
                    self.las.pull_time
                ),
            ));
        }

        let partner = &self.partner;
        if !partner.listen.trim().is_empty() {
            if partner.address().is_none() {
                return Err(fail(
                    "partner.listen",
                    format!(
                        "{:?} is not an address and port such as \"0.0.0.0:8443\"; leave it empty to switch the partner API off",
                        partner.listen
                    ),
                ));
            }
            for (dotted, path) in [
                ("partner.certificate", &partner.certificate),
                ("partner.private_key", &partner.private_key),
            ] {
                if path.as_os_str().is_empty() {
                    return Err(fail(
                        dotted,
                        "must name a PEM file when partner.listen is set: the partner API speaks TLS only".to_owned(),
                    ));
                }
            }
        }

        if self.log.level.trim().is_empty() {
            return Err(fail(
                "log.level",
                "must not be empty; use \"info\" or a filter such as \"openpoort=debug,sqlx=warn\""
                    .to_owned(),
            ));
        }

        Ok(())
    }
}

/// Defaults, then `table` (the file), then `env`, each value checked for
/// type and syntax as it is layered in. Cross-key rules come after, in
/// [`Config::validate`].
fn layer(
    mut table: Table,
    origin: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(Config, Sources), ConfigError> {
    let mut sources = Sources::default();
    let file_source = ValueSource::File(origin.to_owned());

    for (section_name, section_value) in &table {
        let Some(section) = sections().find(|s| s == section_name) else {
            return Err(ConfigError::UnknownSection {
                section: section_name.clone(),
                origin: origin.to_owned(),
            });
        };
        let Value::Table(entries) = section_value else {
            return Err(ConfigError::NotASection {
                section,
                origin: origin.to_owned(),
            });
        };
        for (key, value) in entries {
            let Some(setting) = SETTINGS
                .iter()
                .find(|s| s.section == section && s.key == key)
            else {
                return Err(ConfigError::UnknownKey {
                    key: format!("{section}.{key}"),
                    section,
                    origin: origin.to_owned(),
                });
            };
            setting
                .kind
                .check(value)
                .map_err(|reason| bad_value(setting, reason, file_source.clone()))?;
            sources.set(setting.dotted, file_source.clone());
        }
    }

    // Sorted so that, with several problems, the same one is reported every time.
    let mut overrides: Vec<(String, String)> = env
        .into_iter()
        .filter(|(name, _)| name.starts_with(ENV_PREFIX) && name != CONFIG_PATH_ENV)
        .collect();
    overrides.sort();
    for (name, raw) in overrides {
        let Some(setting) = SETTINGS.iter().find(|s| s.env == name) else {
            return Err(ConfigError::UnknownEnvironmentVariable { name });
        };
        let value = setting
            .kind
            .parse_env(&raw)
            .and_then(|value| setting.kind.check(&value).map(|()| value))
            .map_err(|reason| bad_value(setting, reason, ValueSource::Environment))?;
        let Value::Table(section) = table
            .entry(setting.section)
            .or_insert_with(|| Value::Table(Table::new()))
        else {
            unreachable!("sections were checked to be tables above");
        };
        section.insert(setting.key.to_owned(), value);
        sources.set(setting.dotted, ValueSource::Environment);
    }

    match table.clone().try_into::<Config>() {
        Ok(config) => Ok((config, sources)),
        Err(error) => Err(
            blame_key(&table, &sources).unwrap_or(ConfigError::Mismatch {
                detail: error.message().to_owned(),
            }),
        ),
    }
}

/// Finds which single key serde rejects, so that even a type the [`Kind`]
/// checks let through is reported against its key.
fn blame_key(table: &Table, sources: &Sources) -> Option<ConfigError> {
    SETTINGS.iter().find_map(|setting| {
        let value = table.get(setting.section)?.get(setting.key)?;
        let mut section = Table::new();
        section.insert(setting.key.to_owned(), value.clone());
        let mut alone = Table::new();
        alone.insert(setting.section.to_owned(), Value::Table(section));
        let error = alone.try_into::<Config>().err()?;
        Some(bad_value(
            setting,
            error.message().to_owned(),
            sources.of(setting.dotted),
        ))
    })
}

/// Returns the URL without its trailing slash, so that the issuer and every
/// URL built from it are spelled one way.
fn check_public_url(url: &str, mode: Mode) -> Result<String, String> {
    let rest = match (mode, url.split_once("://")) {
        (Mode::Production, Some(("https", rest))) => rest,
        (Mode::Development, Some(("https" | "http", rest))) => rest,
        (Mode::Production, _) => {
            return Err(format!(
                "\"{url}\" must start with https:// in production mode; \
                 set server.mode = \"development\" to allow http:// on a test machine"
            ));
        }
        (Mode::Development, _) => {
            return Err(format!("\"{url}\" must start with http:// or https://"));
        }
    };
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "{url:?} must not contain spaces or control characters"
        ));
    }
    if url.contains(['?', '#']) {
        return Err(format!(
            "\"{url}\" must not have a query (?) or fragment (#): it is the base of every openpoort URL"
        ));
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.ends_with('/') {
        return Err(format!("\"{url}\" must not end with a slash"));
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.contains('@') {
        return Err(format!(
            "\"{url}\" must not contain a user name or password"
        ));
    }
    check_authority(authority).map_err(|reason| format!("\"{url}\" {reason}"))?;
    Ok(url.strip_suffix('/').unwrap_or(url).to_owned())
}

/// Host and optional port of a URL; the host is not resolved.
fn check_authority(authority: &str) -> Result<(), &'static str> {
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (v6, after) = bracketed
            .split_once(']')
            .ok_or("has an unclosed [ in its host")?;
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return Err("has an invalid IPv6 address in its host");
        }
        match after {
            "" => (v6, None),
            _ => (
                v6,
                Some(
                    after
                        .strip_prefix(':')
                        .ok_or("has text after its IPv6 host")?,
                ),
            ),
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("has no host name");
    }
    if let Some(port) = port {
        let valid =
            port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok_and(|p| p != 0);
        if !valid {
            return Err("has an invalid port (expected 1 to 65535)");
        }
    }
    Ok(())
}

const DATABASE_SCHEMES: &str = "sqlite://PATH, postgres://… or postgresql://…, \
                                or leave it empty for the SQLite file in storage.data_dir";

fn check_database_url(url: &str) -> Result<(), String> {
    if url.is_empty() {
        return Ok(());
    }
    match url.split_once("://") {
        Some(("sqlite", "")) => Err(format!(
            "sqlite:// needs a file path; use {DATABASE_SCHEMES}"
        )),
        Some(("sqlite" | "postgres" | "postgresql", _)) => Ok(()),
        // Only the scheme is quoted: the rest may hold a password.
        Some((scheme, _)) => Err(format!(
            "scheme \"{scheme}\" is not supported; use {DATABASE_SCHEMES}"
        )),
        None => Err(format!("it has no scheme; use {DATABASE_SCHEMES}")),
    }
}

/// Whether a secret is set, shown without quotes, and never the secret itself.
fn redact_secret(secret: &str) -> fmt::Arguments<'static> {
    if secret.is_empty() {
        format_args!("<empty>")
    } else {
        format_args!("<set>")
    }
}

/// The URL with any password replaced, in the user-info part and in a
/// libpq-style `password=` query parameter.
fn redact_url(url: &str) -> String {
    const HIDDEN: &str = "<redacted>";
    let Some((scheme, rest)) = url.split_once("://") else {
        // Without a scheme the structure is unknown; an '@' suggests credentials.
        return if url.contains('@') {
            HIDDEN.to_owned()
        } else {
            url.to_owned()
        };
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:{HIDDEN}@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((name, _)) if name.to_ascii_lowercase().contains("password") => {
                        format!("{name}={HIDDEN}")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../../config/openpoort.toml");

    /// Enough to pass the production-only checks, so tests can focus on one thing.
    const PRODUCTION_BASE: &str = r#"
        [server]
        public_url = "https://login.example.nl"
        [keys]
        kek = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg=="
    "#;

    fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
        vars.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn load(text: &str, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_toml_str(text, "test.toml", env(vars))
    }

    fn load_err(text: &str, vars: &[(&str, &str)]) -> String {
        match load(text, vars) {
            Ok(config) => panic!("expected an error, got {config:?}"),
            Err(error) => error.to_string(),
        }
    }

    fn development(extra: &str) -> String {
        format!("[server]\nmode = \"development\"\n{extra}")
    }

    fn proxies(config: &Config) -> Vec<String> {
        config
            .server
            .trusted_proxies
            .iter()
            .map(Cidr::to_string)
            .collect()
    }

    /// The refusal of `text` with `vars`, which must contain `part`.
    #[track_caller]
    fn refused_with(text: &str, vars: &[(&str, &str)], part: &str) -> String {
        let message = load_err(text, vars);
        assert!(message.contains(part), "{message}");
        message
    }

    /// The refusal of `text` with `vars`, which must start with `start`.
    #[track_caller]
    fn refused_starting(text: &str, vars: &[(&str, &str)], start: &str) -> String {
        let message = load_err(text, vars);
        assert!(message.starts_with(start), "{message}");
        message
    }

    #[test]
    fn shipped_config_file_equals_builtin_defaults() {
        let table: Table = SHIPPED.parse().expect("shipped file is valid TOML");
        let (config, sources) =
            layer(table, SHIPPED_FILE, Vec::new()).expect("shipped file layers");
        assert_eq!(config, Config::default());
        for (dotted, _) in known_keys() {
            assert_eq!(
                sources.of(dotted),
                ValueSource::File(SHIPPED_FILE.to_owned()),
                "`{dotted}` is not set in the shipped file"
            );
        }
    }

    #[test]
    fn shipped_config_file_starts_in_development_mode_without_edits() {
        let config = Config::from_toml_str(
            SHIPPED,
            SHIPPED_FILE,
            env(&[("OPENPOORT_SERVER_MODE", "development")]),
        )
        .expect("development quick start");
        assert!(config.is_development());
    }

    #[test]
    fn shipped_config_file_documents_every_key_and_its_environment_variable() {
        let mut section = "";
        let mut comments: Vec<&str> = Vec::new();
        let mut documented: Vec<(String, String)> = Vec::new();
        for line in SHIPPED.lines().map(str::trim) {
            if let Some(comment) = line.strip_prefix('#') {
                comments.push(comment.trim());
            } else if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name;
                comments.clear();
            } else if let Some((key, _)) = line.split_once('=') {
                let env_line = comments
                    .iter()
                    .find_map(|c| c.strip_prefix("Environment: "))
                    .unwrap_or_default();
                let what_it_does = comments
                    .iter()
                    .filter(|c| !c.starts_with("Environment:"))
                    .count();
                assert!(
                    what_it_does > 0,
                    "`{section}.{}` has no explanation",
                    key.trim()
                );
                documented.push((format!("{section}.{}", key.trim()), env_line.to_owned()));
                comments.clear();
            } else if line.is_empty() {
                // A blank line ends a comment block, so a file header is not
                // mistaken for the first key's documentation.
                comments.clear();
            }
        }
        for (dotted, env_var) in known_keys() {
            let entry = documented.iter().find(|(key, _)| key == dotted);
            let Some((_, env_line)) = entry else {
                panic!("`{dotted}` is missing from {SHIPPED_FILE}");
            };
            assert_eq!(
                env_line, env_var,
                "the comment above `{dotted}` must say `# Environment: {env_var}`"
            );
        }
        assert_eq!(documented.len(), known_keys().len());
    }

    #[test]
    fn setting_table_names_follow_the_naming_rule() {
        for setting in SETTINGS {
            assert_eq!(
                setting.dotted,
                format!("{}.{}", setting.section, setting.key)
            );
            assert_eq!(
                setting.env,
                format!("OPENPOORT_{}_{}", setting.section, setting.key).to_uppercase()
            );
        }
        let mut seen: Vec<&str> = sections().collect();
        let count = seen.len();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(
            seen.len(),
            count,
            "a section's keys must be adjacent in SETTINGS"
        );
    }

    #[test]
    fn unknown_key_is_refused_naming_the_key() {
        let message = refused_with(
            "[server]\nlistn = \"127.0.0.1:9000\"\n",
            &[],
            "unknown key `server.listn` in test.toml",
        );
        assert!(message.contains("mode, listen, public_url"), "{message}");
    }

    #[test]
    fn unknown_section_is_refused_naming_it() {
        let message = refused_with(
            "[sever]\nlisten = \"127.0.0.1:9000\"\n",
            &[],
            "unknown section `[sever]`",
        );
        assert!(
            message.contains(
                "server, storage, database, keys, sessions, login, mail, audit, saml, import, log, las"
            ),
            "{message}"
        );

        let message = load_err("server = 5\n", &[]);
        assert!(
            message.contains("`server`") && message.contains("[server]"),
            "{message}"
        );
    }

    #[test]
    fn unknown_openpoort_environment_variable_is_refused() {
        let message = load_err(
            PRODUCTION_BASE,
            &[("OPENPOORT_SERVER_LISTN", "127.0.0.1:9000")],
        );
        assert_eq!(
            message,
            "unknown environment variable OPENPOORT_SERVER_LISTN: no such setting (see config/openpoort.toml)"
        );
        // The config path variable and other programs' variables are not settings.
        load(
            PRODUCTION_BASE,
            &[
                ("OPENPOORT_CONFIG", "/etc/openpoort.toml"),
                ("PATH", "/usr/bin"),
                ("SERVER_LISTN", "x"),
            ],
        )
        .expect("only unknown OPENPOORT_ variables are refused");
    }

    #[test]
    fn environment_overrides_file() {
        let text = format!("{PRODUCTION_BASE}\n[log]\nformat = \"json\"\n");
        let text = text.replace("[server]", "[server]\nlisten = \"127.0.0.1:9000\"");
        let config = load(
            &text,
            &[
                ("OPENPOORT_SERVER_LISTEN", "[::]:9443"),
                ("OPENPOORT_SERVER_TRUSTED_PROXIES", " 10.0.0.0/8, ::1 ,"),
                ("OPENPOORT_SERVER_SHUTDOWN_GRACE_SECONDS", " 45 "),
            ],
        )
        .expect("valid");
        assert_eq!(
            config.server.listen,
            "[::]:9443".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(proxies(&config), ["10.0.0.0/8", "::1/128"]);
        assert_eq!(config.server.shutdown_grace_seconds, 45);
        // Keys the environment does not mention keep the file's value.
        assert_eq!(config.log.format, LogFormat::Json);

        let file_has_proxies =
            PRODUCTION_BASE.replace("[server]", "[server]\ntrusted_proxies = [\"10.0.0.0/8\"]");
        let config = load(
            &file_has_proxies,
            &[("OPENPOORT_SERVER_TRUSTED_PROXIES", "")],
        )
        .expect("valid");
        assert!(
            config.server.trusted_proxies.is_empty(),
            "an empty variable means no proxies"
        );
    }

    #[test]
    fn outbound_allow_networks_comes_from_the_file_or_the_environment() {
        let config = load(PRODUCTION_BASE, &[]).expect("valid");
        let policy = config.outbound_policy();
        assert!(!policy.allows("10.20.0.1".parse().unwrap()));
        assert!(!policy.allows("127.0.0.1".parse().unwrap()));
        let file = format!("{PRODUCTION_BASE}\n[outbound]\nallow_networks = [\"10.20.0.0/16\"]\n");
        let config = load(&file, &[]).expect("valid");
        assert!(
            config
                .outbound_policy()
                .allows("10.20.0.1".parse().unwrap())
        );
        let config = load(
            &file,
            &[("OPENPOORT_OUTBOUND_ALLOW_NETWORKS", "127.0.0.1, fd00::/8")],
        )
        .expect("valid");
        let policy = config.outbound_policy();
        assert!(!policy.allows("10.20.0.1".parse().unwrap()));
        assert!(policy.allows("127.0.0.1".parse().unwrap()));
        assert!(policy.allows("fd00::1".parse().unwrap()));
        refused_with(
            &development(""),
            &[("OPENPOORT_OUTBOUND_ALLOW_NETWORKS", "10.0.0.1/8")],
            "`outbound.allow_networks` (OPENPOORT_OUTBOUND_ALLOW_NETWORKS)",
        );
    }

    #[test]
    fn las_pull_time_must_be_a_time_of_day() {
        for bad in ["2:30", "24:00", "02:60", "0230", "half drie"] {
            let message = load_err(&development(""), &[("OPENPOORT_LAS_PULL_TIME", bad)]);
            assert!(
                message.starts_with("bad value for `las.pull_time` (OPENPOORT_LAS_PULL_TIME)"),
                "{bad}: {message}"
            );
        }
        let config = load(&development(""), &[("OPENPOORT_LAS_PULL_TIME", "23:59")]).unwrap();
        assert_eq!(config.las.pull_minutes(), 23 * 60 + 59);
    }

    #[test]
    fn bad_value_names_key_and_environment_variable() {
        let message = load_err(&development("listen = \"abc\""), &[]);
        assert_eq!(
            message,
            "bad value for `server.listen` (OPENPOORT_SERVER_LISTEN): \"abc\" is not a socket address \
             such as 127.0.0.1:8080 (set in test.toml)"
        );

        let message = refused_starting(
            PRODUCTION_BASE,
            &[("OPENPOORT_SERVER_SHUTDOWN_GRACE_SECONDS", "x")],
            "bad value for `server.shutdown_grace_seconds` (OPENPOORT_SERVER_SHUTDOWN_GRACE_SECONDS): \"x\"",
        );
        assert!(message.ends_with("(set in the environment)"), "{message}");

        refused_starting(
            &development("shutdown_grace_seconds = \"30\""),
            &[],
            "bad value for `server.shutdown_grace_seconds` (OPENPOORT_SERVER_SHUTDOWN_GRACE_SECONDS): \
                 expected a whole number",
        );

        refused_with(
            &development("shutdown_grace_seconds = 0"),
            &[],
            "0 is not between 1 and 600",
        );

        refused_with(
            "[database]\nmax_connections = 1001\n",
            &[("OPENPOORT_SERVER_MODE", "development")],
            "`database.max_connections` (OPENPOORT_DATABASE_MAX_CONNECTIONS)",
        );

        refused_with(
            &development(""),
            &[("OPENPOORT_LOG_FORMAT", "text")],
            "`log.format` (OPENPOORT_LOG_FORMAT): \"text\" is not one of \"human\" or \"json\"",
        );

        refused_with(
            "[server]\nmode = \"dev\"\n",
            &[],
            "`server.mode` (OPENPOORT_SERVER_MODE)",
        );

        let message = refused_with(
            &development("[keys]\nkek = 42"),
            &[],
            "`keys.kek` (OPENPOORT_KEYS_KEK): expected a quoted string, found a number",
        );
        assert!(!message.contains("42"), "{message}");
    }

    #[test]
    fn production_requires_https_public_url() {
        refused_starting(
            &PRODUCTION_BASE.replace("https://", "http://"),
            &[],
            "bad value for `server.public_url` (OPENPOORT_SERVER_PUBLIC_URL): \"http://login.example.nl\" must start with https://",
        );
        // Production is the default, so the shipped http:// default must not start unattended.
        let message = load_err("[keys]\nkek = \"x\"\n", &[]);
        assert!(
            message.contains("`server.public_url`") && message.contains("(the built-in default)"),
            "{message}"
        );

        let config = load(PRODUCTION_BASE, &[]).expect("https is accepted");
        assert_eq!(config.server.public_url, "https://login.example.nl");
        assert!(!config.is_development());
    }

    #[test]
    fn production_requires_a_kek() {
        refused_starting(
            "[server]\npublic_url = \"https://login.example.nl\"\n",
            &[],
            "bad value for `keys.kek` (OPENPOORT_KEYS_KEK): must be set in production mode",
        );
        load(
            "[server]\npublic_url = \"https://login.example.nl\"\n",
            &[("OPENPOORT_KEYS_KEK", "c2VjcmV0")],
        )
        .expect("a kek from the environment satisfies production");
    }

    #[test]
    fn development_allows_http_public_url() {
        let config =
            load(&development("public_url = \"http://localhost:3000/\""), &[]).expect("valid");
        assert!(config.is_development());
        assert_eq!(
            config.server.public_url, "http://localhost:3000",
            "one trailing slash is stripped"
        );

        let config =
            load(&development("public_url = \"https://[::1]:8443/idp\""), &[]).expect("valid");
        assert_eq!(config.server.public_url, "https://[::1]:8443/idp");

        for (bad, why) in [
            ("ftp://localhost", "must start with http:// or https://"),
            ("localhost:8080", "must start with http:// or https://"),
            ("http://localhost/?x=1", "query"),
            ("http://localhost#top", "fragment"),
            ("http://localhost//", "must not end with a slash"),
            ("http:///path", "has no host name"),
            ("http://user:pw@localhost", "user name or password"),
            ("http://localhost:99999", "invalid port"),
            ("http://local host", "spaces"),
        ] {
            let message = load_err(&development(&format!("public_url = \"{bad}\"")), &[]);
            assert!(
                message.contains("`server.public_url`") && message.contains(why),
                "{bad}: {message}"
            );
        }
    }

    #[test]
    fn trusted_proxy_must_be_a_valid_cidr() {
        let message = refused_with(
            &development("trusted_proxies = [\"10.0.0.0/8\", \"10.0.0.0/33\"]"),
            &[],
            "`server.trusted_proxies` (OPENPOORT_SERVER_TRUSTED_PROXIES)",
        );
        assert!(message.contains("\"10.0.0.0/33\""), "{message}");
        assert!(
            message.contains("prefix hoogstens 32 voor IPv4"),
            "{message}"
        );

        let message = load_err(
            &development(""),
            &[("OPENPOORT_SERVER_TRUSTED_PROXIES", "10.0.0.0/8, 10.0.0.300")],
        );
        assert!(
            message.contains("\"10.0.0.300\"") && message.contains("(set in the environment)"),
            "{message}"
        );

        for bad in [
            "::/129",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "10.0.0.0/8/8",
            "proxy.local",
            "",
            // Host bits after the prefix: refused rather than silently widened.
            "192.168.1.7/24",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad:?} was accepted");
        }
        refused_with(
            &development("trusted_proxies = \"10.0.0.0/8\""),
            &[],
            "expected a list",
        );

        let config = load(
            &development(
                "trusted_proxies = [\"10.0.0.0/8\", \"::1\", \"192.168.1.0/24\", \"fd00::/8\"]",
            ),
            &[],
        )
        .expect("valid CIDRs");
        assert_eq!(
            proxies(&config),
            ["10.0.0.0/8", "::1/128", "192.168.1.0/24", "fd00::/8"]
        );
    }

    #[test]
    fn trusted_proxy_matching_includes_ipv4_mapped_addresses() {
        let net: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains("10.200.3.4".parse().unwrap()));
        assert!(net.contains("::ffff:10.200.3.4".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        assert!(!net.contains("::1".parse().unwrap()));

        let everything: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(everything.contains("203.0.113.9".parse().unwrap()));
        let host: Cidr = "::1".parse().unwrap();
        assert!(host.contains("::1".parse().unwrap()));
        assert!(!host.contains("::2".parse().unwrap()));
    }

    #[test]
    fn database_url_defaults_to_sqlite_in_data_dir() {
        let config = load(&development(""), &[]).expect("valid");
        assert_eq!(config.database_url(), "sqlite://data/openpoort.sqlite");

        let config = load(
            &development(""),
            &[("OPENPOORT_STORAGE_DATA_DIR", "/var/lib/openpoort")],
        )
        .expect("valid");
        assert_eq!(
            config.database_url(),
            "sqlite:///var/lib/openpoort/openpoort.sqlite"
        );

        let url = "postgres://openpoort:pw@db.internal/openpoort";
        let config = load(&development(""), &[("OPENPOORT_DATABASE_URL", url)]).expect("valid");
        assert_eq!(config.database_url(), url);

        refused_with(
            &development("[storage]\ndata_dir = \"\""),
            &[],
            "`storage.data_dir`",
        );
    }

    #[test]
    fn unsupported_database_scheme_is_refused() {
        let message = refused_starting(
            &development("[database]\nurl = \"mysql://root:hunter2@db/openpoort\""),
            &[],
            "bad value for `database.url` (OPENPOORT_DATABASE_URL): scheme \"mysql\"",
        );
        assert!(
            message.contains("sqlite://")
                && message.contains("postgres://")
                && message.contains("postgresql://"),
            "{message}"
        );
        assert!(!message.contains("hunter2"), "{message}");

        for bad in ["data/openpoort.sqlite", "sqlite://", "SQLITE://x"] {
            let message = load_err(&development(""), &[("OPENPOORT_DATABASE_URL", bad)]);
            assert!(message.contains("`database.url`"), "{bad}: {message}");
        }
        for good in ["sqlite://x.db", "postgresql://localhost/openpoort"] {
            load(&development(""), &[("OPENPOORT_DATABASE_URL", good)]).expect(good);
        }
    }

    #[test]
    fn kek_is_not_printed_in_debug_output() {
        let secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg==";
        let config = load(PRODUCTION_BASE, &[]).expect("valid");
        assert_eq!(config.keys.kek, secret);
        let printed = format!("{config:?} {config:#?}");
        assert!(!printed.contains(secret), "{printed}");
        assert!(printed.contains("<set>"), "{printed}");
        assert!(format!("{:?}", Config::default()).contains("<empty>"));
    }

    #[test]
    fn database_password_is_not_printed_in_debug_output() {
        let mut config = Config::default();
        config.database.url =
            "postgres://openpoort:hunter2@db:5432/openpoort?sslmode=require&password=hunter3"
                .to_owned();
        let printed = format!("{config:?}");
        assert!(
            !printed.contains("hunter2") && !printed.contains("hunter3"),
            "{printed}"
        );
        assert!(printed.contains("postgres://openpoort:<redacted>@db:5432/openpoort?sslmode=require&password=<redacted>"), "{printed}");
        assert_eq!(
            redact_url("sqlite://data/openpoort.sqlite"),
            "sqlite://data/openpoort.sqlite"
        );
    }

    #[test]
    fn missing_or_malformed_config_file_is_an_error() {
        let missing = Path::new("/nonexistent/openpoort.toml");
        let message = Config::load(Some(missing), Vec::new())
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with("cannot read config file /nonexistent/openpoort.toml: "),
            "{message}"
        );

        let message = refused_starting(
            "[server]\nlisten = \n",
            &[],
            "config file test.toml is not valid TOML: ",
        );
        assert!(message.contains("line 2"), "{message}");
    }

    #[test]
    fn no_file_means_builtin_defaults_plus_environment() {
        let config =
            Config::load(None, env(&[("OPENPOORT_SERVER_MODE", "development")])).expect("valid");
        assert_eq!(
            config.server,
            ServerConfig {
                mode: Mode::Development,
                ..ServerConfig::default()
            }
        );
        assert_eq!(config.keys, KeysConfig::default());
    }

    #[test]
    fn serde_error_is_blamed_on_its_key() {
        // A value that passes the kind check but not serde, as if SETTINGS had drifted.
        let mut table: Table = "[server]\nmode = \"development\"\nlisten = \"127.0.0.1:1\"\n"
            .parse()
            .unwrap();
        if let Some(Value::Table(server)) = table.get_mut("server") {
            server.insert("mode".to_owned(), Value::String("neither".to_owned()));
        }
        let sources = Sources::default();
        let Some(ConfigError::BadValue { key, env, .. }) = blame_key(&table, &sources) else {
            panic!("serde error not blamed on a key");
        };
        assert_eq!((key, env), ("server.mode", "OPENPOORT_SERVER_MODE"));
    }
}
