//! Privacy: the school's release audit after real sign-ins into a publisher, its filters and
//! CSV file, and the board's processing agreement.

use openpoort_e2e::{
    Browser, Page, Server, Store, anna_signed_in, bram_signed_in, cli_ok, demo_on_free_port,
    demo_pupil_login, openpoort, store_env, submit_with_next,
};

use crate::common::form;

const VERSION: &str = "2026-1";

struct Demo {
    dir: tempfile::TempDir,
    server: Server,
    instelling_ref: String,
}

/// `openpoort demo` on a port fixed before start, so that the demo publisher Leesland, whose
/// redirect URIs name the public URL, can sign people in; with an agreement version in force.
fn demo() -> Demo {
    let dir = tempfile::tempdir().expect("temporary folder");
    let mut env = store_env(Store::Memory);
    env.push(("OPENPOORT_PRIVACY_AGREEMENT_VERSION".into(), VERSION.into()));
    let (server, instelling_ref) = demo_on_free_port(dir.path(), &env);
    Demo {
        dir,
        server,
        instelling_ref,
    }
}

/// Follows redirects from `path` while they stay on openpoort (Leesland lives there too).
async fn follow(b: &mut Browser, d: &Demo, path: &str) -> Page {
    let mut page = b.get(path).await;
    for _ in 0..10 {
        match page.location() {
            Some(next) if page.status == 303 || page.status == 302 => {
                let next = next.strip_prefix(&d.server.base).unwrap_or(next).to_owned();
                page = b.get(&next).await;
            }
            _ => return page,
        }
    }
    panic!("too many redirects from {path}");
}

/// Finn (Groep 5 Uilen) signs in at school and into Leesland over OpenID Connect.
async fn finn_signs_in_to_leesland(d: &Demo) {
    cli_ok(
        d.dir.path(),
        &[
            "consent",
            "grant",
            "--school",
            "99ZZ00",
            "--party",
            "demo-leesland",
        ],
    );
    let mut b = Browser::new(&d.server.base);
    let shortcut = format!("/s/{}", d.instelling_ref);
    assert!(demo_pupil_login(&mut b, &shortcut).await, "Finn signs in");
    let done = follow(&mut b, d, "/demo-product/oidc/login").await;
    assert!(
        done.body.contains("Welkom bij Leesland, Finn!"),
        "{}",
        done.body
    );
}

/// The releases table of a Privacy page (empty when there is none).
fn releases(page: &Page) -> &str {
    match page.body.find("<table id=\"releases\"") {
        Some(i) => &page.body[i..i + page.body[i..].find("</table>").unwrap()],
        None => "",
    }
}

/// The value of the `<option>` named `name` in the page.
fn option(page: &Page, name: &str) -> String {
    let end = page
        .body
        .find(&format!("\">{name}</option>"))
        .unwrap_or_else(|| panic!("no option {name}: {}", page.body));
    let start = page.body[..end].rfind("value=\"").unwrap() + "value=\"".len();
    page.body[start..end].to_owned()
}

/// Whether the Privacy page with this query lists Finn's release.
async fn found(b: &mut Browser, q: String) -> bool {
    let p = b.get(&format!("/beheer/privacy?{q}")).await;
    assert_eq!(p.status, 200, "{q}: {}", p.body);
    releases(&p).contains("Finn")
}

/// A Dutch calendar day `days` from today, as the date field sends it. Days far enough from
/// today that the time zone cannot move them across.
fn day(days: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (y, m, d) = civil(now.div_euclid(86_400) + days);
    format!("{y:04}-{m:02}-{d:02}")
}

fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[tokio::test]
async fn a_pupil_s_sign_in_into_a_publisher_is_listed_with_what_it_received_and_the_filters_find_it()
 {
    let d = demo();
    finn_signs_in_to_leesland(&d).await;
    let mut bram = bram_signed_in(&d.server.base).await;
    let page = bram.get("/beheer/privacy").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("href=\"/beheer/privacy\" aria-current=\"page\""),
        "the tab"
    );
    let rows = releases(&page);
    assert!(rows.contains("Finn"), "{rows}");
    assert!(rows.contains("Leesland"), "{rows}");
    assert!(
        rows.contains("Groep 5 Uilen"),
        "the group at the release: {rows}"
    );
    assert!(rows.contains("een pseudoniem, per partij anders"), "{rows}");
    assert!(rows.contains("op school"), "{rows}");

    let leesland = option(&page, "Leesland Demo-uitgeverij");
    let other = option(&page, "Demo Uitgeverij");
    let g5 = option(&page, "Groep 5 Uilen");
    let g8 = option(&page, "Groep 8 Dassen");
    assert!(found(&mut bram, format!("partij={leesland}")).await);
    assert!(
        !found(&mut bram, format!("partij={other}")).await,
        "another party"
    );
    assert!(found(&mut bram, format!("groep={g5}")).await);
    assert!(
        !found(&mut bram, format!("groep={g8}")).await,
        "another group"
    );
    assert!(found(&mut bram, format!("van={}&tot={}", day(-2), day(2))).await);
    assert!(
        !found(&mut bram, format!("van={}", day(2))).await,
        "from a later day"
    );
    assert!(
        !found(&mut bram, format!("tot={}", day(-2))).await,
        "until an earlier day"
    );

    let bad = bram
        .get(&format!("/beheer/privacy?van={}&tot={}", day(2), day(-2)))
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(
        bad.body.contains("begindatum ligt na de einddatum"),
        "{}",
        bad.body
    );
}

