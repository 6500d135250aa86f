//! One listening room: who is in it, who hosts it, its chat, and its live broadcast. All state
//! sits behind one short-held mutex (never held across an await); what must be sent is
//! returned to the caller, which emits it.

use super::audio::{Broadcast, Quality};
use super::chat::HISTORY;
use super::fanout::{notice, Fanout};
use serde::Serialize;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tokio_util::sync::CancellationToken;

/// Someone in a room, as clients see them.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Participant {
    pub user_id: String,
    pub username: String,
    pub is_host: bool,
}

/// A chat line as stored and relayed.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    pub user_id: String,
    pub username: String,
    pub message: String,
    pub timestamp: i64,
    pub is_host: bool,
}

/// The figures `broadcast:stats` and `GET /api/rooms/{id}/stats` report.
#[derive(Debug, Clone, Copy, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// kbps of the high layer over the last second.
    pub bitrate: f64,
    /// Mean capture → server delay of the last second's frames, ms.
    pub latency: f64,
    /// Mean of the guests' reported buffer levels.
    pub buffer_level: f64,
    pub guest_count: usize,
    pub quality: Quality,
    /// Seconds since the broadcast started.
    pub duration: f64,
}

/// A live broadcast: what the host declared, and its layers.
pub struct Live {
    pub audio_config: Value,
    pub started: Instant,
    pub audio: Broadcast,
}

impl Live {
    /// A broadcast starting now.
    pub fn new(audio_config: Value, config: &super::RoomsConfig) -> Live {
        Live {
            audio_config,
            started: Instant::now(),
            audio: Broadcast::new(std::time::Duration::from_millis(u64::from(
                config.replay_ms,
            ))),
        }
    }
}

/// A socket in the room. Whether it hosts is not stored: it is `user_id == host_id`, so
/// moving host rights (a host-token join) can never leave two members flagged as host.
#[derive(Debug, Clone)]
pub struct Member {
    pub sid: String,
    pub user_id: String,
    pub username: String,
    /// Cancelled when the socket leaves (or the room closes): ends its media path.
    pub left: CancellationToken,
    /// The member's open media path, if any (a new one replaces it: one per member).
    pub media_path: Option<CancellationToken>,
}

/// The room is at `max_participants`.
#[derive(Debug)]
pub struct Full;

/// Participant changes waiting for the next batched announcement.
#[derive(Debug, Default)]
pub struct Changes {
    pub joined: Vec<Participant>,
    pub left: Vec<Participant>,
}

/// Mutable room state.
pub struct RoomState {
    /// The guest identity with host rights.
    pub host_id: String,
    /// In join order, one per socket.
    pub members: Vec<Member>,
    pub chat: VecDeque<ChatMessage>,
    pub live: Option<Live>,
    pub changes: Changes,
    /// Since when no host is connected (None: the host is here).
    pub host_away_since: Option<Instant>,
    /// When the stats were last computed.
    pub stats_at: Instant,
    /// Last buffer level each guest reported, by socket id.
    pub buffer_reports: HashMap<String, f64>,
    pub stats: Stats,
    /// Participants on other nodes, by node (rooms across nodes).
    pub remote_counts: HashMap<String, usize>,
    /// Since when this node has had nobody in the room (a replica is forgotten after a while).
    pub empty_since: Option<Instant>,
}

/// A room. Cheap to share (`Arc<Room>`).
pub struct Room {
    pub id: Arc<str>,
    /// The Socket.IO room of everyone in it.
    pub key: String,
    /// The Socket.IO rooms of the guests on each audio layer.
    layer_keys: [String; 2],
    pub name: String,
    pub created_at: i64,
    pub delay_ms: u32,
    /// Created here (not a replica of another node's room): this node closes it when idle.
    pub origin: bool,
    host_token: blake3::Hash,
    password: Option<(Vec<u8>, blake3::Hash)>,
    state: Mutex<RoomState>,
    /// Held while a frame is sequenced and relayed, so guests get frames in order.
    pub relay: tokio::sync::Mutex<()>,
    /// The binary media path's listeners of each layer: every frame is framed once and
    /// written to all of them; a listener that falls behind loses its own oldest frames (and
    /// is told), and the sender never waits, so a slow guest cannot slow anyone else.
    pub media: [Fanout; 2],
    /// Most frames a media-path listener's backlog holds.
    pub media_cap: usize,
}

fn salted(salt: &[u8], password: &str) -> blake3::Hash {
    let mut h = blake3::Hasher::new();
    h.update(salt);
    h.update(password.as_bytes());
    h.finalize()
}

