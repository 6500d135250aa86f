//! Adaptive HLS packaging: one decode of the source feeds one FDK AAC-LC encoder per variant,
//! each on its own thread; access units are grouped into aligned ~6 s fMP4 segments (the same
//! access-unit count in every variant, so a player can switch at any boundary), each segment is
//! AES-128 encrypted, and every finished file goes to a sink. What the playlists need (segment
//! durations, measured bandwidths, codecs) comes back as a [`Manifest`].

pub mod aac;
pub mod crypt;
pub mod fmp4;
pub mod playlist;

use crate::decode::AudioReader;
use crate::resample::{downmix, out_channels, Pcm48k};
use crate::MediaError;
use aac::{AacEncoder, AU_SAMPLES};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The default ladder, in bit/s.
pub const LADDER: [u32; 3] = [128_000, 256_000, 320_000];
/// Target segment length; segments hold a whole number of access units closest below it.
pub const SEGMENT_SECONDS: f64 = 6.0;

/// How to package.
#[derive(Debug, Clone)]
pub struct PackageOptions {
    pub bitrates: Vec<u32>,
    pub key: [u8; 16],
    pub iv: [u8; 16],
    /// At most this many times real time (a background job's courtesy to live streams);
    /// `None` is as fast as the machine goes.
    pub pace: Option<f64>,
}

/// One finished file of a package, named relative to the package root (`v128/seg0.m4s`).
pub struct Piece {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// One segment of a variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// Access units (1024 samples each) in the segment.
    pub aus: u32,
    /// Stored (encrypted) size in bytes.
    pub bytes: u32,
}

/// One variant as packaged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    /// Nominal encoder bitrate, bit/s; also names the variant's folder (`v128`).
    pub bitrate: u32,
    /// RFC 6381 codec string from the encoder's own config (`mp4a.40.2`).
    pub codecs: String,
    /// Highest segment bitrate, bit/s, of the stored bytes (`BANDWIDTH`).
    pub peak_bandwidth: u64,
    /// Whole-presentation bitrate of the stored bytes (`AVERAGE-BANDWIDTH`).
    pub average_bandwidth: u64,
    pub segments: Vec<Segment>,
}

impl Variant {
    /// The variant's folder in the package.
    pub fn dir(&self) -> String {
        format!("v{}", self.bitrate / 1000)
    }
}

/// What a package holds, for rendering its playlists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub sample_rate: u32,
    pub channels: u16,
    /// Source frames at `sample_rate` (the playable length).
    pub frames: u64,
    /// Encoder priming samples, skipped by the edit list.
    pub delay: u32,
    pub iv_hex: String,
    pub variants: Vec<Variant>,
}

