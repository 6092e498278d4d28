//! LAS links: a school location's EDEXML pulled straight from its pupil administration.
//!
//! A [`LasConnector`] fetches the EDEXML of one school location; [`HttpsConnector`] is the
//! generic one (an HTTPS GET with the school's authorisation key in a header). The register
//! keeps one link per school location ([`LasLink`]), with the key sealed under the
//! key-encryption key. A link is active only when both sides agree: the school switched it on
//! in openpoort, and the LAS accepted the key at the last pull.
//!
//! [`Directory::pull_las`] runs one pull: fetch, read, and import through
//! [`Directory::import_snapshot`] (whole or nothing), then record the outcome on the link with an
//! audit entry. A failure tells the caller whether it starts a failure streak, so that the
//! school's administrators get one mail per streak rather than one per night.

mod https;
mod store;

use std::fmt;
use std::future::Future;

use serde_json::json;
use thiserror::Error;

pub use https::HttpsConnector;
pub use store::{LasLink, NewLasLink, PullStatus, check_endpoint};

use crate::audit::AuditEvent;
use crate::edexml::{Limits, parse};
use crate::error::{DirectoryError, Result};
use crate::import::ImportReport;
use crate::{Actor, Directory};

/// The LAS products openpoort knows by name. They differ in how a school hands out the key,
/// not in what openpoort asks: every one of them is pulled by the generic connector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LasVendor {
    ParnasSys,
    Dotcomschool,
    Esis,
    Eduscope,
    Generic,
}

impl LasVendor {
    pub const ALL: [LasVendor; 5] = [
        LasVendor::ParnasSys,
        LasVendor::Dotcomschool,
        LasVendor::Esis,
        LasVendor::Eduscope,
        LasVendor::Generic,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LasVendor::ParnasSys => "parnassys",
            LasVendor::Dotcomschool => "dotcomschool",
            LasVendor::Esis => "esis",
            LasVendor::Eduscope => "eduscope",
            LasVendor::Generic => "generic",
        }
    }

    /// The product's own spelling, for messages to schools.
    pub fn display_name(self) -> &'static str {
        match self {
            LasVendor::ParnasSys => "ParnasSys",
            LasVendor::Dotcomschool => "Dotcomschool",
            LasVendor::Esis => "ESIS",
            LasVendor::Eduscope => "EDUscope",
            LasVendor::Generic => "LAS",
        }
    }

    pub fn parse(value: &str) -> Result<LasVendor> {
        let lower = value.to_ascii_lowercase();
        LasVendor::ALL
            .into_iter()
            .find(|v| v.as_str() == lower)
            .ok_or_else(|| {
                DirectoryError::invalid(
                    "LAS",
                    value,
                    "kies parnassys, dotcomschool, esis, eduscope of generic",
                    "choose parnassys, dotcomschool, esis, eduscope or generic",
                )
            })
    }
}

/// A school's authorisation key for its LAS, in the clear. Never printed: `Debug` and
/// `Display` show only its length.
#[derive(Clone)]
pub struct AuthorisationKey(String);

impl AuthorisationKey {
    /// Checks what an HTTP header can carry: 1 to 4,096 visible ASCII characters.
    pub fn new(key: impl Into<String>) -> Result<AuthorisationKey> {
        let key: String = key.into();
        let key = key.trim().to_owned();
        if key.is_empty() || key.len() > 4096 || !key.bytes().all(|b| b.is_ascii_graphic()) {
            // The value is a secret: the message describes it instead of quoting it.
            return Err(DirectoryError::invalid(
                "autorisatiesleutel",
                format!("({} tekens / characters)", key.chars().count()),
                "een sleutel bestaat uit 1 tot 4096 zichtbare ASCII-tekens zonder spaties; kopieer hem opnieuw uit het LAS",
                "a key is 1 to 4096 visible ASCII characters without spaces; copy it again from the LAS",
            ));
        }
        Ok(AuthorisationKey(key))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AuthorisationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuthorisationKey({} bytes)", self.0.len())
    }
}

/// How the key travels: in header `header`, after `scheme` and a space when there is one
/// (`Authorization: Bearer <key>`), else alone (`X-Api-Key: <key>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPlacement {
    pub header: String,
    pub scheme: Option<String>,
}

