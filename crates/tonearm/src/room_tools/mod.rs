//! `tonearm broadcast`, `listen` and `loadtest`: room clients that double as the sync and load
//! test tools. They speak the protocol of `docs/rooms.md` through `tonearm_rooms`.

pub mod broadcast;
pub mod fanin;
pub mod listen;
pub mod loadtest;

use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::time::Duration;
use tonearm_rooms::client::sio::{self, Client};
use tonearm_rooms::clock::{ClockSync, Estimate, LocalClock, Sample};

/// Which room on which server (`listen` and `loadtest`).
#[derive(Debug, Clone, clap::Args)]
pub struct RoomTarget {
    /// Server base URL, e.g. http://127.0.0.1:4533.
    #[arg(long)]
    pub server: String,
    /// The room id (ids, like tokens and passwords, may start with `-`).
    #[arg(long, allow_hyphen_values = true)]
    pub room: String,
    #[arg(long, allow_hyphen_values = true)]
    pub password: Option<String>,
}

/// How long to wait for the server to answer a request.
const ANSWER: Duration = Duration::from_secs(10);

/// A connected guest identity with its clock.
pub struct Guest {
    pub client: Client,
    /// The session token (opens the media path).
    pub token: String,
    pub clock: LocalClock,
    pub sync: ClockSync,
}

/// Connects and waits for the `session` event.
pub async fn connect(server: &str, skew_ms: f64) -> anyhow::Result<Guest> {
    let mut client = sio::connect(server, None)
        .await
        .with_context(|| format!("connecting to {server}"))?;
    let session = client.wait_for(&["session", "error"], ANSWER).await?;
    if session.name == "error" {
        bail!("the server refused the connection: {}", session.data);
    }
    let field = |k: &str| {
        session.data[k]
            .as_str()
            .map(str::to_string)
            .with_context(|| format!("session event without {k}"))
    };
    Ok(Guest {
        token: field("token")?,
        client,
        clock: LocalClock::new(skew_ms),
        sync: ClockSync::default(),
    })
}

impl Guest {
    /// Joins a room (as host with `host_token`); `media` asks for audio on the media path.
    /// Returns `room:joined`'s payload.
    pub async fn join(
        &mut self,
        room: &str,
        password: Option<&str>,
        host_token: Option<&str>,
        media: bool,
    ) -> anyhow::Result<Value> {
        let mut req = json!({ "roomId": room });
        if let Some(p) = password {
            req["password"] = p.into();
        }
        if let Some(t) = host_token {
            req["hostToken"] = t.into();
        }
        if media {
            req["audio"] = "media".into();
        }
        self.client.emitter.emit("room:join", &req)?;
        let ev = self
            .client
            .wait_for(
                &["room:joined", "room:notfound", "room:full", "error"],
                ANSWER,
            )
            .await?;
        match ev.name.as_str() {
            "room:joined" => Ok(ev.data),
            "room:notfound" => bail!("room {room} does not exist (or has closed)"),
            "room:full" => bail!("room {room} is full"),
            _ => bail!("cannot join {room}: {}", ev.data["message"]),
        }
    }

    /// Sends one `time:ping`.
    pub fn ping(&self) -> anyhow::Result<()> {
        let t = self.clock.now_ms();
        self.client
            .emitter
            .emit("time:ping", &json!({ "clientTime": t }))?;
        Ok(())
    }

    /// Takes a `time:pong` into the clock estimate.
    pub fn pong(&mut self, data: &Value) {
        let now = self.clock.now_ms();
        let (Some(t0), Some(rx), Some(tx)) = (
            data["clientTime"].as_f64(),
            data["serverReceive"].as_f64(),
            data["serverSend"].as_f64(),
        ) else {
            return;
        };
        self.sync.add(Sample::from_exchange(t0, rx, tx, now));
    }

    /// A burst of `n` pings, one at a time; returns the estimate.
    pub async fn sync_clock(&mut self, n: usize) -> anyhow::Result<Estimate> {
        for _ in 0..n {
            self.ping()?;
            let pong = self.client.wait_for(&["time:pong"], ANSWER).await?;
            self.pong(&pong.data);
        }
        self.sync.estimate().context("no clock samples")
    }

    /// Local clock → server clock, by the current estimate.
    pub fn offset_ms(&self) -> f64 {
        self.sync.estimate().map(|e| e.offset_ms).unwrap_or(0.0)
    }
}

/// One HTTP/1.1 GET over a fresh connection (for `/metrics`); returns the body.
pub async fn http_get(server: &str, path: &str) -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = server
        .trim_end_matches('/')
        .strip_prefix("http://")
        .context("server URL must start with http://")?;
    let mut s = tokio::net::TcpStream::connect(host).await?;
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await?;
    let text = String::from_utf8_lossy(&buf);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .context("malformed HTTP answer")?;
    if !head.starts_with("HTTP/1.1 200") {
        bail!("GET {path}: {}", head.lines().next().unwrap_or(""));
    }
    Ok(body.to_string())
}

/// A gauge's value from Prometheus text.
pub fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.split([' ', '{']).next() == Some(name))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

/// The `p`-quantile (0..=1) of sorted values.
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_and_quantiles_are_read() {
        let text =
            "# TYPE x gauge\ntonearm_process_rss_bytes 1234\ntonearm_process_rss_bytes_x 9\n";
        assert_eq!(metric(text, "tonearm_process_rss_bytes"), Some(1234.0));
        assert_eq!(metric(text, "missing"), None);
        let v: Vec<f64> = (0..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), 50.0);
        assert_eq!(quantile(&v, 0.99), 99.0);
        assert!(quantile(&[], 0.5).is_nan());
    }
}
