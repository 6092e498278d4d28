//! The real router in process, shared by the in-process test files: the state `openpoort demo`
//! builds (a temporary SQLite register with the demo data, the in-memory session store,
//! generated keys), driven as a tower service with the client address set per test, and a
//! browser that keeps cookies between requests.

#![allow(dead_code)]

pub mod publisher;
pub mod softkey;

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

use idp::app_state::AppState;
use idp::config::Config;
use idp::demo::Seeded;

pub struct Demo {
    pub router: Router,
    pub seeded: Seeded,
    pub directory: directory::Directory,
    pub state: AppState,
    client: SocketAddr,
    config: Config,
    _data: tempfile::TempDir,
}

/// The demo's state and router, with every request coming from `client`.
pub async fn demo_from(client: &str) -> Demo {
    demo_with(client, &[]).await
}

/// As [`demo_from`], with settings of its own (environment variables).
pub async fn demo_with(client: &str, settings: &[(&str, &str)]) -> Demo {
    let data = tempfile::tempdir().expect("temporary folder");
    let mut env = vec![
        ("OPENPOORT_SERVER_MODE".to_owned(), "development".to_owned()),
        (
            "OPENPOORT_STORAGE_DATA_DIR".to_owned(),
            data.path().display().to_string(),
        ),
        ("OPENPOORT_SESSIONS_STORE".to_owned(), "memory".to_owned()),
    ];
    env.extend(settings.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = Config::load(None, env).expect("configuration");
    let state = idp::app::build_state(&config).await.expect("state");
    let seeded = idp::demo::seed(&state).await.expect("demo data");
    let client: SocketAddr = client.parse().expect("client address");
    Demo {
        directory: state.directory.clone(),
        router: idp::server::router(state.clone()).layer(MockConnectInfo(client)),
        state,
        seeded,
        client,
        config,
        _data: data,
    }
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Demo {
    /// A party of the demo by its code (the demo's publisher is `demo-uitgeverij`).
    pub async fn party(&self, code: &str) -> directory::parties::Party {
        self.directory
            .party_by_code(code)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no party {code}"))
    }

    /// The demo school withdraws its consent to the party `code`.
    pub async fn withdraw_consent(&self, code: &str) {
        let party = self.party(code).await;
        self.directory
            .revoke_consent(
                &self.seeded.school.id,
                &party.id,
                &directory::Actor::system("test"),
            )
            .await
            .unwrap();
    }

    pub async fn send(&self, request: Request<Body>) -> Answer {
        self.send_to(self.router.clone(), request).await
    }

    /// As [`Demo::send`], through `router` (another node's).
    pub async fn send_to(&self, router: Router, request: Request<Body>) -> Answer {
        let response = router.oneshot(request).await.expect("the router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    pub async fn post_form(&self, path: &str, form: &str) -> Answer {
        self.send(
            Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form.to_owned()))
                .unwrap(),
        )
        .await
    }

    /// The mails written to the demo's outbox so far (the development transport), oldest first.
    pub fn outbox(&self) -> Vec<String> {
        let Ok(dir) = std::fs::read_dir(self._data.path().join("outbox")) else {
            return Vec::new();
        };
        let mut files: Vec<_> = dir
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| std::fs::read_to_string(p).expect("a mail"))
            .collect()
    }

    /// The same register and keys behind a new router whose short-lived state store starts
    /// empty, as after a flushed or lost Redis.
    /// (Another node started on the same configuration, with a memory store of its own.)
    pub async fn with_empty_state_store(&self) -> Router {
        let state = idp::app::build_state(&self.config).await.expect("state");
        idp::server::router(state).layer(MockConnectInfo(self.client))
    }

    pub fn shortcut(&self) -> String {
        format!("/s/{}", self.seeded.school.instelling_ref)
    }

    /// A browser with no cookies yet, whose requests come from the demo's own client address.
    pub fn browser(&self) -> Browser<'_> {
        Browser {
            demo: self,
            from: None,
            via: None,
            cookies: Vec::new(),
        }
    }

    /// A browser with no cookies yet whose requests go to `router` (another node's).
    pub fn browser_via(&self, router: Router) -> Browser<'_> {
        Browser {
            via: Some(router),
            ..self.browser()
        }
    }

    /// A browser whose requests come from `address` (a peer of its own, over the demo's).
    pub fn browser_at(&self, address: &str) -> Browser<'_> {
        Browser {
            from: Some(address.parse().expect("client address")),
            ..self.browser()
        }
    }
}

impl Answer {
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    /// Every `attribute="…"` value in the page that starts with `prefix`, unescaped.
    pub fn links(&self, attribute: &str, prefix: &str) -> Vec<String> {
        self.body
            .split(&format!("{attribute}=\""))
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .map(|v| v.replace("&#x2f;", "/").replace("&amp;", "&"))
            .filter(|v| v.starts_with(prefix))
            .collect()
    }
}

