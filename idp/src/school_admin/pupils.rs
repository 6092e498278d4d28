//! Leerlingen: a school's groups and pupils as the people who look after them manage them, written
//! once for Beheer › Leerlingen and the admin API. Picture passwords one by one or a random one
//! for every pupil of a group without one, lifting a pupil's pause after wrong pictures, issuing
//! and voiding home codes.
//!
//! Unlike the rest of this module these rules are not only the ICT-coördinator's: a teacher
//! manages the pupils of the groups they are linked to. A [`PupilManager`] says which groups.

use std::time::Duration;

use directory::people::{Group, Pupil};
use directory::schools::School;
use directory::{Actor, Directory};

use super::{AdminError, Administered, by_name_naturally};
use crate::app_state::AppState;
use crate::homecode::{self, HomeCodeError};
use crate::pictures::{MAX_WRONG_PICTURES, by_name, spread, wrong_picture_key};
use crate::state::StateStore;

/// Someone who manages pupils of one school, and which of its groups.
pub struct PupilManager {
    pub school: School,
    pub actor: Actor,
    /// The groups they manage; for an ICT-coördinator or the operator every group of the school.
    pub groups: Vec<Group>,
    /// Every group of the school, so also a pupil in none of them (between two imports).
    pub whole_school: bool,
}

impl PupilManager {
    /// The operator (admin API, CLI) or an ICT-coördinator: every group of the school.
    pub async fn administrator(
        d: &Directory,
        a: &Administered,
    ) -> Result<PupilManager, AdminError> {
        Ok(PupilManager {
            groups: d.groups_of_school(&a.school.id).await?,
            school: a.school.clone(),
            actor: a.actor.clone(),
            whole_school: true,
        })
    }

    /// The group with this id, if they manage it.
    pub fn group(&self, id: &str) -> Result<&Group, AdminError> {
        self.groups
            .iter()
            .find(|g| g.id == id)
            .ok_or_else(|| self.unknown("groep", id))
    }

    /// Outside the school: as if it did not exist. A teacher's own school but another group:
    /// not theirs to manage.
    fn unknown(&self, what: &'static str, key: &str) -> AdminError {
        if self.whole_school {
            AdminError::NotFound {
                what,
                key: key.to_owned(),
            }
        } else {
            AdminError::NotAllowed
        }
    }

    fn may_manage(&self, pupil: &Pupil) -> bool {
        pupil.school_id == self.school.id
            && (self.whole_school
                || self.groups.iter().any(|g| {
                    pupil.stamgroep_id.as_deref() == Some(g.id.as_str())
                        || pupil.combined_group_ids.contains(&g.id)
                }))
    }

    /// The pupil with this id, if they manage them.
    pub async fn pupil(&self, d: &Directory, pupil_id: &str) -> Result<Pupil, AdminError> {
        match d.pupil_by_id(pupil_id).await? {
            Some(p) if self.may_manage(&p) => Ok(p),
            _ => Err(self.unknown("leerling", pupil_id)),
        }
    }
}

/// How a pupil is called on a page and a card: roepnaam (else voornamen), voorvoegsel, achternaam.
pub fn display_name(p: &Pupil) -> String {
    directory::people::shown_name(
        p.roepnaam.as_deref(),
        p.voornamen.as_deref(),
        p.voorvoegsel.as_deref(),
        &p.achternaam,
    )
}

/// The current groups they manage, in the order people read them, with their active pupils.
pub async fn groups(
    d: &Directory,
    m: &PupilManager,
) -> Result<Vec<(Group, Vec<Pupil>)>, AdminError> {
    let mut out = Vec::new();
    // A group an import ended stays in the register (for licences and history), not here.
    for g in m.groups.iter().filter(|g| g.active) {
        let pupils = d.active_pupils_of_group(&m.school.id, &g.id).await?;
        out.push((g.clone(), pupils));
    }
    out.sort_by(|(x, _), (y, _)| by_name_naturally(&x.name, &y.name));
    Ok(out)
}

/// A pupil as the people who look after them see them.
pub struct PupilState {
    pub pupil: Pupil,
    /// The name of their picture, if they have one.
    pub picture: Option<String>,
    pub has_home_code: bool,
    /// Paused after too many wrong pictures: the teacher can lift the pause.
    pub locked: bool,
}

