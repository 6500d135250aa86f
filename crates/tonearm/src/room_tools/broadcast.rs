//! `tonearm broadcast`: decodes a file, encodes Opus in real time (20 ms frames at 48 kHz) and
//! broadcasts it to a room as its host, each frame stamped with its capture time on the server
//! clock. Creates a room unless `--room` is given.

use super::{connect, ANSWER};
use anyhow::{bail, Context};
use bytes::Bytes;
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;
use tonearm_media::encode::OpusEncoder;
use tonearm_media::layout::OPUS_PACKET_SAMPLES;
use tonearm_media::resample::Pcm48k;

#[derive(Debug, clap::Args)]
pub struct BroadcastArgs {
    /// Server base URL, e.g. http://127.0.0.1:4533.
    #[arg(long)]
    pub server: String,
    /// Broadcast to this room (needs --host-token); without it a room is created.
    #[arg(long, allow_hyphen_values = true)]
    pub room: Option<String>,
    /// The room's host token (from `POST /api/rooms` or an earlier `broadcast`).
    #[arg(long, env = "TONEARM_HOST_TOKEN", allow_hyphen_values = true)]
    pub host_token: Option<String>,
    /// Name of the room to create.
    #[arg(long, default_value = "Tonearm broadcast")]
    pub name: String,
    /// Password for the room to create.
    #[arg(long, allow_hyphen_values = true)]
    pub password: Option<String>,
    /// Playout delay for the room to create (ms).
    #[arg(long)]
    pub delay_ms: Option<u32>,
    /// The audio file to play.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Capture an audio device instead of a file (`default`).
    #[arg(long)]
    pub input: Option<String>,
    /// Bitrate of the high layer.
    #[arg(long, default_value_t = 128)]
    pub kbps: u32,
    /// Bitrate of a second, low layer (0: none).
    #[arg(long, default_value_t = 32)]
    pub low_kbps: u32,
    /// Write one line per frame (seq, capture time on this machine's clock, server-clock
    /// timestamp) to this file.
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Pretend this machine's clock is off by this much (tests clock sync).
    #[arg(long, default_value_t = 0.0, hide = true, allow_hyphen_values = true)]
    pub clock_skew_ms: f64,
}

/// One 20 ms frame on each layer.
struct Frame {
    high: Bytes,
    low: Option<Bytes>,
}

/// Decodes and encodes on a plain thread, ahead of the real-time sender by a bounded queue.
fn spawn_encoder(
    file: PathBuf,
    kbps: u32,
    low_kbps: u32,
) -> anyhow::Result<(tokio::sync::mpsc::Receiver<anyhow::Result<Frame>>, u64)> {
    let reader = tonearm_media::AudioReader::open(&file)
        .with_context(|| format!("opening {}", file.display()))?;
    let info = reader.info().clone();
    let frames = info
        .frames
        .context("the file does not say how long it is")?;
    let frames_48k = frames * 48_000 / u64::from(info.sample_rate);
    let mut pcm = Pcm48k::from_reader(reader, 0, frames_48k, 1.0)?;
    let ch = pcm.channels();
    let mut high = OpusEncoder::new(kbps, ch)?;
    let mut low = if low_kbps > 0 {
        Some(OpusEncoder::new(low_kbps, ch)?)
    } else {
        None
    };
    let packets = frames_48k.div_ceil(OPUS_PACKET_SAMPLES);
    let (tx, rx) = tokio::sync::mpsc::channel(50);
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        for _ in 0..packets {
            buf.clear();
            let frame = (|| {
                pcm.fill(&mut buf, OPUS_PACKET_SAMPLES as usize)?;
                let mut h = Vec::new();
                high.encode_packet(&buf, &mut h)?;
                let l = match low.as_mut() {
                    Some(enc) => {
                        let mut l = Vec::new();
                        enc.encode_packet(&buf, &mut l)?;
                        Some(Bytes::from(l))
                    }
                    None => None,
                };
                Ok(Frame {
                    high: Bytes::from(h),
                    low: l,
                })
            })();
            let failed = frame.is_err();
            if tx.blocking_send(frame).is_err() || failed {
                return;
            }
        }
    });
    Ok((rx, packets))
}

