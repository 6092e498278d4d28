//! The release decision, rule by rule, on SQLite and on PostgreSQL.

use broker::{Attribute, Broker, Context, Decision, DenyReason, ReleaseRequest, Subject, Value};
use certs::Kek;
use directory::model::*;
use directory::parties::{LicenceMember, LicenceScope, NewLicence, NewProduct};
use directory::people::{GroupKind, NewGroup, NewPupil, NewStaff, StaffStatus};
use directory::schools::NewSchool;
use directory::{Actor, Directory, on_both_backends};

/// 2027-01-15 12:00 UTC: inside the school year 2026-2027.
fn now() -> i64 {
    days_from_civil(2027, 1, 15) * 86_400 + 12 * 3_600
}

fn op() -> Actor {
    Actor::operator_cli()
}

/// One school with a class, a combined group, pupils, a teacher, a board-level administrator
/// and a publisher with a home product and a school-only product.
struct World {
    d: Directory,
    broker: Broker,
    kek: Kek,
    school: String,
    g5: String,
    plus: String,
    g8: String,
    /// In g5.
    anna: String,
    /// In g5 and the combined group.
    bram: String,
    /// In g8.
    cas: String,
    teacher: String,
    admin_only: String,
    publisher: String,
    home_product: String,
    school_product: String,
    other_publisher: String,
}

async fn school(d: &Directory, brin: &str) -> String {
    let nummer = Bestuursnummer::parse("41234").unwrap();
    if d.board_by_nummer(&nummer).await.unwrap().is_none() {
        d.create_board(&nummer, "Stichting", &op()).await.unwrap();
    }
    d.create_school(
        &NewSchool {
            bestuursnummer: nummer,
            brin: Brin::parse(brin).unwrap(),
            vestigingscode: Vestigingscode::parse("00").unwrap(),
            name: format!("School {brin}"),
        },
        &op(),
    )
    .await
    .unwrap()
    .id
}

async fn group(d: &Directory, school: &str, key: &str, jaargroep: Option<&str>) -> String {
    d.create_group(
        school,
        &NewGroup {
            las_key: LasKey::parse(key).unwrap(),
            name: format!("Groep {key}"),
            kind: if jaargroep.is_some() {
                GroupKind::Stamgroep
            } else {
                GroupKind::Samengesteld
            },
            jaargroep: jaargroep.map(|j| Jaargroep::parse(j).unwrap()),
        },
        &op(),
    )
    .await
    .unwrap()
    .id
}

async fn pupil(
    d: &Directory,
    school: &str,
    key: &str,
    stamgroep: &str,
    combined: &[&str],
) -> String {
    d.create_pupil(
        school,
        &NewPupil {
            las_key: LasKey::parse(key).unwrap(),
            achternaam: "Visser".into(),
            voorvoegsel: Some("de".into()),
            voornamen: Some("Anna Maria".into()),
            roepnaam: Some(format!("Roep{key}")),
            jaargroep: Jaargroep::parse("5").unwrap(),
            stamgroep: Some(LasKey::parse(stamgroep).unwrap()),
            combined_groups: combined.iter().map(|k| LasKey::parse(k).unwrap()).collect(),
            eck_id: Some(
                EckId::parse(&format!("https://ketenid.nl/201703/{key}-{school}")).unwrap(),
            ),
        },
        &op(),
    )
    .await
    .unwrap()
    .id
}

async fn staff(d: &Directory, email: &str) -> String {
    let s = d
        .create_staff(
            &NewStaff {
                email: Some(Email::parse(email).unwrap()),
                achternaam: "Jansen".into(),
                voorvoegsel: None,
                voornamen: Some("Bram".into()),
                roepnaam: Some("Bram".into()),
                eck_id: None,
            },
            &op(),
        )
        .await
        .unwrap();
    d.set_staff_status(&s.id, StaffStatus::Active, &op())
        .await
        .unwrap();
    s.id
}

async fn product(d: &Directory, party: &str, code: &str, home: bool) -> String {
    d.create_product(
        party,
        &NewProduct {
            code: code.into(),
            methode: "Methode".into(),
            name: format!("Product {code}"),
            launch_url: WebUrl::parse("launch_url", "https://uitgever.example/start").unwrap(),
            icon_url: None,
            home_allowed: home,
        },
        &op(),
    )
    .await
    .unwrap()
    .id
}

