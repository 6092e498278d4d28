//! Registering SAML service providers from their metadata (a file or a URL), keeping URL
//! metadata fresh and removing them. Shared by the operator commands, the admin API, the
//! operator's pages and the scheduled refresh; below the front ends, like `clients` for OpenID
//! Connect.

use std::time::Duration;

use ::metadata::saml::SamlError;
use ::metadata::saml::dom::Limits;
use ::metadata::saml::sp::{AttributeNames, ServiceProvider, Signing, SpSettings, from_metadata};
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
    /// Neither or both of the metadata itself and a URL to fetch it from.
    Source,
    /// A refresh of an SP registered from a metadata file: there is no URL to read again.
    NotFromUrl,
    /// A stored registration that no longer parses: openpoort's fault, not the operator's.
    Stored(String, String),
    /// A signing or attribute-naming choice that is not one of the offered ones, or a signing
    /// choice next to a contradicting `sign_response`.
    Choice(String),
}

/// The signing choices with what each means for the SP libraries publishers commonly use,
/// Dutch and English: shown by the registration page and `openpoort sp add --help`.
pub const SIGNING_CHOICES: [(Signing, &str, &str); 3] = [
    (
        Signing::Assertion,
        "Alleen de Assertion ondertekend. Dit vraagt WantAssertionsSigned=\"true\" in de metadata, en zo werken python3-saml (ook strict, met wantAssertionsSigned), Shibboleth SP, SimpleSAMLphp en samael. pysaml2 met zijn standaardinstelling want_response_signed=True weigert dit: kies dan 'both'.",
        "Only the Assertion signed. This is what WantAssertionsSigned=\"true\" in the metadata asks for, and what python3-saml (strict too, with wantAssertionsSigned), Shibboleth SP, SimpleSAMLphp and samael accept. pysaml2 with its default want_response_signed=True refuses it: choose 'both' then.",
    ),
    (
        Signing::Response,
        "Alleen de Response ondertekend, de Assertion niet. Voor een SP die de handtekening van het bericht controleert (python3-saml met wantMessagesSigned en zonder wantAssertionsSigned; pysaml2 met want_assertions_signed=False; Shibboleth SP en SimpleSAMLphp accepteren het ook). Niet mogelijk als de metadata WantAssertionsSigned=\"true\" zegt, en een versleutelde Assertion draagt dan zelf geen handtekening.",
        "Only the Response signed, not the Assertion. For an SP that checks the message's signature (python3-saml with wantMessagesSigned and without wantAssertionsSigned; pysaml2 with want_assertions_signed=False; Shibboleth SP and SimpleSAMLphp accept it too). Refused when the metadata says WantAssertionsSigned=\"true\", and an encrypted Assertion then carries no signature of its own.",
    ),
    (
        Signing::Both,
        "Assertion en Response allebei ondertekend: elke genoemde bibliotheek accepteert dit, ook python3-saml strict met wantMessagesSigned en wantAssertionsSigned samen en pysaml2 met zijn standaardinstellingen. Kost een tweede handtekening per login. Standaard als de metadata geen WantAssertionsSigned=\"true\" zegt.",
        "Assertion and Response both signed: every library named accepts it, python3-saml strict with wantMessagesSigned and wantAssertionsSigned together and pysaml2 with its defaults included. Costs a second signature per login. The default when the metadata does not say WantAssertionsSigned=\"true\".",
    ),
];

/// The attribute-naming choices, as [`SIGNING_CHOICES`].
pub const ATTRIBUTE_NAMES_CHOICES: [(AttributeNames, &str, &str); 2] = [
    (
        AttributeNames::Basic,
        "Standaard. Namen als eduPersonAffiliation, givenName, sn, mail met NameFormat basic, zoals Nederlandse onderwijsfederaties ze gebruiken.",
        "The default. Names such as eduPersonAffiliation, givenName, sn, mail with the basic NameFormat, as Dutch education federations use them.",
    ),
    (
        AttributeNames::Uri,
        "urn:oid:-namen met NameFormat uri en de gewone naam als FriendlyName, waar het attribuut een standaard-OID heeft (eduPerson, inetOrgPerson): wat eduPerson/Entree-SP's, Shibboleth SP's standaard attribute-map en pysaml2's standaard attribute maps lezen. Attributen zonder standaard-OID houden hun naam. Dezelfde gegevens, alleen andere namen.",
        "urn:oid: names with the uri NameFormat and the plain name as FriendlyName, where the attribute has a standard OID (eduPerson, inetOrgPerson): what eduPerson/Entree SPs, Shibboleth SP's default attribute-map and pysaml2's default attribute maps read. Attributes without a standard OID keep their names. The same data, only other names.",
    ),
];

