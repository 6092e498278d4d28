//! What every OIDC test uses: the demo server, the relying party's client, Bram, codes, tokens.

use std::future::Future;
use std::pin::Pin;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreErrorResponseType, CoreJsonWebKeySet, CoreTokenResponse,
};
use openidconnect::url::Url;
use openidconnect::{
    AsyncHttpClient, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, HttpRequest, HttpResponse, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, ProviderMetadataWithLogout, RedirectUrl, RequestTokenError,
    StandardErrorResponse,
};
use serde_json::Value;

use openpoort_e2e::{
    Browser, Page, Server, Store, add_client, authorize_url, bram_signed_in, cli_ok,
    demo_on_free_port, pkce, store_env,
};

pub const PUBLISHER: &str = "demo-uitgeverij";
/// Never fetched: the tests read the redirect's Location and stop there.
pub const REDIRECT: &str = "http://127.0.0.1:9/callback";
pub const AFTER_LOGOUT: &str = "http://127.0.0.1:9/uitgelogd";

/// The relying party's HTTP client: openidconnect's AsyncHttpClient over this crate's reqwest
/// (0.13, native TLS), so that no second HTTP or TLS stack comes in. Like any relying party's
/// client for OAuth endpoints, it follows no redirects.
#[derive(Clone)]
pub struct Http(pub reqwest::Client);

#[derive(Debug)]
pub struct HttpError(String);

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

/// How a token request of the relying party fails.
pub type TokenError = RequestTokenError<HttpError, StandardErrorResponse<CoreErrorResponseType>>;

/// A client built from discovery: authorization endpoint set, token and userinfo endpoints as
/// discovered.
pub type Rp = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

pub struct Demo {
    pub dir: tempfile::TempDir,
    pub server: Server,
    pub instelling_ref: String,
    pub http: Http,
}

/// `openpoort demo` on a free port whose address is also its public URL (the issuer); see
/// [`demo_on_free_port`].
pub fn demo() -> Demo {
    demo_on(Store::Memory)
}

/// [`demo`] with its short-lived state in `store`.
pub fn demo_on(store: Store) -> Demo {
    let dir = tempfile::tempdir().expect("temporary folder");
    let (server, instelling_ref) = demo_on_free_port(dir.path(), &store_env(store));
    Demo {
        dir,
        server,
        instelling_ref,
        http: Http::new(),
    }
}

impl Demo {
    pub fn base(&self) -> &str {
        &self.server.base
    }

    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    pub fn browser(&self) -> Browser {
        Browser::new(self.base())
    }

    /// An operator command on the demo's own database, while the server runs.
    pub fn cli(&self, args: &[&str]) -> String {
        cli_ok(self.dir.path(), args)
    }

    /// A second publisher, `ander`, which has nothing at the demo's school yet.
    pub fn add_other_publisher(&self) {
        self.cli(&[
            "party",
            "add",
            "--code",
            "ander",
            "--kind",
            "publisher",
            "--name",
            "Ander",
        ]);
    }

    /// Registers a client of `party` with redirect URI [`REDIRECT`]; `extra` adds grants,
    /// scopes, the authentication method and so on. Returns the secret, for the secret methods.
    pub fn add_client(&self, party: &str, client_id: &str, extra: &[&str]) -> Option<String> {
        let args = [&["--redirect-uri", REDIRECT], extra].concat();
        add_client(self.dir.path(), party, client_id, &args)
    }

