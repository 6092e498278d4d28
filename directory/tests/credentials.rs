//! One-time links, session epochs and second factors (issue #21), on SQLite and PostgreSQL.

use certs::Kek;
use directory::credentials::TokenPurpose;
use directory::model::Email;
use directory::people::{NewStaff, StaffStatus};
use directory::second_factor::TotpSecret;
use directory::{Actor, Directory, DirectoryError, on_both_backends};

async fn teacher(d: &Directory) -> String {
    staff_member(d, "juf@school.nl").await
}

async fn staff_member(d: &Directory, email: &str) -> String {
    d.create_staff(
        &NewStaff {
            email: Some(Email::parse(email).unwrap()),
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

on_both_backends! {
    async fn deactivation_voids_every_outstanding_activation_and_reset_link(d: Directory) {
        let op = Actor::operator_cli();
        let id = teacher(&d).await;
        d.issue_staff_token(&id, TokenPurpose::Activation, "activation", 7 * 86_400, &op).await.unwrap();
        d.issue_staff_token(&id, TokenPurpose::Reset, "reset", 3_600, &op).await.unwrap();
        d.set_staff_status(&id, StaffStatus::Deactivated, &op).await.unwrap();

        assert!(d.staff_token_owner("activation", TokenPurpose::Activation).await.unwrap().is_none());
        assert!(d.staff_token_owner("reset", TokenPurpose::Reset).await.unwrap().is_none());
        assert!(d.set_password_with_token("activation", TokenPurpose::Activation, "$argon2id$x").await.unwrap().is_none(),
                "an activation link from before the deactivation does not activate");
        let login = d.staff_login(&Email::parse("juf@school.nl").unwrap()).await.unwrap().unwrap();
        assert_eq!(login.staff.status, StaffStatus::Deactivated);
        assert!(login.password_hash.is_none());
    }
}

on_both_backends! {
    async fn a_deactivated_account_gets_no_new_link_and_is_not_switched_on_again(d: Directory) {
        let op = Actor::operator_cli();
        let id = teacher(&d).await;
        d.set_password(&id, "$argon2id$old", &op).await.unwrap();
        d.set_staff_status(&id, StaffStatus::Active, &op).await.unwrap();
        d.set_staff_status(&id, StaffStatus::Deactivated, &op).await.unwrap();

        for purpose in [TokenPurpose::Activation, TokenPurpose::Reset] {
            let err = d.issue_staff_token(&id, purpose, "new", 3_600, &op).await.unwrap_err();
            assert!(matches!(err, DirectoryError::Conflict { .. }), "{err}");
            assert!(err.to_string().contains("gedeactiveerd"), "{err}");
        }
        assert!(d.staff_token_owner("new", TokenPurpose::Activation).await.unwrap().is_none(), "the refusal wrote nothing");
        let err = d.set_staff_status(&id, StaffStatus::Active, &op).await.unwrap_err();
        assert!(matches!(err, DirectoryError::Conflict { .. }), "{err}");
        assert_eq!(d.staff_by_id(&id).await.unwrap().unwrap().status, StaffStatus::Deactivated);
    }
}

on_both_backends! {
    async fn only_a_reinvite_brings_a_deactivated_account_back(d: Directory) {
        let op = Actor::operator_cli();
        let id = teacher(&d).await;
        d.set_password(&id, "$argon2id$old", &op).await.unwrap();
        d.set_staff_status(&id, StaffStatus::Active, &op).await.unwrap();
        assert!(!d.reinstate_staff(&id, &op).await.unwrap(), "an active account is not reinstated");
        let epoch = d.staff_session_state(&id).await.unwrap().unwrap().1;
        d.set_staff_status(&id, StaffStatus::Deactivated, &op).await.unwrap();
        assert!(d.staff_session_state(&id).await.unwrap().unwrap().1 > epoch, "sessions and tokens end");

        assert!(d.reinstate_staff(&id, &op).await.unwrap());
        let login = d.staff_login(&Email::parse("juf@school.nl").unwrap()).await.unwrap().unwrap();
        assert_eq!(login.staff.status, StaffStatus::Inactive, "back as an account still to be activated");
        assert!(login.password_hash.is_none(), "the old password no longer counts");
        d.issue_staff_token(&id, TokenPurpose::Activation, "again", 3_600, &op).await.unwrap();
        assert!(d.set_password_with_token("again", TokenPurpose::Activation, "$argon2id$new").await.unwrap().is_some());
        assert_eq!(d.staff_by_id(&id).await.unwrap().unwrap().status, StaffStatus::Active);
        let err = d.reinstate_staff("no-such-id", &op).await.unwrap_err();
        assert!(matches!(err, DirectoryError::NotFound { .. }), "{err}");
    }
}

on_both_backends! {
    async fn a_deactivation_racing_new_links_leaves_none_working(d: Directory) {
        let op = Actor::operator_cli();
        let id = teacher(&d).await;
        // Links issued while the deactivation runs: each is either refused or voided by it.
        let issues = (0..8).map(|i| {
            let (d, id, op) = (d.clone(), id.clone(), op.clone());
            tokio::spawn(async move {
                let purpose = if i % 2 == 0 { TokenPurpose::Activation } else { TokenPurpose::Reset };
                match d.issue_staff_token(&id, purpose, &format!("race-{i}"), 3_600, &op).await {
                    Ok(()) | Err(DirectoryError::Conflict { .. }) => {}
                    Err(e) => panic!("race-{i}: {e}"),
                }
            })
        }).collect::<Vec<_>>();
        d.set_staff_status(&id, StaffStatus::Deactivated, &op).await.unwrap();
        for t in issues {
            t.await.unwrap();
        }
        for i in 0..8 {
            for purpose in [TokenPurpose::Activation, TokenPurpose::Reset] {
                assert!(d.staff_token_owner(&format!("race-{i}"), purpose).await.unwrap().is_none(), "race-{i}");
            }
        }
    }
}

// Second factors.

const SECRET: &[u8] = b"12345678901234567890";

fn hashes(prefix: &str) -> Vec<String> {
    (0..10).map(|i| format!("{prefix}-{i}")).collect()
}

async fn actions(d: &Directory, staff_id: &str, action: &str) -> usize {
    d.audit_of_subject(staff_id, 100)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action == action)
        .count()
}

on_both_backends! {
    async fn the_authenticator_secret_is_stored_sealed_and_opens_only_under_its_kek_for_its_owner(d: Directory) {
        let kek = Kek::generate();
        let id = teacher(&d).await;
        let other = staff_member(&d, "meester@school.nl").await;
        assert!(d.staff_second_factor(&id).await.unwrap().is_none());
        d.enrol_totp(&id, &TotpSecret::new(SECRET.to_vec()), &kek, &hashes("a"), &Actor::staff(&id)).await.unwrap();

        let factor = d.staff_second_factor(&id).await.unwrap().expect("enrolled");
        assert_eq!(factor.recovery_codes_left, 10);
        assert_eq!(d.open_totp_secret(&factor, &kek).unwrap().expose(), SECRET);
        assert!(d.open_totp_secret(&factor, &Kek::generate()).is_err(), "another KEK opens nothing");
        assert!(d.staff_second_factor(&other).await.unwrap().is_none());

        // Nothing shows the secret: not the records' Debug, not the audit entry.
        let shown = format!("{factor:?} {:?}", d.open_totp_secret(&factor, &kek).unwrap());
        assert!(!shown.contains("1234567890"), "{shown}");
        let audit = d.audit_of_subject(&id, 10).await.unwrap();
        let enrol = audit.iter().find(|e| e.action == "staff.second_factor.enrol").expect("audited");
        assert_eq!(enrol.actor, format!("staff:{id}"));
        assert!(!enrol.details.to_string().contains("1234567890") && !enrol.details.to_string().contains("a-0"));
    }
}

on_both_backends! {
    async fn a_staff_member_has_one_authenticator_also_when_two_enrolments_race(d: Directory) {
        let kek = Kek::generate();
        let id = teacher(&d).await;
        let actor = Actor::staff(&id);
        let (one, two) = (TotpSecret::new(b"first-secret-bytes!!".to_vec()), TotpSecret::new(b"other-secret-bytes!!".to_vec()));
        let (codes_a, codes_b) = (hashes("a"), hashes("b"));
        let (a, b) = tokio::join!(
            d.enrol_totp(&id, &one, &kek, &codes_a, &actor),
            d.enrol_totp(&id, &two, &kek, &codes_b, &actor),
        );
        assert_eq!([a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(), 1, "{a:?} {b:?}");
        let refused = if a.is_err() { a } else { b };
        assert!(matches!(refused, Err(DirectoryError::Conflict { .. })), "{refused:?}");
        assert_eq!(d.staff_second_factor(&id).await.unwrap().unwrap().recovery_codes_left, 10);
        assert_eq!(actions(&d, &id, "staff.second_factor.enrol").await, 1);
    }
}

on_both_backends! {
    async fn a_recovery_code_works_once_also_when_used_twice_at_the_same_moment(d: Directory) {
        let kek = Kek::generate();
        let id = teacher(&d).await;
        let other = staff_member(&d, "meester@school.nl").await;
        let actor = Actor::staff(&id);
        d.enrol_totp(&id, &TotpSecret::new(SECRET.to_vec()), &kek, &hashes("a"), &actor).await.unwrap();
        d.enrol_totp(&other, &TotpSecret::new(SECRET.to_vec()), &kek, &hashes("b"), &Actor::staff(&other)).await.unwrap();

        let (x, y) = tokio::join!(
            d.use_recovery_code(&id, "a-3", &actor),
            d.use_recovery_code(&id, "a-3", &actor),
        );
        let used: Vec<i64> = [x.unwrap(), y.unwrap()].into_iter().flatten().collect();
        assert_eq!(used, vec![9], "exactly one use, leaving nine");
        assert_eq!(d.use_recovery_code(&id, "a-3", &actor).await.unwrap(), None, "used");
        assert_eq!(d.use_recovery_code(&id, "b-3", &actor).await.unwrap(), None, "another's code");
        assert_eq!(d.use_recovery_code(&id, "zz", &actor).await.unwrap(), None, "unknown");
        assert_eq!(d.staff_second_factor(&id).await.unwrap().unwrap().recovery_codes_left, 9);
        assert_eq!(d.staff_second_factor(&other).await.unwrap().unwrap().recovery_codes_left, 10);
        assert_eq!(actions(&d, &id, "staff.second_factor.recovery_code").await, 1);
    }
}

on_both_backends! {
    async fn removing_the_factor_takes_its_recovery_codes_and_a_new_enrolment_starts_afresh(d: Directory) {
        let kek = Kek::generate();
        let id = teacher(&d).await;
        let actor = Actor::staff(&id);
        d.enrol_totp(&id, &TotpSecret::new(SECRET.to_vec()), &kek, &hashes("a"), &actor).await.unwrap();
        assert!(d.remove_second_factor(&id, &actor).await.unwrap());
        assert!(d.staff_second_factor(&id).await.unwrap().is_none());
        assert_eq!(d.use_recovery_code(&id, "a-1", &actor).await.unwrap(), None, "gone with the factor");
        assert!(!d.remove_second_factor(&id, &actor).await.unwrap(), "nothing left to remove");
        assert_eq!(actions(&d, &id, "staff.second_factor.remove").await, 1);

        d.enrol_totp(&id, &TotpSecret::new(SECRET.to_vec()), &kek, &hashes("c"), &actor).await.unwrap();
        assert_eq!(d.use_recovery_code(&id, "a-2", &actor).await.unwrap(), None, "old codes stay void");
        assert_eq!(d.use_recovery_code(&id, "c-2", &actor).await.unwrap(), Some(9));
    }
}

// Passkeys.

/// A stand-in for a serialised credential: the register keeps the text as it is given.
fn credential(n: u32) -> (String, String) {
    (
        format!("cred-{n}"),
        format!("{{\"cred\":{{\"cred_id\":\"cred-{n}\",\"counter\":0}}}}"),
    )
}

on_both_backends! {
    async fn passkeys_are_registered_named_renamed_and_removed_with_their_audit_entries(d: Directory) {
        let id = teacher(&d).await;
        let other = staff_member(&d, "meester@school.nl").await;
        let actor = Actor::staff(&id);
        assert_eq!(d.staff_factors(&id).await.unwrap(), directory::passkeys::Factors::default());
        assert!(!d.staff_has_second_factor(&id).await.unwrap());

        let (cred, json) = credential(1);
        let laptop = d.register_passkey(&id, &cred, &json, "  laptop school ", &actor).await.unwrap();
        let (cred2, json2) = credential(2);
        let phone = d.register_passkey(&id, &cred2, &json2, "telefoon", &actor).await.unwrap();
        let mine = d.staff_passkeys(&id).await.unwrap();
        assert_eq!(mine.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["laptop school", "telefoon"]);
        assert_eq!(mine[0].passkey, json, "kept as given");
        assert_eq!(mine[0].last_used_at, None);
        assert!(d.staff_passkeys(&other).await.unwrap().is_empty());
        assert_eq!(d.passkey_by_credential(&cred2).await.unwrap().unwrap().staff_id, id);
        assert!(d.passkey_by_credential("cred-9").await.unwrap().is_none());
        assert_eq!(d.staff_factors(&id).await.unwrap(), directory::passkeys::Factors { totp: false, passkeys: 2 });
        assert!(d.staff_has_second_factor(&id).await.unwrap(), "a passkey is a second factor");

        // A name is required, and short.
        for bad in ["", "   ", &"x".repeat(61), "a\nb"] {
            assert!(matches!(d.register_passkey(&id, "cred-8", &json, bad, &actor).await, Err(DirectoryError::Invalid { .. })), "{bad:?}");
        }
        // Renaming and removing touch only one's own.
        assert!(!d.rename_passkey(&other, &laptop, "mine now", &Actor::staff(&other)).await.unwrap());
        assert!(d.rename_passkey(&id, &laptop, "oude laptop", &actor).await.unwrap());
        assert!(!d.remove_passkey(&other, &phone, &Actor::staff(&other)).await.unwrap());
        assert!(d.remove_passkey(&id, &phone, &actor).await.unwrap());
        assert!(!d.remove_passkey(&id, &phone, &actor).await.unwrap(), "gone already");
        let left = d.staff_passkeys(&id).await.unwrap();
        assert_eq!(left.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["oude laptop"]);
        assert!(d.passkey_by_credential(&cred2).await.unwrap().is_none());

        assert_eq!(actions(&d, &id, "staff.passkey.register").await, 2);
        assert_eq!(actions(&d, &id, "staff.passkey.rename").await, 1);
        assert_eq!(actions(&d, &id, "staff.passkey.remove").await, 1);
        // The audit names the passkey, never its credential.
        for e in d.audit_of_subject(&id, 20).await.unwrap() {
            assert!(!e.details.to_string().contains("cred-"), "{}", e.details);
        }
        assert_eq!(actions(&d, &other, "staff.passkey.rename").await, 0);
    }
}

on_both_backends! {
    async fn a_credential_belongs_to_one_account_also_when_two_registrations_race(d: Directory) {
        let id = teacher(&d).await;
        let other = staff_member(&d, "meester@school.nl").await;
        let (cred, json) = credential(1);
        let (mine, theirs) = (Actor::staff(&id), Actor::staff(&other));
        let (a, b) = tokio::join!(
            d.register_passkey(&id, &cred, &json, "een", &mine),
            d.register_passkey(&other, &cred, &json, "twee", &theirs),
        );
        assert_eq!([a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(), 1, "{a:?} {b:?}");
        let refused = if a.is_err() { a } else { b };
        assert!(matches!(refused, Err(DirectoryError::Conflict { .. })), "{refused:?}");
        let registered = actions(&d, &id, "staff.passkey.register").await + actions(&d, &other, "staff.passkey.register").await;
        assert_eq!(registered, 1, "only the stored one is audited");
    }
}

on_both_backends! {
    async fn a_passkey_use_is_recorded_once_against_the_credential_it_was_checked_with(d: Directory) {
        let id = teacher(&d).await;
        let (cred, json) = credential(1);
        d.register_passkey(&id, &cred, &json, "laptop", &Actor::staff(&id)).await.unwrap();
        let moved = json.replace("\"counter\":0", "\"counter\":1");
        let moved_too = json.replace("\"counter\":0", "\"counter\":2");
        // Two logins checked against the same stored credential, both moving its counter.
        let (x, y) = tokio::join!(
            d.record_passkey_use(&cred, &json, Some(&moved)),
            d.record_passkey_use(&cred, &json, Some(&moved_too)),
        );
        assert_eq!([x.unwrap(), y.unwrap()].iter().filter(|ok| **ok).count(), 1, "one is recorded");
        let stored = d.passkey_by_credential(&cred).await.unwrap().unwrap();
        assert!(stored.passkey == moved || stored.passkey == moved_too);
        assert!(stored.last_used_at.is_some());
        // A use that changes nothing but the moment, against the current credential.
        assert!(d.record_passkey_use(&cred, &stored.passkey, None).await.unwrap());
        assert!(!d.record_passkey_use(&cred, &json, None).await.unwrap(), "checked against an old state");
        assert!(!d.record_passkey_use("cred-9", &json, None).await.unwrap(), "no such passkey");
    }
}

on_both_backends! {
    async fn removing_all_passkeys_leaves_the_authenticator_and_others_passkeys(d: Directory) {
        let kek = Kek::generate();
        let id = teacher(&d).await;
        let other = staff_member(&d, "meester@school.nl").await;
        let admin = Actor::operator_cli();
        for n in 1..=3 {
            let (cred, json) = credential(n);
            d.register_passkey(&id, &cred, &json, &format!("sleutel {n}"), &Actor::staff(&id)).await.unwrap();
        }
        let (cred, json) = credential(4);
        d.register_passkey(&other, &cred, &json, "zijne", &Actor::staff(&other)).await.unwrap();
        d.enrol_totp(&id, &TotpSecret::new(SECRET.to_vec()), &kek, &hashes("a"), &Actor::staff(&id)).await.unwrap();
        assert_eq!(d.staff_factors(&id).await.unwrap(), directory::passkeys::Factors { totp: true, passkeys: 3 });

        assert_eq!(d.remove_all_passkeys(&id, &admin).await.unwrap(), 3);
        assert_eq!(d.remove_all_passkeys(&id, &admin).await.unwrap(), 0, "nothing left");
        assert_eq!(d.staff_factors(&id).await.unwrap(), directory::passkeys::Factors { totp: true, passkeys: 0 });
        assert!(d.staff_has_second_factor(&id).await.unwrap(), "the authenticator stays");
        assert_eq!(d.staff_passkeys(&other).await.unwrap().len(), 1);
        let audit = d.audit_of_subject(&id, 20).await.unwrap();
        let reset: Vec<_> = audit.iter().filter(|e| e.action == "staff.passkey.remove").collect();
        assert_eq!(reset.len(), 1, "one entry for the reset");
        assert_eq!(reset[0].actor, admin.0);
        assert_eq!(reset[0].details["count"], 3);
        d.remove_second_factor(&id, &admin).await.unwrap();
        assert!(!d.staff_has_second_factor(&id).await.unwrap());
    }
}
