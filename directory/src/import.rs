//! Applying an EDEXML snapshot: the file is the complete current state of one school location.
//!
//! Everything happens in one transaction: new groups, pupils and staff are added, changed ones
//! updated, and those missing from the file deactivated — never deleted, so that a pupil or
//! teacher who re-appears (same LAS key, or the same ECK-iD under a new key) keeps their
//! identity, and with it their pseudonyms. A dry run is the same transaction rolled back, so it
//! shows exactly what an apply would do. The transaction starts by writing the school's row,
//! which makes concurrent imports of one school wait for each other on both backends.
//!
//! The work is split in two: the school's current state is read and compared with the file into
//! a [`Plan`] (no writes), then the plan is written with multi-row statements of at most
//! [`MAX_PARAMS`] parameters each. A school of 50,000 pupils then costs a few hundred statements
//! instead of a few hundred thousand round trips.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;
use sqlx::AssertSqlSafe;

use crate::audit::{AuditEvent, append};
use crate::db::writes;
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
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
    /// The difference between two sets of (kind, member key, group key), for `members` only.
    fn between(
        before: &HashSet<(MemberKind, String, String)>,
        after: &HashSet<(MemberKind, String, String)>,
        members: &HashSet<(MemberKind, &str)>,
    ) -> MembershipChanges {
        let listed = |set: &HashSet<(MemberKind, String, String)>,
                      other: &HashSet<(MemberKind, String, String)>| {
            let mut list: Vec<Membership> = set
                .difference(other)
                .filter(|(kind, member, _)| members.contains(&(*kind, member.as_str())))
                .map(|(kind, member, group)| Membership {
                    kind: *kind,
                    member: member.clone(),
                    group: group.clone(),
                })
                .collect();
            list.sort();
            list
        };
        MembershipChanges {
            added: listed(after, before),
            removed: listed(before, after),
        }
    }
}

/// Every active membership of the school's active groups, by LAS keys: before and after the
/// writes, to report what an import changed.
const MEMBERSHIPS: &str = "SELECT 'pupil' AS kind, p.las_key AS member, g.las_key AS grp FROM pupils p \
     JOIN school_groups g ON g.id = p.stamgroep_id WHERE p.school_id = $1 AND p.active = $2 AND g.active = $2 \
     UNION ALL SELECT 'pupil', p.las_key, g.las_key FROM pupil_groups pg JOIN pupils p ON p.id = pg.pupil_id \
     JOIN school_groups g ON g.id = pg.group_id WHERE p.school_id = $1 AND p.active = $2 AND g.active = $2 \
     UNION ALL SELECT 'staff', sm.las_key, g.las_key FROM staff_groups sg JOIN school_groups g ON g.id = sg.group_id \
     JOIN staff_memberships sm ON sm.staff_id = sg.staff_id AND sm.school_id = g.school_id \
     WHERE g.school_id = $1 AND sm.active = $2 AND g.active = $2 AND sm.las_key IS NOT NULL";

fn membership_kind(kind: &str) -> MemberKind {
    if kind == "staff" {
        MemberKind::Staff
    } else {
        MemberKind::Pupil
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
    /// Where the time went, for the benchmark and the logs; not part of the result.
    #[serde(skip)]
    pub timings: ImportTimings,
}

/// Wall time of the phases of [`Directory::import_snapshot`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportTimings {
    /// Taking the school's lock, reading its current state and comparing it with the file.
    pub read_and_diff: Duration,
    /// Writing the difference (inside the transaction).
    pub write: Duration,
    /// Committing (or, for a dry run, rolling back).
    pub commit: Duration,
}

/// Parameters per statement: below SQLite's 32,766 and PostgreSQL's 65,535.
const MAX_PARAMS: usize = 30_000;

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
    fields: PupilFields,
    stamgroep_id: Option<String>,
    active: bool,
}

/// achternaam, voorvoegsel, voornamen, roepnaam, jaargroep, eck_id: in the order of the columns.
type PupilFields = [Option<String>; 6];

struct ExistingStaff {
    email: Option<String>,
    names: StaffNames,
    has_password: bool,
    /// Deactivated by an operator: the LAS listing them does not bring them back.
    deactivated: bool,
}

/// achternaam, voorvoegsel, voornamen, roepnaam.
type StaffNames = (String, Option<String>, Option<String>, Option<String>);

