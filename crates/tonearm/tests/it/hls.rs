//! Encrypted multi-bitrate HLS through the real server, judged by ffmpeg: the processing
//! pipeline packages a generated track, ffmpeg plays the master playlist (fetching the key
//! through its signed link) and every variant, and the audio matches the source. Keys are
//! guarded and rate limited; segments at rest are ciphertext; a track not packaged yet answers
//! 409 with its job; and a server killed mid-job runs the job again on restart and never
//! serves a half-made package.

use crate::common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use tonearm_media::synth::Pcm;

const RATE: u32 = 44_100;

/// Low-passed noise left (a sharp correlation peak) and a tone right.
fn signal(seconds: f64) -> Pcm {
    let n = (seconds * RATE as f64) as usize;
    let (mut x, mut smooth) = (777u32, 0f32);
    let mut samples = Vec::with_capacity(n * 2);
    for i in 0..n {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        smooth = 0.75 * smooth + 0.25 * ((x >> 8) as f32 / (1u32 << 24) as f32 - 0.5);
        samples.push(smooth * 1.5);
        samples
            .push(0.4 * (2.0 * std::f64::consts::PI * 330.0 * i as f64 / RATE as f64).sin() as f32);
    }
    Pcm {
        sample_rate: RATE,
        channels: 2,
        samples,
    }
}

async fn processing(s: &TestServer, id: &str) -> Value {
    s.json(&format!("/api/tracks/{id}/processing")).await
}

async fn wait_ready(s: &TestServer, id: &str) -> Value {
    s.until(180, "the track's jobs to finish", || async {
        let p = processing(s, id).await;
        assert_ne!(p["status"], "failed", "a job failed: {p}");
        (p["status"] == "ready" && !p["jobs"].as_array().unwrap().is_empty()).then_some(p)
    })
    .await
}

/// Decodes an HLS URL with ffmpeg (sending the bearer token, as hls.js's `xhrSetup` would, or
/// no header at all: a player that cannot send one), failing on any complaint. Returns
/// interleaved stereo samples.
fn ffmpeg_hls(url: &str, token: Option<&str>) -> Vec<f32> {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-v", "error", "-xerror"]);
    if let Some(token) = token {
        cmd.args(["-headers", &format!("Authorization: Bearer {token}\r\n")]);
    }
    let out = cmd
        .args(["-i", url, "-map", "0:a:0", "-f", "f32le", "-ac", "2", "-"])
        .output()
        .expect("ffmpeg");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && err.trim().is_empty(),
        "ffmpeg could not play {url}: {err}"
    );
    out.stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// (lag, correlation) of channel 0 of `got` against `want`, over lags 0..=max_lag.