impl KeyPlacement {
    pub fn bearer() -> KeyPlacement {
        KeyPlacement {
            header: "Authorization".into(),
            scheme: Some("Bearer".into()),
        }
    }

    /// A header name is an HTTP token; headers that HTTP itself manages cannot carry the key.
    pub fn new(header: &str, scheme: Option<&str>) -> Result<KeyPlacement> {
        let token = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        };
        let reserved = [
            "host",
            "content-length",
            "transfer-encoding",
            "connection",
            "cookie",
        ];
        if !token(header) || reserved.contains(&header.to_ascii_lowercase().as_str()) {
            return Err(DirectoryError::invalid(
                "header",
                header,
                "gebruik een HTTP-headernaam zoals Authorization of X-Api-Key",
                "use an HTTP header name such as Authorization or X-Api-Key",
            ));
        }
        let scheme = scheme.map(str::trim).filter(|s| !s.is_empty());
        if let Some(s) = scheme
            && !token(s)
        {
            return Err(DirectoryError::invalid(
                "schema",
                s,
                "gebruik een woord zoals Bearer, of geen schema",
                "use a word such as Bearer, or no scheme",
            ));
        }
        Ok(KeyPlacement {
            header: header.to_owned(),
            scheme: scheme.map(str::to_owned),
        })
    }
}

/// What a connector needs to fetch one school location's file.
#[derive(Debug)]
pub struct LasRequest<'a> {
    /// BRIN + vestigingscode of the school location, for connectors whose API names it.
    pub school_code: &'a str,
    pub vendor: LasVendor,
    pub endpoint: &'a url::Url,
    pub placement: &'a KeyPlacement,
    pub key: &'a AuthorisationKey,
    /// Answers longer than this are refused: the import's own size limit.
    pub max_bytes: usize,
}

/// Why a LAS gave no usable file. Messages are Dutch first, then English, and never contain
/// the key.
#[derive(Debug, Error)]
pub enum LasError {
    #[error(
        "het LAS weigert de autorisatiesleutel (HTTP {status}): zet de koppeling met openpoort aan in het LAS of geef een nieuwe sleutel door / the LAS refuses the authorisation key (HTTP {status}): switch the link to openpoort on in the LAS or pass on a new key"
    )]
    Refused { status: u16 },

    #[error("het LAS is niet bereikbaar ({reason}) / the LAS cannot be reached ({reason})")]
    Unreachable { reason: String },

    #[error(
        "het LAS leverde geen bruikbaar bestand: {reason} / the LAS delivered no usable file: {reason}"
    )]
    BadFile { reason: String },

    #[error(
        "het bestand van het LAS is groter dan {limit} bytes en is niet gelezen / the LAS's file is larger than {limit} bytes and was not read"
    )]
    TooLarge { limit: usize },
}

impl LasError {
    pub fn status(&self) -> PullStatus {
        match self {
            LasError::Refused { .. } => PullStatus::Refused,
            LasError::Unreachable { .. } => PullStatus::Unreachable,
            LasError::BadFile { .. } => PullStatus::BadFile,
            LasError::TooLarge { .. } => PullStatus::TooLarge,
        }
    }
}

/// Fetches the EDEXML of one school location from a LAS.
pub trait LasConnector: Send + Sync {
    fn fetch(
        &self,
        request: &LasRequest<'_>,
    ) -> impl Future<Output = std::result::Result<Vec<u8>, LasError>> + Send;
}

/// What one pull did.
#[derive(Debug)]
pub struct PullResult {
    pub status: PullStatus,
    /// The import, when the file was read and applied (or, for a dry run, compared).
    pub report: Option<ImportReport>,
    /// Why it failed, Dutch first, then English.
    pub message: Option<String>,
    /// The failure starts a streak nobody has been told about yet: mail the school's
    /// administrators, then call [`Directory::las_failure_notified`].
    pub notify: bool,
}

