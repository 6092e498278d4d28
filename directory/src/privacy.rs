//! What a school can check about the data it shares: the releases to parties, read from the
//! audit log (who received which attributes about whom, when), and the board's processing
//! agreement (verwerkersovereenkomst): who accepted which version, when.

use serde::Serialize;
use sqlx::AssertSqlSafe;

use crate::audit::{AuditEvent, append};
use crate::db::{reads, writes};
use crate::error::{DirectoryError, Result};
use crate::row::RowExt;
use crate::{Actor, Directory, new_id, now};

/// Which releases to read; every part optional. Times are unix seconds, `from` included and
/// `until` not.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReleaseFilter {
    pub party_id: Option<String>,
    pub group_key: Option<String>,
    pub from: Option<i64>,
    pub until: Option<i64>,
}

/// One release: a party received these attributes about this user at this moment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReleaseRecord {
    pub seq: i64,
    pub at: i64,
    pub party_id: String,
    /// None when the party has been removed from the register since.
    pub party_name: Option<String>,
    pub subject_id: String,
    /// `pupil` or `staff`.
    pub subject_kind: String,
    /// The user's name as it was at the release; for a release written before the name was
    /// recorded (migration 0014, see `name_recorded`), the name as the register knows it now;
    /// None when it was not recorded and they are no longer in the register.
    pub subject_name: Option<String>,
    /// Whether `subject_name` is the name recorded at the release (false: today's name).
    pub name_recorded: bool,
    /// `school_network`, `home_code` or `password`.
    pub context: String,
    pub product_id: Option<String>,
    /// Catalogue names of the attributes released (never their values).
    pub attributes: Vec<String>,
    /// The keys of the groups the user was in at the release.
    pub group_keys: Vec<String>,
}

/// One acceptance of the processing agreement by (someone at) a board.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Acceptance {
    pub id: String,
    pub board_id: String,
    pub version: String,
    /// The school the acceptance was given from; None when the operator recorded it.
    pub school_id: Option<String>,
    pub accepted_by: String,
    pub accepted_by_name: String,
    pub accepted_at: i64,
}

enum Arg {
    Text(String),
    Int(i64),
}

const RELEASE_COLUMNS: &str = "SELECT a.seq, a.at, a.party_id, a.subject, a.details, \
     a.subject_name, pa.name AS party_name, \
     p.roepnaam AS p_roepnaam, p.voornamen AS p_voornamen, p.voorvoegsel AS p_voorvoegsel, \
     p.achternaam AS p_achternaam, s.roepnaam AS s_roepnaam, s.voornamen AS s_voornamen, \
     s.voorvoegsel AS s_voorvoegsel, s.achternaam AS s_achternaam \
     FROM audit_log a \
     LEFT JOIN parties pa ON pa.id = a.party_id \
     LEFT JOIN pupils p ON p.id = a.subject \
     LEFT JOIN staff s ON s.id = a.subject";

/// The query of one page: fixed SQL fragments chosen by the filter, every value bound.
fn release_query(
    school_id: &str,
    filter: &ReleaseFilter,
    before_seq: Option<i64>,
    limit: i64,
) -> (String, Vec<Arg>) {
    // `action = 'release.allow'` is written out, not bound, so that both databases use the
    // partial indexes of migration 0012.
    let mut sql =
        format!("{RELEASE_COLUMNS} WHERE a.school_id = $1 AND a.action = 'release.allow'");
    let mut args = vec![Arg::Text(school_id.to_owned())];
    let mut next = |sql: &mut String, fragment: &str, arg: Arg| {
        args.push(arg);
        sql.push_str(&fragment.replace('?', &format!("${}", args.len())));
    };
    if let Some(party) = &filter.party_id {
        next(&mut sql, " AND a.party_id = ?", Arg::Text(party.clone()));
    }
    if let Some(group) = &filter.group_key {
        next(
            &mut sql,
            " AND a.seq IN (SELECT g.seq FROM audit_release_groups g \
             WHERE g.school_id = $1 AND g.group_key = ?)",
            Arg::Text(group.clone()),
        );
    }
    if let Some(from) = filter.from {
        next(&mut sql, " AND a.at >= ?", Arg::Int(from));
    }
    if let Some(until) = filter.until {
        next(&mut sql, " AND a.at < ?", Arg::Int(until));
    }
    if let Some(before) = before_seq {
        next(&mut sql, " AND a.seq < ?", Arg::Int(before));
    }
    next(&mut sql, " ORDER BY a.seq DESC LIMIT ?", Arg::Int(limit));
    (sql, args)
}

