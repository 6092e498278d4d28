//! The append-only audit log. Rows are only ever inserted (a database trigger refuses updates);
//! mutations append inside their own transaction through [`append!`].

use serde::Serialize;

use crate::db::{Pool, on_held, reads, writes};
use crate::error::Result;
use crate::row::RowExt;
use crate::{Actor, Directory};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub school_id: Option<String>,
    pub party_id: Option<String>,
    pub subject: Option<String>,
    pub details: serde_json::Value,
}

/// What a mutation records about itself.
#[derive(Clone, Debug)]
pub struct AuditEvent<'a> {
    pub actor: &'a Actor,
    pub action: &'a str,
    pub school_id: Option<&'a str>,
    pub party_id: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub details: serde_json::Value,
}

pub(crate) const INSERT_SQL: &str = "INSERT INTO audit_log (at, actor, action, school_id, party_id, subject, details) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Appends an [`AuditEvent`] on an open transaction (or connection) of either backend.
macro_rules! append {
    ($conn:expr, $event:expr) => {{
        let ev: $crate::audit::AuditEvent<'_> = $event;
        sqlx::query($crate::audit::INSERT_SQL)
            .bind($crate::now())
            .bind(ev.actor.0.as_str())
            .bind(ev.action)
            .bind(ev.school_id)
            .bind(ev.party_id)
            .bind(ev.subject)
            .bind(ev.details.to_string())
            .execute($conn)
            .await?;
    }};
}
pub(crate) use append;

/// A release entry's query with its first eight parameters bound (see
/// [`Directory::audit_release`]), the same on both backends.
macro_rules! release_entry {
    ($sql:expr, $event:expr, $subject_name:expr) => {
        sqlx::query($sql)
            .bind(crate::now())
            .bind($event.actor.0.as_str())
            .bind($event.action)
            .bind($event.school_id)
            .bind($event.party_id)
            .bind($event.subject)
            .bind($event.details.to_string())
            .bind($subject_name)
    };
}

fn entry_from(r: &impl RowExt) -> Result<AuditEntry> {
    let details = r.text("details")?;
    Ok(AuditEntry {
        seq: r.int("seq")?,
        at: r.int("at")?,
        actor: r.text("actor")?,
        action: r.text("action")?,
        school_id: r.opt_text("school_id")?,
        party_id: r.opt_text("party_id")?,
        subject: r.opt_text("subject")?,
        // Written only by `append!` from a serde_json::Value, so it parses; keep the raw text
        // rather than fail the whole listing if an operator edited a row by hand.
        details: serde_json::from_str(&details).unwrap_or(serde_json::Value::String(details)),
    })
}

impl Directory {
    /// Appends one event outside any other change (for events that are not themselves a
    /// mutation of the register, such as a release decision).
    pub async fn audit(&self, event: AuditEvent<'_>) -> Result<()> {
        // Not `writes!`: the audit log is never cached, so the cache can stay; on a held
        // connection because every login appends one.
        on_held!(append: &self.pool, &self.held, c => {
            append!(&mut *c, event);
            Ok(())
        })
    }

