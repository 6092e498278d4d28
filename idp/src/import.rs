//! An EDEXML import as the command line and the admin API run it: read and check the file,
//! apply it (or, in a dry run, only compute it) in one transaction, and mail activation links to
//! new staff once the import is committed.

use directory::credentials::TokenPurpose;
use directory::edexml::{Limits, Problems, Snapshot};
use directory::import::ImportReport;
use directory::schools::School;
use directory::{Actor, Directory, DirectoryError};

use crate::links::{LinkError, send_link};
use crate::mail::Mailer;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file breaks rules; nothing was changed.
    #[error("{0}")]
    Problems(Problems),
    /// The file describes another school location than the one it was uploaded for.
    #[error(
        "het bestand is van school {file}, niet van {expected} / the file is for school {file}, not {expected}"
    )]
    WrongSchool { file: String, expected: String },
    #[error("{0}")]
    Directory(#[from] DirectoryError),
}

/// One activation mail after an import: to whom, and the link or why it was not sent.
pub struct Invitation {
    pub email: String,
    pub sent: Result<String, LinkError>,
}

pub struct Imported {
    /// The school location the file describes, `12AB00`.
    pub school_code: String,
    pub report: ImportReport,
    /// Empty in a dry run.
    pub invitations: Vec<Invitation>,
}

/// Imports one EDEXML file. With `for_school`, a file for any other school location is
/// refused before anything is written. A mail that fails is reported in the result and does
/// not undo the import, which is committed by then.
#[allow(clippy::too_many_arguments)]
pub async fn import_edexml(
    d: &Directory,
    mailer: &Mailer,
    public_url: &str,
    bytes: &[u8],
    limits: &Limits,
    for_school: Option<&School>,
    dry_run: bool,
    actor: &Actor,
) -> Result<Imported, ImportError> {
    let snapshot = read_edexml(bytes, limits, for_school)?;
    import_snapshot(d, mailer, public_url, &snapshot, dry_run, actor).await
}

/// Reads and checks one EDEXML file; with `for_school`, a file of another school location is
/// refused.
pub fn read_edexml(
    bytes: &[u8],
    limits: &Limits,
    for_school: Option<&School>,
) -> Result<Snapshot, ImportError> {
    let snapshot = directory::edexml::parse(bytes, limits).map_err(ImportError::Problems)?;
    if let Some(school) = for_school
        && school.code() != snapshot.school_code().to_string()
    {
        return Err(ImportError::WrongSchool {
            file: snapshot.school_code().to_string(),
            expected: school.code(),
        });
    }
    Ok(snapshot)
}

/// Applies (or, in a dry run, only compares) a file that [`read_edexml`] read, and mails new
/// staff their activation link once it is committed.
pub async fn import_snapshot(
    d: &Directory,
    mailer: &Mailer,
    public_url: &str,
    snapshot: &Snapshot,
    dry_run: bool,
    actor: &Actor,
) -> Result<Imported, ImportError> {
    let school_code = snapshot.school_code().to_string();
    let report = d.import_snapshot(snapshot, dry_run, actor).await?;
    let mut invitations = Vec::new();
    if !dry_run {
        for id in &report.to_invite {
            let Some(staff) = d.staff_by_id(id).await? else {
                continue;
            };
            let sent = send_link(
                d,
                mailer,
                public_url,
                &staff,
                TokenPurpose::Activation,
                actor,
            )
            .await;
            if let Err(e) = &sent {
                tracing::warn!(staff = %staff.id, error = %e, "activation mail after an import not sent");
            }
            invitations.push(Invitation {
                email: staff.email.clone().unwrap_or_default(),
                sent,
            });
        }
    }
    Ok(Imported {
        school_code,
        report,
        invitations,
    })
}
