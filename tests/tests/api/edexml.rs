//! EDEXML uploads through the API: dry runs, whole imports visible at once, every error reported.

use serde_json::json;

use openpoort_e2e::{Browser, Page};

use crate::common::{ADMIN, Demo, complete_edexml, demo};

/// The group page of a school's pupil shortcut, from the loopback address the demo's second
/// location is given here.
async fn shortcut_groups(d: &Demo, school: &str) -> Page {
    let list = d.cli(&["school", "list"]);
    let line = list
        .lines()
        .find(|l| l.starts_with(school))
        .unwrap_or_else(|| panic!("{school} not listed: {list}"));
    let reference = line.split_whitespace().nth(1).unwrap().to_owned();
    let page = Browser::new(&d.server.base)
        .get(&format!("/s/{reference}"))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    page
}

#[tokio::test]
async fn edexml_dry_run_changes_nothing() {
    let d = demo();
    d.cli(&[
        "ip-range",
        "add",
        "--school",
        "99ZZ01",
        "--cidr",
        "127.0.0.0/8",
    ]);
    let admin = d.admin_token().await;
    let file = complete_edexml();
    let first = d.upload("99ZZ01", true, &admin, &file).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["dry_run"], true);
    assert_eq!(first.body["applied"], false);
    assert_eq!(first.body["school"], "99ZZ01");
    assert_eq!(
        first.body["activation_mails"],
        json!({"sent": 0, "failed": 0})
    );
    let groups = &first.body["groups"]["added"];
    assert!(groups.as_array().unwrap().len() >= 2, "{}", first.body);
    assert_eq!(
        first.body["to_invite"].as_array().unwrap().len(),
        1,
        "{}",
        first.body
    );

    // Nothing is visible, nobody is mailed, and a second dry run foresees the same.
    let page = shortcut_groups(&d, "99ZZ01").await;
    assert!(
        !page.body.contains("Plusgroep rekenen") && !page.body.contains(">8B<"),
        "{}",
        page.body
    );
    assert!(
        d.outbox()
            .iter()
            .all(|m| !m.to_lowercase().contains("j.vanbemmel"))
    );
    let second = d.upload("99ZZ01", true, &admin, &file).await;
    for kind in ["groups", "pupils", "staff"] {
        assert_eq!(second.body[kind], first.body[kind], "{kind}");
    }
    let log = d.cli(&["audit", "list", "--school", "99ZZ01"]);
    assert!(
        log.lines()
            .any(|l| l.contains("import.dry_run") && l.contains(&format!("api:{ADMIN}"))),
        "{log}"
    );
    assert!(!log.contains("import.apply"), "{log}");
}

#[tokio::test]
async fn edexml_upload_applies_whole_and_is_visible_at_once() {
    let d = demo();
    d.cli(&[
        "ip-range",
        "add",
        "--school",
        "99ZZ01",
        "--cidr",
        "127.0.0.0/8",
    ]);
    let admin = d.admin_token().await;
    let file = complete_edexml();
    let foreseen = d.upload("99ZZ01", true, &admin, &file).await;
    // By code or by id: the school's id from the answer names the same location.
    let school_id = foreseen.body["school_id"].as_str().unwrap().to_owned();
    let applied = d.upload(&school_id, false, &admin, &file).await;
    assert_eq!(applied.status, 200, "{}", applied.body);
    assert_eq!(applied.body["applied"], true);
    for kind in ["groups", "pupils", "staff"] {
        assert_eq!(
            applied.body[kind], foreseen.body[kind],
            "{kind}: the dry run foretold it"
        );
    }
    assert_eq!(applied.body["memberships"], foreseen.body["memberships"]);
    assert!(
        applied.body["memberships"]["added"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["kind"] == "pupil" && m["group"] == "PLUS"),
        "{}",
        applied.body
    );
    assert_eq!(
        applied.body["activation_mails"],
        json!({"sent": 1, "failed": 0})
    );

    // At once: the pupils' shortcut shows the groups, and the new teacher has a mail.
    let page = shortcut_groups(&d, "99ZZ01").await;
    assert!(
        page.body.contains("Plusgroep rekenen") && page.body.contains(">8B<"),
        "{}",
        page.body
    );
    let mails = d.outbox();
    assert!(
        mails
            .iter()
            .any(|m| m.to_lowercase().contains("j.vanbemmel") && m.contains("/activeren?token=")),
        "{mails:?}"
    );
    let log = d.cli(&["audit", "list", "--school", "99ZZ01"]);
    assert!(
        log.lines()
            .any(|l| l.contains("import.apply") && l.contains(&format!("api:{ADMIN}"))),
        "{log}"
    );

    // The same file again changes nothing and mails nobody.
    let again = d.upload("99ZZ01", false, &admin, &file).await;
    assert_eq!(
        again.body["memberships"],
        json!({"added": [], "removed": []})
    );
    for kind in ["groups", "pupils", "staff"] {
        assert_eq!(
            again.body[kind],
            json!({"added": [], "changed": [], "removed": []}),
            "{kind}"
        );
    }
    assert_eq!(d.outbox().len(), mails.len());
}