impl Room {
    pub fn new(
        id: String,
        name: String,
        host_id: String,
        host_token: &str,
        password: Option<&str>,
        delay_ms: u32,
        media_queue_frames: usize,
    ) -> Room {
        let password = password.map(|p| {
            let salt: Vec<u8> = (0..16).map(|_| rand::random::<u8>()).collect();
            let h = salted(&salt, p);
            (salt, h)
        });
        Room {
            key: format!("r:{id}"),
            layer_keys: Quality::ALL.map(|q| format!("r:{id}:{}", q.as_str())),
            id: id.into(),
            name,
            created_at: super::wall_ms(),
            delay_ms,
            origin: true,
            host_token: blake3::hash(host_token.as_bytes()),
            password,
            state: Mutex::new(RoomState {
                host_id,
                members: Vec::new(),
                chat: VecDeque::with_capacity(HISTORY),
                live: None,
                changes: Changes::default(),
                host_away_since: Some(Instant::now()),
                buffer_reports: HashMap::new(),
                stats: Stats::default(),
                stats_at: Instant::now(),
                remote_counts: HashMap::new(),
                empty_since: Some(Instant::now()),
            }),
            relay: tokio::sync::Mutex::new(()),
            media: [Fanout::new(), Fanout::new()],
            media_cap: media_queue_frames.max(1),
        }
    }

    /// The room as other nodes store it (`rooms::cluster`): everything needed to admit guests
    /// there. Secrets stay hashed.
    pub fn record(&self) -> Vec<(&'static str, String)> {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut r = vec![
            ("name", self.name.clone()),
            ("createdAt", self.created_at.to_string()),
            ("delayMs", self.delay_ms.to_string()),
            ("hostToken", self.host_token.to_hex().to_string()),
            ("hostId", self.state().host_id.clone()),
        ];
        if let Some((salt, hash)) = &self.password {
            r.push(("pwSalt", b64.encode(salt)));
            r.push(("pwHash", hash.to_hex().to_string()));
        }
        r
    }

    /// A replica of a room another node created, from its [`record`](Self::record).
    pub fn from_record(
        id: &str,
        rec: &HashMap<String, String>,
        media_queue_frames: usize,
    ) -> Option<Room> {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut room = Room::new(
            id.to_string(),
            rec.get("name")?.clone(),
            rec.get("hostId")?.clone(),
            "",
            None,
            rec.get("delayMs")?.parse().ok()?,
            media_queue_frames,
        );
        room.created_at = rec.get("createdAt")?.parse().ok()?;
        room.origin = false;
        room.host_token = blake3::Hash::from_hex(rec.get("hostToken")?).ok()?;
        if let (Some(salt), Some(hash)) = (rec.get("pwSalt"), rec.get("pwHash")) {
            room.password = Some((b64.decode(salt).ok()?, blake3::Hash::from_hex(hash).ok()?));
        }
        Some(room)
    }

    /// Ends the live broadcast. Under the relay lock, so the media path's end marker follows
    /// the last relayed frame.
    pub async fn end_broadcast(&self) {
        let _relay = self.relay.lock().await;
        self.state().live = None;
        for m in &self.media {
            if m.has_listeners() {
                m.send(notice(&crate::wire::Notice::Stopped));
            }
        }
    }

    /// The state, even if a panicking thread poisoned the lock (the state stays consistent:
    /// every update is a few plain assignments).
    pub fn state(&self) -> MutexGuard<'_, RoomState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }

    /// Constant-time check of the room password (true for rooms without one).
    pub fn password_ok(&self, given: Option<&str>) -> bool {
        match (&self.password, given) {
            (None, _) => true,
            (Some((salt, hash)), Some(p)) => salted(salt, p) == *hash,
            (Some(_), None) => false,
        }
    }

    /// The Socket.IO room of the guests on layer `q`.
    pub fn layer_key(&self, q: Quality) -> &str {
        &self.layer_keys[q as usize]
    }

    /// Constant-time check of the host token.
    pub fn host_token_ok(&self, given: &str) -> bool {
        blake3::hash(given.as_bytes()) == self.host_token
    }

    /// The summary `GET /api/rooms` lists.
    pub fn summary(&self) -> Value {
        let st = self.state();
        serde_json::json!({
            "roomId": &*self.id,
            "roomName": self.name,
            "hostId": st.host_id,
            "guestCount": st.guest_count(),
            "isLive": st.live.is_some(),
            "createdAt": self.created_at,
            "hasPassword": self.has_password(),
        })
    }

    /// Everything about the room (`GET /api/rooms/{id}`).
    pub fn details(&self) -> Value {
        let mut v = self.summary();
        let st = self.state();
        v["delayMs"] = self.delay_ms.into();
        v["audioConfig"] = st
            .live
            .as_ref()
            .map(|l| l.audio_config.clone())
            .unwrap_or(Value::Null);
        v["participants"] = serde_json::to_value(st.participants()).unwrap_or_default();
        v["stats"] = serde_json::to_value(st.stats).unwrap_or_default();
        v
    }
}

