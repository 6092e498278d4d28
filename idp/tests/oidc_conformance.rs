//! What strict relying parties expect of the OpenID Connect provider (issue #20, item 1), in
//! process: scopes, prompt values, response modes, acr_values, CORS and the error texts.

mod support;

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use directory::Actor;
use serde_json::{Value, json};

use support::publisher::query_of;
use support::*;

const SPA: &str = "rekenrijk-spa";
const SPA_ORIGIN: &str = "https://spa.rekenrijk.example";
const SPA_REDIRECT: &str = "https://spa.rekenrijk.example/callback";
const SERVER: &str = "rekenrijk-server";
const SERVER_REDIRECT: &str = "https://rekenrijk.example/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Registers a client of the demo publisher; returns its secret, if it has one.
async fn register(d: &Demo, client_id: &str, extra: Value) -> Option<String> {
    let publisher = d.party("demo-uitgeverij").await;
    let mut registration = json!({
        "client_id": client_id,
        "party_id": publisher.id,
        "name": "Rekenrijk",
        "redirect_uris": [SPA_REDIRECT],
        "grant_types": ["authorization_code"],
        "scopes": ["openid"],
        "token_endpoint_auth_method": "none",
    });
    for (k, v) in extra.as_object().unwrap() {
        registration[k] = v.clone();
    }
    let registration: metadata::client::ClientRegistration =
        serde_json::from_value(registration).unwrap();
    idp::clients::Registrar::on_server(&Actor::system("test"))
        .register(&d.directory, &registration, true)
        .await
        .unwrap()
}

/// The public browser client (PKCE, refresh tokens allowed).
async fn spa(d: &Demo) {
    register(
        d,
        SPA,
        json!({"grant_types": ["authorization_code", "refresh_token"]}),
    )
    .await;
}

/// An authorization request of `client_id` to `redirect`, with `extra` appended.
fn authorize(client_id: &str, redirect: &str, extra: &str) -> String {
    let challenge = URL_SAFE_NO_PAD.encode(openssl::sha::sha256(VERIFIER.as_bytes()));
    format!(
        "/oidc/authorize?response_type=code&client_id={client_id}&redirect_uri={}&state=st4te\
         &nonce=n0nce&code_challenge={challenge}&code_challenge_method=S256{extra}",
        enc(redirect)
    )
}

/// Bram, signed in with his school chosen.
async fn bram(d: &Demo) -> Browser<'_> {
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

/// The client's answer at its redirect URI (query mode).
fn answer_at(a: &Answer, redirect: &str) -> HashMap<String, String> {
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let to = a.location().expect("a Location");
    assert!(to.starts_with(&format!("{redirect}?")), "{to}");
    query_of(to)
}

async fn post(d: &Demo, path: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> Answer {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut request =
        Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    d.send(request.body(Body::from(body)).unwrap()).await
}

/// The SPA's authorization request with `extra`, answered to its redirect URI: the query.
async fn spa_answer(b: &mut Browser<'_>, extra: &str) -> HashMap<String, String> {
    answer_at(
        &b.get(&authorize(SPA, SPA_REDIRECT, extra)).await,
        SPA_REDIRECT,
    )
}

/// Redeems the SPA's code as the browser app would, from `origin`.
async fn redeem(d: &Demo, code: &str, origin: &str) -> Answer {
    post(
        d,
        "/oidc/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", SPA_REDIRECT),
            ("client_id", SPA),
            ("code_verifier", VERIFIER),
        ],
        &[("origin", origin)],
    )
    .await
}

fn json_of(a: &Answer) -> Value {
    serde_json::from_str(&a.body).unwrap_or_else(|e| panic!("{e}: {}", a.body))
}

