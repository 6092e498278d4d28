//! What pupil login needs from the register: the pupils of a group, picture passwords, home
//! codes, and the operator's outage notice.

use serde::Serialize;
use serde_json::json;

use crate::audit::{AuditEvent, append};
use crate::db::{login_reads, reads, writes};
use crate::error::{DirectoryError, Result};
use crate::people::Pupil;
use crate::row::RowExt;
use crate::{Actor, Directory, now};

/// A pupil's home code as stored: the pin's argon2id hash, to verify after the code matched.
#[derive(Clone, Debug)]
pub struct HomeCodeRecord {
    pub pupil_id: String,
    pub pin_hash: String,
}

pub(crate) const PUPIL_WITH_GROUP_KEYS: &str = "SELECT p.id, p.school_id, p.las_key, p.achternaam, p.voorvoegsel, p.voornamen, \
     p.roepnaam, p.jaargroep, p.stamgroep_id, p.eck_id, p.active, \
     g.id AS group_id, g.las_key AS group_key, \
     EXISTS (SELECT 1 FROM pupil_groups c WHERE c.pupil_id = p.id AND c.group_id = g.id) AS combined \
     FROM pupils p LEFT JOIN school_groups g ON g.id = p.stamgroep_id \
       OR g.id IN (SELECT group_id FROM pupil_groups WHERE pupil_id = p.id) \
     WHERE p.id = $1 ORDER BY g.las_key";

/// The rows of [`PUPIL_WITH_GROUP_KEYS`]: one per group, or one with NULL group columns for a
/// pupil in no group.
pub(crate) fn pupil_with_group_keys_from<R: RowExt>(
    rows: &[R],
) -> Result<Option<(Pupil, Vec<String>)>> {
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let mut pupil = crate::people::pupil_from(first)?;
    let mut keys = Vec::with_capacity(rows.len());
    for r in rows {
        let Some(group_id) = r.opt_text("group_id")? else {
            continue;
        };
        keys.push(r.text("group_key")?);
        if r.flag("combined")? {
            pupil.combined_group_ids.push(group_id);
        }
    }
    pupil.combined_group_ids.sort();
    Ok(Some((pupil, keys)))
}

/// A pupil's standing at one school, as session checks need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PupilSessionState {
    pub pupil_active: bool,
    pub school_active: bool,
    pub home_login_allowed: bool,
}

impl Directory {
    /// The active pupils of a group (as stamgroep or combined group) for the name picker,
    /// sorted by roepnaam and surname.
    pub async fn active_pupils_of_group(
        &self,
        school_id: &str,
        group_id: &str,
    ) -> Result<Vec<Pupil>> {
        self.cached("active_pupils_of_group", format!("{school_id}/{group_id}"), |p: &Vec<Pupil>| !p.is_empty(), || async {
            const SQL: &str = "SELECT id, school_id, las_key, achternaam, voorvoegsel, voornamen, roepnaam, jaargroep, \
                 stamgroep_id, eck_id, active FROM pupils \
                 WHERE school_id = $1 AND active = $2 \
                   AND (stamgroep_id = $3 OR id IN (SELECT pupil_id FROM pupil_groups WHERE group_id = $3)) \
                 ORDER BY COALESCE(roepnaam, voornamen, achternaam), achternaam, id";
            login_reads!(self, c => {
                let rows = sqlx::query(SQL).bind(school_id).bind(true).bind(group_id).fetch_all(c).await?;
                rows.iter().map(crate::people::pupil_from).collect()
            })
        })
        .await
    }

    /// The pupil a name picker's button names, with their picture, in one round trip: only when
    /// the pupil is active at `school_id` and in `group_id` (stamgroep or combined group), as
    /// the picker that showed the button listed them.
    pub async fn active_pupil_in_group(
        &self,
        school_id: &str,
        group_id: &str,
        pupil_id: &str,
    ) -> Result<Option<(Pupil, Option<String>)>> {
        self.cached("active_pupil_in_group", format!("{school_id}/{group_id}/{pupil_id}"), Option::is_some, || async {
            const SQL: &str = "SELECT id, school_id, las_key, achternaam, voorvoegsel, voornamen, roepnaam, jaargroep, \
                 stamgroep_id, eck_id, active, picture_secret FROM pupils \
                 WHERE id = $4 AND school_id = $1 AND active = $2 \
                   AND (stamgroep_id = $3 OR EXISTS (SELECT 1 FROM pupil_groups WHERE group_id = $3 AND pupil_id = $4))";
            login_reads!(self, c => {
                let row = sqlx::query(SQL).bind(school_id).bind(true).bind(group_id).bind(pupil_id)
                    .fetch_optional(c).await?;
                row.map(|r| Ok((crate::people::pupil_from(&r)?, r.opt_text("picture_secret")?)))
                    .transpose()
            })
        })
        .await
    }

