//! Operating the server: health, metrics, request ids, error shape, the CLI and its config.

use crate::common::*;
use serde_json::Value;
use std::process::Command;
use tonearm_media::synth::sine;

#[tokio::test(flavor = "multi_thread")]
async fn health_and_metrics_report_the_server() {
    let s =
        TestServer::start(|lib| wav(&lib.join("a.wav"), &sine(440.0, 2.0, 44_100, 2, 0.3))).await;
    let h = s.json("/health").await;
    assert_eq!(h["status"], "ok");
    assert_eq!(h["db"], "ok");
    assert!(h["uptime_s"].as_u64().is_some());
    let rss = h["memory"]["rss_bytes"].as_u64().unwrap();
    assert!(rss > 1_000_000, "rss {rss}");
    for k in ["entries", "bytes", "hit_ratio"] {
        assert!(h["cache"][k].is_number(), "cache.{k}");
    }
    let id = s.track_id("a").await;
    let _ = s
        .get(&format!("/api/tracks/{id}/stream?quality=low"))
        .await
        .bytes()
        .await
        .unwrap();
    let r = s.get("/metrics").await;
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    for name in [
        "tonearm_http_requests_total",
        "tonearm_http_request_duration_seconds",
        "tonearm_streams_active",
        "tonearm_cache_bytes",
        "tonearm_cache_misses_total",
        "tonearm_scan_files_found",
    ] {
        assert!(text.contains(name), "/metrics lacks {name}");
    }
    // Routes are labelled by template, not by raw path (bounded label sets).
    assert!(text.contains("route=\"/api/tracks/{id}/stream\""), "{text}");
    assert_eq!(s.metric("tonearm_scan_files_found").await, 1.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_response_carries_a_request_id_and_errors_are_json() {
    let s = TestServer::start(|_| {}).await;
    // (Paths outside /api, /cdn and /socket.io belong to the web app: see web.rs.)
    let r = s.get("/api/no/such/route").await;
    assert_eq!(r.status(), 404);
    assert!(r.headers().contains_key("x-request-id"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    // A known route with the wrong method: 405, in the same shape.
    let r = s.client.delete(s.url("/health")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
    let a = s.get("/health").await.headers()["x-request-id"].clone();
    let b = s.get("/health").await.headers()["x-request-id"].clone();
    assert_ne!(a, b);
    // A finished scan can be started again.
    assert_eq!(
        s.client
            .post(s.url("/api/library/scan"))
            .send()
            .await
            .unwrap()
            .status(),
        202
    );
}

#[test]
fn config_show_layers_file_env_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:5000\"\nscan_on_start = false\n[cache]\nmemory_bytes = 1234\n",
    )
    .unwrap();
    let run = |env: &[(&str, &str)], args: &[&str]| {
        let mut c = Command::new(bin());
        c.arg("--config")
            .arg(&file)
            .args(args)
            .args(["config", "show"]);
        c.env_remove("TONEARM_DATA")
            .env_remove("TONEARM_LIBRARY")
            .env_remove("TONEARM_CONFIG");
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let base = run(&[], &[]);
    assert!(base.contains("listen = \"127.0.0.1:5000\""), "{base}");
    assert!(base.contains("memory_bytes = 1234"), "{base}");
    assert!(base.contains("scan_on_start = false"));
    assert!(base.contains("data = \"./data\""));
    let env = run(
        &[
            ("TONEARM_LISTEN", "127.0.0.1:6000"),
            ("TONEARM_CACHE__MEMORY_BYTES", "99"),
            ("TONEARM_LIBRARY", "/m1:/m2"),
        ],
        &[],
    );
    assert!(env.contains("listen = \"127.0.0.1:6000\""), "{env}");
    assert!(env.contains("memory_bytes = 99"), "{env}");
    assert!(env.contains("\"/m1\"") && env.contains("\"/m2\""), "{env}");
    let flags = run(&[("TONEARM_DATA", "/from-env")], &["--data", "/from-flag"]);
    assert!(flags.contains("data = \"/from-flag\""), "{flags}");
    let env_data = run(&[("TONEARM_DATA", "/from-env")], &[]);
    assert!(env_data.contains("data = \"/from-env\""), "{env_data}");
    // A typo in the config is an error, not silently ignored.
    std::fs::write(&file, "lisen = \"x\"\n").unwrap();
    let out = Command::new(bin())
        .arg("--config")
        .arg(&file)
        .args(["config", "show"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("lisen"));
}

#[test]
fn demo_then_scan_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = Command::new(bin())
        .arg("--data")
        .arg(&data)
        .arg("demo")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(files.len(), tonearm_library::demo::DEMO_TRACKS.len());
    let exts: std::collections::BTreeSet<_> = files
        .iter()
        .map(|f| f.rsplit('.').next().unwrap().to_string())
        .collect();
    assert_eq!(exts.into_iter().collect::<Vec<_>>(), ["mp3", "opus", "wav"]);
    for f in &files {
        // ffmpeg agrees each demo file is clean audio.
        let (samples, ch, _) = decode_strict(std::path::Path::new(f));
        assert!(samples.len() / ch > 48_000 * 10, "{f}");
    }
    let out = Command::new(bin())
        .arg("--data")
        .arg(&data)
        .envs(db_env(&data))
        .arg("scan")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("scanned 5 files"), "{text}");
    assert!(text.contains("5 added/updated"), "{text}");
    let again = Command::new(bin())
        .arg("--data")
        .arg(&data)
        .envs(db_env(&data))
        .arg("scan")
        .output()
        .unwrap();
    let text = String::from_utf8(again.stdout).unwrap();
    assert!(text.contains("5 unchanged"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn first_run_on_an_empty_data_dir_offers_the_demo_library() {
    let dir = tempfile::tempdir().unwrap();
    add_user(dir.path(), ADMIN, ADMIN_PASSWORD, true);
    // No library configured: the server offers the demo library (on by default, set here so the
    // caller's environment cannot turn it off).
    let (mut child, base, _stdout) =
        spawn_server_on(dir.path(), None, &[("TONEARM_DEMO_ON_EMPTY", "true")]);
    let client = client_with_token(&login(&base, ADMIN, ADMIN_PASSWORD).await);
    wait_scan_done(&client, &base).await;
    let tracks: Value = client
        .get(format!("{base}/api/tracks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(tracks["total"], 5);
    let titles: Vec<&str> = tracks["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert!(titles.contains(&"Sunrise (C major, 120 BPM)"), "{titles:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_in_flight_responses_finish() {
    let mut s =
        TestServer::start(|lib| wav(&lib.join("big.wav"), &sine(440.0, 60.0, 48_000, 2, 0.3)))
            .await;
    let id = s.track_id("big").await;
    let len = std::fs::metadata(s.lib().join("big.wav")).unwrap().len() as usize;
    let mut r = s.get(&format!("/api/tracks/{id}/stream")).await;
    let mut got = r.chunk().await.unwrap().unwrap().len();
    // SIGTERM while the body is still being sent.
    let pid = s.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    while let Some(c) = r.chunk().await.unwrap() {
        got += c.len();
    }
    assert_eq!(got, len, "the response in flight was completed");
    let status = s.child.wait().unwrap();
    assert!(status.success(), "clean exit after shutdown: {status:?}");
    // New connections are refused once it has stopped.
    assert!(s.client.get(s.url("/health")).send().await.is_err());
}
