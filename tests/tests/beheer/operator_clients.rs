//! OpenID Connect clients and SAML service providers on the operator's pages: registered,
//! changed, re-keyed and removed through the same rules as the admin API and the CLI; a secret
//! shown once; the admin scope out of the pages' reach; refused requests change nothing.

use openpoort_e2e::{
    BRAM, Browser, Page, Store, bram_signed_in, cli_ok, openpoort, run, self_signed,
};

use crate::common::{Demo, demo};

const PARTY: &str = "demo-uitgeverij";

async fn operator(d: &Demo) -> Browser {
    cli_ok(d.dir.path(), &["operator", "grant", BRAM]);
    bram_signed_in(&d.server.base).await
}

fn clients(d: &Demo) -> String {
    cli_ok(d.dir.path(), &["client", "list", "--party", PARTY])
}

/// The text of the read-only secret field on an answer page, if it has one.
fn shown_secret(page: &Page) -> Option<String> {
    let field = &page.body[page.body.find("id=\"client_secret\"")?..];
    let value = &field[field.find('>')? + 1..];
    Some(value[..value.find("</textarea>")?].to_owned())
}

/// A confidential code-flow client as the form sends it, with `extra` fields after these.
fn client_form<'a>(
    csrf: &'a str,
    client_id: &'a str,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("csrf", csrf),
        ("client_id", client_id),
        ("name", "Rekenrijk web"),
        (
            "redirect_uris",
            "https://rekenrijk.example/cb\r\nhttps://rekenrijk.example/cb2",
        ),
        ("post_logout_redirect_uris", ""),
        ("auth", "client_secret_basic"),
        ("grant", "authorization_code"),
        ("scope", "openid"),
        ("alg", "RS256"),
        ("jwks_uri", ""),
        ("jwks", ""),
        ("sector_identifier", ""),
        ("backchannel_logout_uri", ""),
        ("initiate_login_uri", ""),
    ];
    form.extend_from_slice(extra);
    form
}

fn register_path() -> String {
    format!("/operator/partijen/{PARTY}/oidc-clients")
}

