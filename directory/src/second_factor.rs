//! Staff second factors (issue #21): a TOTP authenticator whose shared secret is sealed under the
//! key-encryption key, and ten single-use recovery codes of which only a SHA-256 is stored.
//!
//! The register never sees a code: the HTTP layer checks a TOTP code against the opened secret,
//! and hands over the hash of a recovery code. Enrolment, removal and every use of a recovery
//! code append their audit entry in the same transaction.
//!
//! A school's policy says who must have a second factor (`schools.second_factor_policy`, the
//! operator's default where the school chose none); an administrator can reset a staff member's
//! factor, which also ends their sessions.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use certs::Kek;
use serde_json::json;

use crate::audit::{AuditEvent, append};
use crate::db::{on_held, reads, writes};
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

/// Who must have a second factor before a password login is complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecondFactorPolicy {
    /// Nobody: a second factor is each staff member's own choice.
    None,
    /// The school's ICT-coördinatoren (role `ict_coordinator`), who administer it.
    Managers,
    /// Everyone who works at the school.
    AllStaff,
}

impl SecondFactorPolicy {
    pub const ALL: [SecondFactorPolicy; 3] = [
        SecondFactorPolicy::None,
        SecondFactorPolicy::Managers,
        SecondFactorPolicy::AllStaff,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SecondFactorPolicy::None => "none",
            SecondFactorPolicy::Managers => "managers",
            SecondFactorPolicy::AllStaff => "all_staff",
        }
    }

    pub fn parse(s: &str) -> Result<SecondFactorPolicy> {
        SecondFactorPolicy::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| DirectoryError::Invalid {
                field: "second_factor_policy",
                value: s.to_owned(),
                rule_nl: "kies none, managers of all_staff",
                rule_en: "choose none, managers or all_staff",
            })
    }

    /// Whether a staff member at a school under this policy must have a second factor.
    pub fn requires(self, manager: bool) -> bool {
        match self {
            SecondFactorPolicy::None => false,
            SecondFactorPolicy::Managers => manager,
            SecondFactorPolicy::AllStaff => true,
        }
    }
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

    /// Of the school's staff (members and role holders), those with a second factor.
    pub async fn school_staff_with_second_factor(
        &self,
        school_id: &str,
    ) -> Result<HashSet<String>> {
        const SQL: &str = "SELECT staff_id FROM staff_totp WHERE staff_id IN \
             (SELECT staff_id FROM staff_memberships WHERE school_id = $1 \
              UNION SELECT staff_id FROM staff_roles WHERE school_id = $1) \
             UNION SELECT staff_id FROM staff_passkeys WHERE staff_id IN \
             (SELECT staff_id FROM staff_memberships WHERE school_id = $1 \
              UNION SELECT staff_id FROM staff_roles WHERE school_id = $1)";
        reads!(self, p => {
            sqlx::query(SQL).bind(school_id).fetch_all(p).await?
                .iter().map(|r| r.text("staff_id")).collect()
        })
    }

    /// The school's own policy; `None` when it follows the operator's default.
    pub async fn school_second_factor_policy(
        &self,
        school_id: &str,
    ) -> Result<Option<SecondFactorPolicy>> {
        const SQL: &str = "SELECT second_factor_policy FROM schools WHERE id = $1";
        let value = reads!(self, p => {
            let row = sqlx::query(SQL).bind(school_id).fetch_optional(p).await?
                .ok_or_else(|| DirectoryError::not_found("school", school_id))?;
            row.opt_text("second_factor_policy")
        })?;
        value.as_deref().map(SecondFactorPolicy::parse).transpose()
    }

    /// Sets the school's policy (`None`: back to the operator's default), with its audit entry.
    pub async fn set_school_second_factor_policy(
        &self,
        school_id: &str,
        policy: Option<SecondFactorPolicy>,
        actor: &Actor,
    ) -> Result<()> {
        const SQL: &str =
            "UPDATE schools SET second_factor_policy = $1, updated_at = $2 WHERE id = $3";
        let value = policy.map(SecondFactorPolicy::as_str);
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query(SQL).bind(value).bind(now()).bind(school_id).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(DirectoryError::not_found("school", school_id));
            }
            append!(&mut *tx, AuditEvent {
                actor, action: "school.second_factor_policy.set", school_id: Some(school_id),
                party_id: None, subject: Some(school_id), details: json!({"policy": value}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    /// Whether the policy of any school the staff member works at (as a member, or holding a
    /// role there) requires them to have a second factor; `default` stands for a school that
    /// chose no policy of its own.
    pub async fn second_factor_required(
        &self,
        staff_id: &str,
        default: SecondFactorPolicy,
    ) -> Result<bool> {
        const SQL: &str = "SELECT s.second_factor_policy, \
             (SELECT COUNT(*) FROM staff_roles r WHERE r.staff_id = $1 AND r.school_id = s.id AND r.role = 'ict_coordinator') AS managers \
             FROM schools s WHERE s.id IN \
             (SELECT school_id FROM staff_memberships WHERE staff_id = $1 AND active = $2 \
              UNION SELECT school_id FROM staff_roles WHERE staff_id = $1)";
        let rows = reads!(self, p => {
            sqlx::query(SQL).bind(staff_id).bind(true).fetch_all(p).await?
                .iter()
                .map(|r| Ok((r.opt_text("second_factor_policy")?, r.int("managers")? > 0)))
                .collect::<Result<Vec<_>>>()
        })?;
        for (policy, manager) in rows {
            let policy = match policy {
                Some(p) => SecondFactorPolicy::parse(&p)?,
                None => default,
            };
            if policy.requires(manager) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Accepts a code of the authenticator's time `step`, once: the conditional update moves the
    /// last accepted step forward, so of two submissions of one code (also at the same moment,
    /// on different nodes) one is accepted, and neither it nor an older code works afterwards,
    /// whatever became of the state store. `false` when the step (or a later one) was accepted
    /// before, or there is no authenticator.
    ///
    /// Not `writes!`: `staff_totp` is never cached, so the read cache can stay, as for
    /// [`Directory::audit`]; every login with a code makes this one write.
    pub async fn accept_totp_step(&self, staff_id: &str, step: i64) -> Result<bool> {
        const SQL: &str = "UPDATE staff_totp SET last_step = $1 \
             WHERE staff_id = $2 AND (last_step IS NULL OR last_step < $1)";
        on_held!(append: &self.pool, &self.held, c => {
            let done = sqlx::query(SQL).bind(step).bind(staff_id).execute(&mut *c).await?;
            Ok(done.rows_affected() == 1)
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
        self.enrol_totp_confirmed(staff_id, secret, kek, recovery_code_hashes, None, actor)
            .await
    }

    /// [`Directory::enrol_totp`] with the time step of the code that confirmed the set-up,
    /// accepted with it: that code cannot then also serve a login.
    pub async fn enrol_totp_confirmed(
        &self,
        staff_id: &str,
        secret: &TotpSecret,
        kek: &Kek,
        recovery_code_hashes: &[String],
        confirmed_step: Option<i64>,
        actor: &Actor,
    ) -> Result<()> {
        let sealed = kek
            .seal(secret.expose(), &aad(staff_id))
            .map_err(sealing_failed)?;
        let t = now();
        writes!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("INSERT INTO staff_totp (staff_id, sealed_secret, kek_id, created_at, last_step) VALUES ($1, $2, $3, $4, $5)")
                .bind(staff_id).bind(&sealed).bind(kek.id()).bind(t).bind(confirmed_step)
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

    /// An administrator resets the staff member's second factor (they lost their phone and
    /// their recovery codes): the authenticator, every recovery code and every passkey go, the staff member's
    /// sessions end on every node (the session epoch moves), and the audit entry names the
    /// administrator as actor and the school they acted for, all in one transaction. `Ok(false)`
    /// when there was nothing to reset (then nothing changes and nothing is audited).
    pub async fn reset_second_factor(
        &self,
        staff_id: &str,
        school_id: Option<&str>,
        actor: &Actor,
    ) -> Result<bool> {
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let totp = sqlx::query("DELETE FROM staff_totp WHERE staff_id = $1")
                .bind(staff_id).execute(&mut *tx).await?;
            let codes = sqlx::query("DELETE FROM staff_recovery_codes WHERE staff_id = $1")
                .bind(staff_id).execute(&mut *tx).await?;
            let passkeys = sqlx::query("DELETE FROM staff_passkeys WHERE staff_id = $1")
                .bind(staff_id).execute(&mut *tx).await?;
            if totp.rows_affected() == 0 && codes.rows_affected() == 0 && passkeys.rows_affected() == 0 {
                return Ok(false);
            }
            sqlx::query("UPDATE staff SET session_epoch = session_epoch + 1 WHERE id = $1")
                .bind(staff_id).execute(&mut *tx).await?;
            append!(&mut *tx, AuditEvent {
                actor, action: "staff.second_factor.reset", school_id, party_id: None,
                subject: Some(staff_id),
                details: json!({"totp": totp.rows_affected() > 0, "recovery_codes": codes.rows_affected(), "passkeys": passkeys.rows_affected()}),
            });
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Replaces every recovery code of the staff member's authenticator by new ones (their
    /// SHA-256 hashes), with the audit entry; `Ok(false)` when there is no authenticator.
    pub async fn renew_recovery_codes(
        &self,
        staff_id: &str,
        recovery_code_hashes: &[String],
        actor: &Actor,
    ) -> Result<bool> {
        let t = now();
        writes!(self, p => {
            let mut tx = p.begin().await?;
            // Takes the authenticator's row first, so that a removal at the same moment either
            // comes before (nothing to renew) or after (it removes the new codes too).
            let there = sqlx::query("UPDATE staff_totp SET created_at = created_at WHERE staff_id = $1")
                .bind(staff_id).execute(&mut *tx).await?;
            if there.rows_affected() == 0 {
                return Ok(false);
            }
            sqlx::query("DELETE FROM staff_recovery_codes WHERE staff_id = $1")
                .bind(staff_id).execute(&mut *tx).await?;
            for hash in recovery_code_hashes {
                sqlx::query("INSERT INTO staff_recovery_codes (staff_id, code_hash, created_at) VALUES ($1, $2, $3)")
                    .bind(staff_id).bind(hash).bind(t).execute(&mut *tx).await?;
            }
            append!(&mut *tx, AuditEvent {
                actor, action: "staff.second_factor.recovery_codes_renewed", school_id: None,
                party_id: None, subject: Some(staff_id),
                details: json!({"recovery_codes": recovery_code_hashes.len()}),
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
