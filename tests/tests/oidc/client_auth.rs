//! Client authentication at the token endpoint: secrets, private_key_jwt, jwks_uri.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::CoreErrorResponseType;
use openidconnect::{AuthType, AuthorizationCode, TokenResponse};
use serde_json::{Value, json};

use openpoort_e2e::{bram_signed_in, on_both_stores};

use crate::common::{
    Demo, PUBLISHER, REDIRECT, back_at_client, code_for, demo, demo_on, error_of, rp_request,
    unix_now,
};

#[tokio::test]
async fn bad_client_secret_is_refused() {
    let d = demo();
    let secret = d.confidential_client("rp-secret-app");
    let mut b = bram_signed_in(d.base()).await;
    let (code, verifier) = code_for(&d, &mut b, "rp-secret-app", &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.as_str()),
    ];
    for wrong in ["verkeerd", &secret[..secret.len() - 1], ""] {
        let response = d
            .http
            .0
            .post(d.url("/oidc/token"))
            .basic_auth("rp-secret-app", Some(wrong))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 401, "{wrong:?}");
        assert!(
            response.headers().get("www-authenticate").is_some(),
            "RFC 6749 §5.2"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client", "{wrong:?}");
    }
    // A failed client authentication spends nothing: the right secret still redeems the code,
    // in a response no cache keeps (RFC 6749 §5.1).
    let response = d
        .http
        .0
        .post(d.url("/oidc/token"))
        .basic_auth("rp-secret-app", Some(&secret))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let body: Value = response.json().await.unwrap();
    assert!(body["access_token"].is_string(), "{body}");
}

#[tokio::test]
async fn client_secret_post_client_cannot_use_basic() {
    let d = demo();
    let secret = d
        .add_client(
            PUBLISHER,
            "rp-post-client",
            &["--auth", "client_secret_post"],
        )
        .expect("secret");
    let (rp, _) = d.relying_party("rp-post-client", Some(&secret)).await;
    let mut b = bram_signed_in(d.base()).await;
    let (url, _, nonce, verifier) = rp_request(&rp);
    let q = back_at_client(&b.get(url.as_str()).await);
    let code = AuthorizationCode::new(q["code"].clone());

    // Basic (openidconnect's default) is not what this client registered.
    let basic = rp
        .clone()
        .set_auth_type(AuthType::BasicAuth)
        .exchange_code(code.clone())
        .unwrap()
        .set_pkce_verifier(openidconnect::PkceCodeVerifier::new(
            verifier.secret().clone(),
        ))
        .request_async(&d.http)
        .await;
    assert_eq!(error_of(basic), CoreErrorResponseType::InvalidClient);
    // Secret in the body as well as in the header: still not the registered method.
    let (status, _) = d
        .post(
            "/oidc/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", code.secret()),
                ("redirect_uri", REDIRECT),
                ("client_id", "rp-post-client"),
                ("client_secret", &secret),
            ],
            Some(("rp-post-client", &secret)),
        )
        .await;
    assert_eq!(status, 401);
    // In the body, as registered.
    let rp = rp.set_auth_type(AuthType::RequestBody);
    let token = d
        .exchange(&rp, code.secret(), verifier)
        .await
        .unwrap_or_else(|e| panic!("client_secret_post: {e:?}"));
    token
        .id_token()
        .expect("ID token")
        .claims(&rp.id_token_verifier(), &nonce)
        .unwrap_or_else(|e| panic!("ID token: {e:?}"));
}

/// A private_key_jwt (RFC 7523) client's key pair, made with OpenSSL here.
struct ClientKey {
    key: openssl::pkey::PKey<openssl::pkey::Private>,
    kid: String,
}

impl ClientKey {
    /// An RSA-2048 key (RS256).
    fn rsa(kid: &str) -> ClientKey {
        let rsa = openssl::rsa::Rsa::generate(2048).expect("RSA key");
        ClientKey {
            key: openssl::pkey::PKey::from_rsa(rsa).unwrap(),
            kid: kid.to_owned(),
        }
    }

    /// A P-256 key (ES256).
    fn p256(kid: &str) -> ClientKey {
        let group =
            openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap();
        let ec = openssl::ec::EcKey::generate(&group).expect("P-256 key");
        ClientKey {
            key: openssl::pkey::PKey::from_ec_key(ec).unwrap(),
            kid: kid.to_owned(),
        }
    }

