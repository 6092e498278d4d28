//! PKCE (RFC 7636): required of public clients, S256 only, the verifier checked.

use openidconnect::TokenResponse;

use openpoort_e2e::{authorize_url, bram_signed_in, pkce};

use crate::common::{PUBLISHER, REDIRECT, back_at_client, code_for, demo, rp_request};

#[tokio::test]
async fn pkce_is_required_for_public_clients() {
    let d = demo();
    d.add_client(PUBLISHER, "rp-browser-app", &["--auth", "none"]);
    let secret = d.confidential_client("rp-server-app");
    let mut b = bram_signed_in(d.base()).await;

    // A public client without PKCE: an error back at the client, no code.
    let q = back_at_client(
        &b.get(&authorize_url(
            d.base(),
            &[
                ("response_type", "code"),
                ("client_id", "rp-browser-app"),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
                ("state", "zonder-pkce"),
            ],
        ))
        .await,
    );
    assert_eq!(
        q.get("error").map(String::as_str),
        Some("invalid_request"),
        "{q:?}"
    );
    assert_eq!(q["state"], "zonder-pkce");
    assert!(!q.contains_key("code"));

    // With PKCE the public client gets its tokens (openidconnect, no secret).
    let (rp, _) = d.relying_party("rp-browser-app", None).await;
    let (url, _, nonce, verifier) = rp_request(&rp);
    let q = back_at_client(&b.get(url.as_str()).await);
    let token = d
        .exchange(&rp, &q["code"], verifier)
        .await
        .unwrap_or_else(|e| panic!("public client token: {e:?}"));
    token
        .id_token()
        .unwrap()
        .claims(&rp.id_token_verifier(), &nonce)
        .unwrap();

    // A confidential client may leave PKCE out (its secret protects the code) ...
    let q = back_at_client(
        &b.get(&authorize_url(
            d.base(),
            &[
                ("response_type", "code"),
                ("client_id", "rp-server-app"),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
            ],
        ))
        .await,
    );
    let (status, body) = d
        .redeem_with("rp-server-app", &secret, &q["code"], &[])
        .await;
    assert_eq!(status, 200, "{body}");
    // ... but when it used PKCE, the verifier is checked: leaving it out fails.
    let (code, _verifier) = code_for(&d, &mut b, "rp-server-app", &[]).await;
    let (status, body) = d.redeem_with("rp-server-app", &secret, &code, &[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

#[tokio::test]
async fn plain_pkce_is_refused() {
    let d = demo();
    d.add_client(PUBLISHER, "rp-browser-app", &["--auth", "none"]);
    let mut b = bram_signed_in(d.base()).await;
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    for method in [Some("plain"), None, Some("S512")] {
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", "rp-browser-app"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("state", "plain"),
            // The plain method sends the verifier itself as the challenge.
            ("code_challenge", verifier.as_str()),
        ];
        if let Some(m) = method {
            params.push(("code_challenge_method", m));
        }
        let q = back_at_client(&b.get(&authorize_url(d.base(), &params)).await);
        assert_eq!(
            q.get("error").map(String::as_str),
            Some("invalid_request"),
            "{method:?}: {q:?}"
        );
        assert!(!q.contains_key("code"), "{method:?}");
    }
}

#[tokio::test]
async fn wrong_code_verifier_is_refused() {
    let d = demo();
    d.add_client(PUBLISHER, "rp-browser-app", &["--auth", "none"]);
    let mut b = bram_signed_in(d.base()).await;
    let (code, verifier) = code_for(&d, &mut b, "rp-browser-app", &[]).await;
    let (other, _) = pkce();
    let exchange = |code: String, verifier: String| {
        let d = &d;
        async move {
            d.post(
                "/oidc/token",
                &[
                    ("grant_type", "authorization_code"),
                    ("client_id", "rp-browser-app"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", &verifier),
                ],
                None,
            )
            .await
        }
    };
    let (status, body) = exchange(code.clone(), other).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    // The code is spent: the right verifier comes too late.
    let (status, body) = exchange(code, verifier).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );

    // The S256 challenge itself (as if the method were plain) is no verifier either.
    let (_, challenge) = pkce();
    let q = back_at_client(
        &b.get(&authorize_url(
            d.base(),
            &[
                ("response_type", "code"),
                ("client_id", "rp-browser-app"),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        ))
        .await,
    );
    let (status, _) = exchange(q["code"].clone(), challenge.clone()).await;
    assert_eq!(status, 400);
}