fn claims(id_token: &str) -> Value {
    let payload = id_token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

// Scopes.

#[tokio::test]
async fn unknown_scope_values_are_ignored_and_the_token_names_what_was_granted() {
    let d = demo_from("127.0.0.1:50000").await;
    spa(&d).await;
    let mut b = bram(&d).await;
    let q = spa_answer(&mut b, "&scope=openid%20address%20urn:other:thing").await;
    let tokens = json_of(&redeem(&d, &q["code"], SPA_ORIGIN).await);
    assert_eq!(tokens["scope"], "openid", "{tokens}");
}

#[tokio::test]
async fn a_known_scope_the_client_did_not_register_is_refused() {
    let d = demo_from("127.0.0.1:50000").await;
    spa(&d).await;
    let mut b = bram(&d).await;
    let q = spa_answer(&mut b, "&scope=openid%20email").await;
    assert_eq!(q["error"], "invalid_scope", "{q:?}");
    assert!(q["error_description"].contains("email"), "{q:?}");
    assert!(!q.contains_key("code"));
}

#[tokio::test]
async fn offline_access_is_granted_to_a_client_allowed_refresh_tokens_only() {
    let d = demo_from("127.0.0.1:50000").await;
    spa(&d).await;
    register(
        &d,
        "rekenrijk-kort",
        json!({"redirect_uris": [SERVER_REDIRECT]}),
    )
    .await;
    let mut b = bram(&d).await;
    let q = spa_answer(&mut b, "&scope=openid%20offline_access").await;
    let tokens = json_of(&redeem(&d, &q["code"], SPA_ORIGIN).await);
    assert_eq!(tokens["scope"], "openid offline_access", "{tokens}");
    assert!(tokens["refresh_token"].is_string(), "{tokens}");

    // A client without refresh tokens is answered as if it had not asked (OIDC Core 11).
    let q = answer_at(
        &b.get(&authorize(
            "rekenrijk-kort",
            SERVER_REDIRECT,
            "&scope=openid%20offline_access",
        ))
        .await,
        SERVER_REDIRECT,
    );
    let a = post(
        &d,
        "/oidc/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &q["code"]),
            ("redirect_uri", SERVER_REDIRECT),
            ("client_id", "rekenrijk-kort"),
            ("code_verifier", VERIFIER),
        ],
        &[],
    )
    .await;
    let tokens = json_of(&a);
    assert_eq!(tokens["scope"], "openid", "{tokens}");
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
}

#[tokio::test]
async fn a_client_credentials_token_without_scopes_has_no_scope_member() {
    let d = demo_from("127.0.0.1:50000").await;
    let secret = register(
        &d,
        "rekenrijk-sync",
        json!({
            "redirect_uris": [],
            "grant_types": ["client_credentials"],
            "scopes": ["school"],
            "token_endpoint_auth_method": "client_secret_post",
        }),
    )
    .await
    .expect("a secret");
    let token = |scope: &'static str| {
        let (d, secret) = (&d, &secret);
        async move {
            json_of(
                &post(
                    d,
                    "/oidc/token",
                    &[
                        ("grant_type", "client_credentials"),
                        ("client_id", "rekenrijk-sync"),
                        ("client_secret", secret),
                        ("scope", scope),
                    ],
                    &[],
                )
                .await,
            )
        }
    };
    let none = token("").await;
    assert!(none["access_token"].is_string(), "{none}");
    assert!(none.get("scope").is_none(), "{none}");
    // An unknown value asks for nothing; a registered one is named.
    let some = token("school urn:other:thing").await;
    assert_eq!(some["scope"], "school", "{some}");
}

// Client authentication.

#[tokio::test]
async fn invalid_client_names_the_method_the_client_is_registered_for() {
    let d = demo_from("127.0.0.1:50000").await;
    register(
        &d,
        SERVER,
        json!({
            "redirect_uris": [SERVER_REDIRECT],
            "token_endpoint_auth_method": "client_secret_basic",
        }),
    )
    .await
    .expect("a secret");
    // The secret in the form, as client_secret_post would send it.
    let a = post(
        &d,
        "/oidc/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("client_id", SERVER),
            ("client_secret", "geheim"),
        ],
        &[],
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.body);
    let body = json_of(&a);
    assert_eq!(body["error"], "invalid_client");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("registered for client_secret_basic"),
        "{body}"
    );
}

// Errors shown to the user.

#[tokio::test]
async fn an_unregistered_redirect_uri_is_shown_with_the_registered_ones_and_never_followed() {
    let d = demo_from("127.0.0.1:50000").await;
    spa(&d).await;
    let a = d
        .get(&authorize(
            SPA,
            "https://aanvaller.example/cb?<b>x</b>",
            "&scope=openid",
        ))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(a.location().is_none(), "{:?}", a.location());
    let shown = a.body.replace("&#x2f;", "/").replace("&#47;", "/");
    assert!(shown.contains("https://aanvaller.example/cb"), "{shown}");
    assert!(shown.contains(SPA_REDIRECT), "the registered URI: {shown}");
    assert!(!a.body.contains("<b>x</b>"), "unescaped: {}", a.body);
    assert!(shown.contains("niet geregistreerd") && shown.contains("not registered"));

    let a = d
        .get(&authorize(
            "onbekende-client",
            SPA_REDIRECT,
            "&scope=openid",
        ))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(a.body.contains("onbekende-client"), "{}", a.body);
}

