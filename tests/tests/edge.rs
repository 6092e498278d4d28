//! The HTTP edge: what every response carries, how the server treats slow and abusive clients,
//! and how requests axum itself refuses are answered.

use std::time::Duration;

use openpoort_e2e::{Server, openpoort};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn every_response_carries_hsts_when_the_public_url_is_https() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = openpoort(dir.path());
    cmd.env("OPENPOORT_SERVER_PUBLIC_URL", "https://login.example.nl")
        .arg("serve");
    let server = Server::start(cmd);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in [
        "/healthz",
        "/inloggen",
        "/no/such/page",
        "/api/v1/no-such-resource",
        "/.well-known/openid-configuration",
        "/metrics",
    ] {
        let response = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(
            response
                .headers()
                .get("strict-transport-security")
                .map(|v| v.to_str().unwrap()),
            Some("max-age=31536000"),
            "{path} ({})",
            response.status()
        );
    }
    // A method no route answers is refused by the router itself, and still carries it.
    let refused = client.delete(server.url("/healthz")).send().await.unwrap();
    assert!(refused.headers().contains_key("strict-transport-security"));
}

#[tokio::test]
async fn a_plain_http_development_server_sends_no_hsts() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = openpoort(dir.path());
    cmd.arg("serve");
    let server = Server::start(cmd);
    let response = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(!response.headers().contains_key("strict-transport-security"));
}

/// A server with short connection limits, so that tests of them take seconds.
fn server_with_limits(dir: &std::path::Path, header: u32, idle: u32, body: u32) -> Server {
    let mut cmd = openpoort(dir);
    cmd.env(
        "OPENPOORT_SERVER_HEADER_READ_TIMEOUT_SECONDS",
        header.to_string(),
    )
    .env("OPENPOORT_SERVER_IDLE_TIMEOUT_SECONDS", idle.to_string())
    .env("OPENPOORT_SERVER_BODY_TIMEOUT_SECONDS", body.to_string())
    .arg("serve");
    Server::start(cmd)
}

fn authority(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_owned()
}

/// Whether the server closed the connection within `within`: a read returns end of file (or
/// a reset). Any bytes the server sends first are returned alongside.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Result<Vec<u8>, String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Ok(got),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => {
                return Err(format!(
                    "still open after {within:?}; received {:?}",
                    String::from_utf8_lossy(&got)
                ));
            }
        }
    }
}

/// One request on `stream`, answered with `Content-Length`; the answer's status and body.
async fn exchange(stream: &mut TcpStream, request: &str) -> (u16, String) {
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("an answer within 10 s")
            .unwrap();
        assert!(
            n > 0,
            "closed before answering: {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().unwrap())
                })
                .expect("answers carry Content-Length");
            if body.len() >= length {
                let status = head[9..12].parse().unwrap();
                return (status, body.to_owned());
            }
        }
    }
}

#[tokio::test]
async fn half_sent_requests_are_closed_after_the_header_read_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_limits(dir.path(), 1, 30, 30);
    // A slowloris client: many connections, each with a request that never completes, one
    // more header line now and then to look alive.
    let mut held = Vec::new();
    for _ in 0..200 {
        let mut s = TcpStream::connect(authority(&server)).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        held.push(s);
    }
    // And some that never send a byte.
    for _ in 0..50 {
        held.push(TcpStream::connect(authority(&server)).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for s in held.iter_mut().take(20) {
        s.write_all(b"X-Alive: 1\r\n").await.unwrap();
    }
    // The server still answers others meanwhile.
    let ok = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(ok.status(), 200);
    let start = std::time::Instant::now();
    for (i, s) in held.iter_mut().enumerate() {
        if let Err(e) = closed_within(s, Duration::from_secs(5)).await {
            panic!("connection {i}: {e}");
        }
    }
    assert!(start.elapsed() < Duration::from_secs(5));
    let ok = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_idle_timeout_not_before() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_limits(dir.path(), 1, 3, 30);
    let mut s = TcpStream::connect(authority(&server)).await.unwrap();
    let request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_eq!(exchange(&mut s, request).await.0, 200);
    // Longer than the header limit, shorter than the idle one: still usable.
    tokio::time::sleep(Duration::from_millis(1_800)).await;
    assert_eq!(exchange(&mut s, request).await.0, 200);
    // Idle past the idle limit: closed.
    let start = std::time::Instant::now();
    let rest = closed_within(&mut s, Duration::from_secs(8)).await.unwrap();
    assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
    let idle = start.elapsed();
    assert!(
        idle >= Duration::from_millis(2_500),
        "closed after {idle:?}, before the idle limit"
    );
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_refused_and_its_connection_closed() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_limits(dir.path(), 5, 30, 1);
    let mut s = TcpStream::connect(authority(&server)).await.unwrap();
    s.write_all(
        b"POST /inloggen HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nemail=a",
    )
    .await
    .unwrap();
    let answer = closed_within(&mut s, Duration::from_secs(5)).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("te traag"), "{answer}");
    let ok = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(ok.status(), 200);
}

