//! The listening-room engine: everything a room is and does on the server, apart from the
//! transport. Anyone hosts, guests join by link and play the host's audio in sync, see who is
//! there and chat (protocol: `docs/rooms.md`).
//!
//! `Rooms` is the registry (in memory: a room lives until its host closes it, it idles without
//! a host, or the process ends). `room` holds one room's state and its rules, `audio` checks
//! host frames and keeps the replay ring, `fanout` writes the media path's frames to listeners
//! and paces them, `media` serves one listener's media path over any byte stream, `ws` frames
//! it, `chat` cleans text and limits its rate, `participants` announces who came and went,
//! `ticker` is the rooms' clock, and `cluster`
//! links the nodes through Redis. Events leave through an [`Outlet`]: the server's Socket.IO
//! adapter implements it, so this module never sees a socket.

pub mod audio;
pub mod chat;
pub mod cluster;
pub mod fanout;
pub mod media;
mod outlet;
pub mod participants;
pub mod room;
pub mod ticker;
pub mod ws;

pub use outlet::{Emit, Outlet};

use room::Room;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, OnceLock, RwLock};

/// Listening rooms' settings (`[rooms]` in the server's config).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RoomsConfig {
    /// Rooms open at once on this server.
    pub max_rooms: usize,
    /// Participants per room, the host included.
    pub max_participants: usize,
    /// Socket.IO connections at once.
    pub max_connections: usize,
    /// Default delay between capture and playout (rooms may set their own).
    pub default_delay_ms: u32,
    /// A room without its host for this long is closed.
    pub idle_close_secs: u64,
    /// Largest audio frame accepted from a host.
    pub max_frame_bytes: usize,
    /// Audio kept per layer so joiners start at once.
    pub replay_ms: u32,
    /// Chat messages per connection per 5 seconds.
    pub chat_per_5s: usize,
    /// Frames each layer's media path buffers for a listener that falls behind (64 × 20 ms:
    /// about 1.3 s); older ones are dropped for that listener alone.
    pub media_queue_frames: usize,
}

impl Default for RoomsConfig {
    fn default() -> Self {
        RoomsConfig {
            max_rooms: 1000,
            max_participants: 100,
            max_connections: 20_000,
            default_delay_ms: 400,
            idle_close_secs: 3600,
            max_frame_bytes: 4000,
            replay_ms: 3000,
            chat_per_5s: 5,
            media_queue_frames: 64,
        }
    }
}

/// Why a room could not be created.
#[derive(Debug, thiserror::Error)]
pub enum RoomError {
    #[error("room name must be 1–100 characters")]
    BadName,
    #[error("delay must be between 50 and 10000 ms")]
    BadDelay,
    #[error("password must be 1–128 characters")]
    BadPassword,
    #[error("too many rooms are open; try again later")]
    TooMany,
}

/// Longest room name, in characters.
pub const MAX_ROOM_NAME: usize = 100;

/// `room:create` and `POST /api/rooms`: what a new room is made from.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateRequest {
    pub room_name: String,
    pub password: Option<String>,
    pub delay_ms: Option<u32>,
}

