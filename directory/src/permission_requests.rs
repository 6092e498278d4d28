//! A party's request for a school's permission to synchronise its data (Basispoort's
//! `…/uitgever/synchronizationpermission?request-permission=true`), and the party giving a
//! permission up again. The school answers a request by consenting (which closes it, see
//! [`CLOSE_OPEN`] in `grant_consent`) or by declining it.
//!
//! One open request per school and party: the partial unique index makes a burst of requests
//! record one, without a count checked before the insert.

use serde::Serialize;
use serde_json::json;

use crate::audit::{AuditEvent, append};
use crate::db::{reads, writes};
use crate::error::{DirectoryError, Result};
use crate::row::RowExt;
use crate::{Actor, Directory, new_id, now};

/// Closes the open request between a school (`$3`) and a party (`$4`) with an outcome (`$5`),
/// by `$1` at `$2`. Run in the transaction of the change that answers it.
pub(crate) const CLOSE_OPEN: &str = "UPDATE permission_requests \
     SET closed_by = $1, closed_at = $2, outcome = $5 \
     WHERE school_id = $3 AND party_id = $4 AND closed_at IS NULL";

/// A party's request to a school.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PermissionRequest {
    pub id: String,
    pub school_id: String,
    pub party_id: String,
    pub requested_by: String,
    pub requested_at: i64,
}

fn request_from(r: &impl RowExt) -> Result<PermissionRequest> {
    Ok(PermissionRequest {
        id: r.text("id")?,
        school_id: r.text("school_id")?,
        party_id: r.text("party_id")?,
        requested_by: r.text("requested_by")?,
        requested_at: r.int("requested_at")?,
    })
}

/// What a request for permission came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestOutcome {
    /// The school consents already: nothing to ask.
    Consented,
    /// A new request is waiting for the school.
    Recorded,
    /// The party's earlier request is still waiting.
    AlreadyOpen,
}

/// What giving up a permission changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Relinquished {
    /// The school's consent to the party ended.
    pub consent_ended: bool,
    /// The party's waiting request was withdrawn.
    pub request_withdrawn: bool,
}