    /// A confidential client of the demo publisher (client_secret_basic, code and refresh,
    /// openid and profile) with a post-logout redirect URI; returns its secret.
    pub fn confidential_client(&self, client_id: &str) -> String {
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
    pub async fn relying_party(
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

    /// The relying party `rp` redeems `code` with its PKCE `verifier`.
    pub async fn exchange(
        &self,
        rp: &Rp,
        code: &str,
        verifier: PkceCodeVerifier,
    ) -> Result<CoreTokenResponse, TokenError> {
        rp.exchange_code(AuthorizationCode::new(code.to_owned()))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&self.http)
            .await
    }

    /// A POST to the token endpoint (or another client-authenticated endpoint) as raw HTTP,
    /// with Basic credentials when given; returns status and JSON body (Null when empty).
    pub async fn post(
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

    /// Redeems `code` with its PKCE `verifier` at the token endpoint, as `client_id` with its
    /// secret (Basic); returns status and JSON body.
    pub async fn redeem(
        &self,
        client_id: &str,
        secret: &str,
        code: &str,
        verifier: &str,
    ) -> (u16, Value) {
        self.redeem_with(client_id, secret, code, &[("code_verifier", verifier)])
            .await
    }

    /// Redeems `code` at the token endpoint with `extra` parameters (none: no PKCE verifier), as
    /// `client_id` with its secret (Basic); returns status and JSON body.
    pub async fn redeem_with(
        &self,
        client_id: &str,
        secret: &str,
        code: &str,
        extra: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
        ];
        form.extend_from_slice(extra);
        self.post("/oidc/token", &form, Some((client_id, secret)))
            .await
    }

    /// Uses `refresh_token` at the token endpoint, as `client_id` with its secret (Basic);
    /// returns status and JSON body.
    pub async fn refresh(
        &self,
        client_id: &str,
        secret: &str,
        refresh_token: &str,
    ) -> (u16, Value) {
        self.post(
            "/oidc/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
            Some((client_id, secret)),
        )
        .await
    }

    pub async fn userinfo_status(&self, access_token: &str) -> u16 {
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

    /// The JSON document at `path`.
    pub async fn get_json(&self, path: &str) -> Value {
        let body = self
            .http
            .0
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
            .text()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
    }

    pub async fn jwks(&self) -> CoreJsonWebKeySet {
        serde_json::from_value(self.get_json("/oidc/jwks").await).expect("JWK Set")
    }
}

/// The href of the link whose text starts with `label`, as a browser would follow it.
pub fn link(page: &Page, label: &str) -> String {
    page.link_to(label)
        .unwrap_or_else(|| panic!("no link {label}: {}", page.body))
}

/// Index of the form that contains `marker`.
pub fn form_with(page: &Page, marker: &str) -> usize {
    page.form_with(marker)
        .unwrap_or_else(|| panic!("no {marker}: {}", page.body))
}

/// The query parameters of a URL.
pub fn query(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url)
        .unwrap_or_else(|e| panic!("{url}: {e}"))
        .query_pairs()
        .into_owned()
        .collect()
}

/// The Location of a redirect back to the client, as its query; panics on anything else.
pub fn back_at_client(page: &Page) -> std::collections::HashMap<String, String> {
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

/// The URL of an authorization request as a careful relying party sends it: the code flow to
/// [`REDIRECT`] with scope openid and `state`, then `extra`, then an S256 `challenge`.
pub fn request_url(
    d: &Demo,
    client_id: &str,
    state: &str,
    challenge: &str,
    extra: &[(&str, &str)],
) -> String {
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("scope", "openid"),
        ("state", state),
    ];
    params.extend_from_slice(extra);
    params.extend([
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]);
    authorize_url(d.base(), &params)
}

/// An authorization request as the relying party `rp` builds it (code flow, PKCE S256, state
/// and nonce): its URL, state, nonce and PKCE verifier.
pub fn rp_request(rp: &Rp) -> (Url, CsrfToken, Nonce, PkceCodeVerifier) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .url();
    (url, csrf, nonce, verifier)
}

/// A code for `client_id` (signed-in browser, PKCE S256, state and nonce); returns code and
/// verifier.
pub async fn code_for(
    d: &Demo,
    b: &mut Browser,
    client_id: &str,
    extra: &[(&str, &str)],
) -> (String, String) {
    let (verifier, challenge) = pkce();
    let url = request_url(d, client_id, "st-1", &challenge, extra);
    let q = back_at_client(&b.get(&url).await);
    assert_eq!(q.get("state").map(String::as_str), Some("st-1"));
    let code = q
        .get("code")
        .unwrap_or_else(|| panic!("no code: {q:?}"))
        .clone();
    (code, verifier)
}

/// The claims of a JWT, unverified (for tests whose point is elsewhere; signatures are checked
/// with the relying party's verifier in the flow tests).
pub fn peek(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWS");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON")
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The OAuth error code of a failed token request.
pub fn error_of<T: std::fmt::Debug>(result: Result<T, TokenError>) -> CoreErrorResponseType {
    match result {
        Err(RequestTokenError::ServerResponse(e)) => e.error().clone(),
        other => panic!("expected an OAuth error response, got {other:?}"),
    }
}

/// Bram (in browser `b`) gets a code for `client_id` and redeems it: the token response.
pub async fn token_response(d: &Demo, b: &mut Browser, client_id: &str, secret: &str) -> Value {
    let (code, verifier) = code_for(d, b, client_id, &[]).await;
    let (status, body) = d.redeem(client_id, secret, &code, &verifier).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// A confidential client, a code, and its tokens: (secret, token response).
pub async fn tokens(d: &Demo, client_id: &str) -> (String, Value) {
    let secret = d.confidential_client(client_id);
    let mut b = bram_signed_in(d.base()).await;
    let body = token_response(d, &mut b, client_id, &secret).await;
    (secret, body)
}
