//! Pupil logins per second at school, the Monday 08:30 path, against a real openpoort:
//!
//!     cargo run --release -p openpoort-e2e --bin pupil-bench -- [FLOWS] [CONCURRENCY]
//!
//! It starts `openpoort demo` (the binary of the same build profile) and runs FLOWS complete
//! pupil logins with CONCURRENCY clients at once, each as a fresh browser session: the school's
//! shortcut (groups), the group (names), the name (pictures), the picture (session), and the
//! portal with its tiles. Reports flows per second, latency percentiles of a whole flow, and
//! errors.

use std::time::Duration;

use openpoort_e2e::{Browser, Server, demo_pupil_login, demo_shortcut, openpoort, run_load};

/// One pupil login and the portal; cookies are cleared first, so every flow is a new session
/// while the browser keeps its connection, as a real one does.
async fn flow(mut b: Browser, shortcut: String) -> (Browser, bool) {
    b.cookies.clear();
    if !demo_pupil_login(&mut b, &shortcut).await {
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

    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = openpoort(dir.path());
    cmd.env("OPENPOORT_LOG_LEVEL", "error").arg("demo");
    let mut server = Server::start(cmd);
    let welcome = server.more_output(Duration::from_millis(500)).join("\n");
    let shortcut = demo_shortcut(&welcome).expect("shortcut in the demo's welcome");

    let (_, warm) = flow(Browser::new(&server.base), shortcut.clone()).await;
    assert!(warm, "a demo pupil login works");

    let load = run_load(&server.base, flows, concurrency, move |b| {
        flow(b, shortcut.clone())
    })
    .await;
    server.terminate();
    load.report(&format!(
        "pupil logins/s (shortcut, group, name, picture, portal = 5 requests; concurrency {concurrency})"
    ));
}
