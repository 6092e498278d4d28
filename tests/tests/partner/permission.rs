//! Asking a school for permission and giving it up: `…/uitgever/synchronizationpermission`,
//! the request as the school's ICT-coördinator sees it in Beheer, and what another party's
//! actions do not touch.

use openpoort_e2e::{bram_signed_in, cli_ok};

use crate::common::{PUBLISHER, PartnerDemo, client_identity};

const SYNC: &str = "uitgever/synchronizationpermission";

/// The party's number for a school location, as nawsearch answers it.
fn number_of(client: &crate::common::Client, code: &str) -> i64 {
    let found = client
        .request("GET", &format!("/rest/v2/nawsearch?brincode={code}"), None)
        .expect("TLS");
    assert_eq!(found.status, 200, "{}", found.body);
    let found = found.json();
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    found[0]["id"].as_i64().expect("an id")
}

fn permission(client: &crate::common::Client, id: i64, request: bool) -> bool {
    let answer = client
        .request(
            "GET",
            &format!("/rest/v2/instellingen/{id}/{SYNC}?request-permission={request}"),
            None,
        )
        .expect("TLS");
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()["hasSynchronizationPermission"]
        .as_bool()
        .unwrap_or_else(|| panic!("{}", answer.body))
}

#[test]
fn a_consenting_school_says_so_and_asking_it_again_records_nothing() {
    let demo = PartnerDemo::start();
    let client = demo.client(Some(&demo.publisher));
    let id = demo.get("/rest/v2/instellingen").ids()[0];
    assert_eq!(number_of(&client, "99ZZ00"), id, "one number per school");
    assert!(permission(&client, id, false));
    assert!(permission(&client, id, true));
    let bare = client
        .request("GET", &format!("/rest/v2/instellingen/{id}/{SYNC}"), None)
        .expect("TLS");
    assert_eq!(
        bare.json()["hasSynchronizationPermission"],
        true,
        "{}",
        bare.body
    );
}

#[tokio::test]
async fn a_burst_of_requests_shows_one_request_in_beheer_and_ticking_it_consents() {
    let demo = PartnerDemo::start();
    demo.cli(&[
        "consent", "revoke", "--school", "99ZZ00", "--party", PUBLISHER,
    ]);
    let client = demo.client(Some(&demo.publisher));
    let id = number_of(&client, "99ZZ00");
    assert!(!permission(&client, id, false));
    // Asking does not open the roster.
    let roster = client
        .request("GET", &format!("/rest/v2/instellingen/{id}"), None)
        .expect("TLS");
    assert_eq!(roster.status, 404, "{}", roster.body);

    let start = std::sync::Arc::new(std::sync::Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let client = demo.client(Some(&demo.publisher));
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                permission(&client, id, true)
            })
        })
        .collect();
    for t in threads {
        assert!(!t.join().expect("a request"), "asking is not consenting");
    }

    let mut bram = bram_signed_in(&demo.server.base).await;
    let page = bram.get("/beheer/uitgeverijen").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        page.body.matches("vraagt toestemming").count(),
        1,
        "one request however often it was asked: {}",
        page.body
    );
    assert!(
        page.body.contains("Demo Uitgeverij vraagt toestemming"),
        "{}",
        page.body
    );
    assert!(page.body.contains("asks for permission"), "{}", page.body);

    let save = crate::common::form(&page, "Opslaan");
    let on = bram
        .submit_form(&page, save, &[("partij", PUBLISHER)])
        .await;
    assert_eq!(on.location(), Some("/beheer/uitgeverijen"), "{}", on.body);
    let page = bram.get("/beheer/uitgeverijen").await;
    assert!(
        !page.body.contains("vraagt toestemming"),
        "answered: {}",
        page.body
    );
    assert!(permission(&client, id, false));
    assert_eq!(demo.get("/rest/v2/instellingen").ids(), vec![id]);
}

#[tokio::test]
async fn a_school_declines_a_request_in_beheer() {
    let demo = PartnerDemo::start();
    demo.cli(&[
        "consent", "revoke", "--school", "99ZZ00", "--party", PUBLISHER,
    ]);
    let client = demo.client(Some(&demo.publisher));
    let id = number_of(&client, "99ZZ00");
    assert!(!permission(&client, id, true));
    let mut bram = bram_signed_in(&demo.server.base).await;
    let page = bram.get("/beheer/uitgeverijen").await;
    let decline = crate::common::form(&page, "Verzoek afwijzen");
    let done = bram.submit_form(&page, decline, &[]).await;
    assert_eq!(
        done.location(),
        Some("/beheer/uitgeverijen"),
        "{}",
        done.body
    );
    let page = bram.get("/beheer/uitgeverijen").await;
    assert!(!page.body.contains("vraagt toestemming"), "{}", page.body);
    assert!(
        !permission(&client, id, false),
        "declining consents to nothing"
    );
}

