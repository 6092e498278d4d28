//! A school's policy on staff second factors, the forced set-up at login, an administrator's
//! reset, new recovery codes, and the factor asked again by max_age / prompt=login /
//! ForceAuthn (issue #21), through the real router in process.

mod support;

use axum::http::StatusCode;
use directory::Actor;
use directory::model::Email;
use directory::people::StaffStatus;
use directory::second_factor::SecondFactorPolicy;
use metadata::saml::binding;

use support::publisher::{authorize_path, id_token_claims, query_of, redirected, register_client};
use support::*;

const ANNA_PASSWORD: &str = "Appel-Boom-Raam-17";
const SP: &str = "https://rekenrijk.demo-uitgeverij.example/saml";
const SP_ACS: &str = "https://rekenrijk.demo-uitgeverij.example/saml/acs";

fn test() -> Actor {
    Actor::system("test")
}

async fn staff_id(d: &Demo, email: &str) -> String {
    d.directory
        .staff_login(&Email::parse(email).unwrap())
        .await
        .unwrap()
        .unwrap()
        .staff
        .id
}

/// Anna (a teacher of the demo school only, not ICT-coördinator) with a password.
async fn anna(d: &Demo) -> String {
    let id = staff_id(d, idp::demo::ANNA).await;
    let hash = d.state.hasher.hash(ANNA_PASSWORD.to_owned()).await.unwrap();
    d.directory.set_password(&id, &hash, &test()).await.unwrap();
    d.directory
        .set_staff_status(&id, StaffStatus::Active, &test())
        .await
        .unwrap();
    id
}

async fn school_policy(d: &Demo, policy: SecondFactorPolicy) {
    d.directory
        .set_school_second_factor_policy(&d.seeded.school.id, Some(policy), &test())
        .await
        .unwrap();
}

/// The key the set-up page shows, as the authenticator app reads it.
fn shown_secret(page: &Answer) -> idp::totp::TotpSecret {
    let shown = page
        .body
        .split("<code id=\"sleutel\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the key on the page")
        .replace(' ', "");
    idp::totp::TotpSecret::new(
        data_encoding::BASE32_NOPAD
            .decode(shown.as_bytes())
            .expect("base32"),
    )
}

/// Recovery codes on the page that shows them once.
fn shown_codes(page: &Answer) -> Vec<String> {
    page.body
        .split("<li><code>")
        .skip(1)
        .filter_map(|rest| rest.split('<').next())
        .map(str::to_owned)
        .collect()
}

/// Where the recovery codes page's "Verder" goes.
fn continue_link(page: &Answer) -> String {
    page.body
        .split("<p><a href=\"")
        .last()
        .and_then(|rest| rest.split('"').next())
        .expect("the way on")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
        .replace("&#x3d;", "=")
        .replace("&#38;", "&")
}

/// Bram, signed in with his school chosen.
async fn bram_at_school(d: &Demo) -> Browser<'_> {
    let mut b = d.browser();
    let login = b.log_in(idp::demo::BRAM, idp::demo::BRAM_PASSWORD).await;
    assert_eq!(login.location(), Some("/school-kiezen"), "{}", login.body);
    b.get("/school-kiezen").await;
    let school = d.seeded.school.id.clone();
    let chosen = b
        .submit("/school-kiezen", &[("school_id", school.as_str())])
        .await;
    assert_eq!(chosen.status, StatusCode::SEE_OTHER, "{}", chosen.body);
    b
}

/// Anna signed in with her password and an authenticator set up at `/tweestapsverificatie`.
async fn anna_enrolled(d: &Demo) -> (Browser<'_>, idp::totp::TotpSecret, Vec<String>) {
    let mut b = d.browser();
    let login = b.log_in(idp::demo::ANNA, ANNA_PASSWORD).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
    let (secret, codes) = b.set_up_authenticator().await;
    (b, secret, codes)
}

