//! A school's staff as its administrator manages them: the list with roles and group links, a
//! login address, roles that must leave the school an administrator, and links to groups that
//! may hold for a period only (an invalkracht's).

use std::collections::HashMap;

use serde_json::json;

use crate::audit::{AuditEvent, append};
use crate::db::{reads, writes};
use crate::error::{DirectoryError, Result, unique_as};
use crate::model::{Date, Email, StaffRole};
use crate::people::{Group, Staff, group_from, staff_from};
use crate::row::RowExt;
use crate::{Actor, Directory, now};

/// A link between a staff member and a group, with its period when it has one.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupLink {
    pub group: Group,
    /// First day the link counts (Dutch calendar), if it starts later than it was made.
    pub valid_from: Option<String>,
    /// Last day the link counts; after it the link grants nothing.
    pub valid_until: Option<String>,
}

impl GroupLink {
    /// Whether the link counts on `today` (both ends included).
    pub fn holds_on(&self, today: &Date) -> bool {
        self.valid_from
            .as_deref()
            .is_none_or(|f| f <= today.as_str())
            && self
                .valid_until
                .as_deref()
                .is_none_or(|u| u >= today.as_str())
    }
}

/// One person of a school's staff: on its staff list (LAS or added by hand), holding a role
/// there, or linked to one of its groups.
#[derive(Clone, Debug, PartialEq)]
pub struct SchoolStaffMember {
    pub staff: Staff,
    /// On the school's staff list (an active membership).
    pub member: bool,
    /// The key the school's LAS knows them by; None for people added by hand.
    pub las_key: Option<String>,
    pub roles: Vec<StaffRole>,
    /// Links to this school's groups, also those whose period has not begun or has ended.
    pub groups: Vec<GroupLink>,
    /// Ids of the other schools where the account works or holds a role.
    pub other_schools: Vec<String>,
}

