//! Brokered login end to end over the real router: a network provider's SAML IdP built here
//! (a key of its own, its metadata registered through the operator's rule, Responses signed
//! with the project's xmlsec signer) vouches for demo users; openpoort matches them to the demo
//! school, which selected the provider, and signs them into the demo publisher over OpenID
//! Connect and SAML with an `acr` naming the provider.

mod support;

use axum::http::StatusCode;
use base64::Engine;
use directory::Actor;
use directory::model::PartyKind;
use idp::upstream::registry::{self, MatchBy, MetadataSource, Settings};
use metadata::saml::authn_request::AuthnRequest;
use metadata::saml::binding;
use metadata::saml::response::{AssertionParams, SamlAttribute, Signing, success_response};
use metadata::saml::sign::XmlSigner;
use metadata::saml::{NAMEID_PERSISTENT, NS_ASSERTION, dom};
use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::{X509, X509NameBuilder};
use serde_json::Value;

use support::publisher::*;
use support::*;

const PROVIDER: &str = "moo";
const IDP: &str = "https://moo.example/idp";
const SSO: &str = "https://moo.example/sso";
const ACR: &str = "urn:openpoort:acr:network:moo";
const SCHOOL: &str = "99ZZ00";
/// Finn, a demo pupil of groep 5.
const PUPIL_LAS_KEY: &str = "L005";
/// Anna, a demo teacher whose openpoort account was never activated.
const TEACHER_LAS_KEY: &str = "T01";
const SP: &str = "https://rekenrijk.demo-uitgeverij.example/saml";
const SP_ACS: &str = "https://rekenrijk.demo-uitgeverij.example/saml/acs";

fn key_and_cert(cn: &str) -> (PKey<Private>, X509) {
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", cn).unwrap();
    let name = name.build();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&BigNum::from_u32(7).unwrap().to_asn1_integer().unwrap())
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

fn signer_of(key: &PKey<Private>, cert: &X509) -> XmlSigner {
    XmlSigner::new(key, &String::from_utf8(cert.to_pem().unwrap()).unwrap()).unwrap()
}

fn b64(der: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(der)
}

/// The network provider's identity provider: the key its registered metadata names.
struct Provider {
    signer: XmlSigner,
    cert: X509,
}

impl Provider {
    fn new() -> Provider {
        let (key, cert) = key_and_cert("moo test idp");
        Provider {
            signer: signer_of(&key, &cert),
            cert,
        }
    }

    fn metadata(&self) -> String {
        format!(
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{IDP}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAuthnRequestsSigned="true">
    <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{SSO}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"#,
            b64(&self.cert.to_der().unwrap())
        )
    }
}

/// What the provider states about a user in one Response.
struct Statement<'a> {
    las_key: &'a str,
    school: &'a str,
    in_response_to: Option<&'a str>,
    audience: Option<&'a str>,
    /// A base64 DER certificate to encrypt the assertion to.
    encrypt_to: Option<&'a str>,
    /// The user's number in openpoort's partner API, as the provider read it there.
    user_number: Option<i64>,
}

impl<'a> Statement<'a> {
    fn pupil() -> Statement<'a> {
        Statement {
            las_key: PUPIL_LAS_KEY,
            school: SCHOOL,
            in_response_to: None,
            audience: None,
            encrypt_to: None,
            user_number: None,
        }
    }
}

/// A Response as the provider posts it (base64), its Assertion and the Response both signed
/// by `signer`.
fn response(d: &Demo, signer: &XmlSigner, s: &Statement) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let sp = idp::upstream::saml::sp_entity_id(&d.state.web);
    let params = AssertionParams {
        idp_entity_id: IDP.into(),
        sp_entity_id: s.audience.map_or(sp, str::to_owned),
        acs_url: idp::upstream::saml::acs_url(&d.state.web),
        in_response_to: s.in_response_to.map(str::to_owned),
        name_id: format!("moo-{}", s.las_key),
        name_id_format: NAMEID_PERSISTENT.into(),
        session_index: "_moo_session".into(),
        authn_instant: now - 5,
        authn_context: "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport".into(),
        attributes: [
            ("lasKey".to_owned(), vec![s.las_key.to_owned()]),
            ("brinVestiging".to_owned(), vec![s.school.to_owned()]),
        ]
        .into_iter()
        .chain(
            s.user_number
                .map(|n| ("userNumber".to_owned(), vec![n.to_string()])),
        )
        .map(SamlAttribute::from)
        .collect(),
        now,
        lifetime: 300,
        skew: 60,
        session_not_on_or_after: None,
    };
    binding::encode_post(&success_response(&params, signer, Signing::Both, s.encrypt_to).unwrap())
}

