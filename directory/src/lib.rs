//! The school register: the system of record of openpoort. Boards, school locations, groups,
//! pupils, staff, IP ranges, parties, products, licences, consents, the audit log and the stored
//! signing keys, on SQLite (the embedded default) or PostgreSQL.
//!
//! Every mutation writes its audit entry in the same transaction, so the log cannot miss a change
//! that happened, nor record one that was rolled back.

pub mod audit;
mod cache;
pub mod credentials;
pub mod db;
pub mod duo;
pub mod duo_import;
pub mod edexml;
pub mod error;
pub mod import;
pub mod keys;
pub mod las;
pub mod lika;
pub mod model;
mod notices;
pub mod oidc_clients;
pub mod operators;
pub mod outbound;
pub mod parties;
pub mod partner;
pub mod passkeys;
pub mod people;
pub mod permission_requests;
pub mod privacy;
pub mod pupil_login;
pub mod saml_sps;
pub mod school_changes;
pub mod school_search;
pub mod schools;
pub mod second_factor;
pub mod staff_admin;
pub mod upstreams;

mod row;
#[cfg(feature = "testing")]
pub mod testing;

pub use cache::{LAPSE as CACHE_LAPSE, POLL as CACHE_POLL};
pub use db::{Backend, ConnectOptions, Pool};
pub use error::{DirectoryError, Result};

/// Who made a change, as written to the audit log: `operator:cli`, `staff:<id>`, `system:demo`,
/// `api:<client id>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor(pub String);

impl Actor {
    pub fn operator_cli() -> Actor {
        Actor("operator:cli".into())
    }
    pub fn system(what: &str) -> Actor {
        Actor(format!("system:{what}"))
    }
    pub fn staff(id: &str) -> Actor {
        Actor(format!("staff:{id}"))
    }
    /// A machine client of the admin REST API, by its OAuth client id.
    pub fn api_client(client_id: &str) -> Actor {
        Actor(format!("api:{client_id}"))
    }
}

/// The register. Cheap to clone: it holds a connection pool.
#[derive(Clone, Debug)]
pub struct Directory {
    pool: Pool,
    held: std::sync::Arc<db::Held>,
    cache: std::sync::Arc<cache::Cache>,
    /// Where test builds run the read macros, once `refuse_writes_in_reads` set it up.
    #[cfg(feature = "testing")]
    read_only: Option<std::sync::Arc<db::ReadOnlyTwin>>,
}

impl Directory {
    pub fn new(pool: Pool) -> Directory {
        let held = db::Held::new(pool.max_connections());
        let cache = cache::Cache::new(match pool.backend() {
            Backend::Sqlite => cache::Watch::Version,
            Backend::Postgres => cache::Watch::Notices,
        });
        Directory {
            pool,
            held: std::sync::Arc::new(held),
            cache: std::sync::Arc::new(cache),
            #[cfg(feature = "testing")]
            read_only: None,
        }
    }

    /// Connects and brings the schema up to date.
    pub async fn open(url: &str, opts: &ConnectOptions) -> Result<Directory> {
        let pool = Pool::connect(url, opts).await?;
        pool.migrate().await?;
        Ok(Directory::new(pool))
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Closes the pool once every connection is back, the held ones included.
    pub async fn close(&self) {
        self.stop_listening();
        #[cfg(feature = "testing")]
        if let Some(twin) = &self.read_only {
            twin.held.release();
            twin.pool.close().await;
        }
        self.held.release();
        self.pool.close().await;
    }

    /// The pool and held connections that `reads!` and `login_reads!` use: the register's own,
    /// or in a test its read-only twin.
    #[inline]
    pub(crate) fn reading(&self) -> (&Pool, &db::Held) {
        #[cfg(feature = "testing")]
        if let Some(twin) = &self.read_only {
            return (&twin.pool, &twin.held);
        }
        (&self.pool, &self.held)
    }

    pub async fn ping(&self) -> Result<()> {
        self.pool.ping().await
    }
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
