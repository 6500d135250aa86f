//! `tonearm loadtest`: opens many guest connections from one process (each a Socket.IO
//! connection plus a media path, a few KB and two small tasks per guest), joins them to a live
//! room, and reports the relay delay (server receipt → guest arrival) with frames lost, next
//! to the server's CPU and RSS read from its `/metrics`.

use super::{connect, http_get, metric, quantile};
use anyhow::{bail, Context};
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tonearm_rooms::media::{self, MediaMessage};
use tonearm_rooms::wire::Notice;
use tonearm_rooms::Quality;

#[derive(Debug, clap::Args)]
pub struct LoadtestArgs {
    /// Server base URL, e.g. http://127.0.0.1:4533.
    #[arg(long)]
    pub server: String,
    /// A live room (someone must be broadcasting to it).
    #[arg(long, allow_hyphen_values = true)]
    pub room: String,
    #[arg(long, allow_hyphen_values = true)]
    pub password: Option<String>,
    #[arg(long, default_value_t = 100)]
    pub guests: usize,
    /// How long to measure once every guest is in.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Guests connecting at once.
    #[arg(long, default_value_t = 100)]
    pub connect_batch: usize,
}

/// What one guest saw while measuring.
#[derive(Default)]
struct Seen {
    delays_ms: Vec<f32>,
    frames: u64,
    lost: u64,
    dropped: u64,
}

/// Shared between the guests and the conductor.
struct Run {
    server: String,
    room: String,
    password: Option<String>,
    offset_ms: f64,
    measuring: AtomicBool,
    stop: tokio::sync::watch::Receiver<bool>,
    gate: tokio::sync::Semaphore,
    connected: AtomicUsize,
    failed: AtomicUsize,
}

async fn guest(run: Arc<Run>) -> anyhow::Result<Seen> {
    let (g, mut stream) = {
        let _permit = run.gate.acquire().await?;
        let joined = async {
            let mut g = connect(&run.server, 0.0).await?;
            g.join(&run.room, run.password.as_deref(), None, true)
                .await?;
            let s = media::connect(&run.server, &run.room, &g.token, Quality::High).await?;
            anyhow::Ok((g, s))
        }
        .await;
        match joined {
            Ok(x) => {
                run.connected.fetch_add(1, Ordering::Relaxed);
                x
            }
            Err(e) => {
                run.failed.fetch_add(1, Ordering::Relaxed);
                return Err(e);
            }
        }
    };
    // This guest reads no events; dropping the receiver leaves pings answered.
    let emitter = g.client.emitter.clone();
    drop(g);
    let mut seen = Seen::default();
    let mut stop = run.stop.clone();
    let mut next_seq = None;
    let clock = tonearm_rooms::clock::LocalClock::new(0.0);
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            m = stream.next() => match m {
                Some(Ok(MediaMessage::Frame(f))) => {
                    let now = clock.now_ms() + run.offset_ms;
                    if run.measuring.load(Ordering::Relaxed) {
                        seen.frames += 1;
                        seen.delays_ms.push((now - f.server_time) as f32);
                        if let Some(want) = next_seq {
                            seen.lost += f.seq.saturating_sub(want);
                        }
                    }
                    next_seq = Some(f.seq + 1);
                }
                Some(Ok(MediaMessage::Notice(Notice::Dropped { frames }))) => {
                    if run.measuring.load(Ordering::Relaxed) {
                        seen.dropped += frames;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => break,
            },
        }
    }
    emitter.close();
    Ok(seen)
}

/// The server's CPU seconds and RSS bytes.
async fn server_usage(server: &str) -> anyhow::Result<(f64, f64)> {
    let text = http_get(server, "/metrics").await?;
    Ok((
        metric(&text, "tonearm_process_cpu_seconds").context("no CPU metric")?,
        metric(&text, "tonearm_process_rss_bytes").context("no RSS metric")?,
    ))
}

pub async fn run(args: LoadtestArgs) -> anyhow::Result<()> {
    let mut probe = connect(&args.server, 0.0).await?;
    let est = probe.sync_clock(12).await?;
    probe.client.emitter.close();
    let (_, rss_before) = server_usage(&args.server).await?;
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let run = Arc::new(Run {
        server: args.server.clone(),
        room: args.room.clone(),
        password: args.password.clone(),
        offset_ms: est.offset_ms,
        measuring: AtomicBool::new(false),
        stop,
        gate: tokio::sync::Semaphore::new(args.connect_batch.max(1)),
        connected: AtomicUsize::new(0),
        failed: AtomicUsize::new(0),
    });
    let began = Instant::now();
    let tasks: Vec<_> = (0..args.guests)
        .map(|_| tokio::spawn(guest(run.clone())))
        .collect();
    // Progress for the person watching; the measurement starts when everyone is in.
    while run.connected.load(Ordering::Relaxed) + run.failed.load(Ordering::Relaxed) < args.guests {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let connect_secs = began.elapsed().as_secs_f64();
    let failed = run.failed.load(Ordering::Relaxed);
    if failed > 0 {
        let _ = stop_tx.send(true);
        for t in tasks {
            if let Ok(Err(e)) = t.await {
                bail!(
                    "{failed} of {} guests could not join; first error: {e:#}",
                    args.guests
                );
            }
        }
        bail!("{failed} guests could not join");
    }
    let (cpu0, _) = server_usage(&args.server).await?;
    let t0 = Instant::now();
    run.measuring.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs_f64(args.seconds)).await;
    run.measuring.store(false, Ordering::Relaxed);
    let wall = t0.elapsed().as_secs_f64();
    let (cpu1, rss_during) = server_usage(&args.server).await?;
    let _ = stop_tx.send(true);
    let mut all = Seen::default();
    for t in tasks {
        let s = t.await??;
        all.delays_ms.extend(s.delays_ms);
        all.frames += s.frames;
        all.lost += s.lost;
        all.dropped += s.dropped;
    }
    let mut d: Vec<f64> = all.delays_ms.iter().map(|&x| f64::from(x)).collect();
    d.sort_by(f64::total_cmp);
    let n = args.guests as f64;
    println!(
        "{}",
        json!({
            "guests": args.guests,
            "connectSecs": connect_secs,
            "seconds": wall,
            "frames": all.frames,
            "framesPerGuestPerSec": all.frames as f64 / n / wall,
            "relayDelayMs": { "p50": quantile(&d, 0.5), "p99": quantile(&d, 0.99),
                              "max": d.last().copied().unwrap_or(f64::NAN) },
            "framesLost": all.lost,
            "framesDropped": all.dropped,
            "serverCpuPercent": (cpu1 - cpu0) / wall * 100.0,
            "serverRssBytes": rss_during,
            "serverRssPerGuestBytes": (rss_during - rss_before) / n,
            "clockRttMs": est.rtt_ms,
        })
    );
    Ok(())
}
