//! A school's privacy: its release audit (the same filter and pages as Beheer › Privacy) and its
//! board's processing agreement. The rules are `crate::school_admin::privacy`'s.

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, JsonBody, JsonShape, SchoolAdmin, created, ok};
use crate::app_state::AppState;
use crate::http::extract::Query;
use crate::school_admin::privacy::{self, Filter};

const MAX_BODY_BYTES: usize = 4 * 1024;

/// [`Filter`]'s fields and where the page starts: releases older than `before`. Not `Filter`
/// flattened in: serde's refusal of an unknown name would then no longer list the known ones.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReleaseQuery {
    party: Option<String>,
    group: Option<String>,
    from: Option<String>,
    until: Option<String>,
    before: Option<i64>,
}

pub async fn releases(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    Query(q): Query<ReleaseQuery>,
) -> Result<Response, ApiError> {
    let filter = Filter {
        party: q.party,
        group: q.group,
        from: q.from,
        until: q.until,
    };
    let page = privacy::releases(&state.directory, &a, &filter, q.before).await?;
    let rows: Vec<Value> = page
        .rows
        .iter()
        .map(|r| {
            json!({
                "seq": r.seq,
                "at": r.at,
                "party_id": r.party_id,
                "party_name": r.party_name,
                "subject_id": r.subject_id,
                "subject_kind": r.subject_kind,
                "subject_name": r.subject_name,
                "subject_name_recorded": r.name_recorded,
                "context": r.context,
                "product_id": r.product_id,
                "attributes": r.attributes,
                "groups": r.group_keys,
            })
        })
        .collect();
    Ok(ok(
        json!({"school": a.school.code(), "releases": rows, "next_before": page.next}),
    ))
}

/// The releases under the filter as Beheer's CSV file (the same service, columns and defused
/// formula cells), written while it is read. A bad filter is a problem before the first byte.
pub async fn releases_csv(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    Query(filter): Query<Filter>,
) -> Result<Response, ApiError> {
    let stream = privacy::csv(&state.directory, &a, &filter).await?;
    crate::http::attachment(
        Body::from_stream(stream),
        "text/csv; charset=utf-8",
        &format!("privacy-{}.csv", a.school.code()),
    )
    .map_err(ApiError::internal)
}

fn acceptance_json(a: &directory::privacy::Acceptance) -> Value {
    json!({
        "version": a.version,
        "accepted_by": a.accepted_by,
        "accepted_by_name": a.accepted_by_name,
        "accepted_at": a.accepted_at,
        "school_id": a.school_id,
    })
}

pub async fn agreement(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let s =
        privacy::agreement(&state.directory, &a, state.web.agreement_version.as_deref()).await?;
    let history: Vec<Value> = s
        .history
        .iter()
        .map(|h| acceptance_json(&h.acceptance))
        .collect();
    Ok(ok(json!({
        "school": a.school.code(),
        "board": s.board_name,
        "current_version": s.current,
        "current_accepted": s.current_accepted,
        "acceptances": history,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewAcceptance {
    version: String,
}

impl JsonShape for NewAcceptance {
    const LIMIT: usize = MAX_BODY_BYTES;
    const SHAPE: &'static str = "{\"version\": …}";
}

pub async fn accept(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<NewAcceptance>,
) -> Result<Response, ApiError> {
    let acceptance = privacy::accept(
        &state.directory,
        &a,
        state.web.agreement_version.as_deref(),
        &new.version,
    )
    .await?;
    let path = format!("/schools/{}/processing-agreement", a.school.code());
    Ok(created(&state, &path, acceptance_json(&acceptance)))
}
