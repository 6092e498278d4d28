//! What a school's roster looks like to a party, in Basispoort's shapes: shared by the
//! overview, `/groepen`, `/leerlingen` and `/staf`.
//!
//! What a party sees of a person follows its release policy, as at a login: the pairwise
//! number, the role and the keys of the groups always (the default set); the ECK-iD, names and
//! e-mail address only where the party's policy names them, `null` otherwise. A person's own
//! LAS key is no attribute of the catalogue and is never released (`lasKey: null`); groups keep
//! theirs, which is how pupils and staff are tied to them. Only active groups and pupils are
//! listed, and staff whose account is not deactivated.

use std::collections::{BTreeSet, HashMap};

use broker::Attribute;
use directory::model::{Date, StaffRole};
use directory::partner::ConsentedSchool;
use directory::people::{Group, GroupKind, Pupil, StaffStatus};
use directory::staff_admin::SchoolStaffMember;
use serde_json::{Value, json};

use super::{Partner, PartnerError, meta_result};
use crate::app_state::AppState;
use crate::clock::unix_now;

pub struct Roster {
    pub school_id: String,
    groups: Vec<Group>,
    pupils: Vec<Pupil>,
    staff: Vec<SchoolStaffMember>,
    policy: BTreeSet<Attribute>,
    changed_at: i64,
    today: Date,
}

impl Roster {
    pub async fn load(
        state: &AppState,
        partner: &Partner,
        school: &ConsentedSchool,
        with_pupils: bool,
        with_staff: bool,
    ) -> Result<Roster, PartnerError> {
        let d = &state.directory;
        let id = &school.school.id;
        let extra = d.release_attributes_of(&partner.party.id).await?;
        Ok(Roster {
            school_id: id.clone(),
            groups: d
                .groups_of_school(id)
                .await?
                .into_iter()
                .filter(|g| g.active)
                .collect(),
            pupils: if with_pupils {
                d.pupils_of_school(id)
                    .await?
                    .into_iter()
                    .filter(|p| p.active)
                    .collect()
            } else {
                Vec::new()
            },
            staff: if with_staff {
                d.staff_of_school(id)
                    .await?
                    .into_iter()
                    .filter(|m| m.staff.status != StaffStatus::Deactivated)
                    .collect()
            } else {
                Vec::new()
            },
            policy: Attribute::policy(&extra),
            changed_at: d.roster_changed_at(id).await?,
            today: Date::in_netherlands(unix_now()),
        })
    }

    pub fn meta(&self) -> Value {
        meta_result(self.changed_at)
    }

    /// Whether the party's release policy includes `a`.
    pub fn allows(&self, a: Attribute) -> bool {
        self.policy.contains(&a)
    }

    fn group_json(g: &Group) -> Value {
        json!({
            "lasKey": g.las_key,
            "naam": g.name,
            "jaargroep": g.jaargroep,
            "omschrijving": null,
        })
    }

    /// (`groepen`, `subgroepen`): stamgroepen and combined groups.
    pub fn groups(&self) -> (Vec<Value>, Vec<Value>) {
        let of = |kind: GroupKind| -> Vec<Value> {
            self.groups
                .iter()
                .filter(|g| g.kind == kind)
                .map(Self::group_json)
                .collect()
        };
        (of(GroupKind::Stamgroep), of(GroupKind::Samengesteld))
    }

    fn key_of<'a>(&'a self, by_id: &HashMap<&str, &'a Group>, id: &str) -> Option<&'a str> {
        by_id.get(id).map(|g| g.las_key.as_str())
    }

