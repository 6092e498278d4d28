//! The hosted licence API's part of the register ("Hosted LIKA"): a publisher's methods and
//! products as it writes them over the partner listener, who may use them, and the URL prefixes
//! the operator allows its methods and products to point to.
//!
//! A LIKA product is a product of openpoort (its `code` the publisher's product id), so that
//! tiles, icons, launches and the release decision treat it as every other product; a method is
//! the title its products belong to (`products.methode` carries the method's name). Access lists
//! hold the numbers the publisher sent: the pairwise numbers of users it read from the partner
//! API, or (school number, ECK-iD) pairs. Those are one-way; a decision computes a user's numbers
//! for the party and asks [`Directory::lika_grants`], which looks them up by index.
//!
//! Every write takes the party's row first (`UPDATE parties SET name = name`), so that one
//! publisher's writes run one after the other: a check inside the transaction (an id taken, a
//! URL allowed) holds until the commit, and parallel calls end as some order of them would.

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::json;
use sqlx::AssertSqlSafe;

use crate::audit::{AuditEvent, append};
use crate::db::{login_reads, reads, writes};
use crate::error::{DirectoryError, Result, unique_as};
use crate::model::{EckId, WebUrl, display_name};
use crate::row::RowExt;
use crate::{Actor, Directory, new_id, now};

/// An icon is a tile's picture: this is far more than one needs (the same limit as icons
/// openpoort fetches itself).
pub const ICON_MAX_BYTES: usize = 256 * 1024;

/// The tags Basispoort's LIKA knows.
pub const TAGS: [&str; 2] = ["leerkrachtApplicatie", "toetsApplicatie"];

/// How many numbers one statement inserts or removes: well below either backend's limit on
/// parameters, large enough that a school's list is a handful of round trips.
const CHUNK: usize = 200;

/// What a publisher writes about a method or a product (Basispoort's `MethodDetails` and
/// `ProductDetails`). Optional fields are `None` when the publisher sent `null` or nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Application {
    /// The publisher's id: a path segment of the API, unique per publisher among its methods,
    /// and among its products.
    pub id: String,
    pub code: Option<String>,
    pub name: String,
    /// `mime,base64` (PNG, JPEG, GIF or SVG).
    pub icon: Option<String>,
    pub icon_url: Option<String>,
    /// Required for a product: where its tile leads.
    pub url: Option<String>,
    /// Sorted, each once.
    pub tags: Vec<String>,
}

/// Whether an [`Application`] describes a method or a product; products need a URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Method,
    Product,
}

impl Application {
    /// The same application with every field checked and put in its stored form (trimmed
    /// names, a re-encoded icon, URLs as parsed, tags sorted); the first broken rule otherwise.
    pub fn checked(self, kind: Kind) -> Result<Application> {
        let id = application_id(&self.id)?;
        let code = self
            .code
            .as_deref()
            .map(|c| display_name("code", c))
            .transpose()?;
        let name = display_name("naam", &self.name)?;
        let icon = self
            .icon
            .as_deref()
            .map(|i| Icon::parse(i).map(|i| i.to_text()))
            .transpose()?;
        let icon_url = self
            .icon_url
            .as_deref()
            .map(|u| WebUrl::parse("iconUrl", u).map(|u| u.to_string()))
            .transpose()?;
        let url = self
            .url
            .as_deref()
            .map(|u| WebUrl::parse("url", u).map(|u| u.to_string()))
            .transpose()?;
        if kind == Kind::Product && url.is_none() {
            return Err(DirectoryError::invalid(
                "url",
                "null",
                "een product heeft een url: het adres waar de tegel naartoe leidt",
                "a product has a url: the address its tile leads to",
            ));
        }
        let mut tags = BTreeSet::new();
        for tag in &self.tags {
            if !TAGS.contains(&tag.as_str()) {
                return Err(DirectoryError::invalid(
                    "tags",
                    tag.as_str(),
                    "bekende tags zijn leerkrachtApplicatie en toetsApplicatie",
                    "the known tags are leerkrachtApplicatie and toetsApplicatie",
                ));
            }
            tags.insert(tag.clone());
        }
        Ok(Application {
            id,
            code,
            name,
            icon,
            icon_url,
            url,
            tags: tags.into_iter().collect(),
        })
    }

    /// The URLs that must lie under one of the party's allowed prefixes.
    fn urls(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("url", self.url.as_deref()),
            ("iconUrl", self.icon_url.as_deref()),
        ]
        .into_iter()
        .filter_map(|(field, url)| url.map(|u| (field, u)))
    }
}

/// A method or product id: it is a path segment, so letters, digits and `. _ ~ -` only.
fn application_id(value: &str) -> Result<String> {
    let ok = (1..=100).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-'))
        && value != "."
        && value != "..";
    if ok {
        Ok(value.to_owned())
    } else {
        Err(DirectoryError::invalid(
            "id",
            value,
            "een id is 1 tot 100 tekens: letters, cijfers en . _ ~ -",
            "an id is 1 to 100 characters: letters, digits and . _ ~ -",
        ))
    }
}

/// An icon as LIKA sends it, `mime,base64`, decoded and checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Icon {
    pub media_type: &'static str,
    pub bytes: Vec<u8>,
}

