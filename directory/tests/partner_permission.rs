//! What the partner API's permission paths need from the register: finding schools to ask
//! (nawsearch), a party's requests for a school's permission, and the party giving a permission
//! up; on SQLite and on PostgreSQL.

use directory::model::*;
use directory::permission_requests::{Relinquished, RequestOutcome};
use directory::school_search::SchoolSearch;
use directory::schools::{NewSchool, School};
use directory::{Actor, Directory, DirectoryError, on_both_backends};

fn op() -> Actor {
    Actor::operator_cli()
}

fn party_actor(code: &str) -> Actor {
    Actor(format!("party:{code}"))
}

async fn schools(d: &Directory, codes: &[&str]) -> Vec<School> {
    let nummer = Bestuursnummer::parse("41234").unwrap();
    d.create_board(&nummer, "Stichting Test", &op())
        .await
        .unwrap();
    let mut out = Vec::new();
    for v in codes {
        out.push(
            d.create_school(
                &NewSchool {
                    bestuursnummer: nummer.clone(),
                    brin: Brin::parse("12AB").unwrap(),
                    vestigingscode: Vestigingscode::parse(v).unwrap(),
                    name: format!("School 12AB{v}"),
                },
                &op(),
            )
            .await
            .unwrap(),
        );
    }
    out
}

async fn publisher(d: &Directory, code: &str) -> String {
    d.create_party(code, PartyKind::Publisher, code, &op())
        .await
        .unwrap()
        .id
}

on_both_backends! {
    async fn a_burst_of_permission_requests_records_one(d: Directory) {
        let school = schools(&d, &["00"]).await.remove(0);
        // Other parties first: that opens the pool's connections, so that the requests below
        // meet at the database instead of queueing behind connection set-up.
        let mut others = tokio::task::JoinSet::new();
        for i in 0..8 {
            let d = d.clone();
            others.spawn(async move {
                d.create_party(&format!("ander-{i}"), PartyKind::Publisher, "Ander", &op()).await
            });
        }
        assert!(others.join_all().await.iter().all(Result::is_ok));
        let party = publisher(&d, "uitgeverij-burst").await;
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(8));
        let mut burst = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (d, school_id, party, start) = (d.clone(), school.id.clone(), party.clone(), start.clone());
            burst.spawn(async move {
                start.wait().await;
                d.request_permission(&school_id, &party, &party_actor("uitgeverij-burst")).await
            });
        }
        let outcomes: Vec<RequestOutcome> = burst.join_all().await.into_iter().map(Result::unwrap).collect();
        assert_eq!(outcomes.iter().filter(|o| **o == RequestOutcome::Recorded).count(), 1, "{outcomes:?}");
        assert_eq!(outcomes.iter().filter(|o| **o == RequestOutcome::AlreadyOpen).count(), 7, "{outcomes:?}");
        let open = d.open_permission_requests(&school.id).await.unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].party_id, party);
        assert_eq!(open[0].requested_by, "party:uitgeverij-burst");
        let audited = d.audit_of_school_by_action(&school.id, "permission.request", 10).await.unwrap();
        assert_eq!(audited.len(), 1, "one request, one audit entry");
    }
}

on_both_backends! {
    async fn consenting_answers_the_request_and_a_consenting_school_is_not_asked(d: Directory) {
        let school = schools(&d, &["00"]).await.remove(0);
        let party = publisher(&d, "uitgeverij-a").await;
        let asker = party_actor("uitgeverij-a");
        assert_eq!(d.request_permission(&school.id, &party, &asker).await.unwrap(), RequestOutcome::Recorded);
        d.grant_consent(&school.id, &party, &op()).await.unwrap();
        assert!(d.open_permission_requests(&school.id).await.unwrap().is_empty());
        assert_eq!(d.request_permission(&school.id, &party, &asker).await.unwrap(), RequestOutcome::Consented);
        assert!(d.open_permission_requests(&school.id).await.unwrap().is_empty());
        // Once the school withdraws, the old request does not come back; a new one may be made.
        d.revoke_consent(&school.id, &party, &op()).await.unwrap();
        assert!(d.open_permission_requests(&school.id).await.unwrap().is_empty());
        assert_eq!(d.request_permission(&school.id, &party, &asker).await.unwrap(), RequestOutcome::Recorded);
        assert_eq!(d.open_permission_requests(&school.id).await.unwrap().len(), 1);
    }
}

