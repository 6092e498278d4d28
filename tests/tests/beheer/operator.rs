//! The operator's pages at /operator: only an account with the operator role (granted with
//! `openpoort operator grant`) reaches them; each action's effect, and that a refused request
//! changes nothing.

use openpoort_e2e::{
    BRAM, Browser, Page, Store, anna_signed_in, bram_signed_in, cli_ok, openpoort, run, text,
};

use crate::common::{Demo, demo};

/// Every (method, path) the operator's router serves, read from its source: a page added there
/// is refused here without anyone listing it again. Paths name the demo's own objects (its
/// publisher, product, OIDC client and SAML SP, `entity` percent-encoded), so that a request
/// that got through would change something the register shows.
fn operator_routes(entity: &str) -> Vec<(String, String)> {
    let source = include_str!("../../../idp/src/web/operator/mod.rs");
    let mut routes = Vec::new();
    for call in source.split(".route(").skip(1) {
        // Only calls: a comment that names `.route(` is followed by no path.
        if !call.trim_start().starts_with('"') {
            continue;
        }
        let end = call
            .find("\n        )")
            .or_else(|| call.find("))\n"))
            .unwrap_or(call.len());
        let call = &call[..end];
        let path = call.split('"').nth(1).expect("a route's path");
        for method in ["get", "post", "put", "delete"] {
            if call.contains(&format!("{method}(")) {
                routes.push((method.to_uppercase(), path.to_owned()));
            }
        }
    }
    assert!(routes.len() >= 20, "the routes were read: {routes:?}");
    let entity = url::form_urlencoded::byte_serialize(entity.as_bytes()).collect::<String>();
    routes
        .into_iter()
        .map(|(m, p)| {
            // A network provider's connection exists only for a network provider.
            let party = if p.contains("/koppeling") {
                PROVIDER
            } else {
                "demo-leesland"
            };
            let p = p
                .replace("{nummer}", "99999")
                .replace("{code}", "99ZZ00")
                .replace("{party}", party)
                .replace("{product}", "leesland")
                .replace("{client_id}", "demo-leesland-web")
                .replace("{entity_id}", &entity)
                .replace("{sha256}", &"ab".repeat(32));
            // A new placeholder needs a line above, and so a thought about what it names.
            assert!(
                !p.contains('{'),
                "{m} {p}: a placeholder the walk does not fill in"
            );
            (m, p)
        })
        .collect()
}

/// A network provider beside the demo, connected over SAML, whose connection a request that
/// got through would change.
const PROVIDER: &str = "moo";

fn connected_provider(d: &Demo) {
    let p = d.dir.path();
    cli_ok(
        p,
        &[
            "party",
            "add",
            "--code",
            PROVIDER,
            "--kind",
            "network_provider",
            "--name",
            "MOO Netwerk",
        ],
    );
    let (_, cert) = openpoort_e2e::self_signed("moo idp");
    let file = p.join("moo-idp.xml");
    std::fs::write(
        &file,
        openpoort_e2e::idp_metadata("https://moo.example/idp", &cert, None),
    )
    .expect("metadata file");
    cli_ok(
        p,
        &[
            "party",
            "upstream-saml",
            "--party",
            PROVIDER,
            "--metadata-file",
            file.to_str().expect("a UTF-8 path"),
            "--match-by",
            "eck_id",
        ],
    );
}

/// The demo's own SAML SP (its entityID follows the server's address).
fn demo_sp(d: &Demo) -> String {
    let listed = cli_ok(d.dir.path(), &["sp", "list", "--party", "demo-leesland"]);
    listed
        .split_whitespace()
        .next()
        .unwrap_or_else(|| panic!("the demo's SP: {listed}"))
        .to_owned()
}

