//! The binary media path: one plain WebSocket per listener, `GET /api/rooms/{id}/media`,
//! carrying each relayed frame as one binary message (`tonearm_rooms::wire`). It exists for
//! fan-out: a frame is encoded once, every listener's queue is a cursor into the layer's shared
//! ring (`Room::media`), and a listener that falls a full ring behind loses its own oldest frames
//! and gets a `dropped` notice; the host and the other listeners never wait for it.

use super::audio::Quality;
use super::room::{MediaItem, Room};
use axum::extract::ws::{Message, WebSocket};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use tokio::sync::broadcast::{
    self,
    error::{RecvError, TryRecvError},
};
use tokio_util::sync::CancellationToken;
use tonearm_rooms::wire::Notice;

fn notice(n: &Notice) -> Message {
    Message::Text(serde_json::to_string(n).unwrap_or_default().into())
}

/// Subscribes to a layer and takes its replay ring in one step under the relay lock, so the
/// listener gets every frame exactly once: the ring, then what follows it.
async fn subscribe(room: &Room, q: Quality) -> (broadcast::Receiver<MediaItem>, Vec<Bytes>) {
    let _relay = room.relay.lock().await;
    let rx = room.media[q.index()].subscribe();
    let replay = room
        .state()
        .live
        .as_ref()
        .map(|l| l.audio.replay_media(q))
        .unwrap_or_default();
    (rx, replay)
}

/// A listener whose socket takes no data for this long is dropped.
const WRITE_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Writes `first` and whatever else is already waiting, then flushes. False when the stream
/// ended or the listener is gone.
async fn write_batch<W>(
    tx: &mut W,
    frames: &mut broadcast::Receiver<MediaItem>,
    first: Result<MediaItem, RecvError>,
) -> bool
where
    W: futures_util::Sink<Message> + Unpin,
{
    let mut got = Some(first);
    while let Some(item) = got.take() {
        let msg = match item {
            Ok(MediaItem::Frame(b)) => Message::Binary(b),
            Ok(MediaItem::Stopped) => notice(&Notice::Stopped),
            Err(RecvError::Lagged(n)) => {
                metrics::counter!("tonearm_room_media_dropped_frames_total").increment(n);
                notice(&Notice::Dropped { frames: n })
            }
            Err(RecvError::Closed) => return false,
        };
        if tx.feed(msg).await.is_err() {
            return false;
        }
        got = match frames.try_recv() {
            Ok(item) => Some(Ok(item)),
            Err(TryRecvError::Lagged(n)) => Some(Err(RecvError::Lagged(n))),
            Err(TryRecvError::Empty | TryRecvError::Closed) => None,
        };
    }
    tx.flush().await.is_ok()
}

/// Streams a layer to one listener over its WebSocket.
pub async fn serve_ws(room: Arc<Room>, left: CancellationToken, quality: Quality, ws: WebSocket) {
    let (tx, rx) = ws.split();
    serve(room, left, quality, tx, rx).await
}

