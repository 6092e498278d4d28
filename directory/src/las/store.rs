//! LAS links in the register, on SQLite and PostgreSQL.

use certs::Kek;
use serde_json::json;

use super::{AuthorisationKey, KeyPlacement, LasVendor};
use crate::audit::{AuditEvent, append};
use crate::db::{reads, writes};
use crate::error::{DirectoryError, Result};
use crate::row::RowExt;
use crate::{Actor, Directory, new_id, now};

/// How the last pull of a link ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PullStatus {
    Ok,
    /// The LAS answered 401 or 403: it does not (or no longer) accept the key.
    Refused,
    Unreachable,
    BadFile,
    TooLarge,
    /// The file was read but the import refused it (for example an ECK-iD of another school).
    ImportFailed,
}

impl PullStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PullStatus::Ok => "ok",
            PullStatus::Refused => "refused",
            PullStatus::Unreachable => "unreachable",
            PullStatus::BadFile => "bad_file",
            PullStatus::TooLarge => "too_large",
            PullStatus::ImportFailed => "import_failed",
        }
    }

    fn parse(value: &str) -> Result<PullStatus> {
        [
            PullStatus::Ok,
            PullStatus::Refused,
            PullStatus::Unreachable,
            PullStatus::BadFile,
            PullStatus::TooLarge,
            PullStatus::ImportFailed,
        ]
        .into_iter()
        .find(|s| s.as_str() == value)
        .ok_or_else(|| {
            DirectoryError::invalid(
                "las_links.last_status",
                value,
                "onbekende waarde in de database",
                "unknown value in the database",
            )
        })
    }

    /// What the LAS's answer says about the key: a refusal says no, any file says yes, and no
    /// answer says nothing.
    fn accepted_by_las(self) -> Option<bool> {
        match self {
            PullStatus::Refused => Some(false),
            PullStatus::Unreachable => None,
            PullStatus::Ok
            | PullStatus::BadFile
            | PullStatus::TooLarge
            | PullStatus::ImportFailed => Some(true),
        }
    }
}

/// A school location's link to its LAS. The key stays sealed; see [`Directory::open_las_key`].
#[derive(Clone, Debug)]
pub struct LasLink {
    pub id: String,
    pub school_id: String,
    pub vendor: LasVendor,
    pub endpoint: url::Url,
    pub placement: KeyPlacement,
    pub enabled_by_school: bool,
    /// What the LAS said about the key at the last pull that got an answer; `None` before.
    pub accepted_by_las: Option<bool>,
    pub last_attempt_at: Option<i64>,
    pub last_status: Option<PullStatus>,
    pub last_message: Option<String>,
    pub last_success_at: Option<i64>,
    pub failing_since: Option<i64>,
    sealed_key: Vec<u8>,
    kek_id: String,
}

impl LasLink {
    /// Both sides agree: the school switched it on and the LAS accepted the key.
    pub fn is_active(&self) -> bool {
        self.enabled_by_school && self.accepted_by_las == Some(true)
    }
}

/// A link as the operator (for the school) registers it. It starts switched off.
#[derive(Clone, Debug)]
pub struct NewLasLink {
    pub vendor: LasVendor,
    pub endpoint: String,
    pub placement: KeyPlacement,
    pub key: AuthorisationKey,
}

/// HTTPS only: the key and the pupils' data travel over it. Plain HTTP only to this machine
/// (a LAS simulator or a test), and never credentials inside the URL.
pub fn check_endpoint(endpoint: &str) -> Result<url::Url> {
    let bad = |rule_nl, rule_en| DirectoryError::invalid("endpoint", endpoint, rule_nl, rule_en);
    let url = url::Url::parse(endpoint).map_err(|_| {
        bad(
            "geef een volledig adres zoals https://las.example.nl/edexml",
            "give a full address such as https://las.example.nl/edexml",
        )
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "zet geen gebruikersnaam of wachtwoord in het adres; de sleutel gaat apart",
            "put no user name or password in the address; the key travels separately",
        ));
    }
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(bad(
            "alleen https:// is toegestaan (http:// alleen naar deze machine zelf)",
            "only https:// is allowed (http:// only to this machine itself)",
        )),
    }
}

fn aad(link_id: &str) -> Vec<u8> {
    format!("las-link|{link_id}").into_bytes()
}

