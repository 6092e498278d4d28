//! What an administrator may do to one school, written once for the Beheer pages, the admin API
//! and the command line. The three differ only in who asks, and that is settled when an
//! [`Administered`] is made: from an ICT-coördinator's session for their chosen school, or for
//! the operator (a machine client of the admin API, the CLI) for any school. A function here
//! takes an `Administered`, so it cannot be reached without that check.

pub mod imports;
pub mod las;
pub mod material;
pub mod network;
pub mod parties;
pub mod privacy;
pub mod pupils;
pub mod second_factor;
pub mod staff;

use std::cmp::Ordering;

use directory::model::{SchoolCode, StaffRole};
use directory::people::Staff;
use directory::schools::School;
use directory::{Actor, Directory, DirectoryError};

/// Permission to administer one school, and who uses it (for the audit trail).
pub struct Administered {
    pub school: School,
    pub actor: Actor,
}

impl Administered {
    /// A staff member acting for `school_id`: only as its ICT-coördinator, and only while active
    /// at that school.
    pub async fn by_staff(
        d: &Directory,
        staff_id: &str,
        school_id: &str,
    ) -> Result<Administered, AdminError> {
        let at = d.schools_of_staff(staff_id).await?;
        let ict = at
            .iter()
            .any(|s| s.school_id == school_id && s.roles.contains(&StaffRole::IctCoordinator));
        if !ict {
            return Err(AdminError::NotAllowed);
        }
        let school = d
            .school_by_id(school_id)
            .await?
            .ok_or(AdminError::NotAllowed)?;
        Ok(Administered {
            school,
            actor: Actor::staff(staff_id),
        })
    }

    /// The operator acting for `school`: only for callers that proved to be the operator (the
    /// admin API's `Admin` extractor, the CLI on the server), who may administer every school.
    pub fn operator(school: School, actor: Actor) -> Administered {
        Administered { school, actor }
    }

    /// The operator (CLI or an admin API client) acting for the school with this code.
    pub async fn by_operator(
        d: &Directory,
        code: &SchoolCode,
        actor: Actor,
    ) -> Result<Administered, AdminError> {
        let school = d.require_school(code).await?;
        Ok(Administered { school, actor })
    }
}

