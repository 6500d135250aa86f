//! Listening-room audio end to end, with the real CLI clients against the real server: a host
//! broadcasts a generated chirp with marker clicks, two listeners (on clocks that are wrong by
//! different amounts) receive, decode and schedule it. Their output must match the source, their
//! schedules must agree with each other, and each must play every frame the room's delay after
//! the host captured it.

use crate::common::*;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tonearm_media::synth::Pcm;

const RATE: usize = 48_000;
const SECONDS: usize = 6;
/// Clicks every half second, starting at 0.25 s.
const CLICK_EVERY: usize = RATE / 2;
const CLICK_FIRST: usize = RATE / 4;
const DELAY_MS: f64 = 300.0;
const HOST_SKEW: f64 = 500.0;
const SKEWS: [f64; 2] = [1234.0, -777.0];

/// A 200 Hz → 4 kHz linear chirp (0.3) with a 2 ms full-scale click every half second.
fn source() -> Vec<f32> {
    let n = RATE * SECONDS;
    let (f0, f1) = (200.0f64, 4000.0f64);
    let k = (f1 - f0) / SECONDS as f64;
    (0..n)
        .map(|i| {
            let t = i as f64 / RATE as f64;
            let mut s = 0.3 * (std::f64::consts::TAU * (f0 * t + 0.5 * k * t * t)).sin();
            let c = i.wrapping_sub(CLICK_FIRST);
            if i >= CLICK_FIRST && c % CLICK_EVERY < RATE / 500 {
                s = if c % CLICK_EVERY < RATE / 1000 {
                    0.95
                } else {
                    -0.95
                };
            }
            s as f32
        })
        .collect()
}

fn mono(path: &Path) -> Vec<f32> {
    let mut r = tonearm_media::AudioReader::open(path).expect("open wav");
    let ch = r.info().channels as usize;
    let all = r.read_all().expect("decode wav");
    all.chunks(ch).map(|f| f[0]).collect()
}

