//! What the operator does on the `/operator` pages, for the operator's own tooling: the outage
//! notice, boards, school locations and a school's first ICT-coördinator. The rules are
//! `crate::operator_admin`'s, the same as the pages' and the CLI's.

use axum::body::Body;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use directory::model::netherlands_clock;
use directory::pupil_login::Notice;
use directory::schools::{Board, School};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Admin, ApiError, Endpoint, created, endpoint, json_answer, json_body};
use crate::app_state::AppState;
use crate::http::extract::Path;
use crate::operator_admin::{Operating, notice, register};
use crate::school_admin::staff::Mailing;

const MAX_BODY_BYTES: usize = 16 * 1024;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(Method::GET, "/notice", get_notice),
        endpoint(Method::PUT, "/notice", put_notice),
        endpoint(Method::DELETE, "/notice", delete_notice),
        endpoint(Method::GET, "/boards", list_boards),
        endpoint(Method::POST, "/boards", add_board),
        endpoint(Method::PUT, "/boards/{bestuursnummer}", rename_board),
        endpoint(Method::GET, "/schools", list_schools),
        endpoint(Method::POST, "/schools", add_school),
        endpoint(Method::GET, "/schools/{school_id}", get_school),
        endpoint(Method::PUT, "/schools/{school_id}", rename_school),
        endpoint(
            Method::POST,
            "/schools/{school_id}/first-ict-coordinator",
            first_ict,
        ),
    ]
}

/// An admin API client, acting as the operator.
pub struct Operator(pub Operating);

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let admin = Admin::from_request_parts(parts, state).await?;
        Ok(Operator(Operating::trusted(admin.actor)))
    }
}

fn notice_json(n: Option<Notice>) -> Value {
    match n {
        None => json!({"notice": null}),
        Some(n) => json!({"notice": {
            "text": n.nl,
            "text_en": n.en,
            "until": n.until,
            "until_dutch_time": n.until.map(netherlands_clock),
            "shown": n.shown_at(crate::clock::unix_now()),
        }}),
    }
}

