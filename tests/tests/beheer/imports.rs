//! Gebruikersgegevens: an EDEXML upload shown as its difference and then applied (exactly that
//! file, once), and the school's LAS link.

use std::path::Path;

use openpoort_e2e::{Browser, Page, Server, Store, bram_signed_in, cli_ok, fake_las, openpoort};

use crate::common::{Demo, demo, form};

/// The project's complete EDEXML 2.1 file, made a file of school location `code` (99ZZ00 or
/// 99ZZ01), with the demo's two teachers in it: an import drops (and deactivates) the staff a
/// file leaves out, and these tests go on working as Bram.
pub fn edexml_for(code: &str) -> String {
    let file = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../directory/tests/edexml/complete-2.1.xml"),
    )
    .unwrap();
    let vestiging = &code[4..];
    file.replace(
        "<dependancecode>01</dependancecode>",
        &format!("<dependancecode>{vestiging}</dependancecode>"),
    )
    .replace(
        "</leerkrachten>",
        "<leerkracht key=\"T01\"><achternaam>Vries</achternaam><voorvoegsel>de</voorvoegsel>\
         <voornamen>Anna</voornamen><roepnaam>Anna</roepnaam>\
         <emailadres>anna.devries@demo.openpoort.nl</emailadres></leerkracht>\
         <leerkracht key=\"T02\"><achternaam>Jansen</achternaam><voornamen>Bram</voornamen>\
         <roepnaam>Bram</roepnaam><emailadres>bram.jansen@demo.openpoort.nl</emailadres>\
         </leerkracht></leerkrachten>",
    )
}

const BOUNDARY: &str = "----openpoort-test-7MA4YWxkTrZu0gW";

/// Sends the upload form of `page` as a browser does: multipart, the CSRF token first.
pub async fn upload(b: &mut Browser, page: &Page, file: &str) -> Page {
    let csrf = page.field("csrf").expect("a CSRF token");
    upload_with(b, &csrf, file).await
}

async fn upload_with(b: &mut Browser, csrf: &str, file: &str) -> Page {
    let body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"bestand\"; filename=\"school.xml\"\r\n\
         Content-Type: text/xml\r\n\r\n{file}\r\n--{BOUNDARY}--\r\n"
    );
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    b.send(
        "POST",
        "/beheer/gebruikersgegevens/voorbeeld",
        &[("content-type", &content_type)],
        body.into_bytes(),
    )
    .await
}

fn audit(d: &Demo, school: &str) -> String {
    cli_ok(d.dir.path(), &["audit", "list", "--school", school])
}

/// Switches Bram's session to the school location `code`.
async fn choose_school(b: &mut Browser, code: &str) {
    let page = b.get("/school-kiezen").await;
    let at = page.body.find(&format!("({code})")).expect("the school");
    let marker = "name=\"school_id\" value=\"";
    let i = page.body[..at].rfind(marker).unwrap() + marker.len();
    let id = page.body[i..i + page.body[i..].find('"').unwrap()].to_owned();
    let i = page.form_with("name=\"school_id\"").unwrap();
    b.submit_form(&page, i, &[("school_id", &id)]).await;
}