#[tokio::test]
async fn the_csv_file_holds_the_filtered_releases_and_makes_formulas_text() {
    let d = demo();
    finn_signs_in_to_leesland(&d).await;
    // A party's name that a spreadsheet would take for a formula (the party's name is read as
    // it is now; the person's is the one recorded at the release).
    let db = d.dir.path().join("data/openpoort.sqlite");
    let out = std::process::Command::new("sqlite3")
        .arg(&db)
        .arg("UPDATE parties SET name = '=HYPERLINK(\"http://evil.example\")' WHERE code = 'demo-leesland'")
        .output()
        .expect("sqlite3");
    assert!(out.status.success(), "{out:?}");

    let mut bram = bram_signed_in(&d.server.base).await;
    let csv = bram.get("/beheer/privacy.csv").await;
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert_eq!(
        csv.headers.get("content-type").unwrap(),
        "text/csv; charset=utf-8"
    );
    assert!(
        csv.headers
            .get("content-disposition")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("privacy-99ZZ00.csv")
    );
    let mut lines = csv.body.lines();
    assert_eq!(
        lines.next(),
        Some("tijdstip;partij;partijcode;persoon;soort;groepen;gegevens;hoe")
    );
    let finn = lines
        .find(|l| l.contains("demo-leesland"))
        .unwrap_or_else(|| panic!("no release: {}", csv.body));
    assert!(
        finn.contains(";leerling;\"Groep 5 Uilen, Plusklas\";"),
        "{finn}"
    );
    assert!(finn.contains("subject"), "{finn}");
    assert!(
        finn.contains(";\"'=HYPERLINK(\"\"http://evil.example\"\")"),
        "the cell is quoted and starts with ': {finn}"
    );
    assert!(
        !finn.contains(";=") && !finn.contains(";\"="),
        "no cell starts a formula: {finn}"
    );

    let none = bram.get("/beheer/privacy.csv?partij=demo-uitgeverij").await;
    assert_eq!(none.status, 200);
    assert_eq!(
        none.body.lines().count(),
        1,
        "the header only: {}",
        none.body
    );

    // The admin API gives the very same file, by the same filter.
    let token = admin_token(&d).await;
    let api = api_get(&d, "/schools/99ZZ00/releases.csv", &token).await;
    assert_eq!(api.status, 200, "{}", api.body);
    assert_eq!(
        api.headers.get("content-type").unwrap(),
        "text/csv; charset=utf-8"
    );
    assert!(
        api.headers
            .get("content-disposition")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("privacy-99ZZ00.csv")
    );
    assert_eq!(api.body, csv.body, "the page's file, byte for byte");
    let filtered = api_get(
        &d,
        &format!(
            "/schools/99ZZ00/releases.csv?party=demo-leesland&group=g5&from={}&until={}",
            day(-2),
            day(2)
        ),
        &token,
    )
    .await;
    assert_eq!(filtered.body, csv.body, "{}", filtered.body);
    for (query, status) in [
        ("party=demo-uitgeverij", 200),
        ("group=g8", 200),
        ("from=2026-12-31&until=2026-01-01", 422),
        ("from=31-12-2026", 422),
        ("party=bestaat-niet", 404),
        ("before=5", 400),
    ] {
        let a = api_get(&d, &format!("/schools/99ZZ00/releases.csv?{query}"), &token).await;
        assert_eq!(a.status, status, "{query}: {}", a.body);
        if status == 200 {
            assert_eq!(a.body, none.body, "{query}: the header only");
        } else {
            assert_eq!(
                a.headers.get("content-type").unwrap(),
                "application/problem+json",
                "{query}: a problem, not half a file"
            );
        }
    }
}

/// An admin client of the operator's own party (as README says) and a token for it.
async fn admin_token(d: &Demo) -> String {
    openpoort_e2e::admin_api_token(d.dir.path(), &[], &d.server.url("")).await
}

struct ApiAnswer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

