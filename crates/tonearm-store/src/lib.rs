//! Persistence for Tonearm: the catalog database (SQLite file by default, or PostgreSQL) and
//! the object store for what is derived from the library (`objects`: a folder, or S3).
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
pub mod objects;

pub use accounts::{ApiKey, RefreshOutcome, User, UserCredentials};
pub use analysis::{TrackAnalysis, ANALYSIS_READY, NOT_ANALYSABLE};
pub use catalog::{SortOrder, TrackFilter, TrackSort};
pub use jobs::{input_stamp, ClaimedJob, HlsPackage, Job, JobFilter};
pub use model::{Album, Artist, FileStamp, NewTrack, ScanIssue, Track, TrackSource};
pub use objects::{Objects, ObjectsError, StorageConfig};

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
    /// The PostgreSQL server answered but has no database of that name.
    #[error("PostgreSQL at {server} has no database {name:?}")]
    NoDatabase { server: String, name: String },
    /// No PostgreSQL server answered at the URL's address.
    #[error("cannot reach PostgreSQL at {server} ({reason})")]
    Unreachable { server: String, reason: String },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Handle to the catalog database (a SQLite file, or PostgreSQL shared by several nodes);
/// cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: Db,
}

/// One plain TCP connect to the URL's server first: the pool retries a refused connection
/// until its timeout and then reports only the timeout, where the user needs "refused" (not
/// running) or "no route" (wrong host) at once. Unix-socket hosts are left to the pool.
async fn reachable(url: &str) -> Result<()> {
    use std::str::FromStr;
    let Ok(opts) = sqlx::postgres::PgConnectOptions::from_str(url) else {
        return Ok(()); // the pool reports the bad URL in its own words
    };
    let (host, port) = (opts.get_host().to_owned(), opts.get_port());
    if host.starts_with('/') {
        return Ok(());
    }
    let server = format!("{host}:{port}");
    match tokio::time::timeout(
        Duration::from_secs(10),
        tokio::net::TcpStream::connect((host.as_str(), port)),
    )
    .await
    {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(StoreError::Unreachable {
            server,
            reason: e.to_string(),
        }),
        Err(_) => Err(StoreError::Unreachable {
            server,
            reason: "no answer within 10 s".into(),
        }),
    }
}

/// Names the two connection failures a user fixes differently (start the server, create the
/// database) instead of passing sqlx's wording on; the server is named without credentials.
fn connect_error(url: &str, e: sqlx::Error) -> StoreError {
    use std::str::FromStr;
    let opts = sqlx::postgres::PgConnectOptions::from_str(url).ok();
    let server = opts
        .as_ref()
        .map(|o| format!("{}:{}", o.get_host(), o.get_port()))
        .unwrap_or_else(|| "the configured address".into());
    match &e {
        sqlx::Error::Database(d) if d.code().as_deref() == Some("3D000") => {
            StoreError::NoDatabase {
                server,
                name: opts
                    .and_then(|o| o.get_database().map(str::to_owned))
                    .unwrap_or_default(),
            }
        }
        sqlx::Error::Io(io) => StoreError::Unreachable {
            server,
            reason: io.to_string(),
        },
        sqlx::Error::PoolTimedOut => StoreError::Unreachable {
            server,
            reason: "no answer within 10 s".into(),
        },
        _ => StoreError::Db(e),
    }
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
        reachable(url).await?;
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|e| connect_error(url, e))?;
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
