//! openpoort as an OpenID Connect relying party of a network provider: discovery of the
//! provider's OP, the authorization request (code flow with PKCE S256, `state` and `nonce`),
//! the code exchange with the configured client authentication, and the ID token's checks.
//!
//! The protocol work goes through the `openidconnect` crate; its HTTP goes through openpoort's
//! [`Outbound`] (every URL checked against the outbound policy, bounded answers, no redirects),
//! never through a client of the crate's own. The private_key_jwt assertion is signed with
//! openpoort's own key through OpenSSL, not with the crate's pure-Rust RSA (see STACK.md).
//!
//! Nothing here keeps state: [`ProviderInfo`] is the caller's to cache, [`Pending`] the
//! caller's to keep with the login in progress.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use directory::outbound::{Outbound, OutboundError};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AsyncHttpClient, AuthType, AuthUrl, AuthorizationCode, ClaimsVerificationError, ClientId,
    ClientSecret, CsrfToken, HttpRequest, HttpResponse, IdTokenVerifier, IssuerUrl, LoginHint,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, SignatureVerificationError, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::http::random_token;

/// Largest discovery document, JWK Set or token response read from a provider. Real ones are a
/// few kilobytes; the bound keeps a hostile or broken provider from filling memory.
pub const MAX_ANSWER_BYTES: usize = 256 * 1024;
/// Clock difference tolerated between openpoort and a provider, for `exp` and `iat`.
pub const CLOCK_SKEW_SECS: i64 = 120;
/// A provider's JWK Set is fetched again (for a `kid` it does not know yet) at most this often,
/// so that tokens naming unknown keys cannot make openpoort hammer the provider.
pub const JWKS_REFRESH_INTERVAL_SECS: i64 = 60;
/// Lifetime of a private_key_jwt client assertion: it is used once, at once.
const CLIENT_ASSERTION_SECS: i64 = 60;
/// Longest provider-supplied text (an OAuth error code, an issuer) repeated in an error.
const MAX_ECHO_CHARS: usize = 100;
const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The ID token signature algorithms accepted: public-key ones only, so a token can never be
/// "signed" with the client secret (HS*) or not at all (`none`).
const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 5] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
];
const ALLOWED_ALG_NAMES: [&str; 5] = ["RS256", "RS384", "RS512", "PS256", "ES256"];

/// A client secret. Its `Debug` never shows the value, so it cannot reach a log by accident.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// How openpoort authenticates at the provider's token endpoint.
#[derive(Clone, Debug)]
pub enum ClientAuth {
    ClientSecretBasic(Secret),
    ClientSecretPost(Secret),
    /// A client assertion signed with openpoort's own key (RFC 7523); no secret is shared.
    PrivateKeyJwt,
}

impl ClientAuth {
    /// The name in `token_endpoint_auth_methods_supported`.
    pub fn method(&self) -> &'static str {
        match self {
            ClientAuth::ClientSecretBasic(_) => "client_secret_basic",
            ClientAuth::ClientSecretPost(_) => "client_secret_post",
            ClientAuth::PrivateKeyJwt => "private_key_jwt",
        }
    }
}

/// A network provider's OP as configured by the operator.
#[derive(Clone, Debug)]
pub struct OidcProvider {
    pub issuer: String,
    pub client_id: String,
    pub auth: ClientAuth,
    /// Scopes asked beside `openid`.
    pub scopes: Vec<String>,
}

/// What discovery found out about a provider: the caller caches it (or stores it) and hands it
/// back to [`begin`] and [`finish`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProviderInfo {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub jwks: CoreJsonWebKeySet,
    /// As the provider lists them; openpoort accepts only those also in its own allow-list.
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// Defaults to `client_secret_basic` when the provider lists none (OIDC Discovery 1.0).
    pub token_endpoint_auth_methods_supported: Vec<String>,
    #[serde(default)]
    pub token_endpoint_auth_signing_alg_values_supported: Option<Vec<String>>,
    #[serde(default)]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// When the discovery document was fetched (Unix seconds).
    pub fetched_at: i64,
    /// When the JWK Set was last fetched (Unix seconds).
    pub jwks_fetched_at: i64,
}

