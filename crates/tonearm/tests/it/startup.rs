//! Start-up failures a user causes: each prints one sentence naming the fix and exits with
//! status 1 — never a backtrace, even with `RUST_BACKTRACE=1` in the environment.

use crate::common::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `tonearm serve` with `args` over the data dir `data` and returns its stderr, asserting
/// it failed the way a user should see: status 1, no trace, the last line `error: …`.
fn failed_start(data: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(bin());
    cmd.arg("serve").arg("--data").arg(data).args(args);
    cmd.env_remove("TONEARM_CONFIG")
        .env_remove("TONEARM_DATA")
        .env_remove("TONEARM_LIBRARY")
        .env_remove("TONEARM_DATABASE_URL")
        .env("RUST_BACKTRACE", "1")
        .env("RUST_LOG", "warn")
        .env("TONEARM_DEMO_ON_EMPTY", "false")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // A guard, not a timing assumption: these starts fail within seconds, and one that came
    // up instead would otherwise serve forever.
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("tonearm serve {args:?} started instead of failing");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    for trace in ["backtrace", "panicked", "Caused by", "Stack"] {
        assert!(!stderr.contains(trace), "a trace was printed:\n{stderr}");
    }
    let last = stderr.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
    assert!(last.starts_with("error: "), "{stderr}");
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error")).count(),
        1,
        "{stderr}"
    );
    last.to_string()
}

fn assert_names(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "{p:?} missing from: {msg}");
    }
}

#[test]
fn a_bad_setting_is_named_with_where_it_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tonearm.toml");
    std::fs::write(&file, "[limits]\napi_per_minute = \"lots\"\n").unwrap();
    let msg = failed_start(
        &dir.path().join("data"),
        &["--config", file.to_str().unwrap()],
        &[],
    );
    assert_names(
        &msg,
        &[
            "invalid configuration",
            "api_per_minute",
            "tonearm config show",
        ],
    );
    // From the environment, the variable is named instead of the file.
    let msg = failed_start(
        &dir.path().join("data"),
        &[],
        &[("TONEARM_LIMITS__API_PER_MINUTE", "lots")],
    );
    assert_names(&msg, &["invalid configuration", "TONEARM_"]);
    assert!(msg.to_lowercase().contains("api_per_minute"), "{msg}");
    let msg = failed_start(
        &dir.path().join("data"),
        &["--config", "/no/such.toml"],
        &[],
    );
    assert_names(&msg, &["/no/such.toml does not exist", "--config"]);
}

#[test]
fn a_missing_or_unreachable_postgres_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let base = postgres_server();
    let url = format!("{base}/tonearm_no_such_database_{}", std::process::id());
    let msg = failed_start(
        &dir.path().join("data"),
        &[],
        &[("TONEARM_DATABASE_URL", &url)],
    );
    assert_names(
        &msg,
        &[
            "has no database",
            "tonearm_no_such_database_",
            "createdb",
            "database.url",
        ],
    );
    // Nobody listens on a port just released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://tonearm:secret-password@127.0.0.1:{port}/tonearm");
    let msg = failed_start(
        &dir.path().join("data"),
        &[],
        &[("TONEARM_DATABASE_URL", &url)],
    );
    assert_names(
        &msg,
        &[
            &format!("cannot reach PostgreSQL at 127.0.0.1:{port}"),
            "start PostgreSQL",
        ],
    );
    assert!(!msg.contains("secret-password"), "{msg}");
}

#[test]
fn a_port_in_use_names_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let msg = failed_start(&dir.path().join("data"), &["--listen", &addr], &[]);
    assert_names(&msg, &[&addr, "already in use", "--listen"]);
}

#[test]
fn an_unusable_data_dir_names_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    // Under a regular file: no one (root included) can make a folder there.
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let msg = failed_start(&file.join("data"), &["--listen", "127.0.0.1:0"], &[]);
    assert_names(&msg, &["cannot use", "a-file", "--data"]);
}
