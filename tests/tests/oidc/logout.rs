//! Logout: RP-initiated, back-channel logout tokens, and the tokens a session's end takes along.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::JsonWebKey;
use openidconnect::core::{CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use serde_json::Value;

use openpoort_e2e::{Browser, bram_signed_in, pkce, unescape};

use crate::common::{
    AFTER_LOGOUT, Demo, PUBLISHER, back_at_client, code_for, demo, form_with, peek, request_url,
    token_response, unix_now,
};

const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// A tiny HTTP listener for back-channel logout: answers each POST with 200 and passes on its
/// `logout_token`.
async fn backchannel_listener() -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/bcl", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut data = Vec::new();
            let mut buf = [0u8; 4096];
            let body = loop {
                let n = stream.read(&mut buf).await.unwrap();
                assert!(n > 0, "connection closed before the request was complete");
                data.extend_from_slice(&buf[..n]);
                let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
                    continue;
                };
                let head = String::from_utf8_lossy(&data[..end]).to_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map(|v| v.trim().parse().unwrap())
                    .unwrap_or(0);
                if data.len() >= end + 4 + length {
                    assert!(head.starts_with("post /bcl "), "{head}");
                    assert!(
                        head.contains("content-type: application/x-www-form-urlencoded"),
                        "{head}"
                    );
                    break String::from_utf8(data[end + 4..end + 4 + length].to_vec()).unwrap();
                }
            };
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await
                .unwrap();
            let token = url::form_urlencoded::parse(body.as_bytes())
                .find(|(k, _)| k == "logout_token")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_else(|| panic!("no logout_token in {body}"));
            if tx.send(token).is_err() {
                break;
            }
        }
    });
    (url, rx)
}

/// The next logout token the listener receives, within `limit`.
async fn next_logout_token(
    received: &mut tokio::sync::mpsc::UnboundedReceiver<String>,
    limit: Duration,
) -> Option<String> {
    tokio::time::timeout(limit, received.recv())
        .await
        .ok()
        .flatten()
}

/// Verifies a JWS with the provider's JWK Set (openidconnect's key implementation); returns
/// header and claims.
fn verify_with(jwks: &CoreJsonWebKeySet, jws: &str) -> (Value, Value) {
    let parts: Vec<&str> = jws.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS");
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let alg: CoreJwsSigningAlgorithm = serde_json::from_value(header["alg"].clone()).unwrap();
    let kid = header["kid"].as_str().expect("kid");
    let key = jwks
        .keys()
        .iter()
        .find(|k| k.key_id().map(|id| id.as_str()) == Some(kid))
        .unwrap_or_else(|| panic!("kid {kid} not in the JWK Set"));
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    key.verify_signature(
        &alg,
        format!("{}.{}", parts[0], parts[1]).as_bytes(),
        &signature,
    )
    .unwrap_or_else(|e| panic!("signature: {e:?}"));
    (header, peek(jws))
}

#[tokio::test]
async fn backchannel_logout_token_carries_the_same_pairwise_sub() {
    let d = demo();
    let (bcl, mut received) = backchannel_listener().await;
    let secret = d
        .add_client(
            PUBLISHER,
            "rp-backchannel",
            &["--backchannel-logout-uri", &bcl],
        )
        .expect("secret");
    let mut b = bram_signed_in(d.base()).await;
    let (code, verifier) = code_for(&d, &mut b, "rp-backchannel", &[]).await;
    let (status, body) = d.redeem("rp-backchannel", &secret, &code, &verifier).await;
    assert_eq!(status, 200, "{body}");
    let jwks = d.jwks().await;
    let (_, id) = verify_with(&jwks, body["id_token"].as_str().unwrap());

    // Bram logs out at the portal; openpoort tells the client in the background.
    let portal = b.get("/").await;
    let out = b
        .submit_form(&portal, form_with(&portal, "action=\"/uitloggen\""), &[])
        .await;
    assert_eq!(out.location(), Some("/inloggen?melding=uitgelogd"));
    let logout_token = next_logout_token(&mut received, Duration::from_secs(15))
        .await
        .expect("a logout token within 15 s");
    let (header, claims) = verify_with(&jwks, &logout_token);
    assert_eq!(header["typ"], "logout+jwt");
    assert_eq!(claims["iss"], d.base());
    assert_eq!(claims["aud"], "rp-backchannel");
    assert_eq!(
        claims["sub"], id["sub"],
        "the same pairwise sub as the ID token"
    );
    assert_eq!(claims["sid"], id["sid"], "the same session");
    assert!(claims["events"][BACKCHANNEL_EVENT].is_object(), "{claims}");
    assert!(
        claims.get("nonce").is_none(),
        "a logout token carries no nonce"
    );
    assert!(claims["jti"].is_string());
    assert!(claims["iat"].as_i64().unwrap() <= unix_now() + 1);
}