/// The relying party's record of one authorization request, kept by the caller until the
/// provider answers. Holds the PKCE verifier and the nonce: its `Debug` shows neither.
#[derive(Clone, Serialize, Deserialize)]
pub struct Pending {
    state: String,
    nonce: String,
    pkce_verifier: String,
    issuer: String,
    redirect_uri: String,
}

impl Pending {
    /// The `state` sent; the answer's `state` must equal it.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// The provider the request went to.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }
}

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending")
            .field("issuer", &self.issuer)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// A login the provider vouched for, after every check of its ID token.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedLogin {
    pub subject: String,
    /// All claims of the ID token, for the configured identifier and school claims.
    pub claims: Map<String, Value>,
    pub auth_time: Option<i64>,
}

/// Why a provider could not be used or its answer was not believed. Dutch first, then English;
/// never a secret, a code or a token, and provider-supplied text only shortened.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamOidcError {
    #[error("netwerkaanbieder / network provider: {0}")]
    Http(#[from] OutboundError),
    #[error(
        "het discovery-document van de netwerkaanbieder is onbruikbaar: {0} / the network provider's discovery document cannot be used: {0}"
    )]
    Discovery(String),
    #[error(
        "de netwerkaanbieder noemt zich {found:?} in plaats van {expected:?} / the network provider calls itself {found:?} instead of {expected:?}"
    )]
    IssuerMismatch { expected: String, found: String },
    #[error(
        "de netwerkaanbieder ondersteunt de authorization code flow niet / the network provider does not support the authorization code flow"
    )]
    CodeFlowUnsupported,
    #[error(
        "de netwerkaanbieder ondersteunt PKCE met S256 niet / the network provider does not support PKCE with S256"
    )]
    PkceUnsupported,
    #[error(
        "de netwerkaanbieder ondertekent ID-tokens met geen van RS256, RS384, RS512, PS256, ES256 / the network provider signs ID tokens with none of RS256, RS384, RS512, PS256, ES256"
    )]
    NoAcceptedAlgorithm,
    #[error(
        "de netwerkaanbieder ondersteunt clientauthenticatie {0} niet / the network provider does not support client authentication {0}"
    )]
    ClientAuthUnsupported(&'static str),
    #[error(
        "de sleutelset (JWKS) van de netwerkaanbieder is onbruikbaar: {0} / the network provider's key set (JWKS) cannot be used: {0}"
    )]
    Jwks(String),
    #[error("de redirect_uri is geen geldige URL / the redirect_uri is not a valid URL")]
    RedirectUri,
    #[error(
        "deze login is bij een andere netwerkaanbieder begonnen / this login was started at another network provider"
    )]
    ProviderMismatch,
    #[error(
        "de client assertion kan niet worden ondertekend: {0} / the client assertion cannot be signed: {0}"
    )]
    ClientAssertion(String),
    #[error(
        "het token-endpoint van de netwerkaanbieder weigerde (HTTP {status}, {}) / the network provider's token endpoint refused (HTTP {status}, {})",
        error.as_deref().unwrap_or("geen OAuth-fout"),
        error.as_deref().unwrap_or("no OAuth error")
    )]
    TokenEndpoint { status: u16, error: Option<String> },
    #[error(
        "het antwoord van het token-endpoint is onleesbaar ({0}) / the token endpoint's answer cannot be read ({0})"
    )]
    TokenResponse(String),
    #[error(
        "het antwoord van het token-endpoint bevat geen ID-token / the token endpoint's answer holds no ID token"
    )]
    MissingIdToken,
    #[error(
        "de header van het ID-token wordt niet ondersteund / the ID token's header is not supported"
    )]
    Header,
    #[error(
        "het ID-token is niet ondertekend met RS256, RS384, RS512, PS256 of ES256 / the ID token is not signed with RS256, RS384, RS512, PS256 or ES256"
    )]
    Algorithm,
    #[error(
        "het ID-token is ondertekend met een sleutel die de netwerkaanbieder niet publiceert / the ID token is signed with a key the network provider does not publish"
    )]
    UnknownKey,
    #[error(
        "de handtekening van het ID-token klopt niet / the ID token's signature does not verify"
    )]
    Signature,
    #[error(
        "het ID-token is uitgegeven door een andere partij (iss) / the ID token was issued by another party (iss)"
    )]
    Issuer,
    #[error(
        "het ID-token is niet voor openpoort bestemd (aud) / the ID token is not meant for openpoort (aud)"
    )]
    Audience,
    #[error(
        "het ID-token is aan een andere client uitgegeven (azp) / the ID token was issued to another client (azp)"
    )]
    AuthorizedParty,
    #[error(
        "het ID-token hoort niet bij deze login (nonce) / the ID token does not belong to this login (nonce)"
    )]
    Nonce,
    #[error("het ID-token is verlopen (exp) / the ID token has expired (exp)")]
    Expired,
    #[error(
        "het ID-token is in de toekomst uitgegeven (iat) / the ID token was issued in the future (iat)"
    )]
    IssuedInFuture,
    #[error(
        "het ID-token hoort niet bij het access token (at_hash) / the ID token does not match the access token (at_hash)"
    )]
    AtHash,
    #[error("het ID-token is onbruikbaar: {0} / the ID token cannot be used: {0}")]
    IdToken(&'static str),
}

