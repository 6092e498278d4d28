//! A network provider's SAML Response as openpoort receives it: a real upstream IdP signs with
//! the project's own signer; an attacker holds a second key pair that is not in the provider's
//! metadata. Every refusal asserts WHICH check refused.

use std::collections::HashSet;

use metadata::saml::inbound::{Expectations, InboundError, VerifiedAssertion, verify_response};
use metadata::saml::response::{
    AssertionParams, SamlAttribute, Signing, Status, status_response, success_response,
};
use metadata::saml::sign::{XmlSigner, verified_content};
use metadata::saml::{NAMEID_PERSISTENT, NS_ASSERTION, STATUS_SUCCESS, dom};
use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::{X509, X509NameBuilder};

const IDP: &str = "https://netwerk.example/saml/idp";
const SP: &str = "https://openpoort.example/saml/sp";
const ACS: &str = "https://openpoort.example/saml/acs";
const REQUEST: &str = "_req4f2a";
const SUBJECT: &str = "leerling-123";
const EVIL: &str = "beheerder-1";
const NOW: i64 = 1_795_417_200;

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

fn pem(cert: &X509) -> String {
    String::from_utf8(cert.to_pem().unwrap()).unwrap()
}

/// The network provider: its signer and the certificate in its registered metadata.
struct Upstream {
    signer: XmlSigner,
    cert: X509,
}

fn upstream() -> Upstream {
    let (key, cert) = key_and_cert("netwerk test idp");
    Upstream {
        signer: XmlSigner::new(&key, &pem(&cert)).unwrap(),
        cert,
    }
}

fn params() -> AssertionParams {
    AssertionParams {
        idp_entity_id: IDP.into(),
        sp_entity_id: SP.into(),
        acs_url: ACS.into(),
        in_response_to: Some(REQUEST.into()),
        name_id: SUBJECT.into(),
        name_id_format: NAMEID_PERSISTENT.into(),
        session_index: "_sess1".into(),
        authn_instant: NOW - 10,
        authn_context: "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport".into(),
        attributes: vec![
            ("uid".into(), vec![SUBJECT.into()]),
            ("groep".into(), vec!["7a".into(), "7b".into()]),
        ]
        .into_iter()
        .map(SamlAttribute::from)
        .collect(),
        now: NOW,
        lifetime: 300,
        skew: 60,
        session_not_on_or_after: None,
    }
}

fn expect(up: &Upstream) -> Expectations {
    Expectations::new(
        IDP,
        vec![up.cert.to_der().unwrap()],
        SP,
        ACS,
        Some(REQUEST.into()),
    )
}

fn verify(xml: &str, e: &Expectations) -> Result<VerifiedAssertion, InboundError> {
    verify_response(xml.as_bytes(), e, NOW)
}

/// Signed Assertion inside a signed Response.
fn signed_response(up: &Upstream, p: &AssertionParams) -> String {
    success_response(p, &up.signer, Signing::Both, None).unwrap()
}

/// Signed Assertion inside an unsigned Response.
fn unsigned_response(up: &Upstream, p: &AssertionParams) -> String {
    success_response(p, &up.signer, Signing::Assertion, None).unwrap()
}

fn strip_declaration(xml: &str) -> String {
    match xml.trim_start().strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").unwrap().1.trim_start().to_owned(),
        None => xml.to_owned(),
    }
}

/// Byte range of the first `<tag ...>...</tag>` at or after `from`.
fn span(xml: &str, tag: &str, from: usize) -> (usize, usize) {
    let start = from + xml[from..].find(&format!("<{tag}")).expect(tag);
    let close = format!("</{tag}>");
    let end = start + xml[start..].find(&close).expect(tag) + close.len();
    (start, end)
}

fn assertion_span(xml: &str) -> (usize, usize) {
    span(xml, "saml:Assertion", 0)
}