#[tokio::test]
async fn an_operator_registers_changes_rekeys_and_deletes_a_client_with_its_secret_shown_once() {
    let d = demo(Store::Memory);
    let mut bram = operator(&d).await;
    let party = bram.get(&format!("/operator/partijen/{PARTY}")).await;
    assert!(party.body.contains(&register_path()), "{}", party.body);
    let form = bram.get(&register_path()).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = form.field("csrf").unwrap();

    // A rule of the registration, shown at its field in both languages, the form refilled.
    let mut bad = client_form(&csrf, "rekenrijk-web", &[]);
    bad[3] = (
        "redirect_uris",
        "https://rekenrijk.example/cb\r\nhttp://rekenrijk.example/cb",
    );
    let refused = bram.post(&register_path(), &bad).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    for shown in [
        "redirect_uris[1]",
        "moet https gebruiken",
        "must use https",
        "id=\"redirect_uris-error\"",
        "aria-invalid=\"true\"",
        "value=\"Rekenrijk web\"",
        "http://rekenrijk.example/cb</textarea>",
    ] {
        assert!(refused.body.contains(shown), "{shown}: {}", refused.body);
    }
    assert!(!clients(&d).contains("rekenrijk-web"));

    // Registered: the secret once, in the answer to the POST, never in a URL.
    let made = bram
        .post(&register_path(), &client_form(&csrf, "rekenrijk-web", &[]))
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    assert!(made.location().is_none());
    assert!(
        made.body.contains("Kopieer dit geheim nu") && made.body.contains("Copy this secret now")
    );
    let secret = shown_secret(&made).expect("the secret on the answer page");
    assert_eq!(
        made.headers.get("cache-control").unwrap(),
        "no-store",
        "no cache keeps the secret"
    );
    let listed = clients(&d);
    assert!(
        listed.contains("rekenrijk-web") && listed.contains("https://rekenrijk.example/cb2"),
        "{listed}"
    );
    assert!(!listed.contains(&secret), "only its hash is stored");
    let page = bram.get("/operator/oidc-clients/rekenrijk-web").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        !page.body.contains(&secret),
        "the client's page never shows it"
    );
    let log = d
        .server
        .more_output(std::time::Duration::from_millis(200))
        .join("\n");
    assert!(!log.contains(&secret), "the secret is not logged");

    // Changed: a new name and a post-logout address; the secret stays.
    let changed = bram
        .post(
            "/operator/oidc-clients/rekenrijk-web",
            &client_form(
                &csrf,
                "ander-id-genegeerd",
                &[("post_logout_redirect_uris", "https://rekenrijk.example/uit")],
            )
            .into_iter()
            .map(|(k, v)| {
                if k == "name" {
                    (k, "Rekenrijk nieuw")
                } else {
                    (k, v)
                }
            })
            .collect::<Vec<_>>(),
        )
        .await;
    assert_eq!(
        changed.location(),
        Some("/operator/oidc-clients/rekenrijk-web"),
        "{}",
        changed.body
    );
    let listed = clients(&d);
    assert!(
        listed.contains("Rekenrijk nieuw") && listed.contains("https://rekenrijk.example/uit"),
        "{listed}"
    );
    assert!(
        !listed.contains("ander-id-genegeerd"),
        "the client id is the page's: {listed}"
    );

    // A new secret: shown once, another one.
    let rotated = bram
        .post(
            "/operator/oidc-clients/rekenrijk-web/geheim",
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let second = shown_secret(&rotated).expect("the new secret");
    assert_ne!(second, secret);

    // Forms without their CSRF token change nothing.
    let before = clients(&d);
    for (path, form) in [
        (register_path(), client_form("fout", "vervalst-client", &[])),
        (
            "/operator/oidc-clients/rekenrijk-web".to_owned(),
            client_form("", "rekenrijk-web", &[]),
        ),
        (
            "/operator/oidc-clients/rekenrijk-web/geheim".to_owned(),
            vec![("csrf", "fout")],
        ),
        (
            "/operator/oidc-clients/rekenrijk-web/verwijderen".to_owned(),
            vec![],
        ),
    ] {
        let forged = bram.post(&path, &form).await;
        assert_eq!(forged.status, 403, "{path}: {}", forged.body);
        assert!(shown_secret(&forged).is_none(), "{path}");
    }
    assert_eq!(clients(&d), before);

    // Deleted after a confirmation.
    let confirm = bram
        .get("/operator/oidc-clients/rekenrijk-web/verwijderen")
        .await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert!(
        confirm.body.contains("kan niet ongedaan"),
        "{}",
        confirm.body
    );
    let deleted = bram
        .post(
            "/operator/oidc-clients/rekenrijk-web/verwijderen",
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        deleted.location(),
        Some("/operator/partijen/demo-uitgeverij"),
        "{}",
        deleted.body
    );
    assert!(!clients(&d).contains("rekenrijk-web"));
    assert_eq!(
        bram.get("/operator/oidc-clients/rekenrijk-web")
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn an_operator_cannot_give_a_client_the_admin_scope_from_the_page() {
    let d = demo(Store::Memory);
    let mut bram = operator(&d).await;
    let csrf = bram.get(&register_path()).await.field("csrf").unwrap();
    let admin = [
        ("csrf", csrf.as_str()),
        ("client_id", "beheer-via-pagina"),
        ("name", "Beheer"),
        ("redirect_uris", ""),
        ("auth", "client_secret_basic"),
        ("grant", "client_credentials"),
        ("scope", "openpoort:admin"),
        ("alg", "RS256"),
    ];
    let refused = bram.post(&register_path(), &admin).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused.body.contains("openpoort client"),
        "{}",
        refused.body
    );
    assert!(shown_secret(&refused).is_none());
    assert!(!clients(&d).contains("beheer-via-pagina"));
    // Nor can a party's client be raised to it.
    let mut roster = admin.to_vec();
    roster[6] = ("scope", "school");
    let made = bram.post(&register_path(), &roster).await;
    assert_eq!(made.status, 200, "{}", made.body);
    let raised = bram
        .post(
            "/operator/oidc-clients/beheer-via-pagina",
            &[&roster[..], &[("scope", "openpoort:admin")]].concat(),
        )
        .await;
    assert_eq!(raised.status, 403, "{}", raised.body);
    let listed = clients(&d);
    assert!(!listed.contains("openpoort:admin"), "{listed}");
    // The form does not even offer it.
    assert!(
        !bram
            .get(&register_path())
            .await
            .body
            .contains("openpoort:admin\"")
    );
}

#[tokio::test]
async fn an_admin_client_cannot_be_changed_or_rekeyed_from_the_page_but_can_be_deleted() {
    let d = demo(Store::Memory);
    let secret = openpoort_e2e::add_client(
        d.dir.path(),
        PARTY,
        "beheer-script",
        &[
            "--grant",
            "client_credentials",
            "--scope",
            "openpoort:admin",
        ],
    )
    .expect("a secret for the admin client");
    let mut bram = operator(&d).await;
    let page = bram.get("/operator/oidc-clients/beheer-script").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("alleen met <code>openpoort client"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("/geheim\""), "no new secret offered");
    // No form to change it here; its deletion's confirmation has a token of this browser.
    let csrf = bram
        .get("/operator/oidc-clients/beheer-script/verwijderen")
        .await
        .field("csrf")
        .unwrap();
    let before = clients(&d);
    let changed = bram
        .post(
            "/operator/oidc-clients/beheer-script",
            &[
                ("csrf", csrf.as_str()),
                ("name", "Overgenomen"),
                ("redirect_uris", ""),
                ("auth", "client_secret_basic"),
                ("grant", "client_credentials"),
                ("scope", "openpoort:admin"),
                ("alg", "RS256"),
            ],
        )
        .await;
    assert_eq!(changed.status, 403, "{}", changed.body);
    let rekeyed = bram
        .post(
            "/operator/oidc-clients/beheer-script/geheim",
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(rekeyed.status, 403, "{}", rekeyed.body);
    assert!(shown_secret(&rekeyed).is_none(), "{}", rekeyed.body);
    assert_eq!(clients(&d), before, "nothing changed");
    // Its one secret still works.
    let token = reqwest::Client::new()
        .post(format!("{}/oidc/token", d.server.base))
        .basic_auth("beheer-script", Some(&secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "openpoort:admin"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);
    // Deleting ends access, it grants none: the page may.
    let deleted = bram
        .post(
            "/operator/oidc-clients/beheer-script/verwijderen",
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    assert!(!clients(&d).contains("beheer-script"));
}

#[tokio::test]
async fn parallel_registrations_of_one_client_id_make_one_client_and_a_clear_conflict() {
    let d = demo(Store::Memory);
    let bram = operator(&d).await;
    let mut b = Browser::new(&d.server.base);
    b.cookies = bram.cookies.clone();
    let csrf = b.get(&register_path()).await.field("csrf").unwrap();
    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let mut each = Browser::new(&d.server.base);
        each.cookies = b.cookies.clone();
        let csrf = csrf.clone();
        burst.spawn(async move {
            each.post(
                &register_path(),
                &client_form(&csrf, "tegelijk-client", &[]),
            )
            .await
        });
    }
    let (mut made, mut conflicts) = (0, 0);
    while let Some(page) = burst.join_next().await {
        let page = page.unwrap();
        match page.status {
            200 => {
                assert!(shown_secret(&page).is_some(), "{}", page.body);
                made += 1;
            }
            409 => {
                assert!(
                    page.body.contains("al in gebruik") && page.body.contains("already in use"),
                    "{}",
                    page.body
                );
                assert!(shown_secret(&page).is_none());
                conflicts += 1;
            }
            other => panic!("{other}: {}", page.body),
        }
    }
    assert_eq!((made, conflicts), (1, 7));
    let listed = clients(&d);
    let rows = listed
        .lines()
        .filter(|l| l.starts_with("tegelijk-client "))
        .count();
    assert_eq!(rows, 1, "{listed}");
}

fn sp_metadata(entity: &str, acs: &str, cn: &str, valid_until: &str) -> String {
    use base64::Engine;
    let (_, cert) = self_signed(cn);
    let cert = base64::engine::general_purpose::STANDARD.encode(cert.to_der().unwrap());
    format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity}" validUntil="{valid_until}"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{acs}" index="0"/></md:SPSSODescriptor></md:EntityDescriptor>"#
    )
}

fn sps(d: &Demo) -> String {
    cli_ok(d.dir.path(), &["sp", "list", "--party", PARTY])
}

#[tokio::test]
async fn an_operator_registers_an_sp_from_pasted_metadata_sees_what_was_read_and_removes_it() {
    let d = demo(Store::Memory);
    let mut bram = operator(&d).await;
    let path = format!("/operator/partijen/{PARTY}/saml-sps");
    let form = bram.get(&path).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = form.field("csrf").unwrap();
    let metadata = sp_metadata(
        "https://sp.rekenrijk.example/saml",
        "http://127.0.0.1:9/acs",
        "Rekenrijk SP",
        "2099-01-01T00:00:00Z",
    );
    // Both sources at once, and metadata that breaks a rule: refused, the form refilled.
    let both = bram
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("metadata", &metadata),
                ("metadata_url", "https://sp.example/md"),
                ("name", "Rekenrijk"),
            ],
        )
        .await;
    assert_eq!(both.status, 400, "{}", both.body);
    assert!(
        both.body.contains("precies één") && both.body.contains("exactly one"),
        "{}",
        both.body
    );
    assert!(both.body.contains("value=\"Rekenrijk\""), "{}", both.body);
    let public_http = metadata.replace("http://127.0.0.1:9/acs", "http://sp.example/acs");
    let bad = bram
        .post(&path, &[("csrf", &csrf), ("metadata", &public_http)])
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("niet bruikbaar"), "{}", bad.body);
    let forged = bram
        .post(&path, &[("csrf", "fout"), ("metadata", &metadata)])
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert!(!sps(&d).contains("sp.rekenrijk.example"));

    let made = bram
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("metadata", &metadata),
                ("sign_response", "on"),
            ],
        )
        .await;
    let item = "/operator/saml-sps/https%3A%2F%2Fsp.rekenrijk.example%2Fsaml";
    assert_eq!(made.location(), Some(item), "{}", made.body);
    let page = bram.get(item).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for shown in [
        "https://sp.rekenrijk.example/saml",
        "http://127.0.0.1:9/acs",
        "CN=Rekenrijk SP",
        "2099-01-01 01:00",
        "ondertekenen",
    ] {
        assert!(page.body.contains(shown), "{shown}: {}", page.body);
    }
    assert!(
        !page.body.contains("/vernieuwen\""),
        "nothing to re-read for pasted metadata"
    );
    let again = bram
        .post(&path, &[("csrf", &csrf), ("metadata", &metadata)])
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(again.body.contains("al geregistreerd"), "{}", again.body);

    let confirm = bram.get(&format!("{item}/verwijderen")).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    let forged = bram
        .post(&format!("{item}/verwijderen"), &[("csrf", "fout")])
        .await;
    assert_eq!(forged.status, 403);
    assert!(sps(&d).contains("sp.rekenrijk.example"));
    let removed = bram
        .post(&format!("{item}/verwijderen"), &[("csrf", &csrf)])
        .await;
    assert_eq!(
        removed.location(),
        Some("/operator/partijen/demo-uitgeverij"),
        "{}",
        removed.body
    );
    assert!(!sps(&d).contains("sp.rekenrijk.example"));
    assert_eq!(bram.get(item).await.status, 404);
}

