//! Storingsmelding: the notice on every login page and the portal, in Dutch and English, with
//! an optional end after which it disappears by itself.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::{Nav, refusal};
use crate::app_state::AppState;
use crate::http::{Csrf, NoFields, PageError, Text, csrf_token, page as render_page, see_other};
use crate::operator_admin::notice;
use crate::session::SignedInOperator;

#[derive(Template)]
#[template(path = "operator.html")]
struct HomePage {
    nav: Nav,
}

pub async fn home(_op: SignedInOperator) -> Result<Response, PageError> {
    Ok(render_page(
        StatusCode::OK,
        &HomePage {
            nav: Nav { current: "" },
        },
        HeaderMap::new(),
    ))
}

#[derive(Template)]
#[template(path = "operator_notice.html")]
struct NoticePage {
    nav: Nav,
    csrf: String,
    /// The notice as set: Dutch, English, its end in Dutch time, whether it is shown now.
    current: Option<(String, String, Option<String>, bool)>,
    error: Option<Text>,
    nl: String,
    en: String,
    until: String,
}

async fn render(
    state: &AppState,
    op: &SignedInOperator,
    headers: &HeaderMap,
    refused: Option<(Text, NoticeForm)>,
) -> Result<Response, PageError> {
    let now = crate::clock::unix_now();
    let current = notice::current(&state.directory, &op.operating)
        .await?
        .map(|n| {
            let shown = n.shown_at(now);
            (
                n.nl,
                n.en,
                n.until.map(directory::model::netherlands_clock),
                shown,
            )
        });
    let (csrf, set) = csrf_token(&state.web, headers);
    let status = if refused.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let (error, form) = match refused {
        Some((e, f)) => (Some(e), f),
        None => (None, NoticeForm::default()),
    };
    Ok(render_page(
        status,
        &NoticePage {
            nav: Nav {
                current: "storingsmelding",
            },
            csrf,
            current,
            error,
            nl: form.nl,
            en: form.en,
            until: form.until,
        },
        set,
    ))
}

pub async fn page(
    State(state): State<AppState>,
    op: SignedInOperator,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    render(&state, &op, &headers, None).await
}

#[derive(Default, Deserialize)]
pub struct NoticeForm {
    #[serde(default)]
    nl: String,
    #[serde(default)]
    en: String,
    #[serde(default)]
    until: String,
}

pub async fn set(
    State(state): State<AppState>,
    op: SignedInOperator,
    headers: HeaderMap,
    Csrf(form): Csrf<NoticeForm>,
) -> Result<Response, PageError> {
    match notice::set(
        &state.directory,
        &op.operating,
        &form.nl,
        &form.en,
        &form.until,
    )
    .await
    {
        Ok(_) => Ok(see_other("/operator/storingsmelding", HeaderMap::new())),
        Err(e) => {
            let text = refusal(e)?;
            render(&state, &op, &headers, Some((text, form))).await
        }
    }
}

pub async fn clear(
    State(state): State<AppState>,
    op: SignedInOperator,
    Csrf(NoFields {}): Csrf<NoFields>,
) -> Result<Response, PageError> {
    notice::clear(&state.directory, &op.operating).await?;
    Ok(see_other("/operator/storingsmelding", HeaderMap::new()))
}
