//! DUO's register list, merges and splits, each on SQLite and on PostgreSQL.

use directory::duo;
use directory::duo_import::ClosureReason;
use directory::edexml::{Limits, parse};
use directory::model::*;
use directory::parties::{LicenceMember, LicenceScope, NewLicence, NewProduct};
use directory::people::{GroupKind, NewGroup, NewPupil, NewStaff};
use directory::schools::{NewSchool, School};
use directory::{Actor, Directory, DirectoryError, on_both_backends};

fn op() -> Actor {
    Actor::operator_cli()
}

fn code(c: &str) -> SchoolCode {
    SchoolCode::parse(c).unwrap()
}

async fn school(d: &Directory, c: &str, name: &str) -> School {
    let nummer = Bestuursnummer::parse("41234").unwrap();
    if d.board_by_nummer(&nummer).await.unwrap().is_none() {
        d.create_board(&nummer, "Stichting Noord", &op())
            .await
            .unwrap();
    }
    let c = code(c);
    d.create_school(
        &NewSchool {
            bestuursnummer: nummer,
            brin: c.brin,
            vestigingscode: c.vestigingscode,
            name: name.into(),
        },
        &op(),
    )
    .await
    .unwrap()
}

async fn group(d: &Directory, school: &str, key: &str, jaargroep: Option<&str>) -> String {
    d.create_group(
        school,
        &NewGroup {
            las_key: LasKey::parse(key).unwrap(),
            name: format!("Groep {key}"),
            kind: if jaargroep.is_some() {
                GroupKind::Stamgroep
            } else {
                GroupKind::Samengesteld
            },
            jaargroep: jaargroep.map(|j| Jaargroep::parse(j).unwrap()),
        },
        &op(),
    )
    .await
    .unwrap()
    .id
}

async fn pupil(
    d: &Directory,
    school: &str,
    key: &str,
    stamgroep: &str,
    combined: &[&str],
) -> String {
    d.create_pupil(
        school,
        &NewPupil {
            las_key: LasKey::parse(key).unwrap(),
            achternaam: "Visser".into(),
            voorvoegsel: None,
            voornamen: None,
            roepnaam: Some(format!("Kind {key}")),
            jaargroep: Jaargroep::parse("5").unwrap(),
            stamgroep: Some(LasKey::parse(stamgroep).unwrap()),
            combined_groups: combined.iter().map(|k| LasKey::parse(k).unwrap()).collect(),
            eck_id: None,
        },
        &op(),
    )
    .await
    .unwrap()
    .id
}

async fn teacher(d: &Directory, school: &str, email: &str, key: &str) -> String {
    let s = d
        .create_staff(
            &NewStaff {
                email: Some(Email::parse(email).unwrap()),
                achternaam: "Jansen".into(),
                voorvoegsel: None,
                voornamen: None,
                roepnaam: None,
                eck_id: None,
            },
            &op(),
        )
        .await
        .unwrap();
    d.add_staff_to_school(&s.id, school, Some(&LasKey::parse(key).unwrap()), &op())
        .await
        .unwrap();
    d.grant_role(&s.id, school, StaffRole::Leerkracht, &op())
        .await
        .unwrap();
    s.id
}

async fn publisher_product(d: &Directory) -> (String, String) {
    let party = d
        .create_party("uitgever", PartyKind::Publisher, "Uitgeverij Noord", &op())
        .await
        .unwrap()
        .id;
    let product = d
        .create_product(
            &party,
            &NewProduct {
                code: "rekenen".into(),
                methode: "Rekenen".into(),
                name: "Rekenen".into(),
                launch_url: WebUrl::parse("launch_url", "https://uitgever.example/start").unwrap(),
                icon_url: None,
                home_allowed: false,
            },
            &op(),
        )
        .await
        .unwrap()
        .id;
    (party, product)
}

async fn licence(d: &Directory, school: &str, product: &str, scope: LicenceScope) -> String {
    d.create_licence(
        &NewLicence {
            school_id: school.into(),
            product_id: product.into(),
            scope,
            valid_from: Date::parse("van", "2026-08-01").unwrap(),
            valid_until: None,
        },
        &op(),
    )
    .await
    .unwrap()
    .id
}

