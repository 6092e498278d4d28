//! The error of every page handler: handlers return `Result<Response, PageError>` and use `?`.
//!
//! A lower layer's error becomes [`PageError::Internal`] (logged, a plain page without details),
//! except a full password queue, which is no fault but a moment of load (503 with
//! Retry-After), and an outage of the register's database or the session store anywhere in the
//! error's chain of causes ([`is_outage`]), which is [`PageError::Unavailable`] (503 with
//! Retry-After): the same request succeeds once the store is back. Layers above this one
//! convert their own errors where they are defined (`impl From<SessionError> for PageError`
//! lives in `session`), so that this module imports nothing above it.

use axum::response::{IntoResponse, Response};

use super::{csrf_refused, internal_error, unavailable};
use crate::password::HashError;

#[derive(Debug)]
pub enum PageError {
    /// Something failed on our side; the cause is logged, the user sees a plain page.
    Internal(String),
    /// The password queue is full: 503 with Retry-After.
    Busy,
    /// The register's database or the session store does not answer: 503 with Retry-After.
    Unavailable,
    /// The form's CSRF token does not match this browser's.
    Csrf,
    /// A page already chosen for this refusal (a message, a redirect to the login).
    Answer(Response),
}

impl PageError {
    /// A lower layer's error: [`PageError::Unavailable`] when a store outage caused it, else
    /// [`PageError::Internal`].
    pub fn internal(e: impl std::error::Error + 'static) -> PageError {
        if is_outage(&e) {
            tracing::warn!(error = %e, "a store openpoort needs does not answer");
            PageError::Unavailable
        } else {
            PageError::Internal(e.to_string())
        }
    }

    /// Something openpoort keeps true did not hold (a stored row without the row it belongs to):
    /// a fault on our side with no error value behind it.
    pub fn bug(what: impl std::fmt::Display) -> PageError {
        PageError::Internal(what.to_string())
    }
}

/// Whether `e` or any error it was caused by says that the register's database or the session
/// store could not be reached. Every layer's error keeps its cause as its `source`, so one walk
/// down the chain finds it however deep the layers wrapped it.
pub fn is_outage(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(e) = next {
        if let Some(d) = e.downcast_ref::<directory::DirectoryError>()
            && d.is_unavailable()
        {
            return true;
        }
        if let Some(s) = e.downcast_ref::<crate::state::StateError>()
            && s.is_unavailable()
        {
            return true;
        }
        next = e.source();
    }
    false
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Internal(cause) => internal_error(cause),
            PageError::Busy => internal_error(HashError::Busy),
            PageError::Unavailable => unavailable(),
            PageError::Csrf => csrf_refused(),
            PageError::Answer(response) => response,
        }
    }
}

impl From<Response> for PageError {
    fn from(response: Response) -> PageError {
        PageError::Answer(response)
    }
}

/// A request an extractor refused (a form or query that does not parse) inside an extractor of
/// our own, answered as the extractor answers it.
impl From<super::extract::Refused> for PageError {
    fn from(refused: super::extract::Refused) -> PageError {
        PageError::Answer(refused.into_response())
    }
}

impl From<HashError> for PageError {
    fn from(e: HashError) -> PageError {
        match e {
            HashError::Busy => PageError::Busy,
            other => PageError::internal(other),
        }
    }
}

impl From<crate::homecode::HomeCodeError> for PageError {
    fn from(e: crate::homecode::HomeCodeError) -> PageError {
        match e {
            crate::homecode::HomeCodeError::Hash(e) => e.into(),
            other => PageError::internal(other),
        }
    }
}

/// Errors of the layers below this one that can only mean "something failed on our side".
macro_rules! internal_from {
    ($($error:ty),* $(,)?) => {
        $(impl From<$error> for PageError {
            fn from(e: $error) -> PageError {
                PageError::internal(e)
            }
        })*
    };
}

internal_from!(
    directory::DirectoryError,
    crate::state::StateError,
    broker::BrokerError,
    certs::CertsError,
    metadata::jose::JoseError,
    serde_json::Error,
    crate::mail::MailError,
);

#[cfg(test)]
mod tests {
    use axum::http::{StatusCode, header};

    use super::*;

    #[test]
    fn a_full_password_queue_is_not_an_internal_error() {
        let busy = PageError::from(HashError::Busy).into_response();
        assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(busy.headers().contains_key(header::RETRY_AFTER));
        let closed = PageError::from(HashError::Closed).into_response();
        assert_eq!(closed.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn an_unreachable_store_deep_in_the_cause_chain_is_a_503_not_a_500() {
        // A session read whose register query found no live connection in time.
        let lost = crate::session::SessionError::from(directory::DirectoryError::Database(
            sqlx::Error::PoolTimedOut,
        ));
        let page = PageError::internal(lost).into_response();
        assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(page.headers().contains_key(header::RETRY_AFTER));

        let refused = directory::DirectoryError::NotFound {
            what: "school",
            key: "x".into(),
        };
        let page = PageError::from(refused).into_response();
        assert_eq!(page.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn a_refused_csrf_token_is_forbidden() {
        assert_eq!(
            PageError::Csrf.into_response().status(),
            StatusCode::FORBIDDEN
        );
    }
}
