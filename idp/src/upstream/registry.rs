//! Connecting a network provider to openpoort: its SAML IdP metadata (a file or a URL, kept
//! fresh like SP metadata) or its OpenID Connect issuer and client, with the rule that matches
//! its users. Shared by the operator commands, the admin API, the operator's pages and the
//! scheduled refresh; below the front ends.

use std::time::Duration;

use ::metadata::saml::SamlError;
use ::metadata::saml::upstream::{UpstreamIdp, idp_from_metadata};
use directory::model::PartyKind;
use directory::outbound::Outbound;
use directory::upstreams::{StoredUpstream, UpstreamProtocol};
use directory::{Actor, Directory, DirectoryError};
use serde::{Deserialize, Serialize};

use crate::service_providers::fetch;

/// How a vouched-for identity finds its user. Never an e-mail address: a provider's users can
/// often choose or change theirs, and openpoort cannot tell whether it was verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchBy {
    /// The user's number in openpoort's partner API as this provider reads it.
    PartnerNumber,
    /// The ECK-iD.
    EckId,
    /// The key of the school's administration (LAS), within the school the assertion names.
    LasKey,
}

impl MatchBy {
    pub fn parse(s: &str) -> Option<MatchBy> {
        match s {
            "partner_number" | "partner-number" => Some(MatchBy::PartnerNumber),
            "eck_id" | "eck-id" | "eckid" => Some(MatchBy::EckId),
            "las_key" | "las-key" => Some(MatchBy::LasKey),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            MatchBy::PartnerNumber => "partner_number",
            MatchBy::EckId => "eck_id",
            MatchBy::LasKey => "las_key",
        }
    }
}

/// How openpoort authenticates to a provider's token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OidcClientAuth {
    ClientSecretBasic,
    ClientSecretPost,
    /// A JWT signed with openpoort's own key (its JWKS is public), so no secret is stored.
    PrivateKeyJwt,
}

impl OidcClientAuth {
    pub fn parse(s: &str) -> Option<OidcClientAuth> {
        match s {
            "client_secret_basic" => Some(OidcClientAuth::ClientSecretBasic),
            "client_secret_post" => Some(OidcClientAuth::ClientSecretPost),
            "private_key_jwt" => Some(OidcClientAuth::PrivateKeyJwt),
            _ => None,
        }
    }

    pub fn needs_secret(&self) -> bool {
        !matches!(self, OidcClientAuth::PrivateKeyJwt)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcSettings {
    pub client_id: String,
    pub auth: OidcClientAuth,
    /// Scopes asked beside `openid`.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// A provider's settings, stored as the register's `settings` JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub match_by: MatchBy,
    /// The SAML attribute or OIDC claim holding the identifier; `None` is the NameID (SAML)
    /// or `sub` (OIDC).
    #[serde(default)]
    pub identifier: Option<String>,
    /// The attribute or claim naming the user's school by BRIN + vestigingscode (`12AB00`).
    /// Required for [`MatchBy::LasKey`], whose keys are unique only within a school.
    #[serde(default)]
    pub school: Option<String>,
    /// SAML: the Assertion must carry its own signature, not only sit in a signed Response.
    #[serde(default = "yes")]
    pub require_signed_assertion: bool,
    /// SAML: accept a Response no request of openpoort asked for (a tile in the provider's
    /// portal starts the login there).
    #[serde(default = "yes")]
    pub allow_unsolicited: bool,
    /// SAML: pin the certificate that must sign the provider's metadata (PEM).
    #[serde(default)]
    pub metadata_certificate: Option<String>,
    #[serde(default)]
    pub oidc: Option<OidcSettings>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("{0}")]
    Directory(#[from] DirectoryError),
    #[error(
        "de metadata van de netwerkaanbieder is niet bruikbaar: {0} / the network provider's metadata cannot be used: {0}"
    )]
    Metadata(#[from] SamlError),
    /// The metadata URL did not answer with a document (refused by the outbound policy, an
    /// error status, too large, a timeout).
    #[error("{nl} / {en}")]
    Fetch { nl: String, en: String },
    #[error("{nl} / {en}")]
    Invalid { nl: String, en: String },
    /// A stored setting that no longer parses: openpoort's fault, not the operator's.
    #[error("stored upstream of party {0} does not parse: {1}")]
    Stored(String, String),
}

impl UpstreamError {
    fn invalid(nl: impl Into<String>, en: impl Into<String>) -> UpstreamError {
        UpstreamError::Invalid {
            nl: nl.into(),
            en: en.into(),
        }
    }

