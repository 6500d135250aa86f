//! The Slaney mel filterbank, `power_to_db` and the orthonormal DCT-II: the pieces of MFCC and
//! of the onset envelope, built as librosa's `filters.mel(htk=False, norm="slaney")`,
//! `power_to_db` and `scipy.fftpack.dct(type=2, norm="ortho")`.

use crate::params::{bin_hz, AMIN, N_BINS, N_MELS, N_MFCC, SAMPLE_RATE};

/// Hz → mel on the Slaney scale: linear below 1 kHz (200/3 Hz per mel), logarithmic above.
pub fn hz_to_mel(hz: f64) -> f64 {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    let min_log_mel = MIN_LOG_HZ / F_SP;
    let logstep = 6.4f64.ln() / 27.0;
    if hz >= MIN_LOG_HZ {
        min_log_mel + (hz / MIN_LOG_HZ).ln() / logstep
    } else {
        hz / F_SP
    }
}

/// Mel → Hz on the Slaney scale.
pub fn mel_to_hz(mel: f64) -> f64 {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    let min_log_mel = MIN_LOG_HZ / F_SP;
    let logstep = 6.4f64.ln() / 27.0;
    if mel >= min_log_mel {
        MIN_LOG_HZ * (logstep * (mel - min_log_mel)).exp()
    } else {
        F_SP * mel
    }
}

/// One triangular filter: its first bin and weights.
struct Filter {
    start: usize,
    weights: Vec<f32>,
}

/// `N_MELS` Slaney-normalized triangular filters over 0 … Nyquist, stored sparsely.
pub struct MelBank {
    filters: Vec<Filter>,
}

impl Default for MelBank {
    fn default() -> Self {
        MelBank::new()
    }
}

impl MelBank {
    pub fn new() -> MelBank {
        let top = hz_to_mel(SAMPLE_RATE as f64 / 2.0);
        let edges: Vec<f64> = (0..N_MELS + 2)
            .map(|i| mel_to_hz(top * i as f64 / (N_MELS + 1) as f64))
            .collect();
        let filters = (0..N_MELS)
            .map(|m| {
                let (lo, mid, hi) = (edges[m], edges[m + 1], edges[m + 2]);
                let enorm = 2.0 / (hi - lo);
                let w: Vec<f32> = (0..N_BINS)
                    .map(|k| {
                        let f = bin_hz(k);
                        let lower = (f - lo) / (mid - lo);
                        let upper = (hi - f) / (hi - mid);
                        // librosa stores the filter as float32 before normalizing it.
                        let tri = lower.min(upper).max(0.0) as f32;
                        (tri as f64 * enorm) as f32
                    })
                    .collect();
                let first = w.iter().position(|&x| x > 0.0).unwrap_or(0);
                let last = w.iter().rposition(|&x| x > 0.0).map_or(first, |l| l + 1);
                Filter {
                    start: first,
                    weights: w[first..last].to_vec(),
                }
            })
            .collect();
        MelBank { filters }
    }

    /// Mel band powers of one power spectrum.
    pub fn apply(&self, power: &[f32], out: &mut [f32; N_MELS]) {
        for (o, f) in out.iter_mut().zip(&self.filters) {
            *o = dot(&power[f.start..f.start + f.weights.len()], &f.weights);
        }
    }
}

/// A dot product in eight lanes, so it vectorizes (float sums do not reorder on their own).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// `10·log10(max(amin, x))` with librosa's `ref=1`: the decibels before the `top_db` clamp.
#[inline]
pub fn power_db(x: f32) -> f32 {
    10.0 * x.max(AMIN).log10()
}

/// The orthonormal DCT-II rows 0 … `N_MFCC` over `N_MELS` inputs.
pub struct Dct {
    rows: Vec<[f32; N_MELS]>,
}

impl Default for Dct {
    fn default() -> Self {
        Dct::new()
    }
}

impl Dct {
    pub fn new() -> Dct {
        let n = N_MELS as f64;
        let rows = (0..N_MFCC)
            .map(|k| {
                let scale = if k == 0 {
                    (1.0 / n).sqrt()
                } else {
                    (2.0 / n).sqrt()
                };
                let mut row = [0f32; N_MELS];
                for (i, r) in row.iter_mut().enumerate() {
                    let angle = std::f64::consts::PI * k as f64 * (2 * i + 1) as f64 / (2.0 * n);
                    *r = (scale * angle.cos()) as f32;
                }
                row
            })
            .collect();
        Dct { rows }
    }

    pub fn apply(&self, input: &[f32; N_MELS], out: &mut [f32; N_MFCC]) {
        for (o, row) in out.iter_mut().zip(&self.rows) {
            *o = dot(input, row);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slaney_scale_round_trips_and_breaks_at_1khz() {
        for hz in [0.0, 100.0, 999.0, 1000.0, 4000.0, 11_025.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-6);
        }
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
    }

    #[test]
    fn filters_are_area_normalized_triangles() {
        let bank = MelBank::new();
        assert_eq!(bank.filters.len(), N_MELS);
        // Slaney normalization: each filter's area in Hz is about 1 (exactly 1 for a
        // continuous triangle; sampled at bin spacing it is close for wide filters).
        let df = bin_hz(1);
        for f in &bank.filters[60..] {
            let area: f64 = f.weights.iter().map(|&w| w as f64 * df).sum();
            assert!((area - 1.0).abs() < 0.05, "{area}");
        }
    }

    #[test]
    fn dct_is_orthonormal() {
        let d = Dct::new();
        for a in 0..N_MFCC {
            for b in 0..N_MFCC {
                let s: f64 = (0..N_MELS)
                    .map(|i| d.rows[a][i] as f64 * d.rows[b][i] as f64)
                    .sum();
                assert!((s - if a == b { 1.0 } else { 0.0 }).abs() < 1e-5);
            }
        }
    }
}
