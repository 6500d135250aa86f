//! Transcodes generated audio and lets ffmpeg judge the result: it must decode without errors,
//! have the source's exact length (gapless Info frame / Ogg pre-skip and end granule) and the
//! source's content (same tone at the same phase, so chunk joins are seamless).

use std::path::Path;
use std::process::Command;
use tonearm_media::encode::opus_lookahead;
use tonearm_media::synth::{sine, write_wav, Pcm};
use tonearm_media::transcode::transcode_to_vec;
use tonearm_media::{AudioReader, Format, Quality, StreamPlan, TranscodeSpec};

/// Decodes `file` with ffmpeg to f32 and returns its first channel; fails the test on any
/// decoder complaint.
fn ffmpeg_decode(file: &Path, channels: usize) -> Vec<f32> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-xerror", "-i"])
        .arg(file)
        .args(["-f", "f32le", "-"])
        .output()
        .expect("ffmpeg must be installed (scripts/ensure-deps.sh test)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "ffmpeg complained: {stderr}"
    );
    out.stdout
        .chunks_exact(4 * channels)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn write_source(dir: &Path, pcm: &Pcm) -> std::path::PathBuf {
    let p = dir.join(format!("src_{}_{}.wav", pcm.sample_rate, pcm.channels));
    write_wav(std::fs::File::create(&p).unwrap(), pcm).unwrap();
    p
}

/// Largest absolute difference between `got` and a 48 kHz sine of `freq`/`amp`, ignoring the
/// first and last 50 ms (filter edges).
fn max_sine_error(got: &[f32], freq: f64, amp: f32) -> f32 {
    let edge = 2400;
    (edge..got.len().saturating_sub(edge))
        .map(|i| {
            (got[i] - amp * (2.0 * std::f64::consts::PI * freq * i as f64 / 48_000.0).sin() as f32)
                .abs()
        })
        .fold(0.0, f32::max)
}

fn check(format: Format, quality: Quality, rate: u32, channels: u16, seconds: f64) {
    let dir = tempfile::tempdir().unwrap();
    let freq = 440.0;
    let src = write_source(dir.path(), &sine(freq, seconds, rate, channels, 0.5));
    let info = AudioReader::open(&src).unwrap().info().clone();
    let frames = info.frames.unwrap();
    let plan = StreamPlan::new(format, quality, rate, channels, frames, opus_lookahead());
    let bytes = transcode_to_vec(&src, &plan, TranscodeSpec { gain: 1.0 }, 2).unwrap();
    assert_eq!(bytes.len() as u64, plan.total_len(), "exact planned length");
    let out = dir.path().join(format!("out.{}", format.extension()));
    std::fs::write(&out, &bytes).unwrap();
    let decoded = ffmpeg_decode(&out, plan.channels as usize);
    assert_eq!(
        decoded.len() as u64,
        plan.frames_48k,
        "decoded length equals source length at 48 kHz"
    );
    let err = max_sine_error(&decoded, freq, 0.5);
    assert!(
        err < 0.08,
        "{format} {quality} {rate} Hz: content differs from source by {err}"
    );
}

#[test]
fn mp3_from_48k_stereo_is_exact_and_seamless() {
    check(Format::Mp3, Quality::Medium, 48_000, 2, 14.3);
}

#[test]
fn mp3_from_44k1_mono_is_exact_and_seamless() {
    check(Format::Mp3, Quality::Low, 44_100, 1, 13.7);
}

#[test]
fn opus_from_44k1_stereo_is_exact_and_seamless() {
    check(Format::Opus, Quality::Medium, 44_100, 2, 17.9);
}

#[test]
fn opus_from_48k_mono_high() {
    check(Format::Opus, Quality::High, 48_000, 1, 9.05);
}

#[test]
fn a_chunk_made_alone_equals_the_same_chunk_in_a_full_encode_in_length() {
    // Every chunk has exactly its planned byte range, whichever order chunks are made in.
    let dir = tempfile::tempdir().unwrap();
    let src = write_source(dir.path(), &sine(1000.0, 20.0, 44_100, 2, 0.3));
    let plan = StreamPlan::new(Format::Mp3, Quality::High, 44_100, 2, 44_100 * 20, 0);
    for c in (0..plan.chunk_count()).rev() {
        let mut n = 0u64;
        tonearm_media::encode_chunk(&src, &plan, TranscodeSpec { gain: 1.0 }, c, &mut |u| {
            n += u.len() as u64;
            true
        })
        .unwrap();
        let (s, e) = plan.chunk_range(c);
        assert_eq!(n, e - s);
    }
}
