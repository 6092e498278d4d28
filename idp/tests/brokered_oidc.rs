//! Brokered login over OpenID Connect, end to end over the real router: a network provider's
//! OpenID Connect provider runs inside the test on a loopback port (discovery, JWKS and a token
//! endpoint that checks the client secret and PKCE, ID tokens signed with OpenSSL), and
//! openpoort, its relying party, signs the vouched-for pupil into the demo publisher.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use directory::Actor;
use directory::model::PartyKind;
use idp::upstream::registry::{self, MatchBy, OidcClientAuth, OidcSettings, Settings};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::sha::sha256;
use openssl::sign::Signer;
use serde_json::{Value, json};

use support::publisher::*;
use support::*;

const PROVIDER: &str = "zulu";
const ACR: &str = "urn:openpoort:acr:network:zulu";
const UPSTREAM_CLIENT: &str = "openpoort-at-zulu";
const UPSTREAM_SECRET: &str = "zulu-client-secret-for-openpoort";

/// What the provider will put in the ID token for the next code, and the request it answers.
#[derive(Clone)]
struct Issued {
    claims: Value,
    challenge: String,
    signed_by_other_key: bool,
}

#[derive(Clone)]
struct Op {
    issuer: String,
    key: PKey<Private>,
    other_key: PKey<Private>,
    codes: Arc<Mutex<HashMap<String, Issued>>>,
    /// Every token request's failure, for the test to read (the OP answers 400 as well).
    refusals: Arc<Mutex<Vec<String>>>,
}

fn jwt(key: &PKey<Private>, claims: &Value) -> String {
    let header = json!({"alg": "RS256", "kid": "zulu-1", "typ": "JWT"});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut signer = Signer::new(MessageDigest::sha256(), key).unwrap();
    signer.update(input.as_bytes()).unwrap();
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(signer.sign_to_vec().unwrap())
    )
}

async fn discovery(State(op): State<Op>) -> Json<Value> {
    Json(json!({
        "issuer": op.issuer,
        "authorization_endpoint": format!("{}/authorize", op.issuer),
        "token_endpoint": format!("{}/token", op.issuer),
        "jwks_uri": format!("{}/jwks", op.issuer),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
    }))
}

async fn jwks(State(op): State<Op>) -> Json<Value> {
    let rsa = op.key.rsa().unwrap();
    Json(json!({"keys": [{
        "kty": "RSA", "kid": "zulu-1", "use": "sig", "alg": "RS256",
        "n": URL_SAFE_NO_PAD.encode(rsa.n().to_vec()),
        "e": URL_SAFE_NO_PAD.encode(rsa.e().to_vec()),
    }]}))
}

async fn token(
    State(op): State<Op>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    let refuse = |why: &str| {
        op.refusals.lock().unwrap().push(why.to_owned());
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": why})),
        )
    };
    let expected = format!(
        "Basic {}",
        STANDARD.encode(format!("{UPSTREAM_CLIENT}:{UPSTREAM_SECRET}"))
    );
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        != Some(&expected)
    {
        return refuse("client authentication");
    }
    let Some(issued) = form
        .get("code")
        .and_then(|c| op.codes.lock().unwrap().remove(c))
    else {
        return refuse("unknown code");
    };
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    if URL_SAFE_NO_PAD.encode(sha256(verifier.as_bytes())) != issued.challenge {
        return refuse("PKCE");
    }
    let key = if issued.signed_by_other_key {
        &op.other_key
    } else {
        &op.key
    };
    (
        StatusCode::OK,
        Json(json!({
            "access_token": "zulu-access-token",
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": jwt(key, &issued.claims),
        })),
    )
}

