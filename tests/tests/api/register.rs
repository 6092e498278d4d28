//! The operator's register over the API: the outage notice, boards, school locations and a
//! school's first ICT-coördinator, by the same rules as the /operator pages and the CLI.

use reqwest::Method;
use serde_json::json;

use crate::common::demo;

#[tokio::test]
async fn the_notice_is_set_read_and_cleared_and_a_bad_one_changes_nothing() {
    let d = demo();
    let token = d.admin_token().await;
    let none = d.get("/notice", &token).await;
    assert_eq!((none.status, &none.body), (200, &json!({"notice": null})));
    let bad = d
        .send_json(
            Method::PUT,
            "/notice",
            &token,
            &json!({"text": "Storing", "text_en": "Outage", "until": "2020-01-01 10:00"}),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert_eq!(
        d.get("/notice", &token).await.body,
        json!({"notice": null}),
        "nothing was set"
    );
    let set = d
        .send_json(
            Method::PUT,
            "/notice",
            &token,
            &json!({"text": "Onderhoud vanavond", "text_en": "Maintenance tonight"}),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    let read = d.get("/notice", &token).await;
    assert_eq!(read.body["notice"]["text_en"], "Maintenance tonight");
    assert_eq!(read.body["notice"]["shown"], true);
    assert!(d.cli(&["notice", "show"]).contains("Onderhoud vanavond"));
    let cleared = d.call(Method::DELETE, "/notice", Some(&token), None).await;
    assert_eq!(cleared.status, 204);
    assert!(d.cli(&["notice", "show"]).contains("geen storingsmelding"));
}

#[tokio::test]
async fn boards_schools_and_a_first_ict_coordinator_are_added_with_the_request_on_record() {
    let d = demo();
    let token = d.admin_token().await;
    let board = d
        .send_json(
            Method::POST,
            "/boards",
            &token,
            &json!({"bestuursnummer": "41234", "name": "Stichting Noord"}),
        )
        .await;
    assert_eq!(board.status, 201, "{}", board.body);
    let again = d
        .send_json(
            Method::POST,
            "/boards",
            &token,
            &json!({"bestuursnummer": "41234", "name": "Nog een"}),
        )
        .await;
    assert_eq!(
        (again.status, again.problem()),
        (409, "conflict"),
        "{}",
        again.body
    );
    let renamed = d
        .send_json(
            Method::PUT,
            "/boards/41234",
            &token,
            &json!({"name": "Stichting Noorderlicht"}),
        )
        .await;
    assert_eq!(
        (renamed.status, &renamed.body["name"]),
        (200, &json!("Stichting Noorderlicht"))
    );
    let school = d
        .send_json(
            Method::POST,
            "/schools",
            &token,
            &json!({"bestuursnummer": "41234", "brin": "12AB", "vestigingscode": "00", "name": "De Linde"}),
        )
        .await;
    assert_eq!(school.status, 201, "{}", school.body);
    assert!(
        school
            .header("location")
            .is_some_and(|l| l.ends_with("/api/v1/schools/12AB00"))
    );
    let listed = d.get("/schools", &token).await;
    assert!(
        listed.body["schools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["code"] == "12AB00"),
        "{}",
        listed.body
    );
    // Without the document's reference: refused, and nobody is created.
    let request = json!({
        "email": "ilse.bakker@linde.example", "achternaam": "Bakker", "roepnaam": "Ilse",
        "requested_by": "J. de Bestuurder", "document_ref": " ",
    });
    let refused = d
        .send_json(
            Method::POST,
            "/schools/12AB00/first-ict-coordinator",
            &token,
            &request,
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        d.outbox().iter().all(|m| !m.contains("ilse.bakker")),
        "no mail for a refused request"
    );
    let mut request = request;
    request["document_ref"] = json!("BRF-2026-17");
    let made = d
        .send_json(
            Method::POST,
            "/schools/12AB00/first-ict-coordinator",
            &token,
            &request,
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(made.body["activation_mailed"], true);
    assert!(
        made.body["approved_by"]
            .as_str()
            .unwrap()
            .starts_with("api:"),
        "{}",
        made.body
    );
    assert!(
        d.outbox()
            .iter()
            .any(|m| m.contains("ilse.bakker") && m.contains("/activeren?token="))
    );
    let detail = d.get("/schools/12AB00", &token).await;
    let firsts = detail.body["first_ict_coordinators"].as_array().unwrap();
    assert_eq!(firsts.len(), 1, "{}", detail.body);
    assert_eq!(
        (
            firsts[0]["requested_by"].as_str(),
            firsts[0]["document_ref"].as_str()
        ),
        (Some("J. de Bestuurder"), Some("BRF-2026-17"))
    );
    let second = d
        .send_json(
            Method::POST,
            "/schools/12AB00/first-ict-coordinator",
            &token,
            &request,
        )
        .await;
    assert_eq!(
        (second.status, second.problem()),
        (409, "conflict"),
        "{}",
        second.body
    );
}

#[tokio::test]
async fn parties_and_products_are_added_and_changed_and_a_bad_product_changes_nothing() {
    let d = demo();
    let token = d.admin_token().await;
    let party = d
        .send_json(
            Method::POST,
            "/parties",
            &token,
            &json!({"code": "noord", "kind": "publisher", "name": "Uitgeverij Noord"}),
        )
        .await;
    assert_eq!(party.status, 201, "{}", party.body);
    let renamed = d
        .send_json(
            Method::PUT,
            "/parties/noord",
            &token,
            &json!({"name": "Uitgeverij Noorderzon"}),
        )
        .await;
    assert_eq!(
        (renamed.status, &renamed.body["name"]),
        (200, &json!("Uitgeverij Noorderzon"))
    );
    let listed = d.get("/parties", &token).await;
    assert!(
        listed.body["parties"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["code"] == "noord"),
        "{}",
        listed.body
    );
    let product = json!({"code": "lezen", "methode": "Leesrijk", "name": "Leesrijk 4", "launch_url": "http://lezen.example/"});
    let bad = d
        .send_json(Method::POST, "/parties/noord/products", &token, &product)
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert_eq!(
        d.get("/parties/noord/products", &token).await.body["products"],
        json!([])
    );
    let mut product = product;
    product["launch_url"] = json!("https://lezen.example/");
    let made = d
        .send_json(Method::POST, "/parties/noord/products", &token, &product)
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    product["name"] = json!("Leesrijk 4 en 5");
    product["home_allowed"] = json!(true);
    let changed = d
        .send_json(
            Method::PUT,
            "/parties/noord/products/lezen",
            &token,
            &product,
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(
        (&changed.body["name"], &changed.body["home_allowed"]),
        (&json!("Leesrijk 4 en 5"), &json!(true))
    );
    assert!(
        d.cli(&["product", "list", "--party", "noord"])
            .contains("Leesrijk 4 en 5")
    );
}
