//! A network provider's upstream on the operator's pages: how it vouches for its users now
//! (protocol, entityID or issuer, match rule, last refresh and its error), what openpoort gives
//! the provider (SP metadata URL, ACS, OIDC redirect URI), forms to connect over SAML (metadata
//! URL or pasted XML) or OpenID Connect (the secret is write-only), a refresh and a removal after
//! a confirmation. The rules are `crate::upstream::registry`'s, as for the admin API and
//! `openpoort party upstream-*`.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use directory::DirectoryError;
use directory::model::netherlands_clock;
use directory::parties::Party;
use directory::upstreams::UpstreamProtocol;
use serde::Deserialize;

use super::{Desk, Nav, PARTIES, Removal, confirm};
use crate::http::extract::{Path, Query};
use crate::http::{Csrf, NoFields, NoticeQuery, PageError, Text, see, url_encode};
use crate::operator_admin::{AdminError, optional, parties};
use crate::upstream::ForProvider;
use crate::upstream::registry::{
    self, Connection, MatchBy, MetadataSource, OidcClientAuth, OidcSettings, Settings,
    UpstreamError,
};

pub struct Choice {
    value: &'static str,
    label: &'static str,
    checked: bool,
}

const MATCH_RULES: [(&str, &str); 3] = [
    (
        "partner_number",
        "partnernummer: het gebruikersnummer in de partner-API van openpoort / partner number: the user's number in openpoort's partner API",
    ),
    ("eck_id", "ECK-iD"),
    (
        "las_key",
        "LAS-sleutel binnen de school / LAS key within the school",
    ),
];

const AUTHS: [(&str, &str); 3] = [
    ("client_secret_basic", "client_secret_basic"),
    ("client_secret_post", "client_secret_post"),
    (
        "private_key_jwt",
        "private_key_jwt (de sleutel van openpoort, geen secret / openpoort's key, no secret)",
    ),
];

fn choices(all: &[(&'static str, &'static str)], chosen: &str) -> Vec<Choice> {
    all.iter()
        .map(|(value, label)| Choice {
            value,
            label,
            checked: *value == chosen,
        })
        .collect()
}

/// The connection as the page shows it.
pub struct Shown {
    saml: bool,
    issuer: String,
    match_by: &'static str,
    identifier: String,
    school: String,
    metadata_url: Option<String>,
    require_signed_assertion: bool,
    allow_unsolicited: bool,
    pinned: bool,
    client_id: String,
    auth: String,
    scopes: String,
    secret_set: bool,
    refreshed_at: String,
    refresh_error: Option<String>,
}

impl Shown {
    fn of(c: &Connection) -> Shown {
        let s = &c.settings;
        let oidc = s.oidc.as_ref();
        Shown {
            saml: c.protocol == UpstreamProtocol::Saml,
            issuer: c.issuer.clone(),
            match_by: s.match_by.as_str(),
            identifier: s.identifier.clone().unwrap_or_default(),
            school: s.school.clone().unwrap_or_default(),
            metadata_url: c.metadata_url.clone(),
            require_signed_assertion: s.require_signed_assertion,
            allow_unsolicited: s.allow_unsolicited,
            pinned: s.metadata_certificate.is_some(),
            client_id: oidc.map(|o| o.client_id.clone()).unwrap_or_default(),
            auth: oidc.map(|o| auth_name(o.auth)).unwrap_or_default(),
            scopes: std::iter::once("openid")
                .chain(
                    oidc.iter()
                        .flat_map(|o| o.scopes.iter().map(String::as_str)),
                )
                .collect::<Vec<_>>()
                .join(" "),
            secret_set: c.client_secret_set,
            refreshed_at: netherlands_clock(c.refreshed_at),
            refresh_error: c.refresh_error.clone(),
        }
    }
}

fn auth_name(a: OidcClientAuth) -> String {
    AUTHS
        .iter()
        .map(|(v, _)| *v)
        .find(|v| OidcClientAuth::parse(v) == Some(a))
        .unwrap_or_default()
        .to_owned()
}

