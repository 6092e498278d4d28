//! A party's SAML service providers on the operator's pages: register from metadata (pasted,
//! or fetched from a URL through the outbound policy), see what was read, read the URL again,
//! remove (after a confirmation). The rules are `crate::service_providers`', as for the admin
//! API and `openpoort sp …`.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use directory::DirectoryError;
use directory::model::netherlands_clock;
use directory::saml_sps::StoredSp;
use metadata::saml::sp::{AttributeNames, Signing, SpSettings};
use serde::Deserialize;

use super::{Desk, Nav, PARTIES, Removal, confirm, party_code, party_path};
use crate::http::extract::{Path, Query};
use crate::http::{Csrf, FormView, NoFields, NoticeQuery, PageError, Text, see, url_encode};
use crate::operator_admin::{AdminError, optional, parties};
use crate::service_providers::{self as registry, RegistryError, certificate_summary};

#[derive(Clone, Default, Deserialize)]
pub struct SpForm {
    #[serde(default)]
    metadata: String,
    #[serde(default)]
    metadata_url: String,
    #[serde(default)]
    name: String,
    /// `assertion`, `response`, `both`, or empty for the metadata's default.
    #[serde(default)]
    signing: String,
    /// The older checkbox, kept for forms posted by scripts: the same as `both`.
    sign_response: Option<String>,
    #[serde(default)]
    attribute_names: String,
    encrypt_assertions: Option<String>,
    #[serde(default)]
    sector_identifier: String,
    #[serde(default)]
    metadata_signing_certificate: String,
}