async fn world(d: Directory) -> World {
    let kek = Kek::generate();
    let s = school(&d, "11AA").await;
    let g5 = group(&d, &s, "g5", Some("5")).await;
    let plus = group(&d, &s, "plus", None).await;
    let g8 = group(&d, &s, "g8", Some("8")).await;
    let anna = pupil(&d, &s, "L1", "g5", &[]).await;
    let bram = pupil(&d, &s, "L2", "g5", &["plus"]).await;
    let cas = pupil(&d, &s, "L3", "g8", &[]).await;
    let teacher = staff(&d, "juf@school.nl").await;
    d.add_staff_to_school(&teacher, &s, Some(&LasKey::parse("T1").unwrap()), &op())
        .await
        .unwrap();
    d.grant_role(&teacher, &s, StaffRole::Leerkracht, &op())
        .await
        .unwrap();
    d.assign_staff_group(&teacher, &g5, &op()).await.unwrap();
    let admin_only = staff(&d, "ict@bestuur.nl").await;
    d.grant_role(&admin_only, &s, StaffRole::IctCoordinator, &op())
        .await
        .unwrap();
    let publisher = d
        .create_party("uitgever", PartyKind::Publisher, "Uitgeverij Noord", &op())
        .await
        .unwrap()
        .id;
    let home_product = product(&d, &publisher, "thuis", true).await;
    let school_product = product(&d, &publisher, "school", false).await;
    let other_publisher = d
        .create_party("ander", PartyKind::Publisher, "Uitgeverij Zuid", &op())
        .await
        .unwrap()
        .id;
    let broker = Broker::new(d.clone(), &d, &kek, now()).await.unwrap();
    World {
        d,
        broker,
        kek,
        school: s,
        g5,
        plus,
        g8,
        anna,
        bram,
        cas,
        teacher,
        admin_only,
        publisher,
        home_product,
        school_product,
        other_publisher,
    }
}

impl World {
    async fn consent(&self) {
        self.d
            .grant_consent(&self.school, &self.publisher, &Actor::staff("ict"))
            .await
            .unwrap();
    }

    async fn licence(&self, product: &str, scope: LicenceScope, from: &str, until: Option<&str>) {
        self.d
            .create_licence(
                &NewLicence {
                    school_id: self.school.clone(),
                    product_id: product.into(),
                    scope,
                    valid_from: Date::parse("van", from).unwrap(),
                    valid_until: until.map(|u| Date::parse("tot", u).unwrap()),
                },
                &op(),
            )
            .await
            .unwrap();
    }

    async fn school_wide(&self, product: &str) {
        self.licence(
            product,
            LicenceScope::School,
            "2026-08-01",
            Some("2027-07-31"),
        )
        .await;
    }

    async fn decide_at(
        &self,
        subject: Subject,
        product: Option<&str>,
        context: Context,
        at: i64,
    ) -> Decision {
        self.broker
            .decide(
                &ReleaseRequest {
                    network: None,
                    subject,
                    school_id: &self.school,
                    party_id: &self.publisher,
                    product_id: product,
                    requested: None,
                    context,
                    sector: None,
                },
                at,
            )
            .await
            .unwrap()
    }

    async fn pupil_at_school(&self, pupil: &str) -> Decision {
        self.decide_at(
            Subject::Pupil(pupil.into()),
            None,
            Context::SchoolNetwork,
            now(),
        )
        .await
    }
}

fn denied(d: &Decision) -> Option<DenyReason> {
    match d {
        Decision::Deny(r) => Some(*r),
        Decision::Allow(_) => None,
    }
}

fn released(d: Decision) -> broker::Release {
    match d {
        Decision::Allow(r) => r,
        Decision::Deny(r) => panic!("expected a release, got a denial: {r:?}"),
    }
}

on_both_backends! {
    async fn nothing_is_released_without_the_schools_consent(d: Directory) {
        let w = world(d).await;
        w.school_wide(&w.home_product).await;
        assert_eq!(denied(&w.pupil_at_school(&w.anna).await), Some(DenyReason::NoConsent));
        w.consent().await;
        assert_eq!(denied(&w.pupil_at_school(&w.anna).await), None);
    }
}

on_both_backends! {
    async fn pupil_is_covered_through_stamgroep_combined_group_or_personally(d: Directory) {
        let w = world(d).await;
        w.consent().await;
        w.licence(&w.home_product, LicenceScope::Members(vec![LicenceMember::Group(w.g5.clone())]), "2026-08-01", None).await;
        assert_eq!(denied(&w.pupil_at_school(&w.anna).await), None, "stamgroep g5");
        assert_eq!(denied(&w.pupil_at_school(&w.cas).await), Some(DenyReason::NoLicence), "g8 is not licensed");

        w.licence(&w.school_product, LicenceScope::Members(vec![LicenceMember::Group(w.plus.clone())]), "2026-08-01", None).await;
        let via_combined = w.decide_at(Subject::Pupil(w.bram.clone()), Some(&w.school_product), Context::SchoolNetwork, now()).await;
        assert_eq!(denied(&via_combined), None, "combined group");
        let not_in_combined = w.decide_at(Subject::Pupil(w.anna.clone()), Some(&w.school_product), Context::SchoolNetwork, now()).await;
        assert_eq!(denied(&not_in_combined), Some(DenyReason::NoLicence));

        w.licence(&w.school_product, LicenceScope::Members(vec![LicenceMember::Pupil(w.cas.clone())]), "2026-08-01", None).await;
        let personal = w.decide_at(Subject::Pupil(w.cas.clone()), Some(&w.school_product), Context::SchoolNetwork, now()).await;
        assert_eq!(denied(&personal), None, "personal licence");
    }
}

