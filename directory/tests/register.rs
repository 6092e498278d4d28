//! Properties of the school register, each on SQLite and on PostgreSQL.

use directory::audit::AuditEvent;
use directory::model::*;
use directory::parties::{LicenceMember, LicenceScope, NewLicence, NewProduct};
use directory::people::{GroupKind, NewGroup, NewPupil, NewStaff, StaffStatus};
use directory::pupil_login::Notice;
use directory::schools::{NewSchool, School};
use directory::{Actor, Directory, DirectoryError, on_both_backends};

fn op() -> Actor {
    Actor::operator_cli()
}

async fn school(d: &Directory, brin: &str, vestiging: &str) -> School {
    let nummer = Bestuursnummer::parse("41234").unwrap();
    if d.board_by_nummer(&nummer).await.unwrap().is_none() {
        d.create_board(&nummer, "Stichting Test", &op())
            .await
            .unwrap();
    }
    d.create_school(
        &NewSchool {
            bestuursnummer: nummer,
            brin: Brin::parse(brin).unwrap(),
            vestigingscode: Vestigingscode::parse(vestiging).unwrap(),
            name: format!("School {brin}{vestiging}"),
        },
        &op(),
    )
    .await
    .unwrap()
}

fn stamgroep(key: &str, name: &str, jaargroep: &str) -> NewGroup {
    NewGroup {
        las_key: LasKey::parse(key).unwrap(),
        name: name.into(),
        kind: GroupKind::Stamgroep,
        jaargroep: Some(Jaargroep::parse(jaargroep).unwrap()),
    }
}

fn pupil(key: &str, stamgroep: Option<&str>) -> NewPupil {
    NewPupil {
        las_key: LasKey::parse(key).unwrap(),
        achternaam: "Jansen".into(),
        voorvoegsel: None,
        voornamen: Some("Piet".into()),
        roepnaam: Some("Piet".into()),
        jaargroep: Jaargroep::parse("5").unwrap(),
        stamgroep: stamgroep.map(|k| LasKey::parse(k).unwrap()),
        combined_groups: vec![],
        eck_id: None,
    }
}

fn staff(email: Option<&str>) -> NewStaff {
    NewStaff {
        email: email.map(|e| Email::parse(e).unwrap()),
        achternaam: "de Vries".into(),
        voorvoegsel: None,
        voornamen: Some("Anna".into()),
        roepnaam: Some("Anna".into()),
        eck_id: None,
    }
}

fn assert_duplicate(err: DirectoryError, field: &str) {
    match &err {
        DirectoryError::Duplicate { field: f, .. } => assert_eq!(*f, field, "{err}"),
        other => panic!("expected a duplicate {field}, got {other}"),
    }
}

on_both_backends! {
    async fn brin_and_vestigingscode_identify_one_school(d: Directory) {
        let s = school(&d, "99ZZ", "00").await;
        school(&d, "99ZZ", "01").await; // another location of the same BRIN is fine
        let err = d.create_school(&NewSchool {
            bestuursnummer: Bestuursnummer::parse("41234").unwrap(),
            brin: Brin::parse("99ZZ").unwrap(),
            vestigingscode: Vestigingscode::parse("00").unwrap(),
            name: "Dubbel".into(),
        }, &op()).await.unwrap_err();
        assert!(err.to_string().contains("99ZZ00"), "{err}");
        assert_duplicate(err, "BRIN + vestigingscode");
        let found = d.require_school(&SchoolCode::parse("99ZZ00").unwrap()).await.unwrap();
        assert_eq!(found, s);
        assert_eq!(d.list_schools().await.unwrap().len(), 2);
    }
}

on_both_backends! {
    async fn school_needs_an_existing_board(d: Directory) {
        let err = d.create_school(&NewSchool {
            bestuursnummer: Bestuursnummer::parse("99999").unwrap(),
            brin: Brin::parse("12AB").unwrap(),
            vestigingscode: Vestigingscode::parse("00").unwrap(),
            name: "Wees".into(),
        }, &op()).await.unwrap_err();
        assert!(matches!(err, DirectoryError::NotFound { what: "bestuur", .. }), "{err}");
        assert!(d.list_schools().await.unwrap().is_empty());
    }
}

on_both_backends! {
    async fn instelling_ref_is_random_and_regenerating_it_voids_the_old_link(d: Directory) {
        let a = school(&d, "11AA", "00").await;
        let b = school(&d, "11AA", "01").await;
        assert_ne!(a.instelling_ref, b.instelling_ref);
        assert_eq!(uuid::Uuid::parse_str(&a.instelling_ref).unwrap().get_version_num(), 4);
        assert_eq!(d.school_by_instelling_ref(&a.instelling_ref).await.unwrap().unwrap().id, a.id);

        let fresh = d.regenerate_instelling_ref(&a.id, &op()).await.unwrap();
        assert_ne!(fresh, a.instelling_ref);
        assert!(d.school_by_instelling_ref(&a.instelling_ref).await.unwrap().is_none());
        assert_eq!(d.school_by_instelling_ref(&fresh).await.unwrap().unwrap().id, a.id);
    }
}

on_both_backends! {
    async fn malformed_instelling_ref_finds_no_school(d: Directory) {
        school(&d, "11AA", "00").await;
        for bad in ["", "x", "' OR 1=1 --", "00000000-0000-0000-0000-00000000000g"] {
            assert!(d.school_by_instelling_ref(bad).await.unwrap().is_none(), "{bad}");
        }
    }
}

on_both_backends! {
    async fn schools_on_a_network_are_those_whose_ranges_contain_the_address(d: Directory) {
        let a = school(&d, "11AA", "00").await;
        let b = school(&d, "22BB", "00").await;
        let c = school(&d, "33CC", "00").await;
        d.add_ip_range(&a.id, &Cidr::parse("192.0.2.0/24").unwrap(), "gebouw A", &op()).await.unwrap();
        d.add_ip_range(&a.id, &Cidr::parse("192.0.0.0/16").unwrap(), "bestuur", &op()).await.unwrap();
        d.add_ip_range(&b.id, &Cidr::parse("192.0.2.0/24").unwrap(), "gedeeld netwerk", &op()).await.unwrap();
        d.add_ip_range(&c.id, &Cidr::parse("198.51.100.0/24").unwrap(), "eigen netwerk", &op()).await.unwrap();

        let ids = |v: Vec<directory::schools::School>| {
            let mut ids: Vec<_> = v.into_iter().map(|s| s.id).collect();
            ids.sort();
            ids
        };
        let mut shared = vec![a.id.clone(), b.id.clone()];
        shared.sort();
        assert_eq!(ids(d.schools_on_network("192.0.2.7".parse().unwrap()).await.unwrap()), shared, "each school once");
        assert_eq!(ids(d.schools_on_network("::ffff:192.0.2.7".parse().unwrap()).await.unwrap()), shared, "IPv4 seen through IPv6");
        assert_eq!(ids(d.schools_on_network("192.0.9.1".parse().unwrap()).await.unwrap()), vec![a.id.clone()]);
        assert!(d.schools_on_network("203.0.113.1".parse().unwrap()).await.unwrap().is_empty());
    }
}

on_both_backends! {
    async fn ip_ranges_of_both_families_are_kept_per_school(d: Directory) {
        let a = school(&d, "11AA", "00").await;
        let b = school(&d, "22BB", "00").await;
        d.add_ip_range(&a.id, &Cidr::parse("192.0.2.0/24").unwrap(), "gebouw A", &op()).await.unwrap();
        d.add_ip_range(&a.id, &Cidr::parse("2001:db8:1::/48").unwrap(), "gebouw A v6", &op()).await.unwrap();
        d.add_ip_range(&b.id, &Cidr::parse("192.0.2.0/24").unwrap(), "gedeeld netwerk", &op()).await.unwrap();

        let ranges = d.ip_ranges(&a.id).await.unwrap();
        let cidrs: Vec<_> = ranges.iter().map(|r| r.cidr.as_str()).collect();
        assert_eq!(cidrs, ["192.0.2.0/24", "2001:db8:1::/48"]);
        assert!(ranges.iter().any(|r| r.network().unwrap().contains("2001:db8:1::5".parse().unwrap())));

        let err = d.add_ip_range(&a.id, &Cidr::parse("192.0.2.0/24").unwrap(), "nog eens", &op()).await.unwrap_err();
        assert_duplicate(err, "IP-bereik");
        d.remove_ip_range(&a.id, &Cidr::parse("192.0.2.0/24").unwrap(), &op()).await.unwrap();
        assert_eq!(d.ip_ranges(&a.id).await.unwrap().len(), 1);
        assert_eq!(d.ip_ranges(&b.id).await.unwrap().len(), 1, "other school's range untouched");
    }
}

