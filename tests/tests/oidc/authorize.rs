//! What the authorization endpoint checks: client, exact redirect URI, the school's consent.

use openpoort_e2e::{authorize_url, bram_signed_in, pkce};

use crate::common::{PUBLISHER, REDIRECT, demo, link, query, request_url, tokens};

#[tokio::test]
async fn wrong_redirect_uri_gets_an_error_page_not_a_redirect() {
    let d = demo();
    d.confidential_client("rp-redirects");
    let mut b = bram_signed_in(d.base()).await;
    let (_, challenge) = pkce();
    for wrong in [
        "http://127.0.0.1:9/elders",
        "http://127.0.0.1:9/callback/",
        "http://127.0.0.1:9/callback?x=1",
        "http://localhost:9/callback",
        "https://evil.example/callback",
    ] {
        let page = b
            .get(&authorize_url(
                d.base(),
                &[
                    ("response_type", "code"),
                    ("client_id", "rp-redirects"),
                    ("redirect_uri", wrong),
                    ("scope", "openid"),
                    ("state", "s"),
                    ("code_challenge", &challenge),
                    ("code_challenge_method", "S256"),
                ],
            ))
            .await;
        assert_eq!(page.status, 400, "{wrong}: {}", page.body);
        assert!(page.location().is_none(), "{wrong}: never redirected");
        assert!(page.body.contains("niet geregistreerd"), "{}", page.body);
    }
    // Without a redirect_uri, too: there is nothing to compare with.
    let page = b
        .get(&authorize_url(
            d.base(),
            &[
                ("response_type", "code"),
                ("client_id", "rp-redirects"),
                ("scope", "openid"),
            ],
        ))
        .await;
    assert_eq!(page.status, 400);
    assert!(page.location().is_none());
}

#[tokio::test]
async fn unknown_client_gets_an_error_page() {
    let d = demo();
    let mut b = bram_signed_in(d.base()).await;
    for client in ["rp-nobody-knows", ""] {
        let page = b
            .get(&authorize_url(
                d.base(),
                &[
                    ("response_type", "code"),
                    ("client_id", client),
                    ("redirect_uri", REDIRECT),
                    ("scope", "openid"),
                    ("state", "s"),
                ],
            ))
            .await;
        assert_eq!(page.status, 400, "{client:?}: {}", page.body);
        assert!(page.location().is_none(), "{client:?}: never redirected");
    }
    let page = b
        .get(&authorize_url(
            d.base(),
            &[
                ("response_type", "code"),
                ("client_id", "rp-nobody-knows"),
                ("redirect_uri", REDIRECT),
            ],
        ))
        .await;
    assert!(
        page.body.contains("niet bij openpoort bekend"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn consent_revoked_denies_login_with_an_explanation_and_access_denied_on_the_way_back() {
    let d = demo();
    // Tokens from before the revocation.
    let (secret, before) = tokens(&d, "rp-no-consent").await;
    let mut b = bram_signed_in(d.base()).await;
    d.cli(&[
        "consent", "revoke", "--school", "99ZZ00", "--party", PUBLISHER,
    ]);
    // Nothing is cached: the next refresh is decided again and refused.
    let (status, body) = d
        .refresh(
            "rp-no-consent",
            &secret,
            before["refresh_token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let (_, challenge) = pkce();
    let page = b
        .get(&request_url(
            &d,
            "rp-no-consent",
            "toestemming?&x",
            &challenge,
            &[],
        ))
        .await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.location().is_none(), "the user reads why first");
    assert!(
        page.body.contains("geen toestemming gegeven"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("ICT-coördinator"),
        "who can fix it: {}",
        page.body
    );
    let back = link(&page, "Terug naar rp-no-consent");
    assert!(back.starts_with(&format!("{REDIRECT}?")), "{back}");
    let q = query(&back);
    assert_eq!(
        q.get("error").map(String::as_str),
        Some("access_denied"),
        "{q:?}"
    );
    assert_eq!(q["state"], "toestemming?&x");
    assert_eq!(q["iss"], d.base());
    assert!(!q.contains_key("code"));
}

#[tokio::test]
async fn redirect_uri_with_a_query_keeps_it_and_the_token_request_must_repeat_it() {
    let d = demo();
    let with_query = "http://127.0.0.1:9/callback?app=rekenen&x=1";
    let secret = d
        .add_client(PUBLISHER, "rp-query-app", &["--redirect-uri", with_query])
        .expect("secret");
    let mut b = bram_signed_in(d.base()).await;
    let (verifier, challenge) = pkce();
    let page = b
        .get(&authorize_url(
            d.base(),
            &[
                ("response_type", "code"),
                ("client_id", "rp-query-app"),
                ("redirect_uri", with_query),
                ("scope", "openid"),
                ("state", "a b&c=d/é"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        ))
        .await;
    let location = page.location().unwrap_or_else(|| panic!("{}", page.body));
    assert!(
        location.starts_with(&format!("{with_query}&code=")),
        "{location}"
    );
    let q = query(location);
    assert_eq!(q["app"], "rekenen");
    assert_eq!(q["x"], "1");
    assert_eq!(q["state"], "a b&c=d/é", "state comes back exactly");
    // The token request names another registered redirect URI than the authorization request.
    let (status, body) = d
        .post(
            "/oidc/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &q["code"]),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &verifier),
            ],
            Some(("rp-query-app", &secret)),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}
