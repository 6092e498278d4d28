//! The demo product: "Leesland", a small publisher's application that `openpoort demo` serves
//! beside openpoort at `/demo-product/`, so that a new user sees a real sign-in to a product end
//! to end, over OpenID Connect and over SAML.
//!
//! It is a relying party like any publisher's: it knows openpoort only through its registration
//! (an OIDC client and a SAML SP of the party `demo-leesland`, registered at every start because
//! their addresses follow `server.public_url`) and its public endpoints. It reaches openpoort's
//! back channel (token, JWKS, userinfo, SAML metadata) at the address the server listens on,
//! which in a demo may differ from `public_url` (a port chosen by the system, a proxy). Nothing a
//! browser brings back is believed before it is verified: the ID token's signature with
//! openpoort's JWKS and its issuer, audience, expiry and nonce; the SAML assertion's signature
//! with the certificates in openpoort's metadata and its issuer, audience, recipient, request and
//! validity. A login attempt is tied to the browser that started it by a cookie and can be
//! completed once.
//!
//! The school has a licence for Leesland from the start, but no consent: the first thing a new
//! ICT-coördinator does is tick it in Beheer › Uitgeverijen, after which its tile appears.

mod oidc;
mod saml;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use directory::model::{Date, PartyKind, SchoolCode, WebUrl};
use directory::parties::{LicenceScope, NewLicence, NewProduct};
use directory::{Actor, Directory};
use metadata::client::{ClientRegistration, GrantType, TokenAuthMethod};
use metadata::saml::sp::SpSettings;

use crate::app::AppError;
use crate::app_state::AppState;
use crate::http::cookie_value;

pub const PARTY: &str = "demo-leesland";
pub const PRODUCT: &str = "leesland";
pub const CLIENT_ID: &str = "demo-leesland-web";
/// Where the product lives under openpoort's address.
pub const PREFIX: &str = "/demo-product";
/// How long a started login may take before it is forgotten.
const PENDING_FOR: Duration = Duration::from_secs(600);
/// A bound on started logins kept in memory, so that a loop of starts cannot fill it.
const MAX_PENDING: usize = 10_000;
const COOKIE: &str = "leesland_login";

/// The demo product's settings and its logins in progress.
pub struct DemoProduct {
    /// openpoort's issuer and the base of every browser-facing address.
    issuer: String,
    /// openpoort's address for the back channel.
    backend: String,
    client_secret: String,
    pending: Mutex<HashMap<String, Pending>>,
    http: reqwest::Client,
}

/// A login this product started and waits to see back.
enum Pending {
    Oidc {
        nonce: String,
        verifier: String,
        at: Instant,
    },
    Saml {
        request_id: String,
        at: Instant,
    },
}

impl Pending {
    fn at(&self) -> Instant {
        match self {
            Pending::Oidc { at, .. } | Pending::Saml { at, .. } => *at,
        }
    }
}

impl DemoProduct {
    fn url(&self, path: &str) -> String {
        format!("{}{PREFIX}{path}", self.issuer)
    }

    fn redirect_uri(&self) -> String {
        self.url("/oidc/callback")
    }

    fn entity_id(&self) -> String {
        self.url("/saml")
    }

    fn acs(&self) -> String {
        self.url("/saml/acs")
    }

    /// Remembers a started login under `key` (the OIDC state, the SAML RelayState) and sends the
    /// browser to `location`, with the cookie that ties the login to this browser.
    fn start(&self, key: String, pending: Pending, location: &str) -> Result<Response, DemoError> {
        let cookie = self.binding_cookie(&key);
        let mut map = self.pending.lock().expect("pending logins lock");
        map.retain(|_, p| p.at().elapsed() < PENDING_FOR);
        if map.len() >= MAX_PENDING {
            return Err(DemoError::Busy);
        }
        map.insert(key, pending);
        drop(map);
        Ok((
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, location.parse().expect("a URL header")),
                (header::SET_COOKIE, cookie),
            ],
        )
            .into_response())
    }

    /// Takes the login started under `key` by this browser: at most once, and only while fresh.
    fn take(&self, key: &str, headers: &HeaderMap) -> Result<Pending, DemoError> {
        if cookie_value(headers, COOKIE) != Some(key) {
            return Err(DemoError::NotThisBrowser);
        }
        let pending = self
            .pending
            .lock()
            .expect("pending logins lock")
            .remove(key)
            .ok_or(DemoError::Unknown)?;
        if pending.at().elapsed() >= PENDING_FOR {
            return Err(DemoError::Unknown);
        }
        Ok(pending)
    }

    /// The cookie that ties a started login to this browser.
    fn binding_cookie(&self, key: &str) -> HeaderValue {
        let secure = if self.issuer.starts_with("https://") {
            "; Secure"
        } else {
            ""
        };
        HeaderValue::from_str(&format!(
            "{COOKIE}={key}; Path={PREFIX}; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
            PENDING_FOR.as_secs()
        ))
        .expect("a token is a valid header value")
    }

    /// A back-channel address: openpoort publishes `issuer`-based URLs; the product calls the
    /// same path at the listening address.
    fn backend_url(&self, published: &str) -> Result<String, DemoError> {
        published
            .strip_prefix(&self.issuer)
            .map(|path| format!("{}{path}", self.backend))
            .ok_or_else(|| DemoError::Protocol(format!("{published} is not under the issuer")))
    }
}

