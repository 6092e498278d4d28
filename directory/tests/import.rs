//! Applying EDEXML files to the register, on SQLite and PostgreSQL: whole or not at all,
//! removed users deactivated, re-appearing users keeping their identity.

use directory::edexml::{Limits, Snapshot, parse};
use directory::model::*;
use directory::schools::NewSchool;
use directory::{Actor, Directory, DirectoryError, on_both_backends};

fn reference(file: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/reference")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{} is missing ({e}): the project's shared/ folder must sit beside the checkout",
            path.display()
        )
    })
}

fn snapshot(xml: &str) -> Snapshot {
    parse(xml.as_bytes(), &Limits::default()).unwrap_or_else(|p| panic!("{p}"))
}

/// The example file without the pupil with this key.
fn without_pupil(xml: &str, key: &str) -> String {
    let start = xml
        .find(&format!("<leerling key=\"{key}\""))
        .expect("pupil in file");
    let end = xml[start..].find("</leerling>").unwrap() + start + "</leerling>".len();
    format!("{}{}", &xml[..start], &xml[end..])
}

async fn school_99zz00(d: &Directory) {
    let op = Actor::operator_cli();
    let nummer = Bestuursnummer::parse("99999").unwrap();
    d.create_board(&nummer, "Stichting", &op).await.unwrap();
    d.create_school(
        &NewSchool {
            bestuursnummer: nummer,
            brin: Brin::parse("99ZZ").unwrap(),
            vestigingscode: Vestigingscode::parse("00").unwrap(),
            name: "Voorbeeldschool".into(),
        },
        &op,
    )
    .await
    .unwrap();
}

async fn pupil_id(d: &Directory, key: &str) -> (String, bool) {
    let school = d
        .require_school(&SchoolCode::parse("99ZZ00").unwrap())
        .await
        .unwrap();
    let p = d
        .pupils_of_school(&school.id)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.las_key == key)
        .unwrap();
    (p.id, p.active)
}

on_both_backends! {
    async fn example_file_imports_whole_and_importing_it_again_changes_nothing(d: Directory) {
        school_99zz00(&d).await;
        let file = snapshot(&reference("edexml-2.1/EDEXML.Voorbeeld.2.1.xml"));
        let op = Actor::operator_cli();
        let first = d.import_snapshot(&file, false, &op).await.unwrap();
        assert_eq!(first.pupils.added.len(), file.pupils.len());
        assert_eq!(first.groups.added.len(), file.groups.len() + file.combined_groups.len());
        assert_eq!(first.staff.added.len(), file.teachers.len());
        assert!(first.pupils.removed.is_empty() && first.pupils.changed.is_empty());
        let again = d.import_snapshot(&file, false, &op).await.unwrap();
        assert!(again.pupils.added.is_empty() && again.pupils.changed.is_empty() && again.pupils.removed.is_empty(), "{again:?}");
        assert!(again.groups.added.is_empty() && again.groups.changed.is_empty(), "{again:?}");
        assert!(again.staff.added.is_empty(), "{again:?}");
    }
}

on_both_backends! {
    async fn a_removed_pupil_is_deactivated_and_keeps_their_identity_when_back(d: Directory) {
        school_99zz00(&d).await;
        let op = Actor::operator_cli();
        let full = reference("edexml-2.1/EDEXML.Voorbeeld.2.1.xml");
        d.import_snapshot(&snapshot(&full), false, &op).await.unwrap();
        let (id, _) = pupil_id(&d, "00001").await;

        let shrunk = d.import_snapshot(&snapshot(&without_pupil(&full, "00001")), false, &op).await.unwrap();
        assert_eq!(shrunk.pupils.removed, vec!["00001".to_owned()]);
        assert_eq!(pupil_id(&d, "00001").await, (id.clone(), false), "deactivated, not deleted");

        let back = d.import_snapshot(&snapshot(&full), false, &op).await.unwrap();
        assert_eq!(back.pupils.changed, vec!["00001".to_owned()]);
        assert_eq!(pupil_id(&d, "00001").await, (id, true), "the same identity, active again");
    }
}

