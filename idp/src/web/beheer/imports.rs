//! Gebruikersgegevens: where the school's pupils, groups and teachers come from. An EDEXML file
//! exported from the LAS, uploaded, shown as the difference it makes and then applied; or the
//! link that pulls the file from the LAS every night. ICT-coördinator only.

use askama::Template;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use directory::edexml::Problem;
use directory::las::{LasLink, LasVendor, PullStatus};

use super::{Nav, SchoolAdmin};
use crate::app_state::AppState;
use crate::http::{Csrf, NoFields, PageError, Text, csrf_ok, see};
use crate::school_admin::imports::{self, Difference, Preview};
use crate::school_admin::{AdminError, las};
use directory::model::netherlands_clock;

const PATH: &str = "/beheer/gebruikersgegevens";

/// Room for the form's other fields and the multipart framing around the file.
const FORM_OVERHEAD: usize = 64 * 1024;

pub struct LasView {
    vendor: &'static str,
    endpoint: String,
    school_on: bool,
    /// What the LAS said of the key at the last pull that got an answer.
    accepted: Option<bool>,
    active: bool,
    last_attempt: Option<String>,
    last_status: Option<Text>,
    last_message: Option<String>,
    last_success: Option<String>,
}

fn status_text(s: PullStatus) -> Text {
    match s {
        PullStatus::Ok => Text::new("gelukt", "succeeded"),
        PullStatus::Refused => Text::new("het LAS weigerde de sleutel", "the LAS refused the key"),
        PullStatus::Unreachable => Text::new(
            "het LAS was niet bereikbaar",
            "the LAS could not be reached",
        ),
        PullStatus::BadFile => Text::new(
            "het LAS leverde geen bruikbaar bestand",
            "the LAS delivered no usable file",
        ),
        PullStatus::TooLarge => Text::new("het bestand was te groot", "the file was too large"),
        PullStatus::ImportFailed => Text::new(
            "het bestand kon niet worden ingelezen",
            "the file could not be imported",
        ),
    }
}

impl LasView {
    fn of(link: LasLink) -> LasView {
        LasView {
            vendor: link.vendor.display_name(),
            endpoint: link.endpoint.to_string(),
            school_on: link.enabled_by_school,
            accepted: link.accepted_by_las,
            active: link.is_active(),
            last_attempt: link.last_attempt_at.map(netherlands_clock),
            last_status: link.last_status.map(status_text),
            last_message: link.last_message,
            last_success: link.last_success_at.map(netherlands_clock),
        }
    }
}

#[derive(Template)]
#[template(path = "beheer_gebruikersgegevens.html")]
struct DataPage {
    nav: Nav,
    csrf: String,
    max_mib: usize,
    error: Option<Text>,
    problems: Vec<Problem>,
    las: Option<LasView>,
    vendors: Vec<(&'static str, &'static str)>,
    vendor: String,
    endpoint: String,
}

/// What a refused form brings back: the message, the problems of a file, and what was typed.
#[derive(Default)]
struct Refused {
    error: Option<Text>,
    problems: Vec<Problem>,
    vendor: String,
    endpoint: String,
}

async fn render(s: SchoolAdmin, refused: Refused) -> Result<Response, PageError> {
    let link = las::link(s.directory(), &s.admin).await?;
    let status = if refused.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let nav = s.nav("gebruikersgegevens");
    let max_mib = s.state.api.edexml_max_bytes / (1024 * 1024);
    Ok(s.page(status, |csrf| DataPage {
        nav,
        csrf,
        max_mib,
        error: refused.error,
        problems: refused.problems,
        las: link.map(LasView::of),
        vendors: LasVendor::ALL
            .iter()
            .map(|v| {
                let name = match v {
                    LasVendor::Generic => "ander LAS / other",
                    v => v.display_name(),
                };
                (v.as_str(), name)
            })
            .collect(),
        vendor: refused.vendor,
        endpoint: refused.endpoint,
    }))
}

/// A refusal to show on the page with the form; any other error as it is.
fn refusal(e: AdminError) -> Result<Refused, AdminError> {
    match e {
        AdminError::Refused { nl, en } | AdminError::Conflict { nl, en } => Ok(Refused {
            error: Some(Text::new(nl, en)),
            ..Refused::default()
        }),
        e => Err(e),
    }
}

pub async fn user_data(s: SchoolAdmin) -> Result<Response, PageError> {
    render(s, Refused::default()).await
}

