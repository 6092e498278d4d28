//! Uitgeverijen and Netwerkbeheerders: the school's consent.

use openpoort_e2e::{Store, bram_signed_in, cli_ok};

use crate::common::{demo, form};

#[tokio::test]
async fn unticking_a_publisher_withdraws_consent_and_ticking_gives_it_again() {
    let d = demo(Store::Memory);
    let mut bram = bram_signed_in(&d.server.base).await;
    let page = bram.get("/beheer/uitgeverijen").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Demo Uitgeverij"), "{}", page.body);
    assert!(
        page.body.contains("Ontvangt over leerlingen"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("checked"),
        "the demo school consents to its publisher"
    );

    let consents = || cli_ok(d.dir.path(), &["consent", "list", "--school", "99ZZ00"]);
    let save = form(&page, "Opslaan");
    let off = bram.submit_form(&page, save, &[]).await;
    assert_eq!(off.location(), Some("/beheer/uitgeverijen"), "{}", off.body);
    let listed = consents();
    assert!(listed.contains("ingetrokken / revoked"), "{listed}");
    assert!(
        listed.contains("Bram Jansen <bram.jansen@demo.openpoort.nl>"),
        "names, not ids: {listed}"
    );
    assert!(!listed.contains("staff:"), "{listed}");

    let page = bram.get("/beheer/uitgeverijen").await;
    let on = bram
        .submit_form(
            &page,
            form(&page, "Opslaan"),
            &[("partij", "demo-uitgeverij")],
        )
        .await;
    assert_eq!(on.location(), Some("/beheer/uitgeverijen"), "{}", on.body);
    assert!(consents().contains("geldig / in force"));

    let unknown = bram
        .submit_form(&page, form(&page, "Opslaan"), &[("partij", "bestaat-niet")])
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
}
