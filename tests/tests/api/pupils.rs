//! Beheer › Leerlingen through the admin API: groups and pupils, pictures, home codes. The rules
//! are the pages' (`school_admin::pupils`), so these tests check that the API reaches them and
//! answers as a script needs: what changed, what was refused, nothing changed on a refusal.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Demo, demo};

/// The id of the demo school's group with this name.
async fn group_id(d: &Demo, admin: &str, school: &str, name: &str) -> String {
    let groups = d.get(&format!("/schools/{school}/groups"), admin).await;
    assert_eq!(groups.status, 200, "{}", groups.body);
    groups.body["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["name"] == name)
        .unwrap_or_else(|| panic!("{name}: {}", groups.body))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn pupils(d: &Demo, admin: &str, group: &str) -> Vec<Value> {
    let a = d
        .get(&format!("/schools/99ZZ00/groups/{group}/pupils"), admin)
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.body["pupils"].as_array().expect("pupils").clone()
}

fn pupil<'a>(pupils: &'a [Value], name: &str) -> &'a Value {
    pupils
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {pupils:?}"))
}

async fn home_login_works(d: &Demo, code: &str, pin: &str) -> bool {
    let mut home = openpoort_e2e::Browser::new(&d.server.base);
    home.submit("/thuis", &[("code", code), ("pin", pin)])
        .await
        .location()
        == Some("/")
}

#[tokio::test]
async fn groups_are_listed_in_reading_order_with_their_pupils() {
    let d = demo();
    let admin = d.admin_token().await;
    let groups = d.get("/schools/99ZZ00/groups", &admin).await;
    assert_eq!(groups.status, 200, "{}", groups.body);
    let names: Vec<&str> = groups.body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    let g5 = names.iter().position(|n| n.starts_with("Groep 5")).unwrap();
    let g8 = names.iter().position(|n| n.starts_with("Groep 8")).unwrap();
    assert!(g5 < g8, "groep 5 before groep 8: {names:?}");
    let uilen = group_id(&d, &admin, "99ZZ00", "Groep 5 Uilen").await;
    let listed = pupils(&d, &admin, &uilen).await;
    let finn = pupil(&listed, "Finn Smit");
    // The fifth demo pupil has the catalogue's fifth picture.
    assert_eq!(finn["picture"], "boom", "{finn}");
    assert_eq!(finn["locked"], false, "{finn}");
}

#[tokio::test]
async fn a_picture_is_set_and_removed_and_an_unknown_one_changes_nothing() {
    let d = demo();
    let admin = d.admin_token().await;
    let uilen = group_id(&d, &admin, "99ZZ00", "Groep 5 Uilen").await;
    let finn = pupil(&pupils(&d, &admin, &uilen).await, "Finn Smit")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/schools/99ZZ00/pupils/{finn}/picture");

    let unknown = d
        .send_json(Method::PUT, &path, &admin, &json!({"picture": "eenhoorn"}))
        .await;
    assert_eq!(unknown.status, 422, "{}", unknown.body);
    assert_eq!(unknown.problem(), "validation");
    assert_eq!(
        pupil(&pupils(&d, &admin, &uilen).await, "Finn Smit")["picture"],
        "boom",
        "a refused picture changes nothing"
    );

    let removed = d
        .send_json(Method::PUT, &path, &admin, &json!({"picture": null}))
        .await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert_eq!(
        pupil(&pupils(&d, &admin, &uilen).await, "Finn Smit")["picture"],
        Value::Null
    );
    let set = d
        .send_json(Method::PUT, &path, &admin, &json!({"picture": "vis"}))
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(
        pupil(&pupils(&d, &admin, &uilen).await, "Finn Smit")["picture"],
        "vis"
    );
}

#[tokio::test]
async fn a_burst_of_missing_pictures_requests_gives_every_pupil_one_and_no_two_alike() {
    let d = demo();
    let admin = d.admin_token().await;
    let uilen = group_id(&d, &admin, "99ZZ00", "Groep 5 Uilen").await;
    for p in pupils(&d, &admin, &uilen).await {
        let id = p["id"].as_str().unwrap();
        let cleared = d
            .send_json(
                Method::PUT,
                &format!("/schools/99ZZ00/pupils/{id}/picture"),
                &admin,
                &json!({"picture": null}),
            )
            .await;
        assert_eq!(cleared.status, 200, "{}", cleared.body);
    }
    let path = format!("/schools/99ZZ00/groups/{uilen}/missing-pictures");
    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..12 {
        // A client each: separate connections, so the requests meet at the server.
        let request = reqwest::Client::new()
            .post(d.url(&format!("/api/v1{path}")))
            .bearer_auth(&admin);
        burst.spawn(async move {
            let r = request.send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        });
    }
    let mut given = 0;
    while let Some(answer) = burst.join_next().await {
        match answer.unwrap() {
            (200, body) => given += body["given"].as_u64().unwrap(),
            (409, body) => assert_eq!(body["type"], "urn:openpoort:problem:conflict"),
            (other, body) => panic!("{other}: {body}"),
        }
    }
    let after = pupils(&d, &admin, &uilen).await;
    assert_eq!(
        given,
        after.len() as u64,
        "each pupil was given one picture once"
    );
    let pictures: Vec<&str> = after
        .iter()
        .map(|p| p["picture"].as_str().expect("a picture for everyone"))
        .collect();
    let distinct: HashSet<_> = pictures.iter().collect();
    assert_eq!(distinct.len(), pictures.len(), "{pictures:?}");
}

