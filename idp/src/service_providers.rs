//! Registering SAML service providers from their metadata (a file or a URL) and keeping URL
//! metadata fresh. Shared by the operator commands, the admin API and the scheduled refresh;
//! below the front ends, like `clients` for OpenID Connect.

use std::time::Duration;

use ::metadata::saml::SamlError;
use ::metadata::saml::dom::Limits;
use ::metadata::saml::sp::{ServiceProvider, SpSettings, from_metadata};
use directory::outbound::Outbound;
use directory::saml_sps::StoredSp;
use directory::{Actor, Directory, DirectoryError};

#[derive(Debug)]
pub enum RegistryError {
    Fetch {
        url: String,
        reason: String,
    },
    Metadata(SamlError),
    Directory(DirectoryError),
    EntityChanged {
        url: String,
        expected: String,
        found: String,
    },
    /// A stored registration that no longer parses: openpoort's fault, not the operator's.
    Stored(String, String),
}

impl RegistryError {
    /// The message in Dutch and in English: the command line prints both, the admin API puts
    /// them in `detail` and `detail_en`.
    pub fn texts(&self) -> (String, String) {
        match self {
            RegistryError::Fetch { url, reason } => (
                format!("metadata van {url} ophalen mislukt: {reason}"),
                format!("fetching metadata from {url} failed: {reason}"),
            ),
            RegistryError::Metadata(e) => (
                format!("de metadata is niet bruikbaar: {e}"),
                format!("the metadata cannot be used: {e}"),
            ),
            RegistryError::Directory(e) => (e.to_string(), e.to_string()),
            RegistryError::EntityChanged {
                url,
                expected,
                found,
            } => (
                format!(
                    "de metadata op {url} beschrijft nu {found} in plaats van {expected}; registreer die dienst apart"
                ),
                format!(
                    "the metadata at {url} now describes {found} instead of {expected}; register that service separately"
                ),
            ),
            RegistryError::Stored(entity, e) => (
                format!("opgeslagen registratie van {entity} is onleesbaar: {e}"),
                format!("stored registration of {entity} does not parse: {e}"),
            ),
        }
    }
}

impl std::fmt::Display for RegistryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let RegistryError::Directory(e) = self {
            // Register errors are already in both languages.
            return e.fmt(f);
        }
        let (nl, en) = self.texts();
        write!(f, "{nl} / {en}")
    }
}

impl std::error::Error for RegistryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RegistryError::Metadata(e) => Some(e),
            RegistryError::Directory(e) => Some(e),
            _ => None,
        }
    }
}

impl From<SamlError> for RegistryError {
    fn from(e: SamlError) -> Self {
        RegistryError::Metadata(e)
    }
}

impl From<DirectoryError> for RegistryError {
    fn from(e: DirectoryError) -> Self {
        RegistryError::Directory(e)
    }
}

/// Fetches metadata within the outbound policy (the URL is checked before any connection) and
/// the metadata size limit; redirects are not followed, so the registered URL is the one that
/// answers.
pub async fn fetch(http: &Outbound, url: &str) -> Result<Vec<u8>, RegistryError> {
    http.get_bounded(url, Limits::METADATA.max_bytes, Duration::from_secs(20))
        .await
        .map_err(|e| RegistryError::Fetch {
            url: url.to_owned(),
            reason: e.to_string(),
        })
}

fn stored(sp: &ServiceProvider, xml: &[u8]) -> Result<StoredSp, RegistryError> {
    Ok(StoredSp {
        entity_id: sp.entity_id.clone(),
        party_id: sp.party_id.clone(),
        registration: serde_json::to_string(sp)
            .map_err(|e| RegistryError::Stored(sp.entity_id.clone(), e.to_string()))?,
        metadata_xml: String::from_utf8_lossy(xml).into_owned(),
        metadata_url: sp.metadata_url.clone(),
        refreshed_at: 0,
        refresh_error: None,
    })
}

