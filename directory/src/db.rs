//! The two storage backends behind one handle. Each repository method is written once with the
//! `with_pool!` macro, which expands the same query code for the SQLite and the PostgreSQL pool,
//! so that the typed drivers (not sqlx's `Any`, which cannot carry every type) are used and both
//! dialects run the same SQL text.

use std::borrow::Cow;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, SqlSafeStr};

use crate::error::{DirectoryError, Result};

#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$p` bound to whichever typed pool the directory `$dir` holds. Anything
/// done this way may change the register, so the read cache starts over once it is done.
macro_rules! with_pool {
    ($dir:expr, $p:ident => $body:expr) => {{
        let _forget = $crate::cache::ForgetOnDrop(&$dir.cache);
        match &$dir.pool {
            $crate::db::Pool::Sqlite($p) => $body,
            $crate::db::Pool::Postgres($p) => $body,
        }
    }};
}
pub(crate) use with_pool;

/// [`with_pool!`] for a body that only reads: the read cache stays as it is.
macro_rules! read_pool {
    ($dir:expr, $p:ident => $body:expr) => {
        match &$dir.pool {
            $crate::db::Pool::Sqlite($p) => $body,
            $crate::db::Pool::Postgres($p) => $body,
        }
    };
}
pub(crate) use read_pool;

/// Runs `$body` with `$c` bound to a connection of `$dir`'s backend, for the reads every login
/// makes (and its audit entry). On SQLite the connection is one of [`Held`]'s; on PostgreSQL one
/// from the pool as usual. The body is an async block's: `?` and `return` leave the block, and a
/// connection whose body failed goes back through the pool, which tests it.
macro_rules! with_held {
    ($dir:expr, $c:ident => $body:expr) => {
        match &$dir.pool {
            $crate::db::Pool::Sqlite(p) => {
                let mut held = $dir.held.take(p).await?;
                let result: $crate::error::Result<_> = async {
                    let $c: &mut sqlx::SqliteConnection = &mut *held;
                    $body
                }
                .await;
                if result.is_ok() {
                    $dir.held.put_back(held);
                }
                result
            }
            $crate::db::Pool::Postgres(p) => {
                let mut conn = p.acquire().await?;
                let result: $crate::error::Result<_> = async {
                    let $c: &mut sqlx::PgConnection = &mut *conn;
                    $body
                }
                .await;
                // Back to the pool as before: held connections would need a retry for a node
                // that dropped them, which sqlx's test before handing one out now provides.
                drop(conn);
                result
            }
        }
    };
}
pub(crate) use with_held;

/// SQLite connections kept out of sqlx's pool between the reads of logins.
///
/// sqlx tests every connection that comes back to its pool with a ping, and for SQLite a ping
/// is one more hand-off to the connection's worker thread and back: it doubled the cost of each
/// of a login's reads, and a pupil's login through a product makes about a dozen. A connection
/// held here goes back to this list instead, untested, only after its work succeeded; one whose
/// work failed or was cancelled goes back through the pool, which tests it. All but two of the
/// pool's connections may be held, so a writer (an import, the admin UI) never waits for
/// readers to run out of work.
#[derive(Debug)]
pub(crate) struct Held {
    idle: std::sync::Mutex<Vec<sqlx::pool::PoolConnection<sqlx::Sqlite>>>,
    keep: usize,
    /// Wakes a reader that waits on the pool when a connection comes back here instead.
    returned: tokio::sync::Notify,
}

impl Held {
    pub(crate) fn new(max_connections: u32) -> Held {
        Held {
            idle: std::sync::Mutex::new(Vec::new()),
            keep: (max_connections as usize).saturating_sub(2).max(1),
            returned: tokio::sync::Notify::new(),
        }
    }

    fn pop(&self) -> Option<sqlx::pool::PoolConnection<sqlx::Sqlite>> {
        self.idle.lock().expect("held connections").pop()
    }

    pub(crate) async fn take(
        &self,
        pool: &SqlitePool,
    ) -> Result<sqlx::pool::PoolConnection<sqlx::Sqlite>> {
        loop {
            if let Some(c) = self.pop() {
                return Ok(c);
            }
            // Registered before the second look, so a return in between is not missed.
            let returned = self.returned.notified();
            if let Some(c) = self.pop() {
                return Ok(c);
            }
            tokio::select! {
                c = pool.acquire() => return Ok(c?),
                () = returned => {}
            }
        }
    }

