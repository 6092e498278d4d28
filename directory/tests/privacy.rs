//! The release audit as a school reads it and the processing agreement's acceptances, each on
//! SQLite and on PostgreSQL.

use directory::audit::AuditEvent;
use directory::model::*;
use directory::privacy::ReleaseFilter;
use directory::schools::{NewSchool, School};
use directory::{Actor, Directory, DirectoryError, on_both_backends};

async fn school(d: &Directory, brin: &str) -> School {
    let nummer = Bestuursnummer::parse("41234").unwrap();
    if d.board_by_nummer(&nummer).await.unwrap().is_none() {
        d.create_board(&nummer, "Stichting Test", &Actor::operator_cli())
            .await
            .unwrap();
    }
    d.create_school(
        &NewSchool {
            bestuursnummer: nummer,
            brin: Brin::parse(brin).unwrap(),
            vestigingscode: Vestigingscode::parse("00").unwrap(),
            name: format!("School {brin}"),
        },
        &Actor::operator_cli(),
    )
    .await
    .unwrap()
}

async fn release(d: &Directory, school: &str, party: &str, subject: &str, groups: &[&str]) {
    let groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
    d.audit_release(
        AuditEvent {
            actor: &Actor::system("broker"),
            action: "release.allow",
            school_id: Some(school),
            party_id: Some(party),
            subject: Some(subject),
            details: serde_json::json!({
                "context": "school_network", "product_id": null, "subject_kind": "pupil",
                "attributes": ["subject", "groups"],
            }),
        },
        Some("Finn Smit"),
        &groups,
    )
    .await
    .unwrap();
}

on_both_backends! {
    async fn releases_are_read_per_school_newest_first_and_filtered_by_party_and_group(d: Directory) {
        let a = school(&d, "11AA").await;
        let b = school(&d, "22BB").await;
        release(&d, &a.id, "party-1", "pupil-1", &["g5"]).await;
        release(&d, &a.id, "party-2", "pupil-2", &["g6", "plus"]).await;
        release(&d, &b.id, "party-1", "pupil-3", &["g5"]).await;
        d.audit(AuditEvent {
            actor: &Actor::system("broker"), action: "release.deny", school_id: Some(&a.id),
            party_id: Some("party-1"), subject: Some("pupil-1"), details: serde_json::json!({}),
        }).await.unwrap();

        let all = d.releases_of_school(&a.id, &ReleaseFilter::default(), None, 10).await.unwrap();
        let subjects: Vec<_> = all.iter().map(|r| r.subject_id.as_str()).collect();
        assert_eq!(subjects, ["pupil-2", "pupil-1"], "only allowed releases of this school");
        assert_eq!(all[0].group_keys, ["g6", "plus"]);
        assert_eq!(all[0].attributes, ["subject", "groups"]);

        let by_party = ReleaseFilter { party_id: Some("party-1".into()), ..Default::default() };
        let rows = d.releases_of_school(&a.id, &by_party, None, 10).await.unwrap();
        assert_eq!(rows.iter().map(|r| r.subject_id.as_str()).collect::<Vec<_>>(), ["pupil-1"]);

        let by_group = ReleaseFilter { group_key: Some("plus".into()), ..Default::default() };
        let rows = d.releases_of_school(&a.id, &by_group, None, 10).await.unwrap();
        assert_eq!(rows.iter().map(|r| r.subject_id.as_str()).collect::<Vec<_>>(), ["pupil-2"]);

        let future = ReleaseFilter { from: Some(all[0].at + 86_400), ..Default::default() };
        assert!(d.releases_of_school(&a.id, &future, None, 10).await.unwrap().is_empty());
        let past = ReleaseFilter { until: Some(all[0].at - 86_400), ..Default::default() };
        assert!(d.releases_of_school(&a.id, &past, None, 10).await.unwrap().is_empty());

        let first = d.releases_of_school(&a.id, &ReleaseFilter::default(), None, 1).await.unwrap();
        let second = d.releases_of_school(&a.id, &ReleaseFilter::default(), Some(first[0].seq), 1).await.unwrap();
        assert_eq!((first[0].subject_id.as_str(), second[0].subject_id.as_str()), ("pupil-2", "pupil-1"));
    }
}

on_both_backends! {
    async fn retention_removes_a_release_with_its_groups(d: Directory) {
        let a = school(&d, "11AA").await;
        release(&d, &a.id, "party-1", "pupil-1", &["g5"]).await;
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        assert!(d.purge_audit_before(t + 3_600).await.unwrap() >= 1);
        let by_group = ReleaseFilter { group_key: Some("g5".into()), ..Default::default() };
        assert!(d.releases_of_school(&a.id, &by_group, None, 10).await.unwrap().is_empty());
    }
}

