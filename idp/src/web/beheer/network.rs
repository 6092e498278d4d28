//! IP-adressen: the ranges from which pupils may use the school's shortcut link.

use askama::Template;
use axum::response::Response;
use serde::Deserialize;

use super::{Nav, SchoolAdmin, again};
use crate::http::{ClientIp, Csrf, FormView, PageError, Text, see};
use crate::school_admin::network;

const PATH: &str = "/beheer/ip-adressen";

pub struct Row {
    cidr: String,
    label: String,
    holds_caller: bool,
}

#[derive(Template)]
#[template(path = "beheer_ip.html")]
struct NetworkPage {
    nav: Nav,
    csrf: String,
    caller: String,
    caller_covered: bool,
    rows: Vec<Row>,
    error: Option<Text>,
    cidr: String,
    label: String,
}

/// What the form to add a range holds.
#[derive(Default, Deserialize)]
pub struct AddForm {
    cidr: String,
    #[serde(default)]
    label: String,
}

async fn render(
    s: SchoolAdmin,
    caller: ClientIp,
    view: FormView<AddForm>,
) -> Result<Response, PageError> {
    let rows = network::ranges(s.directory(), &s.admin, Some(caller.0)).await?;
    let nav = s.nav("ip-adressen");
    Ok(s.form_page(view, |csrf, error, form| NetworkPage {
        nav,
        csrf,
        caller: caller.0.to_string(),
        caller_covered: rows.iter().any(|r| r.holds_caller),
        rows: rows
            .into_iter()
            .map(|r| Row {
                cidr: r.range.cidr,
                label: r.range.label,
                holds_caller: r.holds_caller,
            })
            .collect(),
        error,
        cidr: form.cidr,
        label: form.label,
    }))
}

pub async fn network(s: SchoolAdmin, caller: ClientIp) -> Result<Response, PageError> {
    render(s, caller, FormView::default()).await
}

pub async fn add_range(
    s: SchoolAdmin,
    caller: ClientIp,
    Csrf(form): Csrf<AddForm>,
) -> Result<Response, PageError> {
    match network::add(s.directory(), &s.admin, &form.cidr, &form.label).await {
        Ok(_) => Ok(see(PATH)),
        // The form comes back with what was typed and what is wrong with it.
        Err(e) => render(s, caller, again(e, form)?).await,
    }
}

#[derive(Deserialize)]
pub struct RemoveForm {
    cidr: String,
    confirm: Option<String>,
}

pub async fn remove_range(
    s: SchoolAdmin,
    caller: ClientIp,
    Csrf(form): Csrf<RemoveForm>,
) -> Result<Response, PageError> {
    let confirmed = form.confirm.is_some();
    let (d, a) = (s.directory(), &s.admin);
    match network::remove(d, a, &form.cidr, Some(caller.0), confirmed).await {
        Ok(()) => Ok(see(PATH)),
        // The range stays listed; the form to add one starts empty.
        Err(e) => render(s, caller, again(e, AddForm::default())?).await,
    }
}
