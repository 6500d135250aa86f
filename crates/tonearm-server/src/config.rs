//! The server's configuration. Loaded (by the binary) from defaults, then a TOML file, then
//! `TONEARM_*` environment variables, then command-line flags; `tonearm config show` prints it.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Everything the server needs to run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Data directory: holds `tonearm.db`, `media/` and `cache/`.
    pub data: PathBuf,
    /// Library folders to scan. Empty means `<data>/media`.
    pub library: Vec<PathBuf>,
    /// Where uploads go (default `<data>/media/uploads`). Nodes that share a database share
    /// their media too: point this at the shared folder so every node can read an upload.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_dir: Option<PathBuf>,
    /// Scan the library when the server starts.
    pub scan_on_start: bool,
    /// Write the demo library into `<data>/media/demo` when the library is empty on start.
    pub demo_on_empty: bool,
    pub cache: CacheConfig,
    pub auth: AuthConfig,
    pub limits: LimitsConfig,
    pub http: HttpConfig,
    pub log: LogConfig,
    pub redis: RedisConfig,
    pub rooms: RoomsConfig,
    pub database: DatabaseConfig,
    pub storage: StorageConfig,
    pub jobs: JobsConfig,
    pub hls: HlsConfig,
    pub web: WebConfig,
    /// Seconds to let in-flight responses finish after a shutdown signal.
    pub shutdown_grace_secs: u64,
}

/// The database: the SQLite file `<data>/tonearm.db` by default, or PostgreSQL shared by
/// several nodes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `postgres://user:password@host:port/db`, or unset for SQLite.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

pub use tonearm_store::StorageConfig;

pub use tonearm_pipeline::JobsConfig;

/// Encrypted HLS delivery.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct HlsConfig {
    /// Key requests per minute per client address.
    pub key_per_minute: u32,
    /// How long a signed key URL in a playlist stays valid.
    pub key_url_ttl_secs: u64,
}

impl Default for HlsConfig {
    fn default() -> Self {
        HlsConfig {
            key_per_minute: 100,
            key_url_ttl_secs: 6 * 3600,
        }
    }
}

/// Transcode cache limits.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Bytes of transcoded audio kept in memory.
    pub memory_bytes: u64,
    /// Memory entries unused for this long are dropped.
    pub idle_secs: u64,
    /// Bytes of transcoded audio kept on disk under `<data>/cache/transcode`.
    pub disk_bytes: u64,
    /// When the system's available memory drops below this, half the memory cache is dropped.
    pub min_available_memory_bytes: u64,
}

/// Accounts and tokens.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Let anyone browse and stream without signing in (library management stays admin-only).
    pub public_library: bool,
    /// Lifetime of access tokens (JWT).
    pub access_ttl_secs: u64,
    /// Lifetime of refresh tokens.
    pub refresh_ttl_secs: u64,
    /// HS256 key (≥ 32 bytes). Unset: generated once and kept in `<data>/jwt.key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt_secret: Option<String>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            public_library: false,
            access_ttl_secs: 15 * 60,
            refresh_ttl_secs: 30 * 24 * 3600,
            jwt_secret: None,
        }
    }
}

/// Abuse limits (per client address; 0 = no limit).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Login attempts per minute per client and user name (plus exponential lockout).
    pub login_per_minute: u32,
    /// Token and key endpoints (refresh, setup, API keys, logout) per minute.
    pub token_per_minute: u32,
    /// Every other request per minute, per client address.
    pub api_per_minute: u32,
    /// Authenticated requests per minute, per user (across all their addresses).
    pub api_per_user_per_minute: u32,
    /// Largest request body (uploads have their own limit).
    pub max_body_bytes: usize,
    /// Largest uploaded file.
    pub upload_max_bytes: usize,
    /// Time limit for non-streaming requests.
    pub request_timeout_secs: u64,
    /// Requests handled at once; more wait their turn.
    pub max_concurrent_requests: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            login_per_minute: 5,
            token_per_minute: 100,
            api_per_minute: 6000,
            api_per_user_per_minute: 6000,
            max_body_bytes: 1024 * 1024,
            upload_max_bytes: 500 * 1024 * 1024,
            request_timeout_secs: 30,
            max_concurrent_requests: 1024,
        }
    }
}

/// The browser app (built by `make run` into `web/dist`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct WebConfig {
    /// The built app's folder. Unset: `web/dist` under the working directory, else beside the
    /// executable (`<exe>/web`, or the source tree's `web/dist` for `target/*/tonearm`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
}

/// Browser-facing HTTP policy.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Origins allowed to call the API from a browser (CORS). Empty: none.
    pub cors_origins: Vec<String>,
    /// Send `Strict-Transport-Security` (set when served over TLS, e.g. behind a proxy).
    pub hsts: bool,
}

/// The Redis several nodes share (rate limits, lockouts, revocations; rooms are per node).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://host:port/db`. Unset: everything stays in this process (one node).
    /// Also `TONEARM_REDIS_URL`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Listening rooms' settings live with the engine.
pub use tonearm_rooms::engine::RoomsConfig;

/// Logging.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: String,
    /// A tracing filter, e.g. `info` or `tonearm_server=debug,info`.
    pub level: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 4533)),
            data: PathBuf::from("./data"),
            library: Vec::new(),
            upload_dir: None,
            scan_on_start: true,
            demo_on_empty: true,
            cache: CacheConfig::default(),
            auth: AuthConfig::default(),
            limits: LimitsConfig::default(),
            http: HttpConfig::default(),
            log: LogConfig::default(),
            redis: RedisConfig::default(),
            rooms: RoomsConfig::default(),
            database: DatabaseConfig::default(),
            storage: StorageConfig::default(),
            jobs: JobsConfig::default(),
            hls: HlsConfig::default(),
            web: WebConfig::default(),
            shutdown_grace_secs: 10,
        }
    }
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            memory_bytes: 128 * 1024 * 1024,
            idle_secs: 30 * 60,
            disk_bytes: 2 * 1024 * 1024 * 1024,
            min_available_memory_bytes: 200 * 1024 * 1024,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: "text".into(),
            level: "info,symphonia=warn,symphonia_format_ogg=warn,symphonia_bundle_mp3=warn".into(),
        }
    }
}

impl Config {
    pub fn db_path(&self) -> PathBuf {
        self.data.join("tonearm.db")
    }
    pub fn media_dir(&self) -> PathBuf {
        self.data.join("media")
    }
    pub fn cache_dir(&self) -> PathBuf {
        self.data.join("cache")
    }
    /// Where uploads are stored (always scanned): `upload_dir`, or `<data>/media/uploads`.
    pub fn uploads_dir(&self) -> PathBuf {
        self.upload_dir
            .clone()
            .unwrap_or_else(|| self.media_dir().join("uploads"))
    }

    /// The folders to scan: the configured ones, or the data dir's media folder; plus the
    /// uploads folder unless one of those holds it.
    pub fn library_dirs(&self) -> Vec<PathBuf> {
        let mut dirs = if self.library.is_empty() {
            vec![self.media_dir()]
        } else {
            self.library.clone()
        };
        let uploads = self.uploads_dir();
        if !dirs.iter().any(|d| uploads.starts_with(d)) {
            dirs.push(uploads);
        }
        dirs
    }
}