on_both_backends! {
    async fn groups_sort_by_jaargroep_then_name(d: Directory) {
        let s = school(&d, "11AA", "00").await;
        for (key, name, jg) in [("g8", "Groep 8", "8"), ("g3b", "Groep 3b", "3"), ("g3a", "Groep 3a", "3"), ("g1", "Groep 1/2", "1")] {
            d.create_group(&s.id, &stamgroep(key, name, jg), &op()).await.unwrap();
        }
        d.create_group(&s.id, &NewGroup {
            las_key: LasKey::parse("plus").unwrap(), name: "Plusklas".into(),
            kind: GroupKind::Samengesteld, jaargroep: None,
        }, &op()).await.unwrap();
        let names: Vec<_> = d.groups_of_school(&s.id).await.unwrap().into_iter().map(|g| g.name).collect();
        assert_eq!(names, ["Groep 1/2", "Groep 3a", "Groep 3b", "Groep 8", "Plusklas"]);
    }
}

on_both_backends! {
    async fn pupil_has_one_stamgroep_and_any_number_of_combined_groups(d: Directory) {
        let s = school(&d, "11AA", "00").await;
        let g5 = d.create_group(&s.id, &stamgroep("g5", "Groep 5", "5"), &op()).await.unwrap();
        let plus = d.create_group(&s.id, &NewGroup {
            las_key: LasKey::parse("plus").unwrap(), name: "Plusklas".into(),
            kind: GroupKind::Samengesteld, jaargroep: None,
        }, &op()).await.unwrap();
        let mut new = pupil("L1", Some("g5"));
        new.combined_groups = vec![LasKey::parse("plus").unwrap()];
        let p = d.create_pupil(&s.id, &new, &op()).await.unwrap();
        let stored = d.pupil_by_id(&p.id).await.unwrap().unwrap();
        assert_eq!(stored.stamgroep_id.as_deref(), Some(g5.id.as_str()));
        assert_eq!(stored.combined_group_ids, vec![plus.id.clone()]);
        assert_eq!(d.pupils_of_school(&s.id).await.unwrap(), vec![stored]);

        // A combined group cannot stand in as stamgroep, and nothing is stored when refused.
        let err = d.create_pupil(&s.id, &pupil("L2", Some("plus")), &op()).await.unwrap_err();
        assert!(err.to_string().contains("stamgroep"), "{err}");
        assert_eq!(d.pupils_of_school(&s.id).await.unwrap().len(), 1);
    }
}

on_both_backends! {
    async fn pupil_cannot_join_a_group_of_another_school(d: Directory) {
        let a = school(&d, "11AA", "00").await;
        let b = school(&d, "22BB", "00").await;
        d.create_group(&b.id, &stamgroep("g5", "Groep 5", "5"), &op()).await.unwrap();
        let err = d.create_pupil(&a.id, &pupil("L1", Some("g5")), &op()).await.unwrap_err();
        assert!(matches!(err, DirectoryError::NotFound { what: "groep", .. }), "{err}");
        assert!(d.pupils_of_school(&a.id).await.unwrap().is_empty());
    }
}

on_both_backends! {
    async fn pupil_las_key_is_unique_within_a_school_only(d: Directory) {
        let a = school(&d, "11AA", "00").await;
        let b = school(&d, "22BB", "00").await;
        d.create_pupil(&a.id, &pupil("L1", None), &op()).await.unwrap();
        d.create_pupil(&b.id, &pupil("L1", None), &op()).await.unwrap();
        let err = d.create_pupil(&a.id, &pupil("L1", None), &op()).await.unwrap_err();
        assert_duplicate(err, "LAS-sleutel leerling");
    }
}

on_both_backends! {
    async fn eck_id_belongs_to_one_pupil(d: Directory) {
        let s = school(&d, "11AA", "00").await;
        let mut first = pupil("L1", None);
        first.eck_id = Some(EckId::parse("https://ketenid.nl/201703/abc").unwrap());
        d.create_pupil(&s.id, &first, &op()).await.unwrap();
        let mut second = pupil("L2", None);
        second.eck_id = first.eck_id.clone();
        let err = d.create_pupil(&s.id, &second, &op()).await.unwrap_err();
        assert_duplicate(err, "ECK-iD");
    }
}

on_both_backends! {
    async fn staff_email_is_unique_across_openpoort_whatever_its_case(d: Directory) {
        d.create_staff(&staff(Some("juf.anna@school.nl")), &op()).await.unwrap();
        let err = d.create_staff(&staff(Some("Juf.Anna@School.NL")), &op()).await.unwrap_err();
        assert!(err.to_string().contains("e-mailadres"), "{err}");
        assert_duplicate(err, "e-mailadres");
        // Staff without an address (not yet given one) do not collide with each other.
        d.create_staff(&staff(None), &op()).await.unwrap();
        d.create_staff(&staff(None), &op()).await.unwrap();
        let found = d.staff_by_email(&Email::parse("JUF.ANNA@school.nl").unwrap()).await.unwrap();
        assert!(found.is_some());
    }
}

on_both_backends! {
    async fn new_staff_is_inactive_until_activated(d: Directory) {
        let s = d.create_staff(&staff(Some("meester@school.nl")), &op()).await.unwrap();
        assert_eq!(s.status, StaffStatus::Inactive);
        d.set_staff_status(&s.id, StaffStatus::Active, &op()).await.unwrap();
        assert_eq!(d.staff_by_id(&s.id).await.unwrap().unwrap().status, StaffStatus::Active);
    }
}

on_both_backends! {
    async fn administrators_and_schools_are_many_to_many(d: Directory) {
        let a = school(&d, "11AA", "00").await;
        let b = school(&d, "22BB", "00").await;
        let admin = d.create_staff(&staff(Some("ict@bestuur.nl")), &op()).await.unwrap();
        let other = d.create_staff(&staff(Some("ict2@bestuur.nl")), &op()).await.unwrap();
        let teacher = d.create_staff(&staff(Some("juf@a.nl")), &op()).await.unwrap();
        d.grant_role(&admin.id, &a.id, StaffRole::IctCoordinator, &op()).await.unwrap();
        d.grant_role(&admin.id, &b.id, StaffRole::IctCoordinator, &op()).await.unwrap();
        d.grant_role(&other.id, &a.id, StaffRole::IctCoordinator, &op()).await.unwrap();
        d.add_staff_to_school(&teacher.id, &a.id, Some(&LasKey::parse("T1").unwrap()), &op()).await.unwrap();
        d.grant_role(&teacher.id, &a.id, StaffRole::Leerkracht, &op()).await.unwrap();

        let mut expected = vec![a.id.clone(), b.id.clone()];
        expected.sort();
        assert_eq!(d.schools_administered_by(&admin.id).await.unwrap(), expected);
        let admins: Vec<_> = d.administrators_of(&a.id).await.unwrap().into_iter().map(|s| s.id).collect();
        assert_eq!(admins.len(), 2);
        assert!(admins.contains(&admin.id) && admins.contains(&other.id));
        assert!(d.schools_administered_by(&teacher.id).await.unwrap().is_empty(), "a teacher administers nothing");

        d.revoke_role(&admin.id, &b.id, StaffRole::IctCoordinator, &op()).await.unwrap();
        assert_eq!(d.schools_administered_by(&admin.id).await.unwrap(), vec![a.id.clone()]);
        let at = d.schools_of_staff(&teacher.id).await.unwrap();
        assert_eq!(at.len(), 1);
        assert!(at[0].member && at[0].roles == vec![StaffRole::Leerkracht]);
    }
}

