//! The hosted licence API's part of the register (methods, products, access lists, URL
//! prefixes), each property on SQLite and on PostgreSQL.

use directory::lika::{Application, Bulk, ChainId, Edit, Entries, LikaKey, Target, Written};
use directory::model::*;
use directory::parties::{LicenceScope, NewLicence, Party};
use directory::people::{GroupKind, NewGroup, NewPupil};
use directory::schools::{NewSchool, School};
use directory::{Actor, Directory, DirectoryError, on_both_backends};

fn publisher_actor(code: &str) -> Actor {
    Actor(format!("party:{code}"))
}

async fn publisher(d: &Directory, code: &str) -> Party {
    let p = d
        .create_party(
            code,
            PartyKind::Publisher,
            "Uitgeverij",
            &Actor::operator_cli(),
        )
        .await
        .unwrap();
    d.allow_party_url(
        &p.id,
        "https://apps.example.nl/lesstof",
        &Actor::operator_cli(),
    )
    .await
    .unwrap();
    p
}

fn method(id: &str, name: &str) -> Application {
    Application {
        id: id.into(),
        code: Some("m-code".into()),
        name: name.into(),
        icon: None,
        icon_url: None,
        url: Some("https://apps.example.nl/lesstof/rekenen".into()),
        tags: vec!["leerkrachtApplicatie".into()],
    }
}

fn product(id: &str, name: &str) -> Application {
    Application {
        id: id.into(),
        code: None,
        name: name.into(),
        icon: Some("image/png,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==".into()),
        icon_url: None,
        url: Some(format!("https://apps.example.nl/lesstof/{id}")),
        tags: vec![],
    }
}

fn users(n: &[i64]) -> Entries {
    Entries::Users(n.to_vec())
}

fn chain(school: i64, eck: &str) -> ChainId {
    ChainId {
        school_number: school,
        eck_id: eck.into(),
    }
}

async fn school(d: &Directory) -> School {
    let nummer = Bestuursnummer::parse("41234").unwrap();
    d.create_board(&nummer, "Stichting Test", &Actor::operator_cli())
        .await
        .unwrap();
    d.create_school(
        &NewSchool {
            bestuursnummer: nummer,
            brin: Brin::parse("99ZZ").unwrap(),
            vestigingscode: Vestigingscode::parse("00").unwrap(),
            name: "School".into(),
        },
        &Actor::operator_cli(),
    )
    .await
    .unwrap()
}

on_both_backends! {
    async fn methods_are_created_read_replaced_and_deleted_with_their_products(d: Directory) {
        let p = publisher(&d, "uitgeverij-a").await;
        let a = publisher_actor("uitgeverij-a");
        d.create_lika_method(&p.id, method("rekenen", "Rekenrijk"), &a).await.unwrap();
        d.create_lika_method(&p.id, method("lezen", "Leesland"), &a).await.unwrap();
        let again = d.create_lika_method(&p.id, method("rekenen", "Anders"), &a).await;
        assert!(matches!(again, Err(DirectoryError::Duplicate { .. })), "{again:?}");
        let listed: Vec<String> = d.lika_methods(&p.id).await.unwrap().into_iter().map(|m| m.application.id).collect();
        assert_eq!(listed, ["lezen", "rekenen"], "sorted by id");
        let read = d.lika_method(&p.id, "rekenen").await.unwrap().unwrap();
        assert_eq!(read.application, method("rekenen", "Rekenrijk"));

        // Explicit nulls clear the optional fields.
        let bare = Application { code: None, url: None, tags: vec![], ..method("rekenen", "Rekenrijk 2") };
        assert_eq!(d.put_lika_method(&p.id, bare.clone(), &a).await.unwrap(), Written::Replaced);
        assert_eq!(d.lika_method(&p.id, "rekenen").await.unwrap().unwrap().application, bare);
        assert_eq!(d.put_lika_method(&p.id, method("nieuw", "Nieuw"), &a).await.unwrap(), Written::Created);

        d.create_lika_product(&p.id, "rekenen", product("rr-5", "Rekenrijk groep 5"), &a).await.unwrap();
        let as_product = d.product_by_code(&p.id, "rr-5").await.unwrap().unwrap();
        assert_eq!(as_product.methode, "Rekenrijk 2", "the method's name is the product's methode");
        assert!(as_product.icon_stored && !as_product.home_allowed);
        d.put_lika_method(&p.id, method("rekenen", "Rekenrijk 3"), &a).await.unwrap();
        assert_eq!(d.product_by_code(&p.id, "rr-5").await.unwrap().unwrap().methode, "Rekenrijk 3");
        d.edit_lika_access(&p.id, Target::Method("rekenen"), Edit::Add, &users(&[7]), &a).await.unwrap();

        d.delete_lika_method(&p.id, "rekenen", &a).await.unwrap();
        assert!(d.lika_method(&p.id, "rekenen").await.unwrap().is_none());
        assert!(d.product_by_code(&p.id, "rr-5").await.unwrap().is_none(), "its products go with it");
        let gone = d.delete_lika_method(&p.id, "rekenen", &a).await;
        assert!(matches!(gone, Err(DirectoryError::NotFound { .. })), "{gone:?}");
        let audit = d.audit_of_party(&p.id, 50).await.unwrap();
        assert!(audit.iter().any(|e| e.action == "lika.method.delete" && e.actor == "party:uitgeverij-a"), "{audit:?}");
    }
}

