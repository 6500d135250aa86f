//! Audio analysis benchmarks: the full feature set on one 4-minute file against librosa 0.11
//! (the same features and parameters, one core each, decode and resampling included), a
//! whole-library pass on both cores, and tempo/key accuracy of both on the same generated
//! sets. librosa runs from `.cache/librosa-venv` (`scripts/ensure-librosa.sh`).

use anyhow::Context;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::Instant;
use tonearm_analysis::eval::{key_verdict, tempo_verdict, KeyVerdict, TempoVerdict};
use tonearm_media::synth::{self, write_wav, Pcm};

fn repo_root() -> PathBuf {
    // The bench runs from the repository (make bench); fall back to the source tree.
    let cwd = std::env::current_dir().unwrap_or_default();
    if cwd.join("scripts/librosa/bench.py").exists() {
        cwd
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }
}

fn librosa_python() -> anyhow::Result<PathBuf> {
    let root = repo_root();
    let ok = Command::new("bash")
        .arg(root.join("scripts/ensure-librosa.sh"))
        .status()?
        .success();
    anyhow::ensure!(ok, "could not install librosa (scripts/ensure-librosa.sh)");
    Ok(root.join(".cache/librosa-venv/bin/python"))
}

fn librosa(python: &Path, args: &[&str]) -> anyhow::Result<Vec<Value>> {
    let out = Command::new(python)
        .arg(repo_root().join("scripts/librosa/bench.py"))
        .args(args)
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "librosa bench failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).context("librosa bench output"))
        .collect()
}

fn stereo(pcm: &Pcm) -> Pcm {
    Pcm {
        sample_rate: pcm.sample_rate,
        channels: 2,
        samples: pcm.samples.iter().flat_map(|&s| [s, s]).collect(),
    }
}

fn write(path: &Path, pcm: &Pcm) -> anyhow::Result<()> {
    write_wav(std::io::BufWriter::new(std::fs::File::create(path)?), pcm)?;
    Ok(())
}

/// One analysis of `path` in a child process (its own peak RSS): seconds and peak RSS in KB.
fn ours_once(path: &Path) -> anyhow::Result<(f64, f64)> {
    let out = Command::new(std::env::current_exe()?)
        .args(["analyze-file", "--timing"])
        .arg(path)
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "analyze-file failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout)?;
    Ok((
        v["seconds"].as_f64().context("seconds")?,
        v["peak_rss_kb"].as_f64().context("rss")?,
    ))
}

pub fn run(tmp: &Path, track_secs: u32) -> anyhow::Result<()> {
    let python = librosa_python()?;
    let dir = tmp.join("analysis");
    std::fs::create_dir_all(&dir)?;

    // 1. One file, one core each.
    let song = synth::song(
        synth::Groove::Rock,
        9,
        true,
        112.0,
        track_secs as f64,
        44_100,
        1,
    );
    let file = dir.join("song.wav");
    write(&file, &stereo(&song))?;
    let mut best = (f64::MAX, 0.0);
    for _ in 0..3 {
        let (s, rss) = ours_once(&file)?;
        if s < best.0 {
            best = (s, rss);
        }
    }
    let lr = librosa(
        &python,
        &[
            "features",
            file.to_str().unwrap_or_default(),
            "--repeat",
            "3",
        ],
    )?;
    let lr = lr.first().context("no librosa timing")?;
    let lr_total = lr["total_s"].as_f64().unwrap_or(f64::NAN);
    println!("\n## Audio analysis ({track_secs}-s 44.1 kHz stereo WAV: decode, mono 22,050 Hz, every feature, tempo, beats, key)");
    println!(
        "{:<44} {:>8.3} s  peak RSS {:>6.1} MB",
        "tonearm (one core)",
        best.0,
        best.1 / 1024.0
    );
    println!(
        "{:<44} {:>8.3} s  peak RSS {:>6.1} MB  (load {:.3} s + features {:.3} s)",
        "librosa 0.11 (one core, one STFT shared)",
        lr_total,
        lr["peak_rss_kb"].as_f64().unwrap_or(0.0) / 1024.0,
        lr["load_s"].as_f64().unwrap_or(f64::NAN),
        lr["features_s"].as_f64().unwrap_or(f64::NAN)
    );
    println!(
        "{:<44} {:>8.1} ×  (goal ≥ 50 ×)",
        "speed-up over librosa",
        lr_total / best.0
    );
    // The floor: the FFTs alone that two passes over this signal need (f64, as librosa's).
    let frames = 1 + (song.frames() / 2) / 512;
    let fft = fft_floor(2 * frames);
    println!(
        "{:<44} {:>8.3} s  ({} frames × 2 passes; the most any two-pass analysis can gain is {:.0} ×)",
        "floor: the FFTs alone",
        fft,
        frames,
        lr_total / fft
    );

    // 2. A whole library on both cores.
    let styles = synth::Groove::ALL;
    let mut files = Vec::new();
    for i in 0..24 {
        let pcm = synth::song(
            styles[i % styles.len()],
            (i * 7 % 12) as u8,
            i % 2 == 0,
            70.0 + 5.0 * i as f64,
            60.0,
            44_100,
            500 + i as u64,
        );
        let path = dir.join(format!("lib-{i}.wav"));
        write(&path, &stereo(&pcm))?;
        files.push(path);
    }
    let start = Instant::now();
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(f) = files.get(i) else { break };
                let _ = tonearm_library::analysis::analyze_file(f, &AtomicBool::new(false));
            });
        }
    });
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{:<44} {:>8.2} files/s  ({:.0} × real time; 24 one-minute files)",
        "library pass, 2 threads",
        files.len() as f64 / secs,
        files.len() as f64 * 60.0 / secs
    );

    // 3. Accuracy side by side.
    accuracy(&python, &dir)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Seconds for `n` f64 real FFTs of 2048 points (what the STFTs of the analysis cost at least).
