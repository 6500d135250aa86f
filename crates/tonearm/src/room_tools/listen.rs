//! `tonearm listen`: joins a room, syncs its clock with the server, receives the host's audio,
//! decodes it, and writes what it would play: a WAV whose sample `k` is the audio captured at
//! `first timestamp + k / 48 kHz`, plus a schedule (one line per frame: when it arrived, when it
//! plays on this machine's clock, and why it was skipped if it was). Prints latency and buffer
//! stats at the end.

use super::{connect, quantile};
use anyhow::Context;
use serde_json::json;
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tonearm_media::OpusPacketDecoder;
use tonearm_rooms::client::media::{self, MediaMessage};
use tonearm_rooms::playout::{Decision, Playout, QualityPolicy};
use tonearm_rooms::wire::{MediaFrame, Notice};
use tonearm_rooms::Quality;

#[derive(Debug, clap::Args)]
pub struct ListenArgs {
    #[command(flatten)]
    pub target: super::RoomTarget,
    /// Where to write the audio (WAV, 48 kHz stereo); the schedule goes next to it
    /// (`FILE.schedule.tsv`).
    #[arg(long)]
    pub out: PathBuf,
    /// Stop after this many seconds (default: when the broadcast stops).
    #[arg(long)]
    pub seconds: Option<f64>,
    /// `auto` (by buffer health: down at the first late or dropped frame, up after 10 s
    /// clean), `high` or `low`.
    #[arg(long, default_value = "auto")]
    pub quality: String,
    /// Pretend this machine's clock is off by this much (tests clock sync).
    #[arg(long, default_value_t = 0.0, hide = true, allow_hyphen_values = true)]
    pub clock_skew_ms: f64,
}

/// A 16-bit stereo WAV written as frames arrive; gaps become silence.
struct WavOut {
    file: BufWriter<File>,
    frames: u64,
}

impl WavOut {
    fn create(path: &Path) -> anyhow::Result<WavOut> {
        let mut file = BufWriter::new(
            File::create(path).with_context(|| format!("creating {}", path.display()))?,
        );
        file.write_all(&[0; 44])?;
        Ok(WavOut { file, frames: 0 })
    }

    /// Writes stereo `samples` starting at frame `at` (silence before it; overlap skipped).
    fn write_at(&mut self, at: u64, samples: &[f32]) -> anyhow::Result<()> {
        while self.frames < at {
            self.file.write_all(&[0; 4])?;
            self.frames += 1;
        }
        let skip = (self.frames - at) as usize * 2;
        for s in samples.iter().skip(skip) {
            let v = (s.clamp(-1.0, 1.0) * 32767.0).round() as i16;
            self.file.write_all(&v.to_le_bytes())?;
        }
        self.frames += (samples.len().saturating_sub(skip) / 2) as u64;
        Ok(())
    }

    fn finish(mut self) -> anyhow::Result<()> {
        let h = tonearm_media::synth::wav_header(2, 48_000, (self.frames * 4) as u32);
        self.file.flush()?;
        let mut f = self.file.into_inner().map_err(|e| e.into_error())?;
        f.seek(SeekFrom::Start(0))?;
        f.write_all(&h)?;
        f.sync_all()?;
        Ok(())
    }
}

/// The schedule file for `out`: `x.wav` → `x.schedule.tsv`.
pub fn schedule_path(out: &Path) -> PathBuf {
    out.with_extension("schedule.tsv")
}

/// Counts for the final report.
#[derive(Default)]
struct Tally {
    received: u64,
    played: u64,
    late: u64,
    lost: u64,
    dropped: u64,
    undecodable: u64,
    transit: Vec<f64>,
    buffer: Vec<f64>,
}

