//! The binary media path: one plain WebSocket per listener, `GET /api/rooms/{id}/media`,
//! carrying each relayed frame as one binary message (`tonearm_rooms::wire`). It exists for
//! fan-out: a frame is encoded once, every listener's queue is a cursor into the layer's shared
//! ring (`Room::media`), and a listener that falls a full ring behind loses its own oldest frames
//! and gets a `dropped` notice; the host and the other listeners never wait for it.

use super::audio::{FrameOut, Quality};
use super::room::Room;
use axum::extract::ws::{Message, WebSocket};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;
use tonearm_rooms::wire::Notice;

fn notice(n: &Notice) -> Message {
    Message::Text(serde_json::to_string(n).unwrap_or_default().into())
}

/// Subscribes to a layer and takes its replay ring in one step under the relay lock, so the
/// listener gets every frame exactly once: the ring, then what follows it.
async fn subscribe(room: &Room, q: Quality) -> (broadcast::Receiver<Bytes>, Vec<Bytes>) {
    let _relay = room.relay.lock().await;
    let rx = room.media[q.index()].subscribe();
    let replay = room
        .state()
        .live
        .as_ref()
        .map(|l| l.audio.replay(q).iter().map(FrameOut::media).collect())
        .unwrap_or_default();
    (rx, replay)
}

/// Streams a layer to one listener until it leaves the room (`left`), closes, or asks for
/// another layer (`{"type":"quality","quality":"low"}`).
pub async fn serve(room: Arc<Room>, left: CancellationToken, mut quality: Quality, ws: WebSocket) {
    metrics::gauge!("tonearm_room_media_listeners").increment(1.0);
    let (mut tx, mut rx) = ws.split();
    let (mut frames, replay) = subscribe(&room, quality).await;
    let mut open = true;
    for b in replay {
        if tx.send(Message::Binary(b)).await.is_err() {
            open = false;
            break;
        }
    }
    while open {
        tokio::select! {
            _ = left.cancelled() => {
                let reason = "no longer in the room".to_string();
                let _ = tx.send(notice(&Notice::Closed { reason })).await;
                break;
            }
            got = frames.recv() => match got {
                Ok(b) => open = tx.send(Message::Binary(b)).await.is_ok(),
                Err(RecvError::Lagged(n)) => {
                    metrics::counter!("tonearm_room_media_dropped_frames_total").increment(n);
                    open = tx.send(notice(&Notice::Dropped { frames: n })).await.is_ok();
                }
                Err(RecvError::Closed) => break,
            },
            msg = rx.next() => match msg {
                Some(Ok(Message::Text(t))) => {
                    // Anything but a quality switch is ignored.
                    if let Ok(Notice::Quality { quality: q }) = serde_json::from_str(t.as_str()) {
                        if q != quality {
                            quality = q;
                            frames = subscribe(&room, q).await.0;
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
        }
    }
    metrics::gauge!("tonearm_room_media_listeners").decrement(1.0);
}
