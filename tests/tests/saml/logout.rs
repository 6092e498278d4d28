//! Single logout: signed requests end the session and are answered; unsigned or forged ones do not.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use openssl::hash::MessageDigest;

use crate::common::{PUBLIC, Sp, assert_refused, demo, new_id, posted, xs_now};

#[tokio::test]
async fn sp_initiated_logout_ends_the_session_and_answers_with_a_signed_logout_response() {
    let d = demo();
    let sp = Sp::new("rekenrijk", false);
    sp.register(&d, &[]);
    let mut b = d.finn().await;
    let (_, xml, _) = posted(
        &b.get(&sp.redirect(&sp.authn_request(&new_id(), ""), None, false))
            .await,
    );
    let session_index = {
        let at = xml.find("SessionIndex=\"").unwrap() + 14;
        xml[at..at + xml[at..].find('"').unwrap()].to_owned()
    };
    let id = new_id();
    let logout = format!(
        r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{}" Destination="{PUBLIC}/saml/slo"><saml:Issuer>{}</saml:Issuer><saml:NameID>x</saml:NameID><samlp:SessionIndex>{session_index}</samlp:SessionIndex></samlp:LogoutRequest>"#,
        xs_now(),
        sp.entity
    );
    // Unsigned, from an SP with a signing certificate: refused, the session stays.
    let unsigned = sp
        .redirect(&logout, None, false)
        .replace("/saml/sso?", "/saml/slo?");
    assert_refused(&b.get(&unsigned).await, "unsigned logout");
    assert_eq!(b.get("/").await.status, 200, "still signed in");

    let signed = sp
        .redirect(&logout, Some("bye"), true)
        .replace("/saml/sso?", "/saml/slo?");
    let answer = b.get(&signed).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let location = answer.location().unwrap().to_owned();
    assert!(
        location.starts_with("http://127.0.0.1:9/slo?SAMLResponse="),
        "{location}"
    );
    // The Redirect binding signature over the query verifies with openpoort's certificate.
    let query = location.split_once('?').unwrap().1;
    let (signed_part, signature) = query.split_once("&Signature=").unwrap();
    let signature = STANDARD
        .decode(
            url::form_urlencoded::parse(format!("s={signature}").as_bytes())
                .next()
                .unwrap()
                .1
                .as_bytes(),
        )
        .unwrap();
    let cert = d.idp_certificate().await;
    let public = cert.public_key().unwrap();
    let mut verifier = openssl::sign::Verifier::new(MessageDigest::sha256(), &public).unwrap();
    assert!(
        verifier
            .verify_oneshot(&signature, signed_part.as_bytes())
            .unwrap()
    );
    assert!(signed_part.contains("&RelayState=bye&"));
    assert_eq!(
        b.get("/").await.location(),
        Some("/inloggen"),
        "the session has ended"
    );
}

