//! A school's groups and pupils as Beheer › Leerlingen manages them: picture passwords (one
//! pupil, or the missing ones of a group), lifting a pupil's pause after wrong pictures, home
//! codes per pupil and per group, and voiding a card. The rules are
//! `crate::school_admin::pupils`'s; a machine client acts for the operator, so for every group.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use directory::people::{Group, Pupil};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, JsonBody, JsonShape, Problem, SchoolAdmin, json_answer, ok};
use crate::app_state::AppState;
use crate::http::extract::Path;
use crate::school_admin::pupils::{
    self as rules, GroupCodes, IssuedCode, LoginMethods, MissingPictures, PupilManager,
    display_name,
};

const MAX_BODY_BYTES: usize = 4 * 1024;

fn methods_json(school: &str, m: LoginMethods) -> Value {
    json!({"school": school, "picture_password": m.picture_password, "home_login": m.home_login})
}

pub async fn login_methods(SchoolAdmin(a): SchoolAdmin) -> Result<Response, ApiError> {
    let methods = rules::login_methods(&a.school);
    Ok(ok(methods_json(&a.school.code().to_string(), methods)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MethodsBody {
    picture_password: bool,
    home_login: bool,
}

impl JsonShape for MethodsBody {
    const LIMIT: usize = MAX_BODY_BYTES;
    const SHAPE: &'static str = "{\"picture_password\": true, \"home_login\": false}";
}

pub async fn set_login_methods(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<MethodsBody>,
) -> Result<Response, ApiError> {
    let now = rules::set_login_methods(
        &state.directory,
        &a,
        LoginMethods {
            picture_password: body.picture_password,
            home_login: body.home_login,
        },
    )
    .await?;
    Ok(ok(methods_json(&a.school.code().to_string(), now)))
}

fn group_json(g: &Group) -> Value {
    json!({
        "id": g.id,
        "las_key": g.las_key,
        "name": g.name,
        "kind": g.kind.as_str(),
        "jaargroep": g.jaargroep,
    })
}

fn pupil_ref(p: &Pupil) -> Value {
    json!({"id": p.id, "name": display_name(p)})
}

async fn manager(state: &AppState, a: &SchoolAdmin) -> Result<PupilManager, ApiError> {
    Ok(PupilManager::administrator(&state.directory, &a.0).await?)
}

pub async fn groups(a: SchoolAdmin, State(state): State<AppState>) -> Result<Response, ApiError> {
    let m = manager(&state, &a).await?;
    let groups: Vec<Value> = rules::groups(&state.directory, &m)
        .await?
        .iter()
        .map(|(g, pupils)| {
            let mut v = group_json(g);
            v["pupils"] = json!(pupils.len());
            v
        })
        .collect();
    Ok(ok(json!({"school": m.school.code(), "groups": groups})))
}

pub async fn group_pupils(
    a: SchoolAdmin,
    State(state): State<AppState>,
    Path((_, group_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let m = manager(&state, &a).await?;
    let (group, pupils) = rules::group_pupils(&state, &m, &group_id).await?;
    let pupils: Vec<Value> = pupils
        .iter()
        .map(|p| {
            json!({
                "id": p.pupil.id,
                "las_key": p.pupil.las_key,
                "name": display_name(&p.pupil),
                "picture": p.picture,
                "has_home_code": p.has_home_code,
                "locked": p.locked,
            })
        })
        .collect();
    Ok(ok(json!({"group": group_json(&group), "pupils": pupils})))
}

pub async fn missing_pictures(
    a: SchoolAdmin,
    State(state): State<AppState>,
    Path((_, group_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let m = manager(&state, &a).await?;
    match rules::give_missing_pictures(&state, &m, &group_id).await? {
        MissingPictures::Given(given) => Ok(ok(json!({"group_id": group_id, "given": given}))),
        MissingPictures::Busy => Err(ApiError::new(
            Problem::Conflict,
            "De plaatjes van deze groep worden al uitgedeeld; probeer het zo nog eens.",
            "This group's pictures are being handed out already; try again in a moment.",
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PictureBody {
    /// A picture of the catalogue by name, or null to remove the pupil's picture.
    picture: Option<String>,
}

impl JsonShape for PictureBody {
    const LIMIT: usize = MAX_BODY_BYTES;
    const SHAPE: &'static str = "{\"picture\": \"<naam uit de catalogus>\" | null}";
}

pub async fn set_picture(
    a: SchoolAdmin,
    State(state): State<AppState>,
    Path((_, pupil_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<PictureBody>,
) -> Result<Response, ApiError> {
    let m = manager(&state, &a).await?;
    let pupil =
        rules::set_picture(&state.directory, &m, &pupil_id, body.picture.as_deref()).await?;
    Ok(ok(json!({"id": pupil.id, "picture": body.picture})))
}

pub async fn unlock(
    a: SchoolAdmin,
    State(state): State<AppState>,
    Path((_, pupil_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let m = manager(&state, &a).await?;
    rules::unlock(&state, &m, &pupil_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A code as the caller hands it to the pupil: the only time the plain code and pin exist.
fn code_json(state: &AppState, i: &IssuedCode) -> Value {
    json!({
        "pupil": pupil_ref(&i.pupil),
        "code": i.code,
        "pin": i.pin,
        "url": format!("{}/thuis?code={}", state.web.public_url, i.code),
    })
}

pub async fn issue_code(
    a: SchoolAdmin,
    State(state): State<AppState>,
    Path((_, pupil_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let m = manager(&state, &a).await?;
    let issued = rules::issue_home_code(&state, &m, &pupil_id).await?;
    // json_answer marks it no-store: the code and pin must not stay in a cache.
    Ok(json_answer(StatusCode::CREATED, code_json(&state, &issued)))
}

pub async fn void_code(
    a: SchoolAdmin,
    State(state): State<AppState>,
    Path((_, pupil_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let m = manager(&state, &a).await?;
    rules::void_home_code(&state.directory, &m, &pupil_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct GroupCodesBody {
    /// Confirms that the cards pupils of the group have stop working.
    #[serde(default)]
    void_existing: bool,
}

impl JsonShape for GroupCodesBody {
    const LIMIT: usize = MAX_BODY_BYTES;
    const SHAPE: &'static str = "{\"void_existing\": true}";
}

pub async fn group_codes(
    a: SchoolAdmin,
    State(state): State<AppState>,
    Path((_, group_id)): Path<(String, String)>,
    body: Option<JsonBody<GroupCodesBody>>,
) -> Result<Response, ApiError> {
    // No body asks for codes without voiding a card; a body may confirm the voiding.
    let body = body.map(|JsonBody(b)| b).unwrap_or_default();
    let m = manager(&state, &a).await?;
    match rules::issue_group_codes(&state, &m, &group_id, body.void_existing).await? {
        GroupCodes::Confirm { voided, .. } => {
            let names: Vec<String> = voided.iter().map(display_name).collect();
            Err(ApiError::new(
                Problem::Conflict,
                format!(
                    "{} leerling(en) van deze groep hebben al een thuiscode ({}); hun kaart werkt \
                     niet meer na nieuwe codes. Stuur {{\"void_existing\": true}} om dat te bevestigen.",
                    names.len(),
                    names.join(", ")
                ),
                format!(
                    "{} pupil(s) of this group have a home code already ({}); their card stops \
                     working with new codes. Send {{\"void_existing\": true}} to confirm.",
                    names.len(),
                    names.join(", ")
                ),
            ))
        }
        GroupCodes::Issued(issued) => {
            let codes: Vec<Value> = issued.iter().map(|i| code_json(&state, i)).collect();
            Ok(json_answer(
                StatusCode::CREATED,
                json!({"group_id": group_id, "codes": codes}),
            ))
        }
    }
}
