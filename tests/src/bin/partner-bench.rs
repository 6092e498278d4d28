//! The partner API under load, as a publisher's synchronisation reads it:
//!
//!     cargo run --release -p openpoort-e2e --bin partner-bench -- [REQUESTS] [CONCURRENCY] [sqlite|postgres] [SCHOOLS] [PUPILS]
//!
//! It starts `openpoort serve` (the binary of the same build profile) with the partner listener
//! on, on the embedded default (SQLite, in-memory sessions) or on PostgreSQL + Redis (a fresh
//! schema in a database of the load tools' own on TEST_POSTGRES_URL's server, a redis-server
//! of the run's own; `eval "$(scripts/services)"` first). Then it sets up what an operator would, through
//! openpoort's own command line and admin API: a publisher and its release policy (names and
//! ECK-iD, the largest answers), SCHOOLS school locations (default 500) from a DUO list, every
//! one consenting to the publisher, one of them with PUPILS pupils (default 2,000) with their
//! groups and teachers from an EDEXML file, and the publisher's client certificate.
//!
//! It measures, over mutual TLS with kept-alive connections, REQUESTS requests (default 200)
//! with CONCURRENCY clients (default 1) of each of:
//!
//! - `GET /rest/v2/instellingen` (SCHOOLS numbers),
//! - `GET /rest/v2/instellingen/{id}/leerlingen` of the large school,
//! - `GET /rest/v2/instellingen/{id}/staf` and `…/groepen` of the same school,
//!
//! and prints requests per second, p50 and p99 latency, and the server's CPU time per request
//! (user + system, from /proc; on PostgreSQL also that of the database backends serving the
//! server's connections, and of Redis), with the database's transactions and Redis' commands
//! per request (`openpoort_e2e::bench`). Each answer must be 200 and as long as the first one, which was
//! checked in full (numbers, counts).

use std::sync::Arc;
use std::time::{Duration, Instant};

use openpoort_e2e::bench::{BenchStore, Usage};
use openpoort_e2e::edexml_gen::{Args, generate_bytes};
use openpoort_e2e::pki::{Identity, ListenerPki};
use openpoort_e2e::wire::{Conn, tls_config};
use openpoort_e2e::{Load, Server};
use serde_json::Value;

const PUBLISHER: &str = "bench-uitgeverij";
const ADMIN_CLIENT: &str = "bench-beheer";

/// A DUO list (the newer header set) of `n` school locations under `n / 10` boards; the first
/// is the large school.
fn duo_list(n: usize) -> (String, Vec<String>) {
    let mut text =
        String::from("BRIN NUMMER;VESTIGINGSNUMMER;VESTIGINGSNAAM;BEVOEGD GEZAG NUMMER\n");
    let mut codes = Vec::with_capacity(n);
    for i in 0..n {
        // 2 digits and 2 capitals; the demo's 99ZZ is never made.
        let brin = format!(
            "{:02}{}{}",
            10 + i % 89,
            char::from(b'A' + (i / 89 % 26) as u8),
            char::from(b'B' + (i / (89 * 26) % 24) as u8)
        );
        let board = 40_000 + i / 10;
        text.push_str(&format!("{brin};{brin}00;Basisschool Bench {i};{board}\n"));
        codes.push(format!("{brin}00"));
    }
    (text, codes)
}

/// One request; the answer's status and body.
async fn get(conn: &mut Conn, path: &str) -> (u16, Vec<u8>) {
    let answer = conn
        .send("GET", path, &[("accept", "application/json")], &[])
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    (answer.status, answer.body)
}

async fn get_json(conn: &mut Conn, path: &str) -> Value {
    let (status, body) = get(conn, path).await;
    assert_eq!(
        status,
        200,
        "GET {path}: {}",
        String::from_utf8_lossy(&body)
    );
    serde_json::from_slice(&body).unwrap_or_else(|e| panic!("GET {path}: not JSON: {e}"))
}