impl Directory {
    /// Records a party's request for a school's permission, unless the school consents to it
    /// already or a request of the party waits already. The school must be active.
    pub async fn request_permission(
        &self,
        school_id: &str,
        party_id: &str,
        actor: &Actor,
    ) -> Result<RequestOutcome> {
        // One statement that writes first: on SQLite a transaction that reads before it writes
        // cannot take the write lock while another writer holds it, and fails instead of waiting.
        // The unique index on open requests decides a race between two requests: the second
        // inserts nothing, and no error ends its transaction.
        const INSERT: &str = "INSERT INTO permission_requests \
             (id, school_id, party_id, requested_by, requested_at) \
             SELECT $1, s.id, p.id, $4, $5 FROM schools s, parties p \
             WHERE s.id = $2 AND p.id = $3 AND s.active \
             AND NOT EXISTS (SELECT 1 FROM consents c WHERE c.school_id = s.id \
                             AND c.party_id = p.id AND c.revoked_at IS NULL) \
             ON CONFLICT DO NOTHING";
        const SCHOOL: &str = "SELECT active FROM schools WHERE id = $1";
        const PARTY: &str = "SELECT id FROM parties WHERE id = $1";
        const CONSENT: &str = "SELECT id FROM consents \
             WHERE school_id = $1 AND party_id = $2 AND revoked_at IS NULL";
        let id = new_id();
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let inserted = sqlx::query(INSERT)
                .bind(&id).bind(school_id).bind(party_id).bind(actor.0.as_str()).bind(now())
                .execute(&mut *tx).await?;
            if inserted.rows_affected() == 1 {
                append!(&mut *tx, AuditEvent {
                    actor, action: "permission.request", school_id: Some(school_id),
                    party_id: Some(party_id), subject: Some(&id), details: json!({}),
                });
                tx.commit().await?;
                return Ok(RequestOutcome::Recorded);
            }
            // Nothing recorded: say why.
            let school = sqlx::query(SCHOOL).bind(school_id).fetch_optional(&mut *tx).await?
                .ok_or_else(|| DirectoryError::not_found("school", school_id))?;
            if !school.flag("active")? {
                return Err(DirectoryError::Conflict {
                    nl: "Deze school is niet meer actief (opgeheven of gefuseerd); toestemming vragen kan niet.".into(),
                    en: "This school is no longer active (closed or merged); permission cannot be requested.".into(),
                });
            }
            if sqlx::query(PARTY).bind(party_id).fetch_optional(&mut *tx).await?.is_none() {
                return Err(DirectoryError::not_found("partij", party_id));
            }
            if sqlx::query(CONSENT).bind(school_id).bind(party_id).fetch_optional(&mut *tx).await?.is_some() {
                return Ok(RequestOutcome::Consented);
            }
            Ok(RequestOutcome::AlreadyOpen)
        })
    }

    /// The requests waiting for a school's answer, oldest first. A request that raced with a
    /// consent now in force is answered already and not listed.
    pub async fn open_permission_requests(
        &self,
        school_id: &str,
    ) -> Result<Vec<PermissionRequest>> {
        const SQL: &str = "SELECT r.id, r.school_id, r.party_id, r.requested_by, r.requested_at \
             FROM permission_requests r \
             WHERE r.school_id = $1 AND r.closed_at IS NULL \
             AND NOT EXISTS (SELECT 1 FROM consents c WHERE c.school_id = r.school_id \
                             AND c.party_id = r.party_id AND c.revoked_at IS NULL) \
             ORDER BY r.requested_at, r.id";
        reads!(self, p => {
            sqlx::query(SQL).bind(school_id).fetch_all(p).await?.iter().map(request_from).collect()
        })
    }

    /// The school declines a party's waiting request; the party may ask again later.
    pub async fn decline_permission_request(
        &self,
        school_id: &str,
        party_id: &str,
        actor: &Actor,
    ) -> Result<()> {
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let closed = sqlx::query(CLOSE_OPEN)
                .bind(actor.0.as_str()).bind(now()).bind(school_id).bind(party_id).bind("declined")
                .execute(&mut *tx).await?;
            if closed.rows_affected() == 0 {
                return Err(DirectoryError::not_found("toestemmingsverzoek", party_id));
            }
            append!(&mut *tx, AuditEvent {
                actor, action: "permission.request.decline", school_id: Some(school_id),
                party_id: Some(party_id), subject: None, details: json!({}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    /// The party gives up the school's permission: the school's consent to it ends, as a
    /// withdrawal by `actor` (the party), and a request of the party that is still waiting is
    /// withdrawn. Nothing to give up is no error: the permission is gone either way.
    pub async fn relinquish_permission(
        &self,
        school_id: &str,
        party_id: &str,
        actor: &Actor,
    ) -> Result<Relinquished> {
        // Written first, for SQLite's sake (see `request_permission`); of a school withdrawing at
        // the same moment, one ends the consent and the other finds nothing to end.
        const END: &str = "UPDATE consents SET revoked_by = $1, revoked_at = $2 \
             WHERE school_id = $3 AND party_id = $4 AND revoked_at IS NULL RETURNING id";
        let t = now();
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let ended = sqlx::query(END).bind(actor.0.as_str()).bind(t).bind(school_id).bind(party_id)
                .fetch_all(&mut *tx).await?;
            let consent_ended = !ended.is_empty();
            for row in &ended {
                let consent_id = row.text("id")?;
                append!(&mut *tx, AuditEvent {
                    actor, action: "consent.revoke", school_id: Some(school_id),
                    party_id: Some(party_id), subject: Some(&consent_id),
                    details: json!({"relinquished_by_party": true}),
                });
            }
            let withdrawn = sqlx::query(CLOSE_OPEN)
                .bind(actor.0.as_str()).bind(t).bind(school_id).bind(party_id).bind("withdrawn")
                .execute(&mut *tx).await?;
            let request_withdrawn = withdrawn.rows_affected() > 0;
            if request_withdrawn {
                append!(&mut *tx, AuditEvent {
                    actor, action: "permission.request.withdraw", school_id: Some(school_id),
                    party_id: Some(party_id), subject: None, details: json!({}),
                });
            }
            tx.commit().await?;
            Ok(Relinquished { consent_ended, request_withdrawn })
        })
    }
}