/// The lag (0..max) at which `out` best matches `src`, and the normalized correlation there.
fn best_lag(src: &[f32], out: &[f32], max: usize) -> (usize, f64) {
    let win = &src[RATE..2 * RATE];
    let score = |lag: usize| -> f64 {
        let o = &out[RATE + lag..2 * RATE + lag];
        let dot: f64 = win.iter().zip(o).map(|(a, b)| *a as f64 * *b as f64).sum();
        let na: f64 = win.iter().map(|a| (*a as f64).powi(2)).sum();
        let nb: f64 = o.iter().map(|b| (*b as f64).powi(2)).sum();
        dot / (na.sqrt() * nb.sqrt()).max(1e-12)
    };
    (0..max)
        .map(|l| (l, score(l)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .expect("lags")
}

/// Onsets of the clicks: the first sample of each run above 0.7 (the chirp stays at 0.3).
fn clicks(x: &[f32]) -> Vec<usize> {
    let mut v = Vec::new();
    let mut last: Option<usize> = None;
    for (i, s) in x.iter().enumerate() {
        if *s > 0.7 {
            if last.is_none_or(|l| i - l > RATE / 10) {
                v.push(i);
            }
            last = Some(i);
        }
    }
    v
}

/// `seq → column` from a tab-separated file with a header line, for rows passing `keep`.
fn column(
    path: &Path,
    col: &str,
    keep: impl Fn(&HashMap<&str, &str>) -> bool,
) -> HashMap<u64, f64> {
    let text = std::fs::read_to_string(path).expect("read tsv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    lines
        .filter_map(|l| {
            let row: HashMap<&str, &str> = header.iter().copied().zip(l.split('\t')).collect();
            if !keep(&row) {
                return None;
            }
            Some((row["seq"].parse().ok()?, row[col].parse().ok()?))
        })
        .collect()
}

fn spawn(args: &[&str]) -> Child {
    Command::new(bin())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tonearm")
}

/// Waits for a child with a deadline; returns its stdout parsed as JSON (last line).
fn finish(mut child: Child, what: &str, secs: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} did not finish in {secs} s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{what} failed:\n{stdout}\n{stderr}");
    let last = stdout
        .lines()
        .last()
        .unwrap_or_else(|| panic!("{what} printed nothing: {stderr}"));
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{what}: {e}: {last}"))
}

/// A room made over REST on `s`: (room id, host token).
async fn create_room(s: &TestServer) -> (String, String) {
    let created = post_json(
        s.url("/api/rooms"),
        serde_json::json!({ "roomName": "sync test", "delayMs": DELAY_MS as u32 }),
    )
    .await
    .json::<Value>()
    .await
    .unwrap();
    (
        created["roomId"].as_str().unwrap().to_string(),
        created["hostToken"].as_str().unwrap().to_string(),
    )
}

fn listen(base: &str, room: &str, out: &Path, skew: f64) -> Child {
    spawn(&[
        "listen",
        "--server",
        base,
        &format!("--room={room}"),
        "--out",
        out.to_str().unwrap(),
        "--clock-skew-ms",
        &skew.to_string(),
    ])
}

/// Waits until the server says `n` guests are in the room (on that node).
async fn wait_guests(s: &TestServer, room: &str, n: u64) {
    s.until(20, "the listeners in the room", || async {
        let r = s.json(&format!("/api/rooms/{room}")).await;
        (r["guestCount"] == n).then_some(())
    })
    .await;
}

/// Broadcasts `src` to the room through `base` as its host, writing the host's frame log.
async fn broadcast(base: &str, room: &str, token: &str, src: &Path, log: &Path) {
    host_done(start_host(base, room, token, src, log)).await
}

fn start_host(base: &str, room: &str, token: &str, src: &Path, log: &Path) -> Child {
    spawn(&[
        "broadcast",
        "--server",
        base,
        &format!("--room={room}"),
        &format!("--host-token={token}"),
        "--file",
        src.to_str().unwrap(),
        "--log",
        log.to_str().unwrap(),
        "--clock-skew-ms",
        &HOST_SKEW.to_string(),
    ])
}

async fn host_done(host: Child) {
    tokio::task::spawn_blocking(move || {
        let out = host.wait_with_output().expect("broadcast");
        assert!(
            out.status.success(),
            "broadcast failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    })
    .await
    .unwrap();
}

async fn finish_all(listeners: Vec<Child>) -> Vec<Value> {
    tokio::task::spawn_blocking(move || {
        listeners
            .into_iter()
            .enumerate()
            .map(|(i, c)| finish(c, &format!("listener {i}"), 30))
            .collect()
    })
    .await
    .unwrap()
}

fn source_file(dir: &Path) -> (Vec<f32>, std::path::PathBuf) {
    let src = source();
    let path = dir.join("source.wav");
    wav(
        &path,
        &Pcm {
            sample_rate: RATE as u32,
            channels: 1,
            samples: src.clone(),
        },
    );
    (src, path)
}

/// Checks one listener against the source and the host's log: it played every frame, its
/// output is the source (delayed by the codec's lookahead, clicks in place), and it scheduled
/// each frame the room delay after the host captured it. Returns its play times on true time.
fn check_listener(
    name: &str,
    r: &Value,
    out: &Path,
    skew: f64,
    src: &[f32],
    capture: &HashMap<u64, f64>,
) -> HashMap<u64, f64> {
    let frames = (RATE * SECONDS / 960) as u64;
    assert_eq!(r["ended"], "broadcast:stopped", "{name}: {r}");
    assert_eq!(r["received"], frames, "{name}: {r}");
    assert_eq!(r["played"], frames, "{name} played every frame: {r}");
    assert_eq!(r["lost"], 0, "{name}: {r}");
    assert_eq!(r["delayMs"], DELAY_MS, "no growth needed on loopback: {r}");
    // Clock sync found the injected skew (server = local − skew here).
    let offset = r["clockOffsetMs"].as_f64().unwrap();
    assert!((offset + skew).abs() < 2.0, "{name} offset {offset}");

    // Content: the decoded output is the source, delayed by exactly the codec's lookahead.
    let got = mono(out);
    assert!(got.len() >= src.len(), "{name} wrote {} samples", got.len());
    let (lag, corr) = best_lag(src, &got, 2000);
    let lookahead = tonearm_media::encode::opus_lookahead() as usize;
    assert!(
        lag.abs_diff(lookahead) <= 2,
        "{name}: lag {lag}, lookahead {lookahead}"
    );
    assert!(corr > 0.95, "{name}: correlation {corr}");
    let src_clicks = clicks(src);
    let got_clicks = clicks(&got);
    assert_eq!(src_clicks.len(), SECONDS * 2, "{src_clicks:?}");
    assert_eq!(got_clicks.len(), src_clicks.len(), "{name}: {got_clicks:?}");
    for (a, b) in src_clicks.iter().zip(&got_clicks) {
        assert!(
            (b - a).abs_diff(lookahead) <= 3,
            "{name}: click {a} heard at {b}"
        );
    }

    // Schedule, on true time (the listener's clock minus its skew).
    let plays = column(
        &out.with_extension("schedule.tsv"),
        "play_local_ms",
        |row| row["status"] == "play",
    );
    assert_eq!(plays.len() as u64, frames);
    let true_plays: HashMap<u64, f64> = plays.iter().map(|(k, v)| (*k, v - skew)).collect();
    for (seq, play) in &true_plays {
        let delay = play - (capture[seq] - HOST_SKEW);
        assert!(
            (delay - DELAY_MS).abs() <= 20.0,
            "{name} frame {seq}: captured → scheduled {delay:.1} ms"
        );
    }
    true_plays
}

/// Checks every listener (`check_listener`) against the host's log, and that their schedules
/// agree within 5 ms. Returns their true-time schedules and the largest disagreement.
fn check_in_sync(
    reports: &[Value],
    outs: &[std::path::PathBuf],
    skews: &[f64],
    src: &[f32],
    log: &Path,
) -> (Vec<HashMap<u64, f64>>, f64) {
    let capture = column(log, "capture_local_ms", |_| true);
    assert_eq!(
        capture.len(),
        RATE * SECONDS / 960,
        "the host sent every frame"
    );
    let schedules: Vec<_> = reports
        .iter()
        .zip(outs)
        .zip(skews)
        .enumerate()
        .map(|(i, ((r, out), skew))| {
            check_listener(&format!("listener {i}"), r, out, *skew, src, &capture)
        })
        .collect();
    let worst = disagreement(&schedules);
    assert!(
        worst <= 5.0,
        "the listeners' schedules differ by up to {worst:.2} ms"
    );
    (schedules, worst)
}

/// The largest difference between any two listeners' play times of the same frame.
fn disagreement(schedules: &[HashMap<u64, f64>]) -> f64 {
    let mut worst = 0.0f64;
    for (seq, first) in &schedules[0] {
        for other in &schedules[1..] {
            worst = worst.max((first - other[seq]).abs());
        }
    }
    worst
}

#[tokio::test(flavor = "multi_thread")]
async fn two_listeners_hear_the_broadcast_in_sync_and_on_schedule() {
    let s = TestServer::start(|_| {}).await;
    let tmp = tempfile::tempdir().unwrap();
    let (src, src_path) = source_file(tmp.path());
    let (room, host_token) = create_room(&s).await;
    let outs: Vec<_> = (0..2)
        .map(|i| tmp.path().join(format!("listener{i}.wav")))
        .collect();
    let listeners = outs
        .iter()
        .zip(SKEWS)
        .map(|(out, skew)| listen(&s.base, &room, out, skew))
        .collect();
    // Both are in (the server says so) before the host starts.
    wait_guests(&s, &room, 2).await;
    let log = tmp.path().join("host.tsv");
    let host = start_host(&s.base, &room, &host_token, &src_path, &log);
    // A third guest joins two seconds into the broadcast (the server's own count of it).
    s.until(20, "two seconds of broadcast", || async {
        let r = s.json(&format!("/api/rooms/{room}")).await;
        (r["stats"]["duration"].as_f64().unwrap_or(0.0) >= 2.0).then_some(())
    })
    .await;
    let late_out = tmp.path().join("late.wav");
    let late = listen(&s.base, &room, &late_out, 55.0);
    host_done(host).await;
    let reports = finish_all(listeners).await;
    let late = finish_all(vec![late]).await.remove(0);

    let (schedules, worst) = check_in_sync(&reports, &outs, &SKEWS, &src, &log);
    for r in &reports {
        assert_eq!(
            r["quality"], "high",
            "nothing pushed a clean guest down: {r}"
        );
    }

    // The late joiner: it got the replay at once (too old to play, skipped without counting as
    // trouble), then played the rest in step with the others.
    assert_eq!(late["ended"], "broadcast:stopped", "{late}");
    assert!(
        late["late"].as_u64().unwrap() > 0,
        "the replay burst arrived: {late}"
    );
    assert_eq!(late["quality"], "high", "{late}");
    assert_eq!(late["qualitySwitches"], 0, "{late}");
    assert_eq!(late["delayGrown"], 0, "{late}");
    let played = late["played"].as_u64().unwrap();
    assert!(played >= 100, "{late}");
    let plays = column(
        &late_out.with_extension("schedule.tsv"),
        "play_local_ms",
        |row| row["status"] == "play",
    );
    let mut seqs: Vec<u64> = plays.keys().copied().collect();
    seqs.sort();
    let last = (RATE * SECONDS / 960) as u64 - 1;
    assert_eq!(seqs.last(), Some(&last), "it plays to the end");
    assert_eq!(
        seqs.len() as u64,
        last + 1 - seqs[0],
        "and every frame from its first"
    );
    for (seq, play) in &plays {
        let drift = (play - 55.0 - schedules[0][seq]).abs();
        assert!(
            drift <= 5.0,
            "late joiner frame {seq}: {drift:.2} ms from the others"
        );
    }
    println!("listeners agree within {worst:.3} ms; reports: {reports:?}; late: {late}");
}

/// Two nodes sharing Redis: the host broadcasts through node A, guests listen through A and B.
/// B learns the room from its record, receives each frame once however many guests it has,
/// and its guests play in sync with A's. Chat crosses nodes too.
#[tokio::test(flavor = "multi_thread")]
async fn guests_on_another_node_hear_the_host_in_sync_and_chat_across() {
    let (a, b) = two_nodes(&[]).await;
    let tmp = tempfile::tempdir().unwrap();
    let (src, src_path) = source_file(tmp.path());
    let (room, host_token) = create_room(&a).await;
    let details = b.json(&format!("/api/rooms/{room}")).await;
    assert_eq!(
        details["roomName"], "sync test",
        "node B knows node A's room"
    );

    // Chat, with the CLI's Socket.IO client: one guest per node.
    let mut on_a = tonearm_rooms::client::sio::connect(&a.base, None)
        .await
        .unwrap();
    let mut on_b = tonearm_rooms::client::sio::connect(&b.base, None)
        .await
        .unwrap();
    let within = Duration::from_secs(10);
    for c in [&mut on_a, &mut on_b] {
        c.emitter
            .emit("room:join", &serde_json::json!({ "roomId": room }))
            .unwrap();
        c.wait_for(&["room:joined"], within).await.unwrap();
    }
    on_b.emitter
        .emit(
            "chat:message",
            &serde_json::json!({ "roomId": room, "message": "hello from B" }),
        )
        .unwrap();
    let heard = on_a.wait_for(&["chat:message"], within).await.unwrap();
    assert_eq!(heard.data["message"], "hello from B", "{heard:?}");
    on_a.emitter.close();
    on_b.emitter.close();

    let skews = [SKEWS[0], SKEWS[1], 321.0];
    let bases = [&b.base, &b.base, &a.base];
    let outs: Vec<_> = (0..3)
        .map(|i| tmp.path().join(format!("listener{i}.wav")))
        .collect();
    let listeners = outs
        .iter()
        .zip(skews)
        .zip(bases)
        .map(|((out, skew), base)| listen(base, &room, out, skew))
        .collect();
    wait_guests(&b, &room, 2).await;
    wait_guests(&a, &room, 1).await;
    let published = a.metric("tonearm_room_bus_frames_published_total").await;
    let received = b.metric("tonearm_room_bus_frames_received_total").await;
    let log = tmp.path().join("host.tsv");
    broadcast(&a.base, &room, &host_token, &src_path, &log).await;
    let reports = finish_all(listeners).await;

    check_in_sync(&reports, &outs, &skews, &src, &log);
    // One copy per node: each frame of each of the two layers crosses once.
    let frames = (RATE * SECONDS / 960) as f64;
    let layers = 2.0;
    assert_eq!(
        a.metric("tonearm_room_bus_frames_published_total").await - published,
        frames * layers,
        "node A published each frame of each layer once"
    );
    assert_eq!(
        b.metric("tonearm_room_bus_frames_received_total").await - received,
        frames * layers,
        "node B received each frame once, though two of its guests play it"
    );
}
