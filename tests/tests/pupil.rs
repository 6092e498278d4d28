//! Pupil login at school and at home, the portal and the teacher's tools, over HTTP against
//! `openpoort demo` (school 99ZZ00 with loopback as its network, picture passwords on).

use std::time::Duration;

use std::sync::Arc;

use openpoort_e2e::{
    Browser, Page, Server, Store, anna_signed_in, choose_99zz00, cli_ok, log_in_as_bram,
    on_both_stores, openpoort, store_env, submit_with_next,
};

struct Demo {
    dir: tempfile::TempDir,
    server: Server,
    instelling_ref: String,
    home_code: String,
    pin: String,
}

fn demo(store: Store, extra: &[(&str, &str)]) -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = openpoort(dir.path());
    for (k, v) in store_env(store) {
        cmd.env(k, v);
    }
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.arg("demo");
    let server = Server::start(cmd);
    let out = server.more_output(Duration::from_millis(500)).join("\n");
    let instelling_ref = out
        .split("/s/")
        .nth(1)
        .and_then(|r| r.get(..36))
        .unwrap_or_else(|| panic!("no shortcut in {out}"))
        .to_owned();
    let line = out
        .lines()
        .find(|l| l.contains("thuiscode"))
        .unwrap_or_else(|| panic!("no home code in {out}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = |w: &str| words[words.iter().position(|x| *x == w).unwrap() + 1].to_owned();
    Demo {
        home_code: at("thuiscode"),
        pin: at("pincode"),
        dir,
        server,
        instelling_ref,
    }
}

/// The href of the link whose text starts with `label`.
fn link(page: &Page, label: &str) -> String {
    let at = page
        .body
        .find(&format!("\">{label}"))
        .unwrap_or_else(|| panic!("no link {label}: {}", page.body));
    let start = page.body[..at].rfind("href=\"").unwrap() + 6;
    page.body[start..at].replace("&amp;", "&")
}

/// Index of the form whose button shows `label`.
fn form_with(page: &Page, label: &str) -> usize {
    let at = page
        .body
        .find(label)
        .unwrap_or_else(|| panic!("no {label}: {}", page.body));
    page.body[..at].matches("<form").count() - 1
}

/// Group 5 → Finn S. → a picture shown to him that is not `secret`.
async fn pupil_login_wrong(b: &mut Browser, d: &Demo, secret: &str) -> Page {
    let pick = pupil_login(b, d, None).await;
    let decoy = pick
        .body
        .split("alt=\"")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .find(|alt| *alt != secret)
        .expect("decoys shown")
        .to_owned();
    let i = form_with(&pick, &format!("alt=\"{decoy}\""));
    b.submit_form(&pick, i, &[]).await
}

/// Group 5 → Finn S. → (picture) at school; returns the page after the last step.
async fn pupil_login(b: &mut Browser, d: &Demo, picture: Option<&str>) -> Page {
    let groups = b.get(&format!("/s/{}", d.instelling_ref)).await;
    assert_eq!(groups.status, 200, "{}", groups.body);
    let names = b.get(&link(&groups, "Groep 5 Uilen")).await;
    let pick = b
        .submit_form(&names, form_with(&names, "Finn S."), &[])
        .await;
    match picture {
        None => pick,
        Some(p) => {
            let i = form_with(&pick, &format!("alt=\"{p}\""));
            b.submit_form(&pick, i, &[]).await
        }
    }
}

on_both_stores! {
    async fn pupil_on_the_school_network_picks_group_name_and_picture_and_sees_the_portal(s: Store) {
        let d = demo(s, &[]);
        let mut b = Browser::new(&d.server.base);
        // Finn Smit is the fifth demo pupil: his picture is the fifth of the catalogue, boom.
        let page = pupil_login(&mut b, &d, None).await;
        assert!(page.body.contains("Finn, kies jouw plaatje"), "{}", page.body);
        assert_eq!(page.body.matches("<img src=\"/static/plaatjes/").count(), 9);
        let done = pupil_login(&mut b, &d, Some("boom")).await;
        assert_eq!(done.location(), Some("/"), "{}", done.body);
        let portal = b.get("/").await;
        assert!(portal.body.contains("Welkom, Finn"), "{}", portal.body);
        assert!(portal.body.contains("Rekenrijk oefenen"), "the licensed product is a tile");
        assert!(portal.body.contains("https://rekenrijk.demo-uitgeverij.example/start"));
    }
}

#[tokio::test]
async fn name_picker_shows_roepnaam_and_initial_only() {
    let d = demo(Store::Memory, &[]);
    let mut b = Browser::new(&d.server.base);
    let groups = b.get(&format!("/s/{}", d.instelling_ref)).await;
    let names = b.get(&link(&groups, "Groep 8 Dassen")).await;
    for shown in ["Tess M.", "Lucas B.", "Zoë D."] {
        assert!(names.body.contains(shown), "{shown}: {}", names.body);
    }
    assert!(
        !names.body.contains("Mulder") && !names.body.contains("van den Berg"),
        "no surnames in the picker"
    );
}

#[tokio::test]
async fn wrong_pictures_are_refused_then_throttled() {
    let d = demo(Store::Memory, &[]);
    let mut b = Browser::new(&d.server.base);
    // Three tries: fewer than the seven wrong pictures a guesser has to choose from.
    for attempt in 0..3 {
        let r = pupil_login_wrong(&mut b, &d, "boom").await;
        assert_eq!(r.status, 401, "attempt {attempt}: {}", r.body);
        assert!(r.body.contains("niet jouw plaatje"));
    }
    // Now the pupil waits, whatever picture would come next.
    let locked = pupil_login(&mut b, &d, None).await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert!(!b.cookies.contains_key("openpoort"));
}

#[tokio::test]
async fn pupil_outside_the_school_network_is_refused_without_names() {
    // Behind a trusted proxy at 127.0.0.1, the forwarded client address decides.
    let d = demo(
        Store::Memory,
        &[("OPENPOORT_SERVER_TRUSTED_PROXIES", "127.0.0.1/32, ::1")],
    );
    let mut b = Browser::new(&d.server.base);
    b.headers
        .push(("x-forwarded-for".into(), "203.0.113.9".into()));
    let page = b.get(&format!("/s/{}", d.instelling_ref)).await;
    assert_eq!(page.status, 403);
    assert!(
        page.body.contains("Vraag het je leerkracht") && page.body.contains("203.0.113.9"),
        "{}",
        page.body
    );
    for secret in ["Groep", "Uilen", "Finn", "Basisschool De Demo"] {
        assert!(
            !page.body.contains(secret),
            "{secret} shown outside the school"
        );
    }
    // The same client inside the school's range is let in.
    b.headers = vec![("x-forwarded-for".into(), "203.0.113.9, 127.0.0.8".into())];
    assert_eq!(b.get(&format!("/s/{}", d.instelling_ref)).await.status, 200);
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_counts_for_nothing() {
    let d = demo(Store::Memory, &[]);
    let mut b = Browser::new(&d.server.base);
    // No trusted proxies configured: the header cannot move a client into or out of a school.
    b.headers
        .push(("x-forwarded-for".into(), "203.0.113.9".into()));
    assert_eq!(
        b.get(&format!("/s/{}", d.instelling_ref)).await.status,
        200,
        "the peer (loopback) counts"
    );
}

#[tokio::test]
async fn unknown_or_malformed_shortcuts_show_no_school_data() {
    let d = demo(Store::Memory, &[]);
    let mut b = Browser::new(&d.server.base);
    for path in [
        "/s/00000000-0000-4000-8000-000000000000".to_owned(),
        "/s/not-a-reference".to_owned(),
        "/login/leerlingen/snelkoppelaar?INSTELLING_REF=%27%20OR%201=1".to_owned(),
        "/login/leerlingen/snelkoppelaar".to_owned(),
    ] {
        let page = b.get(&path).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(
            page.body.contains("niet geldig") && !page.body.contains("Demo"),
            "{path}: {}",
            page.body
        );
    }
}

#[tokio::test]
async fn basispoort_shortcut_leads_to_the_same_pages_and_target_is_no_open_redirect() {
    let d = demo(Store::Memory, &[]);
    let launch = "https://rekenrijk.demo-uitgeverij.example/start";
    for (target, kept) in [(launch, true), ("https://evil.example/phish", false)] {
        let mut b = Browser::new(&d.server.base);
        let encoded: String = url_encode(target);
        let r = b
            .get(&format!(
                "/login/leerlingen/snelkoppelaar?INSTELLING_REF={}&TARGET={encoded}",
                d.instelling_ref
            ))
            .await;
        assert_eq!(r.status, 303);
        let to = r.location().unwrap().to_owned();
        assert!(to.starts_with(&format!("/s/{}", d.instelling_ref)), "{to}");
        let groups = b.get(&to).await;
        let names = b.get(&link(&groups, "Groep 5 Uilen")).await;
        let pick = b
            .submit_form(&names, form_with(&names, "Finn S."), &[])
            .await;
        let done = b
            .submit_form(&pick, form_with(&pick, "alt=\"boom\""), &[])
            .await;
        assert_eq!(
            done.location(),
            Some("/"),
            "never a redirect to TARGET itself"
        );
        let portal = b.get("/").await;
        assert_eq!(
            portal.body.contains("Verder naar"),
            kept,
            "{target}: {}",
            portal.body
        );
        assert!(!portal.body.contains("evil.example"));
    }
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

on_both_stores! {
    async fn home_code_login_offers_only_home_allowed_products(s: Store) {
        let d = demo(s, &[]);
        // A second product of the same publisher, licensed but for school use only.
        cli_ok(d.dir.path(), &["product", "add", "--party", "demo-uitgeverij", "--code", "toetsen", "--methode", "Rekenrijk", "--name", "Rekenrijk toetsen", "--launch-url", "https://rekenrijk.demo-uitgeverij.example/toets"]);
        cli_ok(d.dir.path(), &["licence", "add", "--school", "99ZZ00", "--party", "demo-uitgeverij", "--product", "toetsen", "--from", "2026-08-01"]);

        let mut home = Browser::new(&d.server.base);
        let wrong = home.submit("/thuis", &[("code", &d.home_code), ("pin", "000000")]).await;
        assert_eq!(wrong.status, 401);
        let ok = home.submit("/thuis", &[("code", &d.home_code.to_lowercase().replace('-', " ")), ("pin", &d.pin)]).await;
        assert_eq!(ok.location(), Some("/"), "{}", ok.body);
        let portal = home.get("/").await;
        assert!(portal.body.contains("Welkom, Sem") && portal.body.contains("thuis"), "{}", portal.body);
        assert!(portal.body.contains("Rekenrijk oefenen"));
        assert!(!portal.body.contains("Rekenrijk toetsen"), "school-only product offered at home");

        let mut school = Browser::new(&d.server.base);
        let groups = school.get(&format!("/s/{}", d.instelling_ref)).await;
        let names = school.get(&link(&groups, "Groep 1/2 Egeltjes")).await;
        let pick = school.submit_form(&names, form_with(&names, "Sem B."), &[]).await;
        school.submit_form(&pick, form_with(&pick, "alt=\"zon\""), &[]).await;
        let at_school = school.get("/").await;
        assert!(at_school.body.contains("Rekenrijk toetsen"), "at school both: {}", at_school.body);

        // The school switches home login off: the home session ends, the school session stays.
        cli_ok(d.dir.path(), &["school", "home-login", "--school", "99ZZ00", "off"]);
        assert_eq!(home.get("/").await.location(), Some("/inloggen"));
        assert_eq!(school.get("/").await.status, 200);
        let refused = home.submit("/thuis", &[("code", &d.home_code), ("pin", &d.pin)]).await;
        assert_eq!(refused.status, 403);
        assert!(refused.body.contains("thuis inloggen uitgezet"));
    }
}

#[tokio::test]
async fn wrong_pins_are_throttled_per_code() {
    let d = demo(Store::Memory, &[]);
    let mut b = Browser::new(&d.server.base);
    for _ in 0..5 {
        assert_eq!(
            b.submit("/thuis", &[("code", &d.home_code), ("pin", "123456")])
                .await
                .status,
            401
        );
    }
    assert_eq!(
        b.submit("/thuis", &[("code", &d.home_code), ("pin", &d.pin)])
            .await
            .status,
        429
    );
}

#[tokio::test]
async fn outage_notice_is_shown_on_login_pages_and_the_portal() {
    let d = demo(Store::Memory, &[]);
    cli_ok(
        d.dir.path(),
        &[
            "notice",
            "set",
            "--text",
            "Vanavond <onderhoud> van 22 tot 23 uur",
            "--text-en",
            "Maintenance tonight from 22 to 23",
        ],
    );
    let mut b = Browser::new(&d.server.base);
    let mut seen = false;
    for _ in 0..30 {
        if b.get("/inloggen")
            .await
            .body
            .contains("Vanavond &lt;onderhoud&gt;")
        {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(seen, "the notice did not appear within 7.5 s");
    for path in ["/thuis".to_owned(), format!("/s/{}", d.instelling_ref)] {
        assert!(
            b.get(&path)
                .await
                .body
                .contains("Vanavond &lt;onderhoud&gt;"),
            "{path}"
        );
    }
    pupil_login(&mut b, &d, Some("boom")).await;
    assert!(
        b.get("/").await.body.contains("Vanavond &lt;onderhoud&gt;"),
        "portal"
    );
}

#[tokio::test]
async fn teacher_sets_pictures_and_issues_printable_home_codes_that_work() {
    let d = demo(Store::Memory, &[]);
    let mut t = Browser::new(&d.server.base);
    let login = t
        .submit(
            "/inloggen",
            &[
                ("email", "bram.jansen@demo.openpoort.nl"),
                ("password", "Fiets-Molen-Tulp-42"),
            ],
        )
        .await;
    assert_eq!(login.location(), Some("/school-kiezen"));
    let choose = t.get("/school-kiezen").await;
    let at = choose.body.find("(99ZZ00)").unwrap();
    let marker = "name=\"school_id\" value=\"";
    let i = choose.body[..at].rfind(marker).unwrap() + marker.len();
    let school_id = choose.body[i..i + 36].to_owned();
    t.submit_form(&choose, 0, &[("school_id", &school_id)])
        .await;

    let overview = t.get("/beheer").await;
    assert!(
        overview.body.contains("Instellingen van de school"),
        "the ICT-coördinator sees school settings"
    );
    let group = t.get(&link(&overview, "Groep 5 Uilen")).await;
    assert!(group.body.contains("Finn Smit"), "{}", group.body);
    // Give Finn another picture; the old one stops working.
    let i = form_with(&group, "Plaatje voor Finn");
    t.submit_form(&group, i, &[("picture", "vis")]).await;
    let mut pupil = Browser::new(&d.server.base);
    assert_eq!(pupil_login_wrong(&mut pupil, &d, "vis").await.status, 401);
    // The old picture, where it is still among the nine shown, is now a wrong one.
    let choices = pupil_login(&mut pupil, &d, None).await;
    if choices.body.contains("alt=\"boom\"") {
        let i = form_with(&choices, "alt=\"boom\"");
        assert_eq!(pupil.submit_form(&choices, i, &[]).await.status, 401);
    }
    assert_eq!(
        pupil_login(&mut pupil, &d, Some("vis")).await.location(),
        Some("/")
    );

    // Cards for the whole group: one per pupil, with code, pin and QR.
    let cards = t.submit_form(&group, 0, &[]).await;
    assert_eq!(cards.status, 200, "{}", cards.body);
    assert_eq!(
        cards.body.matches("class=\"card\"").count(),
        3,
        "group 5 has three pupils"
    );
    assert_eq!(cards.body.matches("<svg").count(), 3);
    let finn = &cards.body[cards.body.find("Finn Smit").unwrap()..];
    let code = finn
        .split("Thuiscode: <span class=\"code\">")
        .nth(1)
        .unwrap()[..19]
        .to_owned();
    let pin = finn.split("Pincode: <span class=\"code\">").nth(1).unwrap()[..6].to_owned();
    let mut home = Browser::new(&d.server.base);
    assert_eq!(
        home.submit("/thuis", &[("code", &code), ("pin", &pin)])
            .await
            .location(),
        Some("/")
    );

    // Voiding the code ends its use (a fresh browser cannot log in with it any more).
    let group = t.get(&link(&overview, "Groep 5 Uilen")).await;
    let i = form_with(&group, "Thuiscode van Finn Smit intrekken");
    t.submit_form(&group, i, &[]).await;
    let mut later = Browser::new(&d.server.base);
    assert_eq!(
        later
            .submit("/thuis", &[("code", &code), ("pin", &pin)])
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn a_teacher_manages_only_their_own_groups() {
    let d = demo(Store::Memory, &[]);
    // Anna teaches group 5; her account is activated through the link the demo mailed.
    let mut t = anna_signed_in(d.dir.path(), &d.server.base).await;
    let overview = t.get("/beheer").await;
    assert!(
        overview.body.contains("Groep 5 Uilen") && !overview.body.contains("Groep 8 Dassen"),
        "{}",
        overview.body
    );
    assert!(
        !overview.body.contains("Instellingen van de school"),
        "teachers do not change school settings"
    );
    // Another group's page, or a pupil of it, is refused even by direct URL.
    let mut bram = Browser::new(&d.server.base);
    bram.submit(
        "/inloggen",
        &[
            ("email", "bram.jansen@demo.openpoort.nl"),
            ("password", "Fiets-Molen-Tulp-42"),
        ],
    )
    .await;
    let choose = bram.get("/school-kiezen").await;
    let at = choose.body.find("(99ZZ00)").unwrap();
    let marker = "name=\"school_id\" value=\"";
    let i = choose.body[..at].rfind(marker).unwrap() + marker.len();
    let school_id = choose.body[i..i + 36].to_owned();
    bram.submit_form(&choose, 0, &[("school_id", &school_id)])
        .await;
    let all = bram.get("/beheer").await;
    let g8 = link(&all, "Groep 8 Dassen");
    assert_eq!(t.get(&g8).await.status, 403);
}

const RP_REDIRECT: &str = "https://rekenrijk.demo-uitgeverij.example/callback";

/// Registers a client of the demo publisher and returns an authorization request for it (RFC
/// 7636 Appendix B's challenge: these tests never exchange the code).
fn client_authorize_path(d: &Demo) -> String {
    cli_ok(
        d.dir.path(),
        &[
            "client",
            "add",
            "--party",
            "demo-uitgeverij",
            "--client-id",
            "rekenrijk-app",
            "--name",
            "Rekenrijk",
            "--redirect-uri",
            RP_REDIRECT,
            "--grant",
            "authorization_code",
            "--scope",
            "openid",
        ],
    );
    let redirect: String = url::form_urlencoded::byte_serialize(RP_REDIRECT.as_bytes()).collect();
    format!(
        "/oidc/authorize?response_type=code&client_id=rekenrijk-app&redirect_uri={redirect}&scope=openid&state=s1&nonce=n1\
         &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
    )
}

/// The answer of a resumed authorization request: a redirect to the client with a code.
async fn assert_back_at_client_with_a_code(b: &mut Browser, back: &str) {
    assert!(
        back.starts_with("/oidc/authorize?"),
        "back to the request, not the portal: {back}"
    );
    let answer = b.get(back).await;
    let to_client = answer.location().unwrap_or_default();
    assert!(
        to_client.starts_with(&format!("{RP_REDIRECT}?code=")) && to_client.contains("state=s1"),
        "{} {to_client}",
        answer.status
    );
}

#[tokio::test]
async fn pupil_at_home_sent_by_a_client_logs_in_with_the_home_code_and_continues_to_it() {
    // Behind a trusted proxy, from an address outside every school's network.
    let d = demo(
        Store::Memory,
        &[("OPENPOORT_SERVER_TRUSTED_PROXIES", "127.0.0.1/32, ::1")],
    );
    let authorize = client_authorize_path(&d);
    let mut b = Browser::new(&d.server.base);
    b.headers
        .push(("x-forwarded-for".into(), "203.0.113.9".into()));
    let asked = b.get(&authorize).await;
    let login = b.get(asked.location().expect("to the login page")).await;
    assert!(
        !login.body.contains("Kies je groep bij"),
        "not on a school network: no school offered"
    );
    let home_link = link(&login, "Leerling thuis?");
    assert!(
        home_link.starts_with("/thuis?next=%2Foidc%2Fauthorize%3F"),
        "{home_link}"
    );
    let home = b.get(&home_link).await;
    let done = submit_with_next(
        &mut b,
        &home,
        form_with(&home, "action=\"/thuis\""),
        &[("code", &d.home_code), ("pin", &d.pin)],
    )
    .await;
    assert_back_at_client_with_a_code(&mut b, done.location().unwrap_or_default()).await;
}

#[tokio::test]
async fn pupil_at_school_sent_by_a_client_picks_group_name_and_picture_and_continues_to_it() {
    // The test's own address, 127.0.0.1, is inside the demo school's range.
    let d = demo(Store::Memory, &[]);
    let authorize = client_authorize_path(&d);
    let mut b = Browser::new(&d.server.base);
    let asked = b.get(&authorize).await;
    let login = b.get(asked.location().expect("to the login page")).await;
    let groups = b.get(&link(&login, "Kies je groep bij")).await;
    let names = b.get(&link(&groups, "Groep 5 Uilen")).await;
    let pictures = b
        .submit_form(&names, form_with(&names, "Finn S."), &[])
        .await;
    let done = b
        .submit_form(&pictures, form_with(&pictures, "alt=\"boom\""), &[])
        .await;
    assert_back_at_client_with_a_code(&mut b, done.location().unwrap_or_default()).await;
}

/// `n` copies of browser `b` (its cookies: the same CSRF token and session) each submitting form
/// `index` of `page` with `fields` at the same time; returns the statuses.
async fn burst(
    d: &Demo,
    b: &Browser,
    page: Page,
    index: usize,
    fields: &[(&str, &str)],
    n: usize,
) -> Vec<u16> {
    let page = Arc::new(page);
    let fields: Arc<Vec<(String, String)>> = Arc::new(
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    );
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let mut copy = Browser::new(&d.server.base);
        copy.cookies = b.cookies.clone();
        let (page, fields) = (page.clone(), fields.clone());
        tasks.spawn(async move {
            let fields: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            copy.submit_form(&page, index, &fields).await.status
        });
    }
    let mut statuses = Vec::new();
    while let Some(status) = tasks.join_next().await {
        statuses.push(status.unwrap());
    }
    statuses
}

on_both_stores! {
    async fn parallel_picture_guesses_get_no_more_tries_than_the_limit(s: Store) {
        let d = demo(s, &[]);
        let mut b = Browser::new(&d.server.base);
        let pick = pupil_login(&mut b, &d, None).await;
        let decoy = pick
            .body
            .split("alt=\"")
            .skip(1)
            .map(|rest| &rest[..rest.find('"').unwrap()])
            .find(|alt| *alt != "boom")
            .expect("decoys shown")
            .to_owned();
        let i = form_with(&pick, &format!("alt=\"{decoy}\""));
        let statuses = burst(&d, &b, pick, i, &[], 200).await;
        let compared = statuses.iter().filter(|s| **s == 401).count();
        let paused = statuses.iter().filter(|s| **s == 429).count();
        assert!(compared <= 3, "{compared} of 200 parallel picks were compared");
        assert_eq!(compared + paused, 200, "{statuses:?}");
        // The pupil's own picture waits too.
        let pick = pupil_login(&mut b, &d, None).await;
        assert_eq!(pick.status, 429, "{}", pick.body);
    }
}

on_both_stores! {
    async fn parallel_pin_guesses_get_no_more_tries_than_the_limit(s: Store) {
        let d = demo(s, &[]);
        let mut b = Browser::new(&d.server.base);
        let form = b.get("/thuis").await;
        let statuses = burst(&d, &b, form, 0, &[("code", &d.home_code), ("pin", "000000")], 60).await;
        let checked = statuses.iter().filter(|s| **s == 401).count();
        assert!(checked <= 5, "{checked} of 60 parallel pins were checked");
        assert_eq!(
            checked + statuses.iter().filter(|s| **s == 429).count(),
            60,
            "{statuses:?}"
        );
        let right = b.submit("/thuis", &[("code", &d.home_code), ("pin", &d.pin)]).await;
        assert_eq!(right.status, 429, "{}", right.body);
    }
}

/// Bram, the demo's ICT-coördinator, signed in at 99ZZ00, on the page of Groep 5.
async fn bram_at_group_5(d: &Demo) -> (Browser, Page) {
    let mut t = Browser::new(&d.server.base);
    log_in_as_bram(&mut t, "/inloggen").await;
    choose_99zz00(&mut t, "/school-kiezen").await;
    let overview = t.get("/beheer").await;
    let group = t.get(&link(&overview, "Groep 5 Uilen")).await;
    assert_eq!(group.status, 200, "{}", group.body);
    (t, group)
}

#[tokio::test]
async fn a_teacher_lifts_the_pause_of_a_pupil_after_wrong_pictures() {
    let d = demo(Store::Memory, &[]);
    let mut pupil = Browser::new(&d.server.base);
    for _ in 0..3 {
        assert_eq!(pupil_login_wrong(&mut pupil, &d, "boom").await.status, 401);
    }
    assert_eq!(pupil_login(&mut pupil, &d, None).await.status, 429);

    let (mut t, group) = bram_at_group_5(&d).await;
    assert!(group.body.contains("Geblokkeerd"), "{}", group.body);
    let i = form_with(&group, "Finn Smit weer laten inloggen");
    // Without this browser's CSRF token (another site's form), nothing changes.
    let at = group.body.find("/ontgrendelen").unwrap();
    let action = &group.body[group.body[..at].rfind('"').unwrap() + 1..at + "/ontgrendelen".len()];
    let forged = t.post(action, &[("csrf", "x".repeat(43).as_str())]).await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    // Nor for someone who is not signed in as a teacher.
    let mut stranger = Browser::new(&d.server.base);
    let form = stranger.get("/inloggen").await;
    let csrf = form.field("csrf").unwrap();
    let anonymous = stranger.post(action, &[("csrf", &csrf)]).await;
    assert_eq!(anonymous.location(), Some("/inloggen"));
    assert_eq!(
        pupil_login(&mut pupil, &d, None).await.status,
        429,
        "still paused"
    );

    let done = t.submit_form(&group, i, &[]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let overview = t.get("/beheer").await;
    let group = t.get(&link(&overview, "Groep 5 Uilen")).await;
    assert!(!group.body.contains("Geblokkeerd"), "{}", group.body);
    assert_eq!(
        pupil_login(&mut pupil, &d, Some("boom")).await.location(),
        Some("/")
    );
}

#[tokio::test]
async fn the_admin_api_lifts_the_pause_of_a_pupil_after_wrong_pictures() {
    let d = demo(Store::Memory, &[]);
    let mut pupil = Browser::new(&d.server.base);
    for _ in 0..3 {
        assert_eq!(pupil_login_wrong(&mut pupil, &d, "boom").await.status, 401);
    }
    assert_eq!(pupil_login(&mut pupil, &d, None).await.status, 429);

    let http = reqwest::Client::new();
    let token = openpoort_e2e::admin_api_token(d.dir.path(), &[], &d.server.url("")).await;
    let token = token.as_str();
    let api = |path: &str| d.server.url(&format!("/api/v1/schools/99ZZ00{path}"));
    let groups: serde_json::Value = http
        .get(api("/groups"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let uilen = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "Groep 5 Uilen")
        .expect("group 5")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let finn = || async {
        let listed: serde_json::Value = http
            .get(api(&format!("/groups/{uilen}/pupils")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        listed["pupils"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "Finn Smit")
            .expect("Finn")
            .clone()
    };
    assert_eq!(finn().await["locked"], true, "the API shows the pause");

    let id = finn().await["id"].as_str().unwrap().to_owned();
    let unlocked = http
        .post(api(&format!("/pupils/{id}/unlock")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(unlocked.status(), 204);
    assert_eq!(finn().await["locked"], false);
    assert_eq!(
        pupil_login(&mut pupil, &d, Some("boom")).await.location(),
        Some("/")
    );
}

#[tokio::test]
async fn a_pupil_without_a_picture_cannot_log_in_by_name_alone() {
    let d = demo(Store::Memory, &[]);
    // Finn's picture is cleared, as a pupil new from an import has none.
    let (mut t, group) = bram_at_group_5(&d).await;
    let i = form_with(&group, "Plaatje voor Finn");
    t.submit_form(&group, i, &[("picture", "")]).await;

    let mut pupil = Browser::new(&d.server.base);
    let refused = pupil_login(&mut pupil, &d, None).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused.body.contains("Vraag je leerkracht"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("Ask your teacher"),
        "{}",
        refused.body
    );
    assert!(!pupil.cookies.contains_key("openpoort"));
    // Nor with an empty picture posted by hand.
    let groups = pupil.get(&format!("/s/{}", d.instelling_ref)).await;
    let names = pupil.get(&link(&groups, "Groep 5 Uilen")).await;
    let i = form_with(&names, "Finn S.");
    let empty = pupil.submit_form(&names, i, &[("picture", "")]).await;
    assert_eq!(empty.status, 403, "{}", empty.body);
    assert!(!pupil.cookies.contains_key("openpoort"));
}

#[tokio::test]
async fn a_pupil_logging_out_at_school_is_back_at_the_school_s_group_list() {
    let d = demo(Store::Memory, &[]);
    let mut b = Browser::new(&d.server.base);
    let done = pupil_login(&mut b, &d, Some("boom")).await;
    assert_eq!(done.location(), Some("/"), "{}", done.body);
    let portal = b.get("/").await;
    let out = b
        .submit_form(&portal, form_with(&portal, "action=\"/uitloggen\""), &[])
        .await;
    let groups = format!("/s/{}", d.instelling_ref);
    assert_eq!(out.location(), Some(groups.as_str()), "{}", out.body);
    // The next pupil picks a group there; the one before is signed out.
    let next = b.get(&groups).await;
    assert!(next.body.contains("Groep 5 Uilen"), "{}", next.body);
    assert_ne!(b.get("/").await.body, portal.body);
}

#[tokio::test]
async fn a_pupil_logging_out_at_home_is_back_at_the_login_page() {
    let d = demo(Store::Memory, &[]);
    let mut b = Browser::new(&d.server.base);
    let home = b
        .submit("/thuis", &[("code", &d.home_code), ("pin", &d.pin)])
        .await;
    assert_eq!(home.status, 303, "{}", home.body);
    let portal = b.get("/").await;
    assert!(portal.body.contains("Welkom"), "{}", portal.body);
    let out = b
        .submit_form(&portal, form_with(&portal, "action=\"/uitloggen\""), &[])
        .await;
    assert_eq!(out.location(), Some("/inloggen?melding=uitgelogd"));
}

/// A publisher's web server played by a thread of the test: each path answers with its bytes
/// (as `image/png`, whatever they are, as a careless server would); counts the requests.
fn icon_host(files: Vec<(&'static str, Vec<u8>)>) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    icon_host_answering_after(files, Duration::ZERO)
}

/// [`icon_host`] as a slow server: each connection is served on a thread of its own and
/// answered `delay` after its request arrived.
fn icon_host_answering_after(
    files: Vec<(&'static str, Vec<u8>)>,
    delay: Duration,
) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = hits.clone();
    let files = Arc::new(files);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let files = files.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut first = String::new();
                let _ = reader.read_line(&mut first);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                }
                std::thread::sleep(delay);
                let path = first
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned();
                let body = files
                    .iter()
                    .find(|(p, _)| *p == path)
                    .map(|(_, b)| b.clone())
                    .unwrap_or_default();
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(&body);
            });
        }
    });
    (base, hits)
}

/// The smallest PNG there is: one transparent pixel.
const PIXEL_PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\x0f\0\0\x01\x01\0\x05\x18\xd8N\0\0\0\0IEND\xaeB`\x82";

/// Registers a licensed product of the demo publisher with `icon` as its icon URL.
fn product_with_icon(d: &Demo, code: &str, name: &str, icon: &str) {
    cli_ok(
        d.dir.path(),
        &[
            "product",
            "add",
            "--party",
            "demo-uitgeverij",
            "--code",
            code,
            "--methode",
            name,
            "--name",
            name,
            "--launch-url",
            "https://rekenrijk.demo-uitgeverij.example/start",
            "--icon-url",
            icon,
        ],
    );
    cli_ok(
        d.dir.path(),
        &[
            "licence",
            "add",
            "--school",
            "99ZZ00",
            "--party",
            "demo-uitgeverij",
            "--product",
            code,
            "--from",
            "2026-08-01",
        ],
    );
}

/// The icon paths of the portal's tiles.
fn tile_icons(portal: &Page) -> Vec<String> {
    portal
        .body
        .split("<img src=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
        .collect()
}

#[tokio::test]
async fn product_icons_are_served_by_openpoort_within_the_csp_and_fetched_once() {
    let d = demo(Store::Memory, &[]);
    let (host, hits) = icon_host(vec![("/icon.png", PIXEL_PNG.to_vec())]);
    product_with_icon(&d, "metplaatje", "Met plaatje", &format!("{host}/icon.png"));
    let mut b = Browser::new(&d.server.base);
    pupil_login(&mut b, &d, Some("boom")).await;
    let portal = b.get("/").await;
    let csp = portal.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("img-src 'self'"), "{csp}");
    let icons = tile_icons(&portal);
    assert_eq!(icons.len(), 1, "{}", portal.body);
    assert!(
        icons[0].starts_with("/static/icon/"),
        "same origin, so the CSP lets it load: {icons:?}"
    );
    assert!(
        !portal.body.contains(&host),
        "the publisher's host is not in the page"
    );
    for _ in 0..3 {
        let icon = reqwest::get(d.server.url(&icons[0])).await.unwrap();
        assert_eq!(icon.status(), 200);
        assert_eq!(icon.headers()["content-type"], "image/png");
        assert_eq!(icon.bytes().await.unwrap().as_ref(), PIXEL_PNG);
    }
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "fetched once, then cached"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_first_requests_for_a_product_icon_fetches_it_from_the_publisher_once() {
    let d = demo(Store::Memory, &[]);
    // A slow publisher's server: the first fetch is still under way while the burst arrives,
    // as when a whole class opens the portal at once.
    let (host, hits) = icon_host_answering_after(
        vec![("/icon.png", PIXEL_PNG.to_vec())],
        Duration::from_millis(400),
    );
    product_with_icon(&d, "klasbreed", "Klasbreed", &format!("{host}/icon.png"));
    let mut b = Browser::new(&d.server.base);
    pupil_login(&mut b, &d, Some("boom")).await;
    let icons = tile_icons(&b.get("/").await);
    assert_eq!(icons.len(), 1, "{icons:?}");
    let url = d.server.url(&icons[0]);
    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let url = url.clone();
        burst.spawn(async move {
            let icon = reqwest::get(url).await.unwrap();
            (icon.status(), icon.bytes().await.unwrap())
        });
    }
    for (status, body) in burst.join_all().await {
        assert_eq!(status, 200);
        assert_eq!(body.as_ref(), PIXEL_PNG);
    }
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "sixteen concurrent first requests share one fetch"
    );
}

#[tokio::test]
async fn a_product_icon_that_is_no_raster_image_or_too_large_is_not_served() {
    let d = demo(Store::Memory, &[]);
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec();
    let mut large = PIXEL_PNG.to_vec();
    large.resize(300 * 1024, 0);
    let (host, _) = icon_host(vec![("/icon.svg", svg), ("/large.png", large)]);
    product_with_icon(&d, "svgicoon", "Met SVG", &format!("{host}/icon.svg"));
    product_with_icon(
        &d,
        "grooticoon",
        "Met groot icoon",
        &format!("{host}/large.png"),
    );
    let mut b = Browser::new(&d.server.base);
    pupil_login(&mut b, &d, Some("boom")).await;
    let icons = tile_icons(&b.get("/").await);
    assert_eq!(icons.len(), 2, "{icons:?}");
    for path in icons {
        let icon = reqwest::get(d.server.url(&path)).await.unwrap();
        assert_eq!(icon.status(), 404, "{path}");
    }
    let unknown = reqwest::get(d.server.url("/static/icon/no-such-product"))
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}