#[tokio::test]
async fn a_pupil_s_home_code_works_once_issued_and_stops_when_voided() {
    let d = demo();
    let admin = d.admin_token().await;
    let uilen = group_id(&d, &admin, "99ZZ00", "Groep 5 Uilen").await;
    let finn = pupil(&pupils(&d, &admin, &uilen).await, "Finn Smit")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/schools/99ZZ00/pupils/{finn}/home-code");
    let issued = d.call(Method::POST, &path, Some(&admin), None).await;
    assert_eq!(issued.status, 201, "{}", issued.body);
    assert_eq!(issued.header("cache-control"), Some("no-store"));
    let (code, pin) = (
        issued.body["code"].as_str().unwrap(),
        issued.body["pin"].as_str().unwrap(),
    );
    assert!(
        issued.body["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/thuis?code={code}")),
        "{}",
        issued.body
    );
    assert!(home_login_works(&d, code, pin).await);
    assert_eq!(
        pupil(&pupils(&d, &admin, &uilen).await, "Finn Smit")["has_home_code"],
        true
    );

    let voided = d.call(Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(voided.status, 204, "{}", voided.body);
    assert!(!home_login_works(&d, code, pin).await, "a voided card");
}

#[tokio::test]
async fn new_home_codes_for_a_group_void_old_cards_only_when_confirmed() {
    let d = demo();
    let admin = d.admin_token().await;
    let uilen = group_id(&d, &admin, "99ZZ00", "Groep 5 Uilen").await;
    let listed = pupils(&d, &admin, &uilen).await;
    let finn = pupil(&listed, "Finn Smit")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let old = d
        .call(
            Method::POST,
            &format!("/schools/99ZZ00/pupils/{finn}/home-code"),
            Some(&admin),
            None,
        )
        .await;
    let (code, pin) = (
        old.body["code"].as_str().unwrap(),
        old.body["pin"].as_str().unwrap(),
    );
    let path = format!("/schools/99ZZ00/groups/{uilen}/home-codes");

    let unconfirmed = d.call(Method::POST, &path, Some(&admin), None).await;
    assert_eq!(unconfirmed.status, 409, "{}", unconfirmed.body);
    assert_eq!(unconfirmed.problem(), "conflict");
    assert!(
        unconfirmed.body["detail"]
            .as_str()
            .unwrap()
            .contains("Finn Smit"),
        "names whose card would stop: {}",
        unconfirmed.body
    );
    assert!(home_login_works(&d, code, pin).await, "nothing changed");

    let confirmed = d
        .send_json(Method::POST, &path, &admin, &json!({"void_existing": true}))
        .await;
    assert_eq!(confirmed.status, 201, "{}", confirmed.body);
    let codes = confirmed.body["codes"].as_array().unwrap();
    assert_eq!(codes.len(), listed.len(), "a code for every pupil");
    assert!(
        !home_login_works(&d, code, pin).await,
        "the old card is void"
    );
    let new = codes
        .iter()
        .find(|c| c["pupil"]["id"] == finn.as_str())
        .unwrap();
    assert!(
        home_login_works(
            &d,
            new["code"].as_str().unwrap(),
            new["pin"].as_str().unwrap()
        )
        .await
    );
}

