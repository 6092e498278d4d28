//! Besturen and scholen: list, add, rename; a school's page with its first ICT-coördinator,
//! created on the board's signed request.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::{Nav, refusal};
use crate::app_state::AppState;
use crate::http::extract::Path;
use crate::http::{Csrf, PageError, Text, csrf_token, page, see_other, url_encode};
use crate::operator_admin::register;
use crate::school_admin::staff::Mailing;
use crate::session::SignedInOperator;

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

async fn render_boards(
    state: &AppState,
    op: &SignedInOperator,
    headers: &HeaderMap,
    refused: Option<(Text, BoardForm)>,
) -> Result<Response, PageError> {
    let d = &state.directory;
    let schools = register::schools(d, &op.operating).await?;
    let boards = register::boards(d, &op.operating)
        .await?
        .into_iter()
        .map(|b| BoardRow {
            schools: schools.iter().filter(|s| s.board_id == b.id).count(),
            nummer: b.bestuursnummer,
            name: b.name,
        })
        .collect();
    let (csrf, set) = csrf_token(&state.web, headers);
    let (status, error, form) = match refused {
        Some((e, f)) => (StatusCode::BAD_REQUEST, Some(e), f),
        None => (StatusCode::OK, None, BoardForm::default()),
    };
    Ok(page(
        status,
        &BoardsPage {
            nav: Nav {
                current: "besturen",
            },
            csrf,
            boards,
            error,
            form,
        },
        set,
    ))
}

pub async fn boards(
    State(state): State<AppState>,
    op: SignedInOperator,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    render_boards(&state, &op, &headers, None).await
}

pub async fn add_board(
    State(state): State<AppState>,
    op: SignedInOperator,
    headers: HeaderMap,
    Csrf(form): Csrf<BoardForm>,
) -> Result<Response, PageError> {
    match register::add_board(
        &state.directory,
        &op.operating,
        &form.bestuursnummer,
        &form.name,
    )
    .await
    {
        Ok(_) => Ok(see_other("/operator/besturen", HeaderMap::new())),
        Err(e) => {
            let text = refusal(e)?;
            render_boards(&state, &op, &headers, Some((text, form))).await
        }
    }
}

#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    name: String,
}