on_both_backends! {
    async fn products_belong_to_one_method_and_read_back_as_written(d: Directory) {
        let p = publisher(&d, "uitgeverij-a").await;
        let a = publisher_actor("uitgeverij-a");
        d.create_lika_method(&p.id, method("rekenen", "Rekenrijk"), &a).await.unwrap();
        d.create_lika_method(&p.id, method("lezen", "Leesland"), &a).await.unwrap();
        d.create_lika_product(&p.id, "rekenen", product("rr-6", "Groep 6"), &a).await.unwrap();
        d.create_lika_product(&p.id, "rekenen", product("rr-5", "Groep 5"), &a).await.unwrap();
        let listed = d.lika_products(&p.id, "rekenen").await.unwrap();
        assert_eq!(listed.iter().map(|p| p.application.id.as_str()).collect::<Vec<_>>(), ["rr-5", "rr-6"]);
        assert_eq!(listed[0].application, product("rr-5", "Groep 5"));
        assert_eq!(listed[0].method, "rekenen");
        assert!(d.lika_products(&p.id, "lezen").await.unwrap().is_empty());
        let missing = d.lika_products(&p.id, "geen").await;
        assert!(matches!(missing, Err(DirectoryError::NotFound { .. })), "{missing:?}");

        // A product id is the publisher's across its methods.
        let twice = d.create_lika_product(&p.id, "lezen", product("rr-5", "Ander"), &a).await;
        assert!(matches!(twice, Err(DirectoryError::Duplicate { .. })), "{twice:?}");
        let moved = d.put_lika_product(&p.id, "lezen", product("rr-5", "Ander"), &a).await;
        assert!(matches!(moved, Err(DirectoryError::Conflict { .. })), "{moved:?}");
        assert!(d.lika_product(&p.id, "lezen", "rr-5").await.unwrap().is_none());

        let changed = Application { icon: None, name: "Groep 5 (nieuw)".into(), ..product("rr-5", "") };
        assert_eq!(d.put_lika_product(&p.id, "rekenen", changed.clone(), &a).await.unwrap(), Written::Replaced);
        let read = d.lika_product(&p.id, "rekenen", "rr-5").await.unwrap().unwrap();
        assert_eq!(read.application, changed);
        let stored = d.product_by_id(&read.product_id).await.unwrap().unwrap();
        assert_eq!((stored.name.as_str(), stored.icon_stored), ("Groep 5 (nieuw)", false));
        assert!(d.stored_icon(&read.product_id).await.unwrap().is_none());
        let six = d.lika_product(&p.id, "rekenen", "rr-6").await.unwrap().unwrap();
        let icon = d.stored_icon(&six.product_id).await.unwrap().unwrap();
        assert_eq!(icon.media_type, "image/png");

        d.delete_lika_product(&p.id, "rekenen", "rr-6", &a).await.unwrap();
        assert!(d.product_by_id(&six.product_id).await.unwrap().is_none());
        let again = d.delete_lika_product(&p.id, "rekenen", "rr-6", &a).await;
        assert!(matches!(again, Err(DirectoryError::NotFound { .. })), "{again:?}");
    }
}

