//! Secrets never reach the log, not even at the most talkative level an operator could turn on:
//! a staff member's password, the authenticator's shared secret, its codes, the recovery codes
//! and the cookies that carry a session or a login waiting for its code. Every log line of the
//! router and of the libraries under it (sqlx, the state store) is captured at TRACE while a
//! teacher sets up an authenticator and signs in with a code and with a recovery code.
//!
//! One test in this file: the capture is the process's global subscriber.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use tracing_subscriber::fmt::MakeWriter;

use support::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn cookie_values(b: &Browser<'_>) -> Vec<String> {
    b.cookies
        .iter()
        .map(|(_, v)| v.clone())
        .filter(|v| v.len() >= 16)
        .collect()
}

#[tokio::test]
async fn no_password_factor_secret_code_or_session_cookie_reaches_the_log() {
    let log = Captured::default();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .without_time()
        .with_writer(log.clone())
        .init();

    let d = demo_from("127.0.0.1:50000").await;
    let mut secrets: Vec<String> = vec![idp::demo::BRAM_PASSWORD.to_owned()];

    let mut b = d.browser();
    b.log_in(idp::demo::BRAM, idp::demo::BRAM_PASSWORD).await;
    secrets.extend(cookie_values(&b));
    let (secret, recovery) = b.set_up_authenticator().await;
    secrets.push(data_encoding::BASE32_NOPAD.encode(secret.expose()));
    secrets.push(data_encoding::HEXLOWER.encode(secret.expose()));
    secrets.extend(recovery.iter().cloned());

    // A login finished with an authenticator code.
    let mut with_code = d.browser();
    let waiting = with_code
        .log_in(idp::demo::BRAM, idp::demo::BRAM_PASSWORD)
        .await;
    assert_eq!(
        waiting.location(),
        Some("/inloggen/code"),
        "{}",
        waiting.body
    );
    secrets.extend(cookie_values(&with_code));
    let code = code_now(&secret, 1);
    let done = with_code.submit("/inloggen/code", &[("code", &code)]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(with_code.has_session());
    secrets.extend(cookie_values(&with_code));

    // One finished with a recovery code.
    let mut with_recovery = d.browser();
    with_recovery
        .log_in(idp::demo::BRAM, idp::demo::BRAM_PASSWORD)
        .await;
    secrets.extend(cookie_values(&with_recovery));
    let done = with_recovery
        .submit("/inloggen/code", &[("code", &recovery[0])])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(with_recovery.has_session());
    secrets.extend(cookie_values(&with_recovery));

    let text = log.text();
    assert!(
        text.lines().count() > 20,
        "the capture saw the requests: {text}"
    );
    for s in &secrets {
        assert!(
            !text.contains(s.as_str()),
            "a secret ({} characters) stands in the log",
            s.len()
        );
    }
    // A six-digit code is short enough to stand in a log by chance inside a longer number, so
    // it is looked for as a number of its own.
    let numbers: Vec<&str> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|n| !n.is_empty())
        .collect();
    assert!(
        !numbers.contains(&code.as_str()),
        "the code stands in the log"
    );
}
