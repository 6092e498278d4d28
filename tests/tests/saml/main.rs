//! The SAML identity provider end to end, against `openpoort demo` (school 99ZZ00; publisher
//! demo-uitgeverij with a school-wide licence and the school's consent). Service providers are
//! registered from metadata with the operator command; responses are checked by samael acting
//! as the SP and by the `xmlsec1` command, never by openpoort's own code.

use std::io::Write;
use std::process::Command;
use std::str::FromStr;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use flate2::Compression;
use flate2::write::DeflateEncoder;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;

use openpoort_e2e::{
    Browser, Page, Server, choose_99zz00, demo_pupil_login, demo_shortcut, log_in_as_bram,
    openpoort, run, self_signed, text, unescape,
};

const PUBLIC: &str = "http://openpoort.test";
const PUBLISHER: &str = "demo-uitgeverij";

struct Demo {
    dir: tempfile::TempDir,
    server: Server,
    shortcut: String,
}

fn demo() -> Demo {
    demo_with(&[])
}

/// The demo with extra settings (environment overrides).
fn demo_with(extra: &[(&str, &str)]) -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = openpoort(dir.path());
    cmd.env("OPENPOORT_SERVER_PUBLIC_URL", PUBLIC)
        .env("OPENPOORT_SESSIONS_STORE", "memory");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.arg("demo");
    let server = Server::start(cmd);
    let out = server.more_output(Duration::from_millis(500)).join("\n");
    let shortcut = demo_shortcut(&out).unwrap_or_else(|| panic!("no shortcut in: {out}"));
    Demo {
        dir,
        server,
        shortcut,
    }
}

impl Demo {
    fn cli(&self, args: &[&str]) -> std::process::Output {
        run(openpoort(self.dir.path()).args(args))
    }

    fn cli_ok(&self, args: &[&str]) -> String {
        openpoort_e2e::cli_ok(self.dir.path(), args)
    }

    fn browser(&self) -> Browser {
        Browser::new(&self.server.base)
    }

    async fn finn(&self) -> Browser {
        let mut b = self.browser();
        assert!(
            demo_pupil_login(&mut b, &self.shortcut).await,
            "Finn signs in"
        );
        b
    }

    /// openpoort's current signing certificate, read from its published metadata.
    async fn idp_certificate(&self) -> X509 {
        let xml = self.browser().get("/saml/metadata").await.body;
        let start = xml.find("<ds:X509Certificate>").unwrap() + "<ds:X509Certificate>".len();
        let end = xml[start..].find('<').unwrap() + start;
        X509::from_der(&STANDARD.decode(&xml[start..end]).unwrap()).unwrap()
    }
}

/// A service provider of the demo publisher, as its metadata describes it.
struct Sp {
    entity: String,
    acs: String,
    key: PKey<Private>,
    cert: X509,
    signs_requests: bool,
}

impl Sp {
    fn new(name: &str, signs_requests: bool) -> Sp {
        let (key, cert) = self_signed(name);
        Sp {
            entity: format!("https://{name}.example/saml"),
            acs: format!("http://127.0.0.1:9/{name}/acs"),
            key,
            cert,
            signs_requests,
        }
    }

    fn certificate_b64(&self) -> String {
        STANDARD.encode(self.cert.to_der().unwrap())
    }

