//! Tempo and beats from onset envelopes.
//!
//! librosa's `beat_track` picks the strongest autocorrelation peak under a log-normal prior
//! centred on 120 BPM, which halves or doubles the tempo of slow (62–88 BPM) and fast (> 155)
//! material. Here the prior plays no part; the metrical level comes from the onsets:
//!
//! 1. **Periodicity.** The autocorrelation of an onset layer (mean removed), read at a period
//!    and its multiples (a comb): how regularly onsets recur every `p` frames. A first period
//!    is the comb's best on the *beat layer* — the low bands (kick, bass) and middle bands
//!    (snare, chords), each scaled to its own strong onsets, without the hi-hats — less what
//!    the layer shows at the period's halves and thirds (evidence of a faster pulse).
//! 2. **Precision.** That period is refined on a fine grid on the full envelope.
//! 3. **Metrical level.** Each level of its metre (¼ … 4×) is re-fitted and scored by its
//!    *grid strength*: the mean beat-layer onset at the grid's points, at its best phase. The
//!    beat is the fastest level in 40–240 BPM scoring at least 58 % of the strongest level (of
//!    any speed). Kick on 1 and snare on 2 and 4 fill every point of the quarter grid but half
//!    the eighth grid, and the half-bar grid is little stronger per point: quarters win.
//! 4. **Beats.** Dynamic programming (Ellis 2007) places beats on the full envelope, each
//!    rewarded by its onset strength and penalized by its deviation from the period.
//!
//! Known weakness (measured by `make bench`): a bass line in eighths makes the eighths the
//! strongest regular pulse of the beat layer, and such songs below ~115 BPM can read double.

use crate::params::FRAME_RATE;
use serde::{Deserialize, Serialize};

/// Slowest and fastest tempo reported.
pub const MIN_BPM: f64 = 40.0;
pub const MAX_BPM: f64 = 240.0;
/// Below this much signal there is no tempo to speak of.
const MIN_SECONDS: f64 = 3.0;
/// How strongly evidence of a faster pulse counts against a period.
const FASTER_PULSE_WEIGHT: f64 = 0.75;
/// Candidate tempi are this far apart (relative).
const GRID_STEP: f64 = 0.005;
/// Beat placement: how strongly a beat's deviation from the period is penalized.
const TIGHTNESS: f64 = 100.0;

/// The tempo of a track and how sure the estimate is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tempo {
    pub bpm: f64,
    /// The full onset envelope's autocorrelation at the beat period and its multiples
    /// (1 = onsets recur exactly every beat; 0 = no regularity).
    pub confidence: f64,
}

/// Tempo and beat times (seconds).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rhythm {
    pub tempo: Option<Tempo>,
    pub beats: Vec<f64>,
}

/// Onset envelopes at the frame rate, aligned so frame `t` is time `t / FRAME_RATE`.
pub struct Envelopes<'a> {
    /// librosa's onset strength.
    pub all: &'a [f32],
    /// Flux of the low and middle bands.
    pub low_mid: &'a [f32],
}

/// A normalized autocorrelation with fractional, slightly tolerant lookup.
struct Acf(Vec<f64>);

impl Acf {
    fn new(x: &[f32], max_lag: usize) -> Option<Acf> {
        let n = x.len();
        let mean = x.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        let c: Vec<f64> = x.iter().map(|&v| v as f64 - mean).collect();
        let max_lag = max_lag.min(n.saturating_sub(1));
        let mut r = vec![0.0; max_lag + 1];
        for (lag, out) in r.iter_mut().enumerate() {
            let s: f64 = c[..n - lag].iter().zip(&c[lag..]).map(|(a, b)| a * b).sum();
            *out = s / (n - lag) as f64;
        }
        if r[0] <= 1e-12 {
            return None;
        }
        let r0 = r[0];
        Some(Acf(r.into_iter().map(|v| v / r0).collect()))
    }

    fn len(&self) -> f64 {
        (self.0.len() - 1) as f64
    }

