//! Double-submit CSRF tokens for every form openpoort serves, and [`Csrf`], the extractor that
//! checks them, so that a new form cannot forget to.

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::extract::{Fault, Form, Refused};
use super::{Text, cookie_value, message, random_token};
use crate::app_state::{AppState, WebConfig};

/// The fields of a form that carries nothing but its CSRF token: `_: Csrf<NoFields>`.
#[derive(serde::Deserialize)]
pub struct NoFields {}

/// The fields of a form that carries only the box confirming its action: `Csrf<ConfirmForm>`.
#[derive(serde::Deserialize)]
pub struct ConfirmForm {
    confirm: Option<String>,
}

impl ConfirmForm {
    /// Whether the box was ticked: a browser sends an unticked box not at all.
    pub fn confirmed(&self) -> bool {
        self.confirm.is_some()
    }
}

/// A posted form whose `csrf` field matches this browser's CSRF cookie. `T` is the form's
/// other fields (it needs no `csrf` field of its own). A form that does not parse is refused
/// as [`Form`] refuses it; one whose token does not match gets [`csrf_refused`].
pub struct Csrf<T>(pub T);

impl<T> FromRequest<AppState> for Csrf<T>
where
    T: DeserializeOwned,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let path = req.uri().path().to_owned();
        let headers = req.headers().clone();
        let Form(fields) = Form::<Vec<(String, String)>>::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        // The fields as a form once more, for `T`'s own reading: serde_urlencoded reads
        // optional and numeric fields as an HTML form means them, which a generic map does not.
        let refused = |e: &dyn std::fmt::Display| {
            Refused::new(&path, Fault::Form, e.to_string()).into_response()
        };
        let text = serde_urlencoded::to_string(&fields).map_err(|e| refused(&e))?;
        let form = serde_urlencoded::from_str::<T>(&text).map_err(|e| refused(&e))?;
        let submitted = fields
            .iter()
            .find(|(name, _)| name == "csrf")
            .map_or("", |(_, value)| value.as_str());
        if !csrf_ok(&state.web, &headers, submitted) {
            return Err(super::PageError::Csrf.into_response());
        }
        Ok(Csrf(form))
    }
}

/// The CSRF token of this browser, and the `Set-Cookie` to send when it is new. The token is
/// a double-submit value in a `__Host-` cookie: another site can neither read it nor, thanks to
/// the prefix, plant one of its own.
pub fn csrf_token(web: &WebConfig, headers: &HeaderMap) -> (String, HeaderMap) {
    if let Some(t) = cookie_value(headers, web.csrf_cookie).filter(|t| t.len() == 43) {
        return (t.to_owned(), HeaderMap::new());
    }
    let token = random_token();
    let mut set = HeaderMap::new();
    set.insert(
        header::SET_COOKIE,
        web.cookie(web.csrf_cookie, &token, None),
    );
    (token, set)
}

/// Whether a submitted form carries this browser's CSRF token.
pub fn csrf_ok(web: &WebConfig, headers: &HeaderMap, submitted: &str) -> bool {
    match cookie_value(headers, web.csrf_cookie) {
        Some(expected) if expected.len() == submitted.len() && !expected.is_empty() => {
            openssl::memcmp::eq(expected.as_bytes(), submitted.as_bytes())
        }
        _ => false,
    }
}

pub fn csrf_refused() -> Response {
    message(
        StatusCode::FORBIDDEN,
        "Formulier verlopen",
        Text::new(
            "Dit formulier is verlopen of niet van openpoort afkomstig. Laad de pagina opnieuw en probeer het nog eens.",
            "This form has expired or did not come from openpoort. Reload the page and try again.",
        ),
        Some(("/inloggen", "Naar inloggen / To log in")),
    )
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;
    use crate::config::Config;

    #[test]
    fn csrf_token_must_match_the_cookie() {
        let web = WebConfig::from_config(&Config::default());
        let mut h = HeaderMap::new();
        let token = random_token();
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("other=1; {}={token}", web.csrf_cookie)).unwrap(),
        );
        assert!(csrf_ok(&web, &h, &token));
        assert!(!csrf_ok(&web, &h, &random_token()));
        assert!(!csrf_ok(&web, &h, ""));
        assert!(!csrf_ok(&web, &HeaderMap::new(), &token));
    }
}
