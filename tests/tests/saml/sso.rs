//! SP-initiated login: responses samael accepts and xmlsec1 verifies, passive, forced, denied.

use openpoort_e2e::{choose_99zz00, log_in_as_bram};

use crate::common::{PUBLISHER, Sp, demo, new_id, posted, xmlsec1_verifies};

/// The attributes of an Assertion as (name, values).
fn released(assertion: &samael::schema::Assertion) -> Vec<(String, Vec<String>)> {
    assertion
        .attribute_statements
        .iter()
        .flatten()
        .flat_map(|s| s.attributes.iter())
        .map(|a| {
            (
                a.name.clone().unwrap_or_default(),
                a.values.iter().filter_map(|v| v.value.clone()).collect(),
            )
        })
        .collect()
}

#[tokio::test]
async fn sp_initiated_login_is_accepted_by_samael_and_verified_by_xmlsec1() {
    let d = demo();
    let sp = Sp::new("rekenrijk", false);
    sp.register(&d, &[]);
    let mut b = d.finn().await;
    let id = new_id();
    let page = b
        .get(&sp.redirect(&sp.authn_request(&id, ""), Some("les-3"), false))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let (action, xml, relay) = posted(&page);
    assert_eq!(action, sp.acs);
    assert_eq!(
        relay.as_deref(),
        Some("les-3"),
        "RelayState comes back unchanged"
    );
    assert!(xmlsec1_verifies(&xml, &d.idp_certificate().await), "{xml}");

    let assertion = sp.accepts(&d, &xml, &id).await;
    let name_id = assertion
        .subject
        .as_ref()
        .and_then(|s| s.name_id.as_ref())
        .unwrap();
    assert_eq!(
        name_id.format.as_deref(),
        Some("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")
    );
    assert!(!name_id.value.is_empty());
    let attributes = released(&assertion);
    assert!(
        attributes.contains(&("eduPersonAffiliation".into(), vec!["student".into()])),
        "{attributes:?}"
    );
    assert!(
        attributes
            .iter()
            .any(|(n, v)| n == "nlEduPersonHomeOrganizationId" && v == &["99ZZ".to_owned()]),
        "{attributes:?}"
    );
    assert!(
        !attributes
            .iter()
            .any(|(n, _)| n == "givenName" || n == "sn"),
        "names are not released without the party's policy: {attributes:?}"
    );

    // A second SP login of the same pupil keeps the pseudonym.
    let again = b
        .get(&sp.redirect(&sp.authn_request(&new_id(), ""), None, false))
        .await;
    let (_, xml2, _) = posted(&again);
    assert!(xml2.contains(&format!(">{}</saml:NameID>", name_id.value)));
}

#[tokio::test]
async fn is_passive_without_a_session_answers_no_passive() {
    let d = demo();
    let sp = Sp::new("rekenrijk", false);
    sp.register(&d, &[]);
    let mut b = d.browser();
    let page = b
        .get(&sp.redirect(
            &sp.authn_request(&new_id(), " IsPassive=\"true\""),
            None,
            false,
        ))
        .await;
    let (action, xml, _) = posted(&page);
    assert_eq!(action, sp.acs);
    assert!(
        xml.contains("urn:oasis:names:tc:SAML:2.0:status:NoPassive"),
        "{xml}"
    );
    assert!(
        !xml.contains("<saml:Assertion"),
        "no assertion without a login"
    );
    assert!(xmlsec1_verifies(&xml, &d.idp_certificate().await));
}

#[tokio::test]
async fn without_a_session_the_user_signs_in_first_and_force_authn_asks_again() {
    let d = demo();
    let sp = Sp::new("rekenrijk", false);
    sp.register(&d, &[]);
    let mut b = d.browser();
    let page = b
        .get(&sp.redirect(&sp.authn_request(&new_id(), ""), None, false))
        .await;
    assert_eq!(page.status, 303);
    assert!(
        page.location()
            .unwrap()
            .starts_with("/inloggen?next=%2Fsaml%2Fsso%2Fverder")
    );

    // Finn has a session; ForceAuthn still sends him to a login.
    let mut finn = d.finn().await;
    let forced = finn
        .get(&sp.redirect(
            &sp.authn_request(&new_id(), " ForceAuthn=\"true\""),
            None,
            false,
        ))
        .await;
    assert_eq!(forced.status, 303, "{}", forced.body);
    assert!(forced.location().unwrap().starts_with("/inloggen?next="));
}

#[tokio::test]
async fn teacher_without_a_session_signs_in_and_comes_back_to_the_sp_with_a_response() {
    let d = demo();
    let sp = Sp::new("rekenrijk", false);
    sp.register(&d, &[]);
    let mut b = d.browser();
    let id = new_id();
    let asked = b
        .get(&sp.redirect(&sp.authn_request(&id, ""), Some("les-7"), false))
        .await;
    let login = asked.location().expect("to the login page").to_owned();
    assert!(login.starts_with("/inloggen?next="), "{login}");
    // Bram works at two schools: after the password, the school choice, then the parked request.
    let logged_in = log_in_as_bram(&mut b, &login).await;
    let choose = logged_in.location().unwrap_or_default().to_owned();
    assert!(choose.starts_with("/school-kiezen?next="), "{choose}");
    let chosen = choose_99zz00(&mut b, &choose).await;
    let resume = chosen.location().unwrap_or_default().to_owned();
    assert!(resume.starts_with("/saml/sso/verder?"), "{resume}");
    let (action, xml, relay) = posted(&b.get(&resume).await);
    assert_eq!(
        (action.as_str(), relay.as_deref()),
        (sp.acs.as_str(), Some("les-7"))
    );
    assert!(xmlsec1_verifies(&xml, &d.idp_certificate().await), "{xml}");
    let assertion = sp.accepts(&d, &xml, &id).await;
    assert!(
        released(&assertion).contains(&(
            "eduPersonAffiliation".into(),
            vec!["employee".into(), "faculty".into()]
        )),
        "a teacher, not a pupil"
    );
}