    /// The largest value within one frame of `lag` (onsets are quantized to frames and
    /// played with human timing); `None` past the end.
    fn at(&self, lag: f64) -> Option<f64> {
        if lag + 1.0 > self.len() || lag < 1.0 {
            return None;
        }
        let interp = |t: f64| {
            let i = t.floor() as usize;
            let f = t - i as f64;
            self.0[i] * (1.0 - f) + self.0[(i + 1).min(self.0.len() - 1)] * f
        };
        Some(
            [lag - 1.0, lag - 0.5, lag, lag + 0.5, lag + 1.0]
                .iter()
                .map(|&t| interp(t))
                .fold(f64::MIN, f64::max),
        )
    }

    /// Mean over the multiples `k·p` for the given `k` that fit.
    fn mean_at(&self, p: f64, ks: impl Iterator<Item = u32>) -> Option<f64> {
        let (mut s, mut n) = (0.0, 0);
        for k in ks {
            if let Some(v) = self.at(k as f64 * p) {
                s += v;
                n += 1;
            }
        }
        (n > 0).then(|| s / n as f64)
    }

    /// Periodicity at `p`: the comb over its first four multiples.
    fn comb(&self, p: f64) -> Option<f64> {
        self.mean_at(p, 1..=4)
    }

    /// Evidence of a pulse faster than `p`: the autocorrelation at the multiples of `p/m`
    /// (m = 2 … 6) that are not multiples of `p`, for the strongest such `m`. A period that
    /// spans several beats (a bar, or five beats) shows the beats in between here.
    fn faster(&self, p: f64) -> f64 {
        (2..=6u32)
            .filter_map(|m| {
                let ks = (1..4 * m).filter(move |k| k % m != 0).take(8);
                self.mean_at(p / m as f64, ks)
            })
            .fold(0.0, f64::max)
    }
}

fn period(bpm: f64) -> f64 {
    60.0 * FRAME_RATE / bpm
}

/// Estimates tempo and beats. Envelopes shorter than a few seconds or without onsets give none.
pub fn estimate(env: &Envelopes<'_>) -> Rhythm {
    let n = env.all.len();
    if (n as f64) < MIN_SECONDS * FRAME_RATE {
        return Rhythm::default();
    }
    let max_lag = (4.0 * period(MIN_BPM)).ceil() as usize + 2;
    let Some(all) = Acf::new(env.all, max_lag) else {
        return Rhythm::default();
    };
    let layer = Acf::new(env.low_mid, max_lag).unwrap_or(Acf(all.0.clone()));

    // 1–2: the best metrical level on a coarse grid.
    let mut best: Option<(f64, f64)> = None;
    let mut bpm = MIN_BPM;
    while bpm <= MAX_BPM {
        let p = period(bpm);
        if let Some(on) = layer.comb(p) {
            let score = on - FASTER_PULSE_WEIGHT * layer.faster(p);
            if best.is_none_or(|(_, s)| score > s) {
                best = Some((p, score));
            }
        }
        bpm *= 1.0 + GRID_STEP;
    }
    let Some((coarse, _)) = best else {
        return Rhythm::default();
    };
    // 3: refine on the full envelope within half a grid step either side.
    let mut fine = (coarse, all.comb(coarse).unwrap_or(0.0));
    let steps = 40;
    for i in 0..=steps {
        let p = coarse * (1.0 - GRID_STEP + 2.0 * GRID_STEP * i as f64 / steps as f64);
        if let Some(c) = all.comb(p) {
            if c > fine.1 {
                fine = (p, c);
            }
        }
    }
    // 4: the metrical level by how strongly the beat layer lands on each level's grid.
    let p = metrical_level(env.low_mid, fine.0);
    let confidence = all.comb(p).unwrap_or(fine.1);
    let bpm = 60.0 * FRAME_RATE / p;
    Rhythm {
        tempo: Some(Tempo {
            bpm,
            confidence: confidence.clamp(0.0, 1.0),
        }),
        beats: track_beats(env.all, p)
            .into_iter()
            .map(|f| f as f64 / FRAME_RATE)
            .collect(),
    }
}

/// Relations of a period to the other levels of its metre that are tried.
const LEVELS: [f64; 7] = [0.25, 1.0 / 3.0, 0.5, 1.0, 2.0, 3.0, 4.0];
/// A faster level is the beat when its grid points carry at least this share of the
/// strongest level's per-point onset strength.
const LEVEL_SHARE: f64 = 0.58;