#[tokio::test]
async fn logout_without_a_matching_id_token_hint_asks_to_confirm() {
    let d = demo();
    d.confidential_client("rp-logout-app");
    let mut b = bram_signed_in(d.base()).await;
    // Unregistered post-logout address: refused outright.
    let page = b
        .get(&d.url(&format!(
            "/oidc/logout?client_id=rp-logout-app&post_logout_redirect_uri={}",
            url::form_urlencoded::byte_serialize(b"https://evil.example/").collect::<String>()
        )))
        .await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.location().is_none());
    // No hint: a link elsewhere must not log Bram out by itself.
    let page = b
        .get(&d.url(&format!(
            "/oidc/logout?client_id=rp-logout-app&state=s1&post_logout_redirect_uri={}",
            url::form_urlencoded::byte_serialize(AFTER_LOGOUT.as_bytes()).collect::<String>()
        )))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Uitloggen?"), "{}", page.body);
    assert_eq!(b.get("/").await.status, 200, "still signed in");
    let fields: Vec<(String, String)> = ["post_logout_redirect_uri", "state", "client_id"]
        .iter()
        .filter_map(|n| page.field(n).map(|v| (n.to_string(), unescape(&v))))
        .collect();
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let out = b.submit_form(&page, 0, &fields).await;
    assert_eq!(out.status, 303, "{}", out.body);
    assert_eq!(out.location(), Some(&*format!("{AFTER_LOGOUT}?state=s1")));
    assert_eq!(b.get("/").await.location(), Some("/inloggen"));
}

#[tokio::test]
async fn rp_initiated_logout_by_post_with_a_matching_hint_logs_out() {
    let d = demo();
    let (mut b, id_token) = tokens_in(&d, "rp-post-logout").await;
    let out = b
        .post(
            "/oidc/logout",
            &[
                ("id_token_hint", &id_token),
                ("post_logout_redirect_uri", AFTER_LOGOUT),
                ("state", "per-post"),
            ],
        )
        .await;
    assert_eq!(out.status, 303, "{}", out.body);
    assert_eq!(
        out.location(),
        Some(&*format!("{AFTER_LOGOUT}?state=per-post"))
    );
    assert_eq!(b.get("/").await.location(), Some("/inloggen"));
}

/// Like [`tokens`](crate::common::tokens), but keeps Bram's browser: (browser, ID token).
async fn tokens_in(d: &Demo, client_id: &str) -> (Browser, String) {
    let secret = d.confidential_client(client_id);
    let mut b = bram_signed_in(d.base()).await;
    let body = token_response(d, &mut b, client_id, &secret).await;
    (b, body["id_token"].as_str().unwrap().to_owned())
}

/// Bram (in browser `b`) gets tokens for `client_id`: (refresh token, ID token claims).
async fn tokens_for(d: &Demo, b: &mut Browser, client_id: &str, secret: &str) -> (String, Value) {
    let body = token_response(d, b, client_id, secret).await;
    (
        body["refresh_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        peek(body["id_token"].as_str().unwrap()),
    )
}

#[tokio::test]
async fn refresh_tokens_of_a_logged_out_session_stop_working() {
    let d = demo();
    let secret = d.confidential_client("rp-session-app");
    let mut b = bram_signed_in(d.base()).await;
    let (refresh, _) = tokens_for(&d, &mut b, "rp-session-app", &secret).await;
    let portal = b.get("/").await;
    let out = b
        .submit_form(&portal, form_with(&portal, "action=\"/uitloggen\""), &[])
        .await;
    assert_eq!(out.location(), Some("/inloggen?melding=uitgelogd"));
    let (status, body) = d.refresh("rp-session-app", &secret, &refresh).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "a refresh after logout: {body}"
    );
}