struct GroupRow {
    id: String,
    key: String,
    name: String,
    kind: &'static str,
    jaargroep: Option<String>,
}

struct PupilRow {
    id: String,
    key: String,
    fields: PupilFields,
    stamgroep: Option<String>,
}

struct StaffUpdate {
    id: String,
    email: Option<String>,
    names: StaffNames,
}

struct StaffInsert {
    id: String,
    email: Option<String>,
    names: StaffNames,
}

/// Every write an import makes, computed before the first of them.
#[derive(Default)]
struct Plan {
    group_updates: Vec<GroupRow>,
    group_inserts: Vec<GroupRow>,
    group_deactivations: Vec<String>,
    pupil_updates: Vec<PupilRow>,
    pupil_inserts: Vec<PupilRow>,
    pupil_deactivations: Vec<String>,
    pupil_group_deletes: Vec<(String, String)>,
    pupil_group_inserts: Vec<(String, String)>,
    staff_updates: Vec<StaffUpdate>,
    staff_inserts: Vec<StaffInsert>,
    /// Staff whose membership of this school is (re)written, with their LAS key.
    memberships: Vec<(String, String)>,
    staff_group_deletes: Vec<(String, String)>,
    staff_group_inserts: Vec<(String, String)>,
    /// Staff gone from the LAS: membership off, the roles and groups the import gave them here
    /// gone, sessions and tokens ended.
    staff_removals: Vec<String>,
    /// ECK-iDs of the file that pupils of other schools hold.
    foreign_eck_ids: Vec<String>,
}

/// `head` followed by `rows` copies of `row`, separated by commas. In `row`, `?` stands for the
/// next parameter of that row and `$k` (k ≤ `shared`) for a parameter shared by all rows, bound
/// first.
fn batch_sql(head: &str, row: &str, shared: usize, rows: usize, tail: &str) -> String {
    let per_row = row.matches('?').count();
    let mut sql = String::with_capacity(head.len() + rows * (row.len() + 8) + tail.len());
    sql.push_str(head);
    let mut n = shared;
    for i in 0..rows {
        if i > 0 {
            sql.push_str(", ");
        }
        for c in row.chars() {
            if c == '?' {
                n += 1;
                sql.push('$');
                sql.push_str(&n.to_string());
            } else {
                sql.push(c);
            }
        }
    }
    debug_assert_eq!(n, shared + rows * per_row);
    sql.push_str(tail);
    sql
}

