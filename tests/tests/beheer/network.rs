//! IP-adressen: the ranges of the pupil shortcut.

use openpoort_e2e::{Store, bram_signed_in};

use crate::common::{demo, form, ranges};

#[tokio::test]
async fn ict_coordinator_adds_a_range_and_a_wrong_one_is_refused_in_dutch_storing_nothing() {
    let d = demo(Store::Memory);
    let mut bram = bram_signed_in(&d.server.base).await;
    let page = bram.get("/beheer/ip-adressen").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("Je huidige adres is <strong>127.0.0.1</strong>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("127.0.0.0/8"), "{}", page.body);

    let add = form(&page, "Toevoegen");
    let wrong = bram
        .submit_form(
            &page,
            add,
            &[("cidr", "192.0.2.7/24"), ("label", "Gebouw B")],
        )
        .await;
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert!(
        wrong
            .body
            .contains("gebruik het eerste adres van het bereik"),
        "{}",
        wrong.body
    );
    assert!(
        wrong.body.contains("value=\"192.0.2.7/24\""),
        "what was typed comes back"
    );
    assert!(
        !ranges(&d).contains("192.0.2"),
        "a refused range is not stored"
    );

    let page = bram.get("/beheer/ip-adressen").await;
    let done = bram
        .submit_form(
            &page,
            form(&page, "Toevoegen"),
            &[("cidr", "192.0.2.0/24"), ("label", "Gebouw B")],
        )
        .await;
    assert_eq!(
        done.location(),
        Some("/beheer/ip-adressen"),
        "{}",
        done.body
    );
    assert!(ranges(&d).contains("192.0.2.0/24  Gebouw B"));

    let page = bram.get("/beheer/ip-adressen").await;
    let remove = form(&page, "value=\"192.0.2.0/24\"");
    let removed = bram.submit_form(&page, remove, &[]).await;
    assert_eq!(
        removed.location(),
        Some("/beheer/ip-adressen"),
        "{}",
        removed.body
    );
    assert!(!ranges(&d).contains("192.0.2.0/24"));
}

#[tokio::test]
async fn removing_the_range_one_works_from_needs_confirmation() {
    let d = demo(Store::Memory);
    let mut bram = bram_signed_in(&d.server.base).await;
    let page = bram.get("/beheer/ip-adressen").await;
    let remove = form(&page, "value=\"127.0.0.0/8\"");
    let refused = bram.submit_form(&page, remove, &[]).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("bevat je huidige adres"),
        "{}",
        refused.body
    );
    assert!(
        ranges(&d).contains("127.0.0.0/8"),
        "nothing removed without confirmation"
    );

    let page = bram.get("/beheer/ip-adressen").await;
    let remove = form(&page, "value=\"127.0.0.0/8\"");
    let done = bram.submit_form(&page, remove, &[("confirm", "on")]).await;
    assert_eq!(
        done.location(),
        Some("/beheer/ip-adressen"),
        "{}",
        done.body
    );
    assert!(!ranges(&d).contains("127.0.0.0/8"));
    let page = bram.get("/beheer/ip-adressen").await;
    assert!(
        page.body.contains("het staat niet in de lijst"),
        "{}",
        page.body
    );
}
