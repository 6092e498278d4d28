//! Who may reach Beheer's school settings: every route, as a teacher and without a session.

use openpoort_e2e::{Browser, Page, Store, anna_signed_in, bram_signed_in, cli_ok};

use crate::common::{demo, ranges};

/// Every route of this part of Beheer, read and written.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/beheer/ip-adressen"),
    ("POST", "/beheer/ip-adressen"),
    ("POST", "/beheer/ip-adressen/verwijderen"),
    ("GET", "/beheer/uitgeverijen"),
    ("POST", "/beheer/uitgeverijen"),
    ("GET", "/beheer/netwerkbeheerders"),
    ("GET", "/beheer/lesmateriaal"),
    ("GET", "/beheer/lesmateriaal/snelkoppelingen.zip"),
    ("POST", "/beheer/netwerkbeheerders"),
    ("GET", "/beheer/leerkrachten"),
    ("POST", "/beheer/leerkrachten"),
    ("GET", "/beheer/leerkrachten/{anna}"),
    ("POST", "/beheer/leerkrachten/{anna}/e-mailadres"),
    ("POST", "/beheer/leerkrachten/{anna}/uitnodigen"),
    ("POST", "/beheer/leerkrachten/{anna}/rollen"),
    ("POST", "/beheer/leerkrachten/{anna}/groepen"),
    ("POST", "/beheer/leerkrachten/{anna}/groepen/ontkoppelen"),
    ("POST", "/beheer/leerkrachten/{anna}/deactiveren"),
    ("GET", "/beheer/gebruikersgegevens"),
    ("POST", "/beheer/gebruikersgegevens/voorbeeld"),
    ("POST", "/beheer/gebruikersgegevens/toepassen"),
    ("POST", "/beheer/las"),
    ("POST", "/beheer/las/schakelaar"),
    ("POST", "/beheer/las/ophalen"),
    ("GET", "/beheer/privacy"),
    ("GET", "/beheer/privacy.csv"),
    ("POST", "/beheer/privacy/verwerkersovereenkomst"),
];

async fn attempt(b: &mut Browser, csrf: &str, method: &str, path: &str) -> Page {
    match method {
        "GET" => b.get(path).await,
        _ => {
            b.post(
                path,
                &[
                    ("csrf", csrf),
                    ("cidr", "127.0.0.0/8"),
                    ("confirm", "on"),
                    ("email", "anna@elders.example"),
                    ("rol", "ict_coordinator"),
                    ("group", "g8"),
                    ("vendor", "esis"),
                    ("endpoint", "https://las.example.nl/edexml"),
                    ("key", "k"),
                    ("on", "on"),
                    ("id", "x"),
                    ("picture", "vis"),
                    ("version", "2026-1"),
                ],
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
    let mut bram = bram_signed_in(&d.server.base).await;
    let anna_path = crate::staff::person(&bram.get("/beheer/leerkrachten").await, "Anna de Vries");
    let anna_id = anna_path.rsplit('/').next().unwrap();
    for (method, path) in ROUTES {
        let path = &path.replace("{anna}", anna_id);
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
    let list = bram.get("/beheer/leerkrachten").await.body;
    let row = &list[list.find("Anna de Vries").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(
        row.contains("anna.devries@demo.openpoort.nl") && row.contains("actief"),
        "{row}"
    );
    assert!(!row.contains("ICT"), "{row}");
    let links = cli_ok(d.dir.path(), &["las", "list"]);
    assert!(!links.contains("99ZZ00"), "no LAS link: {links}");
}

/// The pupil pages of a group, for one group and for a pupil of it.
const GROUP_ROUTES: &[&str] = &[
    "/beheer/groep/{g}",
    "/beheer/groep/{g}/plaatjes",
    "/beheer/groep/{g}/thuiscodes",
    "/beheer/leerling/{p}/plaatje",
    "/beheer/leerling/{p}/ontgrendelen",
    "/beheer/leerling/{p}/thuiscode",
    "/beheer/leerling/{p}/thuiscode-intrekken",
];

#[tokio::test]
async fn another_teacher_s_group_is_refused_to_a_teacher_and_every_group_to_visitors() {
    let d = demo(Store::Memory);
    let mut anna = anna_signed_in(d.dir.path(), &d.server.base).await;
    let mut bram = bram_signed_in(&d.server.base).await;
    // Group 8, which Anna does not teach, and Tess in it.
    let all = bram.get("/beheer").await;
    let g8 = all.link_to("Groep 8 Dassen").expect("group 8");
    let group = bram.get(&g8).await;
    let before = group.body.clone();
    let tess = group
        .body
        .split("/beheer/leerling/")
        .nth(1)
        .expect("a pupil of group 8")[..36]
        .to_owned();
    let g8 = g8.trim_start_matches("/beheer/groep/").to_owned();
    let g5 = anna.get("/beheer").await.link_to("Groep 5 Uilen").unwrap();
    let mine = anna.get(&g5).await;
    let csrf = mine.field("csrf").unwrap();
    let mut nobody = Browser::new(&d.server.base);
    for route in GROUP_ROUTES {
        let path = route.replace("{g}", &g8).replace("{p}", &tess);
        let method = if path.ends_with(&g8) { "GET" } else { "POST" };
        let a = attempt(&mut anna, &csrf, method, &path).await;
        assert_eq!(a.status, 403, "{method} {path} as a teacher: {}", a.body);
        let n = attempt(&mut nobody, "", method, &path).await;
        assert_eq!(
            (n.status, n.location()),
            (303, Some("/inloggen")),
            "{method} {path} without a session"
        );
    }
    let after = bram.get(&format!("/beheer/groep/{g8}")).await;
    assert_eq!(after.body, before, "no picture or home code changed");
}