#[derive(Template)]
#[template(path = "beheer_import_preview.html")]
struct PreviewPage {
    nav: Nav,
    csrf: String,
    /// Set for a preview, absent once applied.
    id: Option<String>,
    school: String,
    nothing: bool,
    sections: Vec<Section>,
    memberships_added: usize,
    memberships_removed: usize,
    invited: usize,
    not_invited: usize,
}

/// Groups, pupils or teachers: how many are added, changed and removed, and who.
pub struct Section {
    title: (&'static str, &'static str),
    counts: [usize; 3],
    lists: Vec<(&'static str, &'static str, Vec<String>)>,
}

impl PreviewPage {
    fn new(
        nav: Nav,
        csrf: String,
        id: Option<String>,
        d: Difference,
        (invited, not_invited): (usize, usize),
    ) -> PreviewPage {
        let names = |list: Vec<imports::Named>| -> Vec<String> {
            list.into_iter()
                .map(|n| {
                    if n.name.is_empty() {
                        format!("LAS-sleutel / LAS key {}", n.key)
                    } else {
                        n.name
                    }
                })
                .collect()
        };
        let nothing = d.is_empty();
        let sections = [
            (("Groepen", "Classes"), d.groups),
            (("Leerlingen", "Pupils"), d.pupils),
            (("Leerkrachten", "Teachers"), d.staff),
        ]
        .into_iter()
        .filter(|(_, c)| !c.is_empty())
        .map(|(title, c)| Section {
            title,
            counts: [c.added.len(), c.changed.len(), c.removed.len()],
            lists: [
                ("Nieuw", "Added", names(c.added)),
                ("Gewijzigd", "Changed", names(c.changed)),
                ("Verwijderd", "Removed", names(c.removed)),
            ]
            .into_iter()
            .filter(|(_, _, l)| !l.is_empty())
            .collect(),
        })
        .collect();
        PreviewPage {
            nav,
            csrf,
            id,
            school: d.school,
            nothing,
            sections,
            memberships_added: d.memberships_added,
            memberships_removed: d.memberships_removed,
            invited,
            not_invited,
        }
    }
}

/// The difference a file makes: before it is applied (with the `id` to apply it by), or after,
/// with how many were invited.
fn preview_page(
    s: SchoolAdmin,
    id: Option<String>,
    difference: Difference,
    invited: (usize, usize),
) -> Response {
    let nav = s.nav("gebruikersgegevens");
    s.page(StatusCode::OK, |csrf| {
        PreviewPage::new(nav, csrf, id, difference, invited)
    })
}

fn file_refused(nl: &str, en: &str) -> Refused {
    Refused {
        error: Some(Text::new(nl, en)),
        ..Refused::default()
    }
}

/// The uploaded file of a multipart form whose first field is the CSRF token: a form from
/// elsewhere is refused before its file is read. At most `limit` bytes of file.
async fn uploaded_file(
    state: &AppState,
    request: Request,
    limit: usize,
) -> Result<Result<Vec<u8>, Refused>, PageError> {
    let (parts, body) = request.into_parts();
    let headers = parts.headers.clone();
    let body = Body::new(http_body_util::Limited::new(body, limit + FORM_OVERHEAD));
    let Ok(mut form) = Multipart::from_request(Request::from_parts(parts, body), state).await
    else {
        return Ok(Err(file_refused(
            "Kies een bestand en gebruik de knop op deze pagina.",
            "Choose a file and use the button on this page.",
        )));
    };
    let too_large = || {
        file_refused(
            &format!(
                "Het bestand is groter dan {} MiB en is niet gelezen.",
                limit / (1024 * 1024)
            ),
            &format!(
                "The file is larger than {} MiB and was not read.",
                limit / (1024 * 1024)
            ),
        )
    };
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            file_refused(
                "Het formulier kon niet worden gelezen; probeer het nog eens.",
                "The form could not be read; please try again.",
            )
        }
    };
    let csrf = match form.next_field().await {
        Ok(Some(f)) if f.name() == Some("csrf") => f.text().await.unwrap_or_default(),
        _ => String::new(),
    };
    if !csrf_ok(&state.web, &headers, &csrf) {
        return Err(PageError::Csrf);
    }
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Ok(Err(unreadable(e))),
        };
        if field.name() != Some("bestand") {
            continue;
        }
        let mut file = Vec::new();
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if file.len() + chunk.len() > limit {
                        return Ok(Err(too_large()));
                    }
                    file.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Ok(Err(unreadable(e))),
            }
        }
        if file.is_empty() {
            break;
        }
        return Ok(Ok(file));
    }
    Ok(Err(file_refused(
        "Kies eerst een EDEXML-bestand.",
        "Choose an EDEXML file first.",
    )))
}

