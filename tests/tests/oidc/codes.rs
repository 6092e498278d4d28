//! Authorization codes at the token endpoint: redeemed once, by their own client, in time.

use std::time::Duration;

use openpoort_e2e::bram_signed_in;

use crate::common::{REDIRECT, code_for, demo};

#[tokio::test]
async fn code_can_be_used_only_once_and_replay_revokes_its_tokens() {
    let d = demo();
    let secret = d.confidential_client("rp-replay-app");
    let mut b = bram_signed_in(d.base()).await;
    let (code, verifier) = code_for(&d, &mut b, "rp-replay-app", &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.as_str()),
    ];
    let (status, first) = d
        .post("/oidc/token", &form, Some(("rp-replay-app", &secret)))
        .await;
    assert_eq!(status, 200, "{first}");
    let access = first["access_token"].as_str().unwrap();
    let refresh = first["refresh_token"].as_str().unwrap();
    assert_eq!(d.userinfo_status(access).await, 200);

    let (status, replay) = d
        .post("/oidc/token", &form, Some(("rp-replay-app", &secret)))
        .await;
    assert_eq!(
        (status, replay["error"].as_str()),
        (400, Some("invalid_grant")),
        "{replay}"
    );

    // Whoever replayed it may have stolen it: what the first exchange issued stops working.
    assert_eq!(
        d.userinfo_status(access).await,
        401,
        "the access token is revoked"
    );
    let (status, body) = d.refresh("rp-replay-app", &secret, refresh).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

#[tokio::test]
async fn code_presented_by_another_client_is_refused() {
    let d = demo();
    let secret_a = d.confidential_client("rp-client-a");
    let secret_b = d.confidential_client("rp-client-b");
    let mut b = bram_signed_in(d.base()).await;
    let (code, verifier) = code_for(&d, &mut b, "rp-client-a", &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.as_str()),
    ];
    let (status, body) = d
        .post("/oidc/token", &form, Some(("rp-client-b", &secret_b)))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    assert!(body.get("access_token").is_none());
    // The code was seen by a client it was not for: it is spent for its own client too.
    let (status, body) = d
        .post("/oidc/token", &form, Some(("rp-client-a", &secret_a)))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

#[tokio::test]
async fn expired_code_is_refused() {
    let d = demo();
    let secret = d.confidential_client("rp-slow-app");
    let mut b = bram_signed_in(d.base()).await;

    // A code openpoort never issued.
    let (status, body) = d
        .redeem_with(
            "rp-slow-app",
            &secret,
            "bm9vaXQtdWl0Z2VnZXZlbi1jb2RlLXZhbi00My10ZWtlbnM",
            &[],
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );

    // A real one, redeemed after its 60 seconds: the only wait in these tests.
    let (code, verifier) = code_for(&d, &mut b, "rp-slow-app", &[]).await;
    tokio::time::sleep(Duration::from_secs(61)).await;
    let (status, body) = d.redeem("rp-slow-app", &secret, &code, &verifier).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

#[tokio::test]
async fn a_burst_of_redemptions_of_one_code_issues_tokens_once() {
    let d = demo();
    let secret = d.confidential_client("rp-burst-app");
    let mut b = bram_signed_in(d.base()).await;
    let (code, verifier) = code_for(&d, &mut b, "rp-burst-app", &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.as_str()),
    ];
    // Eight requests in flight at once, each on its own connection of the client's pool.
    let redeem = || async {
        d.post("/oidc/token", &form, Some(("rp-burst-app", &secret)))
            .await
            .0
    };
    let (s1, s2, s3, s4, s5, s6, s7, s8) = tokio::join!(
        redeem(),
        redeem(),
        redeem(),
        redeem(),
        redeem(),
        redeem(),
        redeem(),
        redeem()
    );
    let mut statuses = [s1, s2, s3, s4, s5, s6, s7, s8];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 400, 400, 400, 400, 400, 400, 400]);
}
