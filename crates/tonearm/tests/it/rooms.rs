//! Listening rooms driven by a stock Socket.IO client in another language (python-socketio,
//! from `scripts/ensure-deps.sh test`'s venv) against the real server. The scripts in
//! `rooms_client/` assert each step of `docs/rooms.md` and print one line per check.

use crate::common::*;
use std::path::PathBuf;
use std::process::Command;

fn python() -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.cache/test-venv/bin/python");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

/// Runs `rooms_client/<script> <base>` and fails with its output unless every check passed.
fn run_script(script: &str, base: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/rooms_client")
        .join(script);
    let out = Command::new(python())
        .arg(&path)
        .arg(base)
        .output()
        .unwrap_or_else(|e| panic!("python for {script} (run scripts/ensure-deps.sh test): {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(out.status.success(), "{script} failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("ok - "),
        "{script} ran no checks:\n{stdout}"
    );
    assert!(!stdout.contains("FAIL"), "{script}:\n{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stock_python_client_runs_the_whole_room_protocol() {
    let s = TestServer::start(|_| {}).await;
    let base = s.base.clone();
    tokio::task::spawn_blocking(move || run_script("flow.py", &base))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn room_limits_batches_layers_stats_and_idle_close() {
    let s = TestServer::start_with(
        |_| {},
        &[
            ("TONEARM_ROOMS__MAX_PARTICIPANTS", "12"),
            ("TONEARM_ROOMS__IDLE_CLOSE_SECS", "2"),
            ("TONEARM_ROOMS__CHAT_PER_5S", "5"),
        ],
    )
    .await;
    let base = s.base.clone();
    tokio::task::spawn_blocking(move || run_script("limits.py", &base))
        .await
        .unwrap();
}
