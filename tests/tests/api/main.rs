//! The admin REST API end to end, against `openpoort demo` (school 99ZZ00 and its second
//! location 99ZZ01; publisher demo-uitgeverij): an admin client registered by the operator on
//! the command line gets a token through client credentials and drives the API as a script
//! would; what the API registers is then used by a browser and a relying party.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use openpoort_e2e::{BRAM, BRAM_PASSWORD, Browser, Page, Server, cli_ok, openpoort, run, text};

const PUBLISHER: &str = "demo-uitgeverij";
const ADMIN: &str = "beheer-koppeling";
/// Never fetched: the tests read the redirect's Location and stop there.
const REDIRECT: &str = "http://127.0.0.1:9/callback";

struct Demo {
    dir: tempfile::TempDir,
    server: Server,
    http: reqwest::Client,
    /// The admin client's secret.
    admin_secret: String,
}

/// A demo server (with a 1 MiB import limit, so the limit can be tested cheaply) and an admin
/// client `beheer-koppeling` of the operator's own party `beheer`, registered on the command
/// line as README says.
fn demo() -> Demo {
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

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Answer {
    fn problem(&self) -> &str {
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

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Demo {
    fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    fn cli(&self, args: &[&str]) -> String {
        cli_ok(self.dir.path(), args)
    }

    /// `openpoort client add`; returns the secret it prints, for the secret methods.
    fn add_client(&self, party: &str, client_id: &str, extra: &[&str]) -> Option<String> {
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
        let out = self.cli(&args);
        let lines: Vec<&str> = out.lines().collect();
        lines
            .iter()
            .position(|l| l.contains("client_secret"))
            .map(|i| lines[i + 1].trim().to_owned())
    }

    /// The token endpoint with client credentials (Basic); returns status and body.
    async fn token(&self, form: &[(&str, &str)], client: &str, secret: &str) -> (u16, Value) {
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

    async fn client_credentials(&self, client: &str, secret: &str, scope: &str) -> String {
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

    async fn admin_token(&self) -> String {
        self.client_credentials(ADMIN, &self.admin_secret, "openpoort:admin")
            .await
    }

    /// An API request with `token` (none when `None`) and a body of the given media type.
    async fn call(
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

    async fn get(&self, path: &str, token: &str) -> Answer {
        self.call(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    async fn send_json(
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

    async fn upload(&self, school: &str, dry_run: bool, token: &str, xml: &str) -> Answer {
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
    async fn announce_body(
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
    async fn client_ids(&self, party: &str, token: &str) -> Vec<String> {
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

    fn outbox(&self) -> Vec<String> {
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
fn code_client(client_id: &str) -> Value {
    json!({
        "client_id": client_id,
        "name": "Rekenrijk",
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "scopes": ["openid", "profile"],
        "token_endpoint_auth_method": "client_secret_basic",
    })
}

fn complete_edexml() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../directory/tests/edexml/complete-2.1.xml"),
    )
    .expect("the project's complete EDEXML 2.1 file (school 99ZZ01)")
}

/// The group page of a school's pupil shortcut, from the loopback address the demo's second
/// location is given here.
async fn shortcut_groups(d: &Demo, school: &str) -> Page {
    let list = d.cli(&["school", "list"]);
    let line = list
        .lines()
        .find(|l| l.starts_with(school))
        .unwrap_or_else(|| panic!("{school} not listed: {list}"));
    let reference = line.split_whitespace().nth(1).unwrap().to_owned();
    let page = Browser::new(&d.server.base)
        .get(&format!("/s/{reference}"))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    page
}

// ---------------------------------------------------------------------------------------------
// Authentication

#[tokio::test]
async fn admin_api_refuses_requests_without_a_bearer_token() {
    let d = demo();
    let none = d
        .call(
            reqwest::Method::GET,
            "/oidc-clients/rp-anything",
            None,
            None,
        )
        .await;
    assert_eq!((none.status, none.problem()), (401, "unauthorized"));
    assert_eq!(
        none.header("www-authenticate"),
        Some("Bearer realm=\"openpoort\"")
    );
    assert!(
        none.body["detail"]
            .as_str()
            .unwrap()
            .contains("Authorization: Bearer"),
        "{}",
        none.body
    );

    for token in ["not-a-token", "", "Zm9v.YmFy.YmF6"] {
        let bad = d
            .call(
                reqwest::Method::GET,
                &format!("/parties/{PUBLISHER}/oidc-clients"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(
            (bad.status, bad.problem()),
            (401, "unauthorized"),
            "{token}"
        );
    }
    let bad = d
        .call(
            reqwest::Method::GET,
            "/oidc-clients/rp-anything",
            Some("made-up-token"),
            None,
        )
        .await;
    assert!(
        bad.header("www-authenticate")
            .unwrap()
            .contains("error=\"invalid_token\""),
        "{:?}",
        bad.headers
    );

    // Without a token nothing is written, whatever the body.
    let create = d
        .call(
            reqwest::Method::POST,
            &format!("/parties/{PUBLISHER}/oidc-clients"),
            None,
            Some((
                "application/json",
                code_client("rp-sneaky").to_string().into_bytes(),
            )),
        )
        .await;
    assert_eq!(create.status, 401);
    let upload = d
        .call(
            reqwest::Method::POST,
            "/schools/99ZZ01/edexml",
            None,
            Some(("application/xml", complete_edexml().into_bytes())),
        )
        .await;
    assert_eq!(upload.status, 401);
    let token = d.admin_token().await;
    assert!(
        !d.client_ids(PUBLISHER, &token)
            .await
            .contains(&"rp-sneaky".to_owned())
    );
    let dry = d.upload("99ZZ01", true, &token, &complete_edexml()).await;
    assert_ne!(
        dry.body["pupils"]["added"],
        json!([]),
        "nothing was imported: {}",
        dry.body
    );

    // A token that expired or was revoked is refused like an unknown one.
    let revoked = d.admin_token().await;
    let r = d
        .http
        .post(d.url("/oidc/revoke"))
        .basic_auth(ADMIN, Some(&d.admin_secret))
        .form(&[("token", revoked.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let after = d.get("/oidc-clients/rp-anything", &revoked).await;
    assert_eq!((after.status, after.problem()), (401, "unauthorized"));

    // The document is public, and an unknown route answers as the API does.
    let doc = d
        .call(reqwest::Method::GET, "/openapi.json", None, None)
        .await;
    assert_eq!(doc.status, 200);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3.1."));
    assert_eq!(
        doc.body["servers"][0]["url"],
        format!("{}/api/v1", "http://localhost:8080"),
        "the served document names the configured public URL"
    );
    let unknown = d.get("/no-such-thing", &token).await;
    assert_eq!((unknown.status, unknown.problem()), (404, "not-found"));
    let patch = d
        .call(
            reqwest::Method::PATCH,
            "/oidc-clients/rp-anything",
            Some(&token),
            None,
        )
        .await;
    assert_eq!((patch.status, patch.problem()), (405, "method-not-allowed"));
}

#[tokio::test]
async fn admin_api_refuses_tokens_without_the_admin_scope() {
    let d = demo();
    let roster_secret = d
        .add_client(
            PUBLISHER,
            "rp-roster-sync",
            &["--grant", "client_credentials", "--scope", "school"],
        )
        .unwrap();
    let roster = d
        .client_credentials("rp-roster-sync", &roster_secret, "school")
        .await;
    // The admin client itself, without asking for the scope.
    let (status, body) = d
        .token(
            &[("grant_type", "client_credentials")],
            ADMIN,
            &d.admin_secret,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let unscoped = body["access_token"].as_str().unwrap().to_owned();

    for token in [&roster, &unscoped] {
        let a = d
            .get(&format!("/parties/{PUBLISHER}/oidc-clients"), token)
            .await;
        assert_eq!((a.status, a.problem()), (403, "insufficient-scope"));
        assert_eq!(
            a.header("www-authenticate"),
            Some(
                "Bearer realm=\"openpoort\", error=\"insufficient_scope\", scope=\"openpoort:admin\""
            )
        );
        let upload = d.upload("99ZZ01", false, token, &complete_edexml()).await;
        assert_eq!(upload.status, 403);
    }
    // A client without the scope cannot get it either.
    let (status, body) = d
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("scope", "openpoort:admin"),
            ],
            "rp-roster-sync",
            &roster_secret,
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );

    // Nothing was imported by the refused uploads.
    let admin = d.admin_token().await;
    let dry = d.upload("99ZZ01", true, &admin, &complete_edexml()).await;
    assert_eq!(dry.status, 200, "{}", dry.body);
    assert_ne!(dry.body["groups"]["added"], json!([]));

    // An admin client cannot hand out admin access: only the operator can.
    let mut minted = json!({
        "client_id": "tweede-beheer",
        "name": "Tweede beheer",
        "redirect_uris": [],
        "grant_types": ["client_credentials"],
        "scopes": ["openpoort:admin"],
        "token_endpoint_auth_method": "client_secret_basic",
    });
    let refused = d
        .send_json(
            reqwest::Method::POST,
            "/parties/beheer/oidc-clients",
            &admin,
            &minted,
        )
        .await;
    assert_eq!(
        (refused.status, refused.problem()),
        (403, "admin-scope-reserved")
    );
    minted["scopes"] = json!(["school"]);
    let roster_only = d
        .send_json(
            reqwest::Method::POST,
            "/parties/beheer/oidc-clients",
            &admin,
            &minted,
        )
        .await;
    assert_eq!(roster_only.status, 201, "{}", roster_only.body);
    minted["scopes"] = json!(["school", "openpoort:admin"]);
    let raised = d
        .send_json(
            reqwest::Method::PUT,
            "/oidc-clients/tweede-beheer",
            &admin,
            &minted,
        )
        .await;
    assert_eq!(
        (raised.status, raised.problem()),
        (403, "admin-scope-reserved")
    );
    let kept = d.get("/oidc-clients/tweede-beheer", &admin).await;
    assert_eq!(kept.body["scopes"], json!(["school"]));
}

/// A leaked ten-minute admin token must not become lasting access: no new secret for, nor
/// replacement of, a client that holds the admin scope (its own or another operator's).
#[tokio::test]
async fn admin_token_cannot_rekey_or_replace_an_admin_client() {
    let d = demo();
    let colleague_secret = d
        .add_client(
            "beheer",
            "tweede-beheerder",
            &[
                "--grant",
                "client_credentials",
                "--scope",
                "openpoort:admin",
            ],
        )
        .expect("a secret for the second admin client");
    let admin = d.admin_token().await;
    for target in [ADMIN, "tweede-beheerder"] {
        let rekeyed = d
            .call(
                reqwest::Method::POST,
                &format!("/oidc-clients/{target}/secret"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(
            (rekeyed.status, rekeyed.problem()),
            (403, "admin-scope-reserved"),
            "{target}: {}",
            rekeyed.body
        );
        assert!(rekeyed.body.get("client_secret").is_none());
        let mut shown = d.get(&format!("/oidc-clients/{target}"), &admin).await;
        assert_eq!(shown.status, 200, "{}", shown.body);
        shown.body["name"] = json!("Overgenomen");
        let replaced = d
            .send_json(
                reqwest::Method::PUT,
                &format!("/oidc-clients/{target}"),
                &admin,
                &shown.body,
            )
            .await;
        assert_eq!(
            (replaced.status, replaced.problem()),
            (403, "admin-scope-reserved"),
            "{target}: {}",
            replaced.body
        );
    }
    // Both keep their registration and their one secret, which still works.
    d.admin_token().await;
    d.client_credentials("tweede-beheerder", &colleague_secret, "openpoort:admin")
        .await;
    let kept = d.get("/oidc-clients/tweede-beheerder", &admin).await;
    assert_eq!(kept.status, 200, "{}", kept.body);
    assert_ne!(kept.body["name"], json!("Overgenomen"));
}

#[tokio::test]
async fn admin_scope_cannot_be_requested_in_the_authorization_code_flow() {
    let d = demo();
    // Not registrable for a code-flow client, on the command line…
    let out = run(openpoort(d.dir.path()).args([
        "client",
        "add",
        "--party",
        PUBLISHER,
        "--client-id",
        "rp-greedy",
        "--name",
        "Greedy",
        "--redirect-uri",
        REDIRECT,
        "--scope",
        "openid",
        "--scope",
        "openpoort:admin",
    ]));
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("API-scope") && err.contains("API scope"),
        "{err}"
    );

    // …nor with client credentials next to the code flow.
    let out = run(openpoort(d.dir.path()).args([
        "client",
        "add",
        "--party",
        PUBLISHER,
        "--client-id",
        "rp-greedy",
        "--name",
        "Greedy",
        "--redirect-uri",
        REDIRECT,
        "--grant",
        "authorization_code",
        "--grant",
        "client_credentials",
        "--scope",
        "openid",
        "--scope",
        "openpoort:admin",
    ]));
    assert!(!out.status.success(), "{}", text(&out.stdout));

    // A code-flow client asking for it in an authorization request gets invalid_scope, and
    // the admin client cannot use the code flow at all.
    d.add_client(PUBLISHER, "rp-rekenen", &["--redirect-uri", REDIRECT]);
    let mut b = bram_signed_in(&d).await;
    for (client, error) in [("rp-rekenen", "invalid_scope"), (ADMIN, "")] {
        let (_, challenge) = pkce();
        let url = authorize_url(
            &d,
            &[
                ("response_type", "code"),
                ("client_id", client),
                ("redirect_uri", REDIRECT),
                ("scope", "openid openpoort:admin"),
                ("state", "st"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        );
        let page = b.get(&url).await;
        let location = page.location().unwrap_or_default().to_owned();
        if client == ADMIN {
            // It has no redirect URI to send a code (or an error) to: an error page instead.
            assert_eq!(page.status, 400, "{location} {}", page.body);
            assert!(location.is_empty(), "{location}");
        } else {
            assert!(
                location.starts_with(REDIRECT) && location.contains(&format!("error={error}")),
                "{client}: {} {location}",
                page.status
            );
            assert!(!location.contains("code="), "{location}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// OIDC clients

async fn log_in_as_bram(b: &mut Browser) -> Page {
    let form = b.get("/inloggen").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let index = form.body[..form.body.find("action=\"/inloggen\"").unwrap()]
        .matches("<form")
        .count()
        - 1;
    b.submit_form(
        &form,
        index,
        &[("email", BRAM), ("password", BRAM_PASSWORD)],
    )
    .await
}

/// Bram signs in and picks 99ZZ00.
async fn bram_signed_in(d: &Demo) -> Browser {
    let mut b = Browser::new(&d.server.base);
    let done = log_in_as_bram(&mut b).await;
    assert_eq!(done.location(), Some("/school-kiezen"), "{}", done.body);
    let page = b.get("/school-kiezen").await;
    let at = page.body.find("(99ZZ00)").expect("99ZZ00 offered");
    let marker = "name=\"school_id\" value=\"";
    let i = page.body[..at].rfind(marker).unwrap() + marker.len();
    let school_id = page.body[i..i + page.body[i..].find('"').unwrap()].to_owned();
    let index = page.body[..page.body.find("name=\"school_id\"").unwrap()]
        .matches("<form")
        .count()
        - 1;
    let chosen = b
        .submit_form(&page, index, &[("school_id", &school_id)])
        .await;
    assert_eq!(chosen.location(), Some("/"), "{}", chosen.body);
    b
}

fn pkce() -> (String, String) {
    let verifier = format!(
        "{}-{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = URL_SAFE_NO_PAD.encode(openssl::sha::sha256(verifier.as_bytes()));
    (verifier, challenge)
}

fn authorize_url(d: &Demo, params: &[(&str, &str)]) -> String {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    d.url(&format!("/oidc/authorize?{q}"))
}

/// Bram's tokens for `client_id` through the code flow with PKCE.
async fn code_flow(d: &Demo, client_id: &str, secret: &str) -> Value {
    let mut b = bram_signed_in(d).await;
    let (verifier, challenge) = pkce();
    let page = b
        .get(&authorize_url(
            d,
            &[
                ("response_type", "code"),
                ("client_id", client_id),
                ("redirect_uri", REDIRECT),
                ("scope", "openid profile"),
                ("state", "st-1"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        ))
        .await;
    let location = page
        .location()
        .unwrap_or_else(|| panic!("no redirect ({}): {}", page.status, page.body));
    let query: std::collections::HashMap<String, String> = url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    let code = query
        .get("code")
        .unwrap_or_else(|| panic!("no code: {location}"));
    let (status, body) = d
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &verifier),
            ],
            client_id,
            secret,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn userinfo_status(d: &Demo, token: &str) -> u16 {
    d.http
        .get(d.url("/oidc/userinfo"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn registered_client_can_complete_a_code_flow() {
    let d = demo();
    let admin = d.admin_token().await;
    let created = d
        .send_json(
            reqwest::Method::POST,
            &format!("/parties/{PUBLISHER}/oidc-clients"),
            &admin,
            &code_client("rp-via-api"),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(
        created
            .header("location")
            .unwrap()
            .ends_with("/api/v1/oidc-clients/rp-via-api")
    );
    let secret = created.body["client_secret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 43, "a 256-bit secret");
    assert_eq!(
        created.body["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    let party_id = created.body["party_id"].as_str().unwrap().to_owned();

    // The registration reads back without the secret, by party id and by party code, and the
    // operator's listing sees it too.
    let shown = d.get("/oidc-clients/rp-via-api", &admin).await;
    assert_eq!(shown.status, 200);
    assert!(shown.body.get("client_secret").is_none(), "{}", shown.body);
    assert!(
        !shown.body.to_string().contains("secret_hash"),
        "{}",
        shown.body
    );
    assert_eq!(shown.body["party_id"], party_id.as_str());
    assert!(
        d.client_ids(&party_id, &admin)
            .await
            .contains(&"rp-via-api".to_owned())
    );
    assert!(
        d.cli(&["client", "list", "--party", PUBLISHER])
            .contains("rp-via-api")
    );

    let tokens = code_flow(&d, "rp-via-api", &secret).await;
    assert!(tokens["id_token"].is_string() && tokens["refresh_token"].is_string());
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(userinfo_status(&d, access).await, 200);
    // A user's access token is no admin token.
    let as_user = d.get("/oidc-clients/rp-via-api", access).await;
    assert_eq!(
        (as_user.status, as_user.problem()),
        (403, "insufficient-scope")
    );

    // A replaced registration takes effect at once: without refresh_token there is no
    // refresh token, and the secret stays.
    let mut changed = code_client("rp-via-api");
    changed["grant_types"] = json!(["authorization_code"]);
    changed["name"] = json!("Rekenrijk 2");
    let replaced = d
        .send_json(
            reqwest::Method::PUT,
            "/oidc-clients/rp-via-api",
            &admin,
            &changed,
        )
        .await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert!(replaced.body.get("client_secret").is_none());
    let again = code_flow(&d, "rp-via-api", &secret).await;
    assert!(again.get("refresh_token").is_none(), "{again}");

    // Rotation: the new secret is shown once, the old one stops working.
    let rotated = d
        .call(
            reqwest::Method::POST,
            "/oidc-clients/rp-via-api/secret",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let fresh = rotated.body["client_secret"].as_str().unwrap().to_owned();
    let (status, _) = d
        .token(
            &[("grant_type", "refresh_token"), ("refresh_token", "x")],
            "rp-via-api",
            &secret,
        )
        .await;
    assert_eq!(status, 401, "the old secret no longer authenticates");
    code_flow(&d, "rp-via-api", &fresh).await;
    // A public client has no secret to rotate.
    let mut public = code_client("rp-public-app");
    public["token_endpoint_auth_method"] = json!("none");
    public["grant_types"] = json!(["authorization_code"]);
    let p = d
        .send_json(
            reqwest::Method::POST,
            &format!("/parties/{PUBLISHER}/oidc-clients"),
            &admin,
            &public,
        )
        .await;
    assert_eq!(p.status, 201, "{}", p.body);
    assert!(p.body.get("client_secret").is_none());
    let none = d
        .call(
            reqwest::Method::POST,
            "/oidc-clients/rp-public-app/secret",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!((none.status, none.problem()), (409, "conflict"));
}

#[tokio::test]
async fn rejected_registration_changes_nothing() {
    let d = demo();
    let admin = d.admin_token().await;
    let path = format!("/parties/{PUBLISHER}/oidc-clients");
    let before = d.client_ids(PUBLISHER, &admin).await;

    let mut not_https = code_client("rp-refused");
    not_https["redirect_uris"] = json!([REDIRECT, "http://example.org/cb"]);
    let a = d
        .send_json(reqwest::Method::POST, &path, &admin, &not_https)
        .await;
    assert_eq!((a.status, a.problem()), (422, "validation"));
    assert_eq!(a.body["errors"][0]["field"], "redirect_uris[1]");
    assert_eq!(a.body["errors"][0]["pointer"], "/redirect_uris/1");
    assert!(
        a.body["detail"]
            .as_str()
            .unwrap()
            .contains("moet https gebruiken"),
        "Dutch first: {}",
        a.body
    );
    assert!(
        a.body["detail_en"]
            .as_str()
            .unwrap()
            .contains("must use https")
    );

    let mut typo = code_client("rp-refused");
    typo["backchannel_logout_url"] = json!("https://example.org/logout");
    let b = d
        .send_json(reqwest::Method::POST, &path, &admin, &typo)
        .await;
    assert_eq!((b.status, b.problem()), (422, "validation"));
    assert_eq!(b.body["errors"][0]["field"], "backchannel_logout_url");

    let mut other_party = code_client("rp-refused");
    other_party["party_id"] = json!("some-other-party");
    let c = d
        .send_json(reqwest::Method::POST, &path, &admin, &other_party)
        .await;
    assert_eq!((c.status, c.problem()), (422, "validation"));

    let mut missing = code_client("rp-refused");
    missing.as_object_mut().unwrap().remove("grant_types");
    let e = d
        .send_json(reqwest::Method::POST, &path, &admin, &missing)
        .await;
    assert_eq!((e.status, e.problem()), (422, "validation"));
    assert!(
        e.body["detail_en"]
            .as_str()
            .unwrap()
            .contains("grant_types"),
        "{}",
        e.body
    );

    let not_json = d
        .call(
            reqwest::Method::POST,
            &path,
            Some(&admin),
            Some(("application/json", b"{\"client_id\": ".to_vec())),
        )
        .await;
    assert_eq!((not_json.status, not_json.problem()), (400, "bad-request"));
    let form = d
        .call(
            reqwest::Method::POST,
            &path,
            Some(&admin),
            Some(("application/x-www-form-urlencoded", b"client_id=x".to_vec())),
        )
        .await;
    assert_eq!(
        (form.status, form.problem()),
        (415, "unsupported-media-type")
    );
    let (status, head, body) = d
        .announce_body(&path, &admin, "application/json", 65 * 1024)
        .await;
    assert_eq!(status, 413, "{head}");
    assert!(head.contains("connection: close"), "{head}");
    assert_eq!(body["type"], "urn:openpoort:problem:payload-too-large");
    let unknown_party = d
        .send_json(
            reqwest::Method::POST,
            "/parties/no-such-party/oidc-clients",
            &admin,
            &code_client("rp-refused"),
        )
        .await;
    assert_eq!(
        (unknown_party.status, unknown_party.problem()),
        (404, "not-found")
    );

    assert_eq!(
        d.client_ids(PUBLISHER, &admin).await,
        before,
        "nothing registered"
    );
    assert_eq!(d.get("/oidc-clients/rp-refused", &admin).await.status, 404);

    // A taken client id, and a bad replacement, leave the existing client as it was.
    let first = d
        .send_json(
            reqwest::Method::POST,
            &path,
            &admin,
            &code_client("rp-existing"),
        )
        .await;
    assert_eq!(first.status, 201);
    let mut clash = code_client("rp-existing");
    clash["name"] = json!("Imposter");
    let taken = d
        .send_json(reqwest::Method::POST, &path, &admin, &clash)
        .await;
    assert_eq!((taken.status, taken.problem()), (409, "conflict"));
    let mut bad = code_client("rp-existing");
    bad["scopes"] = json!(["profile"]);
    let refused = d
        .send_json(
            reqwest::Method::PUT,
            "/oidc-clients/rp-existing",
            &admin,
            &bad,
        )
        .await;
    assert_eq!((refused.status, refused.problem()), (422, "validation"));
    assert_eq!(refused.body["errors"][0]["field"], "scopes");
    let mut renamed = code_client("rp-other-id");
    renamed["name"] = json!("Imposter");
    let moved = d
        .send_json(
            reqwest::Method::PUT,
            "/oidc-clients/rp-existing",
            &admin,
            &renamed,
        )
        .await;
    assert_eq!((moved.status, moved.problem()), (422, "validation"));
    let now = d.get("/oidc-clients/rp-existing", &admin).await;
    assert_eq!(now.body["name"], "Rekenrijk");
    assert_eq!(now.body["scopes"], json!(["openid", "profile"]));
    // And the secret still works.
    let secret = first.body["client_secret"].as_str().unwrap();
    code_flow(&d, "rp-existing", secret).await;
}

#[tokio::test]
async fn deleted_client_tokens_stop_working() {
    let d = demo();
    let admin = d.admin_token().await;
    let created = d
        .send_json(
            reqwest::Method::POST,
            &format!("/parties/{PUBLISHER}/oidc-clients"),
            &admin,
            &code_client("rp-short-lived"),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let secret = created.body["client_secret"].as_str().unwrap().to_owned();
    let tokens = code_flow(&d, "rp-short-lived", &secret).await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(userinfo_status(&d, access).await, 200);

    let deleted = d
        .call(
            reqwest::Method::DELETE,
            "/oidc-clients/rp-short-lived",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert_eq!(userinfo_status(&d, access).await, 401, "access token ended");
    let (status, _) = d
        .token(
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
            "rp-short-lived",
            &secret,
        )
        .await;
    assert_eq!(status, 401, "the client no longer exists");
    assert_eq!(
        d.get("/oidc-clients/rp-short-lived", &admin).await.status,
        404
    );
    let twice = d
        .call(
            reqwest::Method::DELETE,
            "/oidc-clients/rp-short-lived",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!((twice.status, twice.problem()), (404, "not-found"));

    // Registered again under the same id, the client gets none of the old one's tokens.
    let again = d
        .send_json(
            reqwest::Method::POST,
            &format!("/parties/{PUBLISHER}/oidc-clients"),
            &admin,
            &code_client("rp-short-lived"),
        )
        .await;
    assert_eq!(again.status, 201);
    let new_secret = again.body["client_secret"].as_str().unwrap();
    let (status, body) = d
        .token(
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
            "rp-short-lived",
            new_secret,
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    assert_eq!(userinfo_status(&d, access).await, 401);

    // The admin client deleting itself ends its own token too.
    let gone = d
        .call(
            reqwest::Method::DELETE,
            &format!("/oidc-clients/{ADMIN}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(gone.status, 204);
    let after = d
        .get(&format!("/parties/{PUBLISHER}/oidc-clients"), &admin)
        .await;
    assert_eq!((after.status, after.problem()), (401, "unauthorized"));
}

// ---------------------------------------------------------------------------------------------
// EDEXML

#[tokio::test]
async fn edexml_dry_run_changes_nothing() {
    let d = demo();
    d.cli(&[
        "ip-range",
        "add",
        "--school",
        "99ZZ01",
        "--cidr",
        "127.0.0.0/8",
    ]);
    let admin = d.admin_token().await;
    let file = complete_edexml();
    let first = d.upload("99ZZ01", true, &admin, &file).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["dry_run"], true);
    assert_eq!(first.body["applied"], false);
    assert_eq!(first.body["school"], "99ZZ01");
    assert_eq!(
        first.body["activation_mails"],
        json!({"sent": 0, "failed": 0})
    );
    let groups = &first.body["groups"]["added"];
    assert!(groups.as_array().unwrap().len() >= 2, "{}", first.body);
    assert_eq!(
        first.body["to_invite"].as_array().unwrap().len(),
        1,
        "{}",
        first.body
    );

    // Nothing is visible, nobody is mailed, and a second dry run foresees the same.
    let page = shortcut_groups(&d, "99ZZ01").await;
    assert!(
        !page.body.contains("Plusgroep rekenen") && !page.body.contains(">8B<"),
        "{}",
        page.body
    );
    assert!(
        d.outbox()
            .iter()
            .all(|m| !m.to_lowercase().contains("j.vanbemmel"))
    );
    let second = d.upload("99ZZ01", true, &admin, &file).await;
    for kind in ["groups", "pupils", "staff"] {
        assert_eq!(second.body[kind], first.body[kind], "{kind}");
    }
    let log = d.cli(&["audit", "list", "--school", "99ZZ01"]);
    assert!(
        log.lines()
            .any(|l| l.contains("import.dry_run") && l.contains(&format!("api:{ADMIN}"))),
        "{log}"
    );
    assert!(!log.contains("import.apply"), "{log}");
}

#[tokio::test]
async fn edexml_upload_applies_whole_and_is_visible_at_once() {
    let d = demo();
    d.cli(&[
        "ip-range",
        "add",
        "--school",
        "99ZZ01",
        "--cidr",
        "127.0.0.0/8",
    ]);
    let admin = d.admin_token().await;
    let file = complete_edexml();
    let foreseen = d.upload("99ZZ01", true, &admin, &file).await;
    // By code or by id: the school's id from the answer names the same location.
    let school_id = foreseen.body["school_id"].as_str().unwrap().to_owned();
    let applied = d.upload(&school_id, false, &admin, &file).await;
    assert_eq!(applied.status, 200, "{}", applied.body);
    assert_eq!(applied.body["applied"], true);
    for kind in ["groups", "pupils", "staff"] {
        assert_eq!(
            applied.body[kind], foreseen.body[kind],
            "{kind}: the dry run foretold it"
        );
    }
    assert_eq!(applied.body["memberships"], foreseen.body["memberships"]);
    assert!(
        applied.body["memberships"]["added"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["kind"] == "pupil" && m["group"] == "PLUS"),
        "{}",
        applied.body
    );
    assert_eq!(
        applied.body["activation_mails"],
        json!({"sent": 1, "failed": 0})
    );

    // At once: the pupils' shortcut shows the groups, and the new teacher has a mail.
    let page = shortcut_groups(&d, "99ZZ01").await;
    assert!(
        page.body.contains("Plusgroep rekenen") && page.body.contains(">8B<"),
        "{}",
        page.body
    );
    let mails = d.outbox();
    assert!(
        mails
            .iter()
            .any(|m| m.to_lowercase().contains("j.vanbemmel") && m.contains("/activeren?token=")),
        "{mails:?}"
    );
    let log = d.cli(&["audit", "list", "--school", "99ZZ01"]);
    assert!(
        log.lines()
            .any(|l| l.contains("import.apply") && l.contains(&format!("api:{ADMIN}"))),
        "{log}"
    );

    // The same file again changes nothing and mails nobody.
    let again = d.upload("99ZZ01", false, &admin, &file).await;
    assert_eq!(
        again.body["memberships"],
        json!({"added": [], "removed": []})
    );
    for kind in ["groups", "pupils", "staff"] {
        assert_eq!(
            again.body[kind],
            json!({"added": [], "changed": [], "removed": []}),
            "{kind}"
        );
    }
    assert_eq!(d.outbox().len(), mails.len());
}

#[tokio::test]
async fn edexml_with_errors_reports_every_problem_and_changes_nothing() {
    let d = demo();
    let admin = d.admin_token().await;
    let file = complete_edexml();
    let broken = file
        .replacen("<jaargroep>8</jaargroep>", "<jaargroep>9</jaargroep>", 1)
        .replacen(
            "<schooljaar>2025-2026</schooljaar>",
            "<schooljaar>2025-2027</schooljaar>",
            1,
        );
    assert_ne!(broken, file);
    let answer = d.upload("99ZZ01", false, &admin, &broken).await;
    assert_eq!((answer.status, answer.problem()), (422, "edexml"));
    let errors = answer.body["errors"].as_array().unwrap();
    assert!(errors.len() >= 2, "every problem at once: {}", answer.body);
    let line_of = |needle: &str| broken.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let mut lines: Vec<u64> = errors.iter().map(|e| e["line"].as_u64().unwrap()).collect();
    lines.sort();
    for needle in ["<schooljaar>2025-2027", "<jaargroep>9<"] {
        assert!(
            lines.contains(&(line_of(needle) as u64)),
            "{needle} at line {}: {}",
            line_of(needle),
            answer.body
        );
    }
    for e in errors {
        for field in ["column", "line"] {
            assert!(e[field].as_u64().unwrap() >= 1, "{e}");
        }
        for field in ["path", "rule", "detail", "detail_en"] {
            assert!(!e[field].as_str().unwrap().is_empty(), "{e}");
        }
        assert!(e["path"].as_str().unwrap().starts_with("/EDEX/"), "{e}");
    }

    // A valid file of another location is refused too.
    let elsewhere = d.upload("99ZZ00", false, &admin, &file).await;
    assert_eq!(
        (elsewhere.status, elsewhere.problem()),
        (422, "wrong-school")
    );
    assert!(
        elsewhere.body["detail"]
            .as_str()
            .unwrap()
            .contains("99ZZ01")
    );
    // Neither a file over the import limit (1 MiB here) nor another media type is read.
    let (status, head, body) = d
        .announce_body(
            "/schools/99ZZ01/edexml",
            &admin,
            "application/xml",
            1024 * 1024 + 1,
        )
        .await;
    assert_eq!(status, 413, "{head}");
    assert_eq!(body["type"], "urn:openpoort:problem:payload-too-large");
    assert!(body["detail"].as_str().unwrap().contains("1 MiB"), "{body}");
    let plain = d
        .call(
            reqwest::Method::POST,
            "/schools/99ZZ01/edexml",
            Some(&admin),
            Some(("text/plain", file.clone().into_bytes())),
        )
        .await;
    assert_eq!(
        (plain.status, plain.problem()),
        (415, "unsupported-media-type")
    );
    let unknown = d.upload("12AB00", false, &admin, &file).await;
    assert_eq!((unknown.status, unknown.problem()), (404, "not-found"));
    let bad_flag = d
        .call(
            reqwest::Method::POST,
            "/schools/99ZZ01/edexml?dry_run=maybe",
            Some(&admin),
            Some(("application/xml", file.clone().into_bytes())),
        )
        .await;
    assert_eq!((bad_flag.status, bad_flag.problem()), (400, "bad-request"));

    // Nothing of it landed: a dry run of the good file still adds everything.
    let dry = d.upload("99ZZ01", true, &admin, &file).await;
    assert_eq!(dry.status, 200);
    assert!(
        !dry.body["pupils"]["added"].as_array().unwrap().is_empty(),
        "{}",
        dry.body
    );
    assert!(
        d.outbox()
            .iter()
            .all(|m| !m.to_lowercase().contains("j.vanbemmel"))
    );
    let log = d.cli(&["audit", "list", "--school", "99ZZ01"]);
    assert!(!log.contains("import.apply"), "{log}");
}

fn sp_metadata(acs: &str) -> String {
    format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.rekenrijk.example/saml"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{acs}" index="0"/></md:SPSSODescriptor></md:EntityDescriptor>"#
    )
}

#[tokio::test]
async fn saml_service_provider_is_registered_read_and_removed_through_the_api() {
    let d = demo();
    let admin = d.admin_token().await;
    let path = format!("/parties/{PUBLISHER}/saml-sps");
    let created = d
        .send_json(
            reqwest::Method::POST,
            &path,
            &admin,
            &json!({"metadata": sp_metadata("http://127.0.0.1:9/acs"), "sign_response": true}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        created.body["entity_id"],
        "https://sp.rekenrijk.example/saml"
    );
    assert_eq!(created.body["sign_response"], true);
    let item = "/saml-sps/https%3A%2F%2Fsp.rekenrijk.example%2Fsaml";
    assert!(created.header("location").unwrap().ends_with(item));
    let shown = d.get(item, &admin).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert_eq!(shown.body["acs"][0]["location"], "http://127.0.0.1:9/acs");
    let listed = d.get(&path, &admin).await;
    assert_eq!(listed.body["saml_sps"].as_array().unwrap().len(), 1);
    // The same entity again: a conflict, nothing changes.
    let again = d
        .send_json(
            reqwest::Method::POST,
            &path,
            &admin,
            &json!({"metadata": sp_metadata("http://127.0.0.1:9/other")}),
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(
        d.get(item, &admin).await.body["acs"][0]["location"],
        "http://127.0.0.1:9/acs"
    );

    let deleted = d
        .call(reqwest::Method::DELETE, item, Some(&admin), None)
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert_eq!(d.get(item, &admin).await.status, 404);
}

#[tokio::test]
async fn saml_metadata_that_breaks_a_rule_is_refused_and_changes_nothing() {
    let d = demo();
    let admin = d.admin_token().await;
    let path = format!("/parties/{PUBLISHER}/saml-sps");
    let bomb = format!(
        "<!DOCTYPE r [<!ENTITY a \"x\">]>{}",
        sp_metadata("http://127.0.0.1:9/acs")
    );
    for (body, why) in [
        (json!({"metadata": bomb}), "DOCTYPE"),
        (
            json!({"metadata": sp_metadata("http://sp.example/acs")}),
            "plain http to a public host",
        ),
        (json!({"metadata": "<md:EntityDescriptor"}), "not XML"),
        (
            json!({"metadata": sp_metadata("http://127.0.0.1:9/acs"), "metadata_url": "https://x.example/md"}),
            "both sources",
        ),
    ] {
        let refused = d
            .send_json(reqwest::Method::POST, &path, &admin, &body)
            .await;
        assert_eq!(refused.status, 422, "{why}: {}", refused.body);
        assert_eq!(refused.problem(), "validation", "{why}");
    }
    assert!(
        d.get(&path, &admin).await.body["saml_sps"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}