/// Packages `path`, handing each file to `sink` (from several threads). `frames_hint` is the
/// catalog's frame count, used only to plan a resample. Fails with `Cancelled` as soon as
/// `cancel` is set.
pub fn package(
    path: &Path,
    opts: &PackageOptions,
    frames_hint: u64,
    cancel: &AtomicBool,
    sink: &(dyn Fn(Piece) -> Result<(), MediaError> + Sync),
) -> Result<Manifest, MediaError> {
    if opts.bitrates.is_empty() {
        return Err(MediaError::Unsupported("no variants requested".into()));
    }
    let reader = AudioReader::open(path)?;
    let info = reader.info().clone();
    let channels = out_channels(info.channels);
    // AAC and every HLS client take 44.1 and 48 kHz as they are; anything else (hi-res, odd
    // rates) becomes 48 kHz.
    let native = matches!(info.sample_rate, 44_100 | 48_000);
    let rate = if native { info.sample_rate } else { 48_000 };
    let mut source = if native {
        Source::Native {
            reader,
            src_ch: info.channels as usize,
            decoded: Vec::new(),
        }
    } else {
        let frames_48k = frames_hint * 48_000 / info.sample_rate.max(1) as u64;
        Source::Resampled {
            pcm: Box::new(Pcm48k::from_reader(reader, 0, frames_48k, 1.0)?),
            left: frames_48k,
        }
    };
    let segment_aus = (SEGMENT_SECONDS * rate as f64 / AU_SAMPLES as f64).floor() as u32;

    std::thread::scope(|scope| {
        let mut senders = Vec::new();
        let mut workers = Vec::new();
        for &bitrate in &opts.bitrates {
            let (tx, rx) = sync_channel::<Msg>(8);
            senders.push(tx);
            let job = VariantJob {
                rate,
                channels,
                bitrate,
                segment_aus,
                key: opts.key,
                iv: opts.iv,
            };
            workers.push(scope.spawn(move || job.run(rx, cancel, sink)));
        }
        let fed = feed(&mut source, channels, rate, opts.pace, cancel, &senders);
        let frames = match &fed {
            Ok(f) => *f,
            Err(_) => 0,
        };
        for tx in &senders {
            // A worker that already failed has hung up; its error is collected below.
            let _ = tx.send(Msg::End(frames));
        }
        drop(senders);
        let mut variants = Vec::new();
        let mut delay = None;
        let mut first_err = fed.err();
        for w in workers {
            match w.join() {
                Ok(Ok((v, d))) => {
                    delay.get_or_insert(d);
                    variants.push(v);
                }
                Ok(Err(e)) => {
                    first_err.get_or_insert(e);
                }
                Err(_) => {
                    first_err.get_or_insert(MediaError::Codec("encoder thread panicked".into()));
                }
            }
        }
        if let Some(e) = first_err {
            return Err(e);
        }
        Ok(Manifest {
            sample_rate: rate,
            channels: channels as u16,
            frames,
            delay: delay.unwrap_or(0),
            iv_hex: hex(&opts.iv),
            variants,
        })
    })
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

enum Source {
    Native {
        reader: AudioReader,
        src_ch: usize,
        decoded: Vec<f32>,
    },
    Resampled {
        pcm: Box<Pcm48k>,
        left: u64,
    },
}

/// Source samples per block handed to the encoders.
const BLOCK_FRAMES: usize = 16 * 1024;

impl Source {
    /// The next block of 1- or 2-channel samples; empty at the end.
    fn next(&mut self, channels: usize, out: &mut Vec<f32>) -> Result<(), MediaError> {
        match self {
            Source::Native {
                reader,
                src_ch,
                decoded,
            } => {
                while out.len() < BLOCK_FRAMES * channels {
                    decoded.clear();
                    if reader.read(decoded)? == 0 {
                        break;
                    }
                    downmix(decoded, *src_ch, channels, out);
                }
                Ok(())
            }
            Source::Resampled { pcm, left } => {
                let n = (*left).min(BLOCK_FRAMES as u64) as usize;
                *left -= n as u64;
                pcm.fill(out, n)
            }
        }
    }
}

enum Msg {
    Pcm(Arc<Vec<i16>>),
    /// The source ended after this many frames.
    End(u64),
}

/// Decodes the source and hands every block to every encoder. Returns the frames fed.
fn feed(
    source: &mut Source,
    channels: usize,
    rate: u32,
    pace: Option<f64>,
    cancel: &AtomicBool,
    senders: &[std::sync::mpsc::SyncSender<Msg>],
) -> Result<u64, MediaError> {
    let started = Instant::now();
    let mut frames = 0u64;
    let mut block = Vec::with_capacity(BLOCK_FRAMES * channels);
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(MediaError::Cancelled);
        }
        block.clear();
        source.next(channels, &mut block)?;
        if block.is_empty() {
            return Ok(frames);
        }
        frames += (block.len() / channels) as u64;
        let pcm: Arc<Vec<i16>> = Arc::new(
            block
                .iter()
                .map(|s| (s.clamp(-1.0, 1.0) * 32767.0).round() as i16)
                .collect(),
        );
        for tx in senders {
            if tx.send(Msg::Pcm(pcm.clone())).is_err() {
                return Err(MediaError::Codec("an encoder stopped early".into()));
            }
        }
        if let Some(x) = pace.filter(|x| *x > 0.0) {
            let due = Duration::from_secs_f64(frames as f64 / rate as f64 / x);
            let elapsed = started.elapsed();
            if due > elapsed {
                std::thread::sleep(due - elapsed);
            }
        }
    }
}

struct VariantJob {
    rate: u32,
    channels: usize,
    bitrate: u32,
    segment_aus: u32,
    key: [u8; 16],
    iv: [u8; 16],
}