/// `requests` GETs of `path` by `concurrency` clients, each over a connection of its own that it
/// opens (handshake included) before the clock starts. An answer counts when it is 200 and
/// `length` bytes long.
async fn load(
    base: &str,
    tls: &Arc<rustls::ClientConfig>,
    path: &str,
    length: usize,
    requests: usize,
    concurrency: usize,
) -> Load {
    let mut conns = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let mut conn = Conn::tls(base, tls.clone());
        let (status, _) = get(&mut conn, path).await;
        assert_eq!(status, 200, "warm-up GET {path}");
        conns.push(conn);
    }
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for (client, mut conn) in conns.into_iter().enumerate() {
        let path = path.to_owned();
        let n = requests / concurrency + usize::from(client < requests % concurrency);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(n);
            let mut errors = 0usize;
            for _ in 0..n {
                let t = Instant::now();
                match conn
                    .send("GET", &path, &[("accept", "application/json")], &[])
                    .await
                {
                    Ok(a) if a.status == 200 && a.body.len() == length => {
                        latencies.push(t.elapsed())
                    }
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut result = Load {
        latencies: Vec::with_capacity(requests),
        errors: 0,
        elapsed: Duration::ZERO,
    };
    for t in tasks {
        let (l, e) = t.await.expect("client task");
        result.latencies.extend(l);
        result.errors += e;
    }
    result.elapsed = start.elapsed();
    result.latencies.sort();
    result
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, name: &str, default: usize| -> usize {
        args.get(i).map_or(default, |a| {
            a.parse()
                .ok()
                .filter(|n| *n > 0)
                .unwrap_or_else(|| panic!("{name} is a positive number, not {a:?}"))
        })
    };
    let requests = number(0, "REQUESTS", 200);
    let concurrency = number(1, "CONCURRENCY", 1);
    let kind = args.get(2).map_or("sqlite", String::as_str);
    let schools = number(3, "SCHOOLS", 500);
    let pupils = number(4, "PUPILS", 2_000);

    let store = BenchStore::from_arg(Some(kind));
    let pki = ListenerPki::new();
    let dir = tempfile::tempdir().expect("data folder");
    let mut cmd = store.command(dir.path(), "serve");
    cmd.env("OPENPOORT_PARTNER_LISTEN", "127.0.0.1:0")
        .env("OPENPOORT_PARTNER_CERTIFICATE", pki.certificate_file())
        .env("OPENPOORT_PARTNER_PRIVATE_KEY", pki.key_file());
    let mut server = Server::start(cmd);
    let partner_base = server
        .partner_base
        .clone()
        .expect("the server printed the partner listener's address");

    // The operator's side, as README describes it: parties and the admin client on the command
    // line, the school register from DUO's list.
    let setup = Instant::now();
    store.cli(
        dir.path(),
        &[
            "party",
            "add",
            "--code",
            PUBLISHER,
            "--kind",
            "publisher",
            "--name",
            "Bench Uitgeverij",
        ],
    );
    for attribute in ["given_name", "family_name", "tussenvoegsels", "eck_id"] {
        store.cli(
            dir.path(),
            &[
                "party",
                "allow-attribute",
                "--party",
                PUBLISHER,
                "--attribute",
                attribute,
            ],
        );
    }
    store.cli(
        dir.path(),
        &[
            "party",
            "add",
            "--code",
            "beheer",
            "--kind",
            "publisher",
            "--name",
            "Eigen beheer",
        ],
    );
    let added = store.cli(
        dir.path(),
        &[
            "client",
            "add",
            "--party",
            "beheer",
            "--client-id",
            ADMIN_CLIENT,
            "--name",
            "Beheerscript",
            "--grant",
            "client_credentials",
            "--scope",
            "openpoort:admin",
        ],
    );
    let secret = added
        .lines()
        .last()
        .expect("the secret printed")
        .trim()
        .to_owned();
    let (duo, codes) = duo_list(schools);
    let duo_file = dir.path().join("duo.csv");
    std::fs::write(&duo_file, duo).expect("DUO list");
    store.cli(
        dir.path(),
        &["import", "duo", duo_file.to_str().expect("a path")],
    );

    // The rest through the admin API, as an operator's script does.
    let http = reqwest::Client::new();
    let token: Value = http
        .post(server.url("/oidc/token"))
        .basic_auth(ADMIN_CLIENT, Some(&secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "openpoort:admin"),
        ])
        .send()
        .await
        .expect("token request")
        .json()
        .await
        .expect("token JSON");
    let bearer = format!(
        "Bearer {}",
        token["access_token"].as_str().expect("an access token")
    );
    for code in &codes {
        let r = http
            .put(server.url(&format!("/api/v1/schools/{code}/consents/{PUBLISHER}")))
            .header("authorization", &bearer)
            .send()
            .await
            .expect("consent");
        let status = r.status();
        assert!(
            status.is_success(),
            "consent of {code}: {status} {}",
            r.text().await.unwrap_or_default()
        );
    }
    let large = &codes[0];
    let edexml = generate_bytes(&Args {
        pupils,
        seed: 1,
        brin: large[..4].to_owned(),
        vestiging: "00".to_owned(),
    });
    let r = http
        .post(server.url(&format!("/api/v1/schools/{large}/edexml?dry_run=false")))
        .header("authorization", &bearer)
        .header("content-type", "application/xml")
        .body(edexml)
        .send()
        .await
        .expect("EDEXML import");
    let status = r.status();
    assert!(
        status.is_success(),
        "EDEXML import: {status} {}",
        r.text().await.unwrap_or_default()
    );
    let publisher = Identity::self_signed_client("Bench Uitgeverij koppeling");
    let r = http
        .post(server.url(&format!("/api/v1/parties/{PUBLISHER}/certificates")))
        .header("authorization", &bearer)
        .json(&serde_json::json!({"pem": publisher.cert_pem()}))
        .send()
        .await
        .expect("certificate registration");
    let status = r.status();
    assert!(
        status.is_success(),
        "certificate: {status} {}",
        r.text().await.unwrap_or_default()
    );
    // The server's read cache sees the register's changes within this.
    tokio::time::sleep(directory::CACHE_POLL + Duration::from_millis(50)).await;
    println!(
        "set-up: {schools} schools consenting, {large} with {pupils} pupils, in {:.1} s",
        setup.elapsed().as_secs_f64()
    );

    // The publisher's view, checked in full once.
    let tls = tls_config(
        &pki.ca.to_der().expect("DER"),
        Some((
            publisher.cert.to_der().expect("DER"),
            publisher.key.private_key_to_pkcs8().expect("PKCS#8"),
        )),
    );
    let mut conn = Conn::tls(&partner_base, tls.clone());
    let ids = get_json(&mut conn, "/rest/v2/instellingen").await;
    let ids: Vec<i64> = ids
        .as_array()
        .expect("a list")
        .iter()
        .map(|v| v.as_i64().expect("a number"))
        .collect();
    assert_eq!(ids.len(), schools, "every consenting school is listed");
    let mut large_id = None;
    for id in &ids {
        let d = get_json(&mut conn, &format!("/rest/v2/instellingen/{id}/details")).await;
        if d["brincode"].as_str() == Some(&large[..4]) {
            large_id = Some(*id);
            break;
        }
    }
    let large_id = large_id.expect("the large school among the listed ones");
    let base = format!("/rest/v2/instellingen/{large_id}");
    let listed = get_json(&mut conn, &format!("{base}/leerlingen")).await;
    let listed = listed["leerlingen"].as_array().expect("leerlingen");
    assert_eq!(listed.len(), pupils, "every pupil of {large}");
    assert!(
        listed[0]["persoonsgegevens"]["achternaam"].is_string(),
        "names are released: {}",
        listed[0]
    );
    let staff = get_json(&mut conn, &format!("{base}/staf")).await;
    let staff = staff["medewerkers"].as_array().expect("medewerkers").len();
    let groups = get_json(&mut conn, &format!("{base}/groepen")).await;
    let groups = groups["groepen"].as_array().expect("groepen").len()
        + groups["subgroepen"].as_array().expect("subgroepen").len();

    let pid = server.child.id();
    println!(
        "machine: {} cores; store: {}; {requests} requests per path, concurrency {concurrency}, mutual TLS, kept-alive connections",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        store.describe()
    );
    let paths = [
        (
            "/rest/v2/instellingen".to_owned(),
            format!("{schools} school numbers"),
        ),
        (format!("{base}/leerlingen"), format!("{pupils} pupils")),
        (format!("{base}/staf"), format!("{staff} staff")),
        (format!("{base}/groepen"), format!("{groups} groups")),
    ];
    for (path, what) in paths {
        let (status, body) = get(&mut conn, &path).await;
        assert_eq!(status, 200, "GET {path}");
        let before = store.snapshot(pid);
        let run = load(
            &partner_base,
            &tls,
            &path,
            body.len(),
            requests,
            concurrency,
        )
        .await;
        let usage = Usage::between(&before, &store.snapshot(pid));
        let ms_per = |d: Duration| d.as_secs_f64() * 1000.0 / run.latencies.len().max(1) as f64;
        let shown = path.replace(&large_id.to_string(), "{id}");
        println!(
            "GET {shown} ({what}, {:.0} KB): {:.0} requests/s, p50 {:.1} ms, p99 {:.1} ms, server CPU {:.2} ms/request{}  ({} ok, {} errors)",
            body.len() as f64 / 1024.0,
            run.per_second(),
            if run.latencies.is_empty() {
                0.0
            } else {
                run.percentile(0.50).as_secs_f64() * 1000.0
            },
            if run.latencies.is_empty() {
                0.0
            } else {
                run.percentile(0.99).as_secs_f64() * 1000.0
            },
            ms_per(usage.server),
            if store.is_production() {
                format!(
                    " + PostgreSQL {:.2} + Redis {:.2} ms/request",
                    ms_per(usage.database),
                    ms_per(usage.redis)
                )
            } else {
                String::new()
            },
            run.latencies.len(),
            run.errors,
        );
        usage.report(run.latencies.len());
    }
    server.terminate();
    // The schema goes only now that the server no longer uses it.
    drop(store);
}