/// Why a login at the demo product did not complete.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("this login was not started in this browser")]
    NotThisBrowser,
    #[error("unknown, used or expired login; start again")]
    Unknown,
    #[error("too many logins in progress; try again later")]
    Busy,
    #[error("openpoort refused: {0}")]
    Refused(String),
    #[error("the answer from openpoort is not acceptable: {0}")]
    Protocol(String),
    #[error("openpoort could not be reached: {0}")]
    Backend(#[from] reqwest::Error),
}

impl IntoResponse for DemoError {
    fn into_response(self) -> Response {
        let status = match self {
            DemoError::Backend(_) => StatusCode::BAD_GATEWAY,
            DemoError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            DemoError::Refused(_) => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        };
        let nl = match &self {
            DemoError::NotThisBrowser => {
                "Deze inlogpoging is niet in deze browser begonnen.".to_owned()
            }
            DemoError::Unknown => {
                "Deze inlogpoging is onbekend, al gebruikt of verlopen. Begin opnieuw.".to_owned()
            }
            DemoError::Busy => "Er lopen te veel inlogpogingen; probeer het later.".to_owned(),
            DemoError::Refused(why) => format!("openpoort gaf geen toegang: {why}"),
            DemoError::Protocol(why) => format!("Het antwoord van openpoort is afgewezen: {why}"),
            DemoError::Backend(e) => format!("openpoort is niet bereikbaar: {e}"),
        };
        tracing::info!(error = %self, "demo product login not completed");
        render(
            status,
            &ProductPage {
                signed_in: None,
                problem: Some((nl, self.to_string())),
            },
        )
    }
}

/// Who signed in, as the product received it.
pub struct SignedIn {
    /// "OpenID Connect" or "SAML 2.0".
    protocol: &'static str,
    /// The name to greet, when openpoort released one.
    greeting: Option<String>,
    /// Every claim or attribute received, by name.
    received: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "demo_product.html")]
struct ProductPage {
    signed_in: Option<SignedIn>,
    /// Dutch and English text of what went wrong.
    problem: Option<(String, String)>,
}

/// openpoort's page headers (no caching, its strict CSP); a publisher's page also sends no
/// Referer, so the sign-in's URLs never reach a third party.
fn render(status: StatusCode, page: &ProductPage) -> Response {
    let mut extra = HeaderMap::new();
    extra.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    crate::http::page(status, page, extra)
}

fn signed_in(s: SignedIn) -> Response {
    render(
        StatusCode::OK,
        &ProductPage {
            signed_in: Some(s),
            problem: None,
        },
    )
}

async fn home() -> Response {
    render(
        StatusCode::OK,
        &ProductPage {
            signed_in: None,
            problem: None,
        },
    )
}

/// The product's routes, to be merged into openpoort's router in demo mode.
pub fn router(product: Arc<DemoProduct>) -> Router {
    Router::new()
        .route(&format!("{PREFIX}/"), get(home))
        .route(&format!("{PREFIX}/oidc/login"), get(oidc::login))
        .route(&format!("{PREFIX}/oidc/callback"), get(oidc::callback))
        .route(&format!("{PREFIX}/saml/login"), get(saml::login))
        .route(&format!("{PREFIX}/saml/acs"), post(saml::acs))
        .with_state(product)
}

pub type Product = State<Arc<DemoProduct>>;

/// Whether the product can be registered at `public_url`: its addresses (launch URL, redirect
/// URI, ACS) must be https, or http on localhost, like every other registered address. A demo
/// reached under another plain-http host name runs without the product rather than not at all.
pub fn servable_at(public_url: &str) -> Result<(), AppError> {
    WebUrl::parse("launch_url", &format!("{public_url}{PREFIX}/"))?;
    Ok(())
}

