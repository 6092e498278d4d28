//! Start-up: configuration to a running register, key store and logger.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use certs::{CertificateProfile, Kek, KeyManager};
use directory::{ConnectOptions, Directory, DirectoryError};
use thiserror::Error;

use crate::app_state::WebConfig;
use crate::app_state::{AppState, Shared};
use crate::clock::unix_now;
use crate::config::{Config, ConfigError, LogFormat, SessionStoreKind};
use crate::mail::{MailError, Mailer};
use crate::password::{HashError, Hasher};
use crate::state::{State, StateError};

#[derive(Debug, Error)]
pub enum AppError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Directory(#[from] DirectoryError),
    #[error("signing keys: {0}")]
    Keys(#[from] certs::CertsError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Usage(String),
    #[error("session store: {0}")]
    State(#[from] StateError),
    #[error("mail: {0}")]
    Mail(#[from] MailError),
    #[error("{0}")]
    Hash(#[from] HashError),
    #[error("{0}")]
    Link(#[from] crate::links::LinkError),
    #[error("home code: {0}")]
    HomeCode(#[from] crate::homecode::HomeCodeError),
    #[error("release decisions: {0}")]
    Broker(#[from] broker::BrokerError),
    #[error("{0}")]
    ServiceProvider(#[from] crate::service_providers::RegistryError),
    #[error("{0}")]
    Client(#[from] crate::clients::ClientError),
    #[error("{0}")]
    Admin(#[from] crate::school_admin::AdminError),
    #[error("{0}")]
    Certificate(#[from] crate::party_certificates::CertificateError),
    #[error("{0}")]
    Upstream(#[from] crate::upstream::registry::UpstreamError),
    #[error("partner API TLS: {0}")]
    Tls(#[from] crate::tls::TlsError),
}

impl AppError {
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> AppError {
        let context = context.into();
        move |source| AppError::Io { context, source }
    }
}

pub fn init_logging(config: &Config) -> Result<(), AppError> {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log.level).map_err(|e| {
        AppError::Usage(format!(
            "bad value for `log.level` (OPENPOORT_LOG_LEVEL): {e}"
        ))
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Human => builder.init(),
    }
    Ok(())
}

pub async fn open_directory(config: &Config) -> Result<Directory, AppError> {
    let url = config.database_url();
    let opts = ConnectOptions {
        max_connections: config.database.max_connections,
        pg_schema: None,
    };
    let directory = Directory::open(&url, &opts).await?;
    tracing::info!(
        backend = ?directory.pool().backend(),
        database = %directory::db::redact_url(&url),
        "register opened and migrated"
    );
    Ok(directory)
}

/// The key-encryption key: from `keys.kek`, or in development mode from a file in the data
/// directory that is created on first use (owner-only permissions).
pub fn resolve_kek(config: &Config) -> Result<Kek, AppError> {
    if !config.keys.kek.is_empty() {
        return Ok(Kek::from_base64(&config.keys.kek)?);
    }
    if !config.is_development() {
        return Err(AppError::Usage(
            "production mode needs a key-encryption key: set `keys.kek` (OPENPOORT_KEYS_KEK) to 32 random bytes in base64, e.g. `openssl rand -base64 32`".into(),
        ));
    }
    let path = config.storage.data_dir.join("development.kek");
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Kek::from_base64(&text)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let kek = Kek::generate();
            write_private_file(&path, kek.to_base64().as_bytes())?;
            tracing::warn!(path = %path.display(), "development mode: generated a key-encryption key; never use it for real accounts");
            Ok(kek)
        }
        Err(e) => Err(AppError::io(format!("cannot read {}", path.display()))(e)),
    }
}

fn write_private_file(path: &Path, contents: &[u8]) -> Result<(), AppError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(AppError::io(format!("cannot create {}", dir.display())))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(AppError::io(format!("cannot create {}", path.display())))?;
    file.write_all(contents)
        .map_err(AppError::io(format!("cannot write {}", path.display())))
}

pub fn key_manager(
    config: &Config,
    directory: &Directory,
) -> Result<KeyManager<Directory>, AppError> {
    let profile = CertificateProfile {
        common_name: config.keys.certificate_common_name.clone(),
        validity_days: config.keys.certificate_validity_days,
        ..CertificateProfile::default()
    };
    Ok(
        KeyManager::new(directory.clone(), resolve_kek(config)?, profile)
            .with_retired_grace(i64::from(config.keys.retired_published_days) * 86_400),
    )
}

/// The short-lived state store chosen in `sessions.store`.
pub async fn state_store(config: &Config) -> Result<State, AppError> {
    Ok(match config.sessions.store {
        SessionStoreKind::Memory => State::memory(),
        SessionStoreKind::Redis => {
            State::redis(&config.sessions.redis_url, &config.sessions.redis_prefix).await?
        }
    })
}

pub fn mailer(config: &Config) -> Result<Mailer, AppError> {
    Ok(Mailer::new(&config.mail, &config.storage.data_dir)?)
}

/// Opens everything `serve` needs: the register (migrated), signing keys (created on first
/// start), the session store, the password hasher and the mailer.
pub async fn build_state(config: &Config) -> Result<AppState, AppError> {
    let directory = open_directory(config).await?;
    let keys = key_manager(config, &directory)?;
    let records = keys.ensure_keys(unix_now()).await?;
    tracing::info!(keys = records.len(), "signing keys ready");
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let broker = broker::Broker::new(directory.clone(), &directory, keys.kek(), unix_now()).await?;
    let outage = Arc::new(std::sync::RwLock::new(directory.notice().await?));
    let http = http_client(config)?;
    Ok(AppState::new(Shared {
        broker,
        outage,
        http,
        directory,
        keys: Arc::new(keys),
        metrics: Arc::default(),
        state: state_store(config).await?,
        hasher: Hasher::new(cores, config.server.password_queue as usize).await?,
        mailer: mailer(config)?,
        web: Arc::new(WebConfig::from_config(config)),
        api: Arc::new(crate::app_state::ApiConfig::from_config(config)),
        saml_signers: Arc::default(),
        icons: Arc::default(),
        icon_fetches: Arc::default(),
        webauthn: match crate::webauthn::relying_party(&config.server.public_url) {
            Ok(rp) => Some(rp),
            Err(reason) => {
                tracing::warn!(%reason, "passkeys are not offered");
                None
            }
        },
    }))
}

/// Outgoing HTTP (back-channel logout, clients' jwks_uri, SAML metadata) within the outbound
/// policy of `config`: no redirects, so that a registered URL is the one that answers, and a
/// timeout.
pub fn http_client(config: &Config) -> Result<directory::outbound::Outbound, AppError> {
    directory::outbound::Outbound::new(
        config.outbound_policy(),
        concat!("openpoort/", env!("CARGO_PKG_VERSION")),
        std::time::Duration::from_secs(10),
    )
    .map_err(|e| AppError::Usage(format!("cannot build the HTTP client: {e}")))
}

/// Applies the audit retention: removes entries older than `days` days.
pub async fn purge_audit(directory: &Directory, days: u32) -> Result<u64, AppError> {
    let before = unix_now() - i64::from(days) * 86_400;
    Ok(directory.purge_audit_before(before).await?)
}

/// Applies the audit retention now and then once a day, for as long as the server runs. A
/// failed run is logged and retried the next day; it never stops the server.
pub fn spawn_audit_retention(directory: Directory, days: u32) {
    tokio::spawn(async move {
        let mut every_day = tokio::time::interval(std::time::Duration::from_secs(86_400));
        loop {
            every_day.tick().await;
            match purge_audit(&directory, days).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    removed = n,
                    retention_days = days,
                    "audit retention applied"
                ),
                Err(e) => tracing::error!(error = %e, "audit retention failed; retrying tomorrow"),
            }
        }
    });
}

/// Rotates the signing keys once each has been current for `rotate_days` (0: never). Every node
/// runs this; the storage's compare-and-set rotates once however many nodes find a key due at
/// the same moment. Checked at start and then hourly, so a node that was down when a key fell
/// due rotates it on its return.
pub fn spawn_key_rotation(keys: std::sync::Arc<KeyManager<Directory>>, rotate_days: u32) {
    if rotate_days == 0 {
        return;
    }
    let every = i64::from(rotate_days) * 86_400;
    tokio::spawn(async move {
        let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3_600));
        loop {
            hourly.tick().await;
            for alg in certs::Algorithm::ALL {
                match keys
                    .rotate_if_due(alg, crate::clock::unix_now(), every)
                    .await
                {
                    Ok(None) => {}
                    Ok(Some(current)) => tracing::info!(
                        %alg,
                        kid = %current.kid,
                        rotate_days,
                        "signing key rotated on schedule"
                    ),
                    Err(e) => tracing::error!(
                        %alg,
                        error = %e,
                        "scheduled key rotation failed; retrying in an hour"
                    ),
                }
            }
        }
    });
}

/// Keeps the outage notice in memory current: an operator's `notice set` reaches every node
/// within a few seconds without a register query per page.
pub fn spawn_outage_refresh(state: &AppState) {
    let (directory, outage) = (state.directory.clone(), state.outage.clone());
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            every.tick().await;
            match directory.notice().await {
                Ok(n) => *outage.write().unwrap_or_else(|e| e.into_inner()) = n,
                Err(e) => tracing::warn!(error = %e, "cannot refresh the outage notice"),
            }
        }
    });
}
