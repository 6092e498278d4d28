//! Complete OpenID Connect logins per second: the Monday-morning path of a pupil who opens a
//! publisher's product.
//!
//!     cargo run --release -p openpoort-e2e --bin oidc-bench -- [FLOWS] [CONCURRENCY] [RS256|ES256]
//!
//! It starts `openpoort demo`, registers a confidential client of the demo publisher, and runs
//! FLOWS flows with CONCURRENCY clients at once. One flow: the pupil's shortcut login (groups,
//! names, picture, session: 4 requests), the authorization request with PKCE (a release
//! decision, audited), the code exchange (an ID token signed with the chosen algorithm) and
//! userinfo: 7 requests. Prints flows/s, p50 and p99 of a flow, and errors.

use std::time::{Duration, Instant};

use openpoort_e2e::{Browser, Page, Server, openpoort, run, text};

const REDIRECT: &str = "https://rekenrijk.demo-uitgeverij.example/callback";

fn link(page: &Page, label: &str) -> Option<String> {
    let at = page.body.find(&format!("\">{label}"))?;
    let start = page.body[..at].rfind("href=\"")? + 6;
    Some(page.body[start..at].replace("&amp;", "&"))
}

fn form_index(page: &Page, label: &str) -> Option<usize> {
    let at = page.body.find(label)?;
    page.body[..at].matches("<form").count().checked_sub(1)
}

struct Setup {
    shortcut: String,
    client_id: String,
    secret: String,
    verifier: String,
    challenge: String,
}

async fn flow(b: &mut Browser, http: &reqwest::Client, base: &str, s: &Setup) -> Option<()> {
    b.cookies.clear();
    let groups = b.get(&s.shortcut).await;
    let names = b.get(&link(&groups, "Groep 5 Uilen")?).await;
    let pictures = b
        .submit_form(&names, form_index(&names, "Finn S.")?, &[])
        .await;
    let signed_in = b
        .submit_form(&pictures, form_index(&pictures, "alt=\"boom\"")?, &[])
        .await;
    if signed_in.status != 303 {
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
    let token: serde_json::Value = http
        .post(format!("{base}/oidc/token"))
        .basic_auth(&s.client_id, Some(&s.secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &s.verifier),
        ])
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    let access = token.get("access_token")?.as_str()?;
    token.get("id_token")?;
    let info: serde_json::Value = http
        .get(format!("{base}/oidc/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
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

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
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

    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = openpoort(dir.path());
    cmd.env("OPENPOORT_LOG_LEVEL", "error").arg("demo");
    let mut server = Server::start(cmd);
    let out = server.more_output(Duration::from_millis(500)).join("\n");
    let reference = out
        .split("/s/")
        .nth(1)
        .and_then(|r| r.get(..36))
        .expect("shortcut in the demo's welcome")
        .to_owned();

    let added = run(openpoort(dir.path()).args([
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
        &alg,
    ]));
    assert!(added.status.success(), "{}", text(&added.stderr));
    let stdout = text(&added.stdout);
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
        shortcut: format!("/s/{reference}"),
        client_id: "bench-client".into(),
        secret,
        verifier,
        challenge,
    });

    let http = reqwest::Client::new();
    let mut warm = Browser::new(&server.base);
    flow(&mut warm, &http, &server.base, &setup)
        .await
        .expect("a complete flow works");

    let start = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..concurrency {
        let (base, setup, http) = (server.base.clone(), setup.clone(), http.clone());
        let n = flows / concurrency + usize::from(client < flows % concurrency);
        tasks.push(tokio::spawn(async move {
            let mut b = Browser::new(&base);
            let mut latencies = Vec::with_capacity(n);
            let mut errors = 0usize;
            for _ in 0..n {
                let t = Instant::now();
                match flow(&mut b, &http, &base, &setup).await {
                    Some(()) => latencies.push(t.elapsed()),
                    None => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.expect("client task");
        latencies.extend(l);
        errors += e;
    }
    let elapsed = start.elapsed();
    server.terminate();
    latencies.sort();
    println!(
        "machine: {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "OIDC pupil flows/s ({alg} ID tokens, 7 requests each, concurrency {concurrency}): {:.0}  ({} ok, {errors} errors, {:.1} s)",
        latencies.len() as f64 / elapsed.as_secs_f64(),
        latencies.len(),
        elapsed.as_secs_f64()
    );
    if !latencies.is_empty() {
        println!(
            "flow latency p50 {:.1} ms, p99 {:.1} ms",
            percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
            percentile(&latencies, 0.99).as_secs_f64() * 1000.0
        );
    }
}
