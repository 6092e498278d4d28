//! A school's groups and pupils as Beheer › Leerlingen manages them: picture passwords (one
//! pupil, or the missing ones of a group), lifting a pupil's pause after wrong pictures, home
//! codes per pupil and per group, and voiding a card. The rules are
//! `crate::school_admin::pupils`'s; a machine client acts for the operator, so for every group.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use directory::people::{Group, Pupil};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, Endpoint, Problem, SchoolAdmin, endpoint, json_answer, json_body};
use crate::app_state::AppState;
use crate::http::extract::Path;
use crate::school_admin::pupils::{
    self as rules, GroupCodes, IssuedCode, LoginMethods, MissingPictures, PupilManager,
    display_name,
};

const MAX_BODY_BYTES: usize = 4 * 1024;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(
            Method::GET,
            "/schools/{school_id}/pupil-login",
            login_methods,
        ),
        endpoint(
            Method::PUT,
            "/schools/{school_id}/pupil-login",
            set_login_methods,
        ),
        endpoint(Method::GET, "/schools/{school_id}/groups", groups),
        endpoint(
            Method::GET,
            "/schools/{school_id}/groups/{group_id}/pupils",
            group_pupils,
        ),
        endpoint(
            Method::POST,
            "/schools/{school_id}/groups/{group_id}/missing-pictures",
            missing_pictures,
        ),
        endpoint(
            Method::POST,
            "/schools/{school_id}/groups/{group_id}/home-codes",
            group_codes,
        ),
        endpoint(
            Method::PUT,
            "/schools/{school_id}/pupils/{pupil_id}/picture",
            set_picture,
        ),
        endpoint(
            Method::POST,
            "/schools/{school_id}/pupils/{pupil_id}/unlock",
            unlock,
        ),
        endpoint(
            Method::POST,
            "/schools/{school_id}/pupils/{pupil_id}/home-code",
            issue_code,
        ),
        endpoint(
            Method::DELETE,
            "/schools/{school_id}/pupils/{pupil_id}/home-code",
            void_code,
        ),
    ]
}

fn methods_json(school: &str, m: LoginMethods) -> Value {
    json!({"school": school, "picture_password": m.picture_password, "home_login": m.home_login})
}

async fn login_methods(SchoolAdmin(a): SchoolAdmin) -> Result<Response, ApiError> {
    Ok(json_answer(
        StatusCode::OK,
        methods_json(
            &a.school.code().to_string(),
            rules::login_methods(&a.school),
        ),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MethodsBody {
    picture_password: bool,
    home_login: bool,
}

async fn set_login_methods(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body: MethodsBody = json_body(
        &headers,
        body,
        MAX_BODY_BYTES,
        "{\"picture_password\": true, \"home_login\": false}",
    )
    .await?;
    let now = rules::set_login_methods(
        &state.directory,
        &a,
        LoginMethods {
            picture_password: body.picture_password,
            home_login: body.home_login,
        },
    )
    .await?;
    Ok(json_answer(
        StatusCode::OK,
        methods_json(&a.school.code().to_string(), now),
    ))
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

async fn groups(a: SchoolAdmin, State(state): State<AppState>) -> Result<Response, ApiError> {
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
    Ok(json_answer(
        StatusCode::OK,
        json!({"school": m.school.code(), "groups": groups}),
    ))
}

async fn group_pupils(
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
    Ok(json_answer(
        StatusCode::OK,
        json!({"group": group_json(&group), "pupils": pupils}),
    ))
}

async fn missing_pictures(
    a: SchoolAdmin,
    State(state): State<AppState>,
    Path((_, group_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let m = manager(&state, &a).await?;
    match rules::give_missing_pictures(&state, &m, &group_id).await? {
        MissingPictures::Given(given) => Ok(json_answer(
            StatusCode::OK,
            json!({"group_id": group_id, "given": given}),
        )),
        MissingPictures::Busy => Err(ApiError::new(
            Problem::Conflict,
            "De plaatjes van deze groep worden al uitgedeeld; probeer het zo nog eens.",
            "This group's pictures are being handed out already; try again in a moment.",
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PictureBody {
    /// A picture of the catalogue by name, or null to remove the pupil's picture.
    picture: Option<String>,
}

async fn set_picture(
    a: SchoolAdmin,
    State(state): State<AppState>,
    Path((_, pupil_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body: PictureBody = json_body(
        &headers,
        body,
        MAX_BODY_BYTES,
        "{\"picture\": \"<naam uit de catalogus>\" | null}",
    )
    .await?;
    let m = manager(&state, &a).await?;
    let pupil =
        rules::set_picture(&state.directory, &m, &pupil_id, body.picture.as_deref()).await?;
    Ok(json_answer(
        StatusCode::OK,
        json!({"id": pupil.id, "picture": body.picture}),
    ))
}

async fn unlock(
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

async fn issue_code(
    a: SchoolAdmin,
    State(state): State<AppState>,
    Path((_, pupil_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let m = manager(&state, &a).await?;
    let issued = rules::issue_home_code(&state, &m, &pupil_id).await?;
    // json_answer marks it no-store: the code and pin must not stay in a cache.
    Ok(json_answer(StatusCode::CREATED, code_json(&state, &issued)))
}

async fn void_code(
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
struct GroupCodesBody {
    /// Confirms that the cards pupils of the group have stop working.
    #[serde(default)]
    void_existing: bool,
}

async fn group_codes(
    a: SchoolAdmin,
    State(state): State<AppState>,
    Path((_, group_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    // No body asks for codes without voiding a card; a body may confirm the voiding.
    let body: GroupCodesBody = if headers.contains_key(axum::http::header::CONTENT_TYPE) {
        json_body(&headers, body, MAX_BODY_BYTES, "{\"void_existing\": true}").await?
    } else {
        GroupCodesBody::default()
    };
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
