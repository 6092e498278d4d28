//! axum's extractors with openpoort's answers when they refuse a request.
//!
//! axum answers a missing form field, bad UTF-8 in a path, a malformed query, a wrong content
//! type, a body too large or too slow with a bare English sentence in text/plain.
//! These wrappers answer in the form the caller reads: a Dutch/English page for browsers,
//! `application/problem+json` under the admin API, an OAuth error object at the OIDC endpoints
//! that answer in JSON. Handlers use them exactly as axum's (`Form(f): Form<T>`). There is no
//! `Json` here: the machine APIs read JSON bodies with `super::json::JsonBody`, which answers
//! problem+json already.

use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::oauth::oauth_error;
use super::problem::{ApiError, Problem};
use super::{Text, message};

/// Where the admin API is mounted: its refusals are problem+json.
pub const ADMIN_API_PREFIX: &str = "/api/v1";

/// The OIDC endpoints whose callers are programs that read JSON errors (RFC 6749 5.2,
/// RFC 6750 3, RFC 7009 2.2.1, RFC 7662 2.3). The others (authorize, logout) are seen by a
/// browser and answer with a page.
const OAUTH_JSON_PATHS: [&str; 4] = [
    "/oidc/token",
    "/oidc/userinfo",
    "/oidc/revoke",
    "/oidc/introspect",
];

/// Who reads the answer, decided by the path alone so that a refusal needs nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Audience {
    Browser,
    AdminApi,
    OAuthClient,
}

impl Audience {
    fn of(path: &str) -> Audience {
        if path == ADMIN_API_PREFIX || path.starts_with(&format!("{ADMIN_API_PREFIX}/")) {
            Audience::AdminApi
        } else if OAUTH_JSON_PATHS.contains(&path) {
            Audience::OAuthClient
        } else {
            Audience::Browser
        }
    }
}

/// What was wrong with the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// The form's fields are missing or of the wrong kind.
    Form,
    /// The query string is missing parameters or is malformed.
    Query,
    /// A path segment is not valid (bad UTF-8, wrong kind).
    Path,
    /// The body is not of the content type this address takes.
    ContentType,
    /// The body is larger than this address takes.
    TooLarge,
    /// The body did not arrive within `server.body_timeout_seconds`.
    TooSlow,
    /// The body could not be read (the connection broke off).
    Unreadable,
}

impl Fault {
    fn status(self) -> StatusCode {
        match self {
            Fault::ContentType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Fault::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Fault::TooSlow => StatusCode::REQUEST_TIMEOUT,
            Fault::Form | Fault::Query | Fault::Path | Fault::Unreadable => StatusCode::BAD_REQUEST,
        }
    }

    fn text(self) -> Text {
        let (nl, en) = match self {
            Fault::Form => (
                "Het formulier is onvolledig of bevat ongeldige waarden. Laad de pagina opnieuw en probeer het nog eens.",
                "The form is incomplete or contains invalid values. Reload the page and try again.",
            ),
            Fault::Query => (
                "Het adres van deze pagina is onvolledig of ongeldig. Gebruik de link of knop van de school opnieuw.",
                "The address of this page is incomplete or invalid. Use the school's link or button again.",
            ),
            Fault::Path => (
                "Het adres van deze pagina is ongeldig.",
                "The address of this page is invalid.",
            ),
            Fault::ContentType => (
                "Het verzoek is in een vorm verstuurd die dit adres niet aanneemt.",
                "The request was sent in a form this address does not accept.",
            ),
            Fault::TooLarge => (
                "Het verzoek is groter dan dit adres aanneemt.",
                "The request is larger than this address accepts.",
            ),
            Fault::TooSlow => (
                "Het verzoek kwam te traag binnen. Probeer het opnieuw.",
                "The request arrived too slowly. Please try again.",
            ),
            Fault::Unreadable => (
                "Het verzoek kon niet helemaal gelezen worden. Probeer het opnieuw.",
                "The request could not be read completely. Please try again.",
            ),
        };
        Text::new(nl, en)
    }

    fn problem(self) -> Problem {
        match self {
            Fault::ContentType => Problem::UnsupportedMediaType,
            Fault::TooLarge => Problem::PayloadTooLarge,
            // The API's problem types have no timeout of their own; 400 with the reason.
            _ => Problem::BadRequest,
        }
    }
}

/// A refused request, answered for its audience. `detail` is axum's own English account,
/// given to programs (which may need it to find their mistake) and never to browsers.
pub struct Refused {
    audience: Audience,
    fault: Fault,
    detail: String,
}