    fn metadata(&self) -> String {
        let cert = self.certificate_b64();
        format!(
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity}"><md:SPSSODescriptor AuthnRequestsSigned="{signs}" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="http://127.0.0.1:9/slo"/><md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{acs}" index="0" isDefault="true"/></md:SPSSODescriptor></md:EntityDescriptor>"#,
            entity = self.entity,
            signs = self.signs_requests,
            acs = self.acs,
        )
    }

    /// Registers this SP for the demo publisher; `extra` adds options such as `--encrypt`.
    fn register(&self, d: &Demo, extra: &[&str]) {
        let path = d.dir.path().join(format!("{}.xml", uuid::Uuid::new_v4()));
        std::fs::write(&path, self.metadata()).unwrap();
        let mut args = vec!["sp", "add", "--party", PUBLISHER, "--metadata"];
        let path = path.to_string_lossy().into_owned();
        args.push(&path);
        args.extend_from_slice(extra);
        d.cli_ok(&args);
    }

    fn authn_request(&self, id: &str, attributes: &str) -> String {
        format!(
            r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{now}" Destination="{PUBLIC}/saml/sso" AssertionConsumerServiceURL="{acs}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"{attributes}><saml:Issuer>{entity}</saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" AllowCreate="true"/></samlp:AuthnRequest>"#,
            now = xs_now(),
            acs = self.acs,
            entity = self.entity,
        )
    }

    /// The HTTP-Redirect binding URL for `xml` (`SAMLRequest`), signed when `sign` is set.
    fn redirect(&self, xml: &str, relay: Option<&str>, sign: bool) -> String {
        let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
        e.write_all(xml.as_bytes()).unwrap();
        let mut q = format!("SAMLRequest={}", enc(&STANDARD.encode(e.finish().unwrap())));
        if let Some(r) = relay {
            q.push_str(&format!("&RelayState={}", enc(r)));
        }
        if sign {
            q.push_str(&format!(
                "&SigAlg={}",
                enc("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
            ));
            let mut signer =
                openssl::sign::Signer::new(MessageDigest::sha256(), &self.key).unwrap();
            let sig = signer.sign_oneshot_to_vec(q.as_bytes()).unwrap();
            q.push_str(&format!("&Signature={}", enc(&STANDARD.encode(sig))));
        }
        format!("/saml/sso?{q}")
    }

    /// `xml` with an enveloped signature by this SP over the root element `id`.
    fn sign_xml(&self, xml: &str, id: &str) -> String {
        let pem = String::from_utf8(self.cert.to_pem().unwrap()).unwrap();
        let signer = metadata::saml::sign::XmlSigner::new(&self.key, &pem).unwrap();
        let at = xml.find("</saml:Issuer>").unwrap() + "</saml:Issuer>".len();
        let with_template = format!("{}{}{}", &xml[..at], signer.template(id), &xml[at..]);
        signer.sign(&with_template).unwrap()
    }

    /// samael as this SP, trusting openpoort's published metadata.
    /// The Assertion of `xml`, which samael as this SP (SP-initiated only) must accept as the
    /// answer to request `request_id`.
    async fn accepts(&self, d: &Demo, xml: &str, request_id: &str) -> samael::schema::Assertion {
        self.samael(d, false)
            .await
            .parse_xml_response(xml, Some(&[request_id]))
            .unwrap_or_else(|e| panic!("samael refuses the response: {e:?}\n{xml}"))
    }

    async fn samael(
        &self,
        d: &Demo,
        idp_initiated: bool,
    ) -> samael::service_provider::ServiceProvider {
        let xml = d.browser().get("/saml/metadata").await.body;
        let idp = samael::metadata::EntityDescriptor::from_str(&xml).expect("IdP metadata parses");
        samael::service_provider::ServiceProvider {
            entity_id: Some(self.entity.clone()),
            acs_url: Some(self.acs.clone()),
            idp_metadata: idp,
            key: Some(self.key.clone()),
            allow_idp_initiated: idp_initiated,
            allowed_signature_algorithms: Some(vec![
                samael::crypto::AllowedSignatureAlgorithm::RsaSha256,
            ]),
            ..Default::default()
        }
    }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn xs_now() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    metadata::saml::time::format(now)
}

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

fn new_id() -> String {
    format!("_{}", uuid::Uuid::new_v4().simple())
}

/// The HTTP-POST binding form openpoort answered with: (action, SAMLResponse XML, RelayState).
fn posted(page: &Page) -> (String, String, Option<String>) {
    assert!(
        page.body.contains("id=\"saml-post\""),
        "no SAML form: {} {}",
        page.status,
        page.body
    );
    let at = page.body.find("id=\"saml-post\"").unwrap();
    let form = &page.body[at..];
    let action_at = form.find("action=\"").unwrap() + 8;
    let action =
        form[action_at..action_at + form[action_at..].find('"').unwrap()].replace("&#x2f;", "/");
    let b64 = unescape(&page.field("SAMLResponse").expect("SAMLResponse"));
    let xml = String::from_utf8(STANDARD.decode(&b64).unwrap()).unwrap();
    (
        unescape(&action),
        xml,
        page.field("RelayState").map(|r| unescape(&r)),
    )
}

