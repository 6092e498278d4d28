//! `/saml/metadata`: openpoort's signed IdP metadata with the current and next certificates.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use ::metadata::saml::idp_metadata::{IdpMetadata, signed_metadata};

use super::{FlowError, entity_id, failed, signer, slo_url, sso_url};
use crate::app_state::AppState;

/// SPs re-read metadata well within this; a week lets one survive a long outage of openpoort's
/// metadata URL without trusting a stale document forever.
const VALID_FOR: i64 = 7 * 86_400;

pub async fn metadata(State(state): State<AppState>) -> Response {
    match document(&state).await {
        Ok(xml) => {
            let mut r = xml.into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/samlmetadata+xml"),
            );
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            );
            r
        }
        Err(e) => failed(e),
    }
}

async fn document(state: &AppState) -> Result<String, FlowError> {
    let certificates = crate::xml_signing::published_certificates(state).await?;
    let attributes: Vec<&str> = broker::Attribute::ALL
        .iter()
        .map(|a| a.saml_name())
        .collect();
    let signer = signer(state).await?;
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
