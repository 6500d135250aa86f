//! Persistence for Tonearm: the catalog database (SQLite file by default).
//!
//! Every query lives here so the rest of the code speaks in domain types ([`Track`], [`Album`],
//! [`Artist`]) and never in SQL.

/// The database behind a [`Store`]: one set of queries, written to run on both (numbered `$N`
/// parameters, standard SQL; where the two differ, a query asks `PG`).
#[derive(Clone)]
enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to whichever pool the store has. The body is compiled once
/// per backend, so every query is type-checked against both; inside it, the constant `PG`
/// says which one runs (for the few statements that must differ).
macro_rules! with_db {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.db {
            $crate::Db::Sqlite($pool) => {
                #[allow(dead_code)]
                const PG: bool = false;
                $body
            }
            $crate::Db::Postgres($pool) => {
                #[allow(dead_code)]
                const PG: bool = true;
                $body
            }
        }
    };
}

mod accounts;
mod analysis;
mod catalog;
pub mod jobs;
mod model;

pub use accounts::{ApiKey, RefreshOutcome, User, UserCredentials};
pub use analysis::{TrackAnalysis, ANALYSIS_READY, NOT_ANALYSABLE};
pub use catalog::{SortOrder, TrackFilter, TrackSort};
pub use jobs::{input_stamp, ClaimedJob, HlsPackage, Job, JobFilter};
pub use model::{Album, Artist, FileStamp, NewTrack, ScanIssue, Track, TrackSource};

use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::path::Path;
use std::time::Duration;

/// A failure talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database.url must be postgres://…, not {0}://")]
    Url(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Handle to the catalog database (a SQLite file, or PostgreSQL shared by several nodes);
/// cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: Db,
}

impl Store {
    /// Opens (creating if needed) the SQLite database file at `path` and applies migrations.
    /// WAL mode lets the scanner write while streams and the API read.
    pub async fn open(path: &Path) -> Result<Store> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // 1 MiB page cache per connection (SQLite's default is 2 MiB): the catalog's hot
            // pages fit, and idle memory stays small on a large library.
            .pragma("cache_size", "-1024");
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Store {
            db: Db::Sqlite(pool),
        })
    }

    /// Connects to PostgreSQL at `url` (`postgres://user:pass@host/db`) and applies the same
    /// migrations in PostgreSQL's spelling. Several nodes may share it.
    pub async fn open_postgres(url: &str) -> Result<Store> {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Store {
            db: Db::Postgres(pool),
        })
    }

    /// Opens `url` if it names PostgreSQL, else the SQLite file at `sqlite_path`.
    pub async fn open_url_or(url: Option<&str>, sqlite_path: &Path) -> Result<Store> {
        match url {
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                Self::open_postgres(u).await
            }
            Some(u) => Err(StoreError::Url(
                u.split("://").next().unwrap_or("").to_string(),
            )),
            None => Self::open(sqlite_path).await,
        }
    }

    /// Which database this is (`sqlite` or `postgres`), for logs and health.
    pub fn backend(&self) -> &'static str {
        match self.db {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Checks that the database answers (for `/health`).
    pub async fn ping(&self) -> Result<()> {
        with_db!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// Closes the pool, flushing the WAL.
    pub async fn close(&self) {
        with_db!(self, pool => pool.close().await);
    }
}

/// Starts a write transaction. SQLite takes its write lock at once (`BEGIN IMMEDIATE`), so two
/// writers cannot both read and then write; PostgreSQL does the same with `FOR UPDATE` on the
/// rows the transaction reads (see [`for_update`]).
async fn begin_write<DB: sqlx::Database>(
    pool: &sqlx::Pool<DB>,
    pg: bool,
) -> sqlx::Result<sqlx::Transaction<'static, DB>> {
    if pg {
        pool.begin().await
    } else {
        pool.begin_with("BEGIN IMMEDIATE").await
    }
}

/// The row-lock clause for a read inside [`begin_write`] (SQLite has none and needs none).
fn for_update(pg: bool) -> &'static str {
    if pg {
        " FOR UPDATE"
    } else {
        ""
    }
}

/// Milliseconds since the Unix epoch: the unit of every stored time.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
