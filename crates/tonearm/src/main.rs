//! `tonearm`: the one binary. Serves, scans, writes the demo library, shows config, benchmarks.

mod bench;
mod explain;
mod room_tools;
mod settings;
mod users;

use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use settings::ConfigArgs;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "tonearm",
    version,
    about = "Self-hosted music streaming engine"
)]
struct Cli {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on (default 127.0.0.1:4533).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Library folder to scan (repeatable; default <data>/media).
        #[arg(long)]
        library: Vec<PathBuf>,
    },
    /// Scan folders into the catalog, with a progress bar.
    Scan {
        /// Folders to scan (default: the configured library).
        dirs: Vec<PathBuf>,
    },
    /// Run the processing pipeline (loudness, HLS packaging) here, with a progress bar.
    Process {
        /// Every track's missing work (what a scan queues).
        #[arg(long, conflicts_with = "tracks")]
        all: bool,
        /// These tracks (ids), all their jobs re-run.
        tracks: Vec<String>,
    },
    /// Analyse tracks (tempo, key, features, embedding) here, with a progress bar.
    Analyze {
        /// Every track whose analysis is missing or out of date.
        #[arg(long, conflicts_with = "tracks")]
        all: bool,
        /// These tracks (ids), analysed again.
        tracks: Vec<String>,
    },
    /// Analyse one audio file (not the library) and print the analysis as JSON.
    #[command(hide = true)]
    AnalyzeFile {
        file: PathBuf,
        /// Print only the time taken and the peak memory (for `make bench`).
        #[arg(long)]
        timing: bool,
    },
    /// Write the demo library (synthesized, tagged tracks in several formats).
    Demo {
        /// Where to write it (default <data>/media/demo).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        action: users::UserCommand,
    },
    /// Inspect the configuration.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Run the benchmarks and print their numbers (see `make bench`).
    Bench(bench::BenchArgs),
    /// Host a listening room from a file: encode Opus in real time and broadcast it.
    Broadcast(room_tools::broadcast::BroadcastArgs),
    /// Join a room, play it into a WAV (with its schedule), and report latency and buffer.
    Listen(room_tools::listen::ListenArgs),
    /// Open many guest connections to a live room and report relay delay, loss, server CPU/RSS.
    Loadtest(room_tools::loadtest::LoadtestArgs),
}

#[derive(Subcommand)]
enum ConfigAction {
    /// Print the effective configuration (defaults < file < env < flags) as TOML.
    Show,
}

fn init_logging(cfg: &tonearm_server::Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&cfg.log.level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if cfg.log.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", explain::explain(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Serve { listen, library } => {
            let cfg = settings::load(&cli.config, listen, Some(library))?;
            init_logging(&cfg);
            rt.block_on(tonearm_server::serve(cfg, |addr| {
                // Printed on stdout for scripts and tests that start a server on port 0.
                println!("listening on http://{addr}");
            }))?;
        }
        Command::Scan { dirs } => {
            let cfg = settings::load(&cli.config, None, None)?;
            init_logging(&cfg);
            let dirs = if dirs.is_empty() {
                cfg.library_dirs()
            } else {
                dirs
            };
            rt.block_on(scan(cfg, dirs))?;
        }
        Command::Process { all, tracks } => {
            anyhow::ensure!(
                all || !tracks.is_empty(),
                "name tracks to process, or give --all"
            );
            let cfg = settings::load(&cli.config, None, None)?;
            init_logging(&cfg);
            rt.block_on(process(cfg, all, tracks))?;
        }
        Command::Analyze { all, tracks } => {
            anyhow::ensure!(
                all || !tracks.is_empty(),
                "name tracks to analyse, or give --all"
            );
            let cfg = settings::load(&cli.config, None, None)?;
            init_logging(&cfg);
            rt.block_on(analyze(cfg, all, tracks))?;
        }
        Command::AnalyzeFile { file, timing } => analyze_file(&file, timing)?,
        Command::Demo { out } => {
            let cfg = settings::load(&cli.config, None, None)?;
            let dir = out.unwrap_or_else(|| cfg.media_dir().join("demo"));
            let files = tonearm_library::demo::write_demo_library(&dir)
                .context("writing the demo library")?;
            for f in files {
                println!("{}", f.display());
            }
        }
        Command::User { action } => {
            let cfg = settings::load(&cli.config, None, None)?;
            rt.block_on(async {
                let store = open_store(&cfg).await?;
                let shared = tonearm_server::connect_shared(&cfg).await?;
                let r = users::run(&store, shared.as_ref(), &cfg.auth, action).await;
                store.close().await;
                r
            })?;
        }
        Command::Config {
            action: ConfigAction::Show,
        } => {
            let cfg = settings::load(&cli.config, None, None)?;
            print!("{}", settings::show(&cfg)?);
        }
        Command::Bench(args) => bench::run(args)?,
        Command::Broadcast(args) => rt.block_on(room_tools::broadcast::run(args))?,
        Command::Listen(args) => rt.block_on(room_tools::listen::run(args))?,
        Command::Loadtest(args) => rt.block_on(room_tools::loadtest::run(args))?,
    }
    Ok(())
}