#[tokio::test]
async fn a_staff_member_the_policy_requires_is_led_to_set_up_a_factor_before_any_release() {
    // The operator's default covers the school's ICT-coördinatoren, Bram among them.
    let d = demo_with(
        "127.0.0.1:50000",
        &[("OPENPOORT_LOGIN_SECOND_FACTOR_POLICY", "managers")],
    )
    .await;
    let bram = staff_id(&d, idp::demo::BRAM).await;
    let mut b = d.browser();
    let login = b.log_in(idp::demo::BRAM, idp::demo::BRAM_PASSWORD).await;
    assert_eq!(
        login.location(),
        Some("/inloggen/instellen"),
        "{}",
        login.body
    );
    assert!(!b.has_session(), "the password alone opens no session");

    // Nothing else can be reached meanwhile: there is no session to reach it with.
    for path in [
        "/",
        "/beheer",
        "/beheer/leerkrachten",
        "/tweestapsverificatie",
    ] {
        let a = b.get(path).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{path}");
        assert!(
            a.location().unwrap_or_default().starts_with("/inloggen"),
            "{path}: {:?}",
            a.location()
        );
    }
    // Nor does the code page finish this login, whatever is typed there.
    let code_page = b.get("/inloggen/code").await;
    assert_eq!(code_page.location(), Some("/inloggen/instellen"));

    let page = b.get("/inloggen/instellen").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains("Je school vraagt om tweestapsverificatie")
    );
    let secret = shown_secret(&page);
    let wrong = b
        .submit("/inloggen/instellen", &[("code", &not_a_code_now(&secret))])
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!b.has_session());
    assert!(!d.directory.staff_has_second_factor(&bram).await.unwrap());

    let done = b
        .submit("/inloggen/instellen", &[("code", &code_now(&secret, 0))])
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(shown_codes(&done).len(), 10, "the recovery codes, once");
    assert_eq!(
        done.headers
            .get("cache-control")
            .map(|v| v.to_str().unwrap()),
        Some("no-store")
    );
    assert!(b.has_session(), "the set-up finishes the login");
    assert_eq!(continue_link(&done), "/school-kiezen");
    assert!(d.directory.staff_has_second_factor(&bram).await.unwrap());
    assert!(
        !b.cookies.iter().any(|(n, _)| n.ends_with("2fa")),
        "the parked login is over"
    );
    // And the code that confirmed the set-up is spent: it cannot finish a login.
    let mut later = d.browser();
    let login = later
        .log_in(idp::demo::BRAM, idp::demo::BRAM_PASSWORD)
        .await;
    assert_eq!(
        login.location(),
        Some("/inloggen/code"),
        "now the code is asked"
    );
    later.get("/inloggen/code").await;
    let replay = later
        .submit("/inloggen/code", &[("code", &code_now(&secret, 0))])
        .await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_staff_member_the_policy_does_not_cover_logs_in_with_the_password_alone() {
    let d = demo_from("127.0.0.1:50000").await;
    anna(&d).await;
    school_policy(&d, SecondFactorPolicy::Managers).await;
    let mut b = d.browser();
    let login = b.log_in(idp::demo::ANNA, ANNA_PASSWORD).await;
    assert_eq!(login.location(), Some("/"), "a teacher is no manager");
    assert!(b.has_session());
    // Under all_staff she is covered too.
    school_policy(&d, SecondFactorPolicy::AllStaff).await;
    let mut c = d.browser();
    let login = c.log_in(idp::demo::ANNA, ANNA_PASSWORD).await;
    assert_eq!(login.location(), Some("/inloggen/instellen"));
}

/// A protocol request at `start` sends Anna (covered by the policy, no factor) to the login; her
/// password parks the login at the set-up. Returns the parked request's path.
async fn anna_parked_at_the_set_up(b: &mut Browser<'_>, start: &str) -> String {
    let to_login = redirected(&b.get(start).await);
    assert!(to_login.starts_with("/inloggen?next="), "{to_login}");
    let next = query_of(&to_login)["next"].clone();
    b.get(&to_login).await;
    let fields = [
        ("email", idp::demo::ANNA),
        ("password", ANNA_PASSWORD),
        ("next", next.as_str()),
    ];
    let login = b.submit("/inloggen", &fields).await;
    assert_eq!(login.location(), Some("/inloggen/instellen"));
    next
}

