//! Two openpoort nodes on one PostgreSQL schema and one Redis behind a round-robin balancer, as
//! README's production set-up runs them: a login started on one node finishes on the other, a
//! change made elsewhere reaches a node's read cache within the stated bound, a key rotation
//! reaches every node, and a node killed under load costs the other node nothing.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;

use openpoort_e2e::link::Balancer;
use openpoort_e2e::{
    Browser, Page, PgSchema, Server, Store, authorize_url, bram_signed_in, cli_with,
    demo_pupil_login, demo_pupil_login_as, demo_shortcut, openpoort, pkce, run_load, sign_in_bram,
    store_env,
};

const PUBLISHER: &str = "demo-uitgeverij";
const REDIRECT: &str = "http://127.0.0.1:9/callback";

struct Nodes {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
    a: Server,
    b: Server,
    balancer: Balancer,
    /// The demo school's pupil shortcut, `/s/{INSTELLING_REF}`.
    shortcut: String,
    _schema: PgSchema,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A node in `dir` listening on `port`, known to the world by the balancer's `public` URL.
fn node(dir: &Path, env: &[(String, String)], port: u16, public: &str, command: &str) -> Server {
    let mut cmd = openpoort(dir);
    cmd.env("OPENPOORT_SERVER_LISTEN", format!("127.0.0.1:{port}"))
        .env("OPENPOORT_SERVER_PUBLIC_URL", public)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .arg(command);
    Server::try_start(cmd).unwrap_or_else(|| panic!("openpoort {command} did not start"))
}

/// Node `a` seeds the demo (`openpoort demo`), node `b` serves the same register (`openpoort
/// serve`). Both share the folder, so the development key-encryption key too, as production
/// nodes share `keys.kek`.
fn start_nodes() -> Nodes {
    let schema = PgSchema::create();
    let mut env = store_env(Store::Redis);
    env.push(("OPENPOORT_DATABASE_URL".into(), schema.url()));
    let (pa, pb) = (free_port(), free_port());
    let at = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
    let balancer = Balancer::over(&[at(pa), at(pb)]);
    let dir = tempfile::tempdir().expect("temporary folder");
    let a = node(dir.path(), &env, pa, &balancer.url(), "demo");
    let welcome = a.more_output(Duration::from_millis(500)).join("\n");
    let shortcut = demo_shortcut(&welcome)
        .unwrap_or_else(|| panic!("no pupil shortcut in the demo's welcome: {welcome}"));
    let b = node(dir.path(), &env, pb, &balancer.url(), "serve");
    Nodes {
        dir,
        env,
        a,
        b,
        balancer,
        shortcut,
        _schema: schema,
    }
}

impl Nodes {
    /// The operator's command line on the shared register; its standard output.
    fn cli(&self, args: &[&str]) -> String {
        cli_with(self.dir.path(), &self.env, args)
    }

