//! The demo publisher as an OpenID Connect client in the in-process tests: registered as a
//! public client with PKCE, its authorization request, and the ID token its code redeems for.

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use directory::Actor;
use openssl::sha::sha256;
use serde_json::{Value, json};

use super::{Answer, Demo};

pub const CLIENT_ID: &str = "rekenrijk-web";
pub const REDIRECT: &str = "https://rekenrijk.demo-uitgeverij.example/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// Registers the demo publisher's client.
pub async fn register_client(d: &Demo, actor: &Actor) {
    let publisher = d.party("demo-uitgeverij").await;
    let registration: metadata::client::ClientRegistration = serde_json::from_value(json!({
        "client_id": CLIENT_ID,
        "party_id": publisher.id,
        "name": "Rekenrijk",
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code"],
        "scopes": ["openid"],
        "token_endpoint_auth_method": "none",
    }))
    .unwrap();
    idp::clients::Registrar::on_server(actor)
        .register(&d.directory, &registration, true)
        .await
        .unwrap();
}

/// The query parameters of a Location, relative or absolute.
pub fn query_of(location: &str) -> HashMap<String, String> {
    url::Url::parse(&format!("http://x{location}"))
        .or_else(|_| url::Url::parse(location))
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// Where a 303 sends the browser, asserting it is one.
pub fn redirected(a: &Answer) -> String {
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    a.location().expect("a Location").to_owned()
}

/// The client's authorization request, with `extra` parameters appended.
pub fn authorize_path(extra: &str) -> String {
    let challenge = URL_SAFE_NO_PAD.encode(sha256(VERIFIER.as_bytes()));
    format!(
        "/oidc/authorize?response_type=code&client_id={CLIENT_ID}&redirect_uri={}&scope=openid&state=st4te&nonce=n0nce&code_challenge={challenge}&code_challenge_method=S256{extra}",
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    )
}

/// Redeems the code at the end of `location` (the answer to [`authorize_path`]) and returns
/// the ID token's claims.
pub async fn id_token_claims(d: &Demo, location: &str) -> Value {
    assert!(location.starts_with(REDIRECT), "{location}");
    let q = query_of(location);
    assert_eq!(q["state"], "st4te");
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "authorization_code"),
            ("code", q["code"].as_str()),
            ("redirect_uri", REDIRECT),
            ("client_id", CLIENT_ID),
            ("code_verifier", VERIFIER),
        ])
        .finish();
    let a = d
        .send(
            Request::post("/oidc/token")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let tokens: Value = serde_json::from_str(&a.body).unwrap();
    let payload = tokens["id_token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}
