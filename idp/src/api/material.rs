//! Lesmateriaal: the school's licences, the portal as each group sees it, and the shortcuts for
//! its devices, as a list to copy and as the zip Beheer offers. The rules are
//! `crate::school_admin::material`'s.

use axum::extract::State;
use axum::response::Response;
use serde_json::json;

use super::{ApiError, SchoolAdmin, school_list};
use crate::app_state::AppState;
use crate::clock::unix_now;
use crate::school_admin::material;

pub async fn licences(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let licences = material::licences(&state, &a, unix_now()).await?;
    let rows = licences.into_iter().map(|l| {
        json!({
            "product": l.product,
            "party": l.party,
            "scope": {"nl": l.scope.0, "en": l.scope.1},
            "valid_from": l.valid_from,
            "valid_until": l.valid_until,
            "in_force": l.in_force,
        })
    });
    Ok(school_list(&a, "licences", rows))
}

pub async fn portals(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let portals = material::group_portals(&state, &a, unix_now()).await?;
    let groups = portals
        .into_iter()
        .map(|(g, products)| json!({"group_id": g.id, "group": g.name, "products": products}));
    Ok(school_list(&a, "groups", groups))
}

pub async fn shortcuts(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let shortcuts = material::shortcuts(&state, &a).await?;
    let rows = shortcuts
        .into_iter()
        .map(|s| json!({"name": s.name, "url": s.url, "note": {"nl": s.note.0, "en": s.note.1}}));
    Ok(school_list(&a, "shortcuts", rows))
}

/// The same zip as Beheer › Lesmateriaal: `Windows/*.url`, `macOS/*.webloc`, `Linux/*.desktop`.
pub async fn shortcuts_zip(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let shortcuts = material::shortcuts(&state, &a).await?;
    let bytes = material::zip(&shortcuts)?;
    crate::http::attachment(
        bytes.into(),
        "application/zip",
        &format!("snelkoppelingen-{}.zip", a.school.code()),
    )
    .map_err(ApiError::internal)
}
