//! Spectral shape features of one magnitude spectrum, as librosa defines them: centroid,
//! bandwidth (p = 2), rolloff (85 %), flatness (of the power, `amin` 1e-10) and the octave-band
//! peaks and valleys spectral contrast is made of.

use crate::params::{
    bin_hz, AMIN, CONTRAST_FMIN, CONTRAST_QUANTILE, N_BINS, N_CONTRAST_BANDS, ROLL_PERCENT,
};

/// Bands of spectral contrast: one below `CONTRAST_FMIN` and `N_CONTRAST_BANDS` octaves.
pub const N_BANDS: usize = N_CONTRAST_BANDS + 1;

/// Centroid, bandwidth, rolloff and flatness of one frame.
#[derive(Debug, Clone, Copy, Default)]
pub struct Shape {
    pub centroid: f32,
    pub bandwidth: f32,
    pub rolloff: f32,
    pub flatness: f32,
}

/// Precomputed bin frequencies and contrast bands.
pub struct Spectral {
    freqs: Vec<f64>,
    bands: Vec<Band>,
    sort: Vec<f32>,
}

/// One contrast band: bins `[start, end)` (the last bin of all but the top band is excluded
/// from the sort, as librosa does) and how many bins its peak and valley average.
struct Band {
    start: usize,
    end: usize,
    alpha: usize,
}

impl Default for Spectral {
    fn default() -> Self {
        Spectral::new()
    }
}

impl Spectral {
    pub fn new() -> Spectral {
        let freqs: Vec<f64> = (0..N_BINS).map(bin_hz).collect();
        let mut edges = vec![0.0];
        edges.extend((0..=N_CONTRAST_BANDS).map(|i| CONTRAST_FMIN * 2f64.powi(i as i32)));
        let bands = (0..N_BANDS)
            .map(|k| {
                let (lo, hi) = (edges[k], edges[k + 1]);
                let member: Vec<usize> = (0..N_BINS)
                    .filter(|&i| freqs[i] >= lo && freqs[i] <= hi)
                    .collect();
                let mut start = member[0];
                let mut end = member[member.len() - 1] + 1;
                if k > 0 {
                    start -= 1;
                }
                if k == N_BANDS - 1 {
                    end = N_BINS;
                }
                let alpha =
                    ((CONTRAST_QUANTILE * (end - start) as f64).round_ties_even() as usize).max(1);
                if k < N_BANDS - 1 {
                    end -= 1;
                }
                Band { start, end, alpha }
            })
            .collect();
        Spectral {
            freqs,
            bands,
            sort: Vec::with_capacity(N_BINS),
        }
    }

    /// Centroid, bandwidth, rolloff (from the magnitude) and flatness (from the power).
    pub fn shape(&self, magnitude: &[f32], power: &[f32]) -> Shape {
        let total: f64 = magnitude.iter().map(|&m| m as f64).sum();
        // librosa normalizes each frame to sum 1; an all-zero frame is left as is (all zero).
        let norm = if total < f32::MIN_POSITIVE as f64 {
            1.0
        } else {
            total
        };
        let mut centroid = 0.0;
        for (&m, &f) in magnitude.iter().zip(&self.freqs) {
            centroid += f * m as f64;
        }
        centroid /= norm;
        let mut spread = 0.0;
        for (&m, &f) in magnitude.iter().zip(&self.freqs) {
            let d = f - centroid;
            spread += m as f64 * d * d;
        }
        let bandwidth = (spread / norm).sqrt();
        let threshold = ROLL_PERCENT * total;
        let mut acc = 0.0;
        let mut rolloff = 0.0;
        for (&m, &f) in magnitude.iter().zip(&self.freqs) {
            acc += m as f64;
            if acc >= threshold {
                rolloff = f;
                break;
            }
        }
        // The geometric mean from products of 16 values (each in [1e-10, 1e8], so a product
        // stays well inside f64) and one logarithm per 16: a logarithm per bin was the costliest
        // step of the whole analysis.
        let (mut log_sum, mut sum) = (0.0f64, 0.0f64);
        for chunk in power.chunks(16) {
            let mut prod = 1.0f64;
            for &p in chunk {
                let x = p.max(AMIN) as f64;
                prod *= x;
                sum += x;
            }
            log_sum += prod.ln();
        }
        let n = power.len() as f64;
        let flatness = (log_sum / n).exp() / (sum / n);
        Shape {
            centroid: centroid as f32,
            bandwidth: bandwidth as f32,
            rolloff: rolloff as f32,
            flatness: flatness as f32,
        }
    }