fn link_from(r: &impl RowExt) -> Result<LasLink> {
    let endpoint = r.text("endpoint")?;
    Ok(LasLink {
        id: r.text("id")?,
        school_id: r.text("school_id")?,
        vendor: LasVendor::parse(&r.text("vendor")?)?,
        endpoint: url::Url::parse(&endpoint).map_err(|_| {
            DirectoryError::invalid(
                "las_links.endpoint",
                endpoint.clone(),
                "onbekende waarde in de database",
                "unknown value in the database",
            )
        })?,
        placement: KeyPlacement {
            header: r.text("auth_header")?,
            scheme: r.opt_text("auth_scheme")?,
        },
        enabled_by_school: r.flag("enabled_by_school")?,
        accepted_by_las: r.opt_flag("accepted_by_las")?,
        last_attempt_at: r.opt_int("last_attempt_at")?,
        last_status: r
            .opt_text("last_status")?
            .map(|s| PullStatus::parse(&s))
            .transpose()?,
        last_message: r.opt_text("last_message")?,
        last_success_at: r.opt_int("last_success_at")?,
        failing_since: r.opt_int("failing_since")?,
        sealed_key: r.bytes("sealed_key")?,
        kek_id: r.text("kek_id")?,
    })
}

const COLUMNS: &str = "id, school_id, vendor, endpoint, auth_header, auth_scheme, sealed_key, kek_id, \
     enabled_by_school, accepted_by_las, last_attempt_at, last_status, last_message, last_success_at, failing_since";

fn sealing_failed(e: certs::CertsError) -> DirectoryError {
    DirectoryError::Conflict {
        nl: format!("de sleutel kon niet worden versleuteld of ontsleuteld: {e}"),
        en: format!("the key could not be sealed or opened: {e}"),
    }
}