on_both_backends! {
    async fn a_declined_request_is_closed_and_the_party_may_ask_again(d: Directory) {
        let school = schools(&d, &["00"]).await.remove(0);
        let party = publisher(&d, "uitgeverij-d").await;
        let asker = party_actor("uitgeverij-d");
        let none = d.decline_permission_request(&school.id, &party, &op()).await;
        assert!(matches!(none, Err(DirectoryError::NotFound { .. })), "{none:?}");
        d.request_permission(&school.id, &party, &asker).await.unwrap();
        d.decline_permission_request(&school.id, &party, &op()).await.unwrap();
        assert!(d.open_permission_requests(&school.id).await.unwrap().is_empty());
        assert!(d.open_consent(&school.id, &party).await.unwrap().is_none(), "declining consents to nothing");
        assert_eq!(d.request_permission(&school.id, &party, &asker).await.unwrap(), RequestOutcome::Recorded);
    }
}

on_both_backends! {
    async fn relinquishing_ends_this_partys_consent_and_no_other(d: Directory) {
        let school = schools(&d, &["00"]).await.remove(0);
        let mine = publisher(&d, "uitgeverij-mijn").await;
        let other = publisher(&d, "uitgeverij-ander").await;
        d.grant_consent(&school.id, &mine, &op()).await.unwrap();
        d.grant_consent(&school.id, &other, &op()).await.unwrap();
        let me = party_actor("uitgeverij-mijn");
        let done = d.relinquish_permission(&school.id, &mine, &me).await.unwrap();
        assert_eq!(done, Relinquished { consent_ended: true, request_withdrawn: false });
        assert!(d.open_consent(&school.id, &mine).await.unwrap().is_none());
        assert!(d.open_consent(&school.id, &other).await.unwrap().is_some(), "the other party's consent holds");
        let history = d.consent_history(&school.id).await.unwrap();
        let ended = history.iter().find(|c| c.party_id == mine).unwrap();
        assert_eq!(ended.revoked_by.as_deref(), Some("party:uitgeverij-mijn"));
        assert_eq!(d.consents_revoked_since(&mine, 0).await.unwrap(), vec![school.id.clone()]);
        assert!(d.consents_revoked_since(&other, 0).await.unwrap().is_empty());
        let audited = d.audit_of_school_by_action(&school.id, "consent.revoke", 10).await.unwrap();
        assert_eq!(audited.len(), 1);
        assert_eq!(audited[0].actor, "party:uitgeverij-mijn");
        // Giving up what is gone already changes nothing and is no error.
        let again = d.relinquish_permission(&school.id, &mine, &me).await.unwrap();
        assert_eq!(again, Relinquished { consent_ended: false, request_withdrawn: false });
        assert_eq!(d.audit_of_school_by_action(&school.id, "consent.revoke", 10).await.unwrap().len(), 1);
    }
}

on_both_backends! {
    async fn relinquishing_withdraws_a_waiting_request(d: Directory) {
        let school = schools(&d, &["00"]).await.remove(0);
        let party = publisher(&d, "uitgeverij-w").await;
        let asker = party_actor("uitgeverij-w");
        d.request_permission(&school.id, &party, &asker).await.unwrap();
        let done = d.relinquish_permission(&school.id, &party, &asker).await.unwrap();
        assert_eq!(done, Relinquished { consent_ended: false, request_withdrawn: true });
        assert!(d.open_permission_requests(&school.id).await.unwrap().is_empty());
    }
}

