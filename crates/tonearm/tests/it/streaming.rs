//! Streaming through the real server: originals with full HTTP range/conditional semantics, and
//! first-play transcodes with exact lengths and mid-stream ranges, checked by ffmpeg.

use crate::common::*;
use std::path::Path;
use tonearm_media::synth::sine;
use tonearm_media::{Format, Quality, StreamPlan};

const LONG_SECS: f64 = 40.0;

fn library(lib: &Path) {
    let tmp = lib.join("long.wavtmp");
    wav(&tmp, &sine(440.0, LONG_SECS, 44_100, 2, 0.4));
    encode(
        &tmp,
        &lib.join("long.flac"),
        &["-f", "flac", "-c:a", "flac", "-metadata", "title=Long"],
    );
    std::fs::remove_file(&tmp).unwrap();
    let tmp = lib.join("next.wavtmp");
    wav(&tmp, &sine(550.0, 20.0, 44_100, 2, 0.4));
    encode(
        &tmp,
        &lib.join("next.flac"),
        &["-f", "flac", "-c:a", "flac", "-metadata", "title=Next"],
    );
    std::fs::remove_file(&tmp).unwrap();
    wav(&lib.join("mono48.wav"), &sine(660.0, 12.0, 48_000, 1, 0.4));
    wav(&lib.join("quiet.wav"), &sine(440.0, 8.0, 44_100, 2, 0.0316));
    wav(&lib.join("loud.wav"), &sine(440.0, 8.0, 44_100, 2, 0.5));
    wav(&lib.join("other.wav"), &sine(770.0, 10.0, 44_100, 2, 0.4));
    wav(&lib.join("endless.wav"), &sine(330.0, 90.0, 44_100, 2, 0.4));
}

async fn head(s: &TestServer, path: &str) -> reqwest::Response {
    s.client.head(s.url(path)).send().await.unwrap()
}

async fn get_with(s: &TestServer, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut rb = s.client.get(s.url(path));
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    rb.send().await.unwrap()
}

/// The byte layout the server plans for a transcode of a 44.1 kHz stereo source.
fn plan_44k_stereo(format: Format, quality: Quality, source_frames: u64) -> StreamPlan {
    StreamPlan::new(
        format,
        quality,
        44_100,
        2,
        source_frames,
        tonearm_media::encode::opus_lookahead(),
    )
}

