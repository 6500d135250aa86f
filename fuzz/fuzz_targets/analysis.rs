//! Arbitrary samples into the analyzer: any bit pattern (NaN, infinities, denormals, huge
//! values, any length) must give a reason or finite numbers, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let samples: Vec<f32> = data
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    // Short inputs are mostly "too short": repeat them to reach analysable lengths too.
    let reps = if samples.is_empty() { 1 } else { (30_000 / samples.len()).clamp(1, 64) };
    let long: Vec<f32> = samples.iter().copied().cycle().take(samples.len() * reps).collect();
    for input in [&samples, &long] {
        if let Ok(a) = tonearm_analysis::analyze(input) {
            assert!(a.embedding.iter().all(|x| x.is_finite()));
            assert!(a.features.mfcc.mean.iter().all(|x| x.is_finite()));
            assert!(a.scores.energy.is_finite());
        }
    }
});
