//! A network provider's upstream through the admin API, by the rules of the CLI and the
//! operator's page: connected over SAML or OpenID Connect, shown without its secret, refused
//! bodies changing nothing.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Demo, PUBLISHER, demo};

pub const PROVIDER: &str = "moo";
pub const IDP: &str = "https://moo.example/idp";
const PATH: &str = "/parties/moo/upstream";

/// The network provider `moo`, not connected yet.
pub fn add_provider(d: &Demo) {
    d.cli(&[
        "party",
        "add",
        "--code",
        PROVIDER,
        "--kind",
        "network_provider",
        "--name",
        "MOO Netwerk",
    ]);
}

/// The provider's IdP metadata with a fresh signing key.
pub fn metadata() -> String {
    let (_, cert) = openpoort_e2e::self_signed("moo idp");
    openpoort_e2e::idp_metadata(IDP, &cert, None)
}

fn saml_body() -> Value {
    json!({
        "protocol": "saml",
        "metadata_xml": metadata(),
        "match_by": "las_key",
        "identifier": "lasKey",
        "school": "brinVestiging",
        "allow_unsolicited": false,
    })
}

#[tokio::test]
async fn a_saml_upstream_is_connected_from_xml_shown_and_reconnected_keeping_its_settings() {
    let d = demo();
    add_provider(&d);
    let token = d.admin_token().await;
    let none = d.get(PATH, &token).await;
    assert_eq!(none.status, 404, "{}", none.body);
    assert!(
        none.body["detail"]
            .as_str()
            .unwrap()
            .contains("niet gekoppeld")
    );

    let connected = d.send_json(Method::PUT, PATH, &token, &saml_body()).await;
    assert_eq!(connected.status, 201, "{}", connected.body);
    let c = &connected.body;
    assert_eq!(c["protocol"], "saml");
    assert_eq!(c["party"], PROVIDER);
    assert_eq!(c["entity_id"], IDP);
    assert_eq!(c["match_by"], "las_key");
    assert_eq!(c["school"], "brinVestiging");
    assert_eq!(c["allow_unsolicited"], false);
    assert_eq!(c["require_signed_assertion"], true);
    assert_eq!(c["metadata_url"], Value::Null);
    // What the provider is given is what openpoort's own SP metadata says.
    let sp_metadata = d
        .http
        .get(d.url("/saml/sp/metadata"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let entity = c["sp_entity_id"].as_str().unwrap();
    assert!(entity.ends_with("/saml/sp/metadata"), "{c}");
    assert_eq!(c["sp_metadata_url"], entity);
    assert!(
        sp_metadata.contains(&format!("entityID=\"{entity}\"")),
        "{sp_metadata}"
    );
    let acs = c["acs_url"].as_str().unwrap();
    assert!(acs.ends_with("/saml/acs"), "{c}");
    assert!(
        sp_metadata.contains(&format!("Location=\"{acs}\"")),
        "{sp_metadata}"
    );
    let shown = d.get(PATH, &token).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert_eq!(&shown.body, c);
    // The command line reads the same register.
    let cli = d.cli(&["party", "upstream-show", "--party", PROVIDER]);
    assert!(
        cli.contains("match by: las_key, identifier lasKey, school brinVestiging"),
        "{cli}"
    );

    // New metadata (a key rollover) without the rule: the stored rule is kept.
    let again = d
        .send_json(
            Method::PUT,
            PATH,
            &token,
            &json!({"protocol": "saml", "metadata_xml": metadata()}),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    for field in [
        "match_by",
        "identifier",
        "school",
        "allow_unsolicited",
        "require_signed_assertion",
        "entity_id",
    ] {
        assert_eq!(again.body[field], c[field], "{field}: {}", again.body);
    }

    let refresh = d
        .call(Method::POST, &format!("{PATH}/refresh"), Some(&token), None)
        .await;
    assert_eq!(refresh.status, 422, "{}", refresh.body);
    assert!(
        refresh.body["detail_en"]
            .as_str()
            .unwrap()
            .contains("metadata file"),
        "{}",
        refresh.body
    );

    let removed = d.call(Method::DELETE, PATH, Some(&token), None).await;
    assert_eq!(removed.status, 204, "{}", removed.body);
    assert_eq!(d.get(PATH, &token).await.status, 404);
    let gone = d.call(Method::DELETE, PATH, Some(&token), None).await;
    assert_eq!(gone.status, 404, "{}", gone.body);
}

#[tokio::test]
async fn an_oidc_upstream_keeps_its_secret_when_reconnected_without_one_and_never_answers_it() {
    let d = demo();
    add_provider(&d);
    let token = d.admin_token().await;
    let body = json!({
        "protocol": "oidc",
        "issuer": "https://moo.example",
        "client_id": "openpoort",
        "auth": "client_secret_post",
        "scopes": ["eckid"],
        "match_by": "eck_id",
    });
    let refused = d.send_json(Method::PUT, PATH, &token, &body).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("client secret"),
        "{}",
        refused.body
    );
    assert_eq!(d.get(PATH, &token).await.status, 404, "nothing stored");

    let mut with_secret = body.clone();
    with_secret["client_secret"] = json!("heel-geheim-7");
    let connected = d.send_json(Method::PUT, PATH, &token, &with_secret).await;
    assert_eq!(connected.status, 201, "{}", connected.body);
    assert_eq!(connected.body["client_secret_set"], true);
    assert_eq!(connected.body["issuer"], "https://moo.example");
    assert_eq!(connected.body["auth"], "client_secret_post");
    assert_eq!(connected.body["scopes"], json!(["eckid"]));
    let redirect = connected.body["redirect_uri"].as_str().unwrap();
    assert!(
        redirect.ends_with("/login/netwerk/terug") && redirect.starts_with("http"),
        "{}",
        connected.body
    );
    assert!(!connected.body.to_string().contains("heel-geheim-7"));

    // Without a secret, and without the rule: both are kept.
    let again = d
        .send_json(
            Method::PUT,
            PATH,
            &token,
            &json!({
                "protocol": "oidc", "issuer": "https://moo.example",
                "client_id": "openpoort-2", "auth": "client_secret_basic",
            }),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["client_secret_set"], true);
    assert_eq!(again.body["client_id"], "openpoort-2");
    assert_eq!(again.body["match_by"], "eck_id");
    assert_eq!(again.body["scopes"], json!(["eckid"]));
    let shown = d.get(PATH, &token).await;
    assert!(!shown.body.to_string().contains("heel-geheim-7"));
    assert!(
        d.cli(&["party", "upstream-show", "--party", PROVIDER])
            .contains("client secret opgeslagen / stored: ja / yes")
    );

    // Nothing to refresh over OpenID Connect.
    let refresh = d
        .call(Method::POST, &format!("{PATH}/refresh"), Some(&token), None)
        .await;
    assert_eq!(refresh.status, 422, "{}", refresh.body);
}

#[tokio::test]
async fn refused_upstream_bodies_each_change_nothing() {
    let d = demo();
    add_provider(&d);
    let token = d.admin_token().await;
    let connected = d.send_json(Method::PUT, PATH, &token, &saml_body()).await;
    assert_eq!(connected.status, 201, "{}", connected.body);
    let before = d.get(PATH, &token).await.body;

    let (_, federation) = openpoort_e2e::self_signed("federatie");
    let pin = String::from_utf8(federation.to_pem().unwrap()).unwrap();
    let with = |changes: Value| {
        let mut b = saml_body();
        for (k, v) in changes.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let mut no_school = saml_body();
    no_school.as_object_mut().unwrap().remove("school");
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        (
            "LAS key without the school attribute",
            no_school,
            422,
            "LAS-sleutel",
        ),
        (
            "metadata that is no metadata",
            with(json!({"metadata_xml": "<html>geen metadata</html>"})),
            422,
            "niet bruikbaar",
        ),
        (
            "unsigned metadata when a certificate is pinned",
            with(json!({"metadata_certificate": pin})),
            422,
            "niet bruikbaar",
        ),
        (
            "matching on e-mail",
            with(json!({"match_by": "email"})),
            422,
            "nooit e-mail",
        ),
        (
            "both the XML and a URL",
            with(json!({"metadata_url": "https://moo.example/md"})),
            422,
            "precies één",
        ),
        (
            "a rule setting without match_by",
            json!({"protocol": "saml", "metadata_xml": metadata(), "school": "brin"}),
            422,
            "match_by",
        ),
        (
            "OpenID Connect without a rule stored for it",
            json!({"protocol": "oidc", "issuer": "https://moo.example", "client_id": "x",
                   "auth": "private_key_jwt"}),
            422,
            "match_by",
        ),
        (
            "an issuer with a query",
            json!({"protocol": "oidc", "issuer": "https://moo.example/?a=1", "client_id": "x",
                   "auth": "private_key_jwt", "match_by": "eck_id"}),
            422,
            "zonder ? of #",
        ),
    ];
    for (what, body, status, detail) in cases {
        let a = d.send_json(Method::PUT, PATH, &token, &body).await;
        assert_eq!(a.status, status, "{what}: {}", a.body);
        a.problem();
        assert!(
            a.body["detail"].as_str().unwrap().contains(detail),
            "{what}: {detail} in {}",
            a.body
        );
        assert_eq!(d.get(PATH, &token).await.body, before, "{what} changed it");
    }
    // A field the API does not know is refused too, not ignored.
    let unknown = d
        .send_json(
            Method::PUT,
            PATH,
            &token,
            &with(json!({"matchBy": "eck_id"})),
        )
        .await;
    assert!(matches!(unknown.status, 400 | 422), "{}", unknown.body);
    assert_eq!(d.get(PATH, &token).await.body, before);

    // A publisher is no network provider: refused, and nothing is stored for it.
    let publisher = format!("/parties/{PUBLISHER}/upstream");
    let refused = d
        .send_json(Method::PUT, &publisher, &token, &saml_body())
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("geen netwerkaanbieder"),
        "{}",
        refused.body
    );
    assert_eq!(d.get(&publisher, &token).await.status, 422);
    // The metadata's entityID is the provider's own: another provider cannot take it.
    d.cli(&[
        "party",
        "add",
        "--code",
        "ander-netwerk",
        "--kind",
        "network_provider",
        "--name",
        "Ander",
    ]);
    let taken = d
        .send_json(
            Method::PUT,
            "/parties/ander-netwerk/upstream",
            &token,
            &saml_body(),
        )
        .await;
    assert_eq!(taken.status, 409, "{}", taken.body);
    assert_eq!(
        d.get("/parties/ander-netwerk/upstream", &token)
            .await
            .status,
        404
    );
    assert_eq!(d.get(PATH, &token).await.body, before);
}

#[tokio::test]
async fn a_token_without_the_admin_scope_reaches_no_upstream() {
    let d = demo();
    add_provider(&d);
    let token = d.admin_token().await;
    let connected = d.send_json(Method::PUT, PATH, &token, &saml_body()).await;
    assert_eq!(connected.status, 201, "{}", connected.body);
    let before = d.get(PATH, &token).await.body;
    let secret = d
        .add_client(
            PUBLISHER,
            "rp-geen-beheer",
            &["--grant", "client_credentials", "--scope", "school"],
        )
        .unwrap();
    let other = d
        .client_credentials("rp-geen-beheer", &secret, "school")
        .await;
    let body = json!({"protocol": "saml", "metadata_xml": metadata(), "match_by": "eck_id"});
    for (method, path) in [
        (Method::GET, PATH.to_owned()),
        (Method::PUT, PATH.to_owned()),
        (Method::DELETE, PATH.to_owned()),
        (Method::POST, format!("{PATH}/refresh")),
    ] {
        let a = d
            .call(
                method.clone(),
                &path,
                Some(&other),
                Some(("application/json", body.to_string().into_bytes())),
            )
            .await;
        assert_eq!(a.status, 403, "{method} {path}: {}", a.body);
        assert_eq!(a.problem(), "insufficient-scope");
    }
    assert_eq!(d.get(PATH, &token).await.body, before);
}
