//! The release decision: may relying party R receive a login of user U of school S, and if so,
//! with which claims. Every protocol and API asks here, and every answer is audited.
//!
//! The broker keeps nothing between decisions but the pairwise secret it loads at start: each
//! decision asks the register for consent, licences and account state. The register answers
//! some of that from its read cache: all of a pupil's facts (`pupil_release_facts`, one entry per
//! school, party and pupil) and a school's licences; a staff member's other facts are read every
//! time (the publisher's own LIKA grants too: a pupil's within `pupil_release_facts`, a staff
//! member's by a read of their own). A change made through this process empties that cache at
//! once; one made by another process (another node, the command line) within
//! `directory::CACHE_POLL` (250 ms) on SQLite and within `directory::CACHE_LAPSE` (2 s, normally
//! milliseconds) on PostgreSQL. Licence dates are judged at every decision, so an expiry counts
//! from the next login, and a revocation from the next login once the register has seen it.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::json;

use certs::{Kek, SecretStorage};
use directory::audit::AuditEvent;
use directory::lika::LikaKey;
use directory::model::{Date, StaffRole};
use directory::parties::{Licence, LicenceMember, LicenceScope, Party, Product};
use directory::people::{Group, Pupil, Staff, StaffStatus};
use directory::schools::School;
use directory::{Actor, Directory};

use crate::attributes::Attribute;
use crate::error::BrokerError;
use crate::pairwise::Pairwise;

/// Who is signing in, by internal id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Subject {
    Pupil(String),
    Staff(String),
}

impl Subject {
    fn id(&self) -> &str {
        match self {
            Subject::Pupil(id) | Subject::Staff(id) => id,
        }
    }
}

/// How the user signed in. Only a pupil's home code limits what may be released: staff sign in
/// with a password from anywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Context {
    /// A pupil at school: shortcut link from a registered school IP range.
    SchoolNetwork,
    /// A pupil at home: home code and pin.
    HomeCode,
    /// A staff member: e-mail and password.
    Password,
    /// A pupil or staff member a network provider vouched for (brokered login): the school
    /// selected that provider, and it answers for where and how its users signed in.
    Network,
}

/// Whether a staff member in `status` may act in a session opened in `context`: an activated
/// account anywhere; one not activated yet only through a network provider, whose users need
/// no openpoort password (as in Basispoort). A deactivated account never.
pub fn staff_may_act(status: StaffStatus, context: Context) -> bool {
    match status {
        StaffStatus::Active => true,
        StaffStatus::Inactive => context == Context::Network,
        StaffStatus::Deactivated => false,
    }
}

#[derive(Clone, Debug)]
pub struct ReleaseRequest<'a> {
    pub subject: Subject,
    pub school_id: &'a str,
    pub party_id: &'a str,
    /// The product being opened, where the protocol knows it (a tile, a SAML ACS of a product);
    /// without it any product of the party counts.
    pub product_id: Option<&'a str>,
    /// What the relying party asked for (SAML RequestedAttribute, OIDC scopes mapped through the
    /// catalogue); `None` when it asked nothing specific. The pairwise subject is always sent.
    pub requested: Option<&'a [Attribute]>,
    pub context: Context,
    /// Pairwise sector; the party's id when the party has no sector of its own.
    pub sector: Option<&'a str>,
    /// The network provider (its party code) that vouched for the user, named in the audit.
    pub network: Option<&'a str>,
}

/// A claim value as the protocols need it: one string or a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Value {
    One(String),
    Many(Vec<String>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Release {
    pub claims: Vec<(Attribute, Value)>,
}

impl Release {
    pub fn get(&self, attribute: Attribute) -> Option<&Value> {
        self.claims
            .iter()
            .find(|(a, _)| *a == attribute)
            .map(|(_, v)| v)
    }

    pub fn subject(&self) -> &str {
        match self.get(Attribute::Subject) {
            Some(Value::One(s)) => s,
            _ => unreachable!("every release carries the pairwise subject"),
        }
    }
}

/// Why a login is not released. The relying party learns only that it was denied; the user sees
/// [`DenyReason::explanation`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DenyReason {
    AccountInactive,
    NoConsent,
    NoLicence,
    LicenceExpired,
    HomeLoginSwitchedOff,
    NotAllowedAtHome,
}

