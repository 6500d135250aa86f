//! How participant changes are announced to a room's sockets on this node: one event per
//! change while a room is small, one capped `participants:update` in a crowd.

use super::room::{Participant, Room};
use super::Rooms;
use serde_json::json;

/// Batches with more changes than this go out as one `participants:update`.
const SMALL_BATCH: usize = 8;
/// Most joiners (and leavers) one `participants:update` names; its counts are exact. Every
/// member gets each update, so naming a whole crowd would cost O(n²) bytes.
pub(crate) const UPDATE_CAP: usize = 20;
/// Rooms with more participants than this are a crowd: their changes go out once a second, as
/// one `participants:update`. Each announcement is one event to every member, so during a
/// join wave of thousands four a second (and up to 8 events each) would cost more than the
/// audio.
pub(crate) const CROWD: usize = 500;

/// Tells this node's sockets in `room` who joined and left: one event per change for a small
/// batch in a small room, else one `participants:update` (naming at most `UPDATE_CAP` of
/// each).
pub async fn announce(
    rooms: &Rooms,
    room: &Room,
    joined: Vec<Participant>,
    left: Vec<Participant>,
    count: usize,
) {
    if joined.is_empty() && left.is_empty() {
        return;
    }
    if joined.len() + left.len() > SMALL_BATCH || count > CROWD {
        let update = json!({
            "joined": &joined[..joined.len().min(UPDATE_CAP)],
            "left": &left[..left.len().min(UPDATE_CAP)],
            "joinedCount": joined.len(),
            "leftCount": left.len(),
            "participantCount": count,
        });
        rooms.emit_to(room, "participants:update", &update).await;
        return;
    }
    for p in joined {
        let joined = json!({ "userId": p.user_id, "username": p.username, "isHost": p.is_host, "participantCount": count });
        rooms.emit_to(room, "user:joined", &joined).await;
    }
    for p in left {
        let left =
            json!({ "userId": p.user_id, "username": p.username, "participantCount": count });
        rooms.emit_to(room, "user:left", &left).await;
    }
}