impl Icon {
    pub fn parse(text: &str) -> Result<Icon> {
        let invalid = |rule_nl, rule_en| {
            // The value can be a quarter megabyte of base64: name its start only.
            let shown: String = text.chars().take(40).collect();
            DirectoryError::invalid("icon", shown, rule_nl, rule_en)
        };
        let Some((declared, data)) = text.split_once(',') else {
            return Err(invalid(
                "een icoon is 'mediatype,base64', bijvoorbeeld image/png,iVBORw0KGgo…",
                "an icon is 'media type,base64', for example image/png,iVBORw0KGgo…",
            ));
        };
        let media_type = match declared.trim().to_ascii_lowercase().as_str() {
            "image/png" => "image/png",
            "image/jpeg" => "image/jpeg",
            "image/gif" => "image/gif",
            "image/svg+xml" => "image/svg+xml",
            _ => {
                return Err(invalid(
                    "het mediatype van een icoon is image/png, image/jpeg, image/gif of image/svg+xml",
                    "an icon's media type is image/png, image/jpeg, image/gif or image/svg+xml",
                ));
            }
        };
        let data: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        if data.len() > ICON_MAX_BYTES.div_ceil(3) * 4 {
            return Err(invalid(
                "een icoon is hoogstens 256 KiB",
                "an icon is at most 256 KiB",
            ));
        }
        let bytes = STANDARD.decode(data.as_bytes()).map_err(|_| {
            invalid(
                "de gegevens na de komma zijn geen geldige base64",
                "the data after the comma is not valid base64",
            )
        })?;
        if bytes.len() > ICON_MAX_BYTES {
            return Err(invalid(
                "een icoon is hoogstens 256 KiB",
                "an icon is at most 256 KiB",
            ));
        }
        let matches = match media_type {
            "image/png" => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            "image/jpeg" => bytes.starts_with(&[0xff, 0xd8, 0xff]),
            "image/gif" => bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a"),
            _ => svg_is_acceptable(&bytes),
        };
        if !matches {
            return Err(invalid(
                "de gegevens zijn geen afbeelding van het opgegeven mediatype (een SVG-icoon mag geen script, foreignObject of entiteiten bevatten)",
                "the data is no image of the given media type (an SVG icon must not hold script, foreignObject or entities)",
            ));
        }
        Ok(Icon { media_type, bytes })
    }

    /// The stored and answered form.
    pub fn to_text(&self) -> String {
        format!("{},{}", self.media_type, STANDARD.encode(&self.bytes))
    }
}

/// An SVG document without what would make it active content. It is served with a sandboxing
/// Content-Security-Policy all the same; this refuses the obvious at the door.
fn svg_is_acceptable(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let lower = text.to_ascii_lowercase();
    lower.contains("<svg")
        && !["<script", "<foreignobject", "<!entity", "javascript:"]
            .iter()
            .any(|bad| lower.contains(bad))
}

/// A URL prefix a party's LIKA URLs may start with: https, a host, an optional port and an
/// optional path. A URL is under it when scheme, host and port are equal and its path is the
/// prefix's path or continues it after a `/` (so `/apps` covers `/apps/x`, not `/appstore`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UrlPrefix {
    text: String,
    #[serde(skip)]
    host: String,
    #[serde(skip)]
    port: u16,
    #[serde(skip)]
    path: String,
}

impl UrlPrefix {
    pub fn parse(value: &str) -> Result<UrlPrefix> {
        let invalid = || {
            DirectoryError::invalid(
                "URL-voorvoegsel",
                value,
                "geef https://host[:poort][/pad] zonder gebruikersnaam, wachtwoord, query of #",
                "give https://host[:port][/path] without user name, password, query or #",
            )
        };
        let url = url::Url::parse(value.trim()).map_err(|_| invalid())?;
        let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
            return Err(invalid());
        };
        if url.scheme() != "https"
            || !url.username().is_empty()
            || url.password().is_some()
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(invalid());
        }
        let path = url.path().to_owned();
        let text = match url.port() {
            Some(p) => format!("https://{host}:{p}{path}"),
            None => format!("https://{host}{path}"),
        };
        Ok(UrlPrefix {
            text,
            host: host.to_owned(),
            port,
            path,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `url` lies under this prefix, compared as parsed URLs.
    pub fn covers(&self, url: &str) -> bool {
        let Ok(url) = url::Url::parse(url) else {
            return false;
        };
        let path = url.path();
        url.scheme() == "https"
            && url.host_str() == Some(self.host.as_str())
            && url.port_or_known_default() == Some(self.port)
            && (self.path == "/"
                || path == self.path
                || (self.path.ends_with('/') && path.starts_with(&self.path))
                || path
                    .strip_prefix(self.path.as_str())
                    .is_some_and(|rest| rest.starts_with('/')))
    }
}

/// A registered method.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LikaMethod {
    /// The register's own id.
    pub key: String,
    pub party_id: String,
    pub application: Application,
}

/// A registered product.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LikaProduct {
    /// The product's id in openpoort (`products.id`: tiles, icons, licences).
    pub product_id: String,
    /// The publisher's id of the method it belongs to.
    pub method: String,
    pub application: Application,
}

/// Whether a PUT made the method or product or replaced it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    Created,
    Replaced,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// POST: a new one; an id in use is a conflict.
    Create,
    /// PUT: replace, or make when there is none (as Basispoort's PUT does).
    Put,
}

/// Whose access list: a method's, or a product's of a method (publisher's ids).
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    Method(&'a str),
    Product { method: &'a str, product: &'a str },
}

/// A user known by ECK-iD at a school, both as the publisher knows them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ChainId {
    /// The school's number for this party (`instellingId`).
    pub school_number: i64,
    pub eck_id: String,
}

/// The entries of one access list call.
#[derive(Clone, Debug)]
pub enum Entries {
    Users(Vec<i64>),
    Chains(Vec<ChainId>),
}

impl Entries {
    fn checked(&self) -> Result<Entries> {
        Ok(match self {
            Entries::Users(users) => Entries::Users(check_users(users)?),
            Entries::Chains(chains) => Entries::Chains(check_chains(chains)?),
        })
    }

    fn table(&self) -> &'static str {
        match self {
            Entries::Users(_) => "lika_user_access",
            Entries::Chains(_) => "lika_eck_access",
        }
    }

    fn len(&self) -> usize {
        match self {
            Entries::Users(u) => u.len(),
            Entries::Chains(c) => c.len(),
        }
    }
}

/// Numbers the partner API hands out are positive and below 2^53.
fn check_number(field: &'static str, n: i64) -> Result<i64> {
    if (1..(1i64 << 53)).contains(&n) {
        Ok(n)
    } else {
        Err(DirectoryError::invalid(
            field,
            n.to_string(),
            "een nummer uit de partner-API is een geheel getal van 1 tot 2^53",
            "a number of the partner API is an integer from 1 to 2^53",
        ))
    }
}

fn check_users(users: &[i64]) -> Result<Vec<i64>> {
    let set: BTreeSet<i64> = users
        .iter()
        .map(|n| check_number("gebruikers", *n))
        .collect::<Result<_>>()?;
    Ok(set.into_iter().collect())
}

