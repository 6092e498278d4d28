//! The two storage backends behind one handle, and the three ways a repository method reaches
//! them. Each method is written once: its macro expands the body for the SQLite and for the
//! PostgreSQL pool, so that the typed drivers (not sqlx's `Any`, which cannot carry every type)
//! are used and both dialects run the same SQL text.
//!
//! The macro a method uses is the guarantee it gives about the register:
//!
//! - A method that may change the register uses [`writes!`]: once its body is done (finished,
//!   failed or abandoned) the read cache starts over, so the next request sees the change.
//! - A method that only reads uses [`reads!`], or [`login_reads!`] for the reads every login
//!   makes (a connection held out of the pool, see [`Held`]). Both leave the read cache
//!   as it is, which is right only because they change nothing. So in tests (every register
//!   from `directory::testing`) they run on a read-only twin of the register
//!   (`Directory::refuse_writes_in_reads`): an INSERT, UPDATE or DELETE in their body fails every
//!   test that reaches it, and each read method is reached by at least one of this crate's
//!   tests (a new one needs a test too). Outside tests they run on the register's own pool,
//!   unchecked; without the `testing` feature not even the branch to the twin is compiled in.
//! - One write outside [`writes!`] is `Directory::audit`, which appends a single audit entry
//!   on a held connection on SQLite ([`on_held!`]) and leaves the cache be: the audit log is never cached,
//!   and a release decision, made at every login, appends one. The other is
//!   `Directory::accept_totp_step`, the one-row conditional update every login with an
//!   authenticator code makes, on a table that is never cached either. Nothing else uses
//!   [`on_held!`] directly.
//!
//! In all three the body is an async block's, evaluated to a `Result`: `?` and `return` leave
//! the body, not the method, and the macro's value is that `Result`, written as the method's tail
//! or followed by `?`. The blocks are awaited in place: no boxing, no allocation.

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

/// For a body that may change the register: runs it with `$p` bound to whichever typed pool the
/// directory `$dir` holds, and empties the read cache once it is done.
macro_rules! writes {
    ($dir:expr, $p:ident => $body:expr) => {{
        let _forget = $crate::cache::ForgetOnDrop(&$dir.cache);
        match &$dir.pool {
            $crate::db::Pool::Sqlite($p) => {
                let result: $crate::error::Result<_> = async { $body }.await;
                result
            }
            $crate::db::Pool::Postgres($p) => {
                let result: $crate::error::Result<_> = async { $body }.await;
                result
            }
        }
    }};
}
pub(crate) use writes;

/// For a body that only reads: [`writes!`] without emptying the cache. In test builds `$p` is
/// the read-only twin's pool (see the module comment).
macro_rules! reads {
    ($dir:expr, $p:ident => $body:expr) => {
        match $dir.reading().0 {
            $crate::db::Pool::Sqlite($p) => {
                let result: $crate::error::Result<_> = async { $body }.await;
                result
            }
            $crate::db::Pool::Postgres($p) => {
                let result: $crate::error::Result<_> = async { $body }.await;
                result
            }
        }
    };
}
pub(crate) use reads;

/// For the reads every login makes: [`reads!`] on a connection (`$c`) held out of the pool
/// between uses on SQLite (see [`Held`]). In test builds the connection is the read-only twin's.
macro_rules! login_reads {
    ($dir:expr, $c:ident => $body:expr) => {{
        let (pool, held) = $dir.reading();
        $crate::db::on_held!(read: pool, held, $c => $body)
    }};
}
pub(crate) use login_reads;

