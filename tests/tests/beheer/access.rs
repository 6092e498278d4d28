//! Who may reach Beheer: every route of the router, as a teacher, without a session and as the
//! ICT-coördinator of another school with this school's ids.

use openpoort_e2e::{Browser, Page, Store, anna_signed_in, bram_signed_in, cli_ok};

use crate::common::{demo, ranges};

/// Every route of this part of Beheer, read and written.
const ROUTES: &[(&str, &str)] = &[
    ("POST", "/beheer"),
    ("GET", "/beheer/ip-adressen"),
    ("POST", "/beheer/ip-adressen"),
    ("POST", "/beheer/ip-adressen/verwijderen"),
    ("GET", "/beheer/uitgeverijen"),
    ("POST", "/beheer/uitgeverijen"),
    ("GET", "/beheer/netwerkbeheerders"),
    ("GET", "/beheer/lesmateriaal"),
    ("GET", "/beheer/lesmateriaal/snelkoppelingen.zip"),
    ("POST", "/beheer/netwerkbeheerders"),
    ("POST", "/beheer/uitgeverijen/verzoeken/{party}/afwijzen"),
    (
        "POST",
        "/beheer/netwerkbeheerders/verzoeken/{party}/afwijzen",
    ),
    ("GET", "/beheer/leerkrachten"),
    ("POST", "/beheer/leerkrachten"),
    ("POST", "/beheer/leerkrachten/tweestapsverificatie"),
    ("GET", "/beheer/leerkrachten/{anna}"),
    (
        "POST",
        "/beheer/leerkrachten/{anna}/tweestapsverificatie-herstellen",
    ),
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
                    ("policy", "all_staff"),
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
        let path = &path
            .replace("{anna}", anna_id)
            .replace("{party}", "demo-uitgeverij");
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
    let settings = bram.get("/beheer").await.body;
    assert!(
        settings.contains("name=\"picture_password\" value=\"on\" checked"),
        "picture passwords still on"
    );
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
    let audit = cli_ok(d.dir.path(), &["audit", "list", "--school", "99ZZ00"]);
    assert!(
        !audit.contains("school.second_factor_policy.set"),
        "no policy set: {audit}"
    );
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

/// Every Beheer route of the router with its methods, read from the router's source so that a
/// route added there is walked below without anyone having to remember it.
fn router_routes() -> Vec<(&'static str, String)> {
    let source = include_str!("../../../idp/src/web/mod.rs");
    let mut routes = Vec::new();
    for call in source.split(".route(").skip(1) {
        let start = call.find('"').expect("a route's path") + 1;
        let path = &call[start..start + call[start..].find('"').unwrap()];
        if path != "/beheer" && !path.starts_with("/beheer/") {
            continue;
        }
        let handlers = &call[start + path.len()..];
        let mut any = false;
        for (method, marker) in [
            ("GET", "get("),
            ("POST", "post("),
            ("PUT", "put("),
            ("DELETE", "delete("),
            ("PATCH", "patch("),
        ] {
            if handlers.contains(marker) {
                routes.push((method, path.to_owned()));
                any = true;
            }
        }
        assert!(any, "no method found for {path}");
    }
    routes
}

/// What a teacher may open in Beheer (their own groups' overview), which the teacher walk leaves
/// out on purpose.
const TEACHER_MAY: &[(&str, &str)] = &[("GET", "/beheer")];

#[test]
fn the_walks_cover_every_beheer_route_of_the_router() {
    let routes = router_routes();
    assert!(
        routes.len() >= 30,
        "the router's source was not read right: {routes:?}"
    );
    for (method, path) in &routes {
        let teacher = ROUTES
            .iter()
            .map(|(m, p)| (*m, p.replace("{anna}", "{staff}")))
            .chain(GROUP_ROUTES.iter().map(|p| {
                let m = if p.ends_with("{g}") { "GET" } else { "POST" };
                (m, p.replace("{g}", "{group}").replace("{p}", "{pupil}"))
            }))
            .chain(TEACHER_MAY.iter().map(|(m, p)| (*m, p.to_string())))
            .any(|(m, p)| m == *method && p == *path);
        assert!(
            teacher,
            "{method} {path} is in the router but not walked as a teacher and without a session"
        );
        assert!(
            foreign_path(path, &Ids::placeholder()).is_some(),
            "{method} {path} takes an id the cross-school walk does not fill in"
        );
    }
}

/// The first school's objects, whose ids the second school's coordinator puts into the paths.
struct Ids {
    staff: String,
    group: String,
    pupil: String,
}

impl Ids {
    fn placeholder() -> Ids {
        Ids {
            staff: "s".into(),
            group: "g".into(),
            pupil: "p".into(),
        }
    }
}

/// `path` with every placeholder filled in with the first school's ids; `None` for a
/// placeholder nobody knows yet (a new route needs a line here, and so a thought).
fn foreign_path(path: &str, ids: &Ids) -> Option<String> {
    let filled = path
        .replace("{staff}", &ids.staff)
        .replace("{group}", &ids.group)
        .replace("{pupil}", &ids.pupil)
        // A party is no school's object: declining its request acts on the caller's own school.
        .replace("{party}", "demo-uitgeverij");
    (!filled.contains('{')).then_some(filled)
}

/// Vera, ICT-coördinator of a second school 98YY00 (made and activated from the command line,
/// as an operator would), signed in there.
async fn coordinator_of_another_school(d: &crate::common::Demo) -> Browser {
    const PASSWORD: &str = "Kompas-Heide-Lantaarn-47";
    cli_ok(
        d.dir.path(),
        &[
            "school",
            "add",
            "--bestuursnummer",
            "99999",
            "--brin",
            "98YY",
            "--vestigingscode",
            "00",
            "--name",
            "De Overkant",
        ],
    );
    let out = cli_ok(
        d.dir.path(),
        &[
            "staff",
            "add",
            "--school",
            "98YY00",
            "--email",
            "vera@overkant.example",
            "--achternaam",
            "Visser",
            "--role",
            "ict_coordinator",
        ],
    );
    let link = out
        .lines()
        .find_map(|l| {
            l.find("/activeren?token=")
                .map(|i| l[i..].trim().to_owned())
        })
        .unwrap_or_else(|| panic!("an activation link: {out}"));
    let mut b = Browser::new(&d.server.base);
    let activated = b
        .submit(
            &link,
            &[("password", PASSWORD), ("password_repeat", PASSWORD)],
        )
        .await;
    assert_eq!(activated.status, 303, "{}", activated.body);
    let signed_in = b
        .submit(
            "/inloggen",
            &[("email", "vera@overkant.example"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    let home = b.get("/beheer").await;
    assert!(
        home.status == 200 && home.body.contains("(98YY00)"),
        "Vera administers 98YY00: {} {:?} {}",
        home.status,
        home.location(),
        home.body
    );
    b
}

/// A page without its CSRF tokens, which are fresh on every read.
fn without_csrf_tokens(page: &str) -> String {
    const MARKER: &str = "name=\"csrf\" value=\"";
    let mut parts = page.split(MARKER);
    let mut out = parts.next().unwrap_or_default().to_owned();
    for part in parts {
        out.push_str(part.split_once('"').map_or(part, |(_, rest)| rest));
    }
    out
}

/// Everything of 99ZZ00 a walk could change, as its own administrator and the operator see it.
async fn state_of_first_school(
    d: &crate::common::Demo,
    bram: &mut Browser,
    ids: &Ids,
) -> Vec<String> {
    let dir = d.dir.path();
    vec![
        cli_ok(dir, &["audit", "list", "--school", "99ZZ00"]),
        cli_ok(dir, &["ip-range", "list", "--school", "99ZZ00"]),
        cli_ok(dir, &["consent", "list", "--school", "99ZZ00"]),
        cli_ok(dir, &["las", "list"])
            .lines()
            .filter(|l| l.contains("99ZZ00"))
            .collect::<Vec<_>>()
            .join("\n"),
        bram.get("/beheer/leerkrachten").await.body,
        bram.get(&format!("/beheer/leerkrachten/{}", ids.staff))
            .await
            .body,
        bram.get(&format!("/beheer/groep/{}", ids.group)).await.body,
        bram.get("/beheer").await.body,
    ]
    .into_iter()
    .map(|s| without_csrf_tokens(&s))
    .collect()
}

#[tokio::test]
async fn an_administrator_of_another_school_reaches_nothing_of_this_school() {
    let d = demo(Store::Memory);
    let mut bram = bram_signed_in(&d.server.base).await;
    // The first school's objects: Anna, group 8 and Tess in it, and a preview Bram has waiting.
    let anna = crate::staff::person(&bram.get("/beheer/leerkrachten").await, "Anna de Vries");
    let all = bram.get("/beheer").await;
    let g8 = all.link_to("Groep 8 Dassen").expect("group 8");
    let tess = bram
        .get(&g8)
        .await
        .body
        .split("/beheer/leerling/")
        .nth(1)
        .expect("a pupil")[..36]
        .to_owned();
    let ids = Ids {
        staff: anna.rsplit('/').next().unwrap().to_owned(),
        group: g8.rsplit('/').next().unwrap().to_owned(),
        pupil: tess,
    };
    let page = bram.get("/beheer/gebruikersgegevens").await;
    let preview =
        crate::imports::upload(&mut bram, &page, &crate::imports::edexml_for("99ZZ00")).await;
    let preview_id = preview.field("id").expect("Bram's preview");
    let choice = bram.get("/school-kiezen").await;
    let at = choice.body.find("(99ZZ00)").expect("99ZZ00 offered");
    let marker = "name=\"school_id\" value=\"";
    let i = choice.body[..at].rfind(marker).unwrap() + marker.len();
    let school_a = choice.body[i..i + choice.body[i..].find('"').unwrap()].to_owned();
    let mut vera = coordinator_of_another_school(&d).await;
    let before = state_of_first_school(&d, &mut bram, &ids).await;

    let csrf = vera
        .get("/beheer")
        .await
        .field("csrf")
        .expect("a form on her own overview");
    // She cannot make the first school hers for the session.
    let chosen = vera
        .post(
            "/school-kiezen",
            &[
                ("csrf", &csrf),
                ("school_id", &school_a),
                ("next", "/beheer"),
            ],
        )
        .await;
    assert_eq!(chosen.status, 403, "{}", chosen.body);
    for (method, path) in router_routes() {
        let foreign = foreign_path(&path, &ids).expect("every placeholder is known");
        let page = if path == "/beheer/gebruikersgegevens/voorbeeld" {
            // The first school's own file: refused as a file of another school.
            let own = vera.get("/beheer/gebruikersgegevens").await;
            crate::imports::upload(&mut vera, &own, &crate::imports::edexml_for("99ZZ00")).await
        } else if method == "GET" {
            vera.get(&foreign).await
        } else {
            // Every field any Beheer form reads, holding the first school's values: its network,
            // its group, its teacher's address and Bram's waiting preview.
            vera.post(
                &foreign,
                &[
                    ("csrf", csrf.as_str()),
                    ("cidr", "127.0.0.0/8"),
                    ("confirm", "on"),
                    ("email", "anna.devries@demo.openpoort.nl"),
                    ("achternaam", "Vries"),
                    ("rol", "ict_coordinator"),
                    ("group", &ids.group),
                    ("id", &preview_id),
                    ("vendor", "esis"),
                    ("endpoint", "https://127.0.0.1:9/edexml"),
                    ("key", "k"),
                    ("on", "on"),
                    ("picture", "vis"),
                    ("picture_password", "on"),
                    ("home_login", "on"),
                ],
            )
            .await
        };
        let shown = format!(
            "{method} {foreign} as 98YY00's coordinator: {} {}",
            page.status, page.body
        );
        if foreign != path {
            // An id of the first school in the path: refused outright.
            assert!(matches!(page.status, 403 | 404), "{shown}");
        } else {
            // A route of the chosen school acts on her own school, or refuses the first school's
            // values; either way it shows nothing of the first school.
            assert!(page.status < 500, "{shown}");
        }
        for theirs in ["99ZZ00", "Anna de Vries", "Dassen", "Tess Mulder"] {
            // The upload's refusal names the school of the file she sent herself.
            if theirs == "99ZZ00" && path.ends_with("/voorbeeld") {
                continue;
            }
            assert!(!page.body.contains(theirs), "{theirs} shown: {shown}");
        }
    }
    let after = state_of_first_school(&d, &mut bram, &ids).await;
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b, a, "the first school changed");
    }
    // Bram's preview is still his to apply.
    let applied = bram
        .submit_form(&preview, crate::common::form(&preview, "/toepassen"), &[])
        .await;
    assert_eq!(applied.status, 200, "{}", applied.body);
}

/// The /operator pages have a walk of their own (`operator::operator_pages_are_refused_…`), which
/// reads every route of `web/operator/mod.rs`: no /operator route may live anywhere else, where
/// neither walk would see it.
#[test]
fn every_operator_route_is_in_the_router_the_operator_walk_reads() {
    let web = include_str!("../../../idp/src/web/mod.rs");
    assert!(
        web.contains(".merge(operator::routes())"),
        "the operator's router is merged"
    );
    for call in web.split(".route(").skip(1) {
        let path = call.split('"').nth(1).unwrap_or_default();
        assert!(
            !path.starts_with("/operator"),
            "{path} is routed outside web/operator/mod.rs, where the operator walk does not look"
        );
    }
    let operator = include_str!("../../../idp/src/web/operator/mod.rs");
    for new in [
        "/operator/partijen/{party}/oidc-clients",
        "/operator/oidc-clients/{client_id}/geheim",
        "/operator/oidc-clients/{client_id}/verwijderen",
        "/operator/partijen/{party}/saml-sps",
        "/operator/saml-sps/{entity_id}/vernieuwen",
        "/operator/saml-sps/{entity_id}/verwijderen",
    ] {
        assert!(operator.contains(&format!("\"{new}\"")), "{new} is walked");
    }
}
