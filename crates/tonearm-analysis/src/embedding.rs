//! A compact vector for similarity: fixed layout, standardized components.
//!
//! Version 1 has [`DIMS`] components, each `(value − centre) / spread` with the documented
//! constants below, so that one unit means "a typical difference between tracks" in every
//! component and a plain (or weighted) Euclidean distance is meaningful without statistics of
//! the library. A recommender may re-standardize against its own library; the layout is fixed
//! for a version and a change of layout or constants is a new [`EMBEDDING_VERSION`].
//!
//! | components | feature | centre | spread |
//! |---|---|---|---|
//! | 0–19 | MFCC means | −200 for c0, 0 otherwise | 100 for c0, 30 for c1, 15 otherwise |
//! | 20–39 | MFCC standard deviations | 40 for c0, 10 otherwise | 20 for c0, 5 otherwise |
//! | 40–51 | chroma means, rotated so the key's tonic is first | 0.4 | 0.2 |
//! | 52–58 | spectral contrast means | 20 | 8 |
//! | 59 | spectral centroid mean (Hz) | 2000 | 1000 |
//! | 60 | spectral bandwidth mean (Hz) | 2000 | 700 |
//! | 61 | spectral rolloff mean (Hz) | 4000 | 2000 |
//! | 62 | spectral flatness mean | 0.05 | 0.05 |
//! | 63 | zero-crossing rate mean | 0.08 | 0.05 |
//! | 64 | RMS level mean (dBFS) | −20 | 8 |
//! | 65 | onset strength mean | 1.5 | 1 |
//! | 66 | onset strength std | 1.5 | 1 |
//! | 67 | log2(tempo / 120 BPM) (0 without a tempo) | 0 | 0.5 |
//! | 68 | tempo confidence | 0.3 | 0.2 |
//! | 69 | mode (+key strength for major, − for minor) | 0 | 0.5 |
//! | 70–72 | energy, danceability, acousticness | 0.5 | 0.25 |

use crate::key::Key;
use crate::scores::Scores;
use crate::summary::Summaries;
use crate::tempo::Tempo;

pub const EMBEDDING_VERSION: u32 = 1;
pub const DIMS: usize = 73;

fn z(x: f64, centre: f64, spread: f64) -> f32 {
    ((x - centre) / spread) as f32
}

pub fn embed(s: &Summaries, tempo: Option<Tempo>, key: Option<Key>, scores: &Scores) -> Vec<f32> {
    let mut v = Vec::with_capacity(DIMS);
    for (i, &m) in s.mfcc.mean.iter().enumerate() {
        let (c, sp) = match i {
            0 => (-200.0, 100.0),
            1 => (0.0, 30.0),
            _ => (0.0, 15.0),
        };
        v.push(z(m as f64, c, sp));
    }
    for (i, &d) in s.mfcc.std.iter().enumerate() {
        let (c, sp) = if i == 0 { (40.0, 20.0) } else { (10.0, 5.0) };
        v.push(z(d as f64, c, sp));
    }
    let tonic = key.map_or(0, |k| k.tonic as usize);
    for i in 0..12 {
        v.push(z(s.chroma.mean[(i + tonic) % 12] as f64, 0.4, 0.2));
    }
    for &c in &s.spectral_contrast.mean {
        v.push(z(c as f64, 20.0, 8.0));
    }
    let first = |st: &crate::summary::Stat| st.mean[0] as f64;
    v.push(z(first(&s.spectral_centroid), 2000.0, 1000.0));
    v.push(z(first(&s.spectral_bandwidth), 2000.0, 700.0));
    v.push(z(first(&s.spectral_rolloff), 4000.0, 2000.0));
    v.push(z(first(&s.spectral_flatness), 0.05, 0.05));
    v.push(z(first(&s.zero_crossing_rate), 0.08, 0.05));
    v.push(z(20.0 * first(&s.rms).max(1e-9).log10(), -20.0, 8.0));
    v.push(z(first(&s.onset_strength), 1.5, 1.0));
    v.push(z(s.onset_strength.std[0] as f64, 1.5, 1.0));
    v.push(z(tempo.map_or(0.0, |t| (t.bpm / 120.0).log2()), 0.0, 0.5));
    v.push(z(tempo.map_or(0.0, |t| t.confidence), 0.3, 0.2));
    let mode = key.map_or(0.0, |k| if k.minor { -k.strength } else { k.strength });
    v.push(z(mode, 0.0, 0.5));
    for x in [scores.energy, scores.danceability, scores.acousticness] {
        v.push(z(x, 0.5, 0.25));
    }
    debug_assert_eq!(v.len(), DIMS);
    v
}