    /// LAS keys of a pupil's stamgroep and combined groups, sorted: what a release calls the
    /// pupil's groups.
    pub async fn group_keys_of_pupil(&self, pupil_id: &str) -> Result<Vec<String>> {
        const SQL: &str = "SELECT g.las_key FROM school_groups g WHERE g.id = (SELECT stamgroep_id FROM pupils WHERE id = $1) \
             OR g.id IN (SELECT group_id FROM pupil_groups WHERE pupil_id = $1) ORDER BY g.las_key";
        reads!(self, p => {
            let rows = sqlx::query(SQL).bind(pupil_id).fetch_all(p).await?;
            rows.iter().map(|r| r.text("las_key")).collect()
        })
    }

    /// What keeps a pupil's session alive, in one round trip: whether the pupil is active at
    /// `school_id`, and whether that school is active and allows home login. `None` when the
    /// pupil is gone or belongs to another school.
    pub async fn pupil_session_state(
        &self,
        pupil_id: &str,
        school_id: &str,
    ) -> Result<Option<PupilSessionState>> {
        self.cached("pupil_session_state", format!("{pupil_id}/{school_id}"), Option::is_some, || async {
            const SQL: &str = "SELECT p.active AS pupil_active, s.active AS school_active, \
                 s.home_login_allowed FROM pupils p JOIN schools s ON s.id = p.school_id \
                 WHERE p.id = $1 AND s.id = $2";
            login_reads!(self, c => {
                let row = sqlx::query(SQL).bind(pupil_id).bind(school_id).fetch_optional(c).await?;
                row.map(|r| {
                    Ok(PupilSessionState {
                        pupil_active: r.flag("pupil_active")?,
                        school_active: r.flag("school_active")?,
                        home_login_allowed: r.flag("home_login_allowed")?,
                    })
                })
                .transpose()
            })
        })
        .await
    }

    /// A pupil with their combined groups and the LAS keys of all their groups (sorted), in one
    /// round trip: what a release decision reads about a pupil, equal to [`Self::pupil_by_id`]
    /// and [`Self::group_keys_of_pupil`] together.
    pub async fn pupil_with_group_keys(&self, id: &str) -> Result<Option<(Pupil, Vec<String>)>> {
        reads!(self, p => {
            let rows = sqlx::query(PUPIL_WITH_GROUP_KEYS).bind(id).fetch_all(p).await?;
            pupil_with_group_keys_from(&rows)
        })
    }

    /// The name of the pupil's own picture, if one is set.
    pub async fn picture_secret(&self, pupil_id: &str) -> Result<Option<String>> {
        const SQL: &str = "SELECT picture_secret FROM pupils WHERE id = $1";
        reads!(self, p => {
            let row = sqlx::query(SQL).bind(pupil_id).fetch_optional(p).await?;
            Ok(row.map(|r| r.opt_text("picture_secret")).transpose()?.flatten())
        })
    }

