//! Migration 0010 on a register written by an older release, on SQLite and PostgreSQL: accounts
//! deactivated before it stay deactivated (and their links stop working), accounts never
//! activated stay activatable, and only the leerkracht roles an import granted are marked as
//! the import's.

use directory::credentials::TokenPurpose;
use directory::model::{Email, SchoolCode, StaffRole};
use directory::people::StaffStatus;
use directory::{Directory, Pool, testing};

/// Runs one statement on either backend.
async fn exec(pool: &Pool, sql: &str) {
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
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Rows as release 0009 wrote them: a school; Anna deactivated after activating, with a reset
/// link still open; Bram deactivated before activating; Cas never activated, with an open
/// activation link; Daan active, leerkracht from an import and IB by hand; Eva leerkracht by
/// hand though the LAS lists her.
const OLD_ROWS: &[&str] = &[
    "INSERT INTO boards (id, bestuursnummer, name, created_at) VALUES ('b', '41234', 'Stichting', 1)",
    "INSERT INTO schools (id, board_id, brin, vestigingscode, name, instelling_ref, active, created_at, updated_at) \
     VALUES ('s', 'b', '12AB', '00', 'De Regenboog', 'ref-1', TRUE, 1, 1)",
    "INSERT INTO staff (id, email, achternaam, status, created_at, updated_at, password_hash) VALUES \
     ('anna', 'anna@school.nl', 'A', 'inactive', 1, 50, '$argon2id$a'), \
     ('bram', 'bram@school.nl', 'B', 'inactive', 1, 60, NULL), \
     ('cas', 'cas@school.nl', 'C', 'inactive', 1, 1, NULL), \
     ('daan', 'daan@school.nl', 'D', 'active', 1, 1, '$argon2id$d'), \
     ('eva', 'eva@school.nl', 'E', 'active', 1, 1, '$argon2id$e')",
    "INSERT INTO staff_tokens (token_hash, staff_id, purpose, created_at, expires_at) VALUES \
     ('anna-reset', 'anna', 'reset', 1, 99999999999), \
     ('cas-activation', 'cas', 'activation', 1, 99999999999)",
    "INSERT INTO audit_log (at, actor, action, school_id, party_id, subject, details) VALUES \
     (60, 'operator:cli', 'staff.status', NULL, NULL, 'bram', '{\"status\":\"inactive\"}'), \
     (2, 'operator:cli', 'staff.role.grant', 's', NULL, 'daan', '{\"role\":\"ib\"}'), \
     (2, 'operator:cli', 'staff.role.grant', 's', NULL, 'eva', '{\"role\":\"leerkracht\"}')",
    "INSERT INTO staff_memberships (staff_id, school_id, las_key, active, created_at) VALUES \
     ('daan', 's', 'T1', TRUE, 1), ('eva', 's', 'T2', TRUE, 1)",
    "INSERT INTO staff_roles (staff_id, school_id, role, granted_by, granted_at) VALUES \
     ('daan', 's', 'leerkracht', 'operator:cli', 1), ('daan', 's', 'ib', 'operator:cli', 2), \
     ('eva', 's', 'leerkracht', 'operator:cli', 2)",
];

async fn run(pool: Pool) {
    for sql in OLD_ROWS {
        exec(&pool, sql).await;
    }
    pool.migrate().await.unwrap();
    let d = Directory::new(pool);
    let status = |email: &'static str| {
        let d = d.clone();
        async move {
            d.staff_login(&Email::parse(email).unwrap())
                .await
                .unwrap()
                .unwrap()
                .staff
                .status
        }
    };
    assert_eq!(status("anna@school.nl").await, StaffStatus::Deactivated);
    assert_eq!(status("bram@school.nl").await, StaffStatus::Deactivated);
    assert_eq!(
        status("cas@school.nl").await,
        StaffStatus::Inactive,
        "never activated is not deactivated"
    );
    assert_eq!(status("daan@school.nl").await, StaffStatus::Active);
    assert!(
        d.staff_token_owner("anna-reset", TokenPurpose::Reset)
            .await
            .unwrap()
            .is_none(),
        "voided"
    );
    assert_eq!(
        d.staff_token_owner("cas-activation", TokenPurpose::Activation)
            .await
            .unwrap()
            .as_deref(),
        Some("cas")
    );

    // Imported roles go with a removal by import; see what one takes from Daan and Eva.
    let school = d
        .require_school(&SchoolCode::parse("12AB00").unwrap())
        .await
        .unwrap();
    let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<EDEX>\n<school><schooljaar>2025-2026</schooljaar>\
         <peildatum>2025-10-01</peildatum><brincode>12AB</brincode><dependancecode>00</dependancecode>\
         <xsdversie>2.1</xsdversie></school>\n<leerlingen><leerling key=\"1\"><achternaam>Jansen</achternaam>\
         <jaargroep>3</jaargroep></leerling></leerlingen>\n</EDEX>\n";
    let snapshot = directory::edexml::parse(xml.as_bytes(), &Default::default()).unwrap();
    d.import_snapshot(&snapshot, false, &directory::Actor::operator_cli())
        .await
        .unwrap();
    let roles = |id: &'static str| {
        let d = d.clone();
        let school = school.id.clone();
        async move {
            d.schools_of_staff(id)
                .await
                .unwrap()
                .into_iter()
                .filter(|a| a.school_id == school)
                .flat_map(|a| a.roles)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        roles("daan").await,
        vec![StaffRole::Ib],
        "the imported leerkracht role went, IB by hand stays"
    );
    assert_eq!(
        roles("eva").await,
        vec![StaffRole::Leerkracht],
        "a leerkracht role granted by hand stays"
    );
}

#[tokio::test]
async fn migration_0010_keeps_old_deactivations_and_marks_only_imported_roles_sqlite() {
    let (pool, _dir) = testing::sqlite_pool_at(9).await;
    run(pool).await;
}

#[tokio::test]
async fn migration_0010_keeps_old_deactivations_and_marks_only_imported_roles_postgres() {
    let (pool, schema) = testing::postgres_pool_at(9).await;
    run(pool.clone()).await;
    pool.close().await;
    schema.drop().await;
}