/// The database of the configured data dir (created on first use).
async fn open_store(cfg: &tonearm_server::Config) -> anyhow::Result<tonearm_store::Store> {
    std::fs::create_dir_all(&cfg.data)
        .with_context(|| format!("creating {}", cfg.data.display()))?;
    Ok(tonearm_store::Store::open_url_or(cfg.database.url.as_deref(), &cfg.db_path()).await?)
}

async fn scan(cfg: tonearm_server::Config, dirs: Vec<PathBuf>) -> anyhow::Result<()> {
    let store = open_store(&cfg).await?;
    let progress = Arc::new(tonearm_library::ScanProgress::default());
    progress.try_start()?;
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let task = {
        let (store, progress) = (store.clone(), progress.clone());
        tokio::spawn(async move { tonearm_library::scan(&store, &dirs, &progress).await })
    };
    while !task.is_finished() {
        let s = progress.status();
        bar.set_message(format!(
            "{} files ({} unchanged, {} read, {} skipped) {:.0} files/s",
            s.found, s.unchanged, s.probed, s.failed, s.files_per_second
        ));
        bar.tick();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bar.finish_and_clear();
    let report = task.await??;
    println!(
        "scanned {} files in {:.1}s: {} added/updated, {} unchanged, {} skipped, {} removed",
        report.found,
        report.elapsed_ms as f64 / 1000.0,
        report.added_or_updated,
        report.unchanged,
        report.failed,
        report.removed
    );
    for issue in store.scan_issues().await? {
        println!("skipped {}: {}", issue.path, issue.reason);
    }
    store.close().await;
    Ok(())
}

/// `tonearm process`: queues the work, then runs it in this process (the same workers as the
/// server's; a running server shares the queue and may take some of it).
async fn process(
    mut cfg: tonearm_server::Config,
    all: bool,
    tracks: Vec<String>,
) -> anyhow::Result<()> {
    cfg.demo_on_empty = false; // processing never adds to the library
    let st = tonearm_server::prepare(cfg).await?;
    if all {
        st.pipeline.enqueue_missing().await;
    }
    for id in &tracks {
        anyhow::ensure!(
            st.store.track_source(id).await?.is_some(),
            "no track with id {id}"
        );
        st.pipeline.enqueue_track(id, true).await?;
    }
    let waiting: i64 = st
        .store
        .job_counts()
        .await?
        .into_iter()
        .filter(|(s, _)| s == "pending" || s == "processing")
        .map(|(_, n)| n)
        .sum();
    let bar = ProgressBar::new(waiting.max(0) as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} jobs {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let (done, failed) = st
        .pipeline
        .drain(None, |done, failed| {
            bar.set_position(done + failed);
            if failed > 0 {
                bar.set_message(format!("{failed} failed"));
            }
        })
        .await;
    bar.finish_and_clear();
    println!("{done} jobs done, {failed} failed");
    for j in st
        .store
        .jobs(&tonearm_store::JobFilter {
            state: Some("failed".into()),
            limit: 50,
            ..Default::default()
        })
        .await?
    {
        println!(
            "failed: {} {} ({})",
            j.kind,
            j.track_id,
            j.error.unwrap_or_default()
        );
    }
    st.store.close().await;
    anyhow::ensure!(failed == 0, "{failed} jobs failed");
    Ok(())
}

/// `tonearm analyze-file`: one file's analysis as JSON, or with `timing` how long it took and
/// the process's peak resident memory.
fn analyze_file(file: &std::path::Path, timing: bool) -> anyhow::Result<()> {
    let start = std::time::Instant::now();
    let a =
        tonearm_library::analysis::analyze_file(file, &std::sync::atomic::AtomicBool::new(false))?;
    let seconds = start.elapsed().as_secs_f64();
    if timing {
        let peak_rss_kb: u64 = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            })
            .unwrap_or(0);
        println!(
            "{}",
            serde_json::json!({ "seconds": seconds, "peak_rss_kb": peak_rss_kb })
        );
    } else {
        match a {
            Ok(a) => println!("{}", serde_json::to_string_pretty(&a)?),
            Err(why) => println!(
                "{}",
                serde_json::json!({ "not_analysable": why.to_string() })
            ),
        }
    }
    Ok(())
}

