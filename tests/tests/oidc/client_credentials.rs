//! The client credentials grant: a token for the client itself, with no user behind it.

use crate::common::{PUBLISHER, demo};

#[tokio::test]
async fn client_credentials_token_has_no_user() {
    let d = demo();
    let secret = d
        .add_client(
            PUBLISHER,
            "rp-roster-sync",
            &["--grant", "client_credentials", "--scope", "school"],
        )
        .expect("secret");
    let (status, body) = d
        .post(
            "/oidc/token",
            &[("grant_type", "client_credentials"), ("scope", "school")],
            Some(("rp-roster-sync", &secret)),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.get("id_token").is_none(),
        "no user, no ID token: {body}"
    );
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert_eq!(body["scope"], "school");
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(
        d.userinfo_status(access).await,
        401,
        "no user to tell about"
    );
    let (_, info) = d
        .post(
            "/oidc/introspect",
            &[("token", access)],
            Some(("rp-roster-sync", &secret)),
        )
        .await;
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(
        info["sub"], "rp-roster-sync",
        "the client itself, no user: {info}"
    );

    // openid (a user's login) is not to be had this way.
    let (status, body) = d
        .post(
            "/oidc/token",
            &[("grant_type", "client_credentials"), ("scope", "openid")],
            Some(("rp-roster-sync", &secret)),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope")),
        "{body}"
    );
    // Nor can a client without the grant use it.
    let code_secret = d.confidential_client("rp-code-only");
    let (status, body) = d
        .post(
            "/oidc/token",
            &[("grant_type", "client_credentials")],
            Some(("rp-code-only", &code_secret)),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client")),
        "{body}"
    );
}