/// A request to every field any operator form has, so that a refusal is the role check's and
/// not the form's.
async fn attempt(b: &mut Browser, csrf: &str, method: &str, path: &str) -> Page {
    match method {
        "GET" => b.get(path).await,
        _ => {
            b.post(
                path,
                &[
                    ("csrf", csrf),
                    ("nl", "Storing"),
                    ("en", "Outage"),
                    ("until", ""),
                    ("bestuursnummer", "41234"),
                    ("name", "Overgenomen"),
                    ("brin", "12AB"),
                    ("vestigingscode", "00"),
                    ("achternaam", "Indringer"),
                    ("email", "indringer@example.nl"),
                    ("requested_by", "Niemand"),
                    ("document_ref", "X-1"),
                    ("code", "overgenomen"),
                    ("kind", "publisher"),
                    ("methode", "Overgenomen"),
                    ("launch_url", "https://overgenomen.example/"),
                    ("icon_url", ""),
                    ("home_allowed", "on"),
                    ("client_id", "overgenomen-client"),
                    ("redirect_uris", "https://overgenomen.example/cb"),
                    ("auth", "client_secret_basic"),
                    ("grant", "authorization_code"),
                    ("scope", "openid"),
                    ("alg", "RS256"),
                    ("metadata_url", "https://overgenomen.example/metadata"),
                    ("issuer", "https://overgenomen.example"),
                    ("client_secret", "overgenomen-geheim"),
                    ("match_by", "eck_id"),
                ],
            )
            .await
        }
    }
}

fn operator_grant(d: &Demo, email: &str) {
    cli_ok(d.dir.path(), &["operator", "grant", email]);
}

/// The register as the CLI lists it, to compare before and after refused requests.
fn register(d: &Demo) -> String {
    let p = d.dir.path();
    [
        cli_ok(p, &["board", "list"]),
        cli_ok(p, &["school", "list"]),
        cli_ok(p, &["notice", "show"]),
        cli_ok(p, &["party", "list"]),
        cli_ok(p, &["product", "list", "--party", "demo-uitgeverij"]),
        cli_ok(p, &["product", "list", "--party", "demo-leesland"]),
        cli_ok(p, &["client", "list", "--party", "demo-leesland"]),
        cli_ok(p, &["client", "list", "--party", "demo-uitgeverij"]),
        cli_ok(p, &["sp", "list"]),
        cli_ok(p, &["party", "certificates", "--party", "demo-leesland"]),
        cli_ok(p, &["party", "upstream-show", "--party", PROVIDER]),
    ]
    .concat()
}

#[tokio::test]
async fn operator_pages_are_refused_to_teachers_ict_coordinators_and_visitors() {
    let d = demo(Store::Memory);
    let mut anna = anna_signed_in(d.dir.path(), &d.server.base).await;
    let mut bram = bram_signed_in(&d.server.base).await;
    let mut nobody = Browser::new(&d.server.base);
    // Valid CSRF tokens of their own, from a Beheer form each may open.
    let group = anna.get("/beheer").await.link_to("Groep 5 Uilen").unwrap();
    let anna_csrf = anna
        .get(&group)
        .await
        .field("csrf")
        .expect("a form on Anna's group page");
    let bram_csrf = bram.get("/beheer/ip-adressen").await.field("csrf").unwrap();
    connected_provider(&d);
    let before = register(&d);
    for (method, path) in operator_routes(&demo_sp(&d)) {
        let a = attempt(&mut anna, &anna_csrf, &method, &path).await;
        assert_eq!(a.status, 403, "{method} {path} as a teacher: {}", a.body);
        let b = attempt(&mut bram, &bram_csrf, &method, &path).await;
        assert_eq!(
            b.status, 403,
            "{method} {path} as an ICT-coördinator: {}",
            b.body
        );
        let n = attempt(&mut nobody, "", &method, &path).await;
        assert_eq!(n.status, 303, "{method} {path} without a session");
        assert!(
            n.location().unwrap().starts_with("/inloggen"),
            "{method} {path}: {:?}",
            n.location()
        );
    }
    assert_eq!(
        register(&d),
        before,
        "no refused request changed the register"
    );
    // The role, once revoked, is refused again at the very next request.
    operator_grant(&d, BRAM);
    assert_eq!(bram.get("/operator/storingsmelding").await.status, 200);
    cli_ok(d.dir.path(), &["operator", "revoke", BRAM]);
    assert_eq!(bram.get("/operator/storingsmelding").await.status, 403);
    let listed = cli_ok(d.dir.path(), &["operator", "list"]);
    assert!(!listed.contains(BRAM), "{listed}");
}