#[tokio::test]
async fn encrypted_assertion_is_decrypted_by_samael_with_the_sp_key() {
    let d = demo();
    let sp = Sp::new("rekenrijk", false);
    sp.register(&d, &["--encrypt", "--sign-response"]);
    let mut b = d.finn().await;
    let id = new_id();
    let page = b
        .get(&sp.redirect(&sp.authn_request(&id, ""), None, false))
        .await;
    let (_, xml, _) = posted(&page);
    assert!(xml.contains("<saml:EncryptedAssertion>"), "{xml}");
    assert!(
        !xml.contains("student"),
        "attribute values are not readable in transit"
    );
    assert!(
        xmlsec1_verifies(&xml, &d.idp_certificate().await),
        "the Response is signed"
    );
    let assertion = sp.accepts(&d, &xml, &id).await;
    assert!(assertion.subject.is_some());
}

#[tokio::test]
async fn denied_login_explains_and_sends_request_denied_only_when_the_user_goes_back() {
    let d = demo();
    let sp = Sp::new("rekenrijk", false);
    sp.register(&d, &[]);
    d.cli_ok(&[
        "consent", "revoke", "--school", "99ZZ00", "--party", PUBLISHER,
    ]);
    let mut b = d.finn().await;
    let page = b
        .get(&sp.redirect(&sp.authn_request(&new_id(), ""), None, false))
        .await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(
        page.body.contains("toestemming"),
        "explains the missing consent: {}",
        page.body
    );
    assert!(
        page.body.contains("data-auto=\"0\""),
        "does not post by itself"
    );
    let (_, xml, _) = posted(&page);
    assert!(xml.contains("urn:oasis:names:tc:SAML:2.0:status:RequestDenied"));
    assert!(!xml.contains("<saml:Assertion"));
}

#[tokio::test]
async fn markup_in_a_teachers_name_is_escaped_in_the_assertion_and_the_signature_holds() {
    let d = demo();
    let sp = Sp::new("rekenrijk", false);
    // This SP asks for names, and the publisher's policy allows them.
    let asks = sp.metadata().replace(
        "</md:SPSSODescriptor>",
        r#"<md:AttributeConsumingService index="0"><md:ServiceName xml:lang="nl">Rekenrijk</md:ServiceName><md:RequestedAttribute Name="givenName"/><md:RequestedAttribute Name="sn"/></md:AttributeConsumingService></md:SPSSODescriptor>"#,
    );
    d.add_sp(&asks, &[]);
    for attribute in ["given_name", "family_name"] {
        d.cli_ok(&[
            "party",
            "allow-attribute",
            "--party",
            PUBLISHER,
            "--attribute",
            attribute,
        ]);
    }
    let (given, family) = (r#"Zoë "Jr" & <Bo>"#, "O'Brien");
    let out = d.cli_ok(&[
        "staff",
        "add",
        "--school",
        "99ZZ00",
        "--email",
        "zoe@demo.openpoort.nl",
        "--achternaam",
        family,
        "--roepnaam",
        given,
        "--role",
        "leerkracht",
    ]);
    let link = out
        .lines()
        .find(|l| l.contains("/activeren?token="))
        .expect("activation link");
    let link = link[link.find("/activeren").unwrap()..].trim().to_owned();
    let mut b = d.browser();
    let password = "Kaasboer-Regenjas-73";
    let activated = b
        .submit(
            &link,
            &[("password", password), ("password_repeat", password)],
        )
        .await;
    assert_eq!(activated.status, 303, "{}", activated.body);
    let signed_in = b
        .submit(
            "/inloggen",
            &[("email", "zoe@demo.openpoort.nl"), ("password", password)],
        )
        .await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);

    let id = new_id();
    let (_, xml, _) = posted(
        &b.get(&sp.redirect(&sp.authn_request(&id, ""), None, false))
            .await,
    );
    assert!(
        xml.contains("Zoë &quot;Jr&quot; &amp; &lt;Bo&gt;")
            || xml.contains("Zoë \"Jr\" &amp; &lt;Bo&gt;"),
        "{xml}"
    );
    assert!(xmlsec1_verifies(&xml, &d.idp_certificate().await), "{xml}");
    let assertion = sp.accepts(&d, &xml, &id).await;
    let values = released(&assertion);
    assert!(
        values.contains(&("givenName".into(), vec![given.to_owned()])),
        "{values:?}"
    );
    assert!(
        values.contains(&("sn".into(), vec![family.to_owned()])),
        "{values:?}"
    );
}