/// Everything a test can compare before and after a refused change.
async fn snapshot(d: &Directory) -> String {
    let mut out = String::new();
    for b in d.list_boards().await.unwrap() {
        out += &format!("{b:?}\n");
    }
    for s in d.list_schools().await.unwrap() {
        out += &format!("{s:?}\n");
        for g in d.groups_of_school(&s.id).await.unwrap() {
            out += &format!("  {g:?}\n");
        }
        for p in d.pupils_of_school(&s.id).await.unwrap() {
            out += &format!("  {p:?}\n");
        }
        for l in d.licences_of_school(&s.id).await.unwrap() {
            out += &format!("  {l:?}\n");
        }
    }
    out
}

fn duo_list(text: &str) -> duo::DuoList {
    duo::parse(text.as_bytes()).unwrap_or_else(|p| panic!("{p}"))
}

const HEAD_OLD: &str =
    "PROVINCIE;BEVOEGD GEZAG NUMMER;BRIN NUMMER;VESTIGINGSNUMMER;VESTIGINGSNAAM;PLAATSNAAM\n";

// ---- DUO ----

on_both_backends! {
    async fn duo_import_creates_boards_and_schools_renames_changed_ones_and_reports_missing_ones(d: Directory) {
        let kept = school(&d, "12AB00", "De Regenboog").await;
        school(&d, "12AB01", "Oude naam").await;
        school(&d, "12AB02", "Verdwenen school").await;
        let list = duo_list(&format!("{HEAD_OLD}\
            Utrecht;41234;12AB;12AB00;De Regenboog;UTRECHT\n\
            Utrecht;41234;12AB;12AB01;De Zonnewijzer;UTRECHT\n\
            Friesland;52345;34CD;34CD00;Obs De Wâlde;LJOUWERT\n"));

        let dry = d.import_duo(&list, true, &op()).await.unwrap();
        assert!(!dry.applied);
        assert_eq!(dry.schools_added.len(), 1);
        assert!(d.school_by_code(&code("34CD00")).await.unwrap().is_none(), "a dry run changes nothing");

        let r = d.import_duo(&list, false, &op()).await.unwrap();
        assert_eq!(r.boards_added.len(), 1);
        assert_eq!(r.boards_added[0].bestuursnummer, "52345");
        assert!(r.boards_added[0].placeholder_name, "the older list names no boards");
        assert_eq!(r.schools_added.iter().map(|s| s.code.as_str()).collect::<Vec<_>>(), ["34CD00"]);
        assert_eq!(r.schools_renamed.len(), 1);
        assert_eq!((r.schools_renamed[0].from.as_str(), r.schools_renamed[0].to.as_str()), ("Oude naam", "De Zonnewijzer"));
        assert_eq!(r.unchanged, 1);
        assert_eq!(r.closures.len(), 1);
        assert_eq!((r.closures[0].code.as_str(), &r.closures[0].reason), ("12AB02", &ClosureReason::NotInList));

        let new = d.require_school(&code("34CD00")).await.unwrap();
        assert_eq!(new.name, "Obs De Wâlde");
        assert!(new.active);
        assert_ne!(new.instelling_ref, kept.instelling_ref);
        assert_eq!(d.require_school(&code("12AB01")).await.unwrap().name, "De Zonnewijzer");
        // Reported, never removed or switched off.
        assert!(d.require_school(&code("12AB02")).await.unwrap().active);
        assert_eq!(d.require_school(&code("12AB00")).await.unwrap(), kept, "an unchanged school keeps its shortcut");

        let again = d.import_duo(&list, false, &op()).await.unwrap();
        assert!(again.schools_added.is_empty() && again.schools_renamed.is_empty() && again.boards_added.is_empty(), "{again:?}");
        assert_eq!(again.unchanged, 3);
    }
}

on_both_backends! {
    async fn windows_1252_duo_file_keeps_accented_names(d: Directory) {
        let mut bytes = b"INSTELLINGSCODE;VESTIGINGSCODE;VESTIGINGSNAAM;BEVOEGDGEZAGNUMMER;BEVOEGD GEZAG NAAM\r\n".to_vec();
        // "Caf\xE9 No\xEBl" and "Stichting Prim\xE4r" in Windows-1252.
        bytes.extend_from_slice(b"56EF;56EF00;Daltonschool Caf\xE9 No\xEBl;63456;Stichting Prim\xE4r\r\n");
        let list = duo::parse(&bytes).unwrap_or_else(|p| panic!("{p}"));
        assert_eq!(list.encoding, duo::DuoEncoding::Windows1252);
        d.import_duo(&list, false, &op()).await.unwrap();
        assert_eq!(d.require_school(&code("56EF00")).await.unwrap().name, "Daltonschool Café Noël");
        let board = d.board_by_nummer(&Bestuursnummer::parse("63456").unwrap()).await.unwrap().unwrap();
        assert_eq!(board.name, "Stichting Primär");
    }
}

