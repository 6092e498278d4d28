//! A school's staff, as its ICT-coördinator manages them under Beheer › Leerkrachten: the list,
//! adding someone the LAS does not list, the login address and the invitation, roles, group
//! links (for a period when they have one) and deactivation. The rules are
//! `crate::school_admin::staff`'s. A person is named by their id, a role by its name
//! (`ib`, `ict_coordinator`, …), a group by its id.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use directory::model::{Date, StaffRole};
use directory::staff_admin::SchoolStaffMember;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, JsonBody, JsonShape, SchoolAdmin, created, mailing, ok, school_list};
use crate::app_state::AppState;
use crate::http::extract::Path;
use crate::school_admin::Administered;
use crate::school_admin::staff::{self as rules, NewPerson};

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

/// The person as they are now, with whether their activation link went out.
async fn mailed_person(
    state: &AppState,
    a: &Administered,
    staff_id: &str,
    mailed: bool,
) -> Result<Value, ApiError> {
    let m = rules::member(&state.directory, a, staff_id).await?;
    let mut body = person(&m);
    body["activation_mailed"] = json!(mailed);
    Ok(body)
}

fn role(name: &str) -> Result<StaffRole, ApiError> {
    Ok(StaffRole::parse(name)?)
}

pub async fn list(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let staff = rules::list(&state.directory, &a).await?;
    Ok(school_list(&a, "staff", staff.iter().map(person)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewStaffBody {
    #[serde(default)]
    roepnaam: String,
    #[serde(default)]
    voorvoegsel: String,
    achternaam: String,
    email: String,
}

impl JsonShape for NewStaffBody {
    const SHAPE: &'static str =
        "{\"achternaam\": …, \"email\": …, \"roepnaam\": …, \"voorvoegsel\": …}";
}

pub async fn add(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<NewStaffBody>,
) -> Result<Response, ApiError> {
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
    let body = mailed_person(&state, &a, &staff.id, sent.is_ok()).await?;
    let path = format!("/schools/{}/staff/{}", a.school.code(), staff.id);
    Ok(created(&state, &path, body))
}

pub async fn one(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    Path((_, staff_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let m = rules::member(&state.directory, &a, &staff_id).await?;
    Ok(ok(person(&m)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EmailBody {
    email: String,
}

impl JsonShape for EmailBody {
    const SHAPE: &'static str = "{\"email\": …}";
}

pub async fn set_email(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    Path((_, staff_id)): Path<(String, String)>,
    JsonBody(new): JsonBody<EmailBody>,
) -> Result<Response, ApiError> {
    let sent = rules::set_email(
        &state.directory,
        &mailing(&state),
        &a,
        &staff_id,
        &new.email,
    )
    .await?;
    let mailed = sent.is_some_and(|s| s.is_ok());
    Ok(ok(mailed_person(&state, &a, &staff_id, mailed).await?))
}

pub async fn invite(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    Path((_, staff_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let sent = rules::invite(&state.directory, &mailing(&state), &a, &staff_id).await?;
    if let Err(e) = sent {
        return Err(ApiError::internal(e));
    }
    Ok(ok(json!({"id": staff_id, "activation_mailed": true})))
}

pub async fn grant_role(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    Path((_, staff_id, name)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    rules::grant_role(&state.directory, &a, &staff_id, role(&name)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn revoke_role(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    Path((_, staff_id, name)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    rules::revoke_role(&state.directory, &a, &staff_id, role(&name)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct PeriodBody {
    #[serde(default)]
    valid_from: Option<String>,
    #[serde(default)]
    valid_until: Option<String>,
}

impl JsonShape for PeriodBody {
    const SHAPE: &'static str = "{\"valid_from\": \"JJJJ-MM-DD\", \"valid_until\": \"JJJJ-MM-DD\"}";
}

pub async fn link_group(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    Path((_, staff_id, group_id)): Path<(String, String, String)>,
    period: Option<JsonBody<PeriodBody>>,
) -> Result<Response, ApiError> {
    // No body links for good; a body gives the period.
    let period = period.map(|JsonBody(p)| p).unwrap_or_default();
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

pub async fn unlink_group(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    Path((_, staff_id, group_id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    rules::unlink_group(&state.directory, &a, &staff_id, &group_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn deactivate(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    Path((_, staff_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    rules::deactivate(&state.directory, &a, &staff_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Resets the person's second factor (see `school_admin::second_factor::reset`): 200 with
/// whether the mail to them went out (the reset stands either way), 409 when they have none.
pub async fn reset_second_factor(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    Path((_, staff_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let default = state.web.second_factor_policy;
    let mailed = crate::school_admin::second_factor::reset(
        &state.directory,
        &mailing(&state),
        &a,
        &staff_id,
        default,
    )
    .await?;
    crate::flow::logout::all_sessions_ended(&state, &staff_id)
        .await
        .map_err(ApiError::internal)?;
    Ok(ok(
        json!({"staff_id": staff_id, "reset": true, "mailed": mailed.is_ok()}),
    ))
}
