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