pub async fn run(args: ListenArgs) -> anyhow::Result<()> {
    let mut policy = (args.quality == "auto").then(QualityPolicy::default);
    let quality = match &policy {
        Some(p) => p.current(),
        None => Quality::parse(&args.quality).context("--quality is auto, high or low")?,
    };
    let mut switches = 0u32;
    let mut dropped_since = false;
    let mut g = connect(&args.target.server, args.clock_skew_ms).await?;
    let joined = g
        .join(
            &args.target.room,
            args.target.password.as_deref(),
            None,
            true,
        )
        .await?;
    let room_delay = joined["delayMs"]
        .as_f64()
        .context("room:joined without delayMs")?;
    let joined_at = joined["serverTime"].as_f64().unwrap_or(0.0);
    let est = g.sync_clock(12).await?;
    let mut stream =
        media::connect(&args.target.server, &args.target.room, &g.token, quality).await?;
    // Frames the server relays from now on are live; earlier ones (the replay, and any sent
    // while the clock synced) are the catch-up burst and say nothing about this network.
    let joined_at = joined_at.max(g.clock.now_ms() + est.offset_ms);
    let mut sched = BufWriter::new(File::create(schedule_path(&args.out))?);
    writeln!(
        sched,
        "seq\ttimestamp_ms\tarrival_local_ms\tplay_local_ms\twav_frame\tstatus"
    )?;
    let mut sink = Sink {
        playout: Playout::new(room_delay, joined_at),
        decoder: OpusPacketDecoder::new()?,
        wav: WavOut::create(&args.out)?,
        sched,
        origin: None,
        next_seq: None,
        told_dropped: 0,
        pcm: Vec::with_capacity(960 * 2),
        t: Tally::default(),
    };
    let deadline = args
        .seconds
        .map(|s| tokio::time::Instant::now() + Duration::from_secs_f64(s));
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut end_reason = "stream ended".to_string();
    loop {
        tokio::select! {
            _ = async { match deadline { Some(d) => tokio::time::sleep_until(d).await, None => std::future::pending().await } } => {
                end_reason = "time is up".into();
                break;
            }
            _ = tick.tick() => {
                // Keep the clock estimate fresh and tell the room how full this buffer is.
                g.ping()?;
                let level = sink.t.buffer.last().copied().unwrap_or(0.0);
                g.client.emitter.emit("stats:report", &json!({ "bufferLevel": level }))?;
            }
            ev = g.client.events.recv() => match ev {
                Some(ev) if ev.name == "time:pong" => g.pong(&ev.data),
                // The media path says when the broadcast stopped, after its last frame.
                Some(ev) if ev.name == "room:closed" => {
                    end_reason = ev.name;
                    break;
                }
                Some(_) => {}
                None => { end_reason = "connection closed".into(); break; }
            },
            msg = stream.next() => match msg {
                Some(Ok(MediaMessage::Frame(f))) => {
                    let arrival = g.clock.now_ms();
                    let grown = sink.playout.times_grown();
                    let late = sink.frame(&f, arrival, g.offset_ms())?;
                    // Trouble: a live frame too late, frames dropped, or the delay had to grow.
                    let trouble = late
                        || std::mem::take(&mut dropped_since)
                        || sink.playout.times_grown() > grown;
                    if let Some(q) = policy.as_mut().and_then(|p| p.observe(trouble, f64::from(f.duration))) {
                        stream.set_quality(q).await?;
                        // The other layer numbers its frames on its own.
                        sink.next_seq = None;
                        switches += 1;
                    }
                }
                Some(Ok(MediaMessage::Notice(Notice::Dropped { frames }))) => {
                    sink.t.dropped += frames;
                    sink.told_dropped += frames;
                    dropped_since = true;
                }
                Some(Ok(MediaMessage::Notice(Notice::Closed { reason }))) => { end_reason = reason; break; }
                Some(Ok(MediaMessage::Notice(Notice::Stopped))) => { end_reason = "broadcast:stopped".into(); break; }
                Some(Ok(MediaMessage::Notice(_))) => {}
                Some(Err(e)) => return Err(e.into()),
                None => break,
            },
        }
    }
    g.client.emitter.close();
    let Sink {
        playout,
        wav,
        mut sched,
        mut t,
        ..
    } = sink;
    sched.flush()?;
    wav.finish()?;
    t.transit.sort_by(f64::total_cmp);
    let est_end = g.sync.estimate();
    println!(
        "{}",
        json!({
            "ended": end_reason,
            "received": t.received, "played": t.played, "late": t.late, "lost": t.lost,
            "dropped": t.dropped, "undecodable": t.undecodable,
            "quality": policy.as_ref().map(|p| p.current()).unwrap_or(quality),
            "qualitySwitches": switches,
            "roomDelayMs": room_delay, "delayMs": playout.delay_ms(), "delayGrown": playout.times_grown(),
            "clockOffsetMs": est_end.map(|e| e.offset_ms).unwrap_or(est.offset_ms),
            "clockRttMs": est_end.map(|e| e.rtt_ms).unwrap_or(est.rtt_ms),
            "transitMs": { "p50": quantile(&t.transit, 0.5), "p99": quantile(&t.transit, 0.99),
                           "max": t.transit.last().copied().unwrap_or(f64::NAN) },
            "bufferMs": { "mean": t.buffer.iter().sum::<f64>() / t.buffer.len().max(1) as f64 },
        })
    );
    Ok(())
}

