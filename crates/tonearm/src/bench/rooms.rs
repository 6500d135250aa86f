//! Listening-room benchmarks: fan-out (guests of one live room, relay delay and the server's
//! CPU/RSS per guest, with the media path measured against plain Socket.IO events and against
//! the machine's floor (`floor`) at the same size), join-to-first-audio, and glass-to-glass
//! (capture → arrival → scheduled play). The host, the listener and the load generator are the
//! real CLI clients, each its own process.

use super::{floor, start_server_with, Server};
use anyhow::{bail, Context};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use tonearm_media::synth::{sine, write_wav};

/// Room delay of the benchmark room (the default).
const DELAY_MS: f64 = 400.0;

struct Host(Child);

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn tonearm(args: &[&str]) -> anyhow::Result<Value> {
    let out = Command::new(std::env::current_exe()?)
        .args(args)
        .stderr(Stdio::inherit())
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!("tonearm {}: {text}", args[0]);
    }
    let last = text.lines().last().context("no report")?;
    Ok(serde_json::from_str(last)?)
}

fn f(v: &Value, path: &[&str]) -> f64 {
    path.iter()
        .fold(v, |v, k| &v[*k])
        .as_f64()
        .unwrap_or(f64::NAN)
}

/// A fresh server with a host broadcasting the track into a new room: (server, host, base URL,
/// `--room=ID`). Each measurement gets its own, so one run's memory does not flatter the next.
fn live_room(
    tmp: &Path,
    tag: &str,
    track: &Path,
    max_participants: usize,
) -> anyhow::Result<(Server, Host, String, String)> {
    let lib = tmp.join(format!("rooms-lib-{tag}"));
    std::fs::create_dir_all(&lib)?;
    let cap = max_participants.to_string();
    let server: Server = start_server_with(
        &tmp.join(format!("rooms-data-{tag}")),
        &lib,
        // An overloaded server warns per late event; the table says it better.
        &[
            ("TONEARM_ROOMS__MAX_PARTICIPANTS", cap.as_str()),
            ("RUST_LOG", "error"),
        ],
    )?;
    let base = format!("http://{}", server.addr);
    let mut child = Command::new(std::env::current_exe()?)
        .args(["broadcast", "--server", &base, "--name", "bench", "--file"])
        .arg(track)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
    let host = Host(child);
    let created: Value = serde_json::from_str(line.trim()).context("broadcast's room line")?;
    let room = created["roomId"].as_str().context("roomId")?;
    Ok((server, host, base, format!("--room={room}")))
}

