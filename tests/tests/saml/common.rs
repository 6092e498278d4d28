//! What every SAML test uses: the demo, a service provider of its publisher, and checks of answers.

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
    Browser, Page, Server, demo_pupil_login, demo_shortcut, openpoort, run, self_signed, unescape,
};

pub const PUBLIC: &str = "http://openpoort.test";
pub const PUBLISHER: &str = "demo-uitgeverij";

pub struct Demo {
    pub dir: tempfile::TempDir,
    pub server: Server,
    pub shortcut: String,
}

pub fn demo() -> Demo {
    demo_with(&[])
}

/// The demo with extra settings (environment overrides).
pub fn demo_with(extra: &[(&str, &str)]) -> Demo {
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
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        run(openpoort(self.dir.path()).args(args))
    }

    pub fn cli_ok(&self, args: &[&str]) -> String {
        openpoort_e2e::cli_ok(self.dir.path(), args)
    }

    /// Registers the SP that `metadata` describes for the demo publisher; `extra` adds options
    /// such as `--encrypt`.
    pub fn add_sp(&self, metadata: &str, extra: &[&str]) {
        let path = self
            .dir
            .path()
            .join(format!("{}.xml", uuid::Uuid::new_v4()));
        std::fs::write(&path, metadata).unwrap();
        let mut args = vec!["sp", "add", "--party", PUBLISHER, "--metadata"];
        let path = path.to_string_lossy().into_owned();
        args.push(&path);
        args.extend_from_slice(extra);
        self.cli_ok(&args);
    }

    pub fn browser(&self) -> Browser {
        Browser::new(&self.server.base)
    }

    pub async fn finn(&self) -> Browser {
        let mut b = self.browser();
        assert!(
            demo_pupil_login(&mut b, &self.shortcut).await,
            "Finn signs in"
        );
        b
    }

    /// openpoort's current signing certificate, read from its published metadata.
    pub async fn idp_certificate(&self) -> X509 {
        let xml = self.browser().get("/saml/metadata").await.body;
        let start = xml.find("<ds:X509Certificate>").unwrap() + "<ds:X509Certificate>".len();
        let end = xml[start..].find('<').unwrap() + start;
        X509::from_der(&STANDARD.decode(&xml[start..end]).unwrap()).unwrap()
    }
}

/// A service provider of the demo publisher, as its metadata describes it.
pub struct Sp {
    pub entity: String,
    pub acs: String,
    pub key: PKey<Private>,
    pub cert: X509,
    pub signs_requests: bool,
}

impl Sp {
    pub fn new(name: &str, signs_requests: bool) -> Sp {
        let (key, cert) = self_signed(name);
        Sp {
            entity: format!("https://{name}.example/saml"),
            acs: format!("http://127.0.0.1:9/{name}/acs"),
            key,
            cert,
            signs_requests,
        }
    }

    pub fn certificate_b64(&self) -> String {
        STANDARD.encode(self.cert.to_der().unwrap())
    }

    pub fn metadata(&self) -> String {
        let cert = self.certificate_b64();
        format!(
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity}"><md:SPSSODescriptor AuthnRequestsSigned="{signs}" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="http://127.0.0.1:9/slo"/><md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{acs}" index="0" isDefault="true"/></md:SPSSODescriptor></md:EntityDescriptor>"#,
            entity = self.entity,
            signs = self.signs_requests,
            acs = self.acs,
        )
    }

    /// Registers this SP for the demo publisher; `extra` adds options such as `--encrypt`.
    pub fn register(&self, d: &Demo, extra: &[&str]) {
        d.add_sp(&self.metadata(), extra);
    }

    pub fn authn_request(&self, id: &str, attributes: &str) -> String {
        format!(
            r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{now}" Destination="{PUBLIC}/saml/sso" AssertionConsumerServiceURL="{acs}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"{attributes}><saml:Issuer>{entity}</saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" AllowCreate="true"/></samlp:AuthnRequest>"#,
            now = xs_now(),
            acs = self.acs,
            entity = self.entity,
        )
    }

    /// The HTTP-Redirect binding URL for `xml` (`SAMLRequest`), signed when `sign` is set.
    pub fn redirect(&self, xml: &str, relay: Option<&str>, sign: bool) -> String {
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
    pub fn sign_xml(&self, xml: &str, id: &str) -> String {
        let pem = String::from_utf8(self.cert.to_pem().unwrap()).unwrap();
        let signer = metadata::saml::sign::XmlSigner::new(&self.key, &pem).unwrap();
        let at = xml.find("</saml:Issuer>").unwrap() + "</saml:Issuer>".len();
        let with_template = format!("{}{}{}", &xml[..at], signer.template(id), &xml[at..]);
        signer.sign(&with_template).unwrap()
    }

    /// samael as this SP, trusting openpoort's published metadata.
    /// The Assertion of `xml`, which samael as this SP (SP-initiated only) must accept as the
    /// answer to request `request_id`.
    pub async fn accepts(
        &self,
        d: &Demo,
        xml: &str,
        request_id: &str,
    ) -> samael::schema::Assertion {
        self.samael(d, false)
            .await
            .parse_xml_response(xml, Some(&[request_id]))
            .unwrap_or_else(|e| panic!("samael refuses the response: {e:?}\n{xml}"))
    }

    pub async fn samael(
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

pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub fn xs_now() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    metadata::saml::time::format(now)
}

pub fn new_id() -> String {
    format!("_{}", uuid::Uuid::new_v4().simple())
}

/// The HTTP-POST binding form openpoort answered with: (action, SAMLResponse XML, RelayState).
pub fn posted(page: &Page) -> (String, String, Option<String>) {
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
pub fn xmlsec1_verifies(xml: &str, cert: &X509) -> bool {
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
pub fn assert_refused(page: &Page, why: &str) {
    assert_eq!(page.status, 400, "{why}: {}", page.body);
    assert!(
        !page.body.contains("SAMLResponse"),
        "{why}: nothing goes to the SP"
    );
}