on_both_backends! {
    async fn a_url_outside_the_party_s_allowed_prefixes_is_refused_and_nothing_is_stored(d: Directory) {
        let p = publisher(&d, "uitgeverij-a").await;
        let a = publisher_actor("uitgeverij-a");
        for url in [
            "https://apps.example.nl/lesstofjes",     // not at a segment boundary
            "https://apps.example.nl/ander/lesstof",  // another path
            "https://apps.example.nl:8443/lesstof/x", // another port
            "https://evil.example.nl/lesstof/x",      // another host
            "http://localhost/lesstof/x",             // not https
        ] {
            let m = Application { url: Some(url.into()), ..method("rekenen", "Rekenrijk") };
            let err = d.create_lika_method(&p.id, m, &a).await.unwrap_err();
            assert!(matches!(&err, DirectoryError::Invalid { field: "url", .. }), "{url}: {err}");
        }
        let m = Application { icon_url: Some("https://cdn.example.nl/i.png".into()), ..method("rekenen", "R") };
        let err = d.create_lika_method(&p.id, m, &a).await.unwrap_err();
        assert!(matches!(&err, DirectoryError::Invalid { field: "iconUrl", .. }), "{err}");
        assert!(d.lika_methods(&p.id).await.unwrap().is_empty());

        d.create_lika_method(&p.id, method("rekenen", "Rekenrijk"), &a).await.unwrap();
        let outside = Application { url: Some("https://elders.example.nl/x".into()), ..product("rr-5", "Groep 5") };
        assert!(d.create_lika_product(&p.id, "rekenen", outside, &a).await.is_err());
        assert!(d.product_by_code(&p.id, "rr-5").await.unwrap().is_none());

        // Allowed once the operator adds the host; the list reads back in its stored form.
        d.allow_party_url(&p.id, "HTTPS://Elders.Example.NL:443", &Actor::operator_cli()).await.unwrap();
        let dup = d.allow_party_url(&p.id, "https://elders.example.nl/", &Actor::operator_cli()).await;
        assert!(matches!(dup, Err(DirectoryError::Duplicate { .. })), "{dup:?}");
        let listed: Vec<String> = d.party_url_prefixes(&p.id).await.unwrap().iter().map(|u| u.as_str().to_owned()).collect();
        assert_eq!(listed, ["https://apps.example.nl/lesstof", "https://elders.example.nl/"]);
        let inside = Application { url: Some("https://elders.example.nl/x".into()), ..product("rr-5", "Groep 5") };
        d.create_lika_product(&p.id, "rekenen", inside, &a).await.unwrap();
        d.disallow_party_url(&p.id, "https://elders.example.nl", &Actor::operator_cli()).await.unwrap();
        assert_eq!(d.party_url_prefixes(&p.id).await.unwrap().len(), 1);
        let gone = d.disallow_party_url(&p.id, "https://elders.example.nl", &Actor::operator_cli()).await;
        assert!(matches!(gone, Err(DirectoryError::NotFound { .. })), "{gone:?}");
        let bad = d.allow_party_url(&p.id, "http://apps.example.nl", &Actor::operator_cli()).await;
        assert!(matches!(bad, Err(DirectoryError::Invalid { .. })), "{bad:?}");
    }
}

