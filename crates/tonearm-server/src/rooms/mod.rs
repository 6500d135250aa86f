//! Listening rooms: anyone hosts, guests join by link and play the host's audio in sync, see
//! who is there and chat. The wire protocol is in `docs/rooms.md`.
//!
//! `Rooms` is the registry (in memory: a room lives until its host closes it, it idles without
//! a host, or the process ends). `socket` speaks Socket.IO, `room` holds one room's state,
//! `audio` checks and relays frames, `chat` cleans text, `turn` keeps a socket's events in
//! arrival order, and `ticker` sends the batched participant updates and per-second stats.

pub mod audio;
pub mod chat;
pub mod cluster;
pub mod fanout;
pub mod media;
pub mod room;
pub mod socket;
pub mod ticker;
pub mod turn;
pub mod ws;

use crate::config::RoomsConfig;
use room::Room;
use socketioxide::SocketIo;
use std::collections::HashMap;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, OnceLock, RwLock};

/// Where Socket.IO (rooms) is served; every request under it is engineioxide's.
pub const SOCKET_PATH: &str = "/socket.io";

/// Gives a Socket.IO request's URI and headers their own memory. engineioxide keeps each
/// connection's request for as long as it is open, and hyper parses the request line and
/// header values as slices of the connection's read buffer, so keeping them keeps that whole
/// buffer (8–16 KB) alive per guest. Copies are a few hundred bytes. (Measured with heaptrack
/// at 1,000 guests: 16 KB of the 37 KB per guest was this buffer.)
pub async fn own_socket_headers(mut req: axum::extract::Request) -> axum::extract::Request {
    use axum::http::{HeaderMap, HeaderName, HeaderValue, Uri};
    if !req.uri().path().starts_with(SOCKET_PATH) {
        return req;
    }
    let headers: HeaderMap = req
        .headers()
        .iter()
        .filter_map(|(k, v)| {
            Some((
                HeaderName::from_bytes(k.as_str().as_bytes()).ok()?,
                HeaderValue::from_bytes(v.as_bytes()).ok()?,
            ))
        })
        .collect();
    *req.headers_mut() = headers;
    if let Ok(uri) = Uri::try_from(req.uri().to_string()) {
        *req.uri_mut() = uri;
    }
    req
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

/// All open rooms.
pub struct Rooms {
    map: RwLock<HashMap<String, Arc<Room>>>,
    pub config: RoomsConfig,
    io: OnceLock<SocketIo>,
    cluster: OnceLock<cluster::Cluster>,
    /// Socket.IO connections open now.
    pub connections: AtomicUsize,
}

impl Rooms {
    pub fn new(config: RoomsConfig) -> Rooms {
        Rooms {
            map: RwLock::default(),
            config,
            io: OnceLock::new(),
            cluster: OnceLock::new(),
            connections: AtomicUsize::new(0),
        }
    }

    /// Remembers the Socket.IO server (set once, when the router is built).
    pub fn set_io(&self, io: SocketIo) {
        let _ = self.io.set(io);
    }

    pub fn io(&self) -> Option<&SocketIo> {
        self.io.get()
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
        let host_token = crate::auth::tokens::random_token(24);
        let id = loop {
            // 64 random bits, URL-safe: unguessable, short enough to share.
            let id = crate::auth::tokens::random_token(8);
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
        if let Some(io) = self.io() {
            let _ = io
                .to(room.layer_key(out.quality).to_string())
                .emit("broadcast:audio", out)
                .await;
        }
        let fan = &room.media[out.quality.index()];
        if fan.has_listeners() {
            // Never waits: a listener that is behind loses its own oldest frames.
            fan.send(ws::binary(&media));
        }
    }

    /// Emits an event to this node's sockets in a room.
    pub async fn emit_to(&self, room: &Room, event: &str, data: &serde_json::Value) {
        if let Some(io) = self.io() {
            let _ = io.to(room.key.clone()).emit(event, data).await;
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
        if let Some(io) = self.io() {
            let payload = serde_json::json!({ "roomId": id, "reason": reason });
            let ops = io.to(room.key.clone());
            if was_live {
                let _ = ops
                    .clone()
                    .emit("broadcast:stopped", &serde_json::json!({ "roomId": id }))
                    .await;
            }
            let _ = ops.clone().emit("room:closed", &payload).await;
            for s in ops.sockets() {
                socket::forget_room(&s, &room);
            }
        }
        true
    }
}
