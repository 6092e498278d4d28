//! Test backends (feature `testing`): a test written once runs on SQLite and on PostgreSQL.
//!
//! PostgreSQL comes from `TEST_POSTGRES_URL` (set by `scripts/test` and `.ci/run`); each test
//! gets a schema of its own, so tests run in parallel and in any order. A missing URL fails the
//! test instead of skipping it: a silently skipped backend is an untested backend.
//!
//! Both registers run their read methods on a read-only twin
//! ([`Directory::refuse_writes_in_reads`]), so every test that reaches a read method also checks
//! that it changes nothing.

use crate::{ConnectOptions, Directory};

/// A new temporary folder and the URL of a register file in it.
fn sqlite_file() -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("register.sqlite").display());
    (url, dir)
}

pub async fn sqlite() -> (Directory, tempfile::TempDir) {
    let (url, dir) = sqlite_file();
    let opts = ConnectOptions::default();
    let d = Directory::open(&url, &opts)
        .await
        .expect("open SQLite register")
        .refuse_writes_in_reads(&url, &opts)
        .await;
    (d, dir)
}

/// A SQLite register migrated only up to `version` (see [`Pool::migrate_up_to`]).
pub async fn sqlite_pool_at(version: i64) -> (crate::Pool, tempfile::TempDir) {
    let (url, dir) = sqlite_file();
    let pool = crate::Pool::connect(&url, &ConnectOptions::default())
        .await
        .expect("open SQLite register");
    pool.migrate_up_to(version).await.expect("older migrations");
    (pool, dir)
}

/// A PostgreSQL register in a schema of its own, migrated only up to `version`.
pub async fn postgres_pool_at(version: i64) -> (crate::Pool, PgSchema) {
    let (url, name, opts) = new_schema().await;
    let pool = crate::Pool::connect(&url, &opts)
        .await
        .expect("open PostgreSQL register");
    pool.migrate_up_to(version).await.expect("older migrations");
    (pool, PgSchema { url, name })
}

/// A new schema of its own in the test database: the URL, its name and the options that open it.
async fn new_schema() -> (String, String, ConnectOptions) {
    let url = postgres_url();
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&url)
        .await
        .expect("connect to TEST_POSTGRES_URL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
        .execute(&admin)
        .await
        .expect("create test schema");
    admin.close().await;
    let opts = ConnectOptions {
        max_connections: 5,
        pg_schema: Some(name.clone()),
    };
    (url, name, opts)
}

pub fn postgres_url() -> String {
    std::env::var("TEST_POSTGRES_URL").expect(
        "TEST_POSTGRES_URL is not set: run the tests with scripts/test (README), which starts \
         PostgreSQL and sets it, or export TEST_POSTGRES_URL=postgres://USER@127.0.0.1:5432/test",
    )
}

impl Directory {
    /// From now on runs `reads!` and `login_reads!` on a second handle on the register at `url`
    /// whose connections refuse every write: a read method that would change the register, and
    /// so leave the read cache stale, fails instead. The register's own pool stays for writes.
    pub async fn refuse_writes_in_reads(mut self, url: &str, opts: &ConnectOptions) -> Directory {
        let pool = crate::Pool::connect_read_only(url, opts)
            .await
            .expect("open the register's read-only twin");
        let held = crate::db::Held::new(pool.max_connections());
        self.read_only = Some(std::sync::Arc::new(crate::db::ReadOnlyTwin { pool, held }));
        self
    }
}

pub struct PgSchema {
    url: String,
    pub name: String,
}

pub async fn postgres() -> (Directory, PgSchema) {
    let (url, name, opts) = new_schema().await;
    let d = Directory::open(&url, &opts)
        .await
        .expect("open PostgreSQL register")
        .refuse_writes_in_reads(&url, &opts)
        .await;
    (d, PgSchema { url, name })
}

impl PgSchema {
    /// Another register on this schema, as a second node or the command line would open it.
    pub async fn open(&self) -> Directory {
        let opts = ConnectOptions {
            max_connections: 5,
            pg_schema: Some(self.name.clone()),
        };
        Directory::open(&self.url, &opts)
            .await
            .expect("open PostgreSQL register")
            .refuse_writes_in_reads(&self.url, &opts)
            .await
    }

    pub async fn drop(self) {
        let admin = sqlx::PgPool::connect(&self.url).await.expect("connect");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA {} CASCADE",
            self.name
        )))
        .execute(&admin)
        .await
        .expect("drop test schema");
        admin.close().await;
    }
}

/// Defines `mod $name { sqlite, postgres }`: the same test body on both backends.
#[macro_export]
macro_rules! on_both_backends {
    (async fn $name:ident($d:ident: Directory) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($d: $crate::Directory) $body

            #[tokio::test]
            async fn sqlite() {
                let (d, _dir) = $crate::testing::sqlite().await;
                run(d).await;
            }

            #[tokio::test]
            async fn postgres() {
                let (d, schema) = $crate::testing::postgres().await;
                run(d.clone()).await;
                d.close().await;
                schema.drop().await;
            }
        }
    };
}
