//! Applying an EDEXML snapshot: the file is the complete current state of one school location.
//!
//! Everything happens in one transaction: new groups, pupils and staff are added, changed ones
//! updated, and those missing from the file deactivated — never deleted, so that a pupil or
//! teacher who re-appears (same LAS key, or the same ECK-iD under a new key) keeps their
//! identity, and with it their pseudonyms. A dry run is the same transaction rolled back, so it
//! shows exactly what an apply would do. The transaction starts by writing the school's row,
//! which makes concurrent imports of one school wait for each other on both backends.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde_json::json;

use crate::audit::{AuditEvent, append};
use crate::db::with_pool;
use crate::edexml::Snapshot;
use crate::error::{DirectoryError, Result};
use crate::row::RowExt;
use crate::{Actor, Directory, new_id, now};

/// What an import adds, changes and deactivates, by LAS key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Changes {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

impl Changes {
    fn sort(&mut self) {
        self.added.sort();
        self.changed.sort();
        self.removed.sort();
    }
}

/// Whose membership of a group an import changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberKind {
    Pupil,
    Staff,
}

/// A pupil's or staff member's place in a group (stamgroep or combined group), by LAS keys.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Membership {
    pub kind: MemberKind,
    /// The pupil's or staff member's LAS key.
    pub member: String,
    /// The group's LAS key.
    pub group: String,
}

/// Group memberships an import adds and ends, for the pupils and staff in the file (those who
/// leave the school altogether are listed under `removed` of their kind instead).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MembershipChanges {
    pub added: Vec<Membership>,
    pub removed: Vec<Membership>,
}