on_both_backends! {
    async fn duo_import_renames_boards_moves_schools_between_boards_and_reports_end_dates(d: Directory) {
        school(&d, "12AB00", "De Regenboog").await;
        school(&d, "12AB01", "De Zonnewijzer").await;
        let list = duo_list("INSTELLINGSCODE;VESTIGINGSCODE;VESTIGINGSNAAM;BEVOEGD GEZAG NUMMER;BEVOEGD GEZAG NAAM;DATUM OPHEFFING\n\
            12AB;12AB00;De Regenboog;41234;Stichting Noord-Oost;\n\
            12AB;12AB01;De Zonnewijzer;52345;Stichting Zuid;31-07-2027\n\
            78GH;78GH00;Al gesloten;52345;Stichting Zuid;01-08-2020\n");
        let r = d.import_duo(&list, false, &op()).await.unwrap();
        assert_eq!(r.boards_renamed.len(), 1);
        assert_eq!(r.boards_renamed[0].to, "Stichting Noord-Oost");
        assert_eq!(r.boards_added[0].name, "Stichting Zuid");
        assert!(!r.boards_added[0].placeholder_name);
        assert_eq!(r.schools_board_changed.len(), 1);
        assert_eq!(r.schools_board_changed[0].to_bestuursnummer, "52345");
        assert_eq!(r.closures.len(), 1);
        assert_eq!(r.closures[0].reason, ClosureReason::EndDate("2027-07-31".into()));
        assert_eq!(r.closed_not_created, ["78GH00"], "a location closed before openpoort knew it is not created");
        let zuid = d.board_by_nummer(&Bestuursnummer::parse("52345").unwrap()).await.unwrap().unwrap();
        assert_eq!(d.require_school(&code("12AB01")).await.unwrap().board_id, zuid.id);
        assert!(d.school_by_code(&code("78GH00")).await.unwrap().is_none());
    }
}

on_both_backends! {
    async fn duo_import_with_bad_rows_changes_nothing(d: Directory) {
        school(&d, "12AB00", "De Regenboog").await;
        let before = snapshot(&d).await;
        let text = format!("{HEAD_OLD}\
            Utrecht;41234;12AB;12AB00;Nieuwe naam;UTRECHT\n\
            Utrecht;52345;34CD;34CD00;Nieuwe school;UTRECHT\n\
            Utrecht;4123;1ZAB;1ZAB00;;UTRECHT\n");
        let problems = duo::parse(text.as_bytes()).unwrap_err();
        assert_eq!(problems.0.len(), 3, "every bad field of the row is named: {problems}");
        assert!(problems.0.iter().all(|p| p.line == 4), "{problems}");
        assert_eq!(snapshot(&d).await, before);
    }
}

// ---- merge ----

struct Merge {
    a: School,
    b: School,
    a_group: String,
    b_group: String,
    b_plus: String,
    b_pupil: String,
    b_plus_pupil: String,
    b_teacher: String,
    b_admin: String,
    party: String,
    b_group_licence: String,
    b_school_licence: String,
}

