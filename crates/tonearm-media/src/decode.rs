//! Decoding any supported file to interleaved `f32` PCM, with sample-exact seeking.
//!
//! symphonia does the demuxing and most decoding; Opus packets (which symphonia cannot decode)
//! go to libopus. Positions are in source sample frames from the first audible sample: encoder
//! delay is never counted, so frame `n` means the same instant for every codec.

use crate::MediaError;
use std::fs::File;
use std::path::Path;
use symphonia::core::codecs::audio::well_known::CODEC_ID_OPUS;
use symphonia::core::codecs::audio::{AudioCodecId, AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo, TrackType};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::packet::Packet;
use symphonia::core::units::Timestamp;

/// Sample rates accepted from a file header.
pub const MIN_RATE: u32 = 4_000;
pub const MAX_RATE: u32 = 768_000;
/// Most channels accepted from a file header.
pub const MAX_CHANNELS: u16 = 32;

/// The audio properties of a source, as its container declares them.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceInfo {
    /// Short codec name: `mp3`, `flac`, `pcm_s16le`, `vorbis`, `opus`, `aac`, `alac`, …
    pub codec: String,
    /// Short container name: `mp3`, `flac`, `wave`, `aiff`, `ogg`, `isomp4`, …
    pub container: String,
    pub sample_rate: u32,
    pub channels: u16,
    pub bits_per_sample: Option<u32>,
    /// Playable frames (delay and padding excluded), when the container says.
    pub frames: Option<u64>,
}

enum PacketDecoder {
    Symphonia(Box<dyn AudioDecoder>),
    Opus(opus::Decoder, Vec<f32>),
}

/// A decoder positioned somewhere in a file.
pub struct AudioReader {
    format: Box<dyn FormatReader>,
    decoder: PacketDecoder,
    track_id: u32,
    info: SourceInfo,
    /// Frames before this position are discarded (set by a seek; 0 drops Opus pre-skip).
    skip_before: i64,
    scratch: Vec<f32>,
    /// Packets that failed to decode and were replaced by silence.
    pub bad_packets: u64,
}

fn sym_err(context: &str, e: SymError) -> MediaError {
    match e {
        SymError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            MediaError::Corrupt(format!("{context}: file ends early"))
        }
        SymError::IoError(io) => MediaError::Io(io),
        SymError::Unsupported(what) => MediaError::Unsupported(format!("{context}: {what}")),
        other => MediaError::Corrupt(format!("{context}: {other}")),
    }
}

fn codec_name(id: AudioCodecId) -> String {
    if id == CODEC_ID_OPUS {
        return "opus".into();
    }
    symphonia::default::get_codecs()
        .get_audio_decoder(id)
        .map(|r| r.codec.info.short_name.to_string())
        .unwrap_or_else(|| format!("{id}"))
}

