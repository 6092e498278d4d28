//! Besturen and scholen: list, add, rename; a school's page with its first ICT-coördinator,
//! created on the board's signed request.

use askama::Template;
use axum::response::Response;
use directory::schools::Board;
use serde::Deserialize;

use super::{Desk, NameForm, Nav, again};
use crate::http::extract::{Path, Query};
use crate::http::{Csrf, FormView, NoticeQuery, PageError, Text, see, url_encode};
use crate::operator_admin::register;
use crate::web::{PersonForm, mailing};

pub struct BoardRow {
    nummer: String,
    name: String,
    schools: usize,
}

#[derive(Template)]
#[template(path = "operator_besturen.html")]
struct BoardsPage {
    nav: Nav,
    csrf: String,
    boards: Vec<BoardRow>,
    error: Option<Text>,
    form: BoardForm,
}

#[derive(Default, Deserialize)]
pub struct BoardForm {
    #[serde(default)]
    bestuursnummer: String,
    #[serde(default)]
    name: String,
}

const BOARDS: &str = "/operator/besturen";

async fn render_boards(desk: Desk, view: FormView<BoardForm>) -> Result<Response, PageError> {
    let (d, op) = (desk.directory(), &desk.operating);
    let schools = register::schools(d, op).await?;
    let boards = register::boards(d, op)
        .await?
        .into_iter()
        .map(|b| BoardRow {
            schools: schools.iter().filter(|s| s.board_id == b.id).count(),
            nummer: b.bestuursnummer,
            name: b.name,
        })
        .collect();
    Ok(desk.form_page(view, |csrf, error, form| BoardsPage {
        nav: Nav {
            current: "besturen",
        },
        csrf,
        boards,
        error,
        form,
    }))
}

pub async fn boards(desk: Desk) -> Result<Response, PageError> {
    render_boards(desk, FormView::default()).await
}

pub async fn add_board(desk: Desk, Csrf(form): Csrf<BoardForm>) -> Result<Response, PageError> {
    let (d, op) = (desk.directory(), &desk.operating);
    match register::add_board(d, op, &form.bestuursnummer, &form.name).await {
        Ok(_) => Ok(see(BOARDS)),
        Err(e) => render_boards(desk, again(e, form)?).await,
    }
}

pub async fn rename_board(
    desk: Desk,
    Path(nummer): Path<String>,
    Csrf(form): Csrf<NameForm>,
) -> Result<Response, PageError> {
    let (d, op) = (desk.directory(), &desk.operating);
    match register::rename_board(d, op, &nummer, &form.name).await {
        Ok(_) => Ok(see(BOARDS)),
        Err(e) => render_boards(desk, again(e, BoardForm::default())?).await,
    }
}

pub struct SchoolRow {
    code: String,
    name: String,
    board: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "operator_scholen.html")]
struct SchoolsPage {
    nav: Nav,
    csrf: String,
    schools: Vec<SchoolRow>,
    boards: Vec<(String, String)>,
    error: Option<Text>,
    form: SchoolForm,
}

#[derive(Default, Deserialize)]
pub struct SchoolForm {
    #[serde(default)]
    bestuursnummer: String,
    #[serde(default)]
    brin: String,
    #[serde(default)]
    vestigingscode: String,
    #[serde(default)]
    name: String,
}

fn school_path(code: &str) -> String {
    format!("/operator/scholen/{}", url_encode(code))
}

/// A board as the school pages name it.
fn board_label(b: &Board) -> String {
    format!("{} ({})", b.name, b.bestuursnummer)
}

async fn render_schools(desk: Desk, view: FormView<SchoolForm>) -> Result<Response, PageError> {
    let (d, op) = (desk.directory(), &desk.operating);
    let boards = register::boards(d, op).await?;
    let schools = register::schools(d, op)
        .await?
        .into_iter()
        .map(|s| SchoolRow {
            code: s.code(),
            board: boards
                .iter()
                .find(|b| b.id == s.board_id)
                .map(board_label)
                .unwrap_or_default(),
            name: s.name,
            active: s.active && s.merged_into.is_none(),
        })
        .collect();
    Ok(desk.form_page(view, |csrf, error, form| SchoolsPage {
        nav: Nav { current: "scholen" },
        csrf,
        schools,
        boards: boards
            .into_iter()
            .map(|b| (b.bestuursnummer, b.name))
            .collect(),
        error,
        form,
    }))
}

pub async fn schools(desk: Desk) -> Result<Response, PageError> {
    render_schools(desk, FormView::default()).await
}

