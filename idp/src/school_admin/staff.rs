//! Leerkrachten: the school's staff with their status, roles and groups. The administrator adds
//! people the LAS does not list, gives them a login address and mails the activation link,
//! grants the roles beyond leerkracht, links people to groups (an invalkracht for a period that
//! ends by itself) and deactivates accounts.
//!
//! One account may serve several schools, and its address and its deactivation are the
//! account's, not one school's: those are changed here only by someone who administers every
//! school the account serves (or by the operator), so that one school's administrator cannot
//! take over or switch off a person's login at a school they do not administer.

use directory::credentials::TokenPurpose;
use directory::model::{Date, Email, StaffRole};
use directory::people::{NewStaff, Staff, StaffStatus};
use directory::staff_admin::SchoolStaffMember;
use directory::{Directory, DirectoryError};

use super::{AdminError, Administered};
use crate::links::{LinkError, send_link};
use crate::mail::Mailer;

/// The roles an administrator grants by hand; leerkracht comes with the school's LAS.
pub const EXTRA_ROLES: [StaffRole; 5] = [
    StaffRole::IctCoordinator,
    StaffRole::Ib,
    StaffRole::Rt,
    StaffRole::Stagiaire,
    StaffRole::Invalkracht,
];

/// The role as the school reads it, Dutch and English.
pub fn role_label(r: StaffRole) -> (&'static str, &'static str) {
    match r {
        StaffRole::Leerkracht => ("leerkracht", "teacher"),
        StaffRole::IctCoordinator => ("ICT-coördinator", "ICT coordinator"),
        StaffRole::Ib => ("intern begeleider (IB)", "special needs coordinator"),
        StaffRole::Rt => ("remedial teacher (RT)", "remedial teacher"),
        StaffRole::Stagiaire => ("stagiaire", "trainee"),
        StaffRole::Invalkracht => ("invalkracht", "substitute teacher"),
    }
}

/// The account's status as the school reads it, Dutch and English.
pub fn status_label(s: StaffStatus) -> (&'static str, &'static str) {
    match s {
        StaffStatus::Active => ("actief", "active"),
        StaffStatus::Inactive => ("nog niet geactiveerd", "not activated yet"),
        StaffStatus::Deactivated => ("gedeactiveerd", "deactivated"),
    }
}

/// Where activation links are mailed from and point to.
pub struct Mailing<'a> {
    pub mailer: &'a Mailer,
    pub public_url: &'a str,
}

/// An activation mail: the link that went out, or why it did not. The change before it stands
/// either way; a failed mail is sent again with "uitnodiging opnieuw sturen".
pub type Sent = Result<String, LinkError>;

async fn mail_activation(d: &Directory, m: &Mailing<'_>, a: &Administered, staff: &Staff) -> Sent {
    let sent = send_link(
        d,
        m.mailer,
        m.public_url,
        staff,
        TokenPurpose::Activation,
        &a.actor,
    )
    .await;
    if let Err(e) = &sent {
        tracing::warn!(staff = %staff.id, error = %e, "activation mail from Beheer not sent");
    }
    sent
}

/// The staff member acting, when it is one (and not the operator).
pub(super) fn acting_staff(a: &Administered) -> Option<&str> {
    a.actor.0.strip_prefix("staff:")
}

/// The school's staff by surname.
pub async fn list(d: &Directory, a: &Administered) -> Result<Vec<SchoolStaffMember>, AdminError> {
    Ok(d.staff_of_school(&a.school.id).await?)
}

/// One person of the school's staff; anyone else is not found, whichever school they are at.
pub async fn member(
    d: &Directory,
    a: &Administered,
    staff_id: &str,
) -> Result<SchoolStaffMember, AdminError> {
    d.staff_of_school(&a.school.id)
        .await?
        .into_iter()
        .find(|m| m.staff.id == staff_id)
        .ok_or_else(|| AdminError::NotFound {
            what: "medewerker",
            key: staff_id.to_owned(),
        })
}

/// Refuses a change to the account itself (its address, an invitation, a deactivation) when it
/// also serves a school the acting administrator does not administer.
async fn account_is_ours(
    d: &Directory,
    a: &Administered,
    m: &SchoolStaffMember,
) -> Result<(), AdminError> {
    let Some(me) = acting_staff(a) else {
        return Ok(());
    };
    let mine = d.schools_administered_by(me).await?;
    if m.other_schools.iter().all(|s| mine.contains(s)) {
        return Ok(());
    }
    Err(AdminError::refused(
        "Deze persoon werkt ook op een school die je niet beheert. Het e-mailadres, de uitnodiging en het deactiveren van het account regelt de beheerder van openpoort.",
        "This person also works at a school you do not administer. The e-mail address, the invitation and deactivating the account are handled by openpoort's operator.",
    ))
}