impl AudioReader {
    /// Opens a file, probing its format by content.
    pub fn open(path: &Path) -> Result<AudioReader, MediaError> {
        let file = File::open(path)?;
        if file.metadata()?.len() == 0 {
            return Err(MediaError::Corrupt("empty file".into()));
        }
        let mss = MediaSourceStream::new(Box::new(file), MediaSourceStreamOptions::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let format = symphonia::default::get_probe()
            .probe(
                &hint,
                mss,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(|e| match e {
                SymError::Unsupported(_) => MediaError::NotAudio,
                other => sym_err("probe", other),
            })?;
        Self::from_format(format)
    }

    fn from_format(format: Box<dyn FormatReader>) -> Result<AudioReader, MediaError> {
        let track = format
            .default_track(TrackType::Audio)
            .ok_or(MediaError::NotAudio)?
            .clone();
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or(MediaError::NotAudio)?
            .clone();
        let channels = params.channels.as_ref().map(|c| c.count()).unwrap_or(0) as u16;
        let sample_rate = params.sample_rate.unwrap_or(0);
        if channels == 0 || sample_rate == 0 {
            return Err(MediaError::Corrupt(
                "stream declares no channels or sample rate".into(),
            ));
        }
        // Headers are untrusted: an absurd rate or channel count would make the resampler or the
        // buffers allocate without bound.
        if !(MIN_RATE..=MAX_RATE).contains(&sample_rate) {
            return Err(MediaError::Unsupported(format!(
                "sample rate {sample_rate} Hz"
            )));
        }
        if channels > MAX_CHANNELS {
            return Err(MediaError::Unsupported(format!("{channels} channels")));
        }
        let decoder = if params.codec == CODEC_ID_OPUS {
            let ch = match channels {
                1 => opus::Channels::Mono,
                2 => opus::Channels::Stereo,
                n => return Err(MediaError::Unsupported(format!("Opus with {n} channels"))),
            };
            let dec =
                opus::Decoder::new(48_000, ch).map_err(|e| MediaError::Codec(e.to_string()))?;
            PacketDecoder::Opus(dec, vec![0.0; 5760 * channels as usize])
        } else {
            let dec = symphonia::default::get_codecs()
                .make_audio_decoder(&params, &AudioDecoderOptions::default())
                .map_err(|e| sym_err("decoder", e))?;
            PacketDecoder::Symphonia(dec)
        };
        let info = SourceInfo {
            codec: codec_name(params.codec),
            container: format.format_info().short_name.to_string(),
            sample_rate: if params.codec == CODEC_ID_OPUS {
                48_000
            } else {
                sample_rate
            },
            channels,
            bits_per_sample: params.bits_per_sample,
            frames: track.num_frames,
        };
        Ok(AudioReader {
            format,
            decoder,
            track_id: track.id,
            info,
            skip_before: 0,
            scratch: Vec::new(),
            bad_packets: 0,
        })
    }

    pub fn info(&self) -> &SourceInfo {
        &self.info
    }

    /// Positions the reader so the next [`read`](Self::read) starts exactly at `frame`.
    pub fn seek(&mut self, frame: u64) -> Result<(), MediaError> {
        if frame == 0 {
            // A fresh start needs no seek; some readers reject ts 0 after delay trimming anyway.
            self.skip_before = 0;
            return self.rewind();
        }
        let res = self.format.seek(
            SeekMode::Accurate,
            SeekTo::Timestamp {
                ts: Timestamp::new(frame as i64),
                track_id: self.track_id,
            },
        );
        match res {
            Ok(_) => {
                if let PacketDecoder::Symphonia(d) = &mut self.decoder {
                    d.reset();
                } else if let PacketDecoder::Opus(d, _) = &mut self.decoder {
                    d.reset_state()
                        .map_err(|e| MediaError::Codec(e.to_string()))?;
                }
            }
            // Unseekable streams: decode from the start and discard.
            Err(_) => self.rewind()?,
        }
        self.skip_before = frame as i64;
        Ok(())
    }

    fn rewind(&mut self) -> Result<(), MediaError> {
        match self.format.seek(
            SeekMode::Accurate,
            SeekTo::Timestamp {
                ts: Timestamp::new(0),
                track_id: self.track_id,
            },
        ) {
            Ok(_) => {}
            Err(_) => {
                // Some readers cannot seek to 0 (MP3 with delay): ask for the earliest time instead.
                self.format
                    .seek(
                        SeekMode::Accurate,
                        SeekTo::Time {
                            time: Default::default(),
                            track_id: Some(self.track_id),
                        },
                    )
                    .map_err(|e| sym_err("rewind", e))?;
            }
        }
        match &mut self.decoder {
            PacketDecoder::Symphonia(d) => d.reset(),
            PacketDecoder::Opus(d, _) => d
                .reset_state()
                .map_err(|e| MediaError::Codec(e.to_string()))?,
        }
        Ok(())
    }

    /// Appends the next block of decoded interleaved samples to `out`.
    /// Returns the number of frames appended; 0 means the end of the stream.
    pub fn read(&mut self, out: &mut Vec<f32>) -> Result<usize, MediaError> {
        let ch = self.info.channels as usize;
        loop {
            let packet: Packet = match self.format.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => return Ok(0),
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Ok(0)
                }
                Err(SymError::ResetRequired) => return Ok(0),
                Err(e) => return Err(sym_err("read", e)),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            let first_ts = packet.pts.get() + packet.trim_start.get() as i64;
            self.scratch.clear();
            let decoded = match &mut self.decoder {
                PacketDecoder::Symphonia(d) => match d.decode(&packet) {
                    Ok(buf) => {
                        buf.copy_to_vec_interleaved(&mut self.scratch);
                        true
                    }
                    // The codec was accepted when the file opened, so a packet that asks for
                    // an unsupported feature (e.g. a flipped bit turning into an AAC program
                    // config element) is damage in that packet, not an unplayable file.
                    Err(SymError::DecodeError(_))
                    | Err(SymError::IoError(_))
                    | Err(SymError::Unsupported(_)) => false,
                    Err(e) => return Err(sym_err("decode", e)),
                },
                PacketDecoder::Opus(d, buf) => match d.decode_float(&packet.data, buf, false) {
                    Ok(n) => {
                        // Ogg carries Opus delay/padding as packet trims; apply them here.
                        let start = (packet.trim_start.get() as usize).min(n);
                        let end = n.saturating_sub(packet.trim_end.get() as usize).max(start);
                        self.scratch.extend_from_slice(&buf[start * ch..end * ch]);
                        true
                    }
                    Err(_) => false,
                },
            };
            if !decoded {
                // Keep the timeline: a damaged packet becomes silence of its declared length
                // (`dur` already excludes delay and padding). The length comes from the container,
                // so it is bounded: no real packet lasts a second.
                self.bad_packets += 1;
                let dur = packet.dur.get();
                if dur > self.info.sample_rate as u64 {
                    return Err(MediaError::Corrupt(format!(
                        "damaged packet claims {dur} frames"
                    )));
                }
                self.scratch.resize(dur as usize * ch, 0.0);
            }
            let n = (self.scratch.len() / ch) as i64;
            if n == 0 || first_ts + n <= self.skip_before {
                continue;
            }
            let skip = (self.skip_before - first_ts).clamp(0, n) as usize;
            out.extend_from_slice(&self.scratch[skip * ch..]);
            return Ok(n as usize - skip);
        }
    }

    /// Decodes to the end, returning every sample (for tests and tools; streaming code reads
    /// in blocks).
    pub fn read_all(&mut self) -> Result<Vec<f32>, MediaError> {
        let mut out = Vec::new();
        while self.read(&mut out)? > 0 {}
        Ok(out)
    }
}

/// Decodes a live stream's raw Opus packets (no container), always to 48 kHz stereo, so a
/// listener's output format does not depend on what the host sent.
pub struct OpusPacketDecoder {
    dec: opus::Decoder,
    buf: Vec<f32>,
}

impl OpusPacketDecoder {
    pub fn new() -> Result<OpusPacketDecoder, MediaError> {
        Ok(OpusPacketDecoder {
            dec: opus::Decoder::new(48_000, opus::Channels::Stereo)
                .map_err(|e| MediaError::Codec(format!("opus init: {e}")))?,
            // 120 ms, the longest Opus packet, of stereo.
            buf: vec![0.0; 5760 * 2],
        })
    }