on_both_backends! {
    async fn access_lists_are_replaced_added_to_removed_from_and_cleared_and_read_back_sorted(d: Directory) {
        let p = publisher(&d, "uitgeverij-a").await;
        let a = publisher_actor("uitgeverij-a");
        d.create_lika_method(&p.id, method("rekenen", "Rekenrijk"), &a).await.unwrap();
        d.create_lika_product(&p.id, "rekenen", product("rr-5", "Groep 5"), &a).await.unwrap();
        for target in [Target::Method("rekenen"), Target::Product { method: "rekenen", product: "rr-5" }] {
            d.edit_lika_access(&p.id, target, Edit::Replace, &users(&[789, 123, 456, 123]), &a).await.unwrap();
            assert_eq!(d.lika_user_numbers(&p.id, target).await.unwrap(), [123, 456, 789]);
            d.edit_lika_access(&p.id, target, Edit::Add, &users(&[456789, 123456]), &a).await.unwrap();
            d.edit_lika_access(&p.id, target, Edit::Remove, &users(&[123, 456, 789, 1]), &a).await.unwrap();
            assert_eq!(d.lika_user_numbers(&p.id, target).await.unwrap(), [123456, 456789]);
            d.edit_lika_access(&p.id, target, Edit::Replace, &users(&[5]), &a).await.unwrap();
            assert_eq!(d.lika_user_numbers(&p.id, target).await.unwrap(), [5]);

            let chains = Entries::Chains(vec![chain(20, "https://ketenid.nl/b"), chain(10, "https://ketenid.nl/z"), chain(20, "https://ketenid.nl/a")]);
            d.edit_lika_access(&p.id, target, Edit::Replace, &chains, &a).await.unwrap();
            assert_eq!(d.lika_chain_ids(&p.id, target).await.unwrap(),
                [chain(10, "https://ketenid.nl/z"), chain(20, "https://ketenid.nl/a"), chain(20, "https://ketenid.nl/b")]);
            d.edit_lika_access(&p.id, target, Edit::Remove, &Entries::Chains(vec![chain(20, "https://ketenid.nl/a"), chain(99, "x")]), &a).await.unwrap();
            assert_eq!(d.lika_chain_ids(&p.id, target).await.unwrap().len(), 2);
            d.edit_lika_access(&p.id, target, Edit::Clear, &Entries::Chains(vec![]), &a).await.unwrap();
            assert!(d.lika_chain_ids(&p.id, target).await.unwrap().is_empty());
            assert_eq!(d.lika_user_numbers(&p.id, target).await.unwrap(), [5], "clearing one list leaves the other");
            d.edit_lika_access(&p.id, target, Edit::Clear, &users(&[]), &a).await.unwrap();
            assert!(d.lika_user_numbers(&p.id, target).await.unwrap().is_empty());
        }
        // A bad entry refuses the whole call.
        for bad in [users(&[1, 0]), users(&[-4]), users(&[1 << 53]), Entries::Chains(vec![chain(1, "met spatie")])] {
            let err = d.edit_lika_access(&p.id, Target::Method("rekenen"), Edit::Add, &bad, &a).await.unwrap_err();
            assert!(matches!(err, DirectoryError::Invalid { .. }), "{err}");
        }
        assert!(d.lika_user_numbers(&p.id, Target::Method("rekenen")).await.unwrap().is_empty());
        let missing = d.lika_user_numbers(&p.id, Target::Product { method: "rekenen", product: "geen" }).await;
        assert!(matches!(missing, Err(DirectoryError::NotFound { .. })), "{missing:?}");
    }
}

on_both_backends! {
    async fn a_bulk_revoke_ignores_unknown_users_and_an_unknown_product_changes_nothing(d: Directory) {
        let p = publisher(&d, "uitgeverij-a").await;
        let a = publisher_actor("uitgeverij-a");
        d.create_lika_method(&p.id, method("rekenen", "Rekenrijk"), &a).await.unwrap();
        d.create_lika_product(&p.id, "rekenen", product("rr-5", "Groep 5"), &a).await.unwrap();
        let grant = Bulk {
            methods: vec!["rekenen".into()],
            products: vec!["rr-5".into()],
            users: (1..=16).collect(),
            chains: vec![chain(3, "https://ketenid.nl/e")],
        };
        d.lika_bulk(&p.id, &grant, true, &a).await.unwrap();
        let revoke = Bulk { users: vec![2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22], chains: vec![], ..grant.clone() };
        d.lika_bulk(&p.id, &revoke, false, &a).await.unwrap();
        let odd: Vec<i64> = (1..=16).filter(|n| n % 2 == 1).collect();
        let product = Target::Product { method: "rekenen", product: "rr-5" };
        assert_eq!(d.lika_user_numbers(&p.id, Target::Method("rekenen")).await.unwrap(), odd);
        assert_eq!(d.lika_user_numbers(&p.id, product).await.unwrap(), odd);
        assert_eq!(d.lika_chain_ids(&p.id, product).await.unwrap(), [chain(3, "https://ketenid.nl/e")]);

        let unknown = Bulk { products: vec!["rr-5".into(), "bestaat-niet".into()], users: vec![100], ..Bulk::default() };
        let err = d.lika_bulk(&p.id, &unknown, true, &a).await.unwrap_err();
        assert!(matches!(err, DirectoryError::NotFound { .. }), "{err}");
        assert_eq!(d.lika_user_numbers(&p.id, product).await.unwrap(), odd, "nothing granted");
    }
}