/// The demo with the provider connected (matching on the LAS key within the school its
/// attribute names) and, when `selected`, chosen by the demo school; and a publisher client.
async fn brokered(selected: bool) -> (Demo, Provider) {
    brokered_with(selected, &[]).await
}

/// As [`brokered`], with sessions and the replay cache in Redis, as several nodes share them.
async fn brokered_on_redis() -> (Demo, Provider) {
    let url = std::env::var("TEST_REDIS_URL")
        .expect("TEST_REDIS_URL is not set: run the tests with scripts/test (README)");
    brokered_with(
        true,
        &[
            ("OPENPOORT_SESSIONS_STORE", "redis"),
            ("OPENPOORT_SESSIONS_REDIS_URL", url.as_str()),
        ],
    )
    .await
}

async fn brokered_with(selected: bool, settings: &[(&str, &str)]) -> (Demo, Provider) {
    let d = demo_with("127.0.0.1:40000", settings).await;
    let p = Provider::new();
    let actor = Actor::system("test");
    let party = d
        .directory
        .create_party(PROVIDER, PartyKind::NetworkProvider, "MOO Netwerk", &actor)
        .await
        .unwrap();
    connect(&d, &p, MatchBy::LasKey).await;
    if selected {
        d.directory
            .grant_consent(&d.seeded.school.id, &party.id, &actor)
            .await
            .unwrap();
    }
    register_publisher(&d, &actor).await;
    (d, p)
}

/// (Re)connects the provider over SAML, matching by `rule`: the LAS key within the school the
/// `brinVestiging` attribute names, or a partner number in `userNumber` at any school that
/// selected the provider.
async fn connect(d: &Demo, p: &Provider, rule: MatchBy) {
    let (identifier, school) = match rule {
        MatchBy::LasKey => ("lasKey", Some("brinVestiging".to_owned())),
        _ => ("userNumber", None),
    };
    let settings = Settings {
        match_by: rule,
        identifier: Some(identifier.into()),
        school,
        require_signed_assertion: true,
        allow_unsolicited: true,
        metadata_certificate: None,
        oidc: None,
    };
    registry::connect_saml(
        &d.directory,
        &d.state.http,
        PROVIDER,
        MetadataSource::Xml(p.metadata().into_bytes()),
        None,
        &settings,
        &Actor::system("test"),
    )
    .await
    .unwrap();
}

/// The demo publisher as an OIDC client (public, PKCE) and a SAML service provider.
async fn register_publisher(d: &Demo, actor: &Actor) {
    let publisher = d.party("demo-uitgeverij").await;
    register_client(d, actor).await;
    let sp_metadata = format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{SP}">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{SP_ACS}" index="0" isDefault="true"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>"#
    );
    idp::service_providers::register(
        &d.directory,
        &d.state.http,
        Some(sp_metadata.into_bytes()),
        &metadata::saml::sp::SpSettings {
            party_id: publisher.id,
            ..Default::default()
        },
        true,
        actor,
    )
    .await
    .unwrap();
}

/// The AuthnRequest openpoort sent the browser to the provider with, and its RelayState.
fn sent_request(location: &str) -> (AuthnRequest, String) {
    assert!(location.starts_with(SSO), "{location}");
    let q = query_of(location);
    assert_eq!(
        q.get("SigAlg").map(String::as_str),
        Some("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"),
        "openpoort signs its requests with RSA-SHA256"
    );
    let xml = binding::decode_redirect(&q["SAMLRequest"]).unwrap();
    (AuthnRequest::parse(&xml).unwrap(), q["RelayState"].clone())
}