/// The long help of a choice on the command line: each value with its Dutch and English text.
pub fn choices_help(choices: &[(&str, &str, &str)]) -> String {
    choices
        .iter()
        .map(|(name, nl, en)| format!("{name}: {nl}\n    {en}"))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The signing an operator chose: `signing` by name, or the older `sign_response` flag for both
/// signed; `None` leaves it to the metadata.
pub fn signing_choice(
    signing: Option<&str>,
    sign_response: bool,
) -> Result<Option<Signing>, RegistryError> {
    match (signing.filter(|s| !s.is_empty()), sign_response) {
        (None, false) => Ok(None),
        (None, true) => Ok(Some(Signing::Both)),
        (Some(name), also) => match Signing::parse(name) {
            Some(s) if !also || s.response() => Ok(Some(s)),
            Some(_) => Err(RegistryError::Choice(format!(
                "signing \"{name}\" with sign_response"
            ))),
            None => Err(RegistryError::Choice(format!("signing \"{name}\""))),
        },
    }
}

/// The attribute naming an operator chose by name (`basic` when none).
pub fn attribute_names_choice(name: Option<&str>) -> Result<AttributeNames, RegistryError> {
    match name.filter(|s| !s.is_empty()) {
        None => Ok(AttributeNames::Basic),
        Some(n) => AttributeNames::parse(n)
            .ok_or_else(|| RegistryError::Choice(format!("attribute_names \"{n}\""))),
    }
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
            RegistryError::Source => (
                "Geef precies één van: de metadata zelf (de XML) of het adres (URL) waar openpoort hem ophaalt.".to_owned(),
                "Give exactly one of: the metadata itself (the XML) or the URL openpoort fetches it from.".to_owned(),
            ),
            RegistryError::NotFromUrl => (
                "Deze SAML-dienst is met een metadatabestand geregistreerd, niet met een URL; registreer hem opnieuw om hem te vernieuwen.".to_owned(),
                "This service provider was registered from a metadata file, not a URL; register it again to renew it.".to_owned(),
            ),
            RegistryError::Choice(what) => (
                format!(
                    "onbekende of tegenstrijdige keuze: {what} (signing: assertion, response of both; attribute_names: basic of uri)"
                ),
                format!(
                    "unknown or contradicting choice: {what} (signing: assertion, response or both; attribute_names: basic or uri)"
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

/// A stored SP's registration.
pub fn parse(stored: &StoredSp) -> Result<ServiceProvider, RegistryError> {
    serde_json::from_str(&stored.registration)
        .map_err(|e| RegistryError::Stored(stored.entity_id.clone(), e.to_string()))
}

/// Reads, validates and stores a new SP. `xml` is the metadata itself, or `None` to fetch it
/// from `settings.metadata_url`; exactly one of the two. A taken entityID is refused by the
/// register's unique key.
pub async fn register(
    directory: &Directory,
    http: &Outbound,
    xml: Option<Vec<u8>>,
    settings: &SpSettings,
    development: bool,
    actor: &Actor,
) -> Result<ServiceProvider, RegistryError> {
    let xml = match (xml, &settings.metadata_url) {
        (Some(x), None) => x,
        (None, Some(url)) => fetch(http, url).await?,
        // Metadata given next to a URL would be stored as if read from it, and replaced at the
        // first refresh by whatever the URL says.
        _ => return Err(RegistryError::Source),
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
    let old = parse(current)?;
    let Some(url) = old.metadata_url.clone() else {
        return Err(RegistryError::NotFromUrl);
    };
    let settings = SpSettings {
        party_id: old.party_id.clone(),
        name: Some(old.name.clone()),
        signing: Some(old.signing()),
        attribute_names: old.attribute_names,
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

/// Removes an SP: from the next request on it is unknown.
pub async fn remove(
    directory: &Directory,
    entity_id: &str,
    actor: &Actor,
) -> Result<(), RegistryError> {
    directory.delete_saml_sp(entity_id, actor).await?;
    Ok(())
}

/// What an operator needs to know of a certificate in an SP's metadata.
pub struct CertificateSummary {
    /// The subject, as `CN=…, O=…`.
    pub subject: String,
    /// The end of its validity (Unix seconds); `None` when the certificate does not parse.
    pub not_after: Option<i64>,
}

/// The subject and the end of validity of a base64 DER certificate from metadata. The metadata
/// reader checked it already; one that no longer parses is shown as such, not refused here.
pub fn certificate_summary(base64_der: &str) -> CertificateSummary {
    use base64::Engine;
    let unreadable = || CertificateSummary {
        subject: "(onleesbaar / unreadable)".to_owned(),
        not_after: None,
    };
    let Ok(der) = base64::engine::general_purpose::STANDARD.decode(
        base64_der
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>(),
    ) else {
        return unreadable();
    };
    let Ok(cert) = openssl::x509::X509::from_der(&der) else {
        return unreadable();
    };
    let subject = cert
        .subject_name()
        .entries()
        .map(|e| {
            let name = e.object().nid().short_name().unwrap_or("?");
            let value = e.data().to_string().unwrap_or_else(|_| "?".to_owned());
            format!("{name}={value}")
        })
        .collect::<Vec<_>>()
        .join(", ");
    let not_after = openssl::asn1::Asn1Time::from_unix(0)
        .and_then(|epoch| epoch.diff(cert.not_after()))
        .ok()
        .map(|d| i64::from(d.days) * 86_400 + i64::from(d.secs));
    CertificateSummary { subject, not_after }
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