/// Reads, validates and stores a new SP. `xml` is the metadata itself, or `None` to fetch it
/// from `settings.metadata_url`.
pub async fn register(
    directory: &Directory,
    http: &Outbound,
    xml: Option<Vec<u8>>,
    settings: &SpSettings,
    development: bool,
    actor: &Actor,
) -> Result<ServiceProvider, RegistryError> {
    let xml = match (xml, &settings.metadata_url) {
        (Some(x), _) => x,
        (None, Some(url)) => fetch(http, url).await?,
        (None, None) => {
            return Err(RegistryError::Metadata(SamlError::invalid(
                "give the metadata as a file or a URL",
            )));
        }
    };
    let sp = from_metadata(&xml, settings, crate::clock::unix_now(), development)?;
    directory.create_saml_sp(&stored(&sp, &xml)?, actor).await?;
    Ok(sp)
}

/// Re-reads one SP's metadata from its URL. The operator's settings (party, name, signing and
/// encryption choices, metadata certificate) stay; what the metadata says is replaced.
pub async fn refresh(
    directory: &Directory,
    http: &Outbound,
    current: &StoredSp,
    development: bool,
    actor: &Actor,
) -> Result<ServiceProvider, RegistryError> {
    let old: ServiceProvider = serde_json::from_str(&current.registration)
        .map_err(|e| RegistryError::Stored(current.entity_id.clone(), e.to_string()))?;
    let Some(url) = old.metadata_url.clone() else {
        return Ok(old);
    };
    let settings = SpSettings {
        party_id: old.party_id.clone(),
        name: Some(old.name.clone()),
        sign_response: old.sign_response,
        encrypt_assertions: old.encrypt_assertions,
        sector_identifier: old.sector_identifier.clone(),
        metadata_url: Some(url.clone()),
        metadata_signing_certificate: old.metadata_signing_certificate.clone(),
    };
    let outcome = async {
        let xml = fetch(http, &url).await?;
        let sp = from_metadata(&xml, &settings, crate::clock::unix_now(), development)?;
        if sp.entity_id != old.entity_id {
            return Err(RegistryError::EntityChanged {
                url: url.clone(),
                expected: old.entity_id.clone(),
                found: sp.entity_id.clone(),
            });
        }
        Ok((sp, xml))
    }
    .await;
    match outcome {
        Ok((sp, xml)) => {
            directory.update_saml_sp(&stored(&sp, &xml)?, actor).await?;
            Ok(sp)
        }
        Err(e) => {
            // The last verified metadata keeps serving; the failure is on record.
            directory
                .set_saml_sp_refresh_error(&old.entity_id, &e.to_string(), actor)
                .await?;
            Err(e)
        }
    }
}

/// Refreshes every SP with a metadata URL whose last refresh is `every` old; returns how many
/// were refreshed and how many failed.
pub async fn refresh_due(
    directory: &Directory,
    http: &Outbound,
    every: Duration,
    development: bool,
) -> Result<(usize, usize), RegistryError> {
    let now = crate::clock::unix_now();
    let actor = Actor::system("saml-metadata-refresh");
    let (mut done, mut failed) = (0, 0);
    for sp in directory.saml_sps().await? {
        if sp.metadata_url.is_none() || sp.refreshed_at + every.as_secs() as i64 > now {
            continue;
        }
        match refresh(directory, http, &sp, development, &actor).await {
            Ok(_) => done += 1,
            Err(e) => {
                failed += 1;
                tracing::warn!(sp = %sp.entity_id, error = %e, "SAML metadata refresh failed; the last verified metadata stays in use");
            }
        }
    }
    Ok((done, failed))
}

/// Runs [`refresh_due`] every hour for as long as the server runs.
pub fn spawn_refresh(directory: Directory, http: Outbound, every: Duration, development: bool) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3_600).min(every));
        loop {
            tick.tick().await;
            match refresh_due(&directory, &http, every, development).await {
                Ok((0, 0)) => {}
                Ok((done, failed)) => {
                    tracing::info!(refreshed = done, failed, "SAML metadata refreshed")
                }
                Err(e) => tracing::error!(error = %e, "SAML metadata refresh could not run"),
            }
        }
    });
}