/// A metadata host played by the test: serves whatever status and body the test sets.
async fn metadata_host(first: String) -> (String, std::sync::Arc<std::sync::Mutex<(u16, String)>>) {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/metadata", listener.local_addr().unwrap());
    let served = std::sync::Arc::new(std::sync::Mutex::new((200u16, first)));
    let shared = served.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
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
    (url, served)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_registers_an_sp_from_a_url_and_reads_it_again() {
    let d = demo(Store::Memory);
    let mut bram = operator(&d).await;
    let path = format!("/operator/partijen/{PARTY}/saml-sps");
    let csrf = bram.get(&path).await.field("csrf").unwrap();
    let entity = "https://sp.lezen.example/saml";
    let (url, served) = metadata_host(sp_metadata(
        entity,
        "http://127.0.0.1:9/acs",
        "Lezen SP",
        "2099-01-01T00:00:00Z",
    ))
    .await;
    // The outbound policy holds: the cloud metadata service is refused before any connection.
    let refused = bram
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("metadata_url", "http://169.254.169.254/latest/meta-data"),
            ],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("outbound.allow_networks"),
        "{}",
        refused.body
    );
    let made = bram
        .post(&path, &[("csrf", &csrf), ("metadata_url", &url)])
        .await;
    let item = "/operator/saml-sps/https%3A%2F%2Fsp.lezen.example%2Fsaml";
    assert_eq!(made.location(), Some(item), "{}", made.body);
    assert!(bram.get(item).await.body.contains(&url));

    // The SP moves its ACS; reading again takes it over.
    served.lock().unwrap().1 = sp_metadata(
        entity,
        "http://127.0.0.1:9/nieuw",
        "Lezen SP",
        "2099-01-01T00:00:00Z",
    );
    let read = bram
        .post(&format!("{item}/vernieuwen"), &[("csrf", &csrf)])
        .await;
    assert_eq!(
        read.location(),
        Some(&*format!("{item}?melding=vernieuwd")),
        "{}",
        read.body
    );
    let page = bram.get(&format!("{item}?melding=vernieuwd")).await;
    assert!(
        page.body.contains("http://127.0.0.1:9/nieuw") && page.body.contains("opnieuw gelezen"),
        "{}",
        page.body
    );

    // The host fails: the failure is shown and the last verified metadata stays.
    *served.lock().unwrap() = (503, String::new());
    let failed = bram
        .post(&format!("{item}/vernieuwen"), &[("csrf", &csrf)])
        .await;
    assert_eq!(failed.status, 400, "{}", failed.body);
    assert!(
        failed.body.contains("503") && failed.body.contains("http://127.0.0.1:9/nieuw"),
        "{}",
        failed.body
    );
    let out = run(openpoort(d.dir.path()).args(["sp", "list"]));
    assert!(String::from_utf8_lossy(&out.stdout).contains("LAST REFRESH FAILED"));
}