    /// Dutch and English, for the command line and the admin API's `detail`/`detail_en`.
    pub fn texts(&self) -> (String, String) {
        match self {
            UpstreamError::Directory(e) => (e.to_string(), e.to_string()),
            UpstreamError::Metadata(e) => (
                format!("de metadata van de netwerkaanbieder is niet bruikbaar: {e}"),
                format!("the network provider's metadata cannot be used: {e}"),
            ),
            UpstreamError::Fetch { nl, en } => (nl.clone(), en.clone()),
            UpstreamError::Invalid { nl, en } => (nl.clone(), en.clone()),
            UpstreamError::Stored(party, e) => (
                format!("opgeslagen koppeling van partij {party} is onleesbaar: {e}"),
                format!("stored upstream of party {party} does not parse: {e}"),
            ),
        }
    }
}

impl Settings {
    /// The rules a setting must meet whatever the protocol.
    pub fn validate(&self, protocol: UpstreamProtocol) -> Result<(), UpstreamError> {
        if self.match_by == MatchBy::LasKey && self.school.is_none() {
            return Err(UpstreamError::invalid(
                "koppelen op LAS-sleutel vraagt ook het attribuut met de school (BRIN + vestigingscode): een LAS-sleutel is alleen binnen één school uniek",
                "matching on the LAS key also needs the attribute naming the school (BRIN + vestigingscode): a LAS key is unique only within one school",
            ));
        }
        for name in [&self.identifier, &self.school].into_iter().flatten() {
            if name.trim().is_empty() || name.len() > 256 {
                return Err(UpstreamError::invalid(
                    "een attribuutnaam is leeg of langer dan 256 tekens",
                    "an attribute name is empty or longer than 256 characters",
                ));
            }
        }
        match (protocol, &self.oidc) {
            (UpstreamProtocol::Oidc, None) => Err(UpstreamError::invalid(
                "een OpenID Connect-koppeling vraagt een client-id",
                "an OpenID Connect upstream needs a client id",
            )),
            (UpstreamProtocol::Oidc, Some(o)) if o.client_id.trim().is_empty() => Err(
                UpstreamError::invalid("de client-id is leeg", "the client id is empty"),
            ),
            (UpstreamProtocol::Saml, Some(_)) => Err(UpstreamError::invalid(
                "OpenID Connect-instellingen horen niet bij een SAML-koppeling",
                "OpenID Connect settings do not belong to a SAML upstream",
            )),
            _ => Ok(()),
        }
    }
}

/// A stored upstream, read back.
pub fn settings_of(stored: &StoredUpstream) -> Result<Settings, UpstreamError> {
    serde_json::from_str(&stored.settings)
        .map_err(|e| UpstreamError::Stored(stored.party_id.clone(), e.to_string()))
}

/// The IdP a stored SAML upstream describes, re-read from its stored metadata (which was
/// verified when stored); metadata that has since passed its validUntil refuses the login.
pub fn saml_idp(stored: &StoredUpstream, now: i64) -> Result<UpstreamIdp, UpstreamError> {
    let xml = stored.metadata_xml.as_deref().ok_or_else(|| {
        UpstreamError::Stored(stored.party_id.clone(), "no metadata stored".into())
    })?;
    let settings = settings_of(stored)?;
    Ok(idp_from_metadata(
        xml.as_bytes(),
        Some(&stored.issuer),
        settings.metadata_certificate.as_deref(),
        now,
    )?)
}

/// Where a SAML provider's metadata comes from.
pub enum MetadataSource {
    Xml(Vec<u8>),
    Url(String),
}

/// The connected network provider a publisher's request names (OIDC `idp_hint`, a SAML IDPList
/// entry): by its party code or its issuer / entityID. A hint that names none is no error: the
/// user then logs in at openpoort as usual.
pub async fn hinted_provider(
    directory: &Directory,
    hint: &str,
) -> Result<Option<String>, DirectoryError> {
    if hint.is_empty() || hint.len() > 1024 {
        return Ok(None);
    }
    if let Some(party) = directory.party_by_code(hint).await?
        && party.kind == PartyKind::NetworkProvider
        && directory.upstream_of(&party.id).await?.is_some()
    {
        return Ok(Some(party.code));
    }
    let Some(up) = directory.upstream_by_issuer(hint).await? else {
        return Ok(None);
    };
    Ok(directory
        .party_by_id(&up.party_id)
        .await?
        .filter(|p| p.kind == PartyKind::NetworkProvider)
        .map(|p| p.code))
}

async fn network_provider(
    directory: &Directory,
    party_code: &str,
) -> Result<directory::parties::Party, UpstreamError> {
    let party = directory.require_party(party_code).await?;
    if party.kind != PartyKind::NetworkProvider {
        return Err(UpstreamError::invalid(
            format!("partij {party_code} is geen netwerkaanbieder"),
            format!("party {party_code} is not a network provider"),
        ));
    }
    Ok(party)
}

/// Connects (or reconnects) a provider over SAML. `entity_id` picks the IdP from a federation
/// aggregate; for a single EntityDescriptor it may be left out.
pub async fn connect_saml(
    directory: &Directory,
    http: &Outbound,
    party_code: &str,
    source: MetadataSource,
    entity_id: Option<&str>,
    settings: &Settings,
    actor: &Actor,
) -> Result<UpstreamIdp, UpstreamError> {
    settings.validate(UpstreamProtocol::Saml)?;
    let party = network_provider(directory, party_code).await?;
    let (xml, url) = match source {
        MetadataSource::Xml(x) => (x, None),
        MetadataSource::Url(u) => (fetch_metadata(http, &u).await?, Some(u)),
    };
    let idp = idp_from_metadata(
        &xml,
        entity_id,
        settings.metadata_certificate.as_deref(),
        crate::clock::unix_now(),
    )?;
    let text = String::from_utf8(xml)
        .map_err(|_| UpstreamError::Metadata(SamlError::Malformed("not UTF-8".into())))?;
    directory
        .set_upstream(
            &StoredUpstream {
                party_id: party.id,
                protocol: UpstreamProtocol::Saml,
                issuer: idp.entity_id.clone(),
                settings: serde_json::to_string(settings)
                    .map_err(|e| UpstreamError::Stored(party_code.to_owned(), e.to_string()))?,
                metadata_xml: Some(text),
                metadata_url: url,
                client_secret: None,
                refreshed_at: 0,
                refresh_error: None,
            },
            actor,
        )
        .await?;
    Ok(idp)
}

/// Connects (or reconnects) a provider over OpenID Connect. `secret` `None` keeps a stored one.
pub async fn connect_oidc(
    directory: &Directory,
    party_code: &str,
    issuer: &str,
    secret: Option<String>,
    settings: &Settings,
    development: bool,
    actor: &Actor,
) -> Result<(), UpstreamError> {
    settings.validate(UpstreamProtocol::Oidc)?;
    let party = network_provider(directory, party_code).await?;
    let url = url::Url::parse(issuer).map_err(|_| {
        UpstreamError::invalid(
            format!("issuer {issuer} is geen URL"),
            format!("issuer {issuer} is not a URL"),
        )
    })?;
    // OpenID Connect Discovery: the issuer is an https URL without query or fragment.
    if !(url.scheme() == "https" || development && url.scheme() == "http")
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(UpstreamError::invalid(
            format!("issuer {issuer} moet een https-adres zonder ? of # zijn"),
            format!("issuer {issuer} must be an https address without ? or #"),
        ));
    }
    let old = directory.upstream_of(&party.id).await?;
    let auth = settings.oidc.as_ref().map(|o| o.auth);
    let has_secret = secret.is_some()
        || old
            .as_ref()
            .is_some_and(|o| o.protocol == UpstreamProtocol::Oidc && o.client_secret.is_some());
    if auth.is_some_and(|a| a.needs_secret()) && !has_secret {
        return Err(UpstreamError::invalid(
            "deze manier van aanmelden bij de netwerkaanbieder vraagt een client secret",
            "this way of authenticating to the network provider needs a client secret",
        ));
    }
    directory
        .set_upstream(
            &StoredUpstream {
                party_id: party.id,
                protocol: UpstreamProtocol::Oidc,
                issuer: issuer.to_owned(),
                settings: serde_json::to_string(settings)
                    .map_err(|e| UpstreamError::Stored(party_code.to_owned(), e.to_string()))?,
                metadata_xml: None,
                metadata_url: None,
                client_secret: secret,
                refreshed_at: 0,
                refresh_error: None,
            },
            actor,
        )
        .await?;
    Ok(())
}

