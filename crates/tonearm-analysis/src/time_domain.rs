//! The two features read from samples rather than the spectrum: RMS (librosa `rms`,
//! zero-padded frames) and zero-crossing rate (librosa `zero_crossing_rate`, edge-padded frames,
//! values within 1e-10 of zero count as zero and zero counts as positive).

use crate::stft::Frame;

const ZERO: f32 = 1e-10;

/// Root mean square of the frame (padding counts as zeros).
pub fn rms(frame: &Frame<'_>) -> f32 {
    let mut lanes = [0f32; 8];
    let chunks = frame.samples.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().map(|x| x * x).sum();
    for c in chunks {
        for i in 0..8 {
            lanes[i] += c[i] * c[i];
        }
    }
    ((lanes.iter().sum::<f32>() + tail) / frame.samples.len() as f32).sqrt()
}

/// Share of neighbouring sample pairs whose signs differ. Edge padding repeats the first and
/// last sample, so only pairs inside the signal can cross; the rate is still over the whole
/// frame length, as librosa divides it.
pub fn zero_crossing_rate(frame: &Frame<'_>) -> f32 {
    let real = &frame.samples[frame.real.clone()];
    let negative = |x: f32| x < -ZERO;
    let crossings = real
        .windows(2)
        .filter(|w| negative(w[0]) != negative(w[1]))
        .count();
    crossings as f32 / frame.samples.len() as f32
}
