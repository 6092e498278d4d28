//! Complete SP-initiated SAML logins per second, next to the bare rate at which this machine
//! signs such a response, measured in the same run.
//!
//!     cargo run --release -p openpoort-e2e --bin saml-bench -- [FLOWS] [CONCURRENCY] [sqlite|postgres]
//!
//! It starts `openpoort demo` on the embedded default (SQLite, sessions in memory) or on
//! PostgreSQL + Redis (a fresh schema, a redis-server of the run's own; `eval
//! "$(scripts/services)"` first), registers a service provider of the demo publisher from its
//! metadata, and runs FLOWS flows with CONCURRENCY clients at once. One flow: a pupil's
//! shortcut login (the demo's ten pupils in turn, `DemoPupils`; groups, names, picture,
//! session: 4 requests), then an AuthnRequest by
//! HTTP-Redirect with a fresh ID (a release decision, audited) answered with a signed Response
//! in an HTTP-POST form: 5 requests. The tool checks each answer is a successful Response with
//! an Assertion for its request; it does not verify the signature (that is the SP's cost, and
//! the e2e tests verify it with samael and xmlsec1). Besides flows/s, p50, p99 and errors it
//! prints the server's CPU, database transactions and Redis commands per flow
//! (`openpoort_e2e::bench`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use metadata::saml::binding::encode_redirect;
use metadata::saml::response::{AssertionParams, SamlAttribute, Signing, success_response};
use metadata::saml::sign::XmlSigner;
use openpoort_e2e::bench::{BenchStore, DemoPupils, measured_load, report};
use openpoort_e2e::{Browser, Server, demo_shortcut, self_signed};

const ENTITY: &str = "https://bench-sp.example/saml";
const ACS: &str = "http://127.0.0.1:9/bench/acs";
const PUBLIC: &str = "http://openpoort.test";

fn sp_metadata() -> String {
    format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{ENTITY}"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{ACS}" index="0"/></md:SPSSODescriptor></md:EntityDescriptor>"#
    )
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn authn_request(id: &str) -> String {
    format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{}" Destination="{PUBLIC}/saml/sso" AssertionConsumerServiceURL="{ACS}"><saml:Issuer>{ENTITY}</saml:Issuer></samlp:AuthnRequest>"#,
        metadata::saml::time::format(now())
    )
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn flow(b: &mut Browser, shortcut: &str, pupils: &DemoPupils) -> Option<()> {
    b.cookies.clear();
    if !pupils.log_in(b, shortcut).await {
        return None;
    }
    let id = format!("_{}", uuid::Uuid::new_v4().simple());
    let page = b
        .get(&format!(
            "/saml/sso?SAMLRequest={}",
            enc(&encode_redirect(&authn_request(&id)))
        ))
        .await;
    if page.status != 200 {
        return None;
    }
    let xml = base64::engine::general_purpose::STANDARD
        .decode(page.field("SAMLResponse")?)
        .ok()?;
    let xml = String::from_utf8(xml).ok()?;
    (xml.contains(&format!("InResponseTo=\"{id}\""))
        && xml.contains("status:Success")
        && xml.contains("<saml:Assertion"))
    .then_some(())
}

/// Responses like the server's (a pupil's attributes, a fresh key of the same kind) signed as
/// fast as every core can for `span`: the ceiling the flows are compared with.
fn signing_rate(span: Duration) -> (f64, usize) {
    let (key, cert) = self_signed("bench");
    let pem = String::from_utf8(cert.to_pem().expect("PEM")).expect("UTF-8");
    let signer = Arc::new(XmlSigner::new(&key, &pem).expect("signer"));
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let count = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (signer, count) = (signer.clone(), count.clone());
            std::thread::spawn(move || {
                let attributes = [
                    ("uid".to_owned(), vec!["a".repeat(43)]),
                    (
                        "eduPersonAffiliation".to_owned(),
                        vec!["student".to_owned()],
                    ),
                    (
                        "nlEduPersonHomeOrganizationId".to_owned(),
                        vec!["99ZZ".to_owned()],
                    ),
                    (
                        "nlEduPersonHomeOrganizationBranchId".to_owned(),
                        vec!["00".to_owned()],
                    ),
                    ("groups".to_owned(), vec!["groep-5".to_owned()]),
                    ("jaargroep".to_owned(), vec!["5".to_owned()]),
                ];
                while start.elapsed() < span {
                    let params = AssertionParams {
                        idp_entity_id: format!("{PUBLIC}/saml/metadata"),
                        sp_entity_id: ENTITY.into(),
                        acs_url: ACS.into(),
                        in_response_to: Some("_request".into()),
                        name_id: "a".repeat(43),
                        name_id_format: metadata::saml::NAMEID_PERSISTENT.into(),
                        session_index: "_session".into(),
                        authn_instant: now(),
                        authn_context: "urn:openpoort:acr:school-network".into(),
                        attributes: attributes
                            .iter()
                            .cloned()
                            .map(SamlAttribute::from)
                            .collect(),
                        now: now(),
                        lifetime: 300,
                        skew: 60,
                        session_not_on_or_after: None,
                    };
                    success_response(&params, &signer, Signing::Assertion, None)
                        .expect("signed response");
                    count.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("signing thread");
    }
    (
        count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64(),
        threads,
    )
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let flows: usize = args
        .next()
        .map_or(2_000, |a| a.parse().expect("FLOWS is a number"));
    let concurrency: usize = args
        .next()
        .map_or(32, |a| a.parse().expect("CONCURRENCY is a number"));
    let store = BenchStore::from_arg(args.next().as_deref());

    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = store.command(dir.path(), "demo");
    // Every flow comes from loopback: the per-address limit on SAML requests would otherwise
    // refuse the flows past it (the warm-up flow counts too) and show up as errors.
    let limit = (flows + 100).to_string();
    cmd.env("OPENPOORT_SERVER_PUBLIC_URL", PUBLIC)
        .env("OPENPOORT_SAML_MAX_REQUESTS_PER_ADDRESS", limit.as_str());
    let mut server = Server::start(cmd);
    let out = server.more_output(Duration::from_millis(500)).join("\n");
    let shortcut = demo_shortcut(&out).expect("shortcut in the demo's welcome");
    let metadata_file = dir.path().join("sp.xml");
    std::fs::write(&metadata_file, sp_metadata()).expect("write SP metadata");
    store.cli(
        dir.path(),
        &[
            "sp",
            "add",
            "--party",
            "demo-uitgeverij",
            "--metadata",
            metadata_file.to_str().expect("UTF-8 path"),
        ],
    );

    let mut warm = Browser::new(&server.base);
    let pupils = Arc::new(DemoPupils::default());
    flow(&mut warm, &shortcut, &pupils)
        .await
        .expect("a complete flow works");

    // The ceiling first, while the server idles, on every core.
    let (rate, threads) = signing_rate(Duration::from_secs(3));

    let shortcut = Arc::new(shortcut);
    let (load, usage) = measured_load(
        &store,
        server.child.id(),
        &server.base,
        flows,
        concurrency,
        move |mut b| {
            let (shortcut, pupils) = (shortcut.clone(), pupils.clone());
            async move {
                let ok = flow(&mut b, &shortcut, &pupils).await.is_some();
                (b, ok)
            }
        },
    )
    .await;
    server.terminate();
    report(
        &store,
        &format!("SAML pupil flows/s (SP-initiated, 5 requests each, concurrency {concurrency})"),
        &load,
        &usage,
    );
    println!(
        "bare response signing (Assertion, RSA-SHA256 through xmlsec): {rate:.0}/s on {threads} threads"
    );
}