#[tokio::test]
async fn the_role_is_granted_only_to_an_existing_account_and_is_audited() {
    let d = demo(Store::Memory);
    let unknown = run(openpoort(d.dir.path()).args(["operator", "grant", "niemand@example.nl"]));
    assert!(!unknown.status.success(), "no account, no role");
    operator_grant(&d, BRAM);
    let listed = cli_ok(d.dir.path(), &["operator", "list"]);
    assert!(
        listed.contains(BRAM) && listed.contains("operator:cli"),
        "{listed}"
    );
    let again = cli_ok(d.dir.path(), &["operator", "grant", BRAM]);
    assert!(again.contains("al beheerder"), "{again}");
}

#[test]
fn operator_grants_run_in_parallel_for_one_account_make_one_grant_and_no_error() {
    let d = demo(Store::Memory);
    // Six operators at six terminals, at the same moment: six processes on one register.
    let running: Vec<_> = (0..6)
        .map(|_| {
            openpoort(d.dir.path())
                .args(["operator", "grant", BRAM])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start openpoort operator grant")
        })
        .collect();
    let outputs: Vec<_> = running
        .into_iter()
        .map(|c| c.wait_with_output().expect("openpoort operator grant ends"))
        .collect();
    for o in &outputs {
        assert!(
            o.status.success(),
            "no error but \"already\": {}{}",
            text(&o.stdout),
            text(&o.stderr)
        );
    }
    let said: Vec<String> = outputs.iter().map(|o| text(&o.stdout)).collect();
    let granted = said
        .iter()
        .filter(|s| s.contains("is nu beheerder"))
        .count();
    assert_eq!(granted, 1, "{said:?}");
    assert_eq!(
        said.iter().filter(|s| s.contains("al beheerder")).count(),
        5,
        "{said:?}"
    );
    let listed = cli_ok(d.dir.path(), &["operator", "list"]);
    assert_eq!(listed.matches(BRAM).count(), 1, "{listed}");
}

