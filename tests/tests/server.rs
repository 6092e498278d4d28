//! The server as clients and an orchestrator meet it.

use std::time::Duration;

use openpoort_e2e::{Server, openpoort, run, text};

#[tokio::test]
async fn demo_serves_health_readiness_and_metrics_and_stops_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = openpoort(dir.path());
    cmd.arg("demo");
    let mut server = Server::start(cmd);
    let welcome = server.more_output(Duration::from_millis(300)).join("\n");
    assert!(welcome.contains("99ZZ00"), "{welcome}");
    assert!(welcome.contains("INSTELLING_REF"), "{welcome}");

    let client = reqwest::Client::new();
    let health = client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.headers()["x-content-type-options"], "nosniff");
    let ready = client.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let missing = client
        .get(server.url("/no/such/page?code=secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    let metrics = client.get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(
        metrics.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let body = metrics.text().await.unwrap();
    assert!(
        body.contains(
            "openpoort_http_requests_total{method=\"GET\",route=\"/readyz\",status=\"200\"} 1"
        ),
        "{body}"
    );
    assert!(
        body.contains("route=\"unmatched\",status=\"404\""),
        "{body}"
    );
    assert!(
        !body.contains("/no/such/page"),
        "raw paths must not become metric labels"
    );

    assert!(server.terminate(), "openpoort must exit 0 after SIGTERM");
    // The data it seeded outlives it, with its signing keys sealed under the development KEK.
    assert!(dir.path().join("data/openpoort.sqlite").exists());
    assert!(dir.path().join("data/development.kek").exists());
}

#[tokio::test]
async fn second_demo_start_reuses_the_seeded_school_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..2 {
        let mut cmd = openpoort(dir.path());
        cmd.arg("demo");
        let mut server = Server::start(cmd);
        let welcome = server.more_output(Duration::from_millis(300)).join("\n");
        let expected = if round == 0 {
            "nieuw aangemaakt"
        } else {
            "bestaande gegevens"
        };
        assert!(welcome.contains(expected), "round {round}: {welcome}");
        assert!(server.terminate());
    }
    let schools = run(openpoort(dir.path()).args(["school", "list"]));
    assert!(schools.status.success(), "{}", text(&schools.stderr));
    assert_eq!(
        text(&schools.stdout)
            .lines()
            .filter(|l| l.starts_with("99ZZ00"))
            .count(),
        1
    );
    let keys = run(openpoort(dir.path()).args(["keys", "list"]));
    let listing = text(&keys.stdout);
    assert_eq!(
        listing.lines().filter(|l| l.contains(" current ")).count(),
        2,
        "{listing}"
    );
}

#[tokio::test]
async fn serve_on_postgresql_is_ready_and_keeps_keys_there() {
    let schema = openpoort_e2e::PgSchema::create();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = openpoort(dir.path());
    cmd.env("OPENPOORT_DATABASE_URL", schema.url()).arg("serve");
    let mut server = Server::start(cmd);
    let ready = reqwest::get(server.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    assert!(server.terminate());
    assert!(
        !dir.path().join("data/openpoort.sqlite").exists(),
        "PostgreSQL was configured; no SQLite file"
    );

    let keys = run(openpoort(dir.path())
        .env("OPENPOORT_DATABASE_URL", schema.url())
        .args(["keys", "list"]));
    assert!(keys.status.success(), "{}", text(&keys.stderr));
    assert_eq!(
        text(&keys.stdout)
            .lines()
            .filter(|l| l.contains(" next "))
            .count(),
        2
    );
}