on_both_backends! {
    async fn staff_are_covered_by_any_licence_of_the_party_at_their_school(d: Directory) {
        let w = world(d).await;
        w.consent().await;
        // A licence for group 8 only: the teacher (of group 5) still works with the method.
        w.licence(&w.home_product, LicenceScope::Members(vec![LicenceMember::Group(w.g8.clone())]), "2026-08-01", None).await;
        let d = w.decide_at(Subject::Staff(w.teacher.clone()), None, Context::Password, now()).await;
        let r = released(d);
        assert_eq!(r.get(Attribute::Affiliation), Some(&Value::Many(vec!["employee".into(), "faculty".into()])));
        assert_eq!(r.get(Attribute::Groups), Some(&Value::Many(vec!["g5".into()])));
        assert_eq!(r.get(Attribute::Jaargroep), None);
    }
}

on_both_backends! {
    async fn administrator_role_alone_grants_nothing(d: Directory) {
        let w = world(d).await;
        w.consent().await;
        w.school_wide(&w.home_product).await;
        let d = w.decide_at(Subject::Staff(w.admin_only.clone()), None, Context::Password, now()).await;
        assert_eq!(denied(&d), Some(DenyReason::AccountInactive));
    }
}

on_both_backends! {
    async fn expired_licence_is_named_as_expired_and_a_future_one_as_missing(d: Directory) {
        let w = world(d).await;
        w.consent().await;
        w.licence(&w.home_product, LicenceScope::School, "2025-08-01", Some("2026-07-31")).await;
        assert_eq!(denied(&w.pupil_at_school(&w.anna).await), Some(DenyReason::LicenceExpired));
        w.licence(&w.school_product, LicenceScope::School, "2027-08-01", None).await;
        let future = w.decide_at(Subject::Pupil(w.anna.clone()), Some(&w.school_product), Context::SchoolNetwork, now()).await;
        assert_eq!(denied(&future), Some(DenyReason::NoLicence));
    }
}

on_both_backends! {
    async fn licence_expiry_counts_at_the_next_decision_on_the_dutch_calendar(d: Directory) {
        let w = world(d).await;
        w.consent().await;
        w.licence(&w.home_product, LicenceScope::School, "2026-08-01", Some("2027-07-31")).await;
        // 31 July 2027, 21:30 UTC = 23:30 in Amsterdam: still valid.
        let last_evening = days_from_civil(2027, 7, 31) * 86_400 + 21 * 3_600 + 1_800;
        // One hour later it is 1 August in Amsterdam, though still 31 July in UTC.
        let after_midnight = last_evening + 3_600;
        let s = Subject::Pupil(w.anna.clone());
        assert_eq!(denied(&w.decide_at(s.clone(), None, Context::SchoolNetwork, last_evening).await), None);
        assert_eq!(denied(&w.decide_at(s, None, Context::SchoolNetwork, after_midnight).await), Some(DenyReason::LicenceExpired));
    }
}

on_both_backends! {
    async fn consent_revocation_counts_at_the_very_next_decision(d: Directory) {
        let w = world(d).await;
        w.consent().await;
        w.school_wide(&w.home_product).await;
        assert_eq!(denied(&w.pupil_at_school(&w.anna).await), None);
        w.d.revoke_consent(&w.school, &w.publisher, &Actor::staff("ict")).await.unwrap();
        assert_eq!(denied(&w.pupil_at_school(&w.anna).await), Some(DenyReason::NoConsent));
    }
}

on_both_backends! {
    async fn at_home_only_home_allowed_products_are_released(d: Directory) {
        let w = world(d).await;
        w.consent().await;
        w.school_wide(&w.home_product).await;
        w.school_wide(&w.school_product).await;
        let anna = || Subject::Pupil(w.anna.clone());
        assert_eq!(denied(&w.decide_at(anna(), Some(&w.home_product), Context::HomeCode, now()).await), None);
        assert_eq!(denied(&w.decide_at(anna(), Some(&w.school_product), Context::HomeCode, now()).await), Some(DenyReason::NotAllowedAtHome));
        assert_eq!(denied(&w.decide_at(anna(), Some(&w.school_product), Context::SchoolNetwork, now()).await), None);

        w.d.set_home_login_allowed(&w.school, false, &op()).await.unwrap();
        assert_eq!(denied(&w.decide_at(anna(), Some(&w.home_product), Context::HomeCode, now()).await), Some(DenyReason::HomeLoginSwitchedOff));
        assert_eq!(denied(&w.decide_at(anna(), Some(&w.home_product), Context::SchoolNetwork, now()).await), None);
    }
}

