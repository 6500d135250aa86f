//! `tonearm bench` (what `make bench` runs): end-to-end numbers against the real server binary,
//! each next to a reference measured in the same run on the same machine, printed as ratios.
//! Nothing here asserts; tests check correctness, this reports speed.

use anyhow::{bail, Context};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tonearm_media::synth::{chord_progression, write_wav};

mod analysis;
mod floor;
mod hls;
mod rooms;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Files in the generated library for the scan benchmark.
    #[arg(long, default_value_t = 5000)]
    pub scan_files: usize,
    /// Length of the benchmark track in seconds.
    #[arg(long, default_value_t = 240)]
    pub track_secs: u32,
    /// Repetitions of each time-to-first-byte measurement (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub trials: usize,
    /// Concurrent clients for the range benchmark.
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    /// Guest counts for the room fan-out benchmark.
    #[arg(long, value_delimiter = ',', default_value = "500,1000,2000,3000,5000")]
    pub room_guests: Vec<usize>,
    /// Run only the room benchmarks.
    #[arg(long)]
    pub rooms_only: bool,
    /// Run only the HLS benchmarks.
    #[arg(long)]
    pub hls_only: bool,
    /// Run only the audio analysis benchmarks.
    #[arg(long)]
    pub analysis_only: bool,
}

/// `Authorization: …\r\n` for the benchmark's admin on the current server.
static AUTH: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

fn auth_header() -> String {
    AUTH.lock().map(|a| a.clone()).unwrap_or_default()
}