/// Runs `$body` with `$c` bound to a held connection ([`Held`]), kept out of sqlx's pool so that
/// it is not pinged on its way out and back. A connection whose body failed goes back through
/// the pool, which tests it. Used by [`login_reads!`] (`read:`) and, for its append, by
/// `Directory::audit` alone (`append:`): it neither empties the cache nor refuses writes.
///
/// On PostgreSQL, where the server can drop a connection (a restart, an idle timeout, a
/// failover), a held one may be dead by its next use: a read (`read:`) whose connection turns
/// out lost runs again on another, at most once per connection the pool may hold, so even a
/// restart that dropped them all is got over on the first request. A read changes nothing, so
/// running it twice is harmless. The append (`append:`) is not run twice (it might have been
/// written before the connection was lost) and takes a pool connection, tested before use, as
/// sqlx hands them out.
macro_rules! on_held {
    // Both modes on SQLite: an embedded file has no server that could drop a connection.
    (sqlite: $p:expr, $held:expr, $c:ident => $body:expr) => {{
        let held: &$crate::db::Held = $held;
        let mut conn = held.sqlite.take($p).await?;
        let result: $crate::error::Result<_> = async {
            let $c: &mut sqlx::SqliteConnection = &mut *conn;
            $body
        }
        .await;
        if result.is_ok() {
            held.sqlite.put_back(conn);
        }
        result
    }};
    (read: $pool:expr, $held:expr, $c:ident => $body:expr) => {{
        let result: $crate::error::Result<_> = async {
            let held: &$crate::db::Held = $held;
            match $pool {
                $crate::db::Pool::Sqlite(p) => {
                    $crate::db::on_held!(sqlite: p, held, $c => $body)
                }
                $crate::db::Pool::Postgres(p) => {
                    let mut tries = p.options().get_max_connections() + 1;
                    loop {
                        let mut conn = held.postgres.take(p).await?;
                        let result: $crate::error::Result<_> = async {
                            let $c: &mut sqlx::PgConnection = &mut *conn;
                            $body
                        }
                        .await;
                        match result {
                            Ok(v) => {
                                held.postgres.put_back(conn);
                                break Ok(v);
                            }
                            Err(e) if tries > 1 && e.is_lost_connection() => {
                                tries -= 1;
                                conn.close_on_drop();
                            }
                            Err(e) => break Err(e),
                        }
                    }
                }
            }
        }
        .await;
        result
    }};
    (append: $pool:expr, $held:expr, $c:ident => $body:expr) => {{
        let result: $crate::error::Result<_> = async {
            match $pool {
                $crate::db::Pool::Sqlite(p) => {
                    let held: &$crate::db::Held = $held;
                    // One append at a time from this process: see `Held::sqlite_append`.
                    let _one_writer = held.sqlite_append.lock().await;
                    $crate::db::on_held!(sqlite: p, held, $c => $body)
                }
                $crate::db::Pool::Postgres(p) => {
                    let mut conn = p.acquire().await?;
                    let result: $crate::error::Result<_> = async {
                        let $c: &mut sqlx::PgConnection = &mut *conn;
                        $body
                    }
                    .await;
                    drop(conn);
                    result
                }
            }
        }
        .await;
        result
    }};
}
pub(crate) use on_held;

/// Connections kept out of sqlx's pool between the reads of logins.
///
/// sqlx tests every connection it hands out and every one that comes back to its pool with a
/// ping. For SQLite a ping is one more hand-off to the connection's worker thread and back: it
/// doubled the cost of each of a login's reads, and a pupil's login through a product makes
/// about a dozen. For PostgreSQL each is a round trip to the server, two per query. A
/// connection held here goes back to this list instead, untested, only after its work
/// succeeded; one whose work failed or was cancelled goes back through the pool, which tests
/// it. All but two of the pool's connections may be held, so a writer (an import, the admin UI)
/// never waits for readers to run out of work. On PostgreSQL a held connection the server
/// dropped is found by its read failing, which then runs again ([`on_held!`]).
#[derive(Debug)]
pub(crate) struct Held {
    pub(crate) sqlite: HeldList<sqlx::Sqlite>,
    pub(crate) postgres: HeldList<sqlx::Postgres>,
    /// Taken by every SQLite append (`on_held!(append:)`: the audit entries every login
    /// writes). SQLite has one writer at a time; two of this process's connections that want
    /// to write at once leave the second in SQLite's busy handler, which sleeps in steps of 1
    /// to 100 ms and so woke late: at 32 concurrent logins the release audit (an entry and its
    /// groups in one transaction) made OIDC's p99 about 120 ms against a p50 of 16 ms. Queued
    /// here, an append starts the moment the one before it commits. Other processes (the
    /// command line) still meet the busy handler, as they should.
    pub(crate) sqlite_append: tokio::sync::Mutex<()>,
}

impl Held {
    pub(crate) fn new(max_connections: u32) -> Held {
        Held {
            sqlite: HeldList::new(max_connections),
            postgres: HeldList::new(max_connections),
            sqlite_append: tokio::sync::Mutex::new(()),
        }
    }

    /// Hands every held connection back to the pool, which waits for them when it closes.
    pub(crate) fn release(&self) {
        self.sqlite.release();
        self.postgres.release();
    }
}

#[derive(Debug)]
pub(crate) struct HeldList<DB: sqlx::Database> {
    idle: std::sync::Mutex<Vec<sqlx::pool::PoolConnection<DB>>>,
    keep: usize,
    /// Wakes a reader that waits on the pool when a connection comes back here instead.
    returned: tokio::sync::Notify,
}

