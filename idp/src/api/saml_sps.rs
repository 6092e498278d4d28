//! SAML service providers of a party, registered from their metadata (inline or by URL) by the
//! same code as `openpoort sp add`. Entity IDs are URLs or URNs: in a path they are one
//! percent-encoded segment (`/saml-sps/https%3A%2F%2Fsp.example%2Fsaml`).

use crate::http::extract::Path;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use directory::saml_sps::StoredSp;
use metadata::saml::sp::SpSettings;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Admin, ApiError, PartyAdmin, Problem, created, ok, party_list, read_body};
use crate::app_state::AppState;
use crate::service_providers::{self as registry, RegistryError};

/// Metadata is inline in the body: the same limit as openpoort's metadata reader.
const MAX_BODY_BYTES: usize = 1024 * 1024 + 64 * 1024;

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> ApiError {
        match e {
            RegistryError::Directory(d) => d.into(),
            RegistryError::Stored(..) => ApiError::internal(e),
            other => {
                let (nl, en) = other.texts();
                ApiError::new(Problem::Validation, nl, en)
            }
        }
    }
}

/// What a registration asks: the metadata (inline XML or a URL to fetch and re-read) and
/// openpoort's own settings for the SP.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Registration {
    metadata: Option<String>,
    metadata_url: Option<String>,
    name: Option<String>,
    /// `assertion`, `response` or `both`; by default from the metadata.
    signing: Option<String>,
    /// Older form of `signing: both`.
    #[serde(default)]
    sign_response: bool,
    /// `basic` (default) or `uri`.
    attribute_names: Option<String>,
    #[serde(default)]
    encrypt_assertions: bool,
    sector_identifier: Option<String>,
    /// PEM: the certificate that must have signed the metadata.
    metadata_signing_certificate: Option<String>,
}

fn answer(stored: &StoredSp) -> Result<Value, ApiError> {
    let sp = registry::parse(stored)?;
    let mut value = serde_json::to_value(&sp).map_err(ApiError::internal)?;
    value["signing"] = json!(sp.signing().name());
    value["refreshed_at"] = json!(stored.refreshed_at);
    value["refresh_error"] = json!(stored.refresh_error);
    Ok(value)
}

async fn stored(state: &AppState, entity_id: &str) -> Result<StoredSp, ApiError> {
    state.directory.saml_sp(entity_id).await?.ok_or_else(|| {
        ApiError::new(
            Problem::NotFound,
            format!("SAML-dienst {entity_id:?} bestaat niet"),
            format!("service provider {entity_id:?} does not exist"),
        )
    })
}

pub async fn list(
    PartyAdmin { party, .. }: PartyAdmin,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let sps = state.directory.saml_sps_of_party(&party.id).await?;
    let list = sps.iter().map(answer).collect::<Result<Vec<_>, _>>()?;
    Ok(party_list(&party, "saml_sps", list))
}

pub async fn create(
    PartyAdmin { op, party }: PartyAdmin,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    super::require_media_type(&headers, &["application/json"])?;
    let bytes = read_body(&headers, body, MAX_BODY_BYTES).await?;
    let r: Registration = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            Problem::Validation,
            format!("De body is geen geldige SP-registratie: {e}"),
            format!("The body is not a valid SP registration: {e}"),
        )
    })?;
    let settings = SpSettings {
        party_id: party.id,
        name: r.name,
        signing: registry::signing_choice(r.signing.as_deref(), r.sign_response)?,
        attribute_names: registry::attribute_names_choice(r.attribute_names.as_deref())?,
        encrypt_assertions: r.encrypt_assertions,
        sector_identifier: r.sector_identifier,
        metadata_url: r.metadata_url,
        metadata_signing_certificate: r.metadata_signing_certificate,
    };
    let sp = registry::register(
        &state.directory,
        &state.http,
        r.metadata.map(String::into_bytes),
        &settings,
        state.api.development,
        &op.actor,
    )
    .await?;
    Ok(created(
        &state,
        &format!("/saml-sps/{}", crate::http::url_encode(&sp.entity_id)),
        answer(&stored(&state, &sp.entity_id).await?)?,
    ))
}

pub async fn show(
    _admin: Admin,
    State(state): State<AppState>,
    Path(entity_id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(ok(answer(&stored(&state, &entity_id).await?)?))
}

pub async fn delete(
    admin: Admin,
    State(state): State<AppState>,
    Path(entity_id): Path<String>,
) -> Result<Response, ApiError> {
    stored(&state, &entity_id).await?;
    registry::remove(&state.directory, &entity_id, &admin.actor).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn refresh(
    admin: Admin,
    State(state): State<AppState>,
    Path(entity_id): Path<String>,
) -> Result<Response, ApiError> {
    let current = stored(&state, &entity_id).await?;
    registry::refresh(
        &state.directory,
        &state.http,
        &current,
        state.api.development,
        &admin.actor,
    )
    .await?;
    Ok(ok(answer(&stored(&state, &entity_id).await?)?))
}