/// How a user is found, as both protocols' forms send it.
#[derive(Clone, Default, Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    match_by: String,
    #[serde(default)]
    identifier: String,
    #[serde(default)]
    school: String,
}

impl RuleForm {
    /// The settings with this rule; the SAML ones at their defaults, for a form to set.
    fn settings(&self) -> Result<Settings, UpstreamError> {
        Ok(Settings {
            match_by: match_rule(&self.match_by)?,
            identifier: optional(&self.identifier).map(str::to_owned),
            school: optional(&self.school).map(str::to_owned),
            require_signed_assertion: true,
            allow_unsolicited: true,
            metadata_certificate: None,
            oidc: None,
        })
    }
}

#[derive(Clone, Default, Deserialize)]
pub struct SamlForm {
    #[serde(default)]
    metadata_url: String,
    #[serde(default)]
    metadata_xml: String,
    #[serde(default)]
    entity_id: String,
    #[serde(flatten)]
    rule: RuleForm,
    require_signed_assertion: Option<String>,
    allow_unsolicited: Option<String>,
    #[serde(default)]
    metadata_certificate: String,
}

/// The OIDC form. Not `Debug`, and never shown back: it carries the client secret.
#[derive(Clone, Default, Deserialize)]
pub struct OidcForm {
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    auth: String,
    #[serde(default)]
    client_secret: String,
    #[serde(default)]
    scopes: String,
    #[serde(flatten)]
    rule: RuleForm,
}

/// How a user is found, as both protocols' forms show it.
pub struct RuleFields {
    match_by: Vec<Choice>,
    identifier: String,
    school: String,
}

impl RuleFields {
    fn typed(f: RuleForm) -> RuleFields {
        RuleFields {
            match_by: choices(&MATCH_RULES, &f.match_by),
            identifier: f.identifier,
            school: f.school,
        }
    }

    /// The stored rule, preset in both forms; the attribute or claim names only in the form of
    /// the protocol they belong to (`own`).
    fn stored(any: Option<&Settings>, own: Option<&Settings>) -> RuleFields {
        RuleFields {
            match_by: choices(&MATCH_RULES, any.map_or("eck_id", |s| s.match_by.as_str())),
            identifier: own.and_then(|s| s.identifier.clone()).unwrap_or_default(),
            school: own.and_then(|s| s.school.clone()).unwrap_or_default(),
        }
    }
}

pub struct SamlFields {
    metadata_url: String,
    metadata_xml: String,
    entity_id: String,
    rule: RuleFields,
    require_signed_assertion: bool,
    allow_unsolicited: bool,
    metadata_certificate: String,
    error: Option<Text>,
}

pub struct OidcFields {
    issuer: String,
    client_id: String,
    auths: Vec<Choice>,
    scopes: String,
    rule: RuleFields,
    secret_set: bool,
    error: Option<Text>,
}

#[derive(Template)]
#[template(path = "operator_netwerkkoppeling.html")]
struct UpstreamPage {
    nav: Nav,
    csrf: String,
    party_code: String,
    party_name: String,
    path: String,
    connection: Option<Shown>,
    give: ForProvider,
    /// A refresh that failed (or succeeded), above the forms.
    notice: Option<Text>,
    refreshed: bool,
    saml: SamlFields,
    oidc: OidcFields,
}

fn path_of(party: &Party) -> String {
    format!("/operator/partijen/{}/koppeling", url_encode(&party.code))
}

