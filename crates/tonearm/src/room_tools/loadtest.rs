//! `tonearm loadtest`: opens many guest connections from one process (each a Socket.IO
//! connection plus a media path), joins them to a live room, and reports the relay delay
//! (server receipt → guest arrival) with frames lost, next to the server's CPU and RSS read
//! from its `/metrics`. Media paths are read by a few event-loop threads (`fanin`), so the
//! tester stays light next to the server it measures.

use super::fanin::{self, FanIn, Seen};
use super::{connect, http_get, metric, quantile};
use anyhow::{bail, Context};
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct LoadtestArgs {
    /// A live room (someone must be broadcasting to it).
    #[command(flatten)]
    pub target: super::RoomTarget,
    #[arg(long, default_value_t = 100)]
    pub guests: usize,
    /// How long to measure once every guest is in.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Seconds to let the joins' backlog (replay bursts, catch-up) settle before measuring.
    #[arg(long, default_value_t = 2.0)]
    pub warmup: f64,
    /// Guests connecting at once.
    #[arg(long, default_value_t = 100)]
    pub connect_batch: usize,
    /// How guests take audio: `media` (the binary media path) or `socket` (`broadcast:audio`
    /// Socket.IO events).
    #[arg(long, default_value = "media")]
    pub transport: String,
    /// Threads reading the media paths.
    #[arg(long, default_value_t = 1)]
    pub reader_threads: usize,
    /// Media-path readers read every this many ms (0: at each arrival). Delays are timed at
    /// the read, so a tick overstates them by up to its length.
    #[arg(long, default_value_t = 0.0)]
    pub reader_tick_ms: f64,
}

/// Shared between the guests and the conductor.
struct Run {
    target: super::RoomTarget,
    offset_ms: f64,
    measuring: Arc<AtomicBool>,
    stop: tokio::sync::watch::Receiver<bool>,
    gate: tokio::sync::Semaphore,
    connected: AtomicUsize,
    failed: AtomicUsize,
    /// Guests take audio on the media path (else as `broadcast:audio` events).
    media: bool,
    /// The media-path readers, until the conductor stops them.
    readers: Mutex<Option<FanIn>>,
}