on_both_backends! {
    async fn inactive_accounts_are_denied(d: Directory) {
        let w = world(d).await;
        w.consent().await;
        w.school_wide(&w.home_product).await;
        w.d.set_pupil_active(&w.anna, false, &op()).await.unwrap();
        assert_eq!(denied(&w.pupil_at_school(&w.anna).await), Some(DenyReason::AccountInactive));
        w.d.set_staff_status(&w.teacher, StaffStatus::Inactive, &op()).await.unwrap();
        let d = w.decide_at(Subject::Staff(w.teacher.clone()), None, Context::Password, now()).await;
        assert_eq!(denied(&d), Some(DenyReason::AccountInactive));
    }
}

on_both_backends! {
    async fn a_party_that_school_a_consented_to_receives_nothing_about_school_b(d: Directory) {
        let w = world(d).await;
        w.consent().await;
        w.school_wide(&w.home_product).await;
        let other = school(&w.d, "22BB").await;
        group(&w.d, &other, "g5", Some("5")).await;
        let stranger = pupil(&w.d, &other, "L1", "g5", &[]).await;

        // Asked as a pupil of school A: not known there.
        let as_a = w.decide_at(Subject::Pupil(stranger.clone()), None, Context::SchoolNetwork, now()).await;
        assert_eq!(denied(&as_a), Some(DenyReason::AccountInactive));
        // Asked for school B, which consented to nobody and licensed nothing.
        let as_b = w.broker.decide(&ReleaseRequest {
            network: None,
            subject: Subject::Pupil(stranger), school_id: &other, party_id: &w.publisher,
            product_id: None, requested: None, context: Context::SchoolNetwork, sector: None,
        }, now()).await.unwrap();
        assert_eq!(denied(&as_b), Some(DenyReason::NoConsent));
    }
}

on_both_backends! {
    async fn default_release_is_minimal_and_extras_need_the_partys_policy(d: Directory) {
        let w = world(d).await;
        w.consent().await;
        w.school_wide(&w.home_product).await;
        let r = released(w.pupil_at_school(&w.bram).await);
        let names: Vec<_> = r.claims.iter().map(|(a, _)| *a).collect();
        assert_eq!(names, Attribute::DEFAULT.to_vec());
        assert_eq!(r.get(Attribute::HomeOrganization), Some(&Value::One("11AA".into())));
        assert_eq!(r.get(Attribute::HomeOrganizationBranch), Some(&Value::One("00".into())));
        assert_eq!(r.get(Attribute::Groups), Some(&Value::Many(vec!["g5".into(), "plus".into()])));
        assert_eq!(r.get(Attribute::Jaargroep), Some(&Value::One("5".into())));
        assert_eq!(r.get(Attribute::Affiliation), Some(&Value::Many(vec!["student".into()])));

        w.d.allow_release_attribute(&w.publisher, "given_name", &op()).await.unwrap();
        w.d.allow_release_attribute(&w.publisher, "eck_id", &op()).await.unwrap();
        w.d.allow_release_attribute(&w.publisher, "email", &op()).await.unwrap();
        let r = released(w.pupil_at_school(&w.bram).await);
        assert_eq!(r.get(Attribute::GivenName), Some(&Value::One("RoepL2".into())));
        assert!(r.get(Attribute::EckId).is_some());
        assert_eq!(r.get(Attribute::FamilyName), None, "not in the policy");
        assert_eq!(r.get(Attribute::Email), None, "pupils have no e-mail to release");
    }
}

on_both_backends! {
    async fn requested_attributes_narrow_the_release_but_never_drop_the_subject(d: Directory) {
        let w = world(d).await;
        w.consent().await;
        w.school_wide(&w.home_product).await;
        w.d.allow_release_attribute(&w.publisher, "given_name", &op()).await.unwrap();
        let requested = [Attribute::HomeOrganization, Attribute::FamilyName];
        let r = released(w.broker.decide(&ReleaseRequest {
            network: None,
            subject: Subject::Pupil(w.anna.clone()), school_id: &w.school, party_id: &w.publisher,
            product_id: None, requested: Some(&requested), context: Context::SchoolNetwork, sector: None,
        }, now()).await.unwrap());
        let names: Vec<_> = r.claims.iter().map(|(a, _)| *a).collect();
        // FamilyName was requested but is not in the policy; GivenName is in the policy but was
        // not requested.
        assert_eq!(names, vec![Attribute::Subject, Attribute::HomeOrganization]);
    }
}