on_both_backends! {
    async fn an_inactive_school_cannot_be_asked(d: Directory) {
        let list = schools(&d, &["00", "01"]).await;
        let party = publisher(&d, "uitgeverij-f").await;
        let from = SchoolCode::parse("12AB00").unwrap();
        let into = SchoolCode::parse("12AB01").unwrap();
        d.merge_schools(&from, &into, false, &op()).await.unwrap();
        let refused = d.request_permission(&list[0].id, &party, &party_actor("uitgeverij-f")).await;
        assert!(matches!(refused, Err(DirectoryError::Conflict { .. })), "{refused:?}");
        assert!(d.open_permission_requests(&list[0].id).await.unwrap().is_empty());
        let unknown = d.request_permission("no-such-school", &party, &party_actor("uitgeverij-f")).await;
        assert!(matches!(unknown, Err(DirectoryError::NotFound { .. })), "{unknown:?}");
    }
}

on_both_backends! {
    async fn a_search_finds_by_name_without_case_or_accents_and_by_codes(d: Directory) {
        schools(&d, &["00", "01", "02"]).await;
        let other = Bestuursnummer::parse("45678").unwrap();
        d.create_board(&other, "Stichting Ander", &op()).await.unwrap();
        d.create_school(&NewSchool {
            bestuursnummer: other.clone(),
            brin: Brin::parse("34CD").unwrap(),
            vestigingscode: Vestigingscode::parse("00").unwrap(),
            name: "De Triôlier".into(),
        }, &op()).await.unwrap();
        let by = |search: SchoolSearch| {
            let d = d.clone();
            async move {
                d.search_schools(&search, 100).await.unwrap().into_iter()
                    .map(|f| format!("{}{} {}", f.school.brin, f.school.vestigingscode, f.bestuursnummer))
                    .collect::<Vec<_>>()
            }
        };
        let name = |n: &str| SchoolSearch { name: Some(n.into()), active_only: true, ..Default::default() };
        assert_eq!(by(name("TRIOL")).await, vec!["34CD00 45678"]);
        assert_eq!(by(name("school 12ab0")).await.len(), 3);
        assert!(by(name("nergens")).await.is_empty());
        let brin = SchoolSearch { brin: Some(Brin::parse("12AB").unwrap()), active_only: true, ..Default::default() };
        assert_eq!(by(brin).await, vec!["12AB00 41234", "12AB01 41234", "12AB02 41234"]);
        let one = SchoolSearch {
            brin: Some(Brin::parse("12AB").unwrap()),
            vestigingscode: Some(Vestigingscode::parse("01").unwrap()),
            active_only: true,
            ..Default::default()
        };
        assert_eq!(by(one).await, vec!["12AB01 41234"]);
        let board = SchoolSearch { bestuursnummer: Some(other), active_only: true, ..Default::default() };
        assert_eq!(by(board).await, vec!["34CD00 45678"]);
        // Criteria together must all hold.
        let both = SchoolSearch { name: Some("triolier".into()), brin: Some(Brin::parse("12AB").unwrap()), active_only: true, ..Default::default() };
        assert!(by(both).await.is_empty());
        // A merged school only when asked for.
        d.merge_schools(&SchoolCode::parse("12AB02").unwrap(), &SchoolCode::parse("12AB01").unwrap(), false, &op()).await.unwrap();
        assert_eq!(by(name("school 12ab")).await.len(), 2);
        let all = SchoolSearch { name: Some("school 12ab".into()), active_only: false, ..Default::default() };
        assert_eq!(by(all).await.len(), 3);
        assert_eq!(d.all_school_ids().await.unwrap().len(), 4);
    }
}

on_both_backends! {
    async fn a_search_is_capped_and_refused_without_a_criterion(d: Directory) {
        schools(&d, &["00", "01", "02", "03", "04"]).await;
        let name = SchoolSearch { name: Some("School".into()), active_only: true, ..Default::default() };
        let found = d.search_schools(&name, 3).await.unwrap();
        let codes: Vec<_> = found.iter().map(|f| f.school.vestigingscode.as_str()).collect();
        assert_eq!(codes, vec!["00", "01", "02"], "the first by name, then code");
        let none = d.search_schools(&SchoolSearch { active_only: true, ..Default::default() }, 100).await;
        assert!(matches!(none, Err(DirectoryError::Invalid { .. })), "{none:?}");
        let short = d.search_schools(&SchoolSearch { name: Some(" s ".into()), active_only: true, ..Default::default() }, 100).await;
        assert!(matches!(short, Err(DirectoryError::Invalid { .. })), "{short:?}");
    }
}
