//! The URL prefixes of a publisher's hosted licence API (LIKA) through the admin API, by the
//! rules of the CLI.

use reqwest::Method;
use serde_json::json;

use crate::common::{PUBLISHER, demo};

#[tokio::test]
async fn an_operator_client_allows_lists_and_removes_a_publisher_s_url_prefix() {
    let d = demo();
    let token = d.admin_token().await;
    let path = format!("/parties/{PUBLISHER}/url-prefixes");
    let added = d
        .send_json(
            Method::POST,
            &path,
            &token,
            &json!({"url": "HTTPS://Apps.Example.nl:443/lesstof"}),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.body);
    assert_eq!(added.body["url"], "https://apps.example.nl/lesstof");
    let again = d
        .send_json(
            Method::POST,
            &path,
            &token,
            &json!({"url": "https://apps.example.nl/lesstof"}),
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    for bad in [
        "http://apps.example.nl",
        "https://apps.example.nl/?q=1",
        "apps",
    ] {
        let refused = d
            .send_json(Method::POST, &path, &token, &json!({"url": bad}))
            .await;
        assert_eq!(refused.status, 422, "{bad}: {}", refused.body);
    }
    let listed = d.get(&path, &token).await;
    assert_eq!(
        listed.body["url_prefixes"],
        json!(["https://apps.example.nl/lesstof"])
    );
    // Also listed on the command line: one rule, one register.
    assert_eq!(
        d.cli(&["party", "url-allowed", "--party", PUBLISHER])
            .trim(),
        "https://apps.example.nl/lesstof"
    );
    let removed = d
        .call(
            Method::DELETE,
            &format!("{path}/https%3A%2F%2Fapps.example.nl%2Flesstof"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(removed.status, 204, "{}", removed.body);
    assert_eq!(d.get(&path, &token).await.body["url_prefixes"], json!([]));
    let gone = d
        .call(
            Method::DELETE,
            &format!("{path}/https%3A%2F%2Fapps.example.nl%2Flesstof"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(gone.status, 404, "{}", gone.body);
}