/// Sets up the app the parked login shows; the page then continues to `next`.
async fn set_up_the_parked_login(b: &mut Browser<'_>, next: &str) {
    let page = b.get("/inloggen/instellen").await;
    let secret = shown_secret(&page);
    let done = b
        .submit("/inloggen/instellen", &[("code", &code_now(&secret, 0))])
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(continue_link(&done), next);
}

#[tokio::test]
async fn a_session_that_must_enrol_gets_no_oidc_code() {
    let d = demo_from("127.0.0.1:50000").await;
    register_client(&d, &test()).await;
    anna(&d).await;
    school_policy(&d, SecondFactorPolicy::AllStaff).await;
    let mut b = d.browser();
    let next = anna_parked_at_the_set_up(&mut b, &authorize_path("")).await;

    // The parked login is no session: the authorization request goes back to the login.
    let again = redirected(&b.get(&next).await);
    assert!(again.starts_with("/inloggen?"), "no code: {again}");
    let silent = redirected(&b.get(&authorize_path("&prompt=none")).await);
    assert!(
        silent.starts_with(support::publisher::REDIRECT) && silent.contains("error=login_required"),
        "{silent}"
    );

    // Once set up, the login continues to the parked request.
    set_up_the_parked_login(&mut b, &next).await;
    let code = redirected(&b.get(&next).await);
    let claims = id_token_claims(&d, &code).await;
    assert_eq!(claims["acr"], metadata::discovery::ACR_MFA, "{claims}");
}

/// Registers the demo publisher's SAML service provider.
async fn register_sp(d: &Demo) {
    let publisher = d.party("demo-uitgeverij").await;
    let sp_metadata = format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{SP}">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{SP_ACS}" index="0" isDefault="true"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>"#
    );
    idp::service_providers::register(
        &d.directory,
        &d.state.http,
        Some(sp_metadata.into_bytes()),
        &metadata::saml::sp::SpSettings {
            party_id: publisher.id,
            ..Default::default()
        },
        true,
        &test(),
    )
    .await
    .unwrap();
}

/// An AuthnRequest of the SP over the redirect binding, with `extra` attributes.
fn sp_request(id: &str, extra: &str) -> String {
    let xml = format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{}" AssertionConsumerServiceURL="{SP_ACS}"{extra}><saml:Issuer>{SP}</saml:Issuer></samlp:AuthnRequest>"#,
        metadata::saml::time::format(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64
        )
    );
    format!(
        "/saml/sso?SAMLRequest={}",
        url::form_urlencoded::byte_serialize(binding::encode_redirect(&xml).as_bytes())
            .collect::<String>()
    )
}

/// The assertion in the page that posts it to the SP.
fn posted_response(page: &Answer) -> String {
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let encoded = page
        .body
        .split("name=\"SAMLResponse\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the auto-posting form to the SP");
    String::from_utf8(binding::decode_post(encoded).unwrap()).unwrap()
}

/// The attribute `name="…"` of the first element `tag` in `xml`.
fn attribute_of(xml: &str, tag: &str, name: &str) -> String {
    let element = xml.split(&format!("<{tag} ")).nth(1).expect(tag);
    element
        .split(&format!("{name}=\""))
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect(name)
        .to_owned()
}

#[tokio::test]
async fn a_session_that_must_enrol_gets_no_saml_assertion() {
    let d = demo_from("127.0.0.1:50000").await;
    register_sp(&d).await;
    anna(&d).await;
    school_policy(&d, SecondFactorPolicy::AllStaff).await;
    let mut b = d.browser();
    let next = anna_parked_at_the_set_up(&mut b, &sp_request("_req_1", "")).await;
    let again = b.get(&next).await;
    assert_eq!(
        again.status,
        StatusCode::SEE_OTHER,
        "no assertion: {}",
        again.body
    );
    assert!(!again.body.contains("SAMLResponse"));

    set_up_the_parked_login(&mut b, &next).await;
    let xml = posted_response(&b.get(&next).await);
    assert!(xml.contains("TimeSyncToken"), "{xml}");
}

