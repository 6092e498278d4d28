//! The OpenID Connect provider end to end, against `openpoort demo` (school 99ZZ00; publisher
//! demo-uitgeverij with a school-wide licence and the school's consent): a real relying party
//! (the `openidconnect` crate, over this crate's reqwest client) for the flows, and raw HTTP for
//! what a well-behaved relying party never sends.
//!
//! Every test runs its own demo server in its own folder, with the server's real address as its
//! public URL: the issuer a relying party discovers must be the one it talks to.

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::pin::Pin;
use std::process::Stdio;
use std::str::FromStr;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AccessTokenHash, AdditionalClaims, AsyncHttpClient, AuthType, AuthorizationCode, ClientId,
    ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpRequest,
    HttpResponse, IdToken, IssuerUrl, JsonWebKey, LogoutRequest, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl,
    RefreshToken, RequestTokenError, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use openpoort_e2e::{
    BRAM, Browser, Page, Server, Store, choose_99zz00, cli_ok, log_in_as_bram, on_both_stores,
    openpoort, store_env, unescape,
};

const PUBLISHER: &str = "demo-uitgeverij";
/// Never fetched: the tests read the redirect's Location and stop there.
const REDIRECT: &str = "http://127.0.0.1:9/callback";
const AFTER_LOGOUT: &str = "http://127.0.0.1:9/uitgelogd";
const ACR_PASSWORD: &str = "urn:openpoort:acr:password";
const ACR_SCHOOL_NETWORK: &str = "urn:openpoort:acr:school-network";
const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

// ---------------------------------------------------------------------------------------------
// The relying party's HTTP client: openidconnect's AsyncHttpClient over this crate's reqwest
// (0.13, native TLS), so that no second HTTP or TLS stack comes in. Like any relying party's
// client for OAuth endpoints, it follows no redirects.

#[derive(Clone)]
struct Http(reqwest::Client);

#[derive(Debug)]
struct HttpError(String);

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HttpError {}

impl Http {
    fn new() -> Http {
        Http(
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("HTTP client"),
        )
    }
}

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let fail = |e: &dyn std::fmt::Display| HttpError(e.to_string());
            let (parts, body) = request.into_parts();
            let response = self
                .0
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await
                .map_err(|e| fail(&e))?;
            let mut answer = openidconnect::http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                answer = answer.header(name, value);
            }
            let body = response.bytes().await.map_err(|e| fail(&e))?;
            answer.body(body.to_vec()).map_err(|e| fail(&e))
        })
    }
}

/// What openpoort releases beyond the standard claims (and `sid` in ID tokens).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
struct SchoolClaims {
    #[serde(default)]
    eduperson_affiliation: Vec<String>,
    nl_edu_person_home_organization_id: Option<String>,
    nl_edu_person_home_organization_branch_id: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
    jaargroep: Option<String>,
    sid: Option<String>,
}

impl AdditionalClaims for SchoolClaims {}

type SchoolIdToken = IdToken<
    SchoolClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// A client built from discovery: authorization endpoint set, token and userinfo endpoints as
/// discovered.
type Rp = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

// ---------------------------------------------------------------------------------------------
// The demo server.

struct Demo {
    dir: tempfile::TempDir,
    server: Server,
    instelling_ref: String,
    http: Http,
}

/// `openpoort demo` on a free port whose address is also its public URL (the issuer).
/// `Server::start` listens on port 0, which leaves the issuer at its default; here the port is
/// chosen first. Another process could take it in between: then the next port is tried.
fn demo() -> Demo {
    demo_on(Store::Memory)
}

/// [`demo`] with its short-lived state in `store`.
fn demo_on(store: Store) -> Demo {
    let dir = tempfile::tempdir().expect("temporary folder");
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let base = format!("http://127.0.0.1:{port}");
        let mut cmd = openpoort(dir.path());
        cmd.env("OPENPOORT_SERVER_LISTEN", format!("127.0.0.1:{port}"))
            .env("OPENPOORT_SERVER_PUBLIC_URL", &base)
            .envs(store_env(store))
            .arg("demo")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("start openpoort demo");
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let listening = loop {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) if line.starts_with("openpoort listening on ") => break true,
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break false,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("openpoort demo did not report a listening address within 60 s");
                }
            }
        };
        if !listening {
            // It ended before listening: most likely the port was taken meanwhile.
            let _ = child.wait();
            continue;
        }
        let server = Server {
            child,
            base,
            stdout: rx,
        };
        let out = server.more_output(Duration::from_millis(500)).join("\n");
        let instelling_ref = out
            .split("/s/")
            .nth(1)
            .and_then(|r| r.get(..36))
            .unwrap_or_else(|| panic!("no pupil shortcut in the demo's welcome: {out}"))
            .to_owned();
        return Demo {
            dir,
            server,
            instelling_ref,
            http: Http::new(),
        };
    }
    panic!("openpoort demo could not listen on a free port in five tries");
}

impl Demo {
    fn base(&self) -> &str {
        &self.server.base
    }

    fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    fn browser(&self) -> Browser {
        Browser::new(self.base())
    }

    /// An operator command on the demo's own database, while the server runs.
    fn cli(&self, args: &[&str]) -> String {
        cli_ok(self.dir.path(), args)
    }

    /// Registers a client of `party` with redirect URI [`REDIRECT`]; `extra` adds grants,
    /// scopes, the authentication method and so on. Returns the secret, for the secret methods.
    fn add_client(&self, party: &str, client_id: &str, extra: &[&str]) -> Option<String> {
        let mut args = vec![
            "client",
            "add",
            "--party",
            party,
            "--client-id",
            client_id,
            "--name",
            client_id,
            "--redirect-uri",
            REDIRECT,
        ];
        args.extend_from_slice(extra);
        let out = self.cli(&args);
        let lines: Vec<&str> = out.lines().collect();
        lines
            .iter()
            .position(|l| l.contains("client_secret"))
            .map(|i| lines[i + 1].trim().to_owned())
    }

    /// A confidential client of the demo publisher (client_secret_basic, code and refresh,
    /// openid and profile) with a post-logout redirect URI; returns its secret.
    fn confidential_client(&self, client_id: &str) -> String {
        self.add_client(
            PUBLISHER,
            client_id,
            &[
                "--post-logout-redirect-uri",
                AFTER_LOGOUT,
                "--grant",
                "authorization_code",
                "--grant",
                "refresh_token",
                "--scope",
                "openid",
                "--scope",
                "profile",
                "--auth",
                "client_secret_basic",
            ],
        )
        .expect("a client secret")
    }

    /// The relying party of `client_id`, built from discovery.
    async fn relying_party(
        &self,
        client_id: &str,
        secret: Option<&str>,
    ) -> (Rp, ProviderMetadataWithLogout) {
        let metadata = ProviderMetadataWithLogout::discover_async(
            IssuerUrl::new(self.base().to_owned()).unwrap(),
            &self.http,
        )
        .await
        .unwrap_or_else(|e| panic!("discovery: {e:?}"));
        let client = CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(client_id.to_owned()),
            secret.map(|s| ClientSecret::new(s.to_owned())),
        )
        .set_redirect_uri(RedirectUrl::new(REDIRECT.to_owned()).unwrap());
        (client, metadata)
    }

    /// A POST to the token endpoint (or another client-authenticated endpoint) as raw HTTP,
    /// with Basic credentials when given; returns status and JSON body (Null when empty).
    async fn post(
        &self,
        path: &str,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> (u16, Value) {
        let mut request = self.http.0.post(self.url(path)).form(form);
        if let Some((id, secret)) = basic {
            let enc =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let credentials = base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                enc(id),
                enc(secret)
            ));
            request = request.header("authorization", format!("Basic {credentials}"));
        }
        let response = request.send().await.expect("POST");
        let status = response.status().as_u16();
        let body = response.text().await.expect("body");
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    async fn userinfo_status(&self, access_token: &str) -> u16 {
        self.http
            .0
            .get(self.url("/oidc/userinfo"))
            .bearer_auth(access_token)
            .send()
            .await
            .expect("userinfo")
            .status()
            .as_u16()
    }

    async fn jwks(&self) -> CoreJsonWebKeySet {
        let body = self
            .http
            .0
            .get(self.url("/oidc/jwks"))
            .send()
            .await
            .expect("jwks")
            .text()
            .await
            .expect("jwks body");
        serde_json::from_str(&body).expect("JWK Set")
    }
}

