//! Helpers for end-to-end tests: run the real `openpoort` binary as an operator or a client
//! would, with a data directory and (where asked) a PostgreSQL schema of its own per test.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub mod bench;
pub mod edexml_gen;
pub mod link;
pub mod pki;
pub mod wire;

pub use bench::{Load, process_cpu, run_load};

/// The `openpoort` binary of this build profile: tests run from target/<profile>/deps, the
/// benchmark tools from target/<profile> itself.
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current executable");
    let parent = exe.parent().expect("executable in a folder");
    let dir = if parent.ends_with("deps") {
        parent.parent().expect("target/<profile>")
    } else {
        parent
    };
    let bin = dir.join("openpoort");
    assert!(
        bin.exists(),
        "{} does not exist: build it first (scripts/test does: cargo build --workspace --bins)",
        bin.display()
    );
    bin
}

/// A command for `openpoort` that sees none of the caller's OPENPOORT_ variables (they would
/// leak a developer's settings into the test), working in `dir`, in development mode.
pub fn openpoort(dir: &Path) -> Command {
    let mut cmd = Command::new(binary());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("OPENPOORT_") {
            cmd.env_remove(key);
        }
    }
    cmd.current_dir(dir)
        .env("OPENPOORT_SERVER_MODE", "development")
        .env("OPENPOORT_LOG_LEVEL", "warn")
        .stdin(Stdio::null());
    cmd
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run openpoort")
}

/// `openpoort ARGS` run in `dir` (a demo's folder works while its server runs), which must
/// succeed; its standard output. Returns once a server running on that folder sees the change:
/// its read cache reads the register's version every `CACHE_POLL`, which is the promise an
/// operator gets for a change made from the command line.
pub fn cli_ok(dir: &Path, args: &[&str]) -> String {
    let out = cli_with(dir, &[], args);
    std::thread::sleep(directory::CACHE_POLL + Duration::from_millis(20));
    out
}

