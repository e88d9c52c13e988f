//! What can go wrong in storage: one error type for every engine and every capability of
//! the contract, below them all so that each can name it.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("backup failed: {0}")]
    Backup(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {}", describe_postgres(.0))]
    Postgres(#[from] tokio_postgres::Error),
    #[error("PostgreSQL over TLS: {0}")]
    Tls(String),
    #[error("no database connection: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("{0} is not a database address this build knows (postgres://… or a SQLite file)")]
    BadLocation(String),
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// Connecting failed: the server is down, restarting, unreachable, or refused us.
    #[error("cannot connect to PostgreSQL at {server}: {reason}")]
    Unreachable { server: String, reason: String },
    #[error(
        "the database was written by a newer Earshot (schema {found}, this build knows {known})"
    )]
    NewerSchema { found: usize, known: usize },
    #[error("the transaction holding this submission failed: {0}")]
    BatchFailed(String),
    #[error("writing the export failed: {0}")]
    Export(String),
    #[error("copy: {0}")]
    Copy(String),
    #[error("the storage writer has stopped")]
    WriterGone,
    #[error("no site has the key {0:?}")]
    UnknownSite(String),
    #[error("a site with the key {0:?} exists already")]
    SiteExists(String),
    #[error("no token has the id {0}")]
    UnknownToken(i64),
    #[error("an account with the email {0:?} exists already")]
    UserExists(String),
}

impl StoreError {
    /// Whether the database could not be reached (down, restarting, unreachable) or its
    /// connection was lost: nothing was stored, and the same request may succeed shortly.
    pub fn is_unreachable(&self) -> bool {
        match self {
            Self::Unreachable { .. } | Self::Unavailable(_) | Self::Pool(_) => true,
            Self::Postgres(err) => {
                let sqlstate = err.code().map(|code| code.code()).unwrap_or("");
                err.is_closed()
                    // connection_exception, admin_shutdown, crash_shutdown, cannot_connect_now
                    || sqlstate.starts_with("08")
                    || matches!(sqlstate, "57P01" | "57P02" | "57P03")
                    || std::error::Error::source(err).is_some_and(|source| source.is::<std::io::Error>())
            }
            _ => false,
        }
    }
}

/// An error with what the server or the socket said: tokio-postgres's own text is only
/// "db error" or "error connecting to server".
pub(crate) fn describe_postgres(err: &tokio_postgres::Error) -> String {
    if let Some(db) = err.as_db_error() {
        return format!("{} ({})", db.message(), db.code().code());
    }
    match std::error::Error::source(err) {
        Some(source) => format!("{err}: {source}"),
        None => err.to_string(),
    }
}