// ---------------------------------------------------------------------------------------------
// The user's side: a browser.

/// The href of the link whose text starts with `label`, as a browser would follow it.
fn link(page: &Page, label: &str) -> String {
    let at = page
        .body
        .find(&format!("\">{label}"))
        .unwrap_or_else(|| panic!("no link {label}: {}", page.body));
    let start = page.body[..at].rfind("href=\"").unwrap() + 6;
    unescape(&page.body[start..at])
}

/// Index of the form that contains `marker`.
fn form_with(page: &Page, marker: &str) -> usize {
    let at = page
        .body
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker}: {}", page.body));
    page.body[..at].matches("<form").count() - 1
}

/// Bram signs in at openpoort (outside any authorization request) and picks 99ZZ00.
async fn bram_signed_in(d: &Demo) -> Browser {
    let mut b = d.browser();
    let done = log_in_as_bram(&mut b, "/inloggen").await;
    assert_eq!(done.location(), Some("/school-kiezen"), "{}", done.body);
    let chosen = choose_99zz00(&mut b, "/school-kiezen").await;
    assert_eq!(chosen.location(), Some("/"), "{}", chosen.body);
    b
}

/// Finn S. of Groep 5 signs in on the school network with the shortcut and his picture.
async fn finn_signed_in(d: &Demo) -> Browser {
    let mut b = d.browser();
    let groups = b.get(&format!("/s/{}", d.instelling_ref)).await;
    assert_eq!(groups.status, 200, "{}", groups.body);
    let names = b.get(&link(&groups, "Groep 5 Uilen")).await;
    let pick = b
        .submit_form(&names, form_with(&names, "Finn S."), &[])
        .await;
    let done = b
        .submit_form(&pick, form_with(&pick, "alt=\"boom\""), &[])
        .await;
    assert_eq!(done.location(), Some("/"), "{}", done.body);
    b
}

/// The query parameters of a URL.
fn query(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url)
        .unwrap_or_else(|e| panic!("{url}: {e}"))
        .query_pairs()
        .into_owned()
        .collect()
}

/// The Location of a redirect back to the client, as its query; panics on anything else.
fn back_at_client(page: &Page) -> std::collections::HashMap<String, String> {
    let location = page
        .location()
        .unwrap_or_else(|| panic!("no redirect ({}): {}", page.status, page.body));
    assert!(
        location.starts_with(&format!("{REDIRECT}?")),
        "not back at the client: {location}"
    );
    assert_eq!(page.status, 303);
    query(location)
}

/// An authorization request URL with these parameters.
fn authorize_url(d: &Demo, params: &[(&str, &str)]) -> String {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    d.url(&format!("/oidc/authorize?{q}"))
}