#[tokio::test]
async fn an_upload_shows_the_difference_by_name_and_changes_nothing_until_applied_once() {
    let d = demo(Store::Memory);
    let mut bram = bram_signed_in(&d.server.base).await;
    let page = bram.get("/beheer/gebruikersgegevens").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("aria-current=\"page\">Gebruikersgegevens")
    );

    let preview = upload(&mut bram, &page, &edexml_for("99ZZ00")).await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(
        preview.body.contains("er is nog niets gewijzigd"),
        "{}",
        preview.body
    );
    // The demo's pupils are not in this file: they would go, by name.
    assert!(
        preview.body.contains("Leerlingen: verwijderd") && preview.body.contains("Finn Smit"),
        "{}",
        preview.body
    );
    assert!(
        preview.body.contains("Groep 3 &#38; 4"),
        "a group it adds, by name"
    );
    assert!(preview.body.contains("10 verwijderd"), "{}", preview.body);
    assert!(
        !audit(&d, "99ZZ00").contains("import.apply"),
        "nothing applied yet"
    );

    let apply = form(&preview, "/toepassen");
    let applied = bram.submit_form(&preview, apply, &[]).await;
    assert_eq!(applied.status, 200, "{}", applied.body);
    assert!(
        applied.body.contains("Import toegepast"),
        "{}",
        applied.body
    );
    assert!(audit(&d, "99ZZ00").contains("import.apply"));
    let overview = bram.get("/beheer").await;
    assert!(
        overview.body.contains("Groep 3 &#38; 4"),
        "{}",
        overview.body
    );
    assert!(
        !overview.body.contains("Groep 5 Uilen"),
        "{}",
        overview.body
    );

    // The same preview a second time (the back button, a second tab) applies nothing.
    let again = bram.submit_form(&preview, apply, &[]).await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert!(
        again.body.contains("al toegepast of verlopen"),
        "{}",
        again.body
    );
}

#[tokio::test]
async fn a_preview_applied_twice_at_once_is_applied_once() {
    let d = demo(Store::Memory);
    let mut bram = bram_signed_in(&d.server.base).await;
    let page = bram.get("/beheer/gebruikersgegevens").await;
    let preview = upload(&mut bram, &page, &edexml_for("99ZZ00")).await;
    let csrf = preview.field("csrf").unwrap();
    let id = preview.field("id").expect("the preview's id");
    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let mut b = Browser::new(&d.server.base);
        b.cookies = bram.cookies.clone();
        let (csrf, id) = (csrf.clone(), id.clone());
        burst.spawn(async move {
            b.post(
                "/beheer/gebruikersgegevens/toepassen",
                &[("csrf", &csrf), ("id", &id)],
            )
            .await
            .status
        });
    }
    let mut statuses = burst.join_all().await;
    statuses.sort();
    assert_eq!(statuses, [200, 400, 400, 400, 400, 400]);
    assert_eq!(audit(&d, "99ZZ00").matches("import.apply").count(), 1);
}

#[tokio::test]
async fn a_new_upload_replaces_the_administrator_s_waiting_preview() {
    let d = demo(Store::Memory);
    let mut bram = bram_signed_in(&d.server.base).await;
    let page = bram.get("/beheer/gebruikersgegevens").await;
    let first = upload(&mut bram, &page, &edexml_for("99ZZ00")).await;
    let second = upload(&mut bram, &page, &edexml_for("99ZZ00")).await;
    assert_eq!(second.status, 200, "{}", second.body);
    let stale = bram
        .submit_form(&first, form(&first, "/toepassen"), &[])
        .await;
    assert_eq!(stale.status, 400, "{}", stale.body);
    assert!(!audit(&d, "99ZZ00").contains("import.apply"));
    let applied = bram
        .submit_form(&second, form(&second, "/toepassen"), &[])
        .await;
    assert_eq!(applied.status, 200, "{}", applied.body);
}