on_both_backends! {
    async fn a_pupil_under_a_new_las_key_is_recognised_by_eck_id(d: Directory) {
        school_99zz00(&d).await;
        let op = Actor::operator_cli();
        let full = reference("edexml-2.1/EDEXML.Voorbeeld.2.1.xml");
        d.import_snapshot(&snapshot(&full), false, &op).await.unwrap();
        let (id, _) = pupil_id(&d, "00001").await;
        let renamed = full.replacen("<leerling key=\"00001\"", "<leerling key=\"N-00001\"", 1);
        let report = d.import_snapshot(&snapshot(&renamed), false, &op).await.unwrap();
        assert!(report.pupils.added.is_empty() && report.pupils.removed.is_empty(), "{report:?}");
        assert_eq!(pupil_id(&d, "N-00001").await, (id, true));
    }
}

on_both_backends! {
    async fn a_dry_run_shows_the_difference_and_changes_nothing(d: Directory) {
        school_99zz00(&d).await;
        let op = Actor::operator_cli();
        let full = reference("edexml-2.1/EDEXML.Voorbeeld.2.1.xml");
        let dry = d.import_snapshot(&snapshot(&full), true, &op).await.unwrap();
        assert!(!dry.applied && !dry.pupils.added.is_empty());
        let school = d.require_school(&SchoolCode::parse("99ZZ00").unwrap()).await.unwrap();
        assert!(d.pupils_of_school(&school.id).await.unwrap().is_empty());
        assert!(d.groups_of_school(&school.id).await.unwrap().is_empty());
        let real = d.import_snapshot(&snapshot(&full), false, &op).await.unwrap();
        assert_eq!((real.pupils.clone(), real.groups.clone()), (dry.pupils, dry.groups), "the dry run foretold the apply");
    }
}

on_both_backends! {
    async fn a_file_for_an_unknown_school_is_refused(d: Directory) {
        let file = snapshot(&reference("edexml-2.1/EDEXML.Voorbeeld.2.1.xml"));
        let err = d.import_snapshot(&file, false, &Actor::operator_cli()).await.unwrap_err();
        assert!(matches!(err, DirectoryError::NotFound { what: "school", .. }), "{err}");
    }
}

on_both_backends! {
    async fn group_memberships_are_reported_as_added_and_removed(d: Directory) {
        use directory::import::{MemberKind, Membership};
        school_99zz00(&d).await;
        let op = Actor::operator_cli();
        let full = reference("edexml-2.1/EDEXML.Voorbeeld.2.1.xml");
        let file = snapshot(&full);
        let first = d.import_snapshot(&file, false, &op).await.unwrap();
        let expected = file.pupils.iter().map(|p| p.stamgroep.iter().count() + p.combined_groups.len()).sum::<usize>()
            + file.teachers.iter().map(|t| t.groups.len() + t.combined_groups.len()).sum::<usize>();
        assert_eq!(first.memberships.added.len(), expected, "{:?}", first.memberships);
        assert!(first.memberships.added.contains(&Membership { kind: MemberKind::Pupil, member: "00001".into(), group: "sg2".into() }));
        assert!(first.memberships.removed.is_empty());
        let again = d.import_snapshot(&file, false, &op).await.unwrap();
        assert_eq!(again.memberships, Default::default(), "nothing moved");

        // Pupil 00001 leaves combined group sg2 and moves from GRP4B to GRP4A.
        let pupil = full.find("<leerling key=\"00001\"").unwrap();
        let (head, tail) = full.split_at(pupil);
        let moved = format!(
            "{head}{}",
            tail.replacen("<samengestelde_groep key=\"sg2\"/>", "", 1)
                .replacen("<groep key=\"GRP4B\"/>", "<groep key=\"GRP4A\"/>", 1)
        );
        let dry = d.import_snapshot(&snapshot(&moved), true, &op).await.unwrap();
        let pupil = |group: &str| Membership { kind: MemberKind::Pupil, member: "00001".into(), group: group.into() };
        assert_eq!(dry.memberships.added, vec![pupil("GRP4A")]);
        assert_eq!(dry.memberships.removed, vec![pupil("GRP4B"), pupil("sg2")]);
        let applied = d.import_snapshot(&snapshot(&moved), false, &op).await.unwrap();
        assert_eq!(applied.memberships, dry.memberships, "the dry run foretold the apply");
        let after = d.import_snapshot(&snapshot(&moved), true, &op).await.unwrap();
        assert_eq!(after.memberships, Default::default());
    }
}

