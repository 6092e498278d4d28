//! SAML service providers registered, read and removed through the API, and metadata refused.

use serde_json::json;

use crate::common::{PUBLISHER, demo};

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

#[tokio::test]
async fn the_signing_and_attribute_naming_of_an_sp_are_chosen_through_the_api_and_unknown_choices_refused()
 {
    let d = demo();
    let admin = d.admin_token().await;
    let path = format!("/parties/{PUBLISHER}/saml-sps");
    let metadata = sp_metadata("http://127.0.0.1:9/acs");
    for (body, what) in [
        (
            json!({"metadata": &metadata, "signing": "everything"}),
            "everything",
        ),
        (
            json!({"metadata": &metadata, "attribute_names": "oid"}),
            "oid",
        ),
        (
            json!({"metadata": &metadata, "signing": "assertion", "sign_response": true}),
            "sign_response",
        ),
    ] {
        let refused = d
            .send_json(reqwest::Method::POST, &path, &admin, &body)
            .await;
        assert_eq!(refused.status, 422, "{what}: {}", refused.body);
        assert!(refused.body.to_string().contains(what), "{}", refused.body);
    }
    let created = d
        .send_json(
            reqwest::Method::POST,
            &path,
            &admin,
            &json!({"metadata": &metadata, "signing": "response", "attribute_names": "uri"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["signing"], "response");
    assert_eq!(created.body["attribute_names"], "uri");
    assert_eq!(created.body["sign_assertion"], false);
}
