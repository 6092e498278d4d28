//! What the partner API needs from the register: the client certificates that name a party on
//! the mutual-TLS listener, and the schools that consented to a party (now, and since a date).

use serde::Serialize;
use serde_json::json;

use crate::audit::{AuditEvent, append};
use crate::db::{reads, writes};
use crate::error::{DirectoryError, Result, unique_as};
use crate::parties::Party;
use crate::row::RowExt;
use crate::schools::{School, school_from};
use crate::{Actor, Directory, now};

/// How many certificates a party may have at once: the one in use and its successor.
pub const CERTIFICATES_PER_PARTY: usize = 2;

/// A client certificate registered for a party.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PartyCertificate {
    /// SHA-256 of the DER encoding, lowercase hex: what the listener matches.
    pub sha256: String,
    pub party_id: String,
    pub subject: String,
    pub issuer: String,
    pub not_before: i64,
    pub not_after: i64,
    pub pem: String,
    pub created_by: String,
    pub created_at: i64,
}

/// A certificate as read from its PEM by the caller (the register does not parse X.509).
pub struct NewPartyCertificate<'a> {
    pub sha256: &'a str,
    pub subject: &'a str,
    pub issuer: &'a str,
    pub not_before: i64,
    pub not_after: i64,
    pub pem: &'a str,
}

/// A school that consents to a party now, with the moment it did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConsentedSchool {
    pub school: School,
    /// The board's bestuursnummer.
    pub bestuursnummer: String,
    pub granted_at: i64,
    /// The last change to the school's own row.
    pub updated_at: i64,
}

fn consented_from(r: &impl RowExt) -> Result<ConsentedSchool> {
    Ok(ConsentedSchool {
        school: school_from(r)?,
        bestuursnummer: r.text("bestuursnummer")?,
        granted_at: r.int("granted_at")?,
        updated_at: r.int("updated_at")?,
    })
}

fn certificate_from(r: &impl RowExt) -> Result<PartyCertificate> {
    Ok(PartyCertificate {
        sha256: r.text("sha256")?,
        party_id: r.text("party_id")?,
        subject: r.text("subject")?,
        issuer: r.text("issuer")?,
        not_before: r.int("not_before")?,
        not_after: r.int("not_after")?,
        pem: r.text("pem")?,
        created_by: r.text("created_by")?,
        created_at: r.int("created_at")?,
    })
}

macro_rules! consented_schools {
    ($tail:literal) => {
        concat!(
            "SELECT s.id, s.board_id, s.brin, s.vestigingscode, s.name, s.instelling_ref, s.active, \
             s.merged_into, s.home_login_allowed, s.picture_password_enabled, s.updated_at, \
             b.bestuursnummer, c.granted_at \
             FROM consents c JOIN schools s ON s.id = c.school_id JOIN boards b ON b.id = s.board_id \
             WHERE c.party_id = $1 AND c.revoked_at IS NULL ",
            $tail
        )
    };
}

