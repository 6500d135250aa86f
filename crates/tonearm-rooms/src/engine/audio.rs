//! Host audio frames: the checks a frame must pass before it is relayed, and the per-layer
//! state (sequence numbers, the replay ring that lets joiners start at once, and the counters
//! behind `broadcast:stats`). The server never decodes or transcodes: it relays bytes.

use crate::MediaFrame;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Shortest and longest frame a host may declare (Opus allows 2.5 to 120 ms).
const MIN_FRAME_MS: f64 = 2.5;
const MAX_FRAME_MS: f64 = 120.0;
/// A capture timestamp further than this from the server clock is refused.
const MAX_CLOCK_SKEW_MS: f64 = 10_000.0;
/// Frames a layer may carry per second (50 at 20 ms; the margin absorbs bursts after a stall).
pub const MAX_FRAMES_PER_SEC: u32 = 100;

pub use crate::Quality;

/// `broadcast:audio` as a host sends it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FrameIn {
    // `roomId` is ignored: a host broadcasts to the room it is in.
    pub data: Bytes,
    pub timestamp: f64,
    pub duration: f64,
    #[serde(default)]
    pub quality: Option<String>,
}

/// `broadcast:audio` as guests receive it: the host's frame plus its place in the layer and
/// when the server got it. Serialized once per relay and shared by every guest of the layer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FrameOut {
    pub room_id: Arc<str>,
    pub data: Bytes,
    pub timestamp: f64,
    pub duration: f64,
    pub quality: Quality,
    pub seq: u64,
    /// Server-clock ms, sub-millisecond precision.
    pub server_time: f64,
}

impl FrameOut {
    /// The frame as the binary media path carries it.
    pub fn media(&self) -> bytes::Bytes {
        MediaFrame {
            quality: self.quality,
            seq: self.seq,
            timestamp: self.timestamp,
            duration: self.duration as f32,
            server_time: self.server_time,
            data: self.data.clone(),
        }
        .encode()
    }
}

/// Why a frame was refused (sent back as `broadcast:error`).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("only the host may broadcast")]
    NotHost,
    #[error("the broadcast has not been started")]
    NotLive,
    #[error("audio frame is empty")]
    Empty,
    #[error("audio frame is larger than {0} bytes")]
    TooBig(usize),
    #[error("frame duration must be between 2.5 and 120 ms")]
    BadDuration,
    #[error("frame timestamp is not on the server clock (more than 10 s away)")]
    BadTimestamp,
    #[error("unknown quality {0:?} (use \"high\" or \"low\")")]
    BadQuality(String),
    #[error("too many frames: at most {MAX_FRAMES_PER_SEC} per second per layer")]
    TooFrequent,
    #[error("malformed audio frame: {0}")]
    Malformed(String),
}

/// Checks a frame's own fields against the server clock `now_ms`.
pub fn check_frame(f: &FrameIn, max_bytes: usize, now_ms: f64) -> Result<Quality, FrameError> {
    if f.data.is_empty() {
        return Err(FrameError::Empty);
    }
    if f.data.len() > max_bytes {
        return Err(FrameError::TooBig(max_bytes));
    }
    if !(MIN_FRAME_MS..=MAX_FRAME_MS).contains(&f.duration) {
        return Err(FrameError::BadDuration);
    }
    if !f.timestamp.is_finite() || (f.timestamp - now_ms).abs() > MAX_CLOCK_SKEW_MS {
        return Err(FrameError::BadTimestamp);
    }
    match &f.quality {
        None => Ok(Quality::High),
        Some(q) => Quality::parse(q).ok_or_else(|| FrameError::BadQuality(q.clone())),
    }
}

/// One layer's running state.
#[derive(Debug, Default)]
struct Layer {
    next_seq: u64,
    /// Each frame with its media-path encoding, made once.
    ring: VecDeque<(FrameOut, bytes::Bytes)>,
    ring_ms: f64,
    window_start: Option<Instant>,
    window_frames: u32,
}

impl Layer {
    /// Appends a numbered frame (with its media encoding) to the replay ring, trimmed to
    /// `replay_ms`.
    fn push(&mut self, out: FrameOut, media: bytes::Bytes, replay_ms: f64) {
        self.next_seq = out.seq + 1;
        self.ring_ms += out.duration;
        self.ring.push_back((out, media));
        while self.ring_ms > replay_ms {
            match self.ring.pop_front() {
                Some((old, _)) => self.ring_ms -= old.duration,
                None => break,
            }
        }
    }
}

/// What the stats tick reads and resets.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counters {
    pub bytes: u64,
    pub frames: u64,
    /// Sum of (server receive − capture) in ms, over `frames`.
    pub delay_ms_sum: f64,
}

/// All layers of a live broadcast.
#[derive(Debug)]
pub struct Broadcast {
    layers: [Layer; 2],
    replay_ms: f64,
    counters: Counters,
}

impl Broadcast {
    pub fn new(replay: Duration) -> Broadcast {
        Broadcast {
            layers: Default::default(),
            replay_ms: replay.as_secs_f64() * 1000.0,
            counters: Counters::default(),
        }
    }