/// Reads an uploaded file and shows what it would change; nothing is changed yet.
pub async fn upload(s: SchoolAdmin, request: Request) -> Result<Response, PageError> {
    let limit = s.state.api.edexml_max_bytes;
    let file = match uploaded_file(&s.state, request, limit).await? {
        Ok(file) => file,
        Err(refused) => return render(s, refused).await,
    };
    match imports::preview(&s.state, &s.admin, &file).await {
        Ok(Preview::Ready { id, difference }) => Ok(preview_page(s, Some(id), *difference, (0, 0))),
        Ok(Preview::Problems(problems)) => {
            let (nl, en) = match problems.len() {
                1 => ("er is 1 probleem".to_owned(), "1 problem was".to_owned()),
                n => (
                    format!("er zijn {n} problemen"),
                    format!("{n} problems were"),
                ),
            };
            let refused = Refused {
                error: Some(Text::new(
                    format!(
                        "Het bestand is niet ingelezen: {nl} gevonden. Er is niets gewijzigd. Los ze op in het LAS en exporteer het bestand opnieuw."
                    ),
                    format!(
                        "The file was not read: {en} found. Nothing was changed. Fix them in the LAS and export the file again."
                    ),
                )),
                problems,
                ..Refused::default()
            };
            render(s, refused).await
        }
        Err(e) => render(s, refusal(e)?).await,
    }
}

#[derive(Deserialize)]
pub struct ApplyForm {
    id: String,
}

/// Applies exactly the file that was previewed under this id.
pub async fn apply(s: SchoolAdmin, Csrf(form): Csrf<ApplyForm>) -> Result<Response, PageError> {
    match imports::apply(&s.state, &s.admin, &form.id).await {
        Ok(applied) => {
            let invited = (applied.invited, applied.not_invited);
            Ok(preview_page(s, None, applied.difference, invited))
        }
        Err(e) => render(s, refusal(e)?).await,
    }
}

#[derive(Deserialize)]
pub struct LasForm {
    #[serde(default)]
    vendor: String,
    #[serde(default)]
    endpoint: String,
    key: String,
}

/// Registers the school's LAS link, or, when there is one, stores a new key for it.
pub async fn save_las(s: SchoolAdmin, Csrf(form): Csrf<LasForm>) -> Result<Response, PageError> {
    let d = s.directory();
    let kek = s.state.keys.kek();
    let done = match las::link(d, &s.admin).await? {
        None => match las::new_link(&form.vendor, &form.endpoint, &form.key) {
            Ok(new) => las::add(d, kek, &s.admin, &new).await.map(|_| ()),
            Err(e) => Err(e),
        },
        Some(_) => match las::authorisation_key(&form.key) {
            Ok(key) => las::set_key(d, kek, &s.admin, &key).await,
            Err(e) => Err(e),
        },
    };
    match done {
        Ok(()) => Ok(see(PATH)),
        Err(e) => {
            let mut refused = refusal(e)?;
            // The key is never sent back into the page.
            refused.vendor = form.vendor;
            refused.endpoint = form.endpoint;
            render(s, refused).await
        }
    }
}

#[derive(Deserialize)]
pub struct SwitchForm {
    on: Option<String>,
}

pub async fn switch_las(
    s: SchoolAdmin,
    Csrf(form): Csrf<SwitchForm>,
) -> Result<Response, PageError> {
    let done = las::switch(s.directory(), &s.admin, form.on.is_some()).await;
    after_las(s, done).await
}

/// The page again after a change to the LAS link: as it is now, or with the refusal.
async fn after_las<T>(s: SchoolAdmin, done: Result<T, AdminError>) -> Result<Response, PageError> {
    match done {
        Ok(_) => Ok(see(PATH)),
        Err(AdminError::NotFound { .. }) => {
            render(
                s,
                file_refused(
                    "De school heeft nog geen LAS-koppeling; vul die eerst hieronder in.",
                    "The school has no LAS link yet; fill it in below first.",
                ),
            )
            .await
        }
        Err(e) => render(s, refusal(e)?).await,
    }
}

/// Pulls the file from the LAS now, as the nightly pull would; the outcome shows on the page.
pub async fn pull_las(s: SchoolAdmin, _: Csrf<NoFields>) -> Result<Response, PageError> {
    let done = las::pull_now(&s.state, &s.admin).await;
    after_las(s, done).await
}
