//! Per-track summaries of frame features (mean and standard deviation, streamed) and the
//! coarse timeline the web app draws.

use crate::extract::FrameFeatures;
use crate::params::{FRAME_RATE, N_CHROMA, N_MFCC};
use crate::spectral::N_BANDS;
use serde::{Deserialize, Serialize};

/// Running mean and variance (Welford), in f64 so long tracks do not lose precision.
#[derive(Debug, Clone, Copy, Default)]
struct Moments {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Moments {
    fn add(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }
    fn std(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            (self.m2 / self.n as f64).sqrt()
        }
    }
}

/// Mean and (population) standard deviation of one feature's components over a track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

/// The summaries of every frame feature, named as librosa names them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summaries {
    pub mfcc: Stat,
    pub spectral_centroid: Stat,
    pub spectral_bandwidth: Stat,
    pub spectral_rolloff: Stat,
    pub spectral_flatness: Stat,
    pub spectral_contrast: Stat,
    pub zero_crossing_rate: Stat,
    pub rms: Stat,
    pub chroma: Stat,
    pub onset_strength: Stat,
}

/// Accumulates [`Summaries`] frame by frame.
#[derive(Default)]
pub struct SummaryBuilder {
    mfcc: [Moments; N_MFCC],
    centroid: Moments,
    bandwidth: Moments,
    rolloff: Moments,
    flatness: Moments,
    contrast: [Moments; N_BANDS],
    zcr: Moments,
    rms: Moments,
    chroma: [Moments; N_CHROMA],
    onset: Moments,
}

fn stat(m: &[Moments]) -> Stat {
    Stat {
        mean: m.iter().map(|m| m.mean as f32).collect(),
        std: m.iter().map(|m| m.std() as f32).collect(),
    }
}

impl SummaryBuilder {
    pub fn add(&mut self, f: &FrameFeatures) {
        for (m, &x) in self.mfcc.iter_mut().zip(&f.mfcc) {
            m.add(x as f64);
        }
        self.centroid.add(f.centroid as f64);
        self.bandwidth.add(f.bandwidth as f64);
        self.rolloff.add(f.rolloff as f64);
        self.flatness.add(f.flatness as f64);
        for (m, &x) in self.contrast.iter_mut().zip(&f.contrast) {
            m.add(x as f64);
        }
        self.zcr.add(f.zcr as f64);
        self.rms.add(f.rms as f64);
        for (m, &x) in self.chroma.iter_mut().zip(&f.chroma) {
            m.add(x as f64);
        }
        self.onset.add(f.onset as f64);
    }

    pub fn finish(&self) -> Summaries {
        Summaries {
            mfcc: stat(&self.mfcc),
            spectral_centroid: stat(&[self.centroid]),
            spectral_bandwidth: stat(&[self.bandwidth]),
            spectral_rolloff: stat(&[self.rolloff]),
            spectral_flatness: stat(&[self.flatness]),
            spectral_contrast: stat(&self.contrast),
            zero_crossing_rate: stat(&[self.zcr]),
            rms: stat(&[self.rms]),
            chroma: stat(&self.chroma),
            onset_strength: stat(&[self.onset]),
        }
    }
}

/// At most this many timeline steps, whatever the track's length.
pub const TIMELINE_STEPS: usize = 240;

/// Chroma and energy over time at a coarse step, for a chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// Seconds per step.
    pub step_s: f64,
    /// Loudness per step, 0 (−60 dBFS RMS or quieter) … 1 (0 dBFS).
    pub energy: Vec<f32>,
    /// Mean chroma per step (C … B, each 0 … 1).
    pub chroma: Vec<[f32; N_CHROMA]>,
}

/// Accumulates a [`Timeline`] of a track whose frame count is known (from the first pass).
pub struct TimelineBuilder {
    per_step: usize,
    acc: (usize, f64, [f64; N_CHROMA]),
    out: Timeline,
}

impl TimelineBuilder {
    pub fn new(frames: usize) -> TimelineBuilder {
        let per_step = frames.div_ceil(TIMELINE_STEPS).max(1);
        TimelineBuilder {
            per_step,
            acc: (0, 0.0, [0.0; N_CHROMA]),
            out: Timeline {
                step_s: per_step as f64 / FRAME_RATE,
                energy: Vec::new(),
                chroma: Vec::new(),
            },
        }
    }

    pub fn add(&mut self, f: &FrameFeatures) {
        let (n, power, chroma) = &mut self.acc;
        *n += 1;
        *power += (f.rms as f64).powi(2);
        for (c, &x) in chroma.iter_mut().zip(&f.chroma) {
            *c += x as f64;
        }
        if *n == self.per_step {
            self.flush();
        }
    }

    fn flush(&mut self) {
        let (n, power, chroma) = std::mem::replace(&mut self.acc, (0, 0.0, [0.0; N_CHROMA]));
        if n == 0 {
            return;
        }
        let db = 10.0 * (power / n as f64).max(1e-12).log10();
        self.out
            .energy
            .push(((db + 60.0) / 60.0).clamp(0.0, 1.0) as f32);
        self.out.chroma.push(chroma.map(|c| (c / n as f64) as f32));
    }

    pub fn finish(mut self) -> Timeline {
        self.flush();
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_match_the_two_pass_formula() {
        let xs = [1.0, 2.0, 4.0, 8.0, -3.0];
        let mut m = Moments::default();
        xs.iter().for_each(|&x| m.add(x));
        let mean = xs.iter().sum::<f64>() / 5.0;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 5.0;
        assert!((m.mean - mean).abs() < 1e-12 && (m.std() - var.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn a_timeline_never_exceeds_its_steps() {
        for frames in [1, 239, 240, 241, 10_000, 310_000] {
            let mut t = TimelineBuilder::new(frames);
            for i in 0..frames {
                t.add(&FrameFeatures {
                    index: i,
                    rms: 0.1,
                    ..Default::default()
                });
            }
            let t = t.finish();
            assert!(
                t.energy.len() <= TIMELINE_STEPS && !t.energy.is_empty(),
                "{frames}"
            );
            assert_eq!(t.energy.len(), t.chroma.len());
            assert!((t.energy[0] - 40.0 / 60.0).abs() < 1e-4);
        }
    }
}
