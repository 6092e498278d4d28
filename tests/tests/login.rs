//! Staff login, account lifecycle and sessions over HTTP, on both session stores.

use std::path::Path;
use std::time::Duration;

use openpoort_e2e::{Browser, Page, Server, Store, cli_ok, on_both_stores, openpoort, store_env};

const PASSWORD: &str = "Tulpen-Molen-73-Fiets";

/// A school (12AB00, plus 12AB01 for administrators) and a staff member added by the operator;
/// returns the path of the activation link that was mailed (and printed, in development mode).
fn school_with_staff(dir: &Path, email: &str, roles: &[&str]) -> String {
    cli_ok(
        dir,
        &[
            "board",
            "add",
            "--bestuursnummer",
            "41234",
            "--name",
            "Stichting Noord",
        ],
    );
    for v in ["00", "01"] {
        cli_ok(
            dir,
            &[
                "school",
                "add",
                "--bestuursnummer",
                "41234",
                "--brin",
                "12AB",
                "--vestigingscode",
                v,
                "--name",
                &format!("De Regenboog {v}"),
            ],
        );
    }
    let mut args = vec![
        "staff",
        "add",
        "--school",
        "12AB00",
        "--email",
        email,
        "--achternaam",
        "de Vries",
        "--roepnaam",
        "Anna",
    ];
    for r in roles {
        args.extend(["--role", r]);
    }
    let out = cli_ok(dir, &args);
    activation_path(&out)
}

fn activation_path(out: &str) -> String {
    let link = out
        .lines()
        .find(|l| l.contains("/activeren?token="))
        .unwrap_or_else(|| panic!("no link in {out}"));
    link[link.find("/activeren").unwrap()..].trim().to_owned()
}

fn start(dir: &Path, store: Store, extra: &[(&str, &str)]) -> Server {
    let mut cmd = openpoort(dir);
    for (k, v) in store_env(store) {
        cmd.env(k, v);
    }
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.arg("serve");
    Server::start(cmd)
}

async fn activate(b: &mut Browser, path: &str) -> Page {
    b.submit(
        path,
        &[("password", PASSWORD), ("password_repeat", PASSWORD)],
    )
    .await
}

async fn login(b: &mut Browser, email: &str, password: &str) -> Page {
    b.submit("/inloggen", &[("email", email), ("password", password)])
        .await
}

on_both_stores! {
    async fn activation_then_login_then_logout(s: Store) {
        let dir = tempfile::tempdir().unwrap();
        let link = school_with_staff(dir.path(), "anna@school.nl", &["leerkracht"]);
        let server = start(dir.path(), s, &[]);
        let mut b = Browser::new(&server.base);

        // Not active yet: the right password does not matter, there is none.
        assert_eq!(login(&mut b, "anna@school.nl", PASSWORD).await.status, 401);

        let done = activate(&mut b, &link).await;
        assert_eq!(done.status, 303, "{}", done.body);
        assert_eq!(done.location(), Some("/inloggen?melding=wachtwoord-ingesteld"));

        let in_ = login(&mut b, "anna@school.nl", PASSWORD).await;
        assert_eq!(in_.status, 303, "{}", in_.body);
        assert_eq!(in_.location(), Some("/"));
        let home = b.get("/").await;
        assert_eq!(home.status, 200);
        assert!(home.body.contains("Welkom, Anna"), "{}", home.body);
        assert!(home.body.contains("De Regenboog 00"), "{}", home.body);

        let out = b.submit("/", &[]).await; // the first form on the page is logout
        assert_eq!(out.location(), Some("/inloggen?melding=uitgelogd"));
        assert_eq!(b.get("/").await.location(), Some("/inloggen"));
    }
}

on_both_stores! {
    async fn activation_link_works_once(s: Store) {
        let dir = tempfile::tempdir().unwrap();
        let link = school_with_staff(dir.path(), "anna@school.nl", &["leerkracht"]);
        let server = start(dir.path(), s, &[]);
        let mut b = Browser::new(&server.base);
        assert_eq!(activate(&mut b, &link).await.status, 303);
        let again = b.get(&link).await;
        assert_eq!(again.status, 410);
        assert!(again.body.contains("niet (meer) geldig"), "{}", again.body);
    }
}