async fn publisher_with_product(d: &Directory, code: &str, home: bool) -> (String, String) {
    let party = d
        .create_party(code, PartyKind::Publisher, "Uitgeverij Test", &op())
        .await
        .unwrap();
    let product = d
        .create_product(
            &party.id,
            &NewProduct {
                code: "rekenen".into(),
                methode: "Rekenrijk".into(),
                name: "Rekenrijk groep 5".into(),
                launch_url: WebUrl::parse("launch_url", "https://uitgever.example/start").unwrap(),
                icon_url: None,
                home_allowed: home,
            },
            &op(),
        )
        .await
        .unwrap();
    (party.id, product.id)
}

on_both_backends! {
    async fn parties_and_products_are_found_by_their_codes(d: Directory) {
        let (party_id, product_id) = publisher_with_product(&d, "uitgever", true).await;
        let (other_id, _) = publisher_with_product(&d, "anders", false).await;
        let party = d.party_by_code("uitgever").await.unwrap().expect("party");
        assert_eq!(party.id, party_id);
        assert!(d.party_by_code("onbekend").await.unwrap().is_none());
        let listed: Vec<String> = d.list_parties().await.unwrap().into_iter().map(|p| p.id).collect();
        assert_eq!(listed, [other_id.clone(), party_id.clone()], "by code");
        let product = d.product_by_code(&party_id, "rekenen").await.unwrap().expect("product");
        assert_eq!(product.id, product_id);
        assert!(d.product_by_code(&party_id, "taal").await.unwrap().is_none());
        let elsewhere = d.product_by_code(&other_id, "rekenen").await.unwrap().expect("product");
        assert_ne!(elsewhere.id, product_id, "a code is the party's own");
    }
}

on_both_backends! {
    async fn licences_of_school_keep_each_licence_with_exactly_its_own_members(d: Directory) {
        let a = school(&d, "11AA", "00").await;
        let (_, product) = publisher_with_product(&d, "uitgever", false).await;
        let g5 = d.create_group(&a.id, &stamgroep("g5", "Groep 5", "5"), &op()).await.unwrap();
        let g6 = d.create_group(&a.id, &stamgroep("g6", "Groep 6", "6"), &op()).await.unwrap();
        let p = d.create_pupil(&a.id, &pupil("L1", Some("g5")), &op()).await.unwrap();
        let licence = |from: &str, scope: LicenceScope| NewLicence {
            school_id: a.id.clone(), product_id: product.clone(), scope,
            valid_from: Date::parse("van", from).unwrap(), valid_until: None,
        };
        let whole = d.create_licence(&licence("2026-08-01", LicenceScope::School), &op()).await.unwrap();
        let three = d.create_licence(&licence("2026-08-02", LicenceScope::Members(vec![
            LicenceMember::Group(g6.id.clone()), LicenceMember::Pupil(p.id.clone()), LicenceMember::Group(g5.id.clone()),
        ])), &op()).await.unwrap();
        let one = d.create_licence(&licence("2026-08-03", LicenceScope::Members(vec![
            LicenceMember::Group(g5.id.clone()),
        ])), &op()).await.unwrap();
        let mut three = three;
        if let LicenceScope::Members(m) = &mut three.scope {
            m.sort();
        }
        let read = d.licences_of_school(&a.id).await.unwrap();
        assert_eq!(read, vec![whole, three, one], "oldest first, members sorted");
    }
}

on_both_backends! {
    async fn pupil_release_facts_equal_the_separate_reads(d: Directory) {
        let a = school(&d, "11AA", "00").await;
        let (party, product) = publisher_with_product(&d, "uitgever", false).await;
        d.create_group(&a.id, &stamgroep("g5", "Groep 5", "5"), &op()).await.unwrap();
        let p = d.create_pupil(&a.id, &pupil("L1", Some("g5")), &op()).await.unwrap();
        let key = directory::lika::LikaKey { party_id: party.clone(), user_number: 1, school_number: 2 };

        let empty = d.pupil_release_facts(&a.id, &party, &p.id, &key).await.unwrap();
        assert!(empty.consent.is_none() && empty.licences.is_empty() && empty.release_attributes.is_empty());

        d.grant_consent(&a.id, &party, &op()).await.unwrap();
        d.allow_release_attribute(&party, "given_name", &op()).await.unwrap();
        d.create_licence(&NewLicence {
            school_id: a.id.clone(), product_id: product, scope: LicenceScope::School,
            valid_from: Date::parse("van", "2026-08-01").unwrap(), valid_until: None,
        }, &op()).await.unwrap();
        let f = d.pupil_release_facts(&a.id, &party, &p.id, &key).await.unwrap();
        assert_eq!(f.school, d.school_by_id(&a.id).await.unwrap());
        assert_eq!(f.party, d.party_by_id(&party).await.unwrap());
        assert_eq!(f.pupil, d.pupil_with_group_keys(&p.id).await.unwrap());
        assert_eq!(f.products, d.products_of_party(&party).await.unwrap());
        assert_eq!(f.licences, d.licences_of_school(&a.id).await.unwrap());
        assert_eq!(f.consent, d.open_consent(&a.id, &party).await.unwrap());
        assert_eq!(f.release_attributes, d.release_attributes_of(&party).await.unwrap());
        assert_eq!(f.lika_products, d.lika_grants(std::slice::from_ref(&key), None).await.unwrap().into_iter().map(|(_, p)| p).collect::<Vec<_>>());
        assert!(f.consent.is_some() && f.licences.len() == 1 && f.pupil.is_some());

        let gone = d.pupil_release_facts(&a.id, &party, "no-such-pupil", &key).await.unwrap();
        assert!(gone.pupil.is_none() && gone.school.is_some());
    }
}

on_both_backends! {
    async fn licence_members_must_belong_to_the_licensed_school(d: Directory) {
        let a = school(&d, "11AA", "00").await;
        let b = school(&d, "22BB", "00").await;
        let (_, product) = publisher_with_product(&d, "uitgever", false).await;
        let g = d.create_group(&a.id, &stamgroep("g5", "Groep 5", "5"), &op()).await.unwrap();
        let foreign = d.create_pupil(&b.id, &pupil("L9", None), &op()).await.unwrap();

        let err = d.create_licence(&NewLicence {
            school_id: a.id.clone(), product_id: product.clone(),
            scope: LicenceScope::Members(vec![LicenceMember::Group(g.id.clone()), LicenceMember::Pupil(foreign.id.clone())]),
            valid_from: Date::parse("van", "2026-08-01").unwrap(), valid_until: None,
        }, &op()).await.unwrap_err();
        assert!(err.to_string().contains("hoort niet bij de school"), "{err}");
        assert!(d.licences_of_school(&a.id).await.unwrap().is_empty(), "a refused licence stores nothing");

        let ok = d.create_licence(&NewLicence {
            school_id: a.id.clone(), product_id: product,
            scope: LicenceScope::Members(vec![LicenceMember::Group(g.id.clone())]),
            valid_from: Date::parse("van", "2026-08-01").unwrap(),
            valid_until: Some(Date::parse("tot", "2027-07-31").unwrap()),
        }, &op()).await.unwrap();
        assert_eq!(d.licences_of_school(&a.id).await.unwrap(), vec![ok.clone()]);
        assert!(ok.valid_on(&Date::parse("d", "2026-08-01").unwrap()));
        assert!(ok.valid_on(&Date::parse("d", "2027-07-31").unwrap()));
        assert!(!ok.valid_on(&Date::parse("d", "2027-08-01").unwrap()));
        assert!(!ok.valid_on(&Date::parse("d", "2026-07-31").unwrap()));
    }
}

on_both_backends! {
    async fn licence_ending_before_it_starts_is_refused(d: Directory) {
        let a = school(&d, "11AA", "00").await;
        let (_, product) = publisher_with_product(&d, "uitgever", false).await;
        let err = d.create_licence(&NewLicence {
            school_id: a.id.clone(), product_id: product, scope: LicenceScope::School,
            valid_from: Date::parse("van", "2026-08-01").unwrap(),
            valid_until: Some(Date::parse("tot", "2026-07-01").unwrap()),
        }, &op()).await.unwrap_err();
        assert!(err.to_string().contains("einddatum"), "{err}");
    }
}

