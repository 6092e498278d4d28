//! The real router in process: the state `openpoort demo` builds (a temporary SQLite register
//! with the demo data, the in-memory session store, generated keys), driven as a tower service
//! with the client address set per test. Faster and more direct than starting the binary; the
//! end-to-end tests in `tests/` keep what needs a process (start-up, shutdown, the CLI).

mod support;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};

use support::*;

#[tokio::test]
async fn pupil_outside_the_school_network_sees_no_groups() {
    let outside = demo_from("203.0.113.9:50000").await;
    let page = outside.get(&outside.shortcut()).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    for secret in ["Egeltjes", "Vossen", "Uilen", "Basisschool De Demo"] {
        assert!(
            !page.body.contains(secret),
            "{secret} shown outside the school"
        );
    }
    // The demo school's network is loopback: there the groups are listed.
    let inside = demo_from("127.0.0.1:50000").await;
    let page = inside.get(&inside.shortcut()).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Egeltjes"), "{}", page.body);
}

#[tokio::test]
async fn a_login_form_without_its_csrf_token_is_refused_and_signs_nobody_in() {
    let d = demo_from("127.0.0.1:50000").await;
    let password = idp::demo::BRAM_PASSWORD;
    let form = format!(
        "csrf=made-up&email={}&password={password}",
        idp::demo::BRAM.replace('@', "%40")
    );
    let answer = d.post_form("/inloggen", &form).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    assert!(
        answer.body.contains("Formulier verlopen"),
        "{}",
        answer.body
    );
    let cookies: Vec<_> = answer.headers.get_all(header::SET_COOKIE).iter().collect();
    assert!(
        !cookies
            .iter()
            .any(|c| c.to_str().unwrap_or("").starts_with("openpoort=")),
        "a session cookie was set: {cookies:?}"
    );
}

