//! Network providers' upstreams: how a netwerkaanbieder vouches for its users (SAML IdP
//! metadata or an OpenID Connect issuer), and the lookups that match a vouched-for identity to
//! a user of a school. The register checks only what storage must (the party exists and is a
//! network provider, the issuer is unique); the idp reads and validates `settings`.

use serde::Serialize;
use serde_json::json;

use crate::audit::{AuditEvent, append};
use crate::db::{login_reads, reads, writes};
use crate::error::{DirectoryError, Result, unique_as};
use crate::model::PartyKind;
use crate::row::RowExt;
use crate::{Actor, Directory, now};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpstreamProtocol {
    Saml,
    Oidc,
}

impl UpstreamProtocol {
    pub fn as_str(&self) -> &'static str {
        match self {
            UpstreamProtocol::Saml => "saml",
            UpstreamProtocol::Oidc => "oidc",
        }
    }

    fn from_db(s: &str) -> Result<Self> {
        match s {
            "saml" => Ok(UpstreamProtocol::Saml),
            "oidc" => Ok(UpstreamProtocol::Oidc),
            other => Err(DirectoryError::invalid(
                "protocol",
                other,
                "onbekend protocol in de database",
                "unknown protocol in the database",
            )),
        }
    }
}

/// One provider's upstream as stored. `client_secret` never leaves the idp's RP code: listings
/// show only whether one is set.
#[derive(Clone, PartialEq)]
pub struct StoredUpstream {
    pub party_id: String,
    pub protocol: UpstreamProtocol,
    /// The SAML IdP's entityID or the OIDC issuer.
    pub issuer: String,
    /// The idp's JSON settings.
    pub settings: String,
    pub metadata_xml: Option<String>,
    pub metadata_url: Option<String>,
    pub client_secret: Option<String>,
    pub refreshed_at: i64,
    pub refresh_error: Option<String>,
}

impl std::fmt::Debug for StoredUpstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredUpstream")
            .field("party_id", &self.party_id)
            .field("protocol", &self.protocol)
            .field("issuer", &self.issuer)
            .field("settings", &self.settings)
            .field("metadata_url", &self.metadata_url)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "…"))
            .field("refreshed_at", &self.refreshed_at)
            .field("refresh_error", &self.refresh_error)
            .finish()
    }
}

macro_rules! select {
    ($tail:literal) => {
        concat!(
            "SELECT party_id, protocol, issuer, settings, metadata_xml, metadata_url, client_secret, \
             refreshed_at, refresh_error FROM network_upstreams ",
            $tail
        )
    };
}

fn upstream_from(r: &impl RowExt) -> Result<StoredUpstream> {
    Ok(StoredUpstream {
        party_id: r.text("party_id")?,
        protocol: UpstreamProtocol::from_db(&r.text("protocol")?)?,
        issuer: r.text("issuer")?,
        settings: r.text("settings")?,
        metadata_xml: r.opt_text("metadata_xml")?,
        metadata_url: r.opt_text("metadata_url")?,
        client_secret: r.opt_text("client_secret")?,
        refreshed_at: r.int("refreshed_at")?,
        refresh_error: r.opt_text("refresh_error")?,
    })
}

/// A user of a school that an upstream identity was matched to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchoolMember {
    Pupil(String),
    Staff(String),
}