/// Creates the benchmark admin in `data` (before the server starts) with the CLI.
fn add_admin(data: &Path) -> anyhow::Result<()> {
    let mut child = Command::new(std::env::current_exe()?)
        .arg("--data")
        .arg(data)
        .args(["user", "add", "bench", "--admin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    writeln!(child.stdin.take().context("stdin")?, "bench-password")?;
    anyhow::ensure!(
        child.wait()?.success(),
        "could not create the benchmark user"
    );
    Ok(())
}

/// Signs in as the benchmark admin and remembers the header.
fn sign_in(addr: &str) -> anyhow::Result<()> {
    let body = r#"{"username":"bench","password":"bench-password"}"#;
    let mut s = TcpStream::connect(addr)?;
    write!(s, "POST /api/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp)?;
    let text = String::from_utf8_lossy(&resp);
    let json = text.split("\r\n\r\n").nth(1).context("login response")?;
    let v: serde_json::Value = serde_json::from_str(json)?;
    let token = v["access_token"].as_str().context("no access token")?;
    if let Ok(mut a) = AUTH.lock() {
        *a = format!("Authorization: Bearer {token}\r\n");
    }
    Ok(())
}

pub(crate) struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(data: &Path, lib: &Path) -> anyhow::Result<Server> {
    start_server_with(data, lib, &[])
}

pub(crate) fn start_server_with(
    data: &Path,
    lib: &Path,
    env: &[(&str, &str)],
) -> anyhow::Result<Server> {
    add_admin(data)?;
    let mut child = Command::new(std::env::current_exe()?)
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .arg("--library")
        .arg(lib)
        .env("RUST_LOG", "warn,symphonia_bundle_mp3=error")
        // The range benchmark sends thousands of requests a second from one address.
        .env("TONEARM_LIMITS__API_PER_MINUTE", "0")
        // One benchmark user makes thousands of requests a second: no per-user limit either.
        .env("TONEARM_LIMITS__API_PER_USER_PER_MINUTE", "0")
        // Background packaging would compete with what is measured; the HLS benchmark asks.
        .env("TONEARM_JOBS__HLS_ALL", "false")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .context("no listening line")?
        .to_string();
    let server = Server { child, addr };
    // Each server of the run has its own data dir and signing key: sign in to each.
    sign_in(&server.addr)?;
    // Wait for the start-up scan (reported by the server, not guessed).
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let (_, body) = http_get(&server.addr, "/api/library/scan", None)?;
        let s = String::from_utf8_lossy(&body);
        if s.contains("\"running\":false") && !s.contains("\"finished_at_ms\":0") {
            break;
        }
        if Instant::now() > deadline {
            bail!("scan did not finish");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(server)
}

/// A minimal HTTP/1.1 GET: returns (time to the first body byte, body). Written by hand so the
/// measurement includes nothing but the socket.
fn http_get_timed(
    addr: &str,
    path: &str,
    range: Option<&str>,
) -> anyhow::Result<(Duration, Duration, Vec<u8>)> {
    let started = Instant::now();
    let mut s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    let range = range.map(|r| format!("Range: {r}\r\n")).unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{}{range}Connection: close\r\n\r\n",
        auth_header()
    )?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    let mut ttfb = None;
    let mut header_end = None;
    loop {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if header_end.is_none() {
            header_end = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4);
        }
        if let (None, Some(h)) = (ttfb, header_end) {
            if buf.len() > h {
                ttfb = Some(started.elapsed());
            }
        }
    }
    let h = header_end.context("no HTTP header")?;
    Ok((
        ttfb.unwrap_or_else(|| started.elapsed()),
        started.elapsed(),
        buf.split_off(h),
    ))
}

pub(crate) fn http_get(
    addr: &str,
    path: &str,
    range: Option<&str>,
) -> anyhow::Result<(Duration, Vec<u8>)> {
    let (t, _, b) = http_get_timed(addr, path, range)?;
    Ok((t, b))
}

pub(crate) fn track_ids(addr: &str) -> anyhow::Result<Vec<(String, String)>> {
    let (_, body) = http_get(addr, "/api/tracks?limit=500", None)?;
    let v: serde_json::Value = serde_json::from_slice(&body)?;
    Ok(v["items"]
        .as_array()
        .context("items")?
        .iter()
        .map(|t| {
            (
                t["title"].as_str().unwrap_or_default().to_string(),
                t["id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect())
}

pub(crate) fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Time until ffmpeg's first byte of MP3 on stdout: how a spawn-a-transcoder server starts.
fn ffmpeg_ttfb(file: &Path) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut child = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(file)
        .args(["-f", "mp3", "-b:a", "128k", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("ffmpeg is needed for the reference (scripts/ensure-deps.sh test)")?;
    let mut out = child.stdout.take().context("stdout")?;
    let mut b = [0u8; 1];
    out.read_exact(&mut b)?;
    let t = started.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    Ok(t)
}

fn ffmpeg_transcode_secs(file: &Path) -> anyhow::Result<f64> {
    let started = Instant::now();
    let st = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(file)
        // The same output as the server's: 48 kHz CBR 128k MP3 (so ffmpeg resamples too).
        .args([
            "-c:a",
            "libmp3lame",
            "-ar",
            "48000",
            "-b:a",
            "128k",
            "-f",
            "mp3",
            "/dev/null",
        ])
        .status()?;
    anyhow::ensure!(st.success(), "ffmpeg failed");
    Ok(started.elapsed().as_secs_f64())
}

pub(crate) fn make_track(dir: &Path, name: &str, secs: u32) -> anyhow::Result<PathBuf> {
    let chords: &[&[u8]] = &[&[60, 64, 67], &[65, 69, 72], &[67, 71, 74], &[57, 60, 64]];
    let beats = (secs as f64 * 2.0) as usize;
    let pcm = chord_progression(chords, 120.0, beats, 44_100, 2);
    let wav = dir.join(format!("{name}.wav.tmp"));
    write_wav(std::io::BufWriter::new(std::fs::File::create(&wav)?), &pcm)?;
    let flac = dir.join(format!("{name}.flac"));
    let st = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "wav", "-i"])
        .arg(&wav)
        .args(["-c:a", "flac", "-metadata"])
        .arg(format!("title={name}"))
        .arg(&flac)
        .status()?;
    anyhow::ensure!(st.success(), "ffmpeg could not make the benchmark FLAC");
    std::fs::remove_file(&wav)?;
    Ok(flac)
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let tmp = tempfile_dir()?;
    let lib = tmp.join("lib");
    std::fs::create_dir_all(&lib)?;
    println!("# Tonearm benchmarks (reference measured in the same run; ratio < 1 is faster for time, > 1 better for rates)");
    if args.rooms_only {
        return rooms::run(&tmp, &args.room_guests);
    }
    if args.hls_only {
        return hls::run(&tmp, args.track_secs, args.trials);
    }
    if args.analysis_only {
        return analysis::run(&tmp, args.track_secs);
    }
    println!(
        "preparing a {}-s 44.1 kHz stereo FLAC and {} copies for cold first plays…",
        args.track_secs,
        args.trials * 3 + 1
    );
    let master = make_track(&lib, "bench", args.track_secs)?;
    for i in 0..args.trials * 3 + 1 {
        std::fs::copy(&master, lib.join(format!("bench-{i}.flac")))?;
    }
    // Distinct copies have distinct ids; tags say the same title, so key by file order instead.
    let server = start_server(&tmp.join("data"), &lib)?;
    let ids: Vec<String> = track_ids(&server.addr)?
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    let original_id = ids[0].clone();
    wait_for_background(&server.addr)?;

    // 1. Time to first byte.
    let _ = http_get(
        &server.addr,
        &format!("/api/tracks/{original_id}/stream"),
        None,
    )?; // warm
    let orig: Vec<Duration> = (0..args.trials)
        .map(|_| {
            http_get(
                &server.addr,
                &format!("/api/tracks/{original_id}/stream"),
                Some("bytes=0-65535"),
            )
            .map(|r| r.0)
        })
        .collect::<anyhow::Result<_>>()?;
    let t = args.trials;
    // 60% into the medium-quality MP3 (16 kB per second): the middle of some chunk.
    let seek_at = args.track_secs as u64 * 16_000 * 6 / 10;
    let seek_range = format!("bytes={seek_at}-{}", seek_at + 65_535);
    let cold_track = |i: usize, range: &str| -> anyhow::Result<Duration> {
        http_get(
            &server.addr,
            &format!("/api/tracks/{}/stream?quality=medium", ids[1 + i]),
            Some(range),
        )
        .map(|r| r.0)
    };
    let cold: Vec<Duration> = (0..t)
        .map(|i| cold_track(i, "bytes=0-65535"))
        .collect::<anyhow::Result<_>>()?;
    // The first 384 bytes are the Info frame, made without encoding: also time the first audio.
    let cold_audio: Vec<Duration> = (0..t)
        .map(|i| cold_track(t + i, "bytes=384-65535"))
        .collect::<anyhow::Result<_>>()?;
    let seek: Vec<Duration> = (0..t)
        .map(|i| cold_track(2 * t + i, &seek_range))
        .collect::<anyhow::Result<_>>()?;
    let ff: Vec<Duration> = (0..args.trials)
        .map(|_| ffmpeg_ttfb(&master))
        .collect::<anyhow::Result<_>>()?;
    let ffm = ms(median(ff));
    println!("\n## time to first byte (median of {})", args.trials);
    println!(
        "{:<44} {:>9.2} ms",
        "reference: ffmpeg -i FILE -f mp3 -b:a 128k -", ffm
    );
    // The original file needs no transcoder: its time is an absolute number, not a ratio.
    println!(
        "{:<46} {:>9.2} ms",
        "original file (cached)",
        ms(median(orig))
    );
    for (name, v) in [
        ("transcode, cold first play", cold),
        ("transcode, cold first play, first audio byte", cold_audio),
        ("transcode, cold mid-stream seek", seek),
    ] {
        let m = ms(median(v));
        println!(
            "{:<46} {:>9.2} ms   ratio {:.3} × ffmpeg (goal for transcodes ≤ 0.3)",
            name,
            m,
            m / ffm
        );
    }

    // 2. Transcode throughput.
    let secs = args.track_secs as f64;
    let ff_secs = ffmpeg_transcode_secs(&master)?;
    let fresh = &ids[ids.len() - 1]; // never requested above: a cold transcode
    let (_, total, body) = http_get_timed(
        &server.addr,
        &format!("/api/tracks/{fresh}/stream?quality=medium"),
        None,
    )?;
    let plan_len = body.len();
    let engine = {
        let info = tonearm_media::AudioReader::open(&master)?.info().clone();
        let plan = tonearm_media::StreamPlan::new(
            tonearm_media::Format::Mp3,
            tonearm_media::Quality::Medium,
            info.sample_rate,
            info.channels,
            info.frames.unwrap_or(0),
            tonearm_media::encode::opus_lookahead(),
        );
        let t = Instant::now();
        tonearm_media::transcode::transcode_to_vec(
            &master,
            &plan,
            tonearm_media::TranscodeSpec { gain: 1.0 },
            2,
        )?;
        t.elapsed().as_secs_f64()
    };
    println!(
        "\n## transcode throughput, {}-s FLAC → MP3 128 kbps",
        args.track_secs
    );
    println!(
        "{:<44} {:>8.1} × real time",
        "reference: ffmpeg libmp3lame, 48 kHz (1 thread)",
        secs / ff_secs
    );
    println!(
        "{:<44} {:>8.1} × real time   ratio {:.2} × ffmpeg (goal ≥ 1)",
        "server, cold full GET (HTTP)",
        secs / total.as_secs_f64(),
        ff_secs / total.as_secs_f64()
    );
    println!(
        "{:<44} {:>8.1} × real time   ratio {:.2} × ffmpeg",
        "engine, 2 chunk workers",
        secs / engine,
        ff_secs / engine
    );
    println!("  ({} bytes served)", plan_len);

    // 3. Range serving with many clients.
    range_bench(&server.addr, &original_id, &master, args.clients)?;
    drop(server);

    // 4. Scan rate and idle RSS.
    scan_bench(&tmp, args.scan_files)?;
    hls::run(&tmp, args.track_secs, args.trials)?;
    analysis::run(&tmp, args.track_secs)?;
    rooms::run(&tmp, &args.room_guests)?;
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}

/// The post-scan loudness pass uses a core; measurements wait until the server reports it done.
fn wait_for_background(addr: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        let (_, body) = http_get(addr, "/health", None)?;
        let v: serde_json::Value = serde_json::from_slice(&body)?;
        if v["jobs"]["busy"] == false {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "background jobs did not finish");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("tonearm-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// One keep-alive connection doing ranged GETs for `dur`; returns (requests, bytes).
fn range_client(
    addr: &str,
    path: &str,
    len: u64,
    seed: u64,
    dur: Duration,
) -> anyhow::Result<(u64, u64)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    let mut reader = BufReader::new(s.try_clone()?);
    let (mut reqs, mut bytes, mut x) = (0u64, 0u64, seed | 1);
    let end = Instant::now() + dur;
    let piece = 256 * 1024u64;
    while Instant::now() < end {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let start = x % (len - piece);
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{}Range: bytes={}-{}\r\n\r\n",
            auth_header(),
            start,
            start + piece - 1
        )?;
        let mut content_length = 0usize;
        let mut status = String::new();
        reader.read_line(&mut status)?;
        // Only a 206 of the asked length counts: a 429 or an error page is not served bytes.
        anyhow::ensure!(
            status.split_whitespace().nth(1) == Some("206"),
            "range request answered {}",
            status.trim()
        );
        loop {
            let mut line = String::new();
            reader.read_line(&mut line)?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                content_length = v.trim().parse()?;
            }
        }
        let mut body = vec![0u8; content_length];
        reader.read_exact(&mut body)?;
        anyhow::ensure!(
            content_length as u64 == piece,
            "range of {piece} bytes answered with {content_length}"
        );
        reqs += 1;
        bytes += content_length as u64;
    }
    Ok((reqs, bytes))
}

/// Totals of the range clients; a failed client fails the benchmark (a silent drop would
/// inflate nothing but would hide a broken server behind a lower number).
fn sum_clients(
    handles: Vec<std::thread::ScopedJoinHandle<'_, anyhow::Result<(u64, u64)>>>,
) -> anyhow::Result<(u64, u64)> {
    let mut total = (0, 0);
    for h in handles {
        let (reqs, bytes) = h
            .join()
            .map_err(|_| anyhow::anyhow!("a range client panicked"))??;
        total = (total.0 + reqs, total.1 + bytes);
    }
    Ok(total)
}

fn range_bench(addr: &str, id: &str, file: &Path, clients: usize) -> anyhow::Result<()> {
    let len = std::fs::metadata(file)?.len();
    let path = format!("/api/tracks/{id}/stream");
    let path = path.as_str();
    let dur = Duration::from_secs(3);
    let (reqs, bytes) = std::thread::scope(|s| {
        let hs: Vec<_> = (0..clients)
            .map(|i| s.spawn(move || range_client(addr, path, len, i as u64 * 7919 + 1, dur)))
            .collect();
        sum_clients(hs)
    })?;
    // Reference: tower-http's ServeFile (Range/206 done by the ecosystem's standard static file
    // service) serving the same file, same clients, same run.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let ref_addr = listener.local_addr()?.to_string();
    let app =
        axum::Router::new().route_service("/file", tower_http::services::ServeFile::new(file));
    rt.spawn(async move { axum::serve(listener, app).await });
    let ref_addr = ref_addr.as_str();
    let (rreqs, rbytes) = std::thread::scope(|s| {
        let hs: Vec<_> = (0..clients)
            .map(|i| {
                s.spawn(move || range_client(ref_addr, "/file", len, i as u64 * 7919 + 1, dur))
            })
            .collect();
        sum_clients(hs)
    })?;
    rt.shutdown_background();
    let secs = dur.as_secs_f64();
    println!("\n## range serving, {clients} concurrent keep-alive clients, random 256 KiB ranges of the original");
    println!(
        "{:<44} {:>9.0} req/s {:>8.0} MB/s",
        "reference: tower-http ServeFile, same file",
        rreqs as f64 / secs,
        rbytes as f64 / secs / 1e6
    );
    println!(
        "{:<44} {:>9.0} req/s {:>8.0} MB/s   ratio {:.2} × reference",
        "server",
        reqs as f64 / secs,
        bytes as f64 / secs / 1e6,
        bytes as f64 / rbytes.max(1) as f64
    );
    Ok(())
}

fn scan_bench(tmp: &Path, files: usize) -> anyhow::Result<()> {
    let lib = tmp.join("scanlib");
    std::fs::create_dir_all(&lib)?;
    // Half WAV, half MP3 copies, 100 per folder like albums.
    let pcm = chord_progression(&[&[60, 64, 67]], 120.0, 1, 22_050, 1);
    let mut wav = Vec::new();
    write_wav(&mut wav, &pcm)?;
    let mp3_src = tmp.join("one.mp3");
    let wav_src = tmp.join("one.wav");
    std::fs::write(&wav_src, &wav)?;
    let st = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&wav_src)
        .args(["-c:a", "libmp3lame", "-b:a", "64k"])
        .arg(&mp3_src)
        .status()?;
    anyhow::ensure!(st.success(), "ffmpeg failed");
    let mp3 = std::fs::read(&mp3_src)?;
    for i in 0..files {
        let dir = lib.join(format!("album{:03}", i / 100));
        std::fs::create_dir_all(&dir)?;
        if i % 2 == 0 {
            std::fs::write(dir.join(format!("{i:05} track.wav")), &wav)?;
        } else {
            std::fs::write(dir.join(format!("{i:05} track.mp3")), &mp3)?;
        }
    }
    // Reference: ffprobe on a sample of the files, extrapolated per file (what a scanner that
    // shells out to a prober pays).
    let sample: Vec<PathBuf> = walk_files(&lib).into_iter().take(100).collect();
    let t = Instant::now();
    for f in &sample {
        Command::new("ffprobe")
            .args(["-v", "error", "-show_format", "-show_streams"])
            .arg(f)
            .stdout(Stdio::null())
            .status()?;
    }
    let ffprobe_rate = sample.len() as f64 / t.elapsed().as_secs_f64();
    let data = tmp.join("scandata");
    let t = Instant::now();
    let server = start_server(&data, &lib)?;
    let scan_secs = t.elapsed().as_secs_f64();
    let (_, body) = http_get(&server.addr, "/api/library/scan", None)?;
    let status: serde_json::Value = serde_json::from_slice(&body)?;
    let rate = status["files_per_second"]
        .as_f64()
        .unwrap_or(files as f64 / scan_secs);
    println!("\n## scan of a generated library of {files} files (half WAV, half MP3)");
    println!(
        "{:<44} {:>9.0} files/s",
        "reference: ffprobe per file (sequential)", ffprobe_rate
    );
    println!(
        "{:<44} {:>9.0} files/s   ratio {:.1} × reference",
        "tonearm scan (parallel, batched)",
        rate,
        rate / ffprobe_rate
    );
    let rescan_started = Instant::now();
    http_post(&server.addr, "/api/library/scan")?;
    loop {
        let (_, body) = http_get(&server.addr, "/api/library/scan", None)?;
        let s: serde_json::Value = serde_json::from_slice(&body)?;
        if s["running"] == false {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let rescan = rescan_started.elapsed().as_secs_f64();
    println!(
        "{:<44} {:>9.0} files/s",
        "incremental rescan, nothing changed",
        files as f64 / rescan
    );
    // Idle RSS: after the scan and the loudness pass that follows it.
    wait_for_background(&server.addr)?;
    let (_, body) = http_get(&server.addr, "/health", None)?;
    let h: serde_json::Value = serde_json::from_slice(&body)?;
    let rss = h["memory"]["rss_bytes"].as_f64().unwrap_or(0.0) / 1e6;
    // Peak RSS over the server's life (start, scan of every file, idle): flat memory means this
    // stays near the idle figure whatever the library size (try --scan-files 100000).
    let peak = std::fs::read_to_string(format!("/proc/{}/status", server.child.id()))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1e3)
        .unwrap_or(0.0);
    println!("\n## memory");
    println!(
        "{:<44} {:>9.1} MB   for {files} files",
        "server peak RSS (start + full scan)", peak
    );
    println!(
        "{:<44} {:>9.1} MB   ratio {:.2} × goal of 30 MB",
        "server RSS after scanning, idle",
        rss,
        rss / 30.0
    );
    Ok(())
}

fn http_post(addr: &str, path: &str) -> anyhow::Result<()> {
    let mut s = TcpStream::connect(addr)?;
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{}Content-Length: 0\r\nConnection: close\r\n\r\n",
        auth_header()
    )?;
    let mut reply = Vec::new();
    s.read_to_end(&mut reply)?;
    let status_line = reply.split(|b| *b == b'\n').next().unwrap_or_default();
    let status = String::from_utf8_lossy(status_line);
    anyhow::ensure!(
        status
            .split_whitespace()
            .nth(1)
            .is_some_and(|c| c.starts_with('2')),
        "POST {path}: {}",
        status.trim()
    );
    Ok(())
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk_files(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
