//! SAML output signed through xmlsec and checked independently (the xmlsec1 command), and SAML
//! input read strictly.

use std::process::Command;

use metadata::saml::response::{AssertionParams, SamlAttribute, Signing, success_response};
use metadata::saml::sign::{XmlSigner, verified_content};
use metadata::saml::sp::{SpSettings, from_metadata};
use metadata::saml::{NAMEID_PERSISTENT, NS_ASSERTION, NS_PROTOCOL, SamlError, dom};
use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::{X509, X509NameBuilder};

fn key_and_cert(cn: &str) -> (PKey<Private>, X509) {
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", cn).unwrap();
    let name = name.build();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&BigNum::from_u32(1).unwrap().to_asn1_integer().unwrap())
        .unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(30).unwrap())
        .unwrap();
    b.sign(&key, MessageDigest::sha256()).unwrap();
    (key, b.build())
}

fn signer() -> (XmlSigner, X509) {
    let (key, cert) = key_and_cert("openpoort test idp");
    let pem = String::from_utf8(cert.to_pem().unwrap()).unwrap();
    (XmlSigner::new(&key, &pem).unwrap(), cert)
}

const NOW: i64 = 1_795_417_200;

fn params(name_id: &str, attributes: &[(String, Vec<String>)]) -> AssertionParams {
    AssertionParams {
        idp_entity_id: "https://idp.example/saml/metadata".into(),
        sp_entity_id: "https://sp.example/".into(),
        acs_url: "https://sp.example/acs".into(),
        in_response_to: Some("_req1".into()),
        name_id: name_id.into(),
        name_id_format: NAMEID_PERSISTENT.into(),
        session_index: "_s1".into(),
        authn_instant: NOW - 10,
        authn_context: "urn:openpoort:acr:password".into(),
        attributes: attributes
            .iter()
            .cloned()
            .map(SamlAttribute::from)
            .collect(),
        now: NOW,
        lifetime: 300,
        skew: 60,
        session_not_on_or_after: None,
    }
}

/// Runs the xmlsec1 command on `xml`, trusting only `cert`, with ID attributes of `node`.
fn xmlsec1_verifies(xml: &str, cert: &X509, node: &str) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("doc.xml");
    let pem = dir.path().join("cert.pem");
    std::fs::write(&doc, xml).unwrap();
    std::fs::write(&pem, cert.to_pem().unwrap()).unwrap();
    let out = Command::new("xmlsec1")
        .args(["--verify", "--id-attr:ID", node])
        // Both kinds of ID carry signatures here; xmlsec1 checks the first signature it finds.
        .args([
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
        ])
        .args([
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:protocol:Response",
        ])
        .arg("--pubkey-cert-pem")
        .arg(&pem)
        .arg(&doc)
        .output()
        .expect("xmlsec1 is installed by scripts/setup");
    out.status.success()
}

fn assertion_of(xml: &str) -> dom::Element {
    let root = dom::parse(xml.as_bytes(), dom::Limits::METADATA).unwrap();
    root.child(NS_ASSERTION, "Assertion").unwrap().clone()
}

#[test]
fn signed_assertion_verifies_with_the_xmlsec1_command() {
    let (signer, cert) = signer();
    let attrs = vec![(
        "eduPersonAffiliation".to_owned(),
        vec!["student".to_owned()],
    )];
    let xml =
        success_response(&params("pseudo", &attrs), &signer, Signing::Assertion, None).unwrap();
    assert!(xmlsec1_verifies(
        &xml,
        &cert,
        "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"
    ));
    let (_, other) = key_and_cert("someone else");
    assert!(
        !xmlsec1_verifies(
            &xml,
            &other,
            "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"
        ),
        "another key must not verify it"
    );
}

#[test]
fn signer_with_its_key_kept_loaded_signs_exactly_as_samael_does() {
    // PKCS#1 v1.5 signatures are deterministic: the same document and key must give the same
    // bytes whether the key is decoded per signature (samael) or kept loaded (XmlSigner).
    use samael::crypto::{Crypto, CryptoProvider};
    let (key, cert) = key_and_cert("openpoort test idp");
    let signer = XmlSigner::new(&key, &String::from_utf8(cert.to_pem().unwrap()).unwrap()).unwrap();
    let unsigned = format!(
        r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r1" Version="2.0">{}<samlp:Status/></samlp:Response>"#,
        signer.template("_r1")
    );
    let ours = signer.sign(&unsigned).unwrap();
    let samaels = Crypto::sign_xml(&unsigned, &key.private_key_to_der().unwrap()).unwrap();
    assert_eq!(ours, samaels);
    assert!(xmlsec1_verifies(
        &ours,
        &cert,
        "urn:oasis:names:tc:SAML:2.0:protocol:Response"
    ));
}