/// The group's active pupils with their picture, home code and pause.
pub async fn group_pupils(
    state: &AppState,
    m: &PupilManager,
    group_id: &str,
) -> Result<(Group, Vec<PupilState>), AdminError> {
    let group = m.group(group_id)?.clone();
    let d = &state.directory;
    let (pupils, with_code) = tokio::try_join!(
        d.active_pupils_of_group(&m.school.id, group_id),
        d.pupils_with_home_code(&m.school.id)
    )?;
    let mut out = Vec::with_capacity(pupils.len());
    for pupil in pupils {
        let picture = d.picture_secret(&pupil.id).await?;
        let locked = state
            .state
            .count(&wrong_picture_key(&pupil.id))
            .await
            .map_err(AdminError::internal)?
            >= MAX_WRONG_PICTURES;
        out.push(PupilState {
            has_home_code: with_code.contains(&pupil.id),
            picture,
            locked,
            pupil,
        });
    }
    Ok((group, out))
}

/// Sets (or with `None` removes) a pupil's picture; the name must be one of the catalogue's.
pub async fn set_picture(
    d: &Directory,
    m: &PupilManager,
    pupil_id: &str,
    picture: Option<&str>,
) -> Result<Pupil, AdminError> {
    let pupil = m.pupil(d, pupil_id).await?;
    let picture = match picture {
        None => None,
        Some(name) => Some(
            by_name(name)
                .ok_or_else(|| {
                    AdminError::refused(
                        format!("Er is geen plaatje {name:?}; kies een plaatje uit de catalogus."),
                        format!("There is no picture {name:?}; choose one from the catalogue."),
                    )
                })?
                .name,
        ),
    };
    d.set_picture_secret(&pupil.id, picture, &m.actor).await?;
    Ok(pupil)
}

/// How long one group's pictures may take to hand out before another request may try again
/// (a crashed node's claim runs out by itself).
const BULK_CLAIM: Duration = Duration::from_secs(60);

/// What a request for the missing pictures of a group did.
pub enum MissingPictures {
    /// This many pupils received a picture.
    Given(usize),
    /// Another request is handing out this group's pictures; it sees the same pupils.
    Busy,
}

/// Gives every pupil of the group without a picture a random one, no two alike in the group
/// while the catalogue allows. One request per group at a time: two at once would both see the
/// same pupils without a picture and could give two of them the same one, so the second leaves
/// it to the first.
pub async fn give_missing_pictures(
    state: &AppState,
    m: &PupilManager,
    group_id: &str,
) -> Result<MissingPictures, AdminError> {
    m.group(group_id)?;
    let claim = format!("beheer-plaatjes:group:{group_id}");
    if !state
        .state
        .put_if_absent(&claim, b"1", BULK_CLAIM)
        .await
        .map_err(AdminError::internal)?
    {
        return Ok(MissingPictures::Busy);
    }
    let given = missing_pictures(&state.directory, m, group_id).await;
    state
        .state
        .delete(&claim)
        .await
        .map_err(AdminError::internal)?;
    let given = given?;
    tracing::info!(
        actor = %m.actor.0,
        group = %group_id,
        school = %m.school.code(),
        given,
        "pictures given to the pupils of a group without one"
    );
    Ok(MissingPictures::Given(given))
}

async fn missing_pictures(
    d: &Directory,
    m: &PupilManager,
    group_id: &str,
) -> Result<usize, AdminError> {
    let mut taken = Vec::new();
    let mut without = Vec::new();
    for p in d.active_pupils_of_group(&m.school.id, group_id).await? {
        match d.picture_secret(&p.id).await? {
            Some(name) => taken.push(name),
            None => without.push(p),
        }
    }
    let taken: Vec<&str> = taken.iter().map(String::as_str).collect();
    let pictures = spread(&taken, without.len());
    for (pupil, picture) in without.iter().zip(pictures) {
        d.set_picture_secret(&pupil.id, Some(picture.name), &m.actor)
            .await?;
    }
    Ok(without.len())
}

/// Lifts a pupil's pause after too many wrong pictures, so that a pupil who forgot their picture
/// and got help need not wait out the window; logged with who did it.
pub async fn unlock(
    state: &AppState,
    m: &PupilManager,
    pupil_id: &str,
) -> Result<Pupil, AdminError> {
    let pupil = m.pupil(&state.directory, pupil_id).await?;
    state
        .state
        .delete(&wrong_picture_key(&pupil.id))
        .await
        .map_err(AdminError::internal)?;
    tracing::info!(
        actor = %m.actor.0,
        pupil = %pupil.id,
        school = %m.school.code(),
        "pupil's picture login unlocked"
    );
    Ok(pupil)
}