pub async fn rename_board(
    State(state): State<AppState>,
    op: SignedInOperator,
    headers: HeaderMap,
    Path(nummer): Path<String>,
    Csrf(form): Csrf<NameForm>,
) -> Result<Response, PageError> {
    match register::rename_board(&state.directory, &op.operating, &nummer, &form.name).await {
        Ok(_) => Ok(see_other("/operator/besturen", HeaderMap::new())),
        Err(e) => {
            let text = refusal(e)?;
            render_boards(&state, &op, &headers, Some((text, BoardForm::default()))).await
        }
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

async fn render_schools(
    state: &AppState,
    op: &SignedInOperator,
    headers: &HeaderMap,
    refused: Option<(Text, SchoolForm)>,
) -> Result<Response, PageError> {
    let d = &state.directory;
    let boards = register::boards(d, &op.operating).await?;
    let schools = register::schools(d, &op.operating)
        .await?
        .into_iter()
        .map(|s| SchoolRow {
            code: s.code(),
            board: boards
                .iter()
                .find(|b| b.id == s.board_id)
                .map(|b| format!("{} ({})", b.name, b.bestuursnummer))
                .unwrap_or_default(),
            name: s.name,
            active: s.active && s.merged_into.is_none(),
        })
        .collect();
    let (csrf, set) = csrf_token(&state.web, headers);
    let (status, error, form) = match refused {
        Some((e, f)) => (StatusCode::BAD_REQUEST, Some(e), f),
        None => (StatusCode::OK, None, SchoolForm::default()),
    };
    Ok(page(
        status,
        &SchoolsPage {
            nav: Nav { current: "scholen" },
            csrf,
            schools,
            boards: boards
                .into_iter()
                .map(|b| (b.bestuursnummer, b.name))
                .collect(),
            error,
            form,
        },
        set,
    ))
}

pub async fn schools(
    State(state): State<AppState>,
    op: SignedInOperator,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    render_schools(&state, &op, &headers, None).await
}

pub async fn add_school(
    State(state): State<AppState>,
    op: SignedInOperator,
    headers: HeaderMap,
    Csrf(form): Csrf<SchoolForm>,
) -> Result<Response, PageError> {
    let new = register::NewLocation {
        bestuursnummer: &form.bestuursnummer,
        brin: &form.brin,
        vestigingscode: &form.vestigingscode,
        name: &form.name,
    };
    match register::add_school(&state.directory, &op.operating, &new).await {
        Ok(s) => Ok(see_other(
            &format!("/operator/scholen/{}", url_encode(&s.code())),
            HeaderMap::new(),
        )),
        Err(e) => {
            let text = refusal(e)?;
            render_schools(&state, &op, &headers, Some((text, form))).await
        }
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
    #[serde(default)]
    roepnaam: String,
    #[serde(default)]
    voorvoegsel: String,
    #[serde(default)]
    achternaam: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    requested_by: String,
    #[serde(default)]
    document_ref: String,
}

#[derive(Deserialize)]
pub struct SchoolQuery {
    melding: Option<String>,
}

async fn render_school(
    state: &AppState,
    op: &SignedInOperator,
    headers: &HeaderMap,
    code: &str,
    notice: Option<Text>,
    refused: Option<(Text, FirstIctForm)>,
) -> Result<Response, PageError> {
    let d = &state.directory;
    let school = register::school(d, &op.operating, code).await?;
    let board = register::boards(d, &op.operating)
        .await?
        .into_iter()
        .find(|b| b.id == school.board_id)
        .map(|b| format!("{} ({})", b.name, b.bestuursnummer))
        .unwrap_or_default();
    let first_icts = register::first_icts(d, &op.operating, &school)
        .await?
        .into_iter()
        .map(|(r, staff)| FirstIctRow {
            name: staff
                .as_ref()
                .map(|s| {
                    [
                        s.roepnaam.as_deref(),
                        s.voorvoegsel.as_deref(),
                        Some(&s.achternaam),
                    ]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ")
                })
                .unwrap_or_default(),
            email: staff.and_then(|s| s.email).unwrap_or_default(),
            requested_by: r.requested_by,
            document_ref: r.document_ref,
            approved_by: r.approved_by,
            at: directory::model::netherlands_clock(r.created_at),
        })
        .collect();
    let has_ict = !d.administrators_of(&school.id).await?.is_empty();
    let (csrf, set) = csrf_token(&state.web, headers);
    let (status, error, form) = match refused {
        Some((e, f)) => (StatusCode::BAD_REQUEST, Some(e), f),
        None => (StatusCode::OK, None, FirstIctForm::default()),
    };
    Ok(page(
        status,
        &SchoolPage {
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
        },
        set,
    ))
}

pub async fn school(
    State(state): State<AppState>,
    op: SignedInOperator,
    headers: HeaderMap,
    Path(code): Path<String>,
    crate::http::extract::Query(q): crate::http::extract::Query<SchoolQuery>,
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
    render_school(&state, &op, &headers, &code, notice, None).await
}

pub async fn rename_school(
    State(state): State<AppState>,
    op: SignedInOperator,
    headers: HeaderMap,
    Path(code): Path<String>,
    Csrf(form): Csrf<NameForm>,
) -> Result<Response, PageError> {
    match register::rename_school(&state.directory, &op.operating, &code, &form.name).await {
        Ok(s) => Ok(see_other(
            &format!(
                "/operator/scholen/{}?melding=hernoemd",
                url_encode(&s.code())
            ),
            HeaderMap::new(),
        )),
        Err(e) => {
            let text = refusal(e)?;
            render_school(
                &state,
                &op,
                &headers,
                &code,
                None,
                Some((text, FirstIctForm::default())),
            )
            .await
        }
    }
}

pub async fn first_ict(
    State(state): State<AppState>,
    op: SignedInOperator,
    headers: HeaderMap,
    Path(code): Path<String>,
    Csrf(form): Csrf<FirstIctForm>,
) -> Result<Response, PageError> {
    let mailing = Mailing {
        mailer: &state.mailer,
        public_url: &state.web.public_url,
    };
    let request = register::FirstIctForm {
        roepnaam: &form.roepnaam,
        voorvoegsel: &form.voorvoegsel,
        achternaam: &form.achternaam,
        email: &form.email,
        requested_by: &form.requested_by,
        document_ref: &form.document_ref,
    };
    match register::first_ict(&state.directory, &mailing, &op.operating, &code, &request).await {
        Ok((_, _, sent)) => {
            let melding = if sent.is_ok() {
                "gemaild"
            } else {
                "niet-gemaild"
            };
            Ok(see_other(
                &format!("/operator/scholen/{}?melding={melding}", url_encode(&code)),
                HeaderMap::new(),
            ))
        }
        Err(e) => {
            let text = refusal(e)?;
            render_school(&state, &op, &headers, &code, None, Some((text, form))).await
        }
    }
}
