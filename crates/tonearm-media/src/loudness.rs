//! EBU R128 loudness: measured once per track, applied as gain at transcode time.

use crate::decode::AudioReader;
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

/// Measures a file at its own sample rate (no resampling: EBU R128 is defined for any rate, and
/// decoding alone is several times cheaper than decoding plus resampling).
pub fn measure(path: &Path) -> Result<Loudness, MediaError> {
    let mut reader = AudioReader::open(path)?;
    let info = reader.info().clone();
    let codec = |e: ebur128::Error| MediaError::Codec(format!("loudness meter: {e}"));
    let mode = ebur128::Mode::I | ebur128::Mode::TRUE_PEAK;
    let mut meter =
        ebur128::EbuR128::new(info.channels as u32, info.sample_rate, mode).map_err(codec)?;
    if info.channels == 1 {
        // A mono file is heard on two speakers: count it as dual mono (+3 dB), as players do.
        meter
            .set_channel(0, ebur128::Channel::DualMono)
            .map_err(codec)?;
    }
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if reader.read(&mut buf)? == 0 {
            break;
        }
        meter.add_frames_f32(&buf).map_err(codec)?;
    }
    let integrated_lufs = meter.loudness_global().map_err(codec)?;
    let mut true_peak = 0f64;
    for c in 0..info.channels as u32 {
        true_peak = true_peak.max(meter.true_peak(c).map_err(codec)?);
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
