//! Lesmateriaal: the school's licences, the portal as each group sees it, and the shortcuts for
//! its devices, as a list to copy and as the zip Beheer offers. The rules are
//! `crate::school_admin::material`'s.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::{ApiError, Endpoint, SchoolAdmin, endpoint, json_answer};
use crate::app_state::AppState;
use crate::clock::unix_now;
use crate::school_admin::material;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(Method::GET, "/schools/{school_id}/licences", licences),
        endpoint(Method::GET, "/schools/{school_id}/portals", portals),
        endpoint(Method::GET, "/schools/{school_id}/shortcuts", shortcuts),
        endpoint(
            Method::GET,
            "/schools/{school_id}/shortcuts.zip",
            shortcuts_zip,
        ),
    ]
}

async fn licences(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let rows: Vec<Value> = material::licences(&state, &a, unix_now())
        .await?
        .into_iter()
        .map(|l| {
            json!({
                "product": l.product,
                "party": l.party,
                "scope": {"nl": l.scope.0, "en": l.scope.1},
                "valid_from": l.valid_from,
                "valid_until": l.valid_until,
                "in_force": l.in_force,
            })
        })
        .collect();
    Ok(json_answer(
        StatusCode::OK,
        json!({"school": a.school.code(), "licences": rows}),
    ))
}

async fn portals(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let groups: Vec<Value> = material::group_portals(&state, &a, unix_now())
        .await?
        .into_iter()
        .map(|(g, products)| json!({"group_id": g.id, "group": g.name, "products": products}))
        .collect();
    Ok(json_answer(
        StatusCode::OK,
        json!({"school": a.school.code(), "groups": groups}),
    ))
}

async fn shortcuts(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let rows: Vec<Value> = material::shortcuts(&state, &a)
        .await?
        .into_iter()
        .map(|s| json!({"name": s.name, "url": s.url, "note": {"nl": s.note.0, "en": s.note.1}}))
        .collect();
    Ok(json_answer(
        StatusCode::OK,
        json!({"school": a.school.code(), "shortcuts": rows}),
    ))
}

/// The same zip as Beheer › Lesmateriaal: `Windows/*.url`, `macOS/*.webloc`, `Linux/*.desktop`.
async fn shortcuts_zip(
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