/// The crate's HTTP client over [`Outbound`]: the outbound policy checks each URL before any
/// connection, answers are read up to [`MAX_ANSWER_BYTES`], redirects are not followed (the
/// Outbound's client follows none). Remembers the last answer's status, which the crate's error
/// for a refusing token endpoint leaves out.
struct Transport<'a> {
    http: &'a Outbound,
    last_status: Mutex<Option<u16>>,
}

impl<'a> Transport<'a> {
    fn new(http: &'a Outbound) -> Transport<'a> {
        Transport {
            http,
            last_status: Mutex::new(None),
        }
    }

    fn last_status(&self) -> Option<u16> {
        *self.last_status.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, OutboundError> {
        let policy = self.http.policy();
        let url = policy.check_url(&request.uri().to_string())?;
        let timeout = self.http.timeout();
        let (parts, body) = request.into_parts();
        let response = self
            .http
            .client()
            .request(parts.method, url)
            .headers(parts.headers)
            .body(body)
            .send()
            .await
            .map_err(|e| policy.describe(&e, timeout))?;
        let status = response.status();
        let headers = response.headers().clone();
        *self.last_status.lock().unwrap_or_else(|e| e.into_inner()) = Some(status.as_u16());
        let body = policy
            .read_bounded(response, MAX_ANSWER_BYTES, timeout)
            .await?;
        let mut answer = HttpResponse::new(body);
        *answer.status_mut() = status;
        *answer.headers_mut() = headers;
        Ok(answer)
    }

    /// GET `url` and the JSON of a successful answer.
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
    ) -> Result<Result<T, String>, OutboundError> {
        let request = openidconnect::http::Request::get(url)
            .header("accept", "application/json")
            .body(Vec::new())
            .map_err(|_| OutboundError::NotAUrl)?;
        let answer = self.send(request).await?;
        if !answer.status().is_success() {
            return Err(OutboundError::Status {
                status: answer.status().as_u16(),
            });
        }
        // serde_json's message can quote the document; its position says enough.
        Ok(serde_json::from_slice(answer.body()).map_err(|e| {
            format!(
                "regel {} kolom {} / line {} column {}",
                e.line(),
                e.column(),
                e.line(),
                e.column()
            )
        }))
    }
}

impl<'c> AsyncHttpClient<'c> for Transport<'_> {
    type Error = OutboundError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, OutboundError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

/// The discovery document's members openpoort uses (OIDC Discovery 1.0, RFC 8414 for
/// `code_challenge_methods_supported`).
#[derive(Deserialize)]
struct DiscoveryDocument {
    issuer: String,
    authorization_endpoint: String,
    #[serde(default)]
    token_endpoint: Option<String>,
    jwks_uri: String,
    response_types_supported: Vec<String>,
    id_token_signing_alg_values_supported: Vec<String>,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    token_endpoint_auth_signing_alg_values_supported: Option<Vec<String>>,
    #[serde(default)]
    code_challenge_methods_supported: Option<Vec<String>>,
}

fn shorten(s: &str) -> String {
    s.chars().take(MAX_ECHO_CHARS).collect()
}

/// An OAuth error code as RFC 6749 (5.2) allows it, printable ASCII without `"` and `\`;
/// anything else a provider sends is dropped, so that it cannot forge lines in a log.
fn oauth_error_code(s: &str) -> String {
    s.chars()
        .filter(|c| matches!(c, ' '..='~') && *c != '"' && *c != '\\')
        .take(MAX_ECHO_CHARS)
        .collect()
}

fn unix_time(t: i64) -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(t).unwrap_or(0))
}

