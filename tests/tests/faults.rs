//! openpoort when what it depends on fails while it serves: the session store (Redis) or the
//! register (PostgreSQL) gone and back, and a shutdown with a request in flight. The stores are
//! cut through a relay ([`Link`]): the machine's PostgreSQL and Redis keep running for the
//! other tests.

use std::time::{Duration, Instant};

use openpoort_e2e::link::Link;
use openpoort_e2e::{
    BRAM, BRAM_PASSWORD, Browser, Page, PgSchema, Store, admin_api_token, demo_on_free_port,
    store_env, submit_with_next,
};

/// Bram's login form, fetched while everything is up.
async fn login_form(b: &mut Browser) -> Page {
    let form = b.get("/inloggen").await;
    assert_eq!(form.status, 200, "{}", form.body);
    form
}

async fn submit_login(b: &mut Browser, form: &Page) -> Page {
    submit_with_next(
        b,
        form,
        form.form_with("action=\"/inloggen\"")
            .expect("the login form"),
        &[("email", BRAM), ("password", BRAM_PASSWORD)],
    )
    .await
}

async fn readyz(base: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{base}/readyz"))
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .expect("readyz answers")
        .status()
        .as_u16()
}

/// Polls until `/readyz` says 200: a store that came back is found again without a restart.
async fn ready_again(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while readyz(base).await != 200 {
        assert!(
            Instant::now() < deadline,
            "not ready again within 30 s of the store's return"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What a store outage looks like to a person: a 503 page in Dutch and English that says to try
/// again, with Retry-After, never the generic "something went wrong" (500).
fn assert_outage_page(page: &Page) {
    assert_eq!(page.status, 503, "{}", page.body);
    assert!(
        page.headers.contains_key("retry-after"),
        "{:?}",
        page.headers
    );
    assert!(
        page.body.contains("tijdelijk niet bereikbaar"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("temporarily unavailable"),
        "{}",
        page.body
    );
}

/// An admin API read with `token`: its status, headers and body.
async fn admin_read(base: &str, token: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let r = reqwest::Client::new()
        .get(format!("{base}/api/v1/parties/beheer/oidc-clients"))
        .bearer_auth(token)
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .expect("the admin API answers");
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, headers, r.text().await.expect("a body"))
}

/// What a store outage looks like to a machine client of the admin API: a problem it can act
/// on (retry after Retry-After), never the generic internal error.
fn assert_outage_problem((status, headers, body): &(u16, reqwest::header::HeaderMap, String)) {
    assert_eq!(*status, 503, "{body}");
    assert_eq!(
        headers.get("content-type").map(|v| v.as_bytes()),
        Some(&b"application/problem+json"[..])
    );
    assert!(headers.contains_key("retry-after"), "{headers:?}");
    let problem: serde_json::Value = serde_json::from_str(body).expect("a JSON problem");
    assert_eq!(
        problem["type"], "urn:openpoort:problem:unavailable",
        "{body}"
    );
}

/// A request during an outage is answered `within`, not left hanging while the server retries.
fn assert_answered_soon(asked: Instant, within: Duration) {
    let took = asked.elapsed();
    assert!(took < within, "the outage answer took {took:?}");
}

/// Cuts `link` under a demo started with `env`, then restores it: while cut, Bram's login gets
/// the outage page and the admin API a 503 problem, each `within` the given time, and
/// `/readyz` fails; once back, all work again without a restart.
async fn outage_and_return(link: &Link, env: &[(String, String)], within: Duration) {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = demo_on_free_port(dir.path(), env);
    let base = server.url("");
    let base = base.trim_end_matches('/');
    assert_eq!(readyz(base).await, 200);
    let token = admin_api_token(dir.path(), env, base).await;
    assert_eq!(admin_read(base, &token).await.0, 200);

    let mut b = Browser::new(base);
    let form = login_form(&mut b).await;
    link.cut();
    let asked = Instant::now();
    assert_outage_page(&submit_login(&mut b, &form).await);
    assert_answered_soon(asked, within);
    let asked = Instant::now();
    assert_outage_problem(&admin_read(base, &token).await);
    assert_answered_soon(asked, within);
    assert_eq!(readyz(base).await, 503);

    link.restore();
    ready_again(base).await;
    let mut b = Browser::new(base);
    let form = login_form(&mut b).await;
    let signed_in = submit_login(&mut b, &form).await;
    assert_eq!(
        signed_in.location(),
        Some("/school-kiezen"),
        "{}",
        signed_in.body
    );
    assert_eq!(admin_read(base, &token).await.0, 200);
}

#[tokio::test]
async fn a_lost_session_store_is_a_503_page_and_readyz_fails_until_it_returns() {
    let redis = std::env::var("TEST_REDIS_URL")
        .expect("TEST_REDIS_URL is not set: run the tests with scripts/test (README)");
    let link = Link::to_service(&redis);
    let mut env = store_env(Store::Redis);
    for (key, value) in &mut env {
        if key == "OPENPOORT_SESSIONS_REDIS_URL" {
            *value = link.url_through(&redis);
        }
    }
    // The Redis connection retries for about 0.7 s before it gives up (its default retries
    // took about 5 s); the rest is margin for a loaded machine.
    outage_and_return(&link, &env, Duration::from_millis(2500)).await;
}

#[tokio::test]
async fn a_lost_database_is_a_503_page_and_readyz_fails_until_it_returns() {
    let admin = std::env::var("TEST_POSTGRES_URL")
        .expect("TEST_POSTGRES_URL is not set: run the tests with scripts/test (README)");
    let link = Link::to_service(&admin);
    let schema = PgSchema::create();
    let env = [(
        "OPENPOORT_DATABASE_URL".to_owned(),
        link.url_through(&schema.url()),
    )];
    // The database pool waits 3 s for a connection (it waited 10 s before); the rest is
    // margin for a loaded machine.
    outage_and_return(&link, &env, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_request_in_flight_at_shutdown_is_answered_before_the_process_exits() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dir = tempfile::tempdir().unwrap();
    let (mut server, _) = demo_on_free_port(dir.path(), &[]);
    let base = server.url("");
    let address = base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    // A login form whose body is still arriving when the shutdown starts.
    let body = "email=iemand%40school.example&password=geheim&csrf=x";
    let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
    socket
        .write_all(
            format!(
                "POST /inloggen HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                body.len(),
                &body[..10]
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    server.signal_terminate();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        server.is_running(),
        "openpoort exited with a request in flight"
    );
    assert!(
        tokio::net::TcpStream::connect(&address).await.is_err(),
        "a shutting-down server must not take new connections"
    );

    socket.write_all(&body.as_bytes()[10..]).await.unwrap();
    let mut answer = Vec::new();
    socket.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 "), "no answer: {answer:?}");
    assert!(server.wait_exit(), "openpoort must exit 0 once drained");
}