impl Directory {
    /// Registers the link of a school location, switched off until the school switches it on.
    pub async fn add_las_link(
        &self,
        school_id: &str,
        new: &NewLasLink,
        kek: &Kek,
        actor: &Actor,
    ) -> Result<LasLink> {
        let endpoint = check_endpoint(&new.endpoint)?;
        let id = new_id();
        let sealed = kek
            .seal(new.key.expose().as_bytes(), &aad(&id))
            .map_err(sealing_failed)?;
        let t = now();
        writes!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("INSERT INTO las_links (id, school_id, vendor, endpoint, auth_header, auth_scheme, sealed_key, kek_id, \
                         enabled_by_school, failure_notified, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $10)")
                .bind(&id).bind(school_id).bind(new.vendor.as_str()).bind(endpoint.as_str())
                .bind(&new.placement.header).bind(&new.placement.scheme).bind(&sealed).bind(kek.id())
                .bind(false).bind(t)
                .execute(&mut *tx).await
                .map_err(crate::error::unique_as("LAS-koppeling voor school", school_id))?;
            append!(&mut *tx, AuditEvent {
                actor, action: "las.link_add", school_id: Some(school_id), party_id: None, subject: Some(&id),
                // The endpoint and the header name, never the key.
                details: json!({"vendor": new.vendor.as_str(), "endpoint": endpoint.as_str(), "header": new.placement.header}),
            });
            tx.commit().await?;
            Ok(())
        })?;
        self.las_link_of_school(school_id)
            .await?
            .ok_or_else(|| DirectoryError::not_found("LAS-koppeling", school_id))
    }

    /// Replaces the key (the school issued a new one in its LAS). What the LAS thought of the
    /// old key no longer says anything.
    pub async fn set_las_key(
        &self,
        school_id: &str,
        key: &AuthorisationKey,
        kek: &Kek,
        actor: &Actor,
    ) -> Result<()> {
        let link = self
            .las_link_of_school(school_id)
            .await?
            .ok_or_else(|| DirectoryError::not_found("LAS-koppeling", school_id))?;
        let sealed = kek
            .seal(key.expose().as_bytes(), &aad(&link.id))
            .map_err(sealing_failed)?;
        writes!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("UPDATE las_links SET sealed_key = $1, kek_id = $2, accepted_by_las = NULL, updated_at = $3 WHERE id = $4")
                .bind(&sealed).bind(kek.id()).bind(now()).bind(&link.id).execute(&mut *tx).await?;
            append!(&mut *tx, AuditEvent {
                actor, action: "las.key_set", school_id: Some(school_id), party_id: None, subject: Some(&link.id),
                details: json!({}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    /// The school's side of the link. Switching on starts the schedule from now: the first
    /// scheduled pull is the next one after this moment.
    pub async fn set_las_enabled(
        &self,
        school_id: &str,
        enabled: bool,
        actor: &Actor,
    ) -> Result<()> {
        let t = now();
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query("UPDATE las_links SET enabled_by_school = $1, enabled_at = CASE WHEN $1 THEN $2 ELSE enabled_at END, \
                                    updated_at = $2 WHERE school_id = $3")
                .bind(enabled).bind(t).bind(school_id).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(DirectoryError::not_found("LAS-koppeling", school_id));
            }
            append!(&mut *tx, AuditEvent {
                actor, action: if enabled { "las.switch_on" } else { "las.switch_off" },
                school_id: Some(school_id), party_id: None, subject: None, details: json!({}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn las_link_of_school(&self, school_id: &str) -> Result<Option<LasLink>> {
        let sql = format!("SELECT {COLUMNS} FROM las_links WHERE school_id = $1");
        reads!(self, p => {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(school_id).fetch_optional(p).await?;
            row.as_ref().map(link_from).transpose()
        })
    }

    pub async fn las_links(&self) -> Result<Vec<LasLink>> {
        let sql = format!("SELECT {COLUMNS} FROM las_links ORDER BY created_at, id");
        reads!(self, p => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(p).await?;
            rows.iter().map(link_from).collect()
        })
    }

    /// The key in the clear, for the connector only.
    pub fn open_las_key(&self, link: &LasLink, kek: &Kek) -> Result<AuthorisationKey> {
        if link.kek_id != kek.id() {
            return Err(DirectoryError::Conflict {
                nl: format!(
                    "de sleutel van de LAS-koppeling is versleuteld met {}, niet met de ingestelde sleutel {}; start met de juiste keys.kek of geef de sleutel opnieuw door",
                    link.kek_id,
                    kek.id()
                ),
                en: format!(
                    "the LAS link's key is sealed under {}, not under the configured {}; start with the right keys.kek or pass the key on again",
                    link.kek_id,
                    kek.id()
                ),
            });
        }
        let plain = kek
            .open(&link.sealed_key, &aad(&link.id))
            .map_err(sealing_failed)?;
        let text = String::from_utf8(plain).map_err(|_| DirectoryError::Conflict {
            nl: "de opgeslagen LAS-sleutel is beschadigd; geef hem opnieuw door".into(),
            en: "the stored LAS key is damaged; pass it on again".into(),
        })?;
        AuthorisationKey::new(text)
    }

    /// Takes the next link whose scheduled pull at `slot` has not run yet, for this node alone:
    /// moving `last_attempt_at` past the slot is the claim, and only one node's conditional
    /// UPDATE can do that. A node that dies mid-pull leaves the link for the next slot.
    pub async fn claim_due_las_link(&self, slot: i64) -> Result<Option<LasLink>> {
        let t = now().max(slot);
        writes!(self, p => {
            loop {
                // A merged or closed school takes no imports: its link waits, switched on or not.
                let due = sqlx::query("SELECT l.id, l.school_id FROM las_links l JOIN schools s ON s.id = l.school_id \
                                       WHERE l.enabled_by_school = $1 AND COALESCE(l.last_attempt_at, l.enabled_at) < $2 \
                                       AND s.active = $1 AND s.merged_into IS NULL ORDER BY l.id LIMIT 1")
                    .bind(true).bind(slot).fetch_optional(p).await?;
                let Some(due) = due else { return Ok(None) };
                let claimed = sqlx::query("UPDATE las_links SET last_attempt_at = $1 WHERE id = $2 AND enabled_by_school = $3 \
                                           AND COALESCE(last_attempt_at, enabled_at) < $4")
                    .bind(t).bind(due.text("id")?).bind(true).bind(slot).execute(p).await?;
                if claimed.rows_affected() == 1 {
                    return self.las_link_of_school(&due.text("school_id")?).await;
                }
                // Another node was first; look for the next one.
            }
        })
    }

    /// Writes a pull's outcome with its audit entry. Returns whether the school's
    /// administrators should now be told: the pull failed and nobody was told of this streak.
    pub(crate) async fn record_las_pull(
        &self,
        link: &LasLink,
        status: PullStatus,
        message: Option<&str>,
        actor: &Actor,
    ) -> Result<bool> {
        let t = now();
        let ok = status == PullStatus::Ok;
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let row = sqlx::query("SELECT failure_notified FROM las_links WHERE id = $1")
                .bind(&link.id).fetch_one(&mut *tx).await?;
            let notified = row.flag("failure_notified")?;
            sqlx::query("UPDATE las_links SET last_attempt_at = $1, last_status = $2, last_message = $3, \
                         accepted_by_las = COALESCE($4, accepted_by_las), \
                         last_success_at = CASE WHEN $5 THEN $1 ELSE last_success_at END, \
                         failing_since = CASE WHEN $5 THEN NULL ELSE COALESCE(failing_since, $1) END, \
                         failure_notified = CASE WHEN $5 THEN $6 ELSE failure_notified END, updated_at = $1 WHERE id = $7")
                .bind(t).bind(status.as_str()).bind(message).bind(status.accepted_by_las()).bind(ok).bind(false).bind(&link.id)
                .execute(&mut *tx).await?;
            append!(&mut *tx, AuditEvent {
                actor, action: if ok { "las.pull_ok" } else { "las.pull_failed" },
                school_id: Some(&link.school_id), party_id: None, subject: Some(&link.id),
                details: json!({"status": status.as_str(), "message": message}),
            });
            tx.commit().await?;
            Ok(!ok && !notified)
        })
    }

    pub(crate) async fn mark_las_failure_notified(&self, link_id: &str) -> Result<()> {
        writes!(self, p => {
            sqlx::query("UPDATE las_links SET failure_notified = $1 WHERE id = $2 AND failing_since IS NOT NULL")
                .bind(true).bind(link_id).execute(p).await?;
            Ok(())
        })
    }
}