on_both_backends! {
    async fn pairwise_identifiers_differ_across_parties_and_stay_stable(d: Directory) {
        let w = world(d).await;
        w.consent().await;
        w.school_wide(&w.home_product).await;
        let first = released(w.pupil_at_school(&w.anna).await).subject().to_owned();
        assert_eq!(first.len(), 43);
        assert!(!first.contains(&w.anna), "the internal id must not show through");

        // Another node (a fresh broker over the same register and KEK) computes the same.
        let again = Broker::new(w.d.clone(), &w.d, &w.kek, now() + 1).await.unwrap();
        assert_eq!(again.pseudonym(&w.publisher, &w.anna).unwrap(), first);
        // Leaving and re-appearing (as an import does) keeps it.
        w.d.set_pupil_active(&w.anna, false, &op()).await.unwrap();
        w.d.set_pupil_active(&w.anna, true, &op()).await.unwrap();
        assert_eq!(released(w.pupil_at_school(&w.anna).await).subject(), first);

        // Another party sees another identifier; another pupil too.
        assert_ne!(w.broker.pseudonym(&w.other_publisher, &w.anna).unwrap(), first);
        assert_ne!(w.broker.pseudonym(&w.publisher, &w.bram).unwrap(), first);
        // Parties sharing a sector share identifiers (one publisher, several clients).
        let shared = w.broker.decide(&ReleaseRequest {
            network: None,
            subject: Subject::Pupil(w.anna.clone()), school_id: &w.school, party_id: &w.publisher,
            product_id: None, requested: None, context: Context::SchoolNetwork, sector: Some("https://uitgever.example"),
        }, now()).await.unwrap();
        assert_eq!(released(shared).subject(), w.broker.pseudonym("https://uitgever.example", &w.anna).unwrap());
    }
}

on_both_backends! {
    async fn every_allow_and_every_deny_is_audited(d: Directory) {
        let w = world(d).await;
        w.school_wide(&w.home_product).await;
        w.pupil_at_school(&w.anna).await; // denied: no consent
        w.consent().await;
        w.pupil_at_school(&w.anna).await; // allowed
        let log = w.d.audit_of_school_by_action(&w.school, "release.", 10).await.unwrap();
        assert_eq!(log.len(), 2);
        let (allow, deny) = (&log[0], &log[1]);
        assert_eq!(allow.action, "release.allow");
        assert_eq!(allow.subject.as_deref(), Some(w.anna.as_str()));
        assert_eq!(allow.party_id.as_deref(), Some(w.publisher.as_str()));
        assert_eq!(allow.details["context"], "school_network");
        assert_eq!(allow.details["attributes"], serde_json::json!(["subject", "affiliation", "home_organization", "home_organization_branch", "groups", "jaargroep"]));
        assert_eq!(deny.action, "release.deny");
        assert_eq!(deny.details["reason"], "no_consent");
        // The audit never holds released values, only their names.
        assert!(!allow.details.to_string().contains("11AA"));
    }
}

/// Every combination of consent × licence scope × context × account state, against the rules
/// written out once more in their plain order.
#[derive(Clone, Copy, Debug)]
enum Scope {
    None,
    School,
    Stamgroep,
    Combined,
    Personal,
    OtherGroup,
    Expired,
}

