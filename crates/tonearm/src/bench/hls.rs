//! HLS benchmarks: packaging a track into the encrypted 3-variant ladder against ffmpeg making
//! the same ladder in the same run, and a running server's segment (from its memory cache and
//! from object storage) and key latencies.

use super::{http_get, make_track, median, ms, start_server_with, track_ids};
use anyhow::{bail, Context};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};
use tonearm_media::hls::{package, PackageOptions, Piece, LADDER};

pub fn run(tmp: &Path, track_secs: u32, trials: usize) -> anyhow::Result<()> {
    let dir = tmp.join("hls");
    let lib = dir.join("lib");
    std::fs::create_dir_all(&lib)?;
    let track = make_track(&lib, "hls", track_secs)?;
    println!("\n## HLS: {track_secs}-s 44.1 kHz stereo FLAC → AAC-LC 128/256/320 kbps, 6 s fMP4 segments, AES-128");

    // Reference: ffmpeg's own HLS muxer making the same ladder in one process (its native AAC
    // encoder; this Debian ffmpeg has no libfdk_aac). Not encrypted: ffmpeg cannot encrypt
    // fMP4 HLS ("Encrypted fmp4 not yet supported"); AES is a small share of our time anyway.
    let ff_dir = dir.join("ffmpeg");
    let ff = (0..trials.max(1))
        .map(|_| ffmpeg_ladder(&track, &ff_dir))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let ff = median(ff);
    // Ours: one decode, three FDK encoders in parallel, files written as the server's
    // local object store writes them (temp file + rename).
    let out = dir.join("ours");
    let ours = (0..trials.max(1))
        .map(|_| ours(&track, &out))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let ours = median(ours);
    println!(
        "{:<44} {:>8.0} ms  {:>6.1} × real time",
        "reference: ffmpeg -f hls fmp4, 3 variants",
        ms(ff),
        track_secs as f64 / ff.as_secs_f64()
    );
    println!(
        "{:<44} {:>8.0} ms  {:>6.1} × real time   ratio {:.2} × ffmpeg (goal ≤ 0.6)",
        "tonearm packager",
        ms(ours),
        track_secs as f64 / ours.as_secs_f64(),
        ours.as_secs_f64() / ff.as_secs_f64()
    );

    // Serving: a server packages the track, then segments and keys are timed; once with the
    // default folder store, once with a real S3 server (s3s-fs) when it is installed.
    serving(
        &dir.join("data"),
        &lib,
        &[],
        "object storage (local folder)",
    )?;
    match S3::start(&dir.join("s3")) {
        Some(s3) => serving(
            &dir.join("data-s3"),
            &lib,
            &s3.env(),
            "S3 (s3s-fs on loopback)",
        )?,
        None => {
            println!("(s3s-fs not installed: no S3 row; scripts/ensure-deps.sh test installs it)")
        }
    }
    Ok(())
}