async fn get_notice(
    Operator(op): Operator,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let n = notice::current(&state.directory, &op).await?;
    Ok(json_answer(StatusCode::OK, notice_json(n)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewNotice {
    text: String,
    text_en: String,
    #[serde(default)]
    until: String,
}

async fn put_notice(
    Operator(op): Operator,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let new: NewNotice = json_body(
        &headers,
        body,
        MAX_BODY_BYTES,
        "{\"text\": …, \"text_en\": …, \"until\": \"YYYY-MM-DD HH:MM\" (optional)}",
    )
    .await?;
    let n = notice::set(&state.directory, &op, &new.text, &new.text_en, &new.until).await?;
    Ok(json_answer(StatusCode::OK, notice_json(Some(n))))
}

async fn delete_notice(
    Operator(op): Operator,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    notice::clear(&state.directory, &op).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn board_json(b: &Board) -> Value {
    json!({"id": b.id, "bestuursnummer": b.bestuursnummer, "name": b.name})
}

fn school_json(s: &School, board: Option<&Board>) -> Value {
    json!({
        "id": s.id,
        "code": s.code(),
        "brin": s.brin,
        "vestigingscode": s.vestigingscode,
        "name": s.name,
        "bestuursnummer": board.map(|b| b.bestuursnummer.as_str()),
        "active": s.active && s.merged_into.is_none(),
    })
}

async fn list_boards(
    Operator(op): Operator,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let boards: Vec<Value> = register::boards(&state.directory, &op)
        .await?
        .iter()
        .map(board_json)
        .collect();
    Ok(json_answer(StatusCode::OK, json!({"boards": boards})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewBoard {
    bestuursnummer: String,
    name: String,
}

async fn add_board(
    Operator(op): Operator,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let new: NewBoard = json_body(
        &headers,
        body,
        MAX_BODY_BYTES,
        "{\"bestuursnummer\": …, \"name\": …}",
    )
    .await?;
    let b = register::add_board(&state.directory, &op, &new.bestuursnummer, &new.name).await?;
    Ok(created(
        &state,
        &format!("/boards/{}", b.bestuursnummer),
        board_json(&b),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Name {
    name: String,
}

async fn rename_board(
    Operator(op): Operator,
    State(state): State<AppState>,
    Path(nummer): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let new: Name = json_body(&headers, body, MAX_BODY_BYTES, "{\"name\": …}").await?;
    let b = register::rename_board(&state.directory, &op, &nummer, &new.name).await?;
    Ok(json_answer(StatusCode::OK, board_json(&b)))
}

async fn list_schools(
    Operator(op): Operator,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let d = &state.directory;
    let boards = register::boards(d, &op).await?;
    let schools: Vec<Value> = register::schools(d, &op)
        .await?
        .iter()
        .map(|s| school_json(s, boards.iter().find(|b| b.id == s.board_id)))
        .collect();
    Ok(json_answer(StatusCode::OK, json!({"schools": schools})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSchool {
    bestuursnummer: String,
    brin: String,
    vestigingscode: String,
    name: String,
}

async fn add_school(
    Operator(op): Operator,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let new: NewSchool = json_body(
        &headers,
        body,
        MAX_BODY_BYTES,
        "{\"bestuursnummer\": …, \"brin\": …, \"vestigingscode\": …, \"name\": …}",
    )
    .await?;
    let location = register::NewLocation {
        bestuursnummer: &new.bestuursnummer,
        brin: &new.brin,
        vestigingscode: &new.vestigingscode,
        name: &new.name,
    };
    let s = register::add_school(&state.directory, &op, &location).await?;
    let board = register::board(&state.directory, &op, &new.bestuursnummer).await?;
    Ok(created(
        &state,
        &format!("/schools/{}", s.code()),
        school_json(&s, Some(&board)),
    ))
}

/// The school with its board and its first ICT-coördinators on record.
async fn school_answer(state: &AppState, op: &Operating, s: &School) -> Result<Value, ApiError> {
    let d = &state.directory;
    let boards = register::boards(d, op).await?;
    let mut answer = school_json(s, boards.iter().find(|b| b.id == s.board_id));
    let firsts: Vec<Value> = register::first_icts(d, op, s)
        .await?
        .into_iter()
        .map(|(r, staff)| {
            json!({
                "staff_id": r.staff_id,
                "email": staff.and_then(|s| s.email),
                "requested_by": r.requested_by,
                "document_ref": r.document_ref,
                "approved_by": r.approved_by,
                "created_at": r.created_at,
            })
        })
        .collect();
    answer["first_ict_coordinators"] = Value::Array(firsts);
    Ok(answer)
}

async fn get_school(
    Operator(op): Operator,
    State(state): State<AppState>,
    Path(reference): Path<String>,
) -> Result<Response, ApiError> {
    let s = super::school(&state, &reference).await?;
    Ok(json_answer(
        StatusCode::OK,
        school_answer(&state, &op, &s).await?,
    ))
}

async fn rename_school(
    Operator(op): Operator,
    State(state): State<AppState>,
    Path(reference): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let s = super::school(&state, &reference).await?;
    let new: Name = json_body(&headers, body, MAX_BODY_BYTES, "{\"name\": …}").await?;
    let s = register::rename_school(&state.directory, &op, &s.code(), &new.name).await?;
    Ok(json_answer(
        StatusCode::OK,
        school_answer(&state, &op, &s).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FirstIct {
    email: String,
    achternaam: String,
    #[serde(default)]
    voorvoegsel: String,
    #[serde(default)]
    roepnaam: String,
    requested_by: String,
    document_ref: String,
}

async fn first_ict(
    Operator(op): Operator,
    State(state): State<AppState>,
    Path(reference): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let s = super::school(&state, &reference).await?;
    let new: FirstIct = json_body(
        &headers,
        body,
        MAX_BODY_BYTES,
        "{\"email\": …, \"achternaam\": …, \"roepnaam\": …, \"voorvoegsel\": …, \"requested_by\": …, \"document_ref\": …}",
    )
    .await?;
    let mailing = Mailing {
        mailer: &state.mailer,
        public_url: &state.web.public_url,
    };
    let form = register::FirstIctForm {
        roepnaam: &new.roepnaam,
        voorvoegsel: &new.voorvoegsel,
        achternaam: &new.achternaam,
        email: &new.email,
        requested_by: &new.requested_by,
        document_ref: &new.document_ref,
    };
    let (staff, record, sent) =
        register::first_ict(&state.directory, &mailing, &op, &s.code(), &form).await?;
    Ok(created(
        &state,
        &format!("/schools/{}/staff/{}", s.code(), staff.id),
        json!({
            "staff_id": staff.id,
            "email": staff.email,
            "requested_by": record.requested_by,
            "document_ref": record.document_ref,
            "approved_by": record.approved_by,
            "created_at": record.created_at,
            "activation_mailed": sent.is_ok(),
        }),
    ))
}