/// A refusal the operator can act on, shown in the form; anything else is the error page's.
fn refusal(e: UpstreamError) -> Result<(StatusCode, Text), AdminError> {
    match e {
        UpstreamError::Directory(DirectoryError::Duplicate { value, .. }) => Ok((
            StatusCode::CONFLICT,
            Text::new(
                format!(
                    "{value} is al gekoppeld aan een andere netwerkaanbieder: één entityID of issuer hoort bij één netwerkaanbieder."
                ),
                format!(
                    "{value} is connected to another network provider already: one entityID or issuer belongs to one network provider."
                ),
            ),
        )),
        UpstreamError::Directory(DirectoryError::Conflict { nl, en }) => {
            Ok((StatusCode::CONFLICT, Text::new(nl, en)))
        }
        UpstreamError::Directory(DirectoryError::NotFound { what, key }) => {
            Err(AdminError::NotFound { what, key })
        }
        UpstreamError::Directory(other) => Err(AdminError::from(other)),
        e @ UpstreamError::Stored(..) => Err(AdminError::internal(e)),
        other => {
            let (nl, en) = other.texts();
            Ok((StatusCode::BAD_REQUEST, Text::new(nl, en)))
        }
    }
}

/// A refusal where no form can show it (the party is no network provider): the error page's.
fn refused(e: UpstreamError) -> AdminError {
    match refusal(e) {
        Ok((_, text)) => AdminError::Refused {
            nl: text.nl,
            en: text.en,
        },
        Err(e) => e,
    }
}

/// The provider the path names (any other party is refused by the registry's rule) and its
/// connection.
async fn provider(desk: &Desk, code: &str) -> Result<(Party, Option<Connection>), PageError> {
    let party = parties::party(desk.directory(), &desk.operating, code).await?;
    match registry::provider_connection(desk.directory(), &party.code).await {
        Ok(found) => Ok(found),
        Err(e) => Err(refused(e).into()),
    }
}

/// What the page shows, with the forms filled from the connection unless a refused form is
/// shown back.
pub struct Shape {
    status: StatusCode,
    saml: Option<(SamlForm, Text)>,
    oidc: Option<(OidcForm, Text)>,
    notice: Option<Text>,
    refreshed: bool,
}

impl Shape {
    fn plain() -> Shape {
        Shape::with_status(StatusCode::OK)
    }

    /// The page with `status`; a refusal is shown where it belongs by `notice` or a
    /// [`ConnectForm`].
    fn with_status(status: StatusCode) -> Shape {
        Shape {
            status,
            saml: None,
            oidc: None,
            notice: None,
            refreshed: false,
        }
    }

    fn notice(self, refusal: Text) -> Shape {
        Shape {
            notice: Some(refusal),
            ..self
        }
    }
}

async fn render(desk: Desk, code: &str, shape: Shape) -> Result<Response, PageError> {
    let (party, connection) = provider(&desk, code).await?;
    let stored = connection.as_ref().map(|c| &c.settings);
    let saml_stored = connection
        .as_ref()
        .filter(|c| c.protocol == UpstreamProtocol::Saml);
    let oidc_stored = connection
        .as_ref()
        .filter(|c| c.protocol == UpstreamProtocol::Oidc);
    let saml = match shape.saml {
        Some((f, error)) => SamlFields {
            require_signed_assertion: f.require_signed_assertion.is_some(),
            allow_unsolicited: f.allow_unsolicited.is_some(),
            metadata_url: f.metadata_url,
            metadata_xml: f.metadata_xml,
            entity_id: f.entity_id,
            rule: RuleFields::typed(f.rule),
            metadata_certificate: f.metadata_certificate,
            error: Some(error),
        },
        None => {
            let s = saml_stored.map(|c| &c.settings);
            SamlFields {
                metadata_url: saml_stored
                    .and_then(|c| c.metadata_url.clone())
                    .unwrap_or_default(),
                metadata_xml: String::new(),
                entity_id: saml_stored.map(|c| c.issuer.clone()).unwrap_or_default(),
                rule: RuleFields::stored(stored, s),
                require_signed_assertion: s.is_none_or(|s| s.require_signed_assertion),
                allow_unsolicited: s.is_none_or(|s| s.allow_unsolicited),
                metadata_certificate: s
                    .and_then(|s| s.metadata_certificate.clone())
                    .unwrap_or_default(),
                error: None,
            }
        }
    };
    let secret_set = oidc_stored.is_some_and(|c| c.client_secret_set);
    let oidc = match shape.oidc {
        // The secret typed is not shown back: the field starts empty.
        Some((f, error)) => OidcFields {
            auths: choices(&AUTHS, &f.auth),
            issuer: f.issuer,
            client_id: f.client_id,
            scopes: f.scopes,
            rule: RuleFields::typed(f.rule),
            secret_set,
            error: Some(error),
        },
        None => {
            let s = oidc_stored.map(|c| &c.settings);
            let o = s.and_then(|s| s.oidc.as_ref());
            OidcFields {
                issuer: oidc_stored.map(|c| c.issuer.clone()).unwrap_or_default(),
                client_id: o.map(|o| o.client_id.clone()).unwrap_or_default(),
                auths: choices(
                    &AUTHS,
                    &o.map_or("client_secret_basic".to_owned(), |o| auth_name(o.auth)),
                ),
                scopes: o.map(|o| o.scopes.join(" ")).unwrap_or_default(),
                rule: RuleFields::stored(stored, s),
                secret_set,
                error: None,
            }
        }
    };
    let give = ForProvider::of(&desk.state.web);
    Ok(desk.page(shape.status, |csrf| UpstreamPage {
        nav: PARTIES,
        csrf,
        path: path_of(&party),
        party_code: party.code,
        party_name: party.name,
        connection: connection.as_ref().map(Shown::of),
        give,
        notice: shape.notice,
        refreshed: shape.refreshed,
        saml,
        oidc,
    }))
}