/// Active pupils as (LAS key, achternaam, group keys), and active group keys.
type State = (Vec<(String, String, Vec<String>)>, Vec<String>);

/// The school's active pupils with their achternaam and groups (stamgroep and combined), and its
/// active groups: what a school's users see, to compare with what a file says.
async fn visible_state(d: &Directory) -> State {
    let school = d
        .require_school(&SchoolCode::parse("99ZZ00").unwrap())
        .await
        .unwrap();
    let mut pupils = Vec::new();
    for p in d.pupils_of_school(&school.id).await.unwrap() {
        if p.active {
            let mut groups = d.group_keys_of_pupil(&p.id).await.unwrap();
            groups.sort();
            pupils.push((p.las_key, p.achternaam, groups));
        }
    }
    pupils.sort();
    let mut groups: Vec<String> = d
        .groups_of_school(&school.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|g| g.active)
        .map(|g| g.las_key)
        .collect();
    groups.sort();
    (pupils, groups)
}

/// The state a file alone leaves behind, from a fresh register of the same backend.
fn expected_state(file: &Snapshot) -> State {
    let mut pupils: Vec<_> = file
        .pupils
        .iter()
        .map(|p| {
            let mut groups: Vec<String> = p
                .stamgroep
                .iter()
                .chain(&p.combined_groups)
                .map(|k| k.to_string())
                .collect();
            groups.sort();
            (
                p.key.to_string(),
                p.achternaam.clone().unwrap_or_default(),
                groups,
            )
        })
        .collect();
    pupils.sort();
    let mut groups: Vec<String> = file
        .groups
        .iter()
        .map(|g| g.key.to_string())
        .chain(file.combined_groups.iter().map(|g| g.key.to_string()))
        .collect();
    groups.sort();
    (pupils, groups)
}

on_both_backends! {
    async fn a_reimport_makes_group_memberships_exactly_those_of_the_file(d: Directory) {
        school_99zz00(&d).await;
        let op = Actor::operator_cli();
        let full = reference("edexml-2.1/EDEXML.Voorbeeld.2.1.xml");
        // An address for LK2, only to find them again below.
        let full = full.replacen("<roepnaam>Uilke</roepnaam>", "<roepnaam>Uilke</roepnaam><emailadres>u.veldman@school.example.nl</emailadres>", 1);
        d.import_snapshot(&snapshot(&full), false, &op).await.unwrap();
        // Pupil 00001 leaves sg2 and LK2 leaves group 001; the rest stays as it was.
        let lk2_groups = "<groep key=\"002\"/>\n\t\t\t\t<samengestelde_groep key=\"sg1\"/>\n\t\t\t\t<groep key=\"001\"/>";
        assert!(full.contains(lk2_groups));
        let changed = full
            .replacen("<samengestelde_groep key=\"sg2\"/>", "", 1)
            .replacen(lk2_groups, "<groep key=\"002\"/><samengestelde_groep key=\"sg1\"/>", 1);
        let file = snapshot(&changed);
        d.import_snapshot(&file, false, &op).await.unwrap();
        assert_eq!(visible_state(&d).await, expected_state(&file));
        let lk2 = d.staff_by_email(&Email::parse("u.veldman@school.example.nl").unwrap()).await.unwrap().unwrap();
        let mut staff_groups: Vec<String> = d.groups_of_staff(&lk2.id).await.unwrap().into_iter().map(|g| g.las_key).collect();
        staff_groups.sort();
        assert_eq!(staff_groups, ["002", "sg1", "sg2", "sg3"]);
        // And back: the memberships return.
        let file = snapshot(&full);
        d.import_snapshot(&file, false, &op).await.unwrap();
        assert_eq!(visible_state(&d).await, expected_state(&file));
    }
}