impl Browser<'_> {
    /// Posts the provider's Response to openpoort's ACS and follows to where the login lands.
    async fn deliver(&mut self, saml_response: &str, relay: Option<&str>) -> Answer {
        let mut form = vec![("SAMLResponse", saml_response)];
        if let Some(r) = relay {
            form.push(("RelayState", r));
        }
        let posted = self.post("/saml/acs", &form).await;
        if posted.status != StatusCode::SEE_OTHER {
            return posted;
        }
        let next = redirected(&posted);
        assert!(next.starts_with("/saml/acs/verder?id="), "{next}");
        self.get(&next).await
    }

    /// The login through the provider from openpoort's request at `location` (the provider's
    /// SSO with a SAMLRequest) back to openpoort: where openpoort then sends the browser.
    async fn at_provider(&mut self, d: &Demo, p: &Provider, location: &str, who: &str) -> String {
        let (request, relay) = sent_request(location);
        assert_eq!(
            request.issuer,
            idp::upstream::saml::sp_entity_id(&d.state.web)
        );
        let answer = response(
            d,
            &p.signer,
            &Statement {
                las_key: who,
                in_response_to: Some(&request.id),
                ..Statement::pupil()
            },
        );
        redirected(&self.deliver(&answer, Some(&relay)).await)
    }
}

fn shortcut_path(d: &Demo) -> String {
    format!(
        "/login/snelkoppelaar?NETWERKBEHEERDER={PROVIDER}&INSTELLING_REF={}",
        d.seeded.school.instelling_ref
    )
}

/// The provider's audit entries of `action`, newest first.
async fn audited(d: &Demo, action: &str) -> Vec<Value> {
    audit_entries(d, action)
        .await
        .into_iter()
        .map(|e| e.details)
        .collect()
}

async fn audit_entries(d: &Demo, action: &str) -> Vec<directory::audit::AuditEntry> {
    let party = d.party(PROVIDER).await;
    d.directory
        .audit_of_party(&party.id, 200)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == action)
        .collect()
}

// ------------------------------------------------------------------ accepted

#[tokio::test]
async fn a_pupil_sent_by_the_schools_shortcut_is_signed_in_to_the_publisher_over_oidc() {
    let (d, p) = brokered(true).await;
    let mut b = d.browser();
    let to_provider = redirected(&b.get(&shortcut_path(&d)).await);
    let landed = b.at_provider(&d, &p, &to_provider, PUPIL_LAS_KEY).await;
    assert_eq!(landed, "/", "no TARGET: the portal");
    assert!(b.has_session());
    let code = redirected(&b.get(&authorize_path("")).await);
    let claims = id_token_claims(&d, &code).await;
    assert_eq!(claims["acr"], ACR);
    assert_eq!(claims["aud"], CLIENT_ID);
    let logins = audited(&d, "broker.login").await;
    assert_eq!(logins.len(), 1, "{logins:?}");
    assert!(
        logins[0].to_string().contains(PROVIDER),
        "the audit names the provider: {}",
        logins[0]
    );
    let releases = d
        .directory
        .audit_of_school_by_action(&d.seeded.school.id, "release.allow", 10)
        .await
        .unwrap();
    assert_eq!(releases.len(), 1);
    assert_eq!(releases[0].details["network"], PROVIDER);
    assert_eq!(releases[0].details["context"], "network");
}

#[tokio::test]
async fn an_unsolicited_response_from_a_portal_tile_signs_the_pupil_in() {
    let (d, p) = brokered(true).await;
    let mut b = d.browser();
    let landed = b
        .deliver(&response(&d, &p.signer, &Statement::pupil()), None)
        .await;
    assert_eq!(redirected(&landed), "/");
    assert!(b.has_session());
    let code = redirected(&b.get(&authorize_path("")).await);
    assert_eq!(id_token_claims(&d, &code).await["acr"], ACR);
}

