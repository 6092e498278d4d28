//! The client certificates with which a party calls the partner API, as the operator registers
//! them (`openpoort party certificate-add` does the same): the rules are
//! `crate::party_certificates`'s.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use directory::partner::PartyCertificate;
use serde::Deserialize;
use serde_json::{Value, json};

use super::register::Operator;
use super::{ApiError, Endpoint, Problem, created, endpoint, json_answer, json_body, party};
use crate::app_state::AppState;
use crate::http::extract::Path;
use crate::party_certificates::{self, CertificateError};

/// A certificate is one or two kilobytes of PEM.
const MAX_BODY_BYTES: usize = 32 * 1024;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(Method::GET, "/parties/{party_id}/certificates", list),
        endpoint(Method::POST, "/parties/{party_id}/certificates", add),
        endpoint(
            Method::DELETE,
            "/parties/{party_id}/certificates/{sha256}",
            remove,
        ),
    ]
}

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

async fn list(
    _op: Operator,
    State(state): State<AppState>,
    Path(party_ref): Path<String>,
) -> Result<Response, ApiError> {
    let p = party(&state, &party_ref).await?;
    let all: Vec<Value> = state
        .directory
        .party_certificates(&p.id)
        .await?
        .iter()
        .map(certificate_json)
        .collect();
    Ok(json_answer(StatusCode::OK, json!({"certificates": all})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewCertificate {
    pem: String,
}

async fn add(
    Operator(op): Operator,
    State(state): State<AppState>,
    Path(party_ref): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let p = party(&state, &party_ref).await?;
    let new: NewCertificate = json_body(
        &headers,
        body,
        MAX_BODY_BYTES,
        "{\"pem\": \"-----BEGIN CERTIFICATE-----\\n…\"}",
    )
    .await?;
    let c = party_certificates::register(&state.directory, &p.id, &new.pem, &op.actor).await?;
    Ok(created(
        &state,
        &format!("/parties/{}/certificates/{}", p.code, c.sha256),
        certificate_json(&c),
    ))
}

async fn remove(
    Operator(op): Operator,
    State(state): State<AppState>,
    Path((party_ref, sha256)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let p = party(&state, &party_ref).await?;
    let sha256 = party_certificates::normalise_fingerprint(&sha256);
    state
        .directory
        .remove_party_certificate(&p.id, &sha256, &op.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