    /// A browser on the balancer that opens a new connection for every request, so that
    /// consecutive requests go to the two nodes in turn.
    fn browser_on_both(&self) -> Browser {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(0)
            .build()
            .expect("HTTP client");
        Browser::with_client(&self.balancer.url(), http)
    }
}

/// The portal as a signed-in user sees it.
fn assert_signed_in(portal: &Page) {
    assert_eq!(portal.status, 200, "{}", portal.body);
    assert!(
        portal.body.contains("Uitloggen"),
        "not signed in: {}",
        portal.body
    );
}

fn base(server: &Server) -> String {
    server.url("").trim_end_matches('/').to_owned()
}

#[tokio::test]
async fn a_login_started_on_one_node_finishes_on_the_other() {
    let n = start_nodes();
    let mut bram = n.browser_on_both();
    // The form comes from one node, the password goes to the other; the school choice likewise.
    sign_in_bram(&mut bram).await;
    for _ in 0..2 {
        assert_signed_in(&bram.get("/").await);
    }

    // A pupil's four steps (groups, names, pictures, picture) alternate between the nodes too.
    let mut pupil = n.browser_on_both();
    assert!(demo_pupil_login(&mut pupil, &n.shortcut).await);
    assert!(
        n.balancer.served(0) >= 4 && n.balancer.served(1) >= 4,
        "the balancer did not use both nodes: {} and {}",
        n.balancer.served(0),
        n.balancer.served(1)
    );
}

/// A change made by another process (here the command line) reaches a node's read cache
/// through the register's change notice, within `directory::CACHE_LAPSE` at the most.
#[tokio::test]
async fn a_change_made_elsewhere_reaches_a_nodes_read_cache_within_the_bound() {
    let n = start_nodes();
    let b = base(&n.b);
    let http = reqwest::Client::new();
    let status = |path: String| {
        let http = http.clone();
        async move { http.get(path).send().await.expect("GET").status().as_u16() }
    };
    // Node b's read cache is in use, so the test below is about its notices, not about reads
    // that go to the database every time.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = http.get(format!("{b}/metrics")).send().await.expect("GET");
        let metrics = metrics.text().await.expect("metrics");
        if metrics.contains("openpoort_register_cache_in_use 1") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "node b's read cache is not in use: {metrics}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let shortcut = format!("{b}{}", n.shortcut);
    // Read (and kept) by node b.
    assert_eq!(status(shortcut.clone()).await, 200);
    assert_eq!(status(shortcut.clone()).await, 200);

    n.cli(&["school", "regenerate-ref", "--school", "99ZZ00"]);
    let changed = Instant::now();
    while status(shortcut.clone()).await == 200 {
        assert!(
            changed.elapsed() < directory::CACHE_LAPSE,
            "node b still opens the old shortcut {:?} after the change",
            changed.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The `kid` in the header of a JWS.
fn kid(jws: &str) -> String {
    let header = jws.split('.').next().expect("a JWS");
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("base64url")).unwrap();
    header["kid"].as_str().expect("a kid").to_owned()
}

/// Bram (signed in through `bram`) gets a code at `at` for `client_id` and redeems it there:
/// the ID token.
async fn id_token_from(at: &str, bram: &mut Browser, client_id: &str, secret: &str) -> String {
    let (verifier, challenge) = pkce();
    let url = authorize_url(
        at,
        &[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("state", "st"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let back = bram.get(&url).await;
    let location = back
        .location()
        .unwrap_or_else(|| panic!("no redirect ({}): {}", back.status, back.body));
    let code = url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap_or_else(|| panic!("no code: {location}"))
        .1
        .into_owned();
    let response = reqwest::Client::new()
        .post(format!("{at}/oidc/token"))
        .header(
            "authorization",
            format!("Basic {}", STANDARD.encode(format!("{client_id}:{secret}"))),
        )
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .expect("token request");
    let body: Value = response.json().await.expect("JSON");
    body["id_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no ID token: {body}"))
        .to_owned()
}

/// Signing keys live in the register: a rotation (by the command line, against the register the
/// nodes share) is what every node signs with once its short key cache
/// (`certs::RECORDS_TTL`, 10 s) has passed, and what every node publishes.
#[tokio::test]
async fn a_key_rotation_reaches_every_node_and_tokens_signed_before_it_still_verify() {
    let n = start_nodes();
    let secret = {
        let out = n.cli(&[
            "client",
            "add",
            "--party",
            PUBLISHER,
            "--client-id",
            "rp-nodes",
            "--name",
            "rp-nodes",
            "--redirect-uri",
            REDIRECT,
            "--grant",
            "authorization_code",
            "--scope",
            "openid",
            "--auth",
            "client_secret_basic",
        ]);
        let lines: Vec<&str> = out.lines().collect();
        let i = lines
            .iter()
            .position(|l| l.contains("client_secret"))
            .expect("the secret is printed");
        lines[i + 1].trim().to_owned()
    };
    let b = base(&n.b);
    let mut bram = bram_signed_in(&b).await;
    let signed_before = id_token_from(&b, &mut bram, "rp-nodes", &secret).await;
    let before = kid(&signed_before);

    let rotated = n.cli(&["keys", "rotate", "--alg", "RS256"]);
    let current = rotated
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("no key in {rotated:?}"))
        .to_owned();
    assert_ne!(current, before, "the rotation made another key current");

    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now_signing = kid(&id_token_from(&b, &mut bram, "rp-nodes", &secret).await);
        if now_signing == current {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "node b still signs with {now_signing}, not {current}, 20 s after the rotation"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Both nodes publish the key they now sign with, and the retired one for the grace
    // period, so that an ID token signed just before the rotation still verifies.
    for server in [&n.a, &n.b] {
        let jwks: Value = reqwest::get(server.url("/oidc/jwks"))
            .await
            .expect("JWKS")
            .json()
            .await
            .expect("JSON");
        let published = |kid: &str| {
            jwks["keys"]
                .as_array()
                .expect("keys")
                .iter()
                .find(|k| k["kid"] == kid)
                .cloned()
        };
        assert!(published(&current).is_some(), "{current} is not in {jwks}");
        let retired =
            published(&before).unwrap_or_else(|| panic!("the retired {before} is not in {jwks}"));
        assert!(verifies_rs256(&retired, &signed_before), "{retired}");
    }
}

/// Whether the RS256 compact JWS `jws` verifies with the RSA JWK `jwk`.
fn verifies_rs256(jwk: &Value, jws: &str) -> bool {
    let number = |name: &str| {
        let bytes = URL_SAFE_NO_PAD
            .decode(jwk[name].as_str().expect("an RSA JWK"))
            .expect("base64url");
        openssl::bn::BigNum::from_slice(&bytes).expect("a number")
    };
    let rsa = openssl::rsa::Rsa::from_public_components(number("n"), number("e")).expect("RSA");
    let key = openssl::pkey::PKey::from_rsa(rsa).expect("a key");
    let (signed, signature) = jws.rsplit_once('.').expect("a compact JWS");
    let signature = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
    let mut verifier = openssl::sign::Verifier::new(openssl::hash::MessageDigest::sha256(), &key)
        .expect("verifier");
    verifier
        .verify_oneshot(&signature, signed.as_bytes())
        .expect("verification")
}

/// Sessions live in Redis and the register in PostgreSQL, so a node's death takes nothing with
/// it: pupils signing in on the other node all succeed while it dies, and a teacher who signed
/// in on the dead node stays signed in on the other.
#[tokio::test]
async fn killing_a_node_under_load_costs_no_session_and_no_login_on_the_other() {
    let mut n = start_nodes();
    let (a, b) = (base(&n.a), base(&n.b));
    let bram = bram_signed_in(&a).await;

    // Two pupils sign in again and again on node b, each one login at a time (a pupil signing
    // in twice at once would meet the picture check's own limit, which is not the point here).
    let pupils = [("Finn S.", "boom"), ("Emma M.", "bloem")].map(|(name, picture)| {
        let (survivor, shortcut) = (b.clone(), n.shortcut.clone());
        tokio::spawn(async move {
            run_load(&survivor, 200, 1, move |mut pupil| {
                let shortcut = shortcut.clone();
                async move {
                    // Each flow is a new browser session on the kept-alive connection.
                    pupil.cookies.clear();
                    let ok =
                        demo_pupil_login_as(&mut pupil, &shortcut, "Groep 5 Uilen", name, picture)
                            .await;
                    (pupil, ok)
                }
            })
            .await
        })
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        pupils.iter().all(|p| !p.is_finished()),
        "the load ended before the node was killed"
    );
    n.a.child.kill().expect("kill node a");
    n.a.child.wait().expect("node a ends");
    let mut load = Vec::new();
    for p in pupils {
        load.push(p.await.expect("the load task"));
    }
    let load = openpoort_e2e::Load {
        elapsed: load.iter().map(|l| l.elapsed).max().unwrap_or_default(),
        errors: load.iter().map(|l| l.errors).sum(),
        latencies: {
            let mut all: Vec<_> = load.into_iter().flat_map(|l| l.latencies).collect();
            all.sort();
            all
        },
    };
    load.report("pupil logins per second on the surviving node");
    assert_eq!(load.errors, 0, "pupil logins failed on the surviving node");
    assert_eq!(load.latencies.len(), 400);

    // Bram's session, opened on the dead node, is the surviving node's too.
    let mut on_b = Browser::new(&b);
    on_b.cookies = bram.cookies.clone();
    assert_signed_in(&on_b.get("/").await);
}
