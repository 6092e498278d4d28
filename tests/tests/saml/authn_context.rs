//! RequestedAuthnContext (SAML Core 3.3.2.2.1) and the AuthnContextClassRef openpoort states:
//! SAML's PasswordProtectedTransport for a teacher's password (TimeSyncToken with a code of an
//! authenticator app after it), openpoort's own classes for a pupil's login, and a signed
//! NoAuthnContext where a request cannot be met.

use openpoort_e2e::bram_signed_in;

use crate::common::{Demo, Sp, demo, new_id, posted, xmlsec1_verifies};

const PPT: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";
const SCHOOL_NETWORK: &str = "urn:openpoort:acr:school-network";
const NO_AUTHN_CONTEXT: &str = "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext";

/// An AuthnRequest of `sp` asking for `classes` under `comparison`.
fn asking(sp: &Sp, id: &str, comparison: &str, classes: &[&str]) -> String {
    let refs: String = classes
        .iter()
        .map(|c| format!("<saml:AuthnContextClassRef>{c}</saml:AuthnContextClassRef>"))
        .collect();
    sp.authn_request(id, "").replace(
        "</samlp:AuthnRequest>",
        &format!(
            r#"<samlp:RequestedAuthnContext Comparison="{comparison}">{refs}</samlp:RequestedAuthnContext></samlp:AuthnRequest>"#
        ),
    )
}

fn class_of(xml: &str) -> &str {
    let start = xml
        .find("<saml:AuthnContextClassRef>")
        .unwrap_or_else(|| panic!("no class: {xml}"))
        + "<saml:AuthnContextClassRef>".len();
    &xml[start..start + xml[start..].find('<').unwrap()]
}

/// The answer is a signed Responder/NoAuthnContext status to the SP's ACS, with no assertion.
async fn assert_no_authn_context(d: &Demo, sp: &Sp, page: &openpoort_e2e::Page, id: &str) {
    assert_eq!(page.status, 200, "{}", page.body);
    let (action, xml, _) = posted(page);
    assert_eq!(action, sp.acs);
    assert!(
        xml.contains(&format!(
            r#"<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="{NO_AUTHN_CONTEXT}"/>"#
        )),
        "{xml}"
    );
    assert!(xml.contains(&format!("InResponseTo=\"{id}\"")), "{xml}");
    assert!(!xml.contains("<saml:Assertion"), "no assertion: {xml}");
    assert!(xmlsec1_verifies(&xml, &d.idp_certificate().await), "{xml}");
}

#[tokio::test]
async fn a_teachers_password_login_is_stated_as_password_protected_transport() {
    let d = demo();
    let sp = Sp::new("rekenrijk", false);
    sp.register(&d, &[]);
    let mut bram = bram_signed_in(&d.server.base).await;
    let id = new_id();
    let (_, xml, _) = posted(
        &bram
            .get(&sp.redirect(&sp.authn_request(&id, ""), None, false))
            .await,
    );
    assert_eq!(class_of(&xml), PPT);
    let assertion = sp.accepts(&d, &xml, &id).await;
    assert!(assertion.authn_statements.is_some());

    // Asked for exactly that class, the same login meets it.
    let id = new_id();
    let (_, xml, _) = posted(
        &bram
            .get(&sp.redirect(&asking(&sp, &id, "exact", &[PPT]), None, false))
            .await,
    );
    assert_eq!(class_of(&xml), PPT);
    sp.accepts(&d, &xml, &id).await;
}

#[tokio::test]
async fn a_pupils_login_keeps_openpoorts_class_and_comparison_exact_refuses_it_for_a_password() {
    let d = demo();
    let sp = Sp::new("rekenrijk", false);
    sp.register(&d, &[]);
    let mut finn = d.finn().await;
    let (_, xml, _) = posted(
        &finn
            .get(&sp.redirect(&sp.authn_request(&new_id(), ""), None, false))
            .await,
    );
    assert_eq!(class_of(&xml), SCHOOL_NETWORK);

    let id = new_id();
    let page = finn
        .get(&sp.redirect(&asking(&sp, &id, "exact", &[PPT]), None, false))
        .await;
    assert_no_authn_context(&d, &sp, &page, &id).await;
    // Neither does minimum: a pupil's login stands below a password.
    let id = new_id();
    let page = finn
        .get(&sp.redirect(&asking(&sp, &id, "minimum", &[PPT]), None, false))
        .await;
    assert_no_authn_context(&d, &sp, &page, &id).await;
}

#[tokio::test]
async fn comparison_minimum_accepts_a_stronger_login_and_better_refuses_an_equal_one() {
    let d = demo();
    let sp = Sp::new("rekenrijk", false);
    sp.register(&d, &[]);
    let mut bram = bram_signed_in(&d.server.base).await;
    let id = new_id();
    let (_, xml, _) = posted(
        &bram
            .get(&sp.redirect(&asking(&sp, &id, "minimum", &[SCHOOL_NETWORK]), None, false))
            .await,
    );
    assert_eq!(class_of(&xml), PPT, "stated as it is, not as asked");
    sp.accepts(&d, &xml, &id).await;

    let mut finn = d.finn().await;
    let id = new_id();
    let page = finn
        .get(&sp.redirect(&asking(&sp, &id, "better", &[SCHOOL_NETWORK]), None, false))
        .await;
    assert_no_authn_context(&d, &sp, &page, &id).await;
    let id = new_id();
    let (_, xml, _) = posted(
        &finn
            .get(&sp.redirect(&asking(&sp, &id, "maximum", &[PPT]), None, false))
            .await,
    );
    assert_eq!(
        class_of(&xml),
        SCHOOL_NETWORK,
        "maximum: at most a password"
    );
}