// prompt.

#[tokio::test]
async fn prompt_consent_is_answered_by_the_schools_consent() {
    let d = demo_from("127.0.0.1:50000").await;
    spa(&d).await;
    let mut b = bram(&d).await;
    let q = spa_answer(&mut b, "&scope=openid&prompt=consent").await;
    assert!(q.contains_key("code"), "{q:?}");
}

#[tokio::test]
async fn prompt_none_without_the_schools_consent_is_consent_required() {
    let d = demo_from("127.0.0.1:50000").await;
    spa(&d).await;
    let mut b = bram(&d).await;
    d.withdraw_consent("demo-uitgeverij").await;
    let q = spa_answer(&mut b, "&scope=openid&prompt=none").await;
    assert_eq!(q["error"], "consent_required", "{q:?}");
    // Interactively, the user reads why.
    let a = b
        .get(&authorize(
            SPA,
            SPA_REDIRECT,
            "&scope=openid&prompt=consent",
        ))
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
}

#[tokio::test]
async fn prompt_select_account_lets_staff_of_several_schools_choose_again() {
    let d = demo_from("127.0.0.1:50000").await;
    spa(&d).await;
    let mut b = bram(&d).await;
    let a = b
        .get(&authorize(
            SPA,
            SPA_REDIRECT,
            "&scope=openid&prompt=select_account",
        ))
        .await;
    let to = a.location().expect("a redirect").to_owned();
    assert!(to.starts_with("/school-kiezen?next="), "{to}");
    // After the choice the request goes on, without asking again.
    let next = query_of(&to)["next"].clone();
    assert!(!next.contains("select_account"), "{next}");
    let school = d.seeded.school.id.clone();
    let chosen = b
        .submit(
            "/school-kiezen",
            &[("school_id", school.as_str()), ("next", next.as_str())],
        )
        .await;
    let back = b.get(chosen.location().unwrap()).await;
    assert!(answer_at(&back, SPA_REDIRECT).contains_key("code"));
}

#[tokio::test]
async fn prompt_none_when_a_school_must_be_chosen_is_account_selection_required() {
    let d = demo_from("127.0.0.1:50000").await;
    spa(&d).await;
    let mut b = d.browser();
    b.log_in(idp::demo::BRAM, idp::demo::BRAM_PASSWORD).await;
    let q = spa_answer(&mut b, "&scope=openid&prompt=none").await;
    assert_eq!(q["error"], "account_selection_required", "{q:?}");
}

#[tokio::test]
async fn an_unknown_prompt_value_is_refused_and_none_stands_alone() {
    let d = demo_from("127.0.0.1:50000").await;
    spa(&d).await;
    let mut b = bram(&d).await;
    for prompt in ["create", "none%20consent"] {
        let q = answer_at(
            &b.get(&authorize(
                SPA,
                SPA_REDIRECT,
                &format!("&scope=openid&prompt={prompt}"),
            ))
            .await,
            SPA_REDIRECT,
        );
        assert_eq!(q["error"], "invalid_request", "{prompt}: {q:?}");
    }
}

// response_mode.

#[tokio::test]
async fn response_mode_form_post_posts_the_answer_to_the_redirect_uri() {
    let d = demo_from("127.0.0.1:50000").await;
    spa(&d).await;
    let mut b = bram(&d).await;
    let a = b
        .get(&authorize(
            SPA,
            SPA_REDIRECT,
            "&scope=openid&response_mode=form_post",
        ))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.location().is_none());
    assert_eq!(a.headers[header::CACHE_CONTROL], "no-store");
    let policy = a.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        policy.contains(&format!("form-action {SPA_ORIGIN};")),
        "{policy}"
    );
    assert!(policy.contains("script-src 'sha256-"), "{policy}");
    let body = a.body.replace("&#x2f;", "/").replace("&#47;", "/");
    assert!(
        body.contains(&format!("action=\"{SPA_REDIRECT}\"")),
        "{body}"
    );
    assert!(body.contains("name=\"code\""), "{body}");
    assert!(body.contains("name=\"state\" value=\"st4te\""), "{body}");
    assert!(body.contains("name=\"iss\""), "{body}");
    // The code is in no URL.
    assert!(!body.contains("code="), "{body}");
}

