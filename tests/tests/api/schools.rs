//! A school's IP ranges and consents over the API: the same rules as the Beheer pages.

use serde_json::json;

use crate::common::demo;

#[tokio::test]
async fn ip_ranges_are_added_listed_and_removed_and_a_wrong_one_is_a_validation_problem() {
    let d = demo();
    let token = d.admin_token().await;
    let added = d
        .send_json(
            reqwest::Method::POST,
            "/schools/99ZZ00/ip-ranges",
            &token,
            &json!({"cidr": "198.51.100.0/24", "label": "Gebouw C"}),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.body);
    assert!(
        added
            .header("location")
            .is_some_and(|l| l.ends_with("/api/v1/schools/99ZZ00/ip-ranges/198.51.100.0%2F24")),
        "{:?}",
        added.headers
    );
    let again = d
        .send_json(
            reqwest::Method::POST,
            "/schools/99ZZ00/ip-ranges",
            &token,
            &json!({"cidr": "198.51.100.0/24"}),
        )
        .await;
    assert_eq!(
        (again.status, again.problem()),
        (409, "conflict"),
        "{}",
        again.body
    );
    let wrong = d
        .send_json(
            reqwest::Method::POST,
            "/schools/99ZZ00/ip-ranges",
            &token,
            &json!({"cidr": "198.51.100.9/24"}),
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert!(
        wrong.body["detail"]
            .as_str()
            .unwrap()
            .contains("eerste adres"),
        "{}",
        wrong.body
    );

    let listed = d.get("/schools/99ZZ00/ip-ranges", &token).await;
    let cidrs: Vec<&str> = listed.body["ip_ranges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["cidr"].as_str().unwrap())
        .collect();
    assert!(
        cidrs.contains(&"198.51.100.0/24") && !cidrs.contains(&"198.51.100.9/24"),
        "{cidrs:?}"
    );

    let gone = d
        .call(
            reqwest::Method::DELETE,
            "/schools/99ZZ00/ip-ranges/198.51.100.0%2F24",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(gone.status, 204, "{}", gone.body);
    assert!(
        !d.cli(&["ip-range", "list", "--school", "99ZZ00"])
            .contains("198.51.100")
    );
}

#[tokio::test]
async fn consent_is_withdrawn_and_given_again_with_what_the_party_receives() {
    let d = demo();
    let token = d.admin_token().await;
    let listed = d.get("/schools/99ZZ00/consents", &token).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let publisher = listed.body["parties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["party"] == "demo-uitgeverij")
        .cloned()
        .expect("the demo publisher");
    assert_eq!(publisher["consent"], true);
    let about_pupils = publisher["receives_about_pupils"].as_array().unwrap();
    assert!(about_pupils.contains(&json!("subject")) && !about_pupils.contains(&json!("email")));

    let path = "/schools/99ZZ00/consents/demo-uitgeverij";
    let off = d
        .call(reqwest::Method::DELETE, path, Some(&token), None)
        .await;
    assert_eq!(off.status, 204, "{}", off.body);
    let twice = d
        .call(reqwest::Method::DELETE, path, Some(&token), None)
        .await;
    assert_eq!(
        (twice.status, twice.problem()),
        (404, "not-found"),
        "{}",
        twice.body
    );
    let on = d.call(reqwest::Method::PUT, path, Some(&token), None).await;
    assert_eq!(
        (on.status, &on.body["consent"]),
        (200, &json!(true)),
        "{}",
        on.body
    );
    let history = d.cli(&["consent", "list", "--school", "99ZZ00"]);
    assert!(
        history.contains("API-client"),
        "the API client is named as actor: {history}"
    );
}

#[tokio::test]
async fn concurrent_requests_for_one_range_and_one_consent_store_each_once() {
    let d = demo();
    let token = d.admin_token().await;
    let off = d
        .call(
            reqwest::Method::DELETE,
            "/schools/99ZZ00/consents/demo-uitgeverij",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(off.status, 204, "{}", off.body);
    let mut burst = tokio::task::JoinSet::new();
    for i in 0..16 {
        let http = reqwest::Client::new();
        let token = token.clone();
        let ranges = d.url("/api/v1/schools/99ZZ00/ip-ranges");
        let consent = d.url("/api/v1/schools/99ZZ00/consents/demo-uitgeverij");
        burst.spawn(async move {
            let (kind, request) = if i % 2 == 0 {
                (
                    0,
                    http.post(ranges).json(&json!({"cidr": "203.0.113.0/24"})),
                )
            } else {
                (1, http.put(consent))
            };
            let status = request.bearer_auth(token).send().await.unwrap().status();
            (kind, status.as_u16())
        });
    }
    let mut statuses = [Vec::new(), Vec::new()];
    while let Some(r) = burst.join_next().await {
        let (kind, status) = r.unwrap();
        statuses[kind].push(status);
    }
    let created = statuses[0].iter().filter(|s| **s == 201).count();
    assert_eq!(
        created, 1,
        "one range created, the rest refused: {:?}",
        statuses[0]
    );
    assert!(
        statuses[0].iter().all(|s| *s == 201 || *s == 409),
        "{:?}",
        statuses[0]
    );
    // Consenting is idempotent: every request succeeds, one consent is recorded.
    assert!(
        statuses[1].iter().all(|s| *s == 200 || *s == 409),
        "{:?}",
        statuses[1]
    );
    let history = d.cli(&["consent", "list", "--school", "99ZZ00"]);
    let in_force = history
        .lines()
        .filter(|l| l.contains("geldig / in force"))
        .count();
    assert_eq!(in_force, 1, "{history}");
}
