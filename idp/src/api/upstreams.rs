//! A network provider's upstream (how it vouches for its users to openpoort) as the operator
//! configures it: SAML from its IdP metadata, or OpenID Connect from its issuer and openpoort's
//! client there. `openpoort party upstream-*` and the operator's page do the same; the rules are
//! `crate::upstream::registry`'s. No answer carries the client secret: only whether one is set.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use directory::parties::Party;
use directory::upstreams::UpstreamProtocol;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, JsonBody, JsonShape, PartyAdmin, Problem, json_answer};
use crate::app_state::AppState;
use crate::upstream::ForProvider;
use crate::upstream::registry::{
    self, Connection, MatchBy, MetadataSource, OidcClientAuth, OidcSettings, Settings,
    UpstreamError,
};

/// Metadata inline: a single provider's document is a few kilobytes, a federation's aggregate
/// can be large; as for SAML service providers.
const MAX_BODY_BYTES: usize = 1024 * 1024 + 64 * 1024;

impl From<UpstreamError> for ApiError {
    fn from(e: UpstreamError) -> ApiError {
        match e {
            UpstreamError::Directory(e) => e.into(),
            UpstreamError::Stored(..) => ApiError::internal(e),
            other => {
                let (nl, en) = other.texts();
                ApiError::new(Problem::Validation, nl, en)
            }
        }
    }
}

fn invalid(nl: &str, en: &str) -> ApiError {
    ApiError::new(Problem::Validation, nl, en)
}

fn connection_json(party: &Party, c: &Connection, give: &ForProvider) -> Value {
    let s = &c.settings;
    let mut v = json!({
        "party_id": party.id,
        "party": party.code,
        "protocol": c.protocol.as_str(),
        "issuer": c.issuer,
        "match_by": s.match_by.as_str(),
        "identifier": s.identifier,
        "school": s.school,
        "refreshed_at": c.refreshed_at,
        "refresh_error": c.refresh_error,
    });
    let extra = match (c.protocol, &s.oidc) {
        (UpstreamProtocol::Oidc, Some(o)) => json!({
            "client_id": o.client_id,
            "auth": o.auth,
            "scopes": o.scopes,
            "client_secret_set": c.client_secret_set,
            "redirect_uri": give.redirect_uri,
        }),
        _ => json!({
            "entity_id": c.issuer,
            "metadata_url": c.metadata_url,
            "require_signed_assertion": s.require_signed_assertion,
            "allow_unsolicited": s.allow_unsolicited,
            "metadata_certificate": s.metadata_certificate,
            "sp_entity_id": give.sp_entity_id,
            "sp_metadata_url": give.sp_metadata_url,
            "acs_url": give.acs_url,
        }),
    };
    if let (Some(v), Value::Object(extra)) = (v.as_object_mut(), extra) {
        v.extend(extra);
    }
    v
}

/// The provider and its connection; a provider that is not connected is 404.
async fn connected(state: &AppState, p: &Party) -> Result<(Party, Connection), ApiError> {
    match registry::provider_connection(&state.directory, &p.code).await? {
        (p, Some(c)) => Ok((p, c)),
        (p, None) => Err(ApiError::new(
            Problem::NotFound,
            format!(
                "netwerkaanbieder {} is niet gekoppeld; koppel hem met PUT op deze route",
                p.code
            ),
            format!(
                "network provider {} is not connected; connect it with PUT on this route",
                p.code
            ),
        )),
    }
}

async fn answer(state: &AppState, p: &Party, status: StatusCode) -> Result<Response, ApiError> {
    let (p, c) = connected(state, p).await?;
    Ok(json_answer(
        status,
        connection_json(&p, &c, &ForProvider::of(&state.web)),
    ))
}

pub async fn show(
    PartyAdmin { party, .. }: PartyAdmin,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    answer(&state, &party, StatusCode::OK).await
}

/// A PUT body. `match_by` and the settings beside it are optional together: left out, the
/// settings stored for the same protocol are kept, so that new metadata or a new secret does
/// not mean restating the match rule.
#[derive(Deserialize)]
#[serde(tag = "protocol", rename_all = "snake_case", deny_unknown_fields)]
pub(super) enum NewUpstream {
    Saml {
        #[serde(default)]
        metadata_xml: Option<String>,
        #[serde(default)]
        metadata_url: Option<String>,
        #[serde(default)]
        entity_id: Option<String>,
        #[serde(default)]
        match_by: Option<String>,
        #[serde(default)]
        identifier: Option<String>,
        #[serde(default)]
        school: Option<String>,
        #[serde(default)]
        require_signed_assertion: Option<bool>,
        #[serde(default)]
        allow_unsolicited: Option<bool>,
        #[serde(default)]
        metadata_certificate: Option<String>,
    },
    Oidc {
        issuer: String,
        client_id: String,
        auth: String,
        #[serde(default)]
        client_secret: Option<String>,
        #[serde(default)]
        scopes: Option<Vec<String>>,
        #[serde(default)]
        match_by: Option<String>,
        #[serde(default)]
        identifier: Option<String>,
        #[serde(default)]
        school: Option<String>,
    },
}

impl JsonShape for NewUpstream {
    const LIMIT: usize = MAX_BODY_BYTES;
    const SHAPE: &'static str = "{\"protocol\": \"saml\", \"metadata_url\": \"https://idp.netwerk.nl/metadata\", \"match_by\": \"eck_id\"} or {\"protocol\": \"oidc\", \"issuer\": \"https://login.netwerk.nl\", \"client_id\": \"openpoort\", \"auth\": \"client_secret_basic\", \"client_secret\": \"…\", \"match_by\": \"eck_id\"}";
}