#[tokio::test]
async fn a_refusal_in_form_post_mode_goes_back_to_the_client_by_a_form() {
    let d = demo_from("127.0.0.1:50000").await;
    spa(&d).await;
    let mut b = bram(&d).await;
    d.withdraw_consent("demo-uitgeverij").await;
    let a = b
        .get(&authorize(
            SPA,
            SPA_REDIRECT,
            "&scope=openid&response_mode=form_post",
        ))
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    let policy = a.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        policy.contains(&format!("form-action {SPA_ORIGIN};")),
        "{policy}"
    );
    let body = a.body.replace("&#x2f;", "/").replace("&#47;", "/");
    assert!(
        body.contains(&format!("<form method=\"post\" action=\"{SPA_REDIRECT}\">")),
        "{body}"
    );
    assert!(
        body.contains("name=\"error\" value=\"access_denied\""),
        "{body}"
    );
    // Not as a link: the client asked for its answer in a POST.
    assert!(!body.contains("error=access_denied"), "{body}");
}

#[tokio::test]
async fn an_unsupported_response_mode_is_refused_not_ignored() {
    let d = demo_from("127.0.0.1:50000").await;
    spa(&d).await;
    let mut b = bram(&d).await;
    let q = spa_answer(&mut b, "&scope=openid&response_mode=fragment").await;
    assert_eq!(q["error"], "invalid_request", "{q:?}");
    assert!(q["error_description"].contains("fragment"), "{q:?}");
    assert!(!q.contains_key("code"));
}