/// OpenID Connect Discovery of `issuer`, then its JWK Set. The document must name exactly
/// `issuer` (OIDC Discovery 1.0, section 4.3: otherwise another party could hand out tokens in
/// its name), support the code flow, PKCE with S256 when it lists PKCE methods, and an ID token
/// algorithm openpoort accepts.
pub async fn discover(
    http: &Outbound,
    issuer: &str,
    now: i64,
) -> Result<ProviderInfo, UpstreamOidcError> {
    let transport = Transport::new(http);
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let doc: DiscoveryDocument = transport
        .get_json(&url)
        .await?
        .map_err(UpstreamOidcError::Discovery)?;
    if doc.issuer != issuer {
        return Err(UpstreamOidcError::IssuerMismatch {
            expected: shorten(issuer),
            found: shorten(&doc.issuer),
        });
    }
    if !doc.response_types_supported.iter().any(|t| t == "code") {
        return Err(UpstreamOidcError::CodeFlowUnsupported);
    }
    if doc
        .code_challenge_methods_supported
        .as_ref()
        .is_some_and(|m| !m.iter().any(|m| m == "S256"))
    {
        return Err(UpstreamOidcError::PkceUnsupported);
    }
    if !doc
        .id_token_signing_alg_values_supported
        .iter()
        .any(|a| ALLOWED_ALG_NAMES.contains(&a.as_str()))
    {
        return Err(UpstreamOidcError::NoAcceptedAlgorithm);
    }
    let token_endpoint = doc.token_endpoint.ok_or_else(|| {
        UpstreamOidcError::Discovery("token_endpoint ontbreekt / token_endpoint is missing".into())
    })?;
    // The browser goes to the authorization endpoint, openpoort to the other two: those must
    // pass the outbound policy, this one at least be https (or allowed by the policy, as in
    // development).
    let authorization = url::Url::parse(&doc.authorization_endpoint).map_err(|_| {
        UpstreamOidcError::Discovery(
            "authorization_endpoint is geen URL / authorization_endpoint is not a URL".into(),
        )
    })?;
    if authorization.scheme() != "https"
        && http
            .policy()
            .check_url(&doc.authorization_endpoint)
            .is_err()
    {
        return Err(UpstreamOidcError::Discovery(
            "authorization_endpoint is geen https / authorization_endpoint is not https".into(),
        ));
    }
    http.policy().check_url(&token_endpoint)?;
    let jwks = fetch_jwks(&transport, &doc.jwks_uri).await?;
    Ok(ProviderInfo {
        issuer: doc.issuer,
        authorization_endpoint: doc.authorization_endpoint,
        token_endpoint,
        jwks_uri: doc.jwks_uri,
        jwks,
        id_token_signing_alg_values_supported: doc.id_token_signing_alg_values_supported,
        token_endpoint_auth_methods_supported: doc
            .token_endpoint_auth_methods_supported
            .unwrap_or_else(|| vec!["client_secret_basic".to_owned()]),
        token_endpoint_auth_signing_alg_values_supported: doc
            .token_endpoint_auth_signing_alg_values_supported,
        code_challenge_methods_supported: doc.code_challenge_methods_supported,
        fetched_at: now,
        jwks_fetched_at: now,
    })
}