/// The `xmlsec1` command's verdict on `xml`, trusting only `cert`.
fn xmlsec1_verifies(xml: &str, cert: &X509) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let (doc, pem) = (dir.path().join("doc.xml"), dir.path().join("idp.pem"));
    std::fs::write(&doc, xml).unwrap();
    std::fs::write(&pem, cert.to_pem().unwrap()).unwrap();
    let out = Command::new("xmlsec1")
        .args(["--verify"])
        .args([
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
        ])
        .args([
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:protocol:Response",
        ])
        .args([
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor",
        ])
        .arg("--pubkey-cert-pem")
        .arg(&pem)
        .arg(&doc)
        .output()
        .expect("xmlsec1 (installed by scripts/setup)");
    out.status.success()
}

/// A page that refuses a request: an error, and nothing sent to any SP.
fn assert_refused(page: &Page, why: &str) {
    assert_eq!(page.status, 400, "{why}: {}", page.body);
    assert!(
        !page.body.contains("SAMLResponse"),
        "{why}: nothing goes to the SP"
    );
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
async fn idp_metadata_is_signed_and_lists_current_and_next_certificates() {
    let d = demo();
    let page = d.browser().get("/saml/metadata").await;
    assert_eq!(page.status, 200);
    let xml = page.body;
    assert!(xmlsec1_verifies(&xml, &d.idp_certificate().await), "{xml}");
    assert_eq!(
        xml.matches("<md:KeyDescriptor use=\"signing\">").count(),
        2,
        "current and next"
    );
    assert!(xml.contains("validUntil=\""));
    for binding in ["HTTP-Redirect", "HTTP-POST"] {
        assert!(xml.contains(&format!(
            "<md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:{binding}\" Location=\"{PUBLIC}/saml/sso\"/>"
        )));
    }
    assert!(xml.contains("nameid-format:persistent</md:NameIDFormat>"));
    assert!(xml.contains("nameid-format:transient</md:NameIDFormat>"));
    assert!(xml.contains(&format!("<{}", "md:SingleLogoutService")));
}

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
async fn portal_tile_sends_an_unsolicited_response_that_samael_accepts() {
    let d = demo();
    let sp = Sp::new("rekenrijk", false);
    sp.register(&d, &[]);
    let mut b = d.finn().await;
    let portal = b.get("/").await;
    let at = portal
        .body
        .find("/saml/start?")
        .unwrap_or_else(|| panic!("no SAML tile: {}", portal.body));
    let href = unescape(&portal.body[at..at + portal.body[at..].find('"').unwrap()]);
    // A click on the portal's tile: the browser says it came from openpoort itself.
    b.headers
        .push(("sec-fetch-site".into(), "same-origin".into()));
    let page = b.get(&href).await;
    let (action, xml, relay) = posted(&page);
    assert_eq!(action, sp.acs);
    assert!(!xml.contains("InResponseTo"), "unsolicited");
    assert_eq!(
        relay.as_deref(),
        Some("https://rekenrijk.demo-uitgeverij.example/start"),
        "the product's launch URL; tile {href}"
    );
    let samael_sp = sp.samael(&d, true).await;
    samael_sp
        .parse_xml_response(&xml, None)
        .unwrap_or_else(|e| panic!("samael refuses the unsolicited response: {e:?}"));
    let strict = sp.samael(&d, false).await;
    assert!(
        strict.parse_xml_response(&xml, None).is_err(),
        "an SP that refuses IdP-initiated SSO can tell"
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

/// A metadata host for `sp add --url`: answers every GET with the status and body it holds now.
async fn metadata_host(first: String) -> (String, std::sync::Arc<std::sync::Mutex<(u16, String)>>) {
    let (url, served, _) = counted_metadata_host(first).await;
    (url, served)
}

/// [`metadata_host`], also counting the connections it accepts.
async fn counted_metadata_host(
    first: String,
) -> (
    String,
    std::sync::Arc<std::sync::Mutex<(u16, String)>>,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/metadata", listener.local_addr().unwrap());
    let served = std::sync::Arc::new(std::sync::Mutex::new((200u16, first)));
    let shared = served.clone();
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let shared = shared.clone();
            tokio::spawn(async move {
                if openpoort_e2e::read_request_head(&mut socket)
                    .await
                    .is_none()
                {
                    return;
                }
                let (status, body) = shared.lock().unwrap().clone();
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/samlmetadata+xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    (url, served, connections)
}

// Multi-threaded: the metadata host must answer while the test waits for the CLI process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sp_metadata_url_is_checked_before_it_is_fetched() {
    let d = demo();
    let sp = Sp::new("rekenrijk", false);
    let (url, _, connections) = counted_metadata_host(sp.metadata()).await;
    let with_user = url.replace("http://", "http://gebruiker:geheim@");
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!(
            "http://127.0.0.1:{}/metadata",
            l.local_addr().unwrap().port()
        )
    };
    for (refused, why) in [
        (with_user.as_str(), "gebruikersnaam of wachtwoord"),
        (&format!("{url}#fragment"), "#fragment"),
        // The cloud metadata service, and a private network: not without the operator's say.
        (
            "http://169.254.169.254/latest/meta-data",
            "outbound.allow_networks",
        ),
        ("http://10.1.2.3/metadata", "outbound.allow_networks"),
        (
            "http://[::ffff:a9fe:a9fe]/metadata",
            "outbound.allow_networks",
        ),
        // Whether a port is closed or open, the message is the same.
        (&closed, "geen verbinding of geen bruikbaar antwoord"),
    ] {
        let out = d.cli(&["sp", "add", "--party", PUBLISHER, "--url", refused]);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{refused}");
        assert!(stderr.contains(why), "{refused}: {stderr}");
        assert!(
            !stderr.contains("refused") && !stderr.contains("os error"),
            "{refused}: {stderr}"
        );
    }
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "nothing was fetched from a URL that is refused"
    );
    d.cli_ok(&["sp", "add", "--party", PUBLISHER, "--url", &url]);
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 1);
}

// Multi-threaded: the metadata host must answer while the test waits for the CLI process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_metadata_is_refreshed_and_a_failed_refresh_keeps_the_last_verified_metadata() {
    let d = demo();
    let sp = Sp::new("rekenrijk", false);
    let (url, served) = metadata_host(sp.metadata()).await;
    d.cli_ok(&["sp", "add", "--party", PUBLISHER, "--url", &url]);
    let mut b = d.finn().await;
    let moved = Sp {
        acs: "http://127.0.0.1:9/rekenrijk/nieuw".into(),
        ..Sp::new("rekenrijk", false)
    };
    assert_refused(
        &b.get(&moved.redirect(&moved.authn_request(&new_id(), ""), None, false))
            .await,
        "the new ACS is not registered yet",
    );

    // The SP publishes a new ACS; a refresh takes it over.
    served.lock().unwrap().1 = moved.metadata();
    d.cli_ok(&["sp", "refresh", "--entity-id", &sp.entity]);
    let (action, _, _) = posted(
        &b.get(&moved.redirect(&moved.authn_request(&new_id(), ""), None, false))
            .await,
    );
    assert_eq!(action, moved.acs);

    // The metadata host fails: the refresh is reported, and logins go on with what was verified.
    *served.lock().unwrap() = (503, String::new());
    let failed = d.cli(&["sp", "refresh", "--entity-id", &sp.entity]);
    assert!(!failed.status.success());
    assert!(
        text(&failed.stderr).contains("503"),
        "{}",
        text(&failed.stderr)
    );
    assert!(d.cli_ok(&["sp", "list"]).contains("LAST REFRESH FAILED"));
    posted(
        &b.get(&moved.redirect(&moved.authn_request(&new_id(), ""), None, false))
            .await,
    );
}