#[tokio::test]
async fn discovery_names_the_response_modes_and_prompt_values() {
    let d = demo_from("127.0.0.1:50000").await;
    let doc = json_of(&d.get("/.well-known/openid-configuration").await);
    assert_eq!(
        doc["response_modes_supported"],
        json!(["query", "form_post"])
    );
    assert_eq!(
        doc["prompt_values_supported"],
        json!(["none", "login", "consent", "select_account"])
    );
    assert!(
        doc["scopes_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("offline_access"))
    );
}

// acr_values.

#[tokio::test]
async fn acr_values_the_session_meets_are_answered_at_once() {
    let d = demo_from("127.0.0.1:50000").await;
    spa(&d).await;
    let mut b = bram(&d).await;
    let q = answer_at(
        &b.get(&authorize(
            SPA,
            SPA_REDIRECT,
            &format!(
                "&scope=openid&prompt=none&acr_values={}",
                enc(&format!(
                    "urn:other:gold {}",
                    metadata::discovery::ACR_PASSWORD
                ))
            ),
        ))
        .await,
        SPA_REDIRECT,
    );
    let tokens = json_of(&redeem(&d, &q["code"], SPA_ORIGIN).await);
    assert_eq!(
        claims(tokens["id_token"].as_str().unwrap())["acr"],
        metadata::discovery::ACR_PASSWORD
    );
}

/// A request for the class `acr` that the session does not meet: `login_required` without the
/// user, the login page with them.
async fn a_new_login_is_asked_for(b: &mut Browser<'_>, acr: &str) {
    let acr = enc(acr);
    let q = spa_answer(b, &format!("&scope=openid&prompt=none&acr_values={acr}")).await;
    assert_eq!(q["error"], "login_required", "{q:?}");
    let a = b
        .get(&authorize(
            SPA,
            SPA_REDIRECT,
            &format!("&scope=openid&acr_values={acr}"),
        ))
        .await;
    let to = a.location().unwrap_or_default();
    assert!(to.starts_with("/inloggen?"), "{} {to}", a.status);
}

#[tokio::test]
async fn acr_values_the_session_does_not_meet_ask_for_a_new_login() {
    let d = demo_from("127.0.0.1:50000").await;
    spa(&d).await;
    let mut b = bram(&d).await;
    a_new_login_is_asked_for(&mut b, metadata::discovery::ACR_HOME_CODE).await;
    // Values openpoort never issues ask for nothing.
    let q = spa_answer(
        &mut b,
        "&scope=openid&prompt=none&acr_values=urn:other:gold",
    )
    .await;
    assert!(q.contains_key("code"), "{q:?}");
}

/// Bram with an authenticator set up, signed in again with his password and a recovery code
/// (so that no code of the app is spent but the set-up's); and his app's secret. The browser of
/// the set-up (a password-only session) is the first.
async fn bram_with_second_factor(d: &Demo) -> (Browser<'_>, Browser<'_>, idp::totp::TotpSecret) {
    let mut before = bram(d).await;
    let (secret, recovery) = before.set_up_authenticator().await;
    let mut b = d.browser();
    let login = b.log_in(idp::demo::BRAM, idp::demo::BRAM_PASSWORD).await;
    assert_eq!(login.location(), Some("/inloggen/code"), "{}", login.body);
    b.get("/inloggen/code").await;
    let done = b.submit("/inloggen/code", &[("code", &recovery[0])]).await;
    assert_eq!(done.location(), Some("/school-kiezen"), "{}", done.body);
    b.get("/school-kiezen").await;
    let school = d.seeded.school.id.clone();
    b.submit("/school-kiezen", &[("school_id", school.as_str())])
        .await;
    (before, b, secret)
}

fn id_claims(tokens: &Value) -> Value {
    claims(tokens["id_token"].as_str().unwrap())
}

#[tokio::test]
async fn the_id_token_names_the_password_and_the_one_time_code_after_a_second_factor() {
    let d = demo_from("127.0.0.1:50000").await;
    spa(&d).await;
    let (mut password_only, mut both, _) = bram_with_second_factor(&d).await;

    let q = spa_answer(&mut both, "&scope=openid").await;
    let id = id_claims(&json_of(&redeem(&d, &q["code"], SPA_ORIGIN).await));
    assert_eq!(id["acr"], metadata::discovery::ACR_MFA, "{id}");
    assert_eq!(id["amr"], json!(["pwd", "otp"]), "{id}");

    // The session from before the set-up was a password login, and says so.
    let q = spa_answer(&mut password_only, "&scope=openid").await;
    let id = id_claims(&json_of(&redeem(&d, &q["code"], SPA_ORIGIN).await));
    assert_eq!(id["acr"], metadata::discovery::ACR_PASSWORD, "{id}");
    assert_eq!(id["amr"], json!(["pwd"]), "{id}");

    // The stronger login meets a request for the password, at once.
    let q = spa_answer(
        &mut both,
        &format!(
            "&scope=openid&prompt=none&acr_values={}",
            enc(metadata::discovery::ACR_PASSWORD)
        ),
    )
    .await;
    let id = id_claims(&json_of(&redeem(&d, &q["code"], SPA_ORIGIN).await));
    assert_eq!(id["acr"], metadata::discovery::ACR_MFA, "{id}");
}

#[tokio::test]
async fn acr_values_asking_for_the_second_factor_raise_a_password_session_by_the_code_alone() {
    let d = demo_from("127.0.0.1:50000").await;
    spa(&d).await;
    let (mut b, _, secret) = bram_with_second_factor(&d).await;
    let mfa = enc(metadata::discovery::ACR_MFA);

    // Not without the user.
    let q = spa_answer(
        &mut b,
        &format!("&scope=openid&prompt=none&acr_values={mfa}"),
    )
    .await;
    assert_eq!(q["error"], "login_required", "{q:?}");

    // With the user: the code page, not the password again, and back to the request.
    let request = authorize(
        SPA,
        SPA_REDIRECT,
        &format!("&scope=openid&acr_values={mfa}"),
    );
    let to = b.get(&request).await;
    let code_page = to.location().unwrap_or_default().to_owned();
    assert!(
        code_page.starts_with("/inloggen/code?next="),
        "{} {code_page}",
        to.status
    );
    let page = b.get(&code_page).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let next = query_of(&code_page)["next"].clone();
    let raised = b
        .submit(
            "/inloggen/code",
            &[("code", &code_now(&secret, 1)), ("next", &next)],
        )
        .await;
    assert_eq!(raised.location(), Some(next.as_str()), "{}", raised.body);
    let q = answer_at(&b.get(&next).await, SPA_REDIRECT);
    let id = id_claims(&json_of(&redeem(&d, &q["code"], SPA_ORIGIN).await));
    assert_eq!(id["acr"], metadata::discovery::ACR_MFA, "{id}");
    assert_eq!(id["amr"], json!(["pwd", "otp"]), "{id}");
}

#[tokio::test]
async fn acr_values_asking_for_a_second_factor_nobody_set_up_ask_for_a_new_login() {
    let d = demo_from("127.0.0.1:50000").await;
    spa(&d).await;
    let mut b = bram(&d).await;
    a_new_login_is_asked_for(&mut b, metadata::discovery::ACR_MFA).await;
}

// CORS.

async fn spa_code(b: &mut Browser<'_>) -> String {
    let path = authorize(SPA, SPA_REDIRECT, "&scope=openid");
    answer_at(&b.get(&path).await, SPA_REDIRECT)["code"].clone()
}

#[tokio::test]
async fn the_token_response_is_readable_from_the_public_clients_own_origin_only() {
    let d = demo_from("127.0.0.1:50000").await;
    spa(&d).await;
    let mut b = bram(&d).await;
    let a = redeem(&d, &spa_code(&mut b).await, SPA_ORIGIN).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], SPA_ORIGIN);
    assert!(
        a.headers
            .get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
            .is_none()
    );
    assert!(
        a.headers
            .get_all(header::VARY)
            .iter()
            .any(|v| v.to_str().unwrap().contains("Origin"))
    );
    let access = json_of(&a)["access_token"].as_str().unwrap().to_owned();

    for foreign in [
        "https://aanvaller.example",
        "https://spa.rekenrijk.example.evil",
        "null",
    ] {
        let a = redeem(&d, &spa_code(&mut b).await, foreign).await;
        assert!(
            a.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none(),
            "{foreign} may read the token response"
        );
    }

    // userinfo: the bearer token needs a preflight, allowed for a client's origin only.
    let preflight = |origin: &'static str| {
        let d = &d;
        async move {
            d.send(
                Request::options("/oidc/userinfo")
                    .header(header::ORIGIN, origin)
                    .header("access-control-request-method", "GET")
                    .header("access-control-request-headers", "authorization")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
        }
    };
    let ok = preflight(SPA_ORIGIN).await;
    assert_eq!(ok.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], SPA_ORIGIN);
    assert!(
        ok.headers[header::ACCESS_CONTROL_ALLOW_HEADERS]
            .to_str()
            .unwrap()
            .contains("Authorization")
    );
    let refused = preflight("https://aanvaller.example").await;
    assert!(
        refused
            .headers
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );

    let userinfo = |origin: &'static str| {
        let (d, access) = (&d, &access);
        async move {
            d.send(
                Request::get("/oidc/userinfo")
                    .header(header::ORIGIN, origin)
                    .header(header::AUTHORIZATION, format!("Bearer {access}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
        }
    };
    let a = userinfo(SPA_ORIGIN).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], SPA_ORIGIN);
    let a = userinfo("https://aanvaller.example").await;
    assert!(a.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());

    // A refused token is readable by a client's origin (the app must learn to sign in again),
    // and still by no other.
    let expired = |origin: &'static str| {
        let d = &d;
        async move {
            d.send(
                Request::get("/oidc/userinfo")
                    .header(header::ORIGIN, origin)
                    .header(header::AUTHORIZATION, "Bearer verlopen")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
        }
    };
    let a = expired(SPA_ORIGIN).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.body);
    assert_eq!(a.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], SPA_ORIGIN);
    let a = expired("https://aanvaller.example").await;
    assert!(a.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());

    // Revocation, from the client's origin.
    let a = post(
        &d,
        "/oidc/revoke",
        &[("token", &access), ("client_id", SPA)],
        &[("origin", SPA_ORIGIN)],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], SPA_ORIGIN);
}

#[tokio::test]
async fn a_confidential_clients_origin_gets_no_cors() {
    let d = demo_from("127.0.0.1:50000").await;
    let secret = register(
        &d,
        SERVER,
        json!({
            "redirect_uris": [SPA_REDIRECT],
            "token_endpoint_auth_method": "client_secret_basic",
        }),
    )
    .await
    .unwrap();
    let basic = format!("Basic {}", STANDARD.encode(format!("{SERVER}:{secret}")));
    let a = post(
        &d,
        "/oidc/token",
        &[("grant_type", "authorization_code"), ("code", "x")],
        &[("origin", SPA_ORIGIN), ("authorization", &basic)],
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(a.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

#[tokio::test]
async fn discovery_and_the_jwk_set_are_readable_from_any_origin() {
    let d = demo_from("127.0.0.1:50000").await;
    for path in ["/.well-known/openid-configuration", "/oidc/jwks"] {
        let a = d
            .send(
                Request::get(path)
                    .header(header::ORIGIN, "https://wie-dan-ook.example")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        assert_eq!(
            a.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "*",
            "{path}"
        );
    }
}
