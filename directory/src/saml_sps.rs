//! Stored SAML service providers. The register keeps the metadata crate's registration JSON and
//! the metadata it came from; it checks only what storage must (the party exists, the entity ID
//! is unique).

use serde_json::json;

use crate::audit::{AuditEvent, append};
use crate::db::{login_reads, reads, writes};
use crate::error::{DirectoryError, Result, unique_as};
use crate::row::RowExt;
use crate::{Actor, Directory, now};

#[derive(Clone, Debug, PartialEq)]
pub struct StoredSp {
    pub entity_id: String,
    pub party_id: String,
    pub registration: String,
    pub metadata_xml: String,
    pub metadata_url: Option<String>,
    pub refreshed_at: i64,
    /// Why the last scheduled refresh failed; cleared by the next success.
    pub refresh_error: Option<String>,
}

/// A SELECT of every column, as a literal (sqlx takes only static SQL).
macro_rules! select {
    ($tail:literal) => {
        concat!(
            "SELECT entity_id, party_id, registration, metadata_xml, metadata_url, refreshed_at, refresh_error \
             FROM saml_service_providers ",
            $tail
        )
    };
}

fn sp_from(r: &impl RowExt) -> Result<StoredSp> {
    Ok(StoredSp {
        entity_id: r.text("entity_id")?,
        party_id: r.text("party_id")?,
        registration: r.text("registration")?,
        metadata_xml: r.text("metadata_xml")?,
        metadata_url: r.opt_text("metadata_url")?,
        refreshed_at: r.int("refreshed_at")?,
        refresh_error: r.opt_text("refresh_error")?,
    })
}

impl Directory {
    /// Registers a new service provider; a taken entity ID is refused.
    pub async fn create_saml_sp(&self, sp: &StoredSp, actor: &Actor) -> Result<()> {
        if self.party_by_id(&sp.party_id).await?.is_none() {
            return Err(DirectoryError::not_found("partij", sp.party_id.as_str()));
        }
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let t = now();
            sqlx::query("INSERT INTO saml_service_providers (entity_id, party_id, registration, metadata_xml, metadata_url, refreshed_at, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $6, $6)")
                .bind(&sp.entity_id).bind(&sp.party_id).bind(&sp.registration).bind(&sp.metadata_xml)
                .bind(&sp.metadata_url).bind(t)
                .execute(&mut *tx).await
                .map_err(unique_as("entity_id", sp.entity_id.as_str()))?;
            append!(&mut *tx, AuditEvent {
                actor, action: "saml_sp.create", school_id: None, party_id: Some(&sp.party_id),
                subject: Some(&sp.entity_id), details: json!({"metadata_url": sp.metadata_url}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    /// Replaces an SP's registration and metadata (an operator's update or a refresh); the
    /// party cannot change, since pseudonyms and consent hang on it.
    pub async fn update_saml_sp(&self, sp: &StoredSp, actor: &Actor) -> Result<()> {
        let old = self
            .saml_sp(&sp.entity_id)
            .await?
            .ok_or_else(|| DirectoryError::not_found("SAML-dienst", sp.entity_id.as_str()))?;
        if old.party_id != sp.party_id {
            return Err(DirectoryError::Conflict {
                nl: format!(
                    "SAML-dienst {} hoort bij partij {}; verwijder hem en registreer hem opnieuw om hem te verplaatsen",
                    sp.entity_id, old.party_id
                ),
                en: format!(
                    "service provider {} belongs to party {}; remove it and register it anew to move it",
                    sp.entity_id, old.party_id
                ),
            });
        }
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let t = now();
            sqlx::query("UPDATE saml_service_providers SET registration = $1, metadata_xml = $2, metadata_url = $3, \
                         refreshed_at = $4, refresh_error = NULL, updated_at = $4 WHERE entity_id = $5")
                .bind(&sp.registration).bind(&sp.metadata_xml).bind(&sp.metadata_url).bind(t)
                .bind(&sp.entity_id)
                .execute(&mut *tx).await?;
            append!(&mut *tx, AuditEvent {
                actor, action: "saml_sp.update", school_id: None, party_id: Some(&sp.party_id),
                subject: Some(&sp.entity_id), details: json!({"metadata_url": sp.metadata_url}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    /// Records why a scheduled refresh failed. The registration stays as it was: an SP whose
    /// metadata host is down keeps working on what was last verified.
    pub async fn set_saml_sp_refresh_error(
        &self,
        entity_id: &str,
        error: &str,
        actor: &Actor,
    ) -> Result<()> {
        let sp = self
            .saml_sp(entity_id)
            .await?
            .ok_or_else(|| DirectoryError::not_found("SAML-dienst", entity_id))?;
        writes!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("UPDATE saml_service_providers SET refresh_error = $1, updated_at = $2 WHERE entity_id = $3")
                .bind(error).bind(now()).bind(entity_id)
                .execute(&mut *tx).await?;
            append!(&mut *tx, AuditEvent {
                actor, action: "saml_sp.refresh_failed", school_id: None, party_id: Some(&sp.party_id),
                subject: Some(entity_id), details: json!({"error": error}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn delete_saml_sp(&self, entity_id: &str, actor: &Actor) -> Result<()> {
        let sp = self
            .saml_sp(entity_id)
            .await?
            .ok_or_else(|| DirectoryError::not_found("SAML-dienst", entity_id))?;
        writes!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("DELETE FROM saml_service_providers WHERE entity_id = $1")
                .bind(entity_id).execute(&mut *tx).await?;
            append!(&mut *tx, AuditEvent {
                actor, action: "saml_sp.delete", school_id: None, party_id: Some(&sp.party_id),
                subject: Some(entity_id), details: json!({}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn saml_sp(&self, entity_id: &str) -> Result<Option<StoredSp>> {
        self.cached("saml_sp", entity_id.to_owned(), Option::is_some, || async {
            const SQL: &str = select!("WHERE entity_id = $1");
            login_reads!(self, c => {
                let row = sqlx::query(SQL).bind(entity_id).fetch_optional(c).await?;
                row.as_ref().map(sp_from).transpose()
            })
        })
        .await
    }

    pub async fn saml_sps_of_party(&self, party_id: &str) -> Result<Vec<StoredSp>> {
        // The portal asks for every tile's party without a portal-started OIDC client.
        self.cached(
            "saml_sps_of_party",
            party_id.to_owned(),
            |s: &Vec<StoredSp>| !s.is_empty(),
            || async {
                const SQL: &str = select!("WHERE party_id = $1 ORDER BY entity_id");
                login_reads!(self, c => {
                    sqlx::query(SQL).bind(party_id).fetch_all(c).await?.iter().map(sp_from).collect()
                })
            },
        )
        .await
    }

    /// Every SP, for listings and for the scheduled refresh of those with a metadata URL.
    pub async fn saml_sps(&self) -> Result<Vec<StoredSp>> {
        const SQL: &str = select!("ORDER BY entity_id");
        reads!(self, p => {
            sqlx::query(SQL).fetch_all(p).await?.iter().map(sp_from).collect()
        })
    }
}