impl Directory {
    /// Registers a client certificate for a party. A party holds at most
    /// [`CERTIFICATES_PER_PARTY`]; a certificate names one party only.
    pub async fn add_party_certificate(
        &self,
        party_id: &str,
        new: &NewPartyCertificate<'_>,
        actor: &Actor,
    ) -> Result<PartyCertificate> {
        let certificate = PartyCertificate {
            sha256: new.sha256.to_owned(),
            party_id: party_id.to_owned(),
            subject: new.subject.to_owned(),
            issuer: new.issuer.to_owned(),
            not_before: new.not_before,
            not_after: new.not_after,
            pem: new.pem.to_owned(),
            created_by: actor.0.clone(),
            created_at: now(),
        };
        let c = &certificate;
        writes!(self, p => {
            let mut tx = p.begin().await?;
            // The party's row first: two registrations in parallel then count one after the
            // other, so a third certificate cannot slip in beside two.
            let taken = sqlx::query("UPDATE parties SET name = name WHERE id = $1")
                .bind(party_id).execute(&mut *tx).await?;
            if taken.rows_affected() == 0 {
                return Err(DirectoryError::not_found("partij", party_id));
            }
            let held = sqlx::query("SELECT sha256 FROM party_certificates WHERE party_id = $1")
                .bind(party_id).fetch_all(&mut *tx).await?.len();
            if held >= CERTIFICATES_PER_PARTY {
                return Err(DirectoryError::Conflict {
                    nl: format!("Deze partij heeft al {CERTIFICATES_PER_PARTY} certificaten; verwijder eerst het oude voordat je een nieuw toevoegt."),
                    en: format!("This party already has {CERTIFICATES_PER_PARTY} certificates; remove the old one before adding a new one."),
                });
            }
            sqlx::query("INSERT INTO party_certificates (sha256, party_id, subject, issuer, not_before, not_after, pem, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                .bind(&c.sha256).bind(party_id).bind(&c.subject).bind(&c.issuer)
                .bind(c.not_before).bind(c.not_after).bind(&c.pem).bind(&c.created_by).bind(c.created_at)
                .execute(&mut *tx).await
                .map_err(unique_as("certificaat", &c.sha256))?;
            append!(&mut *tx, AuditEvent {
                actor, action: "party.certificate.add", school_id: None, party_id: Some(party_id),
                subject: Some(&c.sha256), details: json!({"subject": c.subject, "not_after": c.not_after}),
            });
            tx.commit().await?;
            Ok(())
        })?;
        Ok(certificate)
    }

    /// Removes a party's certificate; connections presenting it are refused from the next request.
    pub async fn remove_party_certificate(
        &self,
        party_id: &str,
        sha256: &str,
        actor: &Actor,
    ) -> Result<()> {
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query("DELETE FROM party_certificates WHERE party_id = $1 AND sha256 = $2")
                .bind(party_id).bind(sha256).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(DirectoryError::not_found("certificaat", sha256));
            }
            append!(&mut *tx, AuditEvent {
                actor, action: "party.certificate.remove", school_id: None, party_id: Some(party_id),
                subject: Some(sha256), details: json!({}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    /// A party's certificates, the one expiring last first.
    pub async fn party_certificates(&self, party_id: &str) -> Result<Vec<PartyCertificate>> {
        const SQL: &str = "SELECT sha256, party_id, subject, issuer, not_before, not_after, pem, \
             created_by, created_at FROM party_certificates WHERE party_id = $1 \
             ORDER BY not_after DESC, sha256";
        reads!(self, p => {
            sqlx::query(SQL).bind(party_id).fetch_all(p).await?.iter().map(certificate_from).collect()
        })
    }

    /// The party a certificate names, while the certificate is within its validity at `at`.
    pub async fn party_by_certificate(&self, sha256: &str, at: i64) -> Result<Option<Party>> {
        const SQL: &str = "SELECT p.id, p.code, p.kind, p.name FROM party_certificates c \
             JOIN parties p ON p.id = c.party_id \
             WHERE c.sha256 = $1 AND c.not_before <= $2 AND $2 <= c.not_after";
        reads!(self, p => {
            let row = sqlx::query(SQL).bind(sha256).bind(at).fetch_optional(p).await?;
            row.as_ref().map(crate::parties::party_from).transpose()
        })
    }

    /// The schools that consent to a party now, by BRIN and vestigingscode.
    pub async fn consented_schools(&self, party_id: &str) -> Result<Vec<ConsentedSchool>> {
        const SQL: &str = consented_schools!("ORDER BY s.brin, s.vestigingscode");
        reads!(self, p => {
            sqlx::query(SQL).bind(party_id).fetch_all(p).await?.iter().map(consented_from).collect()
        })
    }

    /// Schools merged into another that once consented to the party: the merge ended their
    /// consents, and the party may still read where they went (Basispoort's `gefuseerdNaar`).
    pub async fn merged_schools_once_consented(
        &self,
        party_id: &str,
    ) -> Result<Vec<ConsentedSchool>> {
        const SQL: &str = "SELECT s.id, s.board_id, s.brin, s.vestigingscode, s.name, s.instelling_ref, \
             s.active, s.merged_into, s.home_login_allowed, s.picture_password_enabled, s.updated_at, \
             b.bestuursnummer, MAX(c.granted_at) AS granted_at \
             FROM consents c JOIN schools s ON s.id = c.school_id JOIN boards b ON b.id = s.board_id \
             WHERE c.party_id = $1 AND s.merged_into IS NOT NULL \
             GROUP BY s.id, s.board_id, s.brin, s.vestigingscode, s.name, s.instelling_ref, s.active, \
             s.merged_into, s.home_login_allowed, s.picture_password_enabled, s.updated_at, b.bestuursnummer";
        reads!(self, p => {
            sqlx::query(SQL).bind(party_id).fetch_all(p).await?.iter().map(consented_from).collect()
        })
    }

    /// Schools whose consent to the party began at or after `since` and still holds.
    pub async fn consents_granted_since(&self, party_id: &str, since: i64) -> Result<Vec<String>> {
        const SQL: &str = "SELECT school_id FROM consents \
             WHERE party_id = $1 AND revoked_at IS NULL AND granted_at >= $2 ORDER BY school_id";
        reads!(self, p => {
            sqlx::query(SQL).bind(party_id).bind(since).fetch_all(p).await?
                .iter().map(|r| r.text("school_id")).collect()
        })
    }

    /// Schools that revoked their consent to the party at or after `since` and have not
    /// consented again since: the party must stop using their data.
    pub async fn consents_revoked_since(&self, party_id: &str, since: i64) -> Result<Vec<String>> {
        const SQL: &str = "SELECT DISTINCT c.school_id FROM consents c \
             WHERE c.party_id = $1 AND c.revoked_at >= $2 \
             AND NOT EXISTS (SELECT 1 FROM consents o WHERE o.party_id = c.party_id \
                             AND o.school_id = c.school_id AND o.revoked_at IS NULL) \
             ORDER BY c.school_id";
        reads!(self, p => {
            sqlx::query(SQL).bind(party_id).bind(since).fetch_all(p).await?
                .iter().map(|r| r.text("school_id")).collect()
        })
    }

    /// The last change to what a school's roster shows: the school, its groups, its pupils and
    /// the people on its staff list.
    pub async fn roster_changed_at(&self, school_id: &str) -> Result<i64> {
        const SQL: &str = "SELECT MAX(t) AS changed FROM ( \
             SELECT updated_at AS t FROM schools WHERE id = $1 \
             UNION ALL SELECT MAX(updated_at) FROM school_groups WHERE school_id = $1 \
             UNION ALL SELECT MAX(updated_at) FROM pupils WHERE school_id = $1 \
             UNION ALL SELECT MAX(s.updated_at) FROM staff s \
                 JOIN staff_memberships m ON m.staff_id = s.id WHERE m.school_id = $1) x";
        reads!(self, p => {
            let row = sqlx::query(SQL).bind(school_id).fetch_one(p).await?;
            Ok(row.opt_int("changed")?.unwrap_or(0))
        })
    }
}
