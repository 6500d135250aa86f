//! The Socket.IO side of listening rooms: one handler per event of `docs/rooms.md`. Handlers
//! are thin: they parse, ask the room, and emit what it says. Nothing a client sends can panic
//! or disconnect: bad payloads get an `error` (or `broadcast:error`) event.

use super::turn::{Line, Turn};
use crate::state::AppState;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use socketioxide::extract::{Extension, MaybeExtension, SocketRef, State, TryData};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tonearm_rooms::engine::audio::{check_frame, FrameError, FrameIn, Quality};
use tonearm_rooms::engine::chat::{clean_message, clean_name, ChatLimiter};
use tonearm_rooms::engine::room::{ChatMessage, Live, Member, Room};
use tonearm_rooms::engine::CreateRequest;

/// Most participants listed on join: a joiner of a crowded room gets the first ones and the
/// count (listing all would cost O(n) per join, O(n²) for a crowd); changes follow as diffs.
/// `room:joined` and `participants:list` both carry it, and each connection's WebSocket write
/// buffer keeps the size of the largest batch it ever wrote: at 50 names the pair held about
/// 8 KB per guest for the connection's life (heaptrack, 1,000 guests); at 20, about 3 KB.
const LIST_CAP: usize = 20;

/// How long a guest session token stays valid (reconnects within it keep the identity).
const SESSION_TTL_SECS: u64 = 7 * 24 * 3600;

