//! Hostile audio: every input gives either a clear reason or valid (finite) numbers.

use tonearm_analysis::{analyze, Analysis, NotAnalysable, SAMPLE_RATE};

const SR: usize = SAMPLE_RATE as usize;

fn finite(a: &Analysis) {
    let f = &a.features;
    for (name, s) in [
        ("mfcc", &f.mfcc),
        ("centroid", &f.spectral_centroid),
        ("bandwidth", &f.spectral_bandwidth),
        ("rolloff", &f.spectral_rolloff),
        ("flatness", &f.spectral_flatness),
        ("contrast", &f.spectral_contrast),
        ("zcr", &f.zero_crossing_rate),
        ("rms", &f.rms),
        ("chroma", &f.chroma),
        ("onset", &f.onset_strength),
    ] {
        assert!(
            s.mean.iter().chain(&s.std).all(|x| x.is_finite()),
            "{name}: {s:?}"
        );
    }
    assert!(
        a.embedding.iter().all(|x| x.is_finite()),
        "{:?}",
        a.embedding
    );
    for x in [
        a.scores.energy,
        a.scores.danceability,
        a.scores.acousticness,
    ] {
        assert!(x.is_finite() && (0.0..=1.0).contains(&x), "{:?}", a.scores);
    }
    if let Some(t) = a.tempo {
        assert!(t.bpm.is_finite() && t.confidence.is_finite());
    }
    assert!(a
        .beats
        .iter()
        .all(|b| b.is_finite() && *b >= 0.0 && *b <= a.duration_s + 0.1));
    assert!(a.timeline.energy.iter().all(|x| x.is_finite()));
}

fn tone(seconds: f64, amp: f32) -> Vec<f32> {
    (0..(seconds * SR as f64) as usize)
        .map(|i| amp * (2.0 * std::f32::consts::PI * 330.0 * i as f32 / SR as f32).sin())
        .collect()
}

#[test]
fn silence_is_a_reason() {
    assert_eq!(analyze(&vec![0.0; 10 * SR]), Err(NotAnalysable::Silent));
    // Below -100 dBFS is silence too (dither-level noise of a digital silence).
    assert_eq!(analyze(&tone(5.0, 1e-6)), Err(NotAnalysable::Silent));
}

#[test]
fn too_short_is_a_reason_and_one_second_has_numbers() {
    assert!(matches!(
        analyze(&tone(0.2, 0.5)),
        Err(NotAnalysable::TooShort { .. })
    ));
    assert!(matches!(analyze(&[]), Err(NotAnalysable::TooShort { .. })));
    let a = analyze(&tone(1.0, 0.5)).expect("one second is analysable");
    finite(&a);
    assert!(a.tempo.is_none(), "no tempo from one second of a tone");
}

#[test]
fn dc_and_clipping_give_finite_numbers() {
    finite(&analyze(&vec![0.5; 5 * SR]).unwrap());
    finite(&analyze(&vec![-1.0; 5 * SR]).unwrap());
    // A square wave at full scale, and a tone driven far past full scale then clipped.
    let square: Vec<f32> = (0..5 * SR)
        .map(|i| if (i / 50) % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    finite(&analyze(&square).unwrap());
    let clipped: Vec<f32> = tone(5.0, 20.0)
        .into_iter()
        .map(|x| x.clamp(-1.0, 1.0))
        .collect();
    finite(&analyze(&clipped).unwrap());
}

#[test]
fn nan_inf_and_huge_samples_never_poison_the_numbers() {
    // A few bad samples are read as silence.
    let mut some = tone(5.0, 0.5);
    for i in (0..some.len()).step_by(997) {
        some[i] = if i % 2 == 0 { f32::NAN } else { f32::INFINITY };
    }
    finite(&analyze(&some).unwrap());
    // Mostly bad samples: a reason.
    let mut most = tone(5.0, 0.5);
    for (i, x) in most.iter_mut().enumerate() {
        if i % 3 != 0 {
            *x = f32::NAN;
        }
    }
    assert!(matches!(
        analyze(&most),
        Err(NotAnalysable::InvalidSamples { .. })
    ));
    // Values far outside [-1, 1] (a float file may hold anything).
    let huge: Vec<f32> = tone(5.0, 1.0).into_iter().map(|x| x * 1e30).collect();
    finite(&analyze(&huge).unwrap());
    let tiny: Vec<f32> = tone(5.0, 1.0).into_iter().map(|x| x * 1e-3).collect();
    finite(&analyze(&tiny).unwrap());
}

#[test]
fn blocks_of_any_size_give_the_same_analysis() {
    let samples: Vec<f32> = tone(6.0, 0.4)
        .into_iter()
        .enumerate()
        .map(|(i, x)| if (i / 5512) % 2 == 0 { x } else { 0.3 * x })
        .collect();
    let whole = analyze(&samples).unwrap();
    for block in [1usize, 333, 4096] {
        let r: Result<_, ()> = tonearm_analysis::analyze_source(|sink| {
            samples.chunks(block).for_each(&mut *sink);
            Ok(())
        });
        assert_eq!(r.unwrap().unwrap(), whole, "block {block}");
    }
}