#[tokio::test]
async fn a_pupil_or_group_of_another_school_is_not_found_under_this_one_and_stays_untouched() {
    let d = demo();
    let admin = d.admin_token().await;
    let upload = d
        .upload("99ZZ01", false, &admin, &crate::common::complete_edexml())
        .await;
    assert!(upload.status < 300, "{}", upload.body);
    let groups = d.get("/schools/99ZZ01/groups", &admin).await;
    let other_group = groups.body["groups"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a group at 99ZZ01: {}", groups.body))
        .to_owned();
    let other_pupils = d
        .get(
            &format!("/schools/99ZZ01/groups/{other_group}/pupils"),
            &admin,
        )
        .await;
    let stranger = other_pupils.body["pupils"][0].clone();
    let id = stranger["id"].as_str().unwrap();

    for (method, path) in [
        (
            Method::GET,
            format!("/schools/99ZZ00/groups/{other_group}/pupils"),
        ),
        (
            Method::POST,
            format!("/schools/99ZZ00/groups/{other_group}/missing-pictures"),
        ),
        (
            Method::POST,
            format!("/schools/99ZZ00/groups/{other_group}/home-codes"),
        ),
        (Method::POST, format!("/schools/99ZZ00/pupils/{id}/unlock")),
        (
            Method::POST,
            format!("/schools/99ZZ00/pupils/{id}/home-code"),
        ),
        (
            Method::DELETE,
            format!("/schools/99ZZ00/pupils/{id}/home-code"),
        ),
    ] {
        let a = d.call(method.clone(), &path, Some(&admin), None).await;
        assert_eq!(a.status, 404, "{method} {path}: {}", a.body);
        assert_eq!(a.problem(), "not-found");
    }
    let moved = d
        .send_json(
            Method::PUT,
            &format!("/schools/99ZZ00/pupils/{id}/picture"),
            &admin,
            &json!({"picture": "vis"}),
        )
        .await;
    assert_eq!(moved.status, 404, "{}", moved.body);
    let after = d
        .get(
            &format!("/schools/99ZZ01/groups/{other_group}/pupils"),
            &admin,
        )
        .await;
    assert_eq!(after.body, other_pupils.body, "nothing changed at 99ZZ01");
}

fn archive(bytes: &[u8]) -> Vec<String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    (0..zip.len())
        .map(|i| {
            zip.by_index(i)
                .unwrap()
                .name()
                .expect("an entry name")
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn lesmateriaal_lists_licences_portals_and_shortcuts_and_zips_them_as_beheer_does() {
    let d = demo();
    let admin = d.admin_token().await;
    let licences = d.get("/schools/99ZZ00/licences", &admin).await;
    assert_eq!(licences.status, 200, "{}", licences.body);
    let rekenrijk = licences.body["licences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["product"].as_str().unwrap().contains("Rekenrijk"))
        .unwrap_or_else(|| panic!("{}", licences.body));
    assert_eq!(rekenrijk["in_force"], true, "{rekenrijk}");

    let portals = d.get("/schools/99ZZ00/portals", &admin).await;
    assert_eq!(portals.status, 200, "{}", portals.body);
    assert!(
        portals.body["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["products"].to_string().contains("Rekenrijk")),
        "{}",
        portals.body
    );

    let shortcuts = d.get("/schools/99ZZ00/shortcuts", &admin).await;
    assert_eq!(shortcuts.status, 200, "{}", shortcuts.body);
    let names: Vec<String> = shortcuts.body["shortcuts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(names.iter().any(|n| n.contains("Rekenrijk")), "{names:?}");

    let r = d
        .http
        .get(d.url("/api/v1/schools/99ZZ00/shortcuts.zip"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/zip"
    );
    let entries = archive(&r.bytes().await.unwrap());
    for name in &names {
        for (folder, ext) in [
            ("Windows", "url"),
            ("macOS", "webloc"),
            ("Linux", "desktop"),
        ] {
            assert!(
                entries.iter().any(|e| e.starts_with(&format!("{folder}/"))
                    && e.ends_with(&format!(".{ext}"))
                    && e.contains(name.split(' ').next().unwrap())),
                "{name} as .{ext}: {entries:?}"
            );
        }
    }
    assert_eq!(entries.len(), names.len() * 3, "{entries:?}");
}

#[tokio::test]
async fn switching_home_login_off_through_the_api_stops_home_codes_and_back_on_they_work() {
    let d = demo();
    let admin = d.admin_token().await;
    let read = d.get("/schools/99ZZ00/pupil-login", &admin).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body["home_login"], true, "{}", read.body);
    let picture_password = read.body["picture_password"].clone();
    let uilen = group_id(&d, &admin, "99ZZ00", "Groep 5 Uilen").await;
    let finn = pupil(&pupils(&d, &admin, &uilen).await, "Finn Smit")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let issued = d
        .call(
            Method::POST,
            &format!("/schools/99ZZ00/pupils/{finn}/home-code"),
            Some(&admin),
            None,
        )
        .await;
    let (code, pin) = (
        issued.body["code"].as_str().unwrap(),
        issued.body["pin"].as_str().unwrap(),
    );

    let incomplete = d
        .send_json(
            Method::PUT,
            "/schools/99ZZ00/pupil-login",
            &admin,
            &json!({"home_login": false}),
        )
        .await;
    assert_eq!(incomplete.status, 422, "{}", incomplete.body);
    assert!(home_login_works(&d, code, pin).await, "nothing changed");

    let off = d
        .send_json(
            Method::PUT,
            "/schools/99ZZ00/pupil-login",
            &admin,
            &json!({"picture_password": picture_password, "home_login": false}),
        )
        .await;
    assert_eq!(off.status, 200, "{}", off.body);
    assert_eq!(off.body["home_login"], false);
    assert!(!home_login_works(&d, code, pin).await, "home login is off");

    let on = d
        .send_json(
            Method::PUT,
            "/schools/99ZZ00/pupil-login",
            &admin,
            &json!({"picture_password": picture_password, "home_login": true}),
        )
        .await;
    assert_eq!(on.status, 200, "{}", on.body);
    assert!(
        home_login_works(&d, code, pin).await,
        "the card was not voided"
    );
}
