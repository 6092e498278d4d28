//! Which authentication requests are refused before anything goes to an SP, and how many are read.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::common::{Sp, assert_refused, demo, demo_with, new_id, posted};

#[tokio::test]
async fn request_from_an_unknown_issuer_is_refused() {
    let d = demo();
    let registered = Sp::new("rekenrijk", false);
    registered.register(&d, &[]);
    let stranger = Sp::new("onbekend", false);
    let mut b = d.finn().await;
    let page = b
        .get(&stranger.redirect(&stranger.authn_request(&new_id(), ""), None, false))
        .await;
    assert_refused(&page, "unknown issuer");
}

#[tokio::test]
async fn acs_not_in_the_metadata_is_refused() {
    let d = demo();
    let sp = Sp::new("rekenrijk", false);
    sp.register(&d, &[]);
    let mut b = d.finn().await;
    let xml = sp
        .authn_request(&new_id(), "")
        .replace(&sp.acs, "http://127.0.0.1:9/evil/acs");
    assert_refused(&b.get(&sp.redirect(&xml, None, false)).await, "ACS by URL");
    let by_index = sp
        .authn_request(&new_id(), " AssertionConsumerServiceIndex=\"5\"")
        .replace(&format!(" AssertionConsumerServiceURL=\"{}\"", sp.acs), "");
    assert_refused(
        &b.get(&sp.redirect(&by_index, None, false)).await,
        "ACS by index",
    );
}

#[tokio::test]
async fn unsigned_request_is_refused_where_the_sp_signs_its_requests() {
    let d = demo();
    let sp = Sp::new("rekenrijk", true);
    sp.register(&d, &[]);
    let mut b = d.finn().await;
    assert_refused(
        &b.get(&sp.redirect(&sp.authn_request(&new_id(), ""), None, false))
            .await,
        "unsigned",
    );
    // Signed by another key: refused.
    let impostor = Sp {
        entity: sp.entity.clone(),
        acs: sp.acs.clone(),
        ..Sp::new("impostor", true)
    };
    assert_refused(
        &b.get(&impostor.redirect(&impostor.authn_request(&new_id(), ""), None, true))
            .await,
        "wrong key",
    );
    // Signed in the query (Redirect binding): answered.
    let signed = b
        .get(&sp.redirect(&sp.authn_request(&new_id(), ""), Some("x"), true))
        .await;
    posted(&signed);
    // Signed in the XML (POST binding): answered after the same-site continuation.
    let id = new_id();
    let xml = sp.sign_xml(&sp.authn_request(&id, ""), &id);
    let parked = b
        .post("/saml/sso", &[("SAMLRequest", &STANDARD.encode(&xml))])
        .await;
    assert_eq!(parked.status, 303, "{}", parked.body);
    let answered = b.get(parked.location().unwrap()).await;
    let (_, response, _) = posted(&answered);
    assert!(response.contains(&format!("InResponseTo=\"{id}\"")));
    // The same signed request with a changed ACS no longer verifies.
    let tampered = xml.replace(&sp.acs, "http://127.0.0.1:9/evil/acs");
    let page = b
        .post("/saml/sso", &[("SAMLRequest", &STANDARD.encode(&tampered))])
        .await;
    assert_refused(&page, "tampered signed request");
}

#[tokio::test]
async fn oversized_request_is_refused() {
    let d = demo();
    let sp = Sp::new("rekenrijk", false);
    sp.register(&d, &[]);
    let mut b = d.finn().await;
    let padding = format!("<!-- {} -->", "x".repeat(70 * 1024));
    let xml = sp
        .authn_request(&new_id(), "")
        .replace("<saml:Issuer>", &format!("{padding}<saml:Issuer>"));
    let page = b
        .post("/saml/sso", &[("SAMLRequest", &STANDARD.encode(&xml))])
        .await;
    assert_refused(&page, "oversized POST");
    assert!(page.body.contains("te groot"), "{}", page.body);
    assert_refused(
        &b.get(&sp.redirect(&xml, None, false)).await,
        "oversized Redirect",
    );
}

#[tokio::test]
async fn request_with_a_doctype_is_refused() {
    let d = demo();
    let sp = Sp::new("rekenrijk", false);
    sp.register(&d, &[]);
    let mut b = d.finn().await;
    let xml = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY e \"{}\">]>{}",
        sp.entity,
        sp.authn_request(&new_id(), "").replace(&sp.entity, "&e;")
    );
    let page = b.get(&sp.redirect(&xml, None, false)).await;
    assert_refused(&page, "DOCTYPE");
    assert!(page.body.contains("DOCTYPE"), "{}", page.body);
}

#[tokio::test]
async fn replayed_request_id_is_refused() {
    let d = demo();
    let sp = Sp::new("rekenrijk", false);
    sp.register(&d, &[]);
    let mut b = d.finn().await;
    let url = sp.redirect(&sp.authn_request(&new_id(), ""), None, false);
    posted(&b.get(&url).await);
    assert_refused(&b.get(&url).await, "replay");
}

#[tokio::test]
async fn relay_state_over_80_bytes_is_refused() {
    let d = demo();
    let sp = Sp::new("rekenrijk", false);
    sp.register(&d, &[]);
    let mut b = d.finn().await;
    let relay = "r".repeat(81);
    assert_refused(
        &b.get(&sp.redirect(&sp.authn_request(&new_id(), ""), Some(&relay), false))
            .await,
        "RelayState",
    );
}

/// Every SAML request read leaves state behind before anyone has logged in (a replay marker,
/// often a parked request), so one address gets no more than `saml.max_requests_per_address`
/// per window, counted before the request is read, also in a parallel burst.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saml_requests_per_address_are_capped_even_in_a_burst() {
    let d = demo_with(&[("OPENPOORT_SAML_MAX_REQUESTS_PER_ADDRESS", "10")]);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..40 {
        let mut b = d.browser();
        tasks.spawn(async move {
            let path = if i % 2 == 0 {
                "/saml/sso?SAMLRequest=onleesbaar"
            } else {
                "/saml/slo?SAMLRequest=onleesbaar"
            };
            b.get(path).await.status
        });
    }
    let mut statuses = Vec::new();
    while let Some(status) = tasks.join_next().await {
        statuses.push(status.unwrap());
    }
    let read = statuses.iter().filter(|s| **s != 429).count();
    assert_eq!(
        read, 10,
        "{read} of 40 parallel requests were read: {statuses:?}"
    );
    // The POST binding counts against the same address.
    let page = d
        .browser()
        .post("/saml/sso", &[("SAMLRequest", "onleesbaar")])
        .await;
    assert_eq!(page.status, 429, "{}", page.body);
    assert!(
        page.body.contains("te veel inlog- of uitlogverzoeken"),
        "{}",
        page.body
    );
}