fn hdr(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn original_files_have_full_http_semantics() {
    let s = TestServer::start(library).await;
    let id = s.track_id("Long").await;
    let file = std::fs::read(s.lib().join("long.flac")).unwrap();
    let len = file.len();
    for base in [
        format!("/api/tracks/{id}/stream"),
        format!("/cdn/stream/{id}"),
    ] {
        let r = s.get(&base).await;
        assert_eq!(r.status(), 200);
        assert_eq!(hdr(&r, "accept-ranges"), "bytes");
        assert_eq!(hdr(&r, "content-type"), "audio/flac");
        assert_eq!(hdr(&r, "content-length"), len.to_string());
        let etag = hdr(&r, "etag");
        let last_modified = hdr(&r, "last-modified");
        assert!(etag.starts_with('"') && !last_modified.is_empty());
        assert_eq!(r.bytes().await.unwrap().as_ref(), &file[..]);

        let r = get_with(&s, &base, &[("range", "bytes=100-199")]).await;
        assert_eq!(r.status(), 206);
        assert_eq!(hdr(&r, "content-range"), format!("bytes 100-199/{len}"));
        assert_eq!(r.bytes().await.unwrap().as_ref(), &file[100..200]);

        let r = get_with(&s, &base, &[("range", "bytes=-50")]).await;
        assert_eq!(r.status(), 206);
        assert_eq!(r.bytes().await.unwrap().as_ref(), &file[len - 50..]);

        let r = get_with(&s, &base, &[("range", &format!("bytes={}-", len - 10))]).await;
        assert_eq!(
            hdr(&r, "content-range"),
            format!("bytes {}-{}/{len}", len - 10, len - 1)
        );
        assert_eq!(r.bytes().await.unwrap().as_ref(), &file[len - 10..]);

        let r = get_with(&s, &base, &[("range", &format!("bytes={len}-"))]).await;
        assert_eq!(r.status(), 416);
        assert_eq!(hdr(&r, "content-range"), format!("bytes */{len}"));

        let r = head(&s, &base).await;
        assert_eq!(r.status(), 200);
        assert_eq!(hdr(&r, "content-length"), len.to_string());
        assert_eq!(hdr(&r, "etag"), etag);
        assert!(r.bytes().await.unwrap().is_empty());

        let r = get_with(&s, &base, &[("if-none-match", &etag)]).await;
        assert_eq!(r.status(), 304);
        let r = get_with(&s, &base, &[("if-modified-since", &last_modified)]).await;
        assert_eq!(r.status(), 304);

        // If-Range: a current validator keeps the range, a stale one gets the whole file.
        let r = get_with(&s, &base, &[("range", "bytes=0-9"), ("if-range", &etag)]).await;
        assert_eq!(r.status(), 206);
        let r = get_with(
            &s,
            &base,
            &[("range", "bytes=0-9"), ("if-range", &last_modified)],
        )
        .await;
        assert_eq!(r.status(), 206);
        let r = get_with(
            &s,
            &base,
            &[("range", "bytes=0-9"), ("if-range", "\"stale\"")],
        )
        .await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.bytes().await.unwrap().len(), len);
        let r = get_with(
            &s,
            &base,
            &[
                ("range", "bytes=0-9"),
                ("if-range", "Mon, 01 Jan 2001 00:00:00 GMT"),
            ],
        )
        .await;
        assert_eq!(r.status(), 200);
        // Garbage ranges are ignored (whole file), never an error.
        let r = get_with(&s, &base, &[("range", "bytes=zz-")]).await;
        assert_eq!(r.status(), 200);
    }
}