async fn fetch_jwks(
    transport: &Transport<'_>,
    jwks_uri: &str,
) -> Result<CoreJsonWebKeySet, UpstreamOidcError> {
    let jwks: CoreJsonWebKeySet = transport
        .get_json(jwks_uri)
        .await?
        .map_err(UpstreamOidcError::Jwks)?;
    if jwks.keys().is_empty() {
        return Err(UpstreamOidcError::Jwks(
            "geen bruikbare sleutel / no usable key".into(),
        ));
    }
    Ok(jwks)
}

impl ProviderInfo {
    /// Fetches the JWK Set again, for an ID token whose key is not in the cached one (the
    /// provider rotated its keys). Not more often than every [`JWKS_REFRESH_INTERVAL_SECS`]:
    /// `false` when it was too soon and nothing was fetched.
    pub async fn refresh_jwks(
        &mut self,
        http: &Outbound,
        now: i64,
    ) -> Result<bool, UpstreamOidcError> {
        if now - self.jwks_fetched_at < JWKS_REFRESH_INTERVAL_SECS {
            return Ok(false);
        }
        let transport = Transport::new(http);
        // A failed fetch counts as a fetch: a provider that is down is not asked again at once.
        self.jwks_fetched_at = now;
        self.jwks = fetch_jwks(&transport, &self.jwks_uri).await?;
        Ok(true)
    }

    fn supports(&self, auth: &ClientAuth) -> bool {
        self.token_endpoint_auth_methods_supported
            .iter()
            .any(|m| m == auth.method())
    }
}

/// The client for `provider` as its discovery document `info` describes it, before the endpoint
/// a step needs is set. Both steps refuse a document of another issuer than the one configured,
/// and a provider that does not take the client authentication configured for it.
fn client_for(
    info: &ProviderInfo,
    provider: &OidcProvider,
    redirect_uri: &str,
) -> Result<CoreClient, UpstreamOidcError> {
    if info.issuer != provider.issuer {
        return Err(UpstreamOidcError::ProviderMismatch);
    }
    if !info.supports(&provider.auth) {
        return Err(UpstreamOidcError::ClientAuthUnsupported(
            provider.auth.method(),
        ));
    }
    let redirect =
        RedirectUrl::new(redirect_uri.to_owned()).map_err(|_| UpstreamOidcError::RedirectUri)?;
    Ok(CoreClient::new(
        ClientId::new(provider.client_id.clone()),
        issuer_url(&info.issuer)?,
        CoreJsonWebKeySet::new(Vec::new()),
    )
    .set_redirect_uri(redirect))
}