/// Wall-clock milliseconds since the Unix epoch (room creation times, host-seen stamps).
pub fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `bytes` random bytes, URL-safe base64: room ids and host tokens.
fn random_id(bytes: usize) -> String {
    use base64::Engine;
    let buf: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// All open rooms.
pub struct Rooms {
    map: RwLock<HashMap<String, Arc<Room>>>,
    pub config: RoomsConfig,
    outlet: OnceLock<Arc<dyn Outlet>>,
    cluster: OnceLock<cluster::Cluster>,
    /// Socket.IO connections open now.
    pub connections: AtomicUsize,
}

impl Rooms {
    pub fn new(config: RoomsConfig) -> Rooms {
        Rooms {
            map: RwLock::default(),
            config,
            outlet: OnceLock::new(),
            cluster: OnceLock::new(),
            connections: AtomicUsize::new(0),
        }
    }

    /// Where events to this node's sockets go (set once, when the transport is built).
    pub fn set_outlet(&self, outlet: Arc<dyn Outlet>) {
        let _ = self.outlet.set(outlet);
    }

    fn outlet(&self) -> Option<&dyn Outlet> {
        self.outlet.get().map(|o| &**o)
    }

    /// Opens a room hosted by the guest identity `host_id`. Returns it with the answer both
    /// `room:created` and the REST call give (`{roomId, roomName, hostId, hostToken,
    /// createdAt}`; the host token is shown this once).
    pub fn create(
        &self,
        new: &CreateRequest,
        host_id: String,
    ) -> Result<(Arc<Room>, serde_json::Value), RoomError> {
        let name = chat::clean_message(&new.room_name)
            .ok()
            .filter(|n| n.chars().count() <= MAX_ROOM_NAME)
            .ok_or(RoomError::BadName)?;
        let delay = new.delay_ms.unwrap_or(self.config.default_delay_ms);
        if !(50..=10_000).contains(&delay) {
            return Err(RoomError::BadDelay);
        }
        if new
            .password
            .as_ref()
            .is_some_and(|p| p.is_empty() || p.len() > 128)
        {
            return Err(RoomError::BadPassword);
        }
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if map.len() >= self.config.max_rooms {
            return Err(RoomError::TooMany);
        }
        let host_token = random_id(24);
        let id = loop {
            // 64 random bits, URL-safe: unguessable, short enough to share.
            let id = random_id(8);
            if !map.contains_key(&id) {
                break id;
            }
        };
        let room = Arc::new(Room::new(
            id.clone(),
            name,
            host_id.clone(),
            &host_token,
            new.password.as_deref(),
            delay,
            self.config.media_queue_frames,
        ));
        map.insert(id, room.clone());
        let created = serde_json::json!({
            "roomId": &*room.id,
            "roomName": room.name,
            "hostId": host_id,
            "hostToken": host_token,
            "createdAt": room.created_at,
        });
        Ok((room, created))
    }

    /// Links this node to the others (rooms across nodes through Redis).
    pub fn set_cluster(&self, c: cluster::Cluster) {
        let _ = self.cluster.set(c);
    }

    pub fn cluster(&self) -> Option<&cluster::Cluster> {
        self.cluster.get()
    }

    /// Makes a room created here joinable through the other nodes.
    pub async fn register(&self, room: &Room) {
        if let Some(c) = self.cluster() {
            c.put_record(room).await;
        }
    }

    /// A room by id: this node's copy, or (across nodes) a replica made from its record.
    pub async fn find(&self, id: &str) -> Option<Arc<Room>> {
        if let Some(r) = self.get(id) {
            return Some(r);
        }
        let rec = self.cluster()?.fetch(id).await?;
        let replica = Arc::new(cluster::replica(&self.config, id, &rec)?);
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        // Another join may have made one meanwhile: keep the first.
        Some(map.entry(id.to_string()).or_insert(replica).clone())
    }

    pub fn get(&self, id: &str) -> Option<Arc<Room>> {
        self.map
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    /// Every open room, in no order.
    pub fn all(&self) -> Vec<Arc<Room>> {
        self.map
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Every open room, newest first.
    pub fn list(&self) -> Vec<Arc<Room>> {
        let mut v = self.all();
        v.sort_by_key(|r| std::cmp::Reverse(r.created_at));
        v
    }

    /// Removes a room from the registry (callers tell its participants).
    pub fn remove(&self, id: &str) -> Option<Arc<Room>> {
        self.map
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id)
    }

    /// Sends a frame to this node's guests of its layer: as a Socket.IO event to those on that
    /// path, and into the layer's media ring. The one way a frame reaches guests, whether the
    /// host is on this node or another.
    pub async fn deliver(&self, room: &Room, out: &audio::FrameOut, media: bytes::Bytes) {
        if let Some(outlet) = self.outlet() {
            outlet.emit_frame(room.layer_key(out.quality), out).await;
        }
        let fan = &room.media[out.quality.index()];
        if fan.has_listeners() {
            // Never waits: a listener that is behind loses its own oldest frames.
            fan.send(ws::binary(&media));
        }
    }

    /// Emits an event to this node's sockets in a room.
    pub async fn emit_to(&self, room: &Room, event: &str, data: &serde_json::Value) {
        if let Some(outlet) = self.outlet() {
            outlet.emit(&room.key, event, data).await;
        }
    }

    /// Closes a room everywhere: here, and (across nodes) on every other node.
    pub async fn close(&self, id: &str, reason: &str) -> bool {
        if let Some(c) = self.cluster() {
            c.publish_event(
                id,
                "room:closed",
                &serde_json::json!({ "roomId": id, "reason": reason }),
            );
            c.delete_record(id).await;
        }
        self.close_here(id, reason).await
    }

    /// Closes this node's copy of a room: removes it and tells everyone in it here.
    pub async fn close_here(&self, id: &str, reason: &str) -> bool {
        let Some(room) = self.remove(id) else {
            return false;
        };
        let was_live = {
            let mut state = room.state();
            state.cancel_all();
            state.live.take().is_some()
        };
        if let Some(outlet) = self.outlet() {
            if was_live {
                let stopped = serde_json::json!({ "roomId": id });
                outlet.emit(&room.key, "broadcast:stopped", &stopped).await;
            }
            let closed = serde_json::json!({ "roomId": id, "reason": reason });
            outlet.emit(&room.key, "room:closed", &closed).await;
            outlet.detach(&room);
        }
        true
    }
}
