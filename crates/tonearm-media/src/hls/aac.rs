//! AAC-LC encoding with FDK (the `fdk-aac` crate), one raw access unit (1024 samples) at a time.

use crate::MediaError;
use fdk_aac::enc::{AudioObjectType, BitRate, ChannelMode, Encoder, EncoderParams, Transport};

/// Samples per channel in one AAC-LC access unit.
pub const AU_SAMPLES: u32 = 1024;

/// An FDK AAC-LC encoder in CBR mode producing raw access units.
pub struct AacEncoder {
    enc: Encoder,
    channels: usize,
    out: Vec<u8>,
    /// Priming samples the encoder puts before the first input sample.
    pub delay: u32,
    /// The AudioSpecificConfig for the `esds` box.
    pub asc: Vec<u8>,
    /// Largest access unit the encoder may produce, in bytes.
    pub max_au_bytes: usize,
}

fn codec_err(what: &str, e: fdk_aac::enc::EncoderError) -> MediaError {
    MediaError::Codec(format!("aac encoder {what}: {e}"))
}

impl AacEncoder {
    /// An encoder for `channels` (1 or 2) at `sample_rate` and `bitrate` bit/s.
    pub fn new(sample_rate: u32, channels: usize, bitrate: u32) -> Result<AacEncoder, MediaError> {
        let enc = Encoder::new(EncoderParams {
            bit_rate: BitRate::Cbr(bitrate),
            sample_rate,
            transport: Transport::Raw,
            channels: if channels == 1 {
                ChannelMode::Mono
            } else {
                ChannelMode::Stereo
            },
            audio_object_type: AudioObjectType::Mpeg4LowComplexity,
        })
        .map_err(|e| codec_err("setup", e))?;
        let info = enc.info().map_err(|e| codec_err("info", e))?;
        let conf_len = (info.confSize as usize).min(info.confBuf.len());
        Ok(AacEncoder {
            channels,
            out: vec![0; (info.maxOutBufBytes as usize).max(8192)],
            delay: info.nDelay,
            asc: info.confBuf[..conf_len].to_vec(),
            max_au_bytes: info.maxOutBufBytes as usize,
            enc,
        })
    }

    /// Feeds interleaved samples, calling `au` with each access unit that completes.
    pub fn encode(
        &mut self,
        mut pcm: &[i16],
        au: &mut impl FnMut(&[u8]) -> Result<(), MediaError>,
    ) -> Result<(), MediaError> {
        while !pcm.is_empty() {
            let r = self
                .enc
                .encode(pcm, &mut self.out)
                .map_err(|e| codec_err("encode", e))?;
            if r.output_size > 0 {
                au(&self.out[..r.output_size])?;
            }
            if r.input_consumed == 0 && r.output_size == 0 {
                return Err(MediaError::Codec("aac encoder made no progress".into()));
            }
            pcm = &pcm[r.input_consumed.min(pcm.len())..];
        }
        Ok(())
    }

    /// Feeds silence until `total_aus` access units have come out: the crate has no flush
    /// call, so the encoder's look-ahead is pushed out with zeros instead. The extra samples
    /// are past the edit list's end, so players do not play them.
    pub fn finish(
        &mut self,
        mut produced: u64,
        total_aus: u64,
        au: &mut impl FnMut(&[u8]) -> Result<(), MediaError>,
    ) -> Result<(), MediaError> {
        let zeros = vec![0i16; AU_SAMPLES as usize * self.channels];
        let mut guard = 0;
        while produced < total_aus {
            let mut count = |b: &[u8]| {
                if produced >= total_aus {
                    return Ok(()); // past the end: only padding
                }
                produced += 1;
                au(b)
            };
            self.encode(&zeros, &mut count)?;
            guard += 1;
            if guard > total_aus + 16 {
                return Err(MediaError::Codec("aac encoder did not drain".into()));
            }
        }
        Ok(())
    }
}