/// One connection's identity and place.
pub struct Conn {
    pub user_id: String,
    /// The socket id, as rooms key their members.
    pub sid: String,
    pub username: Mutex<String>,
    /// The room the socket is in (one at a time).
    pub room: Mutex<Option<Arc<Room>>>,
    pub quality: Mutex<Quality>,
    pub chat: Mutex<ChatLimiter>,
    pub line: Arc<Line>,
    /// The guest takes audio from the binary media path, not as `broadcast:audio` events.
    pub media: AtomicBool,
    /// The socket has disconnected: a join still in flight must not leave it in a room.
    pub gone: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Conn {
    fn current_room(&self) -> Option<Arc<Room>> {
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

fn not_in_room(s: &SocketRef) {
    send(s, "room:notfound", &json!({ "roomId": Value::Null }));
}

/// Registers the handlers on the default namespace.
pub fn register(io: &socketioxide::SocketIo) {
    use socketioxide::handler::ConnectHandler;
    io.ns("/", on_connect.with(admit));
}

/// One place in `rooms.max_connections`, kept in the socket's extensions and given back when
/// the socket is dropped, however its connection ends.
struct Slot(AppState);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.rooms.connections.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Runs before socketioxide answers the connect packet (the connect handler itself runs as a
/// task of its own afterwards): the identity and every event handler exist before the client
/// can send its first event, so a `room:join` sent at once is never dropped.
async fn admit(
    s: SocketRef,
    TryData(auth): TryData<Value>,
    State(st): State<AppState>,
) -> Result<(), std::convert::Infallible> {
    // Count first, then check: two connections racing for the last place cannot both win.
    let open = st.rooms.connections.fetch_add(1, Ordering::Relaxed);
    let slot = Arc::new(Slot(st.clone()));
    if open >= st.rooms.config.max_connections {
        // No identity: `on_connect` tells the client and closes the connection.
        return Ok(());
    }
    s.extensions.insert(slot);
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
        sid: s.id.to_string(),
        username: Mutex::new(username),
        room: Mutex::new(None),
        quality: Mutex::new(Quality::High),
        chat: Mutex::new(ChatLimiter::new(st.rooms.config.chat_per_5s)),
        line: Arc::new(Line::default()),
        media: AtomicBool::new(false),
        gone: AtomicBool::new(false),
    });
    // The line on its own too: `Turn` takes it without knowing the connection.
    s.extensions.insert(conn.line.clone());
    s.extensions.insert(conn);
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
    Ok(())
}

/// After the connect answer: the guest learns its identity, or that the server is full.
async fn on_connect(
    s: SocketRef,
    State(st): State<AppState>,
    MaybeExtension(conn): MaybeExtension<Arc<Conn>>,
) {
    match conn {
        Some(conn) => send_session(&s, &st, &conn),
        None => {
            error(&s, "server_full", "too many connections; try again later");
            let _ = s.disconnect();
        }
    }
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

async fn on_disconnect(s: SocketRef, MaybeExtension(conn): MaybeExtension<Arc<Conn>>) {
    if let Some(conn) = conn {
        conn.gone.store(true, Ordering::SeqCst);
        leave_current(&s, &conn);
    }
}

/// Takes the socket out of its room, if any (the change is announced by the ticker).
fn leave_current(s: &SocketRef, conn: &Conn) -> Option<Arc<Room>> {
    let room = lock(&conn.room).take()?;
    room.state().remove(&conn.sid);
    leave_socket_rooms(s, &room);
    Some(room)
}

fn leave_socket_rooms(s: &SocketRef, room: &Room) {
    s.leave(room.key.clone());
    for q in Quality::ALL {
        s.leave(room.layer_key(q).to_string());
    }
}

/// Forgets a closed room on one of its sockets.
pub fn forget_room(s: &SocketRef, room: &Arc<Room>) {
    leave_socket_rooms(s, room);
    if let Some(conn) = s.extensions.get::<Arc<Conn>>() {
        let mut current = lock(&conn.room);
        if current.as_ref().is_some_and(|r| Arc::ptr_eq(r, room)) {
            *current = None;
        }
    }
}

/// The payload, or a `bad_request` error naming what `event` needs.
fn parsed<T>(
    s: &SocketRef,
    req: Result<T, impl std::fmt::Display>,
    event: &str,
    shape: &str,
) -> Option<T> {
    req.map_err(|e| error(s, "bad_request", format!("{event} needs {shape}: {e}")))
        .ok()
}

async fn on_create(
    s: SocketRef,
    State(st): State<AppState>,
    Extension(conn): Extension<Arc<Conn>>,
    turn: Turn,
    TryData(req): TryData<CreateRequest>,
) {
    let _turn = turn.wait().await;
    let Some(req) = parsed(&s, req, "room:create", "{roomName}") else {
        return;
    };
    let (room, created) = match st.rooms.create(&req, conn.user_id.clone()) {
        Ok(x) => x,
        Err(e) => return error(&s, "room_refused", e),
    };
    st.rooms.register(&room).await;
    send(&s, "room:created", &created);
    enter(&s, &st, &conn, &room, false).await;
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JoinReq {
    room_id: String,
    password: Option<String>,
    host_token: Option<String>,
    /// `"media"`: audio comes over the media path (`GET /api/rooms/{id}/media`) instead.
    audio: Option<String>,
}

async fn on_join(
    s: SocketRef,
    State(st): State<AppState>,
    Extension(conn): Extension<Arc<Conn>>,
    turn: Turn,
    TryData(req): TryData<JoinReq>,
) {
    // In arrival order with the socket's other joins, leaves and creates: two joins sent back
    // to back cannot leave it in two rooms.
    let _turn = turn.wait().await;
    let Some(req) = parsed(&s, req, "room:join", "{roomId}") else {
        return;
    };
    let media = match req.audio.as_deref() {
        None | Some("socket") => false,
        Some("media") => true,
        Some(_) => {
            return error(
                &s,
                "bad_request",
                "room:join audio is \"socket\" or \"media\"",
            )
        }
    };
    conn.media.store(media, Ordering::Relaxed);
    let Some(room) = st.rooms.find(&req.room_id).await else {
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
    enter(&s, &st, &conn, &room, host_by_token).await;
}

/// Puts the socket into `room` (leaving any other), then sends what a joiner needs: the room,
/// its participants, the chat history, and the last seconds of audio. Holds the room's relay
/// lock throughout, so no live frame reaches the joiner before `room:joined` or between the
/// replayed ones.
async fn enter(s: &SocketRef, st: &AppState, conn: &Conn, room: &Arc<Room>, take_host: bool) {
    if conn.current_room().is_some_and(|r| !Arc::ptr_eq(&r, room)) {
        leave_current(s, conn);
    }
    let quality = *lock(&conn.quality);
    let socket_audio = !conn.media.load(Ordering::Relaxed);
    let relay = room.relay.lock().await;
    let snapshot = {
        let mut state = room.state();
        let member = Member {
            sid: conn.sid.clone(),
            user_id: conn.user_id.clone(),
            username: conn.name(),
            left: tokio_util::sync::CancellationToken::new(),
            media_path: None,
        };
        match state.admit(member, take_host, st.rooms.config.max_participants) {
            Err(_) => None,
            Ok(me) => {
                let participants = state.participants_capped(LIST_CAP);
                let count = state.participant_count();
                let live = state.live.as_ref();
                let joined = json!({
                    "roomId": &*room.id,
                    "roomName": room.name,
                    "participants": participants,
                    "participantCount": count,
                    "hostId": state.host_id,
                    "isHost": me.is_host,
                    "isLive": live.is_some(),
                    "audioConfig": live.map(|l| l.audio_config.clone()),
                    "delayMs": room.delay_ms,
                    "serverTime": tonearm_store::now_ms(),
                });
                let replay = match (live, me.is_host) {
                    (Some(l), false) if socket_audio => l.audio.replay(quality),
                    _ => Vec::new(),
                };
                let history: Vec<ChatMessage> = state.chat.iter().cloned().collect();
                Some((me.is_host, joined, (participants, count), history, replay))
            }
        }
    };
    let Some((is_host, joined, participants, history, replay)) = snapshot else {
        return send(
            s,
            "room:full",
            &json!({ "roomId": &*room.id, "maxParticipants": st.rooms.config.max_participants }),
        );
    };
    *lock(&conn.room) = Some(room.clone());
    // Disconnected while this join waited: undo it rather than leave a ghost in the room.
    // (`on_disconnect` marks `gone` before it looks for a room, so one of the two sees it.)
    if conn.gone.load(Ordering::SeqCst) {
        leave_current(s, conn);
        return;
    }
    s.join(room.key.clone());
    for q in Quality::ALL {
        let key = room.layer_key(q).to_string();
        if !is_host && socket_audio && q == quality {
            s.join(key);
        } else {
            s.leave(key);
        }
    }
    send(s, "room:joined", &joined);
    send(
        s,
        "participants:list",
        &json!({ "participants": participants.0, "participantCount": participants.1 }),
    );
    send(s, "chat:history", &json!({ "messages": history }));
    for frame in &replay {
        send(s, "broadcast:audio", frame);
    }
    // Redis calls only after the relay lock is released: they must never stall the audio.
    drop(relay);
    if take_host {
        if let Some(c) = st.rooms.cluster() {
            c.publish_event(&room.id, "host", &json!({ "hostId": conn.user_id }));
            c.set_field(&room.id, "hostId", Some(conn.user_id.clone()))
                .await;
        }
    }
}

async fn on_leave(s: SocketRef, Extension(conn): Extension<Arc<Conn>>, turn: Turn) {
    let _turn = turn.wait().await;
    if let Some(room) = leave_current(&s, &conn) {
        send(&s, "room:left", &json!({ "roomId": &*room.id }));
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
    send_session(&s, &st, &conn);
    let Some(room) = conn.current_room() else {
        return;
    };
    {
        let mut state = room.state();
        if let Some(m) = state.members.iter_mut().find(|m| m.sid == conn.sid) {
            m.username = name.clone();
        }
    }
    // Everyone's participant list shows the new name.
    let renamed = json!({ "roomId": room.id, "userId": conn.user_id, "username": name });
    if let Some(c) = st.rooms.cluster() {
        c.publish_event(&room.id, "user:renamed", &renamed);
    }
    let _ = s
        .within(room.key.clone())
        .emit("user:renamed", &renamed)
        .await;
}

/// The caller's room if the caller hosts it; otherwise tells them why not.
fn hosted_room(s: &SocketRef, conn: &Conn) -> Option<Arc<Room>> {
    let Some(room) = conn.current_room() else {
        not_in_room(s);
        return None;
    };
    if room.state().host_id != conn.user_id {
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
    let Some(room) = hosted_room(&s, &conn) else {
        return;
    };
    let config = req.map(|r| r.audio_config).unwrap_or(Value::Null);
    if !config.is_object() || config.to_string().len() > 1024 {
        return broadcast_error(
            &s,
            &FrameError::Malformed("audioConfig must be a small object".into()),
        );
    }
    {
        let _relay = room.relay.lock().await;
        let mut state = room.state();
        state.live = Some(Live::new(config.clone(), &st.rooms.config));
        state.stats_at = Instant::now();
    }
    let started = json!({
        "roomId": &*room.id, "audioConfig": config, "startedAt": tonearm_store::now_ms(),
    });
    if let Some(c) = st.rooms.cluster() {
        // The record first: a node making a replica meanwhile then sees the broadcast live.
        c.set_field(&room.id, "live", Some(config.to_string()))
            .await;
        c.publish_event(&room.id, "broadcast:started", &started);
    }
    let _ = s
        .within(room.key.clone())
        .emit("broadcast:started", &started)
        .await;
}

/// The hot path: one room lookup, one state lock, one serialization per frame.
async fn on_audio(
    s: SocketRef,
    State(st): State<AppState>,
    Extension(conn): Extension<Arc<Conn>>,
    turn: Turn,
    TryData(frame): TryData<FrameIn>,
) {
    let _turn = turn.wait().await;
    let now = Instant::now();
    let now_ms = now_ms_f64();
    let frame = match frame {
        Ok(f) => f,
        Err(e) => return broadcast_error(&s, &FrameError::Malformed(e.to_string())),
    };
    let Some(room) = conn.current_room() else {
        return not_in_room(&s);
    };
    // One relay at a time per room, so guests get frames in sequence order.
    let _relay = room.relay.lock().await;
    let relayed = {
        let mut state = room.state();
        if state.host_id != conn.user_id {
            Err(FrameError::NotHost)
        } else {
            check_frame(&frame, st.rooms.config.max_frame_bytes, now_ms).and_then(|quality| {
                let live = state.live.as_mut().ok_or(FrameError::NotLive)?;
                live.audio.accept(&room.id, frame, quality, now, now_ms)
            })
        }
    };
    match relayed {
        // Serialized once per path; every guest of the layer gets the same bytes, and every
        // other node one copy.
        Ok((out, media_bytes)) => {
            if let Some(c) = st.rooms.cluster() {
                c.publish_frame(&room.id, &media_bytes);
            }
            st.rooms.deliver(&room, &out, media_bytes).await;
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
    let Some(room) = hosted_room(&s, &conn) else {
        return;
    };
    room.end_broadcast().await;
    if let Some(c) = st.rooms.cluster() {
        c.publish_event(
            &room.id,
            "broadcast:stopped",
            &json!({ "roomId": &*room.id }),
        );
        c.set_field(&room.id, "live", None).await;
    }
    let _ = s
        .within(room.key.clone())
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
    let Some(req) = parsed(&s, req, "chat:message", "{roomId, message}") else {
        return;
    };
    let Some(room) = conn.current_room() else {
        return not_in_room(&s);
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
        let Some(p) = state.member(&conn.sid) else {
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
    if let Some(c) = st.rooms.cluster() {
        c.publish_event(&room.id, "chat:message", &json!(msg));
    }
    let _ = s.within(room.key.clone()).emit("chat:message", &msg).await;
}

#[derive(Deserialize)]
struct QualityReq {
    quality: String,
}

async fn on_quality(
    s: SocketRef,
    Extension(conn): Extension<Arc<Conn>>,
    TryData(req): TryData<QualityReq>,
) {
    let Some(q) = req.ok().and_then(|r| Quality::parse(&r.quality)) else {
        return error(&s, "bad_quality", "quality is \"high\" or \"low\"");
    };
    *lock(&conn.quality) = q;
    if let Some(room) = conn.current_room() {
        if room.state().host_id != conn.user_id && !conn.media.load(Ordering::Relaxed) {
            for other in Quality::ALL {
                s.leave(room.layer_key(other).to_string());
            }
            s.join(room.layer_key(q).to_string());
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
    Extension(conn): Extension<Arc<Conn>>,
    TryData(req): TryData<StatsReport>,
) {
    let Some(level) = req.ok().map(|r| r.buffer_level).filter(|l| l.is_finite()) else {
        return error(&s, "bad_request", "stats:report needs {bufferLevel}");
    };
    if let Some(room) = conn.current_room() {
        let mut state = room.state();
        // Guests' buffers only: the host plays nothing.
        if state.host_id != conn.user_id {
            state
                .buffer_reports
                .insert(conn.sid.clone(), level.clamp(0.0, 1e6));
        }
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
