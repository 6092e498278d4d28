//! Staff passkeys (WebAuthn, issue #21) through the real router, in process, with a software
//! authenticator (`support::softkey`): registering, the login with a passkey alone and what the
//! ID token then says, the passkey as second factor and as step-up, the answers that must be
//! refused (another origin, another relying party, a tampered signature, no user verification,
//! a replayed challenge, a counter that did not advance, another account's handle, a removed
//! passkey), and the throttling of failures.

mod support;

use axum::http::StatusCode;
use directory::Actor;
use directory::model::Email;
use serde_json::json;
use tower::ServiceExt;

use support::publisher::{authorize_path, id_token_claims, redirected, register_client};
use support::softkey::{self, SoftKey, options_in};
use support::*;

async fn bram_id(d: &Demo) -> String {
    d.directory
        .staff_login(&Email::parse(idp::demo::BRAM).unwrap())
        .await
        .unwrap()
        .unwrap()
        .staff
        .id
}

/// Registers `key` as a passkey named `name` for whoever is signed in at `b`.
async fn register(b: &mut Browser<'_>, key: &mut SoftKey, name: &str) -> Answer {
    let page = b.get("/passkeys").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let options = options_in(&page.body, "passkey-toevoegen");
    let answer = key.register(&options, &softkey::Answer::default());
    b.submit("/passkeys", &[("name", name), ("credential", &answer)])
        .await
}

/// Bram, signed in with his password (alone), with one passkey registered; and the key.
async fn bram_with_passkey(d: &Demo) -> (Browser<'_>, SoftKey) {
    let mut b = d.browser();
    let login = b.log_in(idp::demo::BRAM, idp::demo::BRAM_PASSWORD).await;
    assert_eq!(login.location(), Some("/school-kiezen"), "{}", login.body);
    let mut key = SoftKey::new();
    let added = register(&mut b, &mut key, "laptop school").await;
    assert_eq!(
        added.location(),
        Some("/passkeys?melding=toegevoegd"),
        "{}",
        added.body
    );
    (b, key)
}

/// A new browser at the passkey login (with `next`, when given), answering with `key` as `how`.
async fn passkey_login<'a>(
    d: &'a Demo,
    key: &mut SoftKey,
    how: &softkey::Answer,
    next: Option<&str>,
) -> (Browser<'a>, Answer) {
    let mut b = d.browser();
    let path = match next {
        Some(n) => format!(
            "/inloggen/passkey?next={}",
            url::form_urlencoded::byte_serialize(n.as_bytes()).collect::<String>()
        ),
        None => "/inloggen/passkey".to_owned(),
    };
    let page = b.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let options = options_in(&page.body, "passkey-inloggen");
    assert!(
        options["publicKey"]["allowCredentials"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "a discoverable login names no credentials: {options}"
    );
    let assertion = key.assert(&options, how);
    let mut fields = vec![("credential", assertion.as_str())];
    if let Some(n) = next {
        fields.push(("next", n));
    }
    let answer = b.submit("/inloggen/passkey", &fields).await;
    (b, answer)
}

/// Chooses the demo school for a staff member of several schools, following `next`.
async fn choose_school(d: &Demo, b: &mut Browser<'_>, to: &str) -> String {
    assert!(to.starts_with("/school-kiezen"), "{to}");
    b.get(to).await;
    let mut fields = vec![("school_id", d.seeded.school.id.as_str())];
    let next = support::publisher::query_of(to).get("next").cloned();
    if let Some(n) = &next {
        fields.push(("next", n));
    }
    let chosen = b.submit("/school-kiezen", &fields).await;
    redirected(&chosen)
}

fn refused(a: &Answer) {
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.body);
    assert!(
        a.body.contains("Inloggen met deze passkey is niet gelukt"),
        "{}",
        a.body
    );
}