/// The authorization request for `provider`: where to send the browser, and what to keep
/// until the provider answers.
pub fn begin(
    info: &ProviderInfo,
    provider: &OidcProvider,
    redirect_uri: &str,
    login_hint: Option<&str>,
) -> Result<(url::Url, Pending), UpstreamOidcError> {
    let client = client_for(info, provider, redirect_uri)?.set_auth_uri(
        AuthUrl::new(info.authorization_endpoint.clone())
            .map_err(|_| UpstreamOidcError::Discovery("authorization_endpoint".into()))?,
    );

    let state = random_token();
    let nonce = random_token();
    // 32 random bytes in base64url: 43 characters of the unreserved set (RFC 7636, 4.1).
    let verifier = PkceCodeVerifier::new(random_token());
    let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
    let (sent_state, sent_nonce) = (state.clone(), nonce.clone());
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            move || CsrfToken::new(sent_state),
            move || Nonce::new(sent_nonce),
        )
        .set_pkce_challenge(challenge);
    for scope in provider.scopes.iter().filter(|s| *s != "openid") {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    if let Some(hint) = login_hint {
        request = request.set_login_hint(LoginHint::new(hint.to_owned()));
    }
    let (url, _, _) = request.url();
    Ok((
        url,
        Pending {
            state,
            nonce,
            pkce_verifier: verifier.into_secret(),
            issuer: info.issuer.clone(),
            redirect_uri: redirect_uri.to_owned(),
        },
    ))
}

fn issuer_url(issuer: &str) -> Result<IssuerUrl, UpstreamOidcError> {
    IssuerUrl::new(issuer.to_owned()).map_err(|_| {
        UpstreamOidcError::Discovery("issuer is geen URL / issuer is not a URL".into())
    })
}

/// The RFC 7523 client assertion for private_key_jwt, signed with openpoort's own key.
fn client_assertion(
    signing: &certs::SigningKey,
    client_id: &str,
    token_endpoint: &str,
    now: i64,
) -> Result<String, UpstreamOidcError> {
    let claims = json!({
        "iss": client_id,
        "sub": client_id,
        "aud": token_endpoint,
        "jti": random_token(),
        "iat": now,
        "exp": now + CLIENT_ASSERTION_SECS,
    });
    metadata::jose::sign(signing, "JWT", &claims)
        .map_err(|e| UpstreamOidcError::ClientAssertion(e.to_string()))
}

/// Exchanges `code` for tokens and verifies the ID token; the login the provider vouches for.
///
/// The caller has already taken `pending` (once) and compared the answer's `state` with
/// [`Pending::state`]. `info` may be updated: an ID token signed with a key not in its JWK Set
/// makes it fetch the set once more (see [`ProviderInfo::refresh_jwks`]).
pub async fn finish(
    http: &Outbound,
    info: &mut ProviderInfo,
    provider: &OidcProvider,
    pending: Pending,
    code: &str,
    signing: &certs::SigningKey,
    now: i64,
) -> Result<VerifiedLogin, UpstreamOidcError> {
    if pending.issuer != info.issuer {
        return Err(UpstreamOidcError::ProviderMismatch);
    }
    let client = client_for(info, provider, &pending.redirect_uri)?.set_token_uri(
        TokenUrl::new(info.token_endpoint.clone())
            .map_err(|_| UpstreamOidcError::Discovery("token_endpoint".into()))?,
    );
    let client = match &provider.auth {
        ClientAuth::ClientSecretBasic(secret) => client
            .set_client_secret(ClientSecret::new(secret.expose().to_owned()))
            .set_auth_type(AuthType::BasicAuth),
        ClientAuth::ClientSecretPost(secret) => client
            .set_client_secret(ClientSecret::new(secret.expose().to_owned()))
            .set_auth_type(AuthType::RequestBody),
        // No secret: the crate then sends client_id in the body, beside the assertion.
        ClientAuth::PrivateKeyJwt => client.set_auth_type(AuthType::RequestBody),
    };
    let mut request = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()));
    if let ClientAuth::PrivateKeyJwt = provider.auth {
        if let Some(algs) = &info.token_endpoint_auth_signing_alg_values_supported
            && !algs.iter().any(|a| a == signing.alg().as_str())
        {
            return Err(UpstreamOidcError::ClientAuthUnsupported("private_key_jwt"));
        }
        let assertion = client_assertion(signing, &provider.client_id, &info.token_endpoint, now)?;
        request = request
            .add_extra_param("client_assertion_type", CLIENT_ASSERTION_TYPE)
            .add_extra_param("client_assertion", assertion);
    }
    let transport = Transport::new(http);
    let response = request.request_async(&transport).await;
    let status = transport.last_status();
    let response = match response {
        Ok(r) => r,
        Err(RequestTokenError::Request(e)) => return Err(UpstreamOidcError::Http(e)),
        Err(RequestTokenError::ServerResponse(e)) => {
            return Err(UpstreamOidcError::TokenEndpoint {
                status: status.unwrap_or(0),
                error: Some(oauth_error_code(e.error().as_ref())),
            });
        }
        Err(_) if status.is_some_and(|s| s != 200) => {
            return Err(UpstreamOidcError::TokenEndpoint {
                status: status.unwrap_or(0),
                error: None,
            });
        }
        // The body holds tokens and the parser's message may quote it: the path only.
        Err(RequestTokenError::Parse(e, _)) => {
            return Err(UpstreamOidcError::TokenResponse(shorten(
                &e.path().to_string(),
            )));
        }
        Err(RequestTokenError::Other(_)) => {
            return Err(UpstreamOidcError::TokenResponse(
                "geen JSON / not JSON".into(),
            ));
        }
    };
    let id_token = response
        .id_token()
        .ok_or(UpstreamOidcError::MissingIdToken)?;
    let access_token = response.access_token().secret();
    verify_id_token(http, info, provider, &pending, id_token, access_token, now).await
}