#[tokio::test]
async fn an_assertion_encrypted_to_openpoorts_published_key_is_decrypted_and_signs_in() {
    let (d, p) = brokered(true).await;
    let metadata = d.get("/saml/sp/metadata").await;
    assert_eq!(metadata.status, StatusCode::OK);
    let root = dom::parse(metadata.body.as_bytes(), dom::Limits::MESSAGE).unwrap();
    let encryption = root
        .descendants("urn:oasis:names:tc:SAML:2.0:metadata", "KeyDescriptor")
        .into_iter()
        .find(|k| k.attr("use") == Some("encryption"))
        .expect("openpoort's SP metadata publishes an encryption key");
    let cert = encryption.descendants("http://www.w3.org/2000/09/xmldsig#", "X509Certificate")[0]
        .trimmed_text()
        .replace(['\n', ' '], "");
    let answer = response(
        &d,
        &p.signer,
        &Statement {
            encrypt_to: Some(&cert),
            ..Statement::pupil()
        },
    );
    let decoded = String::from_utf8(binding::decode_post(&answer).unwrap()).unwrap();
    assert!(decoded.contains("EncryptedAssertion") && !decoded.contains(PUPIL_LAS_KEY));
    let mut b = d.browser();
    assert_eq!(redirected(&b.deliver(&answer, None).await), "/");
    assert!(b.has_session());
}

#[tokio::test]
async fn a_teacher_without_an_openpoort_password_is_signed_in_by_the_provider() {
    let (d, p) = brokered(true).await;
    let anna = || async {
        d.directory
            .staff_login(&directory::model::Email::parse(idp::demo::ANNA).unwrap())
            .await
            .unwrap()
            .expect("Anna")
    };
    assert!(anna().await.password_hash.is_none());
    let mut b = d.browser();
    let to_provider = redirected(&b.get(&shortcut_path(&d)).await);
    assert_eq!(
        b.at_provider(&d, &p, &to_provider, TEACHER_LAS_KEY).await,
        "/"
    );
    let code = redirected(&b.get(&authorize_path("")).await);
    assert_eq!(id_token_claims(&d, &code).await["acr"], ACR);
    let after = anna().await;
    assert!(after.password_hash.is_none());
    assert_eq!(
        after.staff.status,
        directory::people::StaffStatus::Inactive,
        "the provider's login activates nothing at openpoort"
    );
}

#[tokio::test]
async fn an_oidc_idp_hint_sends_the_login_to_the_provider_and_back_to_the_publisher() {
    let (d, p) = brokered(true).await;
    let mut b = d.browser();
    let to_network = redirected(
        &b.get(&authorize_path(&format!("&idp_hint={PROVIDER}")))
            .await,
    );
    assert!(
        to_network.starts_with(&format!("/login/netwerk/{PROVIDER}?next=")),
        "{to_network}"
    );
    let to_provider = redirected(&b.get(&to_network).await);
    let back = b.at_provider(&d, &p, &to_provider, PUPIL_LAS_KEY).await;
    assert!(back.starts_with("/oidc/authorize?"), "{back}");
    let code = redirected(&b.get(&back).await);
    assert_eq!(id_token_claims(&d, &code).await["acr"], ACR);
}

#[tokio::test]
async fn an_unknown_idp_hint_leaves_the_login_at_openpoort() {
    let (d, _) = brokered(true).await;
    let to = redirected(&d.browser().get(&authorize_path("&idp_hint=nobody")).await);
    assert!(to.starts_with("/inloggen?"), "{to}");
}

/// The AuthnRequest a SAML SP sends, naming the provider in its Scoping.
fn sp_request(id: &str) -> String {
    let xml = format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{}" AssertionConsumerServiceURL="{SP_ACS}"><saml:Issuer>{SP}</saml:Issuer><samlp:Scoping><samlp:IDPList><samlp:IDPEntry ProviderID="https://unknown.example/idp"/><samlp:IDPEntry ProviderID="{IDP}"/></samlp:IDPList></samlp:Scoping></samlp:AuthnRequest>"#,
        metadata::saml::time::format(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64
        )
    );
    format!(
        "/saml/sso?SAMLRequest={}",
        url::form_urlencoded::byte_serialize(binding::encode_redirect(&xml).as_bytes())
            .collect::<String>()
    )
}