pub async fn run(args: BroadcastArgs) -> anyhow::Result<()> {
    if let Some(dev) = &args.input {
        bail!(
            "capturing the audio device {dev:?} is not built into this binary; \
             use --file, or host from the browser app (tab, system audio or microphone)"
        );
    }
    let file = args.file.clone().context("give --file TRACK")?;
    let (mut frames, total) = spawn_encoder(file, args.kbps, args.low_kbps)?;
    let mut g = connect(&args.server, args.clock_skew_ms).await?;
    let room_id = match &args.room {
        Some(room) => {
            let token = args
                .host_token
                .as_deref()
                .context("broadcasting to an existing room needs --host-token")?;
            let joined = g
                .join(room, args.password.as_deref(), Some(token), false)
                .await?;
            if joined["isHost"] != true {
                bail!("the host token was not accepted");
            }
            room.clone()
        }
        None => {
            let mut req = json!({ "roomName": args.name });
            if let Some(p) = &args.password {
                req["password"] = p.as_str().into();
            }
            if let Some(d) = args.delay_ms {
                req["delayMs"] = d.into();
            }
            g.client.emitter.emit("room:create", &req)?;
            let ev = g
                .client
                .wait_for(&["room:created", "error"], ANSWER)
                .await?;
            if ev.name == "error" {
                bail!("cannot create a room: {}", ev.data["message"]);
            }
            let id = ev.data["roomId"].as_str().context("no roomId")?.to_string();
            // On stdout, one JSON line, for scripts; the share link for people.
            println!(
                "{}",
                json!({
                    "roomId": id,
                    "hostToken": ev.data["hostToken"],
                    "link": format!("{}/room/{id}", args.server.trim_end_matches('/')),
                })
            );
            id
        }
    };
    let est = g.sync_clock(12).await?;
    let config = json!({
        "sampleRate": 48_000, "channels": 2, "codec": "opus", "bitrate": args.kbps * 1000,
        "frameMs": 20, "lowBitrate": args.low_kbps * 1000,
    });
    g.client.emitter.emit(
        "broadcast:start",
        &json!({ "roomId": room_id, "audioConfig": config }),
    )?;
    g.client
        .wait_for(&["broadcast:started"], ANSWER)
        .await
        .context("the server did not start the broadcast")?;
    let mut log = match &args.log {
        Some(p) => {
            let mut f = std::io::BufWriter::new(std::fs::File::create(p)?);
            writeln!(f, "seq\tcapture_local_ms\ttimestamp_ms")?;
            Some(f)
        }
        None => None,
    };
    // Frame i is captured at start + 20 i ms and is complete 20 ms later.
    let offset = est.offset_ms;
    let start = g.clock.now_ms() + 100.0;
    let mut sent = 0u64;
    let mut errors = 0u64;
    let mut closed = None;
    while let Some(frame) = frames.recv().await {
        let frame = frame?;
        let capture = start + sent as f64 * 20.0;
        let ready = g.clock.instant_at(capture + 20.0);
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(ready.into()) => break,
                ev = g.client.events.recv() => match ev {
                    Some(ev) if ev.name == "broadcast:error" => {
                        errors += 1;
                        eprintln!("broadcast:error {}", ev.data["message"]);
                    }
                    Some(ev) if ev.name == "room:closed" => {
                        closed = Some(ev.data["reason"].to_string());
                        break;
                    }
                    Some(ev) if ev.name == "time:pong" => g.pong(&ev.data),
                    Some(_) => {}
                    None => bail!("the connection closed"),
                },
            }
        }
        if closed.is_some() {
            break;
        }
        let timestamp = capture + offset;
        let meta = json!({ "roomId": room_id, "timestamp": timestamp, "duration": 20.0 });
        let mut high = meta.clone();
        high["quality"] = "high".into();
        g.client
            .emitter
            .emit_binary("broadcast:audio", high, "data", frame.high)?;
        if let Some(low) = frame.low {
            let mut m = meta;
            m["quality"] = "low".into();
            g.client
                .emitter
                .emit_binary("broadcast:audio", m, "data", low)?;
        }
        if let Some(f) = log.as_mut() {
            writeln!(f, "{sent}\t{capture:.3}\t{timestamp:.3}")?;
        }
        sent += 1;
    }
    if let Some(mut f) = log {
        f.flush()?;
    }
    if closed.is_none() {
        g.client
            .emitter
            .emit("broadcast:stop", &json!({ "roomId": room_id }))?;
        let _ = g
            .client
            .wait_for(&["broadcast:stopped"], Duration::from_secs(2))
            .await;
    }
    g.client.emitter.close();
    eprintln!(
        "{}",
        json!({
            "roomId": room_id, "framesSent": sent, "framesPlanned": total, "errors": errors,
            "clockOffsetMs": offset, "clockRttMs": est.rtt_ms, "closed": closed,
        })
    );
    if errors > 0 {
        bail!("{errors} frames were refused");
    }
    Ok(())
}
