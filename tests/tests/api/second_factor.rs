//! Who must have a second factor at a school, and a person's reset, over the API and the command
//! line: the same rules as Beheer › Leerkrachten (issue #21).

use serde_json::{Value, json};

use crate::common::demo;

fn staff_id(policy: &Value, name: &str) -> String {
    policy["staff"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{name} not listed: {policy}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_second_factor_policy_is_read_and_set_over_the_api_and_the_command_line() {
    let d = demo();
    let token = d.admin_token().await;
    let path = "/schools/99ZZ00/second-factor-policy";
    let read = d.get(path, &token).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(
        read.body["policy"],
        Value::Null,
        "the operator's default applies"
    );
    assert_eq!(read.body["default"], "none");
    assert_eq!(read.body["effective"], "none");
    let staff = read.body["staff"].as_array().unwrap();
    assert!(
        staff.iter().all(|p| p["second_factor"] == false),
        "{}",
        read.body
    );
    assert!(!read.body.to_string().contains("secret"));

    let set = d
        .send_json(
            reqwest::Method::PUT,
            path,
            &token,
            &json!({"policy": "managers"}),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(set.body["policy"], "managers");
    assert_eq!(set.body["effective"], "managers");
    let bad = d
        .send_json(
            reqwest::Method::PUT,
            path,
            &token,
            &json!({"policy": "iedereen"}),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let extra = d
        .send_json(
            reqwest::Method::PUT,
            path,
            &token,
            &json!({"policy": "none", "also": 1}),
        )
        .await;
    assert!(extra.status >= 400, "{}", extra.body);
    let back = d
        .send_json(reqwest::Method::PUT, path, &token, &json!({"policy": null}))
        .await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(back.body["policy"], Value::Null);

    // The command line sets the same, and shows it with who has a factor.
    let out = d.cli(&[
        "school",
        "second-factor-policy",
        "--school",
        "99ZZ00",
        "--policy",
        "all_staff",
    ]);
    assert!(out.contains("all_staff"), "{out}");
    assert!(out.contains("bram.jansen@demo.openpoort.nl"), "{out}");
    let read = d.get(path, &token).await;
    assert_eq!(read.body["effective"], "all_staff", "{}", read.body);
}

#[tokio::test]
async fn a_reset_over_the_api_needs_a_factor_to_reset_and_a_person_of_the_school() {
    let d = demo();
    let token = d.admin_token().await;
    let read = d.get("/schools/99ZZ00/second-factor-policy", &token).await;
    let anna = staff_id(&read.body, "Anna de Vries");
    let none = d
        .call(
            reqwest::Method::POST,
            &format!("/schools/99ZZ00/staff/{anna}/second-factor-reset"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(none.status, 409, "nothing to reset: {}", none.body);
    // Anna works at 99ZZ00 only: not found at the school's other location.
    let elsewhere = d
        .call(
            reqwest::Method::POST,
            &format!("/schools/99ZZ01/staff/{anna}/second-factor-reset"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(elsewhere.status, 404, "{}", elsewhere.body);
    let cli = openpoort_e2e::openpoort(d.dir.path())
        .args([
            "staff",
            "reset-second-factor",
            "--email",
            "anna.devries@demo.openpoort.nl",
            "--school",
            "99ZZ00",
        ])
        .output()
        .unwrap();
    assert!(!cli.status.success());
    let said = openpoort_e2e::text(&cli.stderr);
    assert!(said.contains("geen tweestapsverificatie"), "{said}");
}
