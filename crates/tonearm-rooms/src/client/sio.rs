//! A small Socket.IO v4 client (Engine.IO 4 over a WebSocket, default namespace, the default
//! parser with binary attachments): enough to speak `docs/rooms.md` from the CLI and the load
//! tester. Written here because no maintained Rust client fits: the one on crates.io pulls a
//! second HTTP/TLS stack and spends a task and a channel hop per event, which the load tester
//! (thousands of guests per core) cannot afford.
//!
//! Engine.IO packets are text frames `<type><payload>` (`0` open, `2` ping, `3` pong, `4`
//! message); a Socket.IO packet rides in a message: `0` connect, `1` disconnect, `2` event,
//! `4` connect error, `5` binary event (`5<n>-[…]`, followed by `n` binary frames that replace
//! the `{"_placeholder":true,"num":i}` objects).

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Why a Socket.IO exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum SioError {
    #[error("bad server URL: {0}")]
    Url(String),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("protocol error: {0}")]
    Protocol(String),
    #[error("the server refused the connection: {0}")]
    Refused(Value),
    #[error("the connection closed")]
    Closed,
    #[error("timed out waiting for {0}")]
    Timeout(String),
}

/// A server → client event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub name: String,
    /// The first argument (null if none).
    pub data: Value,
    /// Binary attachments, in placeholder order.
    pub attachments: Vec<Bytes>,
}

impl Event {
    /// The binary a field of `data` points at (`{"_placeholder":true,"num":i}`).
    pub fn attachment(&self, field: &str) -> Option<&Bytes> {
        let p = self.data.get(field)?;
        if p.get("_placeholder")?.as_bool()? {
            let i = p.get("num")?.as_u64()? as usize;
            self.attachments.get(i)
        } else {
            None
        }
    }
}

/// Sends on a connection; cheap to clone. Writes go through one task, in order.
#[derive(Clone)]
pub struct Emitter {
    tx: mpsc::UnboundedSender<Message>,
}

impl Emitter {
    fn push(&self, m: Message) -> Result<(), SioError> {
        self.tx.send(m).map_err(|_| SioError::Closed)
    }

    /// Emits `name` with one JSON argument.
    pub fn emit(&self, name: &str, data: &Value) -> Result<(), SioError> {
        let body =
            serde_json::to_string(&(name, data)).map_err(|e| SioError::Protocol(e.to_string()))?;
        self.push(Message::text(format!("42{body}")))
    }

    /// Emits `name` with a JSON argument whose `field` carries `bin` as an attachment.
    pub fn emit_binary(
        &self,
        name: &str,
        mut data: Value,
        field: &str,
        bin: Bytes,
    ) -> Result<(), SioError> {
        if let Some(obj) = data.as_object_mut() {
            obj.insert(
                field.to_string(),
                serde_json::json!({"_placeholder": true, "num": 0}),
            );
        }
        let body =
            serde_json::to_string(&(name, &data)).map_err(|e| SioError::Protocol(e.to_string()))?;
        self.push(Message::text(format!("451-{body}")))?;
        self.push(Message::Binary(bin))
    }

    /// Closes the connection (the server sees a disconnect).
    pub fn close(&self) {
        let _ = self.push(Message::text("41"));
        let _ = self.push(Message::Close(None));
    }
}

/// A connected client: an emitter and the stream of events. Keep reading `events` or drop it:
/// the connection answers pings either way.
pub struct Client {
    pub emitter: Emitter,
    pub events: mpsc::UnboundedReceiver<Event>,
    /// The Socket.IO socket id.
    pub sid: String,
}

impl Client {
    /// Waits for the first event named in `names`; events with other names are skipped.
    pub async fn wait_for(&mut self, names: &[&str], within: Duration) -> Result<Event, SioError> {
        // What came instead, for the error: a timeout that says what did arrive is debuggable.
        let mut skipped: Vec<String> = Vec::new();
        let wait = async {
            while let Some(ev) = self.events.recv().await {
                if names.contains(&ev.name.as_str()) {
                    return Ok(ev);
                }
                if skipped.len() < 12 {
                    let data = ev.data.to_string();
                    skipped.push(format!("{} {:.160}", ev.name, data));
                }
            }
            Err(SioError::Closed)
        };
        let waited = tokio::time::timeout(within, wait).await;
        waited.map_err(|_| {
            SioError::Timeout(format!(
                "{} (received instead: {skipped:?})",
                names.join(" or ")
            ))
        })?
    }
}