/// A (12AB00) with group A5 and pupil A1; B (12AB01) with groups B5 and plus, pupils B1 (in B5)
/// and B2 (in B5 and plus), a teacher, an administrator, an IP range, consent and two licences.
async fn two_schools(d: &Directory) -> Merge {
    let a = school(d, "12AB00", "De Regenboog").await;
    let b = school(d, "12AB01", "De Zonnewijzer").await;
    let a_group = group(d, &a.id, "A5", Some("5")).await;
    pupil(d, &a.id, "A1", "A5", &[]).await;
    teacher(d, &a.id, "juf.a@school.nl", "TA").await;
    let b_group = group(d, &b.id, "B5", Some("5")).await;
    let b_plus = group(d, &b.id, "plus", None).await;
    let b_pupil = pupil(d, &b.id, "B1", "B5", &[]).await;
    let b_plus_pupil = pupil(d, &b.id, "B2", "B5", &["plus"]).await;
    let b_teacher = teacher(d, &b.id, "meester.b@school.nl", "TB").await;
    d.assign_staff_group(&b_teacher, &b_group, &op())
        .await
        .unwrap();
    let b_admin = teacher(d, &b.id, "ict.b@school.nl", "TC").await;
    d.grant_role(&b_admin, &b.id, StaffRole::IctCoordinator, &op())
        .await
        .unwrap();
    d.add_ip_range(
        &b.id,
        &Cidr::parse("192.0.2.0/24").unwrap(),
        "gebouw B",
        &op(),
    )
    .await
    .unwrap();
    let (party, product) = publisher_product(d).await;
    d.grant_consent(&b.id, &party, &op()).await.unwrap();
    let b_group_licence = licence(
        d,
        &b.id,
        &product,
        LicenceScope::Members(vec![LicenceMember::Group(b_plus.clone())]),
    )
    .await;
    let b_school_licence = licence(d, &b.id, &product, LicenceScope::School).await;
    Merge {
        a,
        b,
        a_group,
        b_group,
        b_plus,
        b_pupil,
        b_plus_pupil,
        b_teacher,
        b_admin,
        party,
        b_group_licence,
        b_school_licence,
    }
}

on_both_backends! {
    async fn merge_keeps_internal_ids_of_moved_pupils_groups_and_staff(d: Directory) {
        let m = two_schools(&d).await;
        let r = d.merge_schools(&code("12AB01"), &code("12AB00"), false, &op()).await.unwrap();
        assert_eq!(r.groups, ["B5", "plus"]);
        assert_eq!(r.pupils, ["B1", "B2"]);
        assert_eq!(r.staff_moved, 2);
        let moved = d.pupil_by_id(&m.b_pupil).await.unwrap().unwrap();
        assert_eq!((moved.school_id.as_str(), moved.las_key.as_str()), (m.a.id.as_str(), "B1"), "same row, same id, now at A");
        assert_eq!(moved.stamgroep_id.as_deref(), Some(m.b_group.as_str()));
        let groups: Vec<String> = d.groups_of_school(&m.a.id).await.unwrap().into_iter().map(|g| g.id).collect();
        for g in [&m.a_group, &m.b_group, &m.b_plus] {
            assert!(groups.contains(g), "{groups:?}");
        }
        let teacher_at: Vec<String> = d.schools_of_staff(&m.b_teacher).await.unwrap().into_iter().map(|s| s.school_id).collect();
        assert_eq!(teacher_at, std::slice::from_ref(&m.a.id));
        assert_eq!(d.groups_of_staff(&m.b_teacher).await.unwrap()[0].id, m.b_group);
        // B can no longer log anyone in: switched off and pointing at A.
        let b = d.require_school(&code("12AB01")).await.unwrap();
        assert_eq!(b.merged_into.as_deref(), Some(m.a.id.as_str()));
        assert!(!b.active);
        assert!(d.pupils_of_school(&m.b.id).await.unwrap().is_empty());
        assert_eq!(d.ip_ranges(&m.a.id).await.unwrap().len(), 1, "B's building signs in through A now");
        let merges = d.audit_of_school_by_action(&m.a.id, "school.merge", 10).await.unwrap();
        assert_eq!(merges.len(), 1);
    }
}

on_both_backends! {
    async fn merge_moves_licences_narrows_school_wide_ones_and_ends_consents_without_copying_them(d: Directory) {
        let m = two_schools(&d).await;
        let r = d.merge_schools(&code("12AB01"), &code("12AB00"), false, &op()).await.unwrap();
        assert_eq!(r.licences_moved, std::slice::from_ref(&m.b_group_licence));
        assert_eq!(r.licences_narrowed, std::slice::from_ref(&m.b_school_licence));
        let at_a = d.licences_of_school(&m.a.id).await.unwrap();
        let narrowed = at_a.iter().find(|l| l.id == m.b_school_licence).unwrap();
        // B's school-wide licence covers B's groups at A, not A's own group A5.
        let LicenceScope::Members(members) = &narrowed.scope else { panic!("{narrowed:?}") };
        assert!(members.contains(&LicenceMember::Group(m.b_group.clone())));
        assert!(members.contains(&LicenceMember::Group(m.b_plus.clone())));
        assert!(!members.contains(&LicenceMember::Group(m.a_group.clone())));
        let kept = at_a.iter().find(|l| l.id == m.b_group_licence).unwrap();
        assert_eq!(kept.scope, LicenceScope::Members(vec![LicenceMember::Group(m.b_plus.clone())]));
        assert!(d.licences_of_school(&m.b.id).await.unwrap().is_empty());
        // Consent is the school's own decision: ended at B, not granted at A.
        assert_eq!(r.consents_ended.len(), 1);
        assert!(!r.consents_ended[0].target_consents);
        assert!(d.open_consent(&m.b.id, &m.party).await.unwrap().is_none());
        assert!(d.open_consent(&m.a.id, &m.party).await.unwrap().is_none());
        // Administration of A is granted explicitly, never inherited.
        assert_eq!(r.administrators_not_moved, ["ict.b@school.nl"]);
        assert!(d.schools_administered_by(&m.b_admin).await.unwrap().is_empty());
    }
}