fn record_from(r: &impl RowExt) -> Result<ReleaseRecord> {
    let details: serde_json::Value =
        serde_json::from_str(&r.text("details")?).unwrap_or(serde_json::Value::Null);
    let text = |key: &str| details[key].as_str().map(str::to_owned);
    let subject_kind = text("subject_kind").unwrap_or_default();
    let prefix = if subject_kind == "pupil" { "p" } else { "s" };
    let col = |c: &str| r.opt_text(&format!("{prefix}_{c}"));
    let recorded = r.opt_text("subject_name")?;
    let name_recorded = recorded.is_some();
    let subject_name = match recorded {
        Some(name) => Some(name),
        None => col("achternaam")?
            .map(|achternaam| {
                Ok::<_, DirectoryError>(crate::people::shown_name(
                    col("roepnaam")?.as_deref(),
                    col("voornamen")?.as_deref(),
                    col("voorvoegsel")?.as_deref(),
                    &achternaam,
                ))
            })
            .transpose()?,
    };
    Ok(ReleaseRecord {
        seq: r.int("seq")?,
        at: r.int("at")?,
        party_id: r.opt_text("party_id")?.unwrap_or_default(),
        party_name: r.opt_text("party_name")?,
        subject_id: r.opt_text("subject")?.unwrap_or_default(),
        subject_kind,
        subject_name,
        name_recorded,
        context: text("context").unwrap_or_default(),
        product_id: text("product_id"),
        attributes: details["attributes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        group_keys: Vec::new(),
    })
}

fn acceptance_from(r: &impl RowExt) -> Result<Acceptance> {
    Ok(Acceptance {
        id: r.text("id")?,
        board_id: r.text("board_id")?,
        version: r.text("version")?,
        school_id: r.opt_text("school_id")?,
        accepted_by: r.text("accepted_by")?,
        accepted_by_name: r.text("accepted_by_name")?,
        accepted_at: r.int("accepted_at")?,
    })
}

impl Directory {
    /// One page of a school's releases, newest first: at most `limit`, all older than
    /// `before_seq` when given (the `seq` of the last record of the page before). Paging by
    /// position rather than offset keeps every page one index range, however far back.
    pub async fn releases_of_school(
        &self,
        school_id: &str,
        filter: &ReleaseFilter,
        before_seq: Option<i64>,
        limit: i64,
    ) -> Result<Vec<ReleaseRecord>> {
        let (sql, args) = release_query(school_id, filter, before_seq, limit);
        const GROUPS: &str = "SELECT seq, group_key FROM audit_release_groups \
             WHERE school_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY group_key";
        reads!(self, p => {
            let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
            for arg in &args {
                q = match arg {
                    Arg::Text(t) => q.bind(t.clone()),
                    Arg::Int(i) => q.bind(*i),
                };
            }
            let rows = q.fetch_all(p).await?;
            let mut records = rows.iter().map(record_from).collect::<Result<Vec<_>>>()?;
            if let (Some(last), Some(first)) = (records.last(), records.first()) {
                let groups = sqlx::query(GROUPS)
                    .bind(school_id).bind(last.seq).bind(first.seq)
                    .fetch_all(p).await?;
                for g in &groups {
                    let seq = g.int("seq")?;
                    if let Some(r) = records.iter_mut().find(|r| r.seq == seq) {
                        r.group_keys.push(g.text("group_key")?);
                    }
                }
            }
            Ok(records)
        })
    }

    /// When the school has releases under `filter` (its group left out) from before the
    /// release audit recorded groups (migration 0012), the moment it began to: the group
    /// filter cannot find those. None when there are none, or on a register that always did.
    pub async fn releases_without_groups_since(
        &self,
        school_id: &str,
        filter: &ReleaseFilter,
    ) -> Result<Option<i64>> {
        const SINCE: &str = "SELECT since FROM audit_recorded_since WHERE what = 'release_groups'";
        // One range of the partial index of migration 0014 (a school's releases by time): the
        // releases before the mark, which only ever become fewer as the retention removes them.
        let mut sql = String::from(
            "SELECT a.seq FROM audit_log a \
             WHERE a.school_id = $1 AND a.action = 'release.allow' AND a.at < $2",
        );
        let mut binds: Vec<Arg> = Vec::new();
        let mut next = |sql: &mut String, fragment: &str, arg: Arg| {
            binds.push(arg);
            sql.push_str(&fragment.replace('?', &format!("${}", binds.len() + 2)));
        };
        if let Some(party) = &filter.party_id {
            next(&mut sql, " AND a.party_id = ?", Arg::Text(party.clone()));
        }
        if let Some(from) = filter.from {
            next(&mut sql, " AND a.at >= ?", Arg::Int(from));
        }
        if let Some(until) = filter.until {
            next(&mut sql, " AND a.at < ?", Arg::Int(until));
        }
        sql.push_str(" LIMIT 1");
        reads!(self, p => {
            let Some(since) = sqlx::query(SINCE).fetch_optional(p).await? else {
                return Ok(None);
            };
            let since = since.int("since")?;
            let mut q = sqlx::query(AssertSqlSafe(sql.clone())).bind(school_id).bind(since);
            for arg in &binds {
                q = match arg {
                    Arg::Text(t) => q.bind(t.clone()),
                    Arg::Int(i) => q.bind(*i),
                };
            }
            Ok(q.fetch_optional(p).await?.map(|_| since))
        })
    }

    /// Records that someone accepted `version` of the processing agreement for `board_id`, with
    /// an audit entry in the same transaction. A version is accepted once per board: a second
    /// acceptance is refused and leaves the first as it was.
    pub async fn accept_agreement(
        &self,
        board_id: &str,
        version: &str,
        school_id: Option<&str>,
        actor: &Actor,
        actor_name: &str,
    ) -> Result<Acceptance> {
        let acceptance = Acceptance {
            id: new_id(),
            board_id: board_id.to_owned(),
            version: version.to_owned(),
            school_id: school_id.map(str::to_owned),
            accepted_by: actor.0.clone(),
            accepted_by_name: actor_name.to_owned(),
            accepted_at: now(),
        };
        const SQL: &str = "INSERT INTO agreement_acceptances \
             (id, board_id, version, school_id, accepted_by, accepted_by_name, accepted_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (board_id, version) DO NOTHING";
        let a = &acceptance;
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let inserted = sqlx::query(SQL)
                .bind(&a.id).bind(&a.board_id).bind(&a.version).bind(&a.school_id)
                .bind(&a.accepted_by).bind(&a.accepted_by_name).bind(a.accepted_at)
                .execute(&mut *tx).await?
                .rows_affected();
            if inserted == 0 {
                return Err(DirectoryError::Conflict {
                    nl: format!("versie {version} van de verwerkersovereenkomst is voor dit bestuur al geaccepteerd; een acceptatie wordt niet gewijzigd"),
                    en: format!("version {version} of the processing agreement has already been accepted for this board; an acceptance is never changed"),
                });
            }
            append!(&mut *tx, AuditEvent {
                actor,
                action: "agreement.accept",
                school_id,
                party_id: None,
                subject: Some(board_id),
                details: serde_json::json!({ "version": version, "acceptance_id": a.id }),
            });
            tx.commit().await?;
            Ok(())
        })?;
        Ok(acceptance)
    }

    /// Every acceptance of a board, newest first.
    pub async fn agreement_acceptances(&self, board_id: &str) -> Result<Vec<Acceptance>> {
        const SQL: &str = "SELECT id, board_id, version, school_id, accepted_by, accepted_by_name, \
             accepted_at FROM agreement_acceptances WHERE board_id = $1 \
             ORDER BY accepted_at DESC, id";
        reads!(self, p => {
            let rows = sqlx::query(SQL).bind(board_id).fetch_all(p).await?;
            rows.iter().map(acceptance_from).collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_filter_value_is_bound_never_written_into_the_sql() {
        let filter = ReleaseFilter {
            party_id: Some("'; DROP TABLE audit_log; --".into()),
            group_key: Some("g'1".into()),
            from: Some(10),
            until: Some(20),
        };
        let (sql, args) = release_query("school", &filter, Some(99), 50);
        assert!(!sql.contains("DROP") && !sql.contains("g'1"), "{sql}");
        assert_eq!(args.len(), 7);
        assert!(
            sql.contains("a.party_id = $2") && sql.contains("g.group_key = $3"),
            "{sql}"
        );
        assert!(sql.ends_with("LIMIT $7"), "{sql}");
    }
}