#[tokio::test]
async fn a_totp_code_stays_single_use_after_the_state_store_is_emptied() {
    let d = demo_from("127.0.0.1:50000").await;
    anna(&d).await;
    let (_, secret, _) = anna_enrolled(&d).await;
    let code = code_now(&secret, 1);
    let mut first = d.browser();
    first.log_in(idp::demo::ANNA, ANNA_PASSWORD).await;
    first.get("/inloggen/code").await;
    let used = first.submit("/inloggen/code", &[("code", &code)]).await;
    assert_eq!(used.status, StatusCode::SEE_OTHER, "{}", used.body);

    // A node whose state store is empty (flushed, lost, or another one altogether).
    let fresh = d.with_empty_state_store().await;
    let mut b = d.browser_via(fresh);
    let login = b.log_in(idp::demo::ANNA, ANNA_PASSWORD).await;
    assert_eq!(login.location(), Some("/inloggen/code"));
    b.get("/inloggen/code").await;
    let replay = b.submit("/inloggen/code", &[("code", &code)]).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED, "{}", replay.body);
    assert!(!b.has_session());
    // Nor does an older code than the one used.
    let older = b
        .submit("/inloggen/code", &[("code", &code_now(&secret, 0))])
        .await;
    assert_eq!(older.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_reset_is_audited_and_mails_the_teacher() {
    let d = demo_from("127.0.0.1:50000").await;
    let anna_id = anna(&d).await;
    let (mut anna_browser, _, codes) = anna_enrolled(&d).await;
    let bram = staff_id(&d, idp::demo::BRAM).await;
    let mut b = bram_at_school(&d).await;

    let list = b.get("/beheer/leerkrachten").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains("Tweestapsverificatie"));
    let person = format!("/beheer/leerkrachten/{anna_id}");
    let page = b.get(&person).await;
    assert!(
        page.body.contains("Tweestapsverificatie herstellen"),
        "{}",
        page.body
    );

    // Not without ticking the box.
    let unticked = b
        .submit(&format!("{person}/tweestapsverificatie-herstellen"), &[])
        .await;
    assert_eq!(unticked.status, StatusCode::BAD_REQUEST);
    assert!(d.directory.staff_has_second_factor(&anna_id).await.unwrap());

    let before = d.outbox().len();
    let reset = b
        .submit(
            &format!("{person}/tweestapsverificatie-herstellen"),
            &[("confirm", "on")],
        )
        .await;
    assert_eq!(
        reset.location(),
        Some(format!("{person}?melding=hersteld").as_str()),
        "{}",
        reset.body
    );
    assert!(!d.directory.staff_has_second_factor(&anna_id).await.unwrap());

    let audit = d.directory.audit_of_subject(&anna_id, 50).await.unwrap();
    let entry = audit
        .iter()
        .find(|e| e.action == "staff.second_factor.reset")
        .expect("audited");
    assert_eq!(entry.actor, format!("staff:{bram}"));
    assert_eq!(
        entry.school_id.as_deref(),
        Some(d.seeded.school.id.as_str())
    );

    let mails = d.outbox();
    assert_eq!(mails.len(), before + 1, "one mail");
    let mail = mails.last().unwrap();
    assert!(mail.contains("anna.devries@demo.openpoort.nl"), "{mail}");
    assert!(mail.contains("tweestapsverificatie is hersteld"), "{mail}");
    assert!(mail.contains("Bram Jansen"), "who did it: {mail}");
    assert!(mail.contains("Had je hier niet om gevraagd?"), "{mail}");
    for code in &codes {
        assert!(!mail.contains(code.as_str()));
    }

    // Her sessions ended, and her recovery codes went with the factor.
    let portal = anna_browser.get("/").await;
    assert!(
        portal
            .location()
            .unwrap_or_default()
            .starts_with("/inloggen"),
        "{:?}",
        portal.location()
    );
    // Under a policy that covers her, the next login leads to a new set-up.
    school_policy(&d, SecondFactorPolicy::AllStaff).await;
    let mut next = d.browser();
    let login = next.log_in(idp::demo::ANNA, ANNA_PASSWORD).await;
    assert_eq!(login.location(), Some("/inloggen/instellen"));
}

