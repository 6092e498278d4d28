//! Stored SAML service providers, on SQLite and PostgreSQL.

use directory::model::PartyKind;
use directory::saml_sps::StoredSp;
use directory::{Actor, DirectoryError, on_both_backends};

fn sp(party: &str) -> StoredSp {
    StoredSp {
        entity_id: "https://sp.rekenrijk.example/".into(),
        party_id: party.into(),
        registration: "{\"entity_id\":\"https://sp.rekenrijk.example/\"}".into(),
        metadata_xml: "<md:EntityDescriptor/>".into(),
        metadata_url: Some("https://sp.rekenrijk.example/metadata".into()),
        refreshed_at: 0,
        refresh_error: None,
    }
}

on_both_backends! {
    async fn service_providers_are_unique_per_entity_id_and_belong_to_an_existing_party(d: Directory) {
        let op = Actor::operator_cli();
        let party = d.create_party("uitgever", PartyKind::Publisher, "Uitgever", &op).await.unwrap();
        d.create_saml_sp(&sp(&party.id), &op).await.unwrap();
        assert!(matches!(
            d.create_saml_sp(&sp(&party.id), &op).await.unwrap_err(),
            DirectoryError::Duplicate { field: "entity_id", .. }
        ));
        assert!(matches!(
            d.create_saml_sp(&StoredSp { entity_id: "urn:other".into(), ..sp("no-such-party") }, &op).await.unwrap_err(),
            DirectoryError::NotFound { .. }
        ));
        let stored = d.saml_sp("https://sp.rekenrijk.example/").await.unwrap().unwrap();
        assert_eq!(stored.registration, sp(&party.id).registration);
        assert_eq!(d.saml_sps_of_party(&party.id).await.unwrap().len(), 1);
        assert_eq!(d.saml_sps().await.unwrap().len(), 1);
    }
}

on_both_backends! {
    async fn a_failed_refresh_keeps_the_registration_and_the_next_update_clears_the_error(d: Directory) {
        let op = Actor::operator_cli();
        let party = d.create_party("uitgever", PartyKind::Publisher, "Uitgever", &op).await.unwrap();
        d.create_saml_sp(&sp(&party.id), &op).await.unwrap();
        d.set_saml_sp_refresh_error("https://sp.rekenrijk.example/", "HTTP 503", &op).await.unwrap();
        let failed = d.saml_sp("https://sp.rekenrijk.example/").await.unwrap().unwrap();
        assert_eq!(failed.refresh_error.as_deref(), Some("HTTP 503"));
        assert_eq!(failed.registration, sp(&party.id).registration);

        let newer = StoredSp { registration: "{\"v\":2}".into(), ..sp(&party.id) };
        d.update_saml_sp(&newer, &op).await.unwrap();
        let now = d.saml_sp("https://sp.rekenrijk.example/").await.unwrap().unwrap();
        assert_eq!(now.registration, "{\"v\":2}");
        assert_eq!(now.refresh_error, None);
    }
}

on_both_backends! {
    async fn a_service_provider_cannot_move_to_another_party_by_update(d: Directory) {
        let op = Actor::operator_cli();
        let a = d.create_party("uitgever-a", PartyKind::Publisher, "A", &op).await.unwrap();
        let b = d.create_party("uitgever-b", PartyKind::Publisher, "B", &op).await.unwrap();
        d.create_saml_sp(&sp(&a.id), &op).await.unwrap();
        assert!(matches!(d.update_saml_sp(&sp(&b.id), &op).await.unwrap_err(), DirectoryError::Conflict { .. }));
        assert_eq!(d.saml_sp("https://sp.rekenrijk.example/").await.unwrap().unwrap().party_id, a.id);
        d.delete_saml_sp("https://sp.rekenrijk.example/", &op).await.unwrap();
        assert!(d.saml_sp("https://sp.rekenrijk.example/").await.unwrap().is_none());
    }
}
