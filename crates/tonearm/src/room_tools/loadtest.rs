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
}

/// Where a guest's frames come from.
enum Feed {
    Media(Box<media::MediaStream>),
    Socket(tonearm_rooms::sio::Client),
}

/// A frame's place and server receipt time, from either transport.
enum Got {
    Frame { seq: u64, server_time: f64 },
    Dropped(u64),
    Other,
    End,
}

impl Feed {
    async fn next(&mut self) -> anyhow::Result<Got> {
        Ok(match self {
            Feed::Media(s) => match s.next().await {
                Some(Ok(MediaMessage::Frame(f))) => Got::Frame {
                    seq: f.seq,
                    server_time: f.server_time,
                },
                Some(Ok(MediaMessage::Notice(Notice::Dropped { frames }))) => Got::Dropped(frames),
                Some(Ok(_)) => Got::Other,
                Some(Err(e)) => return Err(e.into()),
                None => Got::End,
            },
            Feed::Socket(c) => match c.events.recv().await {
                Some(ev) if ev.name == "broadcast:audio" => Got::Frame {
                    seq: ev.data["seq"].as_u64().unwrap_or(0),
                    server_time: ev.data["serverTime"].as_f64().unwrap_or(f64::NAN),
                },
                Some(_) => Got::Other,
                None => Got::End,
            },
        })
    }
}

/// What one guest saw while measuring.
#[derive(Default)]
struct Seen {
    /// From starting to connect to the first frame.
    join_to_first_ms: Option<f64>,
    delays_ms: Vec<f32>,
    frames: u64,
    lost: u64,
    dropped: u64,
}

/// Shared between the guests and the conductor.
struct Run {
    target: super::RoomTarget,
    offset_ms: f64,
    measuring: AtomicBool,
    stop: tokio::sync::watch::Receiver<bool>,
    gate: tokio::sync::Semaphore,
    connected: AtomicUsize,
    failed: AtomicUsize,
    media: bool,
}

async fn guest(run: Arc<Run>) -> anyhow::Result<Seen> {
    let clock = tonearm_rooms::clock::LocalClock::new(0.0);
    let (emitter, mut feed, began) = {
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
            let emitter = g.client.emitter.clone();
            let feed = if run.media {
                let s = media::connect(
                    &run.target.server,
                    &run.target.room,
                    &g.token,
                    Quality::High,
                )
                .await?;
                // This guest reads no events; dropping them leaves pings answered.
                drop(g);
                Feed::Media(Box::new(s))
            } else {
                Feed::Socket(g.client)
            };
            anyhow::Ok((emitter, feed))
        }
        .await;
        match joined {
            Ok((e, f)) => {
                run.connected.fetch_add(1, Ordering::Relaxed);
                (e, f, began)
            }
            Err(e) => {
                run.failed.fetch_add(1, Ordering::Relaxed);
                return Err(e);
            }
        }
    };
    let mut seen = Seen::default();
    let mut stop = run.stop.clone();
    let mut next_seq = None;
    let mut told = 0u64;
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            got = feed.next() => match got? {
                Got::Frame { seq, server_time } => {
                    let now = clock.now_ms();
                    seen.join_to_first_ms.get_or_insert(now - began);
                    if run.measuring.load(Ordering::Relaxed) {
                        seen.frames += 1;
                        seen.delays_ms.push((now + run.offset_ms - server_time) as f32);
                        if let Some(want) = next_seq {
                            // A gap the server told us about is counted as dropped, not lost.
                            seen.lost += seq.saturating_sub(want).saturating_sub(told);
                        }
                    }
                    next_seq = Some(seq + 1);
                    told = 0;
                }
                Got::Dropped(frames) => {
                    told += frames;
                    if run.measuring.load(Ordering::Relaxed) {
                        seen.dropped += frames;
                    }
                }
                Got::Other => {}
                Got::End => break,
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
    let media = match args.transport.as_str() {
        "media" => true,
        "socket" => false,
        other => bail!("--transport is media or socket, not {other:?}"),
    };
    let mut probe = connect(&args.target.server, 0.0).await?;
    let est = probe.sync_clock(12).await?;
    probe.client.emitter.close();
    let (_, rss_before) = server_usage(&args.target.server).await?;
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let run = Arc::new(Run {
        target: args.target.clone(),
        offset_ms: est.offset_ms,
        measuring: AtomicBool::new(false),
        stop,
        gate: tokio::sync::Semaphore::new(args.connect_batch.max(1)),
        connected: AtomicUsize::new(0),
        failed: AtomicUsize::new(0),
        media,
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
    let _ = stop_tx.send(true);
    let mut all = Seen::default();
    let mut firsts = Vec::new();
    let mut first_error = None;
    for t in tasks {
        let s = match t.await? {
            Ok(s) => s,
            Err(e) => {
                first_error.get_or_insert_with(|| format!("{e:#}"));
                continue;
            }
        };
        firsts.extend(s.join_to_first_ms);
        all.delays_ms.extend(s.delays_ms);
        all.frames += s.frames;
        all.lost += s.lost;
        all.dropped += s.dropped;
    }
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
            "serverCpuPercent": (cpu1 - cpu0) / wall * 100.0,
            "serverRssBytes": rss_during,
            "serverRssPerGuestBytes": (rss_during - rss_before) / n,
            "clockRttMs": est.rtt_ms,
        })
    );
    Ok(())
}
