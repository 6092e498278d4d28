//! Operator commands for a network provider's upstream: connect over SAML or OpenID Connect,
//! show, refresh, remove. The rules are `crate::upstream::registry`'s, as for the admin API and
//! the operator's page; this file only reads the command's files and prints the outcome.

use directory::model::netherlands_clock;
use directory::upstreams::UpstreamProtocol;
use directory::{Actor, Directory};

use super::{SMALL_FILE_LIMIT, read_bounded, read_bounded_text, read_small_input};
use crate::app::{self, AppError};
use crate::app_state::WebConfig;
use crate::cli::{PartyCommand, UPSTREAM_CLIENT_SECRET_ENV, UpstreamOidc, UpstreamSaml};
use crate::config::Config;
use crate::upstream::ForProvider;
use crate::upstream::registry::{self, Connection, MetadataSource, OidcSettings, Settings};

pub async fn run(
    config: &Config,
    d: &Directory,
    command: PartyCommand,
    actor: &Actor,
) -> Result<(), AppError> {
    match command {
        PartyCommand::UpstreamSaml(add) => connect_saml(config, d, *add, actor).await,
        PartyCommand::UpstreamOidc(add) => connect_oidc(config, d, *add, actor).await,
        PartyCommand::UpstreamShow { party } => show(config, d, &party).await,
        PartyCommand::UpstreamRefresh { party } => {
            let http = app::http_client(config)?;
            let idp = registry::refresh_provider(d, &http, &party, actor).await?;
            println!(
                "metadata van {party} vernieuwd / metadata of {party} refreshed: {} ({} signing certificate(s))",
                idp.entity_id,
                idp.signing_certificates.len()
            );
            Ok(())
        }
        PartyCommand::UpstreamRemove { party } => {
            registry::disconnect(d, &party, actor).await?;
            println!(
                "koppeling van {party} verwijderd; zijn gebruikers loggen niet meer via hem in / upstream of {party} removed; its users no longer log in through it"
            );
            Ok(())
        }
        other => unreachable!("not an upstream command: {other:?}"),
    }
}

async fn connect_saml(
    config: &Config,
    d: &Directory,
    add: UpstreamSaml,
    actor: &Actor,
) -> Result<(), AppError> {
    let source = match (&add.metadata_file, add.metadata_url) {
        (Some(path), _) => MetadataSource::Xml(read_bounded(
            path,
            config.import.max_bytes() as u64,
            "import.max_mib",
        )?),
        (None, Some(url)) => MetadataSource::Url(url),
        // clap requires one of the two.
        (None, None) => unreachable!("--metadata-file or --metadata-url"),
    };
    let metadata_certificate = match &add.metadata_certificate {
        Some(path) => Some(read_bounded_text(path, SMALL_FILE_LIMIT, "a certificate")?),
        None => None,
    };
    let settings = Settings {
        match_by: add.match_by,
        identifier: add.identifier,
        school: add.school_attribute,
        require_signed_assertion: !add.allow_unsigned_assertion,
        allow_unsolicited: !add.no_unsolicited,
        metadata_certificate,
        oidc: None,
    };
    let http = app::http_client(config)?;
    let idp = registry::connect_saml(
        d,
        &http,
        &add.party,
        source,
        add.entity_id.as_deref(),
        &settings,
        actor,
    )
    .await?;
    println!(
        "{} gekoppeld over SAML / connected over SAML: {} ({} signing certificate(s))",
        add.party,
        idp.entity_id,
        idp.signing_certificates.len()
    );
    let give = ForProvider::of(&WebConfig::from_config(config));
    println!(
        "geef de netwerkaanbieder / give the network provider: SP-metadata {}, ACS {}",
        give.sp_metadata_url, give.acs_url
    );
    Ok(())
}

/// The secret from `--client-secret-file` (or standard input for "-"), else from the
/// environment, else none (the stored one is kept).
fn client_secret(add: &UpstreamOidc) -> Result<Option<String>, AppError> {
    let (secret, from) = match &add.client_secret_file {
        Some(path) => (
            read_small_input(path, "a secret file")?,
            "--client-secret-file",
        ),
        None => match std::env::var(UPSTREAM_CLIENT_SECRET_ENV) {
            Ok(s) => (s, UPSTREAM_CLIENT_SECRET_ENV),
            Err(std::env::VarError::NotPresent) => return Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(AppError::Usage(format!(
                    "{UPSTREAM_CLIENT_SECRET_ENV} is geen UTF-8-tekst / is not UTF-8 text"
                )));
            }
        },
    };
    // A file written by an editor ends in a newline, which is no part of the secret.
    let secret = secret.trim().to_owned();
    if secret.is_empty() {
        return Err(AppError::Usage(format!(
            "het client secret uit {from} is leeg; niets gewijzigd / the client secret from {from} is empty; nothing was changed"
        )));
    }
    Ok(Some(secret))
}