/// Cookies kept between requests, as a browser keeps them (no domains or expiry: one site).
pub struct Browser<'a> {
    demo: &'a Demo,
    from: Option<SocketAddr>,
    via: Option<Router>,
    pub cookies: Vec<(String, String)>,
}

impl Browser<'_> {
    pub async fn send(&mut self, mut request: Request<Body>) -> Answer {
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect();
            request
                .headers_mut()
                .insert(header::COOKIE, jar.join("; ").parse().unwrap());
        }
        if let Some(from) = self.from {
            request.extensions_mut().insert(ConnectInfo(from));
        }
        let answer = match &self.via {
            Some(router) => self.demo.send_to(router.clone(), request).await,
            None => self.demo.send(request).await,
        };
        for set in answer.headers.get_all(header::SET_COOKIE) {
            let set = set.to_str().expect("cookie text");
            let (name, value) = set
                .split(';')
                .next()
                .and_then(|pair| pair.split_once('='))
                .expect("name=value");
            self.cookies.retain(|(n, _)| n != name);
            if !set.contains("Max-Age=0") {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
        answer
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.send(
            Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    /// This browser's CSRF token: the double-submit cookie a page set (a form page first).
    pub fn csrf(&self) -> String {
        self.cookies
            .iter()
            .find(|(n, _)| n.contains("csrf"))
            .map(|(_, v)| v.clone())
            .expect("a page set the CSRF cookie")
    }

    /// Posts a form of openpoort's, with this browser's CSRF token.
    pub async fn submit(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let csrf = self.csrf();
        let mut all = fields.to_vec();
        all.push(("csrf", &csrf));
        self.post(path, &all).await
    }

    pub fn has_session(&self) -> bool {
        self.cookies.iter().any(|(n, _)| n.ends_with("openpoort"))
    }

    /// A request posting `fields` with this browser's cookies and CSRF token, to send on its
    /// own (several at the same moment, through [`Demo::router`]).
    pub fn form_request(&self, path: &str, fields: &[(&str, &str)]) -> Request<Body> {
        let csrf = self.csrf();
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .append_pair("csrf", &csrf)
            .finish();
        let jar: Vec<String> = self
            .cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, jar.join("; "))
            .body(Body::from(body))
            .unwrap()
    }

    /// Sets up an authenticator app for the staff member signed in here, as the page asks
    /// (after one wrong code, which stores nothing); returns the app's secret and the recovery
    /// codes the page showed.
    pub async fn set_up_authenticator(&mut self) -> (idp::totp::TotpSecret, Vec<String>) {
        let page = self.get("/tweestapsverificatie").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let shown = page
            .body
            .split("<code id=\"sleutel\">")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .expect("the key on the page")
            .replace(' ', "");
        let secret = idp::totp::TotpSecret::new(
            data_encoding::BASE32_NOPAD
                .decode(shown.as_bytes())
                .expect("base32"),
        );
        let wrong = not_a_code_now(&secret);
        let refused = self
            .submit("/tweestapsverificatie", &[("code", &wrong)])
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert!(refused.body.contains("sleutel"), "the same set-up again");
        let done = self
            .submit("/tweestapsverificatie", &[("code", &code_now(&secret, 0))])
            .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        let codes: Vec<String> = done
            .body
            .split("<li><code>")
            .skip(1)
            .filter_map(|rest| rest.split('<').next())
            .map(str::to_owned)
            .collect();
        assert_eq!(codes.len(), 10, "{}", done.body);
        (secret, codes)
    }

    pub async fn log_in(&mut self, email: &str, password: &str) -> Answer {
        self.get("/inloggen").await;
        self.submit("/inloggen", &[("email", email), ("password", password)])
            .await
    }
}

/// The code an authenticator app shows now, or `steps` steps away from now.
pub fn code_now(secret: &idp::totp::TotpSecret, steps: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    idp::totp::code_at_step(secret, idp::totp::step_at(now) + steps)
}

/// Six digits that are no code of `secret` anywhere near now.
pub fn not_a_code_now(secret: &idp::totp::TotpSecret) -> String {
    let near: Vec<String> = (-3..=3).map(|s| code_now(secret, s)).collect();
    (0..)
        .map(|n| format!("{n:06}"))
        .find(|c| !near.contains(c))
        .unwrap()
}

/// Statuses of `requests` sent all at the same moment.
pub async fn at_once(d: &Demo, requests: Vec<Request<Body>>) -> Vec<u16> {
    let sent: Vec<_> = requests
        .into_iter()
        .map(|r| {
            let router = d.router.clone();
            tokio::spawn(async move { router.oneshot(r).await.unwrap().status().as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for s in sent {
        statuses.push(s.await.unwrap());
    }
    statuses
}