on_both_backends! {
    async fn consent_revocation_is_kept_as_history(d: Directory) {
        let s = school(&d, "11AA", "00").await;
        let (party, _) = publisher_with_product(&d, "uitgever", false).await;
        let admin = Actor::staff("ict-1");
        let first = d.grant_consent(&s.id, &party, &admin).await.unwrap();
        assert_eq!(first.granted_by, "staff:ict-1");
        let again = d.grant_consent(&s.id, &party, &admin).await.unwrap();
        assert_eq!(again.id, first.id, "granting twice keeps one open consent");

        d.revoke_consent(&s.id, &party, &admin).await.unwrap();
        assert!(d.open_consent(&s.id, &party).await.unwrap().is_none());
        let err = d.revoke_consent(&s.id, &party, &admin).await.unwrap_err();
        assert!(matches!(err, DirectoryError::NotFound { .. }), "{err}");

        d.grant_consent(&s.id, &party, &admin).await.unwrap();
        let history = d.consent_history(&s.id).await.unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history.iter().filter(|c| c.revoked_at.is_some()).count(), 1);
        assert_eq!(history.iter().find(|c| c.revoked_at.is_some()).unwrap().revoked_by.as_deref(), Some("staff:ict-1"));
    }
}

on_both_backends! {
    async fn every_change_is_audited_and_a_refused_change_is_not(d: Directory) {
        let s = school(&d, "11AA", "00").await;
        let (party, _) = publisher_with_product(&d, "uitgever", false).await;
        d.add_ip_range(&s.id, &Cidr::parse("192.0.2.0/24").unwrap(), "", &op()).await.unwrap();
        d.grant_consent(&s.id, &party, &Actor::staff("ict-1")).await.unwrap();
        d.add_ip_range(&s.id, &Cidr::parse("192.0.2.0/24").unwrap(), "", &op()).await.unwrap_err();

        let log = d.audit_of_school(&s.id, 100).await.unwrap();
        let actions: Vec<_> = log.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["consent.grant", "school.ip_range.add", "school.create"]);
        assert_eq!(log[0].actor, "staff:ict-1");
        assert_eq!(log[0].party_id.as_deref(), Some(party.as_str()));
        assert_eq!(log[1].details["cidr"], "192.0.2.0/24");
    }
}

on_both_backends! {
    async fn audit_log_refuses_updates(d: Directory) {
        let s = school(&d, "11AA", "00").await;
        d.audit(AuditEvent {
            actor: &op(), action: "test.event", school_id: Some(&s.id), party_id: None,
            subject: None, details: serde_json::json!({"n": 1}),
        }).await.unwrap();
        let tampered = match d.pool() {
            directory::Pool::Sqlite(p) => sqlx::query("UPDATE audit_log SET actor = 'someone else'").execute(p).await.map(|_| ()),
            directory::Pool::Postgres(p) => sqlx::query("UPDATE audit_log SET actor = 'someone else'").execute(p).await.map(|_| ()),
        };
        let err = tampered.expect_err("an update of the audit log must fail");
        assert!(err.to_string().contains("append-only"), "{err}");
        assert!(d.audit_of_school(&s.id, 10).await.unwrap().iter().all(|e| e.actor == "operator:cli"));
    }
}

on_both_backends! {
    async fn migrations_run_again_without_change(d: Directory) {
        school(&d, "11AA", "00").await;
        d.pool().migrate().await.unwrap();
        assert_eq!(d.list_schools().await.unwrap().len(), 1);
    }
}

on_both_backends! {
    async fn audit_retention_removes_only_entries_older_than_the_cutoff(d: Directory) {
        let s = school(&d, "11AA", "00").await;
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let before = d.audit_of_school(&s.id, 100).await.unwrap().len();
        assert!(before > 0);
        assert_eq!(d.purge_audit_before(t - 3_600).await.unwrap(), 0);
        assert_eq!(d.audit_of_school(&s.id, 100).await.unwrap().len(), before);
        assert!(d.purge_audit_before(t + 3_600).await.unwrap() >= before as u64);
        assert!(d.audit_of_school(&s.id, 100).await.unwrap().is_empty());
    }
}

on_both_backends! {
    async fn home_login_can_be_switched_off_per_school(d: Directory) {
        let a = school(&d, "11AA", "00").await;
        let b = school(&d, "22BB", "00").await;
        assert!(a.home_login_allowed, "on by default");
        d.set_home_login_allowed(&a.id, false, &op()).await.unwrap();
        assert!(!d.school_by_id(&a.id).await.unwrap().unwrap().home_login_allowed);
        assert!(d.school_by_id(&b.id).await.unwrap().unwrap().home_login_allowed);
    }
}

on_both_backends! {
    async fn release_policy_extras_are_kept_per_party(d: Directory) {
        let a = d.create_party("uitgever-a", PartyKind::Publisher, "A", &op()).await.unwrap();
        let b = d.create_party("netwerk-b", PartyKind::NetworkProvider, "B", &op()).await.unwrap();
        d.allow_release_attribute(&a.id, "given_name", &op()).await.unwrap();
        d.allow_release_attribute(&a.id, "eck_id", &op()).await.unwrap();
        let err = d.allow_release_attribute(&a.id, "eck_id", &op()).await.unwrap_err();
        assert_duplicate(err, "attribuut");
        assert_eq!(d.release_attributes_of(&a.id).await.unwrap(), ["eck_id", "given_name"]);
        assert!(d.release_attributes_of(&b.id).await.unwrap().is_empty());
        d.disallow_release_attribute(&a.id, "eck_id", &op()).await.unwrap();
        assert_eq!(d.release_attributes_of(&a.id).await.unwrap(), ["given_name"]);
    }
}

on_both_backends! {
    async fn group_name_picker_lists_active_pupils_of_stamgroep_and_combined_group(d: Directory) {
        let s = school(&d, "11AA", "00").await;
        let g5 = d.create_group(&s.id, &stamgroep("g5", "Groep 5", "5"), &op()).await.unwrap();
        let plus = d.create_group(&s.id, &NewGroup {
            las_key: LasKey::parse("plus").unwrap(), name: "Plusklas".into(),
            kind: GroupKind::Samengesteld, jaargroep: None,
        }, &op()).await.unwrap();
        d.create_group(&s.id, &stamgroep("g8", "Groep 8", "8"), &op()).await.unwrap();
        let a = d.create_pupil(&s.id, &pupil("L1", Some("g5")), &op()).await.unwrap();
        let mut b = pupil("L2", Some("g8"));
        b.combined_groups = vec![LasKey::parse("plus").unwrap()];
        let b = d.create_pupil(&s.id, &b, &op()).await.unwrap();
        let gone = d.create_pupil(&s.id, &pupil("L3", Some("g5")), &op()).await.unwrap();
        d.set_pupil_active(&gone.id, false, &op()).await.unwrap();

        let ids = |v: Vec<directory::people::Pupil>| v.into_iter().map(|p| p.id).collect::<Vec<_>>();
        assert_eq!(ids(d.active_pupils_of_group(&s.id, &g5.id).await.unwrap()), vec![a.id.clone()]);
        assert_eq!(ids(d.active_pupils_of_group(&s.id, &plus.id).await.unwrap()), vec![b.id.clone()]);
        let other = school(&d, "22BB", "00").await;
        assert!(d.active_pupils_of_group(&other.id, &g5.id).await.unwrap().is_empty(), "another school's group shows nothing");
    }
}

on_both_backends! {
    async fn picked_pupil_is_found_only_active_in_that_group_at_that_school(d: Directory) {
        let s = school(&d, "11AA", "00").await;
        let g5 = d.create_group(&s.id, &stamgroep("g5", "Groep 5", "5"), &op()).await.unwrap();
        let plus = d.create_group(&s.id, &NewGroup {
            las_key: LasKey::parse("plus").unwrap(), name: "Plusklas".into(),
            kind: GroupKind::Samengesteld, jaargroep: None,
        }, &op()).await.unwrap();
        let g8 = d.create_group(&s.id, &stamgroep("g8", "Groep 8", "8"), &op()).await.unwrap();
        let a = d.create_pupil(&s.id, &pupil("L1", Some("g5")), &op()).await.unwrap();
        d.set_picture_secret(&a.id, Some("vis"), &op()).await.unwrap();
        let mut b = pupil("L2", Some("g8"));
        b.combined_groups = vec![LasKey::parse("plus").unwrap()];
        let b = d.create_pupil(&s.id, &b, &op()).await.unwrap();
        let other = school(&d, "22BB", "00").await;

        let (found, picture) = d.active_pupil_in_group(&s.id, &g5.id, &a.id).await.unwrap().unwrap();
        assert_eq!((found.id.as_str(), picture.as_deref()), (a.id.as_str(), Some("vis")));
        let (found, picture) = d.active_pupil_in_group(&s.id, &plus.id, &b.id).await.unwrap().unwrap();
        assert_eq!((found.id.as_str(), picture), (b.id.as_str(), None), "a combined group counts");
        assert!(d.active_pupil_in_group(&s.id, &g8.id, &a.id).await.unwrap().is_none(), "another group");
        assert!(d.active_pupil_in_group(&s.id, &plus.id, &a.id).await.unwrap().is_none(), "not in the combined group");
        assert!(d.active_pupil_in_group(&other.id, &g5.id, &a.id).await.unwrap().is_none(), "another school");
        d.set_pupil_active(&a.id, false, &op()).await.unwrap();
        assert!(d.active_pupil_in_group(&s.id, &g5.id, &a.id).await.unwrap().is_none(), "inactive");
    }
}