on_both_backends! {
    async fn merge_with_colliding_keys_is_refused_naming_them_and_changes_nothing(d: Directory) {
        let m = two_schools(&d).await;
        group(&d, &m.a.id, "B5", Some("6")).await;
        pupil(&d, &m.a.id, "B2", "A5", &[]).await;
        let before = snapshot(&d).await;
        let err = d.merge_schools(&code("12AB01"), &code("12AB00"), false, &op()).await.unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, DirectoryError::Conflict { .. }), "{msg}");
        assert!(msg.contains("groepen \"B5\"") && msg.contains("leerlingen \"B2\""), "{msg}");
        assert!(msg.contains("groups \"B5\"") && msg.contains("pupils \"B2\""), "{msg}");
        assert_eq!(snapshot(&d).await, before);
        assert!(d.require_school(&code("12AB01")).await.unwrap().merged_into.is_none());
    }
}

on_both_backends! {
    async fn merge_dry_run_reports_what_would_move_and_changes_nothing(d: Directory) {
        let m = two_schools(&d).await;
        let before = snapshot(&d).await;
        let r = d.merge_schools(&code("12AB01"), &code("12AB00"), true, &op()).await.unwrap();
        assert!(!r.applied);
        assert_eq!(r.pupils, ["B1", "B2"]);
        assert_eq!(snapshot(&d).await, before);
        assert_eq!(d.audit_of_school_by_action(&m.b.id, "school.merge.dry_run", 5).await.unwrap().len(), 1);
    }
}

on_both_backends! {
    async fn merged_school_refuses_imports_and_a_second_merge(d: Directory) {
        school(&d, "99ZZ00", "Voorbeeldschool").await;
        school(&d, "99ZZ01", "Blijvende school").await;
        d.merge_schools(&code("99ZZ00"), &code("99ZZ01"), false, &op()).await.unwrap();
        let xml = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/edexml-2.1/EDEXML.Voorbeeld.2.1.xml")).unwrap();
        let snapshot = parse(&xml, &Limits::default()).unwrap_or_else(|p| panic!("{p}"));
        assert_eq!(snapshot.school_code().to_string(), "99ZZ00");
        let err = d.import_snapshot(&snapshot, false, &op()).await.unwrap_err().to_string();
        assert!(err.contains("99ZZ00 is samengevoegd met 99ZZ01") && err.contains("accepts no imports"), "{err}");
        let merged = d.require_school(&code("99ZZ00")).await.unwrap();
        assert!(d.refuse_merged(&merged).await.is_err());
        assert!(d.pupils_of_school(&merged.id).await.unwrap().is_empty());
        assert!(d.merge_schools(&code("99ZZ00"), &code("99ZZ01"), false, &op()).await.is_err());
        school(&d, "99ZZ02", "Derde").await;
        let into_merged = d.merge_schools(&code("99ZZ02"), &code("99ZZ00"), false, &op()).await.unwrap_err().to_string();
        assert!(into_merged.contains("merge into the school that remains"), "{into_merged}");
    }
}

// ---- split ----

