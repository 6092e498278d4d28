use thiserror::Error;

/// Errors of the school register. Messages are shown to operators and ICT-coördinators, so they
/// name the field and the rule, Dutch first and English second.
#[derive(Debug, Error)]
pub enum DirectoryError {
    #[error("{field} {value:?} is ongeldig: {rule_nl} / {field} {value:?} is invalid: {rule_en}")]
    Invalid {
        field: &'static str,
        value: String,
        rule_nl: &'static str,
        rule_en: &'static str,
    },

    #[error(
        "{field} {value:?} is al in gebruik; kies een andere waarde / {field} {value:?} is already in use; choose another value"
    )]
    Duplicate { field: &'static str, value: String },

    #[error("{what} {key:?} bestaat niet / {what} {key:?} does not exist")]
    NotFound { what: &'static str, key: String },

    #[error("{nl} / {en}")]
    Conflict { nl: String, en: String },

    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),

    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),

    #[error("cannot prepare the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
}

impl DirectoryError {
    /// Whether the query's connection was lost: the server restarted, dropped it when idle or
    /// failed over (SQLSTATE class 08, or 57P01 to 57P03, or the socket itself failed). A read
    /// may then run again on another connection.
    pub(crate) fn is_lost_connection(&self) -> bool {
        match self {
            DirectoryError::Database(sqlx::Error::Io(_)) => true,
            DirectoryError::Database(sqlx::Error::Database(db)) => db
                .code()
                .is_some_and(|c| c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03")),
            _ => false,
        }
    }

    /// Whether the database could not be reached: a connection was lost, or the pool found no
    /// live one in time. Unlike a refused query, the same request can succeed once the database
    /// is back, which pages say with a 503 instead of a 500.
    pub fn is_unavailable(&self) -> bool {
        self.is_lost_connection()
            || matches!(
                self,
                DirectoryError::Database(sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed)
            )
    }

    pub(crate) fn invalid(
        field: &'static str,
        value: impl Into<String>,
        rule_nl: &'static str,
        rule_en: &'static str,
    ) -> Self {
        DirectoryError::Invalid {
            field,
            value: value.into(),
            rule_nl,
            rule_en,
        }
    }

    pub(crate) fn not_found(what: &'static str, key: impl Into<String>) -> Self {
        DirectoryError::NotFound {
            what,
            key: key.into(),
        }
    }
}

/// Turns a unique-constraint violation into a message naming the field, so that a duplicate
/// e-mail or BRIN reads as such instead of as a raw database error.
pub(crate) fn unique_as(
    field: &'static str,
    value: impl Into<String>,
) -> impl FnOnce(sqlx::Error) -> DirectoryError {
    let value = value.into();
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            DirectoryError::Duplicate { field, value }
        }
        _ => DirectoryError::Database(e),
    }
}

pub type Result<T, E = DirectoryError> = std::result::Result<T, E>;
