//! Staff passkeys (WebAuthn, issue #21): several per staff member, each with a name the person
//! chose, a second factor after the password or a login of its own.
//!
//! The register does not know WebAuthn: it keeps the credential as the server's WebAuthn library
//! serialised it (JSON text holding the credential id, the public key, the signature counter and
//! the backup flags; no secret, the private key stays on the authenticator), under its credential
//! id (base64url), which is unique across all accounts. Registering, renaming and removing append
//! their audit entry in the same transaction, with the passkey's name at most, never credential
//! material. Recording a use (the new counter, the last use) is login bookkeeping, like a password
//! login, and is not audited.

use serde_json::json;

use crate::audit::{AuditEvent, append};
use crate::db::{login_reads, writes};
use crate::error::{DirectoryError, Result};
use crate::row::RowExt;
use crate::{Actor, Directory, new_id, now};

/// The longest name a passkey may have, in characters.
pub const NAME_MAX: usize = 60;

/// A registered passkey.
#[derive(Clone)]
pub struct StaffPasskey {
    pub id: String,
    pub staff_id: String,
    /// base64url of the credential id, as the authenticator reports it.
    pub credential_id: String,
    /// The credential as the WebAuthn library serialised it (public data only).
    pub passkey: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

impl std::fmt::Debug for StaffPasskey {
    // The credential is public, but its serialisation is long and says nothing to a reader of a
    // log: the name and the moments do.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffPasskey")
            .field("id", &self.id)
            .field("staff_id", &self.staff_id)
            .field("name", &self.name)
            .field("created_at", &self.created_at)
            .field("last_used_at", &self.last_used_at)
            .finish_non_exhaustive()
    }
}

/// Which second factors a staff member has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Factors {
    /// An authenticator app (TOTP).
    pub totp: bool,
    /// How many passkeys.
    pub passkeys: i64,
}

impl Factors {
    pub fn any(&self) -> bool {
        self.totp || self.passkeys > 0
    }
}

/// A passkey's name as the person typed it, trimmed: 1 to [`NAME_MAX`] characters, no control
/// characters.
pub fn passkey_name(typed: &str) -> Result<String> {
    let name = typed.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(DirectoryError::Invalid {
            field: "naam / name",
            value: name.chars().take(NAME_MAX + 1).collect(),
            rule_nl: "geef de passkey een naam van 1 tot 60 tekens, bijvoorbeeld 'laptop school'",
            rule_en: "give the passkey a name of 1 to 60 characters, for example 'school laptop'",
        });
    }
    Ok(name.to_owned())
}

macro_rules! passkey_select {
    ($rest:literal) => {
        concat!(
            "SELECT id, staff_id, credential_id, passkey, name, created_at, last_used_at \
             FROM staff_passkeys ",
            $rest
        )
    };
}

fn passkey_from(r: &impl RowExt) -> Result<StaffPasskey> {
    Ok(StaffPasskey {
        id: r.text("id")?,
        staff_id: r.text("staff_id")?,
        credential_id: r.text("credential_id")?,
        passkey: r.text("passkey")?,
        name: r.text("name")?,
        created_at: r.int("created_at")?,
        last_used_at: r.opt_int("last_used_at")?,
    })
}

fn credential_taken() -> DirectoryError {
    DirectoryError::Conflict {
        nl: "deze passkey is al geregistreerd".into(),
        en: "this passkey is registered already".into(),
    }
}

impl Directory {
    /// The staff member's passkeys, oldest first (by name within a second).
    pub async fn staff_passkeys(&self, staff_id: &str) -> Result<Vec<StaffPasskey>> {
        const SQL: &str = passkey_select!("WHERE staff_id = $1 ORDER BY created_at, name, id");
        login_reads!(self, c => {
            sqlx::query(SQL).bind(staff_id).fetch_all(c).await?
                .iter().map(passkey_from).collect::<Result<Vec<_>>>()
        })
    }

    /// The passkey with this credential id (base64url), whoever's it is.
    pub async fn passkey_by_credential(&self, credential_id: &str) -> Result<Option<StaffPasskey>> {
        const SQL: &str = passkey_select!("WHERE credential_id = $1");
        login_reads!(self, c => {
            let row = sqlx::query(SQL).bind(credential_id).fetch_optional(c).await?;
            row.as_ref().map(passkey_from).transpose()
        })
    }

    /// Which second factors the staff member has (an authenticator app, passkeys), in one read.
    pub async fn staff_factors(&self, staff_id: &str) -> Result<Factors> {
        const SQL: &str = "SELECT \
             (SELECT COUNT(*) FROM staff_totp WHERE staff_id = $1) AS totp, \
             (SELECT COUNT(*) FROM staff_passkeys WHERE staff_id = $1) AS passkeys";
        login_reads!(self, c => {
            let row = sqlx::query(SQL).bind(staff_id).fetch_one(c).await?;
            Ok(Factors { totp: row.int("totp")? > 0, passkeys: row.int("passkeys")? })
        })
    }

