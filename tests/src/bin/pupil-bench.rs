//! Pupil logins per second at school, the Monday 08:30 path, against a real openpoort:
//!
//!     cargo run --release -p openpoort-e2e --bin pupil-bench -- [FLOWS] [CONCURRENCY]
//!
//! It starts `openpoort demo` (the binary of the same build profile) and runs FLOWS complete
//! pupil logins with CONCURRENCY clients at once, each as a fresh browser: the school's shortcut
//! (groups), the group (names), the name (pictures), the picture (session), and the portal with
//! its tiles. Reports flows per second, latency percentiles of a whole flow, and errors.

use std::time::{Duration, Instant};

use openpoort_e2e::{Browser, Page, Server, openpoort};

fn between<'a>(body: &'a str, before: &str, after: &str) -> Option<&'a str> {
    let start = body.find(before)? + before.len();
    let end = body[start..].find(after)? + start;
    Some(&body[start..end])
}

/// The href of the link labelled `label`.
fn link(page: &Page, label: &str) -> Option<String> {
    let at = page.body.find(&format!("\">{label}"))?;
    let start = page.body[..at].rfind("href=\"")? + 6;
    Some(page.body[start..at].replace("&amp;", "&"))
}

fn form_index(page: &Page, label: &str) -> Option<usize> {
    let at = page.body.find(label)?;
    page.body[..at].matches("<form").count().checked_sub(1)
}

/// One pupil login; None when any step did not answer as a working login would.
async fn flow(b: &mut Browser, shortcut: &str) -> Option<()> {
    b.cookies.clear();
    let groups = b.get(shortcut).await;
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
    let portal = b.get("/").await;
    (portal.status == 200 && portal.body.contains("Rekenrijk oefenen")).then_some(())
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

    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = openpoort(dir.path());
    cmd.env("OPENPOORT_LOG_LEVEL", "error").arg("demo");
    let mut server = Server::start(cmd);
    let out = server.more_output(Duration::from_millis(500)).join("\n");
    let reference = between(&out, "/s/", "\n")
        .expect("shortcut in the demo's welcome")
        .trim()
        .to_owned();
    let shortcut = format!("/s/{reference}");

    let mut warm = Browser::new(&server.base);
    flow(&mut warm, &shortcut)
        .await
        .expect("a demo pupil login works");

    let start = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..concurrency {
        let (base, shortcut) = (server.base.clone(), shortcut.clone());
        let n = flows / concurrency + usize::from(client < flows % concurrency);
        tasks.push(tokio::spawn(async move {
            // One connection pool per client, as a browser keeps its connection; cookies are
            // cleared per flow, so every flow is a new pupil session.
            let mut b = Browser::new(&base);
            let mut latencies = Vec::with_capacity(n);
            let mut errors = 0usize;
            for _ in 0..n {
                let t = Instant::now();
                match flow(&mut b, &shortcut).await {
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
        "pupil logins/s (shortcut, group, name, picture, portal = 5 requests; concurrency {concurrency}): {:.0}  ({} ok, {errors} errors, {:.1} s)",
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
