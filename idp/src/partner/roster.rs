//! What a school's roster looks like to a party, in Basispoort's shapes: shared by the
//! overview, `/groepen`, `/leerlingen` and `/staf`.
//!
//! What a party sees of a person follows its release policy, as at a login: the pairwise
//! number, the role and the keys of the groups always (the default set); the ECK-iD, names and
//! e-mail address only where the party's policy names them, `null` otherwise. A person's own
//! LAS key is no attribute of the catalogue and is never released (`lasKey: null`); groups keep
//! theirs, which is how pupils and staff are tied to them. Only active groups and pupils are
//! listed, and staff whose account is not deactivated.
//!
//! The answers are typed structs serialized straight into the response, not `Value` trees: a
//! 2,000-pupil list as `Value`s cost a map per pupil and per name, built and then walked. Their
//! fields are declared in the order serde_json writes a map's keys (byte order), so the bytes
//! are those the `Value` answers had.

use std::collections::{BTreeSet, HashMap};

use axum::Json;
use axum::response::{IntoResponse, Response};
use broker::Attribute;
use directory::model::{Date, StaffRole};
use directory::partner::ConsentedSchool;
use directory::people::{Group, GroupKind, Pupil, StaffStatus};
use directory::staff_admin::SchoolStaffMember;
use serde::Serialize;
use serde_json::Value;

use super::{AtSchool, Partner, PartnerError, meta_result};
use crate::app_state::AppState;
use crate::clock::unix_now;

impl AtSchool {
    /// A call on the school's roster, loaded with what it lists: `answer` makes the answer of
    /// it, and the call is audited once the answer is made.
    pub async fn roster_call(
        &self,
        state: &AppState,
        call: &str,
        lists: Lists,
        answer: impl FnOnce(&Roster) -> Result<Response, PartnerError>,
    ) -> Result<Response, PartnerError> {
        let roster = Roster::load(state, &self.partner, &self.consented, lists).await?;
        let answer = answer(&roster)?;
        self.partner
            .audit(state, call, Some(&roster.school_id))
            .await?;
        Ok(answer)
    }
}