impl<DB: sqlx::Database> HeldList<DB> {
    fn new(max_connections: u32) -> HeldList<DB> {
        HeldList {
            idle: std::sync::Mutex::new(Vec::new()),
            keep: (max_connections as usize).saturating_sub(2).max(1),
            returned: tokio::sync::Notify::new(),
        }
    }

    fn pop(&self) -> Option<sqlx::pool::PoolConnection<DB>> {
        self.idle.lock().expect("held connections").pop()
    }

    pub(crate) async fn take(
        &self,
        pool: &sqlx::Pool<DB>,
    ) -> Result<sqlx::pool::PoolConnection<DB>> {
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

    pub(crate) fn put_back(&self, conn: sqlx::pool::PoolConnection<DB>) {
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

    fn release(&self) {
        self.idle.lock().expect("held connections").clear();
    }
}

/// A second handle on a test's register whose connections refuse every write, for the read
/// macros (see the module comment).
#[cfg(feature = "testing")]
#[derive(Debug)]
pub(crate) struct ReadOnlyTwin {
    pub(crate) pool: Pool,
    pub(crate) held: Held,
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

/// How long a PostgreSQL request waits for a connection. sqlx keeps retrying a refused
/// connection until then, so during an outage this is how long every request hangs before its
/// 503; measured through a cut relay it was the whole 10 s of the earlier limit. Three seconds is
/// a hundred times a login's reads under load here, so a wait that long means the database is
/// gone or overwhelmed, and a 503 with Retry-After is the better answer.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

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
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(options)
                    .await?;
                Ok(Pool::Postgres(pool))
            }
        }
    }

    /// A pool on the register at `url` (migrated already) whose connections refuse INSERT,
    /// UPDATE and DELETE: SQLite opens the file read-only, PostgreSQL makes every transaction
    /// read-only. Otherwise set up as [`Pool::connect`] does, so that reads behave the same.
    #[cfg(feature = "testing")]
    pub(crate) async fn connect_read_only(url: &str, opts: &ConnectOptions) -> Result<Pool> {
        match Backend::of_url(url)? {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(url)?
                    .read_only(true)
                    .busy_timeout(Duration::from_secs(10));
                let pool = SqlitePoolOptions::new()
                    .max_connections(opts.max_connections)
                    .test_before_acquire(false)
                    .connect_with(options)
                    .await?;
                Ok(Pool::Sqlite(pool))
            }
            Backend::Postgres => {
                let mut options = PgConnectOptions::from_str(url)?
                    .options([("default_transaction_read_only", "on")]);
                if let Some(schema) = &opts.pg_schema {
                    options = options.options([("search_path", schema.as_str())]);
                }
                let pool = PgPoolOptions::new()
                    .max_connections(opts.max_connections)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
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
    (
        11,
        "staff group periods",
        include_str!("../migrations/sqlite/0011_staff_group_periods.sql"),
    ),
    (
        12,
        "privacy",
        include_str!("../migrations/sqlite/0012_privacy.sql"),
    ),
    (
        13,
        "operators",
        include_str!("../migrations/sqlite/0013_operators.sql"),
    ),
    (
        14,
        "release names",
        include_str!("../migrations/sqlite/0014_release_names.sql"),
    ),
    (
        15,
        "partner",
        include_str!("../migrations/sqlite/0015_partner.sql"),
    ),
    (
        16,
        "lika",
        include_str!("../migrations/sqlite/0016_lika.sql"),
    ),
    (
        17,
        "permission requests",
        include_str!("../migrations/sqlite/0017_permission_requests.sql"),
    ),
    (
        18,
        "network upstreams",
        include_str!("../migrations/sqlite/0018_network_upstreams.sql"),
    ),
    (
        19,
        "cache invalidation",
        include_str!("../migrations/sqlite/0019_cache_invalidation.sql"),
    ),
    (
        20,
        "second factor",
        include_str!("../migrations/sqlite/0020_second_factor.sql"),
    ),
    (
        21,
        "passkeys",
        include_str!("../migrations/sqlite/0021_passkeys.sql"),
    ),
    (
        22,
        "second factor policy",
        include_str!("../migrations/sqlite/0022_second_factor_policy.sql"),
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
    (
        11,
        "staff group periods",
        include_str!("../migrations/postgres/0011_staff_group_periods.sql"),
    ),
    (
        12,
        "privacy",
        include_str!("../migrations/postgres/0012_privacy.sql"),
    ),
    (
        13,
        "operators",
        include_str!("../migrations/postgres/0013_operators.sql"),
    ),
    (
        14,
        "release names",
        include_str!("../migrations/postgres/0014_release_names.sql"),
    ),
    (
        15,
        "partner",
        include_str!("../migrations/postgres/0015_partner.sql"),
    ),
    (
        16,
        "lika",
        include_str!("../migrations/postgres/0016_lika.sql"),
    ),
    (
        17,
        "permission requests",
        include_str!("../migrations/postgres/0017_permission_requests.sql"),
    ),
    (
        18,
        "network upstreams",
        include_str!("../migrations/postgres/0018_network_upstreams.sql"),
    ),
    (
        19,
        "cache invalidation",
        include_str!("../migrations/postgres/0019_cache_invalidation.sql"),
    ),
    (
        20,
        "second factor",
        include_str!("../migrations/postgres/0020_second_factor.sql"),
    ),
    (
        21,
        "passkeys",
        include_str!("../migrations/postgres/0021_passkeys.sql"),
    ),
    (
        22,
        "second factor policy",
        include_str!("../migrations/postgres/0022_second_factor_policy.sql"),
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

    /// Whether `e` is the backend refusing a write on a read-only connection, and not some
    /// other failure of the statement.
    fn refused_as_read_only(e: &DirectoryError) -> bool {
        let text = e.to_string();
        text.contains("readonly database") || text.contains("read-only transaction")
    }

    // The guard behind "a read method changes nothing": if the twin let writes through (or the
    // read macros ran on the register's own pool), no test would notice a read that writes.
    crate::on_both_backends! {
        async fn the_read_macros_refuse_insert_update_and_delete_in_tests(d: Directory) {
            const INSERT: &str =
                "INSERT INTO boards (id, bestuursnummer, name, created_at) VALUES ('b', '10000', 'Stichting', 0)";
            const UPDATE: &str = "UPDATE boards SET name = 'Anders' WHERE id = 'b'";
            const DELETE: &str = "DELETE FROM boards WHERE id = 'b'";
            for sql in [INSERT, UPDATE, DELETE] {
                let read = reads!(d, p => {
                    sqlx::query(sql).execute(p).await?;
                    Ok(())
                });
                match read {
                    Err(e) => assert!(refused_as_read_only(&e), "reads!, {sql}: {e}"),
                    Ok(()) => panic!("reads! let a write through: {sql}"),
                }
                let login = login_reads!(d, c => {
                    sqlx::query(sql).execute(&mut *c).await?;
                    Ok(())
                });
                match login {
                    Err(e) => assert!(refused_as_read_only(&e), "login_reads!, {sql}: {e}"),
                    Ok(()) => panic!("login_reads! let a write through: {sql}"),
                }
                // The register itself still takes the write: only the read side refuses.
                writes!(d, p => {
                    sqlx::query(sql).execute(p).await?;
                    Ok(())
                })
                .unwrap_or_else(|e| panic!("writes!, {sql}: {e}"));
            }
            // The one write beside `writes!`, the audit append, is not refused.
            d.audit(crate::audit::AuditEvent {
                actor: &crate::Actor::system("test"),
                action: "test.append",
                school_id: None,
                party_id: None,
                subject: None,
                details: serde_json::json!({}),
            })
            .await
            .unwrap();
        }
    }

    // Without the retry of `on_held!` the read below fails with the lost connection's error: a
    // login right after a PostgreSQL restart (or a failover, or an idle timeout) would fail.
    #[tokio::test]
    async fn a_login_read_whose_held_connections_the_server_dropped_runs_again_on_a_live_one() {
        let (d, schema) = crate::testing::postgres().await;
        let (pool, held) = d.reading();
        let Pool::Postgres(p) = pool else {
            panic!("a PostgreSQL register")
        };
        // Three connections held, as after a few logins, whose server processes we know.
        let mut conns = Vec::new();
        let mut pids: Vec<i32> = Vec::new();
        for _ in 0..3 {
            let mut c = held.postgres.take(p).await.unwrap();
            pids.push(
                sqlx::query_scalar("SELECT pg_backend_pid()")
                    .fetch_one(&mut *c)
                    .await
                    .unwrap(),
            );
            conns.push(c);
        }
        for c in conns {
            held.postgres.put_back(c);
        }
        // The server drops every one of them, as a restart would.
        writes!(d, w => {
            for pid in &pids {
                sqlx::query("SELECT pg_terminate_backend($1)").bind(pid).execute(w).await?;
            }
            Ok(())
        })
        .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        for _ in 0..4 {
            let pid: i32 = login_reads!(d, c => {
                Ok(sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut *c).await?)
            })
            .expect("the read runs again on a live connection");
            assert!(!pids.contains(&pid), "a dropped connection answered");
        }
        d.close().await;
        schema.drop().await;
    }

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