/// A connected provider's upstream as every front end shows it: the stored settings read back,
/// and whether a client secret is stored, never the secret itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    pub protocol: UpstreamProtocol,
    /// The SAML IdP's entityID or the OIDC issuer.
    pub issuer: String,
    pub settings: Settings,
    pub metadata_url: Option<String>,
    /// When the metadata was last stored (connected or refreshed), Unix seconds.
    pub refreshed_at: i64,
    /// Why the last refresh failed, while the metadata stored before stays in use.
    pub refresh_error: Option<String>,
    pub client_secret_set: bool,
}

impl Connection {
    pub fn of(stored: &StoredUpstream) -> Result<Connection, UpstreamError> {
        Ok(Connection {
            protocol: stored.protocol,
            issuer: stored.issuer.clone(),
            settings: settings_of(stored)?,
            metadata_url: stored.metadata_url.clone(),
            refreshed_at: stored.refreshed_at,
            refresh_error: stored.refresh_error.clone(),
            client_secret_set: stored.client_secret.is_some(),
        })
    }
}

/// The network provider `party_code` names and its connection, if it has one; any other party
/// is refused, so that no front end shows or changes an upstream of a publisher.
pub async fn provider_connection(
    directory: &Directory,
    party_code: &str,
) -> Result<(directory::parties::Party, Option<Connection>), UpstreamError> {
    let party = network_provider(directory, party_code).await?;
    let connection = match directory.upstream_of(&party.id).await? {
        Some(stored) => Some(Connection::of(&stored)?),
        None => None,
    };
    Ok((party, connection))
}