on_both_stores! {
    async fn weak_or_mismatched_password_is_refused_and_the_link_still_works(s: Store) {
        let dir = tempfile::tempdir().unwrap();
        let link = school_with_staff(dir.path(), "anna@school.nl", &["leerkracht"]);
        let server = start(dir.path(), s, &[]);
        let mut b = Browser::new(&server.base);
        for (pw, repeat, says) in [
            ("welkom123", "welkom123", "te makkelijk te raden"),
            ("kort1", "kort1", "minstens 8 tekens"),
            ("alleenletters", "alleenletters", "letters als cijfers"),
            ("Anna-2026-xyz", "Anna-2026-xyz", "naam of e-mailadres"),
            (PASSWORD, "iets-anders-1", "niet gelijk"),
        ] {
            let r = b.submit(&link, &[("password", pw), ("password_repeat", repeat)]).await;
            assert_eq!(r.status, 422, "{pw}");
            assert!(r.body.contains(says), "{pw}: {}", r.body);
        }
        assert_eq!(activate(&mut b, &link).await.status, 303, "refusals do not use the link up");
    }
}

on_both_stores! {
    async fn unknown_address_and_wrong_password_get_the_same_answer(s: Store) {
        let dir = tempfile::tempdir().unwrap();
        let link = school_with_staff(dir.path(), "anna@school.nl", &["leerkracht"]);
        let server = start(dir.path(), s, &[]);
        let mut b = Browser::new(&server.base);
        activate(&mut b, &link).await;
        let wrong = login(&mut b, "anna@school.nl", "Verkeerd-Wachtwoord-1").await;
        let unknown = login(&mut b, "niemand@school.nl", "Verkeerd-Wachtwoord-1").await;
        assert_eq!((wrong.status, unknown.status), (401, 401));
        let strip = |p: &Page| p.body.replace("anna@school.nl", "").replace("niemand@school.nl", "");
        assert_eq!(strip(&wrong), strip(&unknown), "the answer must not tell whether the account exists");
        assert!(!b.cookies.contains_key("openpoort"), "no session after a failed login");
    }
}

on_both_stores! {
    async fn login_without_the_csrf_token_is_refused(s: Store) {
        let dir = tempfile::tempdir().unwrap();
        let link = school_with_staff(dir.path(), "anna@school.nl", &["leerkracht"]);
        let server = start(dir.path(), s, &[]);
        let mut b = Browser::new(&server.base);
        activate(&mut b, &link).await;
        b.get("/inloggen").await; // has the CSRF cookie, but posts another token
        let r = b.post("/inloggen", &[("csrf", "x".repeat(43).as_str()), ("email", "anna@school.nl"), ("password", PASSWORD)]).await;
        assert_eq!(r.status, 403);
        assert!(!b.cookies.contains_key("openpoort"));
    }
}

on_both_stores! {
    async fn each_login_gets_a_new_session_id_and_logout_voids_the_old_one(s: Store) {
        let dir = tempfile::tempdir().unwrap();
        let link = school_with_staff(dir.path(), "anna@school.nl", &["leerkracht"]);
        let server = start(dir.path(), s, &[]);
        let mut b = Browser::new(&server.base);
        activate(&mut b, &link).await;
        login(&mut b, "anna@school.nl", PASSWORD).await;
        let first = b.cookies["openpoort"].clone();
        login(&mut b, "anna@school.nl", PASSWORD).await;
        let second = b.cookies["openpoort"].clone();
        assert_ne!(first, second);

        b.submit("/", &[]).await; // logout
        // Replaying the id from before the logout gets nothing.
        b.cookies.insert("openpoort".into(), second);
        assert_eq!(b.get("/").await.location(), Some("/inloggen"));
    }
}