#[tokio::test]
async fn a_preview_is_applied_only_at_the_school_it_was_made_for() {
    let d = demo(Store::Memory);
    let mut bram = bram_signed_in(&d.server.base).await;
    let page = bram.get("/beheer/gebruikersgegevens").await;
    let preview = upload(&mut bram, &page, &edexml_for("99ZZ00")).await;
    let id = preview.field("id").expect("the preview's id");
    // Bram is ICT-coördinator at 99ZZ01 too; the preview is 99ZZ00's.
    choose_school(&mut bram, "99ZZ01").await;
    let page = bram.get("/beheer/gebruikersgegevens").await;
    assert!(page.body.contains("(99ZZ01)"), "{}", page.body);
    let csrf = page.field("csrf").unwrap();
    let refused = bram
        .post(
            "/beheer/gebruikersgegevens/toepassen",
            &[("csrf", &csrf), ("id", &id)],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(!audit(&d, "99ZZ01").contains("import.apply"));
    assert!(!audit(&d, "99ZZ00").contains("import.apply"));
}

/// A second ICT-coördinator of 99ZZ00, added and activated from the command line, signed in.
async fn another_coordinator(d: &Demo) -> Browser {
    const PASSWORD: &str = "Kikker-Vijver-Regen-73";
    let out = cli_ok(
        d.dir.path(),
        &[
            "staff",
            "add",
            "--school",
            "99ZZ00",
            "--email",
            "carla@demo.openpoort.nl",
            "--achternaam",
            "Bos",
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
    b.submit(
        &link,
        &[("password", PASSWORD), ("password_repeat", PASSWORD)],
    )
    .await;
    b.submit(
        "/inloggen",
        &[("email", "carla@demo.openpoort.nl"), ("password", PASSWORD)],
    )
    .await;
    b
}

#[tokio::test]
async fn a_preview_is_applied_only_by_the_administrator_who_made_it() {
    let d = demo(Store::Memory);
    let mut bram = bram_signed_in(&d.server.base).await;
    let page = bram.get("/beheer/gebruikersgegevens").await;
    let preview = upload(&mut bram, &page, &edexml_for("99ZZ00")).await;
    let id = preview.field("id").expect("the preview's id");
    let mut carla = another_coordinator(&d).await;
    let page = carla.get("/beheer/gebruikersgegevens").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.field("csrf").unwrap();
    let refused = carla
        .post(
            "/beheer/gebruikersgegevens/toepassen",
            &[("csrf", &csrf), ("id", &id)],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(!audit(&d, "99ZZ00").contains("import.apply"));
    // Her attempt did not use up Bram's preview.
    let applied = bram
        .submit_form(&preview, form(&preview, "/toepassen"), &[])
        .await;
    assert_eq!(applied.status, 200, "{}", applied.body);
}

#[tokio::test]
async fn a_file_with_problems_lists_each_with_its_line_in_dutch_and_keeps_nothing() {
    let d = demo(Store::Memory);
    let mut bram = bram_signed_in(&d.server.base).await;
    let page = bram.get("/beheer/gebruikersgegevens").await;
    let good = edexml_for("99ZZ00");
    let broken = good
        .replacen(
            "<geboortedatum>2018-03-14<",
            "<geboortedatum>2018-02-30<",
            1,
        )
        .replacen(
            "<roepnaam>Jolien</roepnaam>",
            "<roepnaam>Jol\u{202e}ien</roepnaam>",
            1,
        );
    let refused = upload(&mut bram, &page, &broken).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("role=\"alert\""));
    assert!(
        refused.body.contains("er zijn 2 problemen gevonden"),
        "{}",
        refused.body
    );
    for marker in ["<geboortedatum>", "<roepnaam>Jolien"] {
        let line = good.lines().position(|l| l.contains(marker)).unwrap() + 1;
        assert!(
            refused.body.contains(&format!("Regel {line}, kolom")),
            "{marker} on line {line}: {}",
            refused.body
        );
    }
    assert!(refused.field("id").is_none(), "no preview to apply");
}

#[tokio::test]
async fn a_file_over_import_max_mib_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = openpoort(dir.path());
    cmd.env("OPENPOORT_IMPORT_MAX_MIB", "1").arg("demo");
    let server = Server::start(cmd);
    server.more_output(std::time::Duration::from_millis(300));
    let mut bram = bram_signed_in(&server.base).await;
    let page = bram.get("/beheer/gebruikersgegevens").await;
    assert!(page.body.contains("hoogstens 1 MiB"), "{}", page.body);
    // A good file made larger than the limit by a comment.
    let padding = " ".repeat(1024 * 1024);
    let big = edexml_for("99ZZ00").replacen("<EDEX", &format!("<!--{padding}--><EDEX"), 1);
    let refused = upload(&mut bram, &page, &big).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("groter dan 1 MiB en is niet gelezen"),
        "{}",
        refused.body
    );
    let log = cli_ok(dir.path(), &["audit", "list", "--school", "99ZZ00"]);
    assert!(!log.contains("import."), "{log}");
}

#[tokio::test]
async fn a_file_of_another_school_or_a_foreign_form_is_refused() {
    let d = demo(Store::Memory);
    let mut bram = bram_signed_in(&d.server.base).await;
    let page = bram.get("/beheer/gebruikersgegevens").await;
    let other = upload(&mut bram, &page, &edexml_for("99ZZ01")).await;
    assert_eq!(other.status, 400, "{}", other.body);
    assert!(
        other.body.contains("is van school 99ZZ01, niet van 99ZZ00"),
        "{}",
        other.body
    );
    let foreign = upload_with(&mut bram, "a-token-of-another-site", &edexml_for("99ZZ00")).await;
    assert_eq!(foreign.status, 403, "{}", foreign.body);
    assert!(
        !audit(&d, "99ZZ00").contains("import."),
        "not even a dry run"
    );
}

#[tokio::test]
async fn the_ict_coordinator_links_the_las_switches_it_on_and_pulls_now() {
    let d = demo(Store::Memory);
    let endpoint = fake_las("sleutel-van-de-school", edexml_for("99ZZ00"));
    let mut bram = bram_signed_in(&d.server.base).await;
    let page = bram.get("/beheer/gebruikersgegevens").await;
    assert!(
        page.body.contains("nog geen LAS-koppeling"),
        "{}",
        page.body
    );
    for vendor in ["ParnasSys", "Dotcomschool", "ESIS", "EDUscope", "ander LAS"] {
        assert!(page.body.contains(vendor), "{vendor}");
    }
    let add = form(&page, "Koppeling opslaan");
    let bad = bram
        .submit_form(
            &page,
            add,
            &[("vendor", "esis"), ("endpoint", "ftp://las"), ("key", "x")],
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(
        bad.body.contains("value=\"ftp://las\""),
        "what was typed comes back"
    );
    assert!(!bad.body.contains("value=\"x\""), "but never the key");

    let added = bram
        .submit_form(
            &page,
            add,
            &[
                ("vendor", "esis"),
                ("endpoint", &endpoint),
                ("key", "verkeerd"),
            ],
        )
        .await;
    assert_eq!(
        added.location(),
        Some("/beheer/gebruikersgegevens"),
        "{}",
        added.body
    );
    let page = bram.get("/beheer/gebruikersgegevens").await;
    assert!(page.body.contains("ESIS"), "{}", page.body);
    assert!(page.body.contains("nog onbekend"), "{}", page.body);

    let on = bram
        .submit_form(&page, form(&page, "Koppeling aanzetten"), &[])
        .await;
    assert_eq!(on.status, 303, "{}", on.body);
    let page = bram.get("/beheer/gebruikersgegevens").await;
    bram.submit_form(&page, form(&page, "Nu ophalen"), &[])
        .await;
    let page = bram.get("/beheer/gebruikersgegevens").await;
    assert!(page.body.contains("sleutel geweigerd"), "{}", page.body);
    assert!(page.body.contains("niet actief"), "{}", page.body);

    let key = bram
        .submit_form(
            &page,
            form(&page, "Sleutel opslaan"),
            &[("key", "sleutel-van-de-school")],
        )
        .await;
    assert_eq!(key.status, 303, "{}", key.body);
    let page = bram.get("/beheer/gebruikersgegevens").await;
    bram.submit_form(&page, form(&page, "Nu ophalen"), &[])
        .await;
    let page = bram.get("/beheer/gebruikersgegevens").await;
    assert!(page.body.contains("sleutel geaccepteerd"), "{}", page.body);
    assert!(page.body.contains("gelukt"), "{}", page.body);
    assert!(page.body.contains("actief: elke nacht"), "{}", page.body);
    let listed = cli_ok(d.dir.path(), &["las", "list"]);
    assert!(listed.contains("esis"), "{listed}");
    assert!(
        audit(&d, "99ZZ00").contains("import.apply"),
        "the pull imported the file"
    );

    let off = bram
        .submit_form(&page, form(&page, "Koppeling uitzetten"), &[])
        .await;
    assert_eq!(off.status, 303);
    let page = bram.get("/beheer/gebruikersgegevens").await;
    assert!(page.body.contains("Koppeling aanzetten"), "{}", page.body);
}
