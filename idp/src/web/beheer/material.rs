//! Lesmateriaal: the school's licences, what each group sees in the portal, and the shortcuts
//! for the school's devices (a zip, and the links written out to copy).

use askama::Template;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{Nav, SchoolAdmin};
use crate::clock::unix_now;
use crate::http::{PageError, page};
use crate::school_admin::material::{self, LicenceRow, Shortcut};

#[derive(Template)]
#[template(path = "beheer_lesmateriaal.html")]
struct MaterialPage {
    nav: Nav,
    licences: Vec<LicenceRow>,
    groups: Vec<(String, Vec<String>)>,
    shortcuts: Vec<Shortcut>,
}

pub async fn material(s: SchoolAdmin) -> Result<Response, PageError> {
    let now = unix_now();
    let licences = material::licences(&s.state, &s.admin, now).await?;
    let groups = material::group_portals(&s.state, &s.admin, now)
        .await?
        .into_iter()
        .map(|(g, products)| (g.name, products))
        .collect();
    let shortcuts = material::shortcuts(&s.state, &s.admin).await?;
    Ok(page(
        StatusCode::OK,
        &MaterialPage {
            nav: s.nav("lesmateriaal"),
            licences,
            groups,
            shortcuts,
        },
        HeaderMap::new(),
    ))
}

/// The shortcuts as `snelkoppelingen-<school code>.zip`.
pub async fn shortcuts_zip(s: SchoolAdmin) -> Result<Response, PageError> {
    let shortcuts = material::shortcuts(&s.state, &s.admin).await?;
    let bytes = material::zip(&shortcuts)?;
    crate::http::attachment(
        bytes.into(),
        "application/zip",
        &format!("snelkoppelingen-{}.zip", s.admin.school.code()),
    )
    .map_err(PageError::internal)
}