fn check_chains(chains: &[ChainId]) -> Result<Vec<ChainId>> {
    let set: BTreeSet<ChainId> = chains
        .iter()
        .map(|c| {
            Ok(ChainId {
                school_number: check_number("instellingId", c.school_number)?,
                eck_id: EckId::parse(&c.eck_id)?.to_string(),
            })
        })
        .collect::<Result<_>>()?;
    Ok(set.into_iter().collect())
}

/// What to do with an access list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Edit {
    /// The list becomes exactly the entries.
    Replace,
    Add,
    /// Entries not on the list are ignored.
    Remove,
    /// The list becomes empty (the entries' kind says which list).
    Clear,
}

/// A bulk grant or revoke: every listed user to or from every listed method and product.
#[derive(Clone, Debug, Default)]
pub struct Bulk {
    pub methods: Vec<String>,
    pub products: Vec<String>,
    pub users: Vec<i64>,
    pub chains: Vec<ChainId>,
}

/// A user's numbers for one party: what [`Directory::lika_grants`] looks up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LikaKey {
    pub party_id: String,
    pub user_number: i64,
    pub school_number: i64,
}

fn tags_text(tags: &[String]) -> String {
    tags.join(",")
}

fn tags_from(text: &str) -> Vec<String> {
    text.split(',')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

fn method_from(r: &impl RowExt) -> Result<LikaMethod> {
    Ok(LikaMethod {
        key: r.text("id")?,
        party_id: r.text("party_id")?,
        application: Application {
            id: r.text("method")?,
            code: r.opt_text("code")?,
            name: r.text("name")?,
            icon: r.opt_text("icon")?,
            icon_url: r.opt_text("icon_url")?,
            url: r.opt_text("url")?,
            tags: tags_from(&r.text("tags")?),
        },
    })
}

fn product_from(r: &impl RowExt) -> Result<LikaProduct> {
    Ok(LikaProduct {
        product_id: r.text("id")?,
        method: r.text("method")?,
        application: Application {
            id: r.text("code")?,
            code: r.opt_text("lika_code")?,
            name: r.text("name")?,
            icon: r.opt_text("icon")?,
            icon_url: r.opt_text("icon_url")?,
            url: Some(r.text("launch_url")?),
            tags: tags_from(&r.text("tags")?),
        },
    })
}

macro_rules! method_select {
    ($tail:literal) => {
        concat!(
            "SELECT id, party_id, method, code, name, icon, icon_url, url, tags FROM lika_methods ",
            $tail
        )
    };
}

macro_rules! lika_product_select {
    ($tail:literal) => {
        concat!(
            "SELECT p.id, p.code, p.name, p.launch_url, p.icon_url, lp.code AS lika_code, lp.icon, lp.tags, m.method \
             FROM products p JOIN lika_products lp ON lp.product_id = p.id \
             JOIN lika_methods m ON m.id = lp.method_id ",
            $tail
        )
    };
}

/// The products (openpoort's ids) that the keys' users may use through LIKA, per party: a
/// product's own list or its method's, by user number or by school number and ECK-iD.
pub(crate) fn grants_sql(keys: usize) -> String {
    let values = (0..keys)
        .map(|i| format!("(${}, ${}, ${})", 3 * i + 2, 3 * i + 3, 3 * i + 4))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "WITH k (party_id, user_number, school_number) AS (VALUES {values}) \
         SELECT k.party_id, lp.product_id FROM k \
           JOIN lika_user_access a ON a.party_id = k.party_id AND a.user_number = k.user_number \
           JOIN lika_products lp ON lp.product_id = a.product_id OR lp.method_id = a.method_id \
         UNION \
         SELECT k.party_id, lp.product_id FROM k \
           JOIN lika_eck_access e ON e.party_id = k.party_id AND e.school_number = k.school_number AND e.eck_id = $1 \
           JOIN lika_products lp ON lp.product_id = e.product_id OR lp.method_id = e.method_id \
         ORDER BY 1, 2"
    )
}

/// Runs [`grants_sql`] on `$c` (a connection or pool of either backend).
macro_rules! fetch_grants {
    ($c:expr, $keys:expr, $eck:expr) => {{
        let keys: &[$crate::lika::LikaKey] = $keys;
        if keys.is_empty() {
            Vec::new()
        } else {
            let sql = $crate::lika::grants_sql(keys.len());
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind($eck);
            for k in keys {
                q = q
                    .bind(k.party_id.as_str())
                    .bind(k.user_number)
                    .bind(k.school_number);
            }
            q.fetch_all($c)
                .await?
                .iter()
                .map(|r| {
                    Ok((
                        $crate::row::RowExt::text(r, "party_id")?,
                        $crate::row::RowExt::text(r, "product_id")?,
                    ))
                })
                .collect::<$crate::error::Result<Vec<(String, String)>>>()?
        }
    }};
}
pub(crate) use fetch_grants;

/// Takes the party's row for the rest of the transaction (see the module comment); not found
/// when there is no such party.
macro_rules! take_party {
    ($tx:expr, $party_id:expr) => {{
        let taken = sqlx::query("UPDATE parties SET name = name WHERE id = $1")
            .bind($party_id)
            .execute(&mut *$tx)
            .await?;
        if taken.rows_affected() == 0 {
            return Err(DirectoryError::not_found("partij", $party_id));
        }
    }};
}

/// The party's allowed URL prefixes, read inside the transaction.
macro_rules! prefixes_in {
    ($tx:expr, $party_id:expr) => {{
        sqlx::query("SELECT prefix FROM party_url_prefixes WHERE party_id = $1 ORDER BY prefix")
            .bind($party_id)
            .fetch_all(&mut *$tx)
            .await?
            .iter()
            .map(|r| UrlPrefix::parse(&r.text("prefix")?))
            .collect::<Result<Vec<UrlPrefix>>>()?
    }};
}