on_both_stores! {
    async fn logging_out_everywhere_ends_the_other_devices_sessions(s: Store) {
        let dir = tempfile::tempdir().unwrap();
        let link = school_with_staff(dir.path(), "anna@school.nl", &["leerkracht"]);
        let server = start(dir.path(), s, &[]);
        let (mut phone, mut laptop) = (Browser::new(&server.base), Browser::new(&server.base));
        activate(&mut phone, &link).await;
        login(&mut phone, "anna@school.nl", PASSWORD).await;
        login(&mut laptop, "anna@school.nl", PASSWORD).await;
        assert_eq!(laptop.get("/").await.status, 200);
        let home = phone.get("/").await;
        let csrf = home.field("csrf").unwrap();
        let r = phone.post("/uitloggen/overal", &[("csrf", &csrf)]).await;
        assert_eq!(r.location(), Some("/inloggen?melding=overal-uitgelogd"));
        assert_eq!(laptop.get("/").await.location(), Some("/inloggen"));
    }
}

on_both_stores! {
    async fn password_reset_ends_other_sessions_and_unknown_addresses_look_the_same(s: Store) {
        let dir = tempfile::tempdir().unwrap();
        let link = school_with_staff(dir.path(), "anna@school.nl", &["leerkracht"]);
        let server = start(dir.path(), s, &[]);
        let mut b = Browser::new(&server.base);
        activate(&mut b, &link).await;
        let mut other = Browser::new(&server.base);
        login(&mut other, "anna@school.nl", PASSWORD).await;

        let known = b.submit("/wachtwoord-vergeten", &[("email", "anna@school.nl")]).await;
        let unknown = b.submit("/wachtwoord-vergeten", &[("email", "niemand@school.nl")]).await;
        assert_eq!((known.status, unknown.status), (200, 200));
        assert_eq!(known.body, unknown.body);

        // The mail is sent after the answer; wait for it in the outbox.
        let reset = wait_for_mail(&dir.path().join("data/outbox"), "/wachtwoord-herstellen?token=").await;
        let new_pw = "Andere-Fiets-48-Boom";
        let r = b.submit(&reset, &[("password", new_pw), ("password_repeat", new_pw)]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert_eq!(other.get("/").await.location(), Some("/inloggen"), "the reset ended the other session");
        assert_eq!(login(&mut b, "anna@school.nl", PASSWORD).await.status, 401);
        assert_eq!(login(&mut b, "anna@school.nl", new_pw).await.status, 303);
    }
}

/// The path of the first link in the outbox that contains `marker`, waiting up to 10 s.
async fn wait_for_mail(outbox: &Path, marker: &str) -> String {
    for _ in 0..100 {
        if let Ok(entries) = std::fs::read_dir(outbox) {
            for e in entries.flatten() {
                let mail = std::fs::read_to_string(e.path())
                    .unwrap_or_default()
                    .replace("=\r\n", "")
                    .replace("=3D", "=");
                if let Some(line) = mail.lines().find(|l| l.contains(marker)) {
                    let start = line.find(marker.split('?').next().unwrap()).unwrap();
                    return line[start..].trim().to_owned();
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no mail with {marker} in {}", outbox.display());
}

on_both_stores! {
    async fn deactivated_staff_lose_their_session_at_once(s: Store) {
        let dir = tempfile::tempdir().unwrap();
        let link = school_with_staff(dir.path(), "anna@school.nl", &["leerkracht"]);
        let server = start(dir.path(), s, &[]);
        let mut b = Browser::new(&server.base);
        activate(&mut b, &link).await;
        login(&mut b, "anna@school.nl", PASSWORD).await;
        assert_eq!(b.get("/").await.status, 200);
        cli_ok(dir.path(), &["staff", "deactivate", "--email", "anna@school.nl"]);
        assert_eq!(b.get("/").await.location(), Some("/inloggen"));
        assert_eq!(login(&mut b, "anna@school.nl", PASSWORD).await.status, 401);
    }
}

on_both_stores! {
    async fn repeated_failures_lock_known_and_unknown_addresses_alike(s: Store) {
        let dir = tempfile::tempdir().unwrap();
        let link = school_with_staff(dir.path(), "anna@school.nl", &["leerkracht"]);
        let server = start(dir.path(), s, &[("OPENPOORT_LOGIN_MAX_FAILURES_PER_ACCOUNT", "3")]);
        let mut b = Browser::new(&server.base);
        activate(&mut b, &link).await;
        for email in ["anna@school.nl", "niemand@school.nl"] {
            for _ in 0..3 {
                assert_eq!(login(&mut b, email, "Verkeerd-Wachtwoord-1").await.status, 401);
            }
            let locked = login(&mut b, email, if email.starts_with("anna") { PASSWORD } else { "x" }).await;
            assert_eq!(locked.status, 429, "{email}");
            assert!(locked.body.contains("Te veel mislukte pogingen"), "{}", locked.body);
        }
        // Another address from the same client is not locked by these.
        let mut other = Browser::new(&server.base);
        assert_eq!(login(&mut other, "iemand@school.nl", "x").await.status, 401);
    }
}

/// The value of the radio button whose label names `school`.
fn school_id_for(page: &Page, school: &str) -> String {
    let label = page
        .body
        .find(school)
        .unwrap_or_else(|| panic!("{school} not offered: {}", page.body));
    let before = &page.body[..label];
    let marker = "name=\"school_id\" value=\"";
    let i = before.rfind(marker).unwrap() + marker.len();
    before[i..i + before[i..].find('"').unwrap()].to_owned()
}

on_both_stores! {
    async fn administrator_of_several_schools_chooses_and_switches(s: Store) {
        let dir = tempfile::tempdir().unwrap();
        let link = school_with_staff(dir.path(), "ict@school.nl", &["ict_coordinator"]);
        cli_ok(dir.path(), &["staff", "grant-role", "--email", "ict@school.nl", "--school", "12AB01", "--role", "ict_coordinator"]);
        let server = start(dir.path(), s, &[]);
        let mut b = Browser::new(&server.base);
        activate(&mut b, &link).await;

        assert_eq!(login(&mut b, "ict@school.nl", PASSWORD).await.location(), Some("/school-kiezen"));
        assert_eq!(b.get("/").await.location(), Some("/school-kiezen"), "no school chosen yet");
        let page = b.get("/school-kiezen").await;
        let (s00, s01) = (school_id_for(&page, "De Regenboog 00"), school_id_for(&page, "De Regenboog 01"));

        let chosen = b.submit("/school-kiezen", &[("school_id", &s01)]).await;
        assert_eq!(chosen.location(), Some("/"));
        let home = b.get("/").await;
        assert!(home.body.contains("De Regenboog 01 (12AB01)"), "{}", home.body);
        assert!(home.body.contains("Andere school kiezen"));

        b.submit("/school-kiezen", &[("school_id", &s00)]).await;
        assert!(b.get("/").await.body.contains("De Regenboog 00 (12AB00)"));

        // A school id that is not one's own is refused, whatever the form says.
        let foreign = b.submit("/school-kiezen", &[("school_id", "00000000-0000-4000-8000-000000000000")]).await;
        assert_eq!(foreign.status, 403);
        assert!(b.get("/").await.body.contains("De Regenboog 00 (12AB00)"), "the choice stays");
    }
}

#[tokio::test]
async fn production_cookies_are_host_prefixed_secure_httponly_and_lax() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = openpoort(dir.path());
    cmd.env("OPENPOORT_SERVER_MODE", "production")
        .env("OPENPOORT_SERVER_PUBLIC_URL", "https://login.example.nl")
        .env(
            "OPENPOORT_KEYS_KEK",
            "q83vEjRWeJC6ze8SNFZ4kLrN7xI0VniQus3vEjRWeJA=",
        )
        .arg("serve");
    let server = Server::start(cmd);
    let mut b = Browser::new(&server.base);
    let page = b.get("/inloggen").await;
    let set = page.set_cookies().join("\n");
    assert!(set.starts_with("__Host-openpoort-csrf="), "{set}");
    for attr in ["Path=/", "HttpOnly", "SameSite=Lax", "Secure"] {
        assert!(set.contains(attr), "{attr} missing: {set}");
    }
    assert!(!set.contains("Domain="), "__Host- cookies carry no Domain");
    assert_eq!(page.headers["cache-control"], "no-store");
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert_eq!(page.headers["x-frame-options"], "DENY");
}

#[tokio::test]
async fn every_form_carries_a_csrf_token_and_labels_its_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let link = school_with_staff(dir.path(), "anna@school.nl", &["leerkracht"]);
    let server = start(dir.path(), Store::Memory, &[]);
    let mut b = Browser::new(&server.base);
    for path in ["/inloggen", "/wachtwoord-vergeten", link.as_str()] {
        let page = b.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(page.body.contains("<html lang=\"nl\">"));
        let forms = page.body.matches("<form").count();
        assert_eq!(page.body.matches("name=\"csrf\"").count(), forms, "{path}");
        for id in page.body.match_indices("<input id=\"").map(|(i, m)| {
            let rest = &page.body[i + m.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        }) {
            assert!(
                page.body.contains(&format!("<label for=\"{id}\"")),
                "{path}: input {id} has no label"
            );
        }
    }
}

on_both_stores! {
    async fn password_change_keeps_this_session_and_ends_the_others(s: Store) {
        let dir = tempfile::tempdir().unwrap();
        let link = school_with_staff(dir.path(), "anna@school.nl", &["leerkracht"]);
        let server = start(dir.path(), s, &[]);
        let (mut here, mut there) = (Browser::new(&server.base), Browser::new(&server.base));
        activate(&mut here, &link).await;
        login(&mut here, "anna@school.nl", PASSWORD).await;
        login(&mut there, "anna@school.nl", PASSWORD).await;
        let before = here.cookies["openpoort"].clone();

        let new_pw = "Regenboog-Schaats-91";
        let wrong = here.submit("/wachtwoord-wijzigen", &[("current_password", "Niet-Het-Oude-1"), ("password", new_pw), ("password_repeat", new_pw)]).await;
        assert_eq!(wrong.status, 422);
        assert!(wrong.body.contains("huidige wachtwoord klopt niet"), "{}", wrong.body);

        let done = here.submit("/wachtwoord-wijzigen", &[("current_password", PASSWORD), ("password", new_pw), ("password_repeat", new_pw)]).await;
        assert_eq!(done.location(), Some("/?melding=wachtwoord-gewijzigd"), "{}", done.body);
        assert_ne!(here.cookies["openpoort"], before, "a new session id after the change");
        assert!(here.get("/?melding=wachtwoord-gewijzigd").await.body.contains("Je wachtwoord is gewijzigd"));
        assert_eq!(there.get("/").await.location(), Some("/inloggen"), "the other device is logged out");
        assert_eq!(login(&mut there, "anna@school.nl", new_pw).await.status, 303);
    }
}

/// The example EDEXML file of school 99ZZ00, with addresses for teachers LK1 (Julia van Bemmel)
/// and LK2 (Uilke Veldman) so that they get accounts to log in with.
fn example_with_teacher_emails() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/reference/edexml-2.1/EDEXML.Voorbeeld.2.1.xml");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}; shared/ must sit beside the checkout",
                path.display()
            )
        })
        .replacen(
            "<roepnaam>Julia</roepnaam>",
            "<roepnaam>Julia</roepnaam><emailadres>julia@school.nl</emailadres>",
            1,
        )
        .replacen(
            "<roepnaam>Uilke</roepnaam>",
            "<roepnaam>Uilke</roepnaam><emailadres>uilke@school.nl</emailadres>",
            1,
        )
}

