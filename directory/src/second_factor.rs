//! Staff second factors (issue #21): a TOTP authenticator whose shared secret is sealed under the
//! key-encryption key, and ten single-use recovery codes of which only a SHA-256 is stored.
//!
//! The register never sees a code: the HTTP layer checks a TOTP code against the opened secret,
//! and hands over the hash of a recovery code. Enrolment, removal and every use of a recovery
//! code append their audit entry in the same transaction.

use std::fmt;

use certs::Kek;
use serde_json::json;

use crate::audit::{AuditEvent, append};
use crate::db::{reads, writes};
use crate::error::{DirectoryError, Result};
use crate::row::RowExt;
use crate::{Actor, Directory, now};

/// The shared secret of a TOTP authenticator, in the clear. Debug never shows it.
pub struct TotpSecret(Vec<u8>);

impl TotpSecret {
    pub fn new(bytes: Vec<u8>) -> TotpSecret {
        TotpSecret(bytes)
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TotpSecret({} bytes)", self.0.len())
    }
}

/// A staff member's enrolled second factor, its secret still sealed (see
/// [`Directory::open_totp_secret`]).
#[derive(Clone)]
pub struct SecondFactor {
    pub staff_id: String,
    pub created_at: i64,
    /// Recovery codes not used yet.
    pub recovery_codes_left: i64,
    sealed: Vec<u8>,
    kek_id: String,
}

impl fmt::Debug for SecondFactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecondFactor")
            .field("staff_id", &self.staff_id)
            .field("created_at", &self.created_at)
            .field("recovery_codes_left", &self.recovery_codes_left)
            .field("kek_id", &self.kek_id)
            .finish_non_exhaustive()
    }
}

/// The sealed secret is bound to its owner: a row copied to another staff member does not open.
fn aad(staff_id: &str) -> Vec<u8> {
    format!("staff-totp|{staff_id}").into_bytes()
}

fn factor_from(r: &impl RowExt) -> Result<SecondFactor> {
    Ok(SecondFactor {
        staff_id: r.text("staff_id")?,
        created_at: r.int("created_at")?,
        recovery_codes_left: r.int("codes_left")?,
        sealed: r.bytes("sealed_secret")?,
        kek_id: r.text("kek_id")?,
    })
}

fn sealing_failed(e: certs::CertsError) -> DirectoryError {
    DirectoryError::Conflict {
        nl: format!(
            "het geheim van de authenticator kon niet worden versleuteld of ontsleuteld: {e}"
        ),
        en: format!("the authenticator's secret could not be sealed or opened: {e}"),
    }
}

fn already_enrolled() -> DirectoryError {
    DirectoryError::Conflict {
        nl: "er is al een authenticator ingesteld; verwijder die eerst".into(),
        en: "an authenticator is already set up; remove it first".into(),
    }
}

impl Directory {
    /// The staff member's second factor, if one is enrolled.
    pub async fn staff_second_factor(&self, staff_id: &str) -> Result<Option<SecondFactor>> {
        const SQL: &str = "SELECT t.staff_id, t.sealed_secret, t.kek_id, t.created_at, \
             (SELECT COUNT(*) FROM staff_recovery_codes r WHERE r.staff_id = t.staff_id AND r.used_at IS NULL) AS codes_left \
             FROM staff_totp t WHERE t.staff_id = $1";
        reads!(self, p => {
            let row = sqlx::query(SQL).bind(staff_id).fetch_optional(p).await?;
            row.as_ref().map(factor_from).transpose()
        })
    }

    /// The authenticator's secret in the clear, to check a code against.
    pub fn open_totp_secret(&self, factor: &SecondFactor, kek: &Kek) -> Result<TotpSecret> {
        if factor.kek_id != kek.id() {
            return Err(DirectoryError::Conflict {
                nl: format!(
                    "het geheim van de authenticator is versleuteld met {}, niet met de ingestelde sleutel {}",
                    factor.kek_id,
                    kek.id()
                ),
                en: format!(
                    "the authenticator's secret is sealed under {}, not under the configured {}",
                    factor.kek_id,
                    kek.id()
                ),
            });
        }
        kek.open(&factor.sealed, &aad(&factor.staff_id))
            .map(TotpSecret)
            .map_err(sealing_failed)
    }

