//! openpoort as a relying party of a network provider's OpenID Connect OP, against a real OP
//! served here on loopback: discovery, a JWK Set (RSA and EC keys made with OpenSSL), and a
//! token endpoint that checks client authentication (basic, post, private_key_jwt verified with
//! openpoort's public key) and PKCE, and hands out the ID token each test signs. Each refusal
//! test changes one thing of an otherwise good login.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use directory::outbound::{Outbound, OutboundPolicy};
use idp::upstream::oidc::{
    self, ClientAuth, OidcProvider, Pending, ProviderInfo, Secret, UpstreamOidcError,
};
use openssl::bn::BigNumContext;
use openssl::ec::{EcGroup, EcKey, PointConversionForm};
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::{Padding, Rsa};
use openssl::sign::{RsaPssSaltlen, Signer};
use serde_json::{Map, Value, json};

const CLIENT_ID: &str = "openpoort-rp";
const SECRET: &str = "geheim:met&tekens";
const REDIRECT: &str = "https://openpoort.example/netwerk/oidc/callback";
const ACCESS_TOKEN: &str = "access-token-of-the-test-op";

/// A signing key of the test OP.
struct OpKey {
    kid: String,
    pkey: PKey<Private>,
}

impl OpKey {
    fn rsa(kid: &str) -> OpKey {
        OpKey {
            kid: kid.to_owned(),
            pkey: PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap(),
        }
    }

    fn ec(kid: &str) -> OpKey {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        OpKey {
            kid: kid.to_owned(),
            pkey: PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap(),
        }
    }

    fn jwk(&self) -> Value {
        if let Ok(rsa) = self.pkey.rsa() {
            json!({
                "kty": "RSA", "use": "sig", "kid": self.kid,
                "n": URL_SAFE_NO_PAD.encode(rsa.n().to_vec()),
                "e": URL_SAFE_NO_PAD.encode(rsa.e().to_vec()),
            })
        } else {
            let ec = self.pkey.ec_key().unwrap();
            let mut ctx = BigNumContext::new().unwrap();
            let bytes = ec
                .public_key()
                .to_bytes(ec.group(), PointConversionForm::UNCOMPRESSED, &mut ctx)
                .unwrap();
            json!({
                "kty": "EC", "use": "sig", "crv": "P-256", "kid": self.kid,
                "x": URL_SAFE_NO_PAD.encode(&bytes[1..33]),
                "y": URL_SAFE_NO_PAD.encode(&bytes[33..65]),
            })
        }
    }
}

fn b64json(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

/// A compact JWS of `claims` with `header`, signed by `key` as `alg` says (OpenSSL throughout).
fn sign_jws(header: &Value, claims: &Value, key: &OpKey) -> String {
    let input = format!("{}.{}", b64json(header), b64json(claims));
    let alg = header["alg"].as_str().unwrap();
    let signature = match alg {
        "RS256" | "RS384" | "RS512" | "PS256" | "PS512" => {
            let md = match alg {
                "RS384" => MessageDigest::sha384(),
                "RS512" | "PS512" => MessageDigest::sha512(),
                _ => MessageDigest::sha256(),
            };
            let mut s = Signer::new(md, &key.pkey).unwrap();
            if alg.starts_with("PS") {
                s.set_rsa_padding(Padding::PKCS1_PSS).unwrap();
                s.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH).unwrap();
            }
            s.sign_oneshot_to_vec(input.as_bytes()).unwrap()
        }
        "ES256" => {
            let mut s = Signer::new(MessageDigest::sha256(), &key.pkey).unwrap();
            let der = s.sign_oneshot_to_vec(input.as_bytes()).unwrap();
            let sig = EcdsaSig::from_der(&der).unwrap();
            let mut raw = sig.r().to_vec_padded(32).unwrap();
            raw.extend(sig.s().to_vec_padded(32).unwrap());
            raw
        }
        other => panic!("sign_jws does not sign {other}"),
    };
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// HS256 with `secret` as the key: what a token "signed" with the client secret looks like.
fn sign_hs256(claims: &Value, secret: &str) -> String {
    let input = format!(
        "{}.{}",
        b64json(&json!({"alg": "HS256", "typ": "JWT"})),
        b64json(claims)
    );
    let key = PKey::hmac(secret.as_bytes()).unwrap();
    let mut s = Signer::new(MessageDigest::sha256(), &key).unwrap();
    let mac = s.sign_oneshot_to_vec(input.as_bytes()).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac))
}