/// Resolves a [`Target`] inside the transaction: the column of the access tables that names
/// it and the register's id; not found when the method or product does not exist.
macro_rules! resolve_target {
    ($tx:expr, $party_id:expr, $target:expr) => {{
        match $target {
            Target::Method(method) => {
                let row =
                    sqlx::query("SELECT id FROM lika_methods WHERE party_id = $1 AND method = $2")
                        .bind($party_id)
                        .bind(method)
                        .fetch_optional(&mut *$tx)
                        .await?;
                match row {
                    Some(r) => ("method_id", r.text("id")?),
                    None => return Err(DirectoryError::not_found("methode", method)),
                }
            }
            Target::Product { method, product } => {
                let row = sqlx::query(
                    "SELECT p.id FROM products p JOIN lika_products lp ON lp.product_id = p.id \
                     JOIN lika_methods m ON m.id = lp.method_id \
                     WHERE p.party_id = $1 AND p.code = $2 AND m.method = $3",
                )
                .bind($party_id)
                .bind(product)
                .bind(method)
                .fetch_optional(&mut *$tx)
                .await?;
                match row {
                    Some(r) => ("product_id", r.text("id")?),
                    None => return Err(DirectoryError::not_found("product", product)),
                }
            }
        }
    }};
}

/// Adds or removes `$entries` on one target (`$column` = `$target_id`) inside the transaction.
macro_rules! change_entries {
    ($tx:expr, $party_id:expr, $column:expr, $target_id:expr, $entries:expr, $add:expr) => {{
        let (column, target_id): (&str, &str) = ($column, $target_id);
        match $entries {
            Entries::Users(users) => {
                for chunk in users.chunks(CHUNK) {
                    let sql = if $add {
                        let rows = (0..chunk.len())
                            .map(|i| format!("($1, $2, ${})", i + 3))
                            .collect::<Vec<_>>()
                            .join(", ");
                        format!("INSERT INTO lika_user_access (party_id, {column}, user_number) VALUES {rows} ON CONFLICT DO NOTHING")
                    } else {
                        let list = (0..chunk.len())
                            .map(|i| format!("${}", i + 3))
                            .collect::<Vec<_>>()
                            .join(", ");
                        format!("DELETE FROM lika_user_access WHERE party_id = $1 AND {column} = $2 AND user_number IN ({list})")
                    };
                    let mut q = sqlx::query(AssertSqlSafe(sql)).bind($party_id).bind(target_id);
                    for n in chunk {
                        q = q.bind(*n);
                    }
                    q.execute(&mut *$tx).await?;
                }
            }
            Entries::Chains(chains) => {
                for chunk in chains.chunks(CHUNK) {
                    let sql = if $add {
                        let rows = (0..chunk.len())
                            .map(|i| format!("($1, $2, ${}, ${})", 2 * i + 3, 2 * i + 4))
                            .collect::<Vec<_>>()
                            .join(", ");
                        format!("INSERT INTO lika_eck_access (party_id, {column}, school_number, eck_id) VALUES {rows} ON CONFLICT DO NOTHING")
                    } else {
                        let pairs = (0..chunk.len())
                            .map(|i| format!("(school_number = ${} AND eck_id = ${})", 2 * i + 3, 2 * i + 4))
                            .collect::<Vec<_>>()
                            .join(" OR ");
                        format!("DELETE FROM lika_eck_access WHERE party_id = $1 AND {column} = $2 AND ({pairs})")
                    };
                    let mut q = sqlx::query(AssertSqlSafe(sql)).bind($party_id).bind(target_id);
                    for c in chunk {
                        q = q.bind(c.school_number).bind(c.eck_id.as_str());
                    }
                    q.execute(&mut *$tx).await?;
                }
            }
        }
    }};
}

/// Refuses a URL that lies under none of the party's prefixes.
fn check_allowed(app: &Application, prefixes: &[UrlPrefix]) -> Result<()> {
    for (field, url) in app.urls() {
        if !prefixes.iter().any(|p| p.covers(url)) {
            return Err(DirectoryError::invalid(
                field,
                url,
                "staat niet op de lijst van adressen die je organisatie mag gebruiken; vraag de beheerder van openpoort het adres (https://host[/pad]) toe te voegen",
                "is not on the list of addresses your organisation may use; ask openpoort's operator to add the address (https://host[/path])",
            ));
        }
    }
    Ok(())
}

impl Directory {
    // -----------------------------------------------------------------------------------------
    // URL prefixes

    /// Allows a party's LIKA URLs under `prefix`. Allowing one allowed already is a duplicate.
    pub async fn allow_party_url(
        &self,
        party_id: &str,
        prefix: &str,
        actor: &Actor,
    ) -> Result<UrlPrefix> {
        let prefix = UrlPrefix::parse(prefix)?;
        writes!(self, p => {
            let mut tx = p.begin().await?;
            take_party!(tx, party_id);
            sqlx::query("INSERT INTO party_url_prefixes (party_id, prefix, created_by, created_at) VALUES ($1, $2, $3, $4)")
                .bind(party_id).bind(prefix.as_str()).bind(actor.0.as_str()).bind(now())
                .execute(&mut *tx).await
                .map_err(unique_as("URL-voorvoegsel", prefix.as_str()))?;
            append!(&mut *tx, AuditEvent {
                actor, action: "party.url.allow", school_id: None, party_id: Some(party_id),
                subject: None, details: json!({"prefix": prefix.as_str()}),
            });
            tx.commit().await?;
            Ok(())
        })?;
        Ok(prefix)
    }