fn attr_value(xml: &str, tag: &str, name: &str) -> String {
    let (start, _) = span(xml, tag, 0);
    let open_end = start + xml[start..].find('>').unwrap();
    let head = &xml[start..open_end];
    let needle = format!(r#" {name}=""#);
    let at = head.find(&needle).expect(name) + needle.len();
    head[at..at + head[at..].find('"').unwrap()].to_owned()
}

/// The first ds:Signature inside `xml` removed.
fn without_signature(xml: &str) -> String {
    let (s, e) = span(xml, "ds:Signature", 0);
    format!("{}{}", &xml[..s], &xml[e..])
}

/// An attacker's assertion: the original with another subject and ID, its signature removed
/// unless `keep_signature`.
fn evil_assertion(original: &str, keep_signature: bool) -> String {
    let id = attr_value(original, "saml:Assertion", "ID");
    let body = if keep_signature {
        original.to_owned()
    } else {
        without_signature(original)
    };
    body.replacen(&format!(r#"ID="{id}""#), r#"ID="_evil_assertion""#, 1)
        .replace(
            &format!(">{SUBJECT}</saml:NameID>"),
            &format!(">{EVIL}</saml:NameID>"),
        )
        .replace(
            &format!("<saml:AttributeValue>{SUBJECT}<"),
            &format!("<saml:AttributeValue>{EVIL}<"),
        )
}

/// Adds a signature over the whole Response (its template after the Response's Issuer) and
/// signs it, as the upstream IdP would in a second pass.
fn sign_response_with(signer: &XmlSigner, xml: &str) -> String {
    let id = attr_value(xml, "samlp:Response", "ID");
    let at = xml.find("</saml:Issuer>").unwrap() + "</saml:Issuer>".len();
    let doc = format!("{}{}{}", &xml[..at], signer.template(&id), &xml[at..]);
    strip_declaration(&signer.sign(&doc).unwrap())
}

/// Replaces the first signature of `xml` by `template` and signs it with `signer`.
fn resign_first(signer: &XmlSigner, xml: &str, template: &str) -> String {
    let (s, e) = span(xml, "ds:Signature", 0);
    let doc = format!("{}{}{}", &xml[..s], template, &xml[e..]);
    strip_declaration(&signer.sign(&doc).unwrap())
}

/// The NameIDs that survive signature reduction: what a reader of only the signed content sees.
fn signed_subjects(xml: &str, up: &Upstream) -> Vec<String> {
    match verified_content(xml, &[up.cert.to_der().unwrap()]) {
        Err(_) => Vec::new(),
        Ok(reduced) => dom::parse(reduced.as_bytes(), dom::Limits::MESSAGE)
            .unwrap()
            .descendants(NS_ASSERTION, "NameID")
            .iter()
            .map(|n| n.text.clone())
            .collect(),
    }
}

// ---------------------------------------------------------------- accepted

#[test]
fn a_signed_assertion_in_a_signed_response_is_accepted_with_everything_it_states() {
    let up = upstream();
    let xml = signed_response(&up, &params());
    let v = verify(&xml, &expect(&up)).unwrap();
    assert_eq!(v.name_id, SUBJECT);
    assert_eq!(v.name_id_format.as_deref(), Some(NAMEID_PERSISTENT));
    assert_eq!(v.issuer, IDP);
    assert_eq!(v.assertion_id, attr_value(&xml, "saml:Assertion", "ID"));
    assert_eq!(v.attributes["uid"], vec![SUBJECT.to_owned()]);
    assert_eq!(
        v.attributes["groep"],
        vec!["7a".to_owned(), "7b".to_owned()]
    );
    assert_eq!(v.authn_instant, NOW - 10);
    assert_eq!(v.session_index.as_deref(), Some("_sess1"));
    assert_eq!(v.not_on_or_after, NOW + 300);
    assert!(v.response_signed && v.assertion_signed);
}

#[test]
fn a_signed_assertion_in_an_unsigned_response_is_accepted() {
    let up = upstream();
    let v = verify(&unsigned_response(&up, &params()), &expect(&up)).unwrap();
    assert_eq!(v.name_id, SUBJECT);
    assert!(!v.response_signed && v.assertion_signed);
}

#[test]
fn an_unsolicited_response_is_accepted_when_no_request_is_outstanding() {
    let up = upstream();
    let mut p = params();
    p.in_response_to = None;
    let mut e = expect(&up);
    e.request_id = None;
    assert_eq!(
        verify(&signed_response(&up, &p), &e).unwrap().name_id,
        SUBJECT
    );
}

#[test]
fn any_of_several_registered_certificates_verifies() {
    let up = upstream();
    let (_, other) = key_and_cert("rolled over");
    let mut e = expect(&up);
    e.certificates.insert(0, other.to_der().unwrap());
    assert!(verify(&signed_response(&up, &params()), &e).is_ok());
}

// ------------------------------------------------------- signatures and keys

#[test]
fn a_response_without_any_signature_is_refused() {
    let up = upstream();
    let xml = without_signature(&unsigned_response(&up, &params()));
    assert_eq!(verify(&xml, &expect(&up)), Err(InboundError::Unsigned));
}

#[test]
fn an_unsigned_assertion_in_a_signed_response_is_refused_when_the_policy_requires_it() {
    let up = upstream();
    let bare = without_signature(&unsigned_response(&up, &params()));
    let xml = sign_response_with(&up.signer, &bare);
    assert_eq!(
        verify(&xml, &expect(&up)),
        Err(InboundError::AssertionNotSigned)
    );
}

#[test]
fn an_unsigned_assertion_in_a_signed_response_is_accepted_when_the_policy_allows_it() {
    let up = upstream();
    let bare = without_signature(&unsigned_response(&up, &params()));
    let xml = sign_response_with(&up.signer, &bare);
    let mut e = expect(&up);
    e.require_signed_assertion = false;
    let v = verify(&xml, &e).unwrap();
    assert!(v.response_signed && !v.assertion_signed);
    assert_eq!(v.name_id, SUBJECT);
}

#[test]
fn an_assertion_signed_with_a_key_not_in_the_metadata_is_refused() {
    let up = upstream();
    let (attacker_key, _) = key_and_cert("attacker");
    // The attacker's key, but the provider's certificate in KeyInfo.
    let forger = XmlSigner::new(&attacker_key, &pem(&up.cert)).unwrap();
    let xml = success_response(&params(), &forger, Signing::Assertion, None).unwrap();
    assert_eq!(verify(&xml, &expect(&up)), Err(InboundError::Signature));
}

#[test]
fn an_assertion_carrying_the_attackers_own_keyinfo_certificate_is_refused() {
    let up = upstream();
    let attacker = upstream();
    let xml = signed_response(&attacker, &params());
    assert!(xml.contains(&attacker.signer.certificate_b64));
    assert_eq!(verify(&xml, &expect(&up)), Err(InboundError::Signature));
}

#[test]
fn a_signed_assertion_changed_after_signing_is_refused() {
    let up = upstream();
    let xml = unsigned_response(&up, &params()).replace(
        &format!(">{SUBJECT}</saml:NameID>"),
        &format!(">{EVIL}</saml:NameID>"),
    );
    assert_eq!(verify(&xml, &expect(&up)), Err(InboundError::Signature));
}

#[test]
fn an_assertion_signed_with_sha1_is_refused() {
    let up = upstream();
    let xml = unsigned_response(&up, &params());
    let id = attr_value(&xml, "saml:Assertion", "ID");
    let sha1 = up
        .signer
        .template(&id)
        .replace(
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        )
        .replace(
            "http://www.w3.org/2001/04/xmlenc#sha256",
            "http://www.w3.org/2000/09/xmldsig#sha1",
        );
    let xml = resign_first(&up.signer, &xml, &sha1);
    assert!(xml.contains("xmldsig#rsa-sha1"));
    // A valid signature by the provider's key: only the algorithm policy refuses it.
    let certs = [samael::crypto::CertificateDer::from(
        up.cert.to_der().unwrap(),
    )];
    assert!(
        <samael::crypto::Crypto as samael::crypto::CryptoProvider>::reduce_xml_to_signed(
            &xml,
            &certs,
            samael::crypto::ReduceMode::ValidateAndMarkNoAncestors,
        )
        .is_ok()
    );
    assert_eq!(verify(&xml, &expect(&up)), Err(InboundError::Signature));
}

#[test]
fn a_signature_over_part_of_the_assertion_does_not_sign_the_assertion() {
    let up = upstream();
    let xml = unsigned_response(&up, &params()).replacen(
        "<saml:Subject>",
        r#"<saml:Subject ID="_subject">"#,
        1,
    );
    let xml = resign_first(&up.signer, &xml, &up.signer.template("_subject"));
    assert_eq!(
        verify(&xml, &expect(&up)),
        Err(InboundError::SignedElementMisplaced)
    );
}

#[test]
fn a_signature_over_another_element_of_the_response_is_refused() {
    let up = upstream();
    let xml = unsigned_response(&up, &params());
    // A provider-signed element of its own in the Extensions, then the whole Response signed.
    let at = xml.find("</saml:Issuer>").unwrap() + "</saml:Issuer>".len();
    let extension = format!(
        r#"<samlp:Extensions><x:Note xmlns:x="urn:example:note" ID="_note">{}hallo</x:Note></samlp:Extensions>"#,
        up.signer.template("_note")
    );
    let xml = strip_declaration(
        &up.signer
            .sign(&format!("{}{extension}{}", &xml[..at], &xml[at..]))
            .unwrap(),
    );
    let xml = sign_response_with(&up.signer, &xml);
    assert_eq!(
        verify(&xml, &expect(&up)),
        Err(InboundError::ReferenceTarget("#_note".into()))
    );
}

/// The provider signs its assertion after `edit`: a validly signed assertion that states
/// something unusual.
fn signed_after(up: &Upstream, edit: impl Fn(String) -> String) -> String {
    let xml = edit(unsigned_response(up, &params()));
    let id = attr_value(&xml, "saml:Assertion", "ID");
    resign_first(&up.signer, &xml, &up.signer.template(&id))
}

#[test]
fn a_signed_assertion_moved_out_of_its_place_is_refused() {
    let up = upstream();
    let original = unsigned_response(&up, &params());
    let (as_, ae) = assertion_span(&original);
    let at = original.find("</saml:Issuer>").unwrap() + "</saml:Issuer>".len();
    let xml = format!(
        "{}<samlp:Extensions>{}</samlp:Extensions>{}{}",
        &original[..at],
        &original[as_..ae],
        &original[at..as_],
        &original[ae..]
    );
    assert_eq!(
        verify(&xml, &expect(&up)),
        Err(InboundError::AssertionOutsideSignature)
    );
}

#[test]
fn an_assertion_without_a_bearer_confirmation_is_refused() {
    let up = upstream();
    let xml = signed_after(&up, |x| {
        x.replace(
            "urn:oasis:names:tc:SAML:2.0:cm:bearer",
            "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key",
        )
    });
    assert_eq!(
        verify(&xml, &expect(&up)),
        Err(InboundError::SubjectConfirmation)
    );
}

#[test]
fn a_bearer_confirmation_without_end_is_refused() {
    let up = upstream();
    let xml = signed_after(&up, |x| {
        let end = attr_value(&x, "saml:Conditions", "NotOnOrAfter");
        x.replacen(
            &format!(r#" NotOnOrAfter="{end}" Recipient="#),
            " Recipient=",
            1,
        )
    });
    assert_eq!(
        verify(&xml, &expect(&up)),
        Err(InboundError::Missing(
            "SubjectConfirmationData NotOnOrAfter"
        ))
    );
}

#[test]
fn an_assertion_whose_conditions_expired_is_refused() {
    let up = upstream();
    let xml = signed_after(&up, |x| {
        let end = attr_value(&x, "saml:Conditions", "NotOnOrAfter");
        x.replacen(
            &format!(r#"<saml:Conditions NotBefore="2026-11-23T06:59:00Z" NotOnOrAfter="{end}""#),
            r#"<saml:Conditions NotBefore="2026-11-23T06:50:00Z" NotOnOrAfter="2026-11-23T06:55:00Z""#,
            1,
        )
    });
    assert!(xml.contains("06:55:00Z"));
    assert!(matches!(
        verify(&xml, &expect(&up)),
        Err(InboundError::Expired(t)) if t == "2026-11-23T06:55:00Z"
    ));
}

#[test]
fn an_assertion_without_audience_restriction_is_refused() {
    let up = upstream();
    let xml = signed_after(&up, |x| {
        let (s, e) = span(&x, "saml:AudienceRestriction", 0);
        format!("{}{}", &x[..s], &x[e..])
    });
    assert_eq!(verify(&xml, &expect(&up)), Err(InboundError::Audience));
}

#[test]
fn every_audience_restriction_must_name_openpoort() {
    let up = upstream();
    let xml = signed_after(&up, |x| {
        x.replacen(
            "</saml:AudienceRestriction>",
            "</saml:AudienceRestriction><saml:AudienceRestriction><saml:Audience>https://ander.example/sp</saml:Audience></saml:AudienceRestriction>",
            1,
        )
    });
    assert_eq!(verify(&xml, &expect(&up)), Err(InboundError::Audience));
}

// ------------------------------------------------------------------ replay

#[test]
fn a_replayed_assertion_is_refused_by_its_replay_key() {
    let up = upstream();
    let e = expect(&up);
    let xml = signed_response(&up, &params());
    // The shared store's put_if_absent, as the HTTP front end will use it.
    let mut seen: HashSet<String> = HashSet::new();
    let mut first_use = |xml: &str| {
        let v = verify(xml, &e).unwrap();
        seen.insert(v.replay_key())
    };
    assert!(first_use(&xml));
    assert!(!first_use(&xml), "the same assertion a second time");
    assert!(
        first_use(&signed_response(&up, &params())),
        "a fresh assertion of the same user"
    );
}

#[test]
fn replay_keys_differ_per_issuer_for_the_same_assertion_id() {
    let up = upstream();
    let v = verify(&signed_response(&up, &params()), &expect(&up)).unwrap();
    let other = VerifiedAssertion {
        issuer: "https://ander.example/idp".into(),
        ..v.clone()
    };
    assert_ne!(v.replay_key(), other.replay_key());
    assert_eq!(v.replay_until(120), v.not_on_or_after + 120);
}

// ------------------------------------------------------- addressing and time

#[test]
fn an_assertion_for_another_audience_is_refused() {
    let up = upstream();
    let mut p = params();
    p.sp_entity_id = "https://andere-dienst.example/sp".into();
    assert_eq!(
        verify(&signed_response(&up, &p), &expect(&up)),
        Err(InboundError::Audience)
    );
}

#[test]
fn a_signed_response_for_another_destination_is_refused() {
    let up = upstream();
    let bare = unsigned_response(&up, &params()).replacen(
        &format!(r#"Destination="{ACS}""#),
        r#"Destination="https://andere-dienst.example/acs""#,
        1,
    );
    let xml = sign_response_with(&up.signer, &bare);
    assert_eq!(
        verify(&xml, &expect(&up)),
        Err(InboundError::Destination {
            found: "https://andere-dienst.example/acs".into()
        })
    );
}

#[test]
fn a_signed_response_without_destination_is_refused() {
    let up = upstream();
    let bare =
        unsigned_response(&up, &params()).replacen(&format!(r#" Destination="{ACS}""#), "", 1);
    let xml = sign_response_with(&up.signer, &bare);
    assert_eq!(
        verify(&xml, &expect(&up)),
        Err(InboundError::Destination { found: "".into() })
    );
}

#[test]
fn an_unsigned_response_naming_another_destination_is_refused() {
    let up = upstream();
    let xml = unsigned_response(&up, &params()).replacen(
        &format!(r#"Destination="{ACS}""#),
        r#"Destination="https://andere-dienst.example/acs""#,
        1,
    );
    assert!(matches!(
        verify(&xml, &expect(&up)),
        Err(InboundError::Destination { .. })
    ));
}

#[test]
fn an_assertion_for_another_recipient_is_refused() {
    let up = upstream();
    let mut p = params();
    p.acs_url = "https://andere-dienst.example/acs".into();
    // The Response itself is addressed to openpoort; only the bearer confirmation is not.
    let bare = unsigned_response(&up, &p).replacen(
        r#"Destination="https://andere-dienst.example/acs""#,
        &format!(r#"Destination="{ACS}""#),
        1,
    );
    let xml = sign_response_with(&up.signer, &bare);
    assert_eq!(
        verify(&xml, &expect(&up)),
        Err(InboundError::Recipient {
            found: "https://andere-dienst.example/acs".into()
        })
    );
}

#[test]
fn an_answer_to_another_request_is_refused() {
    let up = upstream();
    let mut e = expect(&up);
    e.request_id = Some("_another_request".into());
    assert!(matches!(
        verify(&signed_response(&up, &params()), &e),
        Err(InboundError::InResponseTo { found, .. }) if found == REQUEST
    ));
}

#[test]
fn an_answer_to_a_request_when_none_is_outstanding_is_refused() {
    let up = upstream();
    let mut e = expect(&up);
    e.request_id = None;
    assert!(matches!(
        verify(&signed_response(&up, &params()), &e),
        Err(InboundError::InResponseTo { .. })
    ));
}

#[test]
fn an_unsolicited_assertion_when_a_request_is_outstanding_is_refused() {
    let up = upstream();
    let mut p = params();
    p.in_response_to = None;
    assert!(matches!(
        verify(&signed_response(&up, &p), &expect(&up)),
        Err(InboundError::InResponseTo { .. })
    ));
}

#[test]
fn an_expired_assertion_is_refused() {
    let up = upstream();
    let e = expect(&up);
    let xml = signed_response(&up, &params());
    // NotOnOrAfter is NOW + 300; within the skew it still counts, past it not.
    assert!(verify_response(xml.as_bytes(), &e, NOW + 300 + e.max_skew - 1).is_ok());
    assert!(matches!(
        verify_response(xml.as_bytes(), &e, NOW + 300 + e.max_skew),
        Err(InboundError::Expired(_))
    ));
}

#[test]
fn an_assertion_not_yet_valid_is_refused() {
    let up = upstream();
    let e = expect(&up);
    let xml = signed_response(&up, &params());
    // NotBefore is NOW - 60 (the issuer's own skew); openpoort allows max_skew more.
    assert!(verify_response(xml.as_bytes(), &e, NOW - 60 - e.max_skew).is_ok());
    assert!(matches!(
        verify_response(xml.as_bytes(), &e, NOW - 60 - e.max_skew - 1),
        Err(InboundError::NotYetValid(_))
    ));
}

#[test]
fn an_assertion_of_another_issuer_is_refused() {
    let up = upstream();
    let mut p = params();
    p.idp_entity_id = "https://ander-netwerk.example/idp".into();
    assert!(matches!(
        verify(&signed_response(&up, &p), &expect(&up)),
        Err(InboundError::Issuer { found }) if found == "https://ander-netwerk.example/idp"
    ));
}

#[test]
fn a_response_without_assertion_is_refused() {
    let up = upstream();
    let xml = status_response(
        IDP,
        ACS,
        Some(REQUEST),
        Status {
            code: STATUS_SUCCESS,
            sub_code: None,
            message: "",
        },
        NOW,
        &up.signer,
    )
    .unwrap();
    assert_eq!(verify(&xml, &expect(&up)), Err(InboundError::NoAssertion));
}

#[test]
fn a_failed_status_is_refused() {
    let up = upstream();
    let xml = signed_response(&up, &params());
    let bare = without_signature(&xml).replacen(
        STATUS_SUCCESS,
        "urn:oasis:names:tc:SAML:2.0:status:Responder",
        1,
    );
    let xml = sign_response_with(&up.signer, &bare);
    assert!(matches!(
        verify(&xml, &expect(&up)),
        Err(InboundError::Status(_))
    ));
}

#[test]
fn two_assertions_signed_by_the_provider_in_one_response_are_refused() {
    let up = upstream();
    let first = unsigned_response(&up, &params());
    let second = unsigned_response(&up, &params());
    let (s, e) = assertion_span(&second);
    let end = first.rfind("</samlp:Response>").unwrap();
    let both = format!("{}{}{}", &first[..end], &second[s..e], &first[end..]);
    let xml = sign_response_with(&up.signer, &both);
    assert_eq!(
        verify(&xml, &expect(&up)),
        Err(InboundError::MultipleAssertions(2))
    );
}

// ------------------------------------------------------ encrypted assertions

/// openpoort's SP key pair, to which the provider encrypts.
fn openpoort_key() -> (PKey<Private>, String) {
    let (key, cert) = key_and_cert("openpoort sp");
    (key, openssl::base64::encode_block(&cert.to_der().unwrap()))
}

fn expect_decrypting(up: &Upstream, key: &PKey<Private>) -> Expectations {
    let mut e = expect(up);
    e.decryption_keys = vec![key.clone()];
    e
}

/// XML Encryption of `plaintext` to `cert_b64` as a provider would (AES-128-GCM, RSA-OAEP).
fn encrypt(plaintext: &str, cert_b64: &str) -> String {
    let cert = X509::from_der(&openssl::base64::decode_block(cert_b64).unwrap()).unwrap();
    let rsa = cert.public_key().unwrap().rsa().unwrap();
    let mut key = [0u8; 16];
    let mut iv = [0u8; 12];
    openssl::rand::rand_bytes(&mut key).unwrap();
    openssl::rand::rand_bytes(&mut iv).unwrap();
    let mut tag = [0u8; 16];
    let ciphertext = openssl::symm::encrypt_aead(
        openssl::symm::Cipher::aes_128_gcm(),
        &key,
        Some(&iv),
        &[],
        plaintext.as_bytes(),
        &mut tag,
    )
    .unwrap();
    let mut wrapped = vec![0u8; rsa.size() as usize];
    let n = rsa
        .public_encrypt(&key, &mut wrapped, openssl::rsa::Padding::PKCS1_OAEP)
        .unwrap();
    wrapped.truncate(n);
    let data = [&iv[..], &ciphertext, &tag].concat();
    format!(
        concat!(
            r#"<saml:EncryptedAssertion><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Type="http://www.w3.org/2001/04/xmlenc#Element">"#,
            r#"<xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes128-gcm"/><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">"#,
            r#"<xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"/>"#,
            r#"<xenc:CipherData><xenc:CipherValue>{}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>"#,
            r#"<xenc:CipherData><xenc:CipherValue>{}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData></saml:EncryptedAssertion>"#
        ),
        openssl::base64::encode_block(&wrapped),
        openssl::base64::encode_block(&data),
    )
}

/// An unsigned Response whose assertion is replaced by `plaintext`, encrypted.
fn with_encrypted(up: &Upstream, plaintext: &str, cert_b64: &str) -> String {
    let original = unsigned_response(up, &params());
    let (s, e) = assertion_span(&original);
    format!(
        "{}{}{}",
        &original[..s],
        encrypt(plaintext, cert_b64),
        &original[e..]
    )
}

fn signed_assertion_text(up: &Upstream) -> String {
    let original = unsigned_response(up, &params());
    let (s, e) = assertion_span(&original);
    original[s..e].to_owned()
}

#[test]
fn an_encrypted_signed_assertion_is_decrypted_with_openpoorts_key() {
    let up = upstream();
    let (key, cert) = openpoort_key();
    for sign_response in [true, false] {
        let xml = success_response(
            &params(),
            &up.signer,
            if sign_response {
                Signing::Both
            } else {
                Signing::Assertion
            },
            Some(&cert),
        )
        .unwrap();
        assert!(xml.contains("EncryptedAssertion") && !xml.contains(SUBJECT));
        let v = verify(&xml, &expect_decrypting(&up, &key)).unwrap();
        assert_eq!(v.name_id, SUBJECT);
        assert_eq!(
            v.attributes["groep"],
            vec!["7a".to_owned(), "7b".to_owned()]
        );
        assert_eq!(
            (v.response_signed, v.assertion_signed),
            (sign_response, true)
        );
    }
}

#[test]
fn an_assertion_encrypted_to_another_key_is_refused() {
    let up = upstream();
    let (key, _) = openpoort_key();
    let (_, other) = openpoort_key();
    let xml = success_response(&params(), &up.signer, Signing::Both, Some(&other)).unwrap();
    assert_eq!(
        verify(&xml, &expect_decrypting(&up, &key)),
        Err(InboundError::Decryption)
    );
}

#[test]
fn a_tampered_ciphertext_is_refused() {
    let up = upstream();
    let (key, cert) = openpoort_key();
    let xml = success_response(&params(), &up.signer, Signing::Assertion, Some(&cert)).unwrap();
    // Flip one base64 character in the middle of the content's CipherValue (the last one).
    let at = xml.rfind("<xenc:CipherValue>").unwrap() + "<xenc:CipherValue>".len() + 40;
    let flipped = if &xml[at..at + 1] == "A" { "B" } else { "A" };
    let xml = format!("{}{flipped}{}", &xml[..at], &xml[at + 1..]);
    assert_eq!(
        verify(&xml, &expect_decrypting(&up, &key)),
        Err(InboundError::Decryption)
    );
}

#[test]
fn an_assertion_encrypted_with_cbc_is_refused() {
    let up = upstream();
    let (key, cert) = openpoort_key();
    let xml = success_response(&params(), &up.signer, Signing::Assertion, Some(&cert))
        .unwrap()
        .replace(
            "http://www.w3.org/2009/xmlenc11#aes128-gcm",
            "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
        );
    assert_eq!(
        verify(&xml, &expect_decrypting(&up, &key)),
        Err(InboundError::EncryptionAlgorithm(
            "http://www.w3.org/2001/04/xmlenc#aes128-cbc".into()
        ))
    );
}

#[test]
fn an_unsigned_encrypted_assertion_in_an_unsigned_response_is_refused() {
    let up = upstream();
    let (key, cert) = openpoort_key();
    let xml = with_encrypted(&up, &without_signature(&signed_assertion_text(&up)), &cert);
    assert_eq!(
        verify(&xml, &expect_decrypting(&up, &key)),
        Err(InboundError::Unsigned)
    );
}

#[test]
fn an_unsigned_encrypted_assertion_in_a_signed_response_follows_the_policy() {
    let up = upstream();
    let (key, cert) = openpoort_key();
    let xml = with_encrypted(&up, &without_signature(&signed_assertion_text(&up)), &cert);
    let xml = sign_response_with(&up.signer, &xml);
    let mut e = expect_decrypting(&up, &key);
    assert_eq!(verify(&xml, &e), Err(InboundError::AssertionNotSigned));
    e.require_signed_assertion = false;
    let v = verify(&xml, &e).unwrap();
    assert_eq!(v.name_id, SUBJECT);
    assert!(v.response_signed && !v.assertion_signed);
}

#[test]
fn a_plain_assertion_beside_an_encrypted_one_is_refused() {
    let up = upstream();
    let (key, cert) = openpoort_key();
    let signed = signed_assertion_text(&up);
    let xml = with_encrypted(&up, &signed, &cert);
    let end = xml.rfind("</samlp:Response>").unwrap();
    let xml = format!(
        "{}{}{}",
        &xml[..end],
        evil_assertion(&signed, false),
        &xml[end..]
    );
    assert_eq!(
        verify(&xml, &expect_decrypting(&up, &key)),
        Err(InboundError::AssertionOutsideSignature)
    );
}

#[test]
fn a_wrapped_assertion_inside_the_ciphertext_is_refused() {
    let up = upstream();
    let (key, cert) = openpoort_key();
    // XSW4 inside the encryption: the signed assertion wrapped in an evil one.
    let signed = signed_assertion_text(&up);
    let evil = evil_assertion(&signed, false);
    let close = evil.rfind("</saml:Assertion>").unwrap();
    let wrapped = format!("{}{signed}{}", &evil[..close], &evil[close..]);
    let xml = with_encrypted(&up, &wrapped, &cert);
    assert_eq!(
        verify(&xml, &expect_decrypting(&up, &key)),
        Err(InboundError::MultipleAssertions(2))
    );
}

#[test]
fn a_doctype_inside_the_ciphertext_is_refused() {
    let up = upstream();
    let (key, cert) = openpoort_key();
    let plaintext = format!(
        r#"<!DOCTYPE saml:Assertion [<!ENTITY s "x">]>{}"#,
        signed_assertion_text(&up)
    );
    let xml = with_encrypted(&up, &plaintext, &cert);
    assert_eq!(
        verify(&xml, &expect_decrypting(&up, &key)),
        Err(InboundError::Doctype)
    );
}

// ------------------------------------------------------------- XML tricks

#[test]
fn a_doctype_is_refused() {
    let up = upstream();
    let xml = format!(
        r#"<!DOCTYPE samlp:Response [<!ENTITY s "{SUBJECT}">]>{}"#,
        signed_response(&up, &params())
    );
    assert_eq!(verify(&xml, &expect(&up)), Err(InboundError::Doctype));
}

#[test]
fn a_comment_inside_the_nameid_never_truncates_it() {
    let up = upstream();
    // The provider vouches for "leerling-123.evil.example"; a comment after "leerling-123"
    // leaves the signature intact (comments are not signed) and truncates naive readers.
    let mut p = params();
    p.name_id = format!("{SUBJECT}.evil.example");
    let xml = unsigned_response(&up, &p).replacen(
        &format!(">{SUBJECT}.evil.example</saml:NameID>"),
        &format!(">{SUBJECT}<!---->.evil.example</saml:NameID>"),
        1,
    );
    assert!(xml.contains("<!---->"));
    // The signed (comment-free) text no longer matches the message's text nodes, so the
    // reduction to signed content refuses it; the truncated "leerling-123" is never returned.
    assert_eq!(verify(&xml, &expect(&up)), Err(InboundError::Signature));
}

#[test]
fn a_comment_inside_an_attribute_value_never_truncates_it() {
    let up = upstream();
    let mut p = params();
    p.attributes = vec![SamlAttribute::basic(
        "uid",
        vec![format!("{SUBJECT}.evil.example")],
    )];
    let xml = unsigned_response(&up, &p).replacen(
        &format!(">{SUBJECT}.evil.example</saml:AttributeValue>"),
        &format!(">{SUBJECT}<!-- -->.evil.example</saml:AttributeValue>"),
        1,
    );
    assert!(xml.contains("<!-- -->"));
    assert_eq!(verify(&xml, &expect(&up)), Err(InboundError::Signature));
}

#[test]
fn the_strict_reader_reads_text_across_a_comment_in_full() {
    // Should a comment ever reach the reader of signed content, the value is read whole.
    let root = dom::parse(
        format!("<n>{SUBJECT}<!---->.evil.example</n>").as_bytes(),
        dom::Limits::MESSAGE,
    )
    .unwrap();
    assert_eq!(root.text, format!("{SUBJECT}.evil.example"));
}

// ----------------------------------------------- signature wrapping (XSW1–XSW8)
//
// The catalogue of Somorovsky et al., "On Breaking SAML" (2012), as SAML Raider implements it.
// XSW1 and XSW2 attack the Response signature; XSW3 to XSW8 the Assertion signature of a
// Response that is not signed itself (the usual target). In each, the attacker's assertion
// names EVIL.

/// Signature reduction alone already leaves only the provider's subject to read.
fn assert_only_the_original_is_signed(xml: &str, up: &Upstream) {
    assert_eq!(signed_subjects(xml, up), vec![SUBJECT.to_owned()]);
}

fn assert_evil_never_read(xml: &str, up: &Upstream) {
    assert!(xml.contains(EVIL));
    assert!(
        !signed_subjects(xml, up).iter().any(|s| s == EVIL),
        "the attacker's assertion survived signature reduction"
    );
}

/// XSW1: an evil Response (new ID, evil assertion) carries a copy of the original signed
/// Response, without its signature, inside its ds:Signature. xmlsec refuses a ds:Signature
/// holding an element XML-DSig does not allow there.
#[test]
fn a_response_wrapped_as_xsw1_fails_signature_verification() {
    let up = upstream();
    let original = signed_response(&up, &params());
    let id = attr_value(&original, "samlp:Response", "ID");
    let copy = without_signature(&original);
    let (as_, ae) = assertion_span(&original);
    let evil = format!(
        "{}{}{}",
        &original[..as_],
        evil_assertion(&original[as_..ae], false),
        &original[ae..]
    )
    .replacen(&format!(r#"ID="{id}""#), r#"ID="_evil_response""#, 1);
    let (_, sig_end) = span(&evil, "ds:Signature", 0);
    let close = sig_end - "</ds:Signature>".len();
    let xml = format!("{}{copy}{}", &evil[..close], &evil[close..]);
    assert_evil_never_read(&xml, &up);
    assert_eq!(verify(&xml, &expect(&up)), Err(InboundError::Signature));
}

/// XSW2: as XSW1, but the copy of the signed Response sits before the signature, detached.
#[test]
fn a_response_wrapped_as_xsw2_roots_its_signed_content_elsewhere_and_is_refused() {
    let up = upstream();
    let original = signed_response(&up, &params());
    let id = attr_value(&original, "samlp:Response", "ID");
    let copy = without_signature(&original);
    let (as_, ae) = assertion_span(&original);
    let evil = format!(
        "{}{}{}",
        &original[..as_],
        evil_assertion(&original[as_..ae], false),
        &original[ae..]
    )
    .replacen(&format!(r#"ID="{id}""#), r#"ID="_evil_response""#, 1);
    let (sig_start, _) = span(&evil, "ds:Signature", 0);
    let xml = format!("{}{copy}{}", &evil[..sig_start], &evil[sig_start..]);
    assert_evil_never_read(&xml, &up);
    assert_only_the_original_is_signed(&xml, &up);
    assert_eq!(
        verify(&xml, &expect(&up)),
        Err(InboundError::SignedElementMisplaced)
    );
}

/// XSW3: an unsigned evil assertion inserted before the signed one.
#[test]
fn a_response_wrapped_as_xsw3_yields_only_the_signed_assertion_and_is_refused() {
    let up = upstream();
    let original = unsigned_response(&up, &params());
    let (as_, ae) = assertion_span(&original);
    let xml = format!(
        "{}{}{}",
        &original[..as_],
        evil_assertion(&original[as_..ae], false),
        &original[as_..]
    );
    assert_evil_never_read(&xml, &up);
    assert_only_the_original_is_signed(&xml, &up);
    assert_eq!(
        verify(&xml, &expect(&up)),
        Err(InboundError::AssertionOutsideSignature)
    );
}

/// XSW4: the signed assertion wrapped inside an unsigned evil one.
#[test]
fn a_response_wrapped_as_xsw4_yields_only_the_signed_assertion_and_is_refused() {
    let up = upstream();
    let original = unsigned_response(&up, &params());
    let (as_, ae) = assertion_span(&original);
    let signed = &original[as_..ae];
    let evil = evil_assertion(signed, false);
    let close = evil.rfind("</saml:Assertion>").unwrap();
    let wrapped = format!("{}{signed}{}", &evil[..close], &evil[close..]);
    let xml = format!("{}{wrapped}{}", &original[..as_], &original[ae..]);
    assert_evil_never_read(&xml, &up);
    assert_only_the_original_is_signed(&xml, &up);
    assert_eq!(
        verify(&xml, &expect(&up)),
        Err(InboundError::AssertionOutsideSignature)
    );
}

/// XSW5: the evil assertion keeps the original signature; an unsigned copy of the original
/// (which the signature's reference now finds) is appended to the Response.
#[test]
fn a_response_wrapped_as_xsw5_yields_only_the_signed_assertion_and_is_refused() {
    let up = upstream();
    let original = unsigned_response(&up, &params());
    let (as_, ae) = assertion_span(&original);
    let signed = &original[as_..ae];
    let end = original.rfind("</samlp:Response>").unwrap();
    let xml = format!(
        "{}{}{}{}{}",
        &original[..as_],
        evil_assertion(signed, true),
        &original[ae..end],
        without_signature(signed),
        &original[end..]
    );
    assert_evil_never_read(&xml, &up);
    assert_only_the_original_is_signed(&xml, &up);
    assert_eq!(
        verify(&xml, &expect(&up)),
        Err(InboundError::AssertionOutsideSignature)
    );
}

/// XSW6: the evil assertion keeps the original signature, and the unsigned copy of the
/// original sits inside that signature (refused by xmlsec's structure check, as XSW1).
#[test]
fn a_response_wrapped_as_xsw6_fails_signature_verification() {
    let up = upstream();
    let original = unsigned_response(&up, &params());
    let (as_, ae) = assertion_span(&original);
    let signed = &original[as_..ae];
    let evil = evil_assertion(signed, true);
    let (_, sig_end) = span(&evil, "ds:Signature", 0);
    let close = sig_end - "</ds:Signature>".len();
    let evil = format!(
        "{}{}{}",
        &evil[..close],
        without_signature(signed),
        &evil[close..]
    );
    let xml = format!("{}{evil}{}", &original[..as_], &original[ae..]);
    assert_evil_never_read(&xml, &up);
    assert_eq!(verify(&xml, &expect(&up)), Err(InboundError::Signature));
}

/// XSW7: the signed assertion moved into an Extensions element; an unsigned evil assertion
/// takes its place.
#[test]
fn a_response_wrapped_as_xsw7_yields_only_the_signed_assertion_and_is_refused() {
    let up = upstream();
    let original = unsigned_response(&up, &params());
    let (as_, ae) = assertion_span(&original);
    let signed = &original[as_..ae];
    let at = original.find("</saml:Issuer>").unwrap() + "</saml:Issuer>".len();
    let xml = format!(
        "{}<samlp:Extensions>{signed}</samlp:Extensions>{}{}{}",
        &original[..at],
        &original[at..as_],
        evil_assertion(signed, false),
        &original[ae..]
    );
    assert_evil_never_read(&xml, &up);
    assert_only_the_original_is_signed(&xml, &up);
    assert_eq!(
        verify(&xml, &expect(&up)),
        Err(InboundError::AssertionOutsideSignature)
    );
}

/// XSW8: the evil assertion keeps the original signature, with the unsigned copy of the
/// original inside a ds:Object of that signature. ds:Object is allowed, but the
/// enveloped-signature transform removes the signature with all it contains, copy included,
/// from what is digested, so the digest no longer matches.
#[test]
fn a_response_wrapped_as_xsw8_fails_signature_verification() {
    let up = upstream();
    let original = unsigned_response(&up, &params());
    let (as_, ae) = assertion_span(&original);
    let signed = &original[as_..ae];
    let evil = evil_assertion(signed, true);
    let (_, sig_end) = span(&evil, "ds:Signature", 0);
    let close = sig_end - "</ds:Signature>".len();
    let evil = format!(
        "{}<ds:Object>{}</ds:Object>{}",
        &evil[..close],
        without_signature(signed),
        &evil[close..]
    );
    let xml = format!("{}{evil}{}", &original[..as_], &original[ae..]);
    assert_evil_never_read(&xml, &up);
    assert_eq!(verify(&xml, &expect(&up)), Err(InboundError::Signature));
}

/// A wrapped copy that keeps the signed assertion's ID, so that an ID lookup might find the
/// attacker's element first.
#[test]
fn a_wrapped_assertion_with_the_signed_assertions_id_is_refused() {
    let up = upstream();
    let original = unsigned_response(&up, &params());
    let (as_, ae) = assertion_span(&original);
    let signed = &original[as_..ae];
    let id = attr_value(signed, "saml:Assertion", "ID");
    let evil = evil_assertion(signed, false).replacen(
        r#"ID="_evil_assertion""#,
        &format!(r#"ID="{id}""#),
        1,
    );
    let xml = format!("{}{evil}{}", &original[..as_], &original[as_..]);
    assert_eq!(verify(&xml, &expect(&up)), Err(InboundError::Signature));
}
