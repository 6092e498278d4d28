//! Beheer for the school's ICT-coördinator over HTTP against `openpoort demo`: the school's IP
//! ranges and the parties it consents to, as pages, and who may reach them.

use std::time::Duration;

use openpoort_e2e::{
    Browser, Page, Server, Store, anna_signed_in, bram_signed_in, cli_ok, openpoort, store_env,
};

struct Demo {
    dir: tempfile::TempDir,
    server: Server,
}

fn demo(store: Store) -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = openpoort(dir.path());
    for (k, v) in store_env(store) {
        cmd.env(k, v);
    }
    cmd.arg("demo");
    let server = Server::start(cmd);
    server.more_output(Duration::from_millis(300));
    Demo { dir, server }
}

fn ranges(d: &Demo) -> String {
    cli_ok(d.dir.path(), &["ip-range", "list", "--school", "99ZZ00"])
}

fn form(page: &Page, marker: &str) -> usize {
    page.form_with(marker)
        .unwrap_or_else(|| panic!("no form with {marker}: {}", page.body))
}

#[tokio::test]
async fn ict_coordinator_adds_a_range_and_a_wrong_one_is_refused_in_dutch_storing_nothing() {
    let d = demo(Store::Memory);
    let mut bram = bram_signed_in(&d.server.base).await;
    let page = bram.get("/beheer/ip-adressen").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("Je huidige adres is <strong>127.0.0.1</strong>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("127.0.0.0/8"), "{}", page.body);

    let add = form(&page, "Toevoegen");
    let wrong = bram
        .submit_form(
            &page,
            add,
            &[("cidr", "192.0.2.7/24"), ("label", "Gebouw B")],
        )
        .await;
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert!(
        wrong
            .body
            .contains("gebruik het eerste adres van het bereik"),
        "{}",
        wrong.body
    );
    assert!(
        wrong.body.contains("value=\"192.0.2.7/24\""),
        "what was typed comes back"
    );
    assert!(
        !ranges(&d).contains("192.0.2"),
        "a refused range is not stored"
    );

    let page = bram.get("/beheer/ip-adressen").await;
    let done = bram
        .submit_form(
            &page,
            form(&page, "Toevoegen"),
            &[("cidr", "192.0.2.0/24"), ("label", "Gebouw B")],
        )
        .await;
    assert_eq!(
        done.location(),
        Some("/beheer/ip-adressen"),
        "{}",
        done.body
    );
    assert!(ranges(&d).contains("192.0.2.0/24  Gebouw B"));

    let page = bram.get("/beheer/ip-adressen").await;
    let remove = form(&page, "value=\"192.0.2.0/24\"");
    let removed = bram.submit_form(&page, remove, &[]).await;
    assert_eq!(
        removed.location(),
        Some("/beheer/ip-adressen"),
        "{}",
        removed.body
    );
    assert!(!ranges(&d).contains("192.0.2.0/24"));
}

#[tokio::test]
async fn removing_the_range_one_works_from_needs_confirmation() {
    let d = demo(Store::Memory);
    let mut bram = bram_signed_in(&d.server.base).await;
    let page = bram.get("/beheer/ip-adressen").await;
    let remove = form(&page, "value=\"127.0.0.0/8\"");
    let refused = bram.submit_form(&page, remove, &[]).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("bevat je huidige adres"),
        "{}",
        refused.body
    );
    assert!(
        ranges(&d).contains("127.0.0.0/8"),
        "nothing removed without confirmation"
    );

    let page = bram.get("/beheer/ip-adressen").await;
    let remove = form(&page, "value=\"127.0.0.0/8\"");
    let done = bram.submit_form(&page, remove, &[("confirm", "on")]).await;
    assert_eq!(
        done.location(),
        Some("/beheer/ip-adressen"),
        "{}",
        done.body
    );
    assert!(!ranges(&d).contains("127.0.0.0/8"));
    let page = bram.get("/beheer/ip-adressen").await;
    assert!(
        page.body.contains("het staat niet in de lijst"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn unticking_a_publisher_withdraws_consent_and_ticking_gives_it_again() {
    let d = demo(Store::Memory);
    let mut bram = bram_signed_in(&d.server.base).await;
    let page = bram.get("/beheer/uitgeverijen").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Demo Uitgeverij"), "{}", page.body);
    assert!(
        page.body.contains("Ontvangt over leerlingen"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("checked"),
        "the demo school consents to its publisher"
    );

    let consents = || cli_ok(d.dir.path(), &["consent", "list", "--school", "99ZZ00"]);
    let save = form(&page, "Opslaan");
    let off = bram.submit_form(&page, save, &[]).await;
    assert_eq!(off.location(), Some("/beheer/uitgeverijen"), "{}", off.body);
    let listed = consents();
    assert!(listed.contains("ingetrokken / revoked"), "{listed}");
    assert!(
        listed.contains("Bram Jansen <bram.jansen@demo.openpoort.nl>"),
        "names, not ids: {listed}"
    );
    assert!(!listed.contains("staff:"), "{listed}");

    let page = bram.get("/beheer/uitgeverijen").await;
    let on = bram
        .submit_form(
            &page,
            form(&page, "Opslaan"),
            &[("partij", "demo-uitgeverij")],
        )
        .await;
    assert_eq!(on.location(), Some("/beheer/uitgeverijen"), "{}", on.body);
    assert!(consents().contains("geldig / in force"));

    let unknown = bram
        .submit_form(&page, form(&page, "Opslaan"), &[("partij", "bestaat-niet")])
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
}

/// Every route of this part of Beheer, read and written.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/beheer/ip-adressen"),
    ("POST", "/beheer/ip-adressen"),
    ("POST", "/beheer/ip-adressen/verwijderen"),
    ("GET", "/beheer/uitgeverijen"),
    ("POST", "/beheer/uitgeverijen"),
    ("GET", "/beheer/netwerkbeheerders"),
    ("POST", "/beheer/netwerkbeheerders"),
];

async fn attempt(b: &mut Browser, csrf: &str, method: &str, path: &str) -> Page {
    match method {
        "GET" => b.get(path).await,
        _ => {
            b.post(
                path,
                &[("csrf", csrf), ("cidr", "127.0.0.0/8"), ("confirm", "on")],
            )
            .await
        }
    }
}

#[tokio::test]
async fn school_settings_are_refused_to_teachers_and_to_visitors_without_a_session() {
    let d = demo(Store::Memory);
    // Anna teaches group 5 at 99ZZ00 but is no ICT-coördinator.
    let mut anna = anna_signed_in(d.dir.path(), &d.server.base).await;
    let overview = anna.get("/beheer").await;
    assert_eq!(overview.status, 200, "{}", overview.body);
    assert!(
        !overview.body.contains("/beheer/ip-adressen"),
        "no tab she cannot use"
    );
    // A valid CSRF token of her own, so a refusal below is the role check's and not the form's.
    let group = anna
        .get(&overview.link_to("Groep 5 Uilen").expect("her group"))
        .await;
    let csrf = group.field("csrf").expect("a form on her group's page");
    let mut nobody = Browser::new(&d.server.base);
    for (method, path) in ROUTES {
        let a = attempt(&mut anna, &csrf, method, path).await;
        assert_eq!(a.status, 403, "{method} {path} as a teacher: {}", a.body);
        let n = attempt(&mut nobody, "", method, path).await;
        assert_eq!(
            (n.status, n.location()),
            (303, Some("/inloggen")),
            "{method} {path} without a session"
        );
    }
    assert!(ranges(&d).contains("127.0.0.0/8"), "nothing changed");
    let listed = cli_ok(d.dir.path(), &["consent", "list", "--school", "99ZZ00"]);
    assert!(!listed.contains("ingetrokken"), "{listed}");
}
