//! Staff logins per second against a real openpoort, next to the argon2id limit of the same
//! machine measured in the same run.
//!
//!     cargo run --release -p openpoort-e2e --bin login-bench -- [LOGINS] [CONCURRENCY] [sqlite|postgres]
//!
//! It starts `openpoort demo` (the binary of the same build profile) in a temporary directory,
//! on the embedded default (SQLite, sessions in memory) or on PostgreSQL + Redis (a fresh
//! schema, a redis-server of the run's own; `eval "$(scripts/services)"` first), then runs LOGINS complete logins (GET the form for its CSRF cookie, POST e-mail and password,
//! expect the redirect with a session cookie) with CONCURRENCY clients at once. Every login
//! verifies one argon2id hash, so the server cannot beat the machine's argon2id rate: the two
//! figures together show how much of the login cost is the hash and how much is the rest. It
//! also prints the server's CPU, database transactions and Redis commands per login
//! (`openpoort_e2e::bench`).

use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::PasswordHasher;
use argon2::password_hash::PasswordVerifier;
use argon2::password_hash::phc::PasswordHash;
use openpoort_e2e::bench::{BenchStore, measured_load, report};
use openpoort_e2e::{Browser, Server};

const EMAIL: &str = "bram.jansen@demo.openpoort.nl";
const PASSWORD: &str = "Fiets-Molen-Tulp-42";

/// argon2id verifications per second with one thread per core, for `span`.
fn argon2_rate(span: Duration) -> f64 {
    let hash = Argon2::default()
        .hash_password(PASSWORD.as_bytes())
        .expect("hash")
        .to_string();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let start = Instant::now();
    let total: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..cores)
            .map(|_| {
                let hash = hash.clone();
                s.spawn(move || {
                    let parsed = PasswordHash::new(&hash).expect("parse");
                    let mut n = 0u64;
                    while start.elapsed() < span {
                        assert!(
                            Argon2::default()
                                .verify_password(PASSWORD.as_bytes(), &parsed)
                                .is_ok()
                        );
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).sum()
    });
    total as f64 / start.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let logins: usize = args
        .next()
        .map_or(400, |a| a.parse().expect("LOGINS is a number"));
    let concurrency: usize = args
        .next()
        .map_or(16, |a| a.parse().expect("CONCURRENCY is a number"));
    let store = BenchStore::from_arg(args.next().as_deref());

    let limit = argon2_rate(Duration::from_secs(3));

    let dir = tempfile::tempdir().expect("temp dir");
    // Throttling counts failures only; raise nothing, so the run measures the real limits.
    let mut server = Server::start(store.command(dir.path(), "demo"));
    let base = server.base.clone();

    // Warm up: one login, so that pools and caches are as they are in steady state.
    let mut warm = Browser::new(&base);
    let r = warm
        .submit("/inloggen", &[("email", EMAIL), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, 303, "demo login failed: {}", r.body);

    // A new browser per login, connection included: a teacher's first request. The client is
    // shared but keeps no idle connections, so each login opens its own; building a client per
    // login instead would measure loading the system's trust store (it capped the tool at about
    // 20 logins/s).
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .build()
        .expect("HTTP client");
    let (load, usage) = measured_load(&store, server.child.id(), &base, logins, concurrency, {
        let base = base.clone();
        move |b| {
            let (base, http) = (base.clone(), http.clone());
            async move {
                let mut fresh = Browser::with_client(&base, http);
                let r = fresh
                    .submit("/inloggen", &[("email", EMAIL), ("password", PASSWORD)])
                    .await;
                (
                    b,
                    r.status == 303 && fresh.cookies.contains_key("openpoort"),
                )
            }
        }
    })
    .await;
    server.terminate();
    println!("argon2id (m=19456 KiB, t=2, p=1) verifications/s, all cores: {limit:.0}");
    report(
        &store,
        &format!("staff logins/s (GET form + POST, concurrency {concurrency})"),
        &load,
        &usage,
    );
}
