//! What the operator does on the `/operator` pages, for the operator's own tooling: the outage
//! notice, boards, school locations and a school's first ICT-coördinator. The rules are
//! `crate::operator_admin`'s, the same as the pages' and the CLI's.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use directory::model::netherlands_clock;
use directory::pupil_login::Notice;
use directory::schools::{Board, School};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    ApiError, JsonBody, JsonShape, Name, Operator, SchoolAdmin, created, list_of, mailing, ok,
};
use crate::app_state::AppState;
use crate::http::extract::Path;
use crate::operator_admin::{Operating, notice, register};
use crate::school_admin::staff::NewPerson;

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

pub async fn get_notice(
    Operator(op): Operator,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let n = notice::current(&state.directory, &op).await?;
    Ok(ok(notice_json(n)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewNotice {
    text: String,
    text_en: String,
    #[serde(default)]
    until: String,
}

impl JsonShape for NewNotice {
    const SHAPE: &'static str =
        "{\"text\": …, \"text_en\": …, \"until\": \"YYYY-MM-DD HH:MM\" (optional)}";
}

pub async fn put_notice(
    Operator(op): Operator,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<NewNotice>,
) -> Result<Response, ApiError> {
    let n = notice::set(&state.directory, &op, &new.text, &new.text_en, &new.until).await?;
    Ok(ok(notice_json(Some(n))))
}

pub async fn delete_notice(
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

pub async fn list_boards(
    Operator(op): Operator,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let boards = register::boards(&state.directory, &op).await?;
    Ok(list_of("boards", boards.iter().map(board_json)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewBoard {
    bestuursnummer: String,
    name: String,
}

impl JsonShape for NewBoard {
    const SHAPE: &'static str = "{\"bestuursnummer\": …, \"name\": …}";
}

pub async fn add_board(
    Operator(op): Operator,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<NewBoard>,
) -> Result<Response, ApiError> {
    let b = register::add_board(&state.directory, &op, &new.bestuursnummer, &new.name).await?;
    Ok(created(
        &state,
        &format!("/boards/{}", b.bestuursnummer),
        board_json(&b),
    ))
}

pub async fn rename_board(
    Operator(op): Operator,
    State(state): State<AppState>,
    Path(nummer): Path<String>,
    JsonBody(new): JsonBody<Name>,
) -> Result<Response, ApiError> {
    let b = register::rename_board(&state.directory, &op, &nummer, &new.name).await?;
    Ok(ok(board_json(&b)))
}

pub async fn list_schools(
    Operator(op): Operator,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let d = &state.directory;
    let boards = register::boards(d, &op).await?;
    let schools = register::schools(d, &op).await?;
    let schools = schools
        .iter()
        .map(|s| school_json(s, boards.iter().find(|b| b.id == s.board_id)));
    Ok(list_of("schools", schools))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewSchool {
    bestuursnummer: String,
    brin: String,
    vestigingscode: String,
    name: String,
}

impl JsonShape for NewSchool {
    const SHAPE: &'static str =
        "{\"bestuursnummer\": …, \"brin\": …, \"vestigingscode\": …, \"name\": …}";
}

pub async fn add_school(
    Operator(op): Operator,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<NewSchool>,
) -> Result<Response, ApiError> {
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

pub async fn get_school(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let op = Operating::trusted(a.actor);
    Ok(ok(school_answer(&state, &op, &a.school).await?))
}

pub async fn rename_school(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<Name>,
) -> Result<Response, ApiError> {
    let op = Operating::trusted(a.actor);
    let s = register::rename_school(&state.directory, &op, &a.school.code(), &new.name).await?;
    Ok(ok(school_answer(&state, &op, &s).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FirstIct {
    email: String,
    achternaam: String,
    #[serde(default)]
    voorvoegsel: String,
    #[serde(default)]
    roepnaam: String,
    requested_by: String,
    document_ref: String,
}

impl JsonShape for FirstIct {
    const SHAPE: &'static str = "{\"email\": …, \"achternaam\": …, \"roepnaam\": …, \"voorvoegsel\": …, \"requested_by\": …, \"document_ref\": …}";
}

pub async fn first_ict(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<FirstIct>,
) -> Result<Response, ApiError> {
    let op = Operating::trusted(a.actor);
    let s = a.school;
    let form = register::FirstIctForm {
        person: NewPerson {
            roepnaam: &new.roepnaam,
            voorvoegsel: &new.voorvoegsel,
            achternaam: &new.achternaam,
            email: &new.email,
        },
        requested_by: &new.requested_by,
        document_ref: &new.document_ref,
    };
    let (staff, record, sent) =
        register::first_ict(&state.directory, &mailing(&state), &op, &s.code(), &form).await?;
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
