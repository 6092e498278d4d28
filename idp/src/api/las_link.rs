//! A school's link to its LAS, as its ICT-coördinator keeps it in Beheer › Gebruikersgegevens
//! and the operator with `openpoort las …`: read its state, register it, give a new key, switch
//! the school's side, pull now. The rules are `crate::school_admin::las`'s. A key goes in and
//! never comes out.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use directory::las::{KeyPlacement, LasLink, LasVendor, NewLasLink};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, JsonBody, JsonShape, SchoolAdmin, created, ok};
use crate::app_state::AppState;
use crate::school_admin::{AdminError, Administered, las};

fn no_link(a: &Administered) -> ApiError {
    AdminError::NotFound {
        what: "LAS-koppeling",
        key: a.school.code(),
    }
    .into()
}

fn state_of(a: &Administered, link: &LasLink) -> Value {
    json!({
        "school": a.school.code(),
        "vendor": link.vendor.as_str(),
        "endpoint": link.endpoint.as_str(),
        "header": link.placement.header,
        "enabled_by_school": link.enabled_by_school,
        "accepted_by_las": link.accepted_by_las,
        "active": link.is_active(),
        "last_attempt_at": link.last_attempt_at,
        "last_status": link.last_status.map(|s| s.as_str()),
        "last_message": link.last_message,
        "last_success_at": link.last_success_at,
    })
}

pub async fn read(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let link = las::link(&state.directory, &a)
        .await?
        .ok_or_else(|| no_link(&a))?;
    Ok(ok(state_of(&a, &link)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewLink {
    vendor: String,
    endpoint: String,
    key: String,
    #[serde(default)]
    header: Option<String>,
    /// The word before the key; `null` for the key alone. Absent means `Bearer`.
    #[serde(default = "bearer")]
    scheme: Option<String>,
}

fn bearer() -> Option<String> {
    Some("Bearer".into())
}

impl JsonShape for NewLink {
    const SHAPE: &'static str = "{\"vendor\": …, \"endpoint\": …, \"key\": …}";
}

pub async fn add(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<NewLink>,
) -> Result<Response, ApiError> {
    let link = NewLasLink {
        vendor: LasVendor::parse(&new.vendor).map_err(AdminError::from)?,
        endpoint: new.endpoint,
        placement: KeyPlacement::new(
            new.header.as_deref().unwrap_or("Authorization"),
            new.scheme.as_deref(),
        )
        .map_err(AdminError::from)?,
        key: las::authorisation_key(&new.key)?,
    };
    let link = las::add(&state.directory, state.keys.kek(), &a, &link).await?;
    Ok(created(
        &state,
        &format!("/schools/{}/las-link", a.school.code()),
        state_of(&a, &link),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewKey {
    key: String,
}

impl JsonShape for NewKey {
    const SHAPE: &'static str = "{\"key\": …}";
}

pub async fn set_key(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<NewKey>,
) -> Result<Response, ApiError> {
    let key = las::authorisation_key(&new.key)?;
    las::set_key(&state.directory, state.keys.kek(), &a, &key).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Enabled {
    enabled: bool,
}

impl JsonShape for Enabled {
    const SHAPE: &'static str = "{\"enabled\": true|false}";
}

pub async fn switch(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    JsonBody(on): JsonBody<Enabled>,
) -> Result<Response, ApiError> {
    las::switch(&state.directory, &a, on.enabled).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Pulls now, as the nightly pull would. A pull that fails (the LAS refuses the key, cannot be
/// reached) is still an answer: 200 with the status and message, recorded on the link.
pub async fn pull(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    if las::link(&state.directory, &a).await?.is_none() {
        return Err(no_link(&a));
    }
    let result = las::pull_now(&state, &a).await?;
    let report = match &result.report {
        Some(r) => serde_json::to_value(r).map_err(ApiError::internal)?,
        None => Value::Null,
    };
    Ok(ok(json!({
        "school": a.school.code(),
        "status": result.status.as_str(),
        "message": result.message,
        "import": report,
    })))
}
