//! One-time links and session epochs, on SQLite and PostgreSQL.

use directory::credentials::TokenPurpose;
use directory::model::Email;
use directory::people::{NewStaff, StaffStatus};
use directory::{Actor, Directory, on_both_backends};

async fn teacher(d: &Directory) -> String {
    d.create_staff(
        &NewStaff {
            email: Some(Email::parse("juf@school.nl").unwrap()),
            achternaam: "Jansen".into(),
            voorvoegsel: None,
            voornamen: None,
            roepnaam: Some("Anna".into()),
            eck_id: None,
        },
        &Actor::operator_cli(),
    )
    .await
    .unwrap()
    .id
}

on_both_backends! {
    async fn activation_link_sets_the_password_once_and_activates(d: Directory) {
        let id = teacher(&d).await;
        d.issue_staff_token(&id, TokenPurpose::Activation, "hash-1", 7 * 86_400, &Actor::operator_cli()).await.unwrap();
        assert_eq!(d.staff_token_owner("hash-1", TokenPurpose::Activation).await.unwrap().as_deref(), Some(id.as_str()));
        assert_eq!(d.staff_token_owner("hash-1", TokenPurpose::Reset).await.unwrap(), None, "purpose is part of the link");

        let (a, b) = tokio::join!(
            d.set_password_with_token("hash-1", TokenPurpose::Activation, "$argon2id$first"),
            d.set_password_with_token("hash-1", TokenPurpose::Activation, "$argon2id$second"),
        );
        let winners = [a.unwrap(), b.unwrap()].into_iter().flatten().count();
        assert_eq!(winners, 1, "a link works exactly once, also when used twice at the same moment");
        let login = d.staff_login(&Email::parse("juf@school.nl").unwrap()).await.unwrap().unwrap();
        assert_eq!(login.staff.status, StaffStatus::Active);
        assert!(login.password_hash.unwrap().starts_with("$argon2id$"));
        assert!(d.staff_token_owner("hash-1", TokenPurpose::Activation).await.unwrap().is_none());
    }
}

on_both_backends! {
    async fn expired_link_does_nothing(d: Directory) {
        let id = teacher(&d).await;
        d.issue_staff_token(&id, TokenPurpose::Activation, "old", -1, &Actor::operator_cli()).await.unwrap();
        assert!(d.staff_token_owner("old", TokenPurpose::Activation).await.unwrap().is_none());
        assert!(d.set_password_with_token("old", TokenPurpose::Activation, "$argon2id$x").await.unwrap().is_none());
        let login = d.staff_login(&Email::parse("juf@school.nl").unwrap()).await.unwrap().unwrap();
        assert_eq!(login.staff.status, StaffStatus::Inactive);
        assert!(login.password_hash.is_none());
    }
}

on_both_backends! {
    async fn a_newer_link_voids_the_older_one(d: Directory) {
        let id = teacher(&d).await;
        d.issue_staff_token(&id, TokenPurpose::Activation, "first", 3_600, &Actor::operator_cli()).await.unwrap();
        d.issue_staff_token(&id, TokenPurpose::Activation, "second", 3_600, &Actor::operator_cli()).await.unwrap();
        assert!(d.staff_token_owner("first", TokenPurpose::Activation).await.unwrap().is_none());
        assert!(d.staff_token_owner("second", TokenPurpose::Activation).await.unwrap().is_some());
    }
}

on_both_backends! {
    async fn reset_link_does_not_revive_a_deactivated_account(d: Directory) {
        let id = teacher(&d).await;
        d.set_password(&id, "$argon2id$old", &Actor::operator_cli()).await.unwrap();
        d.issue_staff_token(&id, TokenPurpose::Reset, "reset", 3_600, &Actor::operator_cli()).await.unwrap();
        assert!(d.set_password_with_token("reset", TokenPurpose::Reset, "$argon2id$new").await.unwrap().is_none());
        let login = d.staff_login(&Email::parse("juf@school.nl").unwrap()).await.unwrap().unwrap();
        assert_eq!(login.password_hash.as_deref(), Some("$argon2id$old"));
    }
}

on_both_backends! {
    async fn password_change_and_logout_everywhere_move_the_session_epoch(d: Directory) {
        let id = teacher(&d).await;
        let (_, e0) = d.staff_session_state(&id).await.unwrap().unwrap();
        let e1 = d.set_password(&id, "$argon2id$a", &Actor::operator_cli()).await.unwrap();
        assert!(e1 > e0);
        let e2 = d.bump_session_epoch(&id, &Actor::staff(&id)).await.unwrap();
        assert!(e2 > e1);
        assert_eq!(d.staff_session_state(&id).await.unwrap().unwrap().1, e2);
        d.set_staff_status(&id, StaffStatus::Active, &Actor::operator_cli()).await.unwrap();
        d.issue_staff_token(&id, TokenPurpose::Reset, "r", 3_600, &Actor::operator_cli()).await.unwrap();
        d.set_password_with_token("r", TokenPurpose::Reset, "$argon2id$b").await.unwrap().unwrap();
        assert!(d.staff_session_state(&id).await.unwrap().unwrap().1 > e2, "a reset ends every session");
    }
}