#[tokio::test]
async fn a_form_missing_a_field_is_answered_in_dutch_and_english() {
    let d = demo_from("127.0.0.1:50000").await;
    let answer = d.post_form("/inloggen", "email=iemand%40school.nl").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert!(
        answer.body.contains("Het formulier is onvolledig")
            && answer.body.contains("The form is incomplete"),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn authorize_for_an_unknown_client_is_shown_not_redirected() {
    let d = demo_from("127.0.0.1:50000").await;
    let answer = d
        .get(
            "/oidc/authorize?client_id=onbekend&response_type=code&scope=openid\
             &redirect_uri=https%3A%2F%2Faanvaller.example%2Fcb&state=s",
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert!(
        answer.headers.get(header::LOCATION).is_none(),
        "an unknown client's redirect_uri was followed: {:?}",
        answer.headers.get(header::LOCATION)
    );
}

// One test (at least) per extractor of the pages: each states what the extractor guarantees,
// with a counterpart that shows the refusal is that extractor's and not some other failure.

/// `Csrf<Form>`: a form is taken only with this browser's token from its cookie.
#[tokio::test]
async fn a_form_without_the_csrf_cookie_is_refused() {
    let d = demo_from("127.0.0.1:50000").await;
    let mut stranger = d.browser();
    let answer = stranger
        .post(
            "/wachtwoord-vergeten",
            &[
                ("csrf", "een-token-zonder-cookie"),
                ("email", idp::demo::BRAM),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    assert!(
        answer.body.contains("Formulier verlopen"),
        "{}",
        answer.body
    );

    let mut own = d.browser();
    own.get("/wachtwoord-vergeten").await;
    let answer = own
        .submit("/wachtwoord-vergeten", &[("email", idp::demo::BRAM)])
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

/// `Csrf<Form>` behind a session guard: a signed-in user's form still needs its token.
#[tokio::test]
async fn a_signed_in_form_with_a_foreign_token_changes_nothing() {
    let d = demo_from("127.0.0.1:50000").await;
    let mut bram = d.browser();
    let login = bram.log_in(idp::demo::BRAM, idp::demo::BRAM_PASSWORD).await;
    assert_eq!(login.location(), Some("/school-kiezen"), "{}", login.body);
    let choice = bram.get("/school-kiezen").await;
    let school = d.seeded.school.id.clone();
    assert!(choice.body.contains(&school), "{}", choice.body);

    let forged = bram
        .post(
            "/school-kiezen",
            &[("csrf", "van-een-andere-site"), ("school_id", &school)],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    // No school was chosen: the portal still asks for one.
    assert_eq!(bram.get("/").await.location(), Some("/school-kiezen"));

    let chosen = bram
        .submit("/school-kiezen", &[("school_id", &school)])
        .await;
    assert_eq!(chosen.location(), Some("/"), "{}", chosen.body);
    assert_eq!(bram.get("/").await.status, StatusCode::OK);
}

/// `SchoolManager`: /beheer is reached signed in as staff of the chosen school, or not at all.
#[tokio::test]
async fn beheer_without_a_session_goes_to_the_login() {
    let d = demo_from("127.0.0.1:50000").await;
    let mut nobody = d.browser();
    let page = nobody.get("/beheer").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), Some("/inloggen"));
    assert!(!page.body.contains("Basisschool De Demo"), "{}", page.body);
}

/// `SignedIn`: the portal needs a session; a staff form posted without one says why.
#[tokio::test]
async fn the_portal_without_a_session_goes_to_the_login() {
    let d = demo_from("127.0.0.1:50000").await;
    let mut nobody = d.browser();
    assert_eq!(nobody.get("/").await.location(), Some("/inloggen"));
    nobody.get("/inloggen").await;
    let school = d.seeded.school.id.clone();
    let posted = nobody
        .submit("/school-kiezen", &[("school_id", &school)])
        .await;
    assert_eq!(
        posted.location(),
        Some("/inloggen?melding=sessie-verlopen"),
        "{}",
        posted.body
    );
}

/// `SignedInStaff` (also as `Option<SignedInStaff>`): a pupil signed in at home is signed in,
/// but not as staff.
#[tokio::test]
async fn a_pupil_session_is_not_a_staff_session() {
    let d = demo_from("127.0.0.1:50000").await;
    let mut pupil = d.browser();
    pupil.get("/thuis").await;
    let (code, pin) = d.seeded.home_code.clone();
    let login = pupil
        .submit("/thuis", &[("code", &code), ("pin", &pin)])
        .await;
    assert_eq!(login.location(), Some("/"), "{}", login.body);
    assert!(pupil.has_session());
    assert_eq!(pupil.get("/").await.status, StatusCode::OK, "the portal");

    for staff_page in [
        "/wachtwoord-wijzigen",
        "/school-kiezen",
        "/tweestapsverificatie",
    ] {
        let page = pupil.get(staff_page).await;
        assert_eq!(
            page.location(),
            Some("/inloggen"),
            "{staff_page}: {}",
            page.body
        );
    }
    // Logging out everywhere is for staff: a pupil is answered as one without a staff session.
    let everywhere = pupil.submit("/uitloggen/overal", &[]).await;
    assert_eq!(
        everywhere.location(),
        Some("/inloggen?melding=sessie-verlopen"),
        "{}",
        everywhere.body
    );
}

/// `SchoolManager::ict`: a teacher manages their groups, only the ICT-coördinator the school.
#[tokio::test]
async fn a_teacher_who_is_not_ict_cannot_change_school_settings() {
    let d = demo_from("127.0.0.1:50000").await;
    // Anna is a teacher of group 5 who has not activated her account yet: she does so first.
    let link = d.seeded.activation_link.clone().expect("Anna's link");
    let path = &link[link.find("/activeren").expect("an activation link")..];
    let token = path.split("token=").nth(1).expect("a token").to_owned();
    let mut anna = d.browser();
    assert_eq!(anna.get(path).await.status, StatusCode::OK);
    let password = "Paard-Wolk-Trein-77";
    let set = anna
        .submit(
            "/activeren",
            &[
                ("token", &token),
                ("password", password),
                ("password_repeat", password),
            ],
        )
        .await;
    assert_eq!(
        set.location(),
        Some("/inloggen?melding=wachtwoord-ingesteld"),
        "{}",
        set.body
    );
    assert_eq!(
        anna.log_in(idp::demo::ANNA, password).await.location(),
        Some("/")
    );
    assert_eq!(
        anna.get("/beheer").await.status,
        StatusCode::OK,
        "her groups"
    );

    let settings = [("picture_password", "on"), ("home_login", "on")];
    let refused = anna.submit("/beheer", &settings).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("Geen toegang"), "{}", refused.body);

    // The ICT-coördinator may (switching nothing off, so nothing changes).
    let mut bram = d.browser();
    bram.log_in(idp::demo::BRAM, idp::demo::BRAM_PASSWORD).await;
    bram.get("/school-kiezen").await;
    bram.submit("/school-kiezen", &[("school_id", &d.seeded.school.id)])
        .await;
    let done = bram.submit("/beheer", &settings).await;
    assert_eq!(done.location(), Some("/beheer"), "{}", done.body);
}

/// `OnSchoolNetwork`: every step of the school login checks the address, not only the first.
#[tokio::test]
async fn the_pupil_pickers_refuse_an_address_outside_the_school() {
    let d = demo_from("127.0.0.1:50000").await;
    let mut inside = d.browser();
    let groups = inside.get(&d.shortcut()).await;
    let group = groups.links("href", &format!("{}/g/", d.shortcut()))[0].clone();
    let names = inside.get(&group).await;
    assert_eq!(names.status, StatusCode::OK, "{}", names.body);
    let pick = names.links("action", &format!("{group}/p/"))[0].clone();

    // The URLs copied out of school, with a CSRF cookie and token of their own.
    let mut outside = d.browser_at("203.0.113.9:50000");
    outside.get("/thuis").await;
    let names_outside = outside.get(&group).await;
    assert_eq!(
        names_outside.status,
        StatusCode::FORBIDDEN,
        "{}",
        names_outside.body
    );
    assert!(
        names_outside.body.contains("203.0.113.9"),
        "{}",
        names_outside.body
    );
    assert!(
        names_outside.links("action", &group).is_empty(),
        "names shown outside"
    );
    let picked_outside = outside.submit(&pick, &[]).await;
    assert_eq!(
        picked_outside.status,
        StatusCode::FORBIDDEN,
        "{}",
        picked_outside.body
    );
    assert!(!outside.has_session(), "signed in from outside the school");

    // Inside, the same pick asks for the pupil's picture.
    let picked = inside.submit(&pick, &[]).await;
    assert_eq!(picked.status, StatusCode::OK, "{}", picked.body);
}

/// `ClientIp`: `X-Forwarded-For` counts only from a configured proxy.
#[tokio::test]
async fn a_proxy_header_from_an_untrusted_peer_is_ignored() {
    let d = demo_with(
        "127.0.0.1:50000",
        &[("OPENPOORT_SERVER_TRUSTED_PROXIES", "10.0.0.0/8")],
    )
    .await;
    let forged = |peer: &str| {
        let mut request = Request::get(d.shortcut())
            .header("x-forwarded-for", "127.0.0.1")
            .body(Body::empty())
            .unwrap();
        request
            .extensions_mut()
            .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        request
    };
    // A client that claims to be at school (loopback is the demo school's network).
    let direct = d.send(forged("203.0.113.9:50000")).await;
    assert_eq!(direct.status, StatusCode::FORBIDDEN, "{}", direct.body);
    assert!(direct.body.contains("203.0.113.9"), "{}", direct.body);
    // The same header from the school's own proxy is believed.
    let proxied = d.send(forged("10.1.2.3:50000")).await;
    assert_eq!(proxied.status, StatusCode::OK, "{}", proxied.body);
}

/// `Form`: a body that is not a form is refused with its own reason, in Dutch and English, not
/// with axum's English sentence.
#[tokio::test]
async fn a_malformed_form_gets_a_specific_dutch_error() {
    let d = demo_from("127.0.0.1:50000").await;
    let answer = d
        .send(
            Request::post("/inloggen")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(r#"{"email":"iemand@school.nl"}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(
        answer.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        answer.body
    );
    assert!(
        answer
            .body
            .contains("Het verzoek is in een vorm verstuurd die dit adres niet aanneemt")
            && answer
                .body
                .contains("The request was sent in a form this address does not accept"),
        "{}",
        answer.body
    );
    assert!(!answer.body.contains("Content-Type"), "{}", answer.body);
}

/// Runs one statement on the demo's register (SQLite), as a row written at a known moment.
async fn exec(d: &Demo, sql: &str) {
    let directory::Pool::Sqlite(pool) = d.directory.pool() else {
        panic!("the demo's register is SQLite");
    };
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Every time a person reads is the clock in the Netherlands: a moment recorded in winter shows
/// an hour after UTC (CET), one in summer two (CEST), on Beheer's Privacy page (a release, an
/// acceptance of the processing agreement) and on the operator's school page (the first
/// ICT-coördinator's request). A release from before names and groups were recorded shows
/// today's name marked as such, and the page says the group filter cannot find it.
#[tokio::test]
async fn times_recorded_in_utc_show_as_dutch_time_in_winter_and_in_summer() {
    let d = demo_with(
        "127.0.0.1:50000",
        &[("OPENPOORT_PRIVACY_AGREEMENT_VERSION", "2026-1")],
    )
    .await;
    // 2026-01-15 10:30 UTC = 11:30 CET; 2026-07-15 10:30 UTC = 12:30 CEST.
    const WINTER: i64 = 1_768_473_000;
    const SUMMER: i64 = 1_784_111_400;
    let school = d.seeded.school.clone();
    let party = d.party("demo-uitgeverij").await;
    let finn = d
        .directory
        .pupils_of_school(&school.id)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.roepnaam.as_deref() == Some("Finn"))
        .expect("Finn");
    let bram = d
        .directory
        .staff_by_email(&directory::model::Email::parse(idp::demo::BRAM).unwrap())
        .await
        .unwrap()
        .expect("Bram");
    // A release as one was written before migration 0014: no name, no groups.
    exec(&d, &format!(
        "INSERT INTO audit_log (at, actor, action, school_id, party_id, subject, details) VALUES \
         ({WINTER}, 'system:broker', 'release.allow', '{}', '{}', '{}', \
         '{{\"context\":\"school_network\",\"subject_kind\":\"pupil\",\"attributes\":[\"subject\"]}}')",
        school.id, party.id, finn.id
    )).await;
    exec(&d, &format!(
        "INSERT INTO agreement_acceptances (id, board_id, version, school_id, accepted_by, accepted_by_name, accepted_at) \
         VALUES ('acceptance-1', '{}', '2026-1', '{}', 'staff:{}', 'Bram Jansen', {SUMMER})",
        school.board_id, school.id, bram.id
    )).await;
    exec(&d, &format!(
        "INSERT INTO first_ict_requests (id, school_id, staff_id, requested_by, document_ref, approved_by, created_at) \
         VALUES ('request-1', '{}', '{}', 'J. de Bestuurder', 'BRF-1', 'operator:cli', {WINTER})",
        school.id, bram.id
    )).await;
    d.directory
        .grant_operator(&bram.id, &directory::Actor::operator_cli())
        .await
        .unwrap();

    let mut b = d.browser();
    b.log_in(idp::demo::BRAM, idp::demo::BRAM_PASSWORD).await;
    b.get("/school-kiezen").await;
    b.submit("/school-kiezen", &[("school_id", &school.id)])
        .await;
    let privacy = b.get("/beheer/privacy").await;
    assert_eq!(privacy.status, StatusCode::OK, "{}", privacy.body);
    assert!(
        privacy.body.contains("<td>2026-01-15 11:30</td>"),
        "the release in CET: {}",
        privacy.body
    );
    assert!(
        privacy.body.contains("<td>2026-07-15 12:30</td>"),
        "the acceptance in CEST: {}",
        privacy.body
    );
    assert!(
        !privacy.body.contains("10:30") && !privacy.body.contains("UTC"),
        "{}",
        privacy.body
    );
    assert!(
        privacy.body.contains("Finn Smit (huidige naam"),
        "today's name, marked: {}",
        privacy.body
    );
    assert!(
        privacy.body.contains("id=\"groups-not-recorded\""),
        "{}",
        privacy.body
    );
    let later = b.get("/beheer/privacy?van=2026-02-01").await;
    assert_eq!(later.status, StatusCode::OK, "{}", later.body);
    assert!(
        !later.body.contains("id=\"groups-not-recorded\""),
        "no note when the range holds no such release: {}",
        later.body
    );

    let operator = b.get(&format!("/operator/scholen/{}", school.code())).await;
    assert_eq!(operator.status, StatusCode::OK, "{}", operator.body);
    assert!(
        operator.body.contains("2026-01-15 11:30"),
        "the request in CET: {}",
        operator.body
    );
    assert!(
        !operator.body.contains("10:30") && !operator.body.contains("UTC"),
        "{}",
        operator.body
    );
}