#[tokio::test]
async fn an_ict_coordinator_cannot_reset_a_teacher_of_another_school() {
    let d = demo_from("127.0.0.1:50000").await;
    // A teacher of a school Bram does not administer, with an authenticator.
    let other_school = d
        .directory
        .create_school(
            &directory::schools::NewSchool {
                bestuursnummer: directory::model::Bestuursnummer::parse("99999").unwrap(),
                brin: directory::model::Brin::parse("99ZZ").unwrap(),
                vestigingscode: directory::model::Vestigingscode::parse("07").unwrap(),
                name: "Een andere school".into(),
            },
            &test(),
        )
        .await
        .unwrap();
    let elsewhere = d
        .directory
        .create_staff(
            &directory::people::NewStaff {
                email: Some(Email::parse("juf@elders.example").unwrap()),
                achternaam: "Elders".into(),
                voorvoegsel: None,
                voornamen: None,
                roepnaam: Some("Els".into()),
                eck_id: None,
            },
            &test(),
        )
        .await
        .unwrap();
    d.directory
        .add_staff_to_school(&elsewhere.id, &other_school.id, None, &test())
        .await
        .unwrap();
    d.directory
        .enrol_totp(
            &elsewhere.id,
            &idp::totp::new_secret(),
            d.state.keys.kek(),
            &[],
            &Actor::staff(&elsewhere.id),
        )
        .await
        .unwrap();

    let mut b = bram_at_school(&d).await;
    let reset = b
        .submit(
            &format!(
                "/beheer/leerkrachten/{}/tweestapsverificatie-herstellen",
                elsewhere.id
            ),
            &[("confirm", "on")],
        )
        .await;
    assert_eq!(reset.status, StatusCode::NOT_FOUND, "{}", reset.body);
    assert!(
        d.directory
            .staff_has_second_factor(&elsewhere.id)
            .await
            .unwrap()
    );
    assert!(
        d.directory
            .audit_of_subject(&elsewhere.id, 50)
            .await
            .unwrap()
            .iter()
            .all(|e| e.action != "staff.second_factor.reset")
    );
}

#[tokio::test]
async fn an_ict_coordinator_cannot_reset_their_own_factor_through_beheer() {
    let d = demo_from("127.0.0.1:50000").await;
    let bram = staff_id(&d, idp::demo::BRAM).await;
    let mut b = bram_at_school(&d).await;
    b.set_up_authenticator().await;
    let reset = b
        .submit(
            &format!("/beheer/leerkrachten/{bram}/tweestapsverificatie-herstellen"),
            &[("confirm", "on")],
        )
        .await;
    assert_eq!(reset.status, StatusCode::BAD_REQUEST, "{}", reset.body);
    assert!(
        reset.body.contains("eigen tweestapsverificatie"),
        "{}",
        reset.body
    );
    assert!(d.directory.staff_has_second_factor(&bram).await.unwrap());
}

#[tokio::test]
async fn a_teacher_cannot_reset_anyone() {
    let d = demo_from("127.0.0.1:50000").await;
    anna(&d).await;
    let bram = staff_id(&d, idp::demo::BRAM).await;
    let mut b = d.browser();
    b.log_in(idp::demo::ANNA, ANNA_PASSWORD).await;
    b.get("/").await;
    let reset = b
        .submit(
            &format!("/beheer/leerkrachten/{bram}/tweestapsverificatie-herstellen"),
            &[("confirm", "on")],
        )
        .await;
    assert_eq!(reset.status, StatusCode::FORBIDDEN, "{}", reset.body);
    let policy = b
        .submit(
            "/beheer/leerkrachten/tweestapsverificatie",
            &[("policy", "none")],
        )
        .await;
    assert_eq!(policy.status, StatusCode::FORBIDDEN, "{}", policy.body);
}

