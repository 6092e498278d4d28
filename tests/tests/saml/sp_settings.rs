//! What an SP's registration decides at login: its metadata's validUntil, the names its
//! attributes go by, and which parts of the Response openpoort signs.

use std::time::Duration;

use crate::common::{Sp, assert_refused, demo, new_id, posted, xmlsec1_verifies};

/// The (Name, NameFormat, FriendlyName, values) of each attribute in `xml`, in order.
fn attributes(xml: &str) -> Vec<(String, String, String, Vec<String>)> {
    let attr = |tag: &str, name: &str| {
        let at = tag
            .find(&format!(" {name}=\""))
            .map(|i| i + name.len() + 3)?;
        Some(tag[at..at + tag[at..].find('"')?].to_owned())
    };
    xml.split("<saml:Attribute ")
        .skip(1)
        .map(|part| {
            // The split took the space before the first attribute with it.
            let tag = &format!(" {}", &part[..part.find('>').unwrap()]);
            let body = &part[..part.find("</saml:Attribute>").unwrap()];
            let values = body
                .split("<saml:AttributeValue>")
                .skip(1)
                .map(|v| v[..v.find('<').unwrap()].to_owned())
                .collect();
            (
                attr(tag, "Name").unwrap(),
                attr(tag, "NameFormat").unwrap(),
                attr(tag, "FriendlyName").unwrap(),
                values,
            )
        })
        .collect()
}

