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

/// With `keys.rotate_days` set, a node that starts after its keys served their period rotates
/// each once, and keeps the retired keys published beside the new ones for the grace period.
#[tokio::test]
async fn a_starting_node_rotates_keys_past_their_period_once_and_keeps_the_retired_published() {
    let schema = openpoort_e2e::PgSchema::create();
    let dir = tempfile::tempdir().unwrap();
    let database = [("OPENPOORT_DATABASE_URL".to_owned(), schema.url())];
    // The command line makes the keys (and retires an ES256 key by hand); then they age.
    openpoort_e2e::cli_with(dir.path(), &database, &["keys", "rotate", "--alg", "ES256"]);
    schema.execute(
        "UPDATE signing_keys SET activated_at = activated_at - 20 * 86400 WHERE state = 'current'",
    );

    let mut cmd = openpoort(dir.path());
    cmd.envs(database.iter().cloned())
        .env("OPENPOORT_KEYS_ROTATE_DAYS", "14")
        .arg("serve");
    let server = Server::start(cmd);
    let published = |jwks: &serde_json::Value, alg: &str| {
        jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .filter(|k| k["alg"] == alg)
            .count()
    };
    // The rotation runs beside serving; it is seen at once on the node that made it. Each
    // algorithm rotates on its own, so a JWKS read between the two shows RS256 rotated and
    // ES256 not yet: wait for the state both reach (a second rotation never matches it).
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let jwks = loop {
        let jwks: serde_json::Value = reqwest::get(server.url("/oidc/jwks"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let both = (published(&jwks, "RS256"), published(&jwks, "ES256")) == (3, 4);
        if both || std::time::Instant::now() > deadline {
            break jwks;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // RS256: current, next and the one just retired; ES256 also the one retired by hand.
    assert_eq!(
        (published(&jwks, "RS256"), published(&jwks, "ES256")),
        (3, 4),
        "{jwks}"
    );
    let keys = openpoort_e2e::cli_with(dir.path(), &database, &["keys", "list"]);
    assert_eq!(
        keys.lines().filter(|l| l.contains(" retired ")).count(),
        3,
        "{keys}"
    );
}

/// `openpoort ARGS` in `dir` as someone types it in a second terminal: no OPENPOORT_ settings.
fn bare(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    run(openpoort(dir)
        .env_remove("OPENPOORT_SERVER_MODE")
        .args(args))
}

#[tokio::test]
async fn commands_next_to_the_demo_use_its_register_without_settings() {
    let dir = tempfile::tempdir().unwrap();
    // Without the demo's folder a bare command is production and refuses the missing KEK.
    let refused = bare(dir.path(), &["school", "list"]);
    assert!(!refused.status.success(), "{}", text(&refused.stdout));
    assert!(
        text(&refused.stderr).contains("production mode"),
        "{}",
        text(&refused.stderr)
    );

    let mut cmd = openpoort(dir.path());
    cmd.arg("demo");
    let mut server = Server::start(cmd);
    server.more_output(Duration::from_millis(300));
    assert!(
        dir.path().join("data/openpoort-demo").is_file(),
        "the demo marks its data"
    );
    let ranges = bare(dir.path(), &["ip-range", "list", "--school", "99ZZ00"]);
    assert!(ranges.status.success(), "{}", text(&ranges.stderr));
    assert!(
        text(&ranges.stdout).contains("127.0.0.0/8"),
        "the demo's own register"
    );
    // A change from the second terminal is the running demo's.
    let add = bare(
        dir.path(),
        &[
            "ip-range",
            "add",
            "--school",
            "99ZZ00",
            "--cidr",
            "192.0.2.0/24",
            "--label",
            "lokaal 3",
        ],
    );
    assert!(add.status.success(), "{}", text(&add.stderr));
    let listed = run(openpoort(dir.path()).args(["ip-range", "list", "--school", "99ZZ00"]));
    assert!(text(&listed.stdout).contains("192.0.2.0/24"));
    assert!(server.terminate());
}

#[tokio::test]
async fn the_demo_s_welcome_names_the_folder_its_mails_are_in() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = openpoort(dir.path());
    cmd.arg("demo");
    let mut server = Server::start(cmd);
    let welcome = server.more_output(Duration::from_millis(300)).join("\n");
    let line = welcome
        .lines()
        .find(|l| l.contains("outbox:"))
        .unwrap_or_else(|| panic!("no outbox line: {welcome}"));
    let printed = line.split("outbox: ").nth(1).unwrap().trim();
    let folder = std::path::Path::new(
        printed
            .strip_suffix("/*.eml")
            .expect("a glob of .eml files"),
    );
    assert!(folder.is_absolute(), "{printed}");
    assert_eq!(
        folder.canonicalize().unwrap(),
        dir.path().join("data/outbox").canonicalize().unwrap()
    );
    // Anna's activation link, which the welcome prints, is in a mail there.
    let mails: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    assert!(
        mails.iter().any(|m| m.contains("anna.devries")),
        "{mails:?}"
    );
    assert!(server.terminate());
}

/// A word that looks like an id or a timestamp rather than something written for people.
fn machine_word(word: &str) -> bool {
    let uuid = word.len() >= 36
        && word
            .split(|c: char| !c.is_ascii_hexdigit() && c != '-')
            .any(|w| w.len() == 36 && w.matches('-').count() == 4);
    let seconds = word
        .split(|c: char| !c.is_ascii_digit())
        .any(|w| w.len() >= 9);
    uuid || seconds
}

#[tokio::test]
async fn consent_list_and_group_list_show_dates_names_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = openpoort(dir.path());
    cmd.arg("demo");
    let mut server = Server::start(cmd);
    server.more_output(Duration::from_millis(300));
    let consents = run(openpoort(dir.path()).args(["consent", "list", "--school", "99ZZ00"]));
    let consents = text(&consents.stdout);
    assert!(consents.contains("demo-uitgeverij"), "{consents}");
    // A date and a time of the clock in the Netherlands (`YYYY-MM-DD HH:MM`), not UTC.
    let words: Vec<&str> = consents.split_whitespace().collect();
    assert!(
        words.windows(2).any(|w| w[0].len() == 10
            && w[0].as_bytes()[4] == b'-'
            && w[1].len() == 5
            && w[1].as_bytes()[2] == b':'),
        "a date and time: {consents}"
    );
    assert!(!consents.contains("UTC"), "Dutch time: {consents}");
    for word in consents.split_whitespace() {
        assert!(!machine_word(word), "{word:?} in {consents}");
    }
    let groups = run(openpoort(dir.path()).args(["group", "list", "--school", "99ZZ00"]));
    assert!(groups.status.success(), "{}", text(&groups.stderr));
    let groups = text(&groups.stdout);
    let lines: Vec<&str> = groups.lines().collect();
    let g5 = lines
        .iter()
        .position(|l| l.contains("Groep 5 Uilen"))
        .expect("group 5");
    let g8 = lines
        .iter()
        .position(|l| l.contains("Groep 8 Dassen"))
        .expect("group 8");
    assert!(g5 < g8, "in reading order: {groups}");
    assert!(
        lines[g8].contains("leerlingen / pupils") && lines[g8].contains("(id "),
        "{groups}"
    );
    // The key is what `licence add --group` takes.
    let key = lines[g8].split_whitespace().next().unwrap();
    let licence = run(openpoort(dir.path()).args([
        "licence",
        "add",
        "--school",
        "99ZZ00",
        "--party",
        "demo-uitgeverij",
        "--product",
        "rekenrijk",
        "--from",
        "2026-08-01",
        "--group",
        key,
    ]));
    assert!(licence.status.success(), "{}", text(&licence.stderr));
    assert!(server.terminate());
}