    pub(crate) fn put_back(&self, conn: sqlx::pool::PoolConnection<sqlx::Sqlite>) {
        {
            let mut idle = self.idle.lock().expect("held connections");
            if idle.len() >= self.keep {
                // Back to the pool (tested on the way), outside the lock.
                drop(idle);
                drop(conn);
                return;
            }
            idle.push(conn);
        }
        self.returned.notify_one();
    }

    /// Hands every held connection back to the pool, which waits for them when it closes.
    pub(crate) fn release(&self) {
        self.idle.lock().expect("held connections").clear();
    }
}

/// Which backend a URL selects. Only `sqlite:` and `postgres:`/`postgresql:` are accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(DirectoryError::invalid(
                "database.url",
                redact_url(url),
                "gebruik sqlite://PAD of postgres://GEBRUIKER@HOST/DATABASE",
                "use sqlite://PATH or postgres://USER@HOST/DATABASE",
            ))
        }
    }
}

/// A database URL without its password, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

pub struct ConnectOptions {
    pub max_connections: u32,
    /// PostgreSQL schema to use instead of `public`, so that tests (or several openpoort
    /// installations) can share one database without seeing each other's tables.
    pub pg_schema: Option<String>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            max_connections: 10,
            pg_schema: None,
        }
    }
}

