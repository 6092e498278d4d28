//! The partner API driven by the published Rust client of Basispoort's partner API
//! (`basispoort-sync-client` from crates.io), used unchanged: what a publisher's software does
//! when it moves to openpoort by changing its host name.
//!
//! The client trusts only public roots and names Basispoort's hosts. Two documented ways in,
//! and no others: its public `base_url` field points it at openpoort, and the test CA reaches
//! it through the platform trust store (`SSL_CERT_FILE`, read by rustls-native-certs, which
//! this crate's own reqwest 0.12 dependency switches on for the client's reqwest too).
//!
//! It reads a school (`rest/v2`) and keeps its licences in the hosted licence API
//! (`hosted-lika`): methods, products, both kinds of access list, bulk grants and deletes.
//!
//! Each test sets `SSL_CERT_FILE` to its own demo's CA, so the tests of this binary take turns
//! (`SERIAL`), and no other binary's test is touched.

// The partner tests' demo and PKI; this binary uses only part of it.
#[allow(dead_code)]
#[path = "partner/common.rs"]
mod common;

use basispoort_sync_client::hosted_license_provider::{
    BulkRequest, HostedLicenseProviderClient, MethodDetails, ProductDetails, UserChainId,
    UserChainIdList, UserIdList,
};
use basispoort_sync_client::institutions::InstitutionsSearchPredicate;
use basispoort_sync_client::institutions::InstitutionsServiceClient;
use basispoort_sync_client::rest::{Environment, RestClient, RestClientBuilder};

use common::{PUBLISHER, PartnerDemo, Register, demo_reference};

/// Held for a whole test: the environment is the process's, and each test's CA is its own.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test]
async fn the_published_basispoort_client_reads_a_school_and_keeps_its_licences_at_openpoort_unchanged()
 {
    reads_a_school_and_keeps_its_licences(Register::Sqlite).await;
}

#[tokio::test]
async fn the_published_basispoort_client_does_the_same_against_openpoort_on_postgresql() {
    reads_a_school_and_keeps_its_licences(Register::Postgres).await;
}

async fn reads_a_school_and_keeps_its_licences(register: Register<'_>) {
    let _serial = SERIAL.lock().await;
    let demo = PartnerDemo::start_on(register);
    demo.cli(&[
        "party",
        "url-allow",
        "--party",
        PUBLISHER,
        "--url",
        "https://lika.example.nl/apps",
    ]);
    demo.cli(&[
        "party",
        "allow-attribute",
        "--party",
        PUBLISHER,
        "--attribute",
        "family_name",
    ]);
    // SAFETY: the tests of this binary take turns (SERIAL), so no other thread reads the
    // environment now.
    unsafe { std::env::set_var("SSL_CERT_FILE", demo.pki.ca_file()) };
    let identity = demo.dir.path().join("identity.pem");
    let common::Identity { key, cert } = &demo.publisher;
    let mut pem = cert.to_pem().expect("PEM");
    pem.extend(key.private_key_to_pem_pkcs8().expect("key"));
    std::fs::write(&identity, pem).expect("identity file");
    let mut rest = RestClientBuilder::new(identity.to_str().expect("path"), Environment::Test)
        .build()
        .await
        .expect("the client builds");
    rest.base_url = format!("{}/", demo.base().replace("127.0.0.1", "localhost"))
        .parse()
        .expect("a base URL");
    let api = InstitutionsServiceClient::new(&rest);

    let ids = api.get_institution_ids().await.expect("instellingen");
    assert_eq!(ids.len(), 1, "{ids:?}");
    let id = ids[0];
    let details = api.get_institution_details(id).await.expect("details");
    assert_eq!(details.brin_code.as_deref(), Some("99ZZ"));
    assert_eq!(details.branch_code.as_deref(), Some("00"));
    assert_eq!(details.shortcut_reference, Some(demo_reference(&demo)));
    assert!(details.active);
    let overview = api.get_institution_overview(id).await.expect("overview");
    assert_eq!(overview.students.len(), 10);
    assert!(
        overview
            .students
            .iter()
            .all(|s| s.personal_data.last_name.is_some())
    );
    assert!(
        overview
            .students
            .iter()
            .all(|s| s.personal_data.first_name.is_none())
    );
    let groups = api.get_institution_groups(id).await.expect("groepen");
    assert_eq!(groups.groups.len(), overview.groups.len());
    let students = api.get_institution_students(id).await.expect("leerlingen");
    let two: Vec<i64> = students.students.iter().take(2).map(|s| s.id).collect();
    let chosen = api
        .get_institution_students_by_id(id, &two)
        .await
        .expect("leerlingen by id");
    assert_eq!(chosen.students.len(), 2);
    let staff = api.get_institution_staff(id).await.expect("staf");
    assert!(!staff.staff.is_empty());
    let reference = api
        .get_institution_shortcut_reference(id)
        .await
        .expect("ref");
    assert_eq!(reference, demo_reference(&demo));
    let today = chrono::Utc::now().date_naive() - chrono::Days::new(1);
    let granted = api
        .get_synchronization_permissions_granted(&today)
        .await
        .expect("toegekend");
    assert_eq!(granted, vec![id]);
    let revoked = api
        .get_synchronization_permissions_revoked(&today)
        .await
        .expect("ingetrokken");
    assert!(revoked.is_empty());

    hosted_licences(&rest, id).await;
}

