//! A school's staff as its administrator manages them, each on SQLite and on PostgreSQL.

mod common;

use common::{op, school};
use directory::credentials::TokenPurpose;
use directory::model::*;
use directory::people::{GroupKind, NewGroup, NewStaff, Staff};
use directory::schools::School;
use directory::{Actor, Directory, DirectoryError, on_both_backends};

async fn person(d: &Directory, s: &School, email: &str, achternaam: &str) -> Staff {
    let staff = d
        .create_staff(
            &NewStaff {
                email: Some(Email::parse(email).unwrap()),
                achternaam: achternaam.into(),
                voorvoegsel: None,
                voornamen: None,
                roepnaam: Some("Kim".into()),
                eck_id: None,
            },
            &op(),
        )
        .await
        .unwrap();
    d.add_staff_to_school(&staff.id, &s.id, None, &op())
        .await
        .unwrap();
    staff
}

async fn group(d: &Directory, s: &School, key: &str) -> String {
    d.create_group(
        &s.id,
        &NewGroup {
            las_key: LasKey::parse(key).unwrap(),
            name: format!("Groep {key}"),
            kind: GroupKind::Stamgroep,
            jaargroep: Some(Jaargroep::parse("5").unwrap()),
        },
        &op(),
    )
    .await
    .unwrap()
    .id
}

fn date(days_from_today: i64) -> Date {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    Date::in_netherlands(now + days_from_today * 86_400)
}

on_both_backends! {
    async fn the_staff_list_shows_roles_links_and_other_schools_of_this_schools_people_only(d: Directory) {
        let here = school(&d, "00").await;
        let there = school(&d, "01").await;
        let g = group(&d, &here, "g5").await;
        let kim = person(&d, &here, "kim@school.nl", "Bakker").await;
        d.grant_role(&kim.id, &here.id, StaffRole::Ib, &op()).await.unwrap();
        d.grant_role(&kim.id, &there.id, StaffRole::Rt, &op()).await.unwrap();
        d.link_staff_group(&kim.id, &here.id, &g, None, Some(&date(3)), &op()).await.unwrap();
        let elsewhere = person(&d, &there, "lou@school.nl", "Aalbers").await;
        // An invalkracht linked to a group only still belongs to the school.
        let sub = d.create_staff(&NewStaff {
            email: None, achternaam: "Claes".into(), voorvoegsel: None, voornamen: None,
            roepnaam: None, eck_id: None,
        }, &op()).await.unwrap();
        d.link_staff_group(&sub.id, &here.id, &g, Some(&date(-1)), Some(&date(1)), &op()).await.unwrap();

        let list = d.staff_of_school(&here.id).await.unwrap();
        let names: Vec<&str> = list.iter().map(|m| m.staff.achternaam.as_str()).collect();
        assert_eq!(names, ["Bakker", "Claes"], "by surname, nobody of the other school");
        assert!(list[0].member && list[0].las_key.is_none());
        assert_eq!(list[0].roles, [StaffRole::Ib]);
        assert_eq!(list[0].groups[0].group.id, g);
        assert_eq!(list[0].groups[0].valid_until.as_deref(), Some(date(3).as_str()));
        assert_eq!(list[0].other_schools, vec![there.id.clone()]);
        assert!(!list[1].member && list[1].other_schools.is_empty());
        assert!(d.staff_belongs_to_school(&sub.id, &here.id).await.unwrap());
        assert!(!d.staff_belongs_to_school(&elsewhere.id, &here.id).await.unwrap());
    }
}

on_both_backends! {
    async fn a_group_link_for_a_period_grants_the_group_only_within_it(d: Directory) {
        let s = school(&d, "00").await;
        let g = group(&d, &s, "g5").await;
        let kim = person(&d, &s, "kim@school.nl", "Bakker").await;
        let cases = [
            (None, None, true),
            (Some(date(-2)), Some(date(0)), true),
            (Some(date(0)), Some(date(0)), true),
            (Some(date(-5)), Some(date(-1)), false),
            (Some(date(1)), Some(date(4)), false),
            (None, Some(date(-1)), false),
            (Some(date(1)), None, false),
        ];
        let count = cases.len();
        for (from, until, holds) in cases {
            d.link_staff_group(&kim.id, &s.id, &g, from.as_ref(), until.as_ref(), &op()).await.unwrap();
            let groups = d.groups_of_staff(&kim.id).await.unwrap();
            assert_eq!(groups.iter().any(|x| x.id == g), holds, "{from:?} .. {until:?}");
            let link = &d.staff_of_school(&s.id).await.unwrap()[0].groups[0];
            assert_eq!(link.holds_on(&date(0)), holds, "the list agrees");
        }
        d.unlink_staff_group(&kim.id, &s.id, &g, &op()).await.unwrap();
        assert!(d.staff_of_school(&s.id).await.unwrap()[0].groups.is_empty());
        let again = d.unlink_staff_group(&kim.id, &s.id, &g, &op()).await.unwrap_err();
        assert!(matches!(again, DirectoryError::NotFound { .. }), "{again}");
        let actions: Vec<String> = d.audit_of_school(&s.id, 20).await.unwrap()
            .into_iter().map(|e| e.action).collect();
        assert_eq!(actions.iter().filter(|a| *a == "staff.group.assign").count(), count);
        assert!(actions.contains(&"staff.group.unassign".to_owned()));
    }
}