/// The start of an answer's body, for messages.
async fn read(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, kind, response.text().await.unwrap())
}

#[tokio::test]
async fn axums_own_refusals_are_answered_in_dutch_and_english_for_their_audience() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = openpoort(dir.path());
    cmd.arg("serve");
    let server = Server::start(cmd);
    let client = reqwest::Client::new();
    let form = "application/x-www-form-urlencoded";

    // Pages: a Dutch/English page, never axum's English sentence.
    let page_cases = [
        (
            client
                .post(server.url("/inloggen"))
                .header("content-type", form)
                .body("email=a"),
            400,
            "Het formulier is onvolledig",
        ),
        (
            client
                .post(server.url("/inloggen"))
                .header("content-type", "application/json")
                .body("{}"),
            415,
            "in een vorm verstuurd",
        ),
        (
            client
                .post(server.url("/inloggen"))
                .header("content-type", form)
                .body(format!("email={}", "a".repeat(3 << 20))),
            413,
            "groter dan dit adres aanneemt",
        ),
        (
            client.get(server.url("/s/%FF%FE")),
            400,
            "Het adres van deze pagina is ongeldig",
        ),
        (
            client.get(server.url("/inloggen?melding=a&melding=b")),
            400,
            "onvolledig of ongeldig",
        ),
        (
            client.get(server.url("/saml/start")),
            400,
            "onvolledig of ongeldig",
        ),
        (
            client.delete(server.url("/inloggen")),
            405,
            "niet op deze manier",
        ),
    ];
    for (request, status, dutch) in page_cases {
        let (got, kind, body) = read(request.send().await.unwrap()).await;
        assert_eq!(got, status, "{body}");
        assert!(kind.starts_with("text/html"), "{kind}: {body}");
        assert!(body.contains(dutch), "{body}");
        assert!(body.contains("<span class=\"en\" lang=\"en\">"), "{body}");
        assert!(
            !body.contains("Failed to"),
            "axum's own text leaked: {body}"
        );
    }

    // OIDC endpoints that programs call: an OAuth error object.
    for (request, status) in [
        (
            client
                .post(server.url("/oidc/token"))
                .header("content-type", "application/json")
                .body("{}"),
            415,
        ),
        (client.put(server.url("/oidc/token")), 405),
    ] {
        let (got, kind, body) = read(request.send().await.unwrap()).await;
        assert_eq!(got, status, "{body}");
        assert!(kind.starts_with("application/json"), "{kind}: {body}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["error"], "invalid_request", "{body}");
        assert!(
            json["error_description"].as_str().unwrap().contains(" / "),
            "Dutch and English: {body}"
        );
    }
}

#[tokio::test]
async fn a_login_flood_beyond_the_password_queue_is_refused_at_once_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = openpoort(dir.path());
    cmd.env("OPENPOORT_SERVER_PASSWORD_QUEUE", "1")
        .env("OPENPOORT_LOGIN_MAX_FAILURES_PER_IP", "100000")
        .arg("serve");
    let server = Server::start(cmd);
    let mut browser = openpoort_e2e::Browser::new(&server.base);
    let form = browser.get("/inloggen").await;
    let csrf = form.field("csrf").expect("a CSRF token");
    let cookie = form
        .set_cookies()
        .iter()
        .map(|c| c.split(';').next().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("; ");
    let client = reqwest::Client::new();
    // Sixty logins at once, each for another address so that no account lock-out answers
    // first: more than the cores plus a queue of one can take.
    let attempts = (0..60).map(|i| {
        let request = client
            .post(server.url("/inloggen"))
            .header("cookie", &cookie)
            .form(&[
                ("csrf", csrf.as_str()),
                ("email", &format!("flood{i}@example.nl")),
                ("password", "Tulpen-Molen-73"),
            ]);
        async move {
            let start = std::time::Instant::now();
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let retry = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            let body = response.text().await.unwrap();
            (status, retry, body, start.elapsed())
        }
    });
    let answers = join_all(attempts).await;
    let refused: Vec<_> = answers.iter().filter(|a| a.0 == 503).collect();
    let checked = answers.iter().filter(|a| a.0 == 401).count();
    assert_eq!(refused.len() + checked, answers.len(), "only 401 or 503");
    assert!(
        !refused.is_empty(),
        "nothing refused: the queue is not bounded"
    );
    assert!(checked >= 1, "someone's password was still checked");
    for (_, retry, body, took) in &refused {
        assert_eq!(retry.as_deref(), Some("2"));
        assert!(body.contains("erg druk"), "{body}");
        // Refused without waiting behind the flood's hashes.
        assert!(*took < Duration::from_secs(2), "refusal took {took:?}");
    }
}

/// The futures run at once, each as a task (the tests crate has no futures crate).
async fn join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
