//! Encoding one chunk of a [`StreamPlan`] from its source file.
//!
//! A chunk is encoded by a fresh encoder that starts a few units before the chunk (pre-roll)
//! and throws those units away. Because the MP3 encoder runs without a bit reservoir and Opus
//! packets are self-delimiting, the chunk's units join the previous chunk's units into a stream
//! that decodes cleanly, whichever order the chunks were made in.

use crate::encode::{Mp3Encoder, OpusEncoder};
use crate::layout::ogg_opus;
use crate::layout::{StreamPlan, MP3_FRAME_SAMPLES, OPUS_PACKETS_PER_PAGE, OPUS_PACKET_SAMPLES};
use crate::quality::Format;
use crate::resample::Pcm48k;
use crate::MediaError;
use std::path::Path;

/// MP3 frames encoded and dropped before a chunk: MDCT overlap and psychoacoustic state settle.
const MP3_PREROLL_FRAMES: u64 = 3;
/// Opus packets encoded and dropped before a chunk (80 ms).
const OPUS_PREROLL_PACKETS: u64 = 4;

/// What to transcode to, beyond the plan: a linear gain (1.0 = unchanged) for loudness
/// normalization.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TranscodeSpec {
    pub gain: f32,
}

/// Encodes chunk `chunk` of `plan` from `path`, handing each finished unit (MP3 frame or Ogg
/// page) to `emit` in order. `emit` returns `false` to stop early (the client went away), which
/// ends with [`MediaError::Cancelled`].
pub fn encode_chunk(
    path: &Path,
    plan: &StreamPlan,
    spec: TranscodeSpec,
    chunk: u64,
    emit: &mut dyn FnMut(&[u8]) -> bool,
) -> Result<(), MediaError> {
    match plan.format {
        Format::Mp3 => encode_mp3_chunk(path, plan, spec, chunk, emit),
        Format::Opus => encode_opus_chunk(path, plan, spec, chunk, emit),
    }
}

fn encode_mp3_chunk(
    path: &Path,
    plan: &StreamPlan,
    spec: TranscodeSpec,
    chunk: u64,
    emit: &mut dyn FnMut(&[u8]) -> bool,
) -> Result<(), MediaError> {
    let (first, end) = plan.chunk_units(chunk);
    let start = first.saturating_sub(MP3_PREROLL_FRAMES);
    let mut skip = first - start;
    let mut want = end - first;
    let mut pcm = Pcm48k::open(path, start * MP3_FRAME_SAMPLES, plan.frames_48k, spec.gain)?;
    let mut enc = Mp3Encoder::new(plan.quality.kbps(), pcm.channels())?;
    let fb = enc.frame_bytes();
    let mut samples = Vec::with_capacity(MP3_FRAME_SAMPLES as usize * 2);
    let mut bytes = Vec::new();
    let mut at = 0;
    while want > 0 {
        samples.clear();
        pcm.fill(&mut samples, MP3_FRAME_SAMPLES as usize)?;
        enc.encode(&samples, &mut bytes)?;
        while want > 0 && bytes.len() - at >= fb {
            let frame = &bytes[at..at + fb];
            at += fb;
            if skip > 0 {
                skip -= 1;
                continue;
            }
            enc.check_frame(frame)?;
            if !emit(frame) {
                return Err(MediaError::Cancelled);
            }
            want -= 1;
        }
        if at > 64 * 1024 {
            bytes.drain(..at);
            at = 0;
        }
    }
    Ok(())
}

fn encode_opus_chunk(
    path: &Path,
    plan: &StreamPlan,
    spec: TranscodeSpec,
    chunk: u64,
    emit: &mut dyn FnMut(&[u8]) -> bool,
) -> Result<(), MediaError> {
    let (first_page, end_page) = plan.chunk_units(chunk);
    let total_packets = plan.opus_packets();
    let first = first_page * OPUS_PACKETS_PER_PAGE;
    let end = (end_page * OPUS_PACKETS_PER_PAGE).min(total_packets);
    let start = first.saturating_sub(OPUS_PREROLL_PACKETS);
    let mut pcm = Pcm48k::open(
        path,
        start * OPUS_PACKET_SAMPLES,
        plan.frames_48k,
        spec.gain,
    )?;
    let mut enc = OpusEncoder::new(plan.quality.kbps(), pcm.channels())?;
    let pb = enc.packet_bytes();
    let mut samples = Vec::with_capacity(OPUS_PACKET_SAMPLES as usize * 2);
    let mut packets: Vec<u8> = Vec::with_capacity(pb * OPUS_PACKETS_PER_PAGE as usize);
    let mut page_buf = Vec::new();
    let mut page = first_page;
    for q in start..end {
        samples.clear();
        pcm.fill(&mut samples, OPUS_PACKET_SAMPLES as usize)?;
        if q < first {
            let mut discard = Vec::new();
            enc.encode_packet(&samples, &mut discard)?;
            continue;
        }
        enc.encode_packet(&samples, &mut packets)?;
        let n = packets.len() / pb;
        let page_end = ((page + 1) * OPUS_PACKETS_PER_PAGE).min(total_packets);
        if q + 1 == page_end {
            let refs: Vec<&[u8]> = (0..n).map(|i| &packets[i * pb..(i + 1) * pb]).collect();
            page_buf.clear();
            ogg_opus::audio_page(&mut page_buf, plan, page, &refs);
            if !emit(&page_buf) {
                return Err(MediaError::Cancelled);
            }
            packets.clear();
            page += 1;
        }
    }
    Ok(())
}

/// A chunk index and its bytes.
type EncodedChunk = (u64, Vec<u8>);

/// Encodes the whole stream (header and every chunk, `threads` chunks at a time) into memory.
/// Used by the CLI, benchmarks and tests; the server streams chunks instead.
pub fn transcode_to_vec(
    path: &Path,
    plan: &StreamPlan,
    spec: TranscodeSpec,
    threads: usize,
) -> Result<Vec<u8>, MediaError> {
    let chunks = plan.chunk_count();
    let next = std::sync::atomic::AtomicU64::new(0);
    let results: Vec<Result<Vec<EncodedChunk>, MediaError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads.max(1))
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let c = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if c >= chunks {
                            return Ok(done);
                        }
                        let mut bytes = Vec::new();
                        encode_chunk(path, plan, spec, c, &mut |u| {
                            bytes.extend_from_slice(u);
                            true
                        })?;
                        done.push((c, bytes));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(MediaError::Codec("encoder thread panicked".into())))
            })
            .collect()
    });
    let mut parts = Vec::new();
    for r in results {
        parts.extend(r?);
    }
    parts.sort_by_key(|(c, _)| *c);
    let mut out = Vec::with_capacity(plan.total_len() as usize);
    out.extend_from_slice(plan.header());
    for (_, p) in parts {
        out.extend_from_slice(&p);
    }
    Ok(out)
}