/// What a roster call lists besides the groups, which every answer needs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Lists {
    Groups,
    Pupils,
    Staff,
    Everyone,
}

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
        lists: Lists,
    ) -> Result<Roster, PartnerError> {
        let with_pupils = matches!(lists, Lists::Pupils | Lists::Everyone);
        let with_staff = matches!(lists, Lists::Staff | Lists::Everyone);
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

    /// (`groepen`, `subgroepen`): stamgroepen and combined groups.
    pub fn groups(&self) -> (Vec<GroupOut<'_>>, Vec<GroupOut<'_>>) {
        let of = |kind: GroupKind| -> Vec<GroupOut<'_>> {
            self.groups
                .iter()
                .filter(|g| g.kind == kind)
                .map(|g| GroupOut {
                    jaargroep: g.jaargroep.as_deref(),
                    las_key: &g.las_key,
                    naam: &g.name,
                    omschrijving: (),
                })
                .collect()
        };
        (of(GroupKind::Stamgroep), of(GroupKind::Samengesteld))
    }

    fn key_of<'a>(&'a self, by_id: &HashMap<&str, &'a Group>, id: &str) -> Option<&'a str> {
        by_id.get(id).map(|g| g.las_key.as_str())
    }

    fn names<'a>(
        &self,
        achternaam: &'a str,
        voorvoegsel: Option<&'a str>,
        voornamen: Option<&'a str>,
        roepnaam: Option<&'a str>,
    ) -> Names<'a> {
        let given = self.allows(Attribute::GivenName);
        let initials = || {
            voornamen.map(|v| {
                v.split_whitespace()
                    .filter_map(|n| n.chars().next())
                    .map(|c| format!("{c}."))
                    .collect::<String>()
            })
        };
        Names {
            achternaam: self.allows(Attribute::FamilyName).then_some(achternaam),
            voorletters: if given { initials() } else { None },
            voornaam: if given { roepnaam.or(voornamen) } else { None },
            voorvoegsel: if self.allows(Attribute::Tussenvoegsels) {
                voorvoegsel
            } else {
                None
            },
        }
    }

    /// The pupils, each with the party's number for them.
    pub fn pupils(
        &self,
        state: &AppState,
        partner: &Partner,
        keep: impl Fn(i64, &Pupil) -> bool,
    ) -> Result<Vec<PupilOut<'_>>, PartnerError> {
        let by_id: HashMap<&str, &Group> = self.groups.iter().map(|g| (g.id.as_str(), g)).collect();
        let eck_id = self.allows(Attribute::EckId);
        let mut out = Vec::with_capacity(self.pupils.len());
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
            out.push(PupilOut {
                eckid: if eck_id { p.eck_id.as_deref() } else { None },
                groep: stamgroep,
                id: number,
                jaargroep: &p.jaargroep,
                las_key: (),
                persoonsgegevens: self.names(
                    &p.achternaam,
                    p.voorvoegsel.as_deref(),
                    p.voornamen.as_deref(),
                    p.roepnaam.as_deref(),
                ),
                subgroepen: combined,
            });
        }
        Ok(out)
    }

    /// `leerlingen` with its `metaResult`, of the pupils `keep` keeps.
    pub fn pupils_answer(
        &self,
        state: &AppState,
        partner: &Partner,
        keep: impl Fn(i64, &Pupil) -> bool,
    ) -> Result<Response, PartnerError> {
        let answer = PupilsAnswer {
            leerlingen: self.pupils(state, partner, keep)?,
            meta_result: self.meta(),
        };
        Ok(Json(answer).into_response())
    }

    /// `groepen` and `subgroepen` with their `metaResult`.
    pub fn groups_answer(&self) -> Result<Response, PartnerError> {
        let (groups, combined) = self.groups();
        let answer = GroupsAnswer {
            groepen: groups,
            meta_result: self.meta(),
            subgroepen: combined,
        };
        Ok(Json(answer).into_response())
    }

    /// `medewerkers` with its `metaResult`.
    pub fn staff_answer(
        &self,
        state: &AppState,
        partner: &Partner,
    ) -> Result<Response, PartnerError> {
        let answer = StaffAnswer {
            medewerkers: self.staff(state, partner)?,
            meta_result: self.meta(),
        };
        Ok(Json(answer).into_response())
    }

    /// The staff, each with the party's number for them.
    pub fn staff(
        &self,
        state: &AppState,
        partner: &Partner,
    ) -> Result<Vec<StaffOut<'_>>, PartnerError> {
        let mut out = Vec::with_capacity(self.staff.len());
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
            out.push(StaffOut {
                eckid: if self.allows(Attribute::EckId) {
                    s.eck_id.as_deref()
                } else {
                    None
                },
                einddatum: end,
                emailadres: if self.allows(Attribute::Email) {
                    s.email.as_deref()
                } else {
                    None
                },
                groepen: of(GroupKind::Stamgroep),
                id: partner.number(state, "staff", &s.id)?,
                las_key: (),
                persoonsgegevens: self.names(
                    &s.achternaam,
                    s.voorvoegsel.as_deref(),
                    s.voornamen.as_deref(),
                    s.roepnaam.as_deref(),
                ),
                rollen: roles,
                subgroepen: of(GroupKind::Samengesteld),
            });
        }
        Ok(out)
    }
}

/// `groepen` and `subgroepen` with their `metaResult`: the answer of `/groepen`.
#[derive(Serialize)]
struct GroupsAnswer<'a> {
    groepen: Vec<GroupOut<'a>>,
    #[serde(rename = "metaResult")]
    meta_result: Value,
    subgroepen: Vec<GroupOut<'a>>,
}