async fn start_op() -> Op {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let op = Op {
        issuer,
        key: PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap(),
        other_key: PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap(),
        codes: Arc::default(),
        refusals: Arc::default(),
    };
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/token", post(token))
        .with_state(op.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    op
}

/// The demo with the provider connected over OIDC (matching on the LAS key within the school
/// its claim names), chosen by the demo school when `selected`, and a publisher client.
async fn brokered(selected: bool) -> (Demo, Op) {
    let d = demo_from("127.0.0.1:40001").await;
    let op = start_op().await;
    let actor = Actor::system("test");
    let party = d
        .directory
        .create_party(PROVIDER, PartyKind::NetworkProvider, "Zulu Connect", &actor)
        .await
        .unwrap();
    let settings = Settings {
        match_by: MatchBy::LasKey,
        identifier: Some("las_key".into()),
        school: Some("brin_vestiging".into()),
        require_signed_assertion: true,
        allow_unsolicited: false,
        metadata_certificate: None,
        oidc: Some(OidcSettings {
            client_id: UPSTREAM_CLIENT.into(),
            auth: OidcClientAuth::ClientSecretBasic,
            scopes: vec![],
        }),
    };
    registry::connect_oidc(
        &d.directory,
        PROVIDER,
        &op.issuer,
        Some(UPSTREAM_SECRET.into()),
        &settings,
        true,
        &actor,
    )
    .await
    .unwrap();
    if selected {
        d.directory
            .grant_consent(&d.seeded.school.id, &party.id, &actor)
            .await
            .unwrap();
    }
    register_client(&d, &actor).await;
    (d, op)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// How the provider's answer departs from an honest one.
#[derive(Clone, Copy, Default)]
struct Tamper {
    nonce: bool,
    audience: bool,
    signature: bool,
}

impl Browser<'_> {
    /// The user at the provider (the authorization request at `location`) and back at
    /// openpoort's callback with a code; what openpoort answers there.
    async fn at_provider(&mut self, op: &Op, location: &str, las_key: &str, t: Tamper) -> Answer {
        assert!(
            location.starts_with(&format!("{}/authorize?", op.issuer)),
            "{location}"
        );
        let q = query_of(location);
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], UPSTREAM_CLIENT);
        assert_eq!(q["code_challenge_method"], "S256");
        assert!(q["scope"].split(' ').any(|s| s == "openid"));
        let code = format!("code-{}", q["state"]);
        op.codes.lock().unwrap().insert(
            code.clone(),
            Issued {
                claims: json!({
                    "iss": op.issuer,
                    "sub": format!("zulu-{las_key}"),
                    "aud": if t.audience { "someone-else" } else { UPSTREAM_CLIENT },
                    "exp": now() + 300,
                    "iat": now(),
                    "nonce": if t.nonce { "not-the-nonce".to_owned() } else { q["nonce"].clone() },
                    "las_key": las_key,
                    "brin_vestiging": "99ZZ00",
                }),
                challenge: q["code_challenge"].clone(),
                signed_by_other_key: t.signature,
            },
        );
        assert!(q["redirect_uri"].ends_with("/login/netwerk/terug"));
        let back = format!(
            "/login/netwerk/terug?code={code}&state={}",
            url::form_urlencoded::byte_serialize(q["state"].as_bytes()).collect::<String>()
        );
        self.get(&back).await
    }
}

fn shortcut_path(d: &Demo) -> String {
    format!(
        "/login/snelkoppelaar?NETWERKBEHEERDER={PROVIDER}&INSTELLING_REF={}",
        d.seeded.school.instelling_ref
    )
}

#[tokio::test]
async fn a_pupil_vouched_for_over_oidc_is_signed_in_to_the_publisher() {
    let (d, op) = brokered(true).await;
    let mut b = d.browser();
    let to_provider = redirected(&b.get(&shortcut_path(&d)).await);
    let landed = b
        .at_provider(&op, &to_provider, "L005", Tamper::default())
        .await;
    assert_eq!(redirected(&landed), "/");
    assert!(b.has_session());
    assert!(
        op.refusals.lock().unwrap().is_empty(),
        "secret and PKCE were right"
    );
    let code = redirected(&b.get(&authorize_path("")).await);
    let claims = id_token_claims(&d, &code).await;
    assert_eq!(claims["acr"], ACR);
}

