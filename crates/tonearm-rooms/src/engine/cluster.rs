//! Rooms across nodes. With Redis configured, a room's record (name, delay, hashed secrets, host,
//! live audio config) lives in Redis, so a guest can join through any node, and each room has a
//! pub/sub channel. The node the host broadcasts through publishes every accepted frame once;
//! every other node relays it to its own guests, so audio crosses to a node once, not once per
//! guest. Room events travel the same way: start and stop, chat, a host moving, participant
//! changes, closing. Each node keeps a replica `Room` of the rooms its guests are in.
//!
//! Written on the `redis` crate rather than socketioxide-redis: the adapter would carry
//! Socket.IO emits only, and the binary media path, the replay rings and the room registry need
//! the frames and the records themselves.

use super::audio::FrameOut;
use super::room::{ChatMessage, Live, Participant, Room};
use super::{Rooms, RoomsConfig};
use crate::MediaFrame;
use bytes::Bytes;
use redis::aio::ConnectionManager;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const CHANNEL_PREFIX: &str = "tonearm:room-bus:";
const RECORD_PREFIX: &str = "tonearm:room:";
/// Messages waiting to be published; beyond this they are dropped (and counted), never queued
/// without bound or awaited on the audio path.
const OUTBOX: usize = 4096;
const CALL_TIMEOUT: Duration = Duration::from_secs(2);

const KIND_FRAME: u8 = b'F';
const KIND_EVENT: u8 = b'E';

/// This node's link to the others.
pub struct Cluster {
    node: [u8; 16],
    conn: ConnectionManager,
    outbox: mpsc::Sender<(String, Vec<u8>)>,
    /// How long records of rooms nobody refreshes survive (a crashed origin's rooms expire).
    record_ttl: u64,
    /// HSET only if the record exists.
    set_if_exists: redis::Script,
}

fn record_key(id: &str) -> String {
    format!("{RECORD_PREFIX}{id}")
}

impl Cluster {
    /// Starts the publisher. `idle_close_secs` bounds how long a record outlives its origin.
    pub fn new(conn: ConnectionManager, idle_close_secs: u64) -> Cluster {
        let (outbox, mut rx) = mpsc::channel::<(String, Vec<u8>)>(OUTBOX);
        let mut pub_conn = conn.clone();
        // One publisher, so a room's messages keep their order; whatever is waiting goes to
        // Redis as one pipeline (one round trip), not one round trip per message.
        tokio::spawn(async move {
            while let Some((channel, payload)) = rx.recv().await {
                let mut pipe = redis::pipe();
                pipe.cmd("PUBLISH").arg(channel).arg(payload).ignore();
                let mut n = 1u64;
                while let Ok((channel, payload)) = rx.try_recv() {
                    pipe.cmd("PUBLISH").arg(channel).arg(payload).ignore();
                    n += 1;
                    if n == 256 {
                        break;
                    }
                }
                let sent: redis::RedisResult<()> = pipe.query_async(&mut pub_conn).await;
                if let Err(e) = sent {
                    metrics::counter!("tonearm_room_bus_failed_total").increment(n);
                    tracing::debug!("room bus publish failed: {e}");
                }
            }
        });
        Cluster {
            node: rand::random(),
            conn,
            outbox,
            record_ttl: idle_close_secs.saturating_mul(2).max(120),
            set_if_exists: redis::Script::new(
                "if redis.call('EXISTS', KEYS[1]) == 1 then \
                   return redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end return 0",
            ),
        }
    }

    fn send(&self, room_id: &str, kind: u8, body: &[u8]) {
        let mut payload = Vec::with_capacity(17 + body.len());
        payload.push(kind);
        payload.extend_from_slice(&self.node);
        payload.extend_from_slice(body);
        if self
            .outbox
            .try_send((format!("{CHANNEL_PREFIX}{room_id}"), payload))
            .is_err()
        {
            metrics::counter!("tonearm_room_bus_dropped_total").increment(1);
        }
    }

