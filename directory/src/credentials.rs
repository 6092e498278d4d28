//! Staff passwords, session epochs and one-time links (activation, reset).
//!
//! The register stores what the HTTP layer computed: an argon2id hash, a SHA-256 of a link token.
//! It never sees a password or a token in the clear.

use serde_json::json;

use crate::audit::{AuditEvent, append};
use crate::db::{login_reads, reads, writes};
use crate::error::{DirectoryError, Result};
use crate::model::Email;
use crate::people::{Staff, StaffStatus, deactivated_error, staff_from};
use crate::row::RowExt;
use crate::{Actor, Directory, now};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenPurpose {
    Activation,
    Reset,
}

impl TokenPurpose {
    pub fn as_str(&self) -> &'static str {
        match self {
            TokenPurpose::Activation => "activation",
            TokenPurpose::Reset => "reset",
        }
    }
}

/// What a login needs to know about a staff member.
#[derive(Clone, Debug)]
pub struct StaffLogin {
    pub staff: Staff,
    pub password_hash: Option<String>,
    pub session_epoch: i64,
}

impl Directory {
    /// The staff member behind an e-mail address, with credentials.
    pub async fn staff_login(&self, email: &Email) -> Result<Option<StaffLogin>> {
        const SQL: &str = "SELECT id, email, achternaam, voorvoegsel, voornamen, roepnaam, eck_id, status, \
             deactivated_at, password_hash, session_epoch FROM staff WHERE email = $1";
        reads!(self, p => {
            let row = sqlx::query(SQL).bind(email.as_str()).fetch_optional(p).await?;
            row.as_ref().map(login_from).transpose()
        })
    }

    /// Status and session epoch, read on every authenticated request so that a deactivation or
    /// a password change ends sessions on every node at once.
    pub async fn staff_session_state(&self, staff_id: &str) -> Result<Option<(StaffStatus, i64)>> {
        const SQL: &str = "SELECT id, email, achternaam, voorvoegsel, voornamen, roepnaam, eck_id, status, \
             deactivated_at, password_hash, session_epoch FROM staff WHERE id = $1";
        login_reads!(self, c => {
            let row = sqlx::query(SQL).bind(staff_id).fetch_optional(c).await?;
            row.as_ref().map(login_from).transpose()
        })
        .map(|l| l.map(|l| (l.staff.status, l.session_epoch)))
    }