#[tokio::test]
async fn an_oidc_idp_hint_goes_to_the_oidc_provider_and_back_to_the_publisher() {
    let (d, op) = brokered(true).await;
    let mut b = d.browser();
    let to_network = redirected(
        &b.get(&authorize_path(&format!("&idp_hint={PROVIDER}")))
            .await,
    );
    let to_provider = redirected(&b.get(&to_network).await);
    let back = redirected(
        &b.at_provider(&op, &to_provider, "L005", Tamper::default())
            .await,
    );
    assert!(back.starts_with("/oidc/authorize?"), "{back}");
    let code = redirected(&b.get(&back).await);
    assert_eq!(id_token_claims(&d, &code).await["acr"], ACR);
}

async fn refused(t: Tamper) {
    let (d, op) = brokered(true).await;
    let mut b = d.browser();
    let to_provider = redirected(&b.get(&shortcut_path(&d)).await);
    let a = b.at_provider(&op, &to_provider, "L005", t).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(a.body.contains("geweigerd"), "{}", a.body);
    assert!(!b.has_session());
}

#[tokio::test]
async fn an_id_token_with_a_wrong_nonce_is_refused() {
    refused(Tamper {
        nonce: true,
        ..Tamper::default()
    })
    .await;
}

#[tokio::test]
async fn an_id_token_for_another_audience_is_refused() {
    refused(Tamper {
        audience: true,
        ..Tamper::default()
    })
    .await;
}

#[tokio::test]
async fn an_id_token_signed_by_a_key_not_in_the_providers_jwks_is_refused() {
    refused(Tamper {
        signature: true,
        ..Tamper::default()
    })
    .await;
}

#[tokio::test]
async fn a_callback_is_used_once() {
    let (d, op) = brokered(true).await;
    let mut b = d.browser();
    let to_provider = redirected(&b.get(&shortcut_path(&d)).await);
    let q = query_of(&to_provider);
    let first = b
        .at_provider(&op, &to_provider, "L005", Tamper::default())
        .await;
    assert_eq!(redirected(&first), "/");
    // The same state again, with a fresh code the provider would honour.
    let mut again = d.browser();
    again.cookies = b.cookies.clone();
    let a = again
        .get(&format!(
            "/login/netwerk/terug?code=other&state={}",
            url::form_urlencoded::byte_serialize(q["state"].as_bytes()).collect::<String>()
        ))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(a.body.contains("verlopen"), "{}", a.body);
}

#[tokio::test]
async fn a_callback_in_another_browser_is_refused() {
    let (d, op) = brokered(true).await;
    let mut victim = d.browser();
    let to_provider = redirected(&victim.get(&shortcut_path(&d)).await);
    let mut other = d.browser();
    let a = other
        .at_provider(&op, &to_provider, "L005", Tamper::default())
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    assert!(!other.has_session());
}

#[tokio::test]
async fn the_providers_error_answer_is_shown_and_spends_the_login() {
    let (d, op) = brokered(true).await;
    let mut b = d.browser();
    let to_provider = redirected(&b.get(&shortcut_path(&d)).await);
    let q = query_of(&to_provider);
    let state = url::form_urlencoded::byte_serialize(q["state"].as_bytes()).collect::<String>();
    let a = b
        .get(&format!(
            "/login/netwerk/terug?error=access_denied&error_description=user+cancelled&state={state}"
        ))
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(a.body.contains("access_denied"), "{}", a.body);
    assert!(!b.has_session());
    // The waiting login is gone: a code for it now finds nothing.
    let late = b
        .at_provider(&op, &to_provider, "L005", Tamper::default())
        .await;
    assert_eq!(late.status, StatusCode::BAD_REQUEST);
    assert!(!b.has_session());
}

#[tokio::test]
async fn a_school_that_did_not_select_the_oidc_provider_gets_no_session() {
    let (d, op) = brokered(false).await;
    // Through a publisher's hint (no school named up front), the match itself refuses.
    let mut b = d.browser();
    let to_network = redirected(
        &b.get(&authorize_path(&format!("&idp_hint={PROVIDER}")))
            .await,
    );
    let to_provider = redirected(&b.get(&to_network).await);
    let a = b
        .at_provider(&op, &to_provider, "L005", Tamper::default())
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    assert!(!b.has_session());
}
