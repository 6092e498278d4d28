//! A staff member's second factor (issue #21) through the real router, in process: setting up
//! an authenticator app, the login that waits for its code, single-use codes and recovery
//! codes (also when submitted at the same moment), throttling of wrong codes, and removal.

mod support;

use axum::http::StatusCode;
use directory::model::Email;

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

/// Bram, signed in with his password and with an authenticator set up.
async fn enrolled_bram(d: &Demo) -> (Browser<'_>, idp::totp::TotpSecret, Vec<String>) {
    let mut b = d.browser();
    b.log_in(idp::demo::BRAM, idp::demo::BRAM_PASSWORD).await;
    let (secret, codes) = b.set_up_authenticator().await;
    (b, secret, codes)
}

/// A new browser that got past Bram's password: its login waits for the code.
async fn waiting_for_code(d: &Demo) -> Browser<'_> {
    let mut b = d.browser();
    let login = b.log_in(idp::demo::BRAM, idp::demo::BRAM_PASSWORD).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
    assert_eq!(login.location(), Some("/inloggen/code"));
    assert!(!b.has_session(), "the password alone opens no session");
    let page = b.get("/inloggen/code").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    b
}

/// Two logins past Bram's password, `code` typed into both at the same moment: their statuses,
/// in order (one login and one refusal is what a single-use code gives).
async fn two_logins_at_once(d: &Demo, code: &str) -> Vec<u16> {
    let logins = [waiting_for_code(d).await, waiting_for_code(d).await];
    let requests = logins
        .iter()
        .map(|b| b.form_request("/inloggen/code", &[("code", code)]))
        .collect();
    let mut statuses = at_once(d, requests).await;
    statuses.sort_unstable();
    statuses
}

