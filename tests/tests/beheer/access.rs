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
}
