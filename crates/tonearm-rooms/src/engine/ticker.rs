//! The rooms' clock: four times a second it announces gathered participant changes (once a
//! second in a crowd), once a second it sends `broadcast:stats`, and it closes rooms whose
//! host has been away too long.

use super::participants::{announce, CROWD, UPDATE_CAP};
use super::room::{Changes, Room};
use super::Rooms;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

const TICK: Duration = Duration::from_millis(250);
/// Every this many ticks (10 s) the cross-node records are refreshed and checked: often
/// enough for expiries and idle checks measured in minutes, rare enough to cost Redis little.
const REFRESH_TICKS: u64 = 40;
/// How long a replica nobody here uses is kept.
const REPLICA_LINGER: Duration = Duration::from_secs(10);

/// Runs until the process ends.
pub fn spawn(rooms: Arc<Rooms>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut n: u64 = 0;
        loop {
            tick.tick().await;
            n += 1;
            for room in rooms.all() {
                announce_changes(&rooms, &room, n.is_multiple_of(4)).await;
                if n.is_multiple_of(4) {
                    send_stats(&rooms, &room).await;
                    keep_or_close(&rooms, &room, n.is_multiple_of(REFRESH_TICKS)).await;
                }
            }
        }
    })
}

/// Once a second: closes a room whose host has been away too long (the node that created it
/// decides, asking the others through Redis), keeps its record alive (every 10 s), and forgets
/// replicas no guest here needs any more.
async fn keep_or_close(rooms: &Rooms, room: &Arc<Room>, refresh: bool) {
    let idle = Duration::from_secs(rooms.config.idle_close_secs);
    let (away, host_here, empty_for) = {
        let mut state = room.state();
        if !state.members.is_empty() {
            state.empty_since = None;
        } else if state.empty_since.is_none() {
            state.empty_since = Some(std::time::Instant::now());
        }
        (
            state.host_away_since,
            state.host_present(),
            state.empty_since.map(|t| t.elapsed()),
        )
    };
    let cluster = rooms.cluster();
    if let Some(c) = cluster {
        if refresh && host_here {
            c.host_seen(&room.id).await;
        }
        if room.origin {
            if refresh {
                c.touch(&room.id).await;
            }
        } else if empty_for.is_some_and(|d| d >= REPLICA_LINGER) {
            // Nobody here for a while: forget the replica (a join makes a new one). Not at
            // once, so a join between making a replica and entering it cannot lose it.
            rooms.remove(&room.id);
            return;
        } else if refresh && c.exists(&room.id).await == Some(false) {
            // Its record is gone (closed while this node missed the message, or its origin
            // died and the record expired): close it here too.
            rooms.close_here(&room.id, "closed").await;
            return;
        }
    }
    let idle_here = away.is_some_and(|t| t.elapsed() >= idle);
    if !(room.origin && idle_here) {
        return;
    }
    if let Some(c) = cluster {
        if c.host_seen_within(&room.id, idle).await {
            return;
        }
    }
    tracing::info!(room = %room.id, "closing room: host away too long");
    rooms.close(&room.id, "idle").await;
}

/// Sends this node's gathered participant changes to its sockets and to the other nodes; in a
/// crowd only on a whole second.
async fn announce_changes(rooms: &Rooms, room: &Arc<Room>, whole_second: bool) {
    let (changes, here, total) = {
        let mut state = room.state();
        if !whole_second && state.participant_count() > CROWD {
            return;
        }
        (
            std::mem::take(&mut state.changes),
            state.members.len(),
            state.participant_count(),
        )
    };
    let Changes { joined, left } = changes;
    if joined.is_empty() && left.is_empty() {
        return;
    }
    if let Some(c) = rooms.cluster() {
        let cap = |v: &[super::room::Participant]| v[..v.len().min(UPDATE_CAP)].to_vec();
        c.publish_event(
            &room.id,
            "changes",
            &json!({
                "node": c.node_id(),
                "joined": cap(&joined),
                "left": cap(&left),
                "count": here,
            }),
        );
    }
    announce(rooms, room, joined, left, total).await;
}

async fn send_stats(rooms: &Rooms, room: &Arc<Room>) {
    let stats = {
        let mut state = room.state();
        let live = state.live.is_some();
        let stats = state.tick_stats();
        if !live {
            return;
        }
        stats
    };
    // A `Stats` always serializes.
    let stats = serde_json::to_value(stats).unwrap_or_default();
    rooms.emit_to(room, "broadcast:stats", &stats).await;
}
