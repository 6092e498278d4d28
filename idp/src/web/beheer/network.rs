//! IP-adressen: the ranges from which pupils may use the school's shortcut link.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::{Nav, SchoolAdmin};
use crate::app_state::AppState;
use crate::http::{ClientIp, Csrf, PageError, Text, csrf_token, page, see_other};
use crate::school_admin::{AdminError, network};

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

async fn render(
    state: &AppState,
    s: &SchoolAdmin,
    caller: ClientIp,
    headers: &HeaderMap,
    refused: Option<(Text, String, String)>,
) -> Result<Response, PageError> {
    let rows = network::ranges(&state.directory, &s.admin, Some(caller.0)).await?;
    let (csrf, set) = csrf_token(&state.web, headers);
    let status = if refused.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let (error, cidr, label) = match refused {
        Some((e, cidr, label)) => (Some(e), cidr, label),
        None => (None, String::new(), String::new()),
    };
    Ok(page(
        status,
        &NetworkPage {
            nav: Nav::of(&s.manager, "ip-adressen"),
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
            cidr,
            label,
        },
        set,
    ))
}

pub async fn network(
    State(state): State<AppState>,
    s: SchoolAdmin,
    caller: ClientIp,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    render(&state, &s, caller, &headers, None).await
}

#[derive(Deserialize)]
pub struct AddForm {
    cidr: String,
    #[serde(default)]
    label: String,
}

pub async fn add_range(
    State(state): State<AppState>,
    s: SchoolAdmin,
    caller: ClientIp,
    headers: HeaderMap,
    Csrf(form): Csrf<AddForm>,
) -> Result<Response, PageError> {
    match network::add(&state.directory, &s.admin, &form.cidr, &form.label).await {
        Ok(_) => Ok(see_other("/beheer/ip-adressen", HeaderMap::new())),
        // The form comes back with what was typed and what is wrong with it.
        Err(AdminError::Refused { nl, en } | AdminError::Conflict { nl, en }) => {
            let refused = (Text::new(nl, en), form.cidr, form.label);
            render(&state, &s, caller, &headers, Some(refused)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct RemoveForm {
    cidr: String,
    confirm: Option<String>,
}

pub async fn remove_range(
    State(state): State<AppState>,
    s: SchoolAdmin,
    caller: ClientIp,
    headers: HeaderMap,
    Csrf(form): Csrf<RemoveForm>,
) -> Result<Response, PageError> {
    let confirmed = form.confirm.is_some();
    match network::remove(
        &state.directory,
        &s.admin,
        &form.cidr,
        Some(caller.0),
        confirmed,
    )
    .await
    {
        Ok(()) => Ok(see_other("/beheer/ip-adressen", HeaderMap::new())),
        Err(AdminError::Refused { nl, en } | AdminError::Conflict { nl, en }) => {
            let refused = (Text::new(nl, en), String::new(), String::new());
            render(&state, &s, caller, &headers, Some(refused)).await
        }
        Err(e) => Err(e.into()),
    }
}
