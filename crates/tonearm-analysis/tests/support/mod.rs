//! Shared by the analysis tests: generated signals as float WAVs, and librosa run on them.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use tonearm_media::synth::Pcm;

pub const SR: u32 = tonearm_analysis::SAMPLE_RATE;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The venv's Python with librosa 0.11.0, installed by `scripts/ensure-librosa.sh` if missing.
pub fn librosa_python() -> PathBuf {
    let root = repo_root();
    let status = Command::new("bash")
        .arg(root.join("scripts/ensure-librosa.sh"))
        .status()
        .expect("run scripts/ensure-librosa.sh");
    assert!(
        status.success(),
        "could not install librosa 0.11.0 into .cache/librosa-venv"
    );
    root.join(".cache/librosa-venv/bin/python")
}

/// Mono samples of a generated signal (the first channel of `pcm`).
pub fn mono(pcm: &Pcm) -> Vec<f32> {
    assert_eq!(pcm.sample_rate, SR);
    pcm.samples
        .iter()
        .step_by(pcm.channels as usize)
        .copied()
        .collect()
}

/// Writes mono f32 samples as a 32-bit float WAV, so librosa reads exactly these samples.
pub fn write_float_wav(path: &Path, samples: &[f32]) {
    let data = (samples.len() * 4) as u32;
    let mut out = Vec::with_capacity(44 + data as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&3u16.to_le_bytes()); // IEEE float
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&SR.to_le_bytes());
    out.extend_from_slice(&(SR * 4).to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&32u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    std::fs::write(path, out).expect("write wav");
}

/// Runs `scripts/librosa/reference.py` on the samples and returns its JSON.
pub fn librosa_reference(
    python: &Path,
    dir: &Path,
    name: &str,
    samples: &[f32],
) -> serde_json::Value {
    let wav = dir.join(format!("{name}.wav"));
    let json = dir.join(format!("{name}.json"));
    write_float_wav(&wav, samples);
    let out = Command::new(python)
        .arg(repo_root().join("scripts/librosa/reference.py"))
        .arg(&wav)
        .arg(&json)
        .output()
        .expect("run reference.py");
    assert!(
        out.status.success(),
        "reference.py failed on {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&std::fs::read(&json).expect("read json")).expect("parse json")
}

/// A row of numbers from JSON.
pub fn row(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

/// Rows of a matrix from JSON (feature-major).
pub fn rows(v: &serde_json::Value) -> Vec<Vec<f64>> {
    v.as_array().expect("array").iter().map(row).collect()
}

pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma).powi(2);
        sbb += (y - mb).powi(2);
    }
    sab / (saa * sbb).sqrt()
}

pub fn median(mut x: Vec<f64>) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    x.sort_by(f64::total_cmp);
    let n = x.len();
    if n % 2 == 1 {
        x[n / 2]
    } else {
        0.5 * (x[n / 2 - 1] + x[n / 2])
    }
}