async fn verify_id_token(
    http: &Outbound,
    info: &mut ProviderInfo,
    provider: &OidcProvider,
    pending: &Pending,
    id_token: &CoreIdToken,
    access_token: &str,
    now: i64,
) -> Result<VerifiedLogin, UpstreamOidcError> {
    let nonce = Nonce::new(pending.nonce.clone());
    let mut refreshed = false;
    let claims = loop {
        // A public client's verifier: it holds no secret, so an HS* token finds no key even if
        // the allow-list let one through.
        let verifier = IdTokenVerifier::new_public_client(
            ClientId::new(provider.client_id.clone()),
            issuer_url(&info.issuer)?,
            info.jwks.clone(),
        )
        .set_allowed_algs(ALLOWED_ALGS)
        // Other audiences are allowed when `azp` names openpoort, checked below.
        .set_other_audience_verifier_fn(|_| true)
        // The crate compares `exp` with this time; the skew tolerates a provider's fast clock.
        .set_time_fn(move || unix_time(now - CLOCK_SKEW_SECS).into());
        match id_token.claims(&verifier, &nonce) {
            Ok(c) => break c,
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) if !refreshed => {
                refreshed = true;
                if !info.refresh_jwks(http, now).await? {
                    return Err(UpstreamOidcError::UnknownKey);
                }
            }
            Err(e) => return Err(claims_error(e)),
        }
    };

    let audiences = claims.audiences();
    let azp = claims.authorized_party().map(|a| a.as_str());
    // OIDC Core 1.0, 3.1.3.7 steps 4 and 5: with several audiences the token must say which
    // of them it was issued to, and that must be openpoort.
    if audiences.len() > 1 && azp.is_none() {
        return Err(UpstreamOidcError::AuthorizedParty);
    }
    if azp.is_some_and(|a| a != provider.client_id) {
        return Err(UpstreamOidcError::AuthorizedParty);
    }
    if claims.issue_time().timestamp() > now + CLOCK_SKEW_SECS {
        return Err(UpstreamOidcError::IssuedInFuture);
    }
    if let Some(expected) = claims.access_token_hash() {
        let alg = id_token
            .signing_alg()
            .map_err(|_| UpstreamOidcError::Algorithm)?;
        if at_hash(alg, access_token)? != expected.as_str() {
            return Err(UpstreamOidcError::AtHash);
        }
    }

    let raw = id_token.to_string();
    let payload = raw
        .split('.')
        .nth(1)
        .ok_or(UpstreamOidcError::IdToken("geen JWS / not a JWS"))?;
    let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| {
        UpstreamOidcError::IdToken("payload geen base64url / payload not base64url")
    })?;
    let all: Map<String, Value> = serde_json::from_slice(&payload).map_err(|_| {
        UpstreamOidcError::IdToken("payload geen JSON-object / payload not a JSON object")
    })?;
    let auth_time = all.get("auth_time").and_then(Value::as_i64);
    Ok(VerifiedLogin {
        subject: claims.subject().as_str().to_owned(),
        claims: all,
        auth_time,
    })
}