pub struct Explanation {
    pub nl: String,
    pub en: String,
}

impl DenyReason {
    /// Plain words for the user, saying who can fix it. Names only the party, which the user
    /// chose to open; nothing about other users or schools.
    pub fn explanation(&self, party_name: &str) -> Explanation {
        let (nl, en) = match self {
            DenyReason::AccountInactive => (
                "Je account is niet actief op deze school. Vraag je leerkracht of de ICT-coördinator van je school om hulp.".to_string(),
                "Your account is not active at this school. Ask your teacher or the school's ICT coordinator for help.".to_string(),
            ),
            DenyReason::NoConsent => (
                format!("Je school heeft (nog) geen toestemming gegeven om gegevens te delen met {party_name}. De ICT-coördinator van je school kan dat regelen."),
                format!("Your school has not (yet) allowed sharing data with {party_name}. The school's ICT coordinator can arrange that."),
            ),
            DenyReason::NoLicence => (
                format!("Je school heeft geen licentie van {party_name} voor jou. De ICT-coördinator van je school kan die bij {party_name} regelen."),
                format!("Your school holds no licence of {party_name} that covers you. The school's ICT coordinator can arrange one with {party_name}."),
            ),
            DenyReason::LicenceExpired => (
                format!("De licentie van je school voor {party_name} is verlopen. De ICT-coördinator van je school kan die bij {party_name} verlengen."),
                format!("Your school's licence of {party_name} has expired. The school's ICT coordinator can renew it with {party_name}."),
            ),
            DenyReason::HomeLoginSwitchedOff => (
                "Je school heeft thuis inloggen uitgezet. Je kunt dit programma op school gebruiken.".to_string(),
                "Your school has switched logging in from home off. You can use this program at school.".to_string(),
            ),
            DenyReason::NotAllowedAtHome => (
                format!("Dit programma van {party_name} kun je alleen op school gebruiken, niet thuis."),
                format!("This program of {party_name} can only be used at school, not at home."),
            ),
        };
        Explanation { nl, en }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow(Release),
    Deny(DenyReason),
}

/// The pairwise sector of a party's partner API numbers: its default sector, the one
/// `metadata::pairwise_sector(party_id, None)` names (a test in `idp` holds the two together).
pub fn partner_sector(party_id: &str) -> String {
    format!("party:{party_id}")
}

/// The decision-maker. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Broker {
    directory: Directory,
    pairwise: Pairwise,
}

/// Everything a decision reads, asked of the register each time (which may answer from its
/// read cache, see the module comment).
pub(crate) struct Facts {
    school: School,
    pub(crate) party: Party,
    person: Person,
    pub(crate) products: Vec<Product>,
    pub(crate) licences: Vec<Licence>,
    consent: bool,
    extra: Vec<String>,
    /// The party's products the user may use through the hosted licence API (`directory::lika`):
    /// a licence of their own, without dates, beside the school's.
    pub(crate) lika: Vec<String>,
}

enum Person {
    Pupil {
        pupil: Pupil,
        /// LAS keys of the stamgroep and combined groups.
        group_keys: Vec<String>,
    },
    Staff {
        staff: Staff,
        works_here: bool,
        teaches: bool,
        groups: Vec<Group>,
    },
}

impl Person {
    /// The keys of the groups the user is in at the school: a pupil's stamgroep and combined
    /// groups, a staff member's linked groups.
    fn group_keys(&self) -> Vec<String> {
        match self {
            Person::Pupil { group_keys, .. } => group_keys.clone(),
            Person::Staff { groups, .. } => groups.iter().map(|g| g.las_key.clone()).collect(),
        }
    }

