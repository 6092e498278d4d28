//! The partner API's part of the register: certificates per party and consents over time, on
//! SQLite and on PostgreSQL.

use directory::model::*;
use directory::partner::{CERTIFICATES_PER_PARTY, NewPartyCertificate};
use directory::schools::NewSchool;
use directory::{Actor, Directory, DirectoryError, on_both_backends};

fn op() -> Actor {
    Actor::operator_cli()
}

fn certificate(n: usize) -> (String, String) {
    (
        format!("{n:064x}"),
        format!("-----BEGIN CERTIFICATE-----\n{n}\n-----END CERTIFICATE-----\n"),
    )
}

async fn add(d: &Directory, party_id: &str, n: usize) -> Result<(), DirectoryError> {
    let (sha256, pem) = certificate(n);
    let new = NewPartyCertificate {
        sha256: &sha256,
        subject: "CN=test",
        issuer: "CN=test",
        not_before: 0,
        not_after: i64::MAX / 2,
        pem: &pem,
    };
    d.add_party_certificate(party_id, &new, &op())
        .await
        .map(|_| ())
}

on_both_backends! {
    async fn a_burst_of_certificate_registrations_leaves_a_party_at_most_two(d: Directory) {
        // Other parties added at once first: that opens the pool's connections, so that the
        // registrations below meet at the database instead of queueing behind connection set-up.
        let mut others = tokio::task::JoinSet::new();
        for i in 0..8 {
            let d = d.clone();
            others.spawn(async move {
                d.create_party(&format!("uitgeverij-{i}"), PartyKind::Publisher, "Ander", &op()).await
            });
        }
        assert!(others.join_all().await.iter().all(Result::is_ok));
        let party = d.create_party("uitgeverij-burst", PartyKind::Publisher, "Burst", &op()).await.unwrap();
        // All at once: a count checked before the insert would let several through.
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(8));
        let mut burst = tokio::task::JoinSet::new();
        for n in 0..8 {
            let (d, party_id, start) = (d.clone(), party.id.clone(), start.clone());
            burst.spawn(async move {
                start.wait().await;
                add(&d, &party_id, n).await
            });
        }
        let results = burst.join_all().await;
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), CERTIFICATES_PER_PARTY, "{results:?}");
        for e in results.iter().filter_map(|r| r.as_ref().err()) {
            assert!(matches!(e, DirectoryError::Conflict { .. }), "{e}");
        }
        assert_eq!(d.party_certificates(&party.id).await.unwrap().len(), CERTIFICATES_PER_PARTY);
    }
}

on_both_backends! {
    async fn a_certificate_names_one_party_only_and_only_while_valid(d: Directory) {
        let first = d.create_party("uitgeverij-een", PartyKind::Publisher, "Een", &op()).await.unwrap();
        let second = d.create_party("uitgeverij-twee", PartyKind::Publisher, "Twee", &op()).await.unwrap();
        add(&d, &first.id, 1).await.unwrap();
        let again = add(&d, &second.id, 1).await;
        assert!(matches!(again, Err(DirectoryError::Duplicate { .. })), "{again:?}");
        let (sha256, pem) = certificate(2);
        d.add_party_certificate(&second.id, &NewPartyCertificate {
            sha256: &sha256, subject: "CN=kort", issuer: "CN=kort", not_before: 100, not_after: 200, pem: &pem,
        }, &op()).await.unwrap();
        assert_eq!(d.party_by_certificate(&sha256, 150).await.unwrap().map(|p| p.id), Some(second.id.clone()));
        assert_eq!(d.party_by_certificate(&sha256, 201).await.unwrap(), None);
        assert_eq!(d.party_by_certificate(&sha256, 99).await.unwrap(), None);
        assert_eq!(d.party_by_certificate(&certificate(1).0, 150).await.unwrap().map(|p| p.id), Some(first.id));
    }
}

on_both_backends! {
    async fn a_revoked_consent_is_listed_as_revoked_until_it_is_given_again(d: Directory) {
        let nummer = Bestuursnummer::parse("41234").unwrap();
        d.create_board(&nummer, "Stichting Test", &op()).await.unwrap();
        let school = d.create_school(&NewSchool {
            bestuursnummer: nummer,
            brin: Brin::parse("12AB").unwrap(),
            vestigingscode: Vestigingscode::parse("00").unwrap(),
            name: "School 12AB00".into(),
        }, &op()).await.unwrap();
        let party = d.create_party("uitgeverij-c", PartyKind::Publisher, "C", &op()).await.unwrap();
        let granted = d.grant_consent(&school.id, &party.id, &op()).await.unwrap();
        assert_eq!(d.consented_schools(&party.id).await.unwrap().len(), 1);
        assert_eq!(d.consents_granted_since(&party.id, granted.granted_at).await.unwrap(), vec![school.id.clone()]);
        assert!(d.consents_granted_since(&party.id, granted.granted_at + 1).await.unwrap().is_empty());
        let revoked = d.revoke_consent(&school.id, &party.id, &op()).await.unwrap();
        assert!(d.consented_schools(&party.id).await.unwrap().is_empty());
        let at = revoked.revoked_at.unwrap();
        assert_eq!(d.consents_revoked_since(&party.id, at).await.unwrap(), vec![school.id.clone()]);
        assert!(d.consents_revoked_since(&party.id, at + 1).await.unwrap().is_empty());
        d.grant_consent(&school.id, &party.id, &op()).await.unwrap();
        assert!(d.consents_revoked_since(&party.id, at).await.unwrap().is_empty());
    }
}

on_both_backends! {
    async fn a_merged_school_stays_known_to_the_parties_it_consented_to_and_no_other(d: Directory) {
        let nummer = Bestuursnummer::parse("41234").unwrap();
        d.create_board(&nummer, "Stichting Test", &op()).await.unwrap();
        let mut schools = Vec::new();
        for v in ["00", "01"] {
            schools.push(d.create_school(&NewSchool {
                bestuursnummer: nummer.clone(),
                brin: Brin::parse("12AB").unwrap(),
                vestigingscode: Vestigingscode::parse(v).unwrap(),
                name: format!("School 12AB{v}"),
            }, &op()).await.unwrap());
        }
        let party = d.create_party("uitgeverij-m", PartyKind::Publisher, "M", &op()).await.unwrap();
        let other = d.create_party("uitgeverij-n", PartyKind::Publisher, "N", &op()).await.unwrap();
        d.grant_consent(&schools[0].id, &party.id, &op()).await.unwrap();
        assert!(d.merged_schools_once_consented(&party.id).await.unwrap().is_empty());
        let from = SchoolCode::parse("12AB00").unwrap();
        let into = SchoolCode::parse("12AB01").unwrap();
        d.merge_schools(&from, &into, false, &op()).await.unwrap();
        assert!(d.consented_schools(&party.id).await.unwrap().is_empty(), "the merge ended the consent");
        let merged = d.merged_schools_once_consented(&party.id).await.unwrap();
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].school.merged_into.as_deref(), Some(schools[1].id.as_str()));
        assert!(d.merged_schools_once_consented(&other.id).await.unwrap().is_empty());
    }
}