pub fn run(tmp: &Path, guest_counts: &[usize]) -> anyhow::Result<()> {
    // Five minutes of tone: longer than any one measurement below.
    let track = tmp.join("room-source.wav");
    write_wav(
        std::io::BufWriter::new(std::fs::File::create(&track)?),
        &sine(440.0, 300.0, 48_000, 1, 0.5),
    )?;

    println!("\n## listening room: glass-to-glass (one listener, 10 s, room delay {DELAY_MS} ms)");
    let (server, host, base, room_arg) = live_room(tmp, "g2g", &track, 10)?;
    let out = tmp.join("room-listener.wav");
    let l = tonearm(&[
        "listen",
        "--server",
        &base,
        &room_arg,
        "--seconds",
        "10",
        "--out",
        out.to_str().context("path")?,
    ])?;
    drop(host);
    drop(server);
    println!(
        "{:<44} p50 {:>6.1} ms  p99 {:>6.1} ms  max {:>6.1} ms   {:.2} × the room delay",
        "capture → arrival at the guest",
        f(&l, &["transitMs", "p50"]),
        f(&l, &["transitMs", "p99"]),
        f(&l, &["transitMs", "max"]),
        f(&l, &["transitMs", "p99"]) / DELAY_MS
    );
    println!(
        "{:<44} {:>6.1} ms (delay grown {} times; {} of {} frames late)",
        "capture → scheduled play",
        f(&l, &["delayMs"]),
        l["delayGrown"],
        l["late"],
        l["received"]
    );

    println!("\n## listening room fan-out: one 128 kbps host, N guests in one room, 8 s measured");
    println!("(goal: 5,000 guests with p99 ≤ 50 ms and ≤ 32 KB server RSS per guest; the load generator shares the 2 cores; a fresh server per row)");
    println!("(floor ×k: no server, only loopback writes of k frames at a time, one writer thread per core, and one reader; its CPU is the writers')");
    println!(
        "{:<10} {:<9} {:>9} {:>9} {:>9} {:>10} {:>9} {:>10} {:>11} {:>13} {:>12}",
        "guests in",
        "path",
        "p50 ms",
        "p99 ms",
        "max ms",
        "lost+drop",
        "CPU %",
        "KB/guest",
        "join p50 ms",
        "p99 vs socket",
        "CPU vs floor"
    );
    for &n in guest_counts {
        // The machine's floor at this size, before any server starts; the servers' CPU is
        // compared with the floor's at one write per frame.
        let mut floor_cpu = f64::NAN;
        for k in [1, 2] {
            let fl = floor::measure(n, k, 8.0).with_context(|| format!("floor ×{k}"))?;
            if k == 1 {
                floor_cpu = fl.writer_cpu_percent;
            }
            let sent = if fl.delivered >= 0.999 {
                "-".to_string()
            } else {
                format!("{:.0}% came", fl.delivered * 100.0)
            };
            println!(
                "{:<10} {:<9} {:>9.1} {:>9.1} {:>9.1} {:>10} {:>9.0} {:>10} {:>11} {:>13} {:>12}",
                n,
                format!("floor ×{k}"),
                fl.p50_ms,
                fl.p99_ms,
                fl.max_ms,
                sent,
                fl.writer_cpu_percent,
                "-",
                "-",
                "-",
                "-"
            );
        }
        let guests = n.to_string();
        let measure = |transport: &str| -> anyhow::Result<Value> {
            let (server, host, base, room_arg) =
                live_room(tmp, &format!("{n}-{transport}"), &track, n + 10)?;
            let r = tonearm(&[
                "loadtest",
                "--server",
                &base,
                &room_arg,
                "--guests",
                &guests,
                "--seconds",
                "8",
                "--transport",
                transport,
            ]);
            drop(host);
            drop(server);
            r
        };
        let media = measure("media")?;
        // The reference: the same guests taking `broadcast:audio` events (kept to sizes it
        // survives in reasonable time).
        let socket = if n <= 2000 {
            Some(measure("socket")?)
        } else {
            None
        };
        for (path, r) in [("media", Some(&media)), ("socket", socket.as_ref())] {
            let Some(r) = r else { continue };
            let ratio = socket
                .as_ref()
                .map(|s| f(r, &["relayDelayMs", "p99"]) / f(s, &["relayDelayMs", "p99"]));
            let joined = r["guestsJoined"].as_u64().unwrap_or(0);
            let shown = if joined == n as u64 {
                n.to_string()
            } else {
                format!("{joined}/{n}")
            };
            println!(
                "{:<10} {:<9} {:>9.1} {:>9.1} {:>9.1} {:>10} {:>9.0} {:>10.1} {:>11.0} {:>13} {:>12}",
                shown,
                path,
                f(r, &["relayDelayMs", "p50"]),
                f(r, &["relayDelayMs", "p99"]),
                f(r, &["relayDelayMs", "max"]),
                r["framesLost"].as_u64().unwrap_or(0) + r["framesDropped"].as_u64().unwrap_or(0),
                f(r, &["serverCpuPercent"]),
                f(r, &["serverRssPerGuestBytes"]) / 1024.0,
                f(r, &["joinToFirstAudioMs", "p50"]),
                ratio
                    .map(|x| format!("{x:.2} ×"))
                    .unwrap_or_else(|| "-".into()),
                format!("{:.2} ×", f(r, &["serverCpuPercent"]) / floor_cpu),
            );
        }
    }
    Ok(())
}
