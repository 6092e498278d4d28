//! prompt=none, prompt=login and max_age: when a session will do, and re-logins not to be skipped.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use openpoort_e2e::{
    BRAM, Browser, authorize_url, bram_signed_in, choose_99zz00, log_in_as_bram, pkce,
};

use crate::common::{
    Demo, PUBLISHER, REDIRECT, back_at_client, code_for, demo, peek, query, request_url, unix_now,
};

/// Waits until the wall clock enters its next second (at most one second). openpoort measures
/// session ages in whole seconds; this is how a test lets the time a person takes (to read a
/// page, to choose a school) pass without guessing a duration.
async fn next_second() {
    let start = unix_now();
    let deadline = Instant::now() + Duration::from_millis(1_500);
    while unix_now() == start {
        assert!(Instant::now() < deadline, "the clock does not advance");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// An authorization request of rp-silent-app with prompt=none in `b`: its answer at the
/// client, which must come without a page shown.
async fn silent_request(d: &Demo, b: &mut Browser) -> HashMap<String, String> {
    let (_, challenge) = pkce();
    let page = b
        .get(&request_url(
            d,
            "rp-silent-app",
            "stil",
            &challenge,
            &[("prompt", "none")],
        ))
        .await;
    back_at_client(&page)
}

#[tokio::test]
async fn prompt_none_without_session_returns_login_required() {
    let d = demo();
    d.confidential_client("rp-silent-app");
    let mut b = d.browser();
    let q = silent_request(&d, &mut b).await;
    assert_eq!(
        q.get("error").map(String::as_str),
        Some("login_required"),
        "{q:?}"
    );
    assert_eq!(q["state"], "stil");
    assert_eq!(q["iss"], d.base());
    assert!(!q.contains_key("code"));

    // With a session, prompt=none simply gets a code.
    let mut b = bram_signed_in(d.base()).await;
    code_for(&d, &mut b, "rp-silent-app", &[("prompt", "none")]).await;
}

#[tokio::test]
async fn prompt_none_never_shows_the_school_choice() {
    let d = demo();
    d.confidential_client("rp-silent-app");
    let mut b = d.browser();
    let done = log_in_as_bram(&mut b, "/inloggen").await;
    assert_eq!(
        done.location(),
        Some("/school-kiezen"),
        "Bram has not chosen a school yet"
    );
    let q = silent_request(&d, &mut b).await;
    assert!(
        matches!(
            q.get("error").map(String::as_str),
            Some("account_selection_required" | "interaction_required")
        ),
        "{q:?}"
    );
}

#[tokio::test]
async fn prompt_login_forces_a_new_login_even_with_a_session() {
    let d = demo();
    let secret = d.confidential_client("rp-strict-app");
    let mut b = bram_signed_in(d.base()).await;
    let sid_of = |code: String, verifier: String| {
        let (d, secret) = (&d, &secret);
        async move {
            let (status, body) = d.redeem("rp-strict-app", secret, &code, &verifier).await;
            assert_eq!(status, 200, "{body}");
            peek(body["id_token"].as_str().unwrap())
        }
    };
    let (code, verifier) = code_for(&d, &mut b, "rp-strict-app", &[]).await;
    let before = sid_of(code, verifier).await;
    let old_cookie = b.cookies.get("openpoort").cloned();

    let (verifier, challenge) = pkce();
    let request_time = unix_now();
    let page = b
        .get(&request_url(
            &d,
            "rp-strict-app",
            "opnieuw",
            &challenge,
            &[("prompt", "login"), ("login_hint", BRAM)],
        ))
        .await;
    let login = page
        .location()
        .unwrap_or_else(|| panic!("{}", page.body))
        .to_owned();
    assert!(
        login.starts_with("/inloggen?next="),
        "a login although signed in: {login}"
    );
    let form = b.get(&login).await;
    assert!(
        form.body.contains(&format!("value=\"{BRAM}\"")),
        "login_hint fills in the address"
    );

    let done = log_in_as_bram(&mut b, &login).await;
    let choose = done.location().unwrap().to_owned();
    let back = choose_99zz00(&mut b, &choose).await;
    let q = back_at_client(&b.get(back.location().unwrap()).await);
    assert_eq!(q["state"], "opnieuw");
    assert_ne!(
        b.cookies.get("openpoort"),
        old_cookie.as_ref(),
        "a new session"
    );
    let after = sid_of(q["code"].clone(), verifier).await;
    assert_ne!(
        after["sid"], before["sid"],
        "the code comes from the new login"
    );
    assert!(after["auth_time"].as_i64().unwrap() >= request_time);
}

#[tokio::test]
async fn max_age_zero_forces_login() {
    let d = demo();
    let secret = d.confidential_client("rp-fresh-app");
    let mut b = bram_signed_in(d.base()).await;
    let old_cookie = b.cookies.get("openpoort").cloned();
    // The session is at least a second old: max_age=0 cannot be met by it.
    next_second().await;

    let (verifier, challenge) = pkce();
    let request_time = unix_now();
    let page = b
        .get(&request_url(
            &d,
            "rp-fresh-app",
            "vers",
            &challenge,
            &[("max_age", "0")],
        ))
        .await;
    let login = page
        .location()
        .unwrap_or_else(|| panic!("{}", page.body))
        .to_owned();
    assert!(
        login.starts_with("/inloggen?next="),
        "max_age=0 asks for a login: {login}"
    );
    let done = log_in_as_bram(&mut b, &login).await;
    assert_ne!(
        b.cookies.get("openpoort"),
        old_cookie.as_ref(),
        "a new session"
    );
    let choose = done.location().unwrap().to_owned();
    assert!(choose.starts_with("/school-kiezen?next="), "{choose}");
    // Bram takes a moment to choose his school.
    next_second().await;
    let back = choose_99zz00(&mut b, &choose).await;
    let page = b.get(back.location().unwrap()).await;
    let q = back_at_client(&page);
    assert_eq!(q["state"], "vers");
    let (status, body) = d
        .redeem("rp-fresh-app", &secret, &q["code"], &verifier)
        .await;
    assert_eq!(status, 200, "{body}");
    let claims = peek(body["id_token"].as_str().unwrap());
    assert!(claims["auth_time"].as_i64().unwrap() >= request_time);
}

#[tokio::test]
async fn prompt_login_cannot_be_skipped_with_a_forged_op_login_after() {
    let d = demo();
    d.confidential_client("rp-strict-app");
    let mut b = bram_signed_in(d.base()).await;
    let (_, challenge) = pkce();
    let page = b
        .get(&request_url(
            &d,
            "rp-strict-app",
            "opnieuw",
            &challenge,
            &[("prompt", "login"), ("op_login_after", "0")],
        ))
        .await;
    let location = page.location().unwrap_or_default();
    assert!(
        location.starts_with("/inloggen?"),
        "prompt=login must ask for a login, got {} {location}",
        page.status
    );
}

#[tokio::test]
async fn prompt_none_never_shows_the_denial_page() {
    let d = demo();
    d.confidential_client("rp-silent-app");
    let mut b = bram_signed_in(d.base()).await;
    d.cli(&[
        "consent", "revoke", "--school", "99ZZ00", "--party", PUBLISHER,
    ]);
    let q = silent_request(&d, &mut b).await;
    // The school's consent is what is missing: OIDC Core 3.1.2.6's consent_required.
    assert_eq!(
        q.get("error").map(String::as_str),
        Some("consent_required"),
        "{q:?}"
    );
    assert_eq!(q["state"], "stil");
}

/// The marker name and the URL to come back to, out of a login redirect that a forced
/// re-login produced.
fn reauth_of(login: &str) -> (String, String) {
    let next = query(&format!("http://x{login}"))["next"].clone();
    let marker = query(&format!("http://x{next}"))["op_reauth"].clone();
    (marker, next)
}

fn strict_request(challenge: &str, state: &str) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", "rp-strict-app".into()),
        ("redirect_uri", REDIRECT.into()),
        ("scope", "openid".into()),
        ("state", state.into()),
        ("prompt", "login".into()),
        ("code_challenge", challenge.into()),
        ("code_challenge_method", "S256".into()),
    ]
}

