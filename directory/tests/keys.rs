//! Signing-key storage on both backends, driven through the `certs` key manager.

use certs::{Algorithm, CertificateProfile, Kek, KeyManager, KeyState, KeyStorage};
use directory::{Directory, on_both_backends};

fn manager(d: &Directory, kek: &Kek) -> KeyManager<Directory> {
    KeyManager::new(d.clone(), kek.clone(), CertificateProfile::default())
}

on_both_backends! {
    async fn nodes_starting_at_once_create_one_current_key_per_algorithm(d: Directory) {
        let kek = Kek::generate();
        let (a, b) = (manager(&d, &kek), manager(&d, &kek));
        let (ra, rb) = tokio::join!(a.ensure_keys(1_000), b.ensure_keys(1_000));
        ra.unwrap();
        rb.unwrap();
        let keys = a.list().await.unwrap();
        for alg in Algorithm::ALL {
            let of = |s: KeyState| keys.iter().filter(|k| k.alg == alg && k.state == s).count();
            assert_eq!((of(KeyState::Current), of(KeyState::Next)), (1, 1), "{alg}");
        }
        assert_eq!(keys.len(), 4);
    }
}

on_both_backends! {
    async fn stored_private_keys_are_sealed_and_rotation_survives_a_reload(d: Directory) {
        let kek = Kek::generate();
        let m = manager(&d, &kek);
        m.ensure_keys(1_000).await.unwrap();
        let before = m.published(Algorithm::Rs256, 1_000).await.unwrap();
        let next_kid = before.iter().find(|k| k.state == KeyState::Next).unwrap().kid.clone();
        for k in &before {
            // The PKCS#8 DER of an RSA key starts with a SEQUENCE header; sealed bytes must not.
            assert!(!k.encrypted_private_key.starts_with(&[0x30, 0x82]), "private key stored in the clear");
            assert_eq!(k.kek_id, kek.id());
            assert!(k.certificate_pem.as_deref().is_some_and(|c| c.contains("BEGIN CERTIFICATE")));
        }

        let current = m.rotate(Algorithm::Rs256, 2_000).await.unwrap();
        assert_eq!(current.kid, next_kid);

        // A second node (a fresh manager over the same database) sees the rotation.
        let other = manager(&d, &kek);
        let signing = other.current_signing_key(Algorithm::Rs256).await.unwrap();
        assert_eq!(signing.kid(), next_kid);
        let keys = other.list().await.unwrap();
        assert_eq!(keys.iter().filter(|k| k.alg == Algorithm::Rs256 && k.state == KeyState::Retired).count(), 1);
        assert_eq!(keys.iter().filter(|k| k.alg == Algorithm::Es256).count(), 2, "ES256 untouched");
    }
}

on_both_backends! {
    async fn a_node_with_another_kek_refuses_the_stored_keys(d: Directory) {
        manager(&d, &Kek::generate()).ensure_keys(1_000).await.unwrap();
        let err = manager(&d, &Kek::generate()).ensure_keys(1_001).await.unwrap_err();
        assert!(matches!(err, certs::CertsError::WrongKek { .. }), "{err}");
        assert_eq!(manager(&d, &Kek::generate()).list().await.unwrap().len(), 4, "nothing added");
    }
}

on_both_backends! {
    async fn a_sealed_secret_is_created_once_and_read_back_by_every_node(d: Directory) {
        let kek = Kek::generate();
        let first = certs::ensure_secret(&d, &kek, "test-secret", 32, 1_000).await.unwrap();
        let again = certs::ensure_secret(&d.clone(), &kek, "test-secret", 32, 2_000).await.unwrap();
        assert_eq!(first.as_bytes(), again.as_bytes());
        assert_eq!(first.as_bytes().len(), 32);
    }
}

on_both_backends! {
    async fn a_rotation_that_expected_another_current_key_changes_nothing(d: Directory) {
        let kek = Kek::generate();
        let m = manager(&d, &kek);
        m.ensure_keys(1_000).await.unwrap();
        let states = |records: Vec<certs::KeyRecord>| {
            records.into_iter().map(|k| (k.kid, k.state, k.retired_at)).collect::<Vec<_>>()
        };
        let before = m.list().await.unwrap();
        let next = before.iter().find(|k| k.alg == Algorithm::Rs256 && k.state == KeyState::Next).unwrap();
        let mut fresh = next.clone();
        fresh.kid = "a-fresh-next-key".into();
        // Another node rotated first: the current key is no longer the one this write expects.
        let rotated = d.rotate(Algorithm::Rs256, next.kid.clone(), fresh, 2_000).await.unwrap();
        assert!(!rotated);
        assert_eq!(states(m.list().await.unwrap()), states(before));
    }
}

on_both_backends! {
    async fn nodes_rotating_on_a_schedule_at_once_rotate_once(d: Directory) {
        let kek = Kek::generate();
        let (a, b) = (manager(&d, &kek), manager(&d, &kek));
        a.ensure_keys(1_000).await.unwrap();
        let (ra, rb) = tokio::join!(
            a.rotate_if_due(Algorithm::Rs256, 5_000, 3_600),
            b.rotate_if_due(Algorithm::Rs256, 5_000, 3_600),
        );
        let rotations = [ra.unwrap(), rb.unwrap()].into_iter().flatten().count();
        assert_eq!(rotations, 1);
        let keys = a.list().await.unwrap();
        let rs = |s: KeyState| keys.iter().filter(|k| k.alg == Algorithm::Rs256 && k.state == s).count();
        assert_eq!((rs(KeyState::Retired), rs(KeyState::Current), rs(KeyState::Next)), (1, 1, 1));
        // Not due again until the new current key has served its period.
        assert!(a.rotate_if_due(Algorithm::Rs256, 5_001, 3_600).await.unwrap().is_none());
    }
}

on_both_backends! {
    async fn a_retired_key_is_published_for_the_grace_period_only(d: Directory) {
        let kek = Kek::generate();
        let m = manager(&d, &kek).with_retired_grace(600);
        m.ensure_keys(1_000).await.unwrap();
        let old = m.published(Algorithm::Rs256, 1_000).await.unwrap()[0].kid.clone();
        m.rotate(Algorithm::Rs256, 2_000).await.unwrap();
        let kids = |records: Vec<certs::KeyRecord>| records.into_iter().map(|r| r.kid).collect::<Vec<_>>();
        let within = kids(m.published(Algorithm::Rs256, 2_599).await.unwrap());
        assert_eq!(within.len(), 3);
        assert_eq!(within[2], old, "the retired key comes after current and next");
        let after = kids(m.published(Algorithm::Rs256, 2_600).await.unwrap());
        assert_eq!(after.len(), 2);
        assert!(!after.contains(&old));
    }
}