/// One guest: joins, hands its media path to the readers (or reads events itself), and stays
/// connected until the end. Returns what it saw itself (events only).
async fn guest(run: Arc<Run>) -> anyhow::Result<Seen> {
    let clock = tonearm_rooms::clock::LocalClock::new(0.0);
    let mut g = {
        let _permit = run.gate.acquire().await?;
        let began = clock.now_ms();
        let joined = async {
            let mut g = connect(&run.target.server, 0.0).await?;
            g.join(
                &run.target.room,
                run.target.password.as_deref(),
                None,
                run.media,
            )
            .await?;
            if run.media {
                let path =
                    fanin::open(&run.target.server, &run.target.room, &g.token, began).await?;
                run.readers
                    .lock()
                    .map_err(|_| anyhow::anyhow!("readers poisoned"))?
                    .as_mut()
                    .context("the run is over")?
                    .add(path)?;
            }
            anyhow::Ok((g, began))
        }
        .await;
        match joined {
            Ok(g) => {
                run.connected.fetch_add(1, Ordering::Relaxed);
                g
            }
            Err(e) => {
                run.failed.fetch_add(1, Ordering::Relaxed);
                return Err(e);
            }
        }
    };
    let (guest, began) = &mut g;
    let mut seen = Seen::default();
    let mut stop = run.stop.clone();
    let mut next_seq = None;
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            ev = guest.client.events.recv() => match ev {
                // Media-path guests read no events; the client still answers pings.
                Some(ev) if ev.name == "broadcast:audio" && !run.media => {
                    let now = clock.now_ms();
                    if seen.join_to_first_ms.is_empty() {
                        seen.join_to_first_ms.push(now - *began);
                    }
                    let seq = ev.data["seq"].as_u64().unwrap_or(0);
                    if run.measuring.load(Ordering::Relaxed) {
                        seen.frames += 1;
                        let server_time = ev.data["serverTime"].as_f64().unwrap_or(f64::NAN);
                        seen.delays_ms.push((now + run.offset_ms - server_time) as f32);
                        if let Some(want) = next_seq {
                            seen.lost += seq.saturating_sub(want);
                        }
                    }
                    next_seq = Some(seq + 1);
                }
                Some(_) => {}
                None => {
                    seen.ended += 1;
                    break;
                }
            },
        }
    }
    guest.client.emitter.close();
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
    let media = match args.transport.as_str() {
        "media" => true,
        "socket" => false,
        other => bail!("--transport is media or socket, not {other:?}"),
    };
    if args.reader_threads == 0 {
        bail!("--reader-threads must be at least 1");
    }
    let mut probe = connect(&args.target.server, 0.0).await?;
    let est = probe.sync_clock(12).await?;
    probe.client.emitter.close();
    let (_, rss_before) = server_usage(&args.target.server).await?;
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let measuring = Arc::new(AtomicBool::new(false));
    let fanin = if media {
        let tick = Duration::try_from_secs_f64(args.reader_tick_ms / 1000.0)
            .context("--reader-tick-ms must be a number of ms ≥ 0")?;
        Some(FanIn::start(
            args.reader_threads,
            tick,
            est.offset_ms,
            measuring.clone(),
        )?)
    } else {
        None
    };
    let run = Arc::new(Run {
        target: args.target.clone(),
        offset_ms: est.offset_ms,
        measuring,
        stop,
        gate: tokio::sync::Semaphore::new(args.connect_batch.max(1)),
        connected: AtomicUsize::new(0),
        failed: AtomicUsize::new(0),
        media,
        readers: Mutex::new(fanin),
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
    // Guests that could not join (an overloaded server) are reported, and the rest measured.
    let failed = run.failed.load(Ordering::Relaxed);
    if failed == args.guests {
        let _ = stop_tx.send(true);
        for t in tasks {
            if let Ok(Err(e)) = t.await {
                bail!("no guest could join; first error: {e:#}");
            }
        }
        bail!("no guest could join");
    }
    tokio::time::sleep(Duration::from_secs_f64(args.warmup)).await;
    let (cpu0, _) = server_usage(&args.target.server).await?;
    let t0 = Instant::now();
    run.measuring.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs_f64(args.seconds)).await;
    run.measuring.store(false, Ordering::Relaxed);
    let wall = t0.elapsed().as_secs_f64();
    let (cpu1, rss_during) = server_usage(&args.target.server).await?;
    // The readers stop first, so no guest's hang-up counts as a stream that ended early.
    let readers = run.readers.lock().unwrap_or_else(|e| e.into_inner()).take();
    let mut all = match readers {
        Some(r) => r.finish()?,
        None => Seen::default(),
    };
    let _ = stop_tx.send(true);
    let mut first_error = None;
    for t in tasks {
        let s = match t.await? {
            Ok(s) => s,
            Err(e) => {
                first_error.get_or_insert_with(|| format!("{e:#}"));
                continue;
            }
        };
        all.absorb(s);
    }
    let mut firsts = std::mem::take(&mut all.join_to_first_ms);
    let mut d: Vec<f64> = all.delays_ms.iter().map(|&x| f64::from(x)).collect();
    d.sort_by(f64::total_cmp);
    let n = (args.guests - failed).max(1) as f64;
    firsts.sort_by(f64::total_cmp);
    println!(
        "{}",
        json!({
            "guests": args.guests,
            "guestsJoined": args.guests - failed,
            "joinError": first_error,
            "transport": args.transport,
            "joinToFirstAudioMs": { "p50": quantile(&firsts, 0.5), "p99": quantile(&firsts, 0.99),
                                    "guestsWithAudio": firsts.len() },
            "connectSecs": connect_secs,
            "seconds": wall,
            "frames": all.frames,
            "framesPerGuestPerSec": all.frames as f64 / n / wall,
            "relayDelayMs": { "p50": quantile(&d, 0.5), "p99": quantile(&d, 0.99),
                              "max": d.last().copied().unwrap_or(f64::NAN) },
            "framesLost": all.lost,
            "framesDropped": all.dropped,
            "streamsEnded": all.ended,
            "readerThreads": args.reader_threads,
            "readerTickMs": args.reader_tick_ms,
            "serverCpuPercent": (cpu1 - cpu0) / wall * 100.0,
            "serverRssBytes": rss_during,
            "serverRssPerGuestBytes": (rss_during - rss_before) / n,
            "clockRttMs": est.rtt_ms,
        })
    );
    Ok(())
}
