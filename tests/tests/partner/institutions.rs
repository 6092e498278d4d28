//! What a party sees: only schools that consent to it now, under numbers of its own.

use directory::model::Date;

use crate::common::{PUBLISHER, PartnerDemo, Register, client_identity, demo_reference};

pub fn today() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    Date::in_netherlands(now).as_str().to_owned()
}

#[test]
fn the_details_of_a_consenting_school_carry_its_codes_board_and_reference() {
    let demo = PartnerDemo::start();
    let id = demo.get("/rest/v2/instellingen").ids()[0];
    let details = demo.get(&format!("/rest/v2/instellingen/{id}/details"));
    assert_eq!(details.status, 200, "{}", details.body);
    let d = details.json();
    assert_eq!(d["brincode"], "99ZZ");
    assert_eq!(d["dependancecode"], "00");
    assert_eq!(d["bestuurscode"], "99999");
    assert_eq!(d["actief"], true);
    assert_eq!(d["instellingRef"], demo_reference(&demo));
    let stamp = d["metaResult"]["generationTimestamp"]
        .as_str()
        .expect("a timestamp");
    assert!(
        stamp.ends_with('Z') && stamp.len() == 20,
        "RFC 3339 in UTC: {stamp}"
    );
    let reference = demo.get(&format!("/rest/v2/instellingen/{id}/ref"));
    assert_eq!(reference.json(), serde_json::json!(demo_reference(&demo)));
}

#[test]
fn a_school_that_revokes_disappears_at_once_and_is_listed_as_revoked() {
    revoked_school_disappears(Register::Sqlite);
}

#[test]
fn a_school_that_revokes_disappears_at_once_on_postgresql_too() {
    revoked_school_disappears(Register::Postgres);
}

fn revoked_school_disappears(register: Register) {
    let demo = PartnerDemo::start_on(register);
    let id = demo.get("/rest/v2/instellingen").ids()[0];
    let today = today();
    assert_eq!(
        demo.get(&format!(
            "/rest/v2/instellingen/synchronizationpermission/toegekend/{today}"
        ))
        .ids(),
        vec![id]
    );
    demo.cli(&[
        "consent", "revoke", "--school", "99ZZ00", "--party", PUBLISHER,
    ]);
    assert!(demo.get("/rest/v2/instellingen").ids().is_empty());
    for path in ["", "/details", "/ref", "/groepen", "/leerlingen", "/staf"] {
        let answer = demo.get(&format!("/rest/v2/instellingen/{id}{path}"));
        assert_eq!(answer.status, 404, "{path}: {}", answer.body);
    }
    assert_eq!(
        demo.get(&format!(
            "/rest/v2/instellingen/synchronizationpermission/ingetrokken/{today}"
        ))
        .ids(),
        vec![id]
    );
    assert!(
        demo.get(&format!(
            "/rest/v2/instellingen/synchronizationpermission/toegekend/{today}"
        ))
        .ids()
        .is_empty()
    );
    // Consent given again: visible under the same number, no longer listed as revoked.
    demo.cli(&[
        "consent", "grant", "--school", "99ZZ00", "--party", PUBLISHER,
    ]);
    assert_eq!(demo.get("/rest/v2/instellingen").ids(), vec![id]);
    assert!(
        demo.get(&format!(
            "/rest/v2/instellingen/synchronizationpermission/ingetrokken/{today}"
        ))
        .ids()
        .is_empty()
    );
}

#[test]
fn another_party_sees_neither_the_school_nor_its_number() {
    another_party_sees_nothing(Register::Sqlite);
}

#[test]
fn another_party_sees_neither_the_school_nor_its_number_on_postgresql_too() {
    another_party_sees_nothing(Register::Postgres);
}

fn another_party_sees_nothing(register: Register) {
    let demo = PartnerDemo::start_on(register);
    let id = demo.get("/rest/v2/instellingen").ids()[0];
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
    let other = client_identity("Andere uitgeverij");
    demo.register("andere-uitgeverij", &other.cert);
    let client = demo.client(Some(&other));
    let list = client
        .request("GET", "/rest/v2/instellingen", None)
        .expect("TLS");
    assert_eq!(list.ids(), Vec::<i64>::new());
    for path in ["", "/details", "/ref", "/groepen", "/leerlingen", "/staf"] {
        let answer = client
            .request("GET", &format!("/rest/v2/instellingen/{id}{path}"), None)
            .expect("TLS");
        assert_eq!(answer.status, 404, "{path}: {}", answer.body);
    }
    for path in ["/leerlingen", "/leerlingen_eckid"] {
        let answer = client
            .request(
                "POST",
                &format!("/rest/v2/instellingen/{id}{path}"),
                Some("[]"),
            )
            .expect("TLS");
        assert_eq!(answer.status, 404, "POST {path}: {}", answer.body);
    }
    // With consent it sees the school, under a number of its own.
    demo.cli(&[
        "consent",
        "grant",
        "--school",
        "99ZZ00",
        "--party",
        "andere-uitgeverij",
    ]);
    let theirs = client
        .request("GET", "/rest/v2/instellingen", None)
        .expect("TLS")
        .ids();
    assert_eq!(theirs.len(), 1);
    assert_ne!(theirs[0], id, "two parties share a school number");
    assert!(
        theirs[0] > 0 && theirs[0] < (1 << 53),
        "a number JavaScript reads exactly"
    );
}