    /// Appends the packet's interleaved stereo samples to `out`; returns the frames decoded.
    /// An empty `packet` conceals one lost 20 ms packet.
    pub fn decode(&mut self, packet: &[u8], out: &mut Vec<f32>) -> Result<usize, MediaError> {
        let n = if packet.is_empty() {
            self.dec.decode_float(&[], &mut self.buf[..960 * 2], false)
        } else {
            self.dec.decode_float(packet, &mut self.buf, false)
        }
        .map_err(|e| MediaError::Codec(format!("opus packet: {e}")))?;
        out.extend_from_slice(&self.buf[..n * 2]);
        Ok(n)
    }
}

#[cfg(test)]
mod opus_packet_tests {
    use super::*;

    #[test]
    fn packets_round_trip_through_the_encoder() {
        let mut enc = crate::encode::OpusEncoder::new(128, 1).unwrap();
        let mut dec = OpusPacketDecoder::new().unwrap();
        let mut out = Vec::new();
        for i in 0..10 {
            let pcm: Vec<f32> = (0..960)
                .map(|k| {
                    ((i * 960 + k) as f32 * 440.0 * std::f32::consts::TAU / 48_000.0).sin() * 0.5
                })
                .collect();
            let mut pkt = Vec::new();
            enc.encode_packet(&pcm, &mut pkt).unwrap();
            assert_eq!(dec.decode(&pkt, &mut out).unwrap(), 960);
        }
        assert_eq!(out.len(), 10 * 960 * 2, "mono in, stereo out");
        let peak = out[4000..].iter().fold(0f32, |m, s| m.max(s.abs()));
        assert!(
            (0.4..0.6).contains(&peak),
            "a 0.5 sine decodes near 0.5: {peak}"
        );
        assert!(
            dec.decode(&[0xff, 0xff, 0xff], &mut out).is_err(),
            "garbage is an error"
        );
        assert_eq!(dec.decode(&[], &mut out).unwrap(), 960, "loss is concealed");
    }
}