    fn alg(&self) -> &'static str {
        if self.key.rsa().is_ok() {
            "RS256"
        } else {
            "ES256"
        }
    }

    fn jwk_set(&self) -> Value {
        let b64 = |bytes: Vec<u8>| URL_SAFE_NO_PAD.encode(bytes);
        let jwk = match self.key.rsa() {
            Ok(rsa) => json!({
                "kty": "RSA",
                "n": b64(rsa.n().to_vec()),
                "e": b64(rsa.e().to_vec()),
            }),
            Err(_) => {
                let ec = self.key.ec_key().unwrap();
                let mut ctx = openssl::bn::BigNumContext::new().unwrap();
                let (mut x, mut y) = (
                    openssl::bn::BigNum::new().unwrap(),
                    openssl::bn::BigNum::new().unwrap(),
                );
                ec.public_key()
                    .affine_coordinates(ec.group(), &mut x, &mut y, &mut ctx)
                    .unwrap();
                json!({
                    "kty": "EC",
                    "crv": "P-256",
                    "x": b64(x.to_vec_padded(32).unwrap()),
                    "y": b64(y.to_vec_padded(32).unwrap()),
                })
            }
        };
        let mut jwk = jwk;
        jwk["kid"] = json!(self.kid);
        jwk["use"] = json!("sig");
        jwk["alg"] = json!(self.alg());
        json!({ "keys": [jwk] })
    }

    /// A client assertion: iss = sub = client_id, aud, exp, jti.
    fn assertion(&self, client_id: &str, aud: &str, jti: &str) -> String {
        let now = unix_now();
        let header = json!({"alg": self.alg(), "typ": "JWT", "kid": self.kid});
        let claims = json!({
            "iss": client_id, "sub": client_id, "aud": aud,
            "iat": now, "exp": now + 60, "jti": jti,
        });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = match self.key.ec_key() {
            // JWS ES256 is r || s, 32 bytes each, not OpenSSL's DER.
            Ok(ec) => {
                let digest = openssl::sha::sha256(input.as_bytes());
                let sig = openssl::ecdsa::EcdsaSig::sign(&digest, &ec).unwrap();
                let mut raw = sig.r().to_vec_padded(32).unwrap();
                raw.extend(sig.s().to_vec_padded(32).unwrap());
                raw
            }
            Err(_) => {
                let mut signer =
                    openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &self.key)
                        .unwrap();
                signer.sign_oneshot_to_vec(input.as_bytes()).unwrap()
            }
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Registers `client_id` with private_key_jwt and the key's public JWK Set.
fn key_client(d: &Demo, client_id: &str, key: &ClientKey, grants: &[&str]) {
    let path = d.dir.path().join(format!("{client_id}.jwks.json"));
    std::fs::write(&path, key.jwk_set().to_string()).unwrap();
    let path = path.to_str().unwrap().to_owned();
    let mut args = vec!["--auth", "private_key_jwt", "--jwks-file", path.as_str()];
    for g in grants {
        args.extend(["--grant", g]);
    }
    assert!(
        d.add_client(PUBLISHER, client_id, &args).is_none(),
        "no secret for private_key_jwt"
    );
}

#[tokio::test]
async fn private_key_jwt_client_authenticates_with_a_signed_assertion() {
    let d = demo();
    let key = ClientKey::rsa("sleutel-1");
    key_client(&d, "rp-key-client", &key, &["authorization_code"]);
    let mut b = bram_signed_in(d.base()).await;
    let token_endpoint = d.url("/oidc/token");
    let (code, verifier) = code_for(&d, &mut b, "rp-key-client", &[]).await;
    let exchange = |assertion: String| {
        let (d, code, verifier) = (&d, &code, &verifier);
        async move {
            d.post(
                "/oidc/token",
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", verifier),
                    ("client_assertion_type", ASSERTION_TYPE),
                    ("client_assertion", &assertion),
                ],
                None,
            )
            .await
        }
    };
    // Refused before the grant is looked at: signed by another key, for another audience,
    // about another client.
    let stranger = ClientKey::rsa("sleutel-1");
    for (why, assertion) in [
        (
            "another key",
            stranger.assertion("rp-key-client", &token_endpoint, "j-1"),
        ),
        (
            "another audience",
            key.assertion("rp-key-client", "https://elders.example/token", "j-2"),
        ),
        (
            "another client",
            key.assertion("rp-other-client", &token_endpoint, "j-3"),
        ),
    ] {
        let (status, body) = exchange(assertion).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_client")),
            "{why}: {body}"
        );
    }
    let (status, body) = exchange(key.assertion("rp-key-client", &token_endpoint, "j-4")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id_token"].is_string());
}