on_both_backends! {
    async fn school_with_ranges_by_ref_reads_the_same_as_the_two_separate_lookups(d: Directory) {
        let a = school(&d, "11AA", "00").await;
        let b = school(&d, "22BB", "00").await;
        let (found, ranges) = d.school_with_ranges_by_instelling_ref(&a.instelling_ref).await.unwrap().unwrap();
        assert_eq!(found, a);
        assert!(ranges.is_empty(), "a school without ranges is still found, with none");

        d.add_ip_range(&a.id, &Cidr::parse("2001:db8:1::/48").unwrap(), "v6", &op()).await.unwrap();
        d.add_ip_range(&a.id, &Cidr::parse("192.0.2.0/24").unwrap(), "gebouw A", &op()).await.unwrap();
        d.add_ip_range(&b.id, &Cidr::parse("198.51.100.0/24").unwrap(), "school B", &op()).await.unwrap();
        let (found, ranges) = d.school_with_ranges_by_instelling_ref(&a.instelling_ref).await.unwrap().unwrap();
        assert_eq!(found, a);
        assert_eq!(ranges, d.ip_ranges(&a.id).await.unwrap(), "only this school's ranges, in the same order");
        assert_eq!(ranges.len(), 2);

        for bad in ["", "' OR 1=1 --", &uuid::Uuid::new_v4().to_string()] {
            assert!(d.school_with_ranges_by_instelling_ref(bad).await.unwrap().is_none(), "{bad}");
        }
    }
}

on_both_backends! {
    async fn pupil_session_state_follows_pupil_school_and_home_login(d: Directory) {
        let a = school(&d, "11AA", "00").await;
        let b = school(&d, "22BB", "00").await;
        let p = d.create_pupil(&a.id, &pupil("L1", None), &op()).await.unwrap();
        let state = d.pupil_session_state(&p.id, &a.id).await.unwrap().unwrap();
        assert!(state.pupil_active && state.school_active && state.home_login_allowed);
        assert!(d.pupil_session_state(&p.id, &b.id).await.unwrap().is_none(), "not a pupil of another school");
        assert!(d.pupil_session_state("no-such-pupil", &a.id).await.unwrap().is_none());

        d.set_home_login_allowed(&a.id, false, &op()).await.unwrap();
        assert!(!d.pupil_session_state(&p.id, &a.id).await.unwrap().unwrap().home_login_allowed);
        d.set_pupil_active(&p.id, false, &op()).await.unwrap();
        assert!(!d.pupil_session_state(&p.id, &a.id).await.unwrap().unwrap().pupil_active);
    }
}

on_both_backends! {
    async fn pupil_with_group_keys_equals_pupil_and_group_keys_read_apart(d: Directory) {
        let s = school(&d, "11AA", "00").await;
        d.create_group(&s.id, &stamgroep("g5", "Groep 5", "5"), &op()).await.unwrap();
        for key in ["plus", "koor"] {
            d.create_group(&s.id, &NewGroup {
                las_key: LasKey::parse(key).unwrap(), name: key.into(),
                kind: GroupKind::Samengesteld, jaargroep: None,
            }, &op()).await.unwrap();
        }
        let mut both = pupil("L1", Some("g5"));
        both.combined_groups = vec![LasKey::parse("plus").unwrap(), LasKey::parse("koor").unwrap()];
        let both = d.create_pupil(&s.id, &both, &op()).await.unwrap();
        let only_stamgroep = d.create_pupil(&s.id, &pupil("L2", Some("g5")), &op()).await.unwrap();
        let mut only_combined = pupil("L3", None);
        only_combined.combined_groups = vec![LasKey::parse("koor").unwrap()];
        let only_combined = d.create_pupil(&s.id, &only_combined, &op()).await.unwrap();
        let none = d.create_pupil(&s.id, &pupil("L4", None), &op()).await.unwrap();

        for p in [&both, &only_stamgroep, &only_combined, &none] {
            let (pupil, keys) = d.pupil_with_group_keys(&p.id).await.unwrap().unwrap();
            assert_eq!(Some(pupil), d.pupil_by_id(&p.id).await.unwrap(), "{}", p.las_key);
            assert_eq!(keys, d.group_keys_of_pupil(&p.id).await.unwrap(), "{}", p.las_key);
        }
        let (_, keys) = d.pupil_with_group_keys(&both.id).await.unwrap().unwrap();
        assert_eq!(keys, ["g5", "koor", "plus"]);
        assert!(d.pupil_with_group_keys("no-such-pupil").await.unwrap().is_none());
    }
}

on_both_backends! {
    async fn home_code_is_replaced_by_a_new_one_and_can_be_voided(d: Directory) {
        let s = school(&d, "11AA", "00").await;
        let p = d.create_pupil(&s.id, &pupil("L1", None), &op()).await.unwrap();
        d.set_home_code(&p.id, "hash-1", "$argon2id$pin1", &op()).await.unwrap();
        assert_eq!(d.home_code("hash-1").await.unwrap().unwrap().pupil_id, p.id);
        d.set_home_code(&p.id, "hash-2", "$argon2id$pin2", &op()).await.unwrap();
        assert!(d.home_code("hash-1").await.unwrap().is_none(), "the old card stops working");
        assert_eq!(d.home_code("hash-2").await.unwrap().unwrap().pin_hash, "$argon2id$pin2");
        assert_eq!(d.pupils_with_home_code(&s.id).await.unwrap(), vec![p.id.clone()]);
        assert!(d.void_home_code(&p.id, &op()).await.unwrap());
        assert!(!d.void_home_code(&p.id, &op()).await.unwrap());
        assert!(d.home_code("hash-2").await.unwrap().is_none());
    }
}

on_both_backends! {
    async fn picture_secret_and_notice_are_kept_and_cleared(d: Directory) {
        let s = school(&d, "11AA", "00").await;
        assert!(!s.picture_password_enabled, "off until the school switches it on");
        d.set_picture_password_enabled(&s.id, true, &op()).await.unwrap();
        assert!(d.school_by_id(&s.id).await.unwrap().unwrap().picture_password_enabled);
        let p = d.create_pupil(&s.id, &pupil("L1", None), &op()).await.unwrap();
        assert_eq!(d.picture_secret(&p.id).await.unwrap(), None);
        d.set_picture_secret(&p.id, Some("vis"), &op()).await.unwrap();
        assert_eq!(d.picture_secret(&p.id).await.unwrap().as_deref(), Some("vis"));
        let log = d.audit_of_school(&s.id, 1).await.unwrap();
        assert!(!log[0].details.to_string().contains("vis"), "the audit never names the picture");

        assert_eq!(d.notice().await.unwrap(), None);
        let notice = Notice { nl: "Onderhoud vanavond 22:00".into(), en: "Maintenance tonight 22:00".into(), until: None };
        d.set_notice(Some(&notice), &op()).await.unwrap();
        assert_eq!(d.notice().await.unwrap(), Some(notice.clone()));
        let blank = Notice { nl: "  ".into(), ..notice.clone() };
        assert!(d.set_notice(Some(&blank), &op()).await.is_err());
        let no_english = Notice { en: String::new(), ..notice.clone() };
        assert!(d.set_notice(Some(&no_english), &op()).await.is_err());
        let ended = Notice { until: Some(1_000), ..notice.clone() };
        assert!(d.set_notice(Some(&ended), &op()).await.is_err(), "an end in the past is refused");
        assert_eq!(d.notice().await.unwrap(), Some(notice.clone()), "a refused notice changes nothing");
        let until = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64 + 3_600;
        let ending = Notice { until: Some(until), ..notice };
        d.set_notice(Some(&ending), &op()).await.unwrap();
        let stored = d.notice().await.unwrap().unwrap();
        assert_eq!(stored.until, Some(until));
        assert!(stored.shown_at(until - 1) && !stored.shown_at(until), "it disappears by itself at its end");
        d.set_notice(None, &op()).await.unwrap();
        assert_eq!(d.notice().await.unwrap(), None);
    }
}