on_both_backends! {
    async fn decision_table_over_consent_scope_context_and_account_state(d: Directory) {
        let base = world(d).await;
        let scopes = [Scope::None, Scope::School, Scope::Stamgroep, Scope::Combined, Scope::Personal, Scope::OtherGroup, Scope::Expired];
        let contexts = [(Context::SchoolNetwork, true), (Context::HomeCode, true), (Context::HomeCode, false)];
        let mut cases = 0;
        for consent in [false, true] {
            for scope in scopes {
                for (context, home_product) in contexts {
                    for active in [true, false] {
                        // A fresh school per case, so that no case sees another's licences.
                        let s = school(&base.d, &format!("{:02}XY", cases)).await;
                        group(&base.d, &s, "g5", Some("5")).await;
                        let g_plus = group(&base.d, &s, "plus", None).await;
                        let g_other = group(&base.d, &s, "g8", Some("8")).await;
                        let p = pupil(&base.d, &s, "L1", "g5", &["plus"]).await;
                        let g5 = base.d.groups_of_school(&s).await.unwrap().into_iter().find(|g| g.las_key == "g5").unwrap().id;
                        let product = if home_product { &base.home_product } else { &base.school_product };
                        if consent {
                            base.d.grant_consent(&s, &base.publisher, &op()).await.unwrap();
                        }
                        let members = |m: LicenceMember| LicenceScope::Members(vec![m]);
                        let licence = match scope {
                            Scope::None => None,
                            Scope::School => Some((LicenceScope::School, Some("2027-07-31"))),
                            Scope::Stamgroep => Some((members(LicenceMember::Group(g5)), None)),
                            Scope::Combined => Some((members(LicenceMember::Group(g_plus)), None)),
                            Scope::Personal => Some((members(LicenceMember::Pupil(p.clone())), None)),
                            Scope::OtherGroup => Some((members(LicenceMember::Group(g_other)), None)),
                            Scope::Expired => Some((LicenceScope::School, Some("2026-12-31"))),
                        };
                        if let Some((scope, until)) = licence {
                            base.d.create_licence(&NewLicence {
                                school_id: s.clone(), product_id: product.clone(), scope,
                                valid_from: Date::parse("van", "2026-08-01").unwrap(),
                                valid_until: until.map(|u| Date::parse("tot", u).unwrap()),
                            }, &op()).await.unwrap();
                        }
                        if !active {
                            base.d.set_pupil_active(&p, false, &op()).await.unwrap();
                        }

                        let expected = if !active {
                            Some(DenyReason::AccountInactive)
                        } else if !consent {
                            Some(DenyReason::NoConsent)
                        } else if matches!(scope, Scope::None | Scope::OtherGroup) {
                            Some(DenyReason::NoLicence)
                        } else if matches!(scope, Scope::Expired) {
                            Some(DenyReason::LicenceExpired)
                        } else if context == Context::HomeCode && !home_product {
                            Some(DenyReason::NotAllowedAtHome)
                        } else {
                            None
                        };
                        let got = base.broker.decide(&ReleaseRequest {
                            network: None,
                            subject: Subject::Pupil(p), school_id: &s, party_id: &base.publisher,
                            product_id: Some(product), requested: None, context, sector: None,
                        }, now()).await.unwrap();
                        assert_eq!(denied(&got), expected,
                            "consent={consent} scope={scope:?} context={context:?} home_product={home_product} active={active}");
                        cases += 1;
                    }
                }
            }
        }
        assert_eq!(cases, 2 * 7 * 3 * 2);
    }
}

on_both_backends! {
    async fn portal_shows_one_tile_per_product_usable_now(d: Directory) {
        let w = world(d).await;
        w.consent().await;
        w.school_wide(&w.home_product).await;
        w.licence(&w.school_product, LicenceScope::Members(vec![LicenceMember::Group(w.g8.clone())]), "2026-08-01", None).await;
        let names = |p: &broker::Portal| p.tiles.iter().map(|t| t.product.code.clone()).collect::<Vec<_>>();

        let anna = Subject::Pupil(w.anna.clone());
        let at_school = w.broker.portal(&anna, &w.school, Context::SchoolNetwork, now()).await.unwrap();
        assert_eq!(names(&at_school), ["thuis"], "group 5 is not licensed for the school-only product");
        let cas = Subject::Pupil(w.cas.clone());
        let cas_school = w.broker.portal(&cas, &w.school, Context::SchoolNetwork, now()).await.unwrap();
        assert_eq!(names(&cas_school), ["school", "thuis"]);
        let cas_home = w.broker.portal(&cas, &w.school, Context::HomeCode, now()).await.unwrap();
        assert_eq!(names(&cas_home), ["thuis"], "at home only home-allowed products");
        assert_eq!(cas_home.tiles[0].party_name, "Uitgeverij Noord");

        let teacher = w.broker.portal(&Subject::Staff(w.teacher.clone()), &w.school, Context::Password, now()).await.unwrap();
        assert_eq!(names(&teacher), ["school", "thuis"], "staff: any licence of the party at the school");
        // Showing tiles releases nothing, so it writes no release audit.
        assert!(w.d.audit_of_school_by_action(&w.school, "release.", 10).await.unwrap().is_empty());
    }
}

on_both_backends! {
    async fn empty_portal_says_why(d: Directory) {
        let w = world(d).await;
        let anna = Subject::Pupil(w.anna.clone());
        let p = w.broker.portal(&anna, &w.school, Context::SchoolNetwork, now()).await.unwrap();
        assert_eq!(p.empty_because, Some(DenyReason::NoLicence), "no licences at all");
        w.school_wide(&w.home_product).await;
        let p = w.broker.portal(&anna, &w.school, Context::SchoolNetwork, now()).await.unwrap();
        assert_eq!(p.empty_because, Some(DenyReason::NoConsent));
        w.consent().await;
        w.d.set_home_login_allowed(&w.school, false, &op()).await.unwrap();
        let p = w.broker.portal(&anna, &w.school, Context::HomeCode, now()).await.unwrap();
        assert_eq!(p.empty_because, Some(DenyReason::HomeLoginSwitchedOff));
        let p = w.broker.portal(&anna, &w.school, Context::SchoolNetwork, now()).await.unwrap();
        assert!(p.empty_because.is_none() && p.tiles.len() == 1);
    }
}

