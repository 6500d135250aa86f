//! Test harness: the real `tonearm` binary on a loopback port with a temp data dir, real HTTP,
//! generated audio, and ffmpeg/ffprobe as the independent judge.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};
use tonearm_media::synth::{write_wav, Pcm};

/// A running server process. Killed on drop.
pub struct TestServer {
    pub base: String,
    pub dir: tempfile::TempDir,
    pub child: Child,
    pub client: reqwest::Client,
    /// The environment the server (and [`TestServer::cli`]) runs with, kept for restarts.
    pub env: Vec<(String, String)>,
    /// Where limits and revocations are shared, kept alive as long as the server.
    pub backend: Backend,
}

/// A real `redis-server` on a free loopback port, without persistence. Killed on drop.
pub struct RedisServer {
    child: Child,
    pub port: u16,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    /// Starts one and waits until it answers `PING` (retrying on another port if the chosen
    /// one was taken between probing and binding).
    pub fn start() -> RedisServer {
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("free port")
                .port();
            let dir = tempfile::tempdir().expect("tempdir");
            let child = Command::new("redis-server")
                .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
                .args(["--save", "", "--appendonly", "no", "--dir"])
                .arg(dir.path())
                .stdout(Stdio::null())
                .spawn()
                .expect("redis-server (scripts/ensure-deps.sh test installs it)");
            let mut server = RedisServer {
                url: format!("redis://127.0.0.1:{port}/"),
                port,
                _dir: dir,
                child,
            };
            let deadline = Instant::now() + Duration::from_secs(10);
            while server.child.try_wait().ok().flatten().is_none() {
                if server.try_command("PING").as_deref() == Some("+PONG") {
                    return server;
                }
                assert!(Instant::now() < deadline, "redis-server did not start");
                std::thread::sleep(Duration::from_millis(10));
            }
            // It exited: the port was taken meanwhile. Try another.
        }
        panic!("could not start redis-server");
    }

    /// One inline command; the first line of the reply.
    fn try_command(&self, cmd: &str) -> Option<String> {
        use std::io::Write;
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        s.write_all(format!("{cmd}\r\n").as_bytes()).ok()?;
        let mut line = String::new();
        BufReader::new(s).read_line(&mut line).ok()?;
        Some(line.trim_end().to_string())
    }

    pub fn command(&self, cmd: &str) -> String {
        self.try_command(cmd)
            .unwrap_or_else(|| panic!("redis command {cmd} failed"))
    }
}

impl RedisServer {
    /// Kills the server (an outage, as far as its clients can tell).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A real S3 server (`s3s-fs`, from `scripts/ensure-deps.sh test`) over a temp folder on a
/// free loopback port, with one bucket. Killed on drop.
pub struct S3Server {
    child: Child,
    pub endpoint: String,
    pub bucket: String,
    pub root: tempfile::TempDir,
}

pub const S3_ACCESS_KEY: &str = "tonearm-test";
pub const S3_SECRET_KEY: &str = "tonearm-test-secret";

impl S3Server {
    pub fn start() -> S3Server {
        let exe = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
            .map(|h| h.join("bin/s3s-fs"))
            .filter(|p| p.exists())
            .unwrap_or_else(|| PathBuf::from("s3s-fs"));
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("free port")
                .port();
            let root = tempfile::tempdir().expect("tempdir");
            let bucket = "tonearm".to_string();
            std::fs::create_dir_all(root.path().join(&bucket)).unwrap();
            let mut child = Command::new(&exe)
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args(["--access-key", S3_ACCESS_KEY, "--secret-key", S3_SECRET_KEY])
                .arg(root.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("s3s-fs (scripts/ensure-deps.sh test installs it)");
            let deadline = Instant::now() + Duration::from_secs(10);
            while child.try_wait().ok().flatten().is_none() {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return S3Server {
                        child,
                        endpoint: format!("http://127.0.0.1:{port}"),
                        bucket,
                        root,
                    };
                }
                assert!(Instant::now() < deadline, "s3s-fs did not start");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        panic!("could not start s3s-fs");
    }

    /// The environment that points a server at this bucket.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            (
                "TONEARM_STORAGE_URL".into(),
                format!("s3://{}/media", self.bucket),
            ),
            ("TONEARM_S3_ENDPOINT".into(), self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID".into(), S3_ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY".into(), S3_SECRET_KEY.into()),
        ]
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where a server keeps rate limits, lockouts and revocations: in its own process (the
/// default), or in a real Redis shared with other nodes.
pub enum Backend {
    InProcess,
    Redis(RedisServer),
    /// A Redis another node of the same test owns.
    SharedRedis(String),
}

impl Backend {
    pub fn redis() -> Backend {
        Backend::Redis(RedisServer::start())
    }

    /// The Redis this backend runs, if it owns one.
    pub fn redis_server(&self) -> Option<&RedisServer> {
        match self {
            Backend::Redis(r) => Some(r),
            _ => None,
        }
    }

    pub fn env(&self) -> Vec<(String, String)> {
        match self {
            Backend::InProcess => vec![],
            Backend::Redis(r) => vec![("TONEARM_REDIS_URL".into(), r.url.clone())],
            Backend::SharedRedis(url) => vec![("TONEARM_REDIS_URL".into(), url.clone())],
        }
    }
}

/// Runs a test body (an `async fn(Backend)`) twice: with in-process limits and revocations,
/// and with a real Redis, as `NAME::in_process` and `NAME::redis`.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread")]
            async fn in_process() {
                super::$name($crate::common::Backend::InProcess).await
            }
            #[tokio::test(flavor = "multi_thread")]
            async fn redis() {
                super::$name($crate::common::Backend::redis()).await
            }
        }
    };
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_tonearm")
}

