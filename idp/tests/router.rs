//! The real router in process: the state `openpoort demo` builds (a temporary SQLite register
//! with the demo data, the in-memory session store, generated keys), driven as a tower service
//! with the client address set per test. Faster and more direct than starting the binary; the
//! end-to-end tests in `tests/` keep what needs a process (start-up, shutdown, the CLI).

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

use idp::config::Config;
use idp::demo::Seeded;

struct Demo {
    router: Router,
    seeded: Seeded,
    _data: tempfile::TempDir,
}

/// The demo's state and router, with every request coming from `client`.
async fn demo_from(client: &str) -> Demo {
    let data = tempfile::tempdir().expect("temporary folder");
    let env = [
        ("OPENPOORT_SERVER_MODE", "development".to_owned()),
        (
            "OPENPOORT_STORAGE_DATA_DIR",
            data.path().display().to_string(),
        ),
        ("OPENPOORT_SESSIONS_STORE", "memory".to_owned()),
    ]
    .map(|(k, v)| (k.to_owned(), v));
    let config = Config::load(None, env).expect("configuration");
    let state = idp::app::build_state(&config).await.expect("state");
    let seeded = idp::demo::seed(&state).await.expect("demo data");
    let client: SocketAddr = client.parse().expect("client address");
    Demo {
        router: idp::server::router(state).layer(MockConnectInfo(client)),
        seeded,
        _data: data,
    }
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Demo {
    async fn send(&self, request: Request<Body>) -> Answer {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router answers");
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

    async fn get(&self, path: &str) -> Answer {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    async fn post_form(&self, path: &str, form: &str) -> Answer {
        self.send(
            Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form.to_owned()))
                .unwrap(),
        )
        .await
    }

    fn shortcut(&self) -> String {
        format!("/s/{}", self.seeded.school.instelling_ref)
    }
}

#[tokio::test]
async fn pupil_outside_the_school_network_sees_no_groups() {
    let outside = demo_from("203.0.113.9:50000").await;
    let page = outside.get(&outside.shortcut()).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    for secret in ["Egeltjes", "Vossen", "Uilen", "Basisschool De Demo"] {
        assert!(
            !page.body.contains(secret),
            "{secret} shown outside the school"
        );
    }
    // The demo school's network is loopback: there the groups are listed.
    let inside = demo_from("127.0.0.1:50000").await;
    let page = inside.get(&inside.shortcut()).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Egeltjes"), "{}", page.body);
}

#[tokio::test]
async fn a_login_form_without_its_csrf_token_is_refused_and_signs_nobody_in() {
    let d = demo_from("127.0.0.1:50000").await;
    let password = idp::demo::BRAM_PASSWORD;
    let form = format!(
        "csrf=made-up&email={}&password={password}",
        idp::demo::BRAM.replace('@', "%40")
    );
    let answer = d.post_form("/inloggen", &form).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    assert!(
        answer.body.contains("Formulier verlopen"),
        "{}",
        answer.body
    );
    let cookies: Vec<_> = answer.headers.get_all(header::SET_COOKIE).iter().collect();
    assert!(
        !cookies
            .iter()
            .any(|c| c.to_str().unwrap_or("").starts_with("openpoort=")),
        "a session cookie was set: {cookies:?}"
    );
}

#[tokio::test]
async fn a_form_missing_a_field_is_answered_in_dutch_and_english() {
    let d = demo_from("127.0.0.1:50000").await;
    let answer = d.post_form("/inloggen", "email=iemand%40school.nl").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert!(
        answer.body.contains("Het formulier is onvolledig")
            && answer.body.contains("The form is incomplete"),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn authorize_for_an_unknown_client_is_shown_not_redirected() {
    let d = demo_from("127.0.0.1:50000").await;
    let answer = d
        .get(
            "/oidc/authorize?client_id=onbekend&response_type=code&scope=openid\
             &redirect_uri=https%3A%2F%2Faanvaller.example%2Fcb&state=s",
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert!(
        answer.headers.get(header::LOCATION).is_none(),
        "an unknown client's redirect_uri was followed: {:?}",
        answer.headers.get(header::LOCATION)
    );
}