/// Why an administrator's request was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Not an administrator of this school: refused without saying more.
    #[error("not an administrator of this school")]
    NotAllowed,
    /// The request breaks a rule; the message names the rule and how to satisfy it.
    #[error("{nl} / {en}")]
    Refused { nl: String, en: String },
    /// The request clashes with what is there (a range or party already present).
    #[error("{nl} / {en}")]
    Conflict { nl: String, en: String },
    #[error("{what} {key:?} bestaat niet / {what} {key:?} does not exist")]
    NotFound { what: &'static str, key: String },
    /// Something failed on our side.
    #[error(transparent)]
    Internal(DirectoryError),
    #[error(transparent)]
    Broker(#[from] broker::BrokerError),
    /// Any other failure on our side (the session store, hashing, …). The cause is kept as
    /// the source, so that an outage of the session store under it still reads as one (503).
    #[error("{0}")]
    Fault(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl AdminError {
    pub fn internal(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> AdminError {
        AdminError::Fault(e.into())
    }

    pub fn refused(nl: impl Into<String>, en: impl Into<String>) -> AdminError {
        AdminError::Refused {
            nl: nl.into(),
            en: en.into(),
        }
    }
}

impl From<DirectoryError> for AdminError {
    fn from(e: DirectoryError) -> AdminError {
        match e {
            DirectoryError::Invalid {
                field,
                value,
                rule_nl,
                rule_en,
            } => AdminError::refused(
                format!("{field} {value:?} is ongeldig: {rule_nl}"),
                format!("{field} {value:?} is invalid: {rule_en}"),
            ),
            DirectoryError::Duplicate { field, value } => AdminError::Conflict {
                nl: format!("{field} {value:?} is al in gebruik; kies een andere waarde"),
                en: format!("{field} {value:?} is already in use; choose another value"),
            },
            DirectoryError::Conflict { nl, en } => AdminError::Conflict { nl, en },
            DirectoryError::NotFound { what, key } => AdminError::NotFound { what, key },
            other => AdminError::Internal(other),
        }
    }
}

impl From<AdminError> for crate::http::PageError {
    fn from(e: AdminError) -> crate::http::PageError {
        use crate::http::{PageError, Text, message};
        use axum::http::StatusCode;
        let back = Some(("/beheer", "Terug naar beheer / Back to administration"));
        match e {
            AdminError::NotAllowed => message(
                StatusCode::FORBIDDEN,
                "Geen toegang",
                Text::new(
                    "Dit kan alleen de ICT-coördinator van de school.",
                    "Only the school's ICT coordinator can do this.",
                ),
                back,
            )
            .into(),
            AdminError::Refused { nl, en } | AdminError::Conflict { nl, en } => message(
                StatusCode::BAD_REQUEST,
                "Niet gelukt",
                Text::new(nl, en),
                back,
            )
            .into(),
            AdminError::NotFound { what, key } => message(
                StatusCode::NOT_FOUND,
                "Niet gevonden",
                Text::new(
                    format!("{what} {key:?} bestaat niet."),
                    format!("{what} {key:?} does not exist."),
                ),
                back,
            )
            .into(),
            AdminError::Internal(e) => PageError::internal(e),
            AdminError::Broker(e) => PageError::internal(e),
            e @ AdminError::Fault(_) => PageError::internal(e),
        }
    }
}

/// A group of the school with its number of active pupils.
pub struct GroupCount {
    pub group: directory::people::Group,
    pub pupils: usize,
}

/// The school's current groups (a group an import ended stays in the register for licences and
/// history, not here) in the order people read them.
pub async fn groups(d: &Directory, a: &Administered) -> Result<Vec<GroupCount>, AdminError> {
    let mut out = Vec::new();
    for group in d.groups_of_school(&a.school.id).await? {
        if !group.active {
            continue;
        }
        let pupils = d
            .active_pupils_of_group(&a.school.id, &group.id)
            .await?
            .len();
        out.push(GroupCount { group, pupils });
    }
    out.sort_by(|x, y| by_name_naturally(&x.group.name, &y.group.name));
    Ok(out)
}

/// Unix seconds as the date a Dutch reader expects (day-month-year), the day in the
/// Netherlands.
pub fn date(secs: i64) -> String {
    let local = secs + directory::model::netherlands_offset(secs);
    let (year, month, day) = directory::model::civil_from_days(local.div_euclid(86_400));
    format!("{day}-{month}-{year}")
}

/// A staff member's name as people use it: the roepnaam (else the given names), the prefix, the
/// surname.
pub fn staff_name(s: &Staff) -> String {
    [
        s.roepnaam.as_deref().or(s.voornamen.as_deref()),
        s.voorvoegsel.as_deref(),
        Some(s.achternaam.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ")
}

/// Who an audit actor is, for people: a staff member by name and e-mail address, the operator
/// and machine clients by what they are.
pub async fn actor_name(d: &Directory, actor: &str) -> Result<String, AdminError> {
    Ok(match actor.split_once(':') {
        Some(("staff", id)) => match d.staff_by_id(id).await? {
            Some(s) => {
                let name = staff_name(&s);
                match &s.email {
                    Some(e) => format!("{name} <{e}>"),
                    None => name,
                }
            }
            None => format!("medewerker / staff {id}"),
        },
        Some(("operator", how)) => format!("beheerder van openpoort / operator ({how})"),
        Some(("api", client)) => format!("API-client {client}"),
        // `party:<code>` or `party:<code>:client:<id>`: the party itself, over the partner API.
        Some(("party", rest)) => {
            let code = rest.split(':').next().unwrap_or(rest);
            match d.party_by_code(code).await? {
                Some(p) => format!("{} zelf / the party itself", p.name),
                None => format!("partij / party {code}"),
            }
        }
        Some(("system", what)) => format!("openpoort ({what})"),
        _ => actor.to_owned(),
    })
}

/// One part of a group's name for sorting: runs of digits compare as numbers, the rest as text
/// without regard to case, so that "Groep 1/2" comes before "Groep 8" and that before "Groep 10".
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    /// Digits without leading zeros: the number of digits first, so that any length compares
    /// without overflow.
    Number(usize, String),
    Text(String),
}

/// The key that sorts group names as people read them.
fn group_sort_key(name: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut chars = name.chars().peekable();
    while let Some(&c) = chars.peek() {
        let digit = c.is_ascii_digit();
        let mut run = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_ascii_digit() != digit {
                break;
            }
            run.push(c);
            chars.next();
        }
        parts.push(if digit {
            let n = run.trim_start_matches('0').to_owned();
            Part::Number(n.len(), n)
        } else {
            Part::Text(run.to_lowercase())
        });
    }
    parts
}

/// Group names in the order people read them; equal keys fall back to the exact text.
pub fn by_name_naturally(a: &str, b: &str) -> Ordering {
    group_sort_key(a)
        .cmp(&group_sort_key(b))
        .then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(names: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        v.sort_by(|a, b| by_name_naturally(a, b));
        v
    }

    #[test]
    fn groups_sort_by_their_numbers_as_numbers() {
        assert_eq!(
            sorted(&[
                "Groep 10",
                "Groep 8 Dassen",
                "Groep 1/2 Egeltjes",
                "Groep 3"
            ]),
            [
                "Groep 1/2 Egeltjes",
                "Groep 3",
                "Groep 8 Dassen",
                "Groep 10"
            ]
        );
    }

    #[test]
    fn group_names_sort_without_regard_to_case_and_leading_zeros() {
        assert_eq!(
            sorted(&["groep 7b", "Groep 07a", "Groep 6", "Plusklas"]),
            ["Groep 6", "Groep 07a", "groep 7b", "Plusklas"]
        );
    }

    #[test]
    fn a_long_number_in_a_name_sorts_without_overflow() {
        assert_eq!(
            sorted(&["Groep 99999999999999999999999", "Groep 2"]),
            ["Groep 2", "Groep 99999999999999999999999"]
        );
    }

    #[test]
    fn group_sort_key_splits_digits_from_text() {
        assert_eq!(
            group_sort_key("Groep 1/2"),
            [
                Part::Text("groep ".into()),
                Part::Number(1, "1".into()),
                Part::Text("/".into()),
                Part::Number(1, "2".into()),
            ]
        );
    }

    fn redis_refused() -> crate::state::StateError {
        crate::state::StateError::Connect {
            endpoint: "redis://127.0.0.1:1/".into(),
            source: std::io::Error::from(std::io::ErrorKind::ConnectionRefused).into(),
        }
    }

    /// Beheer's picture resets and bulk claims go to the session store: when it is gone, the
    /// page and the API answer as for any outage (503, try again), because the cause survives
    /// the administrator's error.
    #[test]
    fn a_session_store_outage_under_an_administrators_request_is_a_503() {
        use axum::response::IntoResponse;
        let page = crate::http::PageError::from(AdminError::internal(redis_refused()));
        assert_eq!(page.into_response().status(), 503);
        let problem = crate::http::problem::ApiError::from(AdminError::internal(redis_refused()));
        assert_eq!(problem.into_response().status(), 503);
    }

    #[test]
    fn a_fault_that_is_no_outage_stays_an_internal_error() {
        use axum::response::IntoResponse;
        let page = crate::http::PageError::from(AdminError::internal("no code issued"));
        assert_eq!(page.into_response().status(), 500);
    }
}