async fn connect_oidc(
    config: &Config,
    d: &Directory,
    add: UpstreamOidc,
    actor: &Actor,
) -> Result<(), AppError> {
    let secret = client_secret(&add)?;
    let new_secret = secret.is_some();
    let settings = Settings {
        match_by: add.match_by,
        identifier: add.identifier,
        school: add.school_claim,
        require_signed_assertion: true,
        allow_unsolicited: true,
        metadata_certificate: None,
        oidc: Some(OidcSettings {
            client_id: add.client_id,
            auth: add.auth,
            scopes: add.scopes,
        }),
    };
    registry::connect_oidc(
        d,
        &add.party,
        &add.issuer,
        secret,
        &settings,
        config.is_development(),
        actor,
    )
    .await?;
    println!(
        "{} gekoppeld over OpenID Connect / connected over OpenID Connect: {}{}",
        add.party,
        add.issuer,
        if new_secret {
            " (nieuw client secret opgeslagen / new client secret stored)"
        } else {
            ""
        }
    );
    let give = ForProvider::of(&WebConfig::from_config(config));
    println!(
        "geef de netwerkaanbieder / give the network provider: redirect URI {}",
        give.redirect_uri
    );
    Ok(())
}

fn yes_no(b: bool) -> &'static str {
    if b { "ja / yes" } else { "nee / no" }
}

async fn show(config: &Config, d: &Directory, party: &str) -> Result<(), AppError> {
    let (p, connection) = registry::provider_connection(d, party).await?;
    let give = ForProvider::of(&WebConfig::from_config(config));
    println!(
        "netwerkaanbieder / network provider: {} ({})",
        p.code, p.name
    );
    let Some(c) = connection else {
        println!("niet gekoppeld / not connected");
        println!("voor SAML / for SAML:");
        print_saml_endpoints(&give);
        println!("voor OpenID Connect / for OpenID Connect:");
        println!("  redirect URI: {}", give.redirect_uri);
        return Ok(());
    };
    print_connection(&c);
    println!("geef de netwerkaanbieder / give the network provider:");
    match c.protocol {
        UpstreamProtocol::Saml => print_saml_endpoints(&give),
        UpstreamProtocol::Oidc => println!("  redirect URI: {}", give.redirect_uri),
    }
    Ok(())
}

fn print_saml_endpoints(give: &ForProvider) {
    println!("  SP-metadata: {}", give.sp_metadata_url);
    println!("  SP-entityID: {}", give.sp_entity_id);
    println!("  ACS: {}", give.acs_url);
}

fn print_connection(c: &Connection) {
    let s = &c.settings;
    println!("protocol: {}", c.protocol.as_str());
    match c.protocol {
        UpstreamProtocol::Saml => {
            println!("entityID: {}", c.issuer);
            println!(
                "metadata: {}",
                c.metadata_url
                    .as_deref()
                    .unwrap_or("uit een bestand / from a file")
            );
        }
        UpstreamProtocol::Oidc => println!("issuer: {}", c.issuer),
    }
    println!(
        "koppelen op / match by: {}{}{}",
        s.match_by.as_str(),
        s.identifier
            .as_deref()
            .map(|i| format!(", identifier {i}"))
            .unwrap_or_default(),
        s.school
            .as_deref()
            .map(|i| format!(", school {i}"))
            .unwrap_or_default()
    );
    match (&c.protocol, &s.oidc) {
        (UpstreamProtocol::Oidc, Some(o)) => {
            println!("client_id: {}", o.client_id);
            println!(
                "auth: {}",
                serde_json::to_value(o.auth)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            );
            println!(
                "scopes: {}",
                std::iter::once("openid")
                    .chain(o.scopes.iter().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            println!(
                "client secret opgeslagen / stored: {}",
                yes_no(c.client_secret_set)
            );
        }
        _ => {
            println!(
                "ondertekende assertion vereist / signed assertion required: {}",
                yes_no(s.require_signed_assertion)
            );
            println!(
                "ongevraagde Responses toegestaan / unsolicited Responses allowed: {}",
                yes_no(s.allow_unsolicited)
            );
            println!(
                "metadata-certificaat vastgezet / metadata certificate pinned: {}",
                yes_no(s.metadata_certificate.is_some())
            );
        }
    }
    println!(
        "laatst opgeslagen / last stored: {}",
        netherlands_clock(c.refreshed_at)
    );
    if let Some(e) = &c.refresh_error {
        println!("LAATSTE VERNIEUWING MISLUKT / LAST REFRESH FAILED: {e}");
    }
}