#[tokio::test]
async fn an_unknown_or_unreachable_class_answers_no_authn_context_without_asking_for_a_login() {
    let d = demo();
    let sp = Sp::new("rekenrijk", false);
    sp.register(&d, &[]);
    let mut nobody = d.browser();
    for (comparison, class) in [
        ("exact", "urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard"),
        (
            "minimum",
            "urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard",
        ),
        // Nothing stands above a password with a second factor.
        (
            "better",
            "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken",
        ),
    ] {
        let id = new_id();
        let page = nobody
            .get(&sp.redirect(&asking(&sp, &id, comparison, &[class]), None, false))
            .await;
        assert_no_authn_context(&d, &sp, &page, &id).await;
    }
    // One known class among unknown ones is enough to ask for the login.
    let page = nobody
        .get(&sp.redirect(
            &asking(
                &sp,
                &new_id(),
                "exact",
                &["urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard", PPT],
            ),
            None,
            false,
        ))
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert!(page.location().unwrap().starts_with("/inloggen?next="));
}

const TIME_SYNC_TOKEN: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken";

/// Base32 (RFC 4648, no padding) as the set-up page shows a secret, in groups with spaces.
fn base32_decode(text: &str) -> Vec<u8> {
    let (mut bits, mut count, mut out) = (0u64, 0u32, Vec::new());
    for c in text.chars().filter(|c| !c.is_whitespace()) {
        let value = match c {
            'A'..='Z' => c as u64 - 'A' as u64,
            '2'..='7' => c as u64 - '2' as u64 + 26,
            _ => panic!("not base32: {c}"),
        };
        bits = (bits << 5) | value;
        count += 5;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

/// The code an authenticator app shows `steps` steps from now, computed apart from openpoort's
/// own code (RFC 6238 over OpenSSL's HMAC-SHA1).
fn authenticator_code(secret: &[u8], steps: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let counter = (now / 30 + steps) as u64;
    let key = openssl::pkey::PKey::hmac(secret).unwrap();
    let mut signer =
        openssl::sign::Signer::new(openssl::hash::MessageDigest::sha1(), &key).unwrap();
    signer.update(&counter.to_be_bytes()).unwrap();
    let mac = signer.sign_to_vec().unwrap();
    let at = usize::from(mac[19] & 0x0f);
    let value = u32::from_be_bytes([mac[at] & 0x7f, mac[at + 1], mac[at + 2], mac[at + 3]]);
    format!("{:06}", value % 1_000_000)
}

#[tokio::test]
async fn an_sp_asking_for_a_second_factor_gets_a_password_session_raised_by_a_code_alone() {
    let d = demo();
    let sp = Sp::new("rekenrijk", false);
    sp.register(&d, &[]);
    let mut bram = bram_signed_in(&d.server.base).await;
    // Bram sets up an authenticator app; his session stays a password login.
    let page = bram.get("/tweestapsverificatie").await;
    let shown = page
        .body
        .split("<code id=\"sleutel\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_else(|| panic!("no key on the page: {}", page.body));
    let secret = base32_decode(shown);
    let code = authenticator_code(&secret, 0);
    let done = bram
        .submit("/tweestapsverificatie", &[("code", &code)])
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Herstelcodes"), "{}", done.body);

    let id = new_id();
    let asked = bram
        .get(&sp.redirect(
            &asking(&sp, &id, "minimum", &[TIME_SYNC_TOKEN]),
            None,
            false,
        ))
        .await;
    let to_code = asked.location().unwrap_or_default().to_owned();
    assert!(
        to_code.starts_with("/inloggen/code?next=%2Fsaml%2Fsso%2Fverder"),
        "{} {to_code}",
        asked.status
    );
    let code = authenticator_code(&secret, 1);
    let raised = bram.submit(&to_code, &[("code", &code)]).await;
    let back = raised.location().unwrap_or_default().to_owned();
    assert!(
        back.starts_with("/saml/sso/verder?"),
        "{} {back}",
        raised.status
    );
    let (_, xml, _) = posted(&bram.get(&back).await);
    assert_eq!(class_of(&xml), TIME_SYNC_TOKEN);
    sp.accepts(&d, &xml, &id).await;
    // A request for the password is met by the stronger login, stated as it is.
    let id = new_id();
    let (_, xml, _) = posted(
        &bram
            .get(&sp.redirect(&asking(&sp, &id, "minimum", &[PPT]), None, false))
            .await,
    );
    assert_eq!(class_of(&xml), TIME_SYNC_TOKEN);
}