#[tokio::test]
async fn an_operator_sets_a_notice_in_both_languages_that_ends_by_itself_and_clears_it() {
    let d = demo(Store::Memory);
    operator_grant(&d, BRAM);
    let mut bram = bram_signed_in(&d.server.base).await;
    let page = bram.get("/operator/storingsmelding").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.field("csrf").unwrap();
    // An end in the past is refused, and nothing is set.
    let refused = bram
        .post(
            "/operator/storingsmelding",
            &[
                ("csrf", &csrf),
                ("nl", "Storing"),
                ("en", "Outage"),
                ("until", "2020-01-01T10:00"),
            ],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("toekomst") && refused.body.contains("Storing"),
        "the form keeps what was typed"
    );
    assert!(cli_ok(d.dir.path(), &["notice", "show"]).contains("geen storingsmelding"));
    // Without English it is refused as well.
    let refused = bram
        .post(
            "/operator/storingsmelding",
            &[
                ("csrf", &csrf),
                ("nl", "Storing"),
                ("en", " "),
                ("until", ""),
            ],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    // A valid notice with an end two minutes from now (Dutch time).
    let until = dutch_clock_in(120);
    let set = bram
        .post(
            "/operator/storingsmelding",
            &[
                ("csrf", &csrf),
                ("nl", "Onderhoud <vanavond>"),
                ("en", "Maintenance tonight"),
                ("until", &until),
            ],
        )
        .await;
    assert_eq!(
        set.location(),
        Some("/operator/storingsmelding"),
        "{}",
        set.body
    );
    let shown = cli_ok(d.dir.path(), &["notice", "show"]);
    assert!(
        shown.contains("Onderhoud <vanavond>") && shown.contains(&until.replace('T', " ")),
        "{shown}"
    );
    let mut visitor = Browser::new(&d.server.base);
    let mut seen = false;
    for _ in 0..30 {
        let login = visitor.get("/inloggen").await.body;
        if login.contains("Onderhoud &lt;vanavond&gt;") {
            assert!(login.contains("Maintenance tonight"), "{login}");
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(seen, "the notice reached the login page");
    // Cleared: gone from the register and, within the refresh, from the pages.
    let cleared = bram
        .post("/operator/storingsmelding/verwijderen", &[("csrf", &csrf)])
        .await;
    assert_eq!(cleared.location(), Some("/operator/storingsmelding"));
    assert!(cli_ok(d.dir.path(), &["notice", "show"]).contains("geen storingsmelding"));
    // A form without its CSRF token changes nothing.
    let forged = bram
        .post(
            "/operator/storingsmelding",
            &[
                ("csrf", "fout"),
                ("nl", "Vals"),
                ("en", "Forged"),
                ("until", ""),
            ],
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert!(cli_ok(d.dir.path(), &["notice", "show"]).contains("geen storingsmelding"));
}

/// `YYYY-MM-DDTHH:MM` in Dutch time, `seconds` from now (as a datetime-local field sends it).
fn dutch_clock_in(seconds: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    directory::model::netherlands_clock(now + seconds).replace(' ', "T")
}

#[tokio::test]
async fn an_operator_adds_a_board_and_school_and_its_first_ict_coordinator_who_activates() {
    let d = demo(Store::Memory);
    operator_grant(&d, BRAM);
    let mut bram = bram_signed_in(&d.server.base).await;
    let boards = bram.get("/operator/besturen").await;
    assert_eq!(boards.status, 200, "{}", boards.body);
    let csrf = boards.field("csrf").unwrap();
    // A bad bestuursnummer is refused with the rule, and no board appears.
    let bad = bram
        .post(
            "/operator/besturen",
            &[
                ("csrf", &csrf),
                ("bestuursnummer", "12"),
                ("name", "Stichting Kort"),
            ],
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(!cli_ok(d.dir.path(), &["board", "list"]).contains("Stichting Kort"));
    let added = bram
        .post(
            "/operator/besturen",
            &[
                ("csrf", &csrf),
                ("bestuursnummer", "41234"),
                ("name", "Stichting Noord"),
            ],
        )
        .await;
    assert_eq!(
        added.location(),
        Some("/operator/besturen"),
        "{}",
        added.body
    );
    let renamed = bram
        .post(
            "/operator/besturen/41234",
            &[("csrf", &csrf), ("name", "Stichting Noorderlicht")],
        )
        .await;
    assert_eq!(
        renamed.location(),
        Some("/operator/besturen"),
        "{}",
        renamed.body
    );
    assert!(cli_ok(d.dir.path(), &["board", "list"]).contains("Stichting Noorderlicht"));
    let school = bram
        .post(
            "/operator/scholen",
            &[
                ("csrf", &csrf),
                ("bestuursnummer", "41234"),
                ("brin", "12AB"),
                ("vestigingscode", "00"),
                ("name", "De Linde"),
            ],
        )
        .await;
    assert_eq!(
        school.location(),
        Some("/operator/scholen/12AB00"),
        "{}",
        school.body
    );
    let page = bram.get("/operator/scholen/12AB00").await;
    assert!(
        page.body.contains("De Linde") && page.body.contains("Stichting Noorderlicht"),
        "{}",
        page.body
    );
    // A request without the document reference is refused and creates nobody.
    let first = [
        ("csrf", csrf.as_str()),
        ("roepnaam", "Ilse"),
        ("voorvoegsel", ""),
        ("achternaam", "Bakker"),
        ("email", "ilse.bakker@linde.example"),
        ("requested_by", "J. de Bestuurder"),
        ("document_ref", ""),
    ];
    let refused = bram
        .post("/operator/scholen/12AB00/eerste-ict-coordinator", &first)
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(crate::staff::activation_links(d.dir.path(), "ilse.bakker@linde.example").is_empty());
    let mut with_ref = first.to_vec();
    with_ref[6] = ("document_ref", "BRF-2026-17");
    let made = bram
        .post("/operator/scholen/12AB00/eerste-ict-coordinator", &with_ref)
        .await;
    assert_eq!(
        made.location(),
        Some("/operator/scholen/12AB00?melding=gemaild"),
        "{}",
        made.body
    );
    let page = bram.get("/operator/scholen/12AB00?melding=gemaild").await;
    for shown in [
        "ilse.bakker@linde.example",
        "J. de Bestuurder",
        "BRF-2026-17",
        "staff:",
    ] {
        assert!(page.body.contains(shown), "{shown}: {}", page.body);
    }
    assert!(
        !page.body.contains("eerste-ict-coordinator\""),
        "no second first one is offered"
    );
    let again = bram
        .post("/operator/scholen/12AB00/eerste-ict-coordinator", &with_ref)
        .await;
    assert_eq!(again.status, 400, "{}", again.body);
    // She activates from the mail and administers the new school.
    let links = crate::staff::activation_links(d.dir.path(), "ilse.bakker@linde.example");
    assert_eq!(links.len(), 1, "{links:?}");
    let mut ilse = Browser::new(&d.server.base);
    const PASSWORD: &str = "Kastanje-Veerpont-91";
    let activated = ilse
        .submit(
            &links[0],
            &[("password", PASSWORD), ("password_repeat", PASSWORD)],
        )
        .await;
    assert!(activated.status < 400, "{}", activated.body);
    let login = ilse
        .submit(
            "/inloggen",
            &[
                ("email", "ilse.bakker@linde.example"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(login.status, 303, "{}", login.body);
    let ip = ilse.get("/beheer/ip-adressen").await;
    assert_eq!(ip.status, 200, "{}", ip.body);
    assert!(ip.body.contains("De Linde (12AB00)"), "{}", ip.body);
    let audit = cli_ok(d.dir.path(), &["audit", "list", "--school", "12AB00"]);
    assert!(audit.contains("school.first_ict"), "{audit}");
}

#[tokio::test]
async fn an_operator_adds_and_renames_parties_and_adds_and_changes_a_publisher_s_products() {
    let d = demo(Store::Memory);
    operator_grant(&d, BRAM);
    let mut bram = bram_signed_in(&d.server.base).await;
    let list = bram.get("/operator/partijen").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains("demo-uitgeverij"), "{}", list.body);
    let csrf = list.field("csrf").unwrap();
    let bad = bram
        .post(
            "/operator/partijen",
            &[
                ("csrf", &csrf),
                ("code", "Noord Uitgever"),
                ("kind", "publisher"),
                ("name", "Uitgeverij Noord"),
            ],
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(!cli_ok(d.dir.path(), &["party", "list"]).contains("Uitgeverij Noord"));
    let added = bram
        .post(
            "/operator/partijen",
            &[
                ("csrf", &csrf),
                ("code", "noord"),
                ("kind", "publisher"),
                ("name", "Uitgeverij Noord"),
            ],
        )
        .await;
    assert_eq!(
        added.location(),
        Some("/operator/partijen/noord"),
        "{}",
        added.body
    );
    let renamed = bram
        .post(
            "/operator/partijen/noord",
            &[("csrf", &csrf), ("name", "Uitgeverij Noorderzon")],
        )
        .await;
    assert_eq!(renamed.location(), Some("/operator/partijen/noord"));
    assert!(cli_ok(d.dir.path(), &["party", "list"]).contains("Uitgeverij Noorderzon"));
    let product = [
        ("csrf", csrf.as_str()),
        ("code", "lezen"),
        ("methode", "Leesrijk"),
        ("name", "Leesrijk groep 4"),
        ("launch_url", "http://lezen.example/start"),
        ("icon_url", ""),
    ];
    // Plain http outside localhost is refused, and no product appears.
    let refused = bram
        .post("/operator/partijen/noord/producten", &product)
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("Leesrijk groep 4"),
        "the form keeps what was typed"
    );
    assert!(!cli_ok(d.dir.path(), &["product", "list", "--party", "noord"]).contains("lezen"));
    let mut product = product.to_vec();
    product[4] = ("launch_url", "https://lezen.example/start");
    let made = bram
        .post("/operator/partijen/noord/producten", &product)
        .await;
    assert_eq!(
        made.location(),
        Some("/operator/partijen/noord"),
        "{}",
        made.body
    );
    let form = bram.get("/operator/partijen/noord/producten/lezen").await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(
        !form
            .body
            .contains("id=\"home_allowed\" name=\"home_allowed\" value=\"on\" checked")
    );
    let changed = bram
        .post(
            "/operator/partijen/noord/producten/lezen",
            &[
                ("csrf", &csrf),
                ("methode", "Leesrijk"),
                ("name", "Leesrijk groep 4 en 5"),
                ("launch_url", "https://lezen.example/v2"),
                ("icon_url", ""),
                ("home_allowed", "on"),
            ],
        )
        .await;
    assert_eq!(
        changed.location(),
        Some("/operator/partijen/noord"),
        "{}",
        changed.body
    );
    let listed = cli_ok(d.dir.path(), &["product", "list", "--party", "noord"]);
    assert!(
        listed.contains("Leesrijk groep 4 en 5") && listed.contains("https://lezen.example/v2"),
        "{listed}"
    );
    // The demo publisher's OIDC client and SAML SP, registered at the demo's start, are listed.
    let leesland = bram.get("/operator/partijen/demo-leesland").await;
    assert_eq!(leesland.status, 200, "{}", leesland.body);
    assert!(
        leesland.body.contains("demo-leesland-web"),
        "{}",
        leesland.body
    );
    assert!(
        leesland.body.contains("/demo-product/saml"),
        "{}",
        leesland.body
    );
    // A network provider has no products.
    bram.post(
        "/operator/partijen",
        &[
            ("csrf", &csrf),
            ("code", "net-noord"),
            ("kind", "network_provider"),
            ("name", "Netwerk Noord"),
        ],
    )
    .await;
    let none = bram
        .post("/operator/partijen/net-noord/producten", &product)
        .await;
    assert_eq!(none.status, 400, "{}", none.body);
}

#[tokio::test]
async fn the_cli_uses_the_same_rules_for_first_ict_party_and_product_changes() {
    let d = demo(Store::Memory);
    let p = d.dir.path();
    cli_ok(
        p,
        &[
            "board",
            "add",
            "--bestuursnummer",
            "41234",
            "--name",
            "Stichting Noord",
        ],
    );
    cli_ok(
        p,
        &[
            "school",
            "add",
            "--bestuursnummer",
            "41234",
            "--brin",
            "12AB",
            "--vestigingscode",
            "00",
            "--name",
            "De Linde",
        ],
    );
    let first = [
        "school",
        "first-ict",
        "--school",
        "12AB00",
        "--email",
        "ilse.bakker@linde.example",
        "--achternaam",
        "Bakker",
        "--requested-by",
        "J. de Bestuurder",
        "--document-ref",
    ];
    let without = run(openpoort(p).args(first).arg(" "));
    assert!(
        !without.status.success(),
        "a request without its reference is refused"
    );
    let made = cli_ok(p, &[&first[..], &["BRF-2026-17"]].concat());
    assert!(made.contains("/activeren?token="), "{made}");
    let again = run(openpoort(p).args(first).arg("BRF-2026-18"));
    assert!(
        !again.status.success(),
        "one first ICT-coördinator per school"
    );
    operator_grant(&d, BRAM);
    let mut bram = bram_signed_in(&d.server.base).await;
    let page = bram.get("/operator/scholen/12AB00").await;
    assert!(
        page.body.contains("BRF-2026-17") && page.body.contains("operator:cli"),
        "{}",
        page.body
    );
    cli_ok(
        p,
        &[
            "party",
            "rename",
            "--party",
            "demo-uitgeverij",
            "--name",
            "Demo-uitgeverij Nieuw",
        ],
    );
    assert!(cli_ok(p, &["party", "list"]).contains("Demo-uitgeverij Nieuw"));
    let bad = run(openpoort(p).args([
        "product",
        "change",
        "--party",
        "demo-uitgeverij",
        "--code",
        "rekenrijk",
        "--methode",
        "Rekenrijk",
        "--name",
        "Rekenrijk",
        "--launch-url",
        "ftp://reken.example/",
    ]));
    assert!(!bad.status.success(), "a bad launch URL is refused");
    cli_ok(
        p,
        &[
            "product",
            "change",
            "--party",
            "demo-uitgeverij",
            "--code",
            "rekenrijk",
            "--methode",
            "Rekenrijk",
            "--name",
            "Rekenrijk Plus",
            "--launch-url",
            "https://reken.example/plus",
            "--home-allowed",
        ],
    );
    let listed = cli_ok(p, &["product", "list", "--party", "demo-uitgeverij"]);
    assert!(
        listed.contains("Rekenrijk Plus") && listed.contains("https://reken.example/plus"),
        "{listed}"
    );
}
