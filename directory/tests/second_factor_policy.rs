//! Who must have a second factor (a school's policy, the operator's default), an
//! administrator's reset, renewed recovery codes and single-use authenticator codes held in the
//! register (issue #21), each on SQLite and on PostgreSQL.

mod common;

use certs::Kek;
use common::{op, school};
use directory::model::*;
use directory::people::NewStaff;
use directory::schools::School;
use directory::second_factor::{SecondFactorPolicy, TotpSecret};
use directory::{Actor, Directory, on_both_backends};

use SecondFactorPolicy::{AllStaff, Managers};

async fn person(d: &Directory, s: &School, email: &str) -> String {
    let staff = d
        .create_staff(
            &NewStaff {
                email: Some(Email::parse(email).unwrap()),
                achternaam: "Jansen".into(),
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
    staff.id
}

async fn enrol(d: &Directory, staff_id: &str, kek: &Kek) {
    let hashes: Vec<String> = (0..10).map(|i| format!("{staff_id}-{i}")).collect();
    d.enrol_totp(
        staff_id,
        &TotpSecret::new(b"12345678901234567890".to_vec()),
        kek,
        &hashes,
        &Actor::staff(staff_id),
    )
    .await
    .unwrap();
}

async fn actions(d: &Directory, subject: &str, action: &str) -> Vec<directory::audit::AuditEntry> {
    d.audit_of_subject(subject, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == action)
        .collect()
}

on_both_backends! {
    async fn a_schools_policy_decides_who_must_have_a_second_factor_and_the_default_fills_in(d: Directory) {
        let s = school(&d, "00").await;
        let teacher = person(&d, &s, "juf@school.nl").await;
        let ict = person(&d, &s, "ict@school.nl").await;
        d.grant_role(&ict, &s.id, StaffRole::IctCoordinator, &op()).await.unwrap();
        let none = SecondFactorPolicy::None;

        // No policy of its own: the operator's default decides.
        assert_eq!(d.school_second_factor_policy(&s.id).await.unwrap(), None);
        assert!(!d.second_factor_required(&teacher, none).await.unwrap());
        assert!(!d.second_factor_required(&ict, none).await.unwrap());
        assert!(!d.second_factor_required(&teacher, Managers).await.unwrap());
        assert!(d.second_factor_required(&ict, Managers).await.unwrap());
        assert!(d.second_factor_required(&teacher, AllStaff).await.unwrap());

        // The school's own policy overrides the default, either way.
        let by = Actor::staff(&ict);
        d.set_school_second_factor_policy(&s.id, Some(Managers), &by).await.unwrap();
        assert_eq!(d.school_second_factor_policy(&s.id).await.unwrap(), Some(Managers));
        assert!(d.second_factor_required(&ict, none).await.unwrap());
        assert!(!d.second_factor_required(&teacher, AllStaff).await.unwrap(), "the school's own choice wins");
        d.set_school_second_factor_policy(&s.id, Some(AllStaff), &by).await.unwrap();
        assert!(d.second_factor_required(&teacher, none).await.unwrap());
        d.set_school_second_factor_policy(&s.id, Some(SecondFactorPolicy::None), &by).await.unwrap();
        assert!(!d.second_factor_required(&ict, AllStaff).await.unwrap());
        d.set_school_second_factor_policy(&s.id, None, &by).await.unwrap();
        assert_eq!(d.school_second_factor_policy(&s.id).await.unwrap(), None);

        let set = actions(&d, &s.id, "school.second_factor_policy.set").await;
        assert_eq!(set.len(), 4);
        assert_eq!(set[0].actor, format!("staff:{ict}"));
        assert_eq!(set[0].school_id.as_deref(), Some(s.id.as_str()));
    }
}

on_both_backends! {
    async fn any_school_of_a_staff_member_that_requires_a_factor_requires_it(d: Directory) {
        let a = school(&d, "00").await;
        let b = school(&d, "01").await;
        let teacher = person(&d, &a, "juf@school.nl").await;
        d.add_staff_to_school(&teacher, &b.id, None, &op()).await.unwrap();
        d.set_school_second_factor_policy(&b.id, Some(AllStaff), &op()).await.unwrap();
        assert!(d.second_factor_required(&teacher, SecondFactorPolicy::None).await.unwrap());
        // A manager's role at one school does not make them a manager at the other.
        d.set_school_second_factor_policy(&b.id, Some(Managers), &op()).await.unwrap();
        d.grant_role(&teacher, &a.id, StaffRole::IctCoordinator, &op()).await.unwrap();
        assert!(!d.second_factor_required(&teacher, SecondFactorPolicy::None).await.unwrap());
        d.set_school_second_factor_policy(&a.id, Some(Managers), &op()).await.unwrap();
        assert!(d.second_factor_required(&teacher, SecondFactorPolicy::None).await.unwrap());
    }
}

on_both_backends! {
    async fn a_totp_step_is_accepted_once_and_never_an_older_one_after_it(d: Directory) {
        let kek = Kek::generate();
        let s = school(&d, "00").await;
        let teacher = person(&d, &s, "juf@school.nl").await;
        assert!(!d.accept_totp_step(&teacher, 100).await.unwrap(), "no authenticator");
        enrol(&d, &teacher, &kek).await;
        let (x, y) = tokio::join!(d.accept_totp_step(&teacher, 100), d.accept_totp_step(&teacher, 100));
        assert_eq!([x.unwrap(), y.unwrap()].iter().filter(|ok| **ok).count(), 1, "one of two at once");
        assert!(!d.accept_totp_step(&teacher, 100).await.unwrap(), "used");
        assert!(!d.accept_totp_step(&teacher, 99).await.unwrap(), "older than one used");
        assert!(d.accept_totp_step(&teacher, 101).await.unwrap());
    }
}

on_both_backends! {
    async fn the_code_that_confirms_a_set_up_is_spent_with_it(d: Directory) {
        let kek = Kek::generate();
        let s = school(&d, "00").await;
        let teacher = person(&d, &s, "juf@school.nl").await;
        d.enrol_totp_confirmed(&teacher, &TotpSecret::new(b"12345678901234567890".to_vec()), &kek, &[], Some(500), &Actor::staff(&teacher))
            .await
            .unwrap();
        assert!(!d.accept_totp_step(&teacher, 500).await.unwrap());
        assert!(d.accept_totp_step(&teacher, 501).await.unwrap());
    }
}

on_both_backends! {
    async fn a_reset_removes_the_factor_ends_the_sessions_and_is_audited_with_the_administrator(d: Directory) {
        let kek = Kek::generate();
        let s = school(&d, "00").await;
        let teacher = person(&d, &s, "juf@school.nl").await;
        let ict = person(&d, &s, "ict@school.nl").await;
        let by = Actor::staff(&ict);
        assert!(!d.reset_second_factor(&teacher, Some(&s.id), &by).await.unwrap(), "nothing to reset");
        assert!(actions(&d, &teacher, "staff.second_factor.reset").await.is_empty());

        enrol(&d, &teacher, &kek).await;
        assert!(d.staff_has_second_factor(&teacher).await.unwrap());
        assert_eq!(d.school_staff_with_second_factor(&s.id).await.unwrap().into_iter().collect::<Vec<_>>(), vec![teacher.clone()]);
        let (_, epoch) = d.staff_session_state(&teacher).await.unwrap().unwrap();

        d.register_passkey(&teacher, "cred-juf", "{}", "laptop", &Actor::staff(&teacher)).await.unwrap();
        assert_eq!(d.staff_factors(&teacher).await.unwrap().passkeys, 1);

        assert!(d.reset_second_factor(&teacher, Some(&s.id), &by).await.unwrap());
        assert!(!d.staff_has_second_factor(&teacher).await.unwrap());
        assert_eq!(d.staff_factors(&teacher).await.unwrap().passkeys, 0, "the passkeys went with it");
        assert!(d.school_staff_with_second_factor(&s.id).await.unwrap().is_empty());
        let hash = format!("{teacher}-1");
        assert_eq!(d.use_recovery_code(&teacher, &hash, &Actor::staff(&teacher)).await.unwrap(), None, "the codes went with it");
        let (_, after) = d.staff_session_state(&teacher).await.unwrap().unwrap();
        assert!(after > epoch, "the teacher's sessions end");
        let reset = actions(&d, &teacher, "staff.second_factor.reset").await;
        assert_eq!(reset.len(), 1);
        assert_eq!(reset[0].actor, format!("staff:{ict}"));
        assert_eq!(reset[0].school_id.as_deref(), Some(s.id.as_str()));
        assert!(!reset[0].details.to_string().contains("12345678901234567890"));
    }
}

on_both_backends! {
    async fn a_reset_of_someone_with_only_a_passkey_removes_it(d: Directory) {
        let s = school(&d, "00").await;
        let teacher = person(&d, &s, "juf@school.nl").await;
        let ict = person(&d, &s, "ict@school.nl").await;
        d.register_passkey(&teacher, "cred-juf", "{}", "telefoon", &Actor::staff(&teacher)).await.unwrap();
        assert!(d.staff_has_second_factor(&teacher).await.unwrap());
        assert_eq!(d.school_staff_with_second_factor(&s.id).await.unwrap().into_iter().collect::<Vec<_>>(), vec![teacher.clone()]);

        assert!(d.reset_second_factor(&teacher, Some(&s.id), &Actor::staff(&ict)).await.unwrap());
        assert!(!d.staff_has_second_factor(&teacher).await.unwrap());
        assert!(d.school_staff_with_second_factor(&s.id).await.unwrap().is_empty());
        let reset = actions(&d, &teacher, "staff.second_factor.reset").await;
        assert_eq!(reset.len(), 1);
        assert_eq!(reset[0].details["passkeys"], 1);
    }
}

on_both_backends! {
    async fn renewed_recovery_codes_replace_every_old_one(d: Directory) {
        let kek = Kek::generate();
        let s = school(&d, "00").await;
        let teacher = person(&d, &s, "juf@school.nl").await;
        let me = Actor::staff(&teacher);
        let fresh: Vec<String> = (0..10).map(|i| format!("new-{i}")).collect();
        assert!(!d.renew_recovery_codes(&teacher, &fresh, &me).await.unwrap(), "no authenticator");
        enrol(&d, &teacher, &kek).await;
        let old = format!("{teacher}-1");
        d.use_recovery_code(&teacher, &format!("{teacher}-2"), &me).await.unwrap().unwrap();
        assert!(d.renew_recovery_codes(&teacher, &fresh, &me).await.unwrap());
        assert_eq!(d.staff_second_factor(&teacher).await.unwrap().unwrap().recovery_codes_left, 10);
        assert_eq!(d.use_recovery_code(&teacher, &old, &me).await.unwrap(), None, "old codes are void");
        assert_eq!(d.use_recovery_code(&teacher, "new-3", &me).await.unwrap(), Some(9));
        assert_eq!(actions(&d, &teacher, "staff.second_factor.recovery_codes_renewed").await.len(), 1);
    }
}