#[tokio::test]
async fn an_ict_coordinator_sets_the_policy_in_beheer_and_sees_who_has_a_factor() {
    let d = demo_from("127.0.0.1:50000").await;
    let school = d.seeded.school.id.clone();
    anna(&d).await;
    anna_enrolled(&d).await;
    let mut b = bram_at_school(&d).await;
    let list = b.get("/beheer/leerkrachten").await;
    // Anna has one, Bram not: one "ja" and one "nee" in the column.
    assert_eq!(
        list.body.matches("<td class=\"tweestaps\">ja").count(),
        1,
        "{}",
        list.body
    );
    assert_eq!(list.body.matches("<td class=\"tweestaps\">nee").count(), 1);
    assert!(
        list.body
            .contains("id=\"beleid-standaard\" name=\"policy\" value=\"standaard\" checked")
    );

    let saved = b
        .submit(
            "/beheer/leerkrachten/tweestapsverificatie",
            &[("policy", "all_staff")],
        )
        .await;
    assert_eq!(
        saved.location(),
        Some("/beheer/leerkrachten?melding=beleid-opgeslagen")
    );
    assert_eq!(
        d.directory
            .school_second_factor_policy(&school)
            .await
            .unwrap(),
        Some(SecondFactorPolicy::AllStaff)
    );
    let bad = b
        .submit(
            "/beheer/leerkrachten/tweestapsverificatie",
            &[("policy", "iedereen")],
        )
        .await;
    assert!(bad.status.is_client_error(), "{}", bad.status);
    let back = b
        .submit(
            "/beheer/leerkrachten/tweestapsverificatie",
            &[("policy", "standaard")],
        )
        .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER);
    assert_eq!(
        d.directory
            .school_second_factor_policy(&school)
            .await
            .unwrap(),
        None
    );
    let audit = d.directory.audit_of_school(&school, 50).await.unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|e| e.action == "school.second_factor_policy.set")
            .count(),
        2
    );
}

#[tokio::test]
async fn new_recovery_codes_need_the_password_or_a_code_and_void_the_old_ones() {
    let d = demo_from("127.0.0.1:50000").await;
    let id = anna(&d).await;
    let (mut b, secret, old) = anna_enrolled(&d).await;
    let refused = b
        .submit(
            "/tweestapsverificatie/herstelcodes",
            &[("password", "niet-mijn-wachtwoord"), ("code", "")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let refused = b
        .submit(
            "/tweestapsverificatie/herstelcodes",
            &[("password", ""), ("code", &not_a_code_now(&secret))],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

    let renewed = b
        .submit(
            "/tweestapsverificatie/herstelcodes",
            &[("password", ANNA_PASSWORD), ("code", "")],
        )
        .await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.body);
    let new = shown_codes(&renewed);
    assert_eq!(new.len(), 10);
    assert!(new.iter().all(|c| !old.contains(c)));
    assert!(
        d.directory.staff_has_second_factor(&id).await.unwrap(),
        "the app stays"
    );
    let audit = d.directory.audit_of_subject(&id, 50).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "staff.second_factor.recovery_codes_renewed")
    );

    // An old code no longer signs in; a new one does.
    let mut c = d.browser();
    c.log_in(idp::demo::ANNA, ANNA_PASSWORD).await;
    c.get("/inloggen/code").await;
    let old_code = c.submit("/inloggen/code", &[("code", &old[0])]).await;
    assert_eq!(old_code.status, StatusCode::UNAUTHORIZED);
    let new_code = c.submit("/inloggen/code", &[("code", &new[0])]).await;
    assert_eq!(new_code.status, StatusCode::SEE_OTHER, "{}", new_code.body);
}

/// Anna signed in with her password and her authenticator's code; returns the browser and one
/// of her recovery codes for the next login.
async fn anna_with_both(d: &Demo) -> (Browser<'_>, Vec<String>) {
    anna(d).await;
    let (_, secret, codes) = anna_enrolled(d).await;
    let mut b = d.browser();
    let login = b.log_in(idp::demo::ANNA, ANNA_PASSWORD).await;
    assert_eq!(login.location(), Some("/inloggen/code"));
    b.get("/inloggen/code").await;
    let done = b
        .submit("/inloggen/code", &[("code", &code_now(&secret, 1))])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    (b, codes)
}

/// Follows a forced re-login from `to_login`: the password, then (asserting it is asked) the
/// second factor with `code`; returns where the login continues.
async fn log_in_again(b: &mut Browser<'_>, to_login: &str, code: &str) -> String {
    assert!(
        to_login.starts_with("/inloggen?next="),
        "a new login: {to_login}"
    );
    let next = query_of(to_login)["next"].clone();
    b.get(to_login).await;
    let password = b
        .submit(
            "/inloggen",
            &[
                ("email", idp::demo::ANNA),
                ("password", ANNA_PASSWORD),
                ("next", &next),
            ],
        )
        .await;
    assert_eq!(
        password.location(),
        Some("/inloggen/code"),
        "the second factor is asked again, not only the password"
    );
    b.get("/inloggen/code").await;
    let done = b
        .submit("/inloggen/code", &[("code", code), ("next", &next)])
        .await;
    redirected(&done)
}