#[tokio::test]
async fn a_saml_publisher_naming_the_provider_in_its_scoping_gets_a_brokered_assertion() {
    let (d, p) = brokered(true).await;
    let mut b = d.browser();
    let to_network = redirected(&b.get(&sp_request("_sp_req_1")).await);
    assert!(
        to_network.starts_with(&format!("/login/netwerk/{PROVIDER}?next=")),
        "the first IDPList entry that is a connected provider takes the login: {to_network}"
    );
    let to_provider = redirected(&b.get(&to_network).await);
    let back = b.at_provider(&d, &p, &to_provider, PUPIL_LAS_KEY).await;
    assert!(back.starts_with("/saml/sso/verder?"), "{back}");
    let page = b.get(&back).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let encoded = page
        .body
        .split("name=\"SAMLResponse\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the auto-posting form to the SP");
    let xml = binding::decode_post(encoded).unwrap();
    let root = dom::parse(&xml, dom::Limits::MESSAGE).unwrap();
    let classes: Vec<String> = root
        .descendants(NS_ASSERTION, "AuthnContextClassRef")
        .iter()
        .map(|e| e.trimmed_text().to_owned())
        .collect();
    assert_eq!(classes, [ACR]);
    let audiences: Vec<String> = root
        .descendants(NS_ASSERTION, "Audience")
        .iter()
        .map(|e| e.trimmed_text().to_owned())
        .collect();
    assert_eq!(audiences, [SP]);
}

// ------------------------------------------------------------------ refused

#[tokio::test]
async fn the_shortcut_of_a_school_that_did_not_select_the_provider_is_refused() {
    let (d, _) = brokered(false).await;
    let a = d.browser().get(&shortcut_path(&d)).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(a.body.contains("niet gekozen"), "{}", a.body);
    assert!(a.location().is_none(), "nobody is sent to the provider");
}

#[tokio::test]
async fn a_user_of_a_school_that_did_not_select_the_provider_is_refused() {
    let (d, p) = brokered(false).await;
    let mut b = d.browser();
    let a = b
        .deliver(&response(&d, &p.signer, &Statement::pupil()), None)
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    assert!(!b.has_session());
    assert!(audited(&d, "broker.login").await.is_empty());
    assert_eq!(audited(&d, "broker.unmatched").await.len(), 1);
}

#[tokio::test]
async fn a_login_finished_in_another_browser_is_refused() {
    let (d, p) = brokered(true).await;
    let mut victim = d.browser();
    let to_provider = redirected(&victim.get(&shortcut_path(&d)).await);
    let (request, relay) = sent_request(&to_provider);
    let answer = response(
        &d,
        &p.signer,
        &Statement {
            in_response_to: Some(&request.id),
            ..Statement::pupil()
        },
    );
    // The Response and RelayState reach a browser that did not start the login.
    let mut other = d.browser();
    let a = other.deliver(&answer, Some(&relay)).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    assert!(!other.has_session());
    assert!(audited(&d, "broker.login").await.is_empty());
}

