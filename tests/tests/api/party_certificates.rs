//! The partner API's client certificates through the admin API, by the rules of the CLI.

use reqwest::Method;
use serde_json::json;

use crate::common::{PUBLISHER, demo};

fn certificate_pem(cn: &str) -> String {
    let (_, cert) = openpoort_e2e::self_signed(cn);
    String::from_utf8(cert.to_pem().expect("PEM")).expect("text")
}

#[tokio::test]
async fn an_operator_client_registers_lists_and_removes_a_party_certificate() {
    let d = demo();
    let token = d.admin_token().await;
    let path = format!("/parties/{PUBLISHER}/certificates");
    let added = d
        .send_json(
            Method::POST,
            &path,
            &token,
            &json!({"pem": certificate_pem("Koppeling 2026")}),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.body);
    let sha256 = added.body["sha256"]
        .as_str()
        .expect("a fingerprint")
        .to_owned();
    assert_eq!(sha256.len(), 64);
    assert!(
        added.body["subject"]
            .as_str()
            .unwrap()
            .contains("CN=Koppeling 2026")
    );
    let listed = d.get(&path, &token).await;
    assert_eq!(listed.body["certificates"][0]["sha256"], sha256.as_str());
    // Also listed on the command line: one rule, one register.
    assert!(
        d.cli(&["party", "certificates", "--party", PUBLISHER])
            .contains(&sha256)
    );
    let removed = d
        .call(
            Method::DELETE,
            &format!("{path}/{}", sha256.to_uppercase()),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(removed.status, 204, "{}", removed.body);
    assert_eq!(d.get(&path, &token).await.body["certificates"], json!([]));
}

#[tokio::test]
async fn a_private_key_a_third_certificate_or_a_certificate_of_another_party_is_refused() {
    let d = demo();
    let token = d.admin_token().await;
    let path = format!("/parties/{PUBLISHER}/certificates");
    let (key, cert) = openpoort_e2e::self_signed("Met sleutel");
    let mut with_key = String::from_utf8(cert.to_pem().unwrap()).unwrap();
    with_key.push_str(&String::from_utf8(key.private_key_to_pem_pkcs8().unwrap()).unwrap());
    let refused = d
        .send_json(Method::POST, &path, &token, &json!({"pem": with_key}))
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("privésleutel")
    );
    let first = certificate_pem("Een");
    for pem in [&first, &certificate_pem("Twee")] {
        let ok = d
            .send_json(Method::POST, &path, &token, &json!({"pem": pem}))
            .await;
        assert_eq!(ok.status, 201, "{}", ok.body);
    }
    let third = d
        .send_json(
            Method::POST,
            &path,
            &token,
            &json!({"pem": certificate_pem("Drie")}),
        )
        .await;
    assert_eq!(third.status, 409, "{}", third.body);
    d.cli(&[
        "party",
        "add",
        "--code",
        "ander",
        "--kind",
        "uitgeverij",
        "--name",
        "Ander",
    ]);
    let elsewhere = d
        .send_json(
            Method::POST,
            "/parties/ander/certificates",
            &token,
            &json!({"pem": first}),
        )
        .await;
    assert_eq!(
        elsewhere.status, 409,
        "one certificate names one party: {}",
        elsewhere.body
    );
    assert_eq!(
        d.get(&path, &token).await.body["certificates"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}