impl Pool {
    pub async fn connect(url: &str, opts: &ConnectOptions) -> Result<Pool> {
        match Backend::of_url(url)? {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(url)?
                    .create_if_missing(true)
                    // WAL lets readers (logins) go on while an import writes.
                    .journal_mode(SqliteJournalMode::Wal)
                    // In WAL mode NORMAL cannot corrupt the database; a power cut may lose the
                    // last commits, which FULL would keep at the price of an fsync per audited
                    // login. Deployments that need every row durable run PostgreSQL.
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10));
                if let Some(parent) = options.get_filename().parent()
                    && !parent.as_os_str().is_empty()
                {
                    create_private_dir(parent)?;
                }
                let pool = SqlitePoolOptions::new()
                    .max_connections(opts.max_connections)
                    // sqlx pings every idle connection before handing it out, which for SQLite
                    // is one more hop to the connection's worker thread per query (a third of
                    // the register's cost per login). An embedded database file has no peer
                    // that could hang up; a broken connection still fails its query, and sqlx
                    // still tests it when it comes back to the pool.
                    .test_before_acquire(false)
                    .connect_with(options)
                    .await?;
                Ok(Pool::Sqlite(pool))
            }
            Backend::Postgres => {
                let mut options = PgConnectOptions::from_str(url)?;
                if let Some(schema) = &opts.pg_schema {
                    options = options.options([("search_path", schema.as_str())]);
                }
                let pool = PgPoolOptions::new()
                    .max_connections(opts.max_connections)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?;
                Ok(Pool::Postgres(pool))
            }
        }
    }

    pub fn max_connections(&self) -> u32 {
        match self {
            Pool::Sqlite(p) => p.options().get_max_connections(),
            Pool::Postgres(p) => p.options().get_max_connections(),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the embedded migrations of this backend. Safe to run from several nodes at once:
    /// sqlx takes an advisory lock on PostgreSQL.
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Pool::Sqlite(p) => migrator(SQLITE_MIGRATIONS).run(p).await?,
            Pool::Postgres(p) => migrator(POSTGRES_MIGRATIONS).run(p).await?,
        }
        Ok(())
    }

    /// Applies this backend's migrations up to and including `version` only, so that a test
    /// can write rows as an older release did and see what a later migration makes of them.
    #[cfg(feature = "testing")]
    pub async fn migrate_up_to(&self, version: i64) -> Result<()> {
        let upto = |m: Embedded| -> Embedded {
            &m[..m.iter().take_while(|(v, ..)| *v <= version).count()]
        };
        match self {
            Pool::Sqlite(p) => migrator(upto(SQLITE_MIGRATIONS)).run(p).await?,
            Pool::Postgres(p) => migrator(upto(POSTGRES_MIGRATIONS)).run(p).await?,
        }
        Ok(())
    }

    /// A trivial round trip, for `/readyz`.
    pub async fn ping(&self) -> Result<()> {
        match self {
            Pool::Sqlite(p) => sqlx::query("SELECT 1").execute(p).await.map(|_| ())?,
            Pool::Postgres(p) => sqlx::query("SELECT 1").execute(p).await.map(|_| ())?,
        }
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

fn create_private_dir(path: &Path) -> Result<()> {
    std::fs::create_dir_all(path).map_err(|source| DirectoryError::DataDir {
        path: path.display().to_string(),
        source,
    })
}

type Embedded = &'static [(i64, &'static str, &'static str)];

const SQLITE_MIGRATIONS: Embedded = &[
    (
        1,
        "register",
        include_str!("../migrations/sqlite/0001_register.sql"),
    ),
    (
        2,
        "release",
        include_str!("../migrations/sqlite/0002_release.sql"),
    ),
    (
        3,
        "credentials",
        include_str!("../migrations/sqlite/0003_credentials.sql"),
    ),
    (
        4,
        "pupil login",
        include_str!("../migrations/sqlite/0004_pupil_login.sql"),
    ),
    (
        5,
        "oidc clients",
        include_str!("../migrations/sqlite/0005_oidc_clients.sql"),
    ),
    (
        6,
        "saml service providers",
        include_str!("../migrations/sqlite/0006_saml_service_providers.sql"),
    ),
    (
        7,
        "school changes",
        include_str!("../migrations/sqlite/0007_school_changes.sql"),
    ),
    (
        8,
        "las links",
        include_str!("../migrations/sqlite/0008_las_links.sql"),
    ),
    (
        9,
        "register version",
        include_str!("../migrations/sqlite/0009_register_version.sql"),
    ),
    (
        10,
        "staff removal",
        include_str!("../migrations/sqlite/0010_staff_removal.sql"),
    ),
];
const POSTGRES_MIGRATIONS: Embedded = &[
    (
        1,
        "register",
        include_str!("../migrations/postgres/0001_register.sql"),
    ),
    (
        2,
        "release",
        include_str!("../migrations/postgres/0002_release.sql"),
    ),
    (
        3,
        "credentials",
        include_str!("../migrations/postgres/0003_credentials.sql"),
    ),
    (
        4,
        "pupil login",
        include_str!("../migrations/postgres/0004_pupil_login.sql"),
    ),
    (
        5,
        "oidc clients",
        include_str!("../migrations/postgres/0005_oidc_clients.sql"),
    ),
    (
        6,
        "saml service providers",
        include_str!("../migrations/postgres/0006_saml_service_providers.sql"),
    ),
    (
        7,
        "school changes",
        include_str!("../migrations/postgres/0007_school_changes.sql"),
    ),
    (
        8,
        "las links",
        include_str!("../migrations/postgres/0008_las_links.sql"),
    ),
    (
        9,
        "register version",
        include_str!("../migrations/postgres/0009_register_version.sql"),
    ),
    (
        10,
        "staff removal",
        include_str!("../migrations/postgres/0010_staff_removal.sql"),
    ),
];

// Embedded at compile time so that the binary carries its schema; built by hand rather than by
// `sqlx::migrate!` because the macro crate would compile both database drivers a second time.
fn migrator(embedded: Embedded) -> Migrator {
    let migrations = embedded
        .iter()
        .map(|(version, description, sql)| {
            Migration::new(
                *version,
                Cow::Borrowed(*description),
                MigrationType::Simple,
                AssertSqlSafe(*sql).into_sql_str(),
                false,
            )
        })
        .collect::<Vec<_>>();
    Migrator {
        migrations: Cow::Owned(migrations),
        ..Migrator::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_have_the_same_migration_versions() {
        let v = |m: Embedded| m.iter().map(|(v, d, _)| (*v, *d)).collect::<Vec<_>>();
        assert_eq!(v(SQLITE_MIGRATIONS), v(POSTGRES_MIGRATIONS));
    }

    #[test]
    fn unsupported_database_scheme_is_refused() {
        let msg = Backend::of_url("mysql://root@localhost/x")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("database.url") && msg.contains("postgres://"),
            "{msg}"
        );
    }

    #[test]
    fn database_password_is_redacted_in_messages() {
        let r = redact_url("postgres://op:geheim@db.example/openpoort");
        assert!(!r.contains("geheim"), "{r}");
    }
}