/// Where received frames go: decoder, playout rule, WAV and schedule.
struct Sink {
    playout: Playout,
    decoder: OpusPacketDecoder,
    wav: WavOut,
    sched: BufWriter<File>,
    /// Timestamp of the first played frame: WAV frame 0.
    origin: Option<f64>,
    next_seq: Option<u64>,
    /// Frames the server said it dropped since the last frame (a gap they explain is not loss).
    told_dropped: u64,
    pcm: Vec<f32>,
    t: Tally,
}

impl Sink {
    /// Handles one received frame: loss accounting, decode, playout decision, WAV and schedule.
    /// Returns whether it was a live frame that came too late (buffer trouble).
    fn frame(&mut self, f: &MediaFrame, arrival_local: f64, offset: f64) -> anyhow::Result<bool> {
        let Sink {
            playout,
            decoder,
            wav,
            sched,
            origin,
            next_seq,
            told_dropped,
            pcm,
            t,
        } = self;
        t.received += 1;
        if let Some(want) = *next_seq {
            if f.seq > want {
                t.lost += (f.seq - want).saturating_sub(*told_dropped);
            }
        }
        *told_dropped = 0;
        *next_seq = Some(f.seq + 1);
        let arrival_server = arrival_local + offset;
        // Only frames relayed after the join say how long the path takes.
        let live = f.server_time >= playout.joined_at_server_ms();
        if live {
            t.transit.push(arrival_server - f.timestamp);
        }
        pcm.clear();
        if decoder.decode(&f.data, pcm).is_err() {
            t.undecodable += 1;
            writeln!(
                sched,
                "{}\t{:.3}\t{arrival_local:.3}\t\t\tundecodable",
                f.seq, f.timestamp
            )?;
            return Ok(false);
        }
        match playout.place(f.timestamp, f.server_time, arrival_server) {
            Decision::Play { at_server_ms } => {
                let o = *origin.get_or_insert(f.timestamp);
                let at_frame = ((f.timestamp - o) * 48.0).round().max(0.0) as u64;
                wav.write_at(at_frame, pcm)?;
                t.played += 1;
                t.buffer.push(at_server_ms - arrival_server);
                writeln!(
                    sched,
                    "{}\t{:.3}\t{arrival_local:.3}\t{:.3}\t{at_frame}\tplay",
                    f.seq,
                    f.timestamp,
                    at_server_ms - offset
                )?;
            }
            Decision::Late { by_ms } => {
                t.late += 1;
                writeln!(
                    sched,
                    "{}\t{:.3}\t{arrival_local:.3}\t\t\tlate by {by_ms:.1} ms",
                    f.seq, f.timestamp
                )?;
                return Ok(live);
            }
        }
        Ok(false)
    }
}
