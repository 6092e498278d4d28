//! Pages and redirects with the headers every answer of openpoort carries, and the pages for
//! what went wrong on our side.

use askama::Template;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Text in both languages.
#[derive(Clone, Debug)]
pub struct Text {
    pub nl: String,
    pub en: String,
}

impl Text {
    pub fn new(nl: impl Into<String>, en: impl Into<String>) -> Text {
        Text {
            nl: nl.into(),
            en: en.into(),
        }
    }
}

/// A rendered page with the headers every page of openpoort carries.
pub fn page(status: StatusCode, template: &impl Template, extra: HeaderMap) -> Response {
    match template.render() {
        Ok(html) => {
            let mut response = (status, html).into_response();
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            // Pages that carry tokens or personal data must not be kept by browsers or proxies.
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
                ),
            );
            for (name, value) in extra.iter() {
                h.append(name, value.clone());
            }
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "page template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    title: String,
    text: Text,
    alert: bool,
    next: Option<(String, String)>,
}

pub fn message(
    status: StatusCode,
    title: &str,
    text: Text,
    next: Option<(&str, &str)>,
) -> Response {
    page(
        status,
        &MessagePage {
            title: title.to_owned(),
            text,
            alert: !status.is_success(),
            next: next.map(|(h, l)| (h.to_owned(), l.to_owned())),
        },
        HeaderMap::new(),
    )
}

/// Something went wrong on our side: log it, show a plain page without details. A password
/// check refused because too many wait ([`crate::password::HashError::Busy`]) is no fault
/// but a full queue: 503 with Retry-After. It is recognised here so that every handler that
/// hashes answers it so, without each having to know.
pub fn internal_error(e: impl std::fmt::Display + 'static) -> Response {
    if let Some(crate::password::HashError::Busy) =
        (&e as &dyn std::any::Any).downcast_ref::<crate::password::HashError>()
    {
        return password_queue_full();
    }
    tracing::error!(error = %e, "request failed");
    message(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Er ging iets mis",
        Text::new(
            "Er ging iets mis bij openpoort. Probeer het later opnieuw.",
            "Something went wrong at openpoort. Please try again later.",
        ),
        None,
    )
}

/// The answer when the password queue is full: try again in a moment.
fn password_queue_full() -> Response {
    tracing::warn!("password check refused: the queue is full");
    try_again_later(
        "Even geduld",
        Text::new(
            "Het is op dit moment erg druk bij openpoort. Probeer het over een paar seconden opnieuw.",
            "openpoort is very busy right now. Please try again in a few seconds.",
        ),
        crate::password::BUSY_RETRY_AFTER_SECONDS,
    )
}

/// 503 with Retry-After: nothing is wrong with what was asked, it can only not be done now.
fn try_again_later(title: &str, text: Text, seconds: u64) -> Response {
    let mut response = message(StatusCode::SERVICE_UNAVAILABLE, title, text, None);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// How long a client is asked to wait after a store outage before it tries again.
pub const OUTAGE_RETRY_AFTER_SECONDS: u32 = 30;

/// A store openpoort cannot do without (the register's database, the session store) does not
/// answer: 503 with Retry-After, in Dutch and English, so that a person waits and tries again
/// instead of reporting a fault. The cause is logged by whoever saw it.
pub fn unavailable() -> Response {
    try_again_later(
        "Tijdelijk niet bereikbaar",
        Text::new(
            "openpoort is tijdelijk niet bereikbaar. Probeer het over een halve minuut opnieuw.",
            "openpoort is temporarily unavailable. Please try again in half a minute.",
        ),
        OUTAGE_RETRY_AFTER_SECONDS.into(),
    )
}

/// A redirect that also sets headers (cookies).
pub fn see_other(location: &str, extra: HeaderMap) -> Response {
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for (name, value) in extra.iter() {
        h.append(name, value.clone());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_password_queue_is_answered_503_with_retry_after() {
        let response = internal_error(crate::password::HashError::Busy);
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
        let other = internal_error(crate::password::HashError::Closed);
        assert_eq!(other.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
