//! The demo product (Leesland) that `openpoort demo` serves at `/demo-product/`: a sign-in to it
//! end to end over OpenID Connect and SAML, once the school consents, and the relying party's
//! own defences (a login completes once, in the browser that started it, and a response that
//! is not exactly as openpoort signed it is refused).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use openpoort_e2e::{Browser, Page, Store, demo_pupil_login, demo_shortcut, log_in_as_bram};

use crate::common::{Demo, demo_on};

fn consent(d: &Demo) {
    d.cli(&[
        "consent",
        "grant",
        "--school",
        "99ZZ00",
        "--party",
        "demo-leesland",
    ]);
}

/// Follows redirects from `path` while they stay on openpoort (the demo product lives there too).
async fn follow(b: &mut Browser, d: &Demo, path: &str) -> Page {
    let mut page = b.get(path).await;
    for _ in 0..10 {
        match page.location() {
            Some(next) if page.status == 303 || page.status == 302 => {
                let next = next.strip_prefix(d.base()).unwrap_or(next).to_owned();
                assert!(next.starts_with('/'), "left openpoort: {next}");
                page = b.get(&next).await;
            }
            _ => return page,
        }
    }
    panic!("too many redirects from {path}");
}

async fn pupil(d: &Demo) -> Browser {
    let welcome = format!("/s/{}", d.instelling_ref);
    let mut b = d.browser();
    assert!(
        demo_pupil_login(&mut b, &demo_shortcut(&welcome).unwrap()).await,
        "Finn signs in at school"
    );
    b
}

/// The callback URL openpoort sends the browser to, before the product has seen it.
async fn callback_url(b: &mut Browser, d: &Demo) -> String {
    let mut page = b.get("/demo-product/oidc/login").await;
    for _ in 0..10 {
        let next = page.location().expect("a redirect").to_owned();
        let next = next.strip_prefix(d.base()).unwrap_or(&next).to_owned();
        if next.starts_with("/demo-product/oidc/callback") {
            return next;
        }
        page = b.get(&next).await;
    }
    panic!("no callback");
}

async fn signs_a_pupil_in_over_oidc_once_the_school_consents(store: Store) {
    let d = demo_on(store);
    let mut b = pupil(&d).await;
    let refused = follow(&mut b, &d, "/demo-product/oidc/login").await;
    assert!(
        !refused.body.contains("Welkom bij Leesland"),
        "signed in without the school's consent: {}",
        refused.body
    );
    consent(&d);
    let done = follow(&mut b, &d, "/demo-product/oidc/login").await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.body.contains("Welkom bij Leesland, Finn!"),
        "{}",
        done.body
    );
    assert!(done.body.contains("OpenID Connect"), "{}", done.body);
    assert!(
        !done.body.contains("Smit") && !done.body.contains("family_name"),
        "released more than the school allows: {}",
        done.body
    );
}

#[tokio::test]
async fn the_demo_product_signs_a_pupil_in_over_oidc_once_the_school_consents() {
    signs_a_pupil_in_over_oidc_once_the_school_consents(Store::Memory).await;
}

#[tokio::test]
async fn the_demo_product_signs_a_pupil_in_over_oidc_once_the_school_consents_with_redis_sessions()
{
    signs_a_pupil_in_over_oidc_once_the_school_consents(Store::Redis).await;
}

#[tokio::test]
async fn the_portal_tile_of_the_demo_product_signs_the_pupil_in() {
    let d = demo_on(Store::Memory);
    consent(&d);
    let mut b = pupil(&d).await;
    let portal = b.get("/").await;
    let tile = portal
        .link_to("Leesland lezen")
        .unwrap_or_else(|| panic!("no Leesland tile: {}", portal.body));
    let done = follow(&mut b, &d, &openpoort_e2e::unescape(&tile)).await;
    assert!(
        done.body.contains("Welkom bij Leesland, Finn!"),
        "{}",
        done.body
    );
}