fn serving(data: &Path, lib: &Path, extra: &[(String, String)], store: &str) -> anyhow::Result<()> {
    let mut env: Vec<(&str, &str)> = vec![
        ("TONEARM_JOBS__HLS_ALL", "true"),
        ("TONEARM_HLS__KEY_PER_MINUTE", "0"),
    ];
    env.extend(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let server = start_server_with(data, lib, &env)?;
    let id = track_ids(&server.addr)?
        .into_iter()
        .next()
        .context("no track")?
        .1;
    let deadline = Instant::now() + Duration::from_secs(600);
    let playlist = loop {
        let (_, body) = http_get(
            &server.addr,
            &format!("/api/tracks/{id}/hls/v320/index.m3u8"),
            None,
        )?;
        let text = String::from_utf8_lossy(&body).to_string();
        if text.starts_with("#EXTM3U") {
            break text;
        }
        if Instant::now() > deadline {
            bail!("the track was not packaged: {text}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let segments: Vec<&str> = playlist.lines().filter(|l| l.ends_with(".m4s")).collect();
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    for seg in &segments {
        let path = format!("/api/tracks/{id}/hls/v320/{seg}");
        cold.push(http_get(&server.addr, &path, None)?.0);
        warm.push(http_get(&server.addr, &path, None)?.0);
    }
    let key_uri = playlist
        .lines()
        .find_map(|l| l.split("URI=\"../").nth(1))
        .and_then(|r| r.split('"').next())
        .context("no key URI")?;
    let key_path = format!("/api/tracks/{id}/hls/{key_uri}");
    let keys: Vec<Duration> = (0..200)
        .map(|_| http_get(&server.addr, &key_path, None).map(|r| r.0))
        .collect::<anyhow::Result<_>>()?;
    // Reference for the serving latencies: the server's smallest JSON route.
    let health: Vec<Duration> = (0..200)
        .map(|_| http_get(&server.addr, "/health", None).map(|r| r.0))
        .collect::<anyhow::Result<_>>()?;
    let health = median(health);
    println!("serving from {store}:");
    for (what, d) in [
        ("  segment, first read from storage (320k)", median(cold)),
        ("  segment from the memory cache", median(warm)),
        ("  key (signed link)", median(keys)),
    ] {
        println!(
            "{:<44} {:>8.2} ms median   ratio {:.2} × /health",
            what,
            ms(d),
            d.as_secs_f64() / health.as_secs_f64()
        );
    }
    println!(
        "{:<44} {:>8.2} ms median",
        "  reference: GET /health",
        ms(health)
    );
    Ok(())
}

/// A real S3 server for the S3 row, if `s3s-fs` is installed. Killed on drop.
struct S3 {
    child: std::process::Child,
    endpoint: String,
}

impl S3 {
    fn start(root: &Path) -> Option<S3> {
        let exe = std::env::var_os("HOME")
            .map(|h| std::path::PathBuf::from(h).join(".cargo/bin/s3s-fs"))
            .filter(|p| p.exists())
            .unwrap_or_else(|| "s3s-fs".into());
        std::fs::create_dir_all(root.join("bench")).ok()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .ok()?
            .port();
        let child = Command::new(exe)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", "bench", "--secret-key", "bench-secret"])
            .arg(root)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Some(S3 {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        })
    }

    fn env(&self) -> Vec<(String, String)> {
        [
            ("TONEARM_STORAGE_URL", "s3://bench"),
            ("TONEARM_S3_ENDPOINT", self.endpoint.as_str()),
            ("AWS_ACCESS_KEY_ID", "bench"),
            ("AWS_SECRET_ACCESS_KEY", "bench-secret"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .to_vec()
    }
}

impl Drop for S3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ffmpeg_ladder(track: &Path, out: &Path) -> anyhow::Result<Duration> {
    let _ = std::fs::remove_dir_all(out);
    std::fs::create_dir_all(out)?;
    let started = Instant::now();
    let st = Command::new("ffmpeg")
        .current_dir(out)
        .args(["-v", "error", "-y", "-i"])
        .arg(track)
        .args(["-map", "0:a", "-map", "0:a", "-map", "0:a", "-c:a", "aac"])
        .args(["-b:a:0", "128k", "-b:a:1", "256k", "-b:a:2", "320k"])
        .args(["-f", "hls", "-hls_time", "6", "-hls_playlist_type", "vod"])
        .args(["-hls_segment_type", "fmp4"])
        .args([
            "-var_stream_map",
            "a:0 a:1 a:2",
            "-master_pl_name",
            "master.m3u8",
        ])
        .args(["-hls_segment_filename", "v%v/seg%d.m4s", "v%v/index.m3u8"])
        .status()?;
    anyhow::ensure!(st.success(), "ffmpeg could not make the reference ladder");
    Ok(started.elapsed())
}

fn ours(track: &Path, out: &Path) -> anyhow::Result<Duration> {
    let _ = std::fs::remove_dir_all(out);
    for v in LADDER {
        std::fs::create_dir_all(out.join(format!("v{}", v / 1000)))?;
    }
    let opts = PackageOptions {
        bitrates: LADDER.to_vec(),
        key: [7; 16],
        iv: [9; 16],
        pace: None,
    };
    let sink = |p: Piece| {
        let dst = out.join(&p.name);
        let tmp = dst.with_extension("tmp");
        std::fs::write(&tmp, &p.bytes)?;
        std::fs::rename(&tmp, &dst)?;
        Ok(())
    };
    let frames = tonearm_media::AudioReader::open(track)?
        .info()
        .frames
        .unwrap_or(0);
    let started = Instant::now();
    package(track, &opts, frames, &AtomicBool::new(false), &sink)?;
    Ok(started.elapsed())
}
