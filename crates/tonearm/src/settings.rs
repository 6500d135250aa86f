//! Loading the effective configuration: defaults < TOML file < `TONEARM_*` env < CLI flags.

use anyhow::Context;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::Serialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use tonearm_server::Config;

/// Settings given on the command line (they win over everything else).
#[derive(Debug, Default, Clone, clap::Args)]
pub struct ConfigArgs {
    /// TOML config file (default: $TONEARM_CONFIG, else ./tonearm.toml if present).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Data directory holding the database, media and caches ($TONEARM_DATA).
    #[arg(long, global = true)]
    pub data: Option<PathBuf>,
}

#[derive(Serialize)]
struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    library: Option<Vec<PathBuf>>,
}

/// Builds the effective config. `listen`/`library` come from `serve` flags when given.
pub fn load(
    args: &ConfigArgs,
    listen: Option<SocketAddr>,
    library: Option<Vec<PathBuf>>,
) -> anyhow::Result<Config> {
    let mut fig = Figment::from(Serialized::defaults(Config::default()));
    let file = args
        .config
        .clone()
        .or_else(|| std::env::var_os("TONEARM_CONFIG").map(PathBuf::from))
        .or_else(|| Some(PathBuf::from("tonearm.toml")).filter(|p| p.exists()));
    if let Some(file) = &file {
        anyhow::ensure!(
            file.exists(),
            "config file {} does not exist; give --config (or TONEARM_CONFIG) a file that does, \
             or neither to run on defaults",
            file.display()
        );
        fig = fig.merge(Toml::file_exact(file));
    }
    // TONEARM_LIBRARY is a path list (colon-separated), not a TOML value.
    fig = fig.merge(
        Env::prefixed("TONEARM_")
            .ignore(&["config", "library"])
            .map(|key| env_key(&key.as_str().to_ascii_lowercase()).into()),
    );
    if let Some(list) = std::env::var_os("TONEARM_LIBRARY") {
        let dirs: Vec<PathBuf> = std::env::split_paths(&list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        fig = fig.merge(Serialized::defaults(Overrides {
            listen: None,
            data: None,
            library: Some(dirs),
        }));
    }
    let library = library.filter(|l| !l.is_empty());
    fig = fig.merge(Serialized::defaults(Overrides {
        listen,
        data: args.data.clone(),
        library,
    }));
    let cfg: Config = fig.extract().context("invalid configuration")?;
    Ok(cfg)
}

/// Maps `TONEARM_*` variable names (prefix removed, lower-cased here) to config keys: `__` nests
/// (`LIMITS__API_PER_MINUTE` → `limits.api_per_minute`), and the scale-out switches have the
/// flat names deployment tools expect (`TONEARM_REDIS_URL` → `redis.url`).
fn env_key(name: &str) -> String {
    match name {
        "redis_url" => "redis.url".into(),
        "storage_url" => "storage.url".into(),
        "database_url" => "database.url".into(),
        "s3_endpoint" => "storage.s3_endpoint".into(),
        other => other.replace("__", "."),
    }
}

/// The effective configuration as TOML (`tonearm config show`).
pub fn show(cfg: &Config) -> anyhow::Result<String> {
    Ok(toml::to_string_pretty(cfg)?)
}