    /// The user's name as the register knows it at the decision.
    fn shown_name(&self) -> String {
        match self {
            Person::Pupil { pupil, .. } => pupil.shown_name(),
            Person::Staff { staff, .. } => staff.shown_name(),
        }
    }
}

impl Broker {
    pub async fn new<S: SecretStorage>(
        directory: Directory,
        secrets: &S,
        kek: &Kek,
        now: i64,
    ) -> Result<Broker, BrokerError> {
        let pairwise = Pairwise::load(secrets, kek, now).await?;
        Ok(Broker {
            directory,
            pairwise,
        })
    }

    pub(crate) fn directory(&self) -> &Directory {
        &self.directory
    }

    /// The pairwise pseudonym of a user for a sector (also what back-channel logout uses, so
    /// that one party sees one identifier per user).
    pub fn pseudonym(&self, sector: &str, user_id: &str) -> Result<String, BrokerError> {
        self.pairwise.identifier(sector, user_id)
    }

    /// The pairwise number of a school, group or person for a sector: the partner API's ids.
    pub fn partner_number(&self, sector: &str, kind: &str, id: &str) -> Result<i64, BrokerError> {
        self.pairwise.number(sector, kind, id)
    }

    /// A user's and their school's numbers for a party, as the party read them from the
    /// partner API and wrote them into its LIKA access lists.
    pub(crate) fn lika_key(
        &self,
        party_id: &str,
        subject: &Subject,
        school_id: &str,
    ) -> Result<LikaKey, BrokerError> {
        let sector = partner_sector(party_id);
        let kind = match subject {
            Subject::Pupil(_) => "pupil",
            Subject::Staff(_) => "staff",
        };
        Ok(LikaKey {
            party_id: party_id.to_owned(),
            user_number: self.pairwise.number(&sector, kind, subject.id())?,
            school_number: self.pairwise.number(&sector, "school", school_id)?,
        })
    }

    /// Decides and audits. `now` is unix seconds; licence validity is judged on the Dutch
    /// calendar day.
    pub async fn decide(
        &self,
        req: &ReleaseRequest<'_>,
        now: i64,
    ) -> Result<Decision, BrokerError> {
        let today = Date::in_netherlands(now);
        let mut group_keys = Vec::new();
        let mut name = None;
        let decision = match self.facts(req).await? {
            None => Decision::Deny(DenyReason::AccountInactive),
            Some(facts) => match judge(req, &facts, &today) {
                Err(reason) => Decision::Deny(reason),
                Ok(()) => {
                    group_keys = facts.person.group_keys();
                    name = Some(facts.person.shown_name());
                    Decision::Allow(self.release(req, &facts)?)
                }
            },
        };
        self.audit(req, &decision, name.as_deref(), &group_keys)
            .await?;
        Ok(decision)
    }

