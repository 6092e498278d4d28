//! Groups, pupils and staff of a school location.

use serde::Serialize;
use serde_json::json;

use crate::audit::{AuditEvent, append};
use crate::db::{login_reads, reads, writes};
use crate::error::{DirectoryError, Result, unique_as};
use crate::model::{EckId, Email, Jaargroep, LasKey, StaffRole, display_name};
use crate::row::RowExt;
use crate::{Actor, Directory, new_id, now};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    /// A class: every pupil has at most one, and it carries a jaargroep.
    Stamgroep,
    /// A combined or subject group (samengestelde groep) next to the stamgroep.
    Samengesteld,
}

impl GroupKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            GroupKind::Stamgroep => "stamgroep",
            GroupKind::Samengesteld => "samengesteld",
        }
    }
    fn from_db(s: &str) -> Result<Self> {
        match s {
            "stamgroep" => Ok(GroupKind::Stamgroep),
            "samengesteld" => Ok(GroupKind::Samengesteld),
            other => Err(DirectoryError::invalid(
                "groep.soort",
                other,
                "onbekende soort groep in de database",
                "unknown group kind in the database",
            )),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Group {
    pub id: String,
    pub school_id: String,
    pub las_key: String,
    pub name: String,
    pub kind: GroupKind,
    pub jaargroep: Option<String>,
    pub active: bool,
}

pub struct NewGroup {
    pub las_key: LasKey,
    pub name: String,
    pub kind: GroupKind,
    /// Required for a stamgroep, absent for a combined group.
    pub jaargroep: Option<Jaargroep>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Pupil {
    pub id: String,
    pub school_id: String,
    pub las_key: String,
    pub achternaam: String,
    pub voorvoegsel: Option<String>,
    pub voornamen: Option<String>,
    pub roepnaam: Option<String>,
    pub jaargroep: String,
    pub stamgroep_id: Option<String>,
    pub combined_group_ids: Vec<String>,
    pub eck_id: Option<String>,
    pub active: bool,
}

/// A person's name as people read it: roepnaam (else voornamen), voorvoegsel, achternaam.
pub fn shown_name(
    roepnaam: Option<&str>,
    voornamen: Option<&str>,
    voorvoegsel: Option<&str>,
    achternaam: &str,
) -> String {
    [roepnaam.or(voornamen), voorvoegsel, Some(achternaam)]
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

impl Pupil {
    pub fn shown_name(&self) -> String {
        shown_name(
            self.roepnaam.as_deref(),
            self.voornamen.as_deref(),
            self.voorvoegsel.as_deref(),
            &self.achternaam,
        )
    }
}

pub struct NewPupil {
    pub las_key: LasKey,
    pub achternaam: String,
    pub voorvoegsel: Option<String>,
    pub voornamen: Option<String>,
    pub roepnaam: Option<String>,
    pub jaargroep: Jaargroep,
    /// LAS key of the pupil's stamgroep at the same school.
    pub stamgroep: Option<LasKey>,
    /// LAS keys of combined groups at the same school.
    pub combined_groups: Vec<LasKey>,
    pub eck_id: Option<EckId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffStatus {
    Active,
    /// Not activated yet: the owner has not set a first password through an activation link.
    Inactive,
    /// Switched off by an operator or administrator. Unlike [`StaffStatus::Inactive`], no link
    /// brings it back: only an explicit re-invite ([`Directory::reinstate_staff`]) does.
    Deactivated,
}

impl StaffStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            StaffStatus::Active => "active",
            StaffStatus::Inactive => "inactive",
            StaffStatus::Deactivated => "deactivated",
        }
    }
    /// The stored status column keeps 'active' and 'inactive'; a deactivation is the moment in
    /// `deactivated_at` beside 'inactive' (migration 0010).
    fn from_db(s: &str, deactivated_at: Option<i64>) -> Result<Self> {
        match (s, deactivated_at) {
            ("active", _) => Ok(StaffStatus::Active),
            ("inactive", None) => Ok(StaffStatus::Inactive),
            ("inactive", Some(_)) => Ok(StaffStatus::Deactivated),
            (other, _) => Err(DirectoryError::invalid(
                "status",
                other,
                "onbekende status in de database",
                "unknown status in the database",
            )),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Staff {
    pub id: String,
    pub email: Option<String>,
    pub achternaam: String,
    pub voorvoegsel: Option<String>,
    pub voornamen: Option<String>,
    pub roepnaam: Option<String>,
    pub eck_id: Option<String>,
    pub status: StaffStatus,
}

impl Staff {
    pub fn shown_name(&self) -> String {
        shown_name(
            self.roepnaam.as_deref(),
            self.voornamen.as_deref(),
            self.voorvoegsel.as_deref(),
            &self.achternaam,
        )
    }
}

pub struct NewStaff {
    pub email: Option<Email>,
    pub achternaam: String,
    pub voorvoegsel: Option<String>,
    pub voornamen: Option<String>,
    pub roepnaam: Option<String>,
    pub eck_id: Option<EckId>,
}

/// Where a staff member works and what they are there.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StaffAtSchool {
    pub school_id: String,
    pub las_key: Option<String>,
    pub member: bool,
    pub roles: Vec<StaffRole>,
}

pub(crate) fn group_from(r: &impl RowExt) -> Result<Group> {
    Ok(Group {
        id: r.text("id")?,
        school_id: r.text("school_id")?,
        las_key: r.text("las_key")?,
        name: r.text("name")?,
        kind: GroupKind::from_db(&r.text("kind")?)?,
        jaargroep: r.opt_text("jaargroep")?,
        active: r.flag("active")?,
    })
}

pub(crate) fn pupil_from(r: &impl RowExt) -> Result<Pupil> {
    Ok(Pupil {
        id: r.text("id")?,
        school_id: r.text("school_id")?,
        las_key: r.text("las_key")?,
        achternaam: r.text("achternaam")?,
        voorvoegsel: r.opt_text("voorvoegsel")?,
        voornamen: r.opt_text("voornamen")?,
        roepnaam: r.opt_text("roepnaam")?,
        jaargroep: r.text("jaargroep")?,
        stamgroep_id: r.opt_text("stamgroep_id")?,
        combined_group_ids: Vec::new(),
        eck_id: r.opt_text("eck_id")?,
        active: r.flag("active")?,
    })
}

pub(crate) fn staff_from(r: &impl RowExt) -> Result<Staff> {
    Ok(Staff {
        id: r.text("id")?,
        email: r.opt_text("email")?,
        achternaam: r.text("achternaam")?,
        voorvoegsel: r.opt_text("voorvoegsel")?,
        voornamen: r.opt_text("voornamen")?,
        roepnaam: r.opt_text("roepnaam")?,
        eck_id: r.opt_text("eck_id")?,
        status: StaffStatus::from_db(&r.text("status")?, r.opt_int("deactivated_at")?)?,
    })
}

/// The answer to anything that would bring a deactivated account back other than a re-invite.
pub(crate) fn deactivated_error() -> DirectoryError {
    DirectoryError::Conflict {
        nl: "dit account is gedeactiveerd; alleen een nieuwe uitnodiging door een beheerder maakt het weer bruikbaar".into(),
        en: "this account is deactivated; only a new invitation by an administrator makes it usable again".into(),
    }
}

fn optional_name(field: &'static str, v: &Option<String>) -> Result<Option<String>> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => display_name(field, s).map(Some),
    }
}

macro_rules! group_select {
    ($tail:literal) => {
        concat!(
            "SELECT id, school_id, las_key, name, kind, jaargroep, active FROM school_groups ",
            $tail
        )
    };
}

macro_rules! pupil_select {
    ($tail:literal) => {
        concat!(
            "SELECT id, school_id, las_key, achternaam, voorvoegsel, voornamen, roepnaam, jaargroep, \
             stamgroep_id, eck_id, active FROM pupils ",
            $tail
        )
    };
}

macro_rules! staff_select {
    ($tail:literal) => {
        concat!(
            "SELECT id, email, achternaam, voorvoegsel, voornamen, roepnaam, eck_id, status, deactivated_at FROM staff ",
            $tail
        )
    };
}

impl Directory {
    pub async fn create_group(
        &self,
        school_id: &str,
        new: &NewGroup,
        actor: &Actor,
    ) -> Result<Group> {
        let name = display_name("groepsnaam", &new.name)?;
        match (new.kind, new.jaargroep) {
            (GroupKind::Stamgroep, None) => {
                return Err(DirectoryError::invalid(
                    "jaargroep",
                    "",
                    "een stamgroep heeft een jaargroep",
                    "a stamgroep needs a jaargroep",
                ));
            }
            (GroupKind::Samengesteld, Some(j)) => {
                return Err(DirectoryError::invalid(
                    "jaargroep",
                    j.as_str(),
                    "een samengestelde groep heeft geen eigen jaargroep; die staat per leerling",
                    "a combined group has no jaargroep of its own; it is kept per pupil",
                ));
            }
            _ => {}
        }
        let group = Group {
            id: new_id(),
            school_id: school_id.to_owned(),
            las_key: new.las_key.to_string(),
            name,
            kind: new.kind,
            jaargroep: new.jaargroep.map(|j| j.as_str().to_owned()),
            active: true,
        };
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let t = now();
            sqlx::query("INSERT INTO school_groups (id, school_id, las_key, name, kind, jaargroep, active, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)")
                .bind(&group.id).bind(&group.school_id).bind(&group.las_key).bind(&group.name)
                .bind(group.kind.as_str()).bind(&group.jaargroep).bind(true).bind(t)
                .execute(&mut *tx).await
                .map_err(unique_as("LAS-sleutel groep", group.las_key.as_str()))?;
            append!(&mut *tx, AuditEvent {
                actor, action: "group.create", school_id: Some(school_id), party_id: None,
                subject: Some(&group.id),
                details: json!({"las_key": group.las_key, "name": group.name, "kind": group.kind}),
            });
            tx.commit().await?;
            Ok(())
        })?;
        Ok(group)
    }

    /// Groups of a school in picker order: by jaargroep (EDEXML order), then by name.
    pub async fn groups_of_school(&self, school_id: &str) -> Result<Vec<Group>> {
        self.cached(
            "groups_of_school",
            school_id.to_owned(),
            |g: &Vec<Group>| !g.is_empty(),
            || async {
                const SQL: &str = group_select!("WHERE school_id = $1");
                let mut groups: Vec<Group> = login_reads!(self, c => {
                    sqlx::query(SQL).bind(school_id).fetch_all(c).await?
                        .iter().map(group_from).collect::<Result<Vec<Group>>>()
                })?;
                let rank = |g: &Group| {
                    g.jaargroep
                        .as_deref()
                        .and_then(|j| Jaargroep::parse(j).ok())
                        .map_or(usize::MAX, |j| j.rank())
                };
                groups.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.name.cmp(&b.name)));
                Ok(groups)
            },
        )
        .await
    }

    async fn group_id_by_key(&self, school_id: &str, key: &LasKey) -> Result<(String, GroupKind)> {
        const SQL: &str = group_select!("WHERE school_id = $1 AND las_key = $2");
        let group = reads!(self, p => {
            let row = sqlx::query(SQL)
                .bind(school_id).bind(key.as_str()).fetch_optional(p).await?;
            row.as_ref().map(group_from).transpose()
        })?;
        group
            .map(|g| (g.id, g.kind))
            .ok_or_else(|| DirectoryError::not_found("groep", key.as_str()))
    }

    pub async fn create_pupil(
        &self,
        school_id: &str,
        new: &NewPupil,
        actor: &Actor,
    ) -> Result<Pupil> {
        let achternaam = display_name("achternaam", &new.achternaam)?;
        let stamgroep_id = match &new.stamgroep {
            Some(key) => {
                let (id, kind) = self.group_id_by_key(school_id, key).await?;
                if kind != GroupKind::Stamgroep {
                    return Err(DirectoryError::invalid(
                        "stamgroep",
                        key.as_str(),
                        "dit is een samengestelde groep, geen stamgroep",
                        "this is a combined group, not a stamgroep",
                    ));
                }
                Some(id)
            }
            None => None,
        };
        let mut combined = Vec::new();
        for key in &new.combined_groups {
            let (id, kind) = self.group_id_by_key(school_id, key).await?;
            if kind != GroupKind::Samengesteld {
                return Err(DirectoryError::invalid(
                    "samengestelde groep",
                    key.as_str(),
                    "dit is een stamgroep; een leerling heeft er precies een, als stamgroep",
                    "this is a stamgroep; a pupil has exactly one, as stamgroep",
                ));
            }
            combined.push(id);
        }
        let pupil = Pupil {
            id: new_id(),
            school_id: school_id.to_owned(),
            las_key: new.las_key.to_string(),
            achternaam,
            voorvoegsel: optional_name("voorvoegsel", &new.voorvoegsel)?,
            voornamen: optional_name("voornamen", &new.voornamen)?,
            roepnaam: optional_name("roepnaam", &new.roepnaam)?,
            jaargroep: new.jaargroep.as_str().to_owned(),
            stamgroep_id,
            combined_group_ids: combined,
            eck_id: new.eck_id.as_ref().map(|e| e.to_string()),
            active: true,
        };
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let t = now();
            sqlx::query("INSERT INTO pupils (id, school_id, las_key, achternaam, voorvoegsel, voornamen, roepnaam, \
                         jaargroep, stamgroep_id, eck_id, active, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)")
                .bind(&pupil.id).bind(&pupil.school_id).bind(&pupil.las_key).bind(&pupil.achternaam)
                .bind(&pupil.voorvoegsel).bind(&pupil.voornamen).bind(&pupil.roepnaam)
                .bind(&pupil.jaargroep).bind(&pupil.stamgroep_id).bind(&pupil.eck_id).bind(true).bind(t)
                .execute(&mut *tx).await
                .map_err(|e| match &e {
                    sqlx::Error::Database(db) if db.is_unique_violation()
                        && db.message().contains("eck_id") =>
                        DirectoryError::Duplicate { field: "ECK-iD", value: pupil.eck_id.clone().unwrap_or_default() },
                    _ => unique_as("LAS-sleutel leerling", pupil.las_key.as_str())(e),
                })?;
            for g in &pupil.combined_group_ids {
                sqlx::query("INSERT INTO pupil_groups (pupil_id, group_id) VALUES ($1, $2)")
                    .bind(&pupil.id).bind(g).execute(&mut *tx).await?;
            }
            append!(&mut *tx, AuditEvent {
                actor, action: "pupil.create", school_id: Some(school_id), party_id: None,
                subject: Some(&pupil.id), details: json!({"las_key": pupil.las_key}),
            });
            tx.commit().await?;
            Ok(())
        })?;
        Ok(pupil)
    }

    pub async fn pupil_by_id(&self, id: &str) -> Result<Option<Pupil>> {
        // The portal asks twice per view (the name, the ECK-iD for LIKA grants): two statements
        // each time on PostgreSQL before it came from the cache.
        self.cached("pupil_by_id", id.to_owned(), Option::is_some, || async {
            const SQL: &str = pupil_select!("WHERE id = $1");
            let pupil = login_reads!(self, c => {
                let row = sqlx::query(SQL).bind(id).fetch_optional(c).await?;
                row.as_ref().map(pupil_from).transpose()
            })?;
            match pupil {
                Some(mut pupil) => {
                    pupil.combined_group_ids = self.combined_groups_of(&pupil.id).await?;
                    Ok(Some(pupil))
                }
                None => Ok(None),
            }
        })
        .await
    }

    async fn combined_groups_of(&self, pupil_id: &str) -> Result<Vec<String>> {
        const SQL: &str = "SELECT group_id FROM pupil_groups WHERE pupil_id = $1 ORDER BY group_id";
        reads!(self, p => {
            let rows = sqlx::query(SQL).bind(pupil_id).fetch_all(p).await?;
            rows.iter().map(|r| r.text("group_id")).collect()
        })
    }

    /// All pupils of a school (active and not), with their combined groups.
    pub async fn pupils_of_school(&self, school_id: &str) -> Result<Vec<Pupil>> {
        const SQL: &str = pupil_select!("WHERE school_id = $1 ORDER BY achternaam, roepnaam, id");
        const MEMBERS: &str = "SELECT pg.pupil_id, pg.group_id FROM pupil_groups pg \
             JOIN pupils p ON p.id = pg.pupil_id WHERE p.school_id = $1";
        let (mut pupils, memberships) = reads!(self, p => {
            let pupils = sqlx::query(SQL).bind(school_id).fetch_all(p).await?
                .iter().map(pupil_from).collect::<Result<Vec<_>>>()?;
            let members = sqlx::query(MEMBERS).bind(school_id).fetch_all(p).await?
                .iter().map(|r| Ok((r.text("pupil_id")?, r.text("group_id")?)))
                .collect::<Result<Vec<_>>>()?;
            Ok((pupils, members))
        })?;
        let mut by_pupil: std::collections::HashMap<String, Vec<String>> = Default::default();
        for (pupil, group) in memberships {
            by_pupil.entry(pupil).or_default().push(group);
        }
        for pupil in &mut pupils {
            if let Some(mut groups) = by_pupil.remove(&pupil.id) {
                groups.sort();
                pupil.combined_group_ids = groups;
            }
        }
        Ok(pupils)
    }

    pub async fn set_pupil_active(
        &self,
        pupil_id: &str,
        active: bool,
        actor: &Actor,
    ) -> Result<()> {
        let pupil = self
            .pupil_by_id(pupil_id)
            .await?
            .ok_or_else(|| DirectoryError::not_found("leerling", pupil_id))?;
        writes!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("UPDATE pupils SET active = $1, updated_at = $2 WHERE id = $3")
                .bind(active).bind(now()).bind(pupil_id).execute(&mut *tx).await?;
            append!(&mut *tx, AuditEvent {
                actor, action: if active { "pupil.activate" } else { "pupil.deactivate" },
                school_id: Some(&pupil.school_id), party_id: None, subject: Some(pupil_id),
                details: json!({}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    /// Creates a staff member. A new account is inactive until its owner activates it.
    pub async fn create_staff(&self, new: &NewStaff, actor: &Actor) -> Result<Staff> {
        let staff = Staff {
            id: new_id(),
            email: new.email.as_ref().map(|e| e.to_string()),
            achternaam: display_name("achternaam", &new.achternaam)?,
            voorvoegsel: optional_name("voorvoegsel", &new.voorvoegsel)?,
            voornamen: optional_name("voornamen", &new.voornamen)?,
            roepnaam: optional_name("roepnaam", &new.roepnaam)?,
            eck_id: new.eck_id.as_ref().map(|e| e.to_string()),
            status: StaffStatus::Inactive,
        };
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let t = now();
            sqlx::query("INSERT INTO staff (id, email, achternaam, voorvoegsel, voornamen, roepnaam, eck_id, status, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)")
                .bind(&staff.id).bind(&staff.email).bind(&staff.achternaam).bind(&staff.voorvoegsel)
                .bind(&staff.voornamen).bind(&staff.roepnaam).bind(&staff.eck_id)
                .bind(staff.status.as_str()).bind(t)
                .execute(&mut *tx).await
                .map_err(|e| match &e {
                    sqlx::Error::Database(db) if db.is_unique_violation()
                        && db.message().contains("eck_id") =>
                        DirectoryError::Duplicate { field: "ECK-iD", value: staff.eck_id.clone().unwrap_or_default() },
                    _ => unique_as("e-mailadres", staff.email.clone().unwrap_or_default())(e),
                })?;
            append!(&mut *tx, AuditEvent {
                actor, action: "staff.create", school_id: None, party_id: None,
                subject: Some(&staff.id), details: json!({"has_email": staff.email.is_some()}),
            });
            tx.commit().await?;
            Ok(())
        })?;
        Ok(staff)
    }

    pub async fn staff_by_id(&self, id: &str) -> Result<Option<Staff>> {
        const SQL: &str = staff_select!("WHERE id = $1");
        reads!(self, p => {
            let row = sqlx::query(SQL).bind(id).fetch_optional(p).await?;
            row.as_ref().map(staff_from).transpose()
        })
    }

    /// Looks a login up. The address is normalised the same way as when it was stored.
    pub async fn staff_by_email(&self, email: &Email) -> Result<Option<Staff>> {
        const SQL: &str = staff_select!("WHERE email = $1");
        reads!(self, p => {
            let row = sqlx::query(SQL).bind(email.as_str()).fetch_optional(p).await?;
            row.as_ref().map(staff_from).transpose()
        })
    }

    /// Switches an account on or off. Off (`Deactivated`, or `Inactive`, which cannot mean
    /// "never activated" for an existing account) is for good: the account's sessions and OIDC
    /// tokens end (its epoch moves), every outstanding activation and reset link stops working,
    /// and no link brings it back; only [`Directory::reinstate_staff`] does. On (`Active`)
    /// refuses a deactivated account for the same reason.
    pub async fn set_staff_status(
        &self,
        staff_id: &str,
        status: StaffStatus,
        actor: &Actor,
    ) -> Result<()> {
        let t = now();
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let done = match status {
                StaffStatus::Active => sqlx::query("UPDATE staff SET status = 'active', updated_at = $1 WHERE id = $2 AND deactivated_at IS NULL")
                    .bind(t).bind(staff_id).execute(&mut *tx).await?,
                StaffStatus::Inactive | StaffStatus::Deactivated => sqlx::query(
                    "UPDATE staff SET status = 'inactive', deactivated_at = COALESCE(deactivated_at, $1), \
                     session_epoch = session_epoch + 1, updated_at = $1 WHERE id = $2")
                    .bind(t).bind(staff_id).execute(&mut *tx).await?,
            };
            if done.rows_affected() == 0 {
                let exists = sqlx::query("SELECT id FROM staff WHERE id = $1").bind(staff_id).fetch_optional(&mut *tx).await?;
                return Err(match exists {
                    None => DirectoryError::not_found("medewerker", staff_id),
                    Some(_) => deactivated_error(),
                });
            }
            if status != StaffStatus::Active {
                sqlx::query("UPDATE staff_tokens SET used_at = $1 WHERE staff_id = $2 AND used_at IS NULL")
                    .bind(t).bind(staff_id).execute(&mut *tx).await?;
            }
            let recorded = if status == StaffStatus::Active { StaffStatus::Active } else { StaffStatus::Deactivated };
            append!(&mut *tx, AuditEvent {
                actor, action: "staff.status", school_id: None, party_id: None,
                subject: Some(staff_id), details: json!({"status": recorded}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    /// An administrator's explicit re-invite of a deactivated account: it becomes an account
    /// that was never activated (no password; the old one no longer counts), so that the owner
    /// comes back only through the activation link the caller mails next. Returns false, and
    /// changes nothing, for an account that is not deactivated.
    pub async fn reinstate_staff(&self, staff_id: &str, actor: &Actor) -> Result<bool> {
        let t = now();
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query("UPDATE staff SET deactivated_at = NULL, password_hash = NULL, password_changed_at = NULL, \
                                    session_epoch = session_epoch + 1, updated_at = $1 \
                                    WHERE id = $2 AND status = 'inactive' AND deactivated_at IS NOT NULL")
                .bind(t).bind(staff_id).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                if sqlx::query("SELECT id FROM staff WHERE id = $1").bind(staff_id).fetch_optional(&mut *tx).await?.is_none() {
                    return Err(DirectoryError::not_found("medewerker", staff_id));
                }
                return Ok(false);
            }
            append!(&mut *tx, AuditEvent {
                actor, action: "staff.reinstate", school_id: None, party_id: None,
                subject: Some(staff_id), details: json!({}),
            });
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Records that a staff member works at a school (as the school's LAS lists them).
    pub async fn add_staff_to_school(
        &self,
        staff_id: &str,
        school_id: &str,
        las_key: Option<&LasKey>,
        actor: &Actor,
    ) -> Result<()> {
        let key = las_key.map(|k| k.to_string());
        writes!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("INSERT INTO staff_memberships (staff_id, school_id, las_key, active, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(staff_id).bind(school_id).bind(&key).bind(true).bind(now())
                .execute(&mut *tx).await
                .map_err(unique_as("LAS-sleutel medewerker", key.clone().unwrap_or_default()))?;
            append!(&mut *tx, AuditEvent {
                actor, action: "staff.membership.add", school_id: Some(school_id), party_id: None,
                subject: Some(staff_id), details: json!({"las_key": key}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn grant_role(
        &self,
        staff_id: &str,
        school_id: &str,
        role: StaffRole,
        actor: &Actor,
    ) -> Result<()> {
        if self.staff_by_id(staff_id).await?.is_none() {
            return Err(DirectoryError::not_found("medewerker", staff_id));
        }
        if self.school_by_id(school_id).await?.is_none() {
            return Err(DirectoryError::not_found("school", school_id));
        }
        writes!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("INSERT INTO staff_roles (staff_id, school_id, role, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(staff_id).bind(school_id).bind(role.as_str()).bind(actor.0.as_str()).bind(now())
                .execute(&mut *tx).await
                .map_err(unique_as("rol", role.as_str()))?;
            append!(&mut *tx, AuditEvent {
                actor, action: "staff.role.grant", school_id: Some(school_id), party_id: None,
                subject: Some(staff_id), details: json!({"role": role}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn revoke_role(
        &self,
        staff_id: &str,
        school_id: &str,
        role: StaffRole,
        actor: &Actor,
    ) -> Result<()> {
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query("DELETE FROM staff_roles WHERE staff_id = $1 AND school_id = $2 AND role = $3")
                .bind(staff_id).bind(school_id).bind(role.as_str()).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(DirectoryError::not_found("rol", role.as_str()));
            }
            append!(&mut *tx, AuditEvent {
                actor, action: "staff.role.revoke", school_id: Some(school_id), party_id: None,
                subject: Some(staff_id), details: json!({"role": role}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    /// Every school where the staff member works or holds a role, with the roles.
    pub async fn schools_of_staff(&self, staff_id: &str) -> Result<Vec<StaffAtSchool>> {
        const MEMBERS: &str =
            "SELECT school_id, las_key FROM staff_memberships WHERE staff_id = $1 AND active = $2";
        const ROLES: &str = "SELECT school_id, role FROM staff_roles WHERE staff_id = $1";
        let (members, roles) = reads!(self, p => {
            let m = sqlx::query(MEMBERS).bind(staff_id).bind(true).fetch_all(p).await?
                .iter().map(|r| Ok((r.text("school_id")?, r.opt_text("las_key")?)))
                .collect::<Result<Vec<_>>>()?;
            let r = sqlx::query(ROLES).bind(staff_id).fetch_all(p).await?
                .iter().map(|r| Ok((r.text("school_id")?, StaffRole::parse(&r.text("role")?)?)))
                .collect::<Result<Vec<_>>>()?;
            Ok((m, r))
        })?;
        let mut out: Vec<StaffAtSchool> = members
            .into_iter()
            .map(|(school_id, las_key)| StaffAtSchool {
                school_id,
                las_key,
                member: true,
                roles: vec![],
            })
            .collect();
        for (school_id, role) in roles {
            match out.iter_mut().find(|s| s.school_id == school_id) {
                Some(s) => s.roles.push(role),
                None => out.push(StaffAtSchool {
                    school_id,
                    las_key: None,
                    member: false,
                    roles: vec![role],
                }),
            }
        }
        out.sort_by(|a, b| a.school_id.cmp(&b.school_id));
        Ok(out)
    }

    /// Schools this staff member administers (role ICT-coördinator): an administrator may hold
    /// it at many schools, and a school may have many administrators.
    pub async fn schools_administered_by(&self, staff_id: &str) -> Result<Vec<String>> {
        const SQL: &str = "SELECT school_id FROM staff_roles WHERE staff_id = $1 AND role = $2 ORDER BY school_id";
        reads!(self, p => {
            let rows = sqlx::query(SQL).bind(staff_id).bind(StaffRole::IctCoordinator.as_str()).fetch_all(p).await?;
            rows.iter().map(|r| r.text("school_id")).collect()
        })
    }

    pub async fn administrators_of(&self, school_id: &str) -> Result<Vec<Staff>> {
        const SQL: &str = "SELECT s.id, s.email, s.achternaam, s.voorvoegsel, s.voornamen, s.roepnaam, s.eck_id, s.status, s.deactivated_at \
             FROM staff s JOIN staff_roles r ON r.staff_id = s.id \
             WHERE r.school_id = $1 AND r.role = $2 ORDER BY s.achternaam, s.id";
        reads!(self, p => {
            let rows = sqlx::query(SQL).bind(school_id).bind(StaffRole::IctCoordinator.as_str()).fetch_all(p).await?;
            rows.iter().map(staff_from).collect()
        })
    }

    /// Links a staff member to a group they teach (or stand in for).
    pub async fn assign_staff_group(
        &self,
        staff_id: &str,
        group_id: &str,
        actor: &Actor,
    ) -> Result<()> {
        const GROUP: &str = group_select!("WHERE id = $1");
        let group = reads!(self, p => {
            let row = sqlx::query(GROUP).bind(group_id).fetch_optional(p).await?;
            row.as_ref().map(group_from).transpose()
        })?
        .ok_or_else(|| DirectoryError::not_found("groep", group_id))?;
        writes!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("INSERT INTO staff_groups (staff_id, group_id) VALUES ($1, $2)")
                .bind(staff_id).bind(group_id).execute(&mut *tx).await
                .map_err(unique_as("groep", group.las_key.as_str()))?;
            append!(&mut *tx, AuditEvent {
                actor, action: "staff.group.assign", school_id: Some(&group.school_id), party_id: None,
                subject: Some(staff_id), details: json!({"group": group.las_key}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    /// The groups a staff member is linked to today. A link for a period (an invalkracht's)
    /// counts only from its first to its last day, Dutch calendar: this read is what grants
    /// access to a group (Beheer, the release decision), so a period ends by itself.
    pub async fn groups_of_staff(&self, staff_id: &str) -> Result<Vec<Group>> {
        const SQL: &str = "SELECT g.id, g.school_id, g.las_key, g.name, g.kind, g.jaargroep, g.active \
             FROM school_groups g JOIN staff_groups sg ON sg.group_id = g.id WHERE sg.staff_id = $1 \
             AND (sg.valid_from IS NULL OR sg.valid_from <= $2) AND (sg.valid_until IS NULL OR sg.valid_until >= $2) \
             ORDER BY g.name";
        let today = crate::model::Date::in_netherlands(now());
        reads!(self, p => {
            let rows = sqlx::query(SQL).bind(staff_id).bind(today.as_str()).fetch_all(p).await?;
            rows.iter().map(group_from).collect()
        })
    }
}
