//! Tempo and key on generated music with known answers (`tonearm_media::synth`): drum grooves
//! of seven styles at 19 tempi from 50 to 210 BPM, and chord progressions in all 24 keys.
//! Asserts Acc1 ≥ 95 % with no octave error from 60 to 200 BPM, and key accuracy ≥ 90 %;
//! prints every miss and the confusion counts.

mod support;

use support::*;
use tonearm_analysis::eval::{key_verdict, tempo_verdict, KeyVerdict, TempoVerdict};
use tonearm_media::synth;

#[test]
fn tempo_is_right_from_50_to_210_bpm_without_octave_errors() {
    let cases = synth::tempo_set();
    let (mut acc1, mut acc2) = (0, 0);
    let mut misses = Vec::new();
    let mut octave_in_range = Vec::new();
    for case in &cases {
        let samples = mono(&case.render(SR));
        let a = tonearm_analysis::analyze(&samples).expect("analysable");
        let est = a.tempo.map(|t| t.bpm);
        let v = tempo_verdict(est, case.bpm);
        match v {
            TempoVerdict::Correct => {
                acc1 += 1;
                acc2 += 1;
            }
            TempoVerdict::Octave => {
                acc2 += 1;
                if (60.0..=200.0).contains(&case.bpm) {
                    octave_in_range.push(case.name.clone());
                }
            }
            TempoVerdict::Wrong => {}
        }
        if v != TempoVerdict::Correct {
            misses.push(format!("{}: {est:?} ({v:?})", case.name));
        }
    }
    let n = cases.len() as f64;
    println!(
        "tempo: {} cases, Acc1 {:.1} %, Acc2 {:.1} %; misses: {misses:#?}",
        cases.len(),
        100.0 * acc1 as f64 / n,
        100.0 * acc2 as f64 / n
    );
    assert!(
        octave_in_range.is_empty(),
        "octave errors in 60–200 BPM: {octave_in_range:?}"
    );
    assert!(
        acc1 as f64 / n >= 0.95,
        "Acc1 {acc1}/{}: {misses:#?}",
        cases.len()
    );
}

#[test]
fn key_is_right_in_all_24_keys() {
    let cases = synth::key_set();
    let mut counts = std::collections::BTreeMap::new();
    let mut misses = Vec::new();
    for case in &cases {
        let samples = mono(&case.render(SR));
        let a = tonearm_analysis::analyze(&samples).expect("analysable");
        let v = key_verdict(a.key, case.tonic, case.minor);
        *counts.entry(format!("{v:?}")).or_insert(0) += 1;
        if v != KeyVerdict::Correct {
            misses.push(format!(
                "{}: {:?} ({v:?})",
                case.name,
                a.key.map(|k| k.name())
            ));
        }
    }
    let correct = counts.get("Correct").copied().unwrap_or(0);
    println!(
        "key: {} cases, {counts:?}; misses: {misses:#?}",
        cases.len()
    );
    assert!(
        correct as f64 / cases.len() as f64 >= 0.90,
        "key accuracy {correct}/{}: {misses:#?}",
        cases.len()
    );
}