fn without_teacher(xml: &str, key: &str) -> String {
    let start = xml
        .find(&format!("<leerkracht key=\"{key}\""))
        .expect("teacher in file");
    let end = xml[start..].find("</leerkracht>").unwrap() + start + "</leerkracht>".len();
    format!("{}{}", &xml[..start], &xml[end..])
}

/// The activation link an import printed (development mode) for `email`.
fn imported_link_for(out: &str, email: &str) -> String {
    let mut lines = out.lines().skip_while(|l| !l.ends_with(email));
    lines
        .next()
        .unwrap_or_else(|| panic!("no invitation for {email} in {out}"));
    activation_path(lines.next().unwrap_or_default())
}

/// The path of the link labelled `label` on a page.
fn link_labelled(page: &Page, label: &str) -> String {
    let end = page
        .body
        .find(&format!(">{label}</a>"))
        .unwrap_or_else(|| panic!("no link {label}: {}", page.body));
    let before = &page.body[..end];
    let start = before.rfind("href=\"").unwrap() + "href=\"".len();
    before[start..start + before[start..].find('"').unwrap()].to_owned()
}

on_both_stores! {
    async fn a_teacher_removed_by_an_import_loses_school_groups_and_session_and_keeps_hand_granted_roles(s: Store) {
        let dir = tempfile::tempdir().unwrap();
        let (full, gone) = (dir.path().join("full.xml"), dir.path().join("gone.xml"));
        let xml = example_with_teacher_emails();
        std::fs::write(&full, &xml).unwrap();
        std::fs::write(&gone, without_teacher(&without_teacher(&xml, "LK1"), "LK2")).unwrap();
        cli_ok(dir.path(), &["board", "add", "--bestuursnummer", "99999", "--name", "Stichting"]);
        cli_ok(dir.path(), &["school", "add", "--bestuursnummer", "99999", "--brin", "99ZZ", "--vestigingscode", "00", "--name", "Voorbeeldschool"]);
        let out = cli_ok(dir.path(), &["import", "edexml", full.to_str().unwrap()]);
        let (julia_link, uilke_link) = (imported_link_for(&out, "julia@school.nl"), imported_link_for(&out, "uilke@school.nl"));
        // Uilke is also the school's intern begeleider: the school's choice, not the LAS's.
        cli_ok(dir.path(), &["staff", "grant-role", "--email", "uilke@school.nl", "--school", "99ZZ00", "--role", "ib"]);
        let server = start(dir.path(), s, &[]);
        let (mut julia, mut uilke) = (Browser::new(&server.base), Browser::new(&server.base));
        for (b, link, email) in [(&mut julia, &julia_link, "julia@school.nl"), (&mut uilke, &uilke_link, "uilke@school.nl")] {
            assert_eq!(activate(b, link).await.status, 303);
            assert_eq!(login(b, email, PASSWORD).await.location(), Some("/"));
            assert!(b.get("/").await.body.contains("Voorbeeldschool"));
        }
        let julia_4a = link_labelled(&julia.get("/beheer").await, "4A");
        let uilke_muizen = link_labelled(&uilke.get("/beheer").await, "Muizen");
        assert_eq!(julia.get(&julia_4a).await.status, 200);

        cli_ok(dir.path(), &["import", "edexml", gone.to_str().unwrap()]);
        for b in [&mut julia, &mut uilke] {
            assert_eq!(b.get("/").await.location(), Some("/inloggen"), "the removal ended the session");
        }
        // They may work at another school, so they can still log in; this school is no longer theirs.
        assert_eq!(login(&mut julia, "julia@school.nl", PASSWORD).await.status, 303);
        let home = julia.get("/").await;
        assert!(!home.body.contains("Voorbeeldschool"), "the imported leerkracht role is gone: {}", home.body);
        assert_ne!(julia.get("/beheer").await.status, 200);
        assert_ne!(julia.get(&julia_4a).await.status, 200, "no more home codes for the old group");

        assert_eq!(login(&mut uilke, "uilke@school.nl", PASSWORD).await.status, 303);
        assert!(uilke.get("/").await.body.contains("Voorbeeldschool"), "the hand-granted IB role stays");
        let overview = uilke.get("/beheer").await;
        assert_eq!(overview.status, 200);
        assert!(overview.body.contains("geen groepen") && !overview.body.contains("Muizen"), "{}", overview.body);
        assert_eq!(uilke.get(&uilke_muizen).await.status, 403, "the LAS's groups went with the LAS");
    }
}