#[tokio::test]
async fn max_age_zero_asks_for_the_second_factor_again_and_auth_time_moves() {
    let d = demo_from("127.0.0.1:50000").await;
    register_client(&d, &test()).await;
    let (mut b, codes) = anna_with_both(&d).await;
    let first = id_token_claims(&d, &redirected(&b.get(&authorize_path("")).await)).await;
    assert_eq!(first["acr"], metadata::discovery::ACR_MFA);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let to_login = redirected(&b.get(&authorize_path("&max_age=0")).await);
    let back = log_in_again(&mut b, &to_login, &codes[0]).await;
    let second = id_token_claims(&d, &redirected(&b.get(&back).await)).await;
    assert_eq!(second["acr"], metadata::discovery::ACR_MFA, "{second}");
    assert!(
        second["auth_time"].as_i64().unwrap() > first["auth_time"].as_i64().unwrap(),
        "{first} {second}"
    );
}

#[tokio::test]
async fn prompt_login_asks_for_the_second_factor_again() {
    let d = demo_from("127.0.0.1:50000").await;
    register_client(&d, &test()).await;
    let (mut b, codes) = anna_with_both(&d).await;
    let first = id_token_claims(&d, &redirected(&b.get(&authorize_path("")).await)).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let to_login = redirected(&b.get(&authorize_path("&prompt=login")).await);
    let back = log_in_again(&mut b, &to_login, &codes[0]).await;
    let second = id_token_claims(&d, &redirected(&b.get(&back).await)).await;
    assert_eq!(second["acr"], metadata::discovery::ACR_MFA, "{second}");
    assert!(second["auth_time"].as_i64().unwrap() > first["auth_time"].as_i64().unwrap());
}

#[tokio::test]
async fn saml_force_authn_asks_for_the_second_factor_again_and_the_authn_instant_moves() {
    let d = demo_from("127.0.0.1:50000").await;
    register_sp(&d).await;
    let (mut b, codes) = anna_with_both(&d).await;
    let first = posted_response(&b.get(&sp_request("_req_a", "")).await);
    let first_instant = attribute_of(&first, "saml:AuthnStatement", "AuthnInstant");
    assert!(first.contains("TimeSyncToken"), "{first}");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let to_login = redirected(&b.get(&sp_request("_req_b", " ForceAuthn=\"true\"")).await);
    let back = log_in_again(&mut b, &to_login, &codes[0]).await;
    let second = posted_response(&b.get(&back).await);
    assert!(second.contains("TimeSyncToken"), "{second}");
    let second_instant = attribute_of(&second, "saml:AuthnStatement", "AuthnInstant");
    assert!(
        second_instant > first_instant,
        "{first_instant} {second_instant}"
    );
}

#[tokio::test]
async fn a_parked_set_up_ends_when_a_factor_was_set_up_meanwhile_and_the_next_login_asks_for_it() {
    let d = demo_from("127.0.0.1:50000").await;
    let id = anna(&d).await;
    school_policy(&d, SecondFactorPolicy::AllStaff).await;
    let mut b = d.browser();
    let login = b.log_in(idp::demo::ANNA, ANNA_PASSWORD).await;
    assert_eq!(login.location(), Some("/inloggen/instellen"));
    // Set up meanwhile elsewhere (another tab's set-up, say).
    d.directory
        .enrol_totp(
            &id,
            &idp::totp::new_secret(),
            d.state.keys.kek(),
            &[],
            &Actor::staff(&id),
        )
        .await
        .unwrap();
    let page = b.get("/inloggen/instellen").await;
    assert_eq!(page.location(), Some("/inloggen?melding=code-verlopen"));
    assert!(!b.has_session());
    let again = b.log_in(idp::demo::ANNA, ANNA_PASSWORD).await;
    assert_eq!(again.location(), Some("/inloggen/code"));
}