on_both_backends! {
    async fn split_moves_chosen_groups_with_their_pupils_into_a_new_location(d: Directory) {
        let m = two_schools(&d).await;
        let a5_pupil = d.pupils_of_school(&m.a.id).await.unwrap()[0].id.clone();
        let groupless = d.create_pupil(&m.b.id, &NewPupil {
            las_key: LasKey::parse("B9").unwrap(), achternaam: "Zonder".into(), voorvoegsel: None, voornamen: None,
            roepnaam: None, jaargroep: Jaargroep::parse("1").unwrap(), stamgroep: None, combined_groups: vec![], eck_id: None,
        }, &op()).await.unwrap().id;
        let r = d.split_school(&code("12AB01"), &code("12AB02"), Some("De Zonnewijzer Zuid"),
            &[LasKey::parse("B5").unwrap(), LasKey::parse("plus").unwrap()], false, &op()).await.unwrap();
        assert!(r.created_target);
        assert_eq!(r.groups, ["B5", "plus"]);
        assert_eq!(r.pupils, ["B1", "B2"]);
        assert_eq!(r.staff_added, ["TB"]);
        assert_eq!(r.pupils_without_group, ["B9"], "reported, and left where they are");
        assert_eq!(d.pupil_by_id(&groupless).await.unwrap().unwrap().school_id, m.b.id);
        let t = d.require_school(&code("12AB02")).await.unwrap();
        assert_eq!(t.name, "De Zonnewijzer Zuid");
        assert_eq!(t.board_id, m.b.board_id);
        assert_eq!(d.pupil_by_id(&m.b_plus_pupil).await.unwrap().unwrap().school_id, t.id, "same id at the new location");
        assert_eq!(d.pupil_by_id(&a5_pupil).await.unwrap().unwrap().school_id, m.a.id);
        // Licences follow: the group licence moved whole, the school-wide one gave T its part.
        assert_eq!(r.licences_moved, std::slice::from_ref(&m.b_group_licence));
        assert_eq!(r.licences_created.len(), 1);
        assert_eq!(d.licences_of_school(&m.b.id).await.unwrap().len(), 1, "B keeps its school-wide licence");
        assert_eq!(r.consents_copied, ["uitgever"]);
        assert!(d.open_consent(&t.id, &m.party).await.unwrap().is_some());
        assert_eq!(r.target_ip_ranges, 0);
        assert!(d.schools_of_staff(&m.b_teacher).await.unwrap().iter().any(|s| s.school_id == t.id));
    }
}

on_both_backends! {
    async fn split_refuses_unknown_groups_divided_combined_groups_and_full_targets(d: Directory) {
        two_schools(&d).await;
        let before = snapshot(&d).await;
        let keys = |k: &[&str]| k.iter().map(|k| LasKey::parse(k).unwrap()).collect::<Vec<_>>();
        let unknown = d.split_school(&code("12AB01"), &code("12AB02"), Some("Zuid"), &keys(&["B5", "X9", "Y1"]), false, &op())
            .await.unwrap_err().to_string();
        assert!(unknown.contains("\"X9\", \"Y1\"") && unknown.contains("do not exist at 12AB01"), "{unknown}");
        // B2 is in B5 and plus: moving plus alone would divide it from its stamgroep B5's side.
        let divided = d.split_school(&code("12AB01"), &code("12AB02"), Some("Zuid"), &keys(&["B5"]), false, &op())
            .await.unwrap_err().to_string();
        assert!(divided.contains("\"plus\" (\"B2\")"), "{divided}");
        let full = d.split_school(&code("12AB01"), &code("12AB00"), None, &keys(&["B5", "plus"]), false, &op())
            .await.unwrap_err().to_string();
        assert!(full.contains("12AB00 is niet leeg"), "{full}");
        let nameless = d.split_school(&code("12AB01"), &code("12AB02"), None, &keys(&["B5", "plus"]), false, &op())
            .await.unwrap_err().to_string();
        assert!(nameless.contains("--name"), "{nameless}");
        assert_eq!(snapshot(&d).await, before);
    }
}

on_both_backends! {
    async fn split_dry_run_creates_nothing(d: Directory) {
        two_schools(&d).await;
        let before = snapshot(&d).await;
        let r = d.split_school(&code("12AB01"), &code("12AB02"), Some("Zuid"),
            &[LasKey::parse("B5").unwrap(), LasKey::parse("plus").unwrap()], true, &op()).await.unwrap();
        assert_eq!(r.pupils, ["B1", "B2"]);
        assert!(!r.applied);
        assert!(d.school_by_code(&code("12AB02")).await.unwrap().is_none());
        assert_eq!(snapshot(&d).await, before);
    }
}
