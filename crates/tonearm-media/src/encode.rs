//! Constant-bitrate encoders producing fixed-size units: MP3 frames (LAME) and Opus packets
//! (libopus). Both are configured so that output can be cut at any unit and restarted.

use crate::layout::mp3_info::frame_header;
use crate::layout::{mp3_frame_bytes, opus_packet_bytes, OPUS_PACKET_SAMPLES};
use crate::MediaError;
use mp3lame_encoder::{Bitrate, Builder, InterleavedPcm, MonoPcm};

fn codec_err(what: &str, e: impl std::fmt::Display) -> MediaError {
    MediaError::Codec(format!("{what}: {e}"))
}

/// LAME at CBR 48 kHz with the bit reservoir disabled, so every frame is self-contained: a
/// frame never borrows bits from an earlier one, which is what makes a mid-stream restart
/// decode cleanly.
pub struct Mp3Encoder {
    enc: mp3lame_encoder::Encoder,
    channels: usize,
    kbps: u32,
}

impl Mp3Encoder {
    pub fn new(kbps: u32, channels: usize) -> Result<Mp3Encoder, MediaError> {
        let bitrate = match kbps {
            64 => Bitrate::Kbps64,
            128 => Bitrate::Kbps128,
            256 => Bitrate::Kbps256,
            320 => Bitrate::Kbps320,
            other => return Err(MediaError::Unsupported(format!("MP3 bitrate {other} kbps"))),
        };
        let mut b = Builder::new().ok_or_else(|| MediaError::Codec("lame_init failed".into()))?;
        b.set_num_channels(channels as u8)
            .map_err(|e| codec_err("lame channels", e))?;
        b.set_sample_rate(48_000)
            .map_err(|e| codec_err("lame rate", e))?;
        b.set_output_sample_rate(std::num::NonZeroU32::new(48_000))
            .map_err(|e| codec_err("lame rate", e))?;
        b.set_brate(bitrate)
            .map_err(|e| codec_err("lame bitrate", e))?;
        b.set_vbr_mode(mp3lame_encoder::VbrMode::Off)
            .map_err(|e| codec_err("lame cbr", e))?;
        let mode = if channels == 1 {
            mp3lame_encoder::Mode::Mono
        } else {
            mp3lame_encoder::Mode::JointStereo
        };
        b.set_mode(mode).map_err(|e| codec_err("lame mode", e))?;
        b.set_quality(mp3lame_encoder::Quality::Good)
            .map_err(|e| codec_err("lame quality", e))?;
        b.set_to_write_vbr_tag(false)
            .map_err(|e| codec_err("lame tag", e))?;
        // SAFETY: the pointer comes from a live Builder and is used before `build`, which keeps
        // the same allocation for the Encoder.
        let rc = unsafe { mp3lame_encoder::ffi::lame_set_disable_reservoir(b.as_ptr(), 1) };
        if rc != 0 {
            return Err(MediaError::Codec(
                "lame: cannot disable bit reservoir".into(),
            ));
        }
        let enc = b.build().map_err(|e| codec_err("lame init", e))?;
        Ok(Mp3Encoder {
            enc,
            channels,
            kbps,
        })
    }

    /// Encodes interleaved samples, appending whatever whole frames LAME emits to `out`.
    pub fn encode(&mut self, pcm: &[f32], out: &mut Vec<u8>) -> Result<(), MediaError> {
        let frames = pcm.len() / self.channels;
        out.reserve(mp3lame_encoder::max_required_buffer_size(frames));
        let res = if self.channels == 1 {
            self.enc.encode_to_vec(MonoPcm(pcm), out)
        } else {
            self.enc.encode_to_vec(InterleavedPcm(pcm), out)
        };
        res.map(|_| ()).map_err(|e| codec_err("lame encode", e))
    }

    /// Size in bytes of every frame this encoder emits.
    pub fn frame_bytes(&self) -> usize {
        mp3_frame_bytes(self.kbps) as usize
    }

    /// Checks that `frame` is a frame of the expected shape (guards the fixed-size layout).
    pub fn check_frame(&self, frame: &[u8]) -> Result<(), MediaError> {
        let want = frame_header(self.kbps, self.channels as u16);
        // Compare sync, version, layer, bitrate, rate, padding and channel mode bits.
        if frame.len() != self.frame_bytes()
            || frame[..3] != want[..3]
            || frame[3] & 0xC0 != want[3] & 0xC0
        {
            return Err(MediaError::Codec(
                "LAME emitted a frame of unexpected shape".into(),
            ));
        }
        Ok(())
    }
}

/// libopus in hard-CBR mode: every 20 ms packet has exactly `kbps × 2.5` bytes.
pub struct OpusEncoder {
    enc: opus::Encoder,
    channels: usize,
    packet_bytes: usize,
    buf: Vec<u8>,
}

impl OpusEncoder {
    pub fn new(kbps: u32, channels: usize) -> Result<OpusEncoder, MediaError> {
        let ch = if channels == 1 {
            opus::Channels::Mono
        } else {
            opus::Channels::Stereo
        };
        let mut enc = opus::Encoder::new(48_000, ch, opus::Application::Audio)
            .map_err(|e| codec_err("opus init", e))?;
        enc.set_bitrate(opus::Bitrate::Bits(kbps as i32 * 1000))
            .map_err(|e| codec_err("opus bitrate", e))?;
        enc.set_vbr(false).map_err(|e| codec_err("opus cbr", e))?;
        Ok(OpusEncoder {
            enc,
            channels,
            packet_bytes: opus_packet_bytes(kbps) as usize,
            buf: vec![0; 4000],
        })
    }

    /// Encodes one 20 ms packet from exactly 960 frames of interleaved samples.
    pub fn encode_packet(&mut self, pcm: &[f32], out: &mut Vec<u8>) -> Result<(), MediaError> {
        debug_assert_eq!(pcm.len(), OPUS_PACKET_SAMPLES as usize * self.channels);
        let n = self
            .enc
            .encode_float(pcm, &mut self.buf)
            .map_err(|e| codec_err("opus encode", e))?;
        if n != self.packet_bytes {
            return Err(MediaError::Codec(format!(
                "opus CBR packet of {n} bytes, expected {}",
                self.packet_bytes
            )));
        }
        out.extend_from_slice(&self.buf[..n]);
        Ok(())
    }

    pub fn packet_bytes(&self) -> usize {
        self.packet_bytes
    }
}

/// libopus's lookahead at 48 kHz for the audio application: the Ogg Opus pre-skip.
pub fn opus_lookahead() -> u64 {
    static LOOKAHEAD: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *LOOKAHEAD.get_or_init(|| {
        opus::Encoder::new(48_000, opus::Channels::Stereo, opus::Application::Audio)
            .and_then(|mut e| e.get_lookahead())
            .map(|l| l as u64)
            // libopus documents Fs/400 + Fs/250 = 312 at 48 kHz; only used if init fails.
            .unwrap_or(312)
    })
}
