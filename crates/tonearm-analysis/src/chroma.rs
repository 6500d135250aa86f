//! STFT chroma with librosa's tuning estimate (`chroma_stft(tuning=None)`).
//!
//! The tuning is one number for the whole signal: `piptrack` finds spectral peaks between 150 Hz
//! and 4 kHz in every frame, the peaks at least as strong as the median peak vote with their
//! deviation from the equal-tempered grid (in 0.01-semitone bins), and the most common bin wins.
//! [`TuningVotes`] gathers the votes in one pass with memory independent of the signal's length:
//! the median is taken from a fine histogram of peak strengths (0.05 dB wide bins, 2 MB), so
//! the only departure from librosa is whether the peaks within 0.05 dB of the median vote.

use crate::mel::dot;
use crate::params::{bin_hz, N_BINS, N_CHROMA, N_FFT, SAMPLE_RATE};

const PIP_FMIN: f64 = 150.0;
const PIP_FMAX: f64 = 4000.0;
const PIP_THRESHOLD: f32 = 0.1;
/// Tuning histogram: bins of 0.01 semitone over [-0.5, 0.5].
const TUNING_BINS: usize = 100;
/// Strength histogram: 0.05 dB bins from -160 dB to +100 dB (a full-scale sine peaks at
/// +54 dB in a power spectrum of this size; weaker peaks than -160 dB share the first bin).
const DB_STEP: f64 = 0.05;
const DB_LO: f64 = -160.0;
const DB_BINS: usize = 5200;

/// Octaves above C0 … in librosa's convention (`hz_to_octs`: A440 / 16 is octave 0 + 9/12).
fn hz_to_octs(hz: f64, tuning: f64) -> f64 {
    let a440 = 440.0 * 2f64.powf(tuning / N_CHROMA as f64);
    (hz / (a440 / 16.0)).log2()
}

/// Tuning votes of every frame, then the estimate.
pub struct TuningVotes {
    /// Per strength bin, the count of peaks in each tuning bin.
    votes: Vec<[u32; TUNING_BINS]>,
    strength: Vec<u64>,
    peaks: u64,
    band: (usize, usize),
}

impl Default for TuningVotes {
    fn default() -> Self {
        TuningVotes::new()
    }
}

impl TuningVotes {
    pub fn new() -> TuningVotes {
        let lo = (0..N_BINS)
            .find(|&k| bin_hz(k) >= PIP_FMIN)
            .unwrap_or(N_BINS);
        let hi = (0..N_BINS)
            .find(|&k| bin_hz(k) >= PIP_FMAX)
            .unwrap_or(N_BINS);
        TuningVotes {
            votes: Vec::new(),
            strength: vec![0; DB_BINS],
            peaks: 0,
            band: (lo, hi),
        }
    }

    /// Adds the peaks of one power spectrum (`piptrack` on a power `S`, as `estimate_tuning`
    /// calls it).
    pub fn add(&mut self, power: &[f32]) {
        let max = power.iter().copied().fold(0.0f32, f32::max);
        let floor = PIP_THRESHOLD * max;
        let gated = |k: usize| if power[k] > floor { power[k] } else { 0.0 };
        let (lo, hi) = self.band;
        for k in lo.max(1)..hi.min(N_BINS - 1) {
            let x = gated(k);
            // librosa's localmax: strictly above the left neighbour, at least the right one.
            if x <= gated(k - 1) || x < gated(k + 1) || x == 0.0 {
                continue;
            }
            let (l, c, r) = (power[k - 1], power[k], power[k + 1]);
            // librosa's parabolic interpolation (no shift when the fit is not a peak) and
            // `np.gradient` for the skew; its pitches are f32, and so is the residual.
            let a = r + l - 2.0 * c;
            let b = 0.5 * (r - l);
            let shift = if b.abs() >= a.abs() { 0.0 } else { -b / a };
            let mag = c + 0.5 * b * shift;
            let pitch = ((k as f32 + shift) as f64 * SAMPLE_RATE as f64 / N_FFT as f64) as f32;
            if pitch <= 0.0 {
                continue;
            }
            let octs = (pitch / 27.5f32).log2();
            let x = N_CHROMA as f32 * octs;
            let mut residual = x - x.floor();
            if residual >= 0.5 {
                residual -= 1.0;
            }
            let tb = tuning_bin(residual as f64);
            let sb = strength_bin(mag);
            if self.votes.is_empty() {
                self.votes = vec![[0; TUNING_BINS]; DB_BINS];
            }
            self.votes[sb][tb] += 1;
            self.strength[sb] += 1;
            self.peaks += 1;
        }
    }

    /// The tuning in fractions of a semitone (librosa returns the left edge of the winning
    /// 0.01-wide bin); 0 when no frame had a peak.
    pub fn estimate(&self) -> f64 {
        if self.peaks == 0 {
            return 0.0;
        }
        // The median peak strength's bin: peaks in it and above vote.
        let half = self.peaks.div_ceil(2);
        let mut seen = 0;
        let mut median_bin = 0;
        for (i, &n) in self.strength.iter().enumerate() {
            seen += n;
            if seen >= half {
                median_bin = i;
                break;
            }
        }
        let mut counts = [0u64; TUNING_BINS];
        for row in &self.votes[median_bin..] {
            for (c, &v) in counts.iter_mut().zip(row) {
                *c += v as u64;
            }
        }
        let best = (0..TUNING_BINS)
            .max_by(|&a, &b| counts[a].cmp(&counts[b]).then(b.cmp(&a)))
            .unwrap_or(0);
        best as f64 * (1.0 / TUNING_BINS as f64) + -0.5
    }
}

