//! Metadata: openpoort's own, signed; an SP's from a URL, checked before fetching and refreshed.

use openpoort_e2e::text;

use crate::common::{
    PUBLIC, PUBLISHER, Sp, assert_refused, demo, new_id, posted, xmlsec1_verifies,
};

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

/// The certificates of the signing KeyDescriptors of openpoort's metadata, in document order
/// (current, next, then retired ones).
fn signing_certificates(xml: &str) -> Vec<openssl::x509::X509> {
    use base64::Engine;
    xml.split("<md:KeyDescriptor use=\"signing\">")
        .skip(1)
        .map(|descriptor| {
            let start = descriptor.find("<ds:X509Certificate>").unwrap() + 20;
            let end = descriptor[start..].find('<').unwrap() + start;
            let der = base64::engine::general_purpose::STANDARD
                .decode(&descriptor[start..end])
                .unwrap();
            openssl::x509::X509::from_der(&der).unwrap()
        })
        .collect()
}

/// An SP that pinned the certificate that signed openpoort's metadata (as Shibboleth's and
/// SimpleSAMLphp's signature filters do) still verifies the documents after a key rotation,
/// for as long as the retired key stays published; the new key, announced as next a whole
/// period ahead, signs once that grace has ended.
#[tokio::test]
async fn idp_metadata_stays_verifiable_with_the_pinned_certificate_through_a_rotation() {
    let schema = openpoort_e2e::PgSchema::create();
    let dir = tempfile::tempdir().unwrap();
    let database = [("OPENPOORT_DATABASE_URL".to_owned(), schema.url())];
    let mut cmd = openpoort_e2e::openpoort(dir.path());
    cmd.envs(database.iter().cloned()).arg("serve");
    let server = openpoort_e2e::Server::start(cmd);
    let metadata = async || {
        let page = reqwest::get(server.url("/saml/metadata")).await.unwrap();
        assert_eq!(page.status(), 200);
        page.text().await.unwrap()
    };
    // The server reads rotations done elsewhere within certs::RECORDS_TTL.
    let until = async |descriptors: usize| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let xml = metadata().await;
            if signing_certificates(&xml).len() == descriptors
                || std::time::Instant::now() > deadline
            {
                return xml;
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    };

    let before = metadata().await;
    let [pinned, announced] = <[_; 2]>::try_from(signing_certificates(&before)).unwrap();
    assert!(xmlsec1_verifies(&before, &pinned), "{before}");

    openpoort_e2e::cli_with(dir.path(), &database, &["keys", "rotate", "--alg", "RS256"]);
    let during = until(3).await;
    let listed = signing_certificates(&during);
    assert_eq!(listed.len(), 3, "current, next and the retired: {during}");
    assert_eq!(listed[0].to_der().unwrap(), announced.to_der().unwrap());
    assert_eq!(listed[2].to_der().unwrap(), pinned.to_der().unwrap());
    assert!(
        xmlsec1_verifies(&during, &pinned),
        "the pinned certificate verifies the first document after the rotation: {during}"
    );
    assert!(!xmlsec1_verifies(&during, &announced));

    // The retired key's grace ends: it is no longer listed, and the announced key signs.
    schema.execute(
        "UPDATE signing_keys SET retired_at = retired_at - 30 * 86400 WHERE state = 'retired'",
    );
    let after = until(2).await;
    assert_eq!(signing_certificates(&after).len(), 2, "{after}");
    assert!(xmlsec1_verifies(&after, &announced), "{after}");
    assert!(!xmlsec1_verifies(&after, &pinned));
}
