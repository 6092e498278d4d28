//! Stored OpenID Connect client registrations. The register keeps the registration as the JSON
//! the metadata crate defines and validates; it checks only what storage must: the party exists
//! and the client id is unique.

use serde_json::json;

use crate::audit::{AuditEvent, append};
use crate::db::{login_reads, writes};
use crate::error::{DirectoryError, Result, unique_as};
use crate::row::RowExt;
use crate::{Actor, Directory, now};

#[derive(Clone, Debug, PartialEq)]
pub struct StoredClient {
    pub client_id: String,
    pub party_id: String,
    pub registration: String,
    pub secret_hash: Option<String>,
}

fn client_from(r: &impl RowExt) -> Result<StoredClient> {
    Ok(StoredClient {
        client_id: r.text("client_id")?,
        party_id: r.text("party_id")?,
        registration: r.text("registration")?,
        secret_hash: r.opt_text("secret_hash")?,
    })
}

impl Directory {
    /// Registers a new client; a taken client id is refused.
    pub async fn create_oidc_client(&self, client: &StoredClient, actor: &Actor) -> Result<()> {
        if self.party_by_id(&client.party_id).await?.is_none() {
            return Err(DirectoryError::not_found(
                "partij",
                client.party_id.as_str(),
            ));
        }
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let t = now();
            sqlx::query("INSERT INTO oidc_clients (client_id, party_id, registration, secret_hash, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $5)")
                .bind(&client.client_id).bind(&client.party_id).bind(&client.registration)
                .bind(&client.secret_hash).bind(t)
                .execute(&mut *tx).await
                .map_err(unique_as("client_id", client.client_id.as_str()))?;
            append!(&mut *tx, AuditEvent {
                actor, action: "oidc_client.create", school_id: None, party_id: Some(&client.party_id),
                subject: Some(&client.client_id), details: json!({"has_secret": client.secret_hash.is_some()}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn oidc_client(&self, client_id: &str) -> Result<Option<StoredClient>> {
        self.cached("oidc_client", client_id.to_owned(), Option::is_some, || async {
            const SQL: &str = "SELECT client_id, party_id, registration, secret_hash FROM oidc_clients WHERE client_id = $1";
            login_reads!(self, c => {
                let row = sqlx::query(SQL).bind(client_id).fetch_optional(c).await?;
                row.as_ref().map(client_from).transpose()
            })
        })
        .await
    }

    pub async fn oidc_clients_of_party(&self, party_id: &str) -> Result<Vec<StoredClient>> {
        // The portal asks for every tile's party (does a client start logins from a portal?).
        self.cached(
            "oidc_clients_of_party",
            party_id.to_owned(),
            |c: &Vec<StoredClient>| !c.is_empty(),
            || async {
                const SQL: &str = "SELECT client_id, party_id, registration, secret_hash \
                     FROM oidc_clients WHERE party_id = $1 ORDER BY client_id";
                login_reads!(self, c => {
                    sqlx::query(SQL).bind(party_id).fetch_all(c).await?.iter().map(client_from).collect()
                })
            },
        )
        .await
    }

    /// Every registered client, for what must look across all of them (the origins that may
    /// make cross-origin requests to the OIDC endpoints). Not cached: its callers keep their
    /// own short-lived summary.
    pub async fn all_oidc_clients(&self) -> Result<Vec<StoredClient>> {
        const SQL: &str = "SELECT client_id, party_id, registration, secret_hash \
             FROM oidc_clients ORDER BY client_id";
        login_reads!(self, c => {
            sqlx::query(SQL).fetch_all(c).await?.iter().map(client_from).collect()
        })
    }

    /// Replaces a client's registration and, where given, its secret (`Some(None)` removes
    /// it, for a client that no longer authenticates with one). The client id and its party
    /// never change: a client of another party is another client.
    pub async fn update_oidc_client(
        &self,
        client: &StoredClient,
        secret_hash: Option<Option<&str>>,
        actor: &Actor,
    ) -> Result<()> {
        let existing = self
            .oidc_client(&client.client_id)
            .await?
            .ok_or_else(|| DirectoryError::not_found("client", client.client_id.as_str()))?;
        if existing.party_id != client.party_id {
            return Err(DirectoryError::Conflict {
                nl: format!(
                    "client {} hoort bij een andere partij; registreer een nieuwe client bij die partij",
                    client.client_id
                ),
                en: format!(
                    "client {} belongs to another party; register a new client with that party",
                    client.client_id
                ),
            });
        }
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let t = now();
            let updated = match secret_hash {
                Some(hash) => sqlx::query("UPDATE oidc_clients SET registration = $1, secret_hash = $2, updated_at = $3 \
                                           WHERE client_id = $4 AND party_id = $5")
                    .bind(&client.registration).bind(hash).bind(t).bind(&client.client_id).bind(&client.party_id)
                    .execute(&mut *tx).await?,
                None => sqlx::query("UPDATE oidc_clients SET registration = $1, updated_at = $2 WHERE client_id = $3 AND party_id = $4")
                    .bind(&client.registration).bind(t).bind(&client.client_id).bind(&client.party_id)
                    .execute(&mut *tx).await?,
            };
            // Deleted between the read above and this write.
            if updated.rows_affected() == 0 {
                return Err(DirectoryError::not_found("client", client.client_id.as_str()));
            }
            append!(&mut *tx, AuditEvent {
                actor, action: "oidc_client.update", school_id: None, party_id: Some(&client.party_id),
                subject: Some(&client.client_id),
                details: json!({
                    "secret": match secret_hash { None => "kept", Some(Some(_)) => "new", Some(None) => "removed" },
                }),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    /// Removes a client. Its secret and registration are gone at once, so the token endpoint
    /// no longer knows it; tokens it already holds are the caller's to revoke (they live in the
    /// short-lived state store, not here).
    pub async fn delete_oidc_client(&self, client_id: &str, actor: &Actor) -> Result<StoredClient> {
        let client = self
            .oidc_client(client_id)
            .await?
            .ok_or_else(|| DirectoryError::not_found("client", client_id))?;
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let deleted = sqlx::query("DELETE FROM oidc_clients WHERE client_id = $1")
                .bind(client_id).execute(&mut *tx).await?;
            if deleted.rows_affected() == 0 {
                return Err(DirectoryError::not_found("client", client_id));
            }
            append!(&mut *tx, AuditEvent {
                actor, action: "oidc_client.delete", school_id: None, party_id: Some(&client.party_id),
                subject: Some(client_id), details: json!({}),
            });
            tx.commit().await?;
            Ok(())
        })?;
        Ok(client)
    }

    /// Replaces a client's secret (rotation); the old one stops working at once.
    pub async fn set_oidc_client_secret(
        &self,
        client_id: &str,
        secret_hash: &str,
        actor: &Actor,
    ) -> Result<()> {
        let client = self
            .oidc_client(client_id)
            .await?
            .ok_or_else(|| DirectoryError::not_found("client", client_id))?;
        writes!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("UPDATE oidc_clients SET secret_hash = $1, updated_at = $2 WHERE client_id = $3")
                .bind(secret_hash).bind(now()).bind(client_id).execute(&mut *tx).await?;
            append!(&mut *tx, AuditEvent {
                actor, action: "oidc_client.secret.rotate", school_id: None, party_id: Some(&client.party_id),
                subject: Some(client_id), details: json!({}),
            });
            tx.commit().await?;
            Ok(())
        })
    }
}
