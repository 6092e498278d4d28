//! OpenID Connect clients registered, replaced, rekeyed and deleted through the API.

use serde_json::{Value, json};

use openpoort_e2e::{authorize_url, bram_signed_in, pkce};

use crate::common::{ADMIN, Demo, PUBLISHER, REDIRECT, code_client, demo};

/// Bram's tokens for `client_id` through the code flow with PKCE.
async fn code_flow(d: &Demo, client_id: &str, secret: &str) -> Value {
    let mut b = bram_signed_in(&d.server.base).await;
    let (verifier, challenge) = pkce();
    let page = b
        .get(&authorize_url(
            &d.server.base,
            &[
                ("response_type", "code"),
                ("client_id", client_id),
                ("redirect_uri", REDIRECT),
                ("scope", "openid profile"),
                ("state", "st-1"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        ))
        .await;
    let location = page
        .location()
        .unwrap_or_else(|| panic!("no redirect ({}): {}", page.status, page.body));
    let query: std::collections::HashMap<String, String> = url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    let code = query
        .get("code")
        .unwrap_or_else(|| panic!("no code: {location}"));
    let (status, body) = d
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &verifier),
            ],
            client_id,
            secret,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn userinfo_status(d: &Demo, token: &str) -> u16 {
    d.http
        .get(d.url("/oidc/userinfo"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn registered_client_can_complete_a_code_flow() {
    let d = demo();
    let admin = d.admin_token().await;
    let created = d
        .send_json(
            reqwest::Method::POST,
            &format!("/parties/{PUBLISHER}/oidc-clients"),
            &admin,
            &code_client("rp-via-api"),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(
        created
            .header("location")
            .unwrap()
            .ends_with("/api/v1/oidc-clients/rp-via-api")
    );
    let secret = created.body["client_secret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 43, "a 256-bit secret");
    assert_eq!(
        created.body["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    let party_id = created.body["party_id"].as_str().unwrap().to_owned();

    // The registration reads back without the secret, by party id and by party code, and the
    // operator's listing sees it too.
    let shown = d.get("/oidc-clients/rp-via-api", &admin).await;
    assert_eq!(shown.status, 200);
    assert!(shown.body.get("client_secret").is_none(), "{}", shown.body);
    assert!(
        !shown.body.to_string().contains("secret_hash"),
        "{}",
        shown.body
    );
    assert_eq!(shown.body["party_id"], party_id.as_str());
    assert!(
        d.client_ids(&party_id, &admin)
            .await
            .contains(&"rp-via-api".to_owned())
    );
    assert!(
        d.cli(&["client", "list", "--party", PUBLISHER])
            .contains("rp-via-api")
    );

    let tokens = code_flow(&d, "rp-via-api", &secret).await;
    assert!(tokens["id_token"].is_string() && tokens["refresh_token"].is_string());
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(userinfo_status(&d, access).await, 200);
    // A user's access token is no admin token.
    let as_user = d.get("/oidc-clients/rp-via-api", access).await;
    assert_eq!(
        (as_user.status, as_user.problem()),
        (403, "insufficient-scope")
    );

    // A replaced registration takes effect at once: without refresh_token there is no
    // refresh token, and the secret stays.
    let mut changed = code_client("rp-via-api");
    changed["grant_types"] = json!(["authorization_code"]);
    changed["name"] = json!("Rekenrijk 2");
    let replaced = d
        .send_json(
            reqwest::Method::PUT,
            "/oidc-clients/rp-via-api",
            &admin,
            &changed,
        )
        .await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert!(replaced.body.get("client_secret").is_none());
    let again = code_flow(&d, "rp-via-api", &secret).await;
    assert!(again.get("refresh_token").is_none(), "{again}");

    // Rotation: the new secret is shown once, the old one stops working.
    let rotated = d
        .call(
            reqwest::Method::POST,
            "/oidc-clients/rp-via-api/secret",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let fresh = rotated.body["client_secret"].as_str().unwrap().to_owned();
    let (status, _) = d
        .token(
            &[("grant_type", "refresh_token"), ("refresh_token", "x")],
            "rp-via-api",
            &secret,
        )
        .await;
    assert_eq!(status, 401, "the old secret no longer authenticates");
    code_flow(&d, "rp-via-api", &fresh).await;
    // A public client has no secret to rotate.
    let mut public = code_client("rp-public-app");
    public["token_endpoint_auth_method"] = json!("none");
    public["grant_types"] = json!(["authorization_code"]);
    let p = d
        .send_json(
            reqwest::Method::POST,
            &format!("/parties/{PUBLISHER}/oidc-clients"),
            &admin,
            &public,
        )
        .await;
    assert_eq!(p.status, 201, "{}", p.body);
    assert!(p.body.get("client_secret").is_none());
    let none = d
        .call(
            reqwest::Method::POST,
            "/oidc-clients/rp-public-app/secret",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!((none.status, none.problem()), (409, "conflict"));
}

#[tokio::test]
async fn rejected_registration_changes_nothing() {
    let d = demo();
    let admin = d.admin_token().await;
    let path = format!("/parties/{PUBLISHER}/oidc-clients");
    let before = d.client_ids(PUBLISHER, &admin).await;

    let mut not_https = code_client("rp-refused");
    not_https["redirect_uris"] = json!([REDIRECT, "http://example.org/cb"]);
    let a = d
        .send_json(reqwest::Method::POST, &path, &admin, &not_https)
        .await;
    assert_eq!((a.status, a.problem()), (422, "validation"));
    assert_eq!(a.body["errors"][0]["field"], "redirect_uris[1]");
    assert_eq!(a.body["errors"][0]["pointer"], "/redirect_uris/1");
    assert!(
        a.body["detail"]
            .as_str()
            .unwrap()
            .contains("moet https gebruiken"),
        "Dutch first: {}",
        a.body
    );
    assert!(
        a.body["detail_en"]
            .as_str()
            .unwrap()
            .contains("must use https")
    );

    let mut typo = code_client("rp-refused");
    typo["backchannel_logout_url"] = json!("https://example.org/logout");
    let b = d
        .send_json(reqwest::Method::POST, &path, &admin, &typo)
        .await;
    assert_eq!((b.status, b.problem()), (422, "validation"));
    assert_eq!(b.body["errors"][0]["field"], "backchannel_logout_url");

    let mut other_party = code_client("rp-refused");
    other_party["party_id"] = json!("some-other-party");
    let c = d
        .send_json(reqwest::Method::POST, &path, &admin, &other_party)
        .await;
    assert_eq!((c.status, c.problem()), (422, "validation"));

    let mut missing = code_client("rp-refused");
    missing.as_object_mut().unwrap().remove("grant_types");
    let e = d
        .send_json(reqwest::Method::POST, &path, &admin, &missing)
        .await;
    assert_eq!((e.status, e.problem()), (422, "validation"));
    assert!(
        e.body["detail_en"]
            .as_str()
            .unwrap()
            .contains("grant_types"),
        "{}",
        e.body
    );

    let not_json = d
        .call(
            reqwest::Method::POST,
            &path,
            Some(&admin),
            Some(("application/json", b"{\"client_id\": ".to_vec())),
        )
        .await;
    assert_eq!((not_json.status, not_json.problem()), (400, "bad-request"));
    let form = d
        .call(
            reqwest::Method::POST,
            &path,
            Some(&admin),
            Some(("application/x-www-form-urlencoded", b"client_id=x".to_vec())),
        )
        .await;
    assert_eq!(
        (form.status, form.problem()),
        (415, "unsupported-media-type")
    );
    let (status, head, body) = d
        .announce_body(&path, &admin, "application/json", 65 * 1024)
        .await;
    assert_eq!(status, 413, "{head}");
    assert!(head.contains("connection: close"), "{head}");
    assert_eq!(body["type"], "urn:openpoort:problem:payload-too-large");
    let unknown_party = d
        .send_json(
            reqwest::Method::POST,
            "/parties/no-such-party/oidc-clients",
            &admin,
            &code_client("rp-refused"),
        )
        .await;
    assert_eq!(
        (unknown_party.status, unknown_party.problem()),
        (404, "not-found")
    );

    assert_eq!(
        d.client_ids(PUBLISHER, &admin).await,
        before,
        "nothing registered"
    );
    assert_eq!(d.get("/oidc-clients/rp-refused", &admin).await.status, 404);

    // A taken client id, and a bad replacement, leave the existing client as it was.
    let first = d
        .send_json(
            reqwest::Method::POST,
            &path,
            &admin,
            &code_client("rp-existing"),
        )
        .await;
    assert_eq!(first.status, 201);
    let mut clash = code_client("rp-existing");
    clash["name"] = json!("Imposter");
    let taken = d
        .send_json(reqwest::Method::POST, &path, &admin, &clash)
        .await;
    assert_eq!((taken.status, taken.problem()), (409, "conflict"));
    let mut bad = code_client("rp-existing");
    bad["scopes"] = json!(["profile"]);
    let refused = d
        .send_json(
            reqwest::Method::PUT,
            "/oidc-clients/rp-existing",
            &admin,
            &bad,
        )
        .await;
    assert_eq!((refused.status, refused.problem()), (422, "validation"));
    assert_eq!(refused.body["errors"][0]["field"], "scopes");
    let mut renamed = code_client("rp-other-id");
    renamed["name"] = json!("Imposter");
    let moved = d
        .send_json(
            reqwest::Method::PUT,
            "/oidc-clients/rp-existing",
            &admin,
            &renamed,
        )
        .await;
    assert_eq!((moved.status, moved.problem()), (422, "validation"));
    let now = d.get("/oidc-clients/rp-existing", &admin).await;
    assert_eq!(now.body["name"], "Rekenrijk");
    assert_eq!(now.body["scopes"], json!(["openid", "profile"]));
    // And the secret still works.
    let secret = first.body["client_secret"].as_str().unwrap();
    code_flow(&d, "rp-existing", secret).await;
}

#[tokio::test]
async fn deleted_client_tokens_stop_working() {
    let d = demo();
    let admin = d.admin_token().await;
    let created = d
        .send_json(
            reqwest::Method::POST,
            &format!("/parties/{PUBLISHER}/oidc-clients"),
            &admin,
            &code_client("rp-short-lived"),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let secret = created.body["client_secret"].as_str().unwrap().to_owned();
    let tokens = code_flow(&d, "rp-short-lived", &secret).await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(userinfo_status(&d, access).await, 200);

    let deleted = d
        .call(
            reqwest::Method::DELETE,
            "/oidc-clients/rp-short-lived",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert_eq!(userinfo_status(&d, access).await, 401, "access token ended");
    let (status, _) = d
        .token(
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
            "rp-short-lived",
            &secret,
        )
        .await;
    assert_eq!(status, 401, "the client no longer exists");
    assert_eq!(
        d.get("/oidc-clients/rp-short-lived", &admin).await.status,
        404
    );
    let twice = d
        .call(
            reqwest::Method::DELETE,
            "/oidc-clients/rp-short-lived",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!((twice.status, twice.problem()), (404, "not-found"));

    // Registered again under the same id, the client gets none of the old one's tokens.
    let again = d
        .send_json(
            reqwest::Method::POST,
            &format!("/parties/{PUBLISHER}/oidc-clients"),
            &admin,
            &code_client("rp-short-lived"),
        )
        .await;
    assert_eq!(again.status, 201);
    let new_secret = again.body["client_secret"].as_str().unwrap();
    let (status, body) = d
        .token(
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
            "rp-short-lived",
            new_secret,
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    assert_eq!(userinfo_status(&d, access).await, 401);

    // The admin client deleting itself ends its own token too.
    let gone = d
        .call(
            reqwest::Method::DELETE,
            &format!("/oidc-clients/{ADMIN}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(gone.status, 204);
    let after = d
        .get(&format!("/parties/{PUBLISHER}/oidc-clients"), &admin)
        .await;
    assert_eq!((after.status, after.problem()), (401, "unauthorized"));
}