#[tokio::test]
async fn an_sp_whose_metadata_passed_valid_until_is_refused_at_login_with_its_name_and_date() {
    let d = demo();
    let sp = Sp::new("rekenrijk", false);
    let until = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + 2;
    let date = metadata::saml::time::format(until);
    let expiring = sp.metadata().replace(
        "<md:EntityDescriptor ",
        &format!(r#"<md:EntityDescriptor validUntil="{date}" "#),
    );
    d.add_sp(&expiring, &["--name", "Rekenrijk"]);
    let mut finn = d.finn().await;
    let (_, xml, _) = posted(
        &finn
            .get(&sp.redirect(&sp.authn_request(&new_id(), ""), None, false))
            .await,
    );
    assert!(xml.contains("status:Success"), "valid until then: {xml}");

    tokio::time::sleep(Duration::from_millis(3_000)).await;
    let page = finn
        .get(&sp.redirect(&sp.authn_request(&new_id(), ""), None, false))
        .await;
    assert_refused(&page, "expired metadata");
    assert!(
        page.body.contains("Rekenrijk") && page.body.contains(&date),
        "names the SP and the date: {}",
        page.body
    );
    assert!(page.body.contains("verlopen") && page.body.contains("expired"));
    // An IdP-initiated login (a portal tile) is refused the same way.
    let tile = finn
        .get(&format!(
            "/saml/start?sp={}",
            crate::common::enc(&sp.entity)
        ))
        .await;
    assert_refused(&tile, "expired metadata, IdP-initiated");

    let db = d.dir.path().join("data/openpoort.sqlite");
    let out = std::process::Command::new("sqlite3")
        .arg(&db)
        .arg("SELECT subject FROM audit_log WHERE action = 'saml_sp.metadata_expired'")
        .output()
        .expect("sqlite3");
    let audited = String::from_utf8_lossy(&out.stdout);
    assert!(
        audited.lines().filter(|l| *l == sp.entity).count() >= 2,
        "each refusal is audited: {audited:?}"
    );
}

#[tokio::test]
async fn uri_attribute_names_carry_urn_oid_names_with_the_uri_name_format_and_the_same_values() {
    let d = demo();
    let basic = Sp::new("rekenrijk", false);
    basic.register(&d, &[]);
    let uri = Sp::new("taalrijk", false);
    uri.register(&d, &["--attribute-names", "uri"]);
    let mut finn = d.finn().await;
    let (_, plain, _) = posted(
        &finn
            .get(&basic.redirect(&basic.authn_request(&new_id(), ""), None, false))
            .await,
    );
    let id = new_id();
    let (_, oid, _) = posted(
        &finn
            .get(&uri.redirect(&uri.authn_request(&id, ""), None, false))
            .await,
    );
    assert!(xmlsec1_verifies(&oid, &d.idp_certificate().await), "{oid}");
    uri.accepts(&d, &oid, &id).await;

    let (plain, oid) = (attributes(&plain), attributes(&oid));
    let basic_format = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic";
    let uri_format = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri";
    assert!(
        oid.contains(&(
            "urn:oid:1.3.6.1.4.1.5923.1.1.1.1".into(),
            uri_format.into(),
            "eduPersonAffiliation".into(),
            vec!["student".into()]
        )),
        "{oid:?}"
    );
    assert!(
        oid.iter()
            .any(|(n, f, _, _)| n == "urn:oid:0.9.2342.19200300.100.1.1" && f == uri_format),
        "the pseudonym as uid: {oid:?}"
    );
    assert!(
        oid.iter()
            .any(|(n, f, _, v)| n == "nlEduPersonHomeOrganizationId"
                && f == basic_format
                && v == &["99ZZ".to_owned()]),
        "no standard OID: the basic name stays: {oid:?}"
    );
    assert!(
        plain
            .iter()
            .all(|(n, f, fr, _)| f == basic_format && n == fr)
    );
    // The same data either way: each attribute under its FriendlyName with the same values,
    // the pseudonym included (one pairwise sector per party).
    let by_friendly = |list: &[(String, String, String, Vec<String>)]| {
        let mut l: Vec<(String, Vec<String>)> = list
            .iter()
            .map(|(_, _, f, v)| (f.clone(), v.clone()))
            .collect();
        l.sort();
        l
    };
    assert_eq!(by_friendly(&plain), by_friendly(&oid));
}

/// Where the signatures of `xml` sit: (on the Response, on the Assertion).
fn signed_parts(xml: &str) -> (bool, bool) {
    let assertion_at = xml.find("<saml:Assertion").expect("an assertion");
    let signatures: Vec<usize> = xml.match_indices("<ds:Signature").map(|(i, _)| i).collect();
    (
        signatures.iter().any(|i| *i < assertion_at),
        signatures.iter().any(|i| *i > assertion_at),
    )
}

#[tokio::test]
async fn each_signing_choice_signs_what_it_names_and_xmlsec1_verifies_it() {
    let d = demo();
    let cert = d.idp_certificate().await;
    let mut finn = d.finn().await;
    for (name, choice, expected) in [
        ("assertie", Some("assertion"), (false, true)),
        ("bericht", Some("response"), (true, false)),
        ("beide", Some("both"), (true, true)),
        // No choice, metadata without WantAssertionsSigned: both, since nothing says which.
        ("onbepaald", None, (true, true)),
    ] {
        let sp = Sp::new(name, false);
        let metadata = sp.metadata().replace(" WantAssertionsSigned=\"true\"", "");
        match choice {
            Some(c) => d.add_sp(&metadata, &["--signing", c]),
            None => d.add_sp(&metadata, &[]),
        }
        let id = new_id();
        let (_, xml, _) = posted(
            &finn
                .get(&sp.redirect(&sp.authn_request(&id, ""), None, false))
                .await,
        );
        assert_eq!(signed_parts(&xml), expected, "{name}: {xml}");
        assert!(xmlsec1_verifies(&xml, &cert), "{name}: {xml}");
        if !expected.0 {
            // xmlsec1 checks the first signature; with the Assertion's alone, check it there.
            let start = xml.find("<saml:Assertion").unwrap();
            let end = xml.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
            assert!(xmlsec1_verifies(&xml[start..end], &cert), "{name}");
        }
        sp.accepts(&d, &xml, &id).await;
    }
}

#[tokio::test]
async fn signing_only_the_response_is_refused_for_an_sp_whose_metadata_wants_assertions_signed() {
    let d = demo();
    let sp = Sp::new("rekenrijk", false);
    let path = d.dir.path().join("rekenrijk.xml");
    std::fs::write(&path, sp.metadata()).unwrap();
    let out = d.cli(&[
        "sp",
        "add",
        "--party",
        crate::common::PUBLISHER,
        "--metadata",
        &path.to_string_lossy(),
        "--signing",
        "response",
    ]);
    assert!(!out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("WantAssertionsSigned"), "{err}");
    // By default such an SP gets what it asked for: the Assertion signed, the Response not.
    sp.register(&d, &[]);
    let mut finn = d.finn().await;
    let (_, xml, _) = posted(
        &finn
            .get(&sp.redirect(&sp.authn_request(&new_id(), ""), None, false))
            .await,
    );
    assert_eq!(signed_parts(&xml), (false, true));
}

#[test]
fn the_registration_help_explains_each_choice_for_common_sp_libraries_dutch_first() {
    let dir = tempfile::tempdir().unwrap();
    let out =
        openpoort_e2e::run(openpoort_e2e::openpoort(dir.path()).args(["sp", "add", "--help"]));
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    for shown in [
        "assertion:",
        "response:",
        "both:",
        "python3-saml",
        "pysaml2",
        "Shibboleth SP",
        "SimpleSAMLphp",
        "urn:oid:",
    ] {
        assert!(help.contains(shown), "{shown}: {help}");
    }
    let nl = help.find("Alleen de Assertion ondertekend").expect("Dutch");
    let en = help.find("Only the Assertion signed").expect("English");
    assert!(nl < en, "Dutch first");
}
