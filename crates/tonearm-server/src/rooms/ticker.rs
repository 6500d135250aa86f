//! The rooms' clock: four times a second it announces gathered participant changes, once a
//! second it sends `broadcast:stats`, and it closes rooms whose host has been away too long.

use super::room::{Changes, Room};
use crate::state::AppState;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

const TICK: Duration = Duration::from_millis(250);
/// Batches with more changes than this go out as one `participants:update`.
const SMALL_BATCH: usize = 8;
/// Most joiners (and leavers) one `participants:update` names; its counts are exact. Every
/// member gets each update, so naming a whole crowd would cost O(n²) bytes.
const UPDATE_CAP: usize = 20;

/// Runs until the process ends.
pub fn spawn(st: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut n: u64 = 0;
        loop {
            tick.tick().await;
            n += 1;
            let idle = Duration::from_secs(st.rooms.config.idle_close_secs);
            for room in st.rooms.all() {
                announce_changes(&st, &room).await;
                if n.is_multiple_of(4) {
                    send_stats(&st, &room).await;
                }
                let away = room.state().host_away_since;
                if away.is_some_and(|t| t.elapsed() >= idle) {
                    tracing::info!(room = %room.id, "closing room: host away too long");
                    st.rooms.close(&room.id, "idle").await;
                }
            }
        }
    })
}

async fn announce_changes(st: &AppState, room: &Arc<Room>) {
    let (changes, count) = {
        let mut state = room.state();
        (std::mem::take(&mut state.changes), state.members.len())
    };
    let Changes { joined, left } = changes;
    if joined.is_empty() && left.is_empty() {
        return;
    }
    let Some(io) = st.rooms.io() else { return };
    let to = io.to(room.key.clone());
    if joined.len() + left.len() > SMALL_BATCH {
        let update = json!({
            "joined": &joined[..joined.len().min(UPDATE_CAP)],
            "left": &left[..left.len().min(UPDATE_CAP)],
            "joinedCount": joined.len(),
            "leftCount": left.len(),
            "participantCount": count,
        });
        let _ = to.emit("participants:update", &update).await;
        return;
    }
    for p in joined {
        let _ = to
            .clone()
            .emit(
                "user:joined",
                &json!({ "userId": p.user_id, "username": p.username, "isHost": p.is_host, "participantCount": count }),
            )
            .await;
    }
    for p in left {
        let _ = to
            .clone()
            .emit(
                "user:left",
                &json!({ "userId": p.user_id, "username": p.username, "participantCount": count }),
            )
            .await;
    }
}

async fn send_stats(st: &AppState, room: &Arc<Room>) {
    let stats = {
        let mut state = room.state();
        let live = state.live.is_some();
        let stats = state.tick_stats();
        if !live {
            return;
        }
        stats
    };
    if let Some(io) = st.rooms.io() {
        let _ = io
            .to(room.key.clone())
            .emit("broadcast:stats", &stats)
            .await;
    }
}
