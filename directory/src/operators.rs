//! What only openpoort's operator changes: who holds the operator role, the first
//! ICT-coördinator of a school (on the board's signed request), and the names of boards,
//! schools, parties and products.

use serde::Serialize;
use serde_json::json;

use crate::audit::{AuditEvent, append};
use crate::db::{reads, writes};
use crate::error::{DirectoryError, Result, unique_as};
use crate::model::{StaffRole, WebUrl, display_name};
use crate::people::{NewStaff, Staff, StaffStatus, staff_from};
use crate::row::RowExt;
use crate::{Actor, Directory, new_id, now};

/// A staff account with the operator role.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Operator {
    pub staff: Staff,
    pub granted_by: String,
    pub granted_at: i64,
}

/// The board's signed request for a school's first ICT-coördinator, as the operator records it.
pub struct FirstIctRequest<'a> {
    /// Who signed for the board.
    pub requested_by: &'a str,
    /// The reference of the signed document (a letter's number, a case number).
    pub document_ref: &'a str,
}

/// A recorded first ICT-coördinator: whom, on whose request, by which document, approved by
/// whom.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FirstIct {
    pub id: String,
    pub school_id: String,
    pub staff_id: String,
    pub requested_by: String,
    pub document_ref: String,
    pub approved_by: String,
    pub created_at: i64,
}

/// What an operator may change about a product after it was added: everything but its code,
/// which schools' licences and shortcuts name.
pub struct ProductChange {
    pub methode: String,
    pub name: String,
    pub launch_url: WebUrl,
    pub icon_url: Option<WebUrl>,
    pub home_allowed: bool,
}

fn first_ict_from(r: &impl RowExt) -> Result<FirstIct> {
    Ok(FirstIct {
        id: r.text("id")?,
        school_id: r.text("school_id")?,
        staff_id: r.text("staff_id")?,
        requested_by: r.text("requested_by")?,
        document_ref: r.text("document_ref")?,
        approved_by: r.text("approved_by")?,
        created_at: r.int("created_at")?,
    })
}

/// A free text of the request (a name, a reference): 1 to 200 characters like a name.
fn request_text(field: &'static str, value: &str) -> Result<String> {
    display_name(field, value)
}