impl Directory {
    /// The school's staff by surname, with their roles and group links here.
    pub async fn staff_of_school(&self, school_id: &str) -> Result<Vec<SchoolStaffMember>> {
        const STAFF: &str = "SELECT id, email, achternaam, voorvoegsel, voornamen, roepnaam, eck_id, status, deactivated_at \
             FROM staff WHERE id IN (SELECT staff_id FROM staff_memberships WHERE school_id = $1 AND active = $2 \
             UNION SELECT staff_id FROM staff_roles WHERE school_id = $1 \
             UNION SELECT sg.staff_id FROM staff_groups sg JOIN school_groups g ON g.id = sg.group_id WHERE g.school_id = $1) \
             ORDER BY achternaam, roepnaam, id";
        const MEMBERS: &str =
            "SELECT staff_id, las_key FROM staff_memberships WHERE school_id = $1 AND active = $2";
        const ROLES: &str = "SELECT staff_id, role FROM staff_roles WHERE school_id = $1";
        const LINKS: &str = "SELECT sg.staff_id, sg.valid_from, sg.valid_until, g.id, g.school_id, g.las_key, g.name, g.kind, \
             g.jaargroep, g.active FROM staff_groups sg JOIN school_groups g ON g.id = sg.group_id \
             WHERE g.school_id = $1 ORDER BY g.name, sg.valid_from";
        const ELSEWHERE: &str = "SELECT staff_id, school_id FROM staff_memberships WHERE school_id <> $1 AND active = $2 \
             AND staff_id IN (SELECT staff_id FROM staff_memberships WHERE school_id = $1 AND active = $2 \
             UNION SELECT staff_id FROM staff_roles WHERE school_id = $1 \
             UNION SELECT sg.staff_id FROM staff_groups sg JOIN school_groups g ON g.id = sg.group_id WHERE g.school_id = $1) \
             UNION SELECT staff_id, school_id FROM staff_roles WHERE school_id <> $1 \
             AND staff_id IN (SELECT staff_id FROM staff_memberships WHERE school_id = $1 AND active = $2 \
             UNION SELECT staff_id FROM staff_roles WHERE school_id = $1 \
             UNION SELECT sg.staff_id FROM staff_groups sg JOIN school_groups g ON g.id = sg.group_id WHERE g.school_id = $1)";
        reads!(self, p => {
            let staff = sqlx::query(STAFF).bind(school_id).bind(true).fetch_all(p).await?;
            let mut out: Vec<SchoolStaffMember> = staff
                .iter()
                .map(|r| Ok(SchoolStaffMember {
                    staff: staff_from(r)?,
                    member: false,
                    las_key: None,
                    roles: vec![],
                    groups: vec![],
                    other_schools: vec![],
                }))
                .collect::<Result<_>>()?;
            let at: HashMap<String, usize> =
                out.iter().enumerate().map(|(i, m)| (m.staff.id.clone(), i)).collect();
            for r in sqlx::query(MEMBERS).bind(school_id).bind(true).fetch_all(p).await? {
                if let Some(&i) = at.get(&r.text("staff_id")?) {
                    out[i].member = true;
                    out[i].las_key = r.opt_text("las_key")?;
                }
            }
            for r in sqlx::query(ROLES).bind(school_id).fetch_all(p).await? {
                if let Some(&i) = at.get(&r.text("staff_id")?) {
                    out[i].roles.push(StaffRole::parse(&r.text("role")?)?);
                }
            }
            for r in sqlx::query(LINKS).bind(school_id).fetch_all(p).await? {
                if let Some(&i) = at.get(&r.text("staff_id")?) {
                    out[i].groups.push(GroupLink {
                        group: group_from(&r)?,
                        valid_from: r.opt_text("valid_from")?,
                        valid_until: r.opt_text("valid_until")?,
                    });
                }
            }
            for r in sqlx::query(ELSEWHERE).bind(school_id).bind(true).fetch_all(p).await? {
                if let Some(&i) = at.get(&r.text("staff_id")?) {
                    let other = r.text("school_id")?;
                    if !out[i].other_schools.contains(&other) {
                        out[i].other_schools.push(other);
                    }
                }
            }
            for m in &mut out {
                m.roles.sort_by_key(|r| StaffRole::ALL.iter().position(|x| x == r));
                m.other_schools.sort();
            }
            Ok(out)
        })
    }

    /// Whether the staff member belongs to the school: on its staff list, holding a role there,
    /// or linked to one of its groups.
    pub async fn staff_belongs_to_school(&self, staff_id: &str, school_id: &str) -> Result<bool> {
        const SQL: &str = "SELECT staff_id FROM (SELECT staff_id FROM staff_memberships WHERE school_id = $1 AND active = $2 \
             UNION SELECT staff_id FROM staff_roles WHERE school_id = $1 \
             UNION SELECT sg.staff_id FROM staff_groups sg JOIN school_groups g ON g.id = sg.group_id WHERE g.school_id = $1) x \
             WHERE staff_id = $3";
        reads!(self, p => {
            Ok(sqlx::query(SQL).bind(school_id).bind(true).bind(staff_id).fetch_optional(p).await?.is_some())
        })
    }