on_both_backends! {
    async fn pairwise_identifiers_stay_the_same_after_re_importing_the_same_school(d: Directory) {
        use directory::edexml::{Limits, parse};
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/edexml-2.1/EDEXML.Voorbeeld.2.1.xml");
        let xml = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let nummer = Bestuursnummer::parse("99999").unwrap();
        d.create_board(&nummer, "Stichting", &op()).await.unwrap();
        let school = d.create_school(&NewSchool {
            bestuursnummer: nummer, brin: Brin::parse("99ZZ").unwrap(),
            vestigingscode: Vestigingscode::parse("00").unwrap(), name: "Voorbeeldschool".into(),
        }, &op()).await.unwrap();
        let kek = Kek::generate();
        let broker = Broker::new(d.clone(), &d, &kek, now()).await.unwrap();
        let snapshot = parse(xml.as_bytes(), &Limits::default()).unwrap();
        d.import_snapshot(&snapshot, false, &op()).await.unwrap();
        let ids = |pupils: Vec<directory::people::Pupil>| pupils.into_iter().map(|p| (p.las_key, p.id)).collect::<std::collections::BTreeMap<_, _>>();
        let before = ids(d.pupils_of_school(&school.id).await.unwrap());
        let pseudonyms = |ids: &std::collections::BTreeMap<String, String>, sector: &str| {
            ids.values().map(|id| broker.pseudonym(sector, id).unwrap()).collect::<Vec<_>>()
        };
        let (a, b) = (pseudonyms(&before, "party:a"), pseudonyms(&before, "party:b"));
        assert!(a.iter().zip(&b).all(|(x, y)| x != y), "parties see different identifiers");

        d.import_snapshot(&snapshot, false, &op()).await.unwrap();
        let after = ids(d.pupils_of_school(&school.id).await.unwrap());
        assert_eq!(after, before);
        assert_eq!(pseudonyms(&after, "party:a"), a, "the same pseudonyms after a re-import");
    }
}

on_both_backends! {
    async fn a_teacher_removed_by_an_import_is_no_longer_released_as_staff_there(d: Directory) {
        use directory::edexml::{Limits, parse};
        let mut w = world(d).await;
        w.school = school(&w.d, "99ZZ").await;
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/edexml-2.1/EDEXML.Voorbeeld.2.1.xml");
        let xml = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .replacen("<roepnaam>Julia</roepnaam>", "<roepnaam>Julia</roepnaam><emailadres>julia@school.nl</emailadres>", 1);
        let start = xml.find("<leerkracht key=\"LK1\"").unwrap();
        let end = xml[start..].find("</leerkracht>").unwrap() + start + "</leerkracht>".len();
        let without_julia = format!("{}{}", &xml[..start], &xml[end..]);
        w.d.import_snapshot(&parse(xml.as_bytes(), &Limits::default()).unwrap(), false, &op()).await.unwrap();
        let julia = w.d.staff_by_email(&Email::parse("julia@school.nl").unwrap()).await.unwrap().unwrap().id;
        w.d.set_staff_status(&julia, StaffStatus::Active, &op()).await.unwrap();
        w.consent().await;
        w.school_wide(&w.home_product).await;
        let r = released(w.decide_at(Subject::Staff(julia.clone()), None, Context::Password, now()).await);
        assert_eq!(r.get(Attribute::Affiliation), Some(&Value::Many(vec!["employee".into(), "faculty".into()])));
        assert_eq!(r.get(Attribute::Groups), Some(&Value::Many(vec!["GRP4A".into()])));

        w.d.import_snapshot(&parse(without_julia.as_bytes(), &Limits::default()).unwrap(), false, &op()).await.unwrap();
        let d = w.decide_at(Subject::Staff(julia), None, Context::Password, now()).await;
        assert_eq!(denied(&d), Some(DenyReason::AccountInactive), "no longer staff of this school");
    }
}

/// The publisher's LIKA method `rekenen` with product `rr-5` (openpoort's id returned), its
/// URLs allowed.
async fn lika_product(w: &World) -> String {
    use directory::lika::Application;
    let a = Actor("party:uitgever".into());
    w.d.allow_party_url(&w.publisher, "https://uitgever.example", &op())
        .await
        .unwrap();
    let app = |id: &str, url: &str| Application {
        id: id.into(),
        code: None,
        name: format!("LIKA {id}"),
        icon: None,
        icon_url: None,
        url: Some(url.into()),
        tags: vec![],
    };
    w.d.create_lika_method(
        &w.publisher,
        app("rekenen", "https://uitgever.example/r"),
        &a,
    )
    .await
    .unwrap();
    w.d.create_lika_product(
        &w.publisher,
        "rekenen",
        app("rr-5", "https://uitgever.example/r/5"),
        &a,
    )
    .await
    .unwrap();
    w.d.product_by_code(&w.publisher, "rr-5")
        .await
        .unwrap()
        .unwrap()
        .id
}

