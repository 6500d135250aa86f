//! Packages generated audio into the encrypted HLS ladder and lets ffmpeg judge each variant:
//! the decrypted init + segments must decode without complaint, start on the source's first
//! sample (encoder delay signalled by the edit list), last as long as the source, and carry its
//! content, better at higher bitrates. Segments must line up across variants.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;
use tonearm_media::hls::{crypt, package, PackageOptions, Piece, LADDER};
use tonearm_media::synth::{write_wav, Pcm};

/// Deterministic low-passed noise on the left (a sharp cross-correlation peak) and a tone on the right.
fn source(rate: u32, seconds: f64) -> Pcm {
    let n = (seconds * rate as f64) as usize;
    let mut x: u32 = 12345;
    let mut smooth = 0f32;
    let mut samples = Vec::with_capacity(n * 2);
    for i in 0..n {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        // Low-passed (one pole, ~2 kHz) like real music, where AAC spends its bits.
        smooth = 0.75 * smooth + 0.25 * ((x >> 8) as f32 / (1u32 << 24) as f32 - 0.5);
        let noise = smooth * 1.5;
        let tone = 0.4 * (2.0 * std::f64::consts::PI * 440.0 * i as f64 / rate as f64).sin() as f32;
        samples.push(noise);
        samples.push(tone);
    }
    Pcm {
        sample_rate: rate,
        channels: 2,
        samples,
    }
}

fn ffmpeg_decode_stereo(file: &Path, rate: u32) -> Vec<f32> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-xerror", "-i"])
        .arg(file)
        .args(["-f", "f32le", "-ac", "2", "-ar", &rate.to_string(), "-"])
        .output()
        .expect("ffmpeg must be installed (scripts/ensure-deps.sh test)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "ffmpeg complained: {stderr}"
    );
    out.stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// The stream start ffprobe reads from the file's edit list, in samples.
fn ffprobe_start_pts(file: &Path) -> i64 {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=start_pts",
            "-of",
            "csv=p=0",
        ])
        .arg(file)
        .output()
        .expect("ffprobe must be installed");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("ffprobe prints start_pts")
}

/// The lag (in frames, within ±`range`) at which channel 0 of `got` best matches `want`, and
/// the normalized correlation there.
fn best_lag(want: &[f32], got: &[f32], range: i64) -> (i64, f64) {
    let frames = (want.len() / 2).min(got.len() / 2) as i64;
    let mut best = (0, f64::MIN);
    for lag in -range..=range {
        let (mut dot, mut ww, mut gg) = (0f64, 0f64, 0f64);
        for i in (range..frames - range).step_by(3) {
            let w = want[(i * 2) as usize] as f64;
            let g = got[((i + lag) * 2) as usize] as f64;
            dot += w * g;
            ww += w * w;
            gg += g * g;
        }
        let c = dot / (ww.sqrt() * gg.sqrt()).max(1e-12);
        if c > best.1 {
            best = (lag, c);
        }
    }
    best
}

/// Signal-to-noise ratio of `got` against `want`, in dB, over the middle of the signal.
fn snr_db(want: &[f32], got: &[f32]) -> f64 {
    let n = want.len().min(got.len());
    let (mut sig, mut err) = (0f64, 0f64);
    for i in 4096..n - 4096 {
        sig += (want[i] as f64).powi(2);
        err += (want[i] as f64 - got[i] as f64).powi(2);
    }
    10.0 * (sig / err.max(1e-12)).log10()
}