on_both_backends! {
    async fn an_acceptance_is_recorded_once_and_never_changed(d: Directory) {
        let a = school(&d, "11AA").await;
        let first = d.accept_agreement(&a.board_id, "2026-1", Some(&a.id), &Actor::staff("ict-1"), "Anna").await.unwrap();
        let again = d.accept_agreement(&a.board_id, "2026-1", Some(&a.id), &Actor::staff("ict-2"), "Bram").await;
        assert!(matches!(again, Err(DirectoryError::Conflict { .. })), "{again:?}");
        d.accept_agreement(&a.board_id, "2027-1", Some(&a.id), &Actor::staff("ict-2"), "Bram").await.unwrap();

        let history = d.agreement_acceptances(&a.board_id).await.unwrap();
        assert_eq!(history.len(), 2);
        let kept = history.iter().find(|h| h.version == "2026-1").unwrap();
        assert_eq!(kept, &first, "the refused second acceptance left the first as it was");

        for sql in ["UPDATE agreement_acceptances SET accepted_by_name = 'someone else'", "DELETE FROM agreement_acceptances"] {
            let tampered = match d.pool() {
                directory::Pool::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
                directory::Pool::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
            };
            let err = tampered.expect_err("acceptances are append-only");
            assert!(err.to_string().contains("append-only"), "{err}");
        }
        assert_eq!(d.agreement_acceptances(&a.board_id).await.unwrap(), history);
        let audit = d.audit_of_school_by_action(&a.id, "agreement.accept", 10).await.unwrap();
        assert_eq!(audit.len(), 2);
    }
}

on_both_backends! {
    async fn a_burst_of_acceptances_of_one_version_makes_one_record_and_the_rest_conflicts(d: Directory) {
        let a = school(&d, "11AA").await;
        let mut burst = tokio::task::JoinSet::new();
        for i in 0..16 {
            let (d, board, school) = (d.clone(), a.board_id.clone(), a.id.clone());
            burst.spawn(async move {
                let actor = Actor::staff(&format!("ict-{i}"));
                d.accept_agreement(&board, "2026-1", Some(&school), &actor, &format!("ICT {i}")).await
            });
        }
        let (mut accepted, mut conflicts) = (Vec::new(), 0);
        while let Some(outcome) = burst.join_next().await {
            match outcome.unwrap() {
                Ok(acceptance) => accepted.push(acceptance),
                Err(DirectoryError::Conflict { nl, en }) => {
                    assert!(nl.contains("al geaccepteerd") && en.contains("already been accepted"), "{nl} / {en}");
                    conflicts += 1;
                }
                Err(other) => panic!("neither accepted nor a conflict: {other}"),
            }
        }
        assert_eq!((accepted.len(), conflicts), (1, 15));
        let history = d.agreement_acceptances(&a.board_id).await.unwrap();
        assert_eq!(history, accepted, "one record, the one that was answered as accepted");
        let audit = d.audit_of_school_by_action(&a.id, "agreement.accept", 100).await.unwrap();
        assert_eq!(audit.len(), 1, "a refused acceptance leaves no audit entry");
    }
}

on_both_backends! {
    async fn a_release_shows_the_name_it_was_recorded_with_and_marks_one_without(d: Directory) {
        let a = school(&d, "11AA").await;
        release(&d, &a.id, "party-1", "pupil-1", &["g5"]).await;
        // As a release was written before names were recorded: the entry alone.
        d.audit(AuditEvent {
            actor: &Actor::system("broker"), action: "release.allow", school_id: Some(&a.id),
            party_id: Some("party-1"), subject: Some("pupil-2"),
            details: serde_json::json!({"context": "school_network", "subject_kind": "pupil", "attributes": ["subject"]}),
        }).await.unwrap();
        let rows = d.releases_of_school(&a.id, &ReleaseFilter::default(), None, 10).await.unwrap();
        assert_eq!((rows[1].subject_name.as_deref(), rows[1].name_recorded), (Some("Finn Smit"), true));
        assert_eq!((rows[0].subject_name.as_deref(), rows[0].name_recorded), (None, false), "not recorded, not in the register");
    }
}

on_both_backends! {
    async fn a_release_records_each_group_once_and_one_without_groups_alone(d: Directory) {
        let a = school(&d, "11AA").await;
        release(&d, &a.id, "party-1", "pupil-1", &["g5", "plus", "g5"]).await;
        release(&d, &a.id, "party-1", "pupil-2", &[]).await;

        let rows = d.releases_of_school(&a.id, &ReleaseFilter::default(), None, 10).await.unwrap();
        let seen: Vec<_> = rows.iter().map(|r| (r.subject_id.as_str(), r.group_keys.clone())).collect();
        assert_eq!(seen, [("pupil-2", vec![]), ("pupil-1", vec!["g5".to_string(), "plus".to_string()])]);
        let by_group = ReleaseFilter { group_key: Some("g5".into()), ..Default::default() };
        let rows = d.releases_of_school(&a.id, &by_group, None, 10).await.unwrap();
        assert_eq!(rows.iter().map(|r| r.subject_id.as_str()).collect::<Vec<_>>(), ["pupil-1"]);
    }
}