#[derive(Template)]
#[template(path = "operator_sp_new.html")]
struct NewSpPage {
    nav: Nav,
    csrf: String,
    party_code: String,
    party_name: String,
    error: Option<Text>,
    form: SpForm,
    /// (value, Dutch, English) of each signing and attribute-naming choice.
    signing_choices: Vec<(&'static str, &'static str, &'static str)>,
    attribute_names_choices: Vec<(&'static str, &'static str, &'static str)>,
}

pub struct Certificate {
    usage: &'static str,
    subject: String,
    not_after: String,
    expired: bool,
}

/// An ACS or SLO endpoint: its URL, and its index or binding.
pub struct Endpoint {
    location: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "operator_sp.html")]
struct SpPage {
    nav: Nav,
    csrf: String,
    party_code: String,
    party_name: String,
    path: String,
    entity_id: String,
    name: String,
    acs: Vec<Endpoint>,
    slo: Vec<Endpoint>,
    certificates: Vec<Certificate>,
    valid_until: Option<String>,
    metadata_url: Option<String>,
    refreshed_at: String,
    refresh_error: Option<String>,
    settings: Vec<(&'static str, &'static str, String)>,
    error: Option<Text>,
    refreshed: bool,
}

/// The path of an SP's page: its entityID (a URL or URN) percent-encoded as one segment.
fn sp_path(entity_id: &str) -> String {
    format!("/operator/saml-sps/{}", url_encode(entity_id))
}

/// A refusal the operator can act on, shown on the page; anything else is the error page's.
fn refusal(e: RegistryError) -> Result<(StatusCode, Text), RegistryError> {
    match e {
        RegistryError::Directory(DirectoryError::Duplicate { field, value }) => Ok((
            StatusCode::CONFLICT,
            Text::new(
                format!(
                    "{field} {value:?} is al geregistreerd; verwijder die eerst of kies andere metadata"
                ),
                format!(
                    "{field} {value:?} is already registered; remove it first or choose other metadata"
                ),
            ),
        )),

        RegistryError::Directory(DirectoryError::Conflict { nl, en }) => {
            Ok((StatusCode::CONFLICT, Text::new(nl, en)))
        }
        e @ (RegistryError::Directory(_) | RegistryError::Stored(..)) => Err(e),
        other => {
            let (nl, en) = other.texts();
            Ok((StatusCode::BAD_REQUEST, Text::new(nl, en)))
        }
    }
}

/// What the operator cannot fix on the form: a page that is gone, or our fault.
fn page_error(e: RegistryError) -> PageError {
    match e {
        RegistryError::Directory(DirectoryError::NotFound { what, key }) => {
            AdminError::NotFound { what, key }.into()
        }
        other => PageError::internal(other),
    }
}

async fn render_new(
    desk: Desk,
    party_code: &str,
    view: FormView<SpForm>,
) -> Result<Response, PageError> {
    let party = parties::party(desk.directory(), &desk.operating, party_code).await?;
    Ok(desk.form_page(view, |csrf, error, form| NewSpPage {
        nav: PARTIES,
        csrf,
        party_code: party.code,
        party_name: party.name,
        error,
        form,
        signing_choices: registry::SIGNING_CHOICES
            .iter()
            .map(|(c, nl, en)| (c.name(), *nl, *en))
            .collect(),
        attribute_names_choices: registry::ATTRIBUTE_NAMES_CHOICES
            .iter()
            .map(|(c, nl, en)| (c.name(), *nl, *en))
            .collect(),
    }))
}

pub async fn new_sp(desk: Desk, Path(party): Path<String>) -> Result<Response, PageError> {
    render_new(desk, &party, FormView::default()).await
}

pub async fn register(
    desk: Desk,
    Path(party_code): Path<String>,
    Csrf(form): Csrf<SpForm>,
) -> Result<Response, PageError> {
    let party = parties::party(desk.directory(), &desk.operating, &party_code).await?;
    let state = &desk.state;
    let registered = async {
        let settings = SpSettings {
            party_id: party.id,
            name: optional(&form.name).map(str::to_owned),
            signing: registry::signing_choice(Some(&form.signing), form.sign_response.is_some())?,
            attribute_names: registry::attribute_names_choice(Some(&form.attribute_names))?,
            encrypt_assertions: form.encrypt_assertions.is_some(),
            sector_identifier: optional(&form.sector_identifier).map(str::to_owned),
            metadata_url: optional(&form.metadata_url).map(str::to_owned),
            metadata_signing_certificate: optional(&form.metadata_signing_certificate)
                .map(str::to_owned),
        };
        let xml = optional(&form.metadata).map(|x| x.as_bytes().to_vec());
        registry::register(
            &state.directory,
            &state.http,
            xml,
            &settings,
            state.api.development,
            &desk.operating.actor,
        )
        .await
    }
    .await;
    match registered {
        Ok(sp) => Ok(see(&sp_path(&sp.entity_id))),
        Err(e) => {
            let (status, text) = refusal(e).map_err(page_error)?;
            let refused = FormView::refused_as(status, text, form);
            render_new(desk, &party_code, refused).await
        }
    }
}

async fn stored(desk: &Desk, entity_id: &str) -> Result<StoredSp, PageError> {
    desk.directory().saml_sp(entity_id).await?.ok_or_else(|| {
        AdminError::NotFound {
            what: "SAML-dienst",
            key: entity_id.to_owned(),
        }
        .into()
    })
}

fn yes_no(on: bool) -> String {
    if on { "ja / yes" } else { "nee / no" }.to_owned()
}

async fn render_sp(
    desk: Desk,
    entity_id: &str,
    (status, error, refreshed): (StatusCode, Option<Text>, bool),
) -> Result<Response, PageError> {
    let current = stored(&desk, entity_id).await?;
    let sp = registry::parse(&current).map_err(PageError::internal)?;
    let party = desk
        .directory()
        .party_by_id(&sp.party_id)
        .await?
        .ok_or_else(|| PageError::bug("an SP without its party"))?;
    let now = crate::clock::unix_now();
    let certificates = sp
        .signing_certificates
        .iter()
        .map(|c| ("ondertekenen / signing", c))
        .chain(
            sp.encryption_certificates
                .iter()
                .map(|c| ("versleutelen / encryption", c)),
        )
        .map(|(usage, c)| {
            let summary = certificate_summary(c);
            Certificate {
                usage,
                subject: summary.subject,
                not_after: summary.not_after.map(netherlands_clock).unwrap_or_default(),
                expired: summary.not_after.is_some_and(|t| t <= now),
            }
        })
        .collect();
    Ok(desk.page(status, |csrf| SpPage {
        nav: PARTIES,
        csrf,
        party_code: party.code,
        party_name: party.name,
        path: sp_path(&sp.entity_id),
        name: sp.name.clone(),
        acs: sp
            .acs
            .iter()
            .map(|a| Endpoint {
                location: a.location.clone(),
                detail: format!(
                    "index {}{}",
                    a.index,
                    if a.is_default {
                        " (standaard / default)"
                    } else {
                        ""
                    }
                ),
            })
            .collect(),
        slo: sp
            .slo
            .iter()
            .map(|s| Endpoint {
                location: s.location.clone(),
                detail: match s.binding {
                    metadata::saml::sp::Binding::HttpPost => "HTTP-POST",
                    metadata::saml::sp::Binding::HttpRedirect => "HTTP-Redirect",
                }
                .to_owned(),
            })
            .collect(),
        certificates,
        valid_until: sp.metadata_valid_until.map(netherlands_clock),
        metadata_url: sp.metadata_url.clone(),
        refreshed_at: netherlands_clock(current.refreshed_at),
        refresh_error: current.refresh_error.clone(),
        settings: vec![
            (
                "Verzoeken ondertekend",
                "Requests signed",
                yes_no(sp.authn_requests_signed),
            ),
            (
                "Ondertekend door openpoort",
                "Signed by openpoort",
                match sp.signing() {
                    Signing::Assertion => "de Assertion / the Assertion",
                    Signing::Response => "de Response / the Response",
                    Signing::Both => "Assertion en Response / Assertion and Response",
                }
                .to_owned(),
            ),
            (
                "Attribuutnamen",
                "Attribute names",
                match sp.attribute_names {
                    AttributeNames::Basic => "basic (eduPersonAffiliation …)",
                    AttributeNames::Uri => "uri (urn:oid:1.3.6.1.4.1.5923.1.1.1.1 …)",
                }
                .to_owned(),
            ),
            (
                "Assertions versleuteld",
                "Assertions encrypted",
                yes_no(sp.encrypt_assertions),
            ),
            (
                "Sector voor pseudoniemen",
                "Pseudonym sector",
                sp.sector_identifier
                    .clone()
                    .unwrap_or_else(|| "die van de partij / the party's".to_owned()),
            ),
        ],
        entity_id: sp.entity_id,
        error,
        refreshed,
    }))
}

pub async fn sp(
    desk: Desk,
    Path(entity_id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let refreshed = q.melding.as_deref() == Some("vernieuwd");
    render_sp(desk, &entity_id, (StatusCode::OK, None, refreshed)).await
}

pub async fn refresh(
    desk: Desk,
    Path(entity_id): Path<String>,
    _: Csrf<NoFields>,
) -> Result<Response, PageError> {
    let current = stored(&desk, &entity_id).await?;
    let state = &desk.state;
    let refreshed = registry::refresh(
        &state.directory,
        &state.http,
        &current,
        state.api.development,
        &desk.operating.actor,
    )
    .await;
    match refreshed {
        Ok(_) => Ok(see(&format!("{}?melding=vernieuwd", sp_path(&entity_id)))),
        Err(e) => {
            // The last verified metadata stays; the failure is on record and shown.
            let (status, text) = refusal(e).map_err(page_error)?;
            render_sp(desk, &entity_id, (status, Some(text), false)).await
        }
    }
}

pub async fn confirm_remove(
    desk: Desk,
    Path(entity_id): Path<String>,
) -> Result<Response, PageError> {
    let current = stored(&desk, &entity_id).await?;
    let path = sp_path(&current.entity_id);
    let removal = Removal {
        title: Text::new("SAML-dienst verwijderen", "Remove the service provider"),
        warning: Text::new(
            format!(
                "{} kan daarna niemand meer laten inloggen: openpoort beantwoordt geen verzoeken van deze dienst meer. Dit kan niet ongedaan worden gemaakt; registreer hem zo nodig opnieuw.",
                current.entity_id
            ),
            format!(
                "{} can then log nobody in: openpoort answers no more requests from it. This cannot be undone; register it again if needed.",
                current.entity_id
            ),
        ),
        action: format!("{path}/verwijderen"),
        button: Text::new(
            "Ja, SAML-dienst verwijderen",
            "Yes, remove the service provider",
        ),
        back: path,
    };
    Ok(confirm(desk, removal))
}

pub async fn remove(
    desk: Desk,
    Path(entity_id): Path<String>,
    _: Csrf<NoFields>,
) -> Result<Response, PageError> {
    let current = stored(&desk, &entity_id).await?;
    let party = party_code(desk.directory(), &current.party_id).await?;
    registry::remove(desk.directory(), &entity_id, &desk.operating.actor)
        .await
        .map_err(page_error)?;
    Ok(see(&party_path(&party)))
}