/// The files in the outbox.
fn mails(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("data/outbox"))
        .map(|d| d.count())
        .unwrap_or(0)
}

on_both_stores! {
    async fn a_deactivated_account_stays_deactivated_until_an_administrator_invites_again(s: Store) {
        let dir = tempfile::tempdir().unwrap();
        let link = school_with_staff(dir.path(), "anna@school.nl", &["leerkracht"]);
        cli_ok(dir.path(), &["staff", "deactivate", "--email", "anna@school.nl"]);
        let server = start(dir.path(), s, &[]);
        let mut b = Browser::new(&server.base);

        // The activation link mailed before the deactivation no longer works.
        assert_eq!(b.get(&link).await.status, 410);
        // Nor does posting a password to it directly, as a saved form would.
        let token = link.split("token=").nth(1).unwrap();
        let csrf = b.get("/wachtwoord-vergeten").await.field("csrf").unwrap();
        let r = b
            .post("/activeren", &[("csrf", &csrf), ("token", token), ("password", PASSWORD), ("password_repeat", PASSWORD)])
            .await;
        assert_eq!(r.status, 410, "{}", r.body);
        assert_eq!(login(&mut b, "anna@school.nl", PASSWORD).await.status, 401);

        // Only the administrator's re-invite brings it back.
        let out = cli_ok(dir.path(), &["staff", "invite", "--email", "anna@school.nl"]);
        assert_eq!(activate(&mut b, &activation_path(&out)).await.status, 303);
        assert_eq!(login(&mut b, "anna@school.nl", PASSWORD).await.location(), Some("/"));
    }
}

