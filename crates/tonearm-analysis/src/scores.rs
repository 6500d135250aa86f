//! Derived scores, each 0 … 1. They are Tonearm's own definitions from the measured features,
//! meant for sorting, filtering and smart playlists; they claim no other product's meaning.
//!
//! - **energy**: how loud and busy the track is — 50 % its mean RMS level (−40 dBFS → 0,
//!   −10 dBFS → 1), 30 % its onset strength (mean mel-dB flux, 0 → 0, 4 dB → 1), 20 % its
//!   brightness (mean spectral centroid, 500 Hz → 0, 3.5 kHz → 1).
//! - **danceability**: how steady and clear the beat is in a tempo people dance to — the
//!   tempo confidence, times a tempo fit of 1 between 90 and 140 BPM falling to 0 an octave
//!   beyond either end (on a log scale); 0 without a tempo.
//! - **acousticness**: how little of the sound is noise-like and bright — 60 % one minus the
//!   mean spectral flatness (scaled so flatness 0.3 → 0), 40 % one minus brightness (mean
//!   spectral rolloff, 2 kHz → 1, 8 kHz → 0). Acoustic recordings tend high, distorted or
//!   synthetic noise-rich production low; it is a description of timbre, not a classifier.

use crate::summary::Summaries;
use crate::tempo::Tempo;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub energy: f64,
    pub danceability: f64,
    pub acousticness: f64,
}

/// `x` mapped linearly from `[lo, hi]` onto `[0, 1]`, clamped.
fn ramp(x: f64, lo: f64, hi: f64) -> f64 {
    ((x - lo) / (hi - lo)).clamp(0.0, 1.0)
}

pub fn scores(s: &Summaries, tempo: Option<Tempo>) -> Scores {
    let rms = s.rms.mean[0] as f64;
    let level_db = 20.0 * rms.max(1e-9).log10();
    let onset = s.onset_strength.mean[0] as f64;
    let centroid = s.spectral_centroid.mean[0] as f64;
    let energy = 0.5 * ramp(level_db, -40.0, -10.0)
        + 0.3 * ramp(onset, 0.0, 4.0)
        + 0.2 * ramp(centroid, 500.0, 3500.0);
    let danceability = tempo.map_or(0.0, |t| {
        let octaves = if t.bpm < 90.0 {
            (90.0 / t.bpm).log2()
        } else if t.bpm > 140.0 {
            (t.bpm / 140.0).log2()
        } else {
            0.0
        };
        t.confidence * (1.0 - octaves).clamp(0.0, 1.0)
    });
    let flatness = s.spectral_flatness.mean[0] as f64;
    let rolloff = s.spectral_rolloff.mean[0] as f64;
    let acousticness =
        0.6 * (1.0 - ramp(flatness, 0.0, 0.3)) + 0.4 * (1.0 - ramp(rolloff, 2000.0, 8000.0));
    Scores {
        energy,
        danceability,
        acousticness,
    }
}