impl Directory {
    /// Pulls the school's file from its LAS and imports it; records the outcome on the link with
    /// an audit entry. Refused before anything is fetched when the school has switched the link
    /// off or has been merged into another school.
    pub async fn pull_las(
        &self,
        school_id: &str,
        connector: &impl LasConnector,
        kek: &certs::Kek,
        limits: &Limits,
        dry_run: bool,
        actor: &Actor,
    ) -> Result<PullResult> {
        let link = self
            .las_link_of_school(school_id)
            .await?
            .ok_or_else(|| DirectoryError::not_found("LAS-koppeling", school_id))?;
        let school = self
            .school_by_id(school_id)
            .await?
            .ok_or_else(|| DirectoryError::not_found("school", school_id))?;
        if !link.enabled_by_school {
            return Err(DirectoryError::Conflict {
                nl: format!(
                    "de LAS-koppeling van {} staat uit; zet hem eerst aan",
                    school.code()
                ),
                en: format!(
                    "the LAS link of {} is switched off; switch it on first",
                    school.code()
                ),
            });
        }
        if school.merged_into.is_some() || !school.active {
            return Err(DirectoryError::Conflict {
                nl: format!(
                    "{} is opgeheven of samengevoegd en krijgt geen import meer",
                    school.code()
                ),
                en: format!(
                    "{} is closed or merged and takes no more imports",
                    school.code()
                ),
            });
        }
        let key = self.open_las_key(&link, kek)?;
        let code = school.code();
        let fetched = connector
            .fetch(&LasRequest {
                school_code: &code,
                vendor: link.vendor,
                endpoint: &link.endpoint,
                placement: &link.placement,
                key: &key,
                max_bytes: limits.max_bytes,
            })
            .await;
        let outcome: std::result::Result<ImportReport, (PullStatus, String)> = match fetched {
            Err(e) => Err((e.status(), e.to_string())),
            Ok(bytes) => match parse(&bytes, limits) {
                Err(problems) => Err((
                    PullStatus::BadFile,
                    LasError::BadFile {
                        reason: clip(&problems.to_string(), MAX_MESSAGE_CHARS),
                    }
                    .to_string(),
                )),
                Ok(snapshot) if snapshot.school_code().to_string() != code => Err((
                    PullStatus::BadFile,
                    LasError::BadFile {
                        reason: format!(
                            "het bestand is van schoollocatie {} in plaats van {code} / the file is for school location {} instead of {code}",
                            snapshot.school_code(),
                            snapshot.school_code()
                        ),
                    }
                    .to_string(),
                )),
                Ok(snapshot) => self
                    .import_snapshot(&snapshot, dry_run, actor)
                    .await
                    .map_err(|e| (PullStatus::ImportFailed, e.to_string())),
            },
        };
        let (status, report, message) = match outcome {
            Ok(report) => (PullStatus::Ok, Some(report), None),
            Err((status, message)) => (status, None, Some(message)),
        };
        let notify = self
            .record_las_pull(&link, status, message.as_deref(), actor)
            .await?;
        if status != PullStatus::Ok {
            tracing::warn!(school = %code, status = status.as_str(), "LAS pull failed; nothing was imported");
        }
        Ok(PullResult {
            status,
            report,
            message,
            notify,
        })
    }

    /// Records that the school's administrators were told about the current failure streak.
    pub async fn las_failure_notified(&self, link: &LasLink, recipients: usize) -> Result<()> {
        self.mark_las_failure_notified(&link.id).await?;
        self.audit(AuditEvent {
            actor: &Actor::system("las"),
            action: "las.failure_mailed",
            school_id: Some(&link.school_id),
            party_id: None,
            subject: Some(&link.id),
            details: json!({"recipients": recipients}),
        })
        .await
    }
}

/// Longer failure messages (a file with hundreds of problems) are cut: the message goes into
/// the register, the audit log and a mail, and the school sees every problem by uploading the
/// file by hand.
const MAX_MESSAGE_CHARS: usize = 2_000;

fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{} …", &text[..end]),
        None => text.to_owned(),
    }
}

/// The start of the latest scheduled pull at or before `now`: `minutes` after midnight in the
/// Netherlands (CET, CEST in summer), as unix seconds. On the night the clocks go back the
/// slot falls in the first of the two 02:xx hours; on the night they go forward an hour that
/// does not exist is taken as the hour after.
pub fn latest_slot(now: i64, minutes: u32) -> i64 {
    let offset = crate::model::netherlands_offset(now);
    let local = now + offset;
    let mut slot_local = local.div_euclid(86_400) * 86_400 + i64::from(minutes) * 60;
    if slot_local > local {
        slot_local -= 86_400;
    }
    slot_local - crate::model::netherlands_offset(slot_local - offset)
}