    /// Accepts a checked frame into its layer: rate check, sequence number, replay ring.
    pub fn accept(
        &mut self,
        room_id: &Arc<str>,
        f: FrameIn,
        quality: Quality,
        now: Instant,
        now_ms: f64,
    ) -> Result<(FrameOut, bytes::Bytes), FrameError> {
        let layer = &mut self.layers[quality.index()];
        match layer.window_start {
            Some(start) if now.duration_since(start) < Duration::from_secs(1) => {
                if layer.window_frames >= MAX_FRAMES_PER_SEC {
                    return Err(FrameError::TooFrequent);
                }
                layer.window_frames += 1;
            }
            _ => {
                layer.window_start = Some(now);
                layer.window_frames = 1;
            }
        }
        let out = FrameOut {
            room_id: room_id.clone(),
            data: f.data,
            timestamp: f.timestamp,
            duration: f.duration,
            quality,
            seq: layer.next_seq,
            server_time: now_ms,
        };
        let media = out.media();
        layer.push(out.clone(), media.clone(), self.replay_ms);
        self.count(&out);
        Ok((out, media))
    }

    /// Feeds the stats: the high layer's frames, and their capture → server-receipt delay.
    fn count(&mut self, out: &FrameOut) {
        if out.quality == Quality::High {
            self.counters.bytes += out.data.len() as u64;
            self.counters.frames += 1;
            self.counters.delay_ms_sum += (out.server_time - out.timestamp).max(0.0);
        }
    }

    /// Takes a frame another node accepted (it was checked and numbered there) into the ring,
    /// so this node's joiners start at once too.
    pub fn push_relayed(&mut self, out: FrameOut, media: bytes::Bytes) {
        self.count(&out);
        let replay_ms = self.replay_ms;
        self.layers[out.quality.index()].push(out, media, replay_ms);
    }

    /// The recent frames of a layer, oldest first (what a joiner plays first).
    pub fn replay(&self, quality: Quality) -> Vec<FrameOut> {
        self.layers[quality.index()]
            .ring
            .iter()
            .map(|(f, _)| f.clone())
            .collect()
    }

    /// The same frames as the media path carries them (no encoding: shared bytes).
    pub fn replay_media(&self, quality: Quality) -> Vec<bytes::Bytes> {
        self.layers[quality.index()]
            .ring
            .iter()
            .map(|(_, b)| b.clone())
            .collect()
    }

    /// The counters since the last call.
    pub fn take_counters(&mut self) -> Counters {
        std::mem::take(&mut self.counters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(ts: f64, len: usize) -> FrameIn {
        FrameIn {
            data: Bytes::from(vec![7u8; len]),
            timestamp: ts,
            duration: 20.0,
            quality: None,
        }
    }

    #[test]
    fn frames_are_checked_before_relay() {
        let now = 1_000_000.0;
        assert_eq!(check_frame(&frame(now, 100), 4000, now), Ok(Quality::High));
        assert_eq!(
            check_frame(&frame(now, 0), 4000, now),
            Err(FrameError::Empty)
        );
        assert_eq!(
            check_frame(&frame(now, 4001), 4000, now),
            Err(FrameError::TooBig(4000))
        );
        assert_eq!(
            check_frame(&frame(now + 20_000.0, 10), 4000, now),
            Err(FrameError::BadTimestamp)
        );
        assert_eq!(
            check_frame(&frame(f64::NAN, 10), 4000, now),
            Err(FrameError::BadTimestamp)
        );
        let mut f = frame(now, 10);
        f.duration = 500.0;
        assert_eq!(check_frame(&f, 4000, now), Err(FrameError::BadDuration));
        f.duration = 20.0;
        f.quality = Some("ultra".into());
        assert!(matches!(
            check_frame(&f, 4000, now),
            Err(FrameError::BadQuality(_))
        ));
    }

    #[test]
    fn the_ring_keeps_the_replay_window_and_seq_counts_per_layer() {
        let mut b = Broadcast::new(Duration::from_millis(100));
        let id: Arc<str> = "r".into();
        let t0 = Instant::now();
        for i in 0..8 {
            let out = b
                .accept(&id, frame(0.0, 10), Quality::High, t0, 0.0)
                .unwrap()
                .0;
            assert_eq!(out.seq, i);
        }
        let low = b
            .accept(&id, frame(0.0, 10), Quality::Low, t0, 0.0)
            .unwrap();
        assert_eq!(low.0.seq, 0);
        assert_eq!(
            low.1,
            low.0.media(),
            "the media encoding is the frame's own"
        );
        let replay = b.replay(Quality::High);
        assert_eq!(replay.len(), 5, "100 ms of 20 ms frames");
        assert_eq!(replay.first().unwrap().seq, 3);
        assert_eq!(b.take_counters().frames, 8);
        assert_eq!(b.take_counters().frames, 0);
    }

    #[test]
    fn too_many_frames_a_second_are_refused() {
        let mut b = Broadcast::new(Duration::from_secs(1));
        let id: Arc<str> = "r".into();
        let t0 = Instant::now();
        for _ in 0..MAX_FRAMES_PER_SEC {
            b.accept(&id, frame(0.0, 1), Quality::High, t0, 0.0)
                .unwrap();
        }
        assert_eq!(
            b.accept(&id, frame(0.0, 1), Quality::High, t0, 0.0)
                .unwrap_err(),
            FrameError::TooFrequent
        );
        let later = t0 + Duration::from_secs(1);
        assert!(b
            .accept(&id, frame(0.0, 1), Quality::High, later, 0.0)
            .is_ok());
    }
}