    pub(crate) async fn facts(
        &self,
        req: &ReleaseRequest<'_>,
    ) -> Result<Option<Facts>, BrokerError> {
        let d = &self.directory;
        let key = self.lika_key(req.party_id, &req.subject, req.school_id)?;
        let (school, party, person, products, licences, consent, extra, lika) = match &req.subject {
            // The Monday-morning case: one connection for all of it (see
            // `pupil_release_facts`), since a hop to a connection costs more than a query.
            Subject::Pupil(id) => {
                let f = d
                    .pupil_release_facts(req.school_id, req.party_id, id, &key)
                    .await?;
                // A pupil of another school is not known here: same answer as inactive, so
                // that a crafted request learns nothing about other schools.
                let person = f
                    .pupil
                    .filter(|(pupil, _)| pupil.school_id == req.school_id)
                    .map(|(pupil, group_keys)| Person::Pupil { pupil, group_keys });
                (
                    f.school,
                    f.party,
                    person,
                    f.products,
                    f.licences,
                    f.consent,
                    f.release_attributes,
                    f.lika_products,
                )
            }
            // Everything is keyed by the request's ids, so the reads go out together: a login
            // waits for the slowest read, not for their sum.
            Subject::Staff(_) => {
                let (school, party, person, products, licences, consent, extra) = tokio::try_join!(
                    d.school_by_id(req.school_id),
                    d.party_by_id(req.party_id),
                    self.person(&req.subject, req.school_id),
                    d.products_of_party(req.party_id),
                    d.licences_of_school(req.school_id),
                    d.open_consent(req.school_id, req.party_id),
                    d.release_attributes_of(req.party_id),
                )?;
                // An access list may name the person by ECK-iD, which only their row holds.
                let eck_id = match &person {
                    Some(Person::Staff { staff, .. }) => staff.eck_id.clone(),
                    _ => None,
                };
                let lika = d
                    .lika_grants(std::slice::from_ref(&key), eck_id.as_deref())
                    .await?
                    .into_iter()
                    .map(|(_, product_id)| product_id)
                    .collect();
                (
                    school, party, person, products, licences, consent, extra, lika,
                )
            }
        };
        let (Some(school), Some(party), Some(person)) = (school, party, person) else {
            return Ok(None);
        };
        let licences = licences
            .into_iter()
            .filter(|l| products.iter().any(|p| p.id == l.product_id))
            .collect();
        let consent = consent.is_some();
        Ok(Some(Facts {
            school,
            party,
            person,
            products,
            licences,
            consent,
            extra,
            lika,
        }))
    }

    /// The user as the decision sees them at this school; None when not known there.
    async fn person(
        &self,
        subject: &Subject,
        school_id: &str,
    ) -> Result<Option<Person>, directory::DirectoryError> {
        let d = &self.directory;
        Ok(match subject {
            Subject::Pupil(id) => match d.pupil_with_group_keys(id).await? {
                // A pupil of another school is not known here: same answer as inactive, so
                // that a crafted request learns nothing about other schools.
                Some((pupil, group_keys)) if pupil.school_id == school_id => {
                    Some(Person::Pupil { pupil, group_keys })
                }
                _ => None,
            },
            Subject::Staff(id) => {
                let (staff, at, groups) = tokio::try_join!(
                    d.staff_by_id(id),
                    d.schools_of_staff(id),
                    d.groups_of_staff(id)
                )?;
                let Some(staff) = staff else {
                    return Ok(None);
                };
                let here = at.iter().find(|s| s.school_id == school_id);
                let works_here = here.is_some_and(|s| s.member);
                // The ICT-coördinator role administers; it does not make one a user of the
                // school's software.
                let teaches =
                    here.is_some_and(|s| s.roles.iter().any(|r| *r != StaffRole::IctCoordinator));
                let groups = groups
                    .into_iter()
                    .filter(|g| g.school_id == school_id)
                    .collect();
                Some(Person::Staff {
                    staff,
                    works_here,
                    teaches,
                    groups,
                })
            }
        })
    }