/// A PKCE verifier and its S256 challenge (RFC 7636), made by hand.
fn pkce() -> (String, String) {
    let verifier = format!(
        "{}-{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = URL_SAFE_NO_PAD.encode(openssl::sha::sha256(verifier.as_bytes()));
    (verifier, challenge)
}

/// A code for `client_id` (signed-in browser, PKCE S256, state and nonce); returns code and
/// verifier.
async fn code_for(
    d: &Demo,
    b: &mut Browser,
    client_id: &str,
    extra: &[(&str, &str)],
) -> (String, String) {
    let (verifier, challenge) = pkce();
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("scope", "openid"),
        ("state", "st-1"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    params.extend_from_slice(extra);
    let q = back_at_client(&b.get(&authorize_url(d, &params)).await);
    assert_eq!(q.get("state").map(String::as_str), Some("st-1"));
    let code = q
        .get("code")
        .unwrap_or_else(|| panic!("no code: {q:?}"))
        .clone();
    (code, verifier)
}

/// The claims of a JWT, unverified (for tests whose point is elsewhere; signatures are checked
/// with the relying party's verifier in the flow tests).
fn peek(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWS");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON")
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Waits until the wall clock enters its next second (at most one second). openpoort measures
/// session ages in whole seconds; this is how a test lets the time a person takes (to read a
/// page, to choose a school) pass without guessing a duration.
async fn next_second() {
    let start = unix_now();
    let deadline = Instant::now() + Duration::from_millis(1_500);
    while unix_now() == start {
        assert!(Instant::now() < deadline, "the clock does not advance");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The OAuth error code of a failed token request.
fn error_of<T: std::fmt::Debug>(
    result: Result<
        T,
        RequestTokenError<HttpError, openidconnect::StandardErrorResponse<CoreErrorResponseType>>,
    >,
) -> CoreErrorResponseType {
    match result {
        Err(RequestTokenError::ServerResponse(e)) => e.error().clone(),
        other => panic!("expected an OAuth error response, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// 1. A real relying party.

#[tokio::test]
async fn relying_party_completes_the_code_flow_with_pkce() {
    let d = demo();
    let secret = d.confidential_client("rp-rekenrijk");
    let (rp, metadata) = d.relying_party("rp-rekenrijk", Some(&secret)).await;

    // The authorization request, as the relying party builds it.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();

    // Bram's browser follows it: login, school choice, back to the authorization request, back
    // to the client.
    let mut b = d.browser();
    let to_login = b.get(auth_url.as_str()).await;
    assert_eq!(to_login.status, 303, "{}", to_login.body);
    let login_path = to_login.location().unwrap().to_owned();
    assert!(login_path.starts_with("/inloggen?next="), "{login_path}");
    let logged_in = log_in_as_bram(&mut b, &login_path).await;
    let choose = logged_in.location().unwrap().to_owned();
    assert!(choose.starts_with("/school-kiezen?next="), "{choose}");
    let chosen = choose_99zz00(&mut b, &choose).await;
    let again = chosen.location().unwrap().to_owned();
    assert!(again.starts_with("/oidc/authorize?"), "{again}");
    let q = back_at_client(&b.get(&again).await);
    assert_eq!(q["state"], *csrf.secret(), "state comes back unchanged");
    assert_eq!(q["iss"], d.base(), "RFC 9207 iss");

    // The code for tokens.
    let token = rp
        .exchange_code(AuthorizationCode::new(q["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&d.http)
        .await
        .unwrap_or_else(|e| panic!("token: {e:?}"));
    let id_token = token.id_token().expect("an ID token");
    let verifier = rp.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &nonce)
        .unwrap_or_else(|e| panic!("ID token does not verify: {e:?}"));
    assert_eq!(claims.issuer().as_str(), d.base());
    assert_eq!(claims.audiences()[0].as_str(), "rp-rekenrijk");
    assert_eq!(
        claims.auth_context_ref().map(|a| a.as_str()),
        Some(ACR_PASSWORD)
    );
    assert!(claims.auth_time().is_some(), "auth_time");
    let expected_hash = claims.access_token_hash().expect("at_hash");
    let actual_hash = AccessTokenHash::from_token(
        token.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(
        *expected_hash, actual_hash,
        "at_hash matches the access token"
    );
    let sub = claims.subject().clone();

    // The pairwise subject and the released claims at userinfo.
    let info: openidconnect::UserInfoClaims<SchoolClaims, CoreGenderClaim> = rp
        .user_info(token.access_token().clone(), Some(sub.clone()))
        .unwrap()
        .request_async(&d.http)
        .await
        .unwrap_or_else(|e| panic!("userinfo: {e:?}"));
    assert_eq!(info.subject(), &sub, "userinfo's sub is the ID token's");
    let school = info.additional_claims();
    assert_eq!(
        school.eduperson_affiliation,
        ["employee", "faculty"],
        "Bram teaches"
    );
    assert_eq!(
        school.nl_edu_person_home_organization_id.as_deref(),
        Some("99ZZ")
    );
    assert_eq!(
        school.nl_edu_person_home_organization_branch_id.as_deref(),
        Some("00")
    );
    assert!(info.email().is_none(), "email was not asked for");

    // Refresh: a new refresh token each time; the old one is refused.
    let first_refresh = token.refresh_token().expect("a refresh token").clone();
    let refreshed = rp
        .exchange_refresh_token(&first_refresh)
        .unwrap()
        .request_async(&d.http)
        .await
        .unwrap_or_else(|e| panic!("refresh: {e:?}"));
    let second_refresh = refreshed.refresh_token().expect("a rotated refresh token");
    assert_ne!(second_refresh.secret(), first_refresh.secret());
    // OIDC Core §12.2: a refreshed ID token has no nonce, and the same sub and auth_time.
    let new_claims = refreshed
        .id_token()
        .expect("an ID token with the refresh")
        .claims(&verifier, |n: Option<&Nonce>| match n {
            None => Ok(()),
            Some(_) => Err("a nonce in a refreshed ID token".to_owned()),
        })
        .unwrap_or_else(|e| panic!("refreshed ID token: {e:?}"));
    assert_eq!(
        new_claims.subject(),
        &sub,
        "the same pairwise sub after a refresh"
    );
    assert_eq!(new_claims.auth_time(), claims.auth_time());
    let old = rp
        .exchange_refresh_token(&first_refresh)
        .unwrap()
        .request_async(&d.http)
        .await;
    assert_eq!(error_of(old), CoreErrorResponseType::InvalidGrant);

    // RP-initiated logout with the ID token as hint: the session's own relying party, so no
    // confirmation; back to the registered address with the state.
    let end_session = metadata
        .additional_metadata()
        .end_session_endpoint
        .clone()
        .expect("end_session_endpoint");
    let logout = LogoutRequest::from(end_session)
        .set_id_token_hint(id_token)
        .set_client_id(ClientId::new("rp-rekenrijk".into()))
        .set_post_logout_redirect_uri(PostLogoutRedirectUrl::new(AFTER_LOGOUT.into()).unwrap())
        .set_state(CsrfToken::new("na-afmelden".into()))
        .http_get_url();
    let out = b.get(logout.as_str()).await;
    assert_eq!(out.status, 303, "{}", out.body);
    assert_eq!(
        out.location(),
        Some(&*format!("{AFTER_LOGOUT}?state=na-afmelden"))
    );
    assert_eq!(
        b.get("/").await.location(),
        Some("/inloggen"),
        "the session ended"
    );
}

#[tokio::test]
async fn discovery_and_jwks_parse_as_provider_metadata() {
    let d = demo();
    let metadata = ProviderMetadataWithLogout::discover_async(
        IssuerUrl::new(d.base().to_owned()).unwrap(),
        &d.http,
    )
    .await
    .unwrap_or_else(|e| panic!("discovery: {e:?}"));
    assert_eq!(metadata.issuer().as_str(), d.base());
    assert_eq!(
        metadata.authorization_endpoint().as_str(),
        d.url("/oidc/authorize")
    );
    assert_eq!(
        metadata.token_endpoint().map(|u| u.as_str().to_owned()),
        Some(d.url("/oidc/token"))
    );
    assert_eq!(
        metadata.userinfo_endpoint().map(|u| u.as_str().to_owned()),
        Some(d.url("/oidc/userinfo"))
    );
    assert_eq!(metadata.jwks_uri().as_str(), d.url("/oidc/jwks"));
    assert_eq!(
        metadata
            .additional_metadata()
            .end_session_endpoint
            .as_ref()
            .map(|u| u.as_str().to_owned()),
        Some(d.url("/oidc/logout"))
    );
    let algs: Vec<String> = metadata
        .id_token_signing_alg_values_supported()
        .iter()
        .map(|a| {
            serde_json::to_value(a)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(algs, ["RS256", "ES256"]);
    let subject_types: Vec<Value> = metadata
        .subject_types_supported()
        .iter()
        .map(|s| serde_json::to_value(s).unwrap())
        .collect();
    assert_eq!(subject_types, [json!("pairwise")]);

    // The keys discovery fetched: at least one RSA and one P-256 signing key, each with a kid
    // and an algorithm, and nothing private.
    let keys = metadata.jwks().keys();
    let kty = |k: &CoreJsonWebKey| serde_json::to_value(k.key_type()).unwrap();
    assert!(keys.iter().any(|k| kty(k) == json!("RSA")), "an RSA key");
    assert!(keys.iter().any(|k| kty(k) == json!("EC")), "an EC key");
    assert!(
        keys.iter().all(|k| k.key_id().is_some()),
        "every key has a kid"
    );
    let raw: Value = serde_json::from_str(
        &d.http
            .0
            .get(d.url("/oidc/jwks"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    for key in raw["keys"].as_array().unwrap() {
        assert_eq!(key["use"], "sig");
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(key.get(private).is_none(), "{private} published");
        }
    }

    // What openidconnect has no field for.
    let doc: Value = serde_json::from_str(
        &d.http
            .0
            .get(d.url("/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(doc["revocation_endpoint"], d.url("/oidc/revoke"));
    assert_eq!(doc["introspection_endpoint"], d.url("/oidc/introspect"));
    assert_eq!(doc["backchannel_logout_supported"], true);
    assert_eq!(doc["backchannel_logout_session_supported"], true);
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
}

#[tokio::test]
async fn es256_client_gets_es256_id_tokens() {
    let d = demo();
    let secret = d
        .add_client(PUBLISHER, "rp-es256-client", &["--alg", "ES256"])
        .expect("secret");
    let (rp, _) = d.relying_party("rp-es256-client", Some(&secret)).await;
    let mut b = bram_signed_in(&d).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _csrf, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .url();
    let q = back_at_client(&b.get(url.as_str()).await);
    let token = rp
        .exchange_code(AuthorizationCode::new(q["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&d.http)
        .await
        .unwrap_or_else(|e| panic!("token: {e:?}"));
    let id_token = token.id_token().expect("ID token");
    assert_eq!(
        id_token.signing_alg().unwrap(),
        &CoreJwsSigningAlgorithm::EcdsaP256Sha256
    );
    let verifier = rp.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &nonce)
        .unwrap_or_else(|e| panic!("ES256 ID token does not verify: {e:?}"));
    let key = id_token.signing_key(&verifier).unwrap();
    assert_eq!(serde_json::to_value(key.key_type()).unwrap(), json!("EC"));
    let expected = claims.access_token_hash().expect("at_hash");
    let actual = AccessTokenHash::from_token(
        token.access_token(),
        &CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        key,
    )
    .unwrap();
    assert_eq!(*expected, actual);
}

#[tokio::test]
async fn pupil_at_school_gets_id_token_with_school_network_acr() {
    let d = demo();
    let secret = d.confidential_client("rp-pupil-app");
    let (rp, _) = d.relying_party("rp-pupil-app", Some(&secret)).await;
    let mut b = finn_signed_in(&d).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .url();
    let q = back_at_client(&b.get(url.as_str()).await);
    assert_eq!(q["state"], *csrf.secret());
    let token = rp
        .exchange_code(AuthorizationCode::new(q["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&d.http)
        .await
        .unwrap_or_else(|e| panic!("token: {e:?}"));
    let id_token =
        SchoolIdToken::from_str(&token.id_token().expect("ID token").to_string()).unwrap();
    let claims = id_token
        .claims(&rp.id_token_verifier(), &nonce)
        .unwrap_or_else(|e| panic!("ID token: {e:?}"));
    assert_eq!(
        claims.auth_context_ref().map(|a| a.as_str()),
        Some(ACR_SCHOOL_NETWORK)
    );
    let school = claims.additional_claims();
    assert_eq!(school.eduperson_affiliation, ["student"]);
    assert_eq!(school.jaargroep.as_deref(), Some("5"));
    assert!(!school.groups.is_empty(), "his groups");
    assert_eq!(
        school.nl_edu_person_home_organization_id.as_deref(),
        Some("99ZZ")
    );
    assert!(
        claims.given_name().is_none(),
        "no names without the party's policy allowing them"
    );
}

// ---------------------------------------------------------------------------------------------
// 2. What must be refused.

#[tokio::test]
async fn wrong_redirect_uri_gets_an_error_page_not_a_redirect() {
    let d = demo();
    d.confidential_client("rp-redirects");
    let mut b = bram_signed_in(&d).await;
    let (_, challenge) = pkce();
    for wrong in [
        "http://127.0.0.1:9/elders",
        "http://127.0.0.1:9/callback/",
        "http://127.0.0.1:9/callback?x=1",
        "http://localhost:9/callback",
        "https://evil.example/callback",
    ] {
        let page = b
            .get(&authorize_url(
                &d,
                &[
                    ("response_type", "code"),
                    ("client_id", "rp-redirects"),
                    ("redirect_uri", wrong),
                    ("scope", "openid"),
                    ("state", "s"),
                    ("code_challenge", &challenge),
                    ("code_challenge_method", "S256"),
                ],
            ))
            .await;
        assert_eq!(page.status, 400, "{wrong}: {}", page.body);
        assert!(page.location().is_none(), "{wrong}: never redirected");
        assert!(page.body.contains("niet geregistreerd"), "{}", page.body);
    }
    // Without a redirect_uri, too: there is nothing to compare with.
    let page = b
        .get(&authorize_url(
            &d,
            &[
                ("response_type", "code"),
                ("client_id", "rp-redirects"),
                ("scope", "openid"),
            ],
        ))
        .await;
    assert_eq!(page.status, 400);
    assert!(page.location().is_none());
}

#[tokio::test]
async fn unknown_client_gets_an_error_page() {
    let d = demo();
    let mut b = bram_signed_in(&d).await;
    for client in ["rp-nobody-knows", ""] {
        let page = b
            .get(&authorize_url(
                &d,
                &[
                    ("response_type", "code"),
                    ("client_id", client),
                    ("redirect_uri", REDIRECT),
                    ("scope", "openid"),
                    ("state", "s"),
                ],
            ))
            .await;
        assert_eq!(page.status, 400, "{client:?}: {}", page.body);
        assert!(page.location().is_none(), "{client:?}: never redirected");
    }
    let page = b
        .get(&authorize_url(
            &d,
            &[
                ("response_type", "code"),
                ("client_id", "rp-nobody-knows"),
                ("redirect_uri", REDIRECT),
            ],
        ))
        .await;
    assert!(
        page.body.contains("niet bij openpoort bekend"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn pkce_is_required_for_public_clients() {
    let d = demo();
    d.add_client(PUBLISHER, "rp-browser-app", &["--auth", "none"]);
    let secret = d.confidential_client("rp-server-app");
    let mut b = bram_signed_in(&d).await;

    // A public client without PKCE: an error back at the client, no code.
    let q = back_at_client(
        &b.get(&authorize_url(
            &d,
            &[
                ("response_type", "code"),
                ("client_id", "rp-browser-app"),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
                ("state", "zonder-pkce"),
            ],
        ))
        .await,
    );
    assert_eq!(
        q.get("error").map(String::as_str),
        Some("invalid_request"),
        "{q:?}"
    );
    assert_eq!(q["state"], "zonder-pkce");
    assert!(!q.contains_key("code"));

    // With PKCE the public client gets its tokens (openidconnect, no secret).
    let (rp, _) = d.relying_party("rp-browser-app", None).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .url();
    let q = back_at_client(&b.get(url.as_str()).await);
    let token = rp
        .exchange_code(AuthorizationCode::new(q["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&d.http)
        .await
        .unwrap_or_else(|e| panic!("public client token: {e:?}"));
    token
        .id_token()
        .unwrap()
        .claims(&rp.id_token_verifier(), &nonce)
        .unwrap();

    // A confidential client may leave PKCE out (its secret protects the code) ...
    let q = back_at_client(
        &b.get(&authorize_url(
            &d,
            &[
                ("response_type", "code"),
                ("client_id", "rp-server-app"),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
            ],
        ))
        .await,
    );
    let (status, body) = d
        .post(
            "/oidc/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &q["code"]),
                ("redirect_uri", REDIRECT),
            ],
            Some(("rp-server-app", &secret)),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // ... but when it used PKCE, the verifier is checked: leaving it out fails.
    let (code, _verifier) = code_for(&d, &mut b, "rp-server-app", &[]).await;
    let (status, body) = d
        .post(
            "/oidc/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ],
            Some(("rp-server-app", &secret)),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

#[tokio::test]
async fn plain_pkce_is_refused() {
    let d = demo();
    d.add_client(PUBLISHER, "rp-browser-app", &["--auth", "none"]);
    let mut b = bram_signed_in(&d).await;
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    for method in [Some("plain"), None, Some("S512")] {
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", "rp-browser-app"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("state", "plain"),
            // The plain method sends the verifier itself as the challenge.
            ("code_challenge", verifier.as_str()),
        ];
        if let Some(m) = method {
            params.push(("code_challenge_method", m));
        }
        let q = back_at_client(&b.get(&authorize_url(&d, &params)).await);
        assert_eq!(
            q.get("error").map(String::as_str),
            Some("invalid_request"),
            "{method:?}: {q:?}"
        );
        assert!(!q.contains_key("code"), "{method:?}");
    }
}

#[tokio::test]
async fn wrong_code_verifier_is_refused() {
    let d = demo();
    d.add_client(PUBLISHER, "rp-browser-app", &["--auth", "none"]);
    let mut b = bram_signed_in(&d).await;
    let (code, verifier) = code_for(&d, &mut b, "rp-browser-app", &[]).await;
    let (other, _) = pkce();
    let exchange = |code: String, verifier: String| {
        let d = &d;
        async move {
            d.post(
                "/oidc/token",
                &[
                    ("grant_type", "authorization_code"),
                    ("client_id", "rp-browser-app"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", &verifier),
                ],
                None,
            )
            .await
        }
    };
    let (status, body) = exchange(code.clone(), other).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    // The code is spent: the right verifier comes too late.
    let (status, body) = exchange(code, verifier).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );

    // The S256 challenge itself (as if the method were plain) is no verifier either.
    let (_, challenge) = pkce();
    let q = back_at_client(
        &b.get(&authorize_url(
            &d,
            &[
                ("response_type", "code"),
                ("client_id", "rp-browser-app"),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        ))
        .await,
    );
    let (status, _) = exchange(q["code"].clone(), challenge.clone()).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn code_can_be_used_only_once_and_replay_revokes_its_tokens() {
    let d = demo();
    let secret = d.confidential_client("rp-replay-app");
    let mut b = bram_signed_in(&d).await;
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
    let (status, body) = d
        .post(
            "/oidc/token",
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
            Some(("rp-replay-app", &secret)),
        )
        .await;
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
    let mut b = bram_signed_in(&d).await;
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
async fn bad_client_secret_is_refused() {
    let d = demo();
    let secret = d.confidential_client("rp-secret-app");
    let mut b = bram_signed_in(&d).await;
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
    let mut b = bram_signed_in(&d).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .url();
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
    let token = rp
        .exchange_code(code)
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&d.http)
        .await
        .unwrap_or_else(|e| panic!("client_secret_post: {e:?}"));
    token
        .id_token()
        .expect("ID token")
        .claims(&rp.id_token_verifier(), &nonce)
        .unwrap_or_else(|e| panic!("ID token: {e:?}"));
}

#[tokio::test]
async fn expired_code_is_refused() {
    let d = demo();
    let secret = d.confidential_client("rp-slow-app");
    let mut b = bram_signed_in(&d).await;

    // A code openpoort never issued.
    let (status, body) = d
        .post(
            "/oidc/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", "bm9vaXQtdWl0Z2VnZXZlbi1jb2RlLXZhbi00My10ZWtlbnM"),
                ("redirect_uri", REDIRECT),
            ],
            Some(("rp-slow-app", &secret)),
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
    let (status, body) = d
        .post(
            "/oidc/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &verifier),
            ],
            Some(("rp-slow-app", &secret)),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

#[tokio::test]
async fn nonce_is_echoed() {
    let d = demo();
    let secret = d.confidential_client("rp-nonce-app");
    let mut b = bram_signed_in(&d).await;
    let exchange = |code: String, verifier: String| {
        let (d, secret) = (&d, &secret);
        async move {
            let (status, body) = d
                .post(
                    "/oidc/token",
                    &[
                        ("grant_type", "authorization_code"),
                        ("code", &code),
                        ("redirect_uri", REDIRECT),
                        ("code_verifier", &verifier),
                    ],
                    Some(("rp-nonce-app", secret)),
                )
                .await;
            assert_eq!(status, 200, "{body}");
            peek(body["id_token"].as_str().unwrap())
        }
    };
    let nonce = "n-0S6_WzA2Mj+/=&é";
    let (code, verifier) = code_for(&d, &mut b, "rp-nonce-app", &[("nonce", nonce)]).await;
    assert_eq!(exchange(code, verifier).await["nonce"], nonce);
    // No nonce asked, none made up.
    let (code, verifier) = code_for(&d, &mut b, "rp-nonce-app", &[]).await;
    assert!(exchange(code, verifier).await.get("nonce").is_none());
}

#[tokio::test]
async fn prompt_none_without_session_returns_login_required() {
    let d = demo();
    d.confidential_client("rp-silent-app");
    let mut b = d.browser();
    let (_, challenge) = pkce();
    let page = b
        .get(&authorize_url(
            &d,
            &[
                ("response_type", "code"),
                ("client_id", "rp-silent-app"),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
                ("state", "stil"),
                ("prompt", "none"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        ))
        .await;
    let q = back_at_client(&page);
    assert_eq!(
        q.get("error").map(String::as_str),
        Some("login_required"),
        "{q:?}"
    );
    assert_eq!(q["state"], "stil");
    assert_eq!(q["iss"], d.base());
    assert!(!q.contains_key("code"));

    // With a session, prompt=none simply gets a code.
    let mut b = bram_signed_in(&d).await;
    code_for(&d, &mut b, "rp-silent-app", &[("prompt", "none")]).await;
}

#[tokio::test]
async fn prompt_none_never_shows_the_school_choice() {
    let d = demo();
    d.confidential_client("rp-silent-app");
    let mut b = d.browser();
    let done = log_in_as_bram(&mut b, "/inloggen").await;
    assert_eq!(
        done.location(),
        Some("/school-kiezen"),
        "Bram has not chosen a school yet"
    );
    let (_, challenge) = pkce();
    let page = b
        .get(&authorize_url(
            &d,
            &[
                ("response_type", "code"),
                ("client_id", "rp-silent-app"),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
                ("state", "stil"),
                ("prompt", "none"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        ))
        .await;
    let q = back_at_client(&page);
    assert!(
        matches!(
            q.get("error").map(String::as_str),
            Some("account_selection_required" | "interaction_required")
        ),
        "{q:?}"
    );
}

#[tokio::test]
async fn prompt_login_forces_a_new_login_even_with_a_session() {
    let d = demo();
    let secret = d.confidential_client("rp-strict-app");
    let mut b = bram_signed_in(&d).await;
    let sid_of = |code: String, verifier: String| {
        let (d, secret) = (&d, &secret);
        async move {
            let (status, body) = d
                .post(
                    "/oidc/token",
                    &[
                        ("grant_type", "authorization_code"),
                        ("code", &code),
                        ("redirect_uri", REDIRECT),
                        ("code_verifier", &verifier),
                    ],
                    Some(("rp-strict-app", secret)),
                )
                .await;
            assert_eq!(status, 200, "{body}");
            peek(body["id_token"].as_str().unwrap())
        }
    };
    let (code, verifier) = code_for(&d, &mut b, "rp-strict-app", &[]).await;
    let before = sid_of(code, verifier).await;
    let old_cookie = b.cookies.get("openpoort").cloned();

    let (verifier, challenge) = pkce();
    let request_time = unix_now();
    let page = b
        .get(&authorize_url(
            &d,
            &[
                ("response_type", "code"),
                ("client_id", "rp-strict-app"),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
                ("state", "opnieuw"),
                ("prompt", "login"),
                ("login_hint", BRAM),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        ))
        .await;
    let login = page
        .location()
        .unwrap_or_else(|| panic!("{}", page.body))
        .to_owned();
    assert!(
        login.starts_with("/inloggen?next="),
        "a login although signed in: {login}"
    );
    let form = b.get(&login).await;
    assert!(
        form.body.contains(&format!("value=\"{BRAM}\"")),
        "login_hint fills in the address"
    );

    let done = log_in_as_bram(&mut b, &login).await;
    let choose = done.location().unwrap().to_owned();
    let back = choose_99zz00(&mut b, &choose).await;
    let q = back_at_client(&b.get(back.location().unwrap()).await);
    assert_eq!(q["state"], "opnieuw");
    assert_ne!(
        b.cookies.get("openpoort"),
        old_cookie.as_ref(),
        "a new session"
    );
    let after = sid_of(q["code"].clone(), verifier).await;
    assert_ne!(
        after["sid"], before["sid"],
        "the code comes from the new login"
    );
    assert!(after["auth_time"].as_i64().unwrap() >= request_time);
}

#[tokio::test]
async fn max_age_zero_forces_login() {
    let d = demo();
    let secret = d.confidential_client("rp-fresh-app");
    let mut b = bram_signed_in(&d).await;
    let old_cookie = b.cookies.get("openpoort").cloned();
    // The session is at least a second old: max_age=0 cannot be met by it.
    next_second().await;

    let (verifier, challenge) = pkce();
    let request_time = unix_now();
    let page = b
        .get(&authorize_url(
            &d,
            &[
                ("response_type", "code"),
                ("client_id", "rp-fresh-app"),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
                ("state", "vers"),
                ("max_age", "0"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        ))
        .await;
    let login = page
        .location()
        .unwrap_or_else(|| panic!("{}", page.body))
        .to_owned();
    assert!(
        login.starts_with("/inloggen?next="),
        "max_age=0 asks for a login: {login}"
    );
    let done = log_in_as_bram(&mut b, &login).await;
    assert_ne!(
        b.cookies.get("openpoort"),
        old_cookie.as_ref(),
        "a new session"
    );
    let choose = done.location().unwrap().to_owned();
    assert!(choose.starts_with("/school-kiezen?next="), "{choose}");
    // Bram takes a moment to choose his school.
    next_second().await;
    let back = choose_99zz00(&mut b, &choose).await;
    let page = b.get(back.location().unwrap()).await;
    let q = back_at_client(&page);
    assert_eq!(q["state"], "vers");
    let (status, body) = d
        .post(
            "/oidc/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &q["code"]),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &verifier),
            ],
            Some(("rp-fresh-app", &secret)),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let claims = peek(body["id_token"].as_str().unwrap());
    assert!(claims["auth_time"].as_i64().unwrap() >= request_time);
}

/// A confidential client, a code, and its tokens: (secret, token response).
async fn tokens(d: &Demo, client_id: &str) -> (String, Value) {
    let secret = d.confidential_client(client_id);
    let mut b = bram_signed_in(d).await;
    let (code, verifier) = code_for(d, &mut b, client_id, &[]).await;
    let (status, body) = d
        .post(
            "/oidc/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &verifier),
            ],
            Some((client_id, &secret)),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    (secret, body)
}

#[tokio::test]
async fn refresh_token_reuse_revokes_the_family() {
    let d = demo();
    let (secret, first) = tokens(&d, "rp-family-app").await;
    let refresh = |token: String| {
        let (d, secret) = (&d, &secret);
        async move {
            d.post(
                "/oidc/token",
                &[("grant_type", "refresh_token"), ("refresh_token", &token)],
                Some(("rp-family-app", secret)),
            )
            .await
        }
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
    d.cli(&[
        "party",
        "add",
        "--code",
        "ander",
        "--kind",
        "publisher",
        "--name",
        "Ander",
    ]);
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

// ---------------------------------------------------------------------------------------------
// private_key_jwt (RFC 7523): the client's key pair, made with OpenSSL here.

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
    let mut b = bram_signed_in(&d).await;
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

// ---------------------------------------------------------------------------------------------
// The school's rules, logout and pseudonyms.

#[tokio::test]
async fn consent_revoked_denies_login_with_an_explanation_and_access_denied_on_the_way_back() {
    let d = demo();
    // Tokens from before the revocation.
    let (secret, before) = tokens(&d, "rp-no-consent").await;
    let mut b = bram_signed_in(&d).await;
    d.cli(&[
        "consent", "revoke", "--school", "99ZZ00", "--party", PUBLISHER,
    ]);
    // Nothing is cached: the next refresh is decided again and refused.
    let (status, body) = d
        .post(
            "/oidc/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", before["refresh_token"].as_str().unwrap()),
            ],
            Some(("rp-no-consent", &secret)),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let (_, challenge) = pkce();
    let page = b
        .get(&authorize_url(
            &d,
            &[
                ("response_type", "code"),
                ("client_id", "rp-no-consent"),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
                ("state", "toestemming?&x"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        ))
        .await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.location().is_none(), "the user reads why first");
    assert!(
        page.body.contains("geen toestemming gegeven"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("ICT-coördinator"),
        "who can fix it: {}",
        page.body
    );
    let back = link(&page, "Terug naar rp-no-consent");
    assert!(back.starts_with(&format!("{REDIRECT}?")), "{back}");
    let q = query(&back);
    assert_eq!(
        q.get("error").map(String::as_str),
        Some("access_denied"),
        "{q:?}"
    );
    assert_eq!(q["state"], "toestemming?&x");
    assert_eq!(q["iss"], d.base());
    assert!(!q.contains_key("code"));
}

/// A tiny HTTP listener for back-channel logout: answers each POST with 200 and passes on its
/// `logout_token`.
async fn backchannel_listener() -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/bcl", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut data = Vec::new();
            let mut buf = [0u8; 4096];
            let body = loop {
                let n = stream.read(&mut buf).await.unwrap();
                assert!(n > 0, "connection closed before the request was complete");
                data.extend_from_slice(&buf[..n]);
                let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
                    continue;
                };
                let head = String::from_utf8_lossy(&data[..end]).to_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map(|v| v.trim().parse().unwrap())
                    .unwrap_or(0);
                if data.len() >= end + 4 + length {
                    assert!(head.starts_with("post /bcl "), "{head}");
                    assert!(
                        head.contains("content-type: application/x-www-form-urlencoded"),
                        "{head}"
                    );
                    break String::from_utf8(data[end + 4..end + 4 + length].to_vec()).unwrap();
                }
            };
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await
                .unwrap();
            let token = url::form_urlencoded::parse(body.as_bytes())
                .find(|(k, _)| k == "logout_token")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_else(|| panic!("no logout_token in {body}"));
            if tx.send(token).is_err() {
                break;
            }
        }
    });
    (url, rx)
}

/// The next logout token the listener receives, within `limit`.
async fn next_logout_token(
    received: &mut tokio::sync::mpsc::UnboundedReceiver<String>,
    limit: Duration,
) -> Option<String> {
    tokio::time::timeout(limit, received.recv())
        .await
        .ok()
        .flatten()
}

/// Verifies a JWS with the provider's JWK Set (openidconnect's key implementation); returns
/// header and claims.
fn verify_with(jwks: &CoreJsonWebKeySet, jws: &str) -> (Value, Value) {
    let parts: Vec<&str> = jws.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS");
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let alg: CoreJwsSigningAlgorithm = serde_json::from_value(header["alg"].clone()).unwrap();
    let kid = header["kid"].as_str().expect("kid");
    let key = jwks
        .keys()
        .iter()
        .find(|k| k.key_id().map(|id| id.as_str()) == Some(kid))
        .unwrap_or_else(|| panic!("kid {kid} not in the JWK Set"));
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    key.verify_signature(
        &alg,
        format!("{}.{}", parts[0], parts[1]).as_bytes(),
        &signature,
    )
    .unwrap_or_else(|e| panic!("signature: {e:?}"));
    (header, peek(jws))
}

#[tokio::test]
async fn backchannel_logout_token_carries_the_same_pairwise_sub() {
    let d = demo();
    let (bcl, mut received) = backchannel_listener().await;
    let secret = d
        .add_client(
            PUBLISHER,
            "rp-backchannel",
            &["--backchannel-logout-uri", &bcl],
        )
        .expect("secret");
    let mut b = bram_signed_in(&d).await;
    let (code, verifier) = code_for(&d, &mut b, "rp-backchannel", &[]).await;
    let (status, body) = d
        .post(
            "/oidc/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &verifier),
            ],
            Some(("rp-backchannel", &secret)),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let jwks = d.jwks().await;
    let (_, id) = verify_with(&jwks, body["id_token"].as_str().unwrap());

    // Bram logs out at the portal; openpoort tells the client in the background.
    let portal = b.get("/").await;
    let out = b
        .submit_form(&portal, form_with(&portal, "action=\"/uitloggen\""), &[])
        .await;
    assert_eq!(out.location(), Some("/inloggen?melding=uitgelogd"));
    let logout_token = next_logout_token(&mut received, Duration::from_secs(15))
        .await
        .expect("a logout token within 15 s");
    let (header, claims) = verify_with(&jwks, &logout_token);
    assert_eq!(header["typ"], "logout+jwt");
    assert_eq!(claims["iss"], d.base());
    assert_eq!(claims["aud"], "rp-backchannel");
    assert_eq!(
        claims["sub"], id["sub"],
        "the same pairwise sub as the ID token"
    );
    assert_eq!(claims["sid"], id["sid"], "the same session");
    assert!(claims["events"][BACKCHANNEL_EVENT].is_object(), "{claims}");
    assert!(
        claims.get("nonce").is_none(),
        "a logout token carries no nonce"
    );
    assert!(claims["jti"].is_string());
    assert!(claims["iat"].as_i64().unwrap() <= unix_now() + 1);
}

#[tokio::test]
async fn pairwise_sub_differs_between_parties() {
    let d = demo();
    d.cli(&[
        "party",
        "add",
        "--code",
        "ander",
        "--kind",
        "publisher",
        "--name",
        "Ander",
    ]);
    d.cli(&["consent", "grant", "--school", "99ZZ00", "--party", "ander"]);
    d.cli(&[
        "product",
        "add",
        "--party",
        "ander",
        "--code",
        "ander-methode",
        "--methode",
        "M",
        "--name",
        "P",
        "--launch-url",
        "https://ander.example/start",
    ]);
    d.cli(&[
        "licence",
        "add",
        "--school",
        "99ZZ00",
        "--party",
        "ander",
        "--product",
        "ander-methode",
        "--from",
        "2026-08-01",
    ]);
    let clients = [
        (PUBLISHER, "rp-demo-one"),
        (PUBLISHER, "rp-demo-two"),
        ("ander", "rp-ander-one"),
    ];
    let mut b = bram_signed_in(&d).await;
    let mut subs = Vec::new();
    for (party, client_id) in clients {
        let secret = d.add_client(party, client_id, &[]).expect("secret");
        let (code, verifier) = code_for(&d, &mut b, client_id, &[]).await;
        let (status, body) = d
            .post(
                "/oidc/token",
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", &verifier),
                ],
                Some((client_id, &secret)),
            )
            .await;
        assert_eq!(status, 200, "{client_id}: {body}");
        subs.push(peek(body["id_token"].as_str().unwrap())["sub"].clone());
    }
    assert_eq!(subs[0], subs[1], "one party's clients share its sector");
    assert_ne!(subs[0], subs[2], "another party gets another pseudonym");
}

#[tokio::test]
async fn logout_without_a_matching_id_token_hint_asks_to_confirm() {
    let d = demo();
    d.confidential_client("rp-logout-app");
    let mut b = bram_signed_in(&d).await;
    // Unregistered post-logout address: refused outright.
    let page = b
        .get(&d.url(&format!(
            "/oidc/logout?client_id=rp-logout-app&post_logout_redirect_uri={}",
            url::form_urlencoded::byte_serialize(b"https://evil.example/").collect::<String>()
        )))
        .await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.location().is_none());
    // No hint: a link elsewhere must not log Bram out by itself.
    let page = b
        .get(&d.url(&format!(
            "/oidc/logout?client_id=rp-logout-app&state=s1&post_logout_redirect_uri={}",
            url::form_urlencoded::byte_serialize(AFTER_LOGOUT.as_bytes()).collect::<String>()
        )))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Uitloggen?"), "{}", page.body);
    assert_eq!(b.get("/").await.status, 200, "still signed in");
    let fields: Vec<(String, String)> = ["post_logout_redirect_uri", "state", "client_id"]
        .iter()
        .filter_map(|n| page.field(n).map(|v| (n.to_string(), unescape(&v))))
        .collect();
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let out = b.submit_form(&page, 0, &fields).await;
    assert_eq!(out.status, 303, "{}", out.body);
    assert_eq!(out.location(), Some(&*format!("{AFTER_LOGOUT}?state=s1")));
    assert_eq!(b.get("/").await.location(), Some("/inloggen"));
}

#[tokio::test]
async fn redirect_uri_with_a_query_keeps_it_and_the_token_request_must_repeat_it() {
    let d = demo();
    let with_query = "http://127.0.0.1:9/callback?app=rekenen&x=1";
    let secret = d
        .add_client(PUBLISHER, "rp-query-app", &["--redirect-uri", with_query])
        .expect("secret");
    let mut b = bram_signed_in(&d).await;
    let (verifier, challenge) = pkce();
    let page = b
        .get(&authorize_url(
            &d,
            &[
                ("response_type", "code"),
                ("client_id", "rp-query-app"),
                ("redirect_uri", with_query),
                ("scope", "openid"),
                ("state", "a b&c=d/é"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        ))
        .await;
    let location = page.location().unwrap_or_else(|| panic!("{}", page.body));
    assert!(
        location.starts_with(&format!("{with_query}&code=")),
        "{location}"
    );
    let q = query(location);
    assert_eq!(q["app"], "rekenen");
    assert_eq!(q["x"], "1");
    assert_eq!(q["state"], "a b&c=d/é", "state comes back exactly");
    // The token request names another registered redirect URI than the authorization request.
    let (status, body) = d
        .post(
            "/oidc/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &q["code"]),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &verifier),
            ],
            Some(("rp-query-app", &secret)),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

#[tokio::test]
async fn prompt_login_cannot_be_skipped_with_a_forged_op_login_after() {
    let d = demo();
    d.confidential_client("rp-strict-app");
    let mut b = bram_signed_in(&d).await;
    let (_, challenge) = pkce();
    let page = b
        .get(&authorize_url(
            &d,
            &[
                ("response_type", "code"),
                ("client_id", "rp-strict-app"),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
                ("state", "opnieuw"),
                ("prompt", "login"),
                ("op_login_after", "0"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        ))
        .await;
    let location = page.location().unwrap_or_default();
    assert!(
        location.starts_with("/inloggen?"),
        "prompt=login must ask for a login, got {} {location}",
        page.status
    );
}

#[tokio::test]
async fn prompt_none_never_shows_the_denial_page() {
    let d = demo();
    d.confidential_client("rp-silent-app");
    let mut b = bram_signed_in(&d).await;
    d.cli(&[
        "consent", "revoke", "--school", "99ZZ00", "--party", PUBLISHER,
    ]);
    let (_, challenge) = pkce();
    let page = b
        .get(&authorize_url(
            &d,
            &[
                ("response_type", "code"),
                ("client_id", "rp-silent-app"),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
                ("state", "stil"),
                ("prompt", "none"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        ))
        .await;
    let q = back_at_client(&page);
    assert!(
        matches!(
            q.get("error").map(String::as_str),
            Some("access_denied" | "interaction_required")
        ),
        "{q:?}"
    );
    assert_eq!(q["state"], "stil");
}

#[tokio::test]
async fn rp_initiated_logout_by_post_with_a_matching_hint_logs_out() {
    let d = demo();
    let (mut b, id_token) = tokens_in(&d, "rp-post-logout").await;
    let out = b
        .post(
            "/oidc/logout",
            &[
                ("id_token_hint", &id_token),
                ("post_logout_redirect_uri", AFTER_LOGOUT),
                ("state", "per-post"),
            ],
        )
        .await;
    assert_eq!(out.status, 303, "{}", out.body);
    assert_eq!(
        out.location(),
        Some(&*format!("{AFTER_LOGOUT}?state=per-post"))
    );
    assert_eq!(b.get("/").await.location(), Some("/inloggen"));
}

/// Like [`tokens`], but keeps Bram's browser: (browser, ID token).
async fn tokens_in(d: &Demo, client_id: &str) -> (Browser, String) {
    let secret = d.confidential_client(client_id);
    let mut b = bram_signed_in(d).await;
    let (code, verifier) = code_for(d, &mut b, client_id, &[]).await;
    let (status, body) = d
        .post(
            "/oidc/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &verifier),
            ],
            Some((client_id, &secret)),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    (b, body["id_token"].as_str().unwrap().to_owned())
}

/// Bram (in browser `b`) gets tokens for `client_id`: (refresh token, ID token claims).
async fn tokens_for(d: &Demo, b: &mut Browser, client_id: &str, secret: &str) -> (String, Value) {
    let (code, verifier) = code_for(d, b, client_id, &[]).await;
    let (status, body) = d
        .post(
            "/oidc/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &verifier),
            ],
            Some((client_id, secret)),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    (
        body["refresh_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        peek(body["id_token"].as_str().unwrap()),
    )
}

/// A teacher's access tokens end with their sessions (a deactivation here; a removal by import
/// and a password change move the same session epoch), not when they expire ten minutes later.
#[tokio::test]
async fn a_deactivated_teachers_access_and_refresh_tokens_stop_working_at_once() {
    let d = demo();
    let secret = d.confidential_client("rp-deactivated");
    let mut b = bram_signed_in(&d).await;
    let (code, verifier) = code_for(&d, &mut b, "rp-deactivated", &[]).await;
    let (status, body) = d
        .post(
            "/oidc/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &verifier),
            ],
            Some(("rp-deactivated", &secret)),
        )
        .await;
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
    let (status, body) = d
        .post(
            "/oidc/token",
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
            Some(("rp-deactivated", &secret)),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

#[tokio::test]
async fn refresh_tokens_of_a_logged_out_session_stop_working() {
    let d = demo();
    let secret = d.confidential_client("rp-session-app");
    let mut b = bram_signed_in(&d).await;
    let (refresh, _) = tokens_for(&d, &mut b, "rp-session-app", &secret).await;
    let portal = b.get("/").await;
    let out = b
        .submit_form(&portal, form_with(&portal, "action=\"/uitloggen\""), &[])
        .await;
    assert_eq!(out.location(), Some("/inloggen?melding=uitgelogd"));
    let (status, body) = d
        .post(
            "/oidc/token",
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
            Some(("rp-session-app", &secret)),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "a refresh after logout: {body}"
    );
}

#[tokio::test]
async fn logging_out_everywhere_tells_the_clients_of_every_session() {
    let d = demo();
    let (bcl, mut received) = backchannel_listener().await;
    let secret = d
        .add_client(
            PUBLISHER,
            "rp-everywhere",
            &["--backchannel-logout-uri", &bcl],
        )
        .expect("secret");
    let mut laptop = bram_signed_in(&d).await;
    let mut tablet = bram_signed_in(&d).await;
    let (_, on_laptop) = tokens_for(&d, &mut laptop, "rp-everywhere", &secret).await;
    let (_, on_tablet) = tokens_for(&d, &mut tablet, "rp-everywhere", &secret).await;
    assert_ne!(on_laptop["sid"], on_tablet["sid"]);

    let portal = laptop.get("/").await;
    let out = laptop
        .submit_form(
            &portal,
            form_with(&portal, "action=\"/uitloggen/overal\""),
            &[],
        )
        .await;
    assert_eq!(out.location(), Some("/inloggen?melding=overal-uitgelogd"));
    assert_eq!(
        tablet.get("/").await.location(),
        Some("/inloggen"),
        "both sessions ended"
    );

    // Every logout token that arrives within 10 s, until the tablet's session is covered.
    let jwks = d.jwks().await;
    let mut sids = Vec::new();
    let mut covered = false;
    while let Some(token) = next_logout_token(&mut received, Duration::from_secs(10)).await {
        let (_, claims) = verify_with(&jwks, &token);
        assert_eq!(claims["sub"], on_laptop["sub"]);
        match claims.get("sid") {
            None => covered = true,
            Some(sid) => {
                covered |= *sid == on_tablet["sid"];
                sids.push(sid.clone());
            }
        }
        if covered {
            break;
        }
    }
    assert!(sids.contains(&on_laptop["sid"]) || covered, "{sids:?}");
    assert!(
        covered,
        "no logout token for the tablet's session {}: got sids {sids:?}",
        on_tablet["sid"]
    );
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

/// A second browser with the cookies of `b`: the same browser, in another tab.
fn same_browser(d: &Demo, b: &Browser) -> Browser {
    let mut copy = d.browser();
    copy.cookies = b.cookies.clone();
    copy
}

#[tokio::test]
async fn parallel_authorizations_in_one_session_all_end_at_logout() {
    let d = demo();
    let secret = d.confidential_client("rp-busy-app");
    let b = bram_signed_in(&d).await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let (verifier, challenge) = pkce();
        let url = authorize_url(
            &d,
            &[
                ("response_type", "code"),
                ("client_id", "rp-busy-app"),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
                ("state", "tab"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        );
        let mut tab = same_browser(&d, &b);
        tasks.spawn(async move {
            (
                back_at_client(&tab.get(&url).await)["code"].clone(),
                verifier,
            )
        });
    }
    let mut refresh_tokens = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (code, verifier) = done.unwrap();
        let (status, body) = d
            .post(
                "/oidc/token",
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", &verifier),
                ],
                Some(("rp-busy-app", &secret)),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        refresh_tokens.push(body["refresh_token"].as_str().unwrap().to_owned());
    }
    assert_eq!(refresh_tokens.len(), 12);

    let mut b = b;
    let portal = b.get("/").await;
    let out = b
        .submit_form(&portal, form_with(&portal, "action=\"/uitloggen\""), &[])
        .await;
    assert_eq!(out.location(), Some("/inloggen?melding=uitgelogd"));
    let mut alive = 0;
    for refresh in &refresh_tokens {
        let (status, _) = d
            .post(
                "/oidc/token",
                &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
                Some(("rp-busy-app", &secret)),
            )
            .await;
        if status == 200 {
            alive += 1;
        }
    }
    assert_eq!(alive, 0, "{alive} of 12 refresh tokens outlived the logout");
}

/// The marker name and the URL to come back to, out of a login redirect that a forced
/// re-login produced.
fn reauth_of(login: &str) -> (String, String) {
    let next = query(&format!("http://x{login}"))["next"].clone();
    let marker = query(&format!("http://x{next}"))["op_reauth"].clone();
    (marker, next)
}

fn strict_request(challenge: &str, state: &str) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", "rp-strict-app".into()),
        ("redirect_uri", REDIRECT.into()),
        ("scope", "openid".into()),
        ("state", state.into()),
        ("prompt", "login".into()),
        ("code_challenge", challenge.into()),
        ("code_challenge_method", "S256".into()),
    ]
}

fn url_of(d: &Demo, params: &[(&'static str, String)]) -> String {
    let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    authorize_url(d, &pairs)
}

#[tokio::test]
async fn a_reauth_marker_from_another_browser_does_not_skip_prompt_login() {
    let d = demo();
    d.confidential_client("rp-strict-app");
    let (_, challenge) = pkce();
    // Someone else's browser starts the very same request and gets a marker for it.
    let mut other = d.browser();
    let page = other
        .get(&url_of(&d, &strict_request(&challenge, "opnieuw")))
        .await;
    let (_, next) = reauth_of(page.location().expect("a login"));
    // Bram signs in afterwards; the other browser's URL, marker and all, must not stand in for
    // the login prompt=login asks of him.
    let mut b = bram_signed_in(&d).await;
    let page = b.get(&d.url(&next)).await;
    let location = page.location().unwrap_or_default();
    assert!(
        location.starts_with("/inloggen?"),
        "a foreign marker skipped prompt=login: {} {location}",
        page.status
    );
}

#[tokio::test]
async fn a_reauth_marker_for_another_request_does_not_skip_prompt_login() {
    let d = demo();
    d.confidential_client("rp-strict-app");
    let mut b = bram_signed_in(&d).await;
    let (_, challenge) = pkce();
    let page = b.get(&url_of(&d, &strict_request(&challenge, "een"))).await;
    let login = page.location().expect("a login").to_owned();
    let (marker, _) = reauth_of(&login);
    // Bram logs in again (a session newer than the marker) and picks his school.
    let done = log_in_as_bram(&mut b, "/inloggen").await;
    assert_eq!(done.location(), Some("/school-kiezen"), "{}", done.body);
    choose_99zz00(&mut b, "/school-kiezen").await;
    // Another request (another state) with that marker is not the login it asks for.
    let mut other = strict_request(&challenge, "twee");
    other.push(("op_reauth", marker));
    let page = b.get(&url_of(&d, &other)).await;
    let location = page.location().unwrap_or_default();
    assert!(
        location.starts_with("/inloggen?"),
        "a marker of another request skipped prompt=login: {} {location}",
        page.status
    );
}

#[tokio::test]
async fn forced_login_markers_per_address_are_capped() {
    let d = demo();
    d.confidential_client("rp-strict-app");
    let (_, challenge) = pkce();
    let url = url_of(&d, &strict_request(&challenge, "vloed"));
    // Nobody signed in: every request makes openpoort store a marker. The cap is 1,000 per
    // address per marker lifetime; spend it from several connections at once.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (mut flooder, url) = (d.browser(), url.clone());
        tasks.spawn(async move {
            let mut statuses = Vec::new();
            for _ in 0..125 {
                statuses.push(flooder.get(&url).await.status);
            }
            statuses
        });
    }
    let mut issued = 0;
    while let Some(statuses) = tasks.join_next().await {
        issued += statuses.unwrap().iter().filter(|s| **s == 303).count();
    }
    assert_eq!(issued, 1_000);
    let page = d.browser().get(&url).await;
    assert_eq!(page.status, 429, "{}", page.body);
    assert!(
        page.body.contains("te veel inlogverzoeken"),
        "{}",
        page.body
    );
}
