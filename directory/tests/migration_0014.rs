//! Migration 0014 on a register written by an older release, on SQLite and PostgreSQL: a release
//! from before it shows the person's current name, marked as not recorded; a release after it
//! keeps the name it was made with; and the moment the register began to record groups (0012)
//! is known, so the school can be told which releases the group filter cannot find.

use directory::audit::AuditEvent;
use directory::privacy::ReleaseFilter;
use directory::{Actor, Directory, Pool, testing};

/// Runs one statement on either backend.
async fn exec(pool: &Pool, sql: &str) -> Result<(), sqlx::Error> {
    match pool {
        Pool::Sqlite(p) => sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(p)
            .await
            .map(|_| ()),
        Pool::Postgres(p) => sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(p)
            .await
            .map(|_| ()),
    }
}

/// 2026-11-01 12:00:00 UTC, when (in this test) migration 0012 was applied.
const GROUPS_SINCE: i64 = 1_793_534_400;

/// Rows as release 0013 wrote them: a school with Finn, and a release about him from before
/// the register recorded groups (at unix second 1,000), with no name of its own.
const OLD_ROWS: &[&str] = &[
    "INSERT INTO boards (id, bestuursnummer, name, created_at) VALUES ('b', '41234', 'Stichting', 1)",
    "INSERT INTO schools (id, board_id, brin, vestigingscode, name, instelling_ref, active, created_at, updated_at) \
     VALUES ('s', 'b', '12AB', '00', 'De Regenboog', 'ref-1', TRUE, 1, 1)",
    "INSERT INTO pupils (id, school_id, las_key, achternaam, roepnaam, jaargroep, active, created_at, updated_at) \
     VALUES ('finn', 's', 'L5', 'Smit', 'Finn', '5', TRUE, 1, 1)",
    "INSERT INTO audit_log (at, actor, action, school_id, party_id, subject, details) VALUES \
     (1000, 'system:broker', 'release.allow', 's', 'party-1', 'finn', \
      '{\"context\":\"school_network\",\"subject_kind\":\"pupil\",\"attributes\":[\"subject\"]}')",
];

async fn run(pool: Pool, installed_on: &str) {
    for sql in OLD_ROWS {
        exec(&pool, sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let when =
        format!("UPDATE _sqlx_migrations SET installed_on = {installed_on} WHERE version = 12");
    exec(&pool, &when).await.unwrap();
    pool.migrate().await.unwrap();
    let d = Directory::new(pool.clone());
    // Finn is renamed by a later import; the old release has only today's name to show.
    exec(
        &pool,
        "UPDATE pupils SET roepnaam = 'Fenna', achternaam = 'Bos' WHERE id = 'finn'",
    )
    .await
    .unwrap();

    let all = ReleaseFilter::default();
    let old = d.releases_of_school("s", &all, None, 10).await.unwrap();
    assert_eq!(old.len(), 1);
    assert_eq!(old[0].subject_name.as_deref(), Some("Fenna Bos"));
    assert!(!old[0].name_recorded, "today's name, marked as such");
    assert_eq!(
        d.releases_without_groups_since("s", &all).await.unwrap(),
        Some(GROUPS_SINCE),
        "the moment 0012 was applied"
    );
    let later = ReleaseFilter {
        from: Some(GROUPS_SINCE),
        ..Default::default()
    };
    assert_eq!(
        d.releases_without_groups_since("s", &later).await.unwrap(),
        None,
        "no note for a range without such releases"
    );
    let other_party = ReleaseFilter {
        party_id: Some("party-2".into()),
        ..Default::default()
    };
    assert_eq!(
        d.releases_without_groups_since("s", &other_party)
            .await
            .unwrap(),
        None
    );

    // A release after the migration keeps the name it was made with through a rename.
    d.audit_release(
        AuditEvent {
            actor: &Actor::system("broker"),
            action: "release.allow",
            school_id: Some("s"),
            party_id: Some("party-1"),
            subject: Some("finn"),
            details: serde_json::json!({"context": "school_network", "subject_kind": "pupil", "attributes": ["subject"]}),
        },
        Some("Fenna Bos"),
        &["g5".to_owned()],
    )
    .await
    .unwrap();
    exec(
        &pool,
        "UPDATE pupils SET roepnaam = 'Fem' WHERE id = 'finn'",
    )
    .await
    .unwrap();
    let rows = d.releases_of_school("s", &all, None, 10).await.unwrap();
    assert_eq!(rows[0].subject_name.as_deref(), Some("Fenna Bos"));
    assert!(rows[0].name_recorded);
    assert_eq!(rows[1].subject_name.as_deref(), Some("Fem Bos"));

    // The recorded name and the marks are as append-only as the log.
    for sql in [
        "UPDATE audit_log SET subject_name = 'iemand anders'",
        "UPDATE audit_recorded_since SET since = 0",
        "DELETE FROM audit_recorded_since",
    ] {
        let err = exec(&pool, sql).await.expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
}

#[tokio::test]
async fn migration_0014_marks_old_releases_and_knows_when_groups_were_first_recorded_sqlite() {
    let (pool, _dir) = testing::sqlite_pool_at(13).await;
    run(pool, "'2026-11-01 12:00:00'").await;
}

#[tokio::test]
async fn migration_0014_marks_old_releases_and_knows_when_groups_were_first_recorded_postgres() {
    let (pool, schema) = testing::postgres_pool_at(13).await;
    run(pool.clone(), "'2026-11-01 12:00:00+00'").await;
    pool.close().await;
    schema.drop().await;
}