on_both_stores! {
    async fn forgot_password_mails_nothing_to_a_deactivated_account(s: Store) {
        let dir = tempfile::tempdir().unwrap();
        // Deactivated before its owner ever set a password.
        school_with_staff(dir.path(), "anna@school.nl", &["leerkracht"]);
        cli_ok(dir.path(), &["staff", "deactivate", "--email", "anna@school.nl"]);
        let server = start(dir.path(), s, &[]);
        let mut b = Browser::new(&server.base);
        let before = mails(dir.path());
        let known = b.submit("/wachtwoord-vergeten", &[("email", "anna@school.nl")]).await;
        let unknown = b.submit("/wachtwoord-vergeten", &[("email", "niemand@school.nl")]).await;
        assert_eq!(known.body, unknown.body, "the answer does not tell");
        // The mail would go out after the answer; a known, never-activated address shows it
        // arrives well within this time (password_reset_ends_other_sessions_...).
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(mails(dir.path()), before, "no link for a deactivated account");

        // Once re-invited, the account is one still to be activated, and the same request mails
        // its activation link again: the wait above was long enough to have seen a mail.
        cli_ok(dir.path(), &["staff", "invite", "--email", "anna@school.nl"]);
        let invited = mails(dir.path());
        assert_eq!(invited, before + 1);
        b.submit("/wachtwoord-vergeten", &[("email", "anna@school.nl")]).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(mails(dir.path()), invited + 1);
    }
}