on_both_backends! {
    async fn concurrent_imports_of_one_school_both_apply_one_after_the_other(d: Directory) {
        school_99zz00(&d).await;
        let op = Actor::operator_cli();
        let full = reference("edexml-2.1/EDEXML.Voorbeeld.2.1.xml");
        let a = snapshot(&full);
        let b = snapshot(&without_pupil(&full, "00002").replace("<achternaam>Hof</achternaam>", "<achternaam>Hofman</achternaam>"));
        let (want_a, want_b) = (expected_state(&a), expected_state(&b));
        assert_ne!(want_a, want_b);
        // From an empty school (both would insert the same keys) and then from each state.
        for round in 0..6 {
            let (first, second) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
            let (r1, r2) = tokio::join!(
                d.import_snapshot(first, false, &op),
                d.import_snapshot(second, false, &op),
            );
            r1.unwrap_or_else(|e| panic!("round {round}, first import: {e}"));
            r2.unwrap_or_else(|e| panic!("round {round}, second import: {e}"));
            let state = visible_state(&d).await;
            assert!(state == want_a || state == want_b, "round {round}: a mix of both files: {state:?}");
        }
    }
}

/// The example file with e-mail addresses for teachers LK1 (Julia van Bemmel) and LK2 (Uilke
/// Veldman), to find them by.
fn with_teacher_emails(xml: &str) -> String {
    xml.replacen(
        "<roepnaam>Julia</roepnaam>",
        "<roepnaam>Julia</roepnaam><emailadres>julia@school.nl</emailadres>",
        1,
    )
    .replacen(
        "<roepnaam>Uilke</roepnaam>",
        "<roepnaam>Uilke</roepnaam><emailadres>uilke@school.nl</emailadres>",
        1,
    )
}

/// The file without the teacher with this key.
fn without_teacher(xml: &str, key: &str) -> String {
    let start = xml
        .find(&format!("<leerkracht key=\"{key}\""))
        .expect("teacher in file");
    let end = xml[start..].find("</leerkracht>").unwrap() + start + "</leerkracht>".len();
    format!("{}{}", &xml[..start], &xml[end..])
}

async fn staff_id(d: &Directory, email: &str) -> String {
    d.staff_by_email(&Email::parse(email).unwrap())
        .await
        .unwrap()
        .expect("staff member")
        .id
}

/// Where the staff member is known, as (school id, member, sorted role names, group keys there).
async fn standing(
    d: &Directory,
    staff: &str,
) -> Vec<(String, bool, Vec<&'static str>, Vec<String>)> {
    let groups = d.groups_of_staff(staff).await.unwrap();
    let mut out = Vec::new();
    for at in d.schools_of_staff(staff).await.unwrap() {
        let mut roles: Vec<&'static str> = at.roles.iter().map(|r| r.as_str()).collect();
        roles.sort();
        let mut keys: Vec<String> = groups
            .iter()
            .filter(|g| g.school_id == at.school_id)
            .map(|g| g.las_key.clone())
            .collect();
        keys.sort();
        out.push((at.school_id, at.member, roles, keys));
    }
    out
}