/// One of the school's staff whose account the administrator changes, for a change they may not
/// make to their own account (a deactivation, a second-factor reset): `own_nl`/`own_en` say why.
/// Their own account is refused before [`account_is_ours`] is asked.
pub(super) async fn someone_elses_account(
    d: &Directory,
    a: &Administered,
    staff_id: &str,
    own_nl: &str,
    own_en: &str,
) -> Result<SchoolStaffMember, AdminError> {
    let m = member(d, a, staff_id).await?;
    if acting_staff(a) == Some(staff_id) {
        return Err(AdminError::refused(own_nl, own_en));
    }
    account_is_ours(d, a, &m).await?;
    Ok(m)
}

/// Someone the LAS does not list, as the administrator (or the operator, for a school's first
/// ICT-coördinator) types them in.
pub struct NewPerson<'a> {
    pub roepnaam: &'a str,
    pub voorvoegsel: &'a str,
    pub achternaam: &'a str,
    pub email: &'a str,
}

impl NewPerson<'_> {
    /// The person for the register: the address checked, the names without surrounding blanks,
    /// an empty one left out.
    pub fn new_staff(&self) -> Result<NewStaff, AdminError> {
        Ok(NewStaff {
            email: Some(Email::parse(self.email.trim())?),
            achternaam: self.achternaam.trim().to_owned(),
            voorvoegsel: optional(self.voorvoegsel),
            voornamen: None,
            roepnaam: optional(self.roepnaam),
            eck_id: None,
        })
    }
}