on_both_stores! {
    async fn parallel_password_guesses_get_no_more_tries_than_the_limit(s: Store) {
        let dir = tempfile::tempdir().unwrap();
        let link = school_with_staff(dir.path(), "anna@school.nl", &["leerkracht"]);
        let server = start(dir.path(), s, &[]); // 10 failures per address
        let mut b = Browser::new(&server.base);
        activate(&mut b, &link).await;
        let csrf = b.get("/inloggen").await.field("csrf").unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..60 {
            let mut guesser = Browser::new(&server.base);
            guesser.cookies = b.cookies.clone();
            let csrf = csrf.clone();
            tasks.spawn(async move {
                let guess = format!("Gok-Nummer-{i}");
                let fields = [("csrf", csrf.as_str()), ("email", "anna@school.nl"), ("password", guess.as_str())];
                guesser.post("/inloggen", &fields).await.status
            });
        }
        let mut statuses = Vec::new();
        while let Some(status) = tasks.join_next().await {
            statuses.push(status.unwrap());
        }
        let checked = statuses.iter().filter(|s| **s == 401).count();
        assert!(checked <= 10, "{checked} of 60 parallel guesses were checked");
        assert_eq!(checked + statuses.iter().filter(|s| **s == 429).count(), 60, "{statuses:?}");
        assert_eq!(login(&mut b, "anna@school.nl", PASSWORD).await.status, 429);
    }
}