/// The party, its product and the school's licence (kept when present), and the product's OIDC
/// client and SAML SP at the addresses `public_url` gives today. The client's secret is made new
/// at every start and kept only in memory.
pub async fn start(
    state: &AppState,
    public_url: &str,
    local: SocketAddr,
) -> Result<Arc<DemoProduct>, AppError> {
    let d = &state.directory;
    let actor = Actor::system("demo");
    let party = match d.party_by_code(PARTY).await? {
        Some(p) => p,
        None => seed_party(d, public_url, &actor).await?,
    };
    let mut product = DemoProduct {
        issuer: public_url.to_owned(),
        backend: format!("http://{local}"),
        client_secret: String::new(),
        pending: Mutex::new(HashMap::new()),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| AppError::Usage(format!("demo product HTTP client: {e}")))?,
    };
    let registration = ClientRegistration {
        client_id: CLIENT_ID.into(),
        party_id: party.id.clone(),
        name: "Leesland (demo)".into(),
        redirect_uris: vec![product.redirect_uri()],
        post_logout_redirect_uris: vec![product.url("/")],
        grant_types: vec![GrantType::AuthorizationCode],
        scopes: ["openid", "profile", "school", "groups"]
            .map(String::from)
            .to_vec(),
        token_endpoint_auth_method: TokenAuthMethod::ClientSecretBasic,
        jwks: None,
        jwks_uri: None,
        id_token_signed_response_alg: certs::Algorithm::Rs256,
        sector_identifier: None,
        backchannel_logout_uri: None,
        initiate_login_uri: Some(product.url("/oidc/login")),
    };
    // The server registers its own demo product, as the operator's command line would.
    let registrar = crate::clients::Registrar::on_server(&actor);
    match d.oidc_client(CLIENT_ID).await? {
        None => {
            registrar.register(d, &registration, true).await?;
        }
        Some(stored) if crate::clients::parse(&stored)? != registration => {
            registrar.update(d, &registration, true).await?;
        }
        Some(_) => {}
    }
    product.client_secret = registrar.rotate_secret(d, CLIENT_ID).await?;

    let entity = product.entity_id();
    let stale = match d.saml_sp(&entity).await? {
        Some(sp) => !sp.metadata_xml.contains(&product.acs()),
        None => false,
    };
    if stale {
        d.delete_saml_sp(&entity, &actor).await?;
    }
    if stale || d.saml_sp(&entity).await?.is_none() {
        // The product's own SPs under other addresses (an earlier public_url) are retired.
        for old in d.saml_sps_of_party(&party.id).await? {
            if old.entity_id != entity {
                d.delete_saml_sp(&old.entity_id, &actor).await?;
            }
        }
        crate::service_providers::register(
            d,
            &state.http,
            Some(saml::metadata(&product).into_bytes()),
            &SpSettings {
                party_id: party.id.clone(),
                name: Some("Leesland (demo)".into()),
                ..SpSettings::default()
            },
            true,
            &actor,
        )
        .await?;
    }
    Ok(Arc::new(product))
}

/// The demo party with what it may receive, its product and the demo school's licence.
async fn seed_party(
    d: &Directory,
    public_url: &str,
    actor: &Actor,
) -> Result<directory::parties::Party, AppError> {
    let party = d
        .create_party(
            PARTY,
            PartyKind::Publisher,
            "Leesland Demo-uitgeverij",
            actor,
        )
        .await?;
    // The first name, so that the product can greet the pupil; nothing else beyond the minimum.
    d.allow_release_attribute(&party.id, "given_name", actor)
        .await?;
    let product = d
        .create_product(
            &party.id,
            &NewProduct {
                code: PRODUCT.into(),
                methode: "Leesland".into(),
                name: "Leesland lezen".into(),
                launch_url: WebUrl::parse("launch_url", &format!("{public_url}{PREFIX}/"))?,
                icon_url: None,
                home_allowed: true,
            },
            actor,
        )
        .await?;
    let code = SchoolCode::parse(crate::demo::SCHOOL_CODE)?;
    if let Some(school) = d.school_by_code(&code).await? {
        d.create_licence(
            &NewLicence {
                school_id: school.id,
                product_id: product.id,
                scope: LicenceScope::School,
                valid_from: Date::parse("valid_from", "2026-08-01")?,
                valid_until: Some(Date::parse("valid_until", "2027-07-31")?),
            },
            actor,
        )
        .await?;
    }
    Ok(party)
}