on_both_backends! {
    async fn another_publisher_s_methods_are_not_found_under_its_own_party(d: Directory) {
        let p = publisher(&d, "uitgeverij-a").await;
        let other = publisher(&d, "uitgeverij-b").await;
        let a = publisher_actor("uitgeverij-a");
        let b = publisher_actor("uitgeverij-b");
        d.create_lika_method(&p.id, method("rekenen", "Rekenrijk"), &a).await.unwrap();
        d.create_lika_product(&p.id, "rekenen", product("rr-5", "Groep 5"), &a).await.unwrap();
        assert!(d.lika_method(&other.id, "rekenen").await.unwrap().is_none());
        assert!(d.lika_product(&other.id, "rekenen", "rr-5").await.unwrap().is_none());
        let edit = d.edit_lika_access(&other.id, Target::Method("rekenen"), Edit::Add, &users(&[1]), &b).await;
        assert!(matches!(edit, Err(DirectoryError::NotFound { .. })), "{edit:?}");
        let delete = d.delete_lika_method(&other.id, "rekenen", &b).await;
        assert!(matches!(delete, Err(DirectoryError::NotFound { .. })), "{delete:?}");
        // The same ids are free for the other publisher.
        d.create_lika_method(&other.id, method("rekenen", "Eigen"), &b).await.unwrap();
        d.create_lika_product(&other.id, "rekenen", product("rr-5", "Eigen"), &b).await.unwrap();
        assert_eq!(d.lika_method(&p.id, "rekenen").await.unwrap().unwrap().application.name, "Rekenrijk");
    }
}

on_both_backends! {
    async fn grants_are_found_by_user_number_or_by_school_and_eck_id_through_product_or_method(d: Directory) {
        let p = publisher(&d, "uitgeverij-a").await;
        let other = publisher(&d, "uitgeverij-b").await;
        let a = publisher_actor("uitgeverij-a");
        d.create_lika_method(&p.id, method("rekenen", "Rekenrijk"), &a).await.unwrap();
        d.create_lika_product(&p.id, "rekenen", product("rr-5", "Groep 5"), &a).await.unwrap();
        d.create_lika_product(&p.id, "rekenen", product("rr-6", "Groep 6"), &a).await.unwrap();
        let rr5 = d.product_by_code(&p.id, "rr-5").await.unwrap().unwrap().id;
        let rr6 = d.product_by_code(&p.id, "rr-6").await.unwrap().unwrap().id;
        let key = |party: &Party, user, school| LikaKey { party_id: party.id.clone(), user_number: user, school_number: school };

        assert!(d.lika_grants(&[key(&p, 11, 1)], None).await.unwrap().is_empty());
        d.edit_lika_access(&p.id, Target::Product { method: "rekenen", product: "rr-5" }, Edit::Add, &users(&[11]), &a).await.unwrap();
        assert_eq!(d.lika_grants(&[key(&p, 11, 1)], None).await.unwrap(), [(p.id.clone(), rr5.clone())]);
        // Numbers are per party: the same number under another party finds nothing.
        assert!(d.lika_grants(&[key(&other, 11, 1)], None).await.unwrap().is_empty());

        // A method's list covers each of its products.
        d.edit_lika_access(&p.id, Target::Method("rekenen"), Edit::Add, &Entries::Chains(vec![chain(1, "https://ketenid.nl/e")]), &a).await.unwrap();
        let mut both = vec![(p.id.clone(), rr5.clone()), (p.id.clone(), rr6.clone())];
        both.sort();
        assert_eq!(d.lika_grants(&[key(&p, 99, 1)], Some("https://ketenid.nl/e")).await.unwrap(), both);
        assert!(d.lika_grants(&[key(&p, 99, 2)], Some("https://ketenid.nl/e")).await.unwrap().is_empty(), "another school");
        assert!(d.lika_grants(&[key(&p, 99, 1)], None).await.unwrap().is_empty(), "no ECK-iD");
        assert_eq!(d.lika_grants(&[key(&other, 5, 5), key(&p, 11, 7)], None).await.unwrap(), [(p.id.clone(), rr5.clone())]);
    }
}