impl RoomState {
    fn participant(&self, m: &Member) -> Participant {
        Participant {
            user_id: m.user_id.clone(),
            username: m.username.clone(),
            is_host: m.user_id == self.host_id,
        }
    }

    pub fn participants(&self) -> Vec<Participant> {
        self.members.iter().map(|m| self.participant(m)).collect()
    }

    /// The host (if here) and then the earliest members, at most `cap` in all.
    pub fn participants_capped(&self, cap: usize) -> Vec<Participant> {
        let host = self.members.iter().filter(|m| m.user_id == self.host_id);
        let rest = self.members.iter().filter(|m| m.user_id != self.host_id);
        host.chain(rest)
            .take(cap)
            .map(|m| self.participant(m))
            .collect()
    }

    /// Participants on this node and (as last reported) on the others.
    pub fn participant_count(&self) -> usize {
        self.members.len() + self.remote_counts.values().sum::<usize>()
    }

    pub fn guest_count(&self) -> usize {
        self.members
            .iter()
            .filter(|m| m.user_id != self.host_id)
            .count()
    }

    pub fn host_present(&self) -> bool {
        self.members.iter().any(|m| m.user_id == self.host_id)
    }

    /// Lets a socket in (or in again), unless the room is full; `take_host` moves host
    /// rights to it (a host-token join). One step under one lock, so concurrent joins cannot
    /// overrun the limit and a refused join changes nothing.
    pub fn admit(
        &mut self,
        member: Member,
        take_host: bool,
        max: usize,
    ) -> Result<Participant, Full> {
        let again = self.members.iter().any(|m| m.sid == member.sid);
        // Across nodes the limit counts everyone, as last reported by the other nodes.
        if !again && self.participant_count() >= max {
            return Err(Full);
        }
        if take_host {
            self.host_id = member.user_id.clone();
        }
        self.members.retain(|m| {
            let same = m.sid == member.sid;
            if same {
                m.left.cancel();
            }
            !same
        });
        let p = self.participant(&member);
        if p.is_host {
            self.host_away_since = None;
        }
        self.changes.joined.push(p.clone());
        self.members.push(member);
        Ok(p)
    }

    /// Removes a socket, if present.
    pub fn remove(&mut self, sid: &str) -> Option<Participant> {
        let i = self.members.iter().position(|m| m.sid == sid)?;
        let m = self.members.remove(i);
        m.left.cancel();
        self.buffer_reports.remove(sid);
        if !self.host_present() && self.host_away_since.is_none() {
            self.host_away_since = Some(Instant::now());
        }
        let p = self.participant(&m);
        self.changes.left.push(p.clone());
        Some(p)
    }

    /// Ends every member's media path (the room is closing).
    pub fn cancel_all(&self) {
        for m in &self.members {
            m.left.cancel();
        }
    }

    /// The participant a socket is, if it is in the room.
    pub fn member(&self, sid: &str) -> Option<Participant> {
        self.members
            .iter()
            .find(|m| m.sid == sid)
            .map(|m| self.participant(m))
    }

    pub fn push_chat(&mut self, m: ChatMessage) {
        if self.chat.len() == HISTORY {
            self.chat.pop_front();
        }
        self.chat.push_back(m);
    }