/// Fetches a transcode on a fresh server (first play) and has ffmpeg decode it.
async fn check_first_play(
    s: &TestServer,
    title: &str,
    source_frames: u64,
    source_rate: u32,
    format: Format,
    quality: Quality,
) {
    let id = s.track_id(title).await;
    let path = format!("/api/tracks/{id}/stream?quality={quality}&format={format}");
    let r = s.get(&path).await;
    assert_eq!(r.status(), 200, "{path}");
    assert_eq!(hdr(&r, "content-type"), format.mime());
    assert_eq!(hdr(&r, "accept-ranges"), "bytes");
    let declared: usize = hdr(&r, "content-length")
        .parse()
        .expect("first play has a Content-Length");
    let body = r.bytes().await.unwrap();
    assert_eq!(body.len(), declared, "{path}: body matches declared length");
    let dir = tempfile::tempdir().unwrap();
    let f = to_file(dir.path(), &format!("out.{}", format.extension()), &body);
    let (samples, ch, rate) = decode_strict(&f);
    assert_eq!(rate, 48_000);
    let frames = (samples.len() / ch) as u64;
    let expect = (source_frames * 48_000).div_ceil(source_rate as u64);
    assert_eq!(frames, expect, "{path}: decoded length equals the source's");
    let unit = match format {
        Format::Mp3 => 1152.0 / 48_000.0,
        Format::Opus => 0.020,
    };
    let (start, dur) = probe_duration(&f);
    let src_dur = source_frames as f64 / source_rate as f64;
    let playable = dur - start.max(0.0);
    assert!(
        (playable - src_dur).abs() <= unit,
        "{path}: ffprobe start {start} duration {dur} vs source {src_dur}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn first_play_transcodes_have_exact_length_and_decode_cleanly() {
    let s = TestServer::start(library).await;
    for format in [Format::Mp3, Format::Opus] {
        for quality in [Quality::Low, Quality::Medium, Quality::High] {
            check_first_play(
                &s,
                "Long",
                (LONG_SECS * 44_100.0) as u64,
                44_100,
                format,
                quality,
            )
            .await;
        }
        check_first_play(&s, "mono48", 12 * 48_000, 48_000, format, Quality::Medium).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mid_stream_range_on_first_play_starts_at_the_matching_frame() {
    for format in [Format::Mp3, Format::Opus] {
        let s = TestServer::start(library).await;
        let id = s.track_id("Long").await;
        let path = format!("/api/tracks/{id}/stream?quality=medium&format={format}");
        let plan = plan_44k_stereo(format, Quality::Medium, (LONG_SECS * 44_100.0) as u64);
        let total = plan.total_len();
        // 60% in: inside a unit, several chunks past the start.
        let from = total * 6 / 10 + 7;
        let r = get_with(&s, &path, &[("range", &format!("bytes={from}-"))]).await;
        assert_eq!(r.status(), 206);
        assert_eq!(
            hdr(&r, "content-range"),
            format!("bytes {from}-{}/{total}", total - 1)
        );
        let tail = r.bytes().await.unwrap();
        assert_eq!(tail.len() as u64, total - from);
        let started = s.metric("tonearm_encodes_started_total").await;
        let first_chunk = plan.chunk_at(from).unwrap();
        assert!(first_chunk >= 3);
        assert_eq!(
            started,
            (plan.chunk_count() - first_chunk) as f64,
            "a seek encodes only from its chunk on"
        );

        // The bytes a seek got on first play are exactly those of the full stream.
        let full = s.get(&path).await.bytes().await.unwrap();
        assert_eq!(full.len() as u64, total);
        assert_eq!(
            &full[from as usize..],
            &tail[..],
            "{format}: ranged bytes equal the full stream's"
        );

        // Decoding from the unit boundary after `from` is clean for an independent decoder.
        let dir = tempfile::tempdir().unwrap();
        let unit = plan.unit_bytes();
        let header = plan.header().len() as u64;
        let boundary = header + (from - header).div_ceil(unit) * unit;
        let mut piece = Vec::new();
        if format == Format::Opus {
            piece.extend_from_slice(plan.header()); // Ogg needs its headers; pages follow as served
        }
        piece.extend_from_slice(&full[boundary as usize..]);
        let f = to_file(dir.path(), &format!("tail.{}", format.extension()), &piece);
        let (samples, ch, _) = decode_strict(&f);
        assert!(
            samples.len() / ch > 48_000 * 10,
            "{format}: the tail holds the rest of the track"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_listeners_share_one_transcode_and_the_cache_survives_restart() {
    let mut s = TestServer::start(library).await;
    let id = s.track_id("Long").await;
    let path = format!("/api/tracks/{id}/stream?quality=low");
    let plan = plan_44k_stereo(Format::Mp3, Quality::Low, (LONG_SECS * 44_100.0) as u64);
    let chunks = plan.chunk_count() as f64;
    let fetch = || async { s.get(&path).await.bytes().await.unwrap() };
    let (a, b, c) = tokio::join!(fetch(), fetch(), fetch());
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_eq!(a.len() as u64, plan.total_len());
    assert_eq!(
        s.metric("tonearm_encodes_started_total").await,
        chunks,
        "one encode per chunk for three listeners"
    );
    assert_eq!(s.metric("tonearm_cache_misses_total").await, chunks);
    let hits = s.metric("tonearm_cache_hits_total{tier=\"memory\"}").await
        + s.metric("tonearm_cache_hits_total{tier=\"shared\"}").await;
    assert_eq!(hits, 2.0 * chunks);
    // The last chunk enters the memory cache when its encode task finishes, which may be just
    // after its bytes reached the listeners: wait for the server to report it.
    let health = s
        .until(10, "every chunk in the memory cache", || async {
            let h = s.json("/health").await;
            (h["cache"]["entries"] == chunks as u64).then_some(h)
        })
        .await;
    assert!(health["cache"]["hit_ratio"].as_f64().unwrap() > 0.6);

    // After a restart the memory cache is empty but the disk cache answers: no encoding.
    s.restart().await;
    let again = s.get(&path).await.bytes().await.unwrap();
    assert_eq!(again, a);
    assert_eq!(s.metric("tonearm_encodes_started_total").await, 0.0);
    assert_eq!(
        s.metric("tonearm_cache_hits_total{tier=\"disk\"}").await,
        chunks
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn prefetch_and_head_warm_the_next_track() {
    let s = TestServer::start(library).await;
    let long = s.track_id("Long").await;
    let next = s.track_id("Next").await;
    let other = s.track_id("other").await;
    let body = s
        .get(&format!(
            "/api/tracks/{long}/stream?quality=medium&prefetch={next}"
        ))
        .await
        .bytes()
        .await
        .unwrap();
    assert!(!body.is_empty());
    let plan = plan_44k_stereo(Format::Mp3, Quality::Medium, (LONG_SECS * 44_100.0) as u64);
    let long_chunks = plan.chunk_count() as f64;
    // The prefetch of Next's first chunk is one more encode; wait until it is done.
    s.until(60, "prefetch encode", || async {
        let started = s.metric("tonearm_encodes_started_total").await;
        let running = s.metric("tonearm_transcodes_running").await;
        (started == long_chunks + 1.0 && running == 0.0).then_some(())
    })
    .await;
    let hits_before = s.metric("tonearm_cache_hits_total{tier=\"memory\"}").await;
    let r = get_with(
        &s,
        &format!("/api/tracks/{next}/stream?quality=medium"),
        &[("range", "bytes=0-9999")],
    )
    .await;
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().await.unwrap().len(), 10_000);
    assert_eq!(
        s.metric("tonearm_encodes_started_total").await,
        long_chunks + 1.0,
        "Next started from cache"
    );
    assert_eq!(
        s.metric("tonearm_cache_hits_total{tier=\"memory\"}").await,
        hits_before + 1.0
    );

    // HEAD on a transcode warms its first chunk too.
    let r = head(&s, &format!("/api/tracks/{other}/stream?quality=medium")).await;
    assert_eq!(r.status(), 200);
    assert!(hdr(&r, "content-length").parse::<u64>().unwrap() > 0);
    s.until(60, "HEAD warm-up", || async {
        let started = s.metric("tonearm_encodes_started_total").await;
        let running = s.metric("tonearm_transcodes_running").await;
        (started == long_chunks + 2.0 && running == 0.0).then_some(())
    })
    .await;
    let r = get_with(
        &s,
        &format!("/api/tracks/{other}/stream?quality=medium"),
        &[("range", "bytes=0-99")],
    )
    .await;
    assert_eq!(r.bytes().await.unwrap().len(), 100);
    assert_eq!(
        s.metric("tonearm_encodes_started_total").await,
        long_chunks + 2.0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_leaves_leaves_no_transcode_behind() {
    let s = TestServer::start(library).await;
    let id = s.track_id("endless").await;
    let plan = plan_44k_stereo(Format::Mp3, Quality::High, 90 * 44_100);
    let mut r = s
        .get(&format!("/api/tracks/{id}/stream?quality=high"))
        .await;
    assert_eq!(r.status(), 200);
    let first = r.chunk().await.unwrap().expect("first bytes");
    assert!(!first.is_empty());
    drop(r);
    s.until(60, "stream to end and encodes to stop", || async {
        let active = s.metric("tonearm_streams_active").await;
        let running = s.metric("tonearm_transcodes_running").await;
        (active == 0.0 && running == 0.0).then_some(())
    })
    .await;
    let started = s.metric("tonearm_encodes_started_total").await;
    // The chunk being sent and the one read ahead, never the rest of the track. (The first
    // bytes may be the header alone, made from the plan, so no lower bound here.)
    assert!(
        started <= 2.0,
        "{started} encodes started for a listener who left after the first bytes"
    );
    assert!(plan.chunk_count() > 10);
}

fn rms_db(samples: &[f32]) -> f64 {
    let skip = samples.len() / 10;
    let s = &samples[skip..samples.len() - skip];
    let ms = s.iter().map(|x| (*x as f64) * (*x as f64)).sum::<f64>() / s.len() as f64;
    10.0 * ms.log10()
}

#[tokio::test(flavor = "multi_thread")]
async fn normalize_brings_quiet_and_loud_tracks_to_one_level() {
    let s = TestServer::start(library).await;
    let dir = tempfile::tempdir().unwrap();
    let mut levels = Vec::new();
    for (title, normalize) in [("quiet", 0), ("loud", 0), ("quiet", 1), ("loud", 1)] {
        let id = s.track_id(title).await;
        let body = s
            .get(&format!(
                "/api/tracks/{id}/stream?quality=high&normalize={normalize}"
            ))
            .await
            .bytes()
            .await
            .unwrap();
        let f = to_file(dir.path(), &format!("{title}{normalize}.mp3"), &body);
        levels.push(rms_db(&decode_strict(&f).0));
    }
    assert!(
        (levels[1] - levels[0] - 24.0).abs() < 1.0,
        "sources differ by 24 dB: {levels:?}"
    );
    assert!(
        (levels[3] - levels[2]).abs() < 1.0,
        "normalized levels agree: {levels:?}"
    );
    // -18 LUFS for a 440 Hz stereo sine is about -21 dBFS RMS per channel.
    assert!(
        (levels[2] + 21.0).abs() < 2.0,
        "normalized to the target: {levels:?}"
    );
    let tracks = s.tracks_by_title().await;
    assert!(
        tracks["quiet"]["loudness_lufs"].as_f64().is_some(),
        "measured loudness is stored"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_stream_requests_get_clear_errors() {
    let s = TestServer::start(library).await;
    let id = s.track_id("Long").await;
    for (q, code) in [
        ("quality=ultra", 400),
        ("format=wma&quality=low", 400),
        ("quality=original&normalize=1", 400),
        ("normalize=yes", 400),
    ] {
        let r = s.get(&format!("/api/tracks/{id}/stream?{q}")).await;
        assert_eq!(r.status(), code, "{q}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(body["error"]["message"].as_str().unwrap().len() > 5, "{q}");
    }
    assert_eq!(s.get("/api/tracks/nope/stream").await.status(), 404);
    assert_eq!(
        s.get("/api/tracks/..%2F..%2Fetc%2Fpasswd/stream")
            .await
            .status(),
        404
    );
    let r = get_with(
        &s,
        &format!("/api/tracks/{id}/stream?quality=low"),
        &[("range", "bytes=999999999-")],
    )
    .await;
    assert_eq!(r.status(), 416);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_changed_since_the_scan_is_not_transcoded_from_stale_facts() {
    let s = TestServer::start(library).await;
    let id = s.track_id("other").await;
    // Replace the file with a longer one behind the catalog's back.
    wav(
        &s.lib().join("other.wav"),
        &sine(770.0, 14.0, 44_100, 2, 0.4),
    );
    let r = s.get(&format!("/api/tracks/{id}/stream?quality=low")).await;
    assert_eq!(r.status(), 409);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "file_changed");
    // The refusal started a rescan; afterwards the track streams with its new length.
    s.until(60, "rescan after the change", || async {
        let t = s.json(&format!("/api/tracks/{id}")).await;
        (t["duration_ms"] == 14_000).then_some(())
    })
    .await;
    s.wait_scan_done().await;
    let body = s
        .get(&format!("/api/tracks/{id}/stream?quality=low"))
        .await
        .bytes()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (samples, ch, _) = decode_strict(&to_file(dir.path(), "o.mp3", &body));
    assert_eq!((samples.len() / ch) as u64, 14 * 48_000);
}