#[test]
fn a_bearer_token_with_the_partner_scope_reads_as_its_party() {
    let demo = PartnerDemo::start();
    let by_certificate = demo.get("/rest/v2/instellingen").ids();
    let token = |client_id: &str, scope: &str| -> String {
        let secret = openpoort_e2e::add_client(
            demo.dir.path(),
            PUBLISHER,
            client_id,
            &["--grant", "client_credentials", "--scope", scope],
        )
        .expect("a secret");
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async {
            let answer: serde_json::Value = reqwest::Client::new()
                .post(demo.server.url("/oidc/token"))
                .basic_auth(client_id, Some(&secret))
                .form(&[("grant_type", "client_credentials"), ("scope", scope)])
                .send()
                .await
                .expect("token endpoint")
                .json()
                .await
                .expect("JSON");
            answer["access_token"].as_str().expect("a token").to_owned()
        })
    };
    let mut client = demo.client(None);
    client.bearer = Some(token("uitgeverij-sync", "openpoort:partner"));
    let answer = client
        .request("GET", "/rest/v2/instellingen", None)
        .expect("TLS");
    assert_eq!(answer.ids(), by_certificate);
    // A token of the same party without the partner scope opens nothing.
    client.bearer = Some(token("uitgeverij-beheer", "openpoort:admin"));
    let refused = client
        .request("GET", "/rest/v2/instellingen", None)
        .expect("TLS");
    assert_eq!(refused.status, 401, "{}", refused.body);
}

#[test]
fn a_malformed_date_or_school_number_is_a_clear_error_not_a_crash() {
    let demo = PartnerDemo::start();
    let bad_date = demo.get("/rest/v2/instellingen/synchronizationpermission/toegekend/gisteren");
    assert_eq!(bad_date.status, 400, "{}", bad_date.body);
    assert!(bad_date.body.contains("gisteren"), "{}", bad_date.body);
    let bad_id = demo.get("/rest/v2/instellingen/niet-een-getal/details");
    assert_eq!(bad_id.status, 404, "{}", bad_id.body);
}

#[test]
fn a_merged_school_points_to_its_successor_and_its_pupils_keep_their_numbers() {
    let demo = PartnerDemo::start();
    demo.cli(&[
        "consent", "grant", "--school", "99ZZ01", "--party", PUBLISHER,
    ]);
    let before = demo.get("/rest/v2/instellingen").ids();
    assert_eq!(before.len(), 2, "{before:?}");
    let number_of = |code: &str| -> i64 {
        *before
            .iter()
            .find(|id| {
                let d = demo
                    .get(&format!("/rest/v2/instellingen/{id}/details"))
                    .json();
                format!(
                    "{}{}",
                    d["brincode"].as_str().unwrap(),
                    d["dependancecode"].as_str().unwrap()
                ) == code
            })
            .unwrap_or_else(|| panic!("{code} among {before:?}"))
    };
    let (from, into) = (number_of("99ZZ00"), number_of("99ZZ01"));
    let pupils = |id: i64| -> Vec<i64> {
        let o = demo.get(&format!("/rest/v2/instellingen/{id}")).json();
        let mut ids: Vec<i64> = o["leerlingen"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_i64().unwrap())
            .collect();
        ids.sort();
        ids
    };
    let moving = pupils(from);
    assert_eq!(moving.len(), 10);
    demo.cli(&["school", "merge", "--from", "99ZZ00", "--into", "99ZZ01"]);
    // The merge ended the consent: the school is listed as revoked, its data is gone …
    assert_eq!(demo.get("/rest/v2/instellingen").ids(), vec![into]);
    assert_eq!(
        demo.get(&format!("/rest/v2/instellingen/{from}")).status,
        404
    );
    // … and its details say where it went.
    let details = demo.get(&format!("/rest/v2/instellingen/{from}/details"));
    assert_eq!(details.status, 200, "{}", details.body);
    let details = details.json();
    assert_eq!(details["actief"], false, "{details}");
    assert_eq!(
        details["gefuseerdNaar"],
        serde_json::json!(into),
        "{details}"
    );
    assert_eq!(
        pupils(into),
        moving,
        "the pupils keep their numbers at the successor"
    );
}
