//! A school's release audit and its board's processing agreement over the API: the same rules
//! as Beheer › Privacy.

use serde_json::json;

use crate::common::demo;

#[tokio::test]
async fn the_release_audit_is_read_with_the_page_s_filter_and_a_bad_filter_is_a_problem() {
    let d = demo();
    let token = d.admin_token().await;
    let listed = d.get("/schools/99ZZ00/releases", &token).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body["school"], "99ZZ00");
    assert!(listed.body["releases"].is_array(), "{}", listed.body);
    assert_eq!(listed.body["next_before"], json!(null));

    let filtered = d
        .get("/schools/99ZZ00/releases?party=demo-uitgeverij&group=g5&from=2026-01-01&until=2026-12-31", &token)
        .await;
    assert_eq!(filtered.status, 200, "{}", filtered.body);

    let backwards = d
        .get(
            "/schools/99ZZ00/releases?from=2026-12-31&until=2026-01-01",
            &token,
        )
        .await;
    assert_eq!(
        (backwards.status, backwards.problem()),
        (422, "validation"),
        "{}",
        backwards.body
    );
    let bad_date = d
        .get("/schools/99ZZ00/releases?from=31-12-2026", &token)
        .await;
    assert_eq!(bad_date.status, 422, "{}", bad_date.body);
    let unknown = d
        .get("/schools/99ZZ00/releases?party=bestaat-niet", &token)
        .await;
    assert_eq!(
        (unknown.status, unknown.problem()),
        (404, "not-found"),
        "{}",
        unknown.body
    );
}

#[tokio::test]
async fn without_a_version_in_force_there_is_no_agreement_to_accept() {
    let d = demo();
    let token = d.admin_token().await;
    let state = d.get("/schools/99ZZ00/processing-agreement", &token).await;
    assert_eq!(state.status, 200, "{}", state.body);
    assert_eq!(state.body["current_version"], json!(null));
    assert_eq!(state.body["current_accepted"], json!(false));
    assert_eq!(state.body["acceptances"], json!([]));

    let accept = d
        .send_json(
            reqwest::Method::POST,
            "/schools/99ZZ00/processing-agreement/acceptances",
            &token,
            &json!({"version": "2026-1"}),
        )
        .await;
    assert_eq!(
        (accept.status, accept.problem()),
        (422, "validation"),
        "{}",
        accept.body
    );
    let after = d.get("/schools/99ZZ00/processing-agreement", &token).await;
    assert_eq!(
        after.body["acceptances"],
        json!([]),
        "a refused request changes nothing"
    );
}