#[tokio::test]
async fn unsigned_request_appended_to_a_signed_query_is_refused() {
    let d = demo();
    let sp = Sp::new("rekenrijk", true);
    sp.register(&d, &[]);
    let mut b = d.finn().await;
    let logout = |id: &str| {
        format!(
            r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{}" Destination="{PUBLIC}/saml/slo"><saml:Issuer>{}</saml:Issuer><saml:NameID>x</saml:NameID></samlp:LogoutRequest>"#,
            xs_now(),
            sp.entity
        )
    };
    let slo = |url: String| url.replace("/saml/sso?", "/saml/slo?");
    // Whatever signed query an attacker holds, with another message or RelayState appended.
    let signed = slo(sp.redirect(&logout(&new_id()), Some("r"), true));
    let unsigned = sp.redirect(&logout(&new_id()), None, false);
    let unsigned_message = unsigned.split_once('?').unwrap().1;
    for appended in [
        format!("{signed}&{unsigned_message}"),
        format!("{signed}&RelayState=elders"),
        format!(
            "/saml/slo?{unsigned_message}&{}",
            signed.split_once('?').unwrap().1
        ),
    ] {
        assert_refused(&b.get(&appended).await, &appended);
        assert_eq!(b.get("/").await.status, 200, "still signed in: {appended}");
    }
    // By POST the XML signature covers the message itself; a second copy is refused all the same.
    let signed_xml = {
        let id = new_id();
        sp.sign_xml(&logout(&id), &id)
    };
    let other_xml = logout(&new_id());
    let twice = b
        .post(
            "/saml/slo",
            &[
                ("SAMLRequest", &STANDARD.encode(&signed_xml)),
                ("SAMLRequest", &STANDARD.encode(&other_xml)),
            ],
        )
        .await;
    assert!(twice.status >= 400, "{}: {}", twice.status, twice.body);
    assert_eq!(b.get("/").await.status, 200, "still signed in after POST");
    // The same by the SSO endpoint: no login is answered.
    let request = sp.redirect(&sp.authn_request(&new_id(), ""), None, true);
    let other = sp.redirect(&sp.authn_request(&new_id(), ""), None, false);
    let twice = format!("{request}&{}", other.split_once('?').unwrap().1);
    assert_refused(&b.get(&twice).await, "two AuthnRequests");
    // The signed query on its own still works.
    let answer = b.get(&signed).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(b.get("/").await.location(), Some("/inloggen"));
}

#[tokio::test]
async fn logout_by_post_with_an_xml_signature_ends_the_session_and_a_forged_one_does_not() {
    let d = demo();
    let sp = Sp::new("rekenrijk", true);
    sp.register(&d, &[]);
    let mut b = d.finn().await;
    let logout = |id: &str| {
        format!(
            r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{}" Destination="{PUBLIC}/saml/slo"><saml:Issuer>{}</saml:Issuer><saml:NameID>x</saml:NameID></samlp:LogoutRequest>"#,
            xs_now(),
            sp.entity
        )
    };
    // Signed by another key: refused, the session stays.
    let impostor = Sp::new("impostor", true);
    let id = new_id();
    let forged = impostor.sign_xml(&logout(&id), &id);
    let refused = b
        .post("/saml/slo", &[("SAMLRequest", &STANDARD.encode(&forged))])
        .await;
    assert_refused(&refused, "forged logout");
    assert_eq!(b.get("/").await.status, 200, "still signed in");

    let id = new_id();
    let signed = sp.sign_xml(&logout(&id), &id);
    let parked = b
        .post("/saml/slo", &[("SAMLRequest", &STANDARD.encode(&signed))])
        .await;
    assert_eq!(parked.status, 303, "{}", parked.body);
    let answer = b.get(parked.location().unwrap()).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert!(
        answer
            .location()
            .unwrap()
            .starts_with("http://127.0.0.1:9/slo?SAMLResponse=")
    );
    assert_eq!(
        b.get("/").await.location(),
        Some("/inloggen"),
        "the session has ended"
    );
}

#[tokio::test]
async fn logout_of_an_sp_without_a_logout_endpoint_ends_the_session_and_clears_the_cookie() {
    let d = demo();
    let sp = Sp::new("rekenrijk", false);
    // Metadata without a SingleLogoutService.
    let metadata = sp.metadata().replace(
        r#"<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="http://127.0.0.1:9/slo"/>"#,
        "",
    );
    d.add_sp(&metadata, &[]);
    let mut b = d.finn().await;
    let id = new_id();
    let logout = format!(
        r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{}"><saml:Issuer>{}</saml:Issuer><saml:NameID>x</saml:NameID></samlp:LogoutRequest>"#,
        xs_now(),
        sp.entity
    );
    let page = b
        .get(
            &sp.redirect(&logout, None, true)
                .replace("/saml/sso?", "/saml/slo?"),
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Je bent uitgelogd"));
    assert!(
        page.set_cookies()
            .iter()
            .any(|c| c.starts_with("openpoort=;") && c.contains("Max-Age=0")),
        "{:?}",
        page.set_cookies()
    );
    assert_eq!(b.get("/").await.location(), Some("/inloggen"));
}
