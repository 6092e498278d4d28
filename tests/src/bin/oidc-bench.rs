//! Complete OpenID Connect logins per second: the Monday-morning path of a pupil who opens a
//! publisher's product.
//!
//!     cargo run --release -p openpoort-e2e --bin oidc-bench -- [FLOWS] [CONCURRENCY] [RS256|ES256|floor] [sqlite|postgres]
//!
//! It starts `openpoort demo` on the embedded default (SQLite, sessions in memory) or on
//! PostgreSQL + Redis (a fresh schema, a redis-server of the run's own; `eval
//! "$(scripts/services)"` first), registers a confidential client of the demo publisher, and runs
//! FLOWS flows with CONCURRENCY clients at once. One flow: a pupil's shortcut login (the demo's
//! ten pupils in turn, `DemoPupils`; groups,
//! names, picture, session: 4 requests), the authorization request with PKCE (a release
//! decision, audited), the code exchange (an ID token signed with the chosen algorithm) and
//! userinfo: 7 requests. Prints flows/s, p50 and p99 of a flow, errors, and the server's CPU,
//! database transactions and Redis commands per flow (`openpoort_e2e::bench`).
//!
//! `floor` runs the same number of requests per flow against `/healthz`, which answers a
//! constant without touching the register, the session store or a key: what this machine's two
//! cores manage for the HTTP alone, with the same server, client and concurrency. A real flow
//! can never be faster; the gap between the two is what the login itself costs.

use std::time::Duration;

use base64::Engine;

use openpoort_e2e::bench::{BenchStore, DemoPupils, measured_load, report};
use openpoort_e2e::{Browser, Server, demo_shortcut};

const REDIRECT: &str = "https://rekenrijk.demo-uitgeverij.example/callback";

struct Setup {
    shortcut: String,
    pupils: DemoPupils,
    client_id: String,
    /// `Basic …` of the client's id and secret (client_secret_basic).
    basic: String,
    verifier: String,
    challenge: String,
}

async fn flow(b: &mut Browser, s: &Setup) -> Option<()> {
    b.cookies.clear();
    if !s.pupils.log_in(b, &s.shortcut).await {
        return None;
    }
    let authorize = format!(
        "/oidc/authorize?response_type=code&client_id={}&redirect_uri={}&scope=openid&state=s&nonce=n&code_challenge={}&code_challenge_method=S256",
        s.client_id,
        urlencode(REDIRECT),
        s.challenge
    );
    let r = b.get(&authorize).await;
    let location = r.location()?;
    let code = location
        .split("code=")
        .nth(1)?
        .split('&')
        .next()?
        .to_owned();
    let token = b
        .post_with(
            "/oidc/token",
            &[("authorization", &s.basic)],
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &s.verifier),
            ],
        )
        .await;
    let token: serde_json::Value = serde_json::from_str(&token.body).ok()?;
    let access = token.get("access_token")?.as_str()?;
    token.get("id_token")?;
    let bearer = format!("Bearer {access}");
    let info = b
        .send(
            "GET",
            "/oidc/userinfo",
            &[("authorization", &bearer)],
            Vec::new(),
        )
        .await;
    let info: serde_json::Value = serde_json::from_str(&info.body).ok()?;
    info.get("sub").map(|_| ())
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let flows: usize = args
        .next()
        .map_or(2_000, |a| a.parse().expect("FLOWS is a number"));
    let concurrency: usize = args
        .next()
        .map_or(32, |a| a.parse().expect("CONCURRENCY is a number"));
    let alg = args.next().unwrap_or_else(|| "RS256".into());
    let store = BenchStore::from_arg(args.next().as_deref());

    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = Server::start(store.command(dir.path(), "demo"));
    let out = server.more_output(Duration::from_millis(500)).join("\n");
    let shortcut = demo_shortcut(&out).expect("shortcut in the demo's welcome");

    let stdout = store.cli(
        dir.path(),
        &[
            "client",
            "add",
            "--party",
            "demo-uitgeverij",
            "--client-id",
            "bench-client",
            "--name",
            "Bench",
            "--redirect-uri",
            REDIRECT,
            "--grant",
            "authorization_code",
            "--scope",
            "openid",
            "--alg",
            if alg == "floor" { "RS256" } else { &alg },
        ],
    );
    let secret = stdout
        .lines()
        .last()
        .expect("secret printed")
        .trim()
        .to_owned();
    // RFC 7636 Appendix B's verifier and its S256 challenge: one pair serves every flow, since
    // each code is bound to its own challenge anyway.
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".to_owned();
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_owned();
    let setup = std::sync::Arc::new(Setup {
        shortcut,
        pupils: DemoPupils::default(),
        client_id: "bench-client".into(),
        basic: format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("bench-client:{secret}"))
        ),
        verifier,
        challenge,
    });

    let mut warm = Browser::new(&server.base);
    flow(&mut warm, &setup)
        .await
        .expect("a complete flow works");

    let pid = server.child.id();
    if alg == "floor" {
        let (load, usage) = measured_load(
            &store,
            pid,
            &server.base,
            flows,
            concurrency,
            |mut b| async move {
                let mut ok = true;
                for _ in 0..7 {
                    ok &= b.get("/healthz").await.status == 200;
                }
                (b, ok)
            },
        )
        .await;
        server.terminate();
        report(
            &store,
            &format!("HTTP floor flows/s (7 GET /healthz each, concurrency {concurrency})"),
            &load,
            &usage,
        );
        return;
    }
    let (load, usage) = measured_load(
        &store,
        pid,
        &server.base,
        flows,
        concurrency,
        move |mut b| {
            let setup = setup.clone();
            async move {
                let ok = flow(&mut b, &setup).await.is_some();
                (b, ok)
            }
        },
    )
    .await;
    server.terminate();
    report(
        &store,
        &format!(
            "OIDC pupil flows/s ({alg} ID tokens, 7 requests each, concurrency {concurrency})"
        ),
        &load,
        &usage,
    );
}
