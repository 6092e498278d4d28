//! School changes (fusie, splitsing): moving users between school locations without giving
//! them new identities.
//!
//! Pupils, groups and staff keep their internal ids when they move, so their pairwise
//! pseudonyms (HMAC over sector and internal id), their home codes and pictures, and the licence
//! references that name them stay valid. What follows from that:
//!
//! **Merge** of B into A: every group, pupil and staff membership of B moves to A, and B is
//! marked merged into A: it can no longer log anyone in, nor be imported into. Refused when a
//! group, pupil or staff LAS key of B already exists at A (the next EDEXML import of A could not
//! tell them apart), naming every colliding key. Then, for what is not a user:
//! - licences of B move to A. A licence for named groups or users moves as it is. A school-wide
//!   licence of B is narrowed on the way to the groups of B and B's pupils without a group:
//!   moved as it was, it would suddenly cover A's own pupils, which the publisher did not sell.
//! - consents are a school's own decision about its data, so B's consents are not copied to A
//!   (that would share A's pupils too); they end with B, and the report names the parties A has
//!   no consent for, whose products stop working for B's pupils until A's ICT-coördinator
//!   decides.
//! - roles move with the staff, except ICT-coördinator: administering A is not the same as
//!   having administered B, so B's administrators are named in the report for an explicit grant.
//!   Sessions of B's staff end, so that nobody stays signed in at a school that no longer exists.
//! - IP ranges of B move to A: B's pupils sit in the same building and sign in through A now.
//!
//! **Split**: chosen groups of S (by LAS key) move with their pupils to a new location, or to an
//! existing one without groups and pupils. A combined group moves only with all its pupils, so
//! that no pupil belongs to a group of another school. Teachers of a moved group also become
//! staff (leerkracht) at the target and stay at S. Licences follow the moved groups and pupils (a
//! school-wide licence of S gives the target one for exactly the moved groups and pupils), and
//! S's open consents are copied to the target, whose data is a part of S's.
//!
//! Both run in one transaction with audit entries on both schools; a dry run is the same
//! transaction rolled back, so it shows exactly what would move.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use serde_json::json;