fn best_lag(want: &[f32], got: &[f32], max_lag: usize) -> (usize, f64) {
    let frames = (want.len() / 2).min(got.len() / 2 - max_lag);
    let mut best = (0, f64::MIN);
    for lag in 0..=max_lag {
        let (mut dot, mut ww, mut gg) = (0f64, 0f64, 0f64);
        for i in (0..frames).step_by(5) {
            let (w, g) = (want[i * 2] as f64, got[(i + lag) * 2] as f64);
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

/// A playlist's attribute value (`NAME=value` or `NAME="value"`) on lines starting with `tag`.
fn attrs(playlist: &str, tag: &str, name: &str) -> Vec<String> {
    playlist
        .lines()
        .filter(|l| l.starts_with(tag))
        .filter_map(|l| {
            let at = l.find(&format!("{name}="))? + name.len() + 1;
            let rest = &l[at..];
            Some(if let Some(q) = rest.strip_prefix('"') {
                q[..q.find('"').unwrap()].to_string()
            } else {
                rest.split(',').next().unwrap().to_string()
            })
        })
        .collect()
}

/// Files under the server's object folder whose path contains `part`.
fn stored_files(s: &TestServer, part: &str) -> Vec<std::path::PathBuf> {
    walk(&s.dir.path().join("data/objects/hls"))
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(part))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ladder_plays_in_ffmpeg_and_keys_are_guarded() {
    let pcm = signal(15.0);
    let s = TestServer::start_with(
        |lib| flac(lib, "hls", "Hls", &pcm),
        &[
            ("TONEARM_JOBS__HLS_ALL", "true"),
            ("TONEARM_HLS__KEY_PER_MINUTE", "30"),
        ],
    )
    .await;
    let id = s.track_id("Hls").await;
    let done = wait_ready(&s, &id).await;
    let kinds: Vec<&str> = done["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"hls") && kinds.contains(&"loudness"),
        "{done}"
    );
    // The loudness job stored EBU R128 loudness, true peak and the ReplayGain 2.0 gain.
    let t = s.json(&format!("/api/tracks/{id}")).await;
    let lufs = t["loudness_lufs"].as_f64().expect("loudness measured");
    assert!((-40.0..-5.0).contains(&lufs), "{t}");
    assert!(
        (0.3..1.2).contains(&t["true_peak"].as_f64().unwrap()),
        "{t}"
    );
    assert!((t["replay_gain_db"].as_f64().unwrap() - (-18.0 - lufs)).abs() < 1e-9);
    let token = login(&s.base, ADMIN, ADMIN_PASSWORD).await;

    // Master: three variants with bandwidths from the real output and the encoder's codec.
    let master = s.get(&format!("/api/tracks/{id}/hls/master.m3u8")).await;
    assert_eq!(master.status(), 200);
    assert_eq!(
        master.headers()["content-type"],
        "application/vnd.apple.mpegurl"
    );
    let master = master.text().await.unwrap();
    let bw: Vec<u64> = attrs(&master, "#EXT-X-STREAM-INF", "BANDWIDTH")
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
    let avg: Vec<u64> = attrs(&master, "#EXT-X-STREAM-INF", "AVERAGE-BANDWIDTH")
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(
        attrs(&master, "#EXT-X-STREAM-INF", "CODECS"),
        vec!["mp4a.40.2"; 3]
    );
    assert_eq!(bw.len(), 3, "{master}");
    for (i, nominal) in [128_000u64, 256_000, 320_000].into_iter().enumerate() {
        assert!(avg[i] >= nominal && avg[i] < nominal * 11 / 10, "{master}");
        assert!(bw[i] >= avg[i]);
    }

    // A variant: VOD, 6 s target, fMP4 map, AES-128 with a signed key link and the IV.
    let v128 = s
        .get(&format!("/api/tracks/{id}/hls/v128/index.m3u8"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        v128.contains("#EXT-X-TARGETDURATION:6\n") && v128.contains("#EXT-X-ENDLIST"),
        "{v128}"
    );
    assert_eq!(attrs(&v128, "#EXT-X-KEY", "METHOD"), vec!["AES-128"]);
    let map = attrs(&v128, "#EXT-X-MAP", "URI").remove(0);
    let tag = map
        .strip_prefix("init.mp4?p=")
        .expect("the init URI names the package");
    assert!(v128.contains(&format!("seg0.m4s?p={tag}\n")), "{v128}");
    let durations: Vec<f64> = v128
        .lines()
        .filter_map(|l| l.strip_prefix("#EXTINF:"))
        .map(|d| d.trim_end_matches(',').parse().unwrap())
        .collect();
    assert_eq!(durations.len(), 3, "15 s in ~6 s segments: {v128}");
    assert!(durations[..2]
        .iter()
        .all(|d| (d - 258.0 * 1024.0 / 44_100.0).abs() < 1e-5));
    let key_uri = attrs(&v128, "#EXT-X-KEY", "URI").remove(0);
    let key_path = format!("/api/tracks/{id}/hls/{}", key_uri.trim_start_matches("../"));

    // ffmpeg plays the master and each variant: every access unit decodes, and the source
    // starts exactly after the encoder delay the init segment's edit list declares.
    // Safari's native HLS cannot send headers: the query token is carried into every URI of
    // the playlists it fetches.
    let query_token = format!(
        "{}/api/tracks/{id}/hls/master.m3u8?access_token={token}",
        s.base
    );
    for (url, header) in [
        (format!("{}/api/tracks/{id}/hls/master.m3u8", s.base), true),
        (
            format!("{}/api/tracks/{id}/hls/v256/index.m3u8", s.base),
            true,
        ),
        (
            format!("{}/api/tracks/{id}/hls/v320/index.m3u8", s.base),
            true,
        ),
        (query_token, false),
    ] {
        let got = ffmpeg_hls(&url, header.then_some(token.as_str()));
        let timeline = durations.iter().sum::<f64>() * RATE as f64;
        assert_eq!(
            got.len() / 2,
            timeline.round() as usize,
            "{url}: whole timeline decodes"
        );
        let (lag, corr) = best_lag(&pcm.samples, &got, 4096);
        assert!(corr > 0.95, "{url}: content matches the source ({corr})");
        assert_eq!(lag, 2048, "{url}: source starts after the AAC-LC priming");
    }

    // Segments are ciphertext at rest (the init segment holds no audio and is clear).
    let segs = stored_files(&s, "/v128/seg0.m4s");
    assert_eq!(segs.len(), 1);
    let at_rest = std::fs::read(&segs[0]).unwrap();
    assert_ne!(&at_rest[4..8], b"styp");
    assert_eq!(at_rest.len() % 16, 0);
    let served = s
        .get(&format!("/api/tracks/{id}/hls/v128/seg0.m4s"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(&served[..], &at_rest[..]);
    // Ranged reads of a segment.
    let r = s
        .client
        .get(s.url(&format!("/api/tracks/{id}/hls/v128/seg1.m4s")))
        .header("range", "bytes=100-299")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    let whole = s
        .get(&format!("/api/tracks/{id}/hls/v128/seg1.m4s"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes 100-299/{}", whole.len())
    );
    assert_eq!(&r.bytes().await.unwrap()[..], &whole[100..300]);
    // Names outside the manifest are not reachable.
    for bad in [
        "seg99.m4s",
        "seg01.m4s",
        "..%2Fkey",
        "index.m3u8x",
        "seg-1.m4s",
    ] {
        let st = s
            .get(&format!("/api/tracks/{id}/hls/v128/{bad}"))
            .await
            .status();
        assert_eq!(st, 404, "{bad}");
    }

    // Re-packaging (an admin re-run) makes a new package under a new prefix with a new key;
    // a player still holding the old playlist is told to reload (410), never fed new bytes.
    let old_seg = format!("/api/tracks/{id}/hls/v128/seg0.m4s?p={tag}");
    assert_eq!(s.get(&old_seg).await.status(), 200);
    let old_files = stored_files(&s, "/v128/seg0.m4s");
    assert_eq!(old_files.len(), 1, "the first package's segment is stored");
    let rerun = s
        .client
        .post(s.url("/api/jobs"))
        .json(&serde_json::json!({ "tracks": [id] }))
        .send()
        .await
        .unwrap();
    assert_eq!(rerun.status(), 202);
    s.until(120, "the re-run to finish", || async {
        let p = processing(&s, &id).await;
        let hls = p["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["kind"] == "hls")
            .cloned()
            .unwrap();
        (p["status"] == "ready" && hls["attempts"] == 2).then_some(())
    })
    .await;
    assert_eq!(s.get(&old_seg).await.status(), 410);
    assert_eq!(
        reqwest::Client::new()
            .get(s.url(&key_path))
            .send()
            .await
            .unwrap()
            .status(),
        410,
        "the old package's key link"
    );
    // The old objects are removed right after the new package is published (the same worker,
    // outside the publishing transaction), so a reader may see the job ready a moment before.
    s.until(30, "the old package's objects to be removed", || async {
        old_files.iter().all(|f| !f.exists()).then_some(())
    })
    .await;
    let v128 = s
        .get(&format!("/api/tracks/{id}/hls/v128/index.m3u8"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!v128.contains(tag), "a new package, a new tag");
    let key_uri = attrs(&v128, "#EXT-X-KEY", "URI").remove(0);
    let key_path = format!("/api/tracks/{id}/hls/{}", key_uri.trim_start_matches("../"));

    // Playlists and segments need a signed-in user; the key needs its signed link.
    let anon = reqwest::Client::new();
    for path in [
        format!("/api/tracks/{id}/hls/master.m3u8"),
        format!("/api/tracks/{id}/hls/v128/seg0.m4s"),
    ] {
        assert_eq!(
            anon.get(s.url(&path)).send().await.unwrap().status(),
            401,
            "{path}"
        );
    }
    let key = anon.get(s.url(&key_path)).send().await.unwrap();
    assert_eq!(key.status(), 200, "the signed link is the credential");
    assert_eq!(key.bytes().await.unwrap().len(), 16);
    let tampered = key_path.replace("sig=", "sig=0");
    assert_eq!(
        anon.get(s.url(&tampered)).send().await.unwrap().status(),
        403
    );
    let other_user = key_path.replacen("u=", "u=x", 1);
    assert_eq!(
        anon.get(s.url(&other_user)).send().await.unwrap().status(),
        403
    );
    let bare = format!("/api/tracks/{id}/hls/key");
    assert_eq!(anon.get(s.url(&bare)).send().await.unwrap().status(), 401);

    // 30 key requests a minute per address: ffmpeg and the checks above used some; the rest
    // of the quota is served, then 429 with Retry-After.
    let mut served = 0;
    let limited = loop {
        let r = anon.get(s.url(&key_path)).send().await.unwrap();
        if r.status() == 429 {
            break r;
        }
        assert_eq!(r.status(), 200);
        served += 1;
        assert!(served <= 30, "the key limit never applied");
    };
    assert!(limited.headers().contains_key("retry-after"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unpackaged_track_answers_409_with_its_job() {
    let pcm = signal(3.0);
    // No workers on this node: the job stays queued, visible, and urgent.
    let s = TestServer::start_with(
        |lib| {
            flac(lib, "later", "Later", &pcm);
            flac(lib, "broken", "Broken", &pcm);
        },
        // (the CLI below reads the same settings: only what is asked for is packaged)
        &[
            ("TONEARM_JOBS__WORKERS", "0"),
            ("TONEARM_JOBS__HLS_ALL", "false"),
        ],
    )
    .await;
    let id = s.track_id("Later").await;
    for path in ["master.m3u8", "v128/index.m3u8", "v128/seg0.m4s"] {
        let r = s.get(&format!("/api/tracks/{id}/hls/{path}")).await;
        assert_eq!(r.status(), 409, "{path}");
        assert!(r.headers().contains_key("retry-after"));
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_ready");
        assert_eq!(body["job"]["state"], "pending", "{body}");
        assert_eq!(body["job"]["kind"], "hls");
        assert_eq!(
            body["job"]["priority"], 10,
            "a waiting player jumps the queue"
        );
    }
    let jobs = s.json("/api/jobs?kind=hls").await;
    assert_eq!(
        jobs["items"].as_array().unwrap().len(),
        1,
        "asking thrice queued one job: {jobs}"
    );
    assert_eq!(processing(&s, &id).await["status"], "pending");
    assert_eq!(s.get("/api/jobs?state=bogus").await.status(), 400);

    // `tonearm process` runs the same queue from the CLI; the server then serves the result.
    let bad = s.cli().args(["process", "no-such-track"]).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no track with id"));
    let out = s.cli().args(["process", "--all"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("3 jobs done, 0 failed"),
        "loudness of both tracks, and hls of the one asked for: {text}"
    );
    assert_eq!(processing(&s, &id).await["status"], "ready");
    let master = s.get(&format!("/api/tracks/{id}/hls/master.m3u8")).await;
    assert_eq!(master.status(), 200);
    assert_eq!(
        s.get("/api/tracks/nope/hls/master.m3u8").await.status(),
        404
    );

    // A file that no longer decodes (same size and mtime, so no scan notices) and was never
    // packaged: its packaging fails for good, with the reason, and players are told so
    // instead of being asked to retry forever.
    let broken = s.track_id("Broken").await;
    let file = s.lib().join("broken.flac");
    let meta = std::fs::metadata(&file).unwrap();
    std::fs::write(&file, vec![0x5au8; meta.len() as usize]).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(meta.modified().unwrap())
        .unwrap();
    let r = s
        .get(&format!("/api/tracks/{broken}/hls/master.m3u8"))
        .await;
    assert_eq!(r.status(), 409, "asking queues it");
    let out = s.cli().args(["process", "--all"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "failures make the CLI fail: {text}");
    assert!(text.contains("0 jobs done, 1 failed"), "{text}");
    let p = processing(&s, &broken).await;
    assert_eq!(p["status"], "failed", "{p}");
    assert!(!p["reason"].as_str().unwrap().is_empty(), "{p}");
    let r = s
        .get(&format!("/api/tracks/{broken}/hls/master.m3u8"))
        .await;
    assert_eq!(r.status(), 422);
    assert!(!r.headers().contains_key("retry-after"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "packaging_failed", "{body}");
    assert_eq!(body["job"]["state"], "failed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_killed_mid_way_runs_again_and_nothing_half_made_is_served() {
    let pcm = signal(40.0);
    // Paced at 8× real time: packaging takes ~5 s, long enough to be caught in the act.
    let mut s = TestServer::start_with(
        |lib| flac(lib, "crash", "Crash", &pcm),
        &[
            ("TONEARM_JOBS__HLS_ALL", "true"),
            ("TONEARM_JOBS__PACE", "8"),
        ],
    )
    .await;
    let id = s.track_id("Crash").await;
    // Caught in the act: the job is processing and has stored some of its segments.
    s.until(60, "packaging to be under way", || async {
        let jobs = s.json(&format!("/api/jobs?kind=hls&track={id}")).await;
        let processing = jobs["items"][0]["state"] == "processing";
        (processing && !stored_files(&s, "/seg0.m4s").is_empty()).then_some(())
    })
    .await;
    let first_attempt = stored_files(&s, "/seg0.m4s");
    assert_eq!(
        s.get(&format!("/api/tracks/{id}/hls/master.m3u8"))
            .await
            .status(),
        409,
        "a package being made is not served"
    );
    s.restart().await; // SIGKILL, then the same data dir
    let p = wait_ready(&s, &id).await;
    let hls = p["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["kind"] == "hls")
        .unwrap()
        .clone();
    assert_eq!(
        hls["attempts"], 2,
        "the interrupted attempt ran again: {hls}"
    );
    for f in &first_attempt {
        assert!(
            !f.exists(),
            "the interrupted attempt's files were swept: {}",
            f.display()
        );
    }
    let token = login(&s.base, ADMIN, ADMIN_PASSWORD).await;
    let got = ffmpeg_hls(
        &format!("{}/api/tracks/{id}/hls/master.m3u8", s.base),
        Some(&token),
    );
    let (lag, corr) = best_lag(&pcm.samples, &got, 4096);
    assert!(corr > 0.95 && lag == 2048, "lag {lag}, correlation {corr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn packages_live_in_a_real_s3_bucket_and_stream_from_it() {
    let s3 = S3Server::start();
    let pcm = signal(8.0);
    let mut env: Vec<(String, String)> = s3.env();
    env.push(("TONEARM_JOBS__HLS_ALL".into(), "true".into()));
    let env_ref: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let s = TestServer::start_with(|lib| flac(lib, "s3", "S3", &pcm), &env_ref).await;
    let id = s.track_id("S3").await;
    wait_ready(&s, &id).await;

    // The objects are in the bucket (under the configured prefix), none in the data dir.
    let in_bucket = s3.root.path().join(&s3.bucket).join("media/hls").join(&id);
    let count = walk(&in_bucket).len();
    assert!(
        count >= 3 * 3,
        "init + segments of three variants in S3: {count}"
    );
    assert!(
        stored_files(&s, ".m4s").is_empty(),
        "nothing stored locally"
    );

    // A ranged read that misses the node's cache is a ranged GET to S3.
    let seg = format!("/api/tracks/{id}/hls/v256/seg1.m4s");
    let r = s
        .client
        .get(s.url(&seg))
        .header("range", "bytes=16-1039")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    let part = r.bytes().await.unwrap();
    let whole = s.get(&seg).await.bytes().await.unwrap();
    assert_eq!(&part[..], &whole[16..1040]);
    let on_disk = walk(&in_bucket)
        .into_iter()
        .find(|p| p.ends_with("v256/seg1.m4s"))
        .unwrap();
    assert_eq!(
        &whole[..],
        &std::fs::read(on_disk).unwrap()[..],
        "served bytes are the stored bytes"
    );

    let token = login(&s.base, ADMIN, ADMIN_PASSWORD).await;
    let got = ffmpeg_hls(
        &format!("{}/api/tracks/{id}/hls/master.m3u8", s.base),
        Some(&token),
    );
    let (lag, corr) = best_lag(&pcm.samples, &got, 4096);
    assert!(corr > 0.95 && lag == 2048, "lag {lag}, correlation {corr}");

    // Storage gone: an uncached segment is a clear 503, and the server keeps serving.
    drop(s3);
    let r = s.get(&format!("/api/tracks/{id}/hls/v320/seg0.m4s")).await;
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "storage_unavailable");
    assert_eq!(s.get("/health").await.status(), 200);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn two_nodes_on_shared_postgres_redis_and_s3_are_one_service() {
    let db = create_database(
        &postgres_server(),
        &format!("two_nodes_{}", std::process::id()),
    );
    let s3 = S3Server::start();
    // The nodes share their media the way a NAS mount would: uploads go to one folder both read.
    let shared = tempfile::tempdir().unwrap();
    let uploads = shared.path().to_string_lossy().to_string();
    let mut env: Vec<(String, String)> = s3.env();
    env.extend(
        [
            ("TONEARM_AUTH__JWT_SECRET", SHARED_SECRET),
            ("TONEARM_DATABASE_URL", db.as_str()),
            ("TONEARM_UPLOAD_DIR", uploads.as_str()),
            ("TONEARM_JOBS__HLS_ALL", "true"),
            ("TONEARM_HLS__KEY_PER_MINUTE", "12"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let a = TestServer::start_on(Backend::redis(), |_| {}, &env).await;
    let redis = a.backend.redis_server().unwrap().url.clone();
    let b = TestServer::start_on(Backend::SharedRedis(redis), |_| {}, &env).await;

    // Upload on A.
    let dir = tempfile::tempdir().unwrap();
    let pcm = signal(7.0);
    flac(dir.path(), "up", "Uploaded On A", &pcm);
    let bytes = std::fs::read(dir.path().join("up.flac")).unwrap();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name("up.flac"),
    );
    let r = a
        .client
        .post(a.url("/api/tracks"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    let id = body["items"][0]["id"].as_str().unwrap().to_string();

    // B knows the track at once (one database) and, once a worker on either node has packaged
    // it, serves it from the shared bucket; ffmpeg plays it through B.
    assert_eq!(
        b.json(&format!("/api/tracks/{id}")).await["title"],
        "Uploaded On A"
    );
    let done = wait_ready(&b, &id).await;
    let token_b = login(&b.base, ADMIN, ADMIN_PASSWORD).await;
    let got = ffmpeg_hls(
        &format!("{}/api/tracks/{id}/hls/master.m3u8", b.base),
        Some(&token_b),
    );
    let (lag, corr) = best_lag(&pcm.samples, &got, 4096);
    assert!(corr > 0.95 && lag == 2048, "lag {lag}, correlation {corr}");

    // Each job ran exactly once across the two nodes: one attempt, one completion in all.
    for job in done["jobs"].as_array().unwrap() {
        assert_eq!(job["attempts"], 1, "{job}");
    }
    let mut completions = 0.0;
    for node in [&a, &b] {
        let text = node.get("/metrics").await.text().await.unwrap();
        completions += text
            .lines()
            .filter(|l| l.starts_with("tonearm_jobs_total{") && l.contains("outcome=\"done\""))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>();
    }
    assert_eq!(
        completions, 2.0,
        "loudness + hls, once each, across both nodes"
    );

    // The key limit is one budget across the nodes (Redis): spend it on A, B refuses.
    let v = b
        .get(&format!("/api/tracks/{id}/hls/v128/index.m3u8"))
        .await
        .text()
        .await
        .unwrap();
    let key_uri = attrs(&v, "#EXT-X-KEY", "URI").remove(0);
    let key_path = format!("/api/tracks/{id}/hls/{}", key_uri.trim_start_matches("../"));
    let anon = reqwest::Client::new();
    let mut served_on_a = 0;
    while anon.get(a.url(&key_path)).send().await.unwrap().status() == 200 {
        served_on_a += 1;
        assert!(served_on_a <= 12, "the limit never applied on A");
    }
    let on_b = anon.get(b.url(&key_path)).send().await.unwrap();
    assert_eq!(
        on_b.status(),
        429,
        "B counts what A served (shared key budget)"
    );
}