impl Directory {
    /// Gives a staff account the operator role. Granting it again changes nothing.
    pub async fn grant_operator(&self, staff_id: &str, actor: &Actor) -> Result<bool> {
        if self.staff_by_id(staff_id).await?.is_none() {
            return Err(DirectoryError::not_found("medewerker", staff_id));
        }
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query("INSERT INTO operators (staff_id, granted_by, granted_at) VALUES ($1, $2, $3) ON CONFLICT (staff_id) DO NOTHING")
                .bind(staff_id).bind(actor.0.as_str()).bind(now()).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Ok(false);
            }
            append!(&mut *tx, AuditEvent {
                actor, action: "operator.grant", school_id: None, party_id: None,
                subject: Some(staff_id), details: json!({}),
            });
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Takes the operator role away; its holder's next request to an operator page is refused.
    pub async fn revoke_operator(&self, staff_id: &str, actor: &Actor) -> Result<()> {
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query("DELETE FROM operators WHERE staff_id = $1")
                .bind(staff_id).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(DirectoryError::not_found("beheerder van openpoort", staff_id));
            }
            append!(&mut *tx, AuditEvent {
                actor, action: "operator.revoke", school_id: None, party_id: None,
                subject: Some(staff_id), details: json!({}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    /// Whether the account holds the operator role now and may sign in (an account deactivated
    /// since keeps its row but not its rights).
    pub async fn is_operator(&self, staff_id: &str) -> Result<bool> {
        const SQL: &str = "SELECT o.staff_id FROM operators o JOIN staff s ON s.id = o.staff_id \
             WHERE o.staff_id = $1 AND s.status = 'active' AND s.deactivated_at IS NULL";
        reads!(self, p => {
            Ok(sqlx::query(SQL).bind(staff_id).fetch_optional(p).await?.is_some())
        })
    }

    pub async fn operators(&self) -> Result<Vec<Operator>> {
        const SQL: &str = "SELECT s.id, s.email, s.achternaam, s.voorvoegsel, s.voornamen, s.roepnaam, s.eck_id, \
             s.status, s.deactivated_at, o.granted_by, o.granted_at \
             FROM operators o JOIN staff s ON s.id = o.staff_id ORDER BY s.email";
        reads!(self, p => {
            sqlx::query(SQL).fetch_all(p).await?.iter().map(|r| Ok(Operator {
                staff: staff_from(r)?,
                granted_by: r.text("granted_by")?,
                granted_at: r.int("granted_at")?,
            })).collect()
        })
    }

    /// Creates a school's first ICT-coördinator on the board's signed request: the account
    /// (inactive until activated), its place at the school, the role and the record of the
    /// request, in one transaction, so that nobody holds the role without the record nor the
    /// record without the person. Refused while the school has an ICT-coördinator: the next ones
    /// are that person's to appoint.
    pub async fn create_first_ict(
        &self,
        school_id: &str,
        new: &NewStaff,
        request: &FirstIctRequest<'_>,
        actor: &Actor,
    ) -> Result<(Staff, FirstIct)> {
        let requested_by = request_text("aangevraagd door", request.requested_by)?;
        let document_ref = request_text("kenmerk", request.document_ref)?;
        if new.email.is_none() {
            return Err(DirectoryError::invalid(
                "e-mailadres",
                "",
                "de eerste ICT-coördinator krijgt de activeringslink per e-mail",
                "the first ICT coordinator receives the activation link by e-mail",
            ));
        }
        let staff = Staff {
            id: new_id(),
            email: new.email.as_ref().map(|e| e.to_string()),
            achternaam: display_name("achternaam", &new.achternaam)?,
            voorvoegsel: optional_name("voorvoegsel", &new.voorvoegsel)?,
            voornamen: optional_name("voornamen", &new.voornamen)?,
            roepnaam: optional_name("roepnaam", &new.roepnaam)?,
            eck_id: None,
            status: StaffStatus::Inactive,
        };
        let record = FirstIct {
            id: new_id(),
            school_id: school_id.to_owned(),
            staff_id: staff.id.clone(),
            requested_by,
            document_ref,
            approved_by: actor.0.clone(),
            created_at: now(),
        };
        writes!(self, p => {
            let mut tx = p.begin().await?;
            // The school's row is taken first (as `revoke_role_keeping_an_administrator` does), so
            // two requests for one school go one after the other and the second sees the first's
            // coordinator; a plain SELECT would let both through on PostgreSQL.
            let taken = sqlx::query("UPDATE schools SET updated_at = updated_at WHERE id = $1")
                .bind(school_id).execute(&mut *tx).await?;
            if taken.rows_affected() == 0 {
                return Err(DirectoryError::not_found("school", school_id));
            }
            let has_ict = sqlx::query("SELECT staff_id FROM staff_roles WHERE school_id = $1 AND role = $2")
                .bind(school_id).bind(StaffRole::IctCoordinator.as_str()).fetch_optional(&mut *tx).await?;
            if has_ict.is_some() {
                return Err(DirectoryError::Conflict {
                    nl: "deze school heeft al een ICT-coördinator; die wijst de volgende aan in Beheer".into(),
                    en: "this school has an ICT coordinator already; they appoint the next one in Beheer".into(),
                });
            }
            let t = record.created_at;
            sqlx::query("INSERT INTO staff (id, email, achternaam, voorvoegsel, voornamen, roepnaam, eck_id, status, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)")
                .bind(&staff.id).bind(&staff.email).bind(&staff.achternaam).bind(&staff.voorvoegsel)
                .bind(&staff.voornamen).bind(&staff.roepnaam).bind(&staff.eck_id)
                .bind(staff.status.as_str()).bind(t)
                .execute(&mut *tx).await
                .map_err(unique_as("e-mailadres", staff.email.clone().unwrap_or_default()))?;
            sqlx::query("INSERT INTO staff_memberships (staff_id, school_id, las_key, active, created_at) VALUES ($1, $2, NULL, $3, $4)")
                .bind(&staff.id).bind(school_id).bind(true).bind(t).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO staff_roles (staff_id, school_id, role, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(&staff.id).bind(school_id).bind(StaffRole::IctCoordinator.as_str()).bind(actor.0.as_str()).bind(t)
                .execute(&mut *tx).await?;
            sqlx::query("INSERT INTO first_ict_requests (id, school_id, staff_id, requested_by, document_ref, approved_by, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(&record.id).bind(school_id).bind(&staff.id).bind(&record.requested_by)
                .bind(&record.document_ref).bind(&record.approved_by).bind(t)
                .execute(&mut *tx).await?;
            append!(&mut *tx, AuditEvent {
                actor, action: "school.first_ict", school_id: Some(school_id), party_id: None,
                subject: Some(&staff.id),
                details: json!({"requested_by": record.requested_by, "document_ref": record.document_ref}),
            });
            tx.commit().await?;
            Ok(())
        })?;
        Ok((staff, record))
    }

    /// The first ICT-coördinators recorded for a school (more than one when the first left and
    /// the board asked again).
    pub async fn first_icts_of_school(&self, school_id: &str) -> Result<Vec<FirstIct>> {
        const SQL: &str = "SELECT id, school_id, staff_id, requested_by, document_ref, approved_by, created_at \
             FROM first_ict_requests WHERE school_id = $1 ORDER BY created_at, id";
        reads!(self, p => {
            sqlx::query(SQL).bind(school_id).fetch_all(p).await?.iter().map(first_ict_from).collect()
        })
    }

    pub async fn rename_board(&self, board_id: &str, name: &str, actor: &Actor) -> Result<()> {
        let name = display_name("naam bestuur", name)?;
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query("UPDATE boards SET name = $1 WHERE id = $2")
                .bind(&name).bind(board_id).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(DirectoryError::not_found("bestuur", board_id));
            }
            append!(&mut *tx, AuditEvent {
                actor, action: "board.rename", school_id: None, party_id: None,
                subject: Some(board_id), details: json!({"name": name}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn rename_school(&self, school_id: &str, name: &str, actor: &Actor) -> Result<()> {
        let name = display_name("naam school", name)?;
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query("UPDATE schools SET name = $1, updated_at = $2 WHERE id = $3")
                .bind(&name).bind(now()).bind(school_id).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(DirectoryError::not_found("school", school_id));
            }
            append!(&mut *tx, AuditEvent {
                actor, action: "school.rename", school_id: Some(school_id), party_id: None,
                subject: Some(school_id), details: json!({"name": name}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn rename_party(&self, party_id: &str, name: &str, actor: &Actor) -> Result<()> {
        let name = display_name("naam partij", name)?;
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query("UPDATE parties SET name = $1 WHERE id = $2")
                .bind(&name).bind(party_id).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(DirectoryError::not_found("partij", party_id));
            }
            append!(&mut *tx, AuditEvent {
                actor, action: "party.rename", school_id: None, party_id: Some(party_id),
                subject: Some(party_id), details: json!({"name": name}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn change_product(
        &self,
        product_id: &str,
        change: &ProductChange,
        actor: &Actor,
    ) -> Result<()> {
        let methode = display_name("methode", &change.methode)?;
        let name = display_name("naam product", &change.name)?;
        let icon = change.icon_url.as_ref().map(|u| u.to_string());
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query("UPDATE products SET methode = $1, name = $2, launch_url = $3, icon_url = $4, home_allowed = $5 WHERE id = $6")
                .bind(&methode).bind(&name).bind(change.launch_url.as_str()).bind(&icon)
                .bind(change.home_allowed).bind(product_id).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(DirectoryError::not_found("product", product_id));
            }
            let party: String = {
                let r = sqlx::query("SELECT party_id FROM products WHERE id = $1").bind(product_id).fetch_one(&mut *tx).await?;
                r.text("party_id")?
            };
            append!(&mut *tx, AuditEvent {
                actor, action: "product.change", school_id: None, party_id: Some(&party),
                subject: Some(product_id),
                details: json!({"name": name, "methode": methode, "home_allowed": change.home_allowed}),
            });
            tx.commit().await?;
            Ok(())
        })
    }
}

fn optional_name(field: &'static str, v: &Option<String>) -> Result<Option<String>> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => display_name(field, s).map(Some),
    }
}