/// OIDC Core 1.0, 3.1.3.6: the left half of the access token's hash with the ID token's
/// algorithm's hash function, base64url.
fn at_hash(alg: &CoreJwsSigningAlgorithm, access_token: &str) -> Result<String, UpstreamOidcError> {
    use openssl::hash::{MessageDigest, hash};
    let digest = match alg {
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256
        | CoreJwsSigningAlgorithm::RsaSsaPssSha256
        | CoreJwsSigningAlgorithm::EcdsaP256Sha256 => MessageDigest::sha256(),
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384 => MessageDigest::sha384(),
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512 => MessageDigest::sha512(),
        _ => return Err(UpstreamOidcError::Algorithm),
    };
    let h =
        hash(digest, access_token.as_bytes()).map_err(|_| UpstreamOidcError::IdToken("hash"))?;
    Ok(URL_SAFE_NO_PAD.encode(&h[..h.len() / 2]))
}

fn claims_error(e: ClaimsVerificationError) -> UpstreamOidcError {
    match e {
        ClaimsVerificationError::Expired(_) => UpstreamOidcError::Expired,
        ClaimsVerificationError::InvalidAudience(_) => UpstreamOidcError::Audience,
        ClaimsVerificationError::InvalidIssuer(_) => UpstreamOidcError::Issuer,
        ClaimsVerificationError::InvalidNonce(_) => UpstreamOidcError::Nonce,
        ClaimsVerificationError::Unsupported(_) => UpstreamOidcError::Header,
        ClaimsVerificationError::SignatureVerification(s) => match s {
            SignatureVerificationError::DisallowedAlg(_)
            | SignatureVerificationError::NoSignature
            | SignatureVerificationError::UnsupportedAlg(_) => UpstreamOidcError::Algorithm,
            SignatureVerificationError::NoMatchingKey => UpstreamOidcError::UnknownKey,
            _ => UpstreamOidcError::Signature,
        },
        _ => UpstreamOidcError::IdToken("claims"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_pending_records_do_not_show_in_debug() {
        let secret = Secret::new("s3cr3t-value".into());
        assert_eq!(format!("{secret:?}"), "Secret(..)");
        let auth = ClientAuth::ClientSecretPost(secret);
        assert!(!format!("{auth:?}").contains("s3cr3t"));
        let pending = Pending {
            state: "state-value".into(),
            nonce: "nonce-value".into(),
            pkce_verifier: "verifier-value".into(),
            issuer: "https://op.example".into(),
            redirect_uri: "https://openpoort.example/cb".into(),
        };
        let shown = format!("{pending:?}");
        assert!(!shown.contains("verifier-value") && !shown.contains("nonce-value"));
        assert!(shown.contains("https://op.example"));
    }

    #[test]
    fn oauth_error_codes_keep_only_their_own_characters() {
        assert_eq!(oauth_error_code("invalid_client"), "invalid_client");
        assert_eq!(
            oauth_error_code("invalid\nERROR forged \"line\""),
            "invalidERROR forged line"
        );
        assert_eq!(oauth_error_code(&"x".repeat(500)).len(), MAX_ECHO_CHARS);
    }

    #[test]
    fn at_hash_follows_the_algorithm_hash() {
        // OIDC Core 1.0, A.3: the at_hash of this access token under RS256.
        assert_eq!(
            at_hash(
                &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
            )
            .unwrap(),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        assert_ne!(
            at_hash(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512, "x").unwrap(),
            at_hash(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, "x").unwrap()
        );
    }
}