/// Voids the pupil's home code: their card stops working at once.
pub async fn void_home_code(
    d: &Directory,
    m: &PupilManager,
    pupil_id: &str,
) -> Result<Pupil, AdminError> {
    let pupil = m.pupil(d, pupil_id).await?;
    d.void_home_code(&pupil.id, &m.actor).await?;
    Ok(pupil)
}

/// A new home code. The plain code and pin exist only here: the register keeps their hashes.
pub struct IssuedCode {
    pub pupil: Pupil,
    pub code: String,
    pub pin: String,
}

async fn issue(
    state: &AppState,
    m: &PupilManager,
    pupils: Vec<Pupil>,
) -> Result<Vec<IssuedCode>, AdminError> {
    let mut out = Vec::with_capacity(pupils.len());
    for pupil in pupils {
        let (code, pin) = homecode::issue(&state.directory, &state.hasher, &pupil.id, &m.actor)
            .await
            .map_err(home_code_error)?;
        out.push(IssuedCode { pupil, code, pin });
    }
    Ok(out)
}

fn home_code_error(e: HomeCodeError) -> AdminError {
    match e {
        HomeCodeError::Directory(e) => e.into(),
        other => AdminError::internal(other),
    }
}

/// A new home code for one pupil; a card they had stops working.
pub async fn issue_home_code(
    state: &AppState,
    m: &PupilManager,
    pupil_id: &str,
) -> Result<IssuedCode, AdminError> {
    let pupil = m.pupil(&state.directory, pupil_id).await?;
    let mut issued = issue(state, m, vec![pupil]).await?;
    issued
        .pop()
        .ok_or_else(|| AdminError::internal("no code issued"))
}

/// What a request for a group's home codes did.
pub enum GroupCodes {
    /// Pupils of the group have a card already; those cards would stop working, so nothing was
    /// issued until that is confirmed: a teacher who meant to print one card does not void
    /// thirty by accident.
    Confirm {
        group: Group,
        pupils: usize,
        voided: Vec<Pupil>,
    },
    Issued(Vec<IssuedCode>),
}

/// New home codes for every active pupil of the group, once `void_existing` confirms that the
/// cards some of them have stop working.
pub async fn issue_group_codes(
    state: &AppState,
    m: &PupilManager,
    group_id: &str,
    void_existing: bool,
) -> Result<GroupCodes, AdminError> {
    let group = m.group(group_id)?;
    let d = &state.directory;
    let (pupils, with_code) = tokio::try_join!(
        d.active_pupils_of_group(&m.school.id, group_id),
        d.pupils_with_home_code(&m.school.id)
    )?;
    let voided: Vec<Pupil> = pupils
        .iter()
        .filter(|p| with_code.contains(&p.id))
        .cloned()
        .collect();
    if !voided.is_empty() && !void_existing {
        return Ok(GroupCodes::Confirm {
            group: group.clone(),
            pupils: pupils.len(),
            voided,
        });
    }
    Ok(GroupCodes::Issued(issue(state, m, pupils).await?))
}

/// How the school's pupils may log in besides a shortcut and a name: with their picture at
/// school, with a home code at home. The school's own choice, so only its ICT-coördinator's (or
/// the operator's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginMethods {
    pub picture_password: bool,
    pub home_login: bool,
}

pub fn login_methods(school: &School) -> LoginMethods {
    LoginMethods {
        picture_password: school.picture_password_enabled,
        home_login: school.home_login_allowed,
    }
}

/// Sets what changed (each change is audited on its own); returns the methods now in force.
pub async fn set_login_methods(
    d: &Directory,
    a: &Administered,
    wanted: LoginMethods,
) -> Result<LoginMethods, AdminError> {
    let now = login_methods(&a.school);
    if wanted.picture_password != now.picture_password {
        d.set_picture_password_enabled(&a.school.id, wanted.picture_password, &a.actor)
            .await?;
    }
    if wanted.home_login != now.home_login {
        d.set_home_login_allowed(&a.school.id, wanted.home_login, &a.actor)
            .await?;
    }
    Ok(wanted)
}