/// `tonearm analyze`: queues analyses (missing or stale ones with `--all`, the named tracks
/// again otherwise), runs them here with a progress bar, and prints each result.
async fn analyze(
    mut cfg: tonearm_server::Config,
    all: bool,
    tracks: Vec<String>,
) -> anyhow::Result<()> {
    use tonearm_pipeline::{ANALYSIS, PRIORITY_BACKGROUND};
    cfg.demo_on_empty = false;
    let st = tonearm_server::prepare(cfg).await?;
    let mut queued = 0u64;
    if all {
        queued += st
            .store
            .enqueue_missing_analysis(tonearm_analysis::ALGORITHM_VERSION as i64, false)
            .await?;
    }
    for id in &tracks {
        let src = st
            .store
            .track_source(id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no track with id {id}"))?;
        let input = tonearm_store::input_stamp(src.size_bytes, src.mtime_ms);
        st.store
            .enqueue_job(ANALYSIS, id, &input, PRIORITY_BACKGROUND, true)
            .await?;
        queued += 1;
    }
    let waiting = st
        .store
        .jobs(&tonearm_store::JobFilter {
            kind: Some(ANALYSIS.into()),
            limit: i64::MAX,
            ..Default::default()
        })
        .await?
        .into_iter()
        .filter(|j| j.state == "pending" || j.state == "processing")
        .count();
    let bar = ProgressBar::new(waiting.max(queued as usize) as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} tracks {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let (done, failed) = st
        .pipeline
        .drain(Some(ANALYSIS), |done, failed| {
            bar.set_position(done + failed);
            if failed > 0 {
                bar.set_message(format!("{failed} failed"));
            }
        })
        .await;
    bar.finish_and_clear();
    for id in &tracks {
        match st.store.track_analysis(id).await? {
            Some(a) if a.state == tonearm_store::ANALYSIS_READY => println!(
                "{id}: {} BPM, {}, energy {:.2}",
                a.bpm.map_or("no steady".into(), |b| format!("{b:.1}")),
                a.key_name.as_deref().unwrap_or("no key"),
                a.energy.unwrap_or(0.0)
            ),
            Some(a) => println!("{id}: not analysable: {}", a.reason.unwrap_or_default()),
            None => println!("{id}: no analysis"),
        }
    }
    println!("{done} tracks analysed, {failed} failed");
    st.store.close().await;
    anyhow::ensure!(failed == 0, "{failed} analyses failed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Room ids, host tokens and passwords are random URL-safe strings: one that starts with
    /// `-` is a value, not a flag.
    #[test]
    fn room_secrets_may_start_with_a_dash() {
        let cli = Cli::try_parse_from([
            "tonearm",
            "broadcast",
            "--server",
            "http://127.0.0.1:1",
            "--room",
            "-r00m",
            "--host-token",
            "-l7tok",
            "--password",
            "-pw",
            "--file",
            "x.wav",
        ])
        .expect("parses");
        let Command::Broadcast(b) = cli.command else {
            panic!("not broadcast")
        };
        assert_eq!(b.room.as_deref(), Some("-r00m"));
        assert_eq!(b.host_token.as_deref(), Some("-l7tok"));
        assert_eq!(b.password.as_deref(), Some("-pw"));
        let cli = Cli::try_parse_from([
            "tonearm",
            "listen",
            "--server",
            "http://127.0.0.1:1",
            "--room",
            "-r",
            "--out",
            "o.wav",
        ])
        .expect("parses");
        assert!(matches!(cli.command, Command::Listen(l) if l.target.room == "-r"));
    }
}
