//! The Socket.IO side of listening rooms: one handler per event of `docs/rooms.md`. Handlers
//! are thin: they parse, ask the room, and emit what it says. Nothing a client sends can panic
//! or disconnect: bad payloads get an `error` (or `broadcast:error`) event.

use super::audio::{check_frame, FrameError, FrameIn, Quality};
use super::chat::{clean_message, clean_name, ChatLimiter};
use super::room::{ChatMessage, Live, Participant, Room};
use super::NewRoom;
use crate::state::AppState;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use socketioxide::extract::{Extension, MaybeExtension, SocketRef, State, TryData};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a guest session token stays valid (reconnects within it keep the identity).
const SESSION_TTL_SECS: u64 = 7 * 24 * 3600;

/// The Socket.IO room holding everyone in a listening room.
pub fn room_key(id: &str) -> String {
    format!("r:{id}")
}

/// The Socket.IO room holding the guests that receive one audio layer.
fn layer_key(id: &str, q: Quality) -> String {
    format!("r:{id}:{}", q.as_str())
}

/// One connection's identity and place.
pub struct Conn {
    pub user_id: String,
    pub username: Mutex<String>,
    pub room: Mutex<Option<String>>,
    pub quality: Mutex<Quality>,
    pub chat: Mutex<ChatLimiter>,
    /// Ordered events taken so far (see [`Turn`]).
    arrived: AtomicU64,
    /// Ordered events finished so far.
    served: tokio::sync::watch::Sender<u64>,
}

/// A socket's place in line. socketioxide parses a socket's events in arrival order but runs
/// each handler as its own task, so two frames sent back to back could be relayed swapped, or
/// the first frame could overtake `broadcast:start`. Handlers that must keep order take a
/// `Turn` (numbered while parsing, so in arrival order) and wait for it.
pub struct Turn(Option<(Arc<Conn>, u64)>);

impl<A: socketioxide::adapter::Adapter> socketioxide::handler::FromMessageParts<A> for Turn {
    type Error = std::convert::Infallible;
    fn from_message_parts(
        s: &Arc<socketioxide::socket::Socket<A>>,
        _: &mut socketioxide_core::Value,
        _: &Option<i64>,
    ) -> Result<Self, Self::Error> {
        Ok(Turn(s.extensions.get::<Arc<Conn>>().map(|c| {
            let ticket = c.arrived.fetch_add(1, Ordering::SeqCst);
            (c, ticket)
        })))
    }
}

/// Lets the next event in line run when dropped.
pub struct TurnGuard(Option<Arc<Conn>>);

impl Drop for TurnGuard {
    fn drop(&mut self) {
        if let Some(c) = &self.0 {
            c.served.send_modify(|n| *n += 1);
        }
    }
}