    /// Each contrast band's peak and valley magnitudes (before decibels), from the power
    /// spectrum: the square root keeps the order, so the selection runs on the powers and only
    /// the selected few are rooted.
    pub fn contrast_bands(
        &mut self,
        power: &[f32],
        peak: &mut [f32; N_BANDS],
        valley: &mut [f32; N_BANDS],
    ) {
        for (k, b) in self.bands.iter().enumerate() {
            let band = &power[b.start..b.end];
            let a = b.alpha.min(band.len());
            let (lo, hi) = extremes(band, a, &mut self.sort);
            valley[k] = mean_sqrt(lo);
            peak[k] = mean_sqrt(hi);
        }
    }
}

/// The `a` smallest and `a` largest values of `x` (1 ≤ a ≤ x.len()), in no particular order.
/// One value each is a minimum and a maximum; more are two selections on a copy (spectra are
/// sorted-ish by frequency, the worst case for keeping small sorted lists).
fn extremes<'a>(x: &[f32], a: usize, spill: &'a mut Vec<f32>) -> (&'a [f32], &'a [f32]) {
    spill.clear();
    if a == 1 {
        let (lo, hi) = x
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        spill.extend_from_slice(&[lo, hi]);
        return spill.split_at(1);
    }
    spill.extend_from_slice(x);
    let n = spill.len();
    spill.select_nth_unstable_by(a - 1, f32::total_cmp);
    if n - a >= a {
        let rest = &mut spill[a..];
        let at = rest.len() - a;
        rest.select_nth_unstable_by(at, f32::total_cmp);
        let (lo, rest) = spill.split_at(a);
        (lo, &rest[rest.len() - a..])
    } else {
        // Fewer than 2a values: the largest overlap the smallest.
        spill.sort_unstable_by(f32::total_cmp);
        let (lo, _) = spill.split_at(a);
        (lo, &spill[n - a..])
    }
}

fn mean_sqrt(x: &[f32]) -> f32 {
    (x.iter().map(|&v| (v as f64).sqrt()).sum::<f64>() / x.len().max(1) as f64) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_bands_cover_the_spectrum_like_librosa() {
        let s = Spectral::new();
        // Band 0: 0–200 Hz (bins 0..=18, last excluded); band k > 0 starts one bin below its
        // lower edge; the top band runs to Nyquist.
        assert_eq!((s.bands[0].start, s.bands[0].end), (0, 18));
        assert_eq!(s.bands[1].start, 18);
        assert_eq!(s.bands[N_BANDS - 1].end, N_BINS);
        for b in &s.bands {
            assert!(b.alpha >= 1 && b.alpha <= b.end - b.start);
        }
    }

    #[test]
    fn a_flat_spectrum_is_flat_and_centred() {
        let s = Spectral::new();
        let mag = vec![1.0f32; N_BINS];
        let shape = s.shape(&mag, &mag);
        assert!((shape.flatness - 1.0).abs() < 1e-6);
        assert!((shape.centroid as f64 - 11_025.0 / 2.0).abs() < 1e-3);
        let mut m = Spectral::new();
        let (mut p, mut v) = ([0.0; N_BANDS], [0.0; N_BANDS]);
        m.contrast_bands(&mag, &mut p, &mut v);
        assert!(p.iter().chain(&v).all(|&x| x == 1.0));
    }

    #[test]
    fn extremes_match_a_sort() {
        let mut spill = Vec::new();
        let mut x: Vec<f32> = (0..431).map(|i| ((i * 7919) % 431) as f32 * 0.5).collect();
        x[17] = 1e-9;
        for a in [1, 2, 3, 6, 9, 16, 17, 40] {
            let (lo, hi) = extremes(&x, a, &mut spill);
            let (mut lo, mut hi) = (lo.to_vec(), hi.to_vec());
            lo.sort_by(f32::total_cmp);
            hi.sort_by(f32::total_cmp);
            let mut s = x.clone();
            s.sort_by(f32::total_cmp);
            assert_eq!(lo, s[..a].to_vec(), "{a}");
            assert_eq!(hi, s[s.len() - a..].to_vec(), "{a}");
        }
    }
}