    fn release(&self, req: &ReleaseRequest<'_>, f: &Facts) -> Result<Release, BrokerError> {
        let allowed: BTreeSet<Attribute> = Attribute::policy(&f.extra)
            .into_iter()
            .filter(|a| *a == Attribute::Subject || req.requested.is_none_or(|r| r.contains(a)))
            .collect();
        let sector = req.sector.unwrap_or(&f.party.id);
        let mut claims = Vec::new();
        for attribute in allowed {
            let value = match (attribute, &f.person) {
                (Attribute::Subject, _) => Some(Value::One(
                    self.pairwise.identifier(sector, req.subject.id())?,
                )),
                (Attribute::Affiliation, Person::Pupil { .. }) => {
                    Some(Value::Many(vec!["student".into()]))
                }
                (Attribute::Affiliation, Person::Staff { teaches, .. }) => {
                    let kind = if *teaches { "faculty" } else { "staff" };
                    Some(Value::Many(vec!["employee".into(), kind.into()]))
                }
                (Attribute::HomeOrganization, _) => Some(Value::One(f.school.brin.clone())),
                (Attribute::HomeOrganizationBranch, _) => {
                    Some(Value::One(f.school.vestigingscode.clone()))
                }
                (Attribute::Groups, Person::Pupil { group_keys, .. }) => {
                    Some(Value::Many(group_keys.clone()))
                }
                (Attribute::Groups, Person::Staff { groups, .. }) => Some(Value::Many(
                    groups.iter().map(|g| g.las_key.clone()).collect(),
                )),
                (Attribute::Jaargroep, Person::Pupil { pupil: p, .. }) => {
                    Some(Value::One(p.jaargroep.clone()))
                }
                (Attribute::Jaargroep, Person::Staff { .. }) => None,
                (Attribute::EckId, Person::Pupil { pupil: p, .. }) => {
                    p.eck_id.clone().map(Value::One)
                }
                (Attribute::EckId, Person::Staff { staff, .. }) => {
                    staff.eck_id.clone().map(Value::One)
                }
                (Attribute::GivenName, Person::Pupil { pupil: p, .. }) => p
                    .roepnaam
                    .clone()
                    .or_else(|| p.voornamen.clone())
                    .map(Value::One),
                (Attribute::GivenName, Person::Staff { staff, .. }) => staff
                    .roepnaam
                    .clone()
                    .or_else(|| staff.voornamen.clone())
                    .map(Value::One),
                (Attribute::FamilyName, Person::Pupil { pupil: p, .. }) => {
                    Some(Value::One(p.achternaam.clone()))
                }
                (Attribute::FamilyName, Person::Staff { staff, .. }) => {
                    Some(Value::One(staff.achternaam.clone()))
                }
                (Attribute::Tussenvoegsels, Person::Pupil { pupil: p, .. }) => {
                    p.voorvoegsel.clone().map(Value::One)
                }
                (Attribute::Tussenvoegsels, Person::Staff { staff, .. }) => {
                    staff.voorvoegsel.clone().map(Value::One)
                }
                (Attribute::Email, Person::Pupil { .. }) => None,
                (Attribute::Email, Person::Staff { staff, .. }) => {
                    staff.email.clone().map(Value::One)
                }
            };
            if let Some(v) = value {
                claims.push((attribute, v));
            }
        }
        Ok(Release { claims })
    }

    /// Audits the decision; an allowed one with the user's name and groups, so that the school
    /// can read its releases about the person and per group as they were that day.
    async fn audit(
        &self,
        req: &ReleaseRequest<'_>,
        decision: &Decision,
        name: Option<&str>,
        group_keys: &[String],
    ) -> Result<(), BrokerError> {
        let (action, details) = match decision {
            Decision::Allow(release) => (
                "release.allow",
                json!({
                    "context": req.context,
                    "network": req.network,
                    "product_id": req.product_id,
                    "subject_kind": match req.subject { Subject::Pupil(_) => "pupil", Subject::Staff(_) => "staff" },
                    "attributes": release.claims.iter().map(|(a, _)| a.name()).collect::<Vec<_>>(),
                }),
            ),
            Decision::Deny(reason) => (
                "release.deny",
                json!({
                    "context": req.context,
                    "network": req.network,
                    "product_id": req.product_id,
                    "subject_kind": match req.subject { Subject::Pupil(_) => "pupil", Subject::Staff(_) => "staff" },
                    "reason": reason,
                }),
            ),
        };
        self.directory
            .audit_release(
                AuditEvent {
                    actor: &Actor::system("broker"),
                    action,
                    school_id: Some(req.school_id),
                    party_id: Some(req.party_id),
                    subject: Some(req.subject.id()),
                    details,
                },
                name,
                group_keys,
            )
            .await?;
        Ok(())
    }
}

