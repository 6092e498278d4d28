//! Parties (publishers and network providers), their products, schools' licences for those
//! products, and schools' consents to parties.

use serde::Serialize;
use serde_json::json;

use crate::audit::{AuditEvent, append};
use crate::db::{login_reads, reads, writes};
use crate::error::{DirectoryError, Result, unique_as};
use crate::model::{Date, PartyKind, WebUrl, code, display_name};
use crate::row::RowExt;
use crate::{Actor, Directory, new_id, now};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Party {
    pub id: String,
    pub code: String,
    pub kind: PartyKind,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Product {
    pub id: String,
    pub party_id: String,
    pub code: String,
    /// The methode (title) the product belongs to, e.g. "Rekenrijk".
    pub methode: String,
    pub name: String,
    pub launch_url: String,
    pub icon_url: Option<String>,
    pub home_allowed: bool,
    /// The icon is kept in the register (a LIKA product's `icon`, see `lika`) and served from
    /// there instead of being fetched from `icon_url`.
    pub icon_stored: bool,
}

pub struct NewProduct {
    pub code: String,
    pub methode: String,
    pub name: String,
    pub launch_url: WebUrl,
    pub icon_url: Option<WebUrl>,
    pub home_allowed: bool,
}

/// Who a licence covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "scope", content = "members", rename_all = "snake_case")]
pub enum LicenceScope {
    /// Every pupil and staff member of the school.
    School,
    /// Only the listed groups and users.
    Members(Vec<LicenceMember>),
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum LicenceMember {
    Group(String),
    Pupil(String),
    Staff(String),
}

impl LicenceMember {
    fn parts(&self) -> (&'static str, &str) {
        match self {
            LicenceMember::Group(id) => ("group", id),
            LicenceMember::Pupil(id) => ("pupil", id),
            LicenceMember::Staff(id) => ("staff", id),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Licence {
    pub id: String,
    pub school_id: String,
    pub product_id: String,
    pub scope: LicenceScope,
    pub valid_from: String,
    pub valid_until: Option<String>,
}

impl Licence {
    /// Whether the licence is in force on `today` (both ends inclusive).
    pub fn valid_on(&self, today: &Date) -> bool {
        self.valid_from.as_str() <= today.as_str()
            && self
                .valid_until
                .as_deref()
                .is_none_or(|u| today.as_str() <= u)
    }
}

pub struct NewLicence {
    pub school_id: String,
    pub product_id: String,
    pub scope: LicenceScope,
    pub valid_from: Date,
    pub valid_until: Option<Date>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Consent {
    pub id: String,
    pub school_id: String,
    pub party_id: String,
    pub granted_by: String,
    pub granted_at: i64,
    pub revoked_by: Option<String>,
    pub revoked_at: Option<i64>,
}

pub(crate) fn party_from(r: &impl RowExt) -> Result<Party> {
    Ok(Party {
        id: r.text("id")?,
        code: r.text("code")?,
        kind: PartyKind::parse(&r.text("kind")?)?,
        name: r.text("name")?,
    })
}

fn product_from(r: &impl RowExt) -> Result<Product> {
    Ok(Product {
        id: r.text("id")?,
        party_id: r.text("party_id")?,
        code: r.text("code")?,
        methode: r.text("methode")?,
        name: r.text("name")?,
        launch_url: r.text("launch_url")?,
        icon_url: r.opt_text("icon_url")?,
        home_allowed: r.flag("home_allowed")?,
        icon_stored: r.flag("icon_stored")?,
    })
}

fn consent_from(r: &impl RowExt) -> Result<Consent> {
    Ok(Consent {
        id: r.text("id")?,
        school_id: r.text("school_id")?,
        party_id: r.text("party_id")?,
        granted_by: r.text("granted_by")?,
        granted_at: r.int("granted_at")?,
        revoked_by: r.opt_text("revoked_by")?,
        revoked_at: r.opt_int("revoked_at")?,
    })
}

macro_rules! product_select {
    ($tail:literal) => {
        concat!(
            "SELECT id, party_id, code, methode, name, launch_url, icon_url, home_allowed, icon_stored FROM products ",
            $tail
        )
    };
}

macro_rules! consent_select {
    ($tail:literal) => {
        concat!(
            "SELECT id, school_id, party_id, granted_by, granted_at, revoked_by, revoked_at FROM consents ",
            $tail
        )
    };
}

const LICENCES_OF_SCHOOL: &str = "SELECT l.id, l.school_id, l.product_id, l.scope, l.valid_from, l.valid_until, \
     m.member_kind, m.member_id FROM licences l \
     LEFT JOIN licence_members m ON m.licence_id = l.id \
     WHERE l.school_id = $1 ORDER BY l.valid_from, l.id";

/// The rows of [`LICENCES_OF_SCHOOL`]: a licence once per member, or once with NULL member
/// columns when it names none.
fn licences_from<R: RowExt>(rows: &[R]) -> Result<Vec<Licence>> {
    type Row = (String, String, String, String, String, Option<String>);
    let rows = rows
        .iter()
        .map(|r| {
            let licence: Row = (
                r.text("id")?,
                r.text("school_id")?,
                r.text("product_id")?,
                r.text("scope")?,
                r.text("valid_from")?,
                r.opt_text("valid_until")?,
            );
            Ok((
                licence,
                r.opt_text("member_kind")?,
                r.opt_text("member_id")?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    // Rows of one licence are adjacent: the order is by licence.
    let mut licences: Vec<(Row, Vec<LicenceMember>)> = Vec::new();
    for (licence, kind, member_id) in rows {
        if licences.last().is_none_or(|(l, _)| l.0 != licence.0) {
            licences.push((licence, Vec::new()));
        }
        if let (Some(kind), Some(id), Some((_, members))) = (kind, member_id, licences.last_mut()) {
            members.push(match kind.as_str() {
                "group" => LicenceMember::Group(id),
                "pupil" => LicenceMember::Pupil(id),
                _ => LicenceMember::Staff(id),
            });
        }
    }
    Ok(licences
        .into_iter()
        .map(
            |((id, school_id, product_id, scope, valid_from, valid_until), mut members)| {
                let scope = if scope == "school" {
                    LicenceScope::School
                } else {
                    members.sort();
                    LicenceScope::Members(members)
                };
                Licence {
                    id,
                    school_id,
                    product_id,
                    scope,
                    valid_from,
                    valid_until,
                }
            },
        )
        .collect())
}

/// What [`Directory::pupil_release_facts`] reads.
#[derive(Clone, Debug)]
pub struct PupilReleaseFacts {
    pub school: Option<crate::schools::School>,
    pub party: Option<Party>,
    /// The pupil with the LAS keys of their groups.
    pub pupil: Option<(crate::people::Pupil, Vec<String>)>,
    pub products: Vec<Product>,
    pub licences: Vec<Licence>,
    pub consent: Option<Consent>,
    pub release_attributes: Vec<String>,
    /// The party's products the pupil may use through the hosted licence API (`lika`).
    pub lika_products: Vec<String>,
}

impl PupilReleaseFacts {
    /// School, party and pupil all found: worth keeping in the read cache.
    fn complete(&self) -> bool {
        self.school.is_some() && self.party.is_some() && self.pupil.is_some()
    }
}

impl Directory {
    pub async fn create_party(
        &self,
        party_code: &str,
        kind: PartyKind,
        name: &str,
        actor: &Actor,
    ) -> Result<Party> {
        let party = Party {
            id: new_id(),
            code: code("code partij", party_code)?,
            kind,
            name: display_name("naam partij", name)?,
        };
        writes!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("INSERT INTO parties (id, code, kind, name, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(&party.id).bind(&party.code).bind(kind.as_str()).bind(&party.name).bind(now())
                .execute(&mut *tx).await
                .map_err(unique_as("code partij", party.code.as_str()))?;
            append!(&mut *tx, AuditEvent {
                actor, action: "party.create", school_id: None, party_id: Some(&party.id),
                subject: Some(&party.id), details: json!({"code": party.code, "kind": kind, "name": party.name}),
            });
            tx.commit().await?;
            Ok(())
        })?;
        Ok(party)
    }

    pub async fn party_by_code(&self, party_code: &str) -> Result<Option<Party>> {
        const SQL: &str = "SELECT id, code, kind, name FROM parties WHERE code = $1";
        reads!(self, p => {
            let row = sqlx::query(SQL).bind(party_code).fetch_optional(p).await?;
            row.as_ref().map(party_from).transpose()
        })
    }

    pub async fn require_party(&self, party_code: &str) -> Result<Party> {
        self.party_by_code(party_code)
            .await?
            .ok_or_else(|| DirectoryError::not_found("partij", party_code))
    }

    pub async fn party_by_id(&self, id: &str) -> Result<Option<Party>> {
        const SQL: &str = "SELECT id, code, kind, name FROM parties WHERE id = $1";
        reads!(self, p => {
            let row = sqlx::query(SQL).bind(id).fetch_optional(p).await?;
            row.as_ref().map(party_from).transpose()
        })
    }

    pub async fn list_parties(&self) -> Result<Vec<Party>> {
        const SQL: &str = "SELECT id, code, kind, name FROM parties ORDER BY code";
        reads!(self, p => {
            sqlx::query(SQL).fetch_all(p).await?.iter().map(party_from).collect()
        })
    }

    pub async fn create_product(
        &self,
        party_id: &str,
        new: &NewProduct,
        actor: &Actor,
    ) -> Result<Product> {
        let product = Product {
            id: new_id(),
            party_id: party_id.to_owned(),
            code: code("code product", &new.code)?,
            methode: display_name("methode", &new.methode)?,
            name: display_name("naam product", &new.name)?,
            launch_url: new.launch_url.to_string(),
            icon_url: new.icon_url.as_ref().map(|u| u.to_string()),
            home_allowed: new.home_allowed,
            icon_stored: false,
        };
        if self.party_by_id(party_id).await?.is_none() {
            return Err(DirectoryError::not_found("partij", party_id));
        }
        writes!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("INSERT INTO products (id, party_id, code, methode, name, launch_url, icon_url, home_allowed, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                .bind(&product.id).bind(&product.party_id).bind(&product.code).bind(&product.methode)
                .bind(&product.name).bind(&product.launch_url).bind(&product.icon_url)
                .bind(product.home_allowed).bind(now())
                .execute(&mut *tx).await
                .map_err(unique_as("code product", product.code.as_str()))?;
            append!(&mut *tx, AuditEvent {
                actor, action: "product.create", school_id: None, party_id: Some(party_id),
                subject: Some(&product.id),
                details: json!({"code": product.code, "name": product.name, "home_allowed": product.home_allowed}),
            });
            tx.commit().await?;
            Ok(())
        })?;
        Ok(product)
    }

    pub async fn products_of_party(&self, party_id: &str) -> Result<Vec<Product>> {
        const SQL: &str = product_select!("WHERE party_id = $1 ORDER BY code");
        reads!(self, p => {
            sqlx::query(SQL).bind(party_id).fetch_all(p).await?.iter().map(product_from).collect()
        })
    }

    pub async fn product_by_code(
        &self,
        party_id: &str,
        product_code: &str,
    ) -> Result<Option<Product>> {
        const SQL: &str = product_select!("WHERE party_id = $1 AND code = $2");
        reads!(self, p => {
            let row = sqlx::query(SQL).bind(party_id).bind(product_code).fetch_optional(p).await?;
            row.as_ref().map(product_from).transpose()
        })
    }

    pub async fn product_by_id(&self, id: &str) -> Result<Option<Product>> {
        const SQL: &str = product_select!("WHERE id = $1");
        self.cached("product_by_id", id.to_owned(), Option::is_some, || async {
            login_reads!(self, c => {
                let row = sqlx::query(SQL).bind(id).fetch_optional(c).await?;
                row.as_ref().map(product_from).transpose()
            })
        })
        .await
    }

    /// Records a licence. Members must belong to the licensed school, so that a publisher
    /// cannot license (and so receive) users of another school through a stray id.
    pub async fn create_licence(&self, new: &NewLicence, actor: &Actor) -> Result<Licence> {
        if let Some(until) = &new.valid_until
            && until < &new.valid_from
        {
            return Err(DirectoryError::invalid(
                "geldig tot",
                until.as_str(),
                "de einddatum ligt voor de begindatum",
                "the end date lies before the start date",
            ));
        }
        if self.school_by_id(&new.school_id).await?.is_none() {
            return Err(DirectoryError::not_found("school", new.school_id.as_str()));
        }
        if self.product_by_id(&new.product_id).await?.is_none() {
            return Err(DirectoryError::not_found(
                "product",
                new.product_id.as_str(),
            ));
        }
        let (scope, members) = match &new.scope {
            LicenceScope::School => ("school", Vec::new()),
            LicenceScope::Members(m) if m.is_empty() => {
                return Err(DirectoryError::invalid(
                    "licentie",
                    "",
                    "een licentie voor groepen of gebruikers noemt er minstens een",
                    "a licence for groups or users names at least one",
                ));
            }
            LicenceScope::Members(m) => ("members", m.clone()),
        };
        for member in &members {
            self.check_member_of_school(member, &new.school_id).await?;
        }
        let licence = Licence {
            id: new_id(),
            school_id: new.school_id.clone(),
            product_id: new.product_id.clone(),
            scope: new.scope.clone(),
            valid_from: new.valid_from.to_string(),
            valid_until: new.valid_until.as_ref().map(|d| d.to_string()),
        };
        writes!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("INSERT INTO licences (id, school_id, product_id, scope, valid_from, valid_until, created_by, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(&licence.id).bind(&licence.school_id).bind(&licence.product_id).bind(scope)
                .bind(&licence.valid_from).bind(&licence.valid_until).bind(actor.0.as_str()).bind(now())
                .execute(&mut *tx).await?;
            for m in &members {
                let (kind, id) = m.parts();
                sqlx::query("INSERT INTO licence_members (licence_id, member_kind, member_id) VALUES ($1, $2, $3)")
                    .bind(&licence.id).bind(kind).bind(id).execute(&mut *tx).await
                    .map_err(unique_as("licentiehouder", id))?;
            }
            append!(&mut *tx, AuditEvent {
                actor, action: "licence.create", school_id: Some(&licence.school_id), party_id: None,
                subject: Some(&licence.id),
                details: json!({"product_id": licence.product_id, "scope": licence.scope,
                                "valid_from": licence.valid_from, "valid_until": licence.valid_until}),
            });
            tx.commit().await?;
            Ok(())
        })?;
        Ok(licence)
    }

    async fn check_member_of_school(&self, member: &LicenceMember, school_id: &str) -> Result<()> {
        let belongs = match member {
            LicenceMember::Group(id) => self
                .groups_of_school(school_id)
                .await?
                .iter()
                .any(|g| &g.id == id),
            LicenceMember::Pupil(id) => self
                .pupil_by_id(id)
                .await?
                .is_some_and(|p| p.school_id == school_id),
            LicenceMember::Staff(id) => self
                .schools_of_staff(id)
                .await?
                .iter()
                .any(|s| s.school_id == school_id),
        };
        if belongs {
            Ok(())
        } else {
            let (kind, id) = member.parts();
            Err(DirectoryError::Invalid {
                field: "licentiehouder",
                value: format!("{kind}:{id}"),
                rule_nl: "hoort niet bij de school van de licentie",
                rule_en: "does not belong to the licensed school",
            })
        }
    }

    /// Every licence a school holds, with its members, in one round trip.
    pub async fn licences_of_school(&self, school_id: &str) -> Result<Vec<Licence>> {
        let keep = |l: &Vec<Licence>| !l.is_empty();
        self.cached("licences_of_school", school_id.to_owned(), keep, || async {
            login_reads!(self, c => {
                let rows = sqlx::query(LICENCES_OF_SCHOOL).bind(school_id).fetch_all(c).await?;
                licences_from(&rows)
            })
        })
        .await
    }

    /// Everything a release decision about a pupil reads, on one connection: the register's
    /// cost is mostly the hop to a connection (for SQLite, its worker thread), not the query,
    /// so seven reads on one connection cost far less than seven taken from the pool. Kept in
    /// the read cache (see `cache.rs` for when a change is seen) once all three parties exist.
    /// `lika` holds the pupil's and the school's numbers for the party (the broker computes
    /// them from these ids, so they add nothing to the cache's key).
    pub async fn pupil_release_facts(
        &self,
        school_id: &str,
        party_id: &str,
        pupil_id: &str,
        lika: &crate::lika::LikaKey,
    ) -> Result<PupilReleaseFacts> {
        self.cached("pupil_release_facts", format!("{school_id}/{party_id}/{pupil_id}"), PupilReleaseFacts::complete, || async {
            const SCHOOL: &str = "SELECT id, board_id, brin, vestigingscode, name, instelling_ref, active, \
                 merged_into, home_login_allowed, picture_password_enabled FROM schools WHERE id = $1";
            const PARTY: &str = "SELECT id, code, kind, name FROM parties WHERE id = $1";
            const PRODUCTS: &str = product_select!("WHERE party_id = $1 ORDER BY code");
            const CONSENT: &str =
                consent_select!("WHERE school_id = $1 AND party_id = $2 AND revoked_at IS NULL");
            const ATTRIBUTES: &str =
                "SELECT attribute FROM party_release_attributes WHERE party_id = $1 ORDER BY attribute";
            login_reads!(self, c => {
                let school = sqlx::query(SCHOOL).bind(school_id).fetch_optional(&mut *c).await?
                    .as_ref().map(crate::schools::school_from).transpose()?;
                let party = sqlx::query(PARTY).bind(party_id).fetch_optional(&mut *c).await?
                    .as_ref().map(party_from).transpose()?;
                let rows = sqlx::query(crate::pupil_login::PUPIL_WITH_GROUP_KEYS)
                    .bind(pupil_id).fetch_all(&mut *c).await?;
                let pupil = crate::pupil_login::pupil_with_group_keys_from(&rows)?;
                let products = sqlx::query(PRODUCTS).bind(party_id).fetch_all(&mut *c).await?
                    .iter().map(product_from).collect::<Result<Vec<_>>>()?;
                let rows = sqlx::query(LICENCES_OF_SCHOOL).bind(school_id).fetch_all(&mut *c).await?;
                let licences = licences_from(&rows)?;
                let consent = sqlx::query(CONSENT).bind(school_id).bind(party_id)
                    .fetch_optional(&mut *c).await?
                    .as_ref().map(consent_from).transpose()?;
                let release_attributes = sqlx::query(ATTRIBUTES).bind(party_id).fetch_all(&mut *c).await?
                    .iter().map(|r| r.text("attribute")).collect::<Result<Vec<_>>>()?;
                let eck_id = pupil.as_ref().and_then(|(p, _)| p.eck_id.clone());
                let lika_products = crate::lika::fetch_grants!(&mut *c, std::slice::from_ref(lika), eck_id.as_deref())
                    .into_iter().map(|(_, product_id)| product_id).collect();
                Ok(PupilReleaseFacts { school, party, pupil, products, licences, consent, release_attributes, lika_products })
            })
        })
        .await
    }

    /// Records that a school consents to a party receiving its data. Granting an existing
    /// consent again changes nothing and returns the open one.
    pub async fn grant_consent(
        &self,
        school_id: &str,
        party_id: &str,
        actor: &Actor,
    ) -> Result<Consent> {
        if let Some(open) = self.open_consent(school_id, party_id).await? {
            return Ok(open);
        }
        if self.school_by_id(school_id).await?.is_none() {
            return Err(DirectoryError::not_found("school", school_id));
        }
        if self.party_by_id(party_id).await?.is_none() {
            return Err(DirectoryError::not_found("partij", party_id));
        }
        let consent = Consent {
            id: new_id(),
            school_id: school_id.to_owned(),
            party_id: party_id.to_owned(),
            granted_by: actor.0.clone(),
            granted_at: now(),
            revoked_by: None,
            revoked_at: None,
        };
        writes!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("INSERT INTO consents (id, school_id, party_id, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(&consent.id).bind(school_id).bind(party_id).bind(&consent.granted_by).bind(consent.granted_at)
                .execute(&mut *tx).await
                .map_err(unique_as("toestemming", party_id))?;
            // The consent answers the party's waiting request, if it asked.
            sqlx::query(crate::permission_requests::CLOSE_OPEN)
                .bind(&consent.granted_by).bind(consent.granted_at).bind(school_id).bind(party_id).bind("consent")
                .execute(&mut *tx).await?;
            append!(&mut *tx, AuditEvent {
                actor, action: "consent.grant", school_id: Some(school_id), party_id: Some(party_id),
                subject: Some(&consent.id), details: json!({}),
            });
            tx.commit().await?;
            Ok(())
        })?;
        Ok(consent)
    }

    /// Ends a school's consent to a party. The row stays, closed, as history.
    pub async fn revoke_consent(
        &self,
        school_id: &str,
        party_id: &str,
        actor: &Actor,
    ) -> Result<Consent> {
        let open = self
            .open_consent(school_id, party_id)
            .await?
            .ok_or_else(|| DirectoryError::not_found("toestemming", party_id))?;
        let t = now();
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query("UPDATE consents SET revoked_by = $1, revoked_at = $2 WHERE id = $3 AND revoked_at IS NULL")
                .bind(actor.0.as_str()).bind(t).bind(&open.id).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(DirectoryError::not_found("toestemming", party_id));
            }
            // A request that raced with the consent is answered by it: it must not come back.
            sqlx::query(crate::permission_requests::CLOSE_OPEN)
                .bind(actor.0.as_str()).bind(t).bind(school_id).bind(party_id).bind("consent")
                .execute(&mut *tx).await?;
            append!(&mut *tx, AuditEvent {
                actor, action: "consent.revoke", school_id: Some(school_id), party_id: Some(party_id),
                subject: Some(&open.id), details: json!({}),
            });
            tx.commit().await?;
            Ok(())
        })?;
        Ok(Consent {
            revoked_by: Some(actor.0.clone()),
            revoked_at: Some(t),
            ..open
        })
    }

    /// The consent in force between a school and a party, if any.
    pub async fn open_consent(&self, school_id: &str, party_id: &str) -> Result<Option<Consent>> {
        const SQL: &str =
            consent_select!("WHERE school_id = $1 AND party_id = $2 AND revoked_at IS NULL");
        reads!(self, p => {
            let row = sqlx::query(SQL).bind(school_id).bind(party_id).fetch_optional(p).await?;
            row.as_ref().map(consent_from).transpose()
        })
    }

    /// All consents of a school, open and revoked, oldest first.
    pub async fn consent_history(&self, school_id: &str) -> Result<Vec<Consent>> {
        // Every portal view reads it (which parties' LIKA grants to ask for).
        self.cached(
            "consent_history",
            school_id.to_owned(),
            |c: &Vec<Consent>| !c.is_empty(),
            || async {
                const SQL: &str = consent_select!(
                    "WHERE school_id = $1 ORDER BY granted_at, (revoked_at IS NULL), id"
                );
                login_reads!(self, c => {
                    sqlx::query(SQL).bind(school_id).fetch_all(c).await?.iter().map(consent_from).collect()
                })
            },
        )
        .await
    }

    /// Allows a party to receive one attribute beyond the default set. Which names exist is the
    /// broker's catalogue; the register only keeps the grant and who made it.
    pub async fn allow_release_attribute(
        &self,
        party_id: &str,
        attribute: &str,
        actor: &Actor,
    ) -> Result<()> {
        if self.party_by_id(party_id).await?.is_none() {
            return Err(DirectoryError::not_found("partij", party_id));
        }
        writes!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("INSERT INTO party_release_attributes (party_id, attribute, granted_by, granted_at) VALUES ($1, $2, $3, $4)")
                .bind(party_id).bind(attribute).bind(actor.0.as_str()).bind(now())
                .execute(&mut *tx).await
                .map_err(unique_as("attribuut", attribute))?;
            append!(&mut *tx, AuditEvent {
                actor, action: "party.release_attribute.allow", school_id: None, party_id: Some(party_id),
                subject: None, details: json!({"attribute": attribute}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn disallow_release_attribute(
        &self,
        party_id: &str,
        attribute: &str,
        actor: &Actor,
    ) -> Result<()> {
        writes!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query("DELETE FROM party_release_attributes WHERE party_id = $1 AND attribute = $2")
                .bind(party_id).bind(attribute).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(DirectoryError::not_found("attribuut", attribute));
            }
            append!(&mut *tx, AuditEvent {
                actor, action: "party.release_attribute.disallow", school_id: None, party_id: Some(party_id),
                subject: None, details: json!({"attribute": attribute}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    /// The extra attributes a party may receive, sorted.
    pub async fn release_attributes_of(&self, party_id: &str) -> Result<Vec<String>> {
        const SQL: &str =
            "SELECT attribute FROM party_release_attributes WHERE party_id = $1 ORDER BY attribute";
        reads!(self, p => {
            let rows = sqlx::query(SQL).bind(party_id).fetch_all(p).await?;
            rows.iter().map(|r| r.text("attribute")).collect()
        })
    }
}