impl MembershipChanges {
    fn record(
        &mut self,
        kind: MemberKind,
        member: &str,
        old: &HashSet<String>,
        new: &HashSet<String>,
    ) {
        let entry = |group: &String| Membership {
            kind,
            member: member.to_owned(),
            group: group.clone(),
        };
        self.added.extend(new.difference(old).map(entry));
        self.removed.extend(old.difference(new).map(entry));
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub school_id: String,
    pub groups: Changes,
    pub pupils: Changes,
    pub staff: Changes,
    pub memberships: MembershipChanges,
    /// Staff who are new or got an e-mail address in this import and have not activated their
    /// account: they should receive an activation mail.
    pub to_invite: Vec<String>,
    pub applied: bool,
}

struct ExistingGroup {
    id: String,
    name: String,
    kind: String,
    jaargroep: Option<String>,
    active: bool,
}

struct ExistingPupil {
    id: String,
    las_key: String,
    fields: [Option<String>; 6],
    stamgroep_id: Option<String>,
    active: bool,
}

impl Directory {
    /// Applies (or, with `dry_run`, only computes) an import. A file for a school location that
    /// openpoort does not know is refused.
    pub async fn import_snapshot(
        &self,
        snapshot: &Snapshot,
        dry_run: bool,
        actor: &Actor,
    ) -> Result<ImportReport> {
        let code = snapshot.school_code();
        let school = self
            .school_by_code(&code)
            .await?
            .ok_or_else(|| DirectoryError::not_found("school", code.to_string()))?;
        self.refuse_merged(&school).await?;
        let t = now();
        let mut report = ImportReport {
            school_id: school.id.clone(),
            applied: !dry_run,
            ..Default::default()
        };

        with_pool!(&self.pool, p => {
            let mut tx = p.begin().await?;
            // Takes the school's row (and SQLite's write lock) first: imports of one school
            // run one after the other.
            sqlx::query("UPDATE schools SET updated_at = $1 WHERE id = $2").bind(t).bind(&school.id).execute(&mut *tx).await?;
            // Checked again under the lock: a merge may have committed since the check above.
            if let Some(r) = sqlx::query("SELECT m.brin, m.vestigingscode FROM schools s JOIN schools m ON m.id = s.merged_into WHERE s.id = $1")
                .bind(&school.id).fetch_optional(&mut *tx).await? {
                return Err(crate::school_changes::merged_error(&code.to_string(), &format!("{}{}", r.text("brin")?, r.text("vestigingscode")?)));
            }

            // Groups: stamgroepen and combined groups share one key space per school.
            let mut groups: HashMap<String, ExistingGroup> = HashMap::new();
            for r in sqlx::query("SELECT id, las_key, name, kind, jaargroep, active FROM school_groups WHERE school_id = $1")
                .bind(&school.id).fetch_all(&mut *tx).await? {
                groups.insert(r.text("las_key")?, ExistingGroup {
                    id: r.text("id")?, name: r.text("name")?, kind: r.text("kind")?,
                    jaargroep: r.opt_text("jaargroep")?, active: r.flag("active")?,
                });
            }
            let wanted: Vec<(String, String, &str, Option<String>)> = snapshot.groups.iter()
                .map(|g| (g.key.to_string(), g.name.clone(), "stamgroep", Some(g.jaargroep.as_str().to_owned())))
                .chain(snapshot.combined_groups.iter().map(|g| (g.key.to_string(), g.name.clone(), "samengesteld", None)))
                .collect();
            let mut group_ids: HashMap<String, String> = HashMap::new();
            for (key, name, kind, jaargroep) in &wanted {
                match groups.get(key) {
                    Some(g) => {
                        if &g.name != name || g.kind != *kind || &g.jaargroep != jaargroep || !g.active {
                            sqlx::query("UPDATE school_groups SET name = $1, kind = $2, jaargroep = $3, active = $4, updated_at = $5 WHERE id = $6")
                                .bind(name).bind(*kind).bind(jaargroep).bind(true).bind(t).bind(&g.id).execute(&mut *tx).await?;
                            report.groups.changed.push(key.clone());
                        }
                        group_ids.insert(key.clone(), g.id.clone());
                    }
                    None => {
                        let id = new_id();
                        sqlx::query("INSERT INTO school_groups (id, school_id, las_key, name, kind, jaargroep, active, created_at, updated_at) \
                                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)")
                            .bind(&id).bind(&school.id).bind(key).bind(name).bind(*kind).bind(jaargroep).bind(true).bind(t)
                            .execute(&mut *tx).await?;
                        report.groups.added.push(key.clone());
                        group_ids.insert(key.clone(), id);
                    }
                }
            }
            let in_file: HashSet<&String> = wanted.iter().map(|(k, ..)| k).collect();
            for (key, g) in &groups {
                if g.active && !in_file.contains(key) {
                    sqlx::query("UPDATE school_groups SET active = $1, updated_at = $2 WHERE id = $3")
                        .bind(false).bind(t).bind(&g.id).execute(&mut *tx).await?;
                    report.groups.removed.push(key.clone());
                }
            }

            // Memberships before the import, by member id and group key, to report what changes.
            let group_key: HashMap<&str, &str> = groups.iter().map(|(k, g)| (g.id.as_str(), k.as_str())).collect();
            let mut pupil_groups_before: HashMap<String, HashSet<String>> = HashMap::new();
            for r in sqlx::query("SELECT p.id AS pupil_id, p.stamgroep_id AS group_id FROM pupils p WHERE p.school_id = $1 AND p.stamgroep_id IS NOT NULL \
                                  UNION ALL SELECT pg.pupil_id, pg.group_id FROM pupil_groups pg JOIN pupils p ON p.id = pg.pupil_id WHERE p.school_id = $1")
                .bind(&school.id).fetch_all(&mut *tx).await? {
                if let Some(key) = group_key.get(r.text("group_id")?.as_str()) {
                    pupil_groups_before.entry(r.text("pupil_id")?).or_default().insert((*key).to_owned());
                }
            }
            let mut staff_groups_before: HashMap<String, HashSet<String>> = HashMap::new();
            for r in sqlx::query("SELECT sg.staff_id, sg.group_id FROM staff_groups sg JOIN school_groups g ON g.id = sg.group_id WHERE g.school_id = $1")
                .bind(&school.id).fetch_all(&mut *tx).await? {
                if let Some(key) = group_key.get(r.text("group_id")?.as_str()) {
                    staff_groups_before.entry(r.text("staff_id")?).or_default().insert((*key).to_owned());
                }
            }
            let resolvable = |keys: &mut dyn Iterator<Item = &crate::model::LasKey>| -> HashSet<String> {
                keys.map(|k| k.to_string()).filter(|k| group_ids.contains_key(k)).collect()
            };

            // Pupils: matched by LAS key, else by ECK-iD (a new key for the same child).
            let mut by_key: HashMap<String, ExistingPupil> = HashMap::new();
            let mut by_eck: HashMap<String, String> = HashMap::new();
            for r in sqlx::query("SELECT id, las_key, achternaam, voorvoegsel, voornamen, roepnaam, jaargroep, eck_id, stamgroep_id, active \
                                  FROM pupils WHERE school_id = $1")
                .bind(&school.id).fetch_all(&mut *tx).await? {
                let key = r.text("las_key")?;
                if let Some(eck) = r.opt_text("eck_id")? {
                    by_eck.insert(eck, key.clone());
                }
                by_key.insert(key.clone(), ExistingPupil {
                    id: r.text("id")?, las_key: key,
                    fields: [Some(r.text("achternaam")?), r.opt_text("voorvoegsel")?, r.opt_text("voornamen")?,
                             r.opt_text("roepnaam")?, Some(r.text("jaargroep")?), r.opt_text("eck_id")?],
                    stamgroep_id: r.opt_text("stamgroep_id")?, active: r.flag("active")?,
                });
            }
            let mut seen: HashSet<String> = HashSet::new();
            for sp in &snapshot.pupils {
                let key = sp.key.to_string();
                let eck = sp.eck_id.as_ref().map(|e| e.to_string());
                let fields = [Some(sp.achternaam.clone().unwrap_or_default()), sp.voorvoegsel.clone(), sp.voornamen.clone(),
                              sp.roepnaam.clone(), Some(sp.jaargroep.as_str().to_owned()), eck.clone()];
                let stamgroep = sp.stamgroep.as_ref().and_then(|k| group_ids.get(k.as_str())).cloned();
                let existing = by_key.get(&key).or_else(|| eck.as_ref().and_then(|e| by_eck.get(e)).and_then(|k| by_key.get(k)));
                let id = match existing {
                    Some(e) => {
                        if e.fields != fields || e.stamgroep_id != stamgroep || !e.active || e.las_key != key {
                            sqlx::query("UPDATE pupils SET las_key = $1, achternaam = $2, voorvoegsel = $3, voornamen = $4, roepnaam = $5, \
                                         jaargroep = $6, eck_id = $7, stamgroep_id = $8, active = $9, updated_at = $10 WHERE id = $11")
                                .bind(&key).bind(&fields[0]).bind(&fields[1]).bind(&fields[2]).bind(&fields[3]).bind(&fields[4])
                                .bind(&fields[5]).bind(&stamgroep).bind(true).bind(t).bind(&e.id)
                                .execute(&mut *tx).await.map_err(eck_conflict(&eck))?;
                            report.pupils.changed.push(key.clone());
                        }
                        seen.insert(e.id.clone());
                        e.id.clone()
                    }
                    None => {
                        let id = new_id();
                        sqlx::query("INSERT INTO pupils (id, school_id, las_key, achternaam, voorvoegsel, voornamen, roepnaam, jaargroep, \
                                     stamgroep_id, eck_id, active, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)")
                            .bind(&id).bind(&school.id).bind(&key).bind(&fields[0]).bind(&fields[1]).bind(&fields[2])
                            .bind(&fields[3]).bind(&fields[4]).bind(&stamgroep).bind(&eck).bind(true).bind(t)
                            .execute(&mut *tx).await.map_err(eck_conflict(&eck))?;
                        report.pupils.added.push(key.clone());
                        seen.insert(id.clone());
                        id
                    }
                };
                let now_in = resolvable(&mut sp.stamgroep.iter().chain(&sp.combined_groups));
                report.memberships.record(MemberKind::Pupil, &key, pupil_groups_before.get(&id).unwrap_or(&HashSet::new()), &now_in);
                sqlx::query("DELETE FROM pupil_groups WHERE pupil_id = $1").bind(&id).execute(&mut *tx).await?;
                for g in &sp.combined_groups {
                    if let Some(gid) = group_ids.get(g.as_str()) {
                        sqlx::query("INSERT INTO pupil_groups (pupil_id, group_id) VALUES ($1, $2)")
                            .bind(&id).bind(gid).execute(&mut *tx).await?;
                    }
                }
            }
            for e in by_key.values() {
                if e.active && !seen.contains(&e.id) {
                    sqlx::query("UPDATE pupils SET active = $1, updated_at = $2 WHERE id = $3")
                        .bind(false).bind(t).bind(&e.id).execute(&mut *tx).await?;
                    report.pupils.removed.push(e.las_key.clone());
                }
            }

            // Staff: matched by their LAS key at this school, else by e-mail (one person, one
            // login, possibly at several schools).
            let mut members: HashMap<String, (String, bool)> = HashMap::new();
            for r in sqlx::query("SELECT staff_id, las_key, active FROM staff_memberships WHERE school_id = $1 AND las_key IS NOT NULL")
                .bind(&school.id).fetch_all(&mut *tx).await? {
                members.insert(r.text("las_key")?, (r.text("staff_id")?, r.flag("active")?));
            }
            let mut present: HashSet<String> = HashSet::new();
            for st in &snapshot.teachers {
                let key = st.key.to_string();
                let email = st.email.as_ref().map(|e| e.to_string());
                let mut staff_id = members.get(&key).map(|(id, _)| id.clone());
                if staff_id.is_none() && let Some(e) = &email {
                    staff_id = sqlx::query("SELECT id FROM staff WHERE email = $1").bind(e).fetch_optional(&mut *tx).await?
                        .map(|r| r.text("id")).transpose()?;
                }
                let achternaam = st.achternaam.clone().unwrap_or_default();
                let id = match staff_id {
                    Some(id) => {
                        let row = sqlx::query("SELECT email, achternaam, voorvoegsel, voornamen, roepnaam, password_hash FROM staff WHERE id = $1")
                            .bind(&id).fetch_one(&mut *tx).await?;
                        let old = (row.opt_text("email")?, row.text("achternaam")?, row.opt_text("voorvoegsel")?, row.opt_text("voornamen")?, row.opt_text("roepnaam")?);
                        let new_email = email.clone().or(old.0.clone());
                        let new = (new_email.clone(), achternaam.clone(), st.voorvoegsel.clone(), st.voornamen.clone(), st.roepnaam.clone());
                        let membership_changed = !matches!(members.get(&key), Some((mid, true)) if mid == &id);
                        if old != new || membership_changed {
                            sqlx::query("UPDATE staff SET email = $1, achternaam = $2, voorvoegsel = $3, voornamen = $4, roepnaam = $5, updated_at = $6 WHERE id = $7")
                                .bind(&new.0).bind(&new.1).bind(&new.2).bind(&new.3).bind(&new.4).bind(t).bind(&id)
                                .execute(&mut *tx).await.map_err(crate::error::unique_as("e-mailadres", new_email.clone().unwrap_or_default()))?;
                            report.staff.changed.push(key.clone());
                        }
                        if old.0.is_none() && new_email.is_some() && row.opt_text("password_hash")?.is_none() {
                            report.to_invite.push(id.clone());
                        }
                        id
                    }
                    None => {
                        let id = new_id();
                        sqlx::query("INSERT INTO staff (id, email, achternaam, voorvoegsel, voornamen, roepnaam, status, created_at, updated_at) \
                                     VALUES ($1, $2, $3, $4, $5, $6, 'inactive', $7, $7)")
                            .bind(&id).bind(&email).bind(&achternaam).bind(&st.voorvoegsel).bind(&st.voornamen).bind(&st.roepnaam).bind(t)
                            .execute(&mut *tx).await.map_err(crate::error::unique_as("e-mailadres", email.clone().unwrap_or_default()))?;
                        // A teacher in the LAS is a leerkracht at this school; EDEXML's other roles
                        // are information only and grant nothing.
                        sqlx::query("INSERT INTO staff_roles (staff_id, school_id, role, granted_by, granted_at) VALUES ($1, $2, 'leerkracht', $3, $4)")
                            .bind(&id).bind(&school.id).bind(actor.0.as_str()).bind(t).execute(&mut *tx).await?;
                        report.staff.added.push(key.clone());
                        if email.is_some() {
                            report.to_invite.push(id.clone());
                        }
                        id
                    }
                };
                sqlx::query("DELETE FROM staff_memberships WHERE staff_id = $1 AND school_id = $2").bind(&id).bind(&school.id).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO staff_memberships (staff_id, school_id, las_key, active, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(&id).bind(&school.id).bind(&key).bind(true).bind(t).execute(&mut *tx).await?;
                let now_in = resolvable(&mut st.groups.iter().chain(&st.combined_groups));
                report.memberships.record(MemberKind::Staff, &key, staff_groups_before.get(&id).unwrap_or(&HashSet::new()), &now_in);
                sqlx::query("DELETE FROM staff_groups WHERE staff_id = $1 AND group_id IN (SELECT id FROM school_groups WHERE school_id = $2)")
                    .bind(&id).bind(&school.id).execute(&mut *tx).await?;
                for g in st.groups.iter().chain(&st.combined_groups) {
                    if let Some(gid) = group_ids.get(g.as_str()) {
                        sqlx::query("INSERT INTO staff_groups (staff_id, group_id) VALUES ($1, $2)").bind(&id).bind(gid).execute(&mut *tx).await?;
                    }
                }
                present.insert(id);
            }
            for (key, (id, active)) in &members {
                if *active && !present.contains(id) {
                    // Gone from the LAS: no longer works here, and their sessions end at once.
                    sqlx::query("UPDATE staff_memberships SET active = $1 WHERE staff_id = $2 AND school_id = $3")
                        .bind(false).bind(id).bind(&school.id).execute(&mut *tx).await?;
                    sqlx::query("UPDATE staff SET session_epoch = session_epoch + 1 WHERE id = $1").bind(id).execute(&mut *tx).await?;
                    report.staff.removed.push(key.clone());
                }
            }

            report.groups.sort();
            report.memberships.added.sort();
            report.memberships.removed.sort();
            report.pupils.sort();
            report.staff.sort();
            if !dry_run {
            append!(&mut *tx, AuditEvent {
                actor, action: "import.apply",
                school_id: Some(&school.id), party_id: None, subject: None,
                details: json!({
                    "groups": [report.groups.added.len(), report.groups.changed.len(), report.groups.removed.len()],
                    "pupils": [report.pupils.added.len(), report.pupils.changed.len(), report.pupils.removed.len()],
                    "staff": [report.staff.added.len(), report.staff.changed.len(), report.staff.removed.len()],
                }),
            });
            }
            if dry_run {
                tx.rollback().await?;
            } else {
                tx.commit().await?;
            }
        });
        if dry_run {
            // The rolled-back transaction took its audit entry with it; record the dry run.
            self.audit(AuditEvent {
                actor,
                action: "import.dry_run",
                school_id: Some(&school.id),
                party_id: None,
                subject: None,
                details: json!({"pupils": report.pupils.added.len() + report.pupils.changed.len() + report.pupils.removed.len()}),
            })
            .await?;
        }
        Ok(report)
    }
}

fn eck_conflict(eck: &Option<String>) -> impl FnOnce(sqlx::Error) -> DirectoryError + '_ {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => DirectoryError::Duplicate {
            field: "ECK-iD",
            value: eck.clone().unwrap_or_default(),
        },
        _ => DirectoryError::Database(e),
    }
}