#[tokio::test]
async fn a_replayed_response_is_refused_at_the_acs() {
    let (d, p) = brokered(true).await;
    let answer = response(&d, &p.signer, &Statement::pupil());
    let mut first = d.browser();
    assert_eq!(redirected(&first.deliver(&answer, None).await), "/");
    let mut second = d.browser();
    let a = second.deliver(&answer, None).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("al eens gebruikt"), "{}", a.body);
    assert!(!second.has_session());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replays_in_parallel_sign_in_exactly_once() {
    replays_in_parallel_sign_in_exactly_once_on(brokered(true).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replays_in_parallel_sign_in_exactly_once_on_redis() {
    replays_in_parallel_sign_in_exactly_once_on(brokered_on_redis().await).await;
}

async fn replays_in_parallel_sign_in_exactly_once_on((d, p): (Demo, Provider)) {
    let answer = response(&d, &p.signer, &Statement::pupil());
    let d = std::sync::Arc::new(d);
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let d = d.clone();
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut b = d.browser();
                b.deliver(&answer, None).await.status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for a in attempts {
        statuses.push(a.await.unwrap());
    }
    let signed_in = statuses
        .iter()
        .filter(|s| **s == StatusCode::SEE_OTHER)
        .count();
    assert_eq!(signed_in, 1, "{statuses:?}");
    assert_eq!(audited(&d, "broker.login").await.len(), 1);
}

#[tokio::test]
async fn a_response_signed_by_a_key_not_in_the_metadata_is_refused_at_the_acs() {
    let (d, _) = brokered(true).await;
    let (key, cert) = key_and_cert("moo test idp");
    let forged = response(&d, &signer_of(&key, &cert), &Statement::pupil());
    let mut b = d.browser();
    let a = b.deliver(&forged, None).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(!b.has_session());
}

#[tokio::test]
async fn a_response_for_another_audience_is_refused_at_the_acs() {
    let (d, p) = brokered(true).await;
    let other = response(
        &d,
        &p.signer,
        &Statement {
            audience: Some("https://other-broker.example/sp"),
            ..Statement::pupil()
        },
    );
    let mut b = d.browser();
    let a = b.deliver(&other, None).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(!b.has_session());
}

#[tokio::test]
async fn a_brokered_session_ends_when_the_school_deselects_the_provider() {
    let (d, p) = brokered(true).await;
    let mut b = d.browser();
    b.deliver(&response(&d, &p.signer, &Statement::pupil()), None)
        .await;
    assert!(b.has_session());
    d.withdraw_consent(PROVIDER).await;
    let a = b.get(&authorize_path("")).await;
    let to = redirected(&a);
    assert!(
        to.starts_with("/inloggen?"),
        "the session no longer stands, so the user must log in again: {to}"
    );
}

#[tokio::test]
async fn a_user_is_matched_by_the_number_the_provider_reads_in_the_partner_api() {
    let (d, p) = brokered(true).await;
    connect(&d, &p, MatchBy::PartnerNumber).await;
    let party = d.party(PROVIDER).await;
    let finn = d
        .directory
        .pupils_of_school(&d.seeded.school.id)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.las_key.as_str() == PUPIL_LAS_KEY)
        .unwrap();
    let number = d
        .state
        .broker
        .partner_number(&broker::partner_sector(&party.id), "pupil", &finn.id)
        .unwrap();
    let mut b = d.browser();
    // The LAS key it also sends is not the rule now: another pupil's must not matter.
    let answer = response(
        &d,
        &p.signer,
        &Statement {
            las_key: "L001",
            user_number: Some(number),
            ..Statement::pupil()
        },
    );
    assert_eq!(redirected(&b.deliver(&answer, None).await), "/");
    let logins = audit_entries(&d, "broker.login").await;
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0].subject.as_deref(), Some(finn.id.as_str()));
    // A number nobody has finds nobody.
    let mut other = d.browser();
    let unknown = response(
        &d,
        &p.signer,
        &Statement {
            user_number: Some(number + 1),
            ..Statement::pupil()
        },
    );
    assert_eq!(
        other.deliver(&unknown, None).await.status,
        StatusCode::FORBIDDEN
    );
    assert!(!other.has_session());
}

#[tokio::test]
async fn a_user_the_school_does_not_know_is_told_who_can_fix_it() {
    let (d, p) = brokered(true).await;
    let mut b = d.browser();
    let a = b
        .deliver(
            &response(
                &d,
                &p.signer,
                &Statement {
                    las_key: "L999",
                    ..Statement::pupil()
                },
            ),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    assert!(a.body.contains("ICT-coördinator"), "{}", a.body);
    assert!(!b.has_session());
    assert_eq!(
        audited(&d, "broker.unmatched").await,
        [serde_json::json!({"reason": "no_such_user"})]
    );
}

#[tokio::test]
async fn the_shortcuts_target_is_offered_only_when_it_is_a_product_of_the_user() {
    let (d, p) = brokered(true).await;
    for (target, offered) in [
        ("https://rekenrijk.demo-uitgeverij.example/start", true),
        ("https://elsewhere.example/phish", false),
    ] {
        let mut b = d.browser();
        let path = format!(
            "{}&TARGET={}",
            shortcut_path(&d),
            url::form_urlencoded::byte_serialize(target.as_bytes()).collect::<String>()
        );
        let to_provider = redirected(&b.get(&path).await);
        assert_eq!(
            b.at_provider(&d, &p, &to_provider, PUPIL_LAS_KEY).await,
            "/"
        );
        let portal = b.get("/").await;
        assert_eq!(portal.status, StatusCode::OK);
        assert_eq!(
            portal.body.contains("Verder naar"),
            offered,
            "{target}: {}",
            portal.body
        );
        assert!(!portal.body.contains("elsewhere.example"));
    }
}
