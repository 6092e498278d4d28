//! Problem details (RFC 9457) as the admin API answers them: `application/problem+json` with
//! the Dutch `detail` first and `detail_en` beside it. Here rather than in the API so that a
//! request the extractors refuse before it reaches the API is answered in the same form.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Every kind of problem the API answers with; its `type` is `urn:openpoort:problem:<slug>`.
/// The document lists exactly these (a test checks it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    Unauthorized,
    InsufficientScope,
    AdminScopeReserved,
    /// Authenticated, but this is not the caller's to touch (another party's tree).
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    BadRequest,
    Validation,
    Edexml,
    WrongSchool,
    /// The register's database or the session store does not answer: the same request
    /// succeeds once it is back (503 with Retry-After).
    Unavailable,
    Internal,
}

impl Problem {
    #[cfg(test)]
    pub const ALL: [Problem; 15] = [
        Problem::Unauthorized,
        Problem::InsufficientScope,
        Problem::AdminScopeReserved,
        Problem::Forbidden,
        Problem::NotFound,
        Problem::MethodNotAllowed,
        Problem::Conflict,
        Problem::PayloadTooLarge,
        Problem::UnsupportedMediaType,
        Problem::BadRequest,
        Problem::Validation,
        Problem::Edexml,
        Problem::WrongSchool,
        Problem::Unavailable,
        Problem::Internal,
    ];

    fn slug(self) -> &'static str {
        match self {
            Problem::Unauthorized => "unauthorized",
            Problem::InsufficientScope => "insufficient-scope",
            Problem::AdminScopeReserved => "admin-scope-reserved",
            Problem::Forbidden => "forbidden",
            Problem::NotFound => "not-found",
            Problem::MethodNotAllowed => "method-not-allowed",
            Problem::Conflict => "conflict",
            Problem::PayloadTooLarge => "payload-too-large",
            Problem::UnsupportedMediaType => "unsupported-media-type",
            Problem::BadRequest => "bad-request",
            Problem::Validation => "validation",
            Problem::Edexml => "edexml",
            Problem::WrongSchool => "wrong-school",
            Problem::Unavailable => "unavailable",
            Problem::Internal => "internal",
        }
    }

    pub fn type_uri(self) -> String {
        format!("urn:openpoort:problem:{}", self.slug())
    }

    pub fn status(self) -> StatusCode {
        match self {
            Problem::Unauthorized => StatusCode::UNAUTHORIZED,
            Problem::InsufficientScope | Problem::AdminScopeReserved | Problem::Forbidden => {
                StatusCode::FORBIDDEN
            }
            Problem::NotFound => StatusCode::NOT_FOUND,
            Problem::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Problem::Conflict => StatusCode::CONFLICT,
            Problem::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Problem::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Problem::BadRequest => StatusCode::BAD_REQUEST,
            Problem::Validation | Problem::Edexml | Problem::WrongSchool => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Problem::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Problem::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Problem::Unauthorized => "Niet aangemeld / Not authenticated",
            Problem::InsufficientScope => "Geen beheerrechten / Insufficient scope",
            Problem::AdminScopeReserved => {
                "Beheerscope alleen via de beheerder / Admin scope reserved to the operator"
            }
            Problem::Forbidden => "Geen toegang / Forbidden",
            Problem::NotFound => "Niet gevonden / Not found",
            Problem::MethodNotAllowed => "Methode niet toegestaan / Method not allowed",
            Problem::Conflict => "Conflict / Conflict",
            Problem::PayloadTooLarge => "Te groot / Payload too large",
            Problem::UnsupportedMediaType => "Verkeerd inhoudstype / Unsupported media type",
            Problem::BadRequest => "Ongeldig verzoek / Bad request",
            Problem::Validation => "Ongeldige gegevens / Validation failed",
            Problem::Edexml => "EDEXML-bestand afgekeurd / EDEXML file rejected",
            Problem::WrongSchool => "Bestand van een andere school / File for another school",
            Problem::Unavailable => "Tijdelijk niet beschikbaar / Temporarily unavailable",
            Problem::Internal => "Interne fout / Internal error",
        }
    }
}

/// An answer of the `application/problem+json` kind.
#[derive(Debug)]
pub struct ApiError {
    problem: Problem,
    detail_nl: String,
    detail_en: String,
    errors: Option<Vec<Value>>,
    challenge: Option<String>,
}

impl ApiError {
    pub fn new(problem: Problem, nl: impl Into<String>, en: impl Into<String>) -> ApiError {
        ApiError {
            problem,
            detail_nl: nl.into(),
            detail_en: en.into(),
            errors: None,
            challenge: None,
        }
    }

    /// The itemised problems of a validation failure.
    pub fn with_errors(mut self, errors: Vec<Value>) -> ApiError {
        self.errors = Some(errors);
        self
    }

    /// A lower layer's error: [`Problem::Unavailable`] when a store outage caused it (the
    /// caller should retry, not give up), else [`ApiError::bug`] with the cause logged.
    pub fn internal(cause: impl std::error::Error + 'static) -> ApiError {
        if crate::http::error::is_outage(&cause) {
            tracing::warn!(error = %cause, "a store openpoort needs does not answer");
            return ApiError::new(
                Problem::Unavailable,
                "openpoort kan zijn gegevens nu niet bereiken; probeer het over een halve minuut opnieuw.",
                "openpoort cannot reach its data right now; try again in half a minute.",
            );
        }
        ApiError::bug(cause)
    }

    /// Something failed on our side: logs the cause and answers without it, since internals
    /// are not the caller's business.
    pub fn bug(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "API request failed");
        ApiError::new(
            Problem::Internal,
            "Er ging iets mis in openpoort; probeer het later opnieuw of meld het de beheerder.",
            "Something went wrong in openpoort; try again later or tell the operator.",
        )
    }

    pub fn challenge(mut self, value: String) -> ApiError {
        self.challenge = Some(value);
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.problem.status();
        let mut body = json!({
            "type": self.problem.type_uri(),
            "title": self.problem.title(),
            "status": status.as_u16(),
            "detail": self.detail_nl,
            "detail_en": self.detail_en,
        });
        if let Some(errors) = self.errors {
            body["errors"] = Value::Array(errors);
        }
        let mut response = (status, body.to_string()).into_response();
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(c) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            h.insert(header::WWW_AUTHENTICATE, c);
        }
        // A body refused for its size is left unread, so the connection cannot carry another
        // request; saying so keeps clients from sending the next one on it.
        if self.problem == Problem::PayloadTooLarge {
            h.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if self.problem == Problem::Unavailable {
            h.insert(
                header::RETRY_AFTER,
                HeaderValue::from(super::page::OUTAGE_RETRY_AFTER_SECONDS),
            );
        }
        response
    }
}

/// So that an extractor refusing with a `Response` can pass a problem on with `?`.
impl From<ApiError> for Response {
    fn from(e: ApiError) -> Response {
        e.into_response()
    }
}