on_both_backends! {
    async fn operator_role_is_granted_once_revoked_and_audited(d: Directory) {
        let anna = d.create_staff(&staff(Some("anna@school.example")), &op()).await.unwrap();
        assert!(!d.is_operator(&anna.id).await.unwrap());
        assert!(d.grant_operator(&anna.id, &op()).await.unwrap());
        assert!(!d.grant_operator(&anna.id, &op()).await.unwrap(), "granting again changes nothing");
        assert!(!d.is_operator(&anna.id).await.unwrap(), "an account that cannot sign in has no operator rights");
        d.set_staff_status(&anna.id, StaffStatus::Active, &op()).await.unwrap();
        assert!(d.is_operator(&anna.id).await.unwrap());
        let listed = d.operators().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!((listed[0].staff.id.as_str(), listed[0].granted_by.as_str()), (anna.id.as_str(), "operator:cli"));
        d.revoke_operator(&anna.id, &op()).await.unwrap();
        assert!(!d.is_operator(&anna.id).await.unwrap());
        assert!(matches!(d.revoke_operator(&anna.id, &op()).await.unwrap_err(), DirectoryError::NotFound { .. }));
        assert!(matches!(d.grant_operator("no-such-staff", &op()).await.unwrap_err(), DirectoryError::NotFound { .. }));
    }
}

on_both_backends! {
    async fn a_burst_of_operator_grants_for_one_account_makes_one_grant(d: Directory) {
        // Colleagues added at once first: that opens the pool's connections, so that the grants
        // below meet at the database instead of queueing behind connection set-up.
        let mut colleagues = tokio::task::JoinSet::new();
        for i in 0..8 {
            let d = d.clone();
            colleagues.spawn(async move { d.create_staff(&staff(Some(&format!("collega{i}@school.example"))), &op()).await });
        }
        assert!(colleagues.join_all().await.iter().all(Result::is_ok));
        let anna = d.create_staff(&staff(Some("anna@school.example")), &op()).await.unwrap();
        let mut burst = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (d, staff_id) = (d.clone(), anna.id.clone());
            burst.spawn(async move { d.grant_operator(&staff_id, &op()).await });
        }
        let results = burst.join_all().await;
        let granted = results.iter().filter(|r| matches!(r, Ok(true))).count();
        assert_eq!(granted, 1, "one grant, the others find it made: {results:?}");
        assert!(results.iter().all(|r| r.is_ok()), "no error but \"already\": {results:?}");
        assert_eq!(d.operators().await.unwrap().len(), 1);
    }
}

on_both_backends! {
    async fn first_ict_coordinator_comes_with_the_request_s_record_in_one_transaction(d: Directory) {
        use directory::operators::FirstIctRequest;
        let s = school(&d, "12AB", "00").await;
        let request = FirstIctRequest { requested_by: "J. Bestuurder", document_ref: "BRF-2026-17" };
        let bad = FirstIctRequest { requested_by: "J. Bestuurder", document_ref: " " };
        assert!(d.create_first_ict(&s.id, &staff(Some("ict@school.example")), &bad, &op()).await.is_err());
        assert!(d.staff_by_email(&Email::parse("ict@school.example").unwrap()).await.unwrap().is_none(), "a refused request creates nobody");
        let (ict, record) = d.create_first_ict(&s.id, &staff(Some("ict@school.example")), &request, &op()).await.unwrap();
        assert_eq!(ict.status, StaffStatus::Inactive);
        let at = d.schools_of_staff(&ict.id).await.unwrap();
        assert!(at[0].member && at[0].roles.contains(&StaffRole::IctCoordinator), "{at:?}");
        assert_eq!(d.first_icts_of_school(&s.id).await.unwrap(), vec![record.clone()]);
        assert_eq!((record.requested_by.as_str(), record.document_ref.as_str(), record.approved_by.as_str()),
                   ("J. Bestuurder", "BRF-2026-17", "operator:cli"));
        // A second "first" one is refused, and leaves no account behind.
        let again = d.create_first_ict(&s.id, &staff(Some("tweede@school.example")), &request, &op()).await.unwrap_err();
        assert!(matches!(again, DirectoryError::Conflict { .. }), "{again}");
        assert!(d.staff_by_email(&Email::parse("tweede@school.example").unwrap()).await.unwrap().is_none());
        // A taken address rolls the whole request back: no record without its person.
        let t = school(&d, "12AB", "01").await;
        let taken = d.create_first_ict(&t.id, &staff(Some("ict@school.example")), &request, &op()).await.unwrap_err();
        assert!(matches!(taken, DirectoryError::Duplicate { .. }), "{taken}");
        assert!(d.first_icts_of_school(&t.id).await.unwrap().is_empty());
        assert!(d.administrators_of(&t.id).await.unwrap().is_empty());
    }
}

on_both_backends! {
    async fn a_burst_of_first_ict_requests_for_one_school_makes_one_ict_coordinator(d: Directory) {
        use directory::operators::FirstIctRequest;
        let s = school(&d, "12AB", "00").await;
        let mut burst = tokio::task::JoinSet::new();
        for i in 0..8 {
            let (d, school_id) = (d.clone(), s.id.clone());
            burst.spawn(async move {
                let request = FirstIctRequest { requested_by: "J. Bestuurder", document_ref: "BRF-2026-17" };
                let person = staff(Some(&format!("ict{i}@school.example")));
                d.create_first_ict(&school_id, &person, &request, &op()).await
            });
        }
        let results = burst.join_all().await;
        let made = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(made, 1, "{results:?}");
        for r in results.iter().filter_map(|r| r.as_ref().err()) {
            assert!(matches!(r, DirectoryError::Conflict { .. }), "{r}");
        }
        assert_eq!(d.administrators_of(&s.id).await.unwrap().len(), 1);
        assert_eq!(d.first_icts_of_school(&s.id).await.unwrap().len(), 1);
    }
}

on_both_backends! {
    async fn operator_renames_boards_schools_parties_and_changes_products(d: Directory) {
        use directory::operators::ProductChange;
        let s = school(&d, "12AB", "00").await;
        d.rename_school(&s.id, "De Nieuwe Linde", &op()).await.unwrap();
        assert_eq!(d.school_by_id(&s.id).await.unwrap().unwrap().name, "De Nieuwe Linde");
        d.rename_board(&s.board_id, "Stichting Nieuw", &op()).await.unwrap();
        assert_eq!(d.list_boards().await.unwrap()[0].name, "Stichting Nieuw");
        assert!(d.rename_board(&s.board_id, "", &op()).await.is_err());
        assert!(matches!(d.rename_school("nope", "X", &op()).await.unwrap_err(), DirectoryError::NotFound { .. }));
        let party = d.create_party("uitgever", PartyKind::Publisher, "Uitgever", &op()).await.unwrap();
        d.rename_party(&party.id, "Uitgeverij Noord", &op()).await.unwrap();
        assert_eq!(d.party_by_id(&party.id).await.unwrap().unwrap().name, "Uitgeverij Noord");
        let product = d.create_product(&party.id, &NewProduct {
            code: "reken".into(), methode: "Rekenrijk".into(), name: "Rekenrijk 5".into(),
            launch_url: WebUrl::parse("launch_url", "https://reken.example/start").unwrap(), icon_url: None, home_allowed: false,
        }, &op()).await.unwrap();
        d.change_product(&product.id, &ProductChange {
            methode: "Rekenrijk".into(), name: "Rekenrijk groep 5".into(),
            launch_url: WebUrl::parse("launch_url", "https://reken.example/v2").unwrap(), icon_url: None, home_allowed: true,
        }, &op()).await.unwrap();
        let changed = d.product_by_id(&product.id).await.unwrap().unwrap();
        assert_eq!((changed.name.as_str(), changed.launch_url.as_str(), changed.home_allowed, changed.code.as_str()),
                   ("Rekenrijk groep 5", "https://reken.example/v2", true, "reken"));
        let log = d.audit_of_party(&party.id, 10).await.unwrap();
        assert!(log.iter().any(|e| e.action == "product.change") && log.iter().any(|e| e.action == "party.rename"));
    }
}

