//! Plain test signals: noise (no tempo, no key), a sweep (every pitch once) and a metronome
//! (a tempo and nothing else).

use std::f64::consts::TAU;

use super::rng::Rng;
use super::{frames_for, mix_into, Pcm, PEAK};

/// Mono white noise, uniform in [-amplitude, amplitude].
pub fn white_noise(seconds: f64, sample_rate: u32, amplitude: f32, seed: u64) -> Pcm {
    let mut rng = Rng::new(seed);
    Pcm {
        sample_rate,
        channels: 1,
        samples: (0..frames_for(seconds, sample_rate))
            .map(|_| amplitude * rng.bipolar() as f32)
            .collect(),
    }
}

/// A mono exponential sine sweep from `f0` to `f1` Hz (both > 0): equal time per octave, like a
/// measurement sweep. The phase is the exact integral of the frequency, so it has no seams.
pub fn chirp(f0: f64, f1: f64, seconds: f64, sample_rate: u32, amplitude: f32) -> Pcm {
    assert!(f0 > 0.0 && f1 > 0.0, "chirp frequencies must be positive");
    let sr = sample_rate as f64;
    // f(t) = f0 * e^(k t), so the phase is 2π f0 (e^(k t) - 1) / k.
    let k = (f1 / f0).ln() / seconds;
    let phase = |t: f64| {
        if k.abs() < 1e-12 {
            TAU * f0 * t
        } else {
            TAU * f0 * (k * t).exp_m1() / k
        }
    };
    Pcm {
        sample_rate,
        channels: 1,
        samples: (0..frames_for(seconds, sample_rate))
            .map(|i| amplitude * phase(i as f64 / sr).sin() as f32)
            .collect(),
    }
}

/// The length of one metronome click.
const CLICK_SECONDS: f64 = 0.010;

/// A mono metronome at `bpm`: click `k` starts exactly at frame `round(k * 60 / bpm * sr)`, and
/// nothing sounds between clicks. A click is 10 ms of a decaying 1 kHz cosine, so its first
/// sample is its loudest (peak 0.8) and the onset is unambiguous to the sample.
pub fn click_track(bpm: f64, seconds: f64, sample_rate: u32) -> Pcm {
    assert!(bpm > 0.0, "bpm must be positive");
    let sr = sample_rate as f64;
    let len = (CLICK_SECONDS * sr).round() as usize;
    let click: Vec<f64> = (0..len)
        .map(|i| {
            let t = i as f64 / sr;
            // The taper takes the last of the decay to zero instead of cutting it.
            (TAU * 1000.0 * t).cos() * (-t / 0.0025).exp() * (1.0 - i as f64 / len as f64)
        })
        .collect();
    let n = frames_for(seconds, sample_rate);
    let mut mix = vec![0.0; n];
    for at in click_starts(bpm, n, sample_rate) {
        mix_into(&mut mix, at, &click, PEAK);
    }
    Pcm {
        sample_rate,
        channels: 1,
        samples: mix.iter().map(|&s| s as f32).collect(),
    }
}

/// The frames where `click_track`'s clicks start, within `frames`.
fn click_starts(bpm: f64, frames: usize, sample_rate: u32) -> impl Iterator<Item = usize> {
    (0..)
        .map(move |k: usize| (k as f64 * 60.0 / bpm * sample_rate as f64).round() as usize)
        .take_while(move |&at| at < frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_seeded_bounded_and_centred() {
        let a = white_noise(1.0, 8000, 0.5, 3);
        assert_eq!((a.frames(), a.channels), (8000, 1));
        assert_eq!(a, white_noise(1.0, 8000, 0.5, 3));
        assert_ne!(a, white_noise(1.0, 8000, 0.5, 4));
        assert!(a.samples.iter().all(|s| s.abs() <= 0.5));
        let mean = a.samples.iter().map(|&s| s as f64).sum::<f64>() / 8000.0;
        assert!(mean.abs() < 0.02, "mean {mean}");
    }

    /// The frequency around `at` seconds, from the zero crossings in a 50 ms window.
    fn frequency_near(pcm: &Pcm, at: f64) -> f64 {
        let sr = pcm.sample_rate as f64;
        let from = (at * sr) as usize;
        let w = &pcm.samples[from..from + (0.05 * sr) as usize];
        let crossings = w
            .windows(2)
            .filter(|p| (p[0] < 0.0) != (p[1] < 0.0))
            .count();
        crossings as f64 / 2.0 / 0.05
    }

    #[test]
    fn chirp_sweeps_exponentially() {
        let c = chirp(100.0, 1600.0, 4.0, 16_000, 0.7);
        assert_eq!(c.frames(), 64_000);
        assert!(c.samples.iter().all(|s| s.is_finite() && s.abs() <= 0.7));
        // Four octaves in four seconds: 100, 200, 400, 800 Hz at t = 0, 1, 2, 3 s.
        for (t, hz) in [(0.0, 100.0), (1.0, 200.0), (2.0, 400.0), (3.0, 800.0)] {
            let got = frequency_near(&c, t);
            assert!(
                (got / hz - 1.0).abs() < 0.1,
                "at {t} s: {got} Hz, want about {hz}"
            );
        }
        let flat = chirp(440.0, 440.0, 0.5, 8000, 0.5);
        let tone = super::super::sine(440.0, 0.5, 8000, 1, 0.5);
        assert!(flat
            .samples
            .iter()
            .zip(&tone.samples)
            .all(|(a, b)| (a - b).abs() < 1e-5));
    }

    #[test]
    fn clicks_start_exactly_on_the_grid() {
        for (bpm, sr) in [
            (120.0, 44_100),
            (97.3, 44_100),
            (173.0, 48_000),
            (61.7, 22_050),
        ] {
            let pcm = click_track(bpm, 10.0, sr);
            assert_eq!(pcm.frames(), 10 * sr as usize);
            let starts: Vec<usize> = click_starts(bpm, pcm.frames(), sr).collect();
            assert_eq!(starts.len(), (10.0 * bpm / 60.0f64).ceil() as usize);
            let len = (CLICK_SECONDS * sr as f64).round() as usize;
            let mut inside = vec![false; pcm.frames()];
            for &at in &starts {
                assert!(
                    (pcm.samples[at] - 0.8).abs() < 1e-6,
                    "{bpm} bpm: click at {at}"
                );
                inside[at..(at + len).min(pcm.frames())].fill(true);
            }
            for (k, &at) in starts.iter().enumerate() {
                assert_eq!(at, (k as f64 * 60.0 / bpm * sr as f64).round() as usize);
            }
            // Silence everywhere else: the onsets are exactly these.
            assert!(pcm
                .samples
                .iter()
                .zip(&inside)
                .all(|(&s, &clk)| clk || s == 0.0));
            assert!(pcm.samples.iter().all(|s| s.abs() <= 0.8 + 1e-6));
        }
    }
}