#[test]
fn giving_permission_up_hides_the_school_at_once_and_lists_it_as_revoked() {
    let demo = PartnerDemo::start();
    let client = demo.client(Some(&demo.publisher));
    let id = demo.get("/rest/v2/instellingen").ids()[0];
    let gone = client
        .request(
            "DELETE",
            &format!("/rest/v2/instellingen/{id}/{SYNC}"),
            None,
        )
        .expect("TLS");
    assert_eq!(gone.status, 204, "{}", gone.body);
    assert!(gone.body.is_empty(), "an empty body: {:?}", gone.body);
    assert!(demo.get("/rest/v2/instellingen").ids().is_empty());
    for path in ["", "/details", "/ref", "/groepen", "/leerlingen", "/staf"] {
        let answer = demo.get(&format!("/rest/v2/instellingen/{id}{path}"));
        assert_eq!(answer.status, 404, "{path}: {}", answer.body);
    }
    let today = super::institutions::today();
    assert_eq!(
        demo.get(&format!(
            "/rest/v2/instellingen/synchronizationpermission/ingetrokken/{today}"
        ))
        .ids(),
        vec![id]
    );
    assert!(!permission(&client, id, false));
    // The school's history names the party as the one who ended it.
    let history = cli_ok(demo.dir.path(), &["consent", "list", "--school", "99ZZ00"]);
    assert!(history.contains("Demo Uitgeverij"), "{history}");
    assert!(history.contains("ingetrokken / revoked"), "{history}");
    // Again: nothing left to give up, and no error.
    let again = client
        .request(
            "DELETE",
            &format!("/rest/v2/instellingen/{id}/{SYNC}"),
            None,
        )
        .expect("TLS");
    assert_eq!(again.status, 204, "{}", again.body);
}

#[test]
fn another_partys_relinquishing_leaves_this_partys_consent_alone() {
    let demo = PartnerDemo::start();
    demo.cli(&[
        "party",
        "add",
        "--code",
        "andere-uitgeverij",
        "--kind",
        "uitgeverij",
        "--name",
        "Andere",
    ]);
    demo.cli(&[
        "consent",
        "grant",
        "--school",
        "99ZZ00",
        "--party",
        "andere-uitgeverij",
    ]);
    let other = client_identity("Andere uitgeverij");
    demo.register("andere-uitgeverij", &other.cert);
    let theirs = demo.client(Some(&other));
    let their_id = theirs
        .request("GET", "/rest/v2/instellingen", None)
        .expect("TLS")
        .ids()[0];
    let mine = demo.get("/rest/v2/instellingen").ids();
    assert_eq!(mine.len(), 1);
    let gone = theirs
        .request(
            "DELETE",
            &format!("/rest/v2/instellingen/{their_id}/{SYNC}"),
            None,
        )
        .expect("TLS");
    assert_eq!(gone.status, 204, "{}", gone.body);
    assert!(
        theirs
            .request("GET", "/rest/v2/instellingen", None)
            .expect("TLS")
            .ids()
            .is_empty()
    );
    assert_eq!(
        demo.get("/rest/v2/instellingen").ids(),
        mine,
        "this party's consent holds"
    );
    // Their number for the school is not this party's: it names nothing here.
    let client = demo.client(Some(&demo.publisher));
    let foreign = client
        .request(
            "DELETE",
            &format!("/rest/v2/instellingen/{their_id}/{SYNC}"),
            None,
        )
        .expect("TLS");
    assert_eq!(foreign.status, 404, "{}", foreign.body);
    assert_eq!(demo.get("/rest/v2/instellingen").ids(), mine);
}

#[test]
fn unknown_numbers_and_bad_parameters_are_refused_clearly() {
    let demo = PartnerDemo::start();
    let id = demo.get("/rest/v2/instellingen").ids()[0];
    let unknown = demo.get(&format!("/rest/v2/instellingen/{}/{SYNC}", id ^ 1));
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert!(
        unknown.json()["detail"]
            .as_str()
            .unwrap()
            .contains("bestaat niet"),
        "{}",
        unknown.body
    );
    let bad = demo.get(&format!(
        "/rest/v2/instellingen/{id}/{SYNC}?request-permission=ja"
    ));
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(
        bad.json()["detail_en"]
            .as_str()
            .unwrap()
            .contains("true or false"),
        "{}",
        bad.body
    );
    let other = demo.get(&format!("/rest/v2/instellingen/{id}/{SYNC}?request=true"));
    assert_eq!(other.status, 400, "{}", other.body);
    let wrong_method = demo
        .client(Some(&demo.publisher))
        .request(
            "PUT",
            &format!("/rest/v2/instellingen/{id}/{SYNC}"),
            Some("{}"),
        )
        .expect("TLS");
    assert_eq!(wrong_method.status, 405, "{}", wrong_method.body);
    assert!(
        wrong_method.json()["detail"].is_string(),
        "{}",
        wrong_method.body
    );
}

#[test]
fn asking_a_merged_school_is_refused_with_the_reason() {
    let demo = PartnerDemo::start();
    let client = demo.client(Some(&demo.publisher));
    let id = number_of(&client, "99ZZ01");
    demo.cli(&["school", "merge", "--from", "99ZZ01", "--into", "99ZZ00"]);
    let refused = client
        .request(
            "GET",
            &format!("/rest/v2/instellingen/{id}/{SYNC}?request-permission=true"),
            None,
        )
        .expect("TLS");
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(
        refused.json()["detail"]
            .as_str()
            .unwrap()
            .contains("niet meer actief"),
        "{}",
        refused.body
    );
    assert!(!permission(&client, id, false));
}

#[test]
fn every_call_is_audited_with_the_party_as_actor() {
    let demo = PartnerDemo::start();
    let client = demo.client(Some(&demo.publisher));
    let id = number_of(&client, "99ZZ01");
    permission(&client, id, true);
    client
        .request(
            "DELETE",
            &format!("/rest/v2/instellingen/{id}/{SYNC}"),
            None,
        )
        .expect("TLS");
    let log = cli_ok(demo.dir.path(), &["audit", "list", "--school", "99ZZ01"]);
    let actor = format!("party:{PUBLISHER}");
    for action in [
        "permission.request",
        "permission.request.withdraw",
        "partner.read",
    ] {
        assert!(
            log.lines()
                .any(|l| l.contains(action) && l.contains(&actor)),
            "{action} by {actor} in {log}"
        );
    }
}
