//! `/saml/metadata`: openpoort's signed IdP metadata with the current and next certificates
//! (and, for a grace period, the retired one, which then still signs the document).

use axum::extract::State;
use axum::response::Response;

use ::metadata::saml::idp_metadata::{IdpMetadata, signed_metadata};

use super::{FlowError, entity_id, slo_url, sso_url};
use crate::app_state::AppState;

/// SPs re-read metadata well within this; a week lets one survive a long outage of openpoort's
/// metadata URL without trusting a stale document forever.
const VALID_FOR: i64 = 7 * 86_400;

pub async fn metadata(State(state): State<AppState>) -> Response {
    super::metadata_document(document(&state).await)
}

async fn document(state: &AppState) -> Result<String, FlowError> {
    let certificates = crate::xml_signing::published_certificates(state).await?;
    let attributes: Vec<&str> = broker::Attribute::ALL
        .iter()
        .map(|a| a.saml_name())
        .collect();
    let signer = crate::xml_signing::metadata_signer(state).await?;
    let (entity, sso, slo) = (entity_id(state), sso_url(state), slo_url(state));
    let xml = tokio::task::spawn_blocking(move || {
        signed_metadata(
            &IdpMetadata {
                entity_id: &entity,
                sso_url: &sso,
                slo_url: &slo,
                certificates: &certificates,
                attributes: &attributes,
                now: crate::clock::unix_now(),
                valid_for: VALID_FOR,
            },
            &signer,
        )
    })
    .await
    .map_err(|e| FlowError::Saml(::metadata::saml::SamlError::Signing(e.to_string())))??;
    Ok(xml)
}
