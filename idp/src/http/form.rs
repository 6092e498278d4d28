//! What every page with a form shares: the CSRF token its forms carry, taken as an extractor so
//! that no page can render its forms without the cookie that goes with a new token; the form as
//! the page shows it: fresh, or sent back refused with what was typed and why; and [`Desk`], all
//! a page's handler works with in one extractor.

use std::convert::Infallible;
use std::ops::Deref;

use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::{PageError, Text, csrf_token, page, see_other};
use crate::app_state::AppState;

/// This browser's CSRF token for the forms of the page about to be rendered, and the
/// `Set-Cookie` the page carries when the token is new.
pub struct FormToken {
    csrf: String,
    set_cookie: HeaderMap,
}

impl FromRequestParts<AppState> for FormToken {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let (csrf, set_cookie) = csrf_token(&state.web, &parts.headers);
        Ok(FormToken { csrf, set_cookie })
    }
}

impl FormToken {
    /// The page `with_token` makes around the token, with the cookie when the token is new. It
    /// borrows the token: a refused form may be shown from more than one place of a handler.
    pub fn page<T: Template>(
        &self,
        status: StatusCode,
        with_token: impl FnOnce(String) -> T,
    ) -> Response {
        page(
            status,
            &with_token(self.csrf.clone()),
            self.set_cookie.clone(),
        )
    }

    /// The page of a form, with the form's status: `with` puts the token, the refusal and what
    /// was typed in it.
    pub fn form_page<F, T: Template>(
        self,
        view: FormView<F>,
        with: impl FnOnce(String, Option<Text>, F) -> T,
    ) -> Response {
        let FormView {
            status,
            error,
            form,
        } = view;
        self.page(status, |csrf| with(csrf, error, form))
    }
}

/// A form as its page shows it: fresh (200), or refused, with the refusal beside what was typed
/// so that nobody types it twice.
pub struct FormView<F> {
    pub status: StatusCode,
    pub error: Option<Text>,
    pub form: F,
}

impl<F> FormView<F> {
    pub fn fresh(form: F) -> FormView<F> {
        FormView {
            status: StatusCode::OK,
            error: None,
            form,
        }
    }

    /// Refused as a bad request: what was typed breaks a rule.
    pub fn refused(error: Text, form: F) -> FormView<F> {
        FormView::refused_as(StatusCode::BAD_REQUEST, error, form)
    }

    pub fn refused_as(status: StatusCode, error: Text, form: F) -> FormView<F> {
        FormView {
            status,
            error: Some(error),
            form,
        }
    }
}

impl<F: Default> Default for FormView<F> {
    fn default() -> FormView<F> {
        FormView::fresh(F::default())
    }
}

/// The notice a redirect after a change names (`?melding=gemaild`): the page shows a fixed text
/// for it, so that no address carries the text itself.
#[derive(Deserialize)]
pub struct NoticeQuery {
    pub melding: Option<String>,
}

/// After a form was accepted: the page that shows what it did.
pub fn see(path: &str) -> Response {
    see_other(path, HeaderMap::new())
}

/// What a page's handler works with: who acts, as the guard `W` let them in (refused as `W`
/// refuses, before anything else of the request is read), the state, and the token of the
/// page's forms. It dereferences to `W`.
pub struct Desk<W> {
    who: W,
    pub state: AppState,
    token: FormToken,
}

impl<W> FromRequestParts<AppState> for Desk<W>
where
    W: FromRequestParts<AppState, Rejection = PageError> + Send,
{
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let who = W::from_request_parts(parts, state).await?;
        let Ok(token) = FormToken::from_request_parts(parts, state).await;
        Ok(Desk {
            who,
            state: state.clone(),
            token,
        })
    }
}

impl<W> Deref for Desk<W> {
    type Target = W;

    fn deref(&self) -> &W {
        &self.who
    }
}

impl<W> Desk<W> {
    pub fn directory(&self) -> &directory::Directory {
        &self.state.directory
    }

    /// The page `with_token` makes around the form token.
    pub fn page<T: Template>(
        self,
        status: StatusCode,
        with_token: impl FnOnce(String) -> T,
    ) -> Response {
        self.token.page(status, with_token)
    }

    /// The page of a form, as [`FormToken::form_page`] makes it.
    pub fn form_page<F, T: Template>(
        self,
        view: FormView<F>,
        with: impl FnOnce(String, Option<Text>, F) -> T,
    ) -> Response {
        self.token.form_page(view, with)
    }
}