impl Refused {
    pub(crate) fn new(path: &str, fault: Fault, detail: String) -> Refused {
        Refused {
            audience: Audience::of(path),
            fault,
            detail,
        }
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let Refused {
            audience,
            fault,
            detail,
        } = self;
        tracing::debug!(?fault, %detail, "request refused by an extractor");
        let text = fault.text();
        let mut response = match audience {
            Audience::Browser => message(fault.status(), "Ongeldig verzoek", text, None),
            Audience::AdminApi => {
                let mut r =
                    ApiError::new(fault.problem(), text.nl, format!("{} ({detail})", text.en))
                        .into_response();
                // The API has no 408 problem type; the status still says what happened.
                if fault == Fault::TooSlow {
                    *r.status_mut() = StatusCode::REQUEST_TIMEOUT;
                }
                r
            }
            Audience::OAuthClient => oauth_error(
                fault.status(),
                "invalid_request",
                &format!("{} / {} ({detail})", text.nl, text.en),
            ),
        };
        // A body left unread cannot be followed by another request on its connection.
        if matches!(fault, Fault::TooLarge | Fault::TooSlow | Fault::Unreadable) {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// So that an extractor refusing with a `Response` can pass a refusal on with `?`.
impl From<Refused> for Response {
    fn from(r: Refused) -> Response {
        r.into_response()
    }
}

/// Whether `error` or anything it wraps is the body timeout of the accept loop.
pub(crate) fn body_timed_out(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if e.is::<crate::accept::BodyTimedOut>() {
            return true;
        }
        cause = e.source();
    }
    false
}

/// The fault of a body that could not be buffered: too large, too slow, or broken off.
fn body_fault(status: StatusCode, error: &(dyn std::error::Error + 'static)) -> Fault {
    if body_timed_out(error) {
        Fault::TooSlow
    } else if status == StatusCode::PAYLOAD_TOO_LARGE {
        Fault::TooLarge
    } else {
        Fault::Unreadable
    }
}

/// Marks a request to the admin API. Inside the nested router `Uri` has lost the `/api/v1`
/// prefix that tells who reads the answer, so the API's router puts this on every request it
/// takes (`crate::api::routes`).
#[derive(Clone, Copy, Debug)]
pub struct AdminApiRequest;

/// The path that decides who reads a refusal: the admin API's prefix for a request marked as
/// one, else the path itself.
fn full_path(extensions: &axum::http::Extensions, uri: &axum::http::Uri) -> String {
    match extensions.get::<AdminApiRequest>() {
        Some(_) => ADMIN_API_PREFIX.to_owned(),
        None => uri.path().to_owned(),
    }
}

/// [`axum::Form`], refusing in openpoort's way.
pub struct Form<T>(pub T);

impl<T, S> FromRequest<S> for Form<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Refused;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let path = full_path(req.extensions(), req.uri());
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(value)) => Ok(Form(value)),
            Err(rejection) => {
                let fault = match &rejection {
                    FormRejection::InvalidFormContentType(_) => Fault::ContentType,
                    FormRejection::BytesRejection(_) => body_fault(rejection.status(), &rejection),
                    _ => Fault::Form,
                };
                Err(Refused::new(&path, fault, rejection.body_text()))
            }
        }
    }
}

/// An extractor of the request's parts that wraps axum's namesake and refuses in openpoort's
/// way, naming `$fault`.
macro_rules! refusing_parts {
    ($(#[$doc:meta])* $name:ident, $fault:expr) => {
        $(#[$doc])*
        pub struct $name<T>(pub T);

        impl<T, S> FromRequestParts<S> for $name<T>
        where
            T: DeserializeOwned + Send,
            S: Send + Sync,
        {
            type Rejection = Refused;

            async fn from_request_parts(
                parts: &mut Parts,
                state: &S,
            ) -> Result<Self, Self::Rejection> {
                match axum::extract::$name::<T>::from_request_parts(parts, state).await {
                    Ok(axum::extract::$name(value)) => Ok($name(value)),
                    Err(rejection) => Err(Refused::new(
                        &full_path(&parts.extensions, &parts.uri),
                        $fault,
                        rejection.body_text(),
                    )),
                }
            }
        }
    };
}

refusing_parts!(
    /// [`axum::extract::Query`], refusing in openpoort's way.
    Query,
    Fault::Query
);
refusing_parts!(
    /// [`axum::extract::Path`], refusing in openpoort's way.
    Path,
    Fault::Path
);

/// The router's answer to a method no route of that path takes (axum's own is an empty 405).
pub async fn method_not_allowed(uri: axum::http::Uri) -> Response {
    let text = Text::new(
        "Dit adres kan niet op deze manier worden opgevraagd.",
        "This address cannot be requested this way.",
    );
    match Audience::of(uri.path()) {
        Audience::Browser => message(
            StatusCode::METHOD_NOT_ALLOWED,
            "Niet toegestaan",
            text,
            None,
        ),
        Audience::AdminApi => {
            ApiError::new(Problem::MethodNotAllowed, text.nl, text.en).into_response()
        }
        Audience::OAuthClient => oauth_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
            &format!("{} / {}", text.nl, text.en),
        ),
    }
}