/// numpy's histogram bin over the edges `i * 0.01 - 0.5` (exact f64 edges as `linspace`
/// makes them; the last bin includes 0.5).
fn tuning_bin(r: f64) -> usize {
    let edge = |i: usize| i as f64 * (1.0 / TUNING_BINS as f64) + -0.5;
    let mut i = (((r + 0.5) * TUNING_BINS as f64).floor().max(0.0) as usize).min(TUNING_BINS - 1);
    while i > 0 && r < edge(i) {
        i -= 1;
    }
    while i + 1 < TUNING_BINS && r >= edge(i + 1) {
        i += 1;
    }
    i
}

fn strength_bin(mag: f32) -> usize {
    let db = 10.0 * (mag.max(1e-30) as f64).log10();
    (((db - DB_LO) / DB_STEP).floor().max(0.0) as usize).min(DB_BINS - 1)
}

/// librosa's chroma filterbank (`filters.chroma`: Gaussian bumps per pitch class, column
/// L2-normalized, weighted by a Gaussian over octaves centred on octave 5, starting at C).
pub struct ChromaBank {
    rows: Vec<Vec<f32>>,
}

impl ChromaBank {
    pub fn new(tuning: f64) -> ChromaBank {
        let n = N_CHROMA as f64;
        // Bins 1 … N_FFT-1 of the full FFT, and a made-up bin 0 1.5 octaves below bin 1.
        let mut frq: Vec<f64> = (1..N_FFT)
            .map(|k| n * hz_to_octs(k as f64 * SAMPLE_RATE as f64 / N_FFT as f64, tuning))
            .collect();
        frq.insert(0, frq[0] - 1.5 * n);
        let mut width: Vec<f64> = frq.windows(2).map(|w| (w[1] - w[0]).max(1.0)).collect();
        width.push(1.0);
        let half = (n / 2.0).round();
        let mut wts = vec![vec![0f64; N_FFT]; N_CHROMA];
        for j in 0..N_FFT {
            let mut col = [0f64; N_CHROMA];
            for (c, v) in col.iter_mut().enumerate() {
                let d = (frq[j] - c as f64 + half + 10.0 * n).rem_euclid(n) - half;
                *v = (-0.5 * (2.0 * d / width[j]).powi(2)).exp();
            }
            let norm = col.iter().map(|v| v * v).sum::<f64>().sqrt();
            let oct = (-0.5 * ((frq[j] / n - 5.0) / 2.0).powi(2)).exp();
            for c in 0..N_CHROMA {
                let v = if norm > 0.0 { col[c] / norm } else { col[c] };
                // `np.roll(wts, -3)`: row 0 becomes C (the Gaussians were built from A).
                wts[(c + N_CHROMA - 3) % N_CHROMA][j] = v * oct;
            }
        }
        let rows = wts
            .into_iter()
            .map(|r| r[..N_BINS].iter().map(|&v| v as f32).collect())
            .collect();
        ChromaBank { rows }
    }

    /// The chroma of one power spectrum, scaled so its largest pitch class is 1 (all zero for
    /// a silent frame).
    pub fn apply(&self, power: &[f32], out: &mut [f32; N_CHROMA]) {
        for (o, row) in out.iter_mut().zip(&self.rows) {
            *o = dot(power, row);
        }
        let max = out.iter().copied().fold(0.0f32, |a, b| a.max(b.abs()));
        if max >= f32::MIN_POSITIVE {
            for o in out.iter_mut() {
                *o /= max;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peak_a_quarter_semitone_sharp_votes_for_plus_quarter() {
        let mut v = TuningVotes::new();
        let hz = 440.0 * 2f64.powf(0.25 / 12.0);
        // A sampled Hann main lobe around the true frequency.
        let mut p = vec![0f32; N_BINS];
        let centre = hz / bin_hz(1);
        for (k, x) in p.iter_mut().enumerate() {
            let d = k as f64 - centre;
            if d.abs() < 2.0 {
                *x = ((std::f64::consts::PI * d / 4.0).cos().powi(4) * 1e3) as f32;
            }
        }
        v.add(&p);
        let t = v.estimate();
        assert!((t - 0.25).abs() < 0.06, "{t}");
    }

    #[test]
    fn no_peaks_means_no_tuning() {
        let mut v = TuningVotes::new();
        v.add(&vec![0.0; N_BINS]);
        assert_eq!(v.estimate(), 0.0);
    }

    #[test]
    fn the_a_row_peaks_at_440() {
        let bank = ChromaBank::new(0.0);
        let k440 = (440.0 / bin_hz(1)).round() as usize;
        let best = (0..N_CHROMA)
            .max_by(|&a, &b| bank.rows[a][k440].total_cmp(&bank.rows[b][k440]))
            .unwrap();
        assert_eq!(best, 9, "A is pitch class 9 counting from C");
    }
}