impl Turn {
    /// Waits until every earlier ordered event of the socket has finished. A handler that
    /// never ran (it cannot happen with our extractors, but) would not block the line forever:
    /// after a second the wait gives up and the event runs.
    async fn wait(self) -> TurnGuard {
        let Some((conn, ticket)) = self.0 else {
            return TurnGuard(None);
        };
        let mut rx = conn.served.subscribe();
        let waited = tokio::time::timeout(Duration::from_secs(1), rx.wait_for(|n| *n >= ticket));
        if waited.await.is_err() {
            tracing::warn!(
                ticket,
                "event ordering: gave up waiting for an earlier event"
            );
        }
        TurnGuard(Some(conn))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Conn {
    fn room_id(&self) -> Option<String> {
        lock(&self.room).clone()
    }
    fn name(&self) -> String {
        lock(&self.username).clone()
    }
}

/// Server time in milliseconds, with sub-millisecond precision (for clock sync).
fn now_ms_f64() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

fn send<T: Serialize + ?Sized>(s: &SocketRef, event: &str, data: &T) {
    if let Err(e) = s.emit(event, data) {
        tracing::debug!(sid = %s.id, event, "emit failed: {e}");
    }
}

fn error(s: &SocketRef, code: &str, message: impl std::fmt::Display) {
    send(
        s,
        "error",
        &json!({ "code": code, "message": message.to_string() }),
    );
}

fn broadcast_error(s: &SocketRef, e: &FrameError) {
    send(s, "broadcast:error", &json!({ "message": e.to_string() }));
}

/// Registers the handlers on the default namespace.
pub fn register(io: &socketioxide::SocketIo) {
    io.ns("/", on_connect);
}

async fn on_connect(s: SocketRef, TryData(auth): TryData<Value>, State(st): State<AppState>) {
    let open = st.rooms.connections.load(Ordering::Relaxed);
    if open >= st.rooms.config.max_connections {
        error(&s, "server_full", "too many connections; try again later");
        let _ = s.disconnect();
        return;
    }
    st.rooms.connections.fetch_add(1, Ordering::Relaxed);
    // A valid session token keeps the identity; anything else gets a fresh one.
    let resumed = auth
        .ok()
        .as_ref()
        .and_then(|a| a.get("token"))
        .and_then(Value::as_str)
        .and_then(|t| st.jwt.verify_guest(t));
    let (user_id, username) = match resumed {
        Some(c) => (c.sub, c.name),
        None => (
            crate::auth::tokens::random_token(9),
            format!("Guest_{:05}", rand::random_range(0..100_000u32)),
        ),
    };
    let conn = Arc::new(Conn {
        user_id,
        username: Mutex::new(username),
        room: Mutex::new(None),
        quality: Mutex::new(Quality::High),
        chat: Mutex::new(ChatLimiter::new(st.rooms.config.chat_per_5s)),
        arrived: AtomicU64::new(0),
        served: tokio::sync::watch::Sender::new(0),
    });
    s.extensions.insert(conn.clone());
    s.on("room:create", on_create);
    s.on("room:join", on_join);
    s.on("room:leave", on_leave);
    s.on("user:rename", on_rename);
    s.on("broadcast:start", on_broadcast_start);
    s.on("broadcast:audio", on_audio);
    s.on("broadcast:stop", on_broadcast_stop);
    s.on("chat:message", on_chat);
    s.on("quality:request", on_quality);
    s.on("stats:report", on_stats_report);
    s.on("time:ping", on_ping);
    s.on_disconnect(on_disconnect);
    send_session(&s, &st, &conn);
}

fn send_session(s: &SocketRef, st: &AppState, conn: &Conn) {
    let name = conn.name();
    match st.jwt.issue_guest(&conn.user_id, &name, SESSION_TTL_SECS) {
        Ok(token) => send(
            s,
            "session",
            &json!({ "userId": conn.user_id, "username": name, "token": token }),
        ),
        Err(e) => error(s, "internal", format!("cannot sign session: {e}")),
    }
}

async fn on_disconnect(
    s: SocketRef,
    State(st): State<AppState>,
    MaybeExtension(conn): MaybeExtension<Arc<Conn>>,
) {
    st.rooms.connections.fetch_sub(1, Ordering::Relaxed);
    if let Some(conn) = conn {
        leave_current(&s, &st, &conn);
    }
}

/// Takes the socket out of its room, if any (the change is announced by the ticker).
fn leave_current(s: &SocketRef, st: &AppState, conn: &Conn) -> Option<String> {
    let id = lock(&conn.room).take()?;
    if let Some(room) = st.rooms.get(&id) {
        room.state().remove(&s.id.to_string());
    }
    leave_socket_rooms(s, &id);
    Some(id)
}

fn leave_socket_rooms(s: &SocketRef, id: &str) {
    s.leave(room_key(id));
    for q in Quality::ALL {
        s.leave(layer_key(id, q));
    }
}

/// Forgets a closed room on one of its sockets.
pub fn forget_room(s: &SocketRef, id: &str) {
    leave_socket_rooms(s, id);
    if let Some(conn) = s.extensions.get::<Arc<Conn>>() {
        let mut r = lock(&conn.room);
        if r.as_deref() == Some(id) {
            *r = None;
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateReq {
    room_name: String,
    password: Option<String>,
    delay_ms: Option<u32>,
}

async fn on_create(
    s: SocketRef,
    State(st): State<AppState>,
    Extension(conn): Extension<Arc<Conn>>,
    TryData(req): TryData<CreateReq>,
) {
    let req = match req {
        Ok(r) => r,
        Err(e) => {
            return error(
                &s,
                "bad_request",
                format!("room:create needs {{roomName}}: {e}"),
            )
        }
    };
    let created = st.rooms.create(NewRoom {
        name: &req.room_name,
        password: req.password.as_deref(),
        delay_ms: req.delay_ms,
        host_id: conn.user_id.clone(),
    });
    let (room, host_token) = match created {
        Ok(x) => x,
        Err(e) => return error(&s, "room_refused", e),
    };
    send(
        &s,
        "room:created",
        &json!({
            "roomId": &*room.id,
            "roomName": room.name,
            "hostId": conn.user_id,
            "hostToken": host_token,
            "createdAt": room.created_at,
        }),
    );
    enter(&s, &st, &conn, &room);
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JoinReq {
    room_id: String,
    password: Option<String>,
    host_token: Option<String>,
}

async fn on_join(
    s: SocketRef,
    State(st): State<AppState>,
    Extension(conn): Extension<Arc<Conn>>,
    TryData(req): TryData<JoinReq>,
) {
    let req = match req {
        Ok(r) => r,
        Err(e) => {
            return error(
                &s,
                "bad_request",
                format!("room:join needs {{roomId}}: {e}"),
            )
        }
    };
    let Some(room) = st.rooms.get(&req.room_id) else {
        return send(&s, "room:notfound", &json!({ "roomId": req.room_id }));
    };
    let host_by_token = req
        .host_token
        .as_deref()
        .is_some_and(|t| room.host_token_ok(t));
    if req.host_token.is_some() && !host_by_token {
        return error(
            &s,
            "bad_host_token",
            "that host token does not open this room",
        );
    }
    if !host_by_token && !room.password_ok(req.password.as_deref()) {
        return error(&s, "bad_password", "this room needs the right password");
    }
    {
        let mut state = room.state();
        if host_by_token {
            // The token's bearer hosts from now on (e.g. the creator of a REST-made room).
            state.host_id = conn.user_id.clone();
        }
        let already = state.member(&s.id.to_string()).is_some();
        if !already && state.members.len() >= st.rooms.config.max_participants {
            drop(state);
            return send(
                &s,
                "room:full",
                &json!({ "roomId": req.room_id, "maxParticipants": st.rooms.config.max_participants }),
            );
        }
    }
    enter(&s, &st, &conn, &room);
}

/// Puts the socket into `room` (leaving any other), then sends what a joiner needs: the room,
/// its participants, the chat history, and the last seconds of audio.
fn enter(s: &SocketRef, st: &AppState, conn: &Conn, room: &Arc<Room>) {
    if conn.room_id().is_some_and(|r| r != *room.id) {
        leave_current(s, st, conn);
    }
    let quality = *lock(&conn.quality);
    let sid = s.id.to_string();
    let (joined, history, replay, participants) = {
        let mut state = room.state();
        let is_host = state.host_id == conn.user_id;
        state.add(
            &sid,
            Participant {
                user_id: conn.user_id.clone(),
                username: conn.name(),
                is_host,
            },
        );
        let participants = state.participants();
        let live = state.live.as_ref();
        let joined = json!({
            "roomId": &*room.id,
            "roomName": room.name,
            "participants": participants,
            "hostId": state.host_id,
            "isHost": is_host,
            "isLive": live.is_some(),
            "audioConfig": live.map(|l| l.audio_config.clone()),
            "delayMs": room.delay_ms,
            "serverTime": tonearm_store::now_ms(),
        });
        let replay = match (live, is_host) {
            (Some(l), false) => l.audio.replay(quality),
            _ => Vec::new(),
        };
        let history: Vec<ChatMessage> = state.chat.iter().cloned().collect();
        (joined, history, replay, participants)
    };
    *lock(&conn.room) = Some(room.id.to_string());
    s.join(room_key(&room.id));
    let is_host = joined["isHost"].as_bool().unwrap_or(false);
    for q in Quality::ALL {
        if !is_host && q == quality {
            s.join(layer_key(&room.id, q));
        } else {
            s.leave(layer_key(&room.id, q));
        }
    }
    send(s, "room:joined", &joined);
    send(
        s,
        "participants:list",
        &json!({ "participants": participants }),
    );
    send(s, "chat:history", &json!({ "messages": history }));
    for frame in &replay {
        send(s, "broadcast:audio", frame);
    }
}

async fn on_leave(s: SocketRef, State(st): State<AppState>, Extension(conn): Extension<Arc<Conn>>) {
    if let Some(id) = leave_current(&s, &st, &conn) {
        send(&s, "room:left", &json!({ "roomId": id }));
    }
}

#[derive(Deserialize)]
struct RenameReq {
    username: String,
}

async fn on_rename(
    s: SocketRef,
    State(st): State<AppState>,
    Extension(conn): Extension<Arc<Conn>>,
    TryData(req): TryData<RenameReq>,
) {
    let Some(name) = req.ok().and_then(|r| clean_name(&r.username)) else {
        return error(&s, "bad_name", "a name has 1–32 printable characters");
    };
    *lock(&conn.username) = name.clone();
    if let Some(room) = conn.room_id().and_then(|id| st.rooms.get(&id)) {
        let mut state = room.state();
        let sid = s.id.to_string();
        if let Some((_, p)) = state.members.iter_mut().find(|(id, _)| *id == sid) {
            p.username = name;
        }
    }
    send_session(&s, &st, &conn);
}

/// The caller's room if the caller hosts it; otherwise tells them why not.
fn hosted_room(s: &SocketRef, st: &AppState, conn: &Conn) -> Option<Arc<Room>> {
    let room = conn.room_id().and_then(|id| st.rooms.get(&id));
    let Some(room) = room else {
        send(s, "room:notfound", &json!({ "roomId": Value::Null }));
        return None;
    };
    let is_host = room
        .state()
        .member(&s.id.to_string())
        .is_some_and(|p| p.is_host);
    if !is_host {
        broadcast_error(s, &FrameError::NotHost);
        return None;
    }
    Some(room)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartReq {
    #[serde(default)]
    audio_config: Value,
}

async fn on_broadcast_start(
    s: SocketRef,
    State(st): State<AppState>,
    Extension(conn): Extension<Arc<Conn>>,
    turn: Turn,
    TryData(req): TryData<StartReq>,
) {
    let _turn = turn.wait().await;
    let Some(room) = hosted_room(&s, &st, &conn) else {
        return;
    };
    let config = req.map(|r| r.audio_config).unwrap_or(Value::Null);
    if !config.is_object() || config.to_string().len() > 1024 {
        return broadcast_error(
            &s,
            &FrameError::Malformed("audioConfig must be a small object".into()),
        );
    }
    let started_at = tonearm_store::now_ms();
    room.state().live = Some(Live {
        audio_config: config.clone(),
        started_at,
        started: Instant::now(),
        audio: super::audio::Broadcast::new(Duration::from_millis(u64::from(
            st.rooms.config.replay_ms,
        ))),
    });
    let _ = s
        .within(room_key(&room.id))
        .emit(
            "broadcast:started",
            &json!({ "roomId": &*room.id, "audioConfig": config, "startedAt": started_at }),
        )
        .await;
}

async fn on_audio(
    s: SocketRef,
    State(st): State<AppState>,
    Extension(conn): Extension<Arc<Conn>>,
    turn: Turn,
    TryData(frame): TryData<FrameIn>,
) {
    let _turn = turn.wait().await;
    let now = Instant::now();
    let now_ms = tonearm_store::now_ms();
    let frame = match frame {
        Ok(f) => f,
        Err(e) => return broadcast_error(&s, &FrameError::Malformed(e.to_string())),
    };
    let Some(room) = hosted_room(&s, &st, &conn) else {
        return;
    };
    let quality = match check_frame(&frame, st.rooms.config.max_frame_bytes, now_ms) {
        Ok(q) => q,
        Err(e) => return broadcast_error(&s, &e),
    };
    // One relay at a time per room, so guests get frames in sequence order.
    let _order = room.relay.lock().await;
    let out = {
        let mut state = room.state();
        let Some(live) = state.live.as_mut() else {
            drop(state);
            return broadcast_error(&s, &FrameError::NotLive);
        };
        live.audio.accept(&room.id, frame, quality, now, now_ms)
    };
    match out {
        // Serialized once; every guest of the layer gets the same bytes.
        Ok(out) => {
            let _ = s
                .to(layer_key(&room.id, quality))
                .emit("broadcast:audio", &out)
                .await;
        }
        Err(e) => broadcast_error(&s, &e),
    }
}

async fn on_broadcast_stop(
    s: SocketRef,
    State(st): State<AppState>,
    Extension(conn): Extension<Arc<Conn>>,
    turn: Turn,
) {
    let _turn = turn.wait().await;
    let Some(room) = hosted_room(&s, &st, &conn) else {
        return;
    };
    room.state().live = None;
    let _ = s
        .within(room_key(&room.id))
        .emit("broadcast:stopped", &json!({ "roomId": &*room.id }))
        .await;
}

#[derive(Deserialize)]
struct ChatReq {
    message: String,
}

async fn on_chat(
    s: SocketRef,
    State(st): State<AppState>,
    Extension(conn): Extension<Arc<Conn>>,
    turn: Turn,
    TryData(req): TryData<ChatReq>,
) {
    let _turn = turn.wait().await;
    let Ok(req) = req else {
        return error(&s, "bad_request", "chat:message needs {roomId, message}");
    };
    let Some(room) = conn.room_id().and_then(|id| st.rooms.get(&id)) else {
        return send(&s, "room:notfound", &json!({ "roomId": Value::Null }));
    };
    if let Err(e) = lock(&conn.chat).allow(Instant::now()) {
        return error(&s, e.code(), e);
    }
    let text = match clean_message(&req.message) {
        Ok(t) => t,
        Err(e) => return error(&s, e.code(), e),
    };
    let msg = {
        let mut state = room.state();
        let Some(p) = state.member(&s.id.to_string()).cloned() else {
            return;
        };
        let msg = ChatMessage {
            user_id: p.user_id,
            username: p.username,
            message: text,
            timestamp: tonearm_store::now_ms(),
            is_host: p.is_host,
        };
        state.push_chat(msg.clone());
        msg
    };
    let _ = s
        .within(room_key(&room.id))
        .emit("chat:message", &msg)
        .await;
}

#[derive(Deserialize)]
struct QualityReq {
    quality: String,
}

async fn on_quality(
    s: SocketRef,
    State(st): State<AppState>,
    Extension(conn): Extension<Arc<Conn>>,
    TryData(req): TryData<QualityReq>,
) {
    let Some(q) = req.ok().and_then(|r| Quality::parse(&r.quality)) else {
        return error(&s, "bad_quality", "quality is \"high\" or \"low\"");
    };
    *lock(&conn.quality) = q;
    if let Some(id) = conn.room_id() {
        let is_guest = st
            .rooms
            .get(&id)
            .and_then(|r| r.state().member(&s.id.to_string()).map(|p| !p.is_host))
            .unwrap_or(false);
        if is_guest {
            for other in Quality::ALL {
                s.leave(layer_key(&id, other));
            }
            s.join(layer_key(&id, q));
        }
    }
    send(&s, "quality:changed", &json!({ "quality": q }));
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatsReport {
    buffer_level: f64,
}

async fn on_stats_report(
    s: SocketRef,
    State(st): State<AppState>,
    Extension(conn): Extension<Arc<Conn>>,
    TryData(req): TryData<StatsReport>,
) {
    let Some(level) = req.ok().map(|r| r.buffer_level).filter(|l| l.is_finite()) else {
        return error(&s, "bad_request", "stats:report needs {bufferLevel}");
    };
    if let Some(room) = conn.room_id().and_then(|id| st.rooms.get(&id)) {
        room.state()
            .buffer_reports
            .insert(s.id.to_string(), level.clamp(0.0, 1e6));
    }
}

async fn on_ping(s: SocketRef, TryData(req): TryData<Value>) {
    let server_receive = now_ms_f64();
    // Answered even without a payload (then `clientTime` is null).
    let client_time = req
        .ok()
        .and_then(|r| r.get("clientTime").cloned())
        .unwrap_or(Value::Null);
    send(
        &s,
        "time:pong",
        &json!({
            "clientTime": client_time,
            "serverReceive": server_receive,
            "serverSend": now_ms_f64(),
        }),
    );
}