/// [`refresh`] for the provider `party_code` names, as the operator asks for it.
pub async fn refresh_provider(
    directory: &Directory,
    http: &Outbound,
    party_code: &str,
    actor: &Actor,
) -> Result<UpstreamIdp, UpstreamError> {
    let party = network_provider(directory, party_code).await?;
    let current = directory
        .upstream_of(&party.id)
        .await?
        .ok_or(DirectoryError::NotFound {
            what: "netwerkaanbieder-koppeling",
            key: party.code,
        })?;
    refresh(directory, http, &current, actor).await
}

pub async fn disconnect(
    directory: &Directory,
    party_code: &str,
    actor: &Actor,
) -> Result<(), UpstreamError> {
    let party = network_provider(directory, party_code).await?;
    directory.remove_upstream(&party.id, actor).await?;
    Ok(())
}

async fn fetch_metadata(http: &Outbound, url: &str) -> Result<Vec<u8>, UpstreamError> {
    fetch(http, url).await.map_err(|e| {
        let (nl, en) = e.texts();
        UpstreamError::Fetch { nl, en }
    })
}

/// Re-reads one SAML provider's metadata from its URL. A failure keeps the last verified
/// metadata in use and is put on record.
pub async fn refresh(
    directory: &Directory,
    http: &Outbound,
    current: &StoredUpstream,
    actor: &Actor,
) -> Result<UpstreamIdp, UpstreamError> {
    if current.protocol == UpstreamProtocol::Oidc {
        // Its discovery document is read when a login starts; there is nothing stored to renew.
        return Err(UpstreamError::invalid(
            "een OpenID Connect-koppeling heeft geen metadata om te vernieuwen: openpoort leest de discovery van de issuer bij het inloggen",
            "an OpenID Connect upstream has no metadata to refresh: openpoort reads the issuer's discovery document at login",
        ));
    }
    let Some(url) = current.metadata_url.clone() else {
        return Err(UpstreamError::invalid(
            "deze koppeling is met een metadatabestand gemaakt, niet met een URL",
            "this upstream was connected from a metadata file, not a URL",
        ));
    };
    let settings = settings_of(current)?;
    let outcome = async {
        let xml = fetch_metadata(http, &url).await?;
        // The entityID may not change under a URL: assertions are trusted by it.
        let idp = idp_from_metadata(
            &xml,
            Some(&current.issuer),
            settings.metadata_certificate.as_deref(),
            crate::clock::unix_now(),
        )?;
        let text = String::from_utf8(xml)
            .map_err(|_| UpstreamError::Metadata(SamlError::Malformed("not UTF-8".into())))?;
        Ok::<_, UpstreamError>((idp, text))
    }
    .await;
    match outcome {
        Ok((idp, text)) => {
            directory
                .refresh_upstream_metadata(&current.party_id, &text, actor)
                .await?;
            Ok(idp)
        }
        Err(e) => {
            directory
                .set_upstream_refresh_error(&current.party_id, &e.to_string(), actor)
                .await?;
            Err(e)
        }
    }
}

/// Refreshes every SAML upstream with a metadata URL whose last refresh is `every` old;
/// returns how many were refreshed and how many failed.
pub async fn refresh_due(
    directory: &Directory,
    http: &Outbound,
    every: Duration,
) -> Result<(usize, usize), DirectoryError> {
    let actor = Actor::system("upstream-metadata-refresh");
    let now = crate::clock::unix_now();
    let (mut done, mut failed) = (0, 0);
    for up in directory.upstreams().await? {
        if up.metadata_url.is_none() || up.refreshed_at + every.as_secs() as i64 > now {
            continue;
        }
        match refresh(directory, http, &up, &actor).await {
            Ok(_) => done += 1,
            Err(e) => {
                failed += 1;
                tracing::warn!(party = %up.party_id, error = %e, "network provider metadata refresh failed; the last verified metadata stays in use");
            }
        }
    }
    Ok((done, failed))
}

/// Runs [`refresh_due`] every hour (or `every`, if shorter) for as long as the server runs.
pub fn spawn_refresh(directory: Directory, http: Outbound, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3_600).min(every));
        loop {
            tick.tick().await;
            match refresh_due(&directory, &http, every).await {
                Ok((0, 0)) => {}
                Ok((done, failed)) => {
                    tracing::info!(
                        refreshed = done,
                        failed,
                        "network provider metadata refreshed"
                    )
                }
                Err(e) => {
                    tracing::error!(error = %e, "network provider metadata refresh could not run")
                }
            }
        }
    });
}
