//! A school's LAS link over the API: the same rules as Beheer's page and `openpoort las`.

use serde_json::json;

use openpoort_e2e::fake_las;

use crate::common::demo;

const KEY: &str = "sleutel-van-de-school-42";

#[tokio::test]
async fn a_las_link_is_registered_switched_on_and_pulled_and_its_key_is_never_answered() {
    let d = demo();
    let token = d.admin_token().await;
    let file = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../directory/tests/edexml/complete-2.1.xml"),
    )
    .unwrap();
    // 99ZZ01, the demo's second location, is the school of the project's complete file.
    let endpoint = fake_las(KEY, file);
    let path = "/schools/99ZZ01/las-link";
    let none = d.get(path, &token).await;
    assert_eq!(
        (none.status, none.problem()),
        (404, "not-found"),
        "{}",
        none.body
    );

    let put = |body: serde_json::Value, path: &'static str| {
        let (d, token) = (&d, &token);
        async move { d.send_json(reqwest::Method::PUT, path, token, &body).await }
    };
    let plain = put(
        json!({"vendor": "esis", "endpoint": "http://las.example.nl/edexml", "key": "verkeerd"}),
        "/schools/99ZZ01/las-link",
    )
    .await;
    assert_eq!(plain.status, 422, "http to another machine: {}", plain.body);
    let added = put(
        json!({"vendor": "esis", "endpoint": endpoint, "key": "verkeerd"}),
        "/schools/99ZZ01/las-link",
    )
    .await;
    assert_eq!(added.status, 201, "{}", added.body);
    assert_eq!(added.body["vendor"], "esis");
    assert_eq!(added.body["enabled_by_school"], false);
    assert!(
        !added.body.to_string().contains("verkeerd"),
        "no key in an answer"
    );
    let again = put(
        json!({"vendor": "esis", "endpoint": endpoint, "key": "verkeerd"}),
        "/schools/99ZZ01/las-link",
    )
    .await;
    assert_eq!(again.status, 409, "{}", again.body);

    let pull = format!("{path}/pull");
    let off = d
        .call(reqwest::Method::POST, &pull, Some(&token), None)
        .await;
    assert_eq!(off.status, 409, "switched off: {}", off.body);
    let on = put(json!({"enabled": true}), "/schools/99ZZ01/las-link/enabled").await;
    assert_eq!(on.status, 204, "{}", on.body);
    let refused = d
        .call(reqwest::Method::POST, &pull, Some(&token), None)
        .await;
    assert_eq!(refused.status, 200, "{}", refused.body);
    assert_eq!(refused.body["status"], "refused");
    assert!(refused.body["import"].is_null());

    let key = put(json!({"key": KEY}), "/schools/99ZZ01/las-link/key").await;
    assert_eq!(key.status, 204, "{}", key.body);
    let pulled = d
        .call(reqwest::Method::POST, &pull, Some(&token), None)
        .await;
    assert_eq!(pulled.body["status"], "ok", "{}", pulled.body);
    assert_eq!(pulled.body["import"]["applied"], true, "{}", pulled.body);
    let state = d.get(path, &token).await;
    assert_eq!(state.status, 200);
    assert_eq!(state.body["active"], true, "{}", state.body);
    assert_eq!(state.body["accepted_by_las"], true);
    assert_eq!(state.body["last_status"], "ok");
    assert!(!state.body.to_string().contains(KEY), "no key in an answer");
}