/// How many rows of `per_row` parameters fit in one statement.
fn chunk(per_row: usize) -> usize {
    MAX_PARAMS / per_row
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
        let school_id = school.id.as_str();

        writes!(self, p => {
            let started = Instant::now();
            let mut tx = p.begin().await?;
            // Takes the school's row (and SQLite's write lock) first: imports of one school
            // run one after the other, and each reads the state the previous one committed.
            sqlx::query("UPDATE schools SET updated_at = $1 WHERE id = $2").bind(t).bind(school_id).execute(&mut *tx).await?;
            // Checked again under the lock: a merge may have committed since the check above.
            if let Some(r) = sqlx::query("SELECT m.brin, m.vestigingscode FROM schools s JOIN schools m ON m.id = s.merged_into WHERE s.id = $1")
                .bind(school_id).fetch_optional(&mut *tx).await? {
                return Err(crate::school_changes::merged_error(&code.to_string(), &format!("{}{}", r.text("brin")?, r.text("vestigingscode")?)));
            }

            let mut memberships_before = HashSet::new();
            for r in sqlx::query(MEMBERSHIPS).bind(school_id).bind(true).fetch_all(&mut *tx).await? {
                memberships_before.insert((membership_kind(&r.text("kind")?), r.text("member")?, r.text("grp")?));
            }
            let mut groups: HashMap<String, ExistingGroup> = HashMap::new();
            for r in sqlx::query("SELECT id, las_key, name, kind, jaargroep, active FROM school_groups WHERE school_id = $1")
                .bind(school_id).fetch_all(&mut *tx).await? {
                groups.insert(r.text("las_key")?, ExistingGroup {
                    id: r.text("id")?, name: r.text("name")?, kind: r.text("kind")?,
                    jaargroep: r.opt_text("jaargroep")?, active: r.flag("active")?,
                });
            }
            let mut pupils: HashMap<String, ExistingPupil> = HashMap::new();
            for r in sqlx::query("SELECT id, las_key, achternaam, voorvoegsel, voornamen, roepnaam, jaargroep, eck_id, stamgroep_id, active \
                                  FROM pupils WHERE school_id = $1")
                .bind(school_id).fetch_all(&mut *tx).await? {
                let key = r.text("las_key")?;
                pupils.insert(key.clone(), ExistingPupil {
                    id: r.text("id")?, las_key: key,
                    fields: [Some(r.text("achternaam")?), r.opt_text("voorvoegsel")?, r.opt_text("voornamen")?,
                             r.opt_text("roepnaam")?, Some(r.text("jaargroep")?), r.opt_text("eck_id")?],
                    stamgroep_id: r.opt_text("stamgroep_id")?, active: r.flag("active")?,
                });
            }
            let mut pupil_groups: HashSet<(String, String)> = HashSet::new();
            for r in sqlx::query("SELECT pg.pupil_id, pg.group_id FROM pupil_groups pg JOIN pupils p ON p.id = pg.pupil_id WHERE p.school_id = $1")
                .bind(school_id).fetch_all(&mut *tx).await? {
                pupil_groups.insert((r.text("pupil_id")?, r.text("group_id")?));
            }
            let file_ecks: Vec<String> = snapshot.pupils.iter().filter_map(|p| p.eck_id.as_ref().map(|e| e.to_string())).collect();
            let mut foreign_ecks: Vec<String> = Vec::new();
            for ecks in file_ecks.chunks(chunk(1)) {
                let sql = batch_sql("SELECT eck_id FROM pupils WHERE school_id <> $1 AND eck_id IN (", "?", 1, ecks.len(), ")");
                let mut q = sqlx::query(AssertSqlSafe(sql)).bind(school_id);
                for e in ecks {
                    q = q.bind(e);
                }
                for r in q.fetch_all(&mut *tx).await? {
                    foreign_ecks.push(r.text("eck_id")?);
                }
            }

            let mut members: HashMap<String, (String, bool)> = HashMap::new();
            for r in sqlx::query("SELECT staff_id, las_key, active FROM staff_memberships WHERE school_id = $1 AND las_key IS NOT NULL")
                .bind(school_id).fetch_all(&mut *tx).await? {
                members.insert(r.text("las_key")?, (r.text("staff_id")?, r.flag("active")?));
            }
            let mut by_email: HashMap<String, String> = HashMap::new();
            let unmatched: Vec<String> = snapshot.teachers.iter()
                .filter(|st| !members.contains_key(st.key.as_str()))
                .filter_map(|st| st.email.as_ref().map(|e| e.to_string()))
                .collect();
            for emails in unmatched.chunks(chunk(1)) {
                let sql = batch_sql("SELECT id, email FROM staff WHERE email IN (", "?", 0, emails.len(), ")");
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for e in emails {
                    q = q.bind(e);
                }
                for r in q.fetch_all(&mut *tx).await? {
                    by_email.insert(r.text("email")?, r.text("id")?);
                }
            }
            let known_ids: Vec<&String> = members.values().map(|(id, _)| id).chain(by_email.values()).collect::<HashSet<_>>().into_iter().collect();
            let mut staff: HashMap<String, ExistingStaff> = HashMap::new();
            for ids in known_ids.chunks(chunk(1)) {
                let sql = batch_sql("SELECT id, email, achternaam, voorvoegsel, voornamen, roepnaam, password_hash, deactivated_at FROM staff WHERE id IN (", "?", 0, ids.len(), ")");
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for id in ids {
                    q = q.bind(*id);
                }
                for r in q.fetch_all(&mut *tx).await? {
                    staff.insert(r.text("id")?, ExistingStaff {
                        email: r.opt_text("email")?,
                        names: (r.text("achternaam")?, r.opt_text("voorvoegsel")?, r.opt_text("voornamen")?, r.opt_text("roepnaam")?),
                        has_password: r.opt_text("password_hash")?.is_some(),
                        deactivated: r.opt_int("deactivated_at")?.is_some(),
                    });
                }
            }
            let mut staff_groups: HashSet<(String, String)> = HashSet::new();
            for r in sqlx::query("SELECT sg.staff_id, sg.group_id FROM staff_groups sg JOIN school_groups g ON g.id = sg.group_id WHERE g.school_id = $1")
                .bind(school_id).fetch_all(&mut *tx).await? {
                staff_groups.insert((r.text("staff_id")?, r.text("group_id")?));
            }

            let plan = diff(snapshot, &mut report, Existing {
                groups, pupils, pupil_groups, members, by_email, staff, staff_groups, foreign_ecks,
            });
            if let Some(eck) = plan.foreign_eck_ids.first() {
                // A pupil who moved keeps their ECK-iD; the old school must import first (or
                // its LAS must have removed them), since one child is one identity.
                return Err(DirectoryError::Duplicate { field: "ECK-iD", value: eck.clone() });
            }
            report.timings.read_and_diff = started.elapsed();
            let writing = Instant::now();

            for g in &plan.group_updates {
                sqlx::query("UPDATE school_groups SET name = $1, kind = $2, jaargroep = $3, active = $4, updated_at = $5 WHERE id = $6")
                    .bind(&g.name).bind(g.kind).bind(&g.jaargroep).bind(true).bind(t).bind(&g.id).execute(&mut *tx).await?;
            }
            for rows in plan.group_inserts.chunks(chunk(5)) {
                let sql = batch_sql("INSERT INTO school_groups (id, school_id, las_key, name, kind, jaargroep, active, created_at, updated_at) VALUES ",
                                    "(?, $1, ?, ?, ?, ?, $2, $3, $3)", 3, rows.len(), "");
                let mut q = sqlx::query(AssertSqlSafe(sql)).bind(school_id).bind(true).bind(t);
                for g in rows {
                    q = q.bind(&g.id).bind(&g.key).bind(&g.name).bind(g.kind).bind(&g.jaargroep);
                }
                q.execute(&mut *tx).await?;
            }
            for ids in plan.group_deactivations.chunks(chunk(1)) {
                let sql = batch_sql("UPDATE school_groups SET active = $1, updated_at = $2 WHERE id IN (", "?", 2, ids.len(), ")");
                let mut q = sqlx::query(AssertSqlSafe(sql)).bind(false).bind(t);
                for id in ids {
                    q = q.bind(id);
                }
                q.execute(&mut *tx).await?;
            }

            // Updates before inserts: an ECK-iD that moves from a changed pupil to a new one is
            // free by the time the new one is written.
            for rows in plan.pupil_updates.chunks(chunk(9)) {
                let sql = batch_sql("UPDATE pupils SET las_key = v.column2, achternaam = v.column3, voorvoegsel = v.column4, \
                                     voornamen = v.column5, roepnaam = v.column6, jaargroep = v.column7, eck_id = v.column8, \
                                     stamgroep_id = v.column9, active = $1, updated_at = $2 FROM (VALUES ",
                                    "(?, ?, ?, ?, ?, ?, ?, ?, ?)", 2, rows.len(), ") AS v WHERE pupils.id = v.column1");
                let mut q = sqlx::query(AssertSqlSafe(sql)).bind(true).bind(t);
                for p in rows {
                    q = q.bind(&p.id).bind(&p.key).bind(&p.fields[0]).bind(&p.fields[1]).bind(&p.fields[2])
                        .bind(&p.fields[3]).bind(&p.fields[4]).bind(&p.fields[5]).bind(&p.stamgroep);
                }
                q.execute(&mut *tx).await.map_err(eck_conflict)?;
            }
            for rows in plan.pupil_inserts.chunks(chunk(10)) {
                let sql = batch_sql("INSERT INTO pupils (id, school_id, las_key, achternaam, voorvoegsel, voornamen, roepnaam, jaargroep, \
                                     eck_id, stamgroep_id, active, created_at, updated_at) VALUES ",
                                    "(?, $1, ?, ?, ?, ?, ?, ?, ?, ?, $2, $3, $3)", 3, rows.len(), "");
                let mut q = sqlx::query(AssertSqlSafe(sql)).bind(school_id).bind(true).bind(t);
                for p in rows {
                    q = q.bind(&p.id).bind(&p.key).bind(&p.fields[0]).bind(&p.fields[1]).bind(&p.fields[2])
                        .bind(&p.fields[3]).bind(&p.fields[4]).bind(&p.fields[5]).bind(&p.stamgroep);
                }
                q.execute(&mut *tx).await.map_err(eck_conflict)?;
            }
            for pairs in plan.pupil_group_deletes.chunks(chunk(2)) {
                let sql = batch_sql("DELETE FROM pupil_groups WHERE (pupil_id, group_id) IN (VALUES ", "(?, ?)", 0, pairs.len(), ")");
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for (a, b) in pairs {
                    q = q.bind(a).bind(b);
                }
                q.execute(&mut *tx).await?;
            }
            for pairs in plan.pupil_group_inserts.chunks(chunk(2)) {
                let sql = batch_sql("INSERT INTO pupil_groups (pupil_id, group_id) VALUES ", "(?, ?)", 0, pairs.len(), "");
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for (a, b) in pairs {
                    q = q.bind(a).bind(b);
                }
                q.execute(&mut *tx).await?;
            }
            for ids in plan.pupil_deactivations.chunks(chunk(1)) {
                let sql = batch_sql("UPDATE pupils SET active = $1, updated_at = $2 WHERE id IN (", "?", 2, ids.len(), ")");
                let mut q = sqlx::query(AssertSqlSafe(sql)).bind(false).bind(t);
                for id in ids {
                    q = q.bind(id);
                }
                q.execute(&mut *tx).await?;
            }

            for s in &plan.staff_updates {
                sqlx::query("UPDATE staff SET email = $1, achternaam = $2, voorvoegsel = $3, voornamen = $4, roepnaam = $5, updated_at = $6 WHERE id = $7")
                    .bind(&s.email).bind(&s.names.0).bind(&s.names.1).bind(&s.names.2).bind(&s.names.3).bind(t).bind(&s.id)
                    .execute(&mut *tx).await.map_err(crate::error::unique_as("e-mailadres", s.email.clone().unwrap_or_default()))?;
            }
            for rows in plan.staff_inserts.chunks(chunk(6)) {
                let sql = batch_sql("INSERT INTO staff (id, email, achternaam, voorvoegsel, voornamen, roepnaam, status, created_at, updated_at) VALUES ",
                                    "(?, ?, ?, ?, ?, ?, 'inactive', $1, $1)", 1, rows.len(), "");
                let mut q = sqlx::query(AssertSqlSafe(sql)).bind(t);
                for s in rows {
                    q = q.bind(&s.id).bind(&s.email).bind(&s.names.0).bind(&s.names.1).bind(&s.names.2).bind(&s.names.3);
                }
                let first_email = rows.iter().find_map(|s| s.email.clone()).unwrap_or_default();
                q.execute(&mut *tx).await.map_err(crate::error::unique_as("e-mailadres", first_email))?;
            }
            for rows in plan.memberships.chunks(chunk(2)) {
                let sql = batch_sql("DELETE FROM staff_memberships WHERE school_id = $1 AND staff_id IN (", "?", 1, rows.len(), ")");
                let mut q = sqlx::query(AssertSqlSafe(sql)).bind(school_id);
                for (id, _) in rows {
                    q = q.bind(id);
                }
                q.execute(&mut *tx).await?;
                let sql = batch_sql("INSERT INTO staff_memberships (staff_id, school_id, las_key, active, created_at) VALUES ",
                                    "(?, $1, ?, $2, $3)", 3, rows.len(), "");
                let mut q = sqlx::query(AssertSqlSafe(sql)).bind(school_id).bind(true).bind(t);
                for (id, key) in rows {
                    q = q.bind(id).bind(key);
                }
                q.execute(&mut *tx).await?;
                // A teacher in the LAS is a leerkracht at this school, also one who comes back
                // after a removal took that role; EDEXML's other roles are information only and
                // grant nothing. Marked as the import's, so that the LAS can take it away again;
                // a leerkracht role granted by hand stays the school's.
                let sql = batch_sql("INSERT INTO staff_roles (staff_id, school_id, role, granted_by, granted_at, granted_by_import) VALUES ",
                                    "(?, $1, 'leerkracht', $2, $3, $4)", 4, rows.len(), " ON CONFLICT DO NOTHING");
                let mut q = sqlx::query(AssertSqlSafe(sql)).bind(school_id).bind(actor.0.as_str()).bind(t).bind(true);
                for (id, _) in rows {
                    q = q.bind(id);
                }
                q.execute(&mut *tx).await?;
            }
            for pairs in plan.staff_group_deletes.chunks(chunk(2)) {
                let sql = batch_sql("DELETE FROM staff_groups WHERE (staff_id, group_id) IN (VALUES ", "(?, ?)", 0, pairs.len(), ")");
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for (a, b) in pairs {
                    q = q.bind(a).bind(b);
                }
                q.execute(&mut *tx).await?;
            }
            for pairs in plan.staff_group_inserts.chunks(chunk(2)) {
                let sql = batch_sql("INSERT INTO staff_groups (staff_id, group_id) VALUES ", "(?, ?)", 0, pairs.len(), "");
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for (a, b) in pairs {
                    q = q.bind(a).bind(b);
                }
                q.execute(&mut *tx).await?;
            }
            for ids in plan.staff_removals.chunks(chunk(1)) {
                // Gone from the LAS: no longer works here, and everything the LAS gave them here
                // ends with it. Left active, the leerkracht role alone kept the school in their
                // list, their groups kept them managing (and printing home codes for) pupils, and
                // the release decision kept releasing them as staff. Roles granted by hand stay:
                // those are the school's choice, not the LAS's.
                let sql = batch_sql("UPDATE staff_memberships SET active = $1 WHERE school_id = $2 AND staff_id IN (", "?", 2, ids.len(), ")");
                let mut q = sqlx::query(AssertSqlSafe(sql)).bind(false).bind(school_id);
                for id in ids {
                    q = q.bind(id);
                }
                q.execute(&mut *tx).await?;
                let sql = batch_sql("DELETE FROM staff_roles WHERE school_id = $1 AND granted_by_import = $2 AND staff_id IN (", "?", 2, ids.len(), ")");
                let mut q = sqlx::query(AssertSqlSafe(sql)).bind(school_id).bind(true);
                for id in ids {
                    q = q.bind(id);
                }
                q.execute(&mut *tx).await?;
                let sql = batch_sql("DELETE FROM staff_groups WHERE group_id IN (SELECT id FROM school_groups WHERE school_id = $1) AND staff_id IN (",
                                    "?", 1, ids.len(), ")");
                let mut q = sqlx::query(AssertSqlSafe(sql)).bind(school_id);
                for id in ids {
                    q = q.bind(id);
                }
                q.execute(&mut *tx).await?;
                let sql = batch_sql("UPDATE staff SET session_epoch = session_epoch + 1 WHERE id IN (", "?", 0, ids.len(), ")");
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for id in ids {
                    q = q.bind(id);
                }
                q.execute(&mut *tx).await?;
            }

            let mut memberships_after = HashSet::new();
            for r in sqlx::query(MEMBERSHIPS).bind(school_id).bind(true).fetch_all(&mut *tx).await? {
                memberships_after.insert((membership_kind(&r.text("kind")?), r.text("member")?, r.text("grp")?));
            }
            // Reported for the people in the file; those who left are under `removed` of their kind.
            let in_file: HashSet<(MemberKind, &str)> = snapshot.pupils.iter().map(|p| (MemberKind::Pupil, p.key.as_str()))
                .chain(snapshot.teachers.iter().map(|t| (MemberKind::Staff, t.key.as_str())))
                .collect();
            report.memberships = MembershipChanges::between(&memberships_before, &memberships_after, &in_file);
            report.groups.sort();
            report.pupils.sort();
            report.staff.sort();
            if !dry_run {
                append!(&mut *tx, AuditEvent {
                    actor, action: "import.apply",
                    school_id: Some(school_id), party_id: None, subject: None,
                    details: json!({
                        "groups": [report.groups.added.len(), report.groups.changed.len(), report.groups.removed.len()],
                        "pupils": [report.pupils.added.len(), report.pupils.changed.len(), report.pupils.removed.len()],
                        "staff": [report.staff.added.len(), report.staff.changed.len(), report.staff.removed.len()],
                    }),
                });
            }
            report.timings.write = writing.elapsed();
            let committing = Instant::now();
            if dry_run {
                tx.rollback().await?;
            } else {
                tx.commit().await?;
            }
            report.timings.commit = committing.elapsed();
            Ok(())
        })?;
        if dry_run {
            // The rolled-back transaction took its audit entry with it; record the dry run.
            self.audit(AuditEvent {
                actor,
                action: "import.dry_run",
                school_id: Some(school_id),
                party_id: None,
                subject: None,
                details: json!({"pupils": report.pupils.added.len() + report.pupils.changed.len() + report.pupils.removed.len()}),
            })
            .await?;
        }
        Ok(report)
    }
}

