//! Refresh rotation and revocation: reuse ends the family, RFC 7009, introspection, deactivation.

use openidconnect::RefreshToken;
use openidconnect::core::CoreErrorResponseType;
use serde_json::json;

use openpoort_e2e::{BRAM, bram_signed_in, cli_ok};

use crate::common::{PUBLISHER, code_for, demo, error_of, peek, tokens, unix_now};

#[tokio::test]
async fn refresh_token_reuse_revokes_the_family() {
    let d = demo();
    let (secret, first) = tokens(&d, "rp-family-app").await;
    let refresh = |token: String| {
        let (d, secret) = (&d, &secret);
        async move { d.refresh("rp-family-app", secret, &token).await }
    };
    let rt1 = first["refresh_token"].as_str().unwrap().to_owned();
    let (status, second) = refresh(rt1.clone()).await;
    assert_eq!(status, 200, "{second}");
    let rt2 = second["refresh_token"].as_str().unwrap().to_owned();
    let at2 = second["access_token"].as_str().unwrap();
    assert_ne!(rt1, rt2);
    assert_eq!(d.userinfo_status(at2).await, 200);
    assert_eq!(
        peek(second["id_token"].as_str().unwrap())["sub"],
        peek(first["id_token"].as_str().unwrap())["sub"]
    );

    // rt1 comes back: one of the two holders is not the client. Everything in the family ends.
    let (status, body) = refresh(rt1).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let (status, body) = refresh(rt2).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    assert_eq!(d.userinfo_status(at2).await, 401);
    assert_eq!(
        d.userinfo_status(first["access_token"].as_str().unwrap())
            .await,
        401
    );
}

#[tokio::test]
async fn revoked_refresh_token_no_longer_works() {
    let d = demo();
    let (secret, body) = tokens(&d, "rp-revoking-app").await;
    let (rp, _) = d.relying_party("rp-revoking-app", Some(&secret)).await;
    let refresh = RefreshToken::new(body["refresh_token"].as_str().unwrap().to_owned());
    let access = body["access_token"].as_str().unwrap();
    // openidconnect (oauth2) sends revocation requests to https endpoints only, and the demo
    // speaks http: the RFC 7009 request is written out here.
    let revoke = |token: String, client: &'static str, secret: String| {
        let d = &d;
        async move {
            d.post(
                "/oidc/revoke",
                &[("token", &token), ("token_type_hint", "refresh_token")],
                Some((client, &secret)),
            )
            .await
            .0
        }
    };

    // Another client (even of the same party) cannot revoke it: answered alike, nothing ends.
    let other = d.confidential_client("rp-other-app");
    assert_eq!(
        revoke(refresh.secret().clone(), "rp-other-app", other).await,
        200
    );
    assert_eq!(d.userinfo_status(access).await, 200);
    // Revocation needs the client's own authentication.
    assert_eq!(
        revoke(refresh.secret().clone(), "rp-revoking-app", "fout".into()).await,
        401
    );

    assert_eq!(
        revoke(refresh.secret().clone(), "rp-revoking-app", secret.clone()).await,
        200
    );
    let again = rp
        .exchange_refresh_token(&refresh)
        .unwrap()
        .request_async(&d.http)
        .await;
    assert_eq!(error_of(again), CoreErrorResponseType::InvalidGrant);
    assert_eq!(
        d.userinfo_status(access).await,
        401,
        "its family's access token ends too"
    );
    // RFC 7009 §2.2: an unknown token, or one revoked already, is answered like a revoked one.
    assert_eq!(
        revoke("onbekend".into(), "rp-revoking-app", secret.clone()).await,
        200
    );
    assert_eq!(
        revoke(refresh.secret().clone(), "rp-revoking-app", secret).await,
        200
    );
}

#[tokio::test]
async fn introspection_reports_active_then_inactive_after_revocation() {
    let d = demo();
    let (secret, body) = tokens(&d, "rp-resource-server").await;
    let access = body["access_token"].as_str().unwrap();
    let sub = peek(body["id_token"].as_str().unwrap())["sub"].clone();

    let (status, active) = d
        .post(
            "/oidc/introspect",
            &[("token", access)],
            Some(("rp-resource-server", &secret)),
        )
        .await;
    assert_eq!(status, 200, "{active}");
    assert_eq!(active["active"], true, "{active}");
    assert_eq!(active["client_id"], "rp-resource-server");
    assert_eq!(active["sub"], sub, "the pairwise sub");
    assert_eq!(active["iss"], d.base());
    assert!(active["exp"].as_i64().unwrap() > unix_now());

    // A public client may not introspect at all.
    d.add_client(PUBLISHER, "rp-browser-app", &["--auth", "none"]);
    let (status, body) = d
        .post(
            "/oidc/introspect",
            &[("token", access), ("client_id", "rp-browser-app")],
            None,
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "{body}"
    );

    // A client of another party learns nothing about it.
    d.add_other_publisher();
    let other = d
        .add_client("ander", "rp-other-party", &[])
        .expect("secret");
    let (_, foreign) = d
        .post(
            "/oidc/introspect",
            &[("token", access)],
            Some(("rp-other-party", &other)),
        )
        .await;
    assert_eq!(foreign, json!({"active": false}));

    let (status, _) = d
        .post(
            "/oidc/revoke",
            &[("token", access)],
            Some(("rp-resource-server", &secret)),
        )
        .await;
    assert_eq!(status, 200);
    let (_, inactive) = d
        .post(
            "/oidc/introspect",
            &[("token", access)],
            Some(("rp-resource-server", &secret)),
        )
        .await;
    assert_eq!(inactive, json!({"active": false}));
    assert_eq!(d.userinfo_status(access).await, 401);
}

/// A teacher's access tokens end with their sessions (a deactivation here; a removal by import
/// and a password change move the same session epoch), not when they expire ten minutes later.
#[tokio::test]
async fn a_deactivated_teachers_access_and_refresh_tokens_stop_working_at_once() {
    let d = demo();
    let secret = d.confidential_client("rp-deactivated");
    let mut b = bram_signed_in(d.base()).await;
    let (code, verifier) = code_for(&d, &mut b, "rp-deactivated", &[]).await;
    let (status, body) = d.redeem("rp-deactivated", &secret, &code, &verifier).await;
    assert_eq!(status, 200, "{body}");
    let access = body["access_token"].as_str().unwrap().to_owned();
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(d.userinfo_status(&access).await, 200);

    cli_ok(d.dir.path(), &["staff", "deactivate", "--email", BRAM]);

    assert_eq!(
        d.userinfo_status(&access).await,
        401,
        "the access token outlived the deactivation"
    );
    let (status, body) = d.refresh("rp-deactivated", &secret, &refresh).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}