/// The hosted licence API ("Hosted LIKA") through the client's `HostedLicenseProviderClient`,
/// as its own lifecycle test drives Basispoort's, with ECK-iD lists beside the numbers.
async fn hosted_licences(rest: &basispoort_sync_client::rest::RestClient, school: i64) {
    const SVG: &str = "image/svg+xml,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4=";
    let lika = HostedLicenseProviderClient::new(rest, PUBLISHER);
    let method = MethodDetails::new("lifecycle_method", "Test method (POST)")
        .with_code("method-create")
        .with_icon(SVG)
        .with_icon_url("https://lika.example.nl/apps/icon.svg")
        .expect("a URL")
        .with_url("https://lika.example.nl/apps/method")
        .expect("a URL")
        .into_teacher_application();
    lika.create_method(&method).await.expect("create method");
    let listed = lika.get_methods().await.expect("methods");
    assert!(listed.methods.iter().any(|m| m.id == "lifecycle_method"));
    assert_eq!(
        lika.get_method("lifecycle_method").await.expect("method"),
        method
    );
    let updated = MethodDetails::new("lifecycle_method", "Test method (PUT)")
        .with_code("method-update")
        .with_url("https://lika.example.nl/apps/method-2")
        .expect("a URL");
    lika.update_method(&updated).await.expect("update method");
    let read = lika.get_method("lifecycle_method").await.expect("method");
    assert_eq!(read, updated, "unset fields are cleared");
    assert!(read.icon.is_none() && read.tags.is_empty());

    let ids = |v: &[i64]| UserIdList { users: v.to_vec() };
    let numbers = |l: UserIdList| l.users;
    lika.set_method_user_ids("lifecycle_method", &ids(&[789, 123, 456]))
        .await
        .expect("set");
    assert_eq!(
        numbers(
            lika.get_method_user_ids("lifecycle_method")
                .await
                .expect("get")
        ),
        [123, 456, 789]
    );
    lika.add_method_user_ids("lifecycle_method", &ids(&[456789, 123456]))
        .await
        .expect("add");
    lika.remove_method_user_ids("lifecycle_method", &ids(&[123, 456, 789]))
        .await
        .expect("remove");
    assert_eq!(
        numbers(
            lika.get_method_user_ids("lifecycle_method")
                .await
                .expect("get")
        ),
        [123456, 456789]
    );
    lika.delete_method_user_ids("lifecycle_method")
        .await
        .expect("clear");
    assert!(
        numbers(
            lika.get_method_user_ids("lifecycle_method")
                .await
                .expect("get")
        )
        .is_empty()
    );

    let chain = |eck: &str| UserChainId {
        institution_id: school,
        chain_id: eck.into(),
    };
    let chains = |l: UserChainIdList| -> Vec<(i64, String)> {
        l.users
            .into_iter()
            .map(|c| (c.institution_id, c.chain_id))
            .collect()
    };
    let list = |v: Vec<UserChainId>| UserChainIdList { users: v };
    lika.set_method_user_chain_ids(
        "lifecycle_method",
        &list(vec![
            chain("https://ketenid.nl/b"),
            chain("https://ketenid.nl/a"),
        ]),
    )
    .await
    .expect("set chains");
    lika.add_method_user_chain_ids(
        "lifecycle_method",
        &list(vec![chain("https://ketenid.nl/c")]),
    )
    .await
    .expect("add chains");
    lika.remove_method_user_chain_ids(
        "lifecycle_method",
        &list(vec![chain("https://ketenid.nl/a")]),
    )
    .await
    .expect("remove chains");
    assert_eq!(
        chains(
            lika.get_method_user_chain_ids("lifecycle_method")
                .await
                .expect("chains")
        ),
        [
            (school, "https://ketenid.nl/b".to_owned()),
            (school, "https://ketenid.nl/c".to_owned())
        ]
    );
    lika.delete_method_user_chain_ids("lifecycle_method")
        .await
        .expect("clear chains");
    assert!(
        chains(
            lika.get_method_user_chain_ids("lifecycle_method")
                .await
                .expect("chains")
        )
        .is_empty()
    );

    let product = ProductDetails::new(
        "lifecycle_product",
        "Test product (POST)",
        "https://lika.example.nl/apps/product",
    )
    .expect("a URL")
    .with_code("product-create")
    .with_icon(SVG)
    .into_teacher_application();
    lika.create_product("lifecycle_method", &product)
        .await
        .expect("create product");
    let products = lika
        .get_products("lifecycle_method")
        .await
        .expect("products");
    assert!(
        products
            .products
            .iter()
            .any(|p| p.id == "lifecycle_product")
    );
    assert_eq!(
        lika.get_product("lifecycle_method", "lifecycle_product")
            .await
            .expect("product"),
        product
    );
    let changed = ProductDetails::new(
        "lifecycle_product",
        "Test product (PUT)",
        "https://lika.example.nl/apps/product-2",
    )
    .expect("a URL")
    .with_icon_url("https://lika.example.nl/apps/product.svg")
    .expect("a URL");
    lika.update_product("lifecycle_method", &changed)
        .await
        .expect("update product");
    assert_eq!(
        lika.get_product("lifecycle_method", "lifecycle_product")
            .await
            .expect("product"),
        changed
    );

    lika.set_product_user_ids(
        "lifecycle_method",
        "lifecycle_product",
        &ids(&[987, 321, 654]),
    )
    .await
    .expect("set");
    lika.add_product_user_ids(
        "lifecycle_method",
        "lifecycle_product",
        &ids(&[987654, 654321]),
    )
    .await
    .expect("add");
    lika.remove_product_user_ids(
        "lifecycle_method",
        "lifecycle_product",
        &ids(&[321, 654, 987]),
    )
    .await
    .expect("remove");
    assert_eq!(
        numbers(
            lika.get_product_user_ids("lifecycle_method", "lifecycle_product")
                .await
                .expect("get")
        ),
        [654321, 987654]
    );
    lika.delete_product_user_ids("lifecycle_method", "lifecycle_product")
        .await
        .expect("clear");
    lika.set_product_user_chain_ids(
        "lifecycle_method",
        "lifecycle_product",
        &list(vec![chain("https://ketenid.nl/p")]),
    )
    .await
    .expect("set chains");
    lika.add_product_user_chain_ids(
        "lifecycle_method",
        "lifecycle_product",
        &list(vec![chain("https://ketenid.nl/q")]),
    )
    .await
    .expect("add chains");
    lika.remove_product_user_chain_ids(
        "lifecycle_method",
        "lifecycle_product",
        &list(vec![chain("https://ketenid.nl/p")]),
    )
    .await
    .expect("remove chains");
    assert_eq!(
        chains(
            lika.get_product_user_chain_ids("lifecycle_method", "lifecycle_product")
                .await
                .expect("chains")
        ),
        [(school, "https://ketenid.nl/q".to_owned())]
    );
    lika.delete_product_user_chain_ids("lifecycle_method", "lifecycle_product")
        .await
        .expect("clear chains");

    let grant = BulkRequest {
        method_ids: vec!["lifecycle_method".into()],
        product_ids: vec!["lifecycle_product".into()],
        user_ids: (1..=16).collect(),
        user_chain_ids: vec![chain("https://ketenid.nl/bulk")],
    };
    lika.bulk_grant_permissions(&grant).await.expect("grant");
    let revoke = BulkRequest {
        method_ids: vec!["lifecycle_method".into()],
        product_ids: vec!["lifecycle_product".into()],
        user_ids: vec![2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22],
        user_chain_ids: vec![chain("https://ketenid.nl/bulk")],
    };
    lika.bulk_revoke_permissions(&revoke).await.expect("revoke");
    let odd: Vec<i64> = (1..=16).filter(|n| n % 2 == 1).collect();
    assert_eq!(
        numbers(
            lika.get_method_user_ids("lifecycle_method")
                .await
                .expect("get")
        ),
        odd
    );
    assert_eq!(
        numbers(
            lika.get_product_user_ids("lifecycle_method", "lifecycle_product")
                .await
                .expect("get")
        ),
        odd
    );
    assert!(
        chains(
            lika.get_method_user_chain_ids("lifecycle_method")
                .await
                .expect("chains")
        )
        .is_empty()
    );

    lika.delete_product("lifecycle_method", "lifecycle_product")
        .await
        .expect("delete product");
    let products = lika
        .get_products("lifecycle_method")
        .await
        .expect("products");
    assert!(products.products.is_empty());
    lika.delete_method("lifecycle_method")
        .await
        .expect("delete method");
    assert!(
        lika.get_methods()
            .await
            .expect("methods")
            .methods
            .is_empty()
    );
    assert!(lika.get_method("lifecycle_method").await.is_err(), "gone");
}

