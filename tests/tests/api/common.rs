//! What every API test uses: the demo with an admin client, its requests and their answers.

use std::path::Path;

use serde_json::{Value, json};

use openpoort_e2e::{Server, add_client, cli_ok, openpoort};

pub const PUBLISHER: &str = "demo-uitgeverij";
pub const ADMIN: &str = "beheer-koppeling";
/// Never fetched: the tests read the redirect's Location and stop there.
pub const REDIRECT: &str = "http://127.0.0.1:9/callback";

pub struct Demo {
    pub dir: tempfile::TempDir,
    pub server: Server,
    pub http: reqwest::Client,
    /// The admin client's secret.
    pub admin_secret: String,
}

/// A demo server (with a 1 MiB import limit, so the limit can be tested cheaply) and an admin
/// client `beheer-koppeling` of the operator's own party `beheer`, registered on the command
/// line as README says.
pub fn demo() -> Demo {
    let dir = tempfile::tempdir().expect("temporary folder");
    let mut cmd = openpoort(dir.path());
    cmd.env("OPENPOORT_SESSIONS_STORE", "memory")
        .env("OPENPOORT_IMPORT_MAX_MIB", "1")
        .arg("demo");
    let server = Server::start(cmd);
    server.more_output(std::time::Duration::from_millis(300));
    let mut d = Demo {
        dir,
        server,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client"),
        admin_secret: String::new(),
    };
    d.cli(&[
        "party",
        "add",
        "--code",
        "beheer",
        "--kind",
        "uitgeverij",
        "--name",
        "Eigen beheer",
    ]);
    d.admin_secret = d
        .add_client(
            "beheer",
            ADMIN,
            &[
                "--grant",
                "client_credentials",
                "--scope",
                "openpoort:admin",
            ],
        )
        .expect("a secret for the admin client");
    d
}

pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn problem(&self) -> &str {
        assert_eq!(
            self.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "{}",
            self.body
        );
        for field in ["title", "detail", "detail_en"] {
            assert!(self.body[field].is_string(), "{field}: {}", self.body);
        }
        assert_eq!(self.body["status"], self.status, "{}", self.body);
        self.body["type"]
            .as_str()
            .and_then(|t| t.strip_prefix("urn:openpoort:problem:"))
            .unwrap_or_else(|| panic!("no problem type: {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Demo {
    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    pub fn cli(&self, args: &[&str]) -> String {
        cli_ok(self.dir.path(), args)
    }

    /// `openpoort client add`; returns the secret it prints, for the secret methods.
    pub fn add_client(&self, party: &str, client_id: &str, extra: &[&str]) -> Option<String> {
        add_client(self.dir.path(), party, client_id, extra)
    }

    /// The token endpoint with client credentials (Basic); returns status and body.
    pub async fn token(&self, form: &[(&str, &str)], client: &str, secret: &str) -> (u16, Value) {
        let r = self
            .http
            .post(self.url("/oidc/token"))
            .basic_auth(client, Some(secret))
            .form(form)
            .send()
            .await
            .expect("token request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn client_credentials(&self, client: &str, secret: &str, scope: &str) -> String {
        let (status, body) = self
            .token(
                &[("grant_type", "client_credentials"), ("scope", scope)],
                client,
                secret,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn admin_token(&self) -> String {
        self.client_credentials(ADMIN, &self.admin_secret, "openpoort:admin")
            .await
    }

    /// An API request with `token` (none when `None`) and a body of the given media type.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> Answer {
        let mut r = self
            .http
            .request(method, self.url(&format!("/api/v1{path}")));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some((media, bytes)) = body {
            r = r.header("content-type", media).body(bytes);
        }
        let response = r.send().await.expect("API request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let raw = response.text().await.expect("body");
        Answer {
            status,
            headers,
            body: serde_json::from_str(&raw).unwrap_or(Value::String(raw)),
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.call(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: &Value,
    ) -> Answer {
        self.call(
            method,
            path,
            Some(token),
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await
    }

    pub async fn upload(&self, school: &str, dry_run: bool, token: &str, xml: &str) -> Answer {
        self.call(
            reqwest::Method::POST,
            &format!("/schools/{school}/edexml?dry_run={dry_run}"),
            Some(token),
            Some(("application/xml", xml.as_bytes().to_vec())),
        )
        .await
    }

    /// A request that announces a body of `length` bytes and waits for `100 Continue` before
    /// sending it, as curl does with large uploads: a body over the limit must be refused
    /// before a byte of it is sent. Returns the status, the head (lower case) and the body of
    /// the answer.
    pub async fn announce_body(
        &self,
        path: &str,
        token: &str,
        media: &str,
        length: usize,
    ) -> (u16, String, Value) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let host = self.server.base.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
        let head = format!(
            "POST /api/v1{path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: {media}\r\nContent-Length: {length}\r\nExpect: 100-continue\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        tokio::time::timeout(
            std::time::Duration::from_secs(10),
            stream.read_to_end(&mut raw),
        )
        .await
        .expect("the server answers and closes without waiting for the body")
        .unwrap();
        let raw = String::from_utf8(raw).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        let status = head[9..12].parse().unwrap();
        (
            status,
            head.to_ascii_lowercase(),
            serde_json::from_str(body).unwrap_or(Value::Null),
        )
    }

    /// The client ids of a party, as the API lists them.
    pub async fn client_ids(&self, party: &str, token: &str) -> Vec<String> {
        let list = self
            .get(&format!("/parties/{party}/oidc-clients"), token)
            .await;
        assert_eq!(list.status, 200, "{}", list.body);
        list.body["oidc_clients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["client_id"].as_str().unwrap().to_owned())
            .collect()
    }

    pub fn outbox(&self) -> Vec<String> {
        match std::fs::read_dir(self.dir.path().join("data/outbox")) {
            Ok(entries) => entries
                .flatten()
                .map(|e| std::fs::read_to_string(e.path()).unwrap())
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// A confidential code-flow client of the demo publisher, as a publisher would register it.
pub fn code_client(client_id: &str) -> Value {
    json!({
        "client_id": client_id,
        "name": "Rekenrijk",
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "scopes": ["openid", "profile"],
        "token_endpoint_auth_method": "client_secret_basic",
    })
}

pub fn complete_edexml() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../directory/tests/edexml/complete-2.1.xml"),
    )
    .expect("the project's complete EDEXML 2.1 file (school 99ZZ01)")
}