/// Connects to `base` (`http://host:port`) with an optional auth payload.
pub async fn connect(base: &str, auth: Option<&Value>) -> Result<Client, SioError> {
    let url = crate::ws_url(base, "/socket.io/?EIO=4&transport=websocket")?;
    // No Nagle: a frame is a text packet then its binary attachment, two small writes that
    // must not wait for a delayed ACK (40 ms) between them.
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url.as_str(), None, true)
        .await
        .map_err(|e| SioError::Connect(e.to_string()))?;
    let open = next_text(&mut ws).await?;
    if !open.starts_with('0') {
        return Err(SioError::Protocol(format!(
            "expected an Engine.IO open packet, got {open:.40}"
        )));
    }
    let connect = match auth {
        Some(a) => format!("40{a}"),
        None => "40".to_string(),
    };
    ws.send(Message::text(connect))
        .await
        .map_err(|e| SioError::Connect(e.to_string()))?;
    let sid = loop {
        let t = next_text(&mut ws).await?;
        match t.as_str() {
            "2" => ws
                .send(Message::text("3"))
                .await
                .map_err(|e| SioError::Connect(e.to_string()))?,
            _ if t.starts_with("40") => {
                let v: Value = serde_json::from_str(&t[2..]).unwrap_or(Value::Null);
                break v
                    .get("sid")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
            }
            _ if t.starts_with("44") => {
                return Err(SioError::Refused(
                    serde_json::from_str(&t[2..]).unwrap_or(Value::Null),
                ))
            }
            _ => {}
        }
    };
    let (sink, stream) = ws.split();
    let (tx, rx) = mpsc::unbounded_channel();
    let (ev_tx, events) = mpsc::unbounded_channel();
    tokio::spawn(write_loop(sink, rx));
    tokio::spawn(read_loop(stream, tx.clone(), ev_tx));
    Ok(Client {
        emitter: Emitter { tx },
        events,
        sid,
    })
}

async fn next_text(ws: &mut Ws) -> Result<String, SioError> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return Ok(t.to_string()),
            Some(Ok(Message::Close(_))) | None => return Err(SioError::Closed),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(SioError::Connect(e.to_string())),
        }
    }
}

async fn write_loop(
    mut sink: futures_util::stream::SplitSink<Ws, Message>,
    mut rx: mpsc::UnboundedReceiver<Message>,
) {
    while let Some(m) = rx.recv().await {
        let closing = matches!(m, Message::Close(_));
        // Gather what is already queued into one flush.
        if sink.feed(m).await.is_err() {
            return;
        }
        while let Ok(more) = rx.try_recv() {
            if sink.feed(more).await.is_err() {
                return;
            }
        }
        if sink.flush().await.is_err() || closing {
            return;
        }
    }
}

async fn read_loop(
    mut stream: futures_util::stream::SplitStream<Ws>,
    out: mpsc::UnboundedSender<Message>,
    events: mpsc::UnboundedSender<Event>,
) {
    let mut pending: Option<(Event, usize)> = None;
    while let Some(Ok(msg)) = stream.next().await {
        match msg {
            Message::Text(t) => match t.as_bytes().first() {
                Some(b'2') => {
                    let _ = out.send(Message::text("3"));
                }
                Some(b'1') => break,
                Some(b'4') => match parse_packet(&t[1..]) {
                    Ok(Packet::Event(ev, 0)) => {
                        let _ = events.send(ev);
                    }
                    Ok(Packet::Event(ev, n)) => pending = Some((ev, n)),
                    Ok(Packet::Disconnect) => break,
                    // Acks, connect packets, and (from a broken server) malformed ones.
                    Ok(Packet::Other) | Err(_) => {}
                },
                _ => {}
            },
            Message::Binary(b) => {
                if let Some((ev, n)) = pending.as_mut() {
                    ev.attachments.push(b);
                    if ev.attachments.len() == *n {
                        if let Some((ev, _)) = pending.take() {
                            let _ = events.send(ev);
                        }
                    }
                }
            }
            Message::Close(_) => break,
            _ => {}
        }
    }
}