use crate::audit::{AuditEvent, append};
use crate::db::writes;
use crate::error::{DirectoryError, Result};
use crate::model::{LasKey, SchoolCode, display_name};
use crate::row::RowExt;
use crate::schools::School;
use crate::{Actor, Directory, new_id, now};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConsentNote {
    pub party: String,
    /// Whether the target school has its own open consent to this party.
    pub target_consents: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MergeReport {
    pub from: String,
    pub into: String,
    /// LAS keys of the groups and pupils that moved.
    pub groups: Vec<String>,
    pub pupils: Vec<String>,
    /// Staff whose membership moved, and staff who already worked at the target.
    pub staff_moved: usize,
    pub staff_already_at_target: usize,
    /// E-mail (or id) of B's ICT-coördinatoren who do not administer A: grant it explicitly.
    pub administrators_not_moved: Vec<String>,
    pub ip_ranges_moved: Vec<String>,
    pub ip_ranges_already_at_target: Vec<String>,
    /// Licences for named groups and users, moved as they are.
    pub licences_moved: Vec<String>,
    /// School-wide licences of B, moved and narrowed to B's groups and groupless pupils.
    pub licences_narrowed: Vec<String>,
    /// Open consents of B, ended with it.
    pub consents_ended: Vec<ConsentNote>,
    pub applied: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SplitReport {
    pub from: String,
    pub to: String,
    pub created_target: bool,
    pub groups: Vec<String>,
    pub pupils: Vec<String>,
    /// Pupils of the source in no group at all: nothing says where they go, so they stay.
    pub pupils_without_group: Vec<String>,
    /// LAS keys (or ids) of the teachers of moved groups, now also staff at the target.
    pub staff_added: Vec<String>,
    /// Licences moved whole (every member moved).
    pub licences_moved: Vec<String>,
    /// New licences at the target, from school-wide licences of the source or from the moved
    /// part of a licence for named groups and users.
    pub licences_created: Vec<String>,
    pub consents_copied: Vec<String>,
    /// The target's IP ranges after the split: without any, its pupils cannot sign in at school.
    pub target_ip_ranges: usize,
    pub applied: bool,
}

fn conflict(nl: String, en: String) -> DirectoryError {
    DirectoryError::Conflict { nl, en }
}

/// A list for a message: sorted, quoted, at most 30 shown.
fn listed(keys: &[String]) -> String {
    let mut keys = keys.to_vec();
    keys.sort();
    keys.dedup();
    let shown: Vec<String> = keys.iter().take(30).map(|k| format!("{k:?}")).collect();
    match keys.len() {
        n if n > 30 => format!("{} (+{})", shown.join(", "), n - 30),
        _ => shown.join(", "),
    }
}

/// The refusal of an import into a location that was merged into another.
pub(crate) fn merged_error(code: &str, into: &str) -> DirectoryError {
    conflict(
        format!(
            "{code} is samengevoegd met {into} en neemt geen import meer aan; importeer de gegevens van {into}, of zet de LAS-koppeling van {code} uit"
        ),
        format!(
            "{code} has been merged into {into} and accepts no imports; import {into}'s data instead, or switch off {code}'s LAS link"
        ),
    )
}

struct Loc {
    active: bool,
    merged_into: Option<String>,
}

impl Directory {
    /// Refuses a location that was merged into another: every import path (EDEXML upload, LAS
    /// links) asks this before reading a file for it, and the EDEXML import asks again under
    /// the school's lock.
    pub async fn refuse_merged(&self, school: &School) -> Result<()> {
        let Some(into) = &school.merged_into else {
            return Ok(());
        };
        let into = self
            .school_by_id(into)
            .await?
            .map_or_else(|| into.clone(), |s| s.code());
        Err(merged_error(&school.code(), &into))
    }

    /// Moves every user of `from` into `into` and marks `from` merged into it.
    pub async fn merge_schools(
        &self,
        from: &SchoolCode,
        into: &SchoolCode,
        dry_run: bool,
        actor: &Actor,
    ) -> Result<MergeReport> {
        if from == into {
            return Err(conflict(
                format!("een school kan niet met zichzelf worden samengevoegd ({from})"),
                format!("a school cannot be merged into itself ({from})"),
            ));
        }
        let b_school = self.require_school(from).await?;
        let a_school = self.require_school(into).await?;
        let (b, a) = (b_school.id.as_str(), a_school.id.as_str());
        let t = now();
        let mut report = MergeReport {
            from: from.to_string(),
            into: into.to_string(),
            applied: !dry_run,
            ..Default::default()
        };
        writes!(self, p => {
            let mut tx = p.begin().await?;
            // Takes both rows first: imports and other changes of either school wait for this.
            sqlx::query("UPDATE schools SET updated_at = $1 WHERE id = $2 OR id = $3")
                .bind(t).bind(a).bind(b).execute(&mut *tx).await?;
            let mut locs = HashMap::new();
            for r in sqlx::query("SELECT id, active, merged_into FROM schools WHERE id = $1 OR id = $2")
                .bind(a).bind(b).fetch_all(&mut *tx).await? {
                locs.insert(r.text("id")?, Loc { active: r.flag("active")?, merged_into: r.opt_text("merged_into")? });
            }
            let (Some(bl), Some(al)) = (locs.get(b), locs.get(a)) else {
                return Err(DirectoryError::not_found("school", from.to_string()));
            };
            if bl.merged_into.is_some() {
                return Err(conflict(
                    format!("{from} is al samengevoegd met een andere school"),
                    format!("{from} has already been merged into another school"),
                ));
            }
            if al.merged_into.is_some() || !al.active {
                return Err(conflict(
                    format!("{into} is zelf samengevoegd of niet actief; voeg samen met de school die blijft"),
                    format!("{into} is itself merged or not active; merge into the school that remains"),
                ));
            }

            // Keys that would exist twice at A.
            let mut clashes: Vec<(&str, &str, Vec<String>)> = Vec::new();
            for (nl, en, sql) in [
                ("groepen", "groups", "SELECT x.las_key FROM school_groups x JOIN school_groups y ON y.las_key = x.las_key WHERE x.school_id = $1 AND y.school_id = $2"),
                ("leerlingen", "pupils", "SELECT x.las_key FROM pupils x JOIN pupils y ON y.las_key = x.las_key WHERE x.school_id = $1 AND y.school_id = $2"),
                ("medewerkers", "staff", "SELECT x.las_key FROM staff_memberships x JOIN staff_memberships y ON y.las_key = x.las_key AND y.staff_id <> x.staff_id \
                                          WHERE x.school_id = $1 AND y.school_id = $2"),
            ] {
                let keys = sqlx::query(sql).bind(b).bind(a).fetch_all(&mut *tx).await?
                    .iter().map(|r| r.text("las_key")).collect::<Result<Vec<_>>>()?;
                if !keys.is_empty() {
                    clashes.push((nl, en, keys));
                }
            }
            if !clashes.is_empty() {
                let nl = clashes.iter().map(|(nl, _, k)| format!("{nl} {}", listed(k))).collect::<Vec<_>>().join("; ");
                let en = clashes.iter().map(|(_, en, k)| format!("{en} {}", listed(k))).collect::<Vec<_>>().join("; ");
                return Err(conflict(
                    format!("samenvoegen van {from} met {into} kan niet: deze LAS-sleutels van {from} bestaan al op {into}: {nl}. Laat de leerlingadministratie ze eerst hernummeren"),
                    format!("cannot merge {from} into {into}: these LAS keys of {from} already exist at {into}: {en}. Have the pupil administration renumber them first"),
                ));
            }

            // What moves, read before moving.
            let group_ids = sqlx::query("SELECT id, las_key FROM school_groups WHERE school_id = $1 ORDER BY las_key")
                .bind(b).fetch_all(&mut *tx).await?;
            let mut group_id_list = Vec::new();
            for r in &group_ids {
                group_id_list.push(r.text("id")?);
                report.groups.push(r.text("las_key")?);
            }
            let mut groupless = Vec::new();
            for r in sqlx::query("SELECT id, las_key, stamgroep_id FROM pupils WHERE school_id = $1 ORDER BY las_key")
                .bind(b).fetch_all(&mut *tx).await? {
                report.pupils.push(r.text("las_key")?);
                if r.opt_text("stamgroep_id")?.is_none() {
                    groupless.push(r.text("id")?);
                }
            }

            sqlx::query("UPDATE school_groups SET school_id = $1, updated_at = $2 WHERE school_id = $3")
                .bind(a).bind(t).bind(b).execute(&mut *tx).await?;
            sqlx::query("UPDATE pupils SET school_id = $1, updated_at = $2 WHERE school_id = $3")
                .bind(a).bind(t).bind(b).execute(&mut *tx).await?;

            // Staff: sessions end first, while B's memberships and roles still say who they are.
            sqlx::query("UPDATE staff SET session_epoch = session_epoch + 1 WHERE id IN \
                         (SELECT staff_id FROM staff_memberships WHERE school_id = $1 UNION SELECT staff_id FROM staff_roles WHERE school_id = $1)")
                .bind(b).execute(&mut *tx).await?;
            let at_a: HashMap<String, bool> = sqlx::query("SELECT staff_id, active FROM staff_memberships WHERE school_id = $1")
                .bind(a).fetch_all(&mut *tx).await?.iter()
                .map(|r| Ok((r.text("staff_id")?, r.flag("active")?))).collect::<Result<_>>()?;
            for r in sqlx::query("SELECT staff_id, active FROM staff_memberships WHERE school_id = $1").bind(b).fetch_all(&mut *tx).await? {
                let (staff, active) = (r.text("staff_id")?, r.flag("active")?);
                match at_a.get(&staff) {
                    Some(active_at_a) => {
                        // One person at both: A's record (and LAS key) stays, active if either was.
                        if active && !active_at_a {
                            sqlx::query("UPDATE staff_memberships SET active = $1 WHERE staff_id = $2 AND school_id = $3")
                                .bind(true).bind(&staff).bind(a).execute(&mut *tx).await?;
                        }
                        sqlx::query("DELETE FROM staff_memberships WHERE staff_id = $1 AND school_id = $2")
                            .bind(&staff).bind(b).execute(&mut *tx).await?;
                        report.staff_already_at_target += 1;
                    }
                    None => {
                        sqlx::query("UPDATE staff_memberships SET school_id = $1 WHERE staff_id = $2 AND school_id = $3")
                            .bind(a).bind(&staff).bind(b).execute(&mut *tx).await?;
                        report.staff_moved += 1;
                    }
                }
            }
            for r in sqlx::query("SELECT r.staff_id, r.role, r.granted_by, r.granted_at, s.email FROM staff_roles r \
                                  JOIN staff s ON s.id = r.staff_id WHERE r.school_id = $1 ORDER BY s.email")
                .bind(b).fetch_all(&mut *tx).await? {
                let (staff, role) = (r.text("staff_id")?, r.text("role")?);
                if role == "ict_coordinator" {
                    let holds = sqlx::query("SELECT 1 AS x FROM staff_roles WHERE staff_id = $1 AND school_id = $2 AND role = 'ict_coordinator'")
                        .bind(&staff).bind(a).fetch_optional(&mut *tx).await?.is_some();
                    if !holds {
                        report.administrators_not_moved.push(r.opt_text("email")?.unwrap_or(staff));
                    }
                    continue;
                }
                sqlx::query("INSERT INTO staff_roles (staff_id, school_id, role, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5) \
                             ON CONFLICT DO NOTHING")
                    .bind(&staff).bind(a).bind(&role).bind(r.text("granted_by")?).bind(r.int("granted_at")?)
                    .execute(&mut *tx).await?;
            }
            sqlx::query("DELETE FROM staff_roles WHERE school_id = $1").bind(b).execute(&mut *tx).await?;

            let a_ranges: HashSet<String> = sqlx::query("SELECT cidr FROM school_ip_ranges WHERE school_id = $1")
                .bind(a).fetch_all(&mut *tx).await?.iter().map(|r| r.text("cidr")).collect::<Result<_>>()?;
            for r in sqlx::query("SELECT id, cidr FROM school_ip_ranges WHERE school_id = $1 ORDER BY cidr").bind(b).fetch_all(&mut *tx).await? {
                let cidr = r.text("cidr")?;
                if a_ranges.contains(&cidr) {
                    report.ip_ranges_already_at_target.push(cidr);
                } else {
                    sqlx::query("UPDATE school_ip_ranges SET school_id = $1 WHERE id = $2").bind(a).bind(r.text("id")?).execute(&mut *tx).await?;
                    report.ip_ranges_moved.push(cidr);
                }
            }

            for r in sqlx::query("SELECT id, scope FROM licences WHERE school_id = $1 ORDER BY id").bind(b).fetch_all(&mut *tx).await? {
                let (id, scope) = (r.text("id")?, r.text("scope")?);
                sqlx::query("UPDATE licences SET school_id = $1, scope = 'members' WHERE id = $2")
                    .bind(a).bind(&id).execute(&mut *tx).await?;
                let narrowed = scope == "school";
                if narrowed {
                    for (kind, member) in group_id_list.iter().map(|g| ("group", g)).chain(groupless.iter().map(|p| ("pupil", p))) {
                        sqlx::query("INSERT INTO licence_members (licence_id, member_kind, member_id) VALUES ($1, $2, $3)")
                            .bind(&id).bind(kind).bind(member).execute(&mut *tx).await?;
                    }
                    report.licences_narrowed.push(id.clone());
                } else {
                    report.licences_moved.push(id.clone());
                }
                append!(&mut *tx, AuditEvent {
                    actor, action: "licence.move", school_id: Some(a), party_id: None, subject: Some(&id),
                    details: json!({"from": from.to_string(), "to": into.to_string(), "narrowed_to_moved_users": narrowed}),
                });
            }

            for r in sqlx::query("SELECT c.id, c.party_id, p.code FROM consents c JOIN parties p ON p.id = c.party_id \
                                  WHERE c.school_id = $1 AND c.revoked_at IS NULL ORDER BY p.code")
                .bind(b).fetch_all(&mut *tx).await? {
                let party_id = r.text("party_id")?;
                let target_consents = sqlx::query("SELECT 1 AS x FROM consents WHERE school_id = $1 AND party_id = $2 AND revoked_at IS NULL")
                    .bind(a).bind(&party_id).fetch_optional(&mut *tx).await?.is_some();
                sqlx::query("UPDATE consents SET revoked_by = $1, revoked_at = $2 WHERE id = $3")
                    .bind(actor.0.as_str()).bind(t).bind(r.text("id")?).execute(&mut *tx).await?;
                append!(&mut *tx, AuditEvent {
                    actor, action: "consent.revoke", school_id: Some(b), party_id: Some(&party_id), subject: None,
                    details: json!({"reason": "merge", "into": into.to_string()}),
                });
                report.consents_ended.push(ConsentNote { party: r.text("code")?, target_consents });
            }

            sqlx::query("UPDATE schools SET merged_into = $1, merged_at = $2, active = $3, updated_at = $2 WHERE id = $4")
                .bind(a).bind(t).bind(false).bind(b).execute(&mut *tx).await?;
            let details = json!({
                "from": from.to_string(), "into": into.to_string(),
                "groups": report.groups.len(), "pupils": report.pupils.len(),
                "staff_moved": report.staff_moved, "staff_already_at_target": report.staff_already_at_target,
                "administrators_not_moved": report.administrators_not_moved.len(),
                "ip_ranges_moved": report.ip_ranges_moved, "licences_moved": report.licences_moved,
                "licences_narrowed": report.licences_narrowed,
                "consents_ended": report.consents_ended.iter().map(|c| c.party.as_str()).collect::<Vec<_>>(),
            });
            if dry_run {
                tx.rollback().await?;
            } else {
                for school in [b, a] {
                    append!(&mut *tx, AuditEvent {
                        actor, action: "school.merge", school_id: Some(school), party_id: None, subject: Some(b),
                        details: details.clone(),
                    });
                }
                tx.commit().await?;
            }
            Ok(())
        })?;
        if dry_run {
            for school in [b, a] {
                self.audit(AuditEvent {
                    actor,
                    action: "school.merge.dry_run",
                    school_id: Some(school),
                    party_id: None,
                    subject: Some(b),
                    details: json!({"from": from.to_string(), "into": into.to_string(),
                                    "groups": report.groups.len(), "pupils": report.pupils.len()}),
                })
                .await?;
            }
        }
        Ok(report)
    }

    /// Moves the groups with these LAS keys, and their pupils, from `from` to `to`. A `to` that
    /// does not exist is created under `from`'s board with `new_name`.
    pub async fn split_school(
        &self,
        from: &SchoolCode,
        to: &SchoolCode,
        new_name: Option<&str>,
        group_keys: &[LasKey],
        dry_run: bool,
        actor: &Actor,
    ) -> Result<SplitReport> {
        if from == to {
            return Err(conflict(
                format!("bron en doel van de splitsing zijn dezelfde school ({from})"),
                format!("the split's source and target are the same school ({from})"),
            ));
        }
        if group_keys.is_empty() {
            return Err(conflict(
                "noem minstens één groep (--group LAS-sleutel) die naar de nieuwe vestiging gaat"
                    .into(),
                "name at least one group (--group LAS key) that moves to the new location".into(),
            ));
        }
        let source = self.require_school(from).await?;
        let existing_target = self.school_by_code(to).await?;
        let new_name = match (&existing_target, new_name) {
            (None, Some(n)) => Some(display_name("naam school", n)?),
            (None, None) => {
                return Err(conflict(
                    format!(
                        "{to} bestaat nog niet; geef met --name de naam van de nieuwe vestiging"
                    ),
                    format!("{to} does not exist yet; give the new location's name with --name"),
                ));
            }
            (Some(_), _) => None,
        };
        let s = source.id.as_str();
        let t = now();
        let mut report = SplitReport {
            from: from.to_string(),
            to: to.to_string(),
            created_target: existing_target.is_none(),
            applied: !dry_run,
            ..Default::default()
        };
        let target_id = existing_target
            .as_ref()
            .map_or_else(new_id, |x| x.id.clone());
        let target = target_id.as_str();
        writes!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("UPDATE schools SET updated_at = $1 WHERE id = $2 OR id = $3")
                .bind(t).bind(s).bind(target).execute(&mut *tx).await?;
            let r = sqlx::query("SELECT board_id, active, merged_into FROM schools WHERE id = $1").bind(s).fetch_one(&mut *tx).await?;
            if r.opt_text("merged_into")?.is_some() || !r.flag("active")? {
                return Err(conflict(
                    format!("{from} is samengevoegd of niet actief; er valt niets te splitsen"),
                    format!("{from} is merged or not active; there is nothing to split"),
                ));
            }
            let board_id = r.text("board_id")?;
            match &existing_target {
                Some(_) => {
                    let r = sqlx::query("SELECT active, merged_into, \
                                         (SELECT COUNT(*) FROM school_groups WHERE school_id = $1) AS groups, \
                                         (SELECT COUNT(*) FROM pupils WHERE school_id = $1) AS pupils FROM schools WHERE id = $1")
                        .bind(target).fetch_one(&mut *tx).await?;
                    if r.opt_text("merged_into")?.is_some() || !r.flag("active")? {
                        return Err(conflict(
                            format!("{to} is samengevoegd of niet actief en kan geen groepen ontvangen"),
                            format!("{to} is merged or not active and cannot receive groups"),
                        ));
                    }
                    let (groups, pupils) = (r.int("groups")?, r.int("pupils")?);
                    if groups > 0 || pupils > 0 {
                        return Err(conflict(
                            format!("{to} is niet leeg ({groups} groepen, {pupils} leerlingen); splits naar een nieuwe of lege vestiging, of voeg samen"),
                            format!("{to} is not empty ({groups} groups, {pupils} pupils); split into a new or empty location, or merge"),
                        ));
                    }
                }
                None => {
                    let name = new_name.clone().unwrap_or_default();
                    sqlx::query(
                        "INSERT INTO schools (id, board_id, brin, vestigingscode, name, instelling_ref, active, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)")
                        .bind(target).bind(&board_id).bind(to.brin.as_str()).bind(to.vestigingscode.as_str())
                        .bind(&name).bind(uuid::Uuid::new_v4().to_string()).bind(true).bind(t)
                        .execute(&mut *tx).await
                        .map_err(crate::error::unique_as("BRIN + vestigingscode", to.to_string()))?;
                    append!(&mut *tx, AuditEvent {
                        actor, action: "school.create", school_id: Some(target), party_id: None, subject: Some(target),
                        details: json!({"school": to.to_string(), "name": name, "source": "split", "from": from.to_string()}),
                    });
                }
            }

            // The chosen groups, every unknown key named at once.
            let mut groups_by_key: HashMap<String, String> = HashMap::new();
            for r in sqlx::query("SELECT id, las_key FROM school_groups WHERE school_id = $1").bind(s).fetch_all(&mut *tx).await? {
                groups_by_key.insert(r.text("las_key")?, r.text("id")?);
            }
            let unknown: Vec<String> = group_keys.iter().map(|k| k.to_string()).filter(|k| !groups_by_key.contains_key(k)).collect();
            if !unknown.is_empty() {
                return Err(conflict(
                    format!("groep(en) {} bestaan niet op {from}", listed(&unknown)),
                    format!("group(s) {} do not exist at {from}", listed(&unknown)),
                ));
            }
            let moving: HashSet<String> = group_keys.iter().map(|k| groups_by_key[k.as_str()].clone()).collect();
            let key_of_group: HashMap<&String, &String> = groups_by_key.iter().map(|(k, id)| (id, k)).collect();

            // Pupils go with their stamgroep; a pupil without one goes with its combined groups.
            let mut pupil_key: HashMap<String, String> = HashMap::new();
            let mut stamgroep: HashMap<String, Option<String>> = HashMap::new();
            for r in sqlx::query("SELECT id, las_key, stamgroep_id FROM pupils WHERE school_id = $1").bind(s).fetch_all(&mut *tx).await? {
                pupil_key.insert(r.text("id")?, r.text("las_key")?);
                stamgroep.insert(r.text("id")?, r.opt_text("stamgroep_id")?);
            }
            let mut combined: Vec<(String, String)> = Vec::new();
            for r in sqlx::query("SELECT pg.pupil_id, pg.group_id FROM pupil_groups pg JOIN pupils p ON p.id = pg.pupil_id WHERE p.school_id = $1")
                .bind(s).fetch_all(&mut *tx).await? {
                combined.push((r.text("pupil_id")?, r.text("group_id")?));
            }
            let mut moving_pupils: HashSet<String> = stamgroep.iter()
                .filter(|(_, g)| g.as_ref().is_some_and(|g| moving.contains(g)))
                .map(|(p, _)| p.clone()).collect();
            for (pupil, group) in &combined {
                if stamgroep.get(pupil).is_some_and(Option::is_none) && moving.contains(group) {
                    moving_pupils.insert(pupil.clone());
                }
            }
            let in_a_group: HashSet<&String> = combined.iter().map(|(p, _)| p).collect();
            report.pupils_without_group = stamgroep.iter()
                .filter(|(p, g)| g.is_none() && !in_a_group.contains(p))
                .map(|(p, _)| pupil_key[p].clone()).collect();
            report.pupils_without_group.sort();
            let mut split_groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (pupil, group) in &combined {
                if moving.contains(group) != moving_pupils.contains(pupil) {
                    let g = key_of_group.get(group).map_or(group.clone(), |k| (*k).clone());
                    split_groups.entry(g).or_default().push(pupil_key.get(pupil).cloned().unwrap_or_default());
                }
            }
            if !split_groups.is_empty() {
                let which = split_groups.iter().map(|(g, ps)| format!("{g:?} ({})", listed(ps))).collect::<Vec<_>>().join("; ");
                return Err(conflict(
                    format!("een samengestelde groep gaat alleen mee met al haar leerlingen; deze groepen zouden over twee scholen verdeeld raken (tussen haakjes de leerlingen aan de andere kant): {which}. Neem de groep of de stamgroepen van die leerlingen mee, of laat ze weg"),
                    format!("a combined group moves only with all its pupils; these groups would end up divided over two schools (in brackets the pupils on the other side): {which}. Move the group or those pupils' stamgroepen too, or leave them out"),
                ));
            }

            let mut moved_keys: Vec<String> = group_keys.iter().map(|k| k.to_string()).collect();
            moved_keys.sort();
            moved_keys.dedup();
            report.groups = moved_keys;
            for g in &moving {
                sqlx::query("UPDATE school_groups SET school_id = $1, updated_at = $2 WHERE id = $3")
                    .bind(target).bind(t).bind(g).execute(&mut *tx).await?;
            }
            for p in &moving_pupils {
                sqlx::query("UPDATE pupils SET school_id = $1, updated_at = $2 WHERE id = $3")
                    .bind(target).bind(t).bind(p).execute(&mut *tx).await?;
                report.pupils.push(pupil_key[p].clone());
            }
            report.pupils.sort();

            // Teachers of moved groups also work at the target now.
            let mut teachers: BTreeMap<String, Option<String>> = BTreeMap::new();
            for r in sqlx::query("SELECT DISTINCT sg.staff_id, m.las_key FROM staff_groups sg \
                                  LEFT JOIN staff_memberships m ON m.staff_id = sg.staff_id AND m.school_id = $1 \
                                  JOIN school_groups g ON g.id = sg.group_id WHERE g.school_id = $2")
                .bind(s).bind(target).fetch_all(&mut *tx).await? {
                teachers.insert(r.text("staff_id")?, r.opt_text("las_key")?);
            }
            let clashing: Vec<String> = {
                let mut v = Vec::new();
                for (staff, key) in &teachers {
                    if let Some(k) = key
                        && sqlx::query("SELECT 1 AS x FROM staff_memberships WHERE school_id = $1 AND las_key = $2 AND staff_id <> $3")
                            .bind(target).bind(k).bind(staff).fetch_optional(&mut *tx).await?.is_some()
                    {
                        v.push(k.clone());
                    }
                }
                v
            };
            if !clashing.is_empty() {
                return Err(conflict(
                    format!("de LAS-sleutels van medewerkers {} zijn op {to} al van iemand anders", listed(&clashing)),
                    format!("the staff LAS keys {} already belong to someone else at {to}", listed(&clashing)),
                ));
            }
            for (staff, key) in &teachers {
                sqlx::query("INSERT INTO staff_memberships (staff_id, school_id, las_key, active, created_at) VALUES ($1, $2, $3, $4, $5) \
                             ON CONFLICT DO NOTHING")
                    .bind(staff).bind(target).bind(key).bind(true).bind(t).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO staff_roles (staff_id, school_id, role, granted_by, granted_at) VALUES ($1, $2, 'leerkracht', $3, $4) \
                             ON CONFLICT DO NOTHING")
                    .bind(staff).bind(target).bind(actor.0.as_str()).bind(t).execute(&mut *tx).await?;
                report.staff_added.push(key.clone().unwrap_or_else(|| staff.clone()));
            }
            report.staff_added.sort();

            // Licences follow the moved groups and pupils.
            let mut members: HashMap<String, Vec<(String, String)>> = HashMap::new();
            for r in sqlx::query("SELECT m.licence_id, m.member_kind, m.member_id FROM licence_members m JOIN licences l ON l.id = m.licence_id WHERE l.school_id = $1")
                .bind(s).fetch_all(&mut *tx).await? {
                members.entry(r.text("licence_id")?).or_default().push((r.text("member_kind")?, r.text("member_id")?));
            }
            let moves = |kind: &str, id: &String| match kind {
                "group" => moving.contains(id),
                "pupil" => moving_pupils.contains(id),
                _ => false,
            };
            let groupless_moving: Vec<&String> = moving_pupils.iter().filter(|p| stamgroep.get(*p).is_some_and(Option::is_none)).collect();
            for r in sqlx::query("SELECT id, product_id, scope, valid_from, valid_until FROM licences WHERE school_id = $1 ORDER BY id")
                .bind(s).fetch_all(&mut *tx).await? {
                let id = r.text("id")?;
                let of_licence = members.remove(&id).unwrap_or_default();
                let (going, staying): (Vec<_>, Vec<_>) = if r.text("scope")? == "school" {
                    let all = moving.iter().map(|g| ("group".to_string(), g.clone()))
                        .chain(groupless_moving.iter().map(|p| ("pupil".to_string(), (*p).clone())));
                    (all.collect(), vec![("school".to_string(), String::new())])
                } else {
                    of_licence.into_iter().partition(|(k, m)| moves(k, m))
                };
                if going.is_empty() {
                    continue;
                }
                if staying.is_empty() {
                    sqlx::query("UPDATE licences SET school_id = $1 WHERE id = $2").bind(target).bind(&id).execute(&mut *tx).await?;
                    append!(&mut *tx, AuditEvent {
                        actor, action: "licence.move", school_id: Some(target), party_id: None, subject: Some(&id),
                        details: json!({"from": from.to_string(), "to": to.to_string(), "reason": "split"}),
                    });
                    report.licences_moved.push(id);
                    continue;
                }
                let new = new_id();
                sqlx::query("INSERT INTO licences (id, school_id, product_id, scope, valid_from, valid_until, created_by, created_at) \
                             VALUES ($1, $2, $3, 'members', $4, $5, $6, $7)")
                    .bind(&new).bind(target).bind(r.text("product_id")?).bind(r.text("valid_from")?).bind(r.opt_text("valid_until")?)
                    .bind(actor.0.as_str()).bind(t).execute(&mut *tx).await?;
                for (kind, member) in &going {
                    sqlx::query("INSERT INTO licence_members (licence_id, member_kind, member_id) VALUES ($1, $2, $3)")
                        .bind(&new).bind(kind).bind(member).execute(&mut *tx).await?;
                    sqlx::query("DELETE FROM licence_members WHERE licence_id = $1 AND member_kind = $2 AND member_id = $3")
                        .bind(&id).bind(kind).bind(member).execute(&mut *tx).await?;
                }
                append!(&mut *tx, AuditEvent {
                    actor, action: "licence.create", school_id: Some(target), party_id: None, subject: Some(&new),
                    details: json!({"reason": "split", "from_licence": id, "from": from.to_string(), "members": going.len()}),
                });
                report.licences_created.push(new);
            }

            // The target's data is part of the source's: the source's consents carry over.
            for r in sqlx::query("SELECT c.party_id, p.code FROM consents c JOIN parties p ON p.id = c.party_id \
                                  WHERE c.school_id = $1 AND c.revoked_at IS NULL ORDER BY p.code")
                .bind(s).fetch_all(&mut *tx).await? {
                let party_id = r.text("party_id")?;
                let has = sqlx::query("SELECT 1 AS x FROM consents WHERE school_id = $1 AND party_id = $2 AND revoked_at IS NULL")
                    .bind(target).bind(&party_id).fetch_optional(&mut *tx).await?.is_some();
                if has {
                    continue;
                }
                sqlx::query("INSERT INTO consents (id, school_id, party_id, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(new_id()).bind(target).bind(&party_id).bind(actor.0.as_str()).bind(t).execute(&mut *tx).await?;
                append!(&mut *tx, AuditEvent {
                    actor, action: "consent.grant", school_id: Some(target), party_id: Some(&party_id), subject: None,
                    details: json!({"reason": "split", "from": from.to_string()}),
                });
                report.consents_copied.push(r.text("code")?);
            }
            report.target_ip_ranges = sqlx::query("SELECT COUNT(*) AS n FROM school_ip_ranges WHERE school_id = $1")
                .bind(target).fetch_one(&mut *tx).await?.int("n")? as usize;

            if dry_run {
                tx.rollback().await?;
            } else {
                let details = json!({"from": from.to_string(), "to": to.to_string(), "groups": report.groups,
                                     "pupils": report.pupils.len(), "staff_added": report.staff_added.len(),
                                     "licences_moved": report.licences_moved, "licences_created": report.licences_created,
                                     "consents_copied": report.consents_copied});
                for school in [s, target] {
                    append!(&mut *tx, AuditEvent {
                        actor, action: "school.split", school_id: Some(school), party_id: None, subject: Some(target),
                        details: details.clone(),
                    });
                }
                tx.commit().await?;
            }
            Ok(())
        })?;
        if dry_run {
            self.audit(AuditEvent {
                actor,
                action: "school.split.dry_run",
                school_id: Some(s),
                party_id: None,
                subject: None,
                details: json!({"from": from.to_string(), "to": to.to_string(), "groups": report.groups,
                                "pupils": report.pupils.len()}),
            })
            .await?;
        }
        Ok(report)
    }
}
