//! Persistence for Tonearm: the catalog database (SQLite file by default).
//!
//! Every query lives here so the rest of the code speaks in domain types ([`Track`], [`Album`],
//! [`Artist`]) and never in SQL.

mod accounts;
mod catalog;
pub mod jobs;
mod model;

pub use accounts::{ApiKey, RefreshOutcome, User, UserCredentials};
pub use catalog::TrackFilter;
pub use jobs::{input_stamp, ClaimedJob, HlsPackage, Job, JobFilter};
pub use model::{Album, Artist, FileStamp, NewTrack, ScanIssue, Track, TrackSource};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::path::Path;
use std::time::Duration;

/// A failure talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Handle to the catalog database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
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
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store { pool })
    }

    /// Checks that the database answers (for `/health`).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool, flushing the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Milliseconds since the Unix epoch: the unit of every stored time.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