    /// This node's id, as `changes` events name it.
    pub fn node_id(&self) -> String {
        self.node.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Publishes a frame this node accepted (its media-path encoding).
    pub fn publish_frame(&self, room_id: &str, media: &[u8]) {
        metrics::counter!("tonearm_room_bus_frames_published_total").increment(1);
        self.send(room_id, KIND_FRAME, media);
    }

    /// Publishes a room event for the other nodes to apply and pass on.
    pub fn publish_event(&self, room_id: &str, event: &str, data: &Value) {
        let body = json!({ "event": event, "data": data }).to_string();
        self.send(room_id, KIND_EVENT, body.as_bytes());
    }

    async fn call<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Option<T> {
        let mut conn = self.conn.clone();
        match tokio::time::timeout(CALL_TIMEOUT, cmd.query_async::<T>(&mut conn)).await {
            Ok(Ok(v)) => Some(v),
            Ok(Err(e)) => {
                tracing::warn!("room registry: {e}");
                None
            }
            Err(_) => {
                tracing::warn!("room registry: redis timed out");
                None
            }
        }
    }

    /// Stores (or refreshes) a room's record.
    pub async fn put_record(&self, room: &Room) {
        let key = record_key(&room.id);
        let mut hset = redis::cmd("HSET");
        hset.arg(&key);
        for (k, v) in room.record() {
            hset.arg(k).arg(v);
        }
        let _: Option<i64> = self.call(&hset).await;
        self.touch(&room.id).await;
    }

    /// Extends a record's life (the origin does this while the room is open).
    pub async fn touch(&self, id: &str) {
        let _: Option<i64> = self
            .call(
                redis::cmd("EXPIRE")
                    .arg(record_key(id))
                    .arg(self.record_ttl),
            )
            .await;
    }

    /// Sets one field of a room's record, if the record still exists (a write must never
    /// bring back a closed or expired room as a partial record without an expiry).
    pub async fn set_field(&self, id: &str, field: &str, value: Option<String>) {
        let Some(v) = value else {
            let _: Option<i64> = self
                .call(redis::cmd("HDEL").arg(record_key(id)).arg(field))
                .await;
            return;
        };
        let mut conn = self.conn.clone();
        let mut inv = self.set_if_exists.key(record_key(id));
        inv.arg(field).arg(v);
        let run = inv.invoke_async::<i64>(&mut conn);
        match tokio::time::timeout(CALL_TIMEOUT, run).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!("room registry: {e}"),
            Err(_) => tracing::warn!("room registry: redis timed out"),
        }
    }

    /// Whether a room's record still exists (`None`: Redis did not answer).
    pub async fn exists(&self, id: &str) -> Option<bool> {
        let n: i64 = self.call(redis::cmd("EXISTS").arg(record_key(id))).await?;
        Some(n == 1)
    }

    pub async fn delete_record(&self, id: &str) {
        let _: Option<i64> = self.call(redis::cmd("DEL").arg(record_key(id))).await;
    }

    /// A room's record, if the room is open somewhere.
    pub async fn fetch(&self, id: &str) -> Option<HashMap<String, String>> {
        let rec: HashMap<String, String> =
            self.call(redis::cmd("HGETALL").arg(record_key(id))).await?;
        (!rec.is_empty()).then_some(rec)
    }

    /// Notes that the host is connected (to some node) now.
    pub async fn host_seen(&self, id: &str) {
        self.set_field(id, "hostSeenAt", Some(super::wall_ms().to_string()))
            .await;
    }

    /// Whether the host was connected to any node within `within`.
    pub async fn host_seen_within(&self, id: &str, within: Duration) -> bool {
        let seen: Option<Option<i64>> = self
            .call(redis::cmd("HGET").arg(record_key(id)).arg("hostSeenAt"))
            .await;
        match seen {
            Some(Some(t)) => super::wall_ms() - t < within.as_millis() as i64,
            Some(None) => false,
            // Redis unreachable: do not close a room on a guess.
            None => true,
        }
    }
}

/// Builds a replica from a record (with its live broadcast, if any).
pub fn replica(config: &RoomsConfig, id: &str, rec: &HashMap<String, String>) -> Option<Room> {
    let room = Room::from_record(id, rec, config.media_queue_frames)?;
    if let Some(audio) = rec.get("live").and_then(|l| serde_json::from_str(l).ok()) {
        room.state().live = Some(Live::new(audio, config));
    }
    Some(room)
}