/// The school's state as read at the start of the transaction.
struct Existing {
    groups: HashMap<String, ExistingGroup>,
    /// By LAS key.
    pupils: HashMap<String, ExistingPupil>,
    pupil_groups: HashSet<(String, String)>,
    /// LAS key at this school to (staff id, membership active).
    members: HashMap<String, (String, bool)>,
    /// E-mail address to staff id, for teachers of the file without a membership here.
    by_email: HashMap<String, String>,
    staff: HashMap<String, ExistingStaff>,
    staff_groups: HashSet<(String, String)>,
    foreign_ecks: Vec<String>,
}

/// Compares the file with the school's state: fills the report and returns the writes.
fn diff(snapshot: &Snapshot, report: &mut ImportReport, existing: Existing) -> Plan {
    let Existing {
        groups,
        pupils,
        pupil_groups,
        members,
        by_email,
        staff,
        staff_groups,
        foreign_ecks,
    } = existing;
    let mut plan = Plan {
        foreign_eck_ids: foreign_ecks,
        ..Plan::default()
    };

    // Groups: stamgroepen and combined groups share one key space per school.
    let wanted: Vec<(String, String, &'static str, Option<String>)> = snapshot
        .groups
        .iter()
        .map(|g| {
            (
                g.key.to_string(),
                g.name.clone(),
                "stamgroep",
                Some(g.jaargroep.as_str().to_owned()),
            )
        })
        .chain(
            snapshot
                .combined_groups
                .iter()
                .map(|g| (g.key.to_string(), g.name.clone(), "samengesteld", None)),
        )
        .collect();
    let mut group_ids: HashMap<String, String> = HashMap::new();
    for (key, name, kind, jaargroep) in wanted.iter().cloned() {
        match groups.get(&key) {
            Some(g) => {
                if g.name != name || g.kind != kind || g.jaargroep != jaargroep || !g.active {
                    report.groups.changed.push(key.clone());
                    plan.group_updates.push(GroupRow {
                        id: g.id.clone(),
                        key: key.clone(),
                        name,
                        kind,
                        jaargroep,
                    });
                }
                group_ids.insert(key, g.id.clone());
            }
            None => {
                let id = new_id();
                report.groups.added.push(key.clone());
                group_ids.insert(key.clone(), id.clone());
                plan.group_inserts.push(GroupRow {
                    id,
                    key,
                    name,
                    kind,
                    jaargroep,
                });
            }
        }
    }
    let in_file: HashSet<&String> = wanted.iter().map(|(k, ..)| k).collect();
    for (key, g) in &groups {
        if g.active && !in_file.contains(key) {
            report.groups.removed.push(key.clone());
            plan.group_deactivations.push(g.id.clone());
        }
    }

    // Pupils: matched by LAS key, else by ECK-iD (a new key for the same child) when that
    // child's old key is no longer in the file.
    let file_keys: HashSet<&str> = snapshot.pupils.iter().map(|p| p.key.as_str()).collect();
    let by_eck: HashMap<&str, &ExistingPupil> = pupils
        .values()
        .filter(|p| !file_keys.contains(p.las_key.as_str()))
        .filter_map(|p| p.fields[5].as_deref().map(|e| (e, p)))
        .collect();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut wanted_pairs: HashSet<(String, String)> = HashSet::new();
    for sp in &snapshot.pupils {
        let key = sp.key.to_string();
        let eck = sp.eck_id.as_ref().map(|e| e.to_string());
        let fields = [
            Some(sp.achternaam.clone().unwrap_or_default()),
            sp.voorvoegsel.clone(),
            sp.voornamen.clone(),
            sp.roepnaam.clone(),
            Some(sp.jaargroep.as_str().to_owned()),
            eck.clone(),
        ];
        let stamgroep = sp
            .stamgroep
            .as_ref()
            .and_then(|k| group_ids.get(k.as_str()))
            .cloned();
        let existing = pupils
            .get(&key)
            .or_else(|| eck.as_deref().and_then(|e| by_eck.get(e).copied()));
        let id = match existing {
            Some(e) => {
                if e.fields != fields
                    || e.stamgroep_id != stamgroep
                    || !e.active
                    || e.las_key != key
                {
                    report.pupils.changed.push(key.clone());
                    plan.pupil_updates.push(PupilRow {
                        id: e.id.clone(),
                        key,
                        fields,
                        stamgroep,
                    });
                }
                seen.insert(e.id.as_str());
                e.id.clone()
            }
            None => {
                let id = new_id();
                report.pupils.added.push(key.clone());
                plan.pupil_inserts.push(PupilRow {
                    id: id.clone(),
                    key,
                    fields,
                    stamgroep,
                });
                id
            }
        };
        for g in &sp.combined_groups {
            if let Some(gid) = group_ids.get(g.as_str()) {
                wanted_pairs.insert((id.clone(), gid.clone()));
            }
        }
    }
    // Combined-group memberships of the pupils in the file become exactly the file's; those of
    // pupils who left are kept, for when they come back.
    let in_file_ids: HashSet<&str> = seen.iter().copied().collect();
    plan.pupil_group_deletes = pupil_groups
        .iter()
        .filter(|pair| in_file_ids.contains(pair.0.as_str()) && !wanted_pairs.contains(*pair))
        .cloned()
        .collect();
    plan.pupil_group_inserts = wanted_pairs
        .into_iter()
        .filter(|pair| !pupil_groups.contains(pair))
        .collect();
    for e in pupils.values() {
        if e.active && !seen.contains(e.id.as_str()) {
            report.pupils.removed.push(e.las_key.clone());
            plan.pupil_deactivations.push(e.id.clone());
        }
    }

    // Staff: matched by their LAS key at this school, else by e-mail (one person, one login,
    // possibly at several schools).
    let mut present: HashSet<String> = HashSet::new();
    let mut wanted_staff_groups: HashMap<String, HashSet<String>> = HashMap::new();
    let mut membership_of: HashMap<String, String> = HashMap::new();
    for st in &snapshot.teachers {
        let key = st.key.to_string();
        let email = st.email.as_ref().map(|e| e.to_string());
        let staff_id = members
            .get(&key)
            .map(|(id, _)| id.clone())
            .or_else(|| email.as_ref().and_then(|e| by_email.get(e)).cloned());
        let names = (
            st.achternaam.clone().unwrap_or_default(),
            st.voorvoegsel.clone(),
            st.voornamen.clone(),
            st.roepnaam.clone(),
        );
        let id = match staff_id.and_then(|id| staff.get(&id).map(|s| (id, s))) {
            Some((id, old)) => {
                let new_email = email.clone().or(old.email.clone());
                let membership_changed =
                    !matches!(members.get(&key), Some((mid, true)) if mid == &id);
                if old.email != new_email || old.names != names || membership_changed {
                    report.staff.changed.push(key.clone());
                    plan.staff_updates.push(StaffUpdate {
                        id: id.clone(),
                        email: new_email.clone(),
                        names,
                    });
                }
                if old.email.is_none()
                    && new_email.is_some()
                    && !old.has_password
                    && !old.deactivated
                {
                    report.to_invite.push(id.clone());
                }
                if membership_changed {
                    membership_of.insert(id.clone(), key.clone());
                }
                id
            }
            None => {
                let id = new_id();
                report.staff.added.push(key.clone());
                if email.is_some() {
                    report.to_invite.push(id.clone());
                }
                plan.staff_inserts.push(StaffInsert {
                    id: id.clone(),
                    email,
                    names,
                });
                membership_of.insert(id.clone(), key.clone());
                id
            }
        };
        let groups_of = st
            .groups
            .iter()
            .chain(&st.combined_groups)
            .filter_map(|g| group_ids.get(g.as_str()).cloned())
            .collect();
        wanted_staff_groups.insert(id.clone(), groups_of);
        present.insert(id);
    }
    plan.memberships = membership_of.into_iter().collect();
    plan.staff_group_deletes = staff_groups
        .iter()
        .filter(|(s, g)| wanted_staff_groups.get(s).is_some_and(|w| !w.contains(g)))
        .cloned()
        .collect();
    plan.staff_group_inserts = wanted_staff_groups
        .iter()
        .flat_map(|(s, gs)| gs.iter().map(move |g| (s.clone(), g.clone())))
        .filter(|pair| !staff_groups.contains(pair))
        .collect();
    for (key, (id, active)) in &members {
        if *active && !present.contains(id) {
            report.staff.removed.push(key.clone());
            plan.staff_removals.push(id.clone());
        }
    }
    plan
}

fn eck_conflict(e: sqlx::Error) -> DirectoryError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => DirectoryError::Conflict {
            nl: "twee leerlingen in het bestand wisselen van ECK-iD of LAS-sleutel; importeer eerst een bestand zonder die wissel".into(),
            en: "two pupils in the file swap their ECK-iD or LAS key; import a file without that swap first".into(),
        },
        _ => DirectoryError::Database(e),
    }
}