/// Streams a layer to one listener (`tx`) until it leaves the room (`left`), closes, or
/// hangs up; `rx` may ask for another layer (`{"type":"quality","quality":"low"}`).
pub async fn serve<W, R, E>(
    room: Arc<Room>,
    left: CancellationToken,
    mut quality: Quality,
    mut tx: W,
    mut rx: R,
) where
    W: futures_util::Sink<Message> + Unpin,
    R: futures_util::Stream<Item = Result<Message, E>> + Unpin,
{
    metrics::gauge!("tonearm_room_media_listeners").increment(1.0);
    let (mut frames, replay) = subscribe(&room, quality).await;
    let replayed = async {
        for b in replay {
            tx.feed(Message::Binary(b)).await.ok()?;
        }
        tx.flush().await.ok()
    };
    let mut open = tokio::select! {
        ok = tokio::time::timeout(WRITE_LIMIT, replayed) => matches!(ok, Ok(Some(()))),
        _ = left.cancelled() => false,
    };
    while open {
        tokio::select! {
            _ = left.cancelled() => {
                let reason = "no longer in the room".to_string();
                let bye = async {
                    tx.send(notice(&Notice::Closed { reason })).await.ok()?;
                    tx.send(Message::Close(None)).await.ok()?;
                    // Read what the listener already sent until it answers the close: a socket
                    // closed with unread bytes is reset by the kernel, and a reset can destroy
                    // the notice before the listener reads it.
                    while let Some(Ok(m)) = rx.next().await {
                        if matches!(m, Message::Close(_)) {
                            break;
                        }
                    }
                    Some(())
                };
                let _ = tokio::time::timeout(std::time::Duration::from_secs(1), bye).await;
                break;
            }
            got = frames.recv() => {
                // Everything already waiting goes out in one write: a listener that is behind
                // costs one system call per batch, not per frame. The write races the listener
                // leaving and a time limit, so a client that stops reading cannot pin this task.
                let write = write_batch(&mut tx, &mut frames, got);
                open = tokio::select! {
                    ok = tokio::time::timeout(WRITE_LIMIT, write) => ok.unwrap_or(false),
                    _ = left.cancelled() => false,
                };
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rooms::audio::Broadcast;
    use crate::rooms::room::Live;
    use std::time::{Duration, Instant};
    use tokio::sync::mpsc;
    use tokio_util::sync::PollSender;

    fn frame_no(m: &Message) -> Option<u8> {
        match m {
            Message::Binary(b) => b.first().copied(),
            _ => None,
        }
    }

    async fn next(rx: &mut mpsc::Receiver<Message>) -> Message {
        tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("a message within 5 s")
            .expect("stream open")
    }

    /// A listener that stops reading loses its own oldest frames and is told how many; a
    /// listener beside it gets every frame while the first is stuck.
    #[tokio::test]
    async fn a_stuck_listener_drops_its_oldest_frames_and_slows_no_one() {
        let room = Arc::new(Room::new(
            "r".into(),
            "R".into(),
            "h".into(),
            "t",
            None,
            400,
            4,
        ));
        room.state().live = Some(Live {
            audio_config: serde_json::Value::Null,
            started: Instant::now(),
            audio: Broadcast::new(Duration::from_secs(1)),
        });
        let (slow_tx, mut slow_rx) = mpsc::channel::<Message>(1);
        let (fast_tx, mut fast_rx) = mpsc::channel::<Message>(64);
        let slow_left = CancellationToken::new();
        let never = || futures_util::stream::pending::<Result<Message, ()>>();
        tokio::spawn(serve(
            room.clone(),
            slow_left.clone(),
            Quality::High,
            PollSender::new(slow_tx),
            never(),
        ));
        tokio::spawn(serve(
            room.clone(),
            CancellationToken::new(),
            Quality::High,
            PollSender::new(fast_tx),
            never(),
        ));
        let until = Instant::now() + Duration::from_secs(5);
        while room.media[0].receiver_count() < 2 {
            assert!(Instant::now() < until, "both listeners subscribe");
            tokio::task::yield_now().await;
        }
        for i in 0..20u8 {
            room.media[0]
                .send(MediaItem::Frame(Bytes::from(vec![i])))
                .unwrap();
            assert_eq!(
                frame_no(&next(&mut fast_rx).await),
                Some(i),
                "fast listener"
            );
        }
        room.media[0].send(MediaItem::Stopped).unwrap();
        let mut frames = Vec::new();
        let mut dropped = 0;
        loop {
            match next(&mut slow_rx).await {
                Message::Binary(b) => frames.push(b[0]),
                Message::Text(t) => match serde_json::from_str::<Notice>(t.as_str()).unwrap() {
                    Notice::Dropped { frames: n } => dropped += n,
                    Notice::Stopped => break,
                    other => panic!("unexpected {other:?}"),
                },
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(dropped > 0, "the stuck listener was told: {frames:?}");
        assert_eq!(frames.len() as u64 + dropped, 20, "{frames:?} + {dropped}");
        assert_eq!(frames.last(), Some(&19), "it resumes at the newest frames");
        let kept: Vec<u8> = (20 - 3..20).collect();
        assert!(
            frames.ends_with(&kept),
            "the newest frames are kept: {frames:?}"
        );
        assert!(
            frames.windows(2).all(|w| w[0] < w[1]),
            "in order: {frames:?}"
        );
        slow_left.cancel();
        match next(&mut slow_rx).await {
            Message::Text(t) => assert!(t.as_str().contains("closed"), "{t}"),
            other => panic!("expected the closed notice, got {other:?}"),
        }
    }
}