on_both_backends! {
    async fn a_teacher_removed_by_an_import_loses_the_imported_role_and_groups_and_keeps_hand_granted_roles(d: Directory) {
        school_99zz00(&d).await;
        let op = Actor::operator_cli();
        let school = d.require_school(&SchoolCode::parse("99ZZ00").unwrap()).await.unwrap().id;
        let full = with_teacher_emails(&reference("edexml-2.1/EDEXML.Voorbeeld.2.1.xml"));
        d.import_snapshot(&snapshot(&full), false, &op).await.unwrap();
        let (julia, uilke) = (staff_id(&d, "julia@school.nl").await, staff_id(&d, "uilke@school.nl").await);
        // The school's own choice, not the LAS's: Uilke is also the intern begeleider.
        d.grant_role(&uilke, &school, StaffRole::Ib, &op).await.unwrap();
        let uilke_groups: Vec<String> = ["001", "002", "sg1", "sg2", "sg3"].map(String::from).to_vec();
        assert_eq!(standing(&d, &uilke).await, vec![(school.clone(), true, vec!["ib", "leerkracht"], uilke_groups.clone())]);
        assert_eq!(standing(&d, &julia).await, vec![(school.clone(), true, vec!["leerkracht"], vec!["GRP4A".into()])]);
        let epochs = (d.staff_session_state(&julia).await.unwrap().unwrap().1, d.staff_session_state(&uilke).await.unwrap().unwrap().1);

        let gone = without_teacher(&without_teacher(&full, "LK1"), "LK2");
        let report = d.import_snapshot(&snapshot(&gone), false, &op).await.unwrap();
        assert_eq!(report.staff.removed, vec!["LK1".to_owned(), "LK2".to_owned()]);
        assert_eq!(standing(&d, &julia).await, vec![], "no role, no group, no school left from the LAS");
        assert_eq!(standing(&d, &uilke).await, vec![(school.clone(), false, vec!["ib"], vec![])],
                   "the hand-granted role stays; the leerkracht role and the groups went with the LAS");
        assert!(d.staff_session_state(&julia).await.unwrap().unwrap().1 > epochs.0, "sessions and tokens end");
        assert!(d.staff_session_state(&uilke).await.unwrap().unwrap().1 > epochs.1, "sessions and tokens end");

        // Back in the LAS: leerkracht and the groups again, the same identity.
        let back = d.import_snapshot(&snapshot(&full), false, &op).await.unwrap();
        assert_eq!(back.staff.changed, vec!["LK1".to_owned(), "LK2".to_owned()]);
        assert_eq!(standing(&d, &uilke).await, vec![(school.clone(), true, vec!["ib", "leerkracht"], uilke_groups)]);
        assert_eq!(standing(&d, &julia).await, vec![(school, true, vec!["leerkracht"], vec!["GRP4A".into()])]);
    }
}

on_both_backends! {
    async fn a_dry_run_removal_keeps_the_teachers_role_and_groups(d: Directory) {
        school_99zz00(&d).await;
        let op = Actor::operator_cli();
        let full = with_teacher_emails(&reference("edexml-2.1/EDEXML.Voorbeeld.2.1.xml"));
        d.import_snapshot(&snapshot(&full), false, &op).await.unwrap();
        let julia = staff_id(&d, "julia@school.nl").await;
        let before = standing(&d, &julia).await;
        let dry = d.import_snapshot(&snapshot(&without_teacher(&full, "LK1")), true, &op).await.unwrap();
        assert_eq!(dry.staff.removed, vec!["LK1".to_owned()]);
        assert_eq!(standing(&d, &julia).await, before);
    }
}

on_both_backends! {
    async fn an_import_does_not_invite_a_deactivated_teacher(d: Directory) {
        use directory::people::{NewStaff, StaffStatus};
        school_99zz00(&d).await;
        let op = Actor::operator_cli();
        let school = d.require_school(&SchoolCode::parse("99ZZ00").unwrap()).await.unwrap().id;
        // Known under LAS key LK2 without an address, then deactivated; the LAS now lists an address.
        let uilke = d.create_staff(&NewStaff {
            email: None, achternaam: "Veldman".into(), voorvoegsel: None, voornamen: None,
            roepnaam: Some("Uilke".into()), eck_id: None,
        }, &op).await.unwrap().id;
        d.add_staff_to_school(&uilke, &school, Some(&LasKey::parse("LK2").unwrap()), &op).await.unwrap();
        d.set_staff_status(&uilke, StaffStatus::Deactivated, &op).await.unwrap();
        let full = with_teacher_emails(&reference("edexml-2.1/EDEXML.Voorbeeld.2.1.xml"));
        let report = d.import_snapshot(&snapshot(&full), false, &op).await.unwrap();
        assert_eq!(staff_id(&d, "uilke@school.nl").await, uilke, "the same person");
        let julia = staff_id(&d, "julia@school.nl").await;
        assert_eq!(report.to_invite, vec![julia], "a deactivated teacher is not invited by the LAS");
        assert_eq!(d.staff_by_id(&uilke).await.unwrap().unwrap().status, StaffStatus::Deactivated);
    }
}
