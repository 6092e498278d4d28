//! Storingsmelding: the notice on every login page and the portal, in Dutch and English, with
//! an optional end after which it disappears by itself.

use askama::Template;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::{Desk, Nav, again};
use crate::http::{Csrf, FormView, NoFields, PageError, Text, page as render_page, see};
use crate::operator_admin::notice;
use crate::session::SignedInOperator;

const NOTICE: &str = "/operator/storingsmelding";

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

async fn render(desk: Desk, view: FormView<NoticeForm>) -> Result<Response, PageError> {
    let now = crate::clock::unix_now();
    let current = notice::current(desk.directory(), &desk.operating)
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
    Ok(desk.form_page(view, |csrf, error, form| NoticePage {
        nav: Nav {
            current: "storingsmelding",
        },
        csrf,
        current,
        error,
        nl: form.nl,
        en: form.en,
        until: form.until,
    }))
}

pub async fn page(desk: Desk) -> Result<Response, PageError> {
    render(desk, FormView::default()).await
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

pub async fn set(desk: Desk, Csrf(form): Csrf<NoticeForm>) -> Result<Response, PageError> {
    let (d, op) = (desk.directory(), &desk.operating);
    match notice::set(d, op, &form.nl, &form.en, &form.until).await {
        Ok(_) => Ok(see(NOTICE)),
        Err(e) => render(desk, again(e, form)?).await,
    }
}

pub async fn clear(desk: Desk, Csrf(NoFields {}): Csrf<NoFields>) -> Result<Response, PageError> {
    notice::clear(desk.directory(), &desk.operating).await?;
    Ok(see(NOTICE))
}