/// `openpoort ARGS` run in `dir` with `env` (a register elsewhere, say), which must succeed; its
/// standard output, at once.
pub fn cli_with(dir: &Path, env: &[(String, String)], args: &[&str]) -> String {
    let out = run(openpoort(dir)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .args(args));
    assert!(
        out.status.success(),
        "openpoort {args:?}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A running server; stopped with SIGTERM when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    /// `https://host:port` of the partner API's listener, when `partner.listen` is set.
    pub partner_base: Option<String>,
    pub stdout: mpsc::Receiver<String>,
    /// What it printed before the listening line (the demo's welcome), until read.
    earlier: std::sync::Mutex<Vec<String>>,
}

impl Server {
    /// Starts `cmd` (a `serve` or `demo` command) on a free port and waits until it listens.
    pub fn start(mut cmd: Command) -> Server {
        cmd.env("OPENPOORT_SERVER_LISTEN", "127.0.0.1:0");
        Server::try_start(cmd)
            .unwrap_or_else(|| panic!("openpoort did not report a listening address within 60 s"))
    }

    /// Starts `cmd`, which says where to listen, and waits until it listens; `None` when it
    /// ends before that (on a fixed port, most likely because another process took it).
    pub fn try_start(mut cmd: Command) -> Option<Server> {
        cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("start openpoort");
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let mut earlier = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(url) = line.strip_prefix("openpoort listening on ") {
                        let partner_base = earlier.iter().find_map(|l: &String| {
                            l.strip_prefix("openpoort partner API listening on ")
                                .map(|u| u.trim().to_owned())
                        });
                        return Some(Server {
                            child,
                            base: url.trim().to_owned(),
                            partner_base,
                            stdout: rx,
                            earlier: std::sync::Mutex::new(earlier),
                        });
                    }
                    earlier.push(line);
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let _ = child.wait();
                    return None;
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("openpoort did not report a listening address within 60 s");
                }
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The lines not read yet: those printed before the listening line, then those printed
    /// after it, collected until none comes for `wait`.
    pub fn more_output(&self, wait: Duration) -> Vec<String> {
        let mut lines =
            std::mem::take(&mut *self.earlier.lock().unwrap_or_else(|e| e.into_inner()));
        while let Ok(line) = self.stdout.recv_timeout(wait) {
            lines.push(line);
        }
        lines
    }

    /// Sends SIGTERM and waits for the process to end; returns whether it exited successfully.
    pub fn terminate(&mut self) -> bool {
        self.signal_terminate();
        self.wait_exit()
    }

    /// Sends SIGTERM and returns at once: openpoort starts its shutdown.
    pub fn signal_terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "could not signal openpoort");
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits (at most 30 s) for the process to end; whether it exited 0.
    pub fn wait_exit(&mut self) -> bool {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.success();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "openpoort did not stop within 30 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A PostgreSQL schema of its own for one test, reached through the URL's `options`, so that the
/// binary under test needs no test-only setting. Requires `psql` and TEST_POSTGRES_URL.
pub struct PgSchema {
    admin_url: String,
    name: String,
}

impl PgSchema {
    pub fn create() -> PgSchema {
        PgSchema::create_at(test_postgres_url())
    }

    /// A schema in `database` of TEST_POSTGRES_URL's server, which is created when absent. The
    /// load tools measure in a database of their own, since PostgreSQL counts transactions per
    /// database and the tests of other engineers use the test database at the same time.
    pub fn create_in(database: &str) -> PgSchema {
        let url = test_postgres_url();
        let (server, query) = match url.split_once('?') {
            Some((server, query)) => (server, format!("?{query}")),
            None => (url.as_str(), String::new()),
        };
        let (server, _) = server
            .rsplit_once('/')
            .expect("TEST_POSTGRES_URL names a database");
        let exists = Command::new("psql")
            .args([
                &url,
                "-qAtc",
                &format!(
                    "SELECT 1 FROM pg_database WHERE datname = '{}'",
                    database.replace('\'', "''")
                ),
            ])
            .output()
            .expect("psql (the PostgreSQL client) runs");
        if text(&exists.stdout).trim() != "1" {
            // Two tools starting at once may both try; the loser's error says it exists.
            if let Err(e) = psql(&url, &format!("CREATE DATABASE \"{database}\"")) {
                assert!(e.contains("already exists"), "{e}");
            }
        }
        PgSchema::create_at(format!("{server}/{database}{query}"))
    }

    fn create_at(admin_url: String) -> PgSchema {
        let name = format!("e2e_{}", std::process::id()) + &format!("_{}", unique());
        if let Err(e) = psql(&admin_url, &format!("CREATE SCHEMA {name}")) {
            panic!("{e}");
        }
        PgSchema { admin_url, name }
    }

    /// The database URL that makes openpoort use this schema.
    pub fn url(&self) -> String {
        let sep = if self.admin_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!(
            "{}{sep}options=-c%20search_path%3D{}",
            self.admin_url, self.name
        )
    }

    /// Runs `sql` in this schema, as an operator would with psql: changes the register the way
    /// no command of openpoort's does (a key made to look old, say).
    pub fn execute(&self, sql: &str) {
        if let Err(e) = psql(
            &self.admin_url,
            &format!("SET search_path TO {}; {sql}", self.name),
        ) {
            panic!("{e}");
        }
    }

    /// The schema's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL of the schema's database without the schema, for queries about it.
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// The process ids of the PostgreSQL backends serving connections that call themselves
    /// `application_name` (a URL parameter libpq and sqlx both read): whose CPU a load tool
    /// adds to the server's, since on PostgreSQL part of a request's work is done there.
    pub fn backend_pids(&self, application_name: &str) -> Vec<u32> {
        let out = Command::new("psql")
            .args([
                &self.admin_url,
                "-v",
                "ON_ERROR_STOP=1",
                "-qAtc",
                &format!(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = '{}'",
                    application_name.replace('\'', "''")
                ),
            ])
            .output()
            .expect("psql (the PostgreSQL client) runs");
        assert!(out.status.success(), "psql: {}", text(&out.stderr));
        text(&out.stdout)
            .lines()
            .map(|l| l.trim().parse().expect("a process id"))
            .collect()
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        // Best effort: a schema left behind costs nothing but space, and a panic in drop would
        // hide the test's own failure.
        if let Err(e) = psql(
            &self.admin_url,
            &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name),
        ) {
            eprintln!("{e}");
        }
    }
}

fn test_postgres_url() -> String {
    std::env::var("TEST_POSTGRES_URL").expect(
        "TEST_POSTGRES_URL is not set: run the tests with scripts/test (README), which starts PostgreSQL and sets it",
    )
}

fn psql(url: &str, sql: &str) -> Result<(), String> {
    let out = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-qc", sql])
        .output()
        .map_err(|e| format!("psql (the PostgreSQL client) could not run: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("psql {sql}: {}", text(&out.stderr)))
    }
}

fn unique() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// A client that behaves like a browser for openpoort's pages: it keeps cookies (by name, as
/// openpoort sets them: host-only, path /), follows no redirects by itself so tests can look at
/// each step, and reads the CSRF token out of forms.
pub struct Browser {
    transport: Transport,
    base: String,
    pub cookies: std::collections::BTreeMap<String, String>,
    /// Sent with every request, e.g. an `X-Forwarded-For` as a reverse proxy would add it.
    pub headers: Vec<(String, String)>,
}

/// How a browser's requests travel: reqwest for tests (a real client stack), or the load
/// tools' lean client (`wire`), which leaves the machine's CPU to the server being measured.
enum Transport {
    Reqwest(reqwest::Client),
    Wire(wire::Conn),
}

/// One answer: status, headers and body.
pub struct Page {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> Option<&str> {
        self.headers.get("location").and_then(|v| v.to_str().ok())
    }

    /// The value of the first hidden input `name` in the page.
    pub fn field(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')? + start;
        Some(self.body[start..end].to_owned())
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        Browser::with_client(
            base,
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("HTTP client"),
        )
    }

    /// A browser with no cookies over an existing client. Building a client loads the system's
    /// trust store (native-tls), which costs far more than a request; a load tool that wants a
    /// fresh browser per flow shares one client instead.
    pub fn with_client(base: &str, http: reqwest::Client) -> Browser {
        Browser::over(base, Transport::Reqwest(http))
    }

    /// A browser for load tools: one kept-alive connection through the lean client.
    pub fn lean(base: &str) -> Browser {
        Browser::over(base, Transport::Wire(wire::Conn::new(base)))
    }

    fn over(base: &str, transport: Transport) -> Browser {
        Browser {
            transport,
            base: base.trim_end_matches('/').to_owned(),
            cookies: Default::default(),
            headers: Vec::new(),
        }
    }

    /// The `Cookie` header this browser sends, for a request the test makes itself (a download).
    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Sends a request with the browser's cookies and headers plus `extra`, and keeps the
    /// cookies the answer sets. `path` is relative to the base, or a full URL on it.
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Page {
        let path = path.strip_prefix(self.base.as_str()).unwrap_or(path);
        let cookie = self.cookie_header();
        let mut headers: Vec<(&str, &str)> =
            Vec::with_capacity(self.headers.len() + extra.len() + 1);
        if !cookie.is_empty() {
            headers.push(("cookie", &cookie));
        }
        headers.extend(self.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        headers.extend_from_slice(extra);
        let page = match &mut self.transport {
            Transport::Reqwest(http) => {
                let url = if path.starts_with("http") {
                    path.to_owned()
                } else {
                    format!("{}{path}", self.base)
                };
                let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
                let mut r = http.request(method.clone(), url).body(body);
                for (k, v) in &headers {
                    r = r.header(*k, *v);
                }
                let response = r
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                let body = response.text().await.expect("body");
                Page {
                    status,
                    headers,
                    body,
                }
            }
            Transport::Wire(conn) => {
                let answer = conn
                    .send(method, path, &headers, &body)
                    .await
                    .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
                Page {
                    status: answer.status,
                    headers: answer.headers,
                    body: String::from_utf8(answer.body).expect("UTF-8 body"),
                }
            }
        };
        for set in page.headers.get_all("set-cookie").iter() {
            let set = set.to_str().expect("ASCII cookie");
            let pair = set.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || set.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        page
    }

    pub async fn get(&mut self, path: &str) -> Page {
        self.send("GET", path, &[], Vec::new()).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        self.post_with(path, &[], form).await
    }

    /// POSTs `form` with `extra` headers (an `Authorization`, say) besides the browser's own.
    pub async fn post_with(
        &mut self,
        path: &str,
        extra: &[(&str, &str)],
        form: &[(&str, &str)],
    ) -> Page {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
        headers.extend_from_slice(extra);
        self.send("POST", path, &headers, body.into_bytes()).await
    }

    /// GETs the page at `path` and submits its first form as a browser would: to the form's
    /// action, with the form's hidden fields (CSRF token, link token) plus `fields`.
    pub async fn submit(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let page = self.get(path).await;
        self.submit_form(&page, 0, fields).await
    }

    /// Submits form number `index` (0-based) of `page`, with its hidden fields plus `fields`.
    pub async fn submit_form(
        &mut self,
        page: &Page,
        index: usize,
        fields: &[(&str, &str)],
    ) -> Page {
        let start = page
            .body
            .match_indices("<form")
            .nth(index)
            .map(|(i, _)| i)
            .unwrap_or_else(|| panic!("no form {index} in page: {}", page.body));
        let form =
            &page.body[start..start + page.body[start..].find("</form>").expect("closed form")];
        // Attribute values with their character references decoded, as a browser sends them.
        let attr = |tag: &str, name: &str| -> Option<String> {
            let marker = format!("{name}=\"");
            let i = tag.find(&marker)? + marker.len();
            Some(unescape(&tag[i..i + tag[i..].find('"')?]))
        };
        let action = attr(form, "action").expect("form action");
        let hidden: Vec<(String, String)> = form
            .split("<input")
            .skip(1)
            .filter(|tag| tag.contains("type=\"hidden\""))
            .filter_map(|tag| Some((attr(tag, "name")?, attr(tag, "value").unwrap_or_default())))
            .filter(|(name, _)| !fields.iter().any(|(n, _)| n == name))
            .collect();
        let mut all: Vec<(&str, &str)> = hidden
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        all.extend_from_slice(fields);
        self.post(&action, &all).await
    }
}

/// Where a test server keeps sessions: every session test runs on both.
#[derive(Clone, Copy, Debug)]
pub enum Store {
    Memory,
    Redis,
}

/// The environment that puts a server's sessions in `store`. Redis comes from `TEST_REDIS_URL`
/// (set by scripts/test); each server gets its own key prefix, so parallel tests never share
/// counters or sessions.
pub fn store_env(store: Store) -> Vec<(String, String)> {
    match store {
        Store::Memory => vec![("OPENPOORT_SESSIONS_STORE".into(), "memory".into())],
        Store::Redis => vec![
            ("OPENPOORT_SESSIONS_STORE".into(), "redis".into()),
            (
                "OPENPOORT_SESSIONS_REDIS_URL".into(),
                std::env::var("TEST_REDIS_URL")
                    .expect("TEST_REDIS_URL is not set: run the tests with scripts/test (README)"),
            ),
            (
                "OPENPOORT_SESSIONS_REDIS_PREFIX".into(),
                format!("test:{}:", uuid::Uuid::new_v4().simple()),
            ),
        ],
    }
}

/// Defines `mod $name { memory, redis }`: the same test body with sessions in memory and in Redis.
#[macro_export]
macro_rules! on_both_stores {
    (async fn $name:ident($s:ident: Store) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run_with($s: $crate::Store) $body
            #[tokio::test]
            async fn memory() {
                run_with($crate::Store::Memory).await;
            }
            #[tokio::test]
            async fn redis() {
                run_with($crate::Store::Redis).await;
            }
        }
    };
}

impl Page {
    /// The href of the link whose text starts with `label`, unescaped.
    pub fn link_to(&self, label: &str) -> Option<String> {
        let at = self.body.find(&format!("\">{label}"))?;
        let start = self.body[..at].rfind("href=\"")? + 6;
        Some(unescape(&self.body[start..at]))
    }

    /// The index of the form that contains `marker` (a button label, an attribute).
    pub fn form_with(&self, marker: &str) -> Option<usize> {
        let at = self.body.find(marker)?;
        self.body[..at].matches("<form").count().checked_sub(1)
    }
}

/// What a browser makes of an HTML attribute value.
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let c = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `openpoort demo` started in `dir` with `env`, on a port chosen first so that its public URL
/// (the issuer, and the addresses the demo product Leesland registers) is the address it
/// listens on; [`Server::start`] listens on port 0, which leaves the public URL at its default.
/// Another process could take the port in between: then another port is tried, five times.
/// Returns the server and the demo school's INSTELLING_REF from the welcome.
pub fn demo_on_free_port(dir: &Path, env: &[(String, String)]) -> (Server, String) {
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let base = format!("http://127.0.0.1:{port}");
        let mut cmd = openpoort(dir);
        cmd.env("OPENPOORT_SERVER_LISTEN", format!("127.0.0.1:{port}"))
            .env("OPENPOORT_SERVER_PUBLIC_URL", &base)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .arg("demo");
        let Some(server) = Server::try_start(cmd) else {
            // It ended before listening: most likely the port was taken meanwhile.
            continue;
        };
        let out = server.more_output(Duration::from_millis(500)).join("\n");
        let instelling_ref = demo_shortcut(&out)
            .and_then(|s| s.strip_prefix("/s/").map(str::to_owned))
            .unwrap_or_else(|| panic!("no pupil shortcut in the demo's welcome: {out}"));
        return (server, instelling_ref);
    }
    panic!("openpoort demo could not listen on a free port in five tries");
}

/// The pupil shortcut path (`/s/{INSTELLING_REF}`) from `openpoort demo`'s welcome text.
pub fn demo_shortcut(welcome: &str) -> Option<String> {
    let reference = welcome.split("/s/").nth(1)?.get(..36)?;
    Some(format!("/s/{reference}"))
}

/// The demo's Finn (group 5, picture "boom") signs in at school through `shortcut`: groups,
/// names, pictures, picture. True when a session was opened.
pub async fn demo_pupil_login(b: &mut Browser, shortcut: &str) -> bool {
    demo_pupil_login_as(b, shortcut, "Groep 5 Uilen", "Finn S.", "boom").await
}

/// A demo pupil of `group`, shown as `name`, signs in at school through `shortcut` with
/// `picture` (the demo gives its pupils the catalogue in order: Finn "boom", Emma "bloem").
pub async fn demo_pupil_login_as(
    b: &mut Browser,
    shortcut: &str,
    group: &str,
    name: &str,
    picture: &str,
) -> bool {
    let steps = async {
        let groups = b.get(shortcut).await;
        let names = b.get(&groups.link_to(group)?).await;
        let pictures = b.submit_form(&names, names.form_with(name)?, &[]).await;
        let i = pictures.form_with(&format!("alt=\"{picture}\""))?;
        Some(b.submit_form(&pictures, i, &[]).await.status == 303)
    };
    steps.await.unwrap_or(false)
}

/// The demo's teacher with a password, a member of two schools (so a login asks which one).
pub const BRAM: &str = "bram.jansen@demo.openpoort.nl";
pub const BRAM_PASSWORD: &str = "Fiets-Molen-Tulp-42";

/// Submits form `index` of `page` with its `next` field as a browser sends it (unescaped).
pub async fn submit_with_next(
    b: &mut Browser,
    page: &Page,
    index: usize,
    fields: &[(&str, &str)],
) -> Page {
    let next = page.field("next").map(|n| unescape(&n));
    let mut all = fields.to_vec();
    if let Some(n) = &next {
        all.push(("next", n));
    }
    b.submit_form(page, index, &all).await
}

/// The login page at `path` (`/inloggen?next=…`), filled in as Bram; returns the answer.
pub async fn log_in_as_bram(b: &mut Browser, path: &str) -> Page {
    let form = b.get(path).await;
    assert_eq!(form.status, 200, "{}", form.body);
    submit_with_next(
        b,
        &form,
        form.form_with("action=\"/inloggen\"")
            .expect("the login form"),
        &[("email", BRAM), ("password", BRAM_PASSWORD)],
    )
    .await
}

/// The school choice at `path` (`/school-kiezen[?next=…]`): school 99ZZ00.
pub async fn choose_99zz00(b: &mut Browser, path: &str) -> Page {
    let page = b.get(path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let at = page
        .body
        .find("(99ZZ00)")
        .unwrap_or_else(|| panic!("99ZZ00 not offered: {}", page.body));
    let marker = "name=\"school_id\" value=\"";
    let i = page.body[..at].rfind(marker).unwrap() + marker.len();
    let school_id = page.body[i..i + page.body[i..].find('"').unwrap()].to_owned();
    submit_with_next(
        b,
        &page,
        page.form_with("name=\"school_id\"")
            .expect("the school choice"),
        &[("school_id", &school_id)],
    )
    .await
}

/// Bram signs in at openpoort (outside any authorization request) and picks 99ZZ00.
pub async fn bram_signed_in(base: &str) -> Browser {
    let mut b = Browser::new(base);
    sign_in_bram(&mut b).await;
    b
}

/// Bram signs in through browser `b` and picks 99ZZ00.
pub async fn sign_in_bram(b: &mut Browser) {
    let done = log_in_as_bram(b, "/inloggen").await;
    assert_eq!(done.location(), Some("/school-kiezen"), "{}", done.body);
    let chosen = choose_99zz00(b, "/school-kiezen").await;
    assert_eq!(chosen.location(), Some("/"), "{}", chosen.body);
}

/// Anna, the demo's teacher of group 5 (no ICT-coördinator), activated through the link the demo
/// mailed into `dir`'s outbox and signed in at `base`.
pub async fn anna_signed_in(dir: &Path, base: &str) -> Browser {
    const PASSWORD: &str = "Zonnebloem-Kanaal-58";
    let mut b = Browser::new(base);
    let mail = std::fs::read_dir(dir.join("data/outbox"))
        .expect("the demo's outbox")
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).expect("a mail"))
        .find(|m| m.contains("anna.devries"))
        .expect("Anna's activation mail");
    let line = mail
        .lines()
        .find(|l| l.contains("/activeren?token="))
        .expect("an activation link");
    let path = &line[line.find("/activeren").expect("the link's path")..];
    let fields = [("password", PASSWORD), ("password_repeat", PASSWORD)];
    b.submit(path.trim(), &fields).await;
    let fields = [
        ("email", "anna.devries@demo.openpoort.nl"),
        ("password", PASSWORD),
    ];
    b.submit("/inloggen", &fields).await;
    b
}

/// `openpoort client add` in `dir`: a client of `party` named after its id, with `extra`
/// options (redirect URIs, grants, scopes, the authentication method). Returns the secret it
/// prints, for the secret methods.
pub fn add_client(dir: &Path, party: &str, client_id: &str, extra: &[&str]) -> Option<String> {
    let secret = add_client_with(dir, &[], party, client_id, extra);
    std::thread::sleep(directory::CACHE_POLL + Duration::from_millis(20));
    secret
}

/// [`add_client`] with `env` (a register elsewhere), returning at once.
pub fn add_client_with(
    dir: &Path,
    env: &[(String, String)],
    party: &str,
    client_id: &str,
    extra: &[&str],
) -> Option<String> {
    let mut args = vec![
        "client",
        "add",
        "--party",
        party,
        "--client-id",
        client_id,
        "--name",
        client_id,
    ];
    args.extend_from_slice(extra);
    let out = cli_with(dir, env, &args);
    let lines: Vec<&str> = out.lines().collect();
    lines
        .iter()
        .position(|l| l.contains("client_secret"))
        .map(|i| lines[i + 1].trim().to_owned())
}

/// An admin API client `beheer-koppeling` of the operator's own party `beheer` (the name
/// "Eigen beheer"), registered on the command line in `dir` with `env` as README says, and an
/// access token for it from the server at `base`.
pub async fn admin_api_token(dir: &Path, env: &[(String, String)], base: &str) -> String {
    let party = ["--code=beheer", "--kind=uitgeverij", "--name=Eigen beheer"];
    let args: Vec<&str> = ["party", "add"].into_iter().chain(party).collect();
    cli_with(dir, env, &args);
    let scope = ["--grant=client_credentials", "--scope=openpoort:admin"];
    let secret = add_client_with(dir, env, "beheer", "beheer-koppeling", &scope)
        .expect("a secret for the admin client");
    // The read cache of a server on SQLite sees the command line's changes within CACHE_POLL.
    tokio::time::sleep(directory::CACHE_POLL + Duration::from_millis(20)).await;
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/oidc/token", base.trim_end_matches('/')))
        .basic_auth("beheer-koppeling", Some(secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "openpoort:admin"),
        ])
        .send()
        .await
        .expect("the token endpoint answers")
        .json()
        .await
        .expect("a JSON answer");
    answer["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access token: {answer}"))
        .to_owned()
}

