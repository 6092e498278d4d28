//! Who may use the admin API: a bearer token with the admin scope, which only the operator grants.

use serde_json::json;

use openpoort_e2e::{authorize_url, bram_signed_in, openpoort, pkce, run, text};

use crate::common::{ADMIN, PUBLISHER, REDIRECT, code_client, complete_edexml, demo};

#[tokio::test]
async fn admin_api_refuses_requests_without_a_bearer_token() {
    let d = demo();
    let none = d
        .call(
            reqwest::Method::GET,
            "/oidc-clients/rp-anything",
            None,
            None,
        )
        .await;
    assert_eq!((none.status, none.problem()), (401, "unauthorized"));
    assert_eq!(
        none.header("www-authenticate"),
        Some("Bearer realm=\"openpoort\"")
    );
    assert!(
        none.body["detail"]
            .as_str()
            .unwrap()
            .contains("Authorization: Bearer"),
        "{}",
        none.body
    );

    for token in ["not-a-token", "", "Zm9v.YmFy.YmF6"] {
        let bad = d
            .call(
                reqwest::Method::GET,
                &format!("/parties/{PUBLISHER}/oidc-clients"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(
            (bad.status, bad.problem()),
            (401, "unauthorized"),
            "{token}"
        );
    }
    let bad = d
        .call(
            reqwest::Method::GET,
            "/oidc-clients/rp-anything",
            Some("made-up-token"),
            None,
        )
        .await;
    assert!(
        bad.header("www-authenticate")
            .unwrap()
            .contains("error=\"invalid_token\""),
        "{:?}",
        bad.headers
    );

    // Without a token nothing is written, whatever the body.
    let create = d
        .call(
            reqwest::Method::POST,
            &format!("/parties/{PUBLISHER}/oidc-clients"),
            None,
            Some((
                "application/json",
                code_client("rp-sneaky").to_string().into_bytes(),
            )),
        )
        .await;
    assert_eq!(create.status, 401);
    let upload = d
        .call(
            reqwest::Method::POST,
            "/schools/99ZZ01/edexml",
            None,
            Some(("application/xml", complete_edexml().into_bytes())),
        )
        .await;
    assert_eq!(upload.status, 401);
    let token = d.admin_token().await;
    assert!(
        !d.client_ids(PUBLISHER, &token)
            .await
            .contains(&"rp-sneaky".to_owned())
    );
    let dry = d.upload("99ZZ01", true, &token, &complete_edexml()).await;
    assert_ne!(
        dry.body["pupils"]["added"],
        json!([]),
        "nothing was imported: {}",
        dry.body
    );

    // A token that expired or was revoked is refused like an unknown one.
    let revoked = d.admin_token().await;
    let r = d
        .http
        .post(d.url("/oidc/revoke"))
        .basic_auth(ADMIN, Some(&d.admin_secret))
        .form(&[("token", revoked.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let after = d.get("/oidc-clients/rp-anything", &revoked).await;
    assert_eq!((after.status, after.problem()), (401, "unauthorized"));

    // The document is public, and an unknown route answers as the API does.
    let doc = d
        .call(reqwest::Method::GET, "/openapi.json", None, None)
        .await;
    assert_eq!(doc.status, 200);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3.1."));
    assert_eq!(
        doc.body["servers"][0]["url"],
        format!("{}/api/v1", "http://localhost:8080"),
        "the served document names the configured public URL"
    );
    let unknown = d.get("/no-such-thing", &token).await;
    assert_eq!((unknown.status, unknown.problem()), (404, "not-found"));
    let patch = d
        .call(
            reqwest::Method::PATCH,
            "/oidc-clients/rp-anything",
            Some(&token),
            None,
        )
        .await;
    assert_eq!((patch.status, patch.problem()), (405, "method-not-allowed"));
}

#[tokio::test]
async fn admin_api_refuses_tokens_without_the_admin_scope() {
    let d = demo();
    let roster_secret = d
        .add_client(
            PUBLISHER,
            "rp-roster-sync",
            &["--grant", "client_credentials", "--scope", "school"],
        )
        .unwrap();
    let roster = d
        .client_credentials("rp-roster-sync", &roster_secret, "school")
        .await;
    // The admin client itself, without asking for the scope.
    let (status, body) = d
        .token(
            &[("grant_type", "client_credentials")],
            ADMIN,
            &d.admin_secret,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let unscoped = body["access_token"].as_str().unwrap().to_owned();

    for token in [&roster, &unscoped] {
        let a = d
            .get(&format!("/parties/{PUBLISHER}/oidc-clients"), token)
            .await;
        assert_eq!((a.status, a.problem()), (403, "insufficient-scope"));
        assert_eq!(
            a.header("www-authenticate"),
            Some(
                "Bearer realm=\"openpoort\", error=\"insufficient_scope\", scope=\"openpoort:admin\""
            )
        );
        let upload = d.upload("99ZZ01", false, token, &complete_edexml()).await;
        assert_eq!(upload.status, 403);
    }
    // A client without the scope cannot get it either.
    let (status, body) = d
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("scope", "openpoort:admin"),
            ],
            "rp-roster-sync",
            &roster_secret,
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );

    // Nothing was imported by the refused uploads.
    let admin = d.admin_token().await;
    let dry = d.upload("99ZZ01", true, &admin, &complete_edexml()).await;
    assert_eq!(dry.status, 200, "{}", dry.body);
    assert_ne!(dry.body["groups"]["added"], json!([]));

    // An admin client cannot hand out admin access: only the operator can.
    let mut minted = json!({
        "client_id": "tweede-beheer",
        "name": "Tweede beheer",
        "redirect_uris": [],
        "grant_types": ["client_credentials"],
        "scopes": ["openpoort:admin"],
        "token_endpoint_auth_method": "client_secret_basic",
    });
    let refused = d
        .send_json(
            reqwest::Method::POST,
            "/parties/beheer/oidc-clients",
            &admin,
            &minted,
        )
        .await;
    assert_eq!(
        (refused.status, refused.problem()),
        (403, "admin-scope-reserved")
    );
    minted["scopes"] = json!(["school"]);
    let roster_only = d
        .send_json(
            reqwest::Method::POST,
            "/parties/beheer/oidc-clients",
            &admin,
            &minted,
        )
        .await;
    assert_eq!(roster_only.status, 201, "{}", roster_only.body);
    minted["scopes"] = json!(["school", "openpoort:admin"]);
    let raised = d
        .send_json(
            reqwest::Method::PUT,
            "/oidc-clients/tweede-beheer",
            &admin,
            &minted,
        )
        .await;
    assert_eq!(
        (raised.status, raised.problem()),
        (403, "admin-scope-reserved")
    );
    let kept = d.get("/oidc-clients/tweede-beheer", &admin).await;
    assert_eq!(kept.body["scopes"], json!(["school"]));
}

/// A leaked ten-minute admin token must not become lasting access: no new secret for, nor
/// replacement of, a client that holds the admin scope (its own or another operator's).
#[tokio::test]
async fn admin_token_cannot_rekey_or_replace_an_admin_client() {
    let d = demo();
    let colleague_secret = d
        .add_client(
            "beheer",
            "tweede-beheerder",
            &[
                "--grant",
                "client_credentials",
                "--scope",
                "openpoort:admin",
            ],
        )
        .expect("a secret for the second admin client");
    let admin = d.admin_token().await;
    for target in [ADMIN, "tweede-beheerder"] {
        let rekeyed = d
            .call(
                reqwest::Method::POST,
                &format!("/oidc-clients/{target}/secret"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(
            (rekeyed.status, rekeyed.problem()),
            (403, "admin-scope-reserved"),
            "{target}: {}",
            rekeyed.body
        );
        assert!(rekeyed.body.get("client_secret").is_none());
        let mut shown = d.get(&format!("/oidc-clients/{target}"), &admin).await;
        assert_eq!(shown.status, 200, "{}", shown.body);
        shown.body["name"] = json!("Overgenomen");
        let replaced = d
            .send_json(
                reqwest::Method::PUT,
                &format!("/oidc-clients/{target}"),
                &admin,
                &shown.body,
            )
            .await;
        assert_eq!(
            (replaced.status, replaced.problem()),
            (403, "admin-scope-reserved"),
            "{target}: {}",
            replaced.body
        );
    }
    // Both keep their registration and their one secret, which still works.
    d.admin_token().await;
    d.client_credentials("tweede-beheerder", &colleague_secret, "openpoort:admin")
        .await;
    let kept = d.get("/oidc-clients/tweede-beheerder", &admin).await;
    assert_eq!(kept.status, 200, "{}", kept.body);
    assert_ne!(kept.body["name"], json!("Overgenomen"));
}

#[tokio::test]
async fn admin_scope_cannot_be_requested_in_the_authorization_code_flow() {
    let d = demo();
    // Not registrable for a code-flow client, on the command line…
    let out = run(openpoort(d.dir.path()).args([
        "client",
        "add",
        "--party",
        PUBLISHER,
        "--client-id",
        "rp-greedy",
        "--name",
        "Greedy",
        "--redirect-uri",
        REDIRECT,
        "--scope",
        "openid",
        "--scope",
        "openpoort:admin",
    ]));
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("API-scope") && err.contains("API scope"),
        "{err}"
    );

    // …nor with client credentials next to the code flow.
    let out = run(openpoort(d.dir.path()).args([
        "client",
        "add",
        "--party",
        PUBLISHER,
        "--client-id",
        "rp-greedy",
        "--name",
        "Greedy",
        "--redirect-uri",
        REDIRECT,
        "--grant",
        "authorization_code",
        "--grant",
        "client_credentials",
        "--scope",
        "openid",
        "--scope",
        "openpoort:admin",
    ]));
    assert!(!out.status.success(), "{}", text(&out.stdout));

    // A code-flow client asking for it in an authorization request gets invalid_scope, and
    // the admin client cannot use the code flow at all.
    d.add_client(PUBLISHER, "rp-rekenen", &["--redirect-uri", REDIRECT]);
    let mut b = bram_signed_in(&d.server.base).await;
    for (client, error) in [("rp-rekenen", "invalid_scope"), (ADMIN, "")] {
        let (_, challenge) = pkce();
        let url = authorize_url(
            &d.server.base,
            &[
                ("response_type", "code"),
                ("client_id", client),
                ("redirect_uri", REDIRECT),
                ("scope", "openid openpoort:admin"),
                ("state", "st"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        );
        let page = b.get(&url).await;
        let location = page.location().unwrap_or_default().to_owned();
        if client == ADMIN {
            // It has no redirect URI to send a code (or an error) to: an error page instead.
            assert_eq!(page.status, 400, "{location} {}", page.body);
            assert!(location.is_empty(), "{location}");
        } else {
            assert!(
                location.starts_with(REDIRECT) && location.contains(&format!("error={error}")),
                "{client}: {} {location}",
                page.status
            );
            assert!(!location.contains("code="), "{location}");
        }
    }
}