#[tokio::test]
async fn a_registered_passkey_signs_in_alone_and_the_id_token_says_mfa_by_passkey() {
    let d = demo_from("127.0.0.1:50000").await;
    register_client(&d, &Actor::system("test")).await;
    let (mut b, mut key) = bram_with_passkey(&d).await;
    let id = bram_id(&d).await;
    assert_eq!(
        key.user_handle_uuid(),
        id,
        "the user handle is the staff id"
    );

    let page = b.get("/passkeys").await;
    assert!(page.body.contains("laptop school"), "{}", page.body);
    assert!(page.body.contains("nog niet"), "never used yet");
    let audit = d.directory.audit_of_subject(&id, 20).await.unwrap();
    let entry = audit
        .iter()
        .find(|e| e.action == "staff.passkey.register")
        .expect("audited");
    assert_eq!(entry.details["name"], "laptop school");
    assert!(
        !entry
            .details
            .to_string()
            .contains(&key.credential_id_text())
    );

    // A product sends Bram to the login; he signs in with the passkey alone and goes on to it,
    // through the school choice (he works at two schools).
    let request = authorize_path("");
    let (mut alone, answer) =
        passkey_login(&d, &mut key, &softkey::Answer::default(), Some(&request)).await;
    let to = redirected(&answer);
    assert!(alone.has_session());
    assert!(
        !alone.cookies.iter().any(|(n, _)| n.ends_with("passkey")),
        "the ceremony's cookie is cleared"
    );
    let back = choose_school(&d, &mut alone, &to).await;
    assert_eq!(back, request);
    let at_product = redirected(&alone.get(&back).await);
    let claims = id_token_claims(&d, &at_product).await;
    assert_eq!(claims["acr"], metadata::discovery::ACR_MFA, "{claims}");
    assert_eq!(claims["amr"], json!(["pop", "user", "mfa"]), "{claims}");

    // A `next` that is not openpoort's own is dropped, as at the password login.
    let (_, answer) = passkey_login(
        &d,
        &mut key,
        &softkey::Answer::default(),
        Some("https://evil.example/"),
    )
    .await;
    assert_eq!(redirected(&answer), "/school-kiezen");

    let stored = d.directory.staff_passkeys(&id).await.unwrap();
    assert!(stored[0].last_used_at.is_some(), "the use is recorded");
    assert!(
        stored[0].passkey.contains("\"counter\":2"),
        "{}",
        stored[0].passkey
    );
}

#[tokio::test]
async fn a_passkey_is_the_second_factor_after_the_password_and_the_only_one_offered_without_an_app()
{
    let d = demo_from("127.0.0.1:50000").await;
    register_client(&d, &Actor::system("test")).await;
    let (_, mut key) = bram_with_passkey(&d).await;

    let mut b = d.browser();
    let login = b.log_in(idp::demo::BRAM, idp::demo::BRAM_PASSWORD).await;
    assert_eq!(login.location(), Some("/inloggen/code"), "{}", login.body);
    assert!(!b.has_session(), "the password alone opens no session");
    let page = b.get("/inloggen/code").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(!page.body.contains("name=\"code\""), "no app, no code form");
    let options = options_in(&page.body, "passkey-tweede-stap");
    let allowed = options["publicKey"]["allowCredentials"].as_array().unwrap();
    assert_eq!(allowed.len(), 1, "{options}");
    assert_eq!(allowed[0]["id"], key.credential_id_text());

    let assertion = key.assert(&options, &softkey::Answer::default());
    let done = b
        .submit("/inloggen/code/passkey", &[("credential", &assertion)])
        .await;
    let to = redirected(&done);
    assert_eq!(to, "/school-kiezen");
    assert!(b.has_session());
    let back = choose_school(&d, &mut b, &to).await;
    assert_eq!(back, "/");
    let claims = id_token_claims(&d, &redirected(&b.get(&authorize_path("")).await)).await;
    assert_eq!(claims["acr"], metadata::discovery::ACR_MFA, "{claims}");
    assert_eq!(
        claims["amr"],
        json!(["pwd", "pop", "user", "mfa"]),
        "{claims}"
    );
}