on_both_backends! {
    async fn oidc_clients_are_stored_per_party_with_unique_ids(d: Directory) {
        use directory::oidc_clients::StoredClient;
        let party = d.create_party("uitgever", PartyKind::Publisher, "Uitgever", &op()).await.unwrap();
        let client = StoredClient {
            client_id: "rekenrijk-web".into(), party_id: party.id.clone(),
            registration: "{\"client_id\":\"rekenrijk-web\"}".into(), secret_hash: Some("aa".repeat(32)),
        };
        d.create_oidc_client(&client, &op()).await.unwrap();
        assert_duplicate(d.create_oidc_client(&client, &op()).await.unwrap_err(), "client_id");
        let orphan = StoredClient { client_id: "x-client".into(), party_id: "no-such-party".into(), ..client.clone() };
        assert!(matches!(d.create_oidc_client(&orphan, &op()).await.unwrap_err(), DirectoryError::NotFound { .. }));
        assert_eq!(d.oidc_client("rekenrijk-web").await.unwrap(), Some(client.clone()));
        d.set_oidc_client_secret("rekenrijk-web", &"bb".repeat(32), &op()).await.unwrap();
        assert_eq!(d.oidc_client("rekenrijk-web").await.unwrap().unwrap().secret_hash, Some("bb".repeat(32)));
        assert_eq!(d.oidc_clients_of_party(&party.id).await.unwrap().len(), 1);
    }
}

on_both_backends! {
    async fn oidc_client_update_and_delete_are_audited_and_keep_the_party(d: Directory) {
        use directory::oidc_clients::StoredClient;
        let party = d.create_party("uitgever", PartyKind::Publisher, "Uitgever", &op()).await.unwrap();
        let other = d.create_party("ander", PartyKind::Publisher, "Ander", &op()).await.unwrap();
        let client = StoredClient {
            client_id: "rekenrijk-web".into(), party_id: party.id.clone(),
            registration: "{\"name\":\"v1\"}".into(), secret_hash: Some("aa".repeat(32)),
        };
        d.create_oidc_client(&client, &op()).await.unwrap();
        let api = Actor::api_client("beheer-koppeling");

        // A new registration keeps the secret unless told otherwise.
        let v2 = StoredClient { registration: "{\"name\":\"v2\"}".into(), ..client.clone() };
        d.update_oidc_client(&v2, None, &api).await.unwrap();
        assert_eq!(d.oidc_client("rekenrijk-web").await.unwrap(), Some(v2.clone()));
        d.update_oidc_client(&v2, Some(None), &api).await.unwrap();
        assert_eq!(d.oidc_client("rekenrijk-web").await.unwrap().unwrap().secret_hash, None);
        d.update_oidc_client(&v2, Some(Some(&"cc".repeat(32))), &api).await.unwrap();
        assert_eq!(d.oidc_client("rekenrijk-web").await.unwrap().unwrap().secret_hash, Some("cc".repeat(32)));

        // Moving a client to another party, or updating one that does not exist, changes nothing.
        let moved = StoredClient { party_id: other.id.clone(), registration: "{\"name\":\"v3\"}".into(), ..client.clone() };
        assert!(matches!(d.update_oidc_client(&moved, None, &api).await.unwrap_err(), DirectoryError::Conflict { .. }));
        let ghost = StoredClient { client_id: "no-such-client".into(), ..client.clone() };
        assert!(matches!(d.update_oidc_client(&ghost, None, &api).await.unwrap_err(), DirectoryError::NotFound { .. }));
        assert_eq!(d.oidc_client("rekenrijk-web").await.unwrap().unwrap().registration, v2.registration);

        let removed = d.delete_oidc_client("rekenrijk-web", &api).await.unwrap();
        assert_eq!(removed.party_id, party.id);
        assert_eq!(d.oidc_client("rekenrijk-web").await.unwrap(), None);
        assert!(d.oidc_clients_of_party(&party.id).await.unwrap().is_empty());
        assert!(matches!(d.delete_oidc_client("rekenrijk-web", &api).await.unwrap_err(), DirectoryError::NotFound { .. }));
        // The id is free again.
        d.create_oidc_client(&client, &op()).await.unwrap();

        let log = d.audit_of_party(&party.id, 20).await.unwrap();
        let actions: Vec<(&str, &str)> = log.iter().map(|e| (e.action.as_str(), e.actor.as_str())).collect();
        assert_eq!(actions[..5], [
            ("oidc_client.create", "operator:cli"),
            ("oidc_client.delete", "api:beheer-koppeling"),
            ("oidc_client.update", "api:beheer-koppeling"),
            ("oidc_client.update", "api:beheer-koppeling"),
            ("oidc_client.update", "api:beheer-koppeling"),
        ]);
        assert!(log.iter().all(|e| e.subject.as_deref() != Some("no-such-client")));
        assert_eq!(log[2].details["secret"], "new");
        assert_eq!(log[3].details["secret"], "removed");
        assert_eq!(log[4].details["secret"], "kept");
    }
}

// The read cache (src/cache.rs) keeps what logins read; these state when a change is seen.

on_both_backends! {
    async fn a_change_made_through_the_register_applies_to_the_next_read(d: Directory) {
        let a = school(&d, "11AA", "00").await;
        let ranges = |d: Directory, r: String| async move {
            d.school_with_ranges_by_instelling_ref(&r).await.unwrap().expect("school").1.len()
        };
        assert_eq!(ranges(d.clone(), a.instelling_ref.clone()).await, 0);
        let net = Cidr::parse("192.0.2.0/24").unwrap();
        d.add_ip_range(&a.id, &net, "gebouw A", &op()).await.unwrap();
        assert_eq!(ranges(d.clone(), a.instelling_ref.clone()).await, 1, "added range seen at once");
        d.remove_ip_range(&a.id, &net, &op()).await.unwrap();
        assert_eq!(ranges(d.clone(), a.instelling_ref.clone()).await, 0, "removed range gone at once");
    }
}

/// Node `d`, which hears change notices, and another node on the same PostgreSQL schema, with
/// school 11AA00 registered.
struct TwoNodes {
    d: Directory,
    other: Directory,
    schema: directory::testing::PgSchema,
    a: School,
}

async fn two_nodes() -> TwoNodes {
    let (d, schema) = directory::testing::postgres().await;
    let other = schema.open().await;
    d.listen_for_changes();
    hearing(&d).await;
    let a = school(&d, "11AA", "00").await;
    TwoNodes {
        d,
        other,
        schema,
        a,
    }
}

async fn close(d: Directory, other: Directory, schema: directory::testing::PgSchema) {
    other.close().await;
    d.close().await;
    schema.drop().await;
}

fn postgres_pool(d: &Directory) -> &sqlx::PgPool {
    match d.pool() {
        directory::Pool::Postgres(pool) => pool,
        directory::Pool::Sqlite(_) => unreachable!("a PostgreSQL register"),
    }
}