fn match_by(given: &str) -> Result<MatchBy, ApiError> {
    MatchBy::parse(given).ok_or_else(|| {
        invalid(
            &format!(
                "match_by {given:?} is geen koppelregel: kies partner_number, eck_id of las_key (nooit e-mail)"
            ),
            &format!(
                "match_by {given:?} is no match rule: choose partner_number, eck_id or las_key (never e-mail)"
            ),
        )
    })
}

/// The match rule as a body gives it. An OIDC body has no SAML checks: they stay `None`.
#[derive(Default)]
struct GivenRule {
    match_by: Option<String>,
    identifier: Option<String>,
    school: Option<String>,
    require_signed_assertion: Option<bool>,
    allow_unsolicited: Option<bool>,
    metadata_certificate: Option<String>,
}

/// The settings a body states, or, when it leaves `match_by` out, those stored for `protocol`.
fn settings(
    stored: Option<&Connection>,
    protocol: UpstreamProtocol,
    given: GivenRule,
) -> Result<Settings, ApiError> {
    if let Some(rule) = given.match_by {
        return Ok(Settings {
            match_by: match_by(&rule)?,
            identifier: given.identifier,
            school: given.school,
            require_signed_assertion: given.require_signed_assertion.unwrap_or(true),
            allow_unsolicited: given.allow_unsolicited.unwrap_or(true),
            metadata_certificate: given.metadata_certificate,
            oidc: None,
        });
    }
    if given.identifier.is_some()
        || given.school.is_some()
        || given.require_signed_assertion.is_some()
        || given.allow_unsolicited.is_some()
        || given.metadata_certificate.is_some()
    {
        return Err(invalid(
            "geef match_by mee met de andere instellingen van de koppelregel, of laat ze allemaal weg om de opgeslagen te houden",
            "give match_by with the match rule's other settings, or leave them all out to keep the stored ones",
        ));
    }
    match stored {
        Some(c) if c.protocol == protocol => Ok(c.settings.clone()),
        _ => Err(invalid(
            "match_by is nodig: er is voor dit protocol nog geen koppelregel opgeslagen",
            "match_by is required: no match rule is stored for this protocol yet",
        )),
    }
}

pub async fn connect(
    PartyAdmin { op, party }: PartyAdmin,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<NewUpstream>,
) -> Result<Response, ApiError> {
    let (p, stored) = registry::provider_connection(&state.directory, &party.code).await?;
    let status = if stored.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    match new {
        NewUpstream::Saml {
            metadata_xml,
            metadata_url,
            entity_id,
            match_by,
            identifier,
            school,
            require_signed_assertion,
            allow_unsolicited,
            metadata_certificate,
        } => {
            let source = match (metadata_xml, metadata_url) {
                (Some(xml), None) => MetadataSource::Xml(xml.into_bytes()),
                (None, Some(url)) => MetadataSource::Url(url),
                _ => {
                    return Err(invalid(
                        "geef precies één van: metadata_xml (de metadata zelf) of metadata_url (waar openpoort hem ophaalt)",
                        "give exactly one of: metadata_xml (the metadata itself) or metadata_url (where openpoort fetches it)",
                    ));
                }
            };
            let rule = GivenRule {
                match_by,
                identifier,
                school,
                require_signed_assertion,
                allow_unsolicited,
                metadata_certificate,
            };
            let settings = settings(stored.as_ref(), UpstreamProtocol::Saml, rule)?;
            registry::connect_saml(
                &state.directory,
                &state.http,
                &p.code,
                source,
                entity_id.as_deref(),
                &settings,
                &op.actor,
            )
            .await?;
        }
        NewUpstream::Oidc {
            issuer,
            client_id,
            auth,
            client_secret,
            scopes,
            match_by,
            identifier,
            school,
        } => {
            let auth = OidcClientAuth::parse(&auth).ok_or_else(|| {
                invalid(
                    &format!(
                        "auth {auth:?} is geen aanmeldmethode: kies client_secret_basic, client_secret_post of private_key_jwt"
                    ),
                    &format!(
                        "auth {auth:?} is no authentication method: choose client_secret_basic, client_secret_post or private_key_jwt"
                    ),
                )
            })?;
            if client_secret
                .as_deref()
                .is_some_and(|s| s.trim().is_empty())
            {
                return Err(invalid(
                    "client_secret is leeg; laat het weg om het opgeslagen secret te houden",
                    "client_secret is empty; leave it out to keep the stored secret",
                ));
            }
            let rule = GivenRule {
                match_by,
                identifier,
                school,
                ..GivenRule::default()
            };
            let mut settings = settings(stored.as_ref(), UpstreamProtocol::Oidc, rule)?;
            let scopes = match (scopes, &settings.oidc) {
                (Some(given), _) => given,
                (None, Some(old)) => old.scopes.clone(),
                (None, None) => Vec::new(),
            };
            settings.oidc = Some(OidcSettings {
                client_id,
                auth,
                scopes,
            });
            registry::connect_oidc(
                &state.directory,
                &p.code,
                &issuer,
                client_secret,
                &settings,
                state.api.development,
                &op.actor,
            )
            .await?;
        }
    }
    answer(&state, &p, status).await
}

pub async fn disconnect(
    PartyAdmin { op, party }: PartyAdmin,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    registry::disconnect(&state.directory, &party.code, &op.actor).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn refresh(
    PartyAdmin { op, party }: PartyAdmin,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    registry::refresh_provider(&state.directory, &state.http, &party.code, &op.actor).await?;
    answer(&state, &party, StatusCode::OK).await
}