    /// Whether the staff member has any second factor: an authenticator app or a passkey.
    pub async fn staff_has_second_factor(&self, staff_id: &str) -> Result<bool> {
        Ok(self.staff_factors(staff_id).await?.any())
    }

    /// Registers a passkey the staff member's authenticator just created and the WebAuthn
    /// library verified; returns its id. A credential id registered before (to this account or
    /// another) is refused (Conflict), also when two registrations race.
    pub async fn register_passkey(
        &self,
        staff_id: &str,
        credential_id: &str,
        passkey: &str,
        name: &str,
        actor: &Actor,
    ) -> Result<String> {
        let name = passkey_name(name)?;
        let id = new_id();
        let t = now();
        writes!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("INSERT INTO staff_passkeys (id, staff_id, credential_id, passkey, name, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(&id).bind(staff_id).bind(credential_id).bind(passkey).bind(&name).bind(t)
                .execute(&mut *tx).await
                .map_err(|e| match &e {
                    sqlx::Error::Database(db) if db.is_unique_violation() => credential_taken(),
                    sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                        DirectoryError::not_found("medewerker", staff_id)
                    }
                    _ => DirectoryError::Database(e),
                })?;
            append!(&mut *tx, AuditEvent {
                actor, action: "staff.passkey.register", school_id: None, party_id: None,
                subject: Some(staff_id),
                // The name the person gave it, never credential material.
                details: json!({"passkey": id, "name": name}),
            });
            tx.commit().await?;
            Ok(id.clone())
        })
    }

    /// Renames one of the staff member's passkeys; Ok(false) when they have none by that id.
    pub async fn rename_passkey(
        &self,
        staff_id: &str,
        passkey_id: &str,
        name: &str,
        actor: &Actor,
    ) -> Result<bool> {
        let name = passkey_name(name)?;
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query("UPDATE staff_passkeys SET name = $1 WHERE id = $2 AND staff_id = $3")
                .bind(&name).bind(passkey_id).bind(staff_id).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Ok(false);
            }
            append!(&mut *tx, AuditEvent {
                actor, action: "staff.passkey.rename", school_id: None, party_id: None,
                subject: Some(staff_id), details: json!({"passkey": passkey_id, "name": name}),
            });
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Removes one of the staff member's passkeys; Ok(false) when they have none by that id.
    pub async fn remove_passkey(
        &self,
        staff_id: &str,
        passkey_id: &str,
        actor: &Actor,
    ) -> Result<bool> {
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let name: Option<String> = sqlx::query_scalar(
                "DELETE FROM staff_passkeys WHERE id = $1 AND staff_id = $2 RETURNING name")
                .bind(passkey_id).bind(staff_id).fetch_optional(&mut *tx).await?;
            let Some(name) = name else {
                return Ok(false);
            };
            append!(&mut *tx, AuditEvent {
                actor, action: "staff.passkey.remove", school_id: None, party_id: None,
                subject: Some(staff_id), details: json!({"passkey": passkey_id, "name": name}),
            });
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Removes every passkey of the staff member (an administrator's reset of their second
    /// factors), with one audit entry naming how many; returns that number.
    pub async fn remove_all_passkeys(&self, staff_id: &str, actor: &Actor) -> Result<u64> {
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let removed = sqlx::query("DELETE FROM staff_passkeys WHERE staff_id = $1")
                .bind(staff_id).execute(&mut *tx).await?.rows_affected();
            if removed == 0 {
                return Ok(0);
            }
            append!(&mut *tx, AuditEvent {
                actor, action: "staff.passkey.remove", school_id: None, party_id: None,
                subject: Some(staff_id), details: json!({"all": true, "count": removed}),
            });
            tx.commit().await?;
            Ok(removed)
        })
    }

    /// Records a use of the passkey: the moment, and the credential as the library updated it
    /// (its signature counter, its backup state) when `updated` is given. The update applies only
    /// while the stored credential is still `seen` (the one the login checked against): of two
    /// uses at the same moment that both moved the counter, one is recorded, and Ok(false) tells
    /// the other, whose login must not go on (a cloned authenticator, or the same assertion
    /// twice). Ok(false) too when the passkey was removed meanwhile.
    pub async fn record_passkey_use(
        &self,
        credential_id: &str,
        seen: &str,
        updated: Option<&str>,
    ) -> Result<bool> {
        let t = now();
        writes!(self, p => {
            let done = sqlx::query("UPDATE staff_passkeys SET passkey = $1, last_used_at = $2 \
                                    WHERE credential_id = $3 AND passkey = $4")
                .bind(updated.unwrap_or(seen)).bind(t).bind(credential_id).bind(seen)
                .execute(p).await?;
            Ok(done.rows_affected() == 1)
        })
    }
}
