//! Pupil logins per second at school, the Monday 08:30 path, against a real openpoort:
//!
//!     cargo run --release -p openpoort-e2e --bin pupil-bench -- [FLOWS] [CONCURRENCY] [sqlite|postgres]
//!
//! It starts `openpoort demo` (the binary of the same build profile) on the embedded default
//! (SQLite, sessions in memory) or on PostgreSQL + Redis (a fresh schema, a redis-server of the
//! run's own; `eval "$(scripts/services)"` first), and runs FLOWS complete pupil logins with
//! CONCURRENCY clients at once, each as a fresh browser session of the next of the demo's ten
//! pupils (`DemoPupils`): the school's shortcut (groups),
//! the group (names), the name (pictures), the picture (session), and the portal with its tiles.
//! Reports flows per second, latency percentiles of a whole flow, errors, and the server's CPU,
//! database transactions and Redis commands per flow (`openpoort_e2e::bench`).

use std::sync::Arc;
use std::time::Duration;

use openpoort_e2e::bench::{BenchStore, DemoPupils, measured_load, report};
use openpoort_e2e::{Browser, Server, demo_shortcut};

/// One pupil login and the portal; cookies are cleared first, so every flow is a new session
/// while the browser keeps its connection, as a real one does.
async fn flow(mut b: Browser, shortcut: String, pupils: Arc<DemoPupils>) -> (Browser, bool) {
    b.cookies.clear();
    if !pupils.log_in(&mut b, &shortcut).await {
        return (b, false);
    }
    let portal = b.get("/").await;
    let ok = portal.status == 200 && portal.body.contains("Rekenrijk oefenen");
    (b, ok)
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
    let store = BenchStore::from_arg(args.next().as_deref());

    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = Server::start(store.command(dir.path(), "demo"));
    let welcome = server.more_output(Duration::from_millis(500)).join("\n");
    let shortcut = demo_shortcut(&welcome).expect("shortcut in the demo's welcome");

    let pupils = Arc::new(DemoPupils::default());
    let (_, warm) = flow(Browser::new(&server.base), shortcut.clone(), pupils.clone()).await;
    assert!(warm, "a demo pupil login works");

    let (load, usage) = measured_load(
        &store,
        server.child.id(),
        &server.base,
        flows,
        concurrency,
        move |b| flow(b, shortcut.clone(), pupils.clone()),
    )
    .await;
    server.terminate();
    report(
        &store,
        &format!(
            "pupil logins/s (shortcut, group, name, picture, portal = 5 requests; concurrency {concurrency})"
        ),
        &load,
        &usage,
    );
}