    /// Appends a release decision's entry with the user's name as it is now (`subject_name`,
    /// kept as written so that the school reads whom the release was about also after a
    /// rename) together with the keys of the groups the user was in (`audit_release_groups`),
    /// in one transaction, so that the school can find releases by group as they were on the
    /// day. Like [`Directory::audit`] on a held connection.
    ///
    /// Every release decision of every login commits here before its answer goes out, so on
    /// PostgreSQL it is one statement (the entry and its groups through a data-modifying `WITH`,
    /// atomic like any single statement): one round trip after the pool's ping instead of
    /// BEGIN, the entry, a row per group and COMMIT, which was most of the server CPU PostgreSQL
    /// spent on a login (#19). SQLite has no data-modifying `WITH`, and there the steps are calls
    /// inside the process, so it keeps the transaction.
    pub async fn audit_release(
        &self,
        event: AuditEvent<'_>,
        subject_name: Option<&str>,
        group_keys: &[String],
    ) -> Result<()> {
        const INSERT_RETURNING: &str = "INSERT INTO audit_log \
             (at, actor, action, school_id, party_id, subject, details, subject_name) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq";
        const GROUP: &str = "INSERT INTO audit_release_groups (seq, school_id, group_key) \
             VALUES ($1, $2, $3) ON CONFLICT (seq, group_key) DO NOTHING";
        const RELEASE_POSTGRES: &str = "WITH entry AS (INSERT INTO audit_log \
             (at, actor, action, school_id, party_id, subject, details, subject_name) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq) \
             INSERT INTO audit_release_groups (seq, school_id, group_key) \
             SELECT entry.seq, $9, key FROM entry, unnest($10::text[]) AS key \
             ON CONFLICT (seq, group_key) DO NOTHING";
        let school_id = event.school_id.unwrap_or_default();
        if let Pool::Postgres(pool) = &self.pool {
            // From the pool, tested first, as `on_held!(append:)` does: an append is never run
            // twice, so it cannot meet a connection that died while held.
            let mut conn = pool.acquire().await?;
            release_entry!(RELEASE_POSTGRES, event, subject_name)
                .bind(school_id)
                .bind(group_keys)
                .execute(&mut *conn)
                .await?;
            return Ok(());
        }
        on_held!(append: &self.pool, &self.held, c => {
            use sqlx::Connection;
            // A release without groups (a denial, a staff member linked to none) is the entry
            // alone: one statement, no transaction.
            if group_keys.is_empty() {
                release_entry!(INSERT_RETURNING, event, subject_name)
                    .execute(&mut *c)
                    .await?;
                return Ok(());
            }
            let mut tx = c.begin().await?;
            let row = release_entry!(INSERT_RETURNING, event, subject_name)
                .fetch_one(&mut *tx)
                .await?;
            let seq = row.int("seq")?;
            for key in group_keys {
                sqlx::query(GROUP).bind(seq).bind(school_id).bind(key.as_str())
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// The newest `limit` entries about one school, newest first.
    pub async fn audit_of_school(&self, school_id: &str, limit: i64) -> Result<Vec<AuditEntry>> {
        const SQL: &str = "SELECT seq, at, actor, action, school_id, party_id, subject, details \
             FROM audit_log WHERE school_id = $1 ORDER BY seq DESC LIMIT $2";
        self.newest_entries(SQL, school_id, limit).await
    }

    /// The entries `sql` selects by one key (`$1`) and a limit (`$2`).
    async fn newest_entries(
        &self,
        sql: &'static str,
        key: &str,
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        reads!(self, p => {
            let rows = sqlx::query(sql).bind(key).bind(limit).fetch_all(p).await?;
            rows.iter().map(entry_from).collect()
        })
    }

    /// The newest `limit` entries of one school whose action starts with `prefix`
    /// (e.g. `release.` for release decisions), newest first.
    pub async fn audit_of_school_by_action(
        &self,
        school_id: &str,
        prefix: &str,
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        const SQL: &str = "SELECT seq, at, actor, action, school_id, party_id, subject, details \
             FROM audit_log WHERE school_id = $1 AND substr(action, 1, length($2)) = $2 ORDER BY seq DESC LIMIT $3";
        reads!(self, p => {
            let rows = sqlx::query(SQL).bind(school_id).bind(prefix).bind(limit).fetch_all(p).await?;
            rows.iter().map(entry_from).collect()
        })
    }

    /// The newest `limit` entries about one party (its clients, products, release policy),
    /// newest first. For operators and tests: it is not indexed, since release decisions, the
    /// bulk of the log, are read per school.
    pub async fn audit_of_party(&self, party_id: &str, limit: i64) -> Result<Vec<AuditEntry>> {
        const SQL: &str = "SELECT seq, at, actor, action, school_id, party_id, subject, details \
             FROM audit_log WHERE party_id = $1 ORDER BY seq DESC LIMIT $2";
        self.newest_entries(SQL, party_id, limit).await
    }

    /// The newest `limit` entries about one subject (a staff member's own account events, such
    /// as their second factor, which belong to no school), newest first. Not indexed: for
    /// operators and tests.
    pub async fn audit_of_subject(&self, subject: &str, limit: i64) -> Result<Vec<AuditEntry>> {
        const SQL: &str = "SELECT seq, at, actor, action, school_id, party_id, subject, details \
             FROM audit_log WHERE subject = $1 ORDER BY seq DESC LIMIT $2";
        self.newest_entries(SQL, subject, limit).await
    }

    /// Retention: removes entries older than `before` (unix seconds) and says how many. The only
    /// way rows leave the log; updates stay impossible.
    pub async fn purge_audit_before(&self, before: i64) -> Result<u64> {
        // The release groups first: they refer to the entries they belong to.
        const GROUPS: &str = "DELETE FROM audit_release_groups \
             WHERE seq IN (SELECT seq FROM audit_log WHERE at < $1)";
        const SQL: &str = "DELETE FROM audit_log WHERE at < $1";
        writes!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(GROUPS).bind(before).execute(&mut *tx).await?;
            let removed = sqlx::query(SQL).bind(before).execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            Ok(removed)
        })
    }
}