fn optional(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// Adds a person to the school's staff (without a LAS key) and mails the activation link.
pub async fn add(
    d: &Directory,
    mailing: &Mailing<'_>,
    a: &Administered,
    new: &NewPerson<'_>,
) -> Result<(Staff, Sent), AdminError> {
    let person = new.new_staff()?;
    if person.achternaam.is_empty() {
        return Err(AdminError::refused(
            "Vul de achternaam in.",
            "Fill in the surname.",
        ));
    }
    let staff = d.create_staff(&person, &a.actor).await?;
    d.add_staff_to_school(&staff.id, &a.school.id, None, &a.actor)
        .await?;
    let sent = mail_activation(d, mailing, a, &staff).await;
    Ok((staff, sent))
}

/// Gives a person a (new) login address. An account that was never activated gets its
/// activation link at the new address (links mailed before stop working); an active account
/// keeps its password and signs in with the new address from now on, and a deactivated one gets
/// nothing until it is invited again.
pub async fn set_email(
    d: &Directory,
    mailing: &Mailing<'_>,
    a: &Administered,
    staff_id: &str,
    email: &str,
) -> Result<Option<Sent>, AdminError> {
    let m = member(d, a, staff_id).await?;
    account_is_ours(d, a, &m).await?;
    let email = Email::parse(email.trim())?;
    if m.staff.email.as_deref() == Some(email.as_str()) {
        return Ok(None);
    }
    d.set_staff_email(staff_id, &a.school.id, &email, &a.actor)
        .await?;
    if m.staff.status != StaffStatus::Inactive {
        return Ok(None);
    }
    let staff = Staff {
        email: Some(email.to_string()),
        ..m.staff
    };
    Ok(Some(mail_activation(d, mailing, a, &staff).await))
}

/// Mails the activation link again to an account that was not activated yet, or invites a
/// deactivated one back (its old password no longer counts).
pub async fn invite(
    d: &Directory,
    mailing: &Mailing<'_>,
    a: &Administered,
    staff_id: &str,
) -> Result<Sent, AdminError> {
    let m = member(d, a, staff_id).await?;
    account_is_ours(d, a, &m).await?;
    if m.staff.email.is_none() {
        return Err(AdminError::refused(
            "Deze persoon heeft nog geen e-mailadres: vul eerst een adres in.",
            "This person has no e-mail address yet: fill one in first.",
        ));
    }
    match m.staff.status {
        StaffStatus::Active => {
            return Err(AdminError::refused(
                "Deze persoon heeft het account al geactiveerd; bij een vergeten wachtwoord helpt ‘Wachtwoord vergeten’ op de inlogpagina.",
                "This person has already activated the account; a forgotten password is what ‘Wachtwoord vergeten’ on the login page is for.",
            ));
        }
        StaffStatus::Deactivated => {
            d.reinstate_staff(staff_id, &a.actor).await?;
        }
        StaffStatus::Inactive => {}
    }
    Ok(mail_activation(d, mailing, a, &m.staff).await)
}

/// Grants a role at the school. Only an administrator of the school (an ICT-coördinator, or the
/// operator) holds an `Administered`, so only they can make someone ICT-coördinator. Granting
/// a role someone holds already changes nothing.
pub async fn grant_role(
    d: &Directory,
    a: &Administered,
    staff_id: &str,
    role: StaffRole,
) -> Result<(), AdminError> {
    // The operator also makes people administrators of schools whose staff list they are not
    // on; a school's administrator works with the school's own people.
    if acting_staff(a).is_some() {
        member(d, a, staff_id).await?;
    }
    match d.grant_role(staff_id, &a.school.id, role, &a.actor).await {
        Ok(()) | Err(DirectoryError::Duplicate { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Takes a role away. A school's administrator cannot take away the school's last
/// ICT-coördinator, also not when two of them remove each other at the same moment.
pub async fn revoke_role(
    d: &Directory,
    a: &Administered,
    staff_id: &str,
    role: StaffRole,
) -> Result<(), AdminError> {
    if acting_staff(a).is_some() {
        member(d, a, staff_id).await?;
        d.revoke_role_keeping_an_administrator(staff_id, &a.school.id, role, &a.actor)
            .await?;
    } else {
        // The operator may leave a school without one, as before (to hand it over, say).
        d.revoke_role(staff_id, &a.school.id, role, &a.actor)
            .await?;
    }
    Ok(())
}

/// Brings a person's extra roles in line with `wanted` (roles outside [`EXTRA_ROLES`] are left
/// as they are): grants first, so that handing the ICT-coördinator role over in one form works.
pub async fn set_roles(
    d: &Directory,
    a: &Administered,
    staff_id: &str,
    wanted: &[StaffRole],
) -> Result<(), AdminError> {
    let m = member(d, a, staff_id).await?;
    for role in EXTRA_ROLES {
        if wanted.contains(&role) && !m.roles.contains(&role) {
            grant_role(d, a, staff_id, role).await?;
        }
    }
    for role in EXTRA_ROLES {
        if !wanted.contains(&role) && m.roles.contains(&role) {
            revoke_role(d, a, staff_id, role).await?;
        }
    }
    Ok(())
}

fn optional_date(field: &'static str, value: &str) -> Result<Option<Date>, AdminError> {
    match value.trim() {
        "" => Ok(None),
        v => Ok(Some(Date::parse(field, v)?)),
    }
}

/// Links a person to one of the school's groups: for good, or from and until a date (both days
/// included; an invalkracht's period). After the last day the link gives no access, without
/// anything having to run: every read that grants access compares the dates with today.
pub async fn link_group(
    d: &Directory,
    a: &Administered,
    staff_id: &str,
    group_id: &str,
    valid_from: &str,
    valid_until: &str,
) -> Result<(), AdminError> {
    member(d, a, staff_id).await?;
    let from = optional_date("geldig vanaf", valid_from)?;
    let until = optional_date("geldig tot en met", valid_until)?;
    if let (Some(f), Some(u)) = (&from, &until)
        && f > u
    {
        return Err(AdminError::refused(
            format!("De einddatum {u} ligt vóór de begindatum {f}."),
            format!("The end date {u} lies before the start date {f}."),
        ));
    }
    let today = Date::in_netherlands(crate::clock::unix_now());
    if let Some(u) = &until
        && *u < today
    {
        return Err(AdminError::refused(
            format!("De einddatum {u} is al voorbij."),
            format!("The end date {u} has already passed."),
        ));
    }
    d.link_staff_group(
        staff_id,
        &a.school.id,
        group_id,
        from.as_ref(),
        until.as_ref(),
        &a.actor,
    )
    .await?;
    Ok(())
}

/// Ends a person's link to a group.
pub async fn unlink_group(
    d: &Directory,
    a: &Administered,
    staff_id: &str,
    group_id: &str,
) -> Result<(), AdminError> {
    member(d, a, staff_id).await?;
    d.unlink_staff_group(staff_id, &a.school.id, group_id, &a.actor)
        .await?;
    Ok(())
}

/// Deactivates the account: no login, its sessions end at once on every node (its session
/// epoch moves) and its outstanding links stop working. Only an invitation brings it back.
pub async fn deactivate(d: &Directory, a: &Administered, staff_id: &str) -> Result<(), AdminError> {
    let m = someone_elses_account(
        d,
        a,
        staff_id,
        "Je kunt je eigen account niet deactiveren.",
        "You cannot deactivate your own account.",
    )
    .await?;
    if m.staff.status == StaffStatus::Deactivated {
        return Ok(());
    }
    d.set_staff_status(staff_id, StaffStatus::Deactivated, &a.actor)
        .await?;
    Ok(())
}
