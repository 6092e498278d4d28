//! A school's staff, as its ICT-coördinator manages them under Beheer › Leerkrachten: the list,
//! adding someone the LAS does not list, the login address and the invitation, roles, group
//! links (for a period when they have one) and deactivation. The rules are
//! `crate::school_admin::staff`'s. A person is named by their id, a role by its name
//! (`ib`, `ict_coordinator`, …), a group by its id.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use directory::model::{Date, StaffRole};
use directory::staff_admin::SchoolStaffMember;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, Endpoint, SchoolAdmin, created, endpoint, json_answer, json_body};
use crate::app_state::AppState;
use crate::http::extract::Path;
use crate::school_admin::staff::{self as rules, Mailing, NewPerson};

const MAX_BODY_BYTES: usize = 16 * 1024;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(Method::GET, "/schools/{school_id}/staff", list),
        endpoint(Method::POST, "/schools/{school_id}/staff", add),
        endpoint(Method::GET, "/schools/{school_id}/staff/{staff_id}", one),
        endpoint(
            Method::PUT,
            "/schools/{school_id}/staff/{staff_id}/email",
            set_email,
        ),
        endpoint(
            Method::POST,
            "/schools/{school_id}/staff/{staff_id}/invitation",
            invite,
        ),
        endpoint(
            Method::PUT,
            "/schools/{school_id}/staff/{staff_id}/roles/{role}",
            grant_role,
        ),
        endpoint(
            Method::DELETE,
            "/schools/{school_id}/staff/{staff_id}/roles/{role}",
            revoke_role,
        ),
        endpoint(
            Method::PUT,
            "/schools/{school_id}/staff/{staff_id}/groups/{group_id}",
            link_group,
        ),
        endpoint(
            Method::DELETE,
            "/schools/{school_id}/staff/{staff_id}/groups/{group_id}",
            unlink_group,
        ),
        endpoint(
            Method::POST,
            "/schools/{school_id}/staff/{staff_id}/deactivation",
            deactivate,
        ),
    ]
}

fn mailing(state: &AppState) -> Mailing<'_> {
    Mailing {
        mailer: &state.mailer,
        public_url: &state.web.public_url,
    }
}

fn person(m: &SchoolStaffMember) -> Value {
    let today = Date::in_netherlands(crate::clock::unix_now());
    json!({
        "id": m.staff.id,
        "roepnaam": m.staff.roepnaam,
        "voornamen": m.staff.voornamen,
        "voorvoegsel": m.staff.voorvoegsel,
        "achternaam": m.staff.achternaam,
        "email": m.staff.email,
        "status": m.staff.status.as_str(),
        "las_key": m.las_key,
        "roles": m.roles.iter().map(StaffRole::as_str).collect::<Vec<_>>(),
        "groups": m.groups.iter().map(|l| json!({
            "group_id": l.group.id,
            "group": l.group.las_key,
            "name": l.group.name,
            "valid_from": l.valid_from,
            "valid_until": l.valid_until,
            "current": l.holds_on(&today),
        })).collect::<Vec<_>>(),
    })
}

fn role(name: &str) -> Result<StaffRole, ApiError> {
    Ok(StaffRole::parse(name)?)
}

async fn list(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let staff: Vec<Value> = rules::list(&state.directory, &a)
        .await?
        .iter()
        .map(person)
        .collect();
    Ok(json_answer(
        StatusCode::OK,
        json!({"school": a.school.code(), "staff": staff}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewStaffBody {
    #[serde(default)]
    roepnaam: String,
    #[serde(default)]
    voorvoegsel: String,
    achternaam: String,
    email: String,
}

async fn add(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let new: NewStaffBody = json_body(
        &headers,
        body,
        MAX_BODY_BYTES,
        "{\"achternaam\": …, \"email\": …, \"roepnaam\": …, \"voorvoegsel\": …}",
    )
    .await?;
    let (staff, sent) = rules::add(
        &state.directory,
        &mailing(&state),
        &a,
        &NewPerson {
            roepnaam: &new.roepnaam,
            voorvoegsel: &new.voorvoegsel,
            achternaam: &new.achternaam,
            email: &new.email,
        },
    )
    .await?;
    let m = rules::member(&state.directory, &a, &staff.id).await?;
    let mut body = person(&m);
    body["activation_mailed"] = json!(sent.is_ok());
    let path = format!("/schools/{}/staff/{}", a.school.code(), staff.id);
    Ok(created(&state, &path, body))
}

async fn one(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    Path((_, staff_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let m = rules::member(&state.directory, &a, &staff_id).await?;
    Ok(json_answer(StatusCode::OK, person(&m)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailBody {
    email: String,
}

async fn set_email(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    Path((_, staff_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let new: EmailBody = json_body(&headers, body, MAX_BODY_BYTES, "{\"email\": …}").await?;
    let sent = rules::set_email(
        &state.directory,
        &mailing(&state),
        &a,
        &staff_id,
        &new.email,
    )
    .await?;
    let m = rules::member(&state.directory, &a, &staff_id).await?;
    let mut body = person(&m);
    body["activation_mailed"] = json!(sent.is_some_and(|s| s.is_ok()));
    Ok(json_answer(StatusCode::OK, body))
}

async fn invite(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    Path((_, staff_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let sent = rules::invite(&state.directory, &mailing(&state), &a, &staff_id).await?;
    if let Err(e) = sent {
        return Err(ApiError::internal(e));
    }
    Ok(json_answer(
        StatusCode::OK,
        json!({"id": staff_id, "activation_mailed": true}),
    ))
}

async fn grant_role(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    Path((_, staff_id, name)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    rules::grant_role(&state.directory, &a, &staff_id, role(&name)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn revoke_role(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    Path((_, staff_id, name)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    rules::revoke_role(&state.directory, &a, &staff_id, role(&name)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PeriodBody {
    #[serde(default)]
    valid_from: Option<String>,
    #[serde(default)]
    valid_until: Option<String>,
}

async fn link_group(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    Path((_, staff_id, group_id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    // No body links for good; a body gives the period.
    let period: PeriodBody = if headers.contains_key(axum::http::header::CONTENT_TYPE) {
        json_body(
            &headers,
            body,
            MAX_BODY_BYTES,
            "{\"valid_from\": \"JJJJ-MM-DD\", \"valid_until\": \"JJJJ-MM-DD\"}",
        )
        .await?
    } else {
        PeriodBody::default()
    };
    rules::link_group(
        &state.directory,
        &a,
        &staff_id,
        &group_id,
        period.valid_from.as_deref().unwrap_or(""),
        period.valid_until.as_deref().unwrap_or(""),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn unlink_group(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    Path((_, staff_id, group_id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    rules::unlink_group(&state.directory, &a, &staff_id, &group_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn deactivate(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    Path((_, staff_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    rules::deactivate(&state.directory, &a, &staff_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