impl Directory {
    /// Sets (creates or replaces) a network provider's upstream. Replacing keeps the stored
    /// client secret when `upstream.client_secret` is `None` and the protocol stays OIDC, so that
    /// changing a setting does not require typing the secret again.
    pub async fn set_upstream(&self, upstream: &StoredUpstream, actor: &Actor) -> Result<()> {
        let party = self
            .party_by_id(&upstream.party_id)
            .await?
            .ok_or_else(|| DirectoryError::not_found("partij", upstream.party_id.as_str()))?;
        if party.kind != PartyKind::NetworkProvider {
            return Err(DirectoryError::Conflict {
                nl: format!(
                    "partij {} is geen netwerkaanbieder; alleen netwerkaanbieders kunnen gebruikers aanmelden bij openpoort",
                    party.code
                ),
                en: format!(
                    "party {} is not a network provider; only network providers can vouch for users to openpoort",
                    party.code
                ),
            });
        }
        let old = self.upstream_of(&upstream.party_id).await?;
        let secret = match (&upstream.client_secret, &old) {
            (Some(s), _) => Some(s.clone()),
            (None, Some(old)) if upstream.protocol == UpstreamProtocol::Oidc => {
                old.client_secret.clone()
            }
            (None, _) => None,
        };
        let action = if old.is_some() {
            "upstream.update"
        } else {
            "upstream.create"
        };
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let t = now();
            // One statement for both cases, so that created_at survives a replacement.
            sqlx::query("INSERT INTO network_upstreams (party_id, protocol, issuer, settings, metadata_xml, metadata_url, \
                         client_secret, refreshed_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $8) \
                         ON CONFLICT (party_id) DO UPDATE SET protocol = excluded.protocol, issuer = excluded.issuer, \
                         settings = excluded.settings, metadata_xml = excluded.metadata_xml, metadata_url = excluded.metadata_url, \
                         client_secret = excluded.client_secret, refreshed_at = excluded.refreshed_at, refresh_error = NULL, \
                         updated_at = excluded.updated_at")
                .bind(&upstream.party_id).bind(upstream.protocol.as_str()).bind(&upstream.issuer)
                .bind(&upstream.settings).bind(&upstream.metadata_xml).bind(&upstream.metadata_url)
                .bind(&secret).bind(t)
                .execute(&mut *tx).await
                .map_err(unique_as("issuer", upstream.issuer.as_str()))?;
            append!(&mut *tx, AuditEvent {
                actor, action, school_id: None, party_id: Some(&upstream.party_id),
                subject: Some(&upstream.issuer),
                details: json!({
                    "protocol": upstream.protocol.as_str(),
                    "metadata_url": upstream.metadata_url,
                    "client_secret_changed": upstream.client_secret.is_some(),
                }),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    /// Records a successful refresh of a SAML upstream's metadata from its URL.
    pub async fn refresh_upstream_metadata(
        &self,
        party_id: &str,
        metadata_xml: &str,
        actor: &Actor,
    ) -> Result<()> {
        let old = self
            .upstream_of(party_id)
            .await?
            .ok_or_else(|| DirectoryError::not_found("netwerkaanbieder-koppeling", party_id))?;
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let t = now();
            sqlx::query("UPDATE network_upstreams SET metadata_xml = $1, refreshed_at = $2, refresh_error = NULL, \
                         updated_at = $2 WHERE party_id = $3")
                .bind(metadata_xml).bind(t).bind(party_id)
                .execute(&mut *tx).await?;
            append!(&mut *tx, AuditEvent {
                actor, action: "upstream.refresh", school_id: None, party_id: Some(party_id),
                subject: Some(&old.issuer), details: json!({"metadata_url": old.metadata_url}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    /// Records why a scheduled refresh failed; the last verified metadata stays in use.
    pub async fn set_upstream_refresh_error(
        &self,
        party_id: &str,
        error: &str,
        actor: &Actor,
    ) -> Result<()> {
        let old = self
            .upstream_of(party_id)
            .await?
            .ok_or_else(|| DirectoryError::not_found("netwerkaanbieder-koppeling", party_id))?;
        writes!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("UPDATE network_upstreams SET refresh_error = $1, updated_at = $2 WHERE party_id = $3")
                .bind(error).bind(now()).bind(party_id)
                .execute(&mut *tx).await?;
            append!(&mut *tx, AuditEvent {
                actor, action: "upstream.refresh_failed", school_id: None, party_id: Some(party_id),
                subject: Some(&old.issuer), details: json!({"error": error}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn remove_upstream(&self, party_id: &str, actor: &Actor) -> Result<()> {
        let old = self
            .upstream_of(party_id)
            .await?
            .ok_or_else(|| DirectoryError::not_found("netwerkaanbieder-koppeling", party_id))?;
        writes!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("DELETE FROM network_upstreams WHERE party_id = $1")
                .bind(party_id).execute(&mut *tx).await?;
            append!(&mut *tx, AuditEvent {
                actor, action: "upstream.delete", school_id: None, party_id: Some(party_id),
                subject: Some(&old.issuer), details: json!({}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn upstream_of(&self, party_id: &str) -> Result<Option<StoredUpstream>> {
        self.cached("upstream", party_id.to_owned(), Option::is_some, || async {
            const SQL: &str = select!("WHERE party_id = $1");
            login_reads!(self, c => {
                let row = sqlx::query(SQL).bind(party_id).fetch_optional(c).await?;
                row.as_ref().map(upstream_from).transpose()
            })
        })
        .await
    }

    /// The upstream whose SAML entityID or OIDC issuer is `issuer`: an incoming assertion's
    /// Issuer names its provider only through this.
    pub async fn upstream_by_issuer(&self, issuer: &str) -> Result<Option<StoredUpstream>> {
        self.cached(
            "upstream_by_issuer",
            issuer.to_owned(),
            Option::is_some,
            || async {
                const SQL: &str = select!("WHERE issuer = $1");
                login_reads!(self, c => {
                    let row = sqlx::query(SQL).bind(issuer).fetch_optional(c).await?;
                    row.as_ref().map(upstream_from).transpose()
                })
            },
        )
        .await
    }

    pub async fn upstreams(&self) -> Result<Vec<StoredUpstream>> {
        const SQL: &str = select!("ORDER BY party_id");
        reads!(self, p => {
            sqlx::query(SQL).fetch_all(p).await?.iter().map(upstream_from).collect()
        })
    }

    /// The active pupil or staff member of `school_id` with ECK-iD `eck_id`. An ECK-iD is unique
    /// per person in the register, so at most one answers.
    pub async fn member_by_eck_id(
        &self,
        school_id: &str,
        eck_id: &str,
    ) -> Result<Option<SchoolMember>> {
        const SQL: &str = "SELECT 'pupil' AS kind, id FROM pupils WHERE school_id = $1 AND eck_id = $2 AND active \
             UNION ALL \
             SELECT 'staff' AS kind, s.id FROM staff s JOIN staff_memberships m ON m.staff_id = s.id \
             WHERE m.school_id = $1 AND m.active AND s.eck_id = $2 AND s.deactivated_at IS NULL";
        let found = login_reads!(self, c => {
            let rows = sqlx::query(SQL).bind(school_id).bind(eck_id).fetch_all(c).await?;
            rows.iter().map(member_from).collect::<Result<Vec<_>>>()
        })?;
        Ok(found.into_iter().next())
    }

    /// The active pupils and staff members of `school_id` whose LAS key is `las_key`. A school's
    /// administration numbers pupils and staff separately, so one key may name one of each; the
    /// caller must refuse rather than pick.
    pub async fn members_by_las_key(
        &self,
        school_id: &str,
        las_key: &str,
    ) -> Result<Vec<SchoolMember>> {
        const SQL: &str = "SELECT 'pupil' AS kind, id FROM pupils WHERE school_id = $1 AND las_key = $2 AND active \
             UNION ALL \
             SELECT 'staff' AS kind, s.id FROM staff s JOIN staff_memberships m ON m.staff_id = s.id \
             WHERE m.school_id = $1 AND m.active AND m.las_key = $2 AND s.deactivated_at IS NULL";
        login_reads!(self, c => {
            let rows = sqlx::query(SQL).bind(school_id).bind(las_key).fetch_all(c).await?;
            rows.iter().map(member_from).collect()
        })
    }

    /// Every active pupil and staff member of `school_id`: for matching on a party's partner
    /// numbers, which are keyed hashes of these ids and cannot be looked up the other way.
    pub async fn members_of_school(&self, school_id: &str) -> Result<Vec<SchoolMember>> {
        const SQL: &str = "SELECT 'pupil' AS kind, id FROM pupils WHERE school_id = $1 AND active \
             UNION ALL \
             SELECT 'staff' AS kind, s.id FROM staff s JOIN staff_memberships m ON m.staff_id = s.id \
             WHERE m.school_id = $1 AND m.active AND s.deactivated_at IS NULL";
        login_reads!(self, c => {
            let rows = sqlx::query(SQL).bind(school_id).fetch_all(c).await?;
            rows.iter().map(member_from).collect()
        })
    }
}

fn member_from(r: &impl RowExt) -> Result<SchoolMember> {
    let id = r.text("id")?;
    match r.text("kind")?.as_str() {
        "pupil" => Ok(SchoolMember::Pupil(id)),
        _ => Ok(SchoolMember::Staff(id)),
    }
}