/// The rules, in the order a user can act on them: an inactive account first (nothing else
/// matters), then consent, then licence, then home use.
pub(crate) fn judge(req: &ReleaseRequest<'_>, f: &Facts, today: &Date) -> Result<(), DenyReason> {
    let active = f.school.active
        && match &f.person {
            Person::Pupil { pupil: p, .. } => p.active,
            Person::Staff {
                staff,
                works_here,
                teaches,
                ..
            } => staff_may_act(staff.status, req.context) && (*works_here || *teaches),
        };
    if !active {
        return Err(DenyReason::AccountInactive);
    }
    if !f.consent {
        return Err(DenyReason::NoConsent);
    }
    let candidate = |l: &Licence| req.product_id.is_none_or(|p| p == l.product_id);
    let covering: Vec<&Licence> = f
        .licences
        .iter()
        .filter(|l| candidate(l) && covers(l, &f.person))
        .collect();
    // The publisher's own grants (LIKA) name the person and have no dates.
    let lika: Vec<&String> = f
        .lika
        .iter()
        .filter(|p| req.product_id.is_none_or(|id| id == p.as_str()))
        .collect();
    if covering.is_empty() && lika.is_empty() {
        return Err(DenyReason::NoLicence);
    }
    let valid: Vec<&Licence> = covering
        .iter()
        .copied()
        .filter(|l| l.valid_on(today))
        .collect();
    if valid.is_empty() && lika.is_empty() {
        let expired = covering
            .iter()
            .any(|l| l.valid_until.as_deref().is_some_and(|u| u < today.as_str()));
        return Err(if expired {
            DenyReason::LicenceExpired
        } else {
            DenyReason::NoLicence
        });
    }
    if req.context == Context::HomeCode {
        if !f.school.home_login_allowed {
            return Err(DenyReason::HomeLoginSwitchedOff);
        }
        let home_allowed = |id: &str| f.products.iter().any(|p| p.id == id && p.home_allowed);
        let home_product = valid.iter().any(|l| home_allowed(&l.product_id))
            || lika.iter().any(|id| home_allowed(id));
        if !home_product {
            return Err(DenyReason::NotAllowedAtHome);
        }
    }
    Ok(())
}

/// Whether a licence covers the person. Staff: any licence of the party at their school.
/// Pupils: a school-wide licence, or one naming their stamgroep, a combined group or them.
fn covers(l: &Licence, person: &Person) -> bool {
    match person {
        Person::Staff { .. } => true,
        Person::Pupil { pupil: p, .. } => {
            let named = |id: &str| matches!(&l.scope, LicenceScope::Members(m) if m.contains(&LicenceMember::Pupil(id.to_owned())));
            named(&p.id)
                || p.stamgroep_id
                    .iter()
                    .chain(&p.combined_group_ids)
                    .any(|g| covers_group(l, g))
                || matches!(l.scope, LicenceScope::School)
        }
    }
}

/// Whether a licence covers every pupil of a group: school-wide, or naming the group.
pub(crate) fn covers_group(l: &Licence, group_id: &str) -> bool {
    match &l.scope {
        LicenceScope::School => true,
        LicenceScope::Members(members) => members
            .iter()
            .any(|m| matches!(m, LicenceMember::Group(id) if id == group_id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_denial_says_who_can_fix_it_in_dutch_and_english() {
        let reasons = [
            DenyReason::AccountInactive,
            DenyReason::NoConsent,
            DenyReason::NoLicence,
            DenyReason::LicenceExpired,
            DenyReason::HomeLoginSwitchedOff,
            DenyReason::NotAllowedAtHome,
        ];
        for r in reasons {
            let e = r.explanation("Uitgeverij Noord");
            let who = ["ICT-coördinator", "leerkracht", "op school"];
            assert!(who.iter().any(|w| e.nl.contains(w)), "{r:?}: {}", e.nl);
            assert!(!e.en.is_empty() && e.nl != e.en);
        }
        assert!(
            DenyReason::NoConsent
                .explanation("Uitgeverij Noord")
                .nl
                .contains("Uitgeverij Noord")
        );
    }
}