    /// Records a new one-time link for a staff member; earlier unused links of the same purpose
    /// stop working, so only the newest mail counts. A deactivated account gets no link
    /// (Conflict) until it is reinstated.
    pub async fn issue_staff_token(
        &self,
        staff_id: &str,
        purpose: TokenPurpose,
        token_hash: &str,
        valid_seconds: i64,
        actor: &Actor,
    ) -> Result<()> {
        let t = now();
        writes!(self, p => {
            let mut tx = p.begin().await?;
            // Takes the staff row first: a deactivation running at the same time then either
            // comes before (and this refuses) or after (and voids this link with the others).
            let live = sqlx::query("UPDATE staff SET updated_at = updated_at WHERE id = $1 AND deactivated_at IS NULL")
                .bind(staff_id).execute(&mut *tx).await?;
            if live.rows_affected() == 0 {
                let exists = sqlx::query("SELECT id FROM staff WHERE id = $1").bind(staff_id).fetch_optional(&mut *tx).await?;
                return Err(match exists {
                    None => DirectoryError::not_found("medewerker", staff_id),
                    Some(_) => deactivated_error(),
                });
            }
            sqlx::query("UPDATE staff_tokens SET used_at = $1 WHERE staff_id = $2 AND purpose = $3 AND used_at IS NULL")
                .bind(t).bind(staff_id).bind(purpose.as_str()).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO staff_tokens (token_hash, staff_id, purpose, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(token_hash).bind(staff_id).bind(purpose.as_str()).bind(t).bind(t + valid_seconds)
                .execute(&mut *tx).await?;
            append!(&mut *tx, AuditEvent {
                actor, action: "staff.link.issue", school_id: None, party_id: None,
                subject: Some(staff_id), details: json!({"purpose": purpose.as_str(), "valid_seconds": valid_seconds}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    /// The staff member a link belongs to, if it is unused and unexpired; does not use it up.
    pub async fn staff_token_owner(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
    ) -> Result<Option<String>> {
        const SQL: &str = "SELECT staff_id FROM staff_tokens \
             WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3";
        reads!(self, p => {
            let row = sqlx::query(SQL).bind(token_hash).bind(purpose.as_str()).bind(now()).fetch_optional(p).await?;
            row.as_ref().map(|r| r.text("staff_id")).transpose()
        })
    }

    /// Uses a link up and sets the password in one transaction: either both happen or neither.
    /// Activation also makes the account active; both end every existing session. Returns the
    /// staff id, or None when the link is unknown, used or expired.
    pub async fn set_password_with_token(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
        password_hash: &str,
    ) -> Result<Option<String>> {
        let t = now();
        writes!(self, p => {
            let mut tx = p.begin().await?;
            // The conditional update is what makes the link single-use under concurrency: of two
            // requests with the same token only one sees a row.
            let row = sqlx::query(
                "UPDATE staff_tokens SET used_at = $1 \
                 WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 \
                 RETURNING staff_id")
                .bind(t).bind(token_hash).bind(purpose.as_str())
                .fetch_optional(&mut *tx).await?;
            let Some(row) = row else {
                return Ok(None);
            };
            let staff_id = row.text("staff_id")?;
            // Neither kind of link revives a deactivated account: a reset needs an active one,
            // and activation one that was never deactivated (or was re-invited since).
            let sql = match purpose {
                TokenPurpose::Activation => "UPDATE staff SET password_hash = $1, password_changed_at = $2, \
                     session_epoch = session_epoch + 1, status = 'active', updated_at = $2 WHERE id = $3 AND deactivated_at IS NULL",
                TokenPurpose::Reset => "UPDATE staff SET password_hash = $1, password_changed_at = $2, \
                     session_epoch = session_epoch + 1, updated_at = $2 WHERE id = $3 AND status = 'active'",
            };
            let done = sqlx::query(sql).bind(password_hash).bind(t).bind(&staff_id).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Ok(None);
            }
            append!(&mut *tx, AuditEvent {
                actor: &Actor::staff(&staff_id), action: "staff.password.set", school_id: None, party_id: None,
                subject: Some(&staff_id), details: json!({"via": purpose.as_str()}),
            });
            tx.commit().await?;
            Ok(Some(staff_id))
        })
    }

    /// Sets a password directly (demo seed, operator). Ends every existing session.
    pub async fn set_password(
        &self,
        staff_id: &str,
        password_hash: &str,
        actor: &Actor,
    ) -> Result<i64> {
        let t = now();
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let row = sqlx::query(
                "UPDATE staff SET password_hash = $1, password_changed_at = $2, session_epoch = session_epoch + 1, \
                 updated_at = $2 WHERE id = $3 RETURNING session_epoch")
                .bind(password_hash).bind(t).bind(staff_id)
                .fetch_optional(&mut *tx).await?
                .ok_or_else(|| DirectoryError::not_found("medewerker", staff_id))?;
            let epoch = row.int("session_epoch")?;
            append!(&mut *tx, AuditEvent {
                actor, action: "staff.password.set", school_id: None, party_id: None,
                subject: Some(staff_id), details: json!({"via": "direct"}),
            });
            tx.commit().await?;
            Ok(epoch)
        })
    }

    /// "Log out everywhere": voids every session of the staff member; returns the new epoch.
    pub async fn bump_session_epoch(&self, staff_id: &str, actor: &Actor) -> Result<i64> {
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let row = sqlx::query("UPDATE staff SET session_epoch = session_epoch + 1 WHERE id = $1 RETURNING session_epoch")
                .bind(staff_id).fetch_optional(&mut *tx).await?
                .ok_or_else(|| DirectoryError::not_found("medewerker", staff_id))?;
            let epoch = row.int("session_epoch")?;
            append!(&mut *tx, AuditEvent {
                actor, action: "staff.sessions.end_all", school_id: None, party_id: None,
                subject: Some(staff_id), details: json!({}),
            });
            tx.commit().await?;
            Ok(epoch)
        })
    }
}

fn login_from(r: &impl RowExt) -> Result<StaffLogin> {
    Ok(StaffLogin {
        staff: staff_from(r)?,
        password_hash: r.opt_text("password_hash")?,
        session_epoch: r.int("session_epoch")?,
    })
}