/// More binary attachments than any room event has (one) is a broken or hostile packet.
const MAX_ATTACHMENTS: usize = 16;

/// A parsed Socket.IO packet (the part this client acts on).
#[derive(Debug, PartialEq)]
enum Packet {
    /// An event and the number of binary attachments still to come.
    Event(Event, usize),
    Disconnect,
    Other,
}

fn parse_packet(s: &str) -> Result<Packet, SioError> {
    let bad = |why: &str| SioError::Protocol(format!("{why}: {s:.60}"));
    let mut rest = s;
    let kind = rest
        .as_bytes()
        .first()
        .copied()
        .ok_or_else(|| bad("empty"))?;
    if !kind.is_ascii() {
        return Err(bad("not a packet type"));
    }
    rest = &rest[1..];
    let attachments = if kind == b'5' || kind == b'6' {
        let dash = rest.find('-').ok_or_else(|| bad("no attachment count"))?;
        let n = rest[..dash]
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= MAX_ATTACHMENTS)
            .ok_or_else(|| bad("bad attachment count"))?;
        rest = &rest[dash + 1..];
        n
    } else {
        0
    };
    if rest.starts_with('/') {
        rest = rest.find(',').map(|i| &rest[i + 1..]).unwrap_or("");
    }
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    match kind {
        b'1' => Ok(Packet::Disconnect),
        b'2' | b'5' => {
            let arr: Vec<Value> =
                serde_json::from_str(rest).map_err(|e| bad(&format!("bad JSON ({e})")))?;
            let mut it = arr.into_iter();
            let name = match it.next() {
                Some(Value::String(n)) => n,
                _ => return Err(bad("event without a name")),
            };
            let data = it.next().unwrap_or(Value::Null);
            Ok(Packet::Event(
                Event {
                    name,
                    data,
                    attachments: Vec::with_capacity(attachments),
                },
                attachments,
            ))
        }
        _ => Ok(Packet::Other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_with_and_without_attachments_parse() {
        let Packet::Event(ev, 0) = parse_packet(r#"2["chat:message",{"message":"hi"}]"#).unwrap()
        else {
            panic!("not an event")
        };
        assert_eq!(ev.name, "chat:message");
        assert_eq!(ev.data, json!({"message": "hi"}));

        let p = parse_packet(r#"51-["broadcast:audio",{"data":{"_placeholder":true,"num":0}}]"#)
            .unwrap();
        let Packet::Event(mut ev, 1) = p else {
            panic!("not a binary event: {p:?}")
        };
        assert!(ev.attachment("data").is_none());
        ev.attachments.push(Bytes::from_static(b"xyz"));
        assert_eq!(ev.attachment("data").unwrap().as_ref(), b"xyz");

        // Namespace and ack id are skipped.
        let p = parse_packet(r#"2/admin,17["x"]"#).unwrap();
        assert!(matches!(p, Packet::Event(ref e, 0) if e.name == "x" && e.data.is_null()));
        assert_eq!(parse_packet("1").unwrap(), Packet::Disconnect);
    }

    #[test]
    fn random_packets_never_panic() {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let alphabet = b"0123456789-[]{}\",:/_ab\\";
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 24) as usize;
            let s: String = (0..len)
                .map(|i| alphabet[((x >> (i % 8 * 8)) as usize + i) % alphabet.len()] as char)
                .collect();
            let _ = parse_packet(&s);
        }
    }

    #[test]
    fn malformed_packets_are_errors_not_panics() {
        for s in [
            "",
            "2",
            "2[",
            "2[1]",
            "5x-[]",
            "5-[]",
            "2{}",
            "51-",
            "2/ns",
            "é[]",
            "\u{1F600}",
            "599999999999-[\"x\"]",
        ] {
            let r = parse_packet(s);
            assert!(r.is_err() || matches!(r, Ok(Packet::Other)), "{s:?}: {r:?}");
        }
    }
}