#[tokio::test]
async fn acr_values_asking_for_a_second_factor_raise_a_password_session_by_a_passkey() {
    let d = demo_from("127.0.0.1:50000").await;
    register_client(&d, &Actor::system("test")).await;
    // The browser that registered the passkey is still a password-only session.
    let (mut b, mut key) = bram_with_passkey(&d).await;
    let to = b.get("/school-kiezen").await;
    assert_eq!(to.status, StatusCode::OK);
    choose_school(&d, &mut b, "/school-kiezen").await;

    let mfa = url::form_urlencoded::byte_serialize(metadata::discovery::ACR_MFA.as_bytes())
        .collect::<String>();
    let request = authorize_path(&format!("&acr_values={mfa}"));
    let code_page = redirected(&b.get(&request).await);
    assert!(code_page.starts_with("/inloggen/code?next="), "{code_page}");
    let page = b.get(&code_page).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let options = options_in(&page.body, "passkey-tweede-stap");
    let next = support::publisher::query_of(&code_page)["next"].clone();
    let assertion = key.assert(&options, &softkey::Answer::default());
    let raised = b
        .submit(
            "/inloggen/code/passkey",
            &[("credential", &assertion), ("next", &next)],
        )
        .await;
    assert_eq!(redirected(&raised), next);
    let claims = id_token_claims(&d, &redirected(&b.get(&next).await)).await;
    assert_eq!(claims["acr"], metadata::discovery::ACR_MFA, "{claims}");
    assert_eq!(
        claims["amr"],
        json!(["pwd", "pop", "user", "mfa"]),
        "{claims}"
    );
}

#[tokio::test]
async fn a_passkey_login_is_refused_for_a_credential_of_another_relying_party() {
    let d = demo_from("127.0.0.1:50000").await;
    let (_, mut key) = bram_with_passkey(&d).await;
    let other = softkey::Answer {
        rp_id: "login.example.nl".into(),
        ..Default::default()
    };
    let (b, answer) = passkey_login(&d, &mut key, &other, None).await;
    refused(&answer);
    assert!(!b.has_session());
    // The same key, answering for openpoort, signs in.
    let (b, answer) = passkey_login(&d, &mut key, &softkey::Answer::default(), None).await;
    assert_eq!(redirected(&answer), "/school-kiezen");
    assert!(b.has_session());
}

#[tokio::test]
async fn a_passkey_login_is_refused_from_another_origin() {
    let d = demo_from("127.0.0.1:50000").await;
    let (_, mut key) = bram_with_passkey(&d).await;
    for origin in [
        "https://localhost:8080",
        "http://localhost:8081",
        "http://evil.example",
    ] {
        let elsewhere = softkey::Answer {
            origin: origin.into(),
            ..Default::default()
        };
        let (b, answer) = passkey_login(&d, &mut key, &elsewhere, None).await;
        refused(&answer);
        assert!(!b.has_session(), "{origin}");
    }
}

#[tokio::test]
async fn a_passkey_login_with_a_tampered_signature_or_without_user_verification_is_refused() {
    let d = demo_from("127.0.0.1:50000").await;
    let (_, mut key) = bram_with_passkey(&d).await;
    let tampered = softkey::Answer {
        tamper_signature: true,
        ..Default::default()
    };
    let (b, answer) = passkey_login(&d, &mut key, &tampered, None).await;
    refused(&answer);
    assert!(!b.has_session());
    let unverified = softkey::Answer {
        user_verified: false,
        ..Default::default()
    };
    let (b, answer) = passkey_login(&d, &mut key, &unverified, None).await;
    refused(&answer);
    assert!(!b.has_session());
}

