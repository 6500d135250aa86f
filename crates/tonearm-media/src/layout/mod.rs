//! Byte layout of a transcoded stream, computed before a single sample is encoded.
//!
//! Both outputs are constant bitrate at 48 kHz, so every unit (an MP3 frame, an Ogg page of Opus
//! packets) has a size known in advance. That is what lets a first-play transcode answer with an
//! exact `Content-Length` and serve any byte range by starting the encoder at the matching unit.
//!
//! A stream is `header ++ units`; units are grouped into chunks, the unit of encoding and caching.
//! A chunk is encoded by a fresh encoder started a few units early (pre-roll) and discarding that
//! pre-roll, so every chunk can be made independently and in any order.
//!
//! The headers are part of the layout: `mp3_info` builds the LAME Info frame and `ogg_opus` the
//! Opus header pages (and each audio page) from the plan.

pub mod mp3_info;
pub mod ogg_opus;

use crate::ogg;
use crate::quality::{Format, Quality};

/// Output sample rate of every transcode.
pub const OUT_RATE: u32 = 48_000;
/// Samples per MPEG-1 Layer III frame.
pub const MP3_FRAME_SAMPLES: u64 = 1152;
/// LAME's fixed encoder delay (samples before the first input sample in its output).
pub const LAME_ENCODER_DELAY: u64 = 576;
/// The MP3 decoder's synthesis delay that gapless readers add to the encoder delay.
pub const MP3_DECODER_DELAY: u64 = 529;
/// Samples per Opus packet (20 ms at 48 kHz).
pub const OPUS_PACKET_SAMPLES: u64 = 960;
/// Opus packets per Ogg page: 0.5 s per page keeps first-byte latency low and overhead ~1%.
pub const OPUS_PACKETS_PER_PAGE: u64 = 25;
/// Serial number of our Ogg logical stream; any fixed value is valid for a single-stream file.
pub const OGG_SERIAL: u32 = 0x546f_6e61; // "Tona"

/// Where an output unit sits and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamPlan {
    pub format: Format,
    pub quality: Quality,
    /// Output channels: 1 for mono sources, 2 otherwise.
    pub channels: u16,
    /// Length of the source at 48 kHz, in sample frames.
    pub frames_48k: u64,
    /// Opus pre-skip (encoder lookahead); 0 for MP3.
    pub pre_skip: u64,
    header: Vec<u8>,
    unit_count: u64,
    unit_bytes: u64,
    last_unit_bytes: u64,
    units_per_chunk: u64,
}

impl StreamPlan {
    /// Plans a stream for a source of `source_frames` frames at `source_rate` Hz.
    /// `opus_pre_skip` is the Opus encoder's lookahead (see [`crate::encode::opus_lookahead`]).
    pub fn new(
        format: Format,
        quality: Quality,
        source_rate: u32,
        source_channels: u16,
        source_frames: u64,
        opus_pre_skip: u64,
    ) -> StreamPlan {
        let channels = if source_channels <= 1 { 1 } else { 2 };
        let frames_48k = frames_at_48k(source_frames, source_rate);
        match format {
            Format::Mp3 => {
                // Enough frames that, after encoder + decoder delay, every source sample is out.
                let unit_count = (frames_48k + LAME_ENCODER_DELAY + MP3_DECODER_DELAY)
                    .div_ceil(MP3_FRAME_SAMPLES);
                let unit_bytes = mp3_frame_bytes(quality.kbps());
                let mut plan = StreamPlan {
                    format,
                    quality,
                    channels,
                    frames_48k,
                    pre_skip: 0,
                    header: Vec::new(),
                    unit_count,
                    unit_bytes,
                    last_unit_bytes: unit_bytes,
                    // ~2.3 s: a seek into the middle of a chunk waits for at most this much encoding.
                    units_per_chunk: 96,
                };
                plan.header = mp3_info::info_frame(&plan);
                plan
            }
            Format::Opus => {
                let packets = (opus_pre_skip + frames_48k)
                    .div_ceil(OPUS_PACKET_SAMPLES)
                    .max(1);
                let packet_bytes = opus_packet_bytes(quality.kbps()) as usize;
                let unit_count = packets.div_ceil(OPUS_PACKETS_PER_PAGE);
                let last_packets = packets - (unit_count - 1) * OPUS_PACKETS_PER_PAGE;
                let mut plan = StreamPlan {
                    format,
                    quality,
                    channels,
                    frames_48k,
                    pre_skip: opus_pre_skip,
                    header: Vec::new(),
                    unit_count,
                    unit_bytes: ogg::page_size(std::iter::repeat_n(
                        packet_bytes,
                        OPUS_PACKETS_PER_PAGE as usize,
                    )) as u64,
                    last_unit_bytes: ogg::page_size(std::iter::repeat_n(
                        packet_bytes,
                        last_packets as usize,
                    )) as u64,
                    units_per_chunk: 4,
                };
                plan.header = ogg_opus::header_pages(&plan);
                plan
            }
        }
    }