impl VariantJob {
    fn run(
        self,
        rx: Receiver<Msg>,
        cancel: &AtomicBool,
        sink: &(dyn Fn(Piece) -> Result<(), MediaError> + Sync),
    ) -> Result<(Variant, u32), MediaError> {
        let mut enc = AacEncoder::new(self.rate, self.channels, self.bitrate)?;
        let dir = format!("v{}", self.bitrate / 1000);
        let mut seg = SegmentWriter {
            job: &self,
            dir: &dir,
            sink,
            pending: Vec::new(),
            first_au: 0,
            segments: Vec::new(),
            raw_bytes: 0,
            peak_raw: 0,
        };
        let mut produced = 0u64;
        let frames = loop {
            match rx.recv() {
                Ok(Msg::Pcm(pcm)) => enc.encode(&pcm, &mut |au: &[u8]| {
                    produced += 1;
                    seg.push(au)
                })?,
                Ok(Msg::End(frames)) => break frames,
                Err(_) => return Err(MediaError::Cancelled),
            }
            if cancel.load(Ordering::Relaxed) {
                return Err(MediaError::Cancelled);
            }
        };
        let total_aus = (enc.delay as u64 + frames).div_ceil(AU_SAMPLES as u64);
        enc.finish(produced, total_aus, &mut |au: &[u8]| seg.push(au))?;
        seg.flush()?;

        let seconds = |aus: u64| aus as f64 * AU_SAMPLES as f64 / self.rate as f64;
        let total_seconds = seconds(total_aus).max(1e-3);
        let header = fmp4::TrackHeader {
            sample_rate: self.rate,
            channels: self.channels as u16,
            asc: enc.asc.clone(),
            delay: enc.delay,
            frames,
            max_au_bytes: enc.max_au_bytes as u32,
            avg_bitrate: (seg.raw_bytes as f64 * 8.0 / total_seconds) as u32,
            max_bitrate: seg.peak_raw as u32,
        };
        let init = fmp4::init_segment(&header)?;
        sink(Piece {
            name: format!("{dir}/init.mp4"),
            bytes: init,
        })?;
        let stored: u64 = seg.segments.iter().map(|s| s.bytes as u64).sum();
        let peak = seg
            .segments
            .iter()
            .map(|s| (s.bytes as f64 * 8.0 / seconds(s.aus as u64)).ceil() as u64)
            .max()
            .unwrap_or(0);
        let aot = enc.asc.first().map(|b| b >> 3).unwrap_or(2);
        Ok((
            Variant {
                bitrate: self.bitrate,
                codecs: format!("mp4a.40.{aot}"),
                peak_bandwidth: peak,
                average_bandwidth: (stored as f64 * 8.0 / total_seconds).ceil() as u64,
                segments: seg.segments,
            },
            enc.delay,
        ))
    }
}

/// Collects access units into segments and writes each one out when full.
struct SegmentWriter<'a> {
    job: &'a VariantJob,
    dir: &'a str,
    sink: &'a (dyn Fn(Piece) -> Result<(), MediaError> + Sync),
    pending: Vec<Vec<u8>>,
    first_au: u64,
    segments: Vec<Segment>,
    raw_bytes: u64,
    /// Highest raw (unencrypted, payload-only) bitrate of a segment, for the `esds`.
    peak_raw: u64,
}

impl SegmentWriter<'_> {
    fn push(&mut self, au: &[u8]) -> Result<(), MediaError> {
        self.raw_bytes += au.len() as u64;
        self.pending.push(au.to_vec());
        if self.pending.len() as u32 >= self.job.segment_aus {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), MediaError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let index = self.segments.len();
        let aus = self.pending.len() as u32;
        let raw: u64 = self.pending.iter().map(|a| a.len() as u64).sum();
        let secs = aus as f64 * AU_SAMPLES as f64 / self.job.rate as f64;
        self.peak_raw = self.peak_raw.max((raw as f64 * 8.0 / secs) as u64);
        let plain = fmp4::media_segment(index as u32 + 1, self.first_au, &self.pending)?;
        let bytes = crypt::encrypt(&self.job.key, &self.job.iv, &plain);
        self.segments.push(Segment {
            aus,
            bytes: bytes.len() as u32,
        });
        (self.sink)(Piece {
            name: format!("{}/seg{index}.m4s", self.dir),
            bytes,
        })?;
        self.first_au += aus as u64;
        self.pending.clear();
        Ok(())
    }
}