on_both_backends! {
    async fn a_pupil_s_release_facts_carry_the_products_granted_to_them_at_once(d: Directory) {
        let p = publisher(&d, "uitgeverij-a").await;
        let a = publisher_actor("uitgeverij-a");
        let s = school(&d).await;
        d.create_group(&s.id, &NewGroup {
            las_key: LasKey::parse("g5").unwrap(), name: "Groep 5".into(),
            kind: GroupKind::Stamgroep, jaargroep: Some(Jaargroep::parse("5").unwrap()),
        }, &Actor::operator_cli()).await.unwrap();
        let pupil = d.create_pupil(&s.id, &NewPupil {
            las_key: LasKey::parse("L1").unwrap(), achternaam: "Jansen".into(), voorvoegsel: None,
            voornamen: None, roepnaam: Some("Piet".into()), jaargroep: Jaargroep::parse("5").unwrap(),
            stamgroep: Some(LasKey::parse("g5").unwrap()), combined_groups: vec![],
            eck_id: Some(EckId::parse("https://ketenid.nl/piet").unwrap()),
        }, &Actor::operator_cli()).await.unwrap();
        d.create_lika_method(&p.id, method("rekenen", "Rekenrijk"), &a).await.unwrap();
        d.create_lika_product(&p.id, "rekenen", product("rr-5", "Groep 5"), &a).await.unwrap();
        let key = LikaKey { party_id: p.id.clone(), user_number: 4242, school_number: 77 };
        let facts = d.pupil_release_facts(&s.id, &p.id, &pupil.id, &key).await.unwrap();
        assert!(facts.lika_products.is_empty());
        // A read is cached on SQLite: the write must reach the next read all the same.
        d.edit_lika_access(&p.id, Target::Method("rekenen"), Edit::Add, &Entries::Chains(vec![chain(77, "https://ketenid.nl/piet")]), &a).await.unwrap();
        let rr5 = d.product_by_code(&p.id, "rr-5").await.unwrap().unwrap().id;
        let facts = d.pupil_release_facts(&s.id, &p.id, &pupil.id, &key).await.unwrap();
        assert_eq!(facts.lika_products, std::slice::from_ref(&rr5));
        d.edit_lika_access(&p.id, Target::Method("rekenen"), Edit::Clear, &Entries::Chains(vec![]), &a).await.unwrap();
        assert!(d.pupil_release_facts(&s.id, &p.id, &pupil.id, &key).await.unwrap().lika_products.is_empty());

        // A product with a school's licence is the school's as well: not deleted under it.
        d.create_licence(&NewLicence {
            school_id: s.id.clone(), product_id: rr5.clone(), scope: LicenceScope::School,
            valid_from: Date::parse("geldig vanaf", "2026-08-01").unwrap(), valid_until: None,
        }, &Actor::operator_cli()).await.unwrap();
        let refused = d.delete_lika_product(&p.id, "rekenen", "rr-5", &a).await;
        assert!(matches!(refused, Err(DirectoryError::Conflict { .. })), "{refused:?}");
        let refused = d.delete_lika_method(&p.id, "rekenen", &a).await;
        assert!(matches!(refused, Err(DirectoryError::Conflict { .. })), "{refused:?}");
        assert!(d.product_by_id(&rr5).await.unwrap().is_some());
    }
}

on_both_backends! {
    async fn parallel_grants_and_creates_end_in_one_row_each(d: Directory) {
        let p = publisher(&d, "uitgeverij-a").await;
        d.create_lika_method(&p.id, method("rekenen", "Rekenrijk"), &publisher_actor("a")).await.unwrap();
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(8));
        let mut burst = tokio::task::JoinSet::new();
        for i in 0..8 {
            let (d, party, start) = (d.clone(), p.id.clone(), start.clone());
            burst.spawn(async move {
                start.wait().await;
                let a = publisher_actor("uitgeverij-a");
                let grant = d.edit_lika_access(&party, Target::Method("rekenen"), Edit::Add, &Entries::Users(vec![42, 1000 + i]), &a).await;
                let create = d.create_lika_method(&party, method("lezen", "Leesland"), &a).await;
                (grant, create)
            });
        }
        let results = burst.join_all().await;
        assert!(results.iter().all(|(g, _)| g.is_ok()), "{results:?}");
        let created = results.iter().filter(|(_, c)| c.is_ok()).count();
        assert_eq!(created, 1, "{results:?}");
        for (_, c) in &results {
            if let Err(e) = c {
                assert!(matches!(e, DirectoryError::Duplicate { .. }), "{e}");
            }
        }
        let mut expected = vec![42];
        expected.extend(1000..1008);
        assert_eq!(d.lika_user_numbers(&p.id, Target::Method("rekenen")).await.unwrap(), expected);
        assert_eq!(d.lika_methods(&p.id).await.unwrap().len(), 2);
    }
}
