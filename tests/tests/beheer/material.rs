//! Lesmateriaal: licences, the portal per group, and the shortcuts for the school's devices.

use std::io::Read;

use openpoort_e2e::{Store, bram_signed_in, cli_ok};

use crate::common::demo;

const PRODUCT: &str = "Rekenrijk oefenen";

#[tokio::test]
async fn the_material_page_shows_licences_and_what_each_group_sees() {
    let d = demo(Store::Memory);
    let mut bram = bram_signed_in(&d.server.base).await;
    let page = bram.get("/beheer/lesmateriaal").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(PRODUCT) && page.body.contains("hele school"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("2026-08-01 – 2027-07-31"),
        "{}",
        page.body
    );
    let groups = &page.body[page.body.find("Het portaal per groep").unwrap()..];
    let g5 = groups.find("Groep 5").expect("group 5 listed");
    let g8 = groups.find("Groep 8").expect("group 8 listed");
    assert!(g5 < g8, "groups in their natural order");
    assert!(groups[g5..].contains(PRODUCT), "{groups}");
}

fn archive(bytes: Vec<u8>) -> Vec<(String, String)> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).unwrap();
            let mut text = String::new();
            f.read_to_string(&mut text).unwrap();
            (f.name().expect("an entry name").to_string(), text)
        })
        .collect()
}

#[tokio::test]
async fn the_shortcuts_zip_holds_every_link_for_three_systems_and_follows_consent() {
    let d = demo(Store::Memory);
    let bram = bram_signed_in(&d.server.base).await;
    let fetch = || async {
        let r = reqwest::Client::new()
            .get(d.server.url("/beheer/lesmateriaal/snelkoppelingen.zip"))
            .header("cookie", bram.cookie_header())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/zip");
        assert!(
            r.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains("snelkoppelingen-99ZZ00.zip")
        );
        archive(r.bytes().await.unwrap().to_vec())
    };
    let files = fetch().await;
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "Windows/Leerlingen Basisschool De Demo.url",
        "macOS/Leerlingen Basisschool De Demo.webloc",
        "Linux/Leerlingen Basisschool De Demo.desktop",
        "Windows/Inloggen leerkrachten.url",
        "Windows/Rekenrijk oefenen.url",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let product = &files
        .iter()
        .find(|(n, _)| n == "Windows/Rekenrijk oefenen.url")
        .unwrap()
        .1;
    assert!(
        product.starts_with("[InternetShortcut]\r\nURL=http")
            && product.contains("/login/leerlingen/snelkoppelaar?INSTELLING_REF=")
            && product.contains("&TARGET=https%3A%2F%2Frekenrijk.demo-uitgeverij.example%2Fstart"),
        "{product}"
    );
    let webloc = &files
        .iter()
        .find(|(n, _)| n.ends_with("Rekenrijk oefenen.webloc"))
        .unwrap()
        .1;
    assert!(webloc.contains("&amp;TARGET="), "XML-escaped: {webloc}");

    // Without consent the publisher's product is no shortcut and no group sees it.
    cli_ok(
        d.dir.path(),
        &[
            "consent",
            "revoke",
            "--school",
            "99ZZ00",
            "--party",
            "demo-uitgeverij",
        ],
    );
    let files = fetch().await;
    assert!(
        !files.iter().any(|(n, _)| n.contains("Rekenrijk")),
        "{files:?}"
    );
    let mut bram = bram;
    let page = bram.get("/beheer/lesmateriaal").await;
    let groups = &page.body[page.body.find("Het portaal per groep").unwrap()..];
    assert!(!groups.contains(PRODUCT), "{groups}");
}