#[tokio::test]
async fn shortcut_target_of_a_saml_product_continues_with_an_unsolicited_response() {
    let d = demo();
    let sp = Sp::new("rekenrijk", false);
    sp.register(&d, &[]);
    let reference = d.shortcut.trim_start_matches("/s/");
    let launch = "https://rekenrijk.demo-uitgeverij.example/start";
    let mut b = d.browser();
    let r = b
        .get(&format!(
            "/login/leerlingen/snelkoppelaar?INSTELLING_REF={reference}&TARGET={}",
            enc(launch)
        ))
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let to = r.location().unwrap().to_owned();
    assert!(demo_pupil_login(&mut b, &to).await);
    let portal = b.get("/").await;
    let at = portal
        .body
        .find("class=\"continue\"")
        .unwrap_or_else(|| panic!("no way on: {}", portal.body));
    let href_at = portal.body[at..].find("href=\"").unwrap() + at + 6;
    let href = unescape(&portal.body[href_at..href_at + portal.body[href_at..].find('"').unwrap()]);
    assert!(href.starts_with("/saml/start?"), "{href}");
    b.headers
        .push(("sec-fetch-site".into(), "same-origin".into()));
    let (action, xml, relay) = posted(&b.get(&href).await);
    assert_eq!(action, sp.acs);
    assert_eq!(relay.as_deref(), Some(launch));
    sp.samael(&d, true)
        .await
        .parse_xml_response(&xml, None)
        .unwrap_or_else(|e| panic!("samael refuses: {e:?}"));
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
async fn idp_initiated_login_from_another_site_is_confirmed_first() {
    let d = demo();
    let sp = Sp::new("rekenrijk", false);
    sp.register(&d, &[]);
    let mut b = d.finn().await;
    let start = format!("/saml/start?sp={}", enc(&sp.entity));
    b.headers
        .push(("sec-fetch-site".into(), "cross-site".into()));
    let page = b.get(&start).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        !page.body.contains("SAMLResponse"),
        "nothing is sent to the SP yet"
    );
    assert!(page.body.contains("Een andere website"), "{}", page.body);
    // The user's own click on openpoort's page is a same-origin navigation.
    b.headers.clear();
    b.headers
        .push(("sec-fetch-site".into(), "same-origin".into()));
    let (action, _, _) = posted(&b.get(&start).await);
    assert_eq!(action, sp.acs);
}