/// Waits until `d` hears the register's change notices, which turns its read cache on.
async fn hearing(d: &Directory) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !d.cache_in_use() {
        assert!(
            std::time::Instant::now() < deadline,
            "the register did not start hearing change notices within 5 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Runs `sql` (with `$1` bound to `id`) on `d`'s register with the session's triggers off, so
/// that it announces nothing: a cache in use keeps showing what it held before.
async fn change_unannounced(d: &Directory, sql: &'static str, id: &str) {
    let mut c = postgres_pool(d).acquire().await.unwrap();
    sqlx::query("SET session_replication_role = replica")
        .execute(&mut *c)
        .await
        .unwrap();
    sqlx::query(sql).bind(id).execute(&mut *c).await.unwrap();
    sqlx::query("SET session_replication_role = DEFAULT")
        .execute(&mut *c)
        .await
        .unwrap();
}

/// `d`'s read of school `a` with its IP ranges, through the read cache.
async fn read_school(d: &Directory, a: &School) -> (School, Vec<directory::schools::IpRange>) {
    d.school_with_ranges_by_instelling_ref(&a.instelling_ref)
        .await
        .unwrap()
        .expect("school")
}

/// Whether `done` came to hold for `d`'s read of school `a` within `within`.
async fn seen_within(
    d: &Directory,
    a: &School,
    within: std::time::Duration,
    done: impl Fn(&(School, Vec<directory::schools::IpRange>)) -> bool,
) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < within {
        if done(&read_school(d, a).await) {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    false
}

/// Long enough for the notices of a test's own set-up writes to have arrived, so that they do
/// not empty the cache after the test looked.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(1);

/// Two nodes on one PostgreSQL database: a change through one, or by hand, reaches the other's
/// read cache through its change notice, well within the stated bound.
#[tokio::test]
async fn on_postgresql_a_change_by_another_node_applies_once_its_notice_arrives() {
    let TwoNodes {
        d,
        other,
        schema,
        a,
    } = two_nodes().await;
    tokio::time::sleep(SETTLE).await;
    let read = || read_school(&d, &a);
    assert!(read().await.1.is_empty());

    // The cache is in use: a change that announces nothing is not seen.
    change_unannounced(
        &other,
        "UPDATE schools SET name = 'Stil' WHERE id = $1",
        &a.id,
    )
    .await;
    tokio::time::sleep(SETTLE).await;
    assert_ne!(read().await.0.name, "Stil", "the read cache is not in use");

    other
        .add_ip_range(
            &a.id,
            &Cidr::parse("192.0.2.0/24").unwrap(),
            "gebouw A",
            &op(),
        )
        .await
        .unwrap();
    assert!(
        seen_within(&d, &a, directory::CACHE_LAPSE, |(_, ranges)| ranges.len()
            == 1)
        .await,
        "a range added on another node is seen within the bound"
    );
    assert_eq!(read().await.0.name, "Stil", "the whole cache was emptied");

    // A change by hand (psql, the command line) announces itself too: the triggers see it.
    let pool = postgres_pool(&other);
    sqlx::query("UPDATE schools SET active = FALSE WHERE id = $1")
        .bind(&a.id)
        .execute(pool)
        .await
        .unwrap();
    assert!(
        seen_within(&d, &a, directory::CACHE_LAPSE, |(s, _)| !s.active).await,
        "a school deactivated by hand is seen within the bound"
    );
    close(d, other, schema).await;
}

/// A node whose listening connection is cut may have missed changes meanwhile: it keeps nothing
/// it read before, and listens again on a new connection.
#[tokio::test]
async fn on_postgresql_a_node_that_lost_its_listening_connection_keeps_nothing_from_before() {
    let TwoNodes {
        d,
        other,
        schema,
        a,
    } = two_nodes().await;
    tokio::time::sleep(SETTLE).await;
    // Read, and so kept.
    read_school(&d, &a).await;
    let cut = d.listener_backend_pid().expect("a listening connection");

    change_unannounced(
        &other,
        "UPDATE schools SET name = 'Stil' WHERE id = $1",
        &a.id,
    )
    .await;
    let pool = postgres_pool(&other);
    let (terminated,): (bool,) = sqlx::query_as("SELECT pg_terminate_backend($1)")
        .bind(cut as i32)
        .fetch_one(pool)
        .await
        .unwrap();
    assert!(terminated, "the listening connection was cut");

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while d.listener_backend_pid().is_none_or(|pid| pid == cut) || !d.cache_in_use() {
        assert!(
            std::time::Instant::now() < deadline,
            "no new listening connection within 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(
        read_school(&d, &a).await.0.name,
        "Stil",
        "a value read before the cut was kept"
    );
    close(d, other, schema).await;
}

/// Readers racing a stream of changes on another node never keep a value older than the last
/// change: once its notice is in, every read shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_reads_racing_another_nodes_changes_settle_on_the_last_one() {
    let TwoNodes {
        d,
        other,
        schema,
        a,
    } = two_nodes().await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (d, reference, stop) = (d.clone(), a.instelling_ref.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    d.school_with_ranges_by_instelling_ref(&reference)
                        .await
                        .unwrap();
                    // A read from the cache does not wait: let the listener and writer run.
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for i in 0..10 {
        other
            .add_ip_range(
                &a.id,
                &Cidr::parse(&format!("192.0.{i}.0/24")).unwrap(),
                "",
                &op(),
            )
            .await
            .unwrap();
    }
    let settled = seen_within(&d, &a, directory::CACHE_LAPSE, |(_, ranges)| {
        ranges.len() == 10
    })
    .await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for r in readers {
        r.await.unwrap();
    }
    assert!(settled, "the last change was not seen within the bound");
    tokio::time::sleep(SETTLE).await;
    assert_eq!(
        read_school(&d, &a).await.1.len(),
        10,
        "an older value was kept after the last change"
    );
    close(d, other, schema).await;
}

/// Another process on the same SQLite file (the operator's command line) has a register of its
/// own; its change reaches this one's cache within the poll interval.
#[tokio::test]
async fn a_change_by_another_process_applies_within_the_poll_interval() {
    let (d, dir) = directory::testing::sqlite().await;
    let url = format!("sqlite://{}", dir.path().join("register.sqlite").display());
    let other = Directory::open(&url, &directory::ConnectOptions::default())
        .await
        .unwrap();
    let a = school(&d, "11AA", "00").await;
    let read = || async {
        d.school_with_ranges_by_instelling_ref(&a.instelling_ref)
            .await
            .unwrap()
            .expect("school")
    };
    assert!(read().await.1.is_empty());
    assert!(read().await.0.active);

    other
        .add_ip_range(
            &a.id,
            &Cidr::parse("192.0.2.0/24").unwrap(),
            "gebouw A",
            &op(),
        )
        .await
        .unwrap();
    tokio::time::sleep(directory::CACHE_POLL + std::time::Duration::from_millis(50)).await;
    assert_eq!(read().await.1.len(), 1, "range added elsewhere is seen");

    // A change made by hand, outside openpoort's code, counts too (the triggers see it).
    let directory::Pool::Sqlite(pool) = other.pool() else {
        unreachable!("a SQLite register")
    };
    sqlx::query("UPDATE schools SET active = FALSE WHERE id = $1")
        .bind(&a.id)
        .execute(pool)
        .await
        .unwrap();
    tokio::time::sleep(directory::CACHE_POLL + std::time::Duration::from_millis(50)).await;
    assert!(!read().await.0.active, "school deactivated by hand is seen");
    other.close().await;
}

/// A network provider's upstream is read through the cache too, so a change to it by another
/// process (the operator's command line) must count the register's version like every other
/// cached table (migration 0019; before it, such a change stayed unseen).
#[tokio::test]
async fn a_change_to_an_upstream_by_another_process_applies_within_the_poll_interval() {
    use directory::upstreams::{StoredUpstream, UpstreamProtocol};
    let (d, dir) = directory::testing::sqlite().await;
    let url = format!("sqlite://{}", dir.path().join("register.sqlite").display());
    let other = Directory::open(&url, &directory::ConnectOptions::default())
        .await
        .unwrap();
    let party = d
        .create_party("netwerk", PartyKind::NetworkProvider, "Netwerk", &op())
        .await
        .unwrap();
    let upstream = StoredUpstream {
        party_id: party.id.clone(),
        protocol: UpstreamProtocol::Oidc,
        issuer: "https://netwerk.example".into(),
        settings: "{}".into(),
        metadata_xml: None,
        metadata_url: None,
        client_secret: None,
        refreshed_at: 0,
        refresh_error: None,
    };
    d.set_upstream(&upstream, &op()).await.unwrap();
    let issuer = || async {
        d.upstream_of(&party.id)
            .await
            .unwrap()
            .expect("upstream")
            .issuer
    };
    assert_eq!(issuer().await, "https://netwerk.example");

    other
        .set_upstream(
            &StoredUpstream {
                issuer: "https://elders.example".into(),
                ..upstream
            },
            &op(),
        )
        .await
        .unwrap();
    tokio::time::sleep(directory::CACHE_POLL + std::time::Duration::from_millis(50)).await;
    assert_eq!(
        issuer().await,
        "https://elders.example",
        "an upstream changed elsewhere is seen"
    );
    other.close().await;
}