/// The admin every test server has (created with the CLI before the server starts).
pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "admin-password-1";

/// With `TEST_POSTGRES_URL` set (a server URL without a database, from
/// `scripts/test-postgres.sh`), every test server runs on PostgreSQL: the environment that
/// gives the data dir `data` its own fresh database (made on first use and remembered in the
/// data dir, so restarts and CLI calls find it). Empty on SQLite.
pub fn db_env(data: &Path) -> Vec<(String, String)> {
    let marker = data.join(".test-database-url");
    if let Ok(url) = std::fs::read_to_string(&marker) {
        return vec![("TONEARM_DATABASE_URL".into(), url)];
    }
    let Some(base) = std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|b| !b.is_empty())
    else {
        return vec![];
    };
    let hash = blake3::hash(data.to_string_lossy().as_bytes()).to_hex();
    let url = create_database(&base, &format!("t_{}", &hash[..16]));
    pin_database(data, &url);
    vec![("TONEARM_DATABASE_URL".into(), url)]
}

/// Makes the data dir `data` (its server and CLI calls) use the database at `url`.
pub fn pin_database(data: &Path, url: &str) {
    std::fs::create_dir_all(data).unwrap();
    std::fs::write(data.join(".test-database-url"), url).unwrap();
}

/// The PostgreSQL server of `scripts/test-postgres.sh` (started if it is not running; with
/// `TEST_POSTGRES_URL` set, that one).
pub fn postgres_server() -> String {
    if let Some(base) = std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|b| !b.is_empty())
    {
        return base;
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/test-postgres.sh");
    let out = Command::new(script)
        .output()
        .expect("scripts/test-postgres.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A fresh, empty database `name` (C collation, so text sorts as in SQLite) on the server at
/// `base`; returns its URL.
pub fn create_database(base: &str, name: &str) -> String {
    let out = Command::new("psql")
        .arg(format!("{base}/postgres"))
        .args(["-qtA", "-c", &format!("DROP DATABASE IF EXISTS {name}")])
        .args([
            "-c",
            &format!(
                "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' \
                 LC_COLLATE 'C' LC_CTYPE 'C'"
            ),
        ])
        .output()
        .expect("psql (scripts/test-postgres.sh installs PostgreSQL)");
    assert!(
        out.status.success(),
        "creating {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!("{base}/{name}")
}

/// `tonearm user add` with the password on stdin.
pub fn add_user(data: &Path, name: &str, password: &str, admin: bool) {
    let (ok, err) = try_add_user(data, name, password, admin);
    assert!(ok, "user add {name}: {err}");
}

/// Like [`add_user`], but a user of that name already there (a database shared with another
/// node) is fine.
pub fn ensure_user(data: &Path, name: &str, password: &str, admin: bool) {
    let (ok, err) = try_add_user(data, name, password, admin);
    assert!(ok || err.contains("exists"), "user add {name}: {err}");
}

fn try_add_user(data: &Path, name: &str, password: &str, admin: bool) -> (bool, String) {
    use std::io::Write;
    let mut cmd = Command::new(bin());
    cmd.arg("--data").arg(data).args(["user", "add", name]);
    cmd.envs(db_env(data));
    if admin {
        cmd.arg("--admin");
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tonearm user add");
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// POSTs `body` as JSON to `url` without credentials.
pub async fn post_json(url: String, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .expect("request")
}

/// Signs in and returns the whole token response (access and refresh tokens, lifetime).
pub async fn login_full(base: &str, name: &str, password: &str) -> Value {
    let r = post_json(
        format!("{base}/api/auth/login"),
        serde_json::json!({ "username": name, "password": password }),
    )
    .await;
    assert_eq!(r.status(), 200, "login as {name}");
    r.json().await.expect("login response")
}

/// Signs in and returns the access token.
pub async fn login(base: &str, name: &str, password: &str) -> String {
    login_full(base, name, password).await["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The status of `GET /api/me` with `token` as the bearer token.
pub async fn me_status(base: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{base}/api/me"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

/// Ends the session of `token` (`POST /api/auth/logout`) and returns the status.
pub async fn logout(base: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}/api/auth/logout"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

/// A client that sends `Authorization: Bearer token` on every request.
pub fn client_with_token(token: &str) -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(h)
        .build()
        .unwrap()
}

/// Starts `tonearm serve` on a free port over `dir/data` with library `dir/lib`, and returns the
/// process with its base URL (read from the "listening on" line).
pub fn spawn_server<K: AsRef<std::ffi::OsStr>, V: AsRef<std::ffi::OsStr>>(
    dir: &Path,
    env: &[(K, V)],
) -> (Child, String) {
    let (child, base, _stdout) =
        spawn_server_on(&dir.join("data"), Some(dir.join("lib").as_path()), env);
    (child, base)
}

/// Starts `tonearm serve` on a free port over the data dir `data` (users or not, as the test
/// left it) and `library` if given (else the configured default), with `env` added to an
/// environment cleared of config, data and library variables. Returns the process, its base URL
/// (read from the "listening on" line) and the rest of its standard output.
pub fn spawn_server_on<K: AsRef<std::ffi::OsStr>, V: AsRef<std::ffi::OsStr>>(
    data: &Path,
    library: Option<&Path>,
    env: &[(K, V)],
) -> (Child, String, std::io::Lines<BufReader<ChildStdout>>) {
    let mut cmd = Command::new(bin());
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data);
    if let Some(library) = library {
        cmd.arg("--library").arg(library);
    }
    cmd.env_remove("TONEARM_CONFIG")
        .env_remove("TONEARM_DATA")
        .env_remove("TONEARM_LIBRARY")
        .env("RUST_LOG", "warn")
        // Packaging (or analysing) every track would load the machine under every test; the
        // HLS and analysis tests turn it on (or ask on demand).
        .env("TONEARM_JOBS__HLS_ALL", "false")
        .env("TONEARM_JOBS__ANALYSIS_ALL", "false")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    cmd.envs(db_env(data));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn tonearm");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let line = lines
        .next()
        .expect("a listening line")
        .expect("read listening line");
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    (child, base, lines)
}

impl TestServer {
    /// Starts a server whose library is `<tmp>/lib`, filled by `fill` first, and waits for the
    /// start-up scan to finish.
    pub async fn start(fill: impl FnOnce(&Path)) -> TestServer {
        Self::start_with(fill, &[]).await
    }

    pub async fn start_with(fill: impl FnOnce(&Path), env: &[(&str, &str)]) -> TestServer {
        Self::start_on(Backend::InProcess, fill, env).await
    }

    /// Starts a server that keeps limits and revocations in `backend`.
    pub async fn start_on(
        backend: Backend,
        fill: impl FnOnce(&Path),
        env: &[(&str, &str)],
    ) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("lib")).unwrap();
        fill(&dir.path().join("lib"));
        if let Some((_, url)) = env.iter().find(|(k, _)| *k == "TONEARM_DATABASE_URL") {
            pin_database(&dir.path().join("data"), url);
        }
        ensure_user(&dir.path().join("data"), ADMIN, ADMIN_PASSWORD, true);
        let mut env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        env.extend(backend.env());
        let (child, base) = spawn_server(dir.path(), &env);
        let token = login(&base, ADMIN, ADMIN_PASSWORD).await;
        let server = TestServer {
            base,
            dir,
            child,
            client: client_with_token(&token),
            env,
            backend,
        };
        server.wait_scan_done().await;
        server
    }

    /// Stops the process and starts a new one on the same data dir (what survives a restart).
    pub async fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let (child, base) = spawn_server(self.dir.path(), &self.env);
        self.child = child;
        self.base = base;
        self.wait_scan_done().await;
    }

    /// The `tonearm` CLI on this server's data dir and environment.
    pub fn cli(&self) -> Command {
        let mut c = Command::new(bin());
        c.arg("--data").arg(self.dir.path().join("data"));
        // As for the server: analysis only where the test turns it on.
        c.env("TONEARM_JOBS__ANALYSIS_ALL", "false");
        c.envs(db_env(&self.dir.path().join("data")));
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        c
    }

    pub fn lib(&self) -> PathBuf {
        self.dir.path().join("lib")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert!(r.status().is_success(), "GET {path} -> {}", r.status());
        r.json().await.expect("json")
    }

    /// Polls `check` until it returns `Some`, failing after `secs` seconds. For waiting on
    /// background work the server reports (scan status, metrics), never on a guessed delay.
    pub async fn until<T, F, Fut>(&self, secs: u64, what: &str, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(v) = check().await {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn wait_scan_done(&self) -> Value {
        wait_scan_done(&self.client, &self.base).await
    }

    /// Starts a rescan and waits for it.
    pub async fn rescan(&self) -> Value {
        let r = self
            .client
            .post(self.url("/api/library/scan"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        self.wait_scan_done().await
    }

    /// All tracks, keyed by title.
    pub async fn tracks_by_title(&self) -> std::collections::HashMap<String, Value> {
        let v = self.json("/api/tracks?limit=500").await;
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["title"].as_str().unwrap().to_string(), t.clone()))
            .collect()
    }

    pub async fn track_id(&self, title: &str) -> String {
        let all = self.tracks_by_title().await;
        all.get(title)
            .unwrap_or_else(|| panic!("no track {title:?}; have {:?}", all.keys()))["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The value of a Prometheus sample line starting with `name` (labels included).
    pub async fn metric(&self, name: &str) -> f64 {
        let text = self.get("/metrics").await.text().await.unwrap();
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .find_map(|l| {
                l.strip_prefix(name)
                    .and_then(|rest| rest.trim().parse::<f64>().ok())
            })
            .unwrap_or_else(|| panic!("/metrics has no sample {name}"))
    }
}

/// Polls a server's scan status until a scan has finished (the server reports it; no guessing).
pub async fn wait_scan_done(client: &reqwest::Client, base: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(r) = client.get(format!("{base}/api/library/scan")).send().await {
            if let Ok(s) = r.json::<Value>().await {
                if s["running"] == false && s["finished_at_ms"].as_u64().unwrap_or(0) > 0 {
                    return s;
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for the scan to finish"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Runs ffprobe on `path` with `extra` arguments (e.g. `-show_entries format=start_time,duration`)
/// and returns the CSV fields of its output, in ffprobe's order.
pub fn ffprobe_fields(path: &Path, extra: &[&str]) -> Vec<String> {
    let out = Command::new("ffprobe")
        .args(["-v", "error"])
        .args(extra)
        .args(["-of", "csv=p=0"])
        .arg(path)
        .output()
        .expect("ffprobe");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .split(',')
        .map(str::to_string)
        .collect()
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes a 16-bit WAV.
pub fn wav(path: &Path, pcm: &Pcm) {
    write_wav(std::fs::File::create(path).unwrap(), pcm).unwrap();
}

/// Runs ffmpeg, panicking with its stderr on failure.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .arg("-y")
        .args(["-v", "error"])
        .args(args)
        .output()
        .expect("ffmpeg must be installed");
    assert!(
        out.status.success(),
        "ffmpeg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Encodes `src` (a WAV, whatever its extension) to `dst` with extra ffmpeg arguments (codec,
/// metadata).
/// Writes `pcm` as `<lib>/<name>.flac` titled `title` (through ffmpeg).
pub fn flac(lib: &Path, name: &str, title: &str, pcm: &Pcm) {
    let tmp = lib.join(format!("{name}.wavtmp"));
    wav(&tmp, pcm);
    encode(
        &tmp,
        &lib.join(format!("{name}.flac")),
        &[
            "-f",
            "flac",
            "-c:a",
            "flac",
            "-metadata",
            &format!("title={title}"),
        ],
    );
    std::fs::remove_file(&tmp).unwrap();
}

pub fn encode(src: &Path, dst: &Path, extra: &[&str]) {
    let mut args = vec!["-f", "wav", "-i", src.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.push(dst.to_str().unwrap());
    ffmpeg(&args);
}

/// Encodes `src` (a WAV) to `dst` with the audio codec `codec` and `key=value` tags.
pub fn encode_with_tags(src: &Path, codec: &str, tags: &[&str], dst: &Path) {
    let mut args = vec!["-c:a", codec];
    for &tag in tags {
        args.extend(["-metadata", tag]);
    }
    encode(src, dst, &args);
}

/// Decodes a file with ffmpeg into interleaved f32; any decoder complaint fails the test.
/// Returns (samples, channels, sample_rate).
pub fn decode_strict(path: &Path) -> (Vec<f32>, usize, u32) {
    let (ch, rate) = probe_stream(path);
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-xerror", "-i"])
        .arg(path)
        .args(["-f", "f32le", "-"])
        .output()
        .expect("ffmpeg");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && err.trim().is_empty(),
        "ffmpeg could not decode {}: {err}",
        path.display()
    );
    let samples = out
        .stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    (samples, ch, rate)
}

/// (channels, sample_rate) of the first audio stream, per ffprobe.
pub fn probe_stream(path: &Path) -> (usize, u32) {
    let f = ffprobe_fields(
        path,
        &[
            "-select_streams",
            "a:0",
            "-show_entries",
            "stream=channels,sample_rate",
        ],
    );
    let num = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    (num(1) as usize, num(0) as u32)
}

/// ffprobe's (start_time, duration) of the container in seconds. For MP3, ffprobe counts the
/// duration over all frames including encoder delay and padding (it does so for ffmpeg's own
/// LAME output too) and reports the delay as a positive start time.
pub fn probe_duration(path: &Path) -> (f64, f64) {
    let f = ffprobe_fields(path, &["-show_entries", "format=start_time,duration"]);
    let num = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(-1.0);
    (num(0), num(1))
}

/// Writes bytes to a temp file with the given extension and returns its path.
pub fn to_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// The signing key two nodes share in multi-node tests.
pub const SHARED_SECRET: &str = "two-nodes-share-this-signing-key-0123456789";

/// Two server processes sharing one real Redis (node A owns it), with separate databases, so
/// Redis is the only thing they share besides the signing key.
pub async fn two_nodes(extra: &[(&str, &str)]) -> (TestServer, TestServer) {
    let mut env = vec![("TONEARM_AUTH__JWT_SECRET", SHARED_SECRET)];
    env.extend_from_slice(extra);
    let a = TestServer::start_on(Backend::redis(), |_| {}, &env).await;
    let url = a
        .backend
        .redis_server()
        .expect("node A owns redis")
        .url
        .clone();
    let b = TestServer::start_on(Backend::SharedRedis(url), |_| {}, &env).await;
    (a, b)
}
