//! A school's staff over the API: the same rules as Beheer › Leerkrachten.

use serde_json::{Value, json};

use crate::common::demo;

fn find<'a>(list: &'a Value, achternaam: &str) -> &'a Value {
    list["staff"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["achternaam"] == achternaam)
        .unwrap_or_else(|| panic!("{achternaam} not listed: {list}"))
}

#[tokio::test]
async fn staff_are_added_given_roles_and_groups_and_deactivated_through_the_api() {
    let d = demo();
    let token = d.admin_token().await;
    let listed = d.get("/schools/99ZZ00/staff", &token).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let bram = find(&listed.body, "Jansen");
    assert_eq!(bram["status"], "active");
    assert_eq!(bram["roles"], json!(["leerkracht", "ict_coordinator"]));
    assert_eq!(bram["groups"][0]["group"], "g8");

    let wrong = d
        .send_json(
            reqwest::Method::POST,
            "/schools/99ZZ00/staff",
            &token,
            &json!({"achternaam": "Dijk", "email": "sanne@"}),
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    let added = d
        .send_json(
            reqwest::Method::POST,
            "/schools/99ZZ00/staff",
            &token,
            &json!({"roepnaam": "Sanne", "voorvoegsel": "van", "achternaam": "Dijk", "email": "sanne@demo.openpoort.nl"}),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.body);
    assert_eq!(added.body["status"], "inactive");
    assert_eq!(added.body["activation_mailed"], true);
    assert!(
        d.outbox()
            .iter()
            .any(|m| m.contains("sanne@demo.openpoort.nl")),
        "mailed"
    );
    let id = added.body["id"].as_str().unwrap().to_owned();
    let again = d
        .send_json(
            reqwest::Method::POST,
            "/schools/99ZZ00/staff",
            &token,
            &json!({"achternaam": "Dijk", "email": "sanne@demo.openpoort.nl"}),
        )
        .await;
    assert_eq!((again.status, again.problem()), (409, "conflict"));

    let path = format!("/schools/99ZZ00/staff/{id}");
    let role = d
        .call(
            reqwest::Method::PUT,
            &format!("{path}/roles/invalkracht"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(role.status, 204, "{}", role.body);
    let group8 = bram["groups"][0]["group_id"].as_str().unwrap();
    let linked = d
        .send_json(
            reqwest::Method::PUT,
            &format!("{path}/groups/{group8}"),
            &token,
            &json!({"valid_from": "2020-01-01", "valid_until": "2999-12-31"}),
        )
        .await;
    assert_eq!(linked.status, 204, "{}", linked.body);
    let backwards = d
        .send_json(
            reqwest::Method::PUT,
            &format!("{path}/groups/{group8}"),
            &token,
            &json!({"valid_from": "2999-12-31", "valid_until": "2998-01-01"}),
        )
        .await;
    assert_eq!(backwards.status, 422, "{}", backwards.body);
    let one = d.get(&path, &token).await;
    assert_eq!(one.body["roles"], json!(["invalkracht"]));
    assert_eq!(one.body["groups"][0]["valid_until"], "2999-12-31");
    assert_eq!(one.body["groups"][0]["current"], true);

    let email = d
        .send_json(
            reqwest::Method::PUT,
            &format!("{path}/email"),
            &token,
            &json!({"email": "sanne.vandijk@demo.openpoort.nl"}),
        )
        .await;
    assert_eq!(email.status, 200, "{}", email.body);
    assert_eq!(email.body["activation_mailed"], true);

    let off = d
        .call(
            reqwest::Method::POST,
            &format!("{path}/deactivation"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(off.status, 204, "{}", off.body);
    assert_eq!(d.get(&path, &token).await.body["status"], "deactivated");
    let back = d
        .call(
            reqwest::Method::POST,
            &format!("{path}/invitation"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(d.get(&path, &token).await.body["status"], "inactive");

    let unknown = d.get("/schools/99ZZ00/staff/onbekend", &token).await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    let audit = d.cli(&["audit", "list", "--school", "99ZZ00"]);
    for action in ["staff.role.grant", "staff.group.assign", "staff.email.set"] {
        assert!(audit.contains(action), "{action}: {audit}");
    }
}
