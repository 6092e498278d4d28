//! Resident memory of a server holding many live sessions in memory (the embedded default):
//!
//!     cargo run --release -p openpoort-e2e --bin session-memory -- [SESSIONS] [CONCURRENCY]
//!
//! It starts `openpoort demo` (SQLite, sessions in memory), signs one pupil in to warm it up and
//! reads the process's resident set (VmRSS in /proc), then signs in SESSIONS pupils (default
//! 10,000) with CONCURRENCY clients (default 32), each a new session that stays live (nobody
//! logs out; sessions last hours), and reads it again, with the peak (VmHWM). What grows is the
//! sessions with the short-lived entries their logins leave (the login's CSRF and throttling
//! entries), the allocator's free lists and the connections' buffers.

use std::sync::Arc;
use std::time::Duration;

use openpoort_e2e::bench::{BenchStore, DemoPupils, measured_load, report};
use openpoort_e2e::{Browser, Server, demo_shortcut};

/// A field of /proc/<pid>/status in kB (VmRSS, VmHWM).
fn status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let sessions: usize = args
        .next()
        .map_or(10_000, |a| a.parse().expect("SESSIONS is a number"));
    let concurrency: usize = args
        .next()
        .map_or(32, |a| a.parse().expect("CONCURRENCY is a number"));
    let store = BenchStore::from_arg(Some("sqlite"));

    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = Server::start(store.command(dir.path(), "demo"));
    let welcome = server.more_output(Duration::from_millis(500)).join("\n");
    let shortcut = demo_shortcut(&welcome).expect("shortcut in the demo's welcome");
    let pid = server.child.id();

    let pupils = Arc::new(DemoPupils::default());
    let mut warm = Browser::new(&server.base);
    assert!(
        pupils.log_in(&mut warm, &shortcut).await,
        "a demo pupil login works"
    );
    let idle = status_kb(pid, "VmRSS");

    let (load, usage) = measured_load(&store, pid, &server.base, sessions, concurrency, {
        move |mut b: Browser| {
            let (shortcut, pupils) = (shortcut.clone(), pupils.clone());
            async move {
                // A new browser session per login: the previous session stays in the store.
                b.cookies.clear();
                let ok = pupils.log_in(&mut b, &shortcut).await;
                (b, ok)
            }
        }
    })
    .await;
    let live = status_kb(pid, "VmRSS");
    let peak = status_kb(pid, "VmHWM");
    // The signed-in sessions are still there: a browser of the run still reaches its portal.
    let portal = warm.get("/").await;
    assert!(
        portal.status == 200 && portal.body.contains("Uitloggen"),
        "the first session is still live: {} {}",
        portal.status,
        portal.body
    );
    server.terminate();
    report(
        &store,
        &format!(
            "pupil logins/s (4 requests, each a session kept live; concurrency {concurrency})"
        ),
        &load,
        &usage,
    );
    println!(
        "resident memory: {:.1} MB after one login, {:.1} MB with {} more live sessions ({:.1} KB each), peak {:.1} MB",
        mb(idle),
        mb(live),
        load.latencies.len(),
        (live.saturating_sub(idle)) as f64 / load.latencies.len().max(1) as f64,
        mb(peak)
    );
}