/// Grid strength is measured in windows this long, each at its own best phase: a track's
/// tempo drifts, and over hours even a period right to 0.1 % slides off its onsets.
const GRID_WINDOW_SECONDS: f64 = 30.0;

/// The mean onset strength at the points of a grid of period `p` frames, at the grid's best
/// phase (per window, averaged): a level whose every point holds an onset scores as high as
/// its onsets are strong; a level too fast for the music scores lower, for its empty points.
fn grid_strength(env: &[f32], p: f64) -> f64 {
    let window = ((GRID_WINDOW_SECONDS * FRAME_RATE) as usize).max((4.0 * p) as usize);
    let (mut total, mut windows) = (0.0, 0);
    for part in env.chunks(window) {
        if part.len() as f64 >= 2.0 * p || windows == 0 {
            total += window_grid_strength(part, p);
            windows += 1;
        }
    }
    total / windows.max(1) as f64
}

fn window_grid_strength(env: &[f32], p: f64) -> f64 {
    let n = env.len();
    let near = |t: f64| -> f64 {
        let c = t.round() as isize;
        (c - 1..=c + 1)
            .filter(|&i| i >= 0 && (i as usize) < n)
            .map(|i| env[i as usize] as f64)
            .fold(0.0, f64::max)
    };
    let mut best = 0.0;
    let mut phase = 0.0;
    while phase < p {
        let (mut sum, mut count) = (0.0, 0);
        let mut t = phase;
        while t < n as f64 {
            sum += near(t);
            count += 1;
            t += p;
        }
        if count > 0 {
            best = f64::max(best, sum / count as f64);
        }
        phase += 1.0;
    }
    best
}

/// A level's period is re-fitted within this share either side before it is scored: the
/// starting period came from another level, and a grid a percent off drifts off its onsets
/// within a few bars.
const LEVEL_FIT: f64 = 0.03;
const LEVEL_FIT_STEPS: usize = 60;

/// The period within `LEVEL_FIT` of `q` whose grid is strongest, and that strength.
fn fit_level(env: &[f32], q: f64) -> (f64, f64) {
    (0..=LEVEL_FIT_STEPS)
        .map(|i| q * (1.0 - LEVEL_FIT + 2.0 * LEVEL_FIT * i as f64 / LEVEL_FIT_STEPS as f64))
        .map(|x| (x, grid_strength(env, x)))
        .fold((q, f64::MIN), |a, b| if b.1 > a.1 { b } else { a })
}

/// Chooses the beat among the levels of the metre of period `p`: the fastest level within the
/// tempo range whose grid strength is close to that of the strongest level (of any speed).
/// Kick on 1, snare on 2 and 4 fill every point of the quarter grid but only half the eighth
/// grid, and the half-bar grid is little stronger per point than the quarter grid: quarters win.
fn metrical_level(env: &[f32], p: f64) -> f64 {
    let in_range = period(MAX_BPM) * 0.98..=period(MIN_BPM) * 1.02;
    let levels: Vec<(f64, f64)> = LEVELS
        .iter()
        .map(|&r| p * r)
        .filter(|&q| (period(2.0 * MAX_BPM)..=period(MIN_BPM / 2.0)).contains(&q))
        .map(|q| fit_level(env, q))
        .collect();
    let strongest = levels.iter().map(|c| c.1).fold(0.0, f64::max);
    if strongest <= 0.0 {
        return p;
    }
    levels
        .iter()
        .filter(|c| in_range.contains(&c.0) && c.1 >= LEVEL_SHARE * strongest)
        .map(|c| c.0)
        .reduce(f64::min)
        .unwrap_or(p)
}

