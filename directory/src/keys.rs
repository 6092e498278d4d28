//! Storage of signing keys for the `certs` crate. Private keys arrive here already sealed under
//! the key-encryption key; this module never sees them in the clear.

use certs::{
    Algorithm, KeyRecord, KeyState, KeyStorage, SealedSecret, SecretStorage, StorageError,
};

use crate::Directory;
use crate::db::{reads, writes};
use crate::error::{DirectoryError, Result};
use crate::row::RowExt;

fn record_from(r: &impl RowExt) -> Result<KeyRecord> {
    let alg = r.text("alg")?;
    let state = r.text("state")?;
    let bad = |field: &'static str, value: &str| {
        DirectoryError::invalid(
            field,
            value,
            "onbekende waarde in de database",
            "unknown value in the database",
        )
    };
    Ok(KeyRecord {
        kid: r.text("kid")?,
        alg: alg
            .parse::<Algorithm>()
            .map_err(|_| bad("signing_keys.alg", &alg))?,
        state: state
            .parse::<KeyState>()
            .map_err(|_| bad("signing_keys.state", &state))?,
        public_key_pem: r.text("public_key_pem")?,
        certificate_pem: r.opt_text("certificate_pem")?,
        encrypted_private_key: r.bytes("encrypted_private_key")?,
        kek_id: r.text("kek_id")?,
        created_at: r.int("created_at")?,
        activated_at: r.opt_int("activated_at")?,
        retired_at: r.opt_int("retired_at")?,
    })
}

const INSERT: &str = "INSERT INTO signing_keys (kid, alg, state, public_key_pem, certificate_pem, \
     encrypted_private_key, kek_id, created_at, activated_at, retired_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

macro_rules! insert_key {
    ($conn:expr, $k:expr) => {{
        let k: &KeyRecord = $k;
        sqlx::query(INSERT)
            .bind(&k.kid)
            .bind(k.alg.as_str())
            .bind(k.state.as_str())
            .bind(&k.public_key_pem)
            .bind(&k.certificate_pem)
            .bind(&k.encrypted_private_key)
            .bind(&k.kek_id)
            .bind(k.created_at)
            .bind(k.activated_at)
            .bind(k.retired_at)
            .execute($conn)
            .await
    }};
}

fn storage(e: impl Into<DirectoryError>) -> StorageError {
    StorageError::new(e.into())
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

impl Directory {
    async fn load_key_records(&self) -> Result<Vec<KeyRecord>> {
        const SQL: &str = "SELECT kid, alg, state, public_key_pem, certificate_pem, encrypted_private_key, \
             kek_id, created_at, activated_at, retired_at FROM signing_keys ORDER BY created_at, kid";
        reads!(self, p => {
            sqlx::query(SQL).fetch_all(p).await?.iter().map(record_from).collect()
        })
    }

    async fn insert_initial_keys(&self, current: &KeyRecord, next: &KeyRecord) -> Result<bool> {
        writes!(self, p => {
            let mut tx = p.begin().await?;
            // The partial unique index on (alg) WHERE state = 'current' settles a race between
            // nodes starting at once: the loser's insert fails and it uses the winner's keys.
            match insert_key!(&mut *tx, current) {
                Err(e) if is_unique_violation(&e) => return Ok(false),
                other => { other?; }
            }
            match insert_key!(&mut *tx, next) {
                Err(e) if is_unique_violation(&e) => return Ok(false),
                other => { other?; }
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Rotates `alg` if its current key is still `expected_current`; false, changing nothing,
    /// when another rotation came first.
    async fn rotate_keys(
        &self,
        alg: Algorithm,
        expected_current: &str,
        new_next: &KeyRecord,
        now: i64,
    ) -> Result<bool> {
        let alg = alg.as_str();
        let conflict = || DirectoryError::Conflict {
            nl: format!(
                "er is geen huidige en volgende {alg}-sleutel om te wisselen; start openpoort eerst een keer"
            ),
            en: format!(
                "there is no current and next {alg} key to rotate; start openpoort once first"
            ),
        };
        writes!(self, p => {
            let mut tx = p.begin().await?;
            // Order matters for the one-current / one-next indexes: free the slot before filling
            // it. The kid in the condition makes the row update the arbiter between nodes
            // rotating at once: the second finds no current key with the kid it read.
            let retired = sqlx::query("UPDATE signing_keys SET state = 'retired', retired_at = $1 WHERE alg = $2 AND state = 'current' AND kid = $3")
                .bind(now).bind(alg).bind(expected_current).execute(&mut *tx).await?;
            if retired.rows_affected() == 0 {
                return Ok(false);
            }
            let promoted = sqlx::query("UPDATE signing_keys SET state = 'current', activated_at = $1 WHERE alg = $2 AND state = 'next'")
                .bind(now).bind(alg).execute(&mut *tx).await?;
            if retired.rows_affected() != 1 || promoted.rows_affected() != 1 {
                return Err(conflict());
            }
            insert_key!(&mut *tx, new_next)?;
            tx.commit().await?;
            Ok(true)
        })
    }
}

impl KeyStorage for Directory {
    async fn load_keys(&self) -> std::result::Result<Vec<KeyRecord>, StorageError> {
        self.load_key_records().await.map_err(storage)
    }

    async fn insert_initial(
        &self,
        current: KeyRecord,
        next: KeyRecord,
    ) -> std::result::Result<bool, StorageError> {
        self.insert_initial_keys(&current, &next)
            .await
            .map_err(storage)
    }

    async fn rotate(
        &self,
        alg: Algorithm,
        expected_current: String,
        new_next: KeyRecord,
        now: i64,
    ) -> std::result::Result<bool, StorageError> {
        self.rotate_keys(alg, &expected_current, &new_next, now)
            .await
            .map_err(storage)
    }
}

impl SecretStorage for Directory {
    async fn load_secret(
        &self,
        name: &str,
    ) -> std::result::Result<Option<SealedSecret>, StorageError> {
        const SQL: &str =
            "SELECT name, sealed, kek_id, created_at FROM sealed_secrets WHERE name = $1";
        reads!(self, p => {
            let row = sqlx::query(SQL).bind(name).fetch_optional(p).await?;
            row.map(|r| Ok(SealedSecret {
                name: r.text("name")?,
                sealed: r.bytes("sealed")?,
                kek_id: r.text("kek_id")?,
                created_at: r.int("created_at")?,
            })).transpose()
        })
        .map_err(storage)
    }

    async fn insert_secret(&self, secret: SealedSecret) -> std::result::Result<bool, StorageError> {
        const SQL: &str =
            "INSERT INTO sealed_secrets (name, sealed, kek_id, created_at) VALUES ($1, $2, $3, $4)";
        writes!(self, p => {
            match sqlx::query(SQL).bind(&secret.name).bind(&secret.sealed).bind(&secret.kek_id)
                .bind(secret.created_at).execute(p).await {
                Ok(_) => Ok(true),
                Err(e) if is_unique_violation(&e) => Ok(false),
                Err(e) => Err(e.into()),
            }
        })
        .map_err(storage)
    }
}