    /// Recomputes the stats from the counters gathered since the last call.
    pub fn tick_stats(&mut self) -> Stats {
        let now = Instant::now();
        let interval = now.duration_since(self.stats_at);
        self.stats_at = now;
        let guest_count = self.guest_count();
        let buffer_level = if self.buffer_reports.is_empty() {
            0.0
        } else {
            self.buffer_reports.values().sum::<f64>() / self.buffer_reports.len() as f64
        };
        let (bitrate, latency, duration) = match &mut self.live {
            Some(live) => {
                let c = live.audio.take_counters();
                let secs = interval.as_secs_f64().max(1e-3);
                let latency = if c.frames > 0 {
                    c.delay_ms_sum / c.frames as f64
                } else {
                    0.0
                };
                (
                    c.bytes as f64 * 8.0 / 1000.0 / secs,
                    latency,
                    live.started.elapsed().as_secs_f64(),
                )
            }
            None => (0.0, 0.0, 0.0),
        };
        self.stats = Stats {
            bitrate,
            latency,
            buffer_level,
            guest_count,
            quality: Quality::High,
            duration,
        };
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(password: Option<&str>) -> Room {
        Room::new(
            "r1".into(),
            "R".into(),
            "h".into(),
            "secret",
            password,
            400,
            8,
        )
    }

    #[test]
    fn passwords_and_host_tokens_are_checked() {
        let open = room(None);
        assert!(open.password_ok(None) && open.password_ok(Some("x")));
        let locked = room(Some("pw"));
        assert!(locked.password_ok(Some("pw")));
        assert!(!locked.password_ok(Some("pw ")) && !locked.password_ok(None));
        assert!(locked.host_token_ok("secret") && !locked.host_token_ok("Secret"));
    }

    #[test]
    fn members_changes_and_host_presence_are_tracked() {
        let r = room(None);
        let mut st = r.state();
        assert!(st.host_away_since.is_some(), "no host until one joins");
        let member = |sid: &str, user: &str| Member {
            sid: sid.into(),
            user_id: user.into(),
            username: user.to_uppercase(),
            left: CancellationToken::new(),
            media_path: None,
        };
        assert!(st.admit(member("s1", "h"), false, 3).unwrap().is_host);
        assert!(!st.admit(member("s2", "g"), false, 3).unwrap().is_host);
        st.admit(member("s2", "g"), false, 3).unwrap();
        assert_eq!(st.members.len(), 2, "one entry per socket");
        assert!(st.host_away_since.is_none());
        assert_eq!(st.guest_count(), 1);
        let s3 = member("s3", "x");
        let s3_left = s3.left.clone();
        st.admit(s3, false, 3).unwrap();
        assert!(st.admit(member("s4", "y"), true, 3).is_err(), "full");
        assert_eq!(st.host_id, "h", "a refused join moves nothing");
        // A host-token join moves host rights: exactly one member hosts afterwards.
        assert!(!s3_left.is_cancelled());
        st.remove("s3");
        assert!(
            s3_left.is_cancelled(),
            "leaving ends the member's media path"
        );
        st.admit(member("s4", "y"), true, 3).unwrap();
        let hosts: Vec<_> = st
            .participants()
            .into_iter()
            .filter(|p| p.is_host)
            .collect();
        assert_eq!(hosts.len(), 1);
        assert_eq!(hosts[0].user_id, "y");
        st.remove("s4");
        assert!(st.host_away_since.is_some());
        assert_eq!(st.changes.joined.len(), 5);
        assert_eq!(st.changes.left.len(), 2);
        for i in 0..150 {
            st.push_chat(ChatMessage {
                user_id: "g".into(),
                username: "G".into(),
                message: i.to_string(),
                timestamp: i,
                is_host: false,
            });
        }
        assert_eq!(st.chat.len(), HISTORY);
        assert_eq!(st.chat.front().unwrap().message, "50");
    }

    #[test]
    fn the_list_on_join_is_capped_with_the_host_first() {
        let r = room(None);
        let mut st = r.state();
        for i in 0..10 {
            let m = Member {
                sid: format!("s{i}"),
                user_id: format!("u{i}"),
                username: format!("U{i}"),
                left: CancellationToken::new(),
                media_path: None,
            };
            st.admit(m, i == 7, 100).unwrap();
        }
        let capped = st.participants_capped(3);
        let ids: Vec<&str> = capped.iter().map(|p| p.user_id.as_str()).collect();
        assert_eq!(ids, ["u7", "u0", "u1"]);
        assert!(capped[0].is_host);
        assert_eq!(st.participants_capped(50).len(), 10);
    }

    #[test]
    fn a_record_makes_an_equivalent_replica() {
        let r = room(Some("pw"));
        let rec: HashMap<String, String> = r
            .record()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let copy = Room::from_record("r1", &rec, 8).expect("replica");
        assert_eq!(copy.name, r.name);
        assert_eq!(copy.created_at, r.created_at);
        assert_eq!(copy.delay_ms, r.delay_ms);
        assert_eq!(copy.state().host_id, "h");
        assert!(copy.password_ok(Some("pw")) && !copy.password_ok(Some("x")));
        assert!(copy.host_token_ok("secret") && !copy.host_token_ok("other"));
        let mut broken = rec.clone();
        broken.insert("hostToken".into(), "zz".into());
        assert!(Room::from_record("r1", &broken, 8).is_none());
    }
}