fn fft_floor(n: usize) -> f64 {
    let mut planner = realfft::RealFftPlanner::<f64>::new();
    let fft = planner.plan_fft_forward(2048);
    let mut input = vec![0.1f64; 2048];
    let mut out = fft.make_output_vec();
    let start = Instant::now();
    for i in 0..n {
        input[i % 2048] += 1e-3;
        let _ = fft.process(&mut input, &mut out);
    }
    std::hint::black_box(&out);
    start.elapsed().as_secs_f64()
}

fn accuracy(python: &Path, dir: &Path) -> anyhow::Result<()> {
    struct Case {
        path: PathBuf,
        bpm: f64,
    }
    let sr = tonearm_analysis::SAMPLE_RATE;
    let mut sets: Vec<(&str, Vec<Case>)> = Vec::new();
    let drums: Vec<Case> = synth::tempo_set()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let path = dir.join(format!("tempo-{i}.wav"));
            write(&path, &c.render(sr)).map(|_| Case { path, bpm: c.bpm })
        })
        .collect::<anyhow::Result<_>>()?;
    sets.push(("drum grooves (133)", drums));
    let songs: Vec<Case> = synth::tempo_set()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let pcm = synth::song(
                c.style,
                (i * 5 % 12) as u8,
                i % 2 == 1,
                c.bpm,
                20.0,
                sr,
                90_000 + i as u64,
            );
            let path = dir.join(format!("song-{i}.wav"));
            write(&path, &pcm).map(|_| Case { path, bpm: c.bpm })
        })
        .collect::<anyhow::Result<_>>()?;
    sets.push(("songs: drums + bass + chords (133)", songs));
    println!(
        "\n{:<36} {:>12} {:>12} {:>12} {:>12}",
        "tempo (Acc1 / Acc2)", "tonearm Acc1", "Acc2", "librosa Acc1", "Acc2"
    );
    for (name, cases) in &sets {
        let paths: Vec<&str> = cases.iter().filter_map(|c| c.path.to_str()).collect();
        let mut args = vec!["estimate"];
        args.extend(paths.iter());
        let theirs = librosa(python, &args)?;
        let (mut o1, mut o2, mut l1, mut l2) = (0, 0, 0, 0);
        for (c, t) in cases.iter().zip(&theirs) {
            let ours = tonearm_library::analysis::analyze_file(&c.path, &AtomicBool::new(false))
                .ok()
                .and_then(|a| a.ok())
                .and_then(|a| a.tempo.map(|t| t.bpm));
            let count = |v: TempoVerdict, a1: &mut i32, a2: &mut i32| {
                *a1 += (v == TempoVerdict::Correct) as i32;
                *a2 += (v != TempoVerdict::Wrong) as i32;
            };
            count(tempo_verdict(ours, c.bpm), &mut o1, &mut o2);
            let lb = t["bpm"].as_f64().filter(|b| *b > 0.0);
            count(tempo_verdict(lb, c.bpm), &mut l1, &mut l2);
        }
        let pct = |x: i32| 100.0 * x as f64 / cases.len() as f64;
        println!(
            "{:<36} {:>11.1}% {:>11.1}% {:>11.1}% {:>11.1}%",
            name,
            pct(o1),
            pct(o2),
            pct(l1),
            pct(l2)
        );
    }

    let keys = synth::key_set();
    let mut paths = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        let path = dir.join(format!("key-{i}.wav"));
        write(&path, &k.render(sr))?;
        paths.push(path);
    }
    let mut args = vec!["estimate".to_string()];
    args.extend(paths.iter().map(|p| p.display().to_string()));
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let theirs = librosa(python, &arg_refs)?;
    let mut ours_v = std::collections::BTreeMap::new();
    let mut theirs_v = std::collections::BTreeMap::new();
    for ((k, path), t) in keys.iter().zip(&paths).zip(&theirs) {
        let ours = tonearm_library::analysis::analyze_file(path, &AtomicBool::new(false))
            .ok()
            .and_then(|a| a.ok())
            .and_then(|a| a.key);
        *ours_v
            .entry(format!("{:?}", key_verdict(ours, k.tonic, k.minor)))
            .or_insert(0) += 1;
        let lk = t["key"].as_str().and_then(tonearm_analysis::Key::parse);
        *theirs_v
            .entry(format!("{:?}", key_verdict(lk, k.tonic, k.minor)))
            .or_insert(0) += 1;
    }
    let correct = |m: &std::collections::BTreeMap<String, i32>| {
        100.0 * *m.get(&format!("{:?}", KeyVerdict::Correct)).unwrap_or(&0) as f64
            / keys.len() as f64
    };
    println!(
        "{:<36} {:>11.1}%  {:?}\n{:<36} {:>11.1}%  {:?}  (Krumhansl on chroma_stft)",
        "key, 24 keys × 2 (tonearm)",
        correct(&ours_v),
        ours_v,
        "key, 24 keys × 2 (librosa)",
        correct(&theirs_v),
        theirs_v
    );
    Ok(())
}
