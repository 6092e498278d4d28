//! IdP-initiated login (portal tiles, shortcut targets): sent at once only when begun on openpoort.

use openpoort_e2e::{Page, demo_pupil_login, unescape};

use crate::common::{Sp, demo, enc, posted};

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