/// Beat frames by dynamic programming over the onset envelope with period `p` frames.
fn track_beats(env: &[f32], p: f64) -> Vec<usize> {
    let n = env.len();
    // Smooth with a Gaussian a 32nd of the period wide, and scale to unit deviation.
    let sigma = (p / 32.0).max(0.5);
    let half = (3.0 * sigma).ceil() as isize;
    let kernel: Vec<f64> = (-half..=half)
        .map(|i| (-0.5 * (i as f64 / sigma).powi(2)).exp())
        .collect();
    let mut local = vec![0.0f64; n];
    for (t, out) in local.iter_mut().enumerate() {
        let mut s = 0.0;
        for (j, &k) in kernel.iter().enumerate() {
            let i = t as isize + j as isize - half;
            if i >= 0 && (i as usize) < n {
                s += k * env[i as usize] as f64;
            }
        }
        *out = s;
    }
    let mean = local.iter().sum::<f64>() / n as f64;
    let sd = (local.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
    if sd <= 0.0 {
        return Vec::new();
    }
    for v in &mut local {
        *v /= sd;
    }
    let lo = (p / 2.0).round().max(1.0) as usize;
    let hi = (2.0 * p).round() as usize;
    // The penalty of each gap between beats, `TIGHTNESS · ln(gap / p)²`.
    let penalty: Vec<f64> = (0..=hi)
        .map(|gap| TIGHTNESS * (gap.max(1) as f64 / p).ln().powi(2))
        .collect();
    let mut score = vec![0.0f64; n];
    let mut back = vec![usize::MAX; n];
    for t in 0..n {
        let mut best = (0.0, usize::MAX);
        if t >= lo {
            let first = t.saturating_sub(hi);
            for (prev, &sc) in score.iter().enumerate().take(t - lo + 1).skip(first) {
                let s = sc - penalty[t - prev];
                if best.1 == usize::MAX || s > best.0 {
                    best = (s, prev);
                }
            }
        }
        // A beat may also start the chain here.
        if best.1 != usize::MAX && best.0 > 0.0 {
            score[t] = local[t] + best.0;
            back[t] = best.1;
        } else {
            score[t] = local[t];
        }
    }
    // The chain ends at the best-scoring frame of the last period.
    let tail = n.saturating_sub(p.ceil() as usize);
    let Some(mut t) = (tail..n).max_by(|&a, &b| score[a].total_cmp(&score[b])) else {
        return Vec::new();
    };
    let mut beats = vec![t];
    while back[t] != usize::MAX {
        t = back[t];
        beats.push(t);
    }
    beats.reverse();
    // Trim beats in silence at either end (weaker than half the mean onset strength).
    let floor = 0.5 * local.iter().sum::<f64>() / n as f64;
    let keep = |&b: &usize| local[b] >= floor;
    let start = beats.iter().position(keep).unwrap_or(beats.len());
    let end = beats.iter().rposition(keep).map_or(start, |e| e + 1);
    beats[start..end.max(start)].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An envelope with impulses at the given beat fractions of each bar of four beats.
    fn pattern(bpm: f64, seconds: f64, hits: &[(f64, f32)]) -> Vec<f32> {
        let n = (seconds * FRAME_RATE) as usize;
        let mut env = vec![0f32; n];
        let beat = period(bpm);
        let mut bar = 0.0;
        while bar < n as f64 {
            for &(at, v) in hits {
                let t = (bar + at * beat).round() as usize;
                if t < n {
                    env[t] += v;
                }
            }
            bar += 4.0 * beat;
        }
        env
    }

    #[test]
    fn a_backbeat_is_counted_in_quarters_at_any_tempo() {
        // Kick on 1 and 3, snare on 2 and 4.
        let hits = [(0.0, 1.0), (1.0, 0.8), (2.0, 1.0), (3.0, 0.8)];
        for bpm in [52.0, 70.0, 97.0, 128.0, 171.0, 205.0] {
            let env = pattern(bpm, 30.0, &hits);
            let r = estimate(&Envelopes {
                all: &env,
                low_mid: &env,
            });
            let got = r.tempo.unwrap().bpm;
            assert!((got / bpm - 1.0).abs() < 0.02, "{bpm}: {got}");
            let expected = 30.0 * bpm / 60.0;
            assert!(
                (r.beats.len() as f64 - expected).abs() <= 2.0,
                "{bpm}: {} beats",
                r.beats.len()
            );
        }
    }

    #[test]
    fn no_onsets_no_tempo() {
        let env = vec![0f32; 2000];
        assert!(estimate(&Envelopes {
            all: &env,
            low_mid: &env
        })
        .tempo
        .is_none());
        let short = vec![1f32; 20];
        assert!(estimate(&Envelopes {
            all: &short,
            low_mid: &short
        })
        .tempo
        .is_none());
    }
}
