//! Who may connect to the partner listener and how: a registered certificate names its party;
//! anything else is refused, and only ECDHE with AEAD ciphers is spoken, in TLS 1.2 and 1.3.

use openssl::ssl::SslVersion;

use crate::common::{
    Identity, PUBLISHER, PartnerDemo, client_identity, expired_identity, fingerprint,
};

#[test]
fn a_registered_client_certificate_names_its_party_and_its_calls_are_audited() {
    let demo = PartnerDemo::start();
    let ids = demo.get("/rest/v2/instellingen").ids();
    assert_eq!(
        ids.len(),
        1,
        "the demo school consented to the demo publisher: {ids:?}"
    );
    let details = demo.get(&format!("/rest/v2/instellingen/{}/details", ids[0]));
    assert_eq!(details.status, 200, "{}", details.body);
    let audit = demo.cli(&["audit", "list", "--school", "99ZZ00"]);
    assert!(
        audit
            .lines()
            .any(|l| l.contains("partner.read") && l.contains(&format!("party:{PUBLISHER}"))),
        "the call is audited with the party as actor: {audit}"
    );
}

#[test]
fn a_certificate_nobody_registered_is_refused_with_its_fingerprint() {
    let demo = PartnerDemo::start();
    let stranger = client_identity("Onbekende uitgeverij");
    let answer = demo
        .client(Some(&stranger))
        .request("GET", "/rest/v2/instellingen", None)
        .expect("the handshake itself succeeds");
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert!(
        answer.body.contains(&fingerprint(&stranger.cert)),
        "{}",
        answer.body
    );
}

#[test]
fn a_call_without_certificate_or_token_is_refused() {
    let demo = PartnerDemo::start();
    let answer = demo
        .client(None)
        .request("GET", "/rest/v2/instellingen", None)
        .expect("a connection");
    assert_eq!(answer.status, 401, "{}", answer.body);
}

#[test]
fn tls_1_2_only_and_tls_1_3_only_clients_are_both_served() {
    let demo = PartnerDemo::start();
    for version in [SslVersion::TLS1_2, SslVersion::TLS1_3] {
        let mut client = demo.client(Some(&demo.publisher));
        client.min = Some(version);
        client.max = Some(version);
        let answer = client
            .request("GET", "/rest/v2/instellingen", None)
            .unwrap_or_else(|e| panic!("{version:?}: {e}"));
        assert_eq!(answer.status, 200, "{version:?}: {}", answer.body);
    }
}

#[test]
fn clients_offering_only_cbc_or_static_rsa_key_exchange_are_refused() {
    let demo = PartnerDemo::start();
    // CBC with ECDHE, CBC with RSA key exchange, and GCM with RSA key exchange (no forward
    // secrecy): each alone must fail the handshake.
    for ciphers in [
        "ECDHE-ECDSA-AES128-SHA",
        "AES128-SHA256",
        "AES128-GCM-SHA256",
    ] {
        let mut client = demo.client(Some(&demo.publisher));
        client.max = Some(SslVersion::TLS1_2);
        client.ciphers = Some(ciphers.to_owned());
        let result = client.request("GET", "/rest/v2/instellingen", None);
        assert!(
            matches!(&result, Err(e) if e.starts_with("handshake")),
            "{ciphers}: {result:?}"
        );
    }
    // The same client with an ECDHE AEAD suite is served, so the refusals above are about the
    // suites.
    let mut client = demo.client(Some(&demo.publisher));
    client.max = Some(SslVersion::TLS1_2);
    client.ciphers = Some("ECDHE-ECDSA-AES128-GCM-SHA256".to_owned());
    let answer = client
        .request("GET", "/rest/v2/instellingen", None)
        .expect("ECDHE-ECDSA-AES128-GCM-SHA256");
    assert_eq!(answer.status, 200);
}

#[test]
fn a_party_rotates_its_certificate_without_a_gap_and_a_removed_one_is_refused() {
    let demo = PartnerDemo::start();
    let next = client_identity("Demo Uitgeverij koppeling 2027");
    demo.register(PUBLISHER, &next.cert);
    for identity in [&demo.publisher, &next] {
        let answer = demo
            .client(Some(identity))
            .request("GET", "/rest/v2/instellingen", None)
            .expect("a connection");
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    // A third beside two is refused: the old one goes first.
    let third = client_identity("Derde");
    let out = demo.try_register(PUBLISHER, &third.cert.to_pem().expect("PEM"));
    assert!(!out.status.success(), "a third certificate was accepted");
    demo.cli(&[
        "party",
        "certificate-remove",
        "--party",
        PUBLISHER,
        "--sha256",
        &fingerprint(&demo.publisher.cert).to_uppercase(),
    ]);
    let old = demo
        .client(Some(&demo.publisher))
        .request("GET", "/rest/v2/instellingen", None)
        .expect("a connection");
    assert_eq!(
        old.status, 401,
        "the removed certificate still works: {}",
        old.body
    );
    let new = demo
        .client(Some(&next))
        .request("GET", "/rest/v2/instellingen", None)
        .expect("a connection");
    assert_eq!(new.status, 200, "{}", new.body);
}

#[test]
fn a_file_with_a_private_key_is_not_registered() {
    let demo = PartnerDemo::start();
    let Identity { key, cert } = client_identity("Met sleutel");
    let mut pem = cert.to_pem().expect("PEM");
    pem.extend(key.private_key_to_pem_pkcs8().expect("key"));
    let out = demo.try_register(PUBLISHER, &pem);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("privésleutel"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = demo.cli(&["party", "certificates", "--party", PUBLISHER]);
    assert_eq!(
        listed.lines().count(),
        1,
        "only the demo's own certificate: {listed}"
    );
}

#[test]
fn an_expired_client_certificate_is_refused_in_the_handshake() {
    let demo = PartnerDemo::start();
    let expired = expired_identity("Verlopen");
    let out = demo.try_register(PUBLISHER, &expired.cert.to_pem().expect("PEM"));
    assert!(
        !out.status.success(),
        "an expired certificate was registered"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("verlopen"));
    // Presented anyway, it ends the connection before any request is read (in TLS 1.3 the
    // client learns so on its first read).
    let result = demo
        .client(Some(&expired))
        .request("GET", "/rest/v2/instellingen", None);
    assert!(result.is_err(), "{result:?}");
}