    /// Stores a confirmed authenticator with its recovery codes (their SHA-256 hashes), in one
    /// transaction with its audit entry. A staff member has at most one: a second enrolment,
    /// also one racing the first, is refused (Conflict).
    pub async fn enrol_totp(
        &self,
        staff_id: &str,
        secret: &TotpSecret,
        kek: &Kek,
        recovery_code_hashes: &[String],
        actor: &Actor,
    ) -> Result<()> {
        let sealed = kek
            .seal(secret.expose(), &aad(staff_id))
            .map_err(sealing_failed)?;
        let t = now();
        writes!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("INSERT INTO staff_totp (staff_id, sealed_secret, kek_id, created_at) VALUES ($1, $2, $3, $4)")
                .bind(staff_id).bind(&sealed).bind(kek.id()).bind(t)
                .execute(&mut *tx).await
                .map_err(|e| match &e {
                    sqlx::Error::Database(db) if db.is_unique_violation() => already_enrolled(),
                    sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                        DirectoryError::not_found("medewerker", staff_id)
                    }
                    _ => DirectoryError::Database(e),
                })?;
            // Codes of an earlier enrolment were removed with it; none may survive into this one.
            sqlx::query("DELETE FROM staff_recovery_codes WHERE staff_id = $1")
                .bind(staff_id).execute(&mut *tx).await?;
            for hash in recovery_code_hashes {
                sqlx::query("INSERT INTO staff_recovery_codes (staff_id, code_hash, created_at) VALUES ($1, $2, $3)")
                    .bind(staff_id).bind(hash).bind(t).execute(&mut *tx).await?;
            }
            append!(&mut *tx, AuditEvent {
                actor, action: "staff.second_factor.enrol", school_id: None, party_id: None,
                subject: Some(staff_id),
                // What was set up, never the secret or a code.
                details: json!({"kind": "totp", "recovery_codes": recovery_code_hashes.len()}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    /// Removes the authenticator and every recovery code; Ok(false) when there was none.
    pub async fn remove_second_factor(&self, staff_id: &str, actor: &Actor) -> Result<bool> {
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let removed = sqlx::query("DELETE FROM staff_totp WHERE staff_id = $1")
                .bind(staff_id).execute(&mut *tx).await?;
            if removed.rows_affected() == 0 {
                return Ok(false);
            }
            sqlx::query("DELETE FROM staff_recovery_codes WHERE staff_id = $1")
                .bind(staff_id).execute(&mut *tx).await?;
            append!(&mut *tx, AuditEvent {
                actor, action: "staff.second_factor.remove", school_id: None, party_id: None,
                subject: Some(staff_id), details: json!({"kind": "totp"}),
            });
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Uses up the recovery code with this hash: `Some(codes left)` when it was unused, `None`
    /// when it is unknown or used. The conditional update makes each code single-use, also when
    /// it is submitted twice at the same moment.
    pub async fn use_recovery_code(
        &self,
        staff_id: &str,
        code_hash: &str,
        actor: &Actor,
    ) -> Result<Option<i64>> {
        let t = now();
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let used = sqlx::query("UPDATE staff_recovery_codes SET used_at = $1 \
                                    WHERE staff_id = $2 AND code_hash = $3 AND used_at IS NULL")
                .bind(t).bind(staff_id).bind(code_hash).execute(&mut *tx).await?;
            if used.rows_affected() == 0 {
                return Ok(None);
            }
            let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM staff_recovery_codes WHERE staff_id = $1 AND used_at IS NULL")
                .bind(staff_id).fetch_one(&mut *tx).await?;
            append!(&mut *tx, AuditEvent {
                actor, action: "staff.second_factor.recovery_code", school_id: None, party_id: None,
                subject: Some(staff_id), details: json!({"left": left}),
            });
            tx.commit().await?;
            Ok(Some(left))
        })
    }
}