/// Listens to every room's channel until the process ends, reconnecting after failures.
pub fn spawn_subscriber(rooms: Arc<Rooms>, url: String) {
    // Present from the start (the recorder is installed by now), so a reading of 0 means
    // none yet, not "not exported".
    for name in [
        "tonearm_room_bus_frames_published_total",
        "tonearm_room_bus_frames_received_total",
    ] {
        metrics::counter!(name).increment(0);
    }
    tokio::spawn(async move {
        loop {
            if let Err(e) = subscribe(&rooms, &url).await {
                tracing::warn!("room bus: {e}; reconnecting");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

async fn subscribe(rooms: &Rooms, url: &str) -> redis::RedisResult<()> {
    use futures_util::StreamExt;
    let client = redis::Client::open(url)?;
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.psubscribe(format!("{CHANNEL_PREFIX}*")).await?;
    let mut messages = pubsub.into_on_message();
    while let Some(msg) = messages.next().await {
        let channel = msg.get_channel_name().to_string();
        handle(rooms, &channel, msg.get_payload_bytes()).await;
    }
    Ok(())
}

/// Applies one message from another node.
async fn handle(rooms: &Rooms, channel: &str, payload: &[u8]) {
    let Some(cluster) = rooms.cluster() else {
        return;
    };
    let Some(id) = channel.strip_prefix(CHANNEL_PREFIX) else {
        return;
    };
    if payload.len() < 17 || payload[1..17] == cluster.node {
        return;
    }
    // Only rooms this node has guests in (a replica) are of interest.
    let Some(room) = rooms.get(id) else {
        return;
    };
    let body = &payload[17..];
    match payload[0] {
        KIND_FRAME => relay_remote(rooms, &room, Bytes::copy_from_slice(body)).await,
        KIND_EVENT => {
            if let Ok(v) = serde_json::from_slice::<Value>(body) {
                let event = v["event"].as_str().unwrap_or_default();
                apply_event(rooms, &room, event, &v["data"]).await;
            }
        }
        _ => {}
    }
}

async fn relay_remote(rooms: &Rooms, room: &Arc<Room>, media: Bytes) {
    let Ok(f) = MediaFrame::decode(&media) else {
        return;
    };
    metrics::counter!("tonearm_room_bus_frames_received_total").increment(1);
    let out = FrameOut {
        room_id: room.id.clone(),
        data: f.data.clone(),
        timestamp: f.timestamp,
        duration: f64::from(f.duration),
        quality: f.quality,
        seq: f.seq,
        server_time: f.server_time,
    };
    let _relay = room.relay.lock().await;
    {
        let mut state = room.state();
        let Some(live) = state.live.as_mut() else {
            return;
        };
        live.audio.push_relayed(out.clone(), media.clone());
    }
    rooms.deliver(room, &out, media).await;
}

async fn apply_event(rooms: &Rooms, room: &Arc<Room>, event: &str, data: &Value) {
    match event {
        "broadcast:started" => {
            let _relay = room.relay.lock().await;
            room.state().live = Some(Live::new(data["audioConfig"].clone(), &rooms.config));
            rooms.emit_to(room, event, data).await;
        }
        "broadcast:stopped" => {
            room.end_broadcast().await;
            rooms.emit_to(room, event, data).await;
        }
        "user:renamed" => rooms.emit_to(room, event, data).await,
        "chat:message" => {
            if let Ok(msg) = serde_json::from_value::<ChatMessage>(data.clone()) {
                room.state().push_chat(msg);
                rooms.emit_to(room, event, data).await;
            }
        }
        "host" => {
            if let Some(host) = data["hostId"].as_str() {
                let mut state = room.state();
                state.host_id = host.to_string();
                if !state.host_present() && state.host_away_since.is_none() {
                    state.host_away_since = Some(Instant::now());
                }
            }
        }
        "changes" => {
            let node = data["node"].as_str().unwrap_or_default().to_string();
            let count = data["count"].as_u64().unwrap_or(0) as usize;
            let parse = |k: &str| -> Vec<Participant> {
                serde_json::from_value(data[k].clone()).unwrap_or_default()
            };
            let total = {
                let mut state = room.state();
                state.remote_counts.insert(node, count);
                state.participant_count()
            };
            super::participants::announce(rooms, room, parse("joined"), parse("left"), total).await;
        }
        "room:closed" => {
            let reason = data["reason"].as_str().unwrap_or("closed").to_string();
            rooms.close_here(&room.id, &reason).await;
        }
        _ => {}
    }
}