/// `medewerkers` with its `metaResult`: the answer of `/staf`.
#[derive(Serialize)]
struct StaffAnswer<'a> {
    medewerkers: Vec<StaffOut<'a>>,
    #[serde(rename = "metaResult")]
    meta_result: Value,
}

/// `leerlingen` with its `metaResult`: the answer of the paths that list pupils.
#[derive(Serialize)]
pub struct PupilsAnswer<'a> {
    pub leerlingen: Vec<PupilOut<'a>>,
    #[serde(rename = "metaResult")]
    pub meta_result: Value,
}

/// A group as a party sees it. Fields in serde_json's key order (see the top of this file).
#[derive(Serialize)]
pub struct GroupOut<'a> {
    jaargroep: Option<&'a str>,
    #[serde(rename = "lasKey")]
    las_key: &'a str,
    naam: &'a str,
    /// Not kept by openpoort: always `null`.
    omschrijving: (),
}

/// A person's names, each `null` unless the party's policy releases it.
#[derive(Serialize)]
pub struct Names<'a> {
    achternaam: Option<&'a str>,
    voorletters: Option<String>,
    voornaam: Option<&'a str>,
    voorvoegsel: Option<&'a str>,
}

/// A pupil as a party sees it.
#[derive(Serialize)]
pub struct PupilOut<'a> {
    eckid: Option<&'a str>,
    groep: Option<&'a str>,
    id: i64,
    jaargroep: &'a str,
    /// A person's own LAS key is never released: always `null`.
    #[serde(rename = "lasKey")]
    las_key: (),
    persoonsgegevens: Names<'a>,
    subgroepen: Vec<&'a str>,
}

/// A staff member as a party sees them.
#[derive(Serialize)]
pub struct StaffOut<'a> {
    eckid: Option<&'a str>,
    einddatum: Option<String>,
    emailadres: Option<&'a str>,
    groepen: Vec<&'a str>,
    id: i64,
    /// Never released: always `null`.
    #[serde(rename = "lasKey")]
    las_key: (),
    persoonsgegevens: Names<'a>,
    rollen: Vec<&'static str>,
    subgroepen: Vec<&'a str>,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What serde_json writes for `answer` as a `Value` (its maps sort keys by bytes): what
    /// the answers were before they were typed.
    fn as_value_tree(answer: &impl Serialize) -> String {
        serde_json::to_string(&serde_json::to_value(answer).unwrap()).unwrap()
    }

    #[test]
    fn typed_answers_are_byte_for_byte_what_value_answers_were() {
        let names = || Names {
            achternaam: Some("Jansen"),
            voorletters: Some("A.B.".into()),
            voornaam: Some("Anna"),
            voorvoegsel: None,
        };
        let group = GroupOut {
            jaargroep: Some("5"),
            las_key: "g5",
            naam: "Groep 5",
            omschrijving: (),
        };
        let pupil = PupilOut {
            eckid: Some("https://ketenid.nl/201703/x"),
            groep: Some("g5"),
            id: 42,
            jaargroep: "5",
            las_key: (),
            persoonsgegevens: names(),
            subgroepen: vec!["plus"],
        };
        let staff = StaffOut {
            eckid: None,
            einddatum: Some("2027-07-31".into()),
            emailadres: Some("anna@school.example"),
            groepen: vec!["g5"],
            id: 7,
            las_key: (),
            persoonsgegevens: names(),
            rollen: vec!["Leerkracht"],
            subgroepen: vec![],
        };
        let s = serde_json::to_string(&group).unwrap();
        assert_eq!(s, as_value_tree(&group));
        let s = serde_json::to_string(&staff).unwrap();
        assert_eq!(s, as_value_tree(&staff));
        let answer = PupilsAnswer {
            leerlingen: vec![pupil],
            meta_result: meta_result(0),
        };
        let s = serde_json::to_string(&answer).unwrap();
        assert_eq!(s, as_value_tree(&answer));
        assert!(s.contains(r#""lasKey":null"#), "{s}");
    }
}
