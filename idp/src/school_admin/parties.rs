//! The parties a school lets in: publishers (uitgeverijen) and network providers
//! (netwerkaanbieders). Ticking one records the school's consent; unticking revokes it, and the
//! next sign-in into that party is refused (every release decision reads the consent afresh).

use broker::attributes::Attribute;
use directory::Directory;
use directory::model::PartyKind;
use directory::parties::{Consent, Party};

use super::{AdminError, Administered};

/// One party as the school sees it: whether it has the school's consent, and exactly what it
/// receives about pupils and about staff when it does.
pub struct PartyRow {
    pub party: Party,
    pub consent: Option<Consent>,
    /// When the party asked for consent, while its request waits for an answer.
    pub requested_at: Option<i64>,
    pub about_pupils: Vec<Attribute>,
    pub about_staff: Vec<Attribute>,
}

/// Every party of `kind`, by name, with this school's consent and the party's release policy.
pub async fn of_kind(
    d: &Directory,
    a: &Administered,
    kind: PartyKind,
) -> Result<Vec<PartyRow>, AdminError> {
    let mut parties: Vec<Party> = d
        .list_parties()
        .await?
        .into_iter()
        .filter(|p| p.kind == kind)
        .collect();
    parties.sort_by_cached_key(|p| p.name.to_lowercase());
    let requests = d.open_permission_requests(&a.school.id).await?;
    let mut rows = Vec::with_capacity(parties.len());
    for party in parties {
        let consent = d.open_consent(&a.school.id, &party.id).await?;
        let requested_at = requests
            .iter()
            .find(|r| r.party_id == party.id)
            .map(|r| r.requested_at);
        let policy = Attribute::policy(&d.release_attributes_of(&party.id).await?);
        rows.push(PartyRow {
            about_pupils: policy
                .iter()
                .copied()
                .filter(Attribute::about_pupils)
                .collect(),
            about_staff: policy
                .iter()
                .copied()
                .filter(Attribute::about_staff)
                .collect(),
            consent,
            requested_at,
            party,
        });
    }
    Ok(rows)
}

async fn party(d: &Directory, code: &str) -> Result<Party, AdminError> {
    d.party_by_code(code)
        .await?
        .ok_or_else(|| AdminError::NotFound {
            what: "partij",
            key: code.to_owned(),
        })
}

/// The school consents to the party; consenting again changes nothing, also when two
/// requests race (the register keeps one consent in force; the loser reads the winner's).
pub async fn consent(d: &Directory, a: &Administered, code: &str) -> Result<Consent, AdminError> {
    let p = party(d, code).await?;
    match d.grant_consent(&a.school.id, &p.id, &a.actor).await {
        Err(directory::DirectoryError::Duplicate { .. }) => {
            d.open_consent(&a.school.id, &p.id).await?.ok_or_else(|| {
                AdminError::Internal(directory::DirectoryError::Conflict {
                    nl: "toestemming tegelijk gegeven en ingetrokken".into(),
                    en: "consent given and withdrawn at the same moment".into(),
                })
            })
        }
        other => Ok(other?),
    }
}

/// The school withdraws its consent; withdrawing one that is not there is refused.
pub async fn revoke(d: &Directory, a: &Administered, code: &str) -> Result<Consent, AdminError> {
    let p = party(d, code).await?;
    Ok(d.revoke_consent(&a.school.id, &p.id, &a.actor).await?)
}

/// The school declines the party's waiting request for consent (consenting is ticking it).
pub async fn decline(d: &Directory, a: &Administered, code: &str) -> Result<(), AdminError> {
    let p = party(d, code).await?;
    match d
        .decline_permission_request(&a.school.id, &p.id, &a.actor)
        .await
    {
        Err(directory::DirectoryError::NotFound { .. }) => Err(AdminError::NotFound {
            what: "toestemmingsverzoek van",
            key: p.name,
        }),
        other => Ok(other?),
    }
}

/// The attribute as the school reads it.
pub fn label(a: Attribute) -> (&'static str, &'static str) {
    match a {
        Attribute::Subject => (
            "een pseudoniem, per partij anders",
            "a pseudonym, different per party",
        ),
        Attribute::Affiliation => (
            "rol (leerling, leerkracht, medewerker)",
            "role (pupil, teacher, staff)",
        ),
        Attribute::HomeOrganization => ("BRIN van de school", "the school's BRIN"),
        Attribute::HomeOrganizationBranch => ("vestigingscode", "school location code"),
        Attribute::Groups => ("groepen", "classes"),
        Attribute::Jaargroep => ("jaargroep", "year group"),
        Attribute::EckId => ("ECK-iD", "ECK-iD"),
        Attribute::GivenName => ("voornaam", "first name"),
        Attribute::FamilyName => ("achternaam", "surname"),
        Attribute::Tussenvoegsels => ("tussenvoegsels", "surname prefix"),
        Attribute::Email => ("e-mailadres", "e-mail address"),
    }
}

/// One consent of the school's history, as people read it.
pub struct ConsentEntry {
    pub party_code: String,
    pub party_name: String,
    pub granted_at: String,
    pub granted_by: String,
    pub revoked_at: Option<String>,
    pub revoked_by: Option<String>,
}

/// Every consent the school gave, in force or withdrawn, oldest first, with dates and names.
pub async fn history(d: &Directory, a: &Administered) -> Result<Vec<ConsentEntry>, AdminError> {
    let mut out = Vec::new();
    for c in d.consent_history(&a.school.id).await? {
        let (party_code, party_name) = match d.party_by_id(&c.party_id).await? {
            Some(p) => (p.code, p.name),
            None => (c.party_id.clone(), c.party_id.clone()),
        };
        let revoked_by = match &c.revoked_by {
            Some(by) => Some(super::actor_name(d, by).await?),
            None => None,
        };
        out.push(ConsentEntry {
            party_code,
            party_name,
            granted_at: directory::model::netherlands_clock(c.granted_at),
            granted_by: super::actor_name(d, &c.granted_by).await?,
            revoked_at: c.revoked_at.map(directory::model::netherlands_clock),
            revoked_by,
        });
    }
    Ok(out)
}