/// The published client as a publisher builds it, pointed at `demo` by its public `base_url`.
async fn published_client(demo: &PartnerDemo) -> RestClient {
    // SAFETY: the tests of this binary take turns (SERIAL), so no other thread reads the
    // environment now.
    unsafe { std::env::set_var("SSL_CERT_FILE", demo.pki.ca_file()) };
    let identity = demo.dir.path().join("identity.pem");
    let common::Identity { key, cert } = &demo.publisher;
    let mut pem = cert.to_pem().expect("PEM");
    pem.extend(key.private_key_to_pem_pkcs8().expect("key"));
    std::fs::write(&identity, pem).expect("identity file");
    let mut rest = RestClientBuilder::new(identity.to_str().expect("path"), Environment::Test)
        .build()
        .await
        .expect("the client builds");
    rest.base_url = format!("{}/", demo.base().replace("127.0.0.1", "localhost"))
        .parse()
        .expect("a base URL");
    rest
}

#[tokio::test]
async fn the_published_client_finds_a_school_asks_for_permission_and_gives_it_up() {
    let _serial = SERIAL.lock().await;
    let demo = PartnerDemo::start();
    let rest = published_client(&demo).await;
    let api = InstitutionsServiceClient::new(&rest);

    let found = api
        .find_institutions(InstitutionsSearchPredicate::new().with_name("de demo"))
        .await
        .expect("nawsearch");
    assert_eq!(found.len(), 2, "{found:?}");
    let noord = found
        .iter()
        .find(|s| s.brin_code.as_deref() == Some("99ZZ01"))
        .unwrap_or_else(|| panic!("99ZZ01 among {found:?}"));
    assert_eq!(noord.governance_code.as_deref(), Some("99999"));
    assert!(noord.active);
    assert!(noord.postal_code.is_none() && noord.city.is_none());
    let nothing = api
        .find_institutions(InstitutionsSearchPredicate::new().with_name("bestaat nergens"))
        .await
        .expect("a search that finds nothing");
    assert!(nothing.is_empty());
    let by_postcode = api
        .find_institutions(InstitutionsSearchPredicate::new().with_postal_code("1234AB"))
        .await;
    assert!(
        by_postcode.is_err(),
        "openpoort keeps no addresses: {by_postcode:?}"
    );

    let id = noord.id;
    let permission = |request: bool| {
        let api = &api;
        async move {
            api.get_institution_synchronization_permission(id, request)
                .await
                .expect("synchronizationpermission")
                .has_synchronization_permission
        }
    };
    assert!(!permission(false).await);
    assert!(!permission(true).await, "asking is not consenting");
    // The school's ICT-coördinator consents.
    demo.cli(&[
        "consent", "grant", "--school", "99ZZ01", "--party", PUBLISHER,
    ]);
    assert!(permission(false).await);
    assert!(
        api.get_institution_ids()
            .await
            .expect("instellingen")
            .contains(&id)
    );

    api.relinquish_institution_synchronization_permission(id)
        .await
        .expect("the permission given up");
    assert!(!permission(false).await);
    assert!(
        !api.get_institution_ids()
            .await
            .expect("instellingen")
            .contains(&id)
    );
    let yesterday = chrono::Utc::now().date_naive() - chrono::Days::new(1);
    let revoked = api
        .get_synchronization_permissions_revoked(&yesterday)
        .await
        .expect("ingetrokken");
    assert_eq!(revoked, vec![id]);
}