/// The confirmation page's link, unescaped.
fn continue_link(page: &Page) -> String {
    let at = page
        .body
        .find("href=\"/saml/start?")
        .unwrap_or_else(|| panic!("no way on: {}", page.body))
        + 6;
    unescape(&page.body[at..at + page.body[at..].find('"').unwrap()])
}

#[tokio::test]
async fn idp_initiated_login_without_proof_it_began_on_openpoort_is_confirmed_first() {
    let d = demo();
    let sp = Sp::new("rekenrijk", false);
    sp.register(&d, &[]);
    let mut b = d.finn().await;
    let start = format!("/saml/start?sp={}", enc(&sp.entity));
    for site in [None, Some("same-site"), Some("cross-site"), Some("anders")] {
        b.headers.clear();
        if let Some(site) = site {
            b.headers.push(("sec-fetch-site".into(), site.into()));
        }
        let page = b.get(&start).await;
        assert_eq!(page.status, 200, "{site:?}: {}", page.body);
        assert!(
            !page.body.contains("SAMLResponse"),
            "{site:?}: nothing is sent to the SP yet"
        );
        assert!(page.body.contains("Een andere website"), "{}", page.body);
    }
    // A link typed or bookmarked by the user.
    b.headers.clear();
    b.headers.push(("sec-fetch-site".into(), "none".into()));
    let (action, _, _) = posted(&b.get(&start).await);
    assert_eq!(action, sp.acs);

    // A browser that sends no Sec-Fetch-Site still gets on, through the page's own one-time link.
    b.headers.clear();
    let link = continue_link(&b.get(&start).await);
    let (action, _, _) = posted(&b.get(&link).await);
    assert_eq!(action, sp.acs);
    let again = b.get(&link).await;
    assert!(
        !again.body.contains("SAMLResponse"),
        "the link works once: {}",
        again.body
    );
    // A made-up confirmation does not count.
    let forged = b.get(&format!("{start}&confirm=verzonnen")).await;
    assert!(!forged.body.contains("SAMLResponse"), "{}", forged.body);
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
    let file = d.dir.path().join("asks-names.xml");
    std::fs::write(&file, asks).unwrap();
    d.cli_ok(&[
        "sp",
        "add",
        "--party",
        PUBLISHER,
        "--metadata",
        file.to_str().unwrap(),
    ]);
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

#[tokio::test]
async fn logout_of_an_sp_without_a_logout_endpoint_ends_the_session_and_clears_the_cookie() {
    let d = demo();
    let sp = Sp::new("rekenrijk", false);
    // Metadata without a SingleLogoutService.
    let metadata = sp.metadata().replace(
        r#"<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="http://127.0.0.1:9/slo"/>"#,
        "",
    );
    let file = d.dir.path().join("no-slo.xml");
    std::fs::write(&file, metadata).unwrap();
    d.cli_ok(&[
        "sp",
        "add",
        "--party",
        PUBLISHER,
        "--metadata",
        file.to_str().unwrap(),
    ]);
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