async fn api_get(d: &Demo, path: &str, token: &str) -> ApiAnswer {
    let r = reqwest::Client::new()
        .get(d.server.url(&format!("/api/v1{path}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("API request");
    ApiAnswer {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        body: r.text().await.expect("body"),
    }
}

/// Finn Smit becomes Fenna Bos in the LAS: the school's next file renames her.
const RENAMING_FILE: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<EDEX>\n\
<school><schooljaar>2025-2026</schooljaar><peildatum>2025-10-01</peildatum><brincode>99ZZ</brincode>\
<dependancecode>00</dependancecode><xsdversie>2.1</xsdversie></school>\n\
<groepen><groep key=\"g5\"><naam>Groep 5 Uilen</naam><jaargroep>5</jaargroep></groep></groepen>\n\
<leerlingen><leerling key=\"L005\"><achternaam>Bos</achternaam><voornamen>Fenna</voornamen>\
<roepnaam>Fenna</roepnaam><jaargroep>5</jaargroep><groep key=\"g5\"/></leerling></leerlingen>\n</EDEX>\n";

#[tokio::test]
async fn a_release_keeps_the_name_the_pupil_had_when_a_later_import_renames_them() {
    let d = demo();
    finn_signs_in_to_leesland(&d).await;
    let file = d.dir.path().join("hernoemd.xml");
    std::fs::write(&file, RENAMING_FILE).unwrap();
    let imported = cli_ok(d.dir.path(), &["import", "edexml", file.to_str().unwrap()]);
    assert!(
        imported.contains("leerlingen / pupils: 0 nieuw / added, 1 gewijzigd / changed"),
        "the import renames Finn: {imported}"
    );

    let mut bram = bram_signed_in(&d.server.base).await;
    let page = bram.get("/beheer/privacy").await;
    let rows = releases(&page);
    assert!(
        rows.contains("Finn Smit"),
        "the name at the release: {rows}"
    );
    assert!(
        !rows.contains("Fenna") && !rows.contains("huidige naam"),
        "{rows}"
    );
    assert!(
        !page.body.contains("id=\"groups-not-recorded\""),
        "every release here has its groups: {}",
        page.body
    );
    let csv = bram.get("/beheer/privacy.csv").await;
    assert!(csv.body.contains(";Finn Smit;leerling;"), "{}", csv.body);
    let token = admin_token(&d).await;
    let json = api_get(&d, "/schools/99ZZ00/releases", &token).await;
    let json: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!(json["releases"][0]["subject_name"], "Finn Smit", "{json}");
    assert_eq!(json["releases"][0]["subject_name_recorded"], true, "{json}");
    let cli = cli_ok(
        d.dir.path(),
        &["audit", "list", "--school", "99ZZ00", "--releases"],
    );
    assert!(cli.contains("Finn Smit") && !cli.contains("Fenna"), "{cli}");
}

#[tokio::test]
async fn the_command_line_lists_the_release_audit_with_the_page_s_filters_and_as_csv() {
    let d = demo();
    finn_signs_in_to_leesland(&d).await;
    let ok = |args: &[&str]| {
        let mut all = vec!["audit", "list", "--school", "99ZZ00"];
        all.extend_from_slice(args);
        cli_ok(d.dir.path(), &all)
    };
    let listed = ok(&["--releases"]);
    assert!(
        listed.contains("Finn Smit") && listed.contains("Leesland Demo-uitgeverij"),
        "{listed}"
    );
    assert!(
        listed.contains("Groep 5 Uilen"),
        "the group at the release: {listed}"
    );
    let (before, after) = (day(-2), day(2));
    for (args, finds) in [
        (vec!["--party", "demo-leesland"], true),
        (vec!["--party", "demo-uitgeverij"], false),
        (vec!["--group", "g5"], true),
        (vec!["--group", "g8"], false),
        (
            vec!["--from", before.as_str(), "--to", after.as_str()],
            true,
        ),
        (vec!["--from", after.as_str()], false),
        (vec!["--to", before.as_str()], false),
    ] {
        let out = ok(&args);
        assert_eq!(out.contains("Finn Smit"), finds, "{args:?}: {out}");
    }
    let csv = ok(&["--csv", "--party", "demo-leesland"]);
    let mut bram = bram_signed_in(&d.server.base).await;
    let page_csv = bram.get("/beheer/privacy.csv?partij=demo-leesland").await;
    assert_eq!(csv, page_csv.body, "the page's file");

    for (args, says) in [
        (
            vec!["--from", "2026-12-31", "--to", "2026-01-01"],
            "begindatum ligt na de einddatum",
        ),
        (vec!["--from", "31-12-2026"], "31-12-2026"),
        (vec!["--party", "bestaat-niet"], "bestaat-niet"),
    ] {
        let mut all = vec!["audit", "list", "--school", "99ZZ00"];
        all.extend_from_slice(&args);
        let out = openpoort_e2e::run(openpoort(d.dir.path()).args(&all));
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

/// Bram switches to the school with `code` (he is ICT-coördinator of both demo locations).
async fn choose(b: &mut Browser, code: &str) {
    let page = b.get("/school-kiezen").await;
    let at = page.body.find(&format!("({code})")).expect("offered");
    let marker = "name=\"school_id\" value=\"";
    let i = page.body[..at].rfind(marker).unwrap() + marker.len();
    let school_id = page.body[i..i + page.body[i..].find('"').unwrap()].to_owned();
    let chosen = submit_with_next(
        b,
        &page,
        page.form_with("name=\"school_id\"").unwrap(),
        &[("school_id", &school_id)],
    )
    .await;
    assert_eq!(chosen.status, 303, "{}", chosen.body);
}

#[tokio::test]
async fn another_school_s_releases_never_appear() {
    let d = demo();
    finn_signs_in_to_leesland(&d).await;
    let mut bram = bram_signed_in(&d.server.base).await;
    choose(&mut bram, "99ZZ01").await;
    let page = bram.get("/beheer/privacy").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("(99ZZ01)"), "{}", page.body);
    assert!(!page.body.contains("Finn"), "{}", page.body);
    let csv = bram.get("/beheer/privacy.csv").await;
    assert_eq!(csv.body.lines().count(), 1, "{}", csv.body);
}

#[tokio::test]
async fn the_release_audit_and_the_agreement_are_refused_to_a_teacher() {
    let d = demo();
    finn_signs_in_to_leesland(&d).await;
    let mut anna = anna_signed_in(d.dir.path(), &d.server.base).await;
    for path in ["/beheer/privacy", "/beheer/privacy.csv"] {
        let p = anna.get(path).await;
        assert_eq!(p.status, 403, "{path}: {}", p.body);
        assert!(!p.body.contains("Finn"), "{}", p.body);
    }
}

#[tokio::test]
async fn the_agreement_is_accepted_once_for_the_board_and_the_acceptance_never_changes() {
    let d = demo();
    let mut bram = bram_signed_in(&d.server.base).await;
    let page = bram.get("/beheer/privacy").await;
    assert!(page.body.contains("nog niet geaccepteerd"), "{}", page.body);
    let csrf = page.field("csrf").unwrap();
    let accepted = bram
        .submit_form(&page, form(&page, "accepteren namens het bestuur"), &[])
        .await;
    assert_eq!(
        accepted.location(),
        Some("/beheer/privacy"),
        "{}",
        accepted.body
    );
    let page = bram.get("/beheer/privacy").await;
    assert!(
        page.body.contains(&format!(
            "De geldende versie <strong>{VERSION}</strong> is geaccepteerd"
        )),
        "{}",
        page.body
    );
    let history = |p: &Page| {
        let i = p
            .body
            .find("<table id=\"acceptances\"")
            .expect("the history");
        p.body[i..i + p.body[i..].find("</table>").unwrap()].to_owned()
    };
    let first = history(&page);
    assert!(
        first.contains("Bram Jansen") && first.contains(VERSION),
        "{first}"
    );
    assert_eq!(first.matches("<tr><td>").count(), 1, "{first}");

    // The same version again, from the board's other school: refused, the record unchanged.
    choose(&mut bram, "99ZZ01").await;
    let again = bram
        .post(
            "/beheer/privacy/verwerkersovereenkomst",
            &[("csrf", &csrf), ("version", VERSION)],
        )
        .await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert!(again.body.contains("al geaccepteerd"), "{}", again.body);
    let other = bram
        .post(
            "/beheer/privacy/verwerkersovereenkomst",
            &[("csrf", &csrf), ("version", "2020-1")],
        )
        .await;
    assert_eq!(
        other.status, 400,
        "only the version in force: {}",
        other.body
    );
    let page = bram.get("/beheer/privacy").await;
    assert!(
        page.body.contains("is geaccepteerd"),
        "the board's, seen from its other school"
    );
    assert_eq!(history(&page), first);

    let cli = |args: &[&str]| {
        let mut cmd = openpoort(d.dir.path());
        cmd.env("OPENPOORT_PRIVACY_AGREEMENT_VERSION", VERSION)
            .args(args);
        openpoort_e2e::run(&mut cmd)
    };
    let shown = cli(&["agreement", "show", "--school", "99ZZ01"]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown.contains(&format!("versie {VERSION} geaccepteerd")),
        "{shown}"
    );
    assert!(shown.contains("Bram Jansen"), "{shown}");
    let out = cli(&[
        "agreement",
        "accept",
        "--school",
        "99ZZ00",
        "--version",
        VERSION,
    ]);
    assert!(
        !out.status.success(),
        "the CLI cannot accept it a second time either"
    );
}
