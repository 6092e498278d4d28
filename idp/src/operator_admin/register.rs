//! Besturen and school locations: list, add, rename; and a school's first ICT-coördinator,
//! created on the board's signed request and mailed the activation link.

use directory::credentials::TokenPurpose;
use directory::model::{Bestuursnummer, Brin, SchoolCode, Vestigingscode};
use directory::operators::{FirstIct, FirstIctRequest};
use directory::people::Staff;
use directory::schools::{Board, NewSchool, School};
use directory::{Directory, DirectoryError};

use super::{AdminError, Operating};
use crate::links::send_link;
use crate::school_admin::staff::{Mailing, NewPerson, Sent};

pub async fn boards(d: &Directory, _op: &Operating) -> Result<Vec<Board>, AdminError> {
    Ok(d.list_boards().await?)
}

pub async fn schools(d: &Directory, _op: &Operating) -> Result<Vec<School>, AdminError> {
    Ok(d.list_schools().await?)
}

pub async fn add_board(
    d: &Directory,
    op: &Operating,
    bestuursnummer: &str,
    name: &str,
) -> Result<Board, AdminError> {
    let nummer = Bestuursnummer::parse(bestuursnummer.trim())?;
    Ok(d.create_board(&nummer, name, &op.actor).await?)
}

/// A board by its bestuursnummer, or not found.
pub async fn board(d: &Directory, _op: &Operating, nummer: &str) -> Result<Board, AdminError> {
    let parsed = Bestuursnummer::parse(nummer.trim())?;
    d.board_by_nummer(&parsed)
        .await?
        .ok_or_else(|| not_found("bestuur", nummer))
}

pub async fn rename_board(
    d: &Directory,
    op: &Operating,
    nummer: &str,
    name: &str,
) -> Result<Board, AdminError> {
    let b = board(d, op, nummer).await?;
    d.rename_board(&b.id, name, &op.actor).await?;
    board(d, op, nummer).await
}

pub struct NewLocation<'a> {
    pub bestuursnummer: &'a str,
    pub brin: &'a str,
    pub vestigingscode: &'a str,
    pub name: &'a str,
}

pub async fn add_school(
    d: &Directory,
    op: &Operating,
    new: &NewLocation<'_>,
) -> Result<School, AdminError> {
    let new = NewSchool {
        bestuursnummer: Bestuursnummer::parse(new.bestuursnummer.trim())?,
        brin: Brin::parse(new.brin.trim())?,
        vestigingscode: Vestigingscode::parse(new.vestigingscode.trim())?,
        name: new.name.to_owned(),
    };
    Ok(d.create_school(&new, &op.actor).await?)
}

/// A school location by its code (`12AB00`), or not found.
pub async fn school(d: &Directory, _op: &Operating, code: &str) -> Result<School, AdminError> {
    let parsed = SchoolCode::parse(code.trim())?;
    d.school_by_code(&parsed)
        .await?
        .ok_or_else(|| not_found("school", code))
}

pub async fn rename_school(
    d: &Directory,
    op: &Operating,
    code: &str,
    name: &str,
) -> Result<School, AdminError> {
    let s = school(d, op, code).await?;
    d.rename_school(&s.id, name, &op.actor).await?;
    school(d, op, code).await
}

/// The school's first ICT-coördinators on record.
pub async fn first_icts(
    d: &Directory,
    _op: &Operating,
    school: &School,
) -> Result<Vec<(FirstIct, Option<Staff>)>, AdminError> {
    let mut out = Vec::new();
    for r in d.first_icts_of_school(&school.id).await? {
        let staff = d.staff_by_id(&r.staff_id).await?;
        out.push((r, staff));
    }
    Ok(out)
}

/// The person the board asks for, and its signed request.
pub struct FirstIctForm<'a> {
    pub person: NewPerson<'a>,
    pub requested_by: &'a str,
    pub document_ref: &'a str,
}

/// Creates the school's first ICT-coördinator with the record of the board's request (one
/// transaction), then mails the activation link. The record stands when the mail fails; the
/// link is sent again with `staff invite` or from Beheer.
pub async fn first_ict(
    d: &Directory,
    mailing: &Mailing<'_>,
    op: &Operating,
    code: &str,
    form: &FirstIctForm<'_>,
) -> Result<(Staff, FirstIct, Sent), AdminError> {
    let s = school(d, op, code).await?;
    let new = form.person.new_staff()?;
    let request = FirstIctRequest {
        requested_by: form.requested_by,
        document_ref: form.document_ref,
    };
    let (staff, record) = d.create_first_ict(&s.id, &new, &request, &op.actor).await?;
    let sent = send_link(
        d,
        mailing.mailer,
        mailing.public_url,
        &staff,
        TokenPurpose::Activation,
        &op.actor,
    )
    .await;
    if let Err(e) = &sent {
        tracing::warn!(staff = %staff.id, error = %e, "first ICT coordinator's activation mail not sent");
    }
    Ok((staff, record, sent))
}

fn not_found(what: &'static str, key: &str) -> AdminError {
    AdminError::from(DirectoryError::NotFound {
        what,
        key: key.to_owned(),
    })
}