pub async fn show(
    desk: Desk,
    Path(code): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let mut shape = Shape::plain();
    shape.refreshed = q.melding.as_deref() == Some("vernieuwd");
    render(desk, &code, shape).await
}

fn match_rule(given: &str) -> Result<MatchBy, UpstreamError> {
    MatchBy::parse(given).ok_or_else(|| UpstreamError::Invalid {
        nl: "kies hoe een gebruiker gevonden wordt: partnernummer, ECK-iD of LAS-sleutel".into(),
        en: "choose how a user is found: partner number, ECK-iD or LAS key".into(),
    })
}

/// A form that connects the provider over one protocol; refused, it is shown back in its own
/// place on the page.
pub trait ConnectForm: serde::de::DeserializeOwned + Send {
    fn connect(
        &self,
        desk: &Desk,
        party: &Party,
    ) -> impl Future<Output = Result<(), UpstreamError>> + Send;

    /// The page with this form shown back beside its refusal.
    fn shown_back(self, shape: Shape, refusal: Text) -> Shape;
}

impl ConnectForm for SamlForm {
    async fn connect(&self, desk: &Desk, party: &Party) -> Result<(), UpstreamError> {
        let source = match (optional(&self.metadata_url), optional(&self.metadata_xml)) {
            (Some(url), None) => MetadataSource::Url(url.to_owned()),
            (None, Some(xml)) => MetadataSource::Xml(xml.as_bytes().to_vec()),
            _ => {
                return Err(UpstreamError::Invalid {
                    nl: "Vul precies één in: het metadata-adres (URL) of de geplakte metadata (XML)."
                        .into(),
                    en: "Fill in exactly one: the metadata URL or the pasted metadata (XML).".into(),
                });
            }
        };
        let settings = Settings {
            require_signed_assertion: self.require_signed_assertion.is_some(),
            allow_unsolicited: self.allow_unsolicited.is_some(),
            metadata_certificate: optional(&self.metadata_certificate).map(str::to_owned),
            ..self.rule.settings()?
        };
        registry::connect_saml(
            desk.directory(),
            &desk.state.http,
            &party.code,
            source,
            optional(&self.entity_id),
            &settings,
            &desk.operating.actor,
        )
        .await
        .map(|_| ())
    }

    fn shown_back(self, shape: Shape, refusal: Text) -> Shape {
        Shape {
            saml: Some((self, refusal)),
            ..shape
        }
    }
}