#[tokio::test]
async fn logging_out_everywhere_tells_the_clients_of_every_session() {
    let d = demo();
    let (bcl, mut received) = backchannel_listener().await;
    let secret = d
        .add_client(
            PUBLISHER,
            "rp-everywhere",
            &["--backchannel-logout-uri", &bcl],
        )
        .expect("secret");
    let mut laptop = bram_signed_in(d.base()).await;
    let mut tablet = bram_signed_in(d.base()).await;
    let (_, on_laptop) = tokens_for(&d, &mut laptop, "rp-everywhere", &secret).await;
    let (_, on_tablet) = tokens_for(&d, &mut tablet, "rp-everywhere", &secret).await;
    assert_ne!(on_laptop["sid"], on_tablet["sid"]);

    let portal = laptop.get("/").await;
    let out = laptop
        .submit_form(
            &portal,
            form_with(&portal, "action=\"/uitloggen/overal\""),
            &[],
        )
        .await;
    assert_eq!(out.location(), Some("/inloggen?melding=overal-uitgelogd"));
    assert_eq!(
        tablet.get("/").await.location(),
        Some("/inloggen"),
        "both sessions ended"
    );

    // Every logout token that arrives within 10 s, until the tablet's session is covered.
    let jwks = d.jwks().await;
    let mut sids = Vec::new();
    let mut covered = false;
    while let Some(token) = next_logout_token(&mut received, Duration::from_secs(10)).await {
        let (_, claims) = verify_with(&jwks, &token);
        assert_eq!(claims["sub"], on_laptop["sub"]);
        match claims.get("sid") {
            None => covered = true,
            Some(sid) => {
                covered |= *sid == on_tablet["sid"];
                sids.push(sid.clone());
            }
        }
        if covered {
            break;
        }
    }
    assert!(sids.contains(&on_laptop["sid"]) || covered, "{sids:?}");
    assert!(
        covered,
        "no logout token for the tablet's session {}: got sids {sids:?}",
        on_tablet["sid"]
    );
}

/// A second browser with the cookies of `b`: the same browser, in another tab.
fn same_browser(d: &Demo, b: &Browser) -> Browser {
    let mut copy = d.browser();
    copy.cookies = b.cookies.clone();
    copy
}

#[tokio::test]
async fn parallel_authorizations_in_one_session_all_end_at_logout() {
    let d = demo();
    let secret = d.confidential_client("rp-busy-app");
    let b = bram_signed_in(d.base()).await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let (verifier, challenge) = pkce();
        let url = request_url(&d, "rp-busy-app", "tab", &challenge, &[]);
        let mut tab = same_browser(&d, &b);
        tasks.spawn(async move {
            (
                back_at_client(&tab.get(&url).await)["code"].clone(),
                verifier,
            )
        });
    }
    let mut refresh_tokens = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (code, verifier) = done.unwrap();
        let (status, body) = d.redeem("rp-busy-app", &secret, &code, &verifier).await;
        assert_eq!(status, 200, "{body}");
        refresh_tokens.push(body["refresh_token"].as_str().unwrap().to_owned());
    }
    assert_eq!(refresh_tokens.len(), 12);

    let mut b = b;
    let portal = b.get("/").await;
    let out = b
        .submit_form(&portal, form_with(&portal, "action=\"/uitloggen\""), &[])
        .await;
    assert_eq!(out.location(), Some("/inloggen?melding=uitgelogd"));
    let mut alive = 0;
    for refresh in &refresh_tokens {
        let (status, _) = d.refresh("rp-busy-app", &secret, refresh).await;
        if status == 200 {
            alive += 1;
        }
    }
    assert_eq!(alive, 0, "{alive} of 12 refresh tokens outlived the logout");
}