on_both_stores! {
    async fn current_password_guesses_in_a_password_change_are_throttled(s: Store) {
        let dir = tempfile::tempdir().unwrap();
        let link = school_with_staff(dir.path(), "anna@school.nl", &["leerkracht"]);
        let server = start(dir.path(), s, &[("OPENPOORT_LOGIN_MAX_FAILURES_PER_ACCOUNT", "3")]);
        let mut b = Browser::new(&server.base);
        activate(&mut b, &link).await;
        assert_eq!(login(&mut b, "anna@school.nl", PASSWORD).await.status, 303);
        let new_pw = "Regenboog-Schaats-91";
        for i in 0..3 {
            let guess = format!("Gok-Nummer-{i}");
            let wrong = b.submit("/wachtwoord-wijzigen", &[("current_password", &guess), ("password", new_pw), ("password_repeat", new_pw)]).await;
            assert_eq!(wrong.status, 422, "{}", wrong.body);
        }
        // The session cannot go on guessing: even the right password waits now.
        let right = b.submit("/wachtwoord-wijzigen", &[("current_password", PASSWORD), ("password", new_pw), ("password_repeat", new_pw)]).await;
        assert_eq!(right.status, 429, "{}", right.body);
        assert!(right.body.contains("Te veel mislukte pogingen"), "{}", right.body);
        // The guesses count against the address's login too: one budget, whichever form.
        let mut other = Browser::new(&server.base);
        assert_eq!(login(&mut other, "anna@school.nl", PASSWORD).await.status, 429);
    }
}

/// An IPv6 client can pick any address of its /64, so the per-address limit counts the /64 as
/// one address; another /64 is another address.
#[tokio::test]
async fn failures_from_one_ipv6_64_count_against_one_address() {
    let dir = tempfile::tempdir().unwrap();
    school_with_staff(dir.path(), "anna@school.nl", &["leerkracht"]);
    let server = start(
        dir.path(),
        Store::Memory,
        &[
            ("OPENPOORT_SERVER_TRUSTED_PROXIES", "127.0.0.1/32, ::1"),
            ("OPENPOORT_LOGIN_MAX_FAILURES_PER_IP", "10"),
        ],
    );
    let from = |address: &str| {
        let mut b = Browser::new(&server.base);
        b.headers.push(("x-forwarded-for".into(), address.into()));
        b
    };
    for i in 1..=10 {
        let mut b = from(&format!("2001:db8:1:2::{i:x}"));
        let email = format!("onbekend-{i}@school.nl");
        assert_eq!(login(&mut b, &email, "Gok-Nummer-1").await.status, 401);
    }
    let mut same_64 = from("2001:db8:1:2:ffff:ffff:ffff:fffe");
    let page = login(&mut same_64, "nog-een@school.nl", "Gok-Nummer-1").await;
    assert_eq!(page.status, 429, "{}", page.body);
    let mut other_64 = from("2001:db8:1:3::1");
    assert_eq!(
        login(&mut other_64, "nog-een@school.nl", "Gok-Nummer-1")
            .await
            .status,
        401
    );
}