/// A PKCE verifier and its S256 challenge (RFC 7636), made by hand.
pub fn pkce() -> (String, String) {
    use base64::Engine;
    let verifier = format!(
        "{}-{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(openssl::sha::sha256(verifier.as_bytes()));
    (verifier, challenge)
}

/// An authorization request URL on the server at `base` with these parameters.
pub fn authorize_url(base: &str, params: &[(&str, &str)]) -> String {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    format!("{base}/oidc/authorize?{q}")
}

/// A fresh RSA-2048 key and a self-signed certificate for it (30 days), as a SAML service
/// provider or a test IdP holds them.
pub fn self_signed(
    cn: &str,
) -> (
    openssl::pkey::PKey<openssl::pkey::Private>,
    openssl::x509::X509,
) {
    use openssl::asn1::Asn1Time;
    use openssl::bn::BigNum;
    use openssl::hash::MessageDigest;
    use openssl::pkey::PKey;
    use openssl::rsa::Rsa;
    use openssl::x509::{X509, X509NameBuilder};
    let key = PKey::from_rsa(Rsa::generate(2048).expect("RSA key")).expect("key");
    let mut name = X509NameBuilder::new().expect("name");
    name.append_entry_by_text("CN", cn).expect("CN");
    let name = name.build();
    let mut b = X509::builder().expect("certificate");
    b.set_version(2).expect("version");
    let serial = BigNum::from_u32(1)
        .and_then(|n| n.to_asn1_integer())
        .expect("serial");
    b.set_serial_number(&serial).expect("serial");
    b.set_subject_name(&name).expect("subject");
    b.set_issuer_name(&name).expect("issuer");
    b.set_pubkey(&key).expect("public key");
    b.set_not_before(&Asn1Time::days_from_now(0).expect("now"))
        .expect("not before");
    b.set_not_after(&Asn1Time::days_from_now(30).expect("later"))
        .expect("not after");
    b.sign(&key, MessageDigest::sha256())
        .expect("self-signature");
    (key, b.build())
}

/// What a test's little HTTP host reads of a request: everything up to the end of its head, or
/// `None` when the client goes away first.
pub async fn read_request_head(socket: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    Some(request)
}

/// A LAS played by a thread of the test: serves `body` to requests carrying `Authorization: Bearer <key>`, 401 to others; returns
/// the endpoint.
pub fn fake_las(key: &'static str, body: String) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}/edexml", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut authorised = false;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if lower.starts_with("authorization:")
                    && line.trim_end().ends_with(&format!("Bearer {key}"))
                {
                    authorised = true;
                }
            }
            let (status, body) = if authorised {
                ("200 OK", body.as_str())
            } else {
                ("401 Unauthorized", "")
            };
            let _ = std::io::Write::write_fmt(
                &mut stream,
                format_args!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                ),
            );
        }
    });
    endpoint
}

/// A network provider's SAML IdP metadata naming `cert` as its signing key, with a
/// SingleSignOnService for the HTTP-Redirect binding; signed enveloped by `signed_by` (a
/// federation's key, which an operator pins) when given.
pub fn idp_metadata(
    entity_id: &str,
    cert: &openssl::x509::X509,
    signed_by: Option<(
        &openssl::pkey::PKey<openssl::pkey::Private>,
        &openssl::x509::X509,
    )>,
) -> String {
    use base64::Engine;
    let der = cert.to_der().expect("DER");
    let id = format!("_md{}", uuid::Uuid::new_v4().simple());
    let signer = signed_by.map(|(key, signing)| {
        let pem = String::from_utf8(signing.to_pem().expect("PEM")).expect("text");
        metadata::saml::sign::XmlSigner::new(key, &pem).expect("a signer")
    });
    let xml = format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" ID="{id}" entityID="{entity_id}">{}<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAuthnRequestsSigned="true"><md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{entity_id}/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>"#,
        signer.as_ref().map(|s| s.template(&id)).unwrap_or_default(),
        base64::engine::general_purpose::STANDARD.encode(der)
    );
    match signer {
        Some(s) => s.sign(&xml).expect("signed metadata"),
        None => xml,
    }
}