#[test]
fn one_signer_shared_by_threads_signs_every_response_validly() {
    let (signer, cert) = signer();
    let signed: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|i| {
                let signer = &signer;
                scope.spawn(move || {
                    (0..25)
                        .map(|j| {
                            success_response(
                                &params(&format!("p{i}-{j}"), &[]),
                                signer,
                                Signing::Both,
                                None,
                            )
                            .unwrap()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert_eq!(signed.len(), 100);
    for xml in signed.iter().step_by(9) {
        assert!(xmlsec1_verifies(
            xml,
            &cert,
            "urn:oasis:names:tc:SAML:2.0:protocol:Response"
        ));
        assert!(xmlsec1_verifies(
            xml,
            &cert,
            "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"
        ));
    }
}

#[test]
fn signed_response_and_assertion_both_verify() {
    let (signer, cert) = signer();
    let xml = success_response(&params("pseudo", &[]), &signer, Signing::Both, None).unwrap();
    assert!(xmlsec1_verifies(
        &xml,
        &cert,
        "urn:oasis:names:tc:SAML:2.0:protocol:Response"
    ));
    let root = dom::parse(xml.as_bytes(), dom::Limits::METADATA).unwrap();
    assert!(root.is(NS_PROTOCOL, "Response"));
    assert!(
        root.child("http://www.w3.org/2000/09/xmldsig#", "Signature")
            .is_some()
    );
    let assertion = root.child(NS_ASSERTION, "Assertion").unwrap();
    assert!(
        assertion
            .child("http://www.w3.org/2000/09/xmldsig#", "Signature")
            .is_some()
    );
}

#[test]
fn markup_characters_in_names_and_values_stay_text_and_keep_the_signature_valid() {
    let (signer, cert) = signer();
    let hostile = r#"a&b<c>d"e'f</saml:NameID><x>"#;
    let attrs = vec![(
        "givenName".to_owned(),
        vec![hostile.to_owned(), "&amp;".to_owned()],
    )];
    let assertion_only =
        success_response(&params(hostile, &attrs), &signer, Signing::Assertion, None).unwrap();
    assert!(xmlsec1_verifies(
        &assertion_only,
        &cert,
        "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"
    ));
    let xml = success_response(&params(hostile, &attrs), &signer, Signing::Both, None).unwrap();
    assert!(xmlsec1_verifies(
        &xml,
        &cert,
        "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"
    ));
    let signed = verified_content(&xml, &[cert.to_der().unwrap()]).unwrap();
    assert!(signed.contains("Response"));
    let a = assertion_of(&xml);
    let name_id = a
        .child(NS_ASSERTION, "Subject")
        .and_then(|s| s.child(NS_ASSERTION, "NameID"))
        .unwrap();
    assert_eq!(name_id.text, hostile);
    let values: Vec<String> = a
        .descendants(NS_ASSERTION, "AttributeValue")
        .iter()
        .map(|v| v.text.clone())
        .collect();
    assert_eq!(values, vec![hostile.to_owned(), "&amp;".to_owned()]);
}

#[test]
fn a_changed_assertion_no_longer_verifies() {
    let (signer, cert) = signer();
    let attrs = vec![(
        "eduPersonAffiliation".to_owned(),
        vec!["student".to_owned()],
    )];
    let xml =
        success_response(&params("pseudo", &attrs), &signer, Signing::Assertion, None).unwrap();
    let forged = xml.replace(">student<", ">employee<");
    assert_ne!(xml, forged);
    assert!(matches!(
        verified_content(&forged, &[cert.to_der().unwrap()]),
        Err(SamlError::BadSignature)
    ));
    assert!(!xmlsec1_verifies(
        &forged,
        &cert,
        "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"
    ));
}

#[test]
fn conditions_and_subject_confirmation_bound_the_assertion() {
    let (signer, _) = signer();
    let xml = success_response(&params("pseudo", &[]), &signer, Signing::Assertion, None).unwrap();
    let a = assertion_of(&xml);
    let conditions = a.child(NS_ASSERTION, "Conditions").unwrap();
    assert_eq!(conditions.attr("NotBefore"), Some("2026-11-23T06:59:00Z"));
    assert_eq!(
        conditions.attr("NotOnOrAfter"),
        Some("2026-11-23T07:05:00Z")
    );
    assert_eq!(
        conditions.descendants(NS_ASSERTION, "Audience")[0].text,
        "https://sp.example/"
    );
    let data = a.descendants(NS_ASSERTION, "SubjectConfirmationData")[0];
    assert_eq!(data.attr("Recipient"), Some("https://sp.example/acs"));
    assert_eq!(data.attr("InResponseTo"), Some("_req1"));
    let statement = a.child(NS_ASSERTION, "AuthnStatement").unwrap();
    assert_eq!(statement.attr("SessionIndex"), Some("_s1"));
}

fn sp_metadata(cert: &X509, extra: &str) -> String {
    let b64 = openssl::base64::encode_block(&cert.to_der().unwrap());
    format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://sp.example/" ID="_md1"{extra}><md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://sp.example/slo"/><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact" Location="https://sp.example/artifact" index="0"/><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example/acs" index="1" isDefault="true"/><md:AttributeConsumingService index="0"><md:ServiceName xml:lang="nl">Rekenrijk</md:ServiceName><md:RequestedAttribute Name="eduPersonAffiliation" isRequired="true"/></md:AttributeConsumingService></md:SPSSODescriptor></md:EntityDescriptor>"#
    )
}

fn settings() -> SpSettings {
    SpSettings {
        party_id: "uitgeverij".into(),
        ..SpSettings::default()
    }
}

#[test]
fn sp_metadata_gives_post_acs_certificates_and_requested_attributes() {
    let (_, cert) = key_and_cert("sp");
    let sp = from_metadata(sp_metadata(&cert, "").as_bytes(), &settings(), NOW, false).unwrap();
    assert_eq!(sp.entity_id, "https://sp.example/");
    assert_eq!(sp.acs.len(), 1, "only HTTP-POST endpoints are kept");
    assert_eq!(
        sp.acs(None, None).unwrap().location,
        "https://sp.example/acs"
    );
    assert!(sp.acs(Some("https://sp.example/artifact"), None).is_none());
    assert!(sp.acs(None, Some(1)).is_some() && sp.acs(None, Some(0)).is_none());
    assert!(sp.authn_requests_signed && sp.want_assertions_signed);
    assert_eq!(sp.signing_certificates.len(), 1);
    assert_eq!(sp.requested_attributes[0].name, "eduPersonAffiliation");
}

#[test]
fn expired_sp_metadata_is_refused() {
    let (_, cert) = key_and_cert("sp");
    let xml = sp_metadata(&cert, r#" validUntil="2020-01-01T00:00:00Z""#);
    assert!(from_metadata(xml.as_bytes(), &settings(), NOW, false).is_err());
}

#[test]
fn sp_metadata_over_plain_http_is_refused_outside_development() {
    let (_, cert) = key_and_cert("sp");
    let xml = sp_metadata(&cert, "").replace("https://sp.example/acs", "http://sp.example/acs");
    assert!(from_metadata(xml.as_bytes(), &settings(), NOW, false).is_err());
}

#[test]
fn signed_sp_metadata_is_required_and_verified_when_a_metadata_certificate_is_configured() {
    let (sp_key, sp_cert) = key_and_cert("sp");
    let (fed_key, fed_cert) = key_and_cert("federation");
    let fed_pem = String::from_utf8(fed_cert.to_pem().unwrap()).unwrap();
    let with_cert = SpSettings {
        metadata_signing_certificate: Some(fed_pem.clone()),
        ..settings()
    };
    let unsigned = sp_metadata(&sp_cert, "");
    assert!(matches!(
        from_metadata(unsigned.as_bytes(), &with_cert, NOW, false),
        Err(SamlError::MissingSignature)
    ));
    let fed_signer = XmlSigner::new(&fed_key, &fed_pem).unwrap();
    let template = fed_signer.template("_md1");
    let to_sign = unsigned.replacen(
        "><md:SPSSODescriptor",
        &format!(">{template}<md:SPSSODescriptor"),
        1,
    );
    let signed = fed_signer.sign(&to_sign).unwrap();
    let sp = from_metadata(signed.as_bytes(), &with_cert, NOW, false).unwrap();
    assert_eq!(sp.entity_id, "https://sp.example/");

    // Signed by the SP itself rather than the configured federation key: refused.
    let sp_pem = String::from_utf8(sp_cert.to_pem().unwrap()).unwrap();
    let self_signed = XmlSigner::new(&sp_key, &sp_pem)
        .unwrap()
        .sign(&to_sign)
        .unwrap();
    assert!(matches!(
        from_metadata(self_signed.as_bytes(), &with_cert, NOW, false),
        Err(SamlError::BadSignature)
    ));
    // A changed endpoint after signing: refused.
    let tampered = signed.replace("https://sp.example/acs", "https://evil.example/acs");
    assert!(from_metadata(tampered.as_bytes(), &with_cert, NOW, false).is_err());
}

#[test]
fn the_signing_defaults_from_want_assertions_signed_in_the_metadata() {
    let (_, cert) = key_and_cert("sp");
    let wants = from_metadata(sp_metadata(&cert, "").as_bytes(), &settings(), NOW, false).unwrap();
    assert!(wants.want_assertions_signed);
    assert_eq!(wants.signing(), Signing::Assertion);
    let silent = sp_metadata(&cert, "").replace(" WantAssertionsSigned=\"true\"", "");
    let silent = from_metadata(silent.as_bytes(), &settings(), NOW, false).unwrap();
    assert_eq!(silent.signing(), Signing::Both);
    let chosen = SpSettings {
        signing: Some(Signing::Both),
        ..settings()
    };
    let chosen = from_metadata(sp_metadata(&cert, "").as_bytes(), &chosen, NOW, false).unwrap();
    assert_eq!(
        chosen.signing(),
        Signing::Both,
        "the registration's choice wins"
    );
}

#[test]
fn signing_only_the_response_is_refused_when_the_metadata_wants_assertions_signed() {
    let (_, cert) = key_and_cert("sp");
    let response_only = SpSettings {
        signing: Some(Signing::Response),
        ..settings()
    };
    let err = from_metadata(
        sp_metadata(&cert, "").as_bytes(),
        &response_only,
        NOW,
        false,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("WantAssertionsSigned"), "{err}");
    let silent = sp_metadata(&cert, "").replace(" WantAssertionsSigned=\"true\"", "");
    let sp = from_metadata(silent.as_bytes(), &response_only, NOW, false).unwrap();
    assert_eq!(sp.signing(), Signing::Response);
}

#[test]
fn a_registration_stored_before_the_signing_choice_keeps_signing_its_assertions() {
    let (_, cert) = key_and_cert("sp");
    let sp = from_metadata(sp_metadata(&cert, "").as_bytes(), &settings(), NOW, false).unwrap();
    let mut stored = serde_json::to_value(&sp).unwrap();
    stored.as_object_mut().unwrap().remove("sign_assertion");
    stored.as_object_mut().unwrap().remove("attribute_names");
    stored["sign_response"] = serde_json::json!(true);
    let old: metadata::saml::ServiceProvider = serde_json::from_value(stored).unwrap();
    assert_eq!(old.signing(), Signing::Both);
    assert_eq!(
        old.attribute_names,
        metadata::saml::sp::AttributeNames::Basic
    );
}

#[test]
fn each_signing_choice_puts_the_signatures_where_it_says_and_xmlsec1_verifies_them() {
    let (signer, cert) = signer();
    let attrs = vec![("mail".to_owned(), vec!["a@b.example".to_owned()])];
    for (signing, on_response, on_assertion) in [
        (Signing::Assertion, false, true),
        (Signing::Response, true, false),
        (Signing::Both, true, true),
    ] {
        let xml = success_response(&params("pseudo", &attrs), &signer, signing, None).unwrap();
        let root = dom::parse(xml.as_bytes(), dom::Limits::METADATA).unwrap();
        assert_eq!(
            root.child(metadata::saml::NS_DSIG, "Signature").is_some(),
            on_response,
            "{signing:?}: {xml}"
        );
        assert_eq!(
            assertion_of(&xml)
                .child(metadata::saml::NS_DSIG, "Signature")
                .is_some(),
            on_assertion,
            "{signing:?}: {xml}"
        );
        // xmlsec1 checks the first signature: the Response's where there is one.
        assert!(
            xmlsec1_verifies(&xml, &cert, "urn:oasis:names:tc:SAML:2.0:protocol:Response"),
            "{signing:?}"
        );
        let (_, other) = key_and_cert("someone else");
        assert!(
            !xmlsec1_verifies(
                &xml,
                &other,
                "urn:oasis:names:tc:SAML:2.0:protocol:Response"
            ),
            "{signing:?}: another key must not verify it"
        );
    }
}