#[tokio::test]
async fn edexml_with_errors_reports_every_problem_and_changes_nothing() {
    let d = demo();
    let admin = d.admin_token().await;
    let file = complete_edexml();
    let broken = file
        .replacen("<jaargroep>8</jaargroep>", "<jaargroep>9</jaargroep>", 1)
        .replacen(
            "<schooljaar>2025-2026</schooljaar>",
            "<schooljaar>2025-2027</schooljaar>",
            1,
        );
    assert_ne!(broken, file);
    let answer = d.upload("99ZZ01", false, &admin, &broken).await;
    assert_eq!((answer.status, answer.problem()), (422, "edexml"));
    let errors = answer.body["errors"].as_array().unwrap();
    assert!(errors.len() >= 2, "every problem at once: {}", answer.body);
    let line_of = |needle: &str| broken.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let mut lines: Vec<u64> = errors.iter().map(|e| e["line"].as_u64().unwrap()).collect();
    lines.sort();
    for needle in ["<schooljaar>2025-2027", "<jaargroep>9<"] {
        assert!(
            lines.contains(&(line_of(needle) as u64)),
            "{needle} at line {}: {}",
            line_of(needle),
            answer.body
        );
    }
    for e in errors {
        for field in ["column", "line"] {
            assert!(e[field].as_u64().unwrap() >= 1, "{e}");
        }
        for field in ["path", "rule", "detail", "detail_en"] {
            assert!(!e[field].as_str().unwrap().is_empty(), "{e}");
        }
        assert!(e["path"].as_str().unwrap().starts_with("/EDEX/"), "{e}");
    }

    // A valid file of another location is refused too.
    let elsewhere = d.upload("99ZZ00", false, &admin, &file).await;
    assert_eq!(
        (elsewhere.status, elsewhere.problem()),
        (422, "wrong-school")
    );
    assert!(
        elsewhere.body["detail"]
            .as_str()
            .unwrap()
            .contains("99ZZ01")
    );
    // Neither a file over the import limit (1 MiB here) nor another media type is read.
    let (status, head, body) = d
        .announce_body(
            "/schools/99ZZ01/edexml",
            &admin,
            "application/xml",
            1024 * 1024 + 1,
        )
        .await;
    assert_eq!(status, 413, "{head}");
    assert_eq!(body["type"], "urn:openpoort:problem:payload-too-large");
    assert!(body["detail"].as_str().unwrap().contains("1 MiB"), "{body}");
    let plain = d
        .call(
            reqwest::Method::POST,
            "/schools/99ZZ01/edexml",
            Some(&admin),
            Some(("text/plain", file.clone().into_bytes())),
        )
        .await;
    assert_eq!(
        (plain.status, plain.problem()),
        (415, "unsupported-media-type")
    );
    let unknown = d.upload("12AB00", false, &admin, &file).await;
    assert_eq!((unknown.status, unknown.problem()), (404, "not-found"));
    let bad_flag = d
        .call(
            reqwest::Method::POST,
            "/schools/99ZZ01/edexml?dry_run=maybe",
            Some(&admin),
            Some(("application/xml", file.clone().into_bytes())),
        )
        .await;
    assert_eq!((bad_flag.status, bad_flag.problem()), (400, "bad-request"));

    // Nothing of it landed: a dry run of the good file still adds everything.
    let dry = d.upload("99ZZ01", true, &admin, &file).await;
    assert_eq!(dry.status, 200);
    assert!(
        !dry.body["pupils"]["added"].as_array().unwrap().is_empty(),
        "{}",
        dry.body
    );
    assert!(
        d.outbox()
            .iter()
            .all(|m| !m.to_lowercase().contains("j.vanbemmel"))
    );
    let log = d.cli(&["audit", "list", "--school", "99ZZ01"]);
    assert!(!log.contains("import.apply"), "{log}");
}
