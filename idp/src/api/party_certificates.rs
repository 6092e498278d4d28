//! The client certificates with which a party calls the partner API, as the operator registers
//! them (`openpoort party certificate-add` does the same): the rules are
//! `crate::party_certificates`'s.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use directory::partner::PartyCertificate;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, JsonBody, JsonShape, PartyAdmin, Problem, created, list_of};
use crate::app_state::AppState;
use crate::http::extract::Path;
use crate::party_certificates::{self, CertificateError};

/// A certificate is one or two kilobytes of PEM.
const MAX_BODY_BYTES: usize = 32 * 1024;

impl From<CertificateError> for ApiError {
    fn from(e: CertificateError) -> ApiError {
        match e {
            CertificateError::Directory(e) => e.into(),
            other => {
                let text = other.to_string();
                let (nl, en) = text.split_once(" / ").unwrap_or((&text, &text));
                ApiError::new(Problem::Validation, nl, en)
            }
        }
    }
}

fn certificate_json(c: &PartyCertificate) -> Value {
    json!({
        "sha256": c.sha256,
        "subject": c.subject,
        "issuer": c.issuer,
        "not_before": c.not_before,
        "not_after": c.not_after,
        "pem": c.pem,
        "created_by": c.created_by,
        "created_at": c.created_at,
    })
}

pub async fn list(
    PartyAdmin { party: p, .. }: PartyAdmin,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let all = state.directory.party_certificates(&p.id).await?;
    Ok(list_of("certificates", all.iter().map(certificate_json)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewCertificate {
    pem: String,
}

impl JsonShape for NewCertificate {
    const LIMIT: usize = MAX_BODY_BYTES;
    const SHAPE: &'static str = "{\"pem\": \"-----BEGIN CERTIFICATE-----\\n…\"}";
}

pub async fn add(
    PartyAdmin { op, party: p }: PartyAdmin,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<NewCertificate>,
) -> Result<Response, ApiError> {
    let c = party_certificates::register(&state.directory, &p.id, &new.pem, &op.actor).await?;
    Ok(created(
        &state,
        &format!("/parties/{}/certificates/{}", p.code, c.sha256),
        certificate_json(&c),
    ))
}

pub async fn remove(
    PartyAdmin { op, party: p }: PartyAdmin,
    State(state): State<AppState>,
    Path((_, sha256)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let sha256 = party_certificates::normalise_fingerprint(&sha256);
    state
        .directory
        .remove_party_certificate(&p.id, &sha256, &op.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