on_both_backends! {
    async fn a_group_of_another_school_cannot_be_linked(d: Directory) {
        let here = school(&d, "00").await;
        let there = school(&d, "01").await;
        let theirs = group(&d, &there, "g5").await;
        let kim = person(&d, &here, "kim@school.nl", "Bakker").await;
        let err = d.link_staff_group(&kim.id, &here.id, &theirs, None, None, &op()).await.unwrap_err();
        assert!(matches!(err, DirectoryError::NotFound { what: "groep", .. }), "{err}");
        assert!(d.groups_of_staff(&kim.id).await.unwrap().is_empty());
    }
}

on_both_backends! {
    async fn the_last_ict_coordinator_keeps_the_role(d: Directory) {
        let s = school(&d, "00").await;
        let kim = person(&d, &s, "kim@school.nl", "Bakker").await;
        let lou = person(&d, &s, "lou@school.nl", "Aalbers").await;
        for p in [&kim, &lou] {
            d.grant_role(&p.id, &s.id, StaffRole::IctCoordinator, &op()).await.unwrap();
        }
        d.revoke_role_keeping_an_administrator(&kim.id, &s.id, StaffRole::IctCoordinator, &op()).await.unwrap();
        let err = d.revoke_role_keeping_an_administrator(&lou.id, &s.id, StaffRole::IctCoordinator, &op()).await.unwrap_err();
        assert!(matches!(err, DirectoryError::Conflict { .. }), "{err}");
        assert_eq!(d.administrators_of(&s.id).await.unwrap()[0].id, lou.id);
        // Other roles may go to the last one.
        d.grant_role(&lou.id, &s.id, StaffRole::Ib, &op()).await.unwrap();
        d.revoke_role_keeping_an_administrator(&lou.id, &s.id, StaffRole::Ib, &op()).await.unwrap();
    }
}

on_both_backends! {
    async fn two_ict_coordinators_removing_each_other_at_once_leave_one(d: Directory) {
        let s = school(&d, "00").await;
        for round in 0..5 {
            let kim = person(&d, &s, &format!("kim{round}@school.nl"), "Bakker").await;
            let lou = person(&d, &s, &format!("lou{round}@school.nl"), "Aalbers").await;
            for p in [&kim, &lou] {
                d.grant_role(&p.id, &s.id, StaffRole::IctCoordinator, &op()).await.unwrap();
            }
            let (by_lou, by_kim) = (Actor::staff(&lou.id), Actor::staff(&kim.id));
            let (a, b) = tokio::join!(
                d.revoke_role_keeping_an_administrator(&kim.id, &s.id, StaffRole::IctCoordinator, &by_lou),
                d.revoke_role_keeping_an_administrator(&lou.id, &s.id, StaffRole::IctCoordinator, &by_kim),
            );
            assert!(a.is_ok() != b.is_ok(), "exactly one succeeds: {a:?} {b:?}");
            let left = d.administrators_of(&s.id).await.unwrap();
            assert_eq!(left.len(), 1, "round {round}");
            d.revoke_role(&left[0].id, &s.id, StaffRole::IctCoordinator, &op()).await.unwrap();
        }
    }
}

on_both_backends! {
    async fn a_new_address_voids_the_links_mailed_before_and_is_unique(d: Directory) {
        let s = school(&d, "00").await;
        let kim = person(&d, &s, "kim@school.nl", "Bakker").await;
        person(&d, &s, "lou@school.nl", "Aalbers").await;
        d.issue_staff_token(&kim.id, TokenPurpose::Activation, "h1", 600, &op()).await.unwrap();
        let new = Email::parse("Kim.Bakker@School.nl").unwrap();
        d.set_staff_email(&kim.id, &s.id, &new, &op()).await.unwrap();
        assert_eq!(d.staff_by_id(&kim.id).await.unwrap().unwrap().email.as_deref(), Some("kim.bakker@school.nl"));
        assert_eq!(d.staff_token_owner("h1", TokenPurpose::Activation).await.unwrap(), None);
        let taken = Email::parse("lou@school.nl").unwrap();
        let err = d.set_staff_email(&kim.id, &s.id, &taken, &op()).await.unwrap_err();
        assert!(matches!(err, DirectoryError::Duplicate { .. }), "{err}");
        let audit = d.audit_of_school(&s.id, 5).await.unwrap();
        assert!(audit.iter().any(|e| e.action == "staff.email.set" && e.subject.as_deref() == Some(kim.id.as_str())));
    }
}
