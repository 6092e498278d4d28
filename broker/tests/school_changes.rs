//! What relying parties see of a merge or split: the same pseudonyms, and access that follows the
//! moved licences. On SQLite and on PostgreSQL.

use broker::{Attribute, Broker, Context, Decision, DenyReason, ReleaseRequest, Subject, Value};
use certs::Kek;
use directory::model::*;
use directory::parties::{LicenceMember, LicenceScope, NewLicence, NewProduct};
use directory::people::{GroupKind, NewGroup, NewPupil};
use directory::schools::NewSchool;
use directory::{Actor, Directory, on_both_backends};

/// 2027-01-15 12:00 UTC.
fn now() -> i64 {
    days_from_civil(2027, 1, 15) * 86_400 + 12 * 3_600
}

fn op() -> Actor {
    Actor::operator_cli()
}

fn code(c: &str) -> SchoolCode {
    SchoolCode::parse(c).unwrap()
}

async fn school(d: &Directory, c: &str) -> String {
    let nummer = Bestuursnummer::parse("41234").unwrap();
    if d.board_by_nummer(&nummer).await.unwrap().is_none() {
        d.create_board(&nummer, "Stichting", &op()).await.unwrap();
    }
    let c = code(c);
    d.create_school(
        &NewSchool {
            bestuursnummer: nummer,
            brin: c.brin,
            vestigingscode: c.vestigingscode,
            name: "School".into(),
        },
        &op(),
    )
    .await
    .unwrap()
    .id
}

async fn class_with_pupil(
    d: &Directory,
    school: &str,
    group: &str,
    pupil: &str,
) -> (String, String) {
    let g = d
        .create_group(
            school,
            &NewGroup {
                las_key: LasKey::parse(group).unwrap(),
                name: format!("Groep {group}"),
                kind: GroupKind::Stamgroep,
                jaargroep: Some(Jaargroep::parse("5").unwrap()),
            },
            &op(),
        )
        .await
        .unwrap()
        .id;
    let p = d
        .create_pupil(
            school,
            &NewPupil {
                las_key: LasKey::parse(pupil).unwrap(),
                achternaam: "Visser".into(),
                voorvoegsel: None,
                voornamen: None,
                roepnaam: Some("Anna".into()),
                jaargroep: Jaargroep::parse("5").unwrap(),
                stamgroep: Some(LasKey::parse(group).unwrap()),
                combined_groups: vec![],
                eck_id: None,
            },
            &op(),
        )
        .await
        .unwrap()
        .id;
    (g, p)
}

struct World {
    d: Directory,
    broker: Broker,
    party: String,
    a: String,
    b: String,
    a_pupil: String,
    b_pupil: String,
}

/// A (11AA00) and B (22BB00), each with one class and pupil; B consented to the publisher and
/// holds a licence for its class.
async fn world(d: Directory) -> World {
    let a = school(&d, "11AA00").await;
    let b = school(&d, "22BB00").await;
    let (_, a_pupil) = class_with_pupil(&d, &a, "A5", "LA").await;
    let (b_group, b_pupil) = class_with_pupil(&d, &b, "B5", "LB").await;
    let party = d
        .create_party("uitgever", PartyKind::Publisher, "Uitgeverij Noord", &op())
        .await
        .unwrap()
        .id;
    let product = d
        .create_product(
            &party,
            &NewProduct {
                code: "rekenen".into(),
                methode: "Rekenen".into(),
                name: "Rekenen".into(),
                launch_url: WebUrl::parse("launch_url", "https://uitgever.example/start").unwrap(),
                icon_url: None,
                home_allowed: false,
            },
            &op(),
        )
        .await
        .unwrap()
        .id;
    d.grant_consent(&b, &party, &op()).await.unwrap();
    d.create_licence(
        &NewLicence {
            school_id: b.clone(),
            product_id: product,
            scope: LicenceScope::Members(vec![LicenceMember::Group(b_group)]),
            valid_from: Date::parse("van", "2026-08-01").unwrap(),
            valid_until: None,
        },
        &op(),
    )
    .await
    .unwrap();
    let broker = Broker::new(d.clone(), &d, &Kek::generate(), now())
        .await
        .unwrap();
    World {
        d,
        broker,
        party,
        a,
        b,
        a_pupil,
        b_pupil,
    }
}

impl World {
    async fn decide(&self, pupil: &str, school: &str) -> Decision {
        self.broker
            .decide(
                &ReleaseRequest {
                    network: None,
                    subject: Subject::Pupil(pupil.into()),
                    school_id: school,
                    party_id: &self.party,
                    product_id: None,
                    requested: None,
                    context: Context::SchoolNetwork,
                    sector: None,
                },
                now(),
            )
            .await
            .unwrap()
    }
}

fn pseudonym(d: Decision) -> String {
    match d {
        Decision::Allow(r) => match r.get(Attribute::Subject) {
            Some(Value::One(s)) => s.clone(),
            other => panic!("no pseudonym: {other:?}"),
        },
        Decision::Deny(r) => panic!("expected a release, got {r:?}"),
    }
}

on_both_backends! {
    async fn merge_keeps_pseudonyms_of_moved_pupils(d: Directory) {
        let w = world(d).await;
        let before = pseudonym(w.decide(&w.b_pupil, &w.b).await);
        w.d.merge_schools(&code("22BB00"), &code("11AA00"), false, &op()).await.unwrap();

        // B's consent was B's own decision: at A nothing is released until A consents.
        assert!(matches!(w.decide(&w.b_pupil, &w.a).await, Decision::Deny(DenyReason::NoConsent)));
        w.d.grant_consent(&w.a, &w.party, &op()).await.unwrap();
        let after = pseudonym(w.decide(&w.b_pupil, &w.a).await);
        assert_eq!(after, before, "the publisher still sees the same pupil");
        // The moved licence covers B's class, not A's own pupils.
        assert!(matches!(w.decide(&w.a_pupil, &w.a).await, Decision::Deny(DenyReason::NoLicence)));
        // Nobody signs in at B any more.
        assert!(matches!(w.decide(&w.b_pupil, &w.b).await, Decision::Deny(DenyReason::AccountInactive)));
    }
}

on_both_backends! {
    async fn split_keeps_pseudonyms_and_access_of_moved_pupils(d: Directory) {
        let w = world(d).await;
        let before = pseudonym(w.decide(&w.b_pupil, &w.b).await);
        w.d.split_school(&code("22BB00"), &code("22BB01"), Some("Dependance"), &[LasKey::parse("B5").unwrap()], false, &op())
            .await
            .unwrap();
        let t = w.d.require_school(&code("22BB01")).await.unwrap().id;
        // Consent and licence followed the class, so the pupil keeps access and pseudonym.
        assert_eq!(pseudonym(w.decide(&w.b_pupil, &t).await), before);
        assert!(matches!(w.decide(&w.b_pupil, &w.b).await, Decision::Deny(_)), "no longer a pupil of B");
    }
}