#[tokio::test]
async fn the_sp_registration_page_explains_each_signing_and_naming_choice_and_keeps_the_chosen_ones()
 {
    let d = demo(Store::Memory);
    let mut bram = operator(&d).await;
    let path = format!("/operator/partijen/{PARTY}/saml-sps");
    let form = bram.get(&path).await;
    assert_eq!(form.status, 200, "{}", form.body);
    for shown in [
        "value=\"assertion\"",
        "value=\"response\"",
        "value=\"both\"",
        "value=\"basic\"",
        "value=\"uri\"",
        "python3-saml",
        "pysaml2",
        "Shibboleth SP",
        "SimpleSAMLphp",
        "Alleen de Assertion ondertekend",
        "Only the Assertion signed",
    ] {
        assert!(form.body.contains(shown), "{shown}: {}", form.body);
    }
    let csrf = form.field("csrf").unwrap();
    let metadata = sp_metadata(
        "https://sp.taalrijk.example/saml",
        "http://127.0.0.1:9/acs",
        "Taalrijk SP",
        "2099-01-01T00:00:00Z",
    );
    let made = bram
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("metadata", &metadata),
                ("signing", "response"),
                ("attribute_names", "uri"),
            ],
        )
        .await;
    let item = "/operator/saml-sps/https%3A%2F%2Fsp.taalrijk.example%2Fsaml";
    assert_eq!(made.location(), Some(item), "{}", made.body);
    let page = bram.get(item).await;
    assert!(
        page.body.contains("de Response / the Response") && page.body.contains("uri (urn:oid:"),
        "{}",
        page.body
    );
}