pub async fn add_school(desk: Desk, Csrf(form): Csrf<SchoolForm>) -> Result<Response, PageError> {
    let new = register::NewLocation {
        bestuursnummer: &form.bestuursnummer,
        brin: &form.brin,
        vestigingscode: &form.vestigingscode,
        name: &form.name,
    };
    match register::add_school(desk.directory(), &desk.operating, &new).await {
        Ok(s) => Ok(see(&school_path(&s.code()))),
        Err(e) => render_schools(desk, again(e, form)?).await,
    }
}

pub struct FirstIctRow {
    name: String,
    email: String,
    requested_by: String,
    document_ref: String,
    approved_by: String,
    at: String,
}

#[derive(Template)]
#[template(path = "operator_school.html")]
struct SchoolPage {
    nav: Nav,
    csrf: String,
    code: String,
    name: String,
    board: String,
    first_icts: Vec<FirstIctRow>,
    has_ict: bool,
    error: Option<Text>,
    notice: Option<Text>,
    form: FirstIctForm,
}

#[derive(Default, Deserialize)]
pub struct FirstIctForm {
    #[serde(flatten)]
    person: PersonForm,
    #[serde(default)]
    requested_by: String,
    #[serde(default)]
    document_ref: String,
}

/// A staff member's name as the school page lists it.
fn full_name(s: &directory::people::Staff) -> String {
    [
        s.roepnaam.as_deref(),
        s.voorvoegsel.as_deref(),
        Some(&s.achternaam),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ")
}

async fn render_school(
    desk: Desk,
    code: &str,
    notice: Option<Text>,
    view: FormView<FirstIctForm>,
) -> Result<Response, PageError> {
    let (d, op) = (desk.directory(), &desk.operating);
    let school = register::school(d, op, code).await?;
    let board = register::boards(d, op)
        .await?
        .iter()
        .find(|b| b.id == school.board_id)
        .map(board_label)
        .unwrap_or_default();
    let first_icts = register::first_icts(d, op, &school)
        .await?
        .into_iter()
        .map(|(r, staff)| FirstIctRow {
            name: staff.as_ref().map(full_name).unwrap_or_default(),
            email: staff.and_then(|s| s.email).unwrap_or_default(),
            requested_by: r.requested_by,
            document_ref: r.document_ref,
            approved_by: r.approved_by,
            at: directory::model::netherlands_clock(r.created_at),
        })
        .collect();
    let has_ict = !d.administrators_of(&school.id).await?.is_empty();
    Ok(desk.form_page(view, |csrf, error, form| SchoolPage {
        nav: Nav { current: "scholen" },
        csrf,
        code: school.code(),
        name: school.name,
        board,
        first_icts,
        has_ict,
        error,
        notice,
        form,
    }))
}

pub async fn school(
    desk: Desk,
    Path(code): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    // Fixed texts only: the query names one, it never carries the text itself.
    let notice = match q.melding.as_deref() {
        Some("gemaild") => Some(Text::new(
            "De eerste ICT-coördinator is toegevoegd en heeft de activeringslink gemaild gekregen.",
            "The first ICT coordinator was added and was mailed the activation link.",
        )),
        Some("niet-gemaild") => Some(Text::new(
            "De eerste ICT-coördinator is toegevoegd, maar de mail met de activeringslink is niet verstuurd. Stuur de uitnodiging opnieuw met openpoort staff invite.",
            "The first ICT coordinator was added, but the mail with the activation link was not sent. Send the invitation again with openpoort staff invite.",
        )),
        Some("hernoemd") => Some(Text::new("De naam is gewijzigd.", "The name was changed.")),
        _ => None,
    };
    render_school(desk, &code, notice, FormView::default()).await
}

pub async fn rename_school(
    desk: Desk,
    Path(code): Path<String>,
    Csrf(form): Csrf<NameForm>,
) -> Result<Response, PageError> {
    let (d, op) = (desk.directory(), &desk.operating);
    match register::rename_school(d, op, &code, &form.name).await {
        Ok(s) => Ok(see(&format!("{}?melding=hernoemd", school_path(&s.code())))),
        Err(e) => render_school(desk, &code, None, again(e, FirstIctForm::default())?).await,
    }
}

pub async fn first_ict(
    desk: Desk,
    Path(code): Path<String>,
    Csrf(form): Csrf<FirstIctForm>,
) -> Result<Response, PageError> {
    let mailing = mailing(&desk.state);
    let request = register::FirstIctForm {
        person: form.person.person(),
        requested_by: &form.requested_by,
        document_ref: &form.document_ref,
    };
    let (d, op) = (desk.directory(), &desk.operating);
    match register::first_ict(d, &mailing, op, &code, &request).await {
        Ok((_, _, sent)) => {
            let melding = if sent.is_ok() {
                "gemaild"
            } else {
                "niet-gemaild"
            };
            Ok(see(&format!("{}?melding={melding}", school_path(&code))))
        }
        Err(e) => render_school(desk, &code, None, again(e, form)?).await,
    }
}