fn url_of(d: &Demo, params: &[(&'static str, String)]) -> String {
    let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    authorize_url(d.base(), &pairs)
}

#[tokio::test]
async fn a_reauth_marker_from_another_browser_does_not_skip_prompt_login() {
    let d = demo();
    d.confidential_client("rp-strict-app");
    let (_, challenge) = pkce();
    // Someone else's browser starts the very same request and gets a marker for it.
    let mut other = d.browser();
    let page = other
        .get(&url_of(&d, &strict_request(&challenge, "opnieuw")))
        .await;
    let (_, next) = reauth_of(page.location().expect("a login"));
    // Bram signs in afterwards; the other browser's URL, marker and all, must not stand in for
    // the login prompt=login asks of him.
    let mut b = bram_signed_in(d.base()).await;
    let page = b.get(&d.url(&next)).await;
    let location = page.location().unwrap_or_default();
    assert!(
        location.starts_with("/inloggen?"),
        "a foreign marker skipped prompt=login: {} {location}",
        page.status
    );
}

#[tokio::test]
async fn a_reauth_marker_for_another_request_does_not_skip_prompt_login() {
    let d = demo();
    d.confidential_client("rp-strict-app");
    let mut b = bram_signed_in(d.base()).await;
    let (_, challenge) = pkce();
    let page = b.get(&url_of(&d, &strict_request(&challenge, "een"))).await;
    let login = page.location().expect("a login").to_owned();
    let (marker, _) = reauth_of(&login);
    // Bram logs in again (a session newer than the marker) and picks his school.
    let done = log_in_as_bram(&mut b, "/inloggen").await;
    assert_eq!(done.location(), Some("/school-kiezen"), "{}", done.body);
    choose_99zz00(&mut b, "/school-kiezen").await;
    // Another request (another state) with that marker is not the login it asks for.
    let mut other = strict_request(&challenge, "twee");
    other.push(("op_reauth", marker));
    let page = b.get(&url_of(&d, &other)).await;
    let location = page.location().unwrap_or_default();
    assert!(
        location.starts_with("/inloggen?"),
        "a marker of another request skipped prompt=login: {} {location}",
        page.status
    );
}

#[tokio::test]
async fn forced_login_markers_per_address_are_capped() {
    let d = demo();
    d.confidential_client("rp-strict-app");
    let (_, challenge) = pkce();
    let url = url_of(&d, &strict_request(&challenge, "vloed"));
    // Nobody signed in: every request makes openpoort store a marker. The cap is 1,000 per
    // address per marker lifetime; spend it from several connections at once.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (mut flooder, url) = (d.browser(), url.clone());
        tasks.spawn(async move {
            let mut statuses = Vec::new();
            for _ in 0..125 {
                statuses.push(flooder.get(&url).await.status);
            }
            statuses
        });
    }
    let mut issued = 0;
    while let Some(statuses) = tasks.join_next().await {
        issued += statuses.unwrap().iter().filter(|s| **s == 303).count();
    }
    assert_eq!(issued, 1_000);
    let page = d.browser().get(&url).await;
    assert_eq!(page.status, 429, "{}", page.body);
    assert!(
        page.body.contains("te veel inlogverzoeken"),
        "{}",
        page.body
    );
}