    fn names(
        &self,
        achternaam: &str,
        voorvoegsel: Option<&str>,
        voornamen: Option<&str>,
        roepnaam: Option<&str>,
    ) -> Value {
        let given = self.allows(Attribute::GivenName);
        let initials = voornamen.map(|v| {
            v.split_whitespace()
                .filter_map(|n| n.chars().next())
                .map(|c| format!("{c}."))
                .collect::<String>()
        });
        json!({
            "achternaam": self.allows(Attribute::FamilyName).then_some(achternaam),
            "voornaam": if given { roepnaam.or(voornamen) } else { None },
            "voorvoegsel": if self.allows(Attribute::Tussenvoegsels) { voorvoegsel } else { None },
            "voorletters": if given { initials } else { None },
        })
    }

    /// The pupils, each with the party's number for them.
    pub fn pupils(
        &self,
        state: &AppState,
        partner: &Partner,
        keep: impl Fn(i64, &Pupil) -> bool,
    ) -> Result<Vec<Value>, PartnerError> {
        let by_id: HashMap<&str, &Group> = self.groups.iter().map(|g| (g.id.as_str(), g)).collect();
        let mut out = Vec::new();
        for p in &self.pupils {
            let number = partner.number(state, "pupil", &p.id)?;
            if !keep(number, p) {
                continue;
            }
            let stamgroep = p
                .stamgroep_id
                .as_deref()
                .and_then(|id| self.key_of(&by_id, id));
            let combined: Vec<&str> = p
                .combined_group_ids
                .iter()
                .filter_map(|id| self.key_of(&by_id, id))
                .collect();
            out.push(json!({
                "id": number,
                "eckid": if self.allows(Attribute::EckId) { p.eck_id.as_deref() } else { None },
                "lasKey": null,
                "persoonsgegevens": self.names(&p.achternaam, p.voorvoegsel.as_deref(), p.voornamen.as_deref(), p.roepnaam.as_deref()),
                "jaargroep": p.jaargroep,
                "groep": stamgroep,
                "subgroepen": combined,
            }));
        }
        Ok(out)
    }

    /// The staff, each with the party's number for them.
    pub fn staff(&self, state: &AppState, partner: &Partner) -> Result<Vec<Value>, PartnerError> {
        let mut out = Vec::new();
        for m in &self.staff {
            let s = &m.staff;
            let links: Vec<_> = m
                .groups
                .iter()
                .filter(|l| l.holds_on(&self.today) && l.group.active)
                .collect();
            let of = |kind: GroupKind| -> Vec<&str> {
                links
                    .iter()
                    .filter(|l| l.group.kind == kind)
                    .map(|l| l.group.las_key.as_str())
                    .collect()
            };
            // The day a temporary link ends, when every link the person has here ends.
            let end = if !links.is_empty() && links.iter().all(|l| l.valid_until.is_some()) {
                links.iter().filter_map(|l| l.valid_until.clone()).max()
            } else {
                None
            };
            let mut roles: Vec<&str> = m.roles.iter().map(|r| role(*r)).collect();
            roles.dedup();
            out.push(json!({
                "id": partner.number(state, "staff", &s.id)?,
                "eckid": if self.allows(Attribute::EckId) { s.eck_id.as_deref() } else { None },
                "lasKey": null,
                "persoonsgegevens": self.names(&s.achternaam, s.voorvoegsel.as_deref(), s.voornamen.as_deref(), s.roepnaam.as_deref()),
                "emailadres": if self.allows(Attribute::Email) { s.email.as_deref() } else { None },
                "einddatum": end,
                "rollen": roles,
                "groepen": of(GroupKind::Stamgroep),
                "subgroepen": of(GroupKind::Samengesteld),
            }));
        }
        Ok(out)
    }
}

/// Basispoort's role names. IB and RT are one role there.
fn role(r: StaffRole) -> &'static str {
    match r {
        StaffRole::Leerkracht => "Leerkracht",
        StaffRole::IctCoordinator => "ICTCoordinator",
        StaffRole::Ib | StaffRole::Rt => "IBRTer",
        StaffRole::Stagiaire => "Stagiair",
        StaffRole::Invalkracht => "Inval",
    }
}
