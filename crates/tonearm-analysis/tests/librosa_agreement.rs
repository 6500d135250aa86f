//! Every feature that carries a librosa name agrees with librosa 0.11.0, run in this test on
//! the same generated samples (installed into `.cache/librosa-venv` where missing).
//!
//! Bounds (from the issue): MFCC per-coefficient correlation ≥ 0.999 and max abs error ≤ 0.5
//! after the first frame; spectral features within 1 % relative (median over frames); chroma
//! correlation ≥ 0.99. The same bounds hold for RMS, zero-crossing rate and onset strength.

mod support;

use support::*;
use tonearm_analysis::extract::FrameFeatures;
use tonearm_media::synth;

/// The generated signals: a tone, a chord, noise, clicks, a chirp, and a song.
fn signals() -> Vec<(&'static str, Vec<f32>)> {
    let chord: Vec<f32> = {
        let notes = [60u8, 64, 67];
        let n = 6 * SR as usize;
        (0..n)
            .map(|i| {
                let t = i as f64 / SR as f64;
                notes
                    .iter()
                    .map(|&m| {
                        let f = synth::midi_hz(m);
                        (1..=4)
                            .map(|h| {
                                (2.0 * std::f64::consts::PI * f * h as f64 * t).sin() / h as f64
                            })
                            .sum::<f64>()
                    })
                    .sum::<f64>() as f32
                    * 0.15
            })
            .collect()
    };
    vec![
        ("tone", mono(&synth::sine(440.0, 4.0, SR, 1, 0.5))),
        ("chord", chord),
        ("noise", mono(&synth::white_noise(4.0, SR, 0.3, 7))),
        ("clicks", mono(&synth::click_track(120.0, 8.0, SR))),
        ("chirp", mono(&synth::chirp(60.0, 9000.0, 6.0, SR, 0.5))),
        (
            "song",
            mono(&synth::song(
                synth::Groove::Rock,
                9,
                true,
                104.0,
                12.0,
                SR,
                3,
            )),
        ),
    ]
}

/// Reads one scalar feature of a frame.
type Getter = fn(&FrameFeatures) -> f64;

/// One feature of ours, frame by frame.
fn ours(frames: &[FrameFeatures], get: impl Fn(&FrameFeatures) -> f64) -> Vec<f64> {
    frames.iter().map(get).collect()
}

/// Median over frames of |ours − theirs| / |theirs|, over frames where theirs is not ~0
/// (relative error means nothing there; those frames are checked absolutely).
fn median_relative(ours: &[f64], theirs: &[f64], abs_floor: f64) -> f64 {
    let mut rel = Vec::new();
    for (a, b) in ours.iter().zip(theirs) {
        if b.abs() > abs_floor {
            rel.push((a - b).abs() / b.abs());
        } else {
            assert!((a - b).abs() <= abs_floor * 10.0, "{a} vs {b} near zero");
        }
    }
    median(rel)
}

#[test]
fn features_agree_with_librosa() {
    let python = librosa_python();
    let dir = tempfile::tempdir().unwrap();
    let mut report = Vec::new();
    for (name, samples) in signals() {
        let reference = librosa_reference(&python, dir.path(), name, &samples);
        let feats = &reference["features"];
        let (cal, frames) = tonearm_analysis::frame_features(&samples);
        let n = reference["n_frames"].as_u64().unwrap() as usize;
        assert_eq!(frames.len(), n, "{name}: frame count");

        // Tuning: the same 0.01-semitone bin.
        let tuning = reference["tuning"].as_f64().unwrap();
        assert!(
            (cal.tuning - tuning).abs() < 0.0101,
            "{name}: tuning {} vs librosa {tuning}",
            cal.tuning
        );

        // MFCC: per coefficient, correlation over frames and max abs error after frame 0.
        let mfcc = rows(&feats["mfcc"]);
        let mut worst_corr: f64 = 1.0;
        let mut worst_err: f64 = 0.0;
        for (k, theirs) in mfcc.iter().enumerate() {
            let mine = ours(&frames, |f| f.mfcc[k] as f64);
            let err = mine[1..]
                .iter()
                .zip(&theirs[1..])
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            worst_err = worst_err.max(err);
            // A coefficient constant over the signal (a steady tone) has no correlation to
            // speak of; its values are held by the absolute bound.
            let spread = support::median(theirs.iter().map(|x| (x - theirs[0]).abs()).collect());
            if spread > 1e-3 && theirs.len() > 2 {
                let r = pearson(&mine, theirs);
                worst_corr = worst_corr.min(r);
                assert!(r >= 0.999, "{name}: mfcc[{k}] correlation {r}");
            }
            assert!(err <= 0.5, "{name}: mfcc[{k}] max abs error {err}");
        }

        // Spectral features, RMS, ZCR: median relative error ≤ 1 %.
        let scalar: [(&str, Getter, f64); 7] = [
            ("spectral_centroid", |f| f.centroid as f64, 1e-3),
            ("spectral_bandwidth", |f| f.bandwidth as f64, 1e-3),
            ("spectral_rolloff", |f| f.rolloff as f64, 1e-3),
            ("spectral_flatness", |f| f.flatness as f64, 1e-9),
            ("zero_crossing_rate", |f| f.zcr as f64, 1e-9),
            ("rms", |f| f.rms as f64, 1e-9),
            ("onset_strength", |f| f.onset as f64, 1e-3),
        ];
        let mut worst = Vec::new();
        for (feature, get, floor) in scalar {
            let theirs = row(&feats[feature]);
            let rel = median_relative(&ours(&frames, get), &theirs, floor);
            assert!(rel <= 0.01, "{name}: {feature} median relative error {rel}");
            worst.push(format!("{feature} {rel:.1e}"));
        }
        let contrast = rows(&feats["spectral_contrast"]);
        for (k, theirs) in contrast.iter().enumerate() {
            let rel = median_relative(&ours(&frames, |f| f.contrast[k] as f64), theirs, 1e-3);
            assert!(
                rel <= 0.01,
                "{name}: spectral_contrast[{k}] median relative error {rel}"
            );
        }
        // Onset strength as a curve: the same peaks.
        let onset = row(&feats["onset_strength"]);
        if onset.iter().any(|&x| x > 1e-3) {
            let r = pearson(&ours(&frames, |f| f.onset as f64), &onset);
            assert!(r >= 0.99, "{name}: onset strength correlation {r}");
        }

        // Chroma: correlation of the whole 12 × N matrix.
        let chroma = rows(&feats["chroma_stft"]);
        let theirs: Vec<f64> = chroma.iter().flatten().copied().collect();
        let mine: Vec<f64> = (0..12)
            .flat_map(|c| frames.iter().map(move |f| f.chroma[c] as f64))
            .collect();
        let r = pearson(&mine, &theirs);
        assert!(r >= 0.99, "{name}: chroma correlation {r}");

        report.push(format!(
            "{name:>7}: {n} frames, tuning {:.2} (librosa {tuning:.2}), mfcc worst corr {worst_corr:.5} max err {worst_err:.3}, chroma corr {r:.5}, {}",
            cal.tuning,
            worst.join(", ")
        ));
    }
    println!("librosa agreement:\n{}", report.join("\n"));
}