fn unsigned(claims: &Value) -> String {
    format!(
        "{}.{}.",
        b64json(&json!({"alg": "none", "typ": "JWT"})),
        b64json(claims)
    )
}

fn at_hash(token: &str) -> String {
    let h = openssl::sha::sha256(token.as_bytes());
    URL_SAFE_NO_PAD.encode(&h[..16])
}

fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(openssl::sha::sha256(verifier.as_bytes()))
}

/// How the test OP expects openpoort to authenticate.
#[derive(Clone)]
enum Expect {
    Basic,
    Post,
    /// The assertion must verify against this JWK Set (openpoort's public keys).
    Jwt(Value),
}

/// A code the OP handed out: what the token request must bring, and the answer.
struct Issued {
    challenge: String,
    redirect_uri: String,
    id_token: String,
}

/// What the token endpoint saw, for the tests to inspect.
#[derive(Default, Clone)]
struct Seen {
    form: HashMap<String, String>,
    authorization: Option<String>,
}

struct Op {
    issuer: Mutex<String>,
    /// The issuer the discovery document claims (a test may make it lie).
    claimed_issuer: Mutex<Option<String>>,
    code_challenge_methods: Mutex<Value>,
    auth_methods: Value,
    jwks: Mutex<Value>,
    jwks_fetches: AtomicUsize,
    expect: Expect,
    codes: Mutex<HashMap<String, Issued>>,
    seen: Mutex<Vec<Seen>>,
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"error": error, "error_description": "test OP"}).to_string(),
    )
        .into_response()
}

async fn discovery(State(op): State<Arc<Op>>) -> Response {
    let issuer = op.issuer.lock().unwrap().clone();
    let claimed = op.claimed_issuer.lock().unwrap().clone();
    axum::Json(json!({
        "issuer": claimed.unwrap_or_else(|| issuer.clone()),
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code", "code id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "PS256"],
        "token_endpoint_auth_methods_supported": op.auth_methods.clone(),
        "code_challenge_methods_supported": op.code_challenge_methods.lock().unwrap().clone(),
    }))
    .into_response()
}

async fn jwks(State(op): State<Arc<Op>>) -> Response {
    op.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    axum::Json(op.jwks.lock().unwrap().clone()).into_response()
}

/// RFC 6749, 2.3.1: id and secret are form-urlencoded before they go into Basic.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let decoded = STANDARD.decode(value.strip_prefix("Basic ")?).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| -> String {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .unwrap()
            .1
            .into_owned()
    };
    Some((unescape(id), unescape(secret)))
}

fn client_authenticated(op: &Op, headers: &HeaderMap, form: &HashMap<String, String>) -> bool {
    let field = |k: &str| form.get(k).map(String::as_str);
    match &op.expect {
        Expect::Basic => {
            field("client_secret").is_none()
                && basic_credentials(headers) == Some((CLIENT_ID.into(), SECRET.into()))
        }
        Expect::Post => {
            headers.get(header::AUTHORIZATION).is_none()
                && field("client_id") == Some(CLIENT_ID)
                && field("client_secret") == Some(SECRET)
        }
        Expect::Jwt(keys) => {
            if field("client_assertion_type")
                != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
                || field("client_secret").is_some()
                || headers.get(header::AUTHORIZATION).is_some()
            {
                return false;
            }
            let Some(assertion) = field("client_assertion") else {
                return false;
            };
            let Ok(verified) = metadata::jose::verify(assertion, keys) else {
                return false;
            };
            let c = &verified.claims;
            let token_endpoint = format!("{}/token", op.issuer.lock().unwrap());
            let now = unix_now();
            c["iss"] == CLIENT_ID
                && c["sub"] == CLIENT_ID
                && c["aud"] == token_endpoint.as_str()
                && c["jti"].as_str().is_some_and(|j| j.len() >= 16)
                && c["exp"].as_i64().is_some_and(|e| e > now && e <= now + 300)
        }
    }
}