    /// Takes a prefix off the party's list. Methods and products registered under it keep
    /// their URLs; their next change must name an allowed one.
    pub async fn disallow_party_url(
        &self,
        party_id: &str,
        prefix: &str,
        actor: &Actor,
    ) -> Result<()> {
        // As typed, or in the form it was stored in.
        let stored = UrlPrefix::parse(prefix)
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|_| prefix.to_owned());
        writes!(self, p => {
            let mut tx = p.begin().await?;
            take_party!(tx, party_id);
            let done = sqlx::query("DELETE FROM party_url_prefixes WHERE party_id = $1 AND prefix = $2")
                .bind(party_id).bind(&stored).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(DirectoryError::not_found("URL-voorvoegsel", stored.as_str()));
            }
            append!(&mut *tx, AuditEvent {
                actor, action: "party.url.disallow", school_id: None, party_id: Some(party_id),
                subject: None, details: json!({"prefix": stored}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    /// The party's allowed URL prefixes, sorted.
    pub async fn party_url_prefixes(&self, party_id: &str) -> Result<Vec<UrlPrefix>> {
        const SQL: &str =
            "SELECT prefix FROM party_url_prefixes WHERE party_id = $1 ORDER BY prefix";
        reads!(self, p => {
            sqlx::query(SQL).bind(party_id).fetch_all(p).await?
                .iter().map(|r| UrlPrefix::parse(&r.text("prefix")?)).collect()
        })
    }

    // -----------------------------------------------------------------------------------------
    // Methods

    /// The party's methods, by id.
    pub async fn lika_methods(&self, party_id: &str) -> Result<Vec<LikaMethod>> {
        const SQL: &str = method_select!("WHERE party_id = $1 ORDER BY method");
        reads!(self, p => {
            sqlx::query(SQL).bind(party_id).fetch_all(p).await?.iter().map(method_from).collect()
        })
    }

    pub async fn lika_method(&self, party_id: &str, method: &str) -> Result<Option<LikaMethod>> {
        const SQL: &str = method_select!("WHERE party_id = $1 AND method = $2");
        reads!(self, p => {
            let row = sqlx::query(SQL).bind(party_id).bind(method).fetch_optional(p).await?;
            row.as_ref().map(method_from).transpose()
        })
    }

    /// A new method; an id the party uses already is a duplicate.
    pub async fn create_lika_method(
        &self,
        party_id: &str,
        application: Application,
        actor: &Actor,
    ) -> Result<()> {
        self.write_lika_method(party_id, application, Mode::Create, actor)
            .await
            .map(|_| ())
    }

    /// Replaces the method with the application's id, or makes it.
    pub async fn put_lika_method(
        &self,
        party_id: &str,
        application: Application,
        actor: &Actor,
    ) -> Result<Written> {
        self.write_lika_method(party_id, application, Mode::Put, actor)
            .await
    }

    async fn write_lika_method(
        &self,
        party_id: &str,
        application: Application,
        mode: Mode,
        actor: &Actor,
    ) -> Result<Written> {
        let app = application.checked(Kind::Method)?;
        let t = now();
        let tags = tags_text(&app.tags);
        writes!(self, p => {
            let mut tx = p.begin().await?;
            take_party!(tx, party_id);
            check_allowed(&app, &prefixes_in!(tx, party_id))?;
            let existing = sqlx::query("SELECT id FROM lika_methods WHERE party_id = $1 AND method = $2")
                .bind(party_id).bind(&app.id).fetch_optional(&mut *tx).await?;
            let written = match (existing, mode) {
                (Some(_), Mode::Create) => {
                    return Err(DirectoryError::Duplicate { field: "methode-id", value: app.id.clone() });
                }
                (Some(row), Mode::Put) => {
                    let key = row.text("id")?;
                    sqlx::query("UPDATE lika_methods SET code = $1, name = $2, icon = $3, icon_url = $4, url = $5, tags = $6, updated_at = $7 WHERE id = $8")
                        .bind(&app.code).bind(&app.name).bind(&app.icon).bind(&app.icon_url)
                        .bind(&app.url).bind(&tags).bind(t).bind(&key)
                        .execute(&mut *tx).await?;
                    // The products carry the method's name as their methode.
                    sqlx::query("UPDATE products SET methode = $1 WHERE id IN (SELECT product_id FROM lika_products WHERE method_id = $2)")
                        .bind(&app.name).bind(&key).execute(&mut *tx).await?;
                    Written::Replaced
                }
                (None, _) => {
                    sqlx::query("INSERT INTO lika_methods (id, party_id, method, code, name, icon, icon_url, url, tags, created_at, updated_at) \
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)")
                        .bind(new_id()).bind(party_id).bind(&app.id).bind(&app.code).bind(&app.name)
                        .bind(&app.icon).bind(&app.icon_url).bind(&app.url).bind(&tags).bind(t)
                        .execute(&mut *tx).await
                        .map_err(unique_as("methode-id", app.id.as_str()))?;
                    Written::Created
                }
            };
            append!(&mut *tx, AuditEvent {
                actor,
                action: if written == Written::Created { "lika.method.create" } else { "lika.method.replace" },
                school_id: None, party_id: Some(party_id), subject: Some(&app.id),
                details: json!({"code": app.code, "name": app.name, "url": app.url, "icon_url": app.icon_url,
                                "icon": app.icon.is_some(), "tags": app.tags}),
            });
            tx.commit().await?;
            Ok(written)
        })
    }

    /// Deletes a method with its products and every access list on them. Refused while one of
    /// its products holds a licence the operator registered: those are the school's.
    pub async fn delete_lika_method(
        &self,
        party_id: &str,
        method: &str,
        actor: &Actor,
    ) -> Result<()> {
        writes!(self, p => {
            let mut tx = p.begin().await?;
            take_party!(tx, party_id);
            let (_, key) = resolve_target!(tx, party_id, Target::Method(method));
            let licensed = sqlx::query("SELECT COUNT(*) AS n FROM licences WHERE product_id IN (SELECT product_id FROM lika_products WHERE method_id = $1)")
                .bind(&key).fetch_one(&mut *tx).await?.int("n")?;
            if licensed > 0 {
                return Err(licensed_conflict());
            }
            let products = sqlx::query("SELECT product_id FROM lika_products WHERE method_id = $1")
                .bind(&key).fetch_all(&mut *tx).await?
                .iter().map(|r| r.text("product_id")).collect::<Result<Vec<_>>>()?;
            for product_id in &products {
                // lika_products and the product's access lists go with it (ON DELETE CASCADE).
                sqlx::query("DELETE FROM products WHERE id = $1").bind(product_id).execute(&mut *tx).await?;
            }
            sqlx::query("DELETE FROM lika_methods WHERE id = $1").bind(&key).execute(&mut *tx).await?;
            append!(&mut *tx, AuditEvent {
                actor, action: "lika.method.delete", school_id: None, party_id: Some(party_id),
                subject: Some(method), details: json!({"products": products.len()}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    // -----------------------------------------------------------------------------------------
    // Products

    /// A method's products, by id; not found when the method does not exist.
    pub async fn lika_products(&self, party_id: &str, method: &str) -> Result<Vec<LikaProduct>> {
        const SQL: &str =
            lika_product_select!("WHERE p.party_id = $1 AND m.method = $2 ORDER BY p.code");
        const METHOD: &str = "SELECT id FROM lika_methods WHERE party_id = $1 AND method = $2";
        reads!(self, p => {
            if sqlx::query(METHOD).bind(party_id).bind(method).fetch_optional(p).await?.is_none() {
                return Err(DirectoryError::not_found("methode", method));
            }
            sqlx::query(SQL).bind(party_id).bind(method).fetch_all(p).await?.iter().map(product_from).collect()
        })
    }

    pub async fn lika_product(
        &self,
        party_id: &str,
        method: &str,
        product: &str,
    ) -> Result<Option<LikaProduct>> {
        const SQL: &str =
            lika_product_select!("WHERE p.party_id = $1 AND m.method = $2 AND p.code = $3");
        reads!(self, p => {
            let row = sqlx::query(SQL).bind(party_id).bind(method).bind(product).fetch_optional(p).await?;
            row.as_ref().map(product_from).transpose()
        })
    }

    /// A new product of a method; an id the party uses for a product already is a duplicate.
    pub async fn create_lika_product(
        &self,
        party_id: &str,
        method: &str,
        application: Application,
        actor: &Actor,
    ) -> Result<()> {
        self.write_lika_product(party_id, method, application, Mode::Create, actor)
            .await
            .map(|_| ())
    }

    /// Replaces the product with the application's id, or makes it under the method.
    pub async fn put_lika_product(
        &self,
        party_id: &str,
        method: &str,
        application: Application,
        actor: &Actor,
    ) -> Result<Written> {
        self.write_lika_product(party_id, method, application, Mode::Put, actor)
            .await
    }

    async fn write_lika_product(
        &self,
        party_id: &str,
        method: &str,
        application: Application,
        mode: Mode,
        actor: &Actor,
    ) -> Result<Written> {
        let app = application.checked(Kind::Product)?;
        let launch_url = app.url.clone().unwrap_or_default();
        let t = now();
        let tags = tags_text(&app.tags);
        writes!(self, p => {
            let mut tx = p.begin().await?;
            take_party!(tx, party_id);
            check_allowed(&app, &prefixes_in!(tx, party_id))?;
            let (_, method_key) = resolve_target!(tx, party_id, Target::Method(method));
            let methode: String = sqlx::query("SELECT name FROM lika_methods WHERE id = $1")
                .bind(&method_key).fetch_one(&mut *tx).await?.text("name")?;
            let existing = sqlx::query(
                "SELECT p.id, lp.method_id FROM products p LEFT JOIN lika_products lp ON lp.product_id = p.id \
                 WHERE p.party_id = $1 AND p.code = $2")
                .bind(party_id).bind(&app.id).fetch_optional(&mut *tx).await?;
            let written = match (existing, mode) {
                (Some(_), Mode::Create) => {
                    return Err(DirectoryError::Duplicate { field: "product-id", value: app.id.clone() });
                }
                (Some(row), Mode::Put) => {
                    let product_id = row.text("id")?;
                    match row.opt_text("method_id")? {
                        Some(m) if m == method_key => {}
                        Some(_) => return Err(DirectoryError::Conflict {
                            nl: format!("product {:?} hoort bij een andere methode; wijzig het daar, of verwijder het eerst", app.id),
                            en: format!("product {:?} belongs to another method; change it there, or delete it first", app.id),
                        }),
                        // A product the operator registered under this code: not the publisher's to overwrite.
                        None => return Err(DirectoryError::Duplicate { field: "product-id", value: app.id.clone() }),
                    }
                    sqlx::query("UPDATE products SET methode = $1, name = $2, launch_url = $3, icon_url = $4, icon_stored = $5 WHERE id = $6")
                        .bind(&methode).bind(&app.name).bind(&launch_url).bind(&app.icon_url)
                        .bind(app.icon.is_some()).bind(&product_id).execute(&mut *tx).await?;
                    sqlx::query("UPDATE lika_products SET code = $1, icon = $2, tags = $3, updated_at = $4 WHERE product_id = $5")
                        .bind(&app.code).bind(&app.icon).bind(&tags).bind(t).bind(&product_id)
                        .execute(&mut *tx).await?;
                    Written::Replaced
                }
                (None, _) => {
                    let product_id = new_id();
                    // Not at home unless the operator allows it (`product change --home-allowed`):
                    // LIKA has no such field, and home use is openpoort's rule to keep.
                    sqlx::query("INSERT INTO products (id, party_id, code, methode, name, launch_url, icon_url, home_allowed, created_at, icon_stored) \
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                        .bind(&product_id).bind(party_id).bind(&app.id).bind(&methode).bind(&app.name)
                        .bind(&launch_url).bind(&app.icon_url).bind(false).bind(t).bind(app.icon.is_some())
                        .execute(&mut *tx).await
                        .map_err(unique_as("product-id", app.id.as_str()))?;
                    sqlx::query("INSERT INTO lika_products (product_id, method_id, code, icon, tags, updated_at) VALUES ($1, $2, $3, $4, $5, $6)")
                        .bind(&product_id).bind(&method_key).bind(&app.code).bind(&app.icon).bind(&tags).bind(t)
                        .execute(&mut *tx).await?;
                    Written::Created
                }
            };
            append!(&mut *tx, AuditEvent {
                actor,
                action: if written == Written::Created { "lika.product.create" } else { "lika.product.replace" },
                school_id: None, party_id: Some(party_id), subject: Some(&app.id),
                details: json!({"method": method, "code": app.code, "name": app.name, "url": app.url,
                                "icon_url": app.icon_url, "icon": app.icon.is_some(), "tags": app.tags}),
            });
            tx.commit().await?;
            Ok(written)
        })
    }

    /// Deletes a product with its access lists. Refused while it holds a licence the operator
    /// registered.
    pub async fn delete_lika_product(
        &self,
        party_id: &str,
        method: &str,
        product: &str,
        actor: &Actor,
    ) -> Result<()> {
        writes!(self, p => {
            let mut tx = p.begin().await?;
            take_party!(tx, party_id);
            let (_, product_id) = resolve_target!(tx, party_id, Target::Product { method, product });
            let licensed = sqlx::query("SELECT COUNT(*) AS n FROM licences WHERE product_id = $1")
                .bind(&product_id).fetch_one(&mut *tx).await?.int("n")?;
            if licensed > 0 {
                return Err(licensed_conflict());
            }
            sqlx::query("DELETE FROM products WHERE id = $1").bind(&product_id).execute(&mut *tx).await?;
            append!(&mut *tx, AuditEvent {
                actor, action: "lika.product.delete", school_id: None, party_id: Some(party_id),
                subject: Some(product), details: json!({"method": method, "product_id": product_id}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    /// A product's icon as the publisher sent it, when the register keeps one.
    pub async fn stored_icon(&self, product_id: &str) -> Result<Option<Icon>> {
        const SQL: &str = "SELECT icon FROM lika_products WHERE product_id = $1";
        let text = reads!(self, p => {
            let row = sqlx::query(SQL).bind(product_id).fetch_optional(p).await?;
            row.as_ref().map(|r| r.opt_text("icon")).transpose().map(Option::flatten)
        })?;
        text.as_deref().map(Icon::parse).transpose()
    }

    // -----------------------------------------------------------------------------------------
    // Access lists

    /// The user numbers on a method's or product's list, ascending.
    pub async fn lika_user_numbers(&self, party_id: &str, target: Target<'_>) -> Result<Vec<i64>> {
        let key = self.lika_target_key(party_id, target).await?;
        let sql = format!(
            "SELECT user_number FROM lika_user_access WHERE party_id = $1 AND {} = $2 ORDER BY user_number",
            key.0
        );
        reads!(self, p => {
            sqlx::query(AssertSqlSafe(sql)).bind(party_id).bind(&key.1).fetch_all(p).await?
                .iter().map(|r| r.int("user_number")).collect()
        })
    }

    /// The (school number, ECK-iD) pairs on a method's or product's list, sorted.
    pub async fn lika_chain_ids(&self, party_id: &str, target: Target<'_>) -> Result<Vec<ChainId>> {
        let key = self.lika_target_key(party_id, target).await?;
        let sql = format!(
            "SELECT school_number, eck_id FROM lika_eck_access WHERE party_id = $1 AND {} = $2 ORDER BY school_number, eck_id",
            key.0
        );
        reads!(self, p => {
            sqlx::query(AssertSqlSafe(sql)).bind(party_id).bind(&key.1).fetch_all(p).await?
                .iter().map(|r| Ok(ChainId { school_number: r.int("school_number")?, eck_id: r.text("eck_id")? }))
                .collect()
        })
    }

    async fn lika_target_key(
        &self,
        party_id: &str,
        target: Target<'_>,
    ) -> Result<(&'static str, String)> {
        match target {
            Target::Method(method) => self
                .lika_method(party_id, method)
                .await?
                .map(|m| ("method_id", m.key))
                .ok_or_else(|| DirectoryError::not_found("methode", method)),
            Target::Product { method, product } => self
                .lika_product(party_id, method, product)
                .await?
                .map(|p| ("product_id", p.product_id))
                .ok_or_else(|| DirectoryError::not_found("product", product)),
        }
    }

    /// Changes one access list: replace it, add to it, remove from it (entries not on it are
    /// ignored) or clear it. All entries are checked before anything is written.
    pub async fn edit_lika_access(
        &self,
        party_id: &str,
        target: Target<'_>,
        edit: Edit,
        entries: &Entries,
        actor: &Actor,
    ) -> Result<()> {
        let entries = entries.checked()?;
        let table = entries.table();
        let (what, method, product) = match target {
            Target::Method(m) => ("method", m, None),
            Target::Product { method, product } => ("product", method, Some(product)),
        };
        writes!(self, p => {
            let mut tx = p.begin().await?;
            take_party!(tx, party_id);
            let (column, target_id) = resolve_target!(tx, party_id, target);
            if matches!(edit, Edit::Replace | Edit::Clear) {
                sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE party_id = $1 AND {column} = $2")))
                    .bind(party_id).bind(&target_id).execute(&mut *tx).await?;
            }
            match edit {
                Edit::Replace | Edit::Add => change_entries!(tx, party_id, column, &target_id, &entries, true),
                Edit::Remove => change_entries!(tx, party_id, column, &target_id, &entries, false),
                Edit::Clear => {}
            }
            append!(&mut *tx, AuditEvent {
                actor, action: "lika.access.edit", school_id: None, party_id: Some(party_id),
                subject: Some(product.unwrap_or(method)),
                details: json!({"target": what, "method": method, "product": product, "edit": edit,
                                "list": if table == "lika_user_access" { "gebruiker" } else { "gebruiker_eckid" },
                                "entries": entries.len()}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    /// Grants (or revokes) every listed user on every listed method and product at once: all
    /// or, when a method or product does not exist, nothing. Users a revoke names that are not
    /// on a list are ignored.
    pub async fn lika_bulk(
        &self,
        party_id: &str,
        bulk: &Bulk,
        grant: bool,
        actor: &Actor,
    ) -> Result<()> {
        let users = Entries::Users(check_users(&bulk.users)?);
        let chains = Entries::Chains(check_chains(&bulk.chains)?);
        for id in bulk.methods.iter().chain(&bulk.products) {
            application_id(id)?;
        }
        writes!(self, p => {
            let mut tx = p.begin().await?;
            take_party!(tx, party_id);
            let mut targets: Vec<(&str, String)> = Vec::new();
            for method in &bulk.methods {
                targets.push(resolve_target!(tx, party_id, Target::Method(method)));
            }
            for product in &bulk.products {
                let row = sqlx::query("SELECT p.id FROM products p JOIN lika_products lp ON lp.product_id = p.id WHERE p.party_id = $1 AND p.code = $2")
                    .bind(party_id).bind(product).fetch_optional(&mut *tx).await?;
                match row {
                    Some(r) => targets.push(("product_id", r.text("id")?)),
                    None => return Err(DirectoryError::not_found("product", product.as_str())),
                }
            }
            for (column, target_id) in &targets {
                change_entries!(tx, party_id, column, target_id, &users, grant);
                change_entries!(tx, party_id, column, target_id, &chains, grant);
            }
            append!(&mut *tx, AuditEvent {
                actor, action: if grant { "lika.access.grant" } else { "lika.access.revoke" },
                school_id: None, party_id: Some(party_id), subject: None,
                details: json!({"methods": bulk.methods, "products": bulk.products,
                                "users": users.len(), "chain_ids": chains.len()}),
            });
            tx.commit().await?;
            Ok(())
        })
    }

    /// The products each key's user may use through LIKA: `(party id, product id)`, sorted.
    /// `eck_id` is the user's ECK-iD, if they have one.
    pub async fn lika_grants(
        &self,
        keys: &[LikaKey],
        eck_id: Option<&str>,
    ) -> Result<Vec<(String, String)>> {
        login_reads!(self, c => {
            Ok(fetch_grants!(&mut *c, keys, eck_id))
        })
    }
}

fn licensed_conflict() -> DirectoryError {
    DirectoryError::Conflict {
        nl: "voor dit product heeft de beheerder van openpoort licenties van scholen geregistreerd; vraag hem die eerst te beëindigen".into(),
        en: "openpoort's operator registered school licences for this product; ask them to end those first".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_covers_urls_by_scheme_host_port_and_whole_path_segments() {
        let p = UrlPrefix::parse("https://Apps.Example.nl:443/lesstof").unwrap();
        assert_eq!(p.as_str(), "https://apps.example.nl/lesstof");
        assert!(p.covers("https://apps.example.nl/lesstof"));
        assert!(p.covers("https://apps.example.nl/lesstof/rekenen?x=1#y"));
        assert!(p.covers("https://APPS.example.nl:443/lesstof/"));
        assert!(!p.covers("https://apps.example.nl/lesstofje"));
        assert!(
            !p.covers("https://apps.example.nl/lesstof/../admin"),
            "dot segments are resolved first"
        );
        assert!(!p.covers("https://apps.example.nl:8443/lesstof/x"));
        assert!(!p.covers("http://apps.example.nl/lesstof/x"));
        assert!(!p.covers("https://apps.example.nl.evil.nl/lesstof/x"));
        assert!(!p.covers("https://apps.example.nl@evil.nl/lesstof/x"));
        let root = UrlPrefix::parse("https://apps.example.nl").unwrap();
        assert_eq!(root.as_str(), "https://apps.example.nl/");
        assert!(root.covers("https://apps.example.nl/anything"));
        let slash = UrlPrefix::parse("https://apps.example.nl/a/").unwrap();
        assert!(
            slash.covers("https://apps.example.nl/a/b")
                && !slash.covers("https://apps.example.nl/ab")
        );
        for bad in [
            "http://apps.example.nl",
            "https://u:p@apps.example.nl",
            "https://apps.example.nl/?q",
            "https://apps.example.nl/#f",
            "apps.example.nl",
            "ftp://x",
        ] {
            assert!(UrlPrefix::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn icons_must_be_an_image_of_the_declared_type_within_the_size_limit() {
        let png = format!("image/png,{}", STANDARD.encode(b"\x89PNG\r\n\x1a\nrest"));
        let icon = Icon::parse(&png).unwrap();
        assert_eq!(
            (icon.media_type, icon.to_text()),
            ("image/png", png.clone())
        );
        assert!(Icon::parse(&png.replace("image/png", "IMAGE/PNG")).is_ok());
        let svg = format!(
            "image/svg+xml,{}",
            STANDARD.encode(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>")
        );
        assert_eq!(Icon::parse(&svg).unwrap().media_type, "image/svg+xml");
        let bad = [
            STANDARD.encode(b"\x89PNG\r\n\x1a\n"), // no media type
            format!("image/jpeg,{}", STANDARD.encode(b"\x89PNG\r\n\x1a\n")), // another type
            format!("image/webp,{}", STANDARD.encode(b"RIFF\0\0\0\0WEBP")), // not accepted
            "image/png,not base64!".to_owned(),
            format!(
                "image/svg+xml,{}",
                STANDARD.encode(b"<svg><script>alert(1)</script></svg>")
            ),
            format!(
                "image/svg+xml,{}",
                STANDARD.encode(b"<svg><foreignObject/></svg>")
            ),
            format!("image/svg+xml,{}", STANDARD.encode(b"<html></html>")),
            format!(
                "image/png,{}",
                STANDARD
                    .encode([b"\x89PNG\r\n\x1a\n".as_slice(), &vec![0u8; ICON_MAX_BYTES]].concat())
            ),
        ];
        for b in bad {
            let e = Icon::parse(&b).unwrap_err();
            assert!(
                matches!(e, DirectoryError::Invalid { field: "icon", .. }),
                "{e}"
            );
        }
    }

    #[test]
    fn applications_are_checked_field_by_field() {
        let app = Application {
            id: "rr-5".into(),
            code: None,
            name: "  Rekenrijk  ".into(),
            icon: None,
            icon_url: None,
            url: None,
            tags: vec![
                "toetsApplicatie".into(),
                "leerkrachtApplicatie".into(),
                "toetsApplicatie".into(),
            ],
        };
        let checked = app.clone().checked(Kind::Method).unwrap();
        assert_eq!(checked.name, "Rekenrijk");
        assert_eq!(checked.tags, ["leerkrachtApplicatie", "toetsApplicatie"]);
        let e = app.clone().checked(Kind::Product).unwrap_err();
        assert!(
            matches!(e, DirectoryError::Invalid { field: "url", .. }),
            "{e}"
        );
        for id in ["", "a/b", "..", "met spatie", &"x".repeat(101)] {
            let e = Application {
                id: id.into(),
                ..app.clone()
            }
            .checked(Kind::Method)
            .unwrap_err();
            assert!(
                matches!(e, DirectoryError::Invalid { field: "id", .. }),
                "{id}: {e}"
            );
        }
        let e = Application {
            tags: vec!["leerlingApplicatie".into()],
            ..app
        }
        .checked(Kind::Method)
        .unwrap_err();
        assert!(
            matches!(e, DirectoryError::Invalid { field: "tags", .. }),
            "{e}"
        );
    }
}