on_both_backends! {
    async fn a_publisher_s_own_grant_releases_and_shows_the_product_until_it_is_revoked(d: Directory) {
        use directory::lika::{Edit, Entries, Target};
        let w = world(d).await;
        w.consent().await;
        let rr5 = lika_product(&w).await;
        let a = Actor("party:uitgever".into());
        let anna = Subject::Pupil(w.anna.clone());
        let sector = broker::partner_sector(&w.publisher);
        let number = w.broker.partner_number(&sector, "pupil", &w.anna).unwrap();
        let target = Target::Product { method: "rekenen", product: "rr-5" };
        let decide = || w.decide_at(anna.clone(), Some(&rr5), Context::SchoolNetwork, now());
        assert_eq!(denied(&decide().await), Some(DenyReason::NoLicence));

        w.d.edit_lika_access(&w.publisher, target, Edit::Add, &Entries::Users(vec![number]), &a).await.unwrap();
        assert!(denied(&decide().await).is_none(), "granted by number");
        let portal = w.broker.portal(&anna, &w.school, Context::SchoolNetwork, now()).await.unwrap();
        assert_eq!(portal.tiles.iter().map(|t| t.product.id.as_str()).collect::<Vec<_>>(), [rr5.as_str()]);
        // Another pupil, and the school-only product beside it, stay without.
        assert_eq!(denied(&w.decide_at(Subject::Pupil(w.bram.clone()), Some(&rr5), Context::SchoolNetwork, now()).await), Some(DenyReason::NoLicence));
        assert_eq!(denied(&w.decide_at(anna.clone(), Some(&w.school_product), Context::SchoolNetwork, now()).await), Some(DenyReason::NoLicence));
        // LIKA products are not for home use unless the operator says so.
        assert_eq!(denied(&w.decide_at(anna.clone(), Some(&rr5), Context::HomeCode, now()).await), Some(DenyReason::NotAllowedAtHome));

        w.d.edit_lika_access(&w.publisher, target, Edit::Remove, &Entries::Users(vec![number]), &a).await.unwrap();
        assert_eq!(denied(&decide().await), Some(DenyReason::NoLicence), "revoked at the next decision");
        assert!(w.broker.portal(&anna, &w.school, Context::SchoolNetwork, now()).await.unwrap().tiles.is_empty());

        // By the school's number and the pupil's ECK-iD, on the method: covers its product.
        let school_number = w.broker.partner_number(&sector, "school", &w.school).unwrap();
        let eck = format!("https://ketenid.nl/201703/L1-{}", w.school);
        let chain = directory::lika::ChainId { school_number, eck_id: eck };
        w.d.edit_lika_access(&w.publisher, Target::Method("rekenen"), Edit::Add, &Entries::Chains(vec![chain]), &a).await.unwrap();
        assert!(denied(&decide().await).is_none(), "granted by ECK-iD");
        // Without the school's consent nothing is released and nothing shown.
        w.d.revoke_consent(&w.school, &w.publisher, &op()).await.unwrap();
        assert_eq!(denied(&decide().await), Some(DenyReason::NoConsent));
        assert!(w.broker.portal(&anna, &w.school, Context::SchoolNetwork, now()).await.unwrap().tiles.is_empty());
    }
}

on_both_backends! {
    async fn a_teacher_granted_by_number_is_released_without_a_school_licence(d: Directory) {
        use directory::lika::{Edit, Entries, Target};
        let w = world(d).await;
        w.consent().await;
        let rr5 = lika_product(&w).await;
        let teacher = Subject::Staff(w.teacher.clone());
        assert_eq!(denied(&w.decide_at(teacher.clone(), Some(&rr5), Context::Password, now()).await), Some(DenyReason::NoLicence));
        let number = w.broker.partner_number(&broker::partner_sector(&w.publisher), "staff", &w.teacher).unwrap();
        w.d.lika_bulk(&w.publisher, &directory::lika::Bulk { methods: vec!["rekenen".into()], users: vec![number], ..Default::default() }, true, &Actor("party:uitgever".into())).await.unwrap();
        assert!(denied(&w.decide_at(teacher.clone(), Some(&rr5), Context::Password, now()).await).is_none());
        let tiles = w.broker.portal(&teacher, &w.school, Context::Password, now()).await.unwrap().tiles;
        assert_eq!(tiles.len(), 1);
        w.d.edit_lika_access(&w.publisher, Target::Method("rekenen"), Edit::Clear, &Entries::Users(vec![]), &Actor("party:uitgever".into())).await.unwrap();
        assert_eq!(denied(&w.decide_at(teacher, Some(&rr5), Context::Password, now()).await), Some(DenyReason::NoLicence));
    }
}