async fn token(
    State(op): State<Arc<Op>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    op.seen.lock().unwrap().push(Seen {
        form: form.clone(),
        authorization: headers
            .get(header::AUTHORIZATION)
            .map(|v| v.to_str().unwrap().to_owned()),
    });
    if !client_authenticated(&op, &headers, &form) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let Some(issued) = form
        .get("code")
        .and_then(|c| op.codes.lock().unwrap().remove(c))
    else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    let verifier_matches = form
        .get("code_verifier")
        .is_some_and(|v| s256(v) == issued.challenge);
    if !verifier_matches || form.get("redirect_uri") != Some(&issued.redirect_uri) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    let mut answer = json!({
        "access_token": ACCESS_TOKEN,
        "token_type": "Bearer",
        "expires_in": 300,
    });
    // An empty token stands for an answer without one.
    if !issued.id_token.is_empty() {
        answer["id_token"] = json!(issued.id_token);
    }
    axum::Json(answer).into_response()
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

struct TestOp {
    op: Arc<Op>,
    issuer: String,
    rsa: OpKey,
    ec: OpKey,
}

impl TestOp {
    async fn start(expect: Expect, auth_methods: Value) -> TestOp {
        let rsa = OpKey::rsa("rsa-1");
        let ec = OpKey::ec("ec-1");
        let op = Arc::new(Op {
            issuer: Mutex::new(String::new()),
            claimed_issuer: Mutex::new(None),
            code_challenge_methods: Mutex::new(json!(["S256"])),
            auth_methods,
            jwks: Mutex::new(json!({"keys": [rsa.jwk(), ec.jwk()]})),
            jwks_fetches: AtomicUsize::new(0),
            expect,
            codes: Mutex::new(HashMap::new()),
            seen: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/token", post(token))
            .with_state(op.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        *op.issuer.lock().unwrap() = issuer.clone();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        TestOp {
            op,
            issuer,
            rsa,
            ec,
        }
    }

    /// Hands out `code` for the authorization request at `url`, answered with `id_token`.
    fn issue(&self, url: &url::Url, code: &str, id_token: String) {
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        self.op.codes.lock().unwrap().insert(
            code.to_owned(),
            Issued {
                challenge: q["code_challenge"].clone(),
                redirect_uri: q["redirect_uri"].clone(),
                id_token,
            },
        );
    }

    /// Good claims for the request at `url` at time `now`.
    fn claims(&self, url: &url::Url, now: i64) -> Value {
        let nonce = query(url, "nonce");
        json!({
            "iss": self.issuer,
            "sub": "leerling-4711",
            "aud": CLIENT_ID,
            "exp": now + 300,
            "iat": now,
            "auth_time": now - 5,
            "nonce": nonce,
            "at_hash": at_hash(ACCESS_TOKEN),
            "eckid": "https://ketenid.nl/201703/abc",
        })
    }

    fn rs256(&self, claims: &Value) -> String {
        sign_jws(
            &json!({"alg": "RS256", "typ": "JWT", "kid": self.rsa.kid}),
            claims,
            &self.rsa,
        )
    }
}

fn query(url: &url::Url, name: &str) -> String {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("{name} in {url}"))
}

fn development() -> Outbound {
    Outbound::new(
        OutboundPolicy::new(true, vec![]),
        "openpoort-test",
        Duration::from_secs(5),
    )
    .unwrap()
}

fn provider(issuer: &str, auth: ClientAuth) -> OidcProvider {
    OidcProvider {
        issuer: issuer.to_owned(),
        client_id: CLIENT_ID.to_owned(),
        auth,
        scopes: vec!["profile".into(), "eckid".into()],
    }
}

/// openpoort's own key, as the key store would hand it out, and its public JWK Set.
fn openpoort_key() -> (certs::SigningKey, Value) {
    let kek = certs::Kek::generate();
    let record = certs::generate_key(
        certs::Algorithm::Rs256,
        certs::KeyState::Current,
        &kek,
        &certs::CertificateProfile::default(),
        unix_now(),
    )
    .unwrap();
    let key = certs::decrypt_private_key(&record, &kek).unwrap();
    let jwks = metadata::jwk_set(std::slice::from_ref(&record)).unwrap();
    (key, jwks)
}

/// A test OP taking client_secret_basic, discovered, and openpoort's RP set up for it.
struct Setup {
    op: TestOp,
    http: Outbound,
    info: ProviderInfo,
    provider: OidcProvider,
    key: certs::SigningKey,
    now: i64,
}

impl Setup {
    async fn basic() -> Setup {
        let op = TestOp::start(Expect::Basic, json!(["client_secret_basic"])).await;
        let provider = provider(
            &op.issuer,
            ClientAuth::ClientSecretBasic(Secret::new(SECRET.into())),
        );
        Setup::with(op, provider).await
    }

    async fn with(op: TestOp, provider: OidcProvider) -> Setup {
        let http = development();
        let now = unix_now();
        let info = oidc::discover(&http, &op.issuer, now).await.unwrap();
        Setup {
            op,
            http,
            info,
            provider,
            key: openpoort_key().0,
            now,
        }
    }

    fn begin(&self) -> (url::Url, Pending) {
        oidc::begin(&self.info, &self.provider, REDIRECT, Some("juf.anna")).unwrap()
    }

    /// Begins a login, lets `make` write the ID token from the good claims, and finishes.
    async fn login_with(
        &mut self,
        make: impl FnOnce(&TestOp, Value) -> String,
    ) -> Result<oidc::VerifiedLogin, UpstreamOidcError> {
        let (url, pending) = self.begin();
        let claims = self.op.claims(&url, self.now);
        let id_token = make(&self.op, claims);
        self.op.issue(&url, "code-1", id_token);
        oidc::finish(
            &self.http,
            &mut self.info,
            &self.provider,
            pending,
            "code-1",
            &self.key,
            self.now,
        )
        .await
    }

    /// As [`Self::login_with`], with the good claims changed by `change`, signed RS256.
    async fn login_changing(
        &mut self,
        change: impl FnOnce(&mut Map<String, Value>),
    ) -> Result<oidc::VerifiedLogin, UpstreamOidcError> {
        self.login_with(|op, mut claims| {
            change(claims.as_object_mut().unwrap());
            op.rs256(&claims)
        })
        .await
    }
}

fn assert_good(login: &oidc::VerifiedLogin, now: i64) {
    assert_eq!(login.subject, "leerling-4711");
    assert_eq!(login.claims["eckid"], "https://ketenid.nl/201703/abc");
    assert_eq!(login.auth_time, Some(now - 5));
}

// Successful logins.

#[tokio::test]
async fn login_with_client_secret_basic_succeeds() {
    let mut s = Setup::basic().await;
    let login = s.login_with(|op, c| op.rs256(&c)).await.unwrap();
    assert_good(&login, s.now);
    let seen = s.op.op.seen.lock().unwrap()[0].clone();
    assert!(seen.authorization.unwrap().starts_with("Basic "));
    assert!(!seen.form.contains_key("client_secret"));
}

#[tokio::test]
async fn login_with_client_secret_post_succeeds() {
    let op = TestOp::start(Expect::Post, json!(["client_secret_post"])).await;
    let provider = provider(
        &op.issuer,
        ClientAuth::ClientSecretPost(Secret::new(SECRET.into())),
    );
    let mut s = Setup::with(op, provider).await;
    let login = s.login_with(|op, c| op.rs256(&c)).await.unwrap();
    assert_good(&login, s.now);
    assert!(s.op.op.seen.lock().unwrap()[0].authorization.is_none());
}

#[tokio::test]
async fn login_with_private_key_jwt_succeeds_and_the_future_is_send() {
    let (key, public) = openpoort_key();
    let op = TestOp::start(
        Expect::Jwt(public),
        json!(["client_secret_basic", "private_key_jwt"]),
    )
    .await;
    let provider = provider(&op.issuer, ClientAuth::PrivateKeyJwt);
    let mut s = Setup::with(op, provider).await;
    s.key = key;
    let (url, pending) = s.begin();
    s.op.issue(&url, "code-jwt", s.op.rs256(&s.op.claims(&url, s.now)));
    // Spawned, as an axum handler would run it: the future must be Send.
    let Setup {
        http,
        mut info,
        provider,
        key,
        now,
        ..
    } = s;
    let login = tokio::spawn(async move {
        oidc::finish(&http, &mut info, &provider, pending, "code-jwt", &key, now).await
    })
    .await
    .unwrap()
    .unwrap();
    assert_good(&login, now);
}

#[tokio::test]
async fn private_key_jwt_signed_by_another_key_is_refused_by_the_op() {
    // The test OP's check of the assertion is what the private_key_jwt success rests on.
    let (_, public) = openpoort_key();
    let op = TestOp::start(Expect::Jwt(public), json!(["private_key_jwt"])).await;
    let provider = provider(&op.issuer, ClientAuth::PrivateKeyJwt);
    let mut s = Setup::with(op, provider).await;
    let got = s.login_with(|op, c| op.rs256(&c)).await;
    assert!(
        matches!(
            got,
            Err(UpstreamOidcError::TokenEndpoint { status: 401, .. })
        ),
        "{got:?}"
    );
}

#[tokio::test]
async fn es256_and_ps256_id_tokens_are_accepted() {
    let mut s = Setup::basic().await;
    let login = s
        .login_with(|op, c| {
            sign_jws(
                &json!({"alg": "ES256", "typ": "JWT", "kid": op.ec.kid}),
                &c,
                &op.ec,
            )
        })
        .await
        .unwrap();
    assert_good(&login, s.now);
    let login = s
        .login_with(|op, c| sign_jws(&json!({"alg": "PS256", "kid": op.rsa.kid}), &c, &op.rsa))
        .await
        .unwrap();
    assert_good(&login, s.now);
}

#[tokio::test]
async fn authorization_url_carries_code_flow_pkce_state_nonce_scopes_and_hint() {
    let s = Setup::basic().await;
    let (url, pending) = s.begin();
    assert!(
        url.as_str()
            .starts_with(&format!("{}/authorize?", s.op.issuer))
    );
    assert_eq!(query(&url, "response_type"), "code");
    assert_eq!(query(&url, "client_id"), CLIENT_ID);
    assert_eq!(query(&url, "redirect_uri"), REDIRECT);
    assert_eq!(query(&url, "code_challenge_method"), "S256");
    assert_eq!(query(&url, "state"), pending.state());
    assert_eq!(query(&url, "login_hint"), "juf.anna");
    assert_eq!(query(&url, "scope"), "openid profile eckid");
    assert_eq!(pending.issuer(), s.op.issuer);
    // The verifier stays with openpoort: the URL carries only its hash.
    let kept: Value = serde_json::to_value(&pending).unwrap();
    let verifier = kept["pkce_verifier"].as_str().unwrap();
    assert!(!url.as_str().contains(verifier));
    assert_eq!(query(&url, "code_challenge"), s256(verifier));
    // Every request draws new values.
    let (again, other) = s.begin();
    assert_ne!(other.state(), pending.state());
    assert_ne!(query(&again, "nonce"), query(&url, "nonce"));
}

#[tokio::test]
async fn pkce_verifier_is_sent_and_checked() {
    let mut s = Setup::basic().await;
    s.login_with(|op, c| op.rs256(&c)).await.unwrap();
    let seen = s.op.op.seen.lock().unwrap()[0].clone();
    assert!(seen.form["code_verifier"].len() >= 43);

    // A verifier other than the one the challenge was made from is refused by the OP.
    let (url, pending) = s.begin();
    s.op.issue(&url, "code-2", s.op.rs256(&s.op.claims(&url, s.now)));
    let mut kept = serde_json::to_value(&pending).unwrap();
    kept["pkce_verifier"] = json!(URL_SAFE_NO_PAD.encode([7u8; 32]));
    let tampered: Pending = serde_json::from_value(kept).unwrap();
    let got = oidc::finish(
        &s.http,
        &mut s.info,
        &s.provider,
        tampered,
        "code-2",
        &s.key,
        s.now,
    )
    .await;
    assert!(
        matches!(&got, Err(UpstreamOidcError::TokenEndpoint { status: 400, error: Some(e) }) if e == "invalid_grant"),
        "{got:?}"
    );
}

#[tokio::test]
async fn token_endpoint_error_carries_status_and_oauth_error_but_no_secret() {
    let op = TestOp::start(Expect::Basic, json!(["client_secret_basic"])).await;
    let wrong = "verkeerd-geheim-123";
    let provider = provider(
        &op.issuer,
        ClientAuth::ClientSecretBasic(Secret::new(wrong.into())),
    );
    let mut s = Setup::with(op, provider).await;
    let got = s.login_with(|op, c| op.rs256(&c)).await;
    let Err(
        e @ UpstreamOidcError::TokenEndpoint {
            status: 401,
            error: Some(_),
        },
    ) = got
    else {
        panic!("{got:?}");
    };
    let text = e.to_string();
    assert!(
        text.contains("401") && text.contains("invalid_client"),
        "{text}"
    );
    assert!(!text.contains(wrong) && !format!("{e:?}").contains(wrong));
    assert!(!format!("{:?}", s.provider).contains(wrong));
}

// Refusals of the ID token: one change to an otherwise good login each.

#[tokio::test]
async fn wrong_nonce_is_refused() {
    let mut s = Setup::basic().await;
    let got = s.login_changing(|c| {
        c.insert("nonce".into(), json!("een-andere-nonce"));
    });
    assert!(matches!(got.await, Err(UpstreamOidcError::Nonce)));
}

#[tokio::test]
async fn missing_nonce_is_refused() {
    let mut s = Setup::basic().await;
    let got = s.login_changing(|c| {
        c.remove("nonce");
    });
    assert!(matches!(got.await, Err(UpstreamOidcError::Nonce)));
}

#[tokio::test]
async fn wrong_audience_is_refused() {
    let mut s = Setup::basic().await;
    let got = s
        .login_changing(|c| {
            c.insert("aud".into(), json!("een-andere-client"));
        })
        .await;
    assert!(matches!(got, Err(UpstreamOidcError::Audience)), "{got:?}");
}

#[tokio::test]
async fn several_audiences_without_azp_are_refused() {
    let mut s = Setup::basic().await;
    let got = s
        .login_changing(|c| {
            c.insert("aud".into(), json!([CLIENT_ID, "een-andere-client"]));
        })
        .await;
    assert!(
        matches!(got, Err(UpstreamOidcError::AuthorizedParty)),
        "{got:?}"
    );
    // With azp naming openpoort the same audiences are fine.
    let got = s
        .login_changing(|c| {
            c.insert("aud".into(), json!([CLIENT_ID, "een-andere-client"]));
            c.insert("azp".into(), json!(CLIENT_ID));
        })
        .await;
    assert_good(&got.unwrap(), s.now);
}

#[tokio::test]
async fn wrong_azp_is_refused() {
    let mut s = Setup::basic().await;
    let got = s
        .login_changing(|c| {
            c.insert("azp".into(), json!("een-andere-client"));
        })
        .await;
    assert!(
        matches!(got, Err(UpstreamOidcError::AuthorizedParty)),
        "{got:?}"
    );
}

#[tokio::test]
async fn signature_by_another_key_is_refused() {
    let mut s = Setup::basic().await;
    let forger = OpKey::rsa("rsa-1");
    let got = s
        .login_with(|op, c| sign_jws(&json!({"alg": "RS256", "kid": op.rsa.kid}), &c, &forger))
        .await;
    assert!(matches!(got, Err(UpstreamOidcError::Signature)), "{got:?}");
}

#[tokio::test]
async fn alg_none_is_refused() {
    let mut s = Setup::basic().await;
    let got = s.login_with(|_, c| unsigned(&c)).await;
    assert!(matches!(got, Err(UpstreamOidcError::Algorithm)), "{got:?}");
}

#[tokio::test]
async fn hs256_signed_with_the_client_secret_is_refused() {
    let mut s = Setup::basic().await;
    let got = s.login_with(|_, c| sign_hs256(&c, SECRET)).await;
    assert!(matches!(got, Err(UpstreamOidcError::Algorithm)), "{got:?}");
}

#[tokio::test]
async fn algorithm_outside_the_allow_list_is_refused() {
    // PS512 with the provider's own published key: a good signature, but not an accepted alg.
    let mut s = Setup::basic().await;
    let got = s
        .login_with(|op, c| sign_jws(&json!({"alg": "PS512", "kid": op.rsa.kid}), &c, &op.rsa))
        .await;
    assert!(matches!(got, Err(UpstreamOidcError::Algorithm)), "{got:?}");
}

#[tokio::test]
async fn rs512_id_token_is_accepted() {
    let mut s = Setup::basic().await;
    let got = s
        .login_with(|op, mut c| {
            let h = openssl::sha::sha512(ACCESS_TOKEN.as_bytes());
            c["at_hash"] = json!(URL_SAFE_NO_PAD.encode(&h[..32]));
            sign_jws(&json!({"alg": "RS512", "kid": op.rsa.kid}), &c, &op.rsa)
        })
        .await;
    assert_good(&got.unwrap(), s.now);
}

#[tokio::test]
async fn expired_id_token_is_refused() {
    let mut s = Setup::basic().await;
    let now = s.now;
    let got = s
        .login_changing(|c| {
            c.insert("iat".into(), json!(now - 900));
            c.insert("exp".into(), json!(now - 300));
        })
        .await;
    assert!(matches!(got, Err(UpstreamOidcError::Expired)), "{got:?}");
}

#[tokio::test]
async fn id_token_issued_in_the_future_is_refused() {
    let mut s = Setup::basic().await;
    let now = s.now;
    let got = s
        .login_changing(|c| {
            c.insert("iat".into(), json!(now + 600));
            c.insert("exp".into(), json!(now + 900));
        })
        .await;
    assert!(
        matches!(got, Err(UpstreamOidcError::IssuedInFuture)),
        "{got:?}"
    );
}

#[tokio::test]
async fn wrong_issuer_in_the_id_token_is_refused() {
    let mut s = Setup::basic().await;
    let got = s
        .login_changing(|c| {
            c.insert("iss".into(), json!("https://andere-aanbieder.example"));
        })
        .await;
    assert!(matches!(got, Err(UpstreamOidcError::Issuer)), "{got:?}");
}

#[tokio::test]
async fn wrong_at_hash_is_refused() {
    let mut s = Setup::basic().await;
    let got = s
        .login_changing(|c| {
            c.insert("at_hash".into(), json!(at_hash("een ander access token")));
        })
        .await;
    assert!(matches!(got, Err(UpstreamOidcError::AtHash)), "{got:?}");
}

#[tokio::test]
async fn missing_id_token_is_refused() {
    let mut s = Setup::basic().await;
    let got = s.login_with(|_, _| String::new()).await;
    assert!(
        matches!(got, Err(UpstreamOidcError::MissingIdToken)),
        "{got:?}"
    );
}

// Discovery and the provider's keys.

#[tokio::test]
async fn wrong_issuer_in_discovery_is_refused() {
    let op = TestOp::start(Expect::Basic, json!(["client_secret_basic"])).await;
    *op.op.claimed_issuer.lock().unwrap() = Some("https://andere-aanbieder.example".into());
    let got = oidc::discover(&development(), &op.issuer, unix_now()).await;
    assert!(
        matches!(&got, Err(UpstreamOidcError::IssuerMismatch { found, .. }) if found == "https://andere-aanbieder.example"),
        "{got:?}"
    );
    // A trailing slash is another issuer too: the comparison is exact.
    *op.op.claimed_issuer.lock().unwrap() = Some(format!("{}/", op.issuer));
    let got = oidc::discover(&development(), &op.issuer, unix_now()).await;
    assert!(
        matches!(got, Err(UpstreamOidcError::IssuerMismatch { .. })),
        "{got:?}"
    );
}

#[tokio::test]
async fn provider_without_s256_pkce_is_refused() {
    let op = TestOp::start(Expect::Basic, json!(["client_secret_basic"])).await;
    *op.op.code_challenge_methods.lock().unwrap() = json!(["plain"]);
    let got = oidc::discover(&development(), &op.issuer, unix_now()).await;
    assert!(
        matches!(got, Err(UpstreamOidcError::PkceUnsupported)),
        "{got:?}"
    );
}

#[tokio::test]
async fn client_auth_the_provider_does_not_list_is_refused_before_the_redirect() {
    let op = TestOp::start(Expect::Basic, json!(["client_secret_basic"])).await;
    let provider = provider(&op.issuer, ClientAuth::PrivateKeyJwt);
    let s = Setup::with(op, provider).await;
    let got = oidc::begin(&s.info, &s.provider, REDIRECT, None);
    assert!(
        matches!(
            got,
            Err(UpstreamOidcError::ClientAuthUnsupported("private_key_jwt"))
        ),
        "{got:?}"
    );
}

#[tokio::test]
async fn discovery_over_plain_http_is_refused_outside_development() {
    let op = TestOp::start(Expect::Basic, json!(["client_secret_basic"])).await;
    let production = Outbound::new(
        OutboundPolicy::new(false, vec![]),
        "openpoort-test",
        Duration::from_secs(5),
    )
    .unwrap();
    let got = oidc::discover(&production, &op.issuer, unix_now()).await;
    assert!(
        matches!(
            got,
            Err(UpstreamOidcError::Http(
                directory::outbound::OutboundError::NotHttps
            ))
        ),
        "{got:?}"
    );
    assert_eq!(op.op.jwks_fetches.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn unknown_kid_is_found_after_jwks_refresh() {
    let mut s = Setup::basic().await;
    assert_eq!(s.op.op.jwks_fetches.load(Ordering::SeqCst), 1);
    // The provider rotates to a new key; openpoort's cached set is older than the interval.
    let rotated = OpKey::rsa("rsa-2");
    *s.op.op.jwks.lock().unwrap() = json!({"keys": [rotated.jwk()]});
    s.now += oidc::JWKS_REFRESH_INTERVAL_SECS + 1;
    let login = s
        .login_with(|_, c| sign_jws(&json!({"alg": "RS256", "kid": "rsa-2"}), &c, &rotated))
        .await
        .unwrap();
    assert_good(&login, s.now);
    assert_eq!(s.op.op.jwks_fetches.load(Ordering::SeqCst), 2);
    assert_eq!(s.info.jwks_fetched_at, s.now);
}

#[tokio::test]
async fn jwks_is_not_fetched_again_within_the_refresh_interval() {
    let mut s = Setup::basic().await;
    let rotated = OpKey::rsa("rsa-2");
    *s.op.op.jwks.lock().unwrap() = json!({"keys": [rotated.jwk()]});
    s.now += oidc::JWKS_REFRESH_INTERVAL_SECS - 1;
    let got = s
        .login_with(|_, c| sign_jws(&json!({"alg": "RS256", "kid": "rsa-2"}), &c, &rotated))
        .await;
    assert!(matches!(got, Err(UpstreamOidcError::UnknownKey)), "{got:?}");
    assert_eq!(s.op.op.jwks_fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_kid_unknown_after_the_refresh_is_refused_after_one_fetch() {
    let mut s = Setup::basic().await;
    let stranger = OpKey::rsa("rsa-9");
    s.now += oidc::JWKS_REFRESH_INTERVAL_SECS + 1;
    let got = s
        .login_with(|_, c| sign_jws(&json!({"alg": "RS256", "kid": "rsa-9"}), &c, &stranger))
        .await;
    assert!(matches!(got, Err(UpstreamOidcError::UnknownKey)), "{got:?}");
    assert_eq!(s.op.op.jwks_fetches.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn provider_info_survives_serialisation() {
    let mut s = Setup::basic().await;
    let stored = serde_json::to_string(&s.info).unwrap();
    s.info = serde_json::from_str(&stored).unwrap();
    let login = s.login_with(|op, c| op.rs256(&c)).await.unwrap();
    assert_good(&login, s.now);
}
