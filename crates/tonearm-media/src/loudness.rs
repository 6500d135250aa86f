//! EBU R128 loudness: measured once per track, applied as gain at transcode time.

use crate::resample::Pcm48k;
use crate::MediaError;
use std::path::Path;

/// Target integrated loudness for `normalize=1` (ReplayGain 2.0 reference level).
pub const TARGET_LUFS: f64 = -18.0;

/// Integrated loudness and true peak of a track.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Loudness {
    /// Integrated loudness in LUFS (`-inf` for digital silence).
    pub integrated_lufs: f64,
    /// True peak, linear (1.0 = full scale).
    pub true_peak: f64,
}

/// Measures a file as it would be streamed (48 kHz, 1 or 2 channels).
pub fn measure(path: &Path, frames_48k: u64) -> Result<Loudness, MediaError> {
    let mut pcm = Pcm48k::open(path, 0, frames_48k, 1.0)?;
    let ch = pcm.channels();
    let mode = ebur128::Mode::I | ebur128::Mode::TRUE_PEAK;
    let mut meter = ebur128::EbuR128::new(ch as u32, 48_000, mode)
        .map_err(|e| MediaError::Codec(e.to_string()))?;
    if ch == 1 {
        // A mono file is heard on two speakers: count it as dual mono (+3 dB), as players do.
        meter
            .set_channel(0, ebur128::Channel::DualMono)
            .map_err(|e| MediaError::Codec(e.to_string()))?;
    }
    let mut buf = Vec::with_capacity(48_000 * ch);
    let mut left = frames_48k;
    while left > 0 {
        let n = left.min(48_000) as usize;
        buf.clear();
        pcm.fill(&mut buf, n)?;
        meter
            .add_frames_f32(&buf)
            .map_err(|e| MediaError::Codec(e.to_string()))?;
        left -= n as u64;
    }
    let integrated_lufs = meter
        .loudness_global()
        .map_err(|e| MediaError::Codec(e.to_string()))?;
    let mut true_peak = 0f64;
    for c in 0..ch as u32 {
        true_peak = true_peak.max(
            meter
                .true_peak(c)
                .map_err(|e| MediaError::Codec(e.to_string()))?,
        );
    }
    Ok(Loudness {
        integrated_lufs,
        true_peak,
    })
}

/// Linear gain that brings `l` to [`TARGET_LUFS`] without pushing the true peak over full scale.
pub fn normalization_gain(l: Loudness) -> f32 {
    if !l.integrated_lufs.is_finite() {
        return 1.0;
    }
    let gain = 10f64.powf((TARGET_LUFS - l.integrated_lufs) / 20.0);
    let limit = if l.true_peak > 0.0 {
        1.0 / l.true_peak
    } else {
        gain
    };
    gain.min(limit) as f32
}