impl ConnectForm for OidcForm {
    async fn connect(&self, desk: &Desk, party: &Party) -> Result<(), UpstreamError> {
        let auth = OidcClientAuth::parse(&self.auth).ok_or_else(|| UpstreamError::Invalid {
            nl: "kies hoe openpoort zich bij de netwerkaanbieder aanmeldt".into(),
            en: "choose how openpoort authenticates to the network provider".into(),
        })?;
        let settings = Settings {
            oidc: Some(OidcSettings {
                client_id: self.client_id.trim().to_owned(),
                auth,
                scopes: self.scopes.split_whitespace().map(str::to_owned).collect(),
            }),
            ..self.rule.settings()?
        };
        registry::connect_oidc(
            desk.directory(),
            &party.code,
            self.issuer.trim(),
            // Left empty: the stored secret is kept.
            optional(&self.client_secret).map(str::to_owned),
            &settings,
            desk.state.api.development,
            &desk.operating.actor,
        )
        .await
    }

    fn shown_back(self, shape: Shape, refusal: Text) -> Shape {
        Shape {
            oidc: Some((self, refusal)),
            ..shape
        }
    }
}

/// Connects the provider over the protocol of the form `F` (`connect::<SamlForm>`,
/// `connect::<OidcForm>`), replacing any connection it had.
pub async fn connect<F: ConnectForm>(
    desk: Desk,
    Path(code): Path<String>,
    Csrf(form): Csrf<F>,
) -> Result<Response, PageError> {
    let (party, _) = provider(&desk, &code).await?;
    match form.connect(&desk, &party).await {
        Ok(()) => Ok(see(&path_of(&party))),
        Err(e) => {
            let (status, text) = refusal(e)?;
            render(
                desk,
                &code,
                form.shown_back(Shape::with_status(status), text),
            )
            .await
        }
    }
}

pub async fn refresh(
    desk: Desk,
    Path(code): Path<String>,
    _: Csrf<NoFields>,
) -> Result<Response, PageError> {
    let (party, _) = provider(&desk, &code).await?;
    let refreshed = registry::refresh_provider(
        desk.directory(),
        &desk.state.http,
        &party.code,
        &desk.operating.actor,
    )
    .await;
    match refreshed {
        Ok(_) => Ok(see(&format!("{}?melding=vernieuwd", path_of(&party)))),
        Err(e) => {
            // The last verified metadata stays in use; the failure is on record and shown.
            let (status, text) = refusal(e)?;
            render(desk, &code, Shape::with_status(status).notice(text)).await
        }
    }
}

pub async fn confirm_remove(desk: Desk, Path(code): Path<String>) -> Result<Response, PageError> {
    let (party, connection) = provider(&desk, &code).await?;
    let Some(c) = connection else {
        return Err(AdminError::NotFound {
            what: "netwerkaanbieder-koppeling",
            key: party.code,
        }
        .into());
    };
    let path = path_of(&party);
    let removal = Removal {
        title: Text::new("Koppeling verwijderen", "Remove the connection"),
        warning: Text::new(
            format!(
                "Gebruikers van {} kunnen dan niet meer via {} inloggen bij openpoort, tot de netwerkaanbieder opnieuw is gekoppeld.",
                party.name, c.issuer
            ),
            format!(
                "Users of {} can then no longer log in to openpoort through {}, until the network provider is connected again.",
                party.name, c.issuer
            ),
        ),
        action: format!("{path}/verwijderen"),
        button: Text::new("Ja, koppeling verwijderen", "Yes, remove the connection"),
        back: path,
    };
    Ok(confirm(desk, removal))
}

pub async fn remove(
    desk: Desk,
    Path(code): Path<String>,
    _: Csrf<NoFields>,
) -> Result<Response, PageError> {
    let (party, _) = provider(&desk, &code).await?;
    match registry::disconnect(desk.directory(), &party.code, &desk.operating.actor).await {
        // Removed meanwhile (a second click, another operator): what was asked for holds.
        Ok(()) | Err(UpstreamError::Directory(DirectoryError::NotFound { .. })) => {}
        Err(e) => return Err(refused(e).into()),
    }
    Ok(see(&path_of(&party)))
}
