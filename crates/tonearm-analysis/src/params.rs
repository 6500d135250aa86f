//! The analysis parameters. They are librosa's defaults (≥ 0.9) and fixed on purpose: every
//! stored number and the librosa agreement tests depend on them, and a change is a new
//! [`crate::ALGORITHM_VERSION`].

/// Sample rate the analysis runs at (librosa's default `sr`).
pub const SAMPLE_RATE: u32 = 22_050;
/// STFT size (and window length).
pub const N_FFT: usize = 2048;
/// Frequency bins of one STFT frame.
pub const N_BINS: usize = N_FFT / 2 + 1;
/// Samples between frames.
pub const HOP: usize = 512;
/// Frames per second.
pub const FRAME_RATE: f64 = SAMPLE_RATE as f64 / HOP as f64;
/// Mel bands (Slaney scale and normalization).
pub const N_MELS: usize = 128;
/// MFCC coefficients kept.
pub const N_MFCC: usize = 20;
/// Spectral contrast octave bands (plus one band below `CONTRAST_FMIN`).
pub const N_CONTRAST_BANDS: usize = 6;
/// Lowest contrast band edge in Hz.
pub const CONTRAST_FMIN: f64 = 200.0;
/// Share of a band's bins averaged for its peak and valley.
pub const CONTRAST_QUANTILE: f64 = 0.02;
/// Pitch classes.
pub const N_CHROMA: usize = 12;
/// Spectral rolloff's share of energy.
pub const ROLL_PERCENT: f64 = 0.85;
/// `power_to_db`'s floor and dynamic range (librosa: `amin=1e-10`, `top_db=80`).
pub const AMIN: f32 = 1e-10;
pub const TOP_DB: f32 = 80.0;
/// Frequency of STFT bin `k` in Hz.
pub fn bin_hz(k: usize) -> f64 {
    k as f64 * SAMPLE_RATE as f64 / N_FFT as f64
}