    /// Sets or clears a pupil's picture (by a teacher or the ICT-coördinator).
    pub async fn set_picture_secret(
        &self,
        pupil_id: &str,
        picture: Option<&str>,
        actor: &Actor,
    ) -> Result<()> {
        let school_id = self.pupil_school(pupil_id).await?;
        writes!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("UPDATE pupils SET picture_secret = $1, updated_at = $2 WHERE id = $3")
                .bind(picture).bind(now()).bind(pupil_id).execute(&mut *tx).await?;
            // The audit says that it changed, never which picture it is.
            append!(&mut *tx, AuditEvent {
                actor, action: if picture.is_some() { "pupil.picture.set" } else { "pupil.picture.clear" },
                school_id: Some(&school_id), party_id: None, subject: Some(pupil_id), details: json!({}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    async fn pupil_school(&self, pupil_id: &str) -> Result<String> {
        const SQL: &str = "SELECT school_id FROM pupils WHERE id = $1";
        reads!(self, p => {
            let row = sqlx::query(SQL).bind(pupil_id).fetch_optional(p).await?;
            row.map(|r| r.text("school_id")).transpose()?
                .ok_or_else(|| DirectoryError::not_found("leerling", pupil_id))
        })
    }

    /// Gives a pupil a (new) home code; an earlier one stops working at once.
    pub async fn set_home_code(
        &self,
        pupil_id: &str,
        code_hash: &str,
        pin_hash: &str,
        actor: &Actor,
    ) -> Result<()> {
        let school_id = self.pupil_school(pupil_id).await?;
        writes!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("DELETE FROM pupil_home_codes WHERE pupil_id = $1").bind(pupil_id).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO pupil_home_codes (pupil_id, code_hash, pin_hash, created_by, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(pupil_id).bind(code_hash).bind(pin_hash).bind(actor.0.as_str()).bind(now())
                .execute(&mut *tx).await?;
            append!(&mut *tx, AuditEvent {
                actor, action: "pupil.home_code.issue", school_id: Some(&school_id), party_id: None,
                subject: Some(pupil_id), details: json!({}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    /// Voids a pupil's home code; Ok(false) when there was none.
    pub async fn void_home_code(&self, pupil_id: &str, actor: &Actor) -> Result<bool> {
        let school_id = self.pupil_school(pupil_id).await?;
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query("DELETE FROM pupil_home_codes WHERE pupil_id = $1").bind(pupil_id).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Ok(false);
            }
            append!(&mut *tx, AuditEvent {
                actor, action: "pupil.home_code.void", school_id: Some(&school_id), party_id: None,
                subject: Some(pupil_id), details: json!({}),
            });
            tx.commit().await?;
            Ok(true)
        })
    }

    /// The home code with this hash, if it exists.
    pub async fn home_code(&self, code_hash: &str) -> Result<Option<HomeCodeRecord>> {
        const SQL: &str = "SELECT pupil_id, pin_hash FROM pupil_home_codes WHERE code_hash = $1";
        reads!(self, p => {
            let row = sqlx::query(SQL).bind(code_hash).fetch_optional(p).await?;
            row.map(|r| Ok(HomeCodeRecord { pupil_id: r.text("pupil_id")?, pin_hash: r.text("pin_hash")? })).transpose()
        })
    }

    /// Which pupils of a school have a home code (for the teacher's overview).
    pub async fn pupils_with_home_code(&self, school_id: &str) -> Result<Vec<String>> {
        const SQL: &str = "SELECT h.pupil_id FROM pupil_home_codes h JOIN pupils p ON p.id = h.pupil_id \
             WHERE p.school_id = $1 ORDER BY h.pupil_id";
        reads!(self, p => {
            let rows = sqlx::query(SQL).bind(school_id).fetch_all(p).await?;
            rows.iter().map(|r| r.text("pupil_id")).collect()
        })
    }

    /// The operator's outage notice, shown on every login page and the portal until its end
    /// (if it has one): also after the end, so the operator sees what is set.
    pub async fn notice(&self) -> Result<Option<Notice>> {
        const SQL: &str = "SELECT name, value FROM settings WHERE name IN ('notice', 'notice_en', 'notice_until')";
        reads!(self, p => {
            let rows = sqlx::query(SQL).fetch_all(p).await?;
            let mut parts = (None, None, None);
            for r in &rows {
                let value = r.text("value")?;
                match r.text("name")?.as_str() {
                    "notice" => parts.0 = Some(value),
                    "notice_en" => parts.1 = Some(value),
                    _ => parts.2 = value.parse::<i64>().ok(),
                }
            }
            Ok(parts.0.map(|nl| Notice { nl, en: parts.1.unwrap_or_default(), until: parts.2 }))
        })
    }

    /// Sets (Dutch and English, with an optional end in unix seconds) or clears the notice.
    pub async fn set_notice(&self, notice: Option<&Notice>, actor: &Actor) -> Result<()> {
        if let Some(n) = notice {
            for (field, text) in [("melding", &n.nl), ("melding (Engels)", &n.en)] {
                if text.trim().is_empty() || text.chars().count() > 500 {
                    return Err(DirectoryError::invalid(
                        field,
                        text,
                        "een storingsmelding is 1 tot 500 tekens",
                        "an outage notice is 1 to 500 characters",
                    ));
                }
            }
            if n.until.is_some_and(|u| u <= now()) {
                return Err(DirectoryError::invalid(
                    "tot",
                    n.until
                        .map(crate::model::netherlands_clock)
                        .unwrap_or_default(),
                    "het einde van de melding ligt in de toekomst",
                    "the notice's end lies in the future",
                ));
            }
        }
        writes!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("DELETE FROM settings WHERE name IN ('notice', 'notice_en', 'notice_until')")
                .execute(&mut *tx).await?;
            if let Some(n) = notice {
                let until = n.until.map(|u| u.to_string());
                for (name, value) in [("notice", Some(n.nl.trim())), ("notice_en", Some(n.en.trim())), ("notice_until", until.as_deref())] {
                    let Some(value) = value else { continue };
                    sqlx::query("INSERT INTO settings (name, value, updated_by, updated_at) VALUES ($1, $2, $3, $4)")
                        .bind(name).bind(value).bind(actor.0.as_str()).bind(now()).execute(&mut *tx).await?;
                }
            }
            append!(&mut *tx, AuditEvent {
                actor, action: if notice.is_some() { "notice.set" } else { "notice.clear" },
                school_id: None, party_id: None, subject: None,
                details: json!({"text": notice.map(|n| &n.nl), "text_en": notice.map(|n| &n.en), "until": notice.and_then(|n| n.until)}),
            });
            tx.commit().await?;
            Ok(())
        })
    }
}

/// The operator's outage notice: Dutch and English, and when it disappears by itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Notice {
    pub nl: String,
    pub en: String,
    /// Unix seconds after which the notice is no longer shown; `None` until it is cleared.
    pub until: Option<i64>,
}

impl Notice {
    /// Whether the notice is shown at `unix` seconds.
    pub fn shown_at(&self, unix: i64) -> bool {
        self.until.is_none_or(|u| unix < u)
    }
}