#[tokio::test]
async fn a_demo_product_login_completes_only_once() {
    let d = demo_on(Store::Memory);
    consent(&d);
    let mut b = pupil(&d).await;
    let callback = callback_url(&mut b, &d).await;
    let first = b.get(&callback).await;
    assert!(first.body.contains("Welkom bij Leesland"), "{}", first.body);
    let again = b.get(&callback).await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert!(
        !again.body.contains("Welkom bij Leesland"),
        "{}",
        again.body
    );
}

#[tokio::test]
async fn a_demo_product_login_cannot_be_completed_in_another_browser() {
    let d = demo_on(Store::Memory);
    consent(&d);
    let mut b = pupil(&d).await;
    let callback = callback_url(&mut b, &d).await;
    let mut other = d.browser();
    let stolen = other.get(&callback).await;
    assert_eq!(stolen.status, 400, "{}", stolen.body);
    assert!(
        !stolen.body.contains("Welkom bij Leesland"),
        "{}",
        stolen.body
    );
}

/// Bram signed in at openpoort for 99ZZ00, and the form openpoort posts to the product's ACS.
async fn saml_post(d: &Demo) -> (Browser, String, String) {
    let mut b = d.browser();
    let mut page = b.get("/demo-product/saml/login").await;
    for _ in 0..10 {
        if page.status == 200 && page.body.contains("SAMLResponse") {
            let response = page.field("SAMLResponse").expect("SAMLResponse");
            let relay = page.field("RelayState").expect("RelayState");
            return (b, response, relay);
        }
        let next = page.location().expect("a redirect").to_owned();
        let next = next.strip_prefix(d.base()).unwrap_or(&next).to_owned();
        page = if next.starts_with("/inloggen") {
            log_in_as_bram(&mut b, &next).await
        } else if next.starts_with("/school-kiezen") {
            openpoort_e2e::choose_99zz00(&mut b, &next).await
        } else {
            b.get(&next).await
        };
    }
    panic!("openpoort posted no response: {}", page.body);
}

#[tokio::test]
async fn the_demo_product_signs_a_teacher_in_over_saml() {
    let d = demo_on(Store::Memory);
    consent(&d);
    let (mut b, response, relay) = saml_post(&d).await;
    let done = b
        .post(
            "/demo-product/saml/acs",
            &[("SAMLResponse", &response), ("RelayState", &relay)],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.body.contains("Welkom bij Leesland, Bram!"),
        "{}",
        done.body
    );
    assert!(done.body.contains("SAML 2.0"), "{}", done.body);
}

#[tokio::test]
async fn a_saml_response_changed_after_signing_is_refused_by_the_demo_product() {
    let d = demo_on(Store::Memory);
    consent(&d);
    let (mut b, response, relay) = saml_post(&d).await;
    let xml = String::from_utf8(STANDARD.decode(&response).unwrap()).unwrap();
    assert!(xml.contains(">Bram<"), "{xml}");
    let forged = STANDARD.encode(xml.replace(">Bram<", ">Mallory<"));
    let refused = b
        .post(
            "/demo-product/saml/acs",
            &[("SAMLResponse", &forged), ("RelayState", &relay)],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(!refused.body.contains("Welkom"), "{}", refused.body);
}

#[tokio::test]
async fn a_demo_under_a_plain_http_host_name_starts_without_the_demo_product() {
    // Registered addresses must be https (http only on localhost), the product's too: rather
    // than register it under an address that every check refuses, the demo runs without it.
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = openpoort_e2e::openpoort(dir.path());
    cmd.env("OPENPOORT_SERVER_PUBLIC_URL", "http://openpoort.test")
        .env("OPENPOORT_SESSIONS_STORE", "memory")
        .arg("demo");
    let server = openpoort_e2e::Server::start(cmd);
    let welcome = server
        .more_output(std::time::Duration::from_millis(500))
        .join("\n");
    assert!(welcome.contains("/s/"), "the demo itself runs: {welcome}");
    assert!(!welcome.contains("demo-product"), "{welcome}");
    let mut b = Browser::new(&server.base);
    assert_eq!(b.get("/demo-product/").await.status, 404);
}