#[tokio::test]
async fn private_key_jwt_assertion_cannot_be_replayed() {
    let d = demo();
    // P-256 this time: discovery offers ES256 for client assertions too.
    let key = ClientKey::p256("sleutel-ec");
    key_client(&d, "rp-key-service", &key, &["client_credentials"]);
    let assertion = key.assertion("rp-key-service", &d.url("/oidc/token"), "eenmalig");
    let form = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", assertion.as_str()),
    ];
    let (status, body) = d.post("/oidc/token", &form, None).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = d.post("/oidc/token", &form, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "{body}"
    );
    // A new jti is a new assertion.
    let fresh = key.assertion("rp-key-service", &d.url("/oidc/token"), "nog-een");
    let (status, body) = d
        .post(
            "/oidc/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", &fresh),
            ],
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// A client's jwks_uri host: answers each path with the status and body it holds, and counts
/// the requests per path.
type JwksAnswers =
    std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, (u16, String, usize)>>>;

async fn jwks_host(answers: JwksAnswers) -> String {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let answers = answers.clone();
            tokio::spawn(async move {
                let Some(request) = openpoort_e2e::read_request_head(&mut socket).await else {
                    return;
                };
                let head = String::from_utf8_lossy(&request);
                let path = head.split(' ').nth(1).unwrap_or("").to_owned();
                let (status, body) = {
                    let mut answers = answers.lock().unwrap();
                    match answers.get_mut(&path) {
                        Some((status, body, count)) => {
                            *count += 1;
                            (*status, body.clone())
                        }
                        None => (404, String::new()),
                    }
                };
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    base
}

fn jwks_uri_client(d: &Demo, client_id: &str, uri: &str) {
    let args = [
        "--auth",
        "private_key_jwt",
        "--jwks-uri",
        uri,
        "--grant",
        "client_credentials",
    ];
    assert!(d.add_client(PUBLISHER, client_id, &args).is_none());
}

async fn client_credentials(d: &Demo, assertion: &str) -> u16 {
    d.post(
        "/oidc/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion),
        ],
        None,
    )
    .await
    .0
}

// The claim that makes a burst wait for one fetch lives in the short-lived store: both stores.
on_both_stores! {
async fn a_failing_jwks_uri_is_fetched_once_for_a_burst_and_an_oversized_one_is_refused(store: Store) {
    let d = demo_on(store);
    let key = ClientKey::rsa("sleutel-uri");
    let answers: JwksAnswers = Default::default();
    let small = key.jwk_set().to_string();
    // A valid set, padded past the limit: only the size makes it wrong.
    let padded = format!("{}{}", " ".repeat(200 * 1024), small);
    for (path, status, body) in [
        ("/kapot", 500, String::new()),
        ("/groot", 200, padded),
        ("/goed", 200, small),
    ] {
        answers
            .lock()
            .unwrap()
            .insert(path.to_owned(), (status, body, 0));
    }
    let base = jwks_host(answers.clone()).await;
    let token_endpoint = d.url("/oidc/token");
    let requests = |path: &str| answers.lock().unwrap()[path].2;

    jwks_uri_client(&d, "rp-jwks-goed", &format!("{base}/goed"));
    let status = client_credentials(
        &d,
        &key.assertion("rp-jwks-goed", &token_endpoint, "goed-1"),
    )
    .await;
    assert_eq!(status, 200, "a good jwks_uri works");

    jwks_uri_client(&d, "rp-jwks-groot", &format!("{base}/groot"));
    let status = client_credentials(
        &d,
        &key.assertion("rp-jwks-groot", &token_endpoint, "groot-1"),
    )
    .await;
    assert_eq!(status, 401, "an oversized JWK Set is refused");

    // A burst of token requests while the jwks_uri fails: one fetch, then none for a while.
    jwks_uri_client(&d, "rp-jwks-kapot", &format!("{base}/kapot"));
    let mut burst = tokio::task::JoinSet::new();
    for i in 0..20 {
        let http = reqwest::Client::new();
        let url = token_endpoint.clone();
        let assertion = key.assertion("rp-jwks-kapot", &token_endpoint, &format!("kapot-{i}"));
        burst.spawn(async move {
            http.post(url)
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_assertion_type", ASSERTION_TYPE),
                    ("client_assertion", assertion.as_str()),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
    }
    while let Some(status) = burst.join_next().await {
        assert_eq!(status.unwrap(), 401);
    }
    for i in 0..5 {
        let assertion = key.assertion("rp-jwks-kapot", &token_endpoint, &format!("daarna-{i}"));
        assert_eq!(client_credentials(&d, &assertion).await, 401);
    }
    assert_eq!(requests("/kapot"), 1, "fetched once, not once per request");
}
}
