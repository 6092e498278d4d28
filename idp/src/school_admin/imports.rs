//! Gebruikersgegevens: an EDEXML file uploaded by the school, first shown as the difference it
//! would make, then applied. The file itself waits between the two in the short-lived state
//! store under a random id, bound to the school and the administrator, so that what is applied
//! is byte for byte the file that was previewed. Reading and importing is `crate::import`, the
//! same as the command line's and the admin API's.

use std::collections::HashMap;
use std::time::Duration;

use directory::edexml::{Limits, Problem, Snapshot};
use directory::import::{Changes, ImportReport};
use directory::people::shown_name;

use super::{AdminError, Administered};
use crate::app_state::AppState;
use crate::http::random_token;
use crate::import::{ImportError, import_snapshot, read_edexml};
use crate::state::StateStore;

/// How long a previewed file waits for its apply.
pub const PREVIEW_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// One record in the difference: its LAS key and a name a person recognises.
pub struct Named {
    pub key: String,
    pub name: String,
}

#[derive(Default)]
pub struct NamedChanges {
    pub added: Vec<Named>,
    pub changed: Vec<Named>,
    pub removed: Vec<Named>,
}

impl NamedChanges {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

/// What a file adds, changes and removes, with names.
pub struct Difference {
    pub school: String,
    pub groups: NamedChanges,
    pub pupils: NamedChanges,
    pub staff: NamedChanges,
    pub memberships_added: usize,
    pub memberships_removed: usize,
}

impl Difference {
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
            && self.pupils.is_empty()
            && self.staff.is_empty()
            && self.memberships_added == 0
            && self.memberships_removed == 0
    }
}

pub enum Preview {
    /// The file is good: its difference, and the id under which it waits to be applied.
    Ready {
        id: String,
        difference: Box<Difference>,
    },
    /// The file breaks rules: every problem, nothing kept.
    Problems(Vec<Problem>),
}

pub struct Applied {
    pub difference: Difference,
    /// Activation mails to new staff: sent, and not sent.
    pub invited: usize,
    pub not_invited: usize,
}

fn key(id: &str) -> String {
    format!("beheer-import:preview:{id}")
}

/// What is stored: the school and the administrator it belongs to, then the file.
fn stored(a: &Administered, bytes: &[u8]) -> Vec<u8> {
    let mut value = format!("{}\n{}\n", a.school.id, a.actor.0).into_bytes();
    value.extend_from_slice(bytes);
    value
}

/// The file stored under an id, if it belongs to this school and administrator.
fn file_of<'v>(a: &Administered, value: &'v [u8]) -> Option<&'v [u8]> {
    let owner = format!("{}\n{}\n", a.school.id, a.actor.0);
    value.strip_prefix(owner.as_bytes())
}

fn gone() -> AdminError {
    AdminError::refused(
        "Dit voorbeeld is al toegepast of verlopen (na 30 minuten). Upload het bestand opnieuw.",
        "This preview has been applied already or has expired (after 30 minutes). Upload the file again.",
    )
}

fn limits(state: &AppState) -> Limits {
    Limits {
        max_bytes: state.api.edexml_max_bytes,
    }
}

fn refused(e: ImportError) -> AdminError {
    match e {
        ImportError::WrongSchool { file, expected } => AdminError::refused(
            format!(
                "Het bestand is van school {file}, niet van {expected}; er is niets gewijzigd. Kies de school van het bestand (Andere school) en upload het daar."
            ),
            format!(
                "The file is for school {file}, not {expected}; nothing was changed. Choose the file's school and upload it there."
            ),
        ),
        ImportError::Problems(p) => AdminError::refused(
            format!("Het bestand is niet ingelezen: {} problemen.", p.len()),
            format!("The file was not read: {} problems.", p.len()),
        ),
        ImportError::Directory(e) => e.into(),
    }
}

/// Reads the file and computes its difference without changing anything; a good file is kept
/// for [`apply`].
pub async fn preview(
    state: &AppState,
    a: &Administered,
    bytes: &[u8],
) -> Result<Preview, AdminError> {
    let snapshot = match read_edexml(bytes, &limits(state), Some(&a.school)) {
        Ok(s) => s,
        Err(ImportError::Problems(p)) => return Ok(Preview::Problems(p.0)),
        Err(e) => return Err(refused(e)),
    };
    let imported = import_snapshot(
        &state.directory,
        &state.mailer,
        &state.web.public_url,
        &snapshot,
        true,
        &a.actor,
    )
    .await
    .map_err(refused)?;
    let difference = named(state, &snapshot, &imported.report).await?;
    let id = random_token();
    let kept = |e: crate::state::StateError| {
        AdminError::Internal(directory::DirectoryError::Conflict {
            nl: format!("het voorbeeld kon niet worden bewaard: {e}"),
            en: format!("the preview could not be kept: {e}"),
        })
    };
    let store = &state.state;
    store
        .put(&key(&id), &stored(a, bytes), PREVIEW_LIFETIME)
        .await
        .map_err(kept)?;
    // One waiting file per administrator and school: each may be up to import.max_mib, so
    // uploading again replaces the last preview instead of piling files up in the store.
    let latest = format!("beheer-import:latest:{}:{}", a.school.id, a.actor.0);
    if let Some(earlier) = store.get(&latest).await.map_err(kept)? {
        store
            .delete(&key(&String::from_utf8_lossy(&earlier)))
            .await
            .map_err(kept)?;
    }
    store
        .put(&latest, id.as_bytes(), PREVIEW_LIFETIME)
        .await
        .map_err(kept)?;
    Ok(Preview::Ready {
        id,
        difference: Box::new(difference),
    })
}