#[tokio::test]
async fn a_passkey_challenge_is_single_use() {
    let d = demo_from("127.0.0.1:50000").await;
    let (_, mut key) = bram_with_passkey(&d).await;
    let mut b = d.browser();
    let page = b.get("/inloggen/passkey").await;
    let options = options_in(&page.body, "passkey-inloggen");
    let first = key.assert(&options, &softkey::Answer::default());
    let second = key.assert(&options, &softkey::Answer::default());
    // Both answers are sent from this browser (its ceremony cookie) before either is finished.
    let requests = vec![
        b.form_request("/inloggen/passkey", &[("credential", &first)]),
        b.form_request("/inloggen/passkey", &[("credential", &second)]),
    ];
    let mut statuses = Vec::new();
    for r in requests {
        statuses.push(d.router.clone().oneshot(r).await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, [303, 401], "the challenge answers once");

    // The answer that signed in, replayed in a login of its own (a new challenge), is refused.
    let mut replay = d.browser();
    replay.get("/inloggen/passkey").await;
    let again = replay
        .submit("/inloggen/passkey", &[("credential", &first)])
        .await;
    refused(&again);
    assert!(!replay.has_session());

    // A registration's answer works once too.
    let (mut owner, _) = (d.browser(), ());
    owner
        .log_in(idp::demo::BRAM, idp::demo::BRAM_PASSWORD)
        .await;
    let page = owner.get("/inloggen/code").await;
    let options = options_in(&page.body, "passkey-tweede-stap");
    let assertion = key.assert(&options, &softkey::Answer::default());
    owner
        .submit("/inloggen/code/passkey", &[("credential", &assertion)])
        .await;
    let page = owner.get("/passkeys").await;
    let options = options_in(&page.body, "passkey-toevoegen");
    let mut spare = SoftKey::new();
    let answer = spare.register(&options, &softkey::Answer::default());
    let added = owner
        .submit("/passkeys", &[("name", "reserve"), ("credential", &answer)])
        .await;
    assert_eq!(added.location(), Some("/passkeys?melding=toegevoegd"));
    let twice = owner
        .submit(
            "/passkeys",
            &[("name", "nog eens"), ("credential", &answer)],
        )
        .await;
    assert_eq!(
        twice.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        twice.body
    );
    let id = bram_id(&d).await;
    assert_eq!(d.directory.staff_passkeys(&id).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_passkey_whose_counter_did_not_advance_is_refused() {
    let d = demo_from("127.0.0.1:50000").await;
    let (_, mut key) = bram_with_passkey(&d).await;
    let (_, answer) = passkey_login(&d, &mut key, &softkey::Answer::default(), None).await;
    assert_eq!(redirected(&answer), "/school-kiezen");
    // A clone of the key, one use behind.
    key.counter -= 1;
    let (b, answer) = passkey_login(&d, &mut key, &softkey::Answer::default(), None).await;
    refused(&answer);
    assert!(!b.has_session());
}

#[tokio::test]
async fn a_passkey_login_claiming_another_account_is_refused_as_any_failure() {
    let d = demo_from("127.0.0.1:50000").await;
    let (_, mut key) = bram_with_passkey(&d).await;
    // Anna's id as user handle, with Bram's credential.
    let other = d
        .directory
        .staff_login(&Email::parse(idp::demo::ANNA).unwrap())
        .await
        .unwrap()
        .unwrap()
        .staff
        .id;
    let handle = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        uuid::Uuid::parse_str(&other).unwrap().as_bytes(),
    );
    let claiming = softkey::Answer {
        user_handle: Some(handle),
        ..Default::default()
    };
    let (b, answer) = passkey_login(&d, &mut key, &claiming, None).await;
    refused(&answer);
    assert!(!b.has_session());
    // An unknown key reads the same.
    let mut stranger = SoftKey::new();
    stranger.user_handle = key.user_handle.clone();
    let (b, unknown) = passkey_login(&d, &mut stranger, &softkey::Answer::default(), None).await;
    refused(&unknown);
    assert!(!b.has_session());
    assert_eq!(
        answer.body.split("<form").next().map(str::len),
        unknown.body.split("<form").next().map(str::len),
        "the same page before the form"
    );
}

#[tokio::test]
async fn a_removed_passkey_no_longer_signs_in() {
    let d = demo_from("127.0.0.1:50000").await;
    let (mut b, mut key) = bram_with_passkey(&d).await;
    let id = bram_id(&d).await;
    let passkey_id = d.directory.staff_passkeys(&id).await.unwrap()[0].id.clone();
    let remove = format!("/passkeys/{passkey_id}/verwijderen");

    // Renaming first: it is the name the list shows.
    let renamed = b
        .submit(
            &format!("/passkeys/{passkey_id}/naam"),
            &[("name", "oude laptop")],
        )
        .await;
    assert_eq!(renamed.location(), Some("/passkeys?melding=hernoemd"));
    assert!(b.get("/passkeys").await.body.contains("oude laptop"));

    // Not without the password.
    for password in ["", "niet-mijn-wachtwoord"] {
        let no = b
            .submit(&remove, &[("password", password), ("code", "")])
            .await;
        assert_eq!(no.status, StatusCode::UNAUTHORIZED, "{}", no.body);
    }
    assert_eq!(d.directory.staff_passkeys(&id).await.unwrap().len(), 1);
    let gone = b
        .submit(
            &remove,
            &[("password", idp::demo::BRAM_PASSWORD), ("code", "")],
        )
        .await;
    assert_eq!(gone.location(), Some("/passkeys?melding=verwijderd"));
    assert!(d.directory.staff_passkeys(&id).await.unwrap().is_empty());
    let audit = d.directory.audit_of_subject(&id, 20).await.unwrap();
    for action in ["staff.passkey.rename", "staff.passkey.remove"] {
        assert!(audit.iter().any(|e| e.action == action), "{action}");
    }

    let (login, answer) = passkey_login(&d, &mut key, &softkey::Answer::default(), None).await;
    refused(&answer);
    assert!(!login.has_session());
    // And the password alone signs in again.
    let mut after = d.browser();
    let login = after
        .log_in(idp::demo::BRAM, idp::demo::BRAM_PASSWORD)
        .await;
    assert_eq!(login.location(), Some("/school-kiezen"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn passkey_login_failures_are_throttled_atomically() {
    let d = demo_from("127.0.0.1:50000").await;
    let (_, mut key) = bram_with_passkey(&d).await;
    let tampered = softkey::Answer {
        tamper_signature: true,
        ..Default::default()
    };
    // 25 logins, each with a challenge of its own, all answered wrongly at the same moment.
    let mut requests = Vec::new();
    for _ in 0..25 {
        let mut b = d.browser();
        let page = b.get("/inloggen/passkey").await;
        let options = options_in(&page.body, "passkey-inloggen");
        let assertion = key.assert(&options, &tampered);
        requests.push(b.form_request("/inloggen/passkey", &[("credential", &assertion)]));
    }
    let statuses = at_once(&d, requests).await;
    let refused = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    // The demo's limit per account is the default: 10 per window.
    assert_eq!((refused, throttled), (10, 15), "{statuses:?}");
    // Locked: the right answer does not get through now.
    let (b, answer) = passkey_login(&d, &mut key, &softkey::Answer::default(), None).await;
    assert_eq!(
        answer.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        answer.body
    );
    assert!(!b.has_session());
}

#[tokio::test]
async fn a_deactivated_staff_members_passkey_signs_nobody_in() {
    let d = demo_from("127.0.0.1:50000").await;
    let (_, mut key) = bram_with_passkey(&d).await;
    let id = bram_id(&d).await;
    d.directory
        .set_staff_status(
            &id,
            directory::people::StaffStatus::Deactivated,
            &Actor::system("test"),
        )
        .await
        .unwrap();
    let (b, answer) = passkey_login(&d, &mut key, &softkey::Answer::default(), None).await;
    refused(&answer);
    assert!(!b.has_session());
}

#[tokio::test]
async fn wrong_passkey_answers_after_the_password_count_on_the_accounts_code_counter() {
    let d = demo_from("127.0.0.1:50000").await;
    let (_, mut key) = bram_with_passkey(&d).await;
    let mut b = d.browser();
    let login = b.log_in(idp::demo::BRAM, idp::demo::BRAM_PASSWORD).await;
    assert_eq!(login.location(), Some("/inloggen/code"), "{}", login.body);
    let tampered = softkey::Answer {
        tamper_signature: true,
        ..Default::default()
    };
    // The demo's limit per account is the default: 10 per window. Each try on a fresh page
    // (the check is taken by the answer, so every page starts a new one).
    let mut statuses = Vec::new();
    for _ in 0..11 {
        let page = b.get("/inloggen/code").await;
        let options = options_in(&page.body, "passkey-tweede-stap");
        let assertion = key.assert(&options, &tampered);
        let answer = b
            .submit("/inloggen/code/passkey", &[("credential", &assertion)])
            .await;
        statuses.push(answer.status.as_u16());
    }
    assert_eq!(statuses[..10], [401; 10], "{statuses:?}");
    assert_eq!(statuses[10], 429, "{statuses:?}");
    // Locked: the right answer does not get through now either.
    let page = b.get("/inloggen/code").await;
    let options = options_in(&page.body, "passkey-tweede-stap");
    let assertion = key.assert(&options, &softkey::Answer::default());
    let answer = b
        .submit("/inloggen/code/passkey", &[("credential", &assertion)])
        .await;
    assert_eq!(
        answer.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        answer.body
    );
    assert!(!b.has_session());
}

#[tokio::test]
async fn passkey_ceremonies_wait_in_redis_and_answer_once_there() {
    let url = std::env::var("TEST_REDIS_URL")
        .expect("TEST_REDIS_URL is not set: run the tests with scripts/test (README)");
    let prefix = format!("passkeys-{}:", uuid::Uuid::new_v4().simple());
    let d = demo_with(
        "127.0.0.1:50000",
        &[
            ("OPENPOORT_SESSIONS_STORE", "redis"),
            ("OPENPOORT_SESSIONS_REDIS_URL", url.as_str()),
            ("OPENPOORT_SESSIONS_REDIS_PREFIX", prefix.as_str()),
        ],
    )
    .await;
    let (_, mut key) = bram_with_passkey(&d).await;
    let mut b = d.browser();
    let page = b.get("/inloggen/passkey").await;
    let options = options_in(&page.body, "passkey-inloggen");
    let assertion = key.assert(&options, &softkey::Answer::default());
    let request = b.form_request("/inloggen/passkey", &[("credential", &assertion)]);
    let again = b.form_request("/inloggen/passkey", &[("credential", &assertion)]);
    let first = d.router.clone().oneshot(request).await.unwrap();
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let second = d.router.clone().oneshot(again).await.unwrap();
    assert_eq!(
        second.status(),
        StatusCode::UNAUTHORIZED,
        "taken by the first"
    );
}

#[tokio::test]
async fn a_passkey_removed_after_the_code_page_was_shown_does_not_finish_the_login() {
    let d = demo_from("127.0.0.1:50000").await;
    let (_, mut key) = bram_with_passkey(&d).await;
    let id = bram_id(&d).await;
    let mut b = d.browser();
    b.log_in(idp::demo::BRAM, idp::demo::BRAM_PASSWORD).await;
    let page = b.get("/inloggen/code").await;
    let options = options_in(&page.body, "passkey-tweede-stap");
    // Removed elsewhere (the owner on another device) while this page was open.
    let passkey_id = d.directory.staff_passkeys(&id).await.unwrap()[0].id.clone();
    assert!(
        d.directory
            .remove_passkey(&id, &passkey_id, &Actor::staff(&id))
            .await
            .unwrap()
    );
    let assertion = key.assert(&options, &softkey::Answer::default());
    let answer = b
        .submit("/inloggen/code/passkey", &[("credential", &assertion)])
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
    assert!(!b.has_session());
}

#[tokio::test]
async fn a_passkey_is_the_second_factor_a_schools_policy_asks_for() {
    let d = demo_from("127.0.0.1:50000").await;
    let (_, mut key) = bram_with_passkey(&d).await;
    d.directory
        .set_school_second_factor_policy(
            &d.seeded.school.id,
            Some(directory::second_factor::SecondFactorPolicy::AllStaff),
            &Actor::system("test"),
        )
        .await
        .unwrap();

    // The password leads to the passkey, not to setting up an app.
    let mut b = d.browser();
    let login = b.log_in(idp::demo::BRAM, idp::demo::BRAM_PASSWORD).await;
    assert_eq!(login.location(), Some("/inloggen/code"), "{}", login.body);
    let page = b.get("/inloggen/code").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let options = options_in(&page.body, "passkey-tweede-stap");
    let assertion = key.assert(&options, &softkey::Answer::default());
    let done = b
        .submit("/inloggen/code/passkey", &[("credential", &assertion)])
        .await;
    assert_eq!(redirected(&done), "/school-kiezen");
    assert!(b.has_session());

    // The passkey alone is a whole login under the policy too.
    let (alone, answer) = passkey_login(&d, &mut key, &softkey::Answer::default(), None).await;
    assert_eq!(redirected(&answer), "/school-kiezen", "{}", answer.body);
    assert!(alone.has_session());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_passkey_challenge_answers_once_also_when_its_answers_arrive_at_the_same_moment() {
    let d = demo_from("127.0.0.1:50000").await;
    let (_, mut key) = bram_with_passkey(&d).await;
    // Three rounds: each leaves two failures on Bram's counter, which stays under the
    // account's limit of 10 (more rounds would meet the throttle, not the single use).
    for round in 0..3 {
        let mut b = d.browser();
        let page = b.get("/inloggen/passkey").await;
        let options = options_in(&page.body, "passkey-inloggen");
        // The same answer twice and a second answer, all to this browser's one ceremony.
        let first = key.assert(&options, &softkey::Answer::default());
        let second = key.assert(&options, &softkey::Answer::default());
        let requests = [&first, &first, &second]
            .iter()
            .map(|a| b.form_request("/inloggen/passkey", &[("credential", a)]))
            .collect();
        let mut statuses = at_once(&d, requests).await;
        statuses.sort_unstable();
        assert_eq!(statuses, [303, 401, 401], "round {round}: one login");
    }
}