    /// Gives the account a (new) login address. Links mailed before went to the old address, or
    /// to none: they stop working, so that only a link mailed to this address counts.
    pub async fn set_staff_email(
        &self,
        staff_id: &str,
        school_id: &str,
        email: &Email,
        actor: &Actor,
    ) -> Result<()> {
        let t = now();
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query("UPDATE staff SET email = $1, updated_at = $2 WHERE id = $3")
                .bind(email.as_str()).bind(t).bind(staff_id)
                .execute(&mut *tx).await
                .map_err(unique_as("e-mailadres", email.to_string()))?;
            if done.rows_affected() == 0 {
                return Err(DirectoryError::not_found("medewerker", staff_id));
            }
            sqlx::query("UPDATE staff_tokens SET used_at = $1 WHERE staff_id = $2 AND used_at IS NULL")
                .bind(t).bind(staff_id).execute(&mut *tx).await?;
            append!(&mut *tx, AuditEvent {
                actor, action: "staff.email.set", school_id: Some(school_id), party_id: None,
                subject: Some(staff_id), details: json!({}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    /// Takes a role away; the ICT-coördinator role only while another ICT-coördinator of the
    /// school remains. The school's row is taken first, so two administrators removing each
    /// other at once go one after the other, and the second sees that it would be the last.
    pub async fn revoke_role_keeping_an_administrator(
        &self,
        staff_id: &str,
        school_id: &str,
        role: StaffRole,
        actor: &Actor,
    ) -> Result<()> {
        const OTHERS: &str = "SELECT staff_id FROM staff_roles WHERE school_id = $1 AND role = $2 AND staff_id <> $3";
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let school = sqlx::query("UPDATE schools SET updated_at = updated_at WHERE id = $1")
                .bind(school_id).execute(&mut *tx).await?;
            if school.rows_affected() == 0 {
                return Err(DirectoryError::not_found("school", school_id));
            }
            if role == StaffRole::IctCoordinator
                && sqlx::query(OTHERS).bind(school_id).bind(role.as_str()).bind(staff_id)
                    .fetch_optional(&mut *tx).await?.is_none()
            {
                return Err(DirectoryError::Conflict {
                    nl: "dit is de laatste ICT-coördinator van de school: maak eerst iemand anders ICT-coördinator".into(),
                    en: "this is the school's last ICT coordinator: make someone else ICT coordinator first".into(),
                });
            }
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

    /// Links a staff member to a group of `school_id`, for good or for a period (both days
    /// included); linking again replaces the period.
    pub async fn link_staff_group(
        &self,
        staff_id: &str,
        school_id: &str,
        group_id: &str,
        valid_from: Option<&Date>,
        valid_until: Option<&Date>,
        actor: &Actor,
    ) -> Result<()> {
        let (from, until) = (valid_from.map(Date::as_str), valid_until.map(Date::as_str));
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let group = sqlx::query("SELECT las_key FROM school_groups WHERE id = $1 AND school_id = $2")
                .bind(group_id).bind(school_id).fetch_optional(&mut *tx).await?
                .ok_or_else(|| DirectoryError::not_found("groep", group_id))?
                .text("las_key")?;
            if sqlx::query("SELECT id FROM staff WHERE id = $1").bind(staff_id).fetch_optional(&mut *tx).await?.is_none() {
                return Err(DirectoryError::not_found("medewerker", staff_id));
            }
            sqlx::query("INSERT INTO staff_groups (staff_id, group_id, valid_from, valid_until) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (staff_id, group_id) DO UPDATE SET valid_from = $3, valid_until = $4")
                .bind(staff_id).bind(group_id).bind(from).bind(until)
                .execute(&mut *tx).await?;
            append!(&mut *tx, AuditEvent {
                actor, action: "staff.group.assign", school_id: Some(school_id), party_id: None,
                subject: Some(staff_id), details: json!({"group": group, "valid_from": from, "valid_until": until}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    /// Ends a staff member's link to a group of `school_id`.
    pub async fn unlink_staff_group(
        &self,
        staff_id: &str,
        school_id: &str,
        group_id: &str,
        actor: &Actor,
    ) -> Result<()> {
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let group = sqlx::query("SELECT las_key FROM school_groups WHERE id = $1 AND school_id = $2")
                .bind(group_id).bind(school_id).fetch_optional(&mut *tx).await?
                .ok_or_else(|| DirectoryError::not_found("groep", group_id))?
                .text("las_key")?;
            let done = sqlx::query("DELETE FROM staff_groups WHERE staff_id = $1 AND group_id = $2")
                .bind(staff_id).bind(group_id).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(DirectoryError::not_found("koppeling met groep", group));
            }
            append!(&mut *tx, AuditEvent {
                actor, action: "staff.group.unassign", school_id: Some(school_id), party_id: None,
                subject: Some(staff_id), details: json!({"group": group}),
            });
            tx.commit().await?;
            Ok(())
        })
    }
}