/// Applies the file previewed under `id`: once, only for the school and administrator that
/// previewed it.
pub async fn apply(state: &AppState, a: &Administered, id: &str) -> Result<Applied, AdminError> {
    let store_failed = |e: crate::state::StateError| {
        AdminError::Internal(directory::DirectoryError::Conflict {
            nl: format!("het voorbeeld kon niet worden gelezen: {e}"),
            en: format!("the preview could not be read: {e}"),
        })
    };
    // Looked at before it is taken, so that someone else's id does not use up their preview.
    let value = state
        .state
        .get(&key(id))
        .await
        .map_err(store_failed)?
        .ok_or_else(gone)?;
    if file_of(a, &value).is_none() {
        return Err(gone());
    }
    // Taken, so that two clicks (or two tabs) apply it once.
    let value = state
        .state
        .take(&key(id))
        .await
        .map_err(store_failed)?
        .ok_or_else(gone)?;
    let bytes = file_of(a, &value).ok_or_else(gone)?;
    let snapshot = read_edexml(bytes, &limits(state), Some(&a.school)).map_err(refused)?;
    let imported = import_snapshot(
        &state.directory,
        &state.mailer,
        &state.web.public_url,
        &snapshot,
        false,
        &a.actor,
    )
    .await
    .map_err(refused)?;
    let invited = imported
        .invitations
        .iter()
        .filter(|i| i.sent.is_ok())
        .count();
    Ok(Applied {
        difference: named(state, &snapshot, &imported.report).await?,
        invited,
        not_invited: imported.invitations.len() - invited,
    })
}

/// A person in the file as people read their name, by the register's rule; EDEXML may leave
/// the achternaam out.
fn file_name(
    roepnaam: &Option<String>,
    voornamen: &Option<String>,
    voorvoegsel: &Option<String>,
    achternaam: &Option<String>,
) -> String {
    shown_name(
        roepnaam.as_deref(),
        voornamen.as_deref(),
        voorvoegsel.as_deref(),
        achternaam.as_deref().unwrap_or(""),
    )
}

/// The report's LAS keys with names: from the file for what it adds and changes, from the
/// register for what it removes.
async fn named(
    state: &AppState,
    snapshot: &Snapshot,
    report: &ImportReport,
) -> Result<Difference, AdminError> {
    let d = &state.directory;
    let mut groups: HashMap<String, String> = snapshot
        .groups
        .iter()
        .map(|g| (g.key.to_string(), g.name.clone()))
        .chain(
            snapshot
                .combined_groups
                .iter()
                .map(|g| (g.key.to_string(), g.name.clone())),
        )
        .collect();
    let mut pupils: HashMap<String, String> = snapshot
        .pupils
        .iter()
        .map(|p| {
            let name = file_name(&p.roepnaam, &p.voornamen, &p.voorvoegsel, &p.achternaam);
            (p.key.to_string(), name)
        })
        .collect();
    let staff: HashMap<String, String> = snapshot
        .teachers
        .iter()
        .map(|t| {
            let name = file_name(&t.roepnaam, &t.voornamen, &t.voorvoegsel, &t.achternaam);
            (t.key.to_string(), name)
        })
        .collect();
    if !report.groups.removed.is_empty() {
        for g in d.groups_of_school(&report.school_id).await? {
            groups.entry(g.las_key).or_insert(g.name);
        }
    }
    if !report.pupils.removed.is_empty() {
        for p in d.pupils_of_school(&report.school_id).await? {
            let name = p.shown_name();
            pupils.entry(p.las_key).or_insert(name);
        }
    }
    let with = |names: &HashMap<String, String>, changes: &Changes| {
        let list = |keys: &[String]| {
            keys.iter()
                .map(|k| Named {
                    key: k.clone(),
                    name: names.get(k).cloned().unwrap_or_default(),
                })
                .collect()
        };
        NamedChanges {
            added: list(&changes.added),
            changed: list(&changes.changed),
            removed: list(&changes.removed),
        }
    };
    Ok(Difference {
        school: snapshot.school_code().to_string(),
        groups: with(&groups, &report.groups),
        pupils: with(&pupils, &report.pupils),
        staff: with(&staff, &report.staff),
        memberships_added: report.memberships.added.len(),
        memberships_removed: report.memberships.removed.len(),
    })
}