#[tokio::test]
async fn a_staff_member_with_an_authenticator_is_not_signed_in_by_the_password_alone() {
    let d = demo_from("127.0.0.1:50000").await;
    let (_, secret, _) = enrolled_bram(&d).await;
    let id = bram_id(&d).await;
    let enrolled = d.directory.staff_second_factor(&id).await.unwrap();
    assert_eq!(enrolled.expect("stored").recovery_codes_left, 10);

    let mut b = waiting_for_code(&d).await;
    let beheer = b.get("/tweestapsverificatie").await;
    assert_eq!(beheer.location(), Some("/inloggen"), "no session yet");
    let wrong = b
        .submit("/inloggen/code", &[("code", &not_a_code_now(&secret))])
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.body);
    assert!(!b.has_session());

    // The right code, typed in another browser that never gave the password, signs nobody in.
    let mut other = d.browser();
    other.get("/inloggen").await;
    let elsewhere = other
        .submit("/inloggen/code", &[("code", &code_now(&secret, 1))])
        .await;
    assert_eq!(
        elsewhere.location(),
        Some("/inloggen?melding=code-verlopen")
    );
    assert!(!other.has_session());

    let done = b
        .submit("/inloggen/code", &[("code", &code_now(&secret, 1))])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), Some("/school-kiezen"));
    assert!(b.has_session());
    assert!(
        !b.cookies.iter().any(|(n, _)| n.ends_with("2fa")),
        "the waiting login's cookie is cleared"
    );
    // The same login cannot be finished twice.
    let again = b
        .submit("/inloggen/code", &[("code", &code_now(&secret, -1))])
        .await;
    assert_eq!(again.location(), Some("/inloggen?melding=code-verlopen"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_authenticator_code_works_once_also_when_submitted_twice_at_the_same_moment() {
    let d = demo_from("127.0.0.1:50000").await;
    let (_, secret, _) = enrolled_bram(&d).await;

    // Two logins waiting, one code typed into both at the same moment. (A step after the
    // set-up's, whose code is spent.)
    let code = code_now(&secret, 1);
    assert_eq!(two_logins_at_once(&d, &code).await, [303, 401]);

    // Used, and typed again in a later login.
    let mut later = waiting_for_code(&d).await;
    let replay = later.submit("/inloggen/code", &[("code", &code)]).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED, "a used code");
    assert!(!later.has_session());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_recovery_code_finishes_one_login_also_when_used_twice_at_the_same_moment() {
    let d = demo_from("127.0.0.1:50000").await;
    let (_, _, codes) = enrolled_bram(&d).await;
    let id = bram_id(&d).await;

    // Typed as people type it: lower case, with spaces for dashes.
    let typed = codes[0].to_lowercase().replace('-', " ");
    assert_eq!(two_logins_at_once(&d, &typed).await, [303, 401]);

    let mut later = waiting_for_code(&d).await;
    let used = later.submit("/inloggen/code", &[("code", &codes[0])]).await;
    assert_eq!(
        used.status,
        StatusCode::UNAUTHORIZED,
        "a used recovery code"
    );
    let next = later.submit("/inloggen/code", &[("code", &codes[1])]).await;
    assert_eq!(next.status, StatusCode::SEE_OTHER, "{}", next.body);
    let factor = d.directory.staff_second_factor(&id).await.unwrap().unwrap();
    assert_eq!(factor.recovery_codes_left, 8);
    let audit = d.directory.audit_of_subject(&id, 50).await.unwrap();
    let uses = audit
        .iter()
        .filter(|e| e.action == "staff.second_factor.recovery_code")
        .count();
    assert_eq!(uses, 2, "each use audited once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_codes_are_counted_before_the_check_so_parallel_guesses_get_no_more_than_the_limit() {
    let d = demo_from("127.0.0.1:50000").await;
    let (_, secret, _) = enrolled_bram(&d).await;
    let mut b = waiting_for_code(&d).await;
    let wrong = not_a_code_now(&secret);
    let requests = (0..25)
        .map(|_| b.form_request("/inloggen/code", &[("code", &wrong)]))
        .collect();
    let statuses = at_once(&d, requests).await;
    // The demo's limit per account is the default: 10 per window.
    let refused = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((refused, throttled), (10, 15), "{statuses:?}");
    // Locked: not even the right code gets through now.
    let right = b
        .submit("/inloggen/code", &[("code", &code_now(&secret, 1))])
        .await;
    assert_eq!(
        right.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        right.body
    );
    assert!(!b.has_session());
}

#[tokio::test]
async fn removing_the_authenticator_needs_the_password_or_a_current_code() {
    let d = demo_from("127.0.0.1:50000").await;
    let (mut b, secret, _) = enrolled_bram(&d).await;
    let id = bram_id(&d).await;
    let page = b.get("/tweestapsverificatie").await;
    assert!(
        page.body.contains("Ongebruikte herstelcodes: 10"),
        "{}",
        page.body
    );

    for fields in [
        [("password", "niet-mijn-wachtwoord"), ("code", "")],
        [("password", ""), ("code", "")],
    ] {
        let refused = b.submit("/tweestapsverificatie/verwijderen", &fields).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    }
    let wrong_code = not_a_code_now(&secret);
    let refused = b
        .submit(
            "/tweestapsverificatie/verwijderen",
            &[("password", ""), ("code", &wrong_code)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    assert!(
        d.directory
            .staff_second_factor(&id)
            .await
            .unwrap()
            .is_some()
    );

    let removed = b
        .submit(
            "/tweestapsverificatie/verwijderen",
            &[("password", idp::demo::BRAM_PASSWORD), ("code", "")],
        )
        .await;
    assert_eq!(
        removed.location(),
        Some("/tweestapsverificatie?melding=verwijderd")
    );
    assert!(
        d.directory
            .staff_second_factor(&id)
            .await
            .unwrap()
            .is_none()
    );
    let audit = d.directory.audit_of_subject(&id, 50).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "staff.second_factor.remove")
    );
    // And the password alone signs in again.
    let mut after = d.browser();
    let login = after
        .log_in(idp::demo::BRAM, idp::demo::BRAM_PASSWORD)
        .await;
    assert_eq!(login.location(), Some("/school-kiezen"));
    assert!(after.has_session());

    // Set up again, it can be removed with a current code as well.
    let (secret, _) = b.set_up_authenticator().await;
    let removed = b
        .submit(
            "/tweestapsverificatie/verwijderen",
            &[("password", ""), ("code", &code_now(&secret, 1))],
        )
        .await;
    assert_eq!(
        removed.location(),
        Some("/tweestapsverificatie?melding=verwijderd")
    );
}