fn check_ladder(rate: u32, seconds: f64) {
    let dir = tempfile::tempdir().unwrap();
    let pcm = source(rate, seconds);
    let src = dir.path().join("src.wav");
    write_wav(std::fs::File::create(&src).unwrap(), &pcm).unwrap();

    let opts = PackageOptions {
        bitrates: LADDER.to_vec(),
        key: *b"0123456789abcdef",
        iv: *b"fedcba9876543210",
        pace: None,
    };
    let files = Mutex::new(BTreeMap::new());
    let sink = |p: Piece| {
        files.lock().unwrap().insert(p.name, p.bytes);
        Ok(())
    };
    let m = package(
        &src,
        &opts,
        pcm.frames() as u64,
        &AtomicBool::new(false),
        &sink,
    )
    .expect("package");
    let files = files.into_inner().unwrap();

    assert_eq!(m.sample_rate, rate);
    assert_eq!(m.frames, pcm.frames() as u64);
    assert_eq!(m.variants.len(), 3);
    let total_aus = (m.delay as u64 + m.frames).div_ceil(1024);
    let per_segment = (6.0 * rate as f64 / 1024.0).floor() as u32;
    let mut snrs = Vec::new();
    for v in &m.variants {
        assert_eq!(v.codecs, "mp4a.40.2");
        let aus: Vec<u32> = v.segments.iter().map(|s| s.aus).collect();
        let first: Vec<u32> = m.variants[0].segments.iter().map(|s| s.aus).collect();
        assert_eq!(aus, first, "segments line up across variants");
        assert!(aus[..aus.len() - 1].iter().all(|&a| a == per_segment));
        assert_eq!(aus.iter().map(|&a| a as u64).sum::<u64>(), total_aus);
        assert!(v.average_bandwidth > v.bitrate as u64 * 9 / 10);
        assert!(v.peak_bandwidth >= v.average_bandwidth);

        // Segments at rest are ciphertext; decrypted, they are fMP4 fragments.
        let mut whole = files[&format!("{}/init.mp4", v.dir())].clone();
        assert_eq!(
            &whole[4..8],
            b"ftyp",
            "the init segment is stored in the clear"
        );
        for (i, s) in v.segments.iter().enumerate() {
            let stored = &files[&format!("{}/seg{i}.m4s", v.dir())];
            assert_eq!(stored.len() as u32, s.bytes);
            assert_ne!(&stored[4..8], b"styp", "segment {i} is encrypted at rest");
            let plain = crypt::decrypt(&opts.key, &opts.iv, stored).expect("decrypts");
            assert_eq!(&plain[4..8], b"styp");
            whole.extend_from_slice(&plain);
        }
        let file = dir.path().join(format!("{}.mp4", v.dir()));
        std::fs::write(&file, &whole).unwrap();
        // The edit list says where the source starts: ffprobe must read it as the stream's
        // start (ffmpeg applies fragmented MP4 edit lists as a negative start time and still
        // decodes the priming, so its output is the whole encoded timeline).
        assert_eq!(
            ffprobe_start_pts(&file),
            -(m.delay as i64),
            "{}: the edit list signals the encoder delay",
            v.dir()
        );
        let got = ffmpeg_decode_stereo(&file, rate);
        assert_eq!(
            got.len() / 2,
            (total_aus * 1024) as usize,
            "{}: every access unit decodes",
            v.dir()
        );
        let (lag, corr) = best_lag(&pcm.samples, &got, 3000);
        assert_eq!(
            lag,
            m.delay as i64,
            "{}: the source starts exactly after the signalled delay",
            v.dir()
        );
        assert!(
            corr > 0.95,
            "{}: content matches (correlation {corr})",
            v.dir()
        );
        let got = &got[m.delay as usize * 2..];
        snrs.push(snr_db(&pcm.samples, got));
    }
    // FDK's AAC-LC reaches its best quantization for this signal by 256 kbps; above that the
    // extra bits are fill, so 320 is as good as 256, never worse.
    assert!(
        snrs[0] > 10.0 && snrs[0] + 1.0 < snrs[1] && snrs[1] <= snrs[2] + 0.01,
        "quality rises with bitrate: {snrs:?} dB"
    );
}

#[test]
fn ladder_at_44k1_is_aligned_gapless_and_faithful() {
    check_ladder(44_100, 13.3);
}

#[test]
fn ladder_from_a_96k_source_is_resampled_to_48k() {
    let dir = tempfile::tempdir().unwrap();
    let pcm = source(96_000, 3.0);
    let src = dir.path().join("hires.wav");
    write_wav(std::fs::File::create(&src).unwrap(), &pcm).unwrap();
    let opts = PackageOptions {
        bitrates: vec![128_000],
        key: [1; 16],
        iv: [2; 16],
        pace: None,
    };
    let m = package(
        &src,
        &opts,
        pcm.frames() as u64,
        &AtomicBool::new(false),
        &|_| Ok(()),
    )
    .expect("package");
    assert_eq!(m.sample_rate, 48_000);
    assert_eq!(m.frames, 144_000);
}

#[test]
fn a_corrupt_source_is_an_error_and_cancel_stops_work() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.flac");
    std::fs::write(&bad, b"fLaC this is not really flac").unwrap();
    let opts = PackageOptions {
        bitrates: LADDER.to_vec(),
        key: [1; 16],
        iv: [2; 16],
        pace: None,
    };
    assert!(package(&bad, &opts, 0, &AtomicBool::new(false), &|_| Ok(())).is_err());

    let pcm = source(48_000, 5.0);
    let src = dir.path().join("ok.wav");
    write_wav(std::fs::File::create(&src).unwrap(), &pcm).unwrap();
    let r = package(
        &src,
        &opts,
        pcm.frames() as u64,
        &AtomicBool::new(true),
        &|_| Ok(()),
    );
    assert!(
        matches!(r, Err(tonearm_media::MediaError::Cancelled)),
        "{r:?}"
    );
}
