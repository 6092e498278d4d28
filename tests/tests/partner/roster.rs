//! A school's groups, pupils and staff as a party reads them: Basispoort's shapes, its role
//! names, and only what the party's release policy allows.

use serde_json::Value;

use crate::common::{PUBLISHER, PartnerDemo};

fn school(demo: &PartnerDemo) -> i64 {
    demo.get("/rest/v2/instellingen").ids()[0]
}

fn ok(demo: &PartnerDemo, path: &str) -> Value {
    let answer = demo.get(path);
    assert_eq!(answer.status, 200, "{path}: {}", answer.body);
    answer.json()
}

#[test]
fn the_overview_ties_pupils_and_staff_to_the_school_s_groups_with_basispoort_roles() {
    let demo = PartnerDemo::start();
    let id = school(&demo);
    let o = ok(&demo, &format!("/rest/v2/instellingen/{id}"));
    let keys: Vec<&str> = o["groepen"]
        .as_array()
        .expect("groepen")
        .iter()
        .map(|g| g["lasKey"].as_str().expect("a group key"))
        .collect();
    assert!(keys.contains(&"g5"), "{keys:?}");
    let pupils = o["leerlingen"].as_array().expect("leerlingen");
    assert_eq!(pupils.len(), 10, "the demo's ten pupils");
    for p in pupils {
        let n = p["id"].as_i64().expect("a numeric id");
        assert!(n > 0 && n < (1 << 53));
        assert!(
            keys.contains(&p["groep"].as_str().expect("a stamgroep")),
            "{p}"
        );
        assert!(
            p["lasKey"].is_null(),
            "a person's LAS key is not released: {p}"
        );
    }
    let staff = o["medewerkers"].as_array().expect("medewerkers");
    let allowed = [
        "Leerkracht",
        "ICTCoordinator",
        "IBRTer",
        "Stagiair",
        "Inval",
    ];
    for m in staff {
        for r in m["rollen"].as_array().expect("rollen") {
            assert!(allowed.contains(&r.as_str().unwrap()), "{m}");
        }
    }
    assert!(
        staff
            .iter()
            .any(|m| m["rollen"] == serde_json::json!(["Leerkracht"])
                && m["groepen"] == serde_json::json!(["g5"])),
        "Anna, leerkracht of groep 5: {staff:?}"
    );
    let stamp = o["metaResult"]["mutationTimestamp"]
        .as_str()
        .expect("a timestamp");
    assert!(stamp.ends_with('Z'), "{stamp}");
    // The separate paths answer the same as the overview's parts.
    let groups = ok(&demo, &format!("/rest/v2/instellingen/{id}/groepen"));
    assert_eq!(groups["groepen"], o["groepen"]);
    assert_eq!(groups["subgroepen"], o["subgroepen"]);
    let listed = ok(&demo, &format!("/rest/v2/instellingen/{id}/leerlingen"));
    assert_eq!(listed["leerlingen"], o["leerlingen"]);
    let staff_only = ok(&demo, &format!("/rest/v2/instellingen/{id}/staf"));
    assert_eq!(staff_only["medewerkers"], o["medewerkers"]);
}

#[test]
fn names_and_e_mail_are_released_only_where_the_party_s_policy_names_them() {
    let demo = PartnerDemo::start();
    let id = school(&demo);
    let before = ok(&demo, &format!("/rest/v2/instellingen/{id}"));
    for p in before["leerlingen"].as_array().unwrap() {
        for field in ["achternaam", "voornaam", "voorvoegsel", "voorletters"] {
            assert!(
                p["persoonsgegevens"][field].is_null(),
                "{field} released by default: {p}"
            );
        }
        assert!(p["eckid"].is_null());
    }
    for m in before["medewerkers"].as_array().unwrap() {
        assert!(m["emailadres"].is_null(), "e-mail released by default: {m}");
    }
    for attribute in ["family_name", "given_name", "email"] {
        demo.cli(&[
            "party",
            "allow-attribute",
            "--party",
            PUBLISHER,
            "--attribute",
            attribute,
        ]);
    }
    let after = ok(&demo, &format!("/rest/v2/instellingen/{id}"));
    let finn = after["leerlingen"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["persoonsgegevens"]["voornaam"] == "Finn")
        .unwrap_or_else(|| panic!("Finn by name: {after}"));
    assert_eq!(finn["persoonsgegevens"]["achternaam"], "Smit");
    assert_eq!(finn["persoonsgegevens"]["voorletters"], "F.");
    assert!(
        finn["persoonsgegevens"]["voorvoegsel"].is_null(),
        "tussenvoegsels not allowed"
    );
    assert!(
        after["medewerkers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["emailadres"] == "anna.devries@demo.openpoort.nl"),
        "{after}"
    );
    // The same person keeps the same number whatever is released.
    let ids = |v: &Value| -> Vec<i64> {
        let mut ids: Vec<i64> = v["leerlingen"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_i64().unwrap())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&before), ids(&after));
}

#[test]
fn a_post_of_pupil_numbers_answers_only_those_pupils() {
    let demo = PartnerDemo::start();
    let id = school(&demo);
    let all = ok(&demo, &format!("/rest/v2/instellingen/{id}/leerlingen"));
    let numbers: Vec<i64> = all["leerlingen"].as_array().unwrap()[..2]
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    let body = format!("[{}, {}, 12345]", numbers[0], numbers[1]);
    let answer = demo
        .client(Some(&demo.publisher))
        .request(
            "POST",
            &format!("/rest/v2/instellingen/{id}/leerlingen"),
            Some(&body),
        )
        .expect("TLS");
    assert_eq!(answer.status, 200, "{}", answer.body);
    let mut got: Vec<i64> = answer.json()["leerlingen"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    got.sort();
    let mut want = numbers.clone();
    want.sort();
    assert_eq!(got, want);
    let bad = demo
        .client(Some(&demo.publisher))
        .request(
            "POST",
            &format!("/rest/v2/instellingen/{id}/leerlingen"),
            Some("{\"ids\": 1}"),
        )
        .expect("TLS");
    assert_eq!(bad.status, 400, "{}", bad.body);
}

#[test]
fn looking_pupils_up_by_eck_id_needs_the_eck_id_in_the_party_s_policy() {
    let demo = PartnerDemo::start();
    let id = school(&demo);
    let path = format!("/rest/v2/instellingen/{id}/leerlingen_eckid");
    let body = "[\"https://ketenid.nl/201703/0123456789abcdef\"]";
    let refused = demo
        .client(Some(&demo.publisher))
        .request("POST", &path, Some(body))
        .expect("TLS");
    assert_eq!(refused.status, 403, "{}", refused.body);
    demo.cli(&[
        "party",
        "allow-attribute",
        "--party",
        PUBLISHER,
        "--attribute",
        "eck_id",
    ]);
    let allowed = demo
        .client(Some(&demo.publisher))
        .request("POST", &path, Some(body))
        .expect("TLS");
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    assert_eq!(
        allowed.json()["leerlingen"],
        serde_json::json!([]),
        "no demo pupil has that ECK-iD"
    );
}
