//! Boards, school locations and their IP ranges.

use serde::Serialize;
use serde_json::json;

use crate::audit::{AuditEvent, append};
use crate::db::{login_reads, reads, writes};
use crate::error::{DirectoryError, Result, unique_as};
use crate::model::{Bestuursnummer, Brin, Cidr, SchoolCode, Vestigingscode, display_name};
use crate::row::RowExt;
use crate::{Actor, Directory, new_id, now};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Board {
    pub id: String,
    pub bestuursnummer: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct School {
    pub id: String,
    pub board_id: String,
    pub brin: String,
    pub vestigingscode: String,
    pub name: String,
    /// The unguessable reference in the school's shortcut links.
    pub instelling_ref: String,
    pub active: bool,
    pub merged_into: Option<String>,
    /// Whether pupils may sign in from home with a home code (the school can switch it off).
    pub home_login_allowed: bool,
    /// Whether pupils confirm their name with their own picture.
    pub picture_password_enabled: bool,
}

impl School {
    pub fn code(&self) -> String {
        format!("{}{}", self.brin, self.vestigingscode)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IpRange {
    pub id: String,
    pub school_id: String,
    pub cidr: String,
    pub label: String,
}

impl IpRange {
    pub fn network(&self) -> Result<Cidr> {
        Cidr::parse(&self.cidr)
    }
}

pub struct NewSchool {
    pub bestuursnummer: Bestuursnummer,
    pub brin: Brin,
    pub vestigingscode: Vestigingscode,
    pub name: String,
}

fn board_from(r: &impl RowExt) -> Result<Board> {
    Ok(Board {
        id: r.text("id")?,
        bestuursnummer: r.text("bestuursnummer")?,
        name: r.text("name")?,
    })
}

pub(crate) fn school_from(r: &impl RowExt) -> Result<School> {
    Ok(School {
        id: r.text("id")?,
        board_id: r.text("board_id")?,
        brin: r.text("brin")?,
        vestigingscode: r.text("vestigingscode")?,
        name: r.text("name")?,
        instelling_ref: r.text("instelling_ref")?,
        active: r.flag("active")?,
        merged_into: r.opt_text("merged_into")?,
        home_login_allowed: r.flag("home_login_allowed")?,
        picture_password_enabled: r.flag("picture_password_enabled")?,
    })
}

fn range_from(r: &impl RowExt) -> Result<IpRange> {
    Ok(IpRange {
        id: r.text("id")?,
        school_id: r.text("school_id")?,
        cidr: r.text("cidr")?,
        label: r.text("label")?,
    })
}

macro_rules! school_select {
    ($tail:literal) => {
        concat!(
            "SELECT id, board_id, brin, vestigingscode, name, instelling_ref, active, merged_into, \
             home_login_allowed, picture_password_enabled FROM schools ",
            $tail
        )
    };
}

/// A fresh INSTELLING_REF: a random UUID v4, so that knowing one school's shortcut says nothing
/// about another's.
fn new_instelling_ref() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl Directory {
    pub async fn create_board(
        &self,
        nummer: &Bestuursnummer,
        name: &str,
        actor: &Actor,
    ) -> Result<Board> {
        let name = display_name("naam bestuur", name)?;
        let board = Board {
            id: new_id(),
            bestuursnummer: nummer.to_string(),
            name,
        };
        writes!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("INSERT INTO boards (id, bestuursnummer, name, created_at) VALUES ($1, $2, $3, $4)")
                .bind(&board.id).bind(&board.bestuursnummer).bind(&board.name).bind(now())
                .execute(&mut *tx).await
                .map_err(unique_as("bestuursnummer", nummer.as_str()))?;
            append!(&mut *tx, AuditEvent {
                actor, action: "board.create", school_id: None, party_id: None,
                subject: Some(&board.id),
                details: json!({"bestuursnummer": board.bestuursnummer, "name": board.name}),
            });
            tx.commit().await?;
            Ok(())
        })?;
        Ok(board)
    }

    pub async fn board_by_nummer(&self, nummer: &Bestuursnummer) -> Result<Option<Board>> {
        const SQL: &str = "SELECT id, bestuursnummer, name FROM boards WHERE bestuursnummer = $1";
        reads!(self, p => {
            let row = sqlx::query(SQL).bind(nummer.as_str()).fetch_optional(p).await?;
            row.as_ref().map(board_from).transpose()
        })
    }

    pub async fn list_boards(&self) -> Result<Vec<Board>> {
        const SQL: &str = "SELECT id, bestuursnummer, name FROM boards ORDER BY bestuursnummer";
        reads!(self, p => {
            sqlx::query(SQL).fetch_all(p).await?.iter().map(board_from).collect()
        })
    }

    /// Registers a school location under an existing board.
    pub async fn create_school(&self, new: &NewSchool, actor: &Actor) -> Result<School> {
        let name = display_name("naam school", &new.name)?;
        let board = self
            .board_by_nummer(&new.bestuursnummer)
            .await?
            .ok_or_else(|| DirectoryError::not_found("bestuur", new.bestuursnummer.as_str()))?;
        let school = School {
            id: new_id(),
            board_id: board.id,
            brin: new.brin.to_string(),
            vestigingscode: new.vestigingscode.to_string(),
            name,
            instelling_ref: new_instelling_ref(),
            active: true,
            merged_into: None,
            home_login_allowed: true,
            picture_password_enabled: false,
        };
        let code = school.code();
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let t = now();
            sqlx::query(
                "INSERT INTO schools (id, board_id, brin, vestigingscode, name, instelling_ref, active, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)")
                .bind(&school.id).bind(&school.board_id).bind(&school.brin)
                .bind(&school.vestigingscode).bind(&school.name).bind(&school.instelling_ref)
                .bind(true).bind(t)
                .execute(&mut *tx).await
                .map_err(unique_as("BRIN + vestigingscode", code.as_str()))?;
            append!(&mut *tx, AuditEvent {
                actor, action: "school.create", school_id: Some(&school.id), party_id: None,
                subject: Some(&school.id),
                details: json!({"school": code, "name": school.name}),
            });
            tx.commit().await?;
            Ok(())
        })?;
        Ok(school)
    }

    pub async fn school_by_code(&self, code: &SchoolCode) -> Result<Option<School>> {
        const SQL: &str = school_select!("WHERE brin = $1 AND vestigingscode = $2");
        reads!(self, p => {
            let row = sqlx::query(SQL)
                .bind(code.brin.as_str()).bind(code.vestigingscode.as_str())
                .fetch_optional(p).await?;
            row.as_ref().map(school_from).transpose()
        })
    }

    /// Like [`Self::school_by_code`], but a missing school is an error that names the code.
    pub async fn require_school(&self, code: &SchoolCode) -> Result<School> {
        self.school_by_code(code)
            .await?
            .ok_or_else(|| DirectoryError::not_found("school", code.to_string()))
    }

    pub async fn school_by_id(&self, id: &str) -> Result<Option<School>> {
        self.cached("school_by_id", id.to_owned(), Option::is_some, || async {
            const SQL: &str = school_select!("WHERE id = $1");
            login_reads!(self, c => {
                let row = sqlx::query(SQL).bind(id).fetch_optional(c).await?;
                row.as_ref().map(school_from).transpose()
            })
        })
        .await
    }

    /// The school a shortcut link points at. Malformed references never reach the database.
    pub async fn school_by_instelling_ref(&self, reference: &str) -> Result<Option<School>> {
        let Ok(parsed) = uuid::Uuid::parse_str(reference) else {
            return Ok(None);
        };
        const SQL: &str = school_select!("WHERE instelling_ref = $1");
        reads!(self, p => {
            let row = sqlx::query(SQL)
                .bind(parsed.to_string()).fetch_optional(p).await?;
            row.as_ref().map(school_from).transpose()
        })
    }

    /// The school a shortcut link points at with its IP ranges, in one round trip: every step
    /// of a pupil's login at school asks both.
    pub async fn school_with_ranges_by_instelling_ref(
        &self,
        reference: &str,
    ) -> Result<Option<(School, Vec<IpRange>)>> {
        self.cached("school_with_ranges_by_instelling_ref", reference.to_owned(), Option::is_some, || async {
            let Ok(parsed) = uuid::Uuid::parse_str(reference) else {
                return Ok(None);
            };
            const SQL: &str = "SELECT s.id, s.board_id, s.brin, s.vestigingscode, s.name, s.instelling_ref, \
                 s.active, s.merged_into, s.home_login_allowed, s.picture_password_enabled, \
                 r.id AS range_id, r.cidr AS range_cidr, r.label AS range_label \
                 FROM schools s LEFT JOIN school_ip_ranges r ON r.school_id = s.id \
                 WHERE s.instelling_ref = $1 ORDER BY r.cidr";
            login_reads!(self, c => {
                let rows = sqlx::query(SQL).bind(parsed.to_string()).fetch_all(c).await?;
                let Some(first) = rows.first() else {
                    return Ok(None);
                };
                let school = school_from(first)?;
                let mut ranges = Vec::with_capacity(rows.len());
                for r in &rows {
                    // A school without ranges comes back as one row with NULL range columns.
                    if let Some(id) = r.opt_text("range_id")? {
                        ranges.push(IpRange {
                            id,
                            school_id: school.id.clone(),
                            cidr: r.text("range_cidr")?,
                            label: r.text("range_label")?,
                        });
                    }
                }
                Ok(Some((school, ranges)))
            })
        })
        .await
    }

    /// Active schools with a registered IP range containing `ip`, by name: whom a pupil on a
    /// school network can pick when a product sends them to openpoort without a shortcut.
    /// Several schools behind one board's network all show. Every range is read, which is
    /// fine for a page asked only when a login starts without a session.
    pub async fn schools_on_network(&self, ip: std::net::IpAddr) -> Result<Vec<School>> {
        const SQL: &str = "SELECT s.id, s.board_id, s.brin, s.vestigingscode, s.name, s.instelling_ref, \
             s.active, s.merged_into, s.home_login_allowed, s.picture_password_enabled, r.cidr AS range_cidr \
             FROM schools s JOIN school_ip_ranges r ON r.school_id = s.id \
             WHERE s.active = $1 AND s.merged_into IS NULL ORDER BY s.name, s.id";
        reads!(self, p => {
            let rows = sqlx::query(SQL).bind(true).fetch_all(p).await?;
            let mut found: Vec<School> = Vec::new();
            for r in &rows {
                let inside = Cidr::parse(&r.text("range_cidr")?).is_ok_and(|c| c.contains(ip));
                if inside {
                    let school = school_from(r)?;
                    if found.last().is_none_or(|last| last.id != school.id) {
                        found.push(school);
                    }
                }
            }
            Ok(found)
        })
    }

    pub async fn list_schools(&self) -> Result<Vec<School>> {
        const SQL: &str = school_select!("ORDER BY brin, vestigingscode");
        reads!(self, p => {
            sqlx::query(SQL).fetch_all(p).await?.iter().map(school_from).collect()
        })
    }

    /// Issues a new INSTELLING_REF, for when a shortcut leaked: the old links stop working at once.
    pub async fn regenerate_instelling_ref(
        &self,
        school_id: &str,
        actor: &Actor,
    ) -> Result<String> {
        let fresh = new_instelling_ref();
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query("UPDATE schools SET instelling_ref = $1, updated_at = $2 WHERE id = $3")
                .bind(&fresh).bind(now()).bind(school_id)
                .execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(DirectoryError::not_found("school", school_id));
            }
            append!(&mut *tx, AuditEvent {
                actor, action: "school.instelling_ref.regenerate", school_id: Some(school_id),
                party_id: None, subject: Some(school_id), details: json!({}),
            });
            tx.commit().await?;
            Ok(())
        })?;
        Ok(fresh)
    }

    /// Switches pupils' home login (home codes) on or off for a school.
    pub async fn set_home_login_allowed(
        &self,
        school_id: &str,
        allowed: bool,
        actor: &Actor,
    ) -> Result<()> {
        const SQL: &str =
            "UPDATE schools SET home_login_allowed = $1, updated_at = $2 WHERE id = $3";
        self.set_school_flag(SQL, "school.home_login", school_id, allowed, actor)
            .await
    }

    /// Switches picture passwords on or off for a school's pupils.
    pub async fn set_picture_password_enabled(
        &self,
        school_id: &str,
        enabled: bool,
        actor: &Actor,
    ) -> Result<()> {
        const SQL: &str =
            "UPDATE schools SET picture_password_enabled = $1, updated_at = $2 WHERE id = $3";
        self.set_school_flag(SQL, "school.picture_password", school_id, enabled, actor)
            .await
    }

    async fn set_school_flag(
        &self,
        sql: &'static str,
        action: &str,
        school_id: &str,
        on: bool,
        actor: &Actor,
    ) -> Result<()> {
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query(sql).bind(on).bind(now()).bind(school_id).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(DirectoryError::not_found("school", school_id));
            }
            append!(&mut *tx, AuditEvent {
                actor, action, school_id: Some(school_id),
                party_id: None, subject: Some(school_id), details: json!({"on": on}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn add_ip_range(
        &self,
        school_id: &str,
        cidr: &Cidr,
        label: &str,
        actor: &Actor,
    ) -> Result<IpRange> {
        let label = label.trim();
        if label.chars().count() > 200 || label.chars().any(char::is_control) {
            return Err(DirectoryError::invalid(
                "label",
                label,
                "een label is hoogstens 200 tekens zonder stuurtekens",
                "a label is at most 200 characters without control characters",
            ));
        }
        if self.school_by_id(school_id).await?.is_none() {
            return Err(DirectoryError::not_found("school", school_id));
        }
        let range = IpRange {
            id: new_id(),
            school_id: school_id.to_owned(),
            cidr: cidr.to_string(),
            label: label.to_owned(),
        };
        writes!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("INSERT INTO school_ip_ranges (id, school_id, cidr, label, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(&range.id).bind(&range.school_id).bind(&range.cidr).bind(&range.label).bind(now())
                .execute(&mut *tx).await
                .map_err(unique_as("IP-bereik", range.cidr.as_str()))?;
            append!(&mut *tx, AuditEvent {
                actor, action: "school.ip_range.add", school_id: Some(school_id), party_id: None,
                subject: Some(&range.id), details: json!({"cidr": range.cidr, "label": range.label}),
            });
            tx.commit().await?;
            Ok(())
        })?;
        Ok(range)
    }

    pub async fn remove_ip_range(&self, school_id: &str, cidr: &Cidr, actor: &Actor) -> Result<()> {
        let cidr = cidr.to_string();
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query("DELETE FROM school_ip_ranges WHERE school_id = $1 AND cidr = $2")
                .bind(school_id).bind(&cidr).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(DirectoryError::not_found("IP-bereik", cidr));
            }
            append!(&mut *tx, AuditEvent {
                actor, action: "school.ip_range.remove", school_id: Some(school_id), party_id: None,
                subject: None, details: json!({"cidr": cidr}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn ip_ranges(&self, school_id: &str) -> Result<Vec<IpRange>> {
        const SQL: &str = "SELECT id, school_id, cidr, label FROM school_ip_ranges WHERE school_id = $1 ORDER BY cidr";
        reads!(self, p => {
            sqlx::query(SQL).bind(school_id).fetch_all(p).await?.iter().map(range_from).collect()
        })
    }
}