    /// Bytes before the first unit (MP3 Info frame; OpusHead + OpusTags pages).
    pub fn header(&self) -> &[u8] {
        &self.header
    }

    /// Exact total length of the stream in bytes.
    pub fn total_len(&self) -> u64 {
        self.header.len() as u64 + (self.unit_count - 1) * self.unit_bytes + self.last_unit_bytes
    }

    /// Number of units (MP3 frames or Ogg pages).
    pub fn unit_count(&self) -> u64 {
        self.unit_count
    }

    /// Size of a full unit in bytes.
    pub fn unit_bytes(&self) -> u64 {
        self.unit_bytes
    }

    /// Number of Opus packets in the stream (0 for MP3).
    pub fn opus_packets(&self) -> u64 {
        match self.format {
            Format::Mp3 => 0,
            Format::Opus => (self.pre_skip + self.frames_48k)
                .div_ceil(OPUS_PACKET_SAMPLES)
                .max(1),
        }
    }

    /// Number of chunks the units are grouped into.
    pub fn chunk_count(&self) -> u64 {
        self.unit_count.div_ceil(self.units_per_chunk)
    }

    /// Units `[first, end)` of chunk `chunk`.
    pub fn chunk_units(&self, chunk: u64) -> (u64, u64) {
        let first = chunk * self.units_per_chunk;
        (first, (first + self.units_per_chunk).min(self.unit_count))
    }

    /// Byte offset in the stream where unit `unit` starts.
    pub fn unit_offset(&self, unit: u64) -> u64 {
        self.header.len() as u64 + unit * self.unit_bytes
    }

    /// Byte range `[start, end)` of chunk `chunk` in the stream.
    pub fn chunk_range(&self, chunk: u64) -> (u64, u64) {
        let (first, end) = self.chunk_units(chunk);
        let end_off = if end == self.unit_count {
            self.total_len()
        } else {
            self.unit_offset(end)
        };
        (self.unit_offset(first), end_off)
    }

    /// The chunk holding byte `offset`, or `None` when it lies in the header or past the end.
    pub fn chunk_at(&self, offset: u64) -> Option<u64> {
        let header = self.header.len() as u64;
        if offset < header || offset >= self.total_len() {
            return None;
        }
        Some(
            ((offset - header) / self.unit_bytes / self.units_per_chunk)
                .min(self.chunk_count() - 1),
        )
    }
}

/// Source length in frames converted to 48 kHz (rounded up: the tail is never cut).
pub fn frames_at_48k(source_frames: u64, source_rate: u32) -> u64 {
    if source_rate == 0 {
        return 0;
    }
    (source_frames as u128 * OUT_RATE as u128).div_ceil(source_rate as u128) as u64
}

/// Bytes per MPEG-1 Layer III frame at 48 kHz without padding: 144 × bitrate / 48000.
pub fn mp3_frame_bytes(kbps: u32) -> u64 {
    144 * kbps as u64 * 1000 / OUT_RATE as u64
}

/// Bytes per 20 ms hard-CBR Opus packet.
pub fn opus_packet_bytes(kbps: u32) -> u64 {
    kbps as u64 * 1000 / 8 / 50
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mp3_frame_sizes_match_design() {
        assert_eq!(mp3_frame_bytes(64), 192);
        assert_eq!(mp3_frame_bytes(128), 384);
        assert_eq!(mp3_frame_bytes(256), 768);
        assert_eq!(opus_packet_bytes(128), 320);
    }

    #[test]
    fn mp3_plan_covers_source_plus_delays() {
        let p = StreamPlan::new(Format::Mp3, Quality::Medium, 44_100, 2, 44_100 * 10, 312);
        assert_eq!(p.frames_48k, 480_000);
        let needed = 480_000 + LAME_ENCODER_DELAY + MP3_DECODER_DELAY;
        assert!(p.unit_count() * MP3_FRAME_SAMPLES >= needed);
        assert!(p.unit_count() * MP3_FRAME_SAMPLES < needed + MP3_FRAME_SAMPLES);
        assert_eq!(p.total_len(), 384 + p.unit_count() * 384);
    }

    #[test]
    fn chunks_tile_the_stream_without_gaps() {
        for format in [Format::Mp3, Format::Opus] {
            let p = StreamPlan::new(format, Quality::Low, 48_000, 1, 48_000 * 37 + 11, 312);
            let mut expect = p.header().len() as u64;
            for c in 0..p.chunk_count() {
                let (s, e) = p.chunk_range(c);
                assert_eq!(s, expect);
                assert!(e > s);
                assert_eq!(p.chunk_at(s), Some(c));
                assert_eq!(p.chunk_at(e - 1), Some(c));
                expect = e;
            }
            assert_eq!(expect, p.total_len());
            assert_eq!(p.chunk_at(p.total_len()), None);
        }
    }
}
