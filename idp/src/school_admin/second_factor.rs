//! Tweestapsverificatie for a school (issue #21): the policy that says who must have a second
//! factor (set by the school's ICT-coördinator, else the operator's default), which of the
//! school's staff have one, and the reset of a staff member's factor when they lost both their
//! phone and their recovery codes.
//!
//! A reset is the account's, like its address (see `staff`): it is done by someone who
//! administers every school the account serves, or by the operator. An ICT-coördinator cannot
//! reset their own factor this way: that would take it off without the password or a code,
//! which removal on `/tweestapsverificatie` asks for, so a session left open would be enough.
//! Their way back is a recovery code, another ICT-coördinator of the school, or the operator.

use directory::Directory;
use directory::second_factor::SecondFactorPolicy;
use directory::staff_admin::SchoolStaffMember;

use super::staff::{Mailing, acting_staff, someone_elses_account};
use super::{AdminError, Administered, staff_name};
use crate::mail::MailError;

/// The school's policy as Beheer, the API and the CLI show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Policy {
    /// The school's own choice; `None`: it follows the operator's default.
    pub school: Option<SecondFactorPolicy>,
    /// The operator's default (`login.second_factor_policy`).
    pub default: SecondFactorPolicy,
    /// What applies: the school's own choice, else the default.
    pub effective: SecondFactorPolicy,
}

/// The policy as the school reads it, Dutch and English.
pub fn policy_label(p: SecondFactorPolicy) -> (&'static str, &'static str) {
    match p {
        SecondFactorPolicy::None => ("niet verplicht", "not required"),
        SecondFactorPolicy::Managers => (
            "verplicht voor ICT-coördinatoren",
            "required for ICT coordinators",
        ),
        SecondFactorPolicy::AllStaff => {
            ("verplicht voor alle medewerkers", "required for all staff")
        }
    }
}

pub async fn policy(
    d: &Directory,
    a: &Administered,
    default: SecondFactorPolicy,
) -> Result<Policy, AdminError> {
    let school = d.school_second_factor_policy(&a.school.id).await?;
    Ok(Policy {
        school,
        default,
        effective: school.unwrap_or(default),
    })
}

/// Sets the school's policy (`None`: the operator's default), audited. Staff it newly covers
/// who have no second factor set one up at their next login; sessions already open go on.
pub async fn set_policy(
    d: &Directory,
    a: &Administered,
    policy: Option<SecondFactorPolicy>,
) -> Result<(), AdminError> {
    d.set_school_second_factor_policy(&a.school.id, policy, &a.actor)
        .await?;
    Ok(())
}

/// The school's staff, each with whether they have a second factor (nothing more: no secret,
/// no date, no codes).
pub async fn staff_with_factors(
    d: &Directory,
    a: &Administered,
) -> Result<Vec<(SchoolStaffMember, bool)>, AdminError> {
    let with = d.school_staff_with_second_factor(&a.school.id).await?;
    Ok(d.staff_of_school(&a.school.id)
        .await?
        .into_iter()
        .map(|m| {
            let has = with.contains(&m.staff.id);
            (m, has)
        })
        .collect())
}

/// What a reset did: whether the staff member is mailed (the reset stands either way).
pub type Mailed = Result<(), MailError>;

/// Resets a staff member's second factor: the authenticator and recovery codes go, their
/// sessions end, the audit log names who did it, and they are mailed who did it and when.
/// Refused for someone of another school (not found, as everywhere), for an account that also
/// serves a school the administrator does not administer, for one's own account, and when
/// there is nothing to reset.
pub async fn reset(
    d: &Directory,
    mailing: &Mailing<'_>,
    a: &Administered,
    staff_id: &str,
    default: SecondFactorPolicy,
) -> Result<Mailed, AdminError> {
    let m = someone_elses_account(
        d,
        a,
        staff_id,
        "Je kunt je eigen tweestapsverificatie hier niet herstellen. Gebruik een herstelcode, of vraag een andere ICT-coördinator van de school of de beheerder van openpoort.",
        "You cannot reset your own two-step verification here. Use a recovery code, or ask another ICT coordinator of the school or openpoort's operator.",
    )
    .await?;
    if !d
        .reset_second_factor(staff_id, Some(&a.school.id), &a.actor)
        .await?
    {
        return Err(AdminError::Conflict {
            nl: "Deze persoon heeft geen tweestapsverificatie ingesteld.".into(),
            en: "This person has not set up two-step verification.".into(),
        });
    }
    tracing::info!(staff = %staff_id, actor = %a.actor.0, "second factor reset by an administrator");
    let required = d.second_factor_required(staff_id, default).await?;
    Ok(mail_reset(d, mailing, a, &m, required).await)
}

async fn mail_reset(
    d: &Directory,
    mailing: &Mailing<'_>,
    a: &Administered,
    m: &SchoolStaffMember,
    required: bool,
) -> Mailed {
    let Some(to) = m.staff.email.as_deref() else {
        return Err(MailError::InvalidRecipient);
    };
    let by = match acting_staff(a) {
        Some(id) => match d.staff_by_id(id).await {
            Ok(Some(s)) => {
                let name = staff_name(&s);
                (
                    format!("{name}, ICT-coördinator van {}", a.school.name),
                    format!("{name}, ICT coordinator of {}", a.school.name),
                )
            }
            _ => (
                "De ICT-coördinator".to_owned(),
                "The ICT coordinator".to_owned(),
            ),
        },
        None => (
            "De beheerder van openpoort".to_owned(),
            "openpoort's operator".to_owned(),
        ),
    };
    let when = directory::model::netherlands_clock(crate::clock::unix_now());
    let name = m
        .staff
        .roepnaam
        .as_deref()
        .or(m.staff.voornamen.as_deref())
        .unwrap_or("");
    let sent = async {
        let message = crate::mail::second_factor_reset_message(
            mailing.mailer.from(),
            to,
            name,
            (&by.0, &by.1),
            &when,
            required,
        )?;
        mailing.mailer.send(message).await
    }
    .await;
    if let Err(e) = &sent {
        tracing::warn!(staff = %m.staff.id, error = %e, "the mail about a second factor reset was not sent");
    }
    sent
}
