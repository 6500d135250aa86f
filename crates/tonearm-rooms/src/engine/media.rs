//! The binary media path: one WebSocket per listener, `GET /api/rooms/{id}/media`, carrying
//! each relayed frame as one binary message (`crate::wire`). It exists for fan-out:
//! frames reach listeners through the layer's [`Fanout`](super::fanout::Fanout), written
//! straight to their sockets; this module is each listener's own task, which only drains a
//! backlog, answers what the listener sends (a quality switch, a ping, a close) and says
//! goodbye when it leaves the room.

use super::audio::Quality;
use super::fanout::{notice, Listener};
use super::room::Room;
use super::ws::{self, ClientFrames, ClientMessage};
use crate::wire::Notice;
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::sync::CancellationToken;
use tungstenite::protocol::frame::coding::CloseCode;

/// A listener whose socket takes no data for this long is dropped.
const WRITE_LIMIT: Duration = Duration::from_secs(10);
/// Largest message a listener may send (it only ever sends a tiny quality switch).
const MAX_CLIENT_FRAME: usize = 4096;

/// Joins a layer: the replay ring first, then every frame after it, exactly once. Under the
/// relay lock, so no frame is relayed between taking the ring and joining the fan-out.
async fn subscribe(room: &Room, listener: &Arc<Listener>, q: Quality, replay: bool) {
    let _relay = room.relay.lock().await;
    if replay {
        let ring = room
            .state()
            .live
            .as_ref()
            .map(|l| l.audio.replay_media(q))
            .unwrap_or_default();
        listener.queue(ring.iter().map(|b| ws::binary(b)));
    }
    room.media[q.index()].add(listener.clone());
}

/// Streams the room's audio to one listener over an upgraded connection until it leaves the
/// room (`left`), closes, hangs up or stops reading for [`WRITE_LIMIT`].
pub async fn serve<S>(room: Arc<Room>, left: CancellationToken, mut quality: Quality, io: S)
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    metrics::gauge!("tonearm_room_media_listeners").increment(1.0);
    let (mut rd, wr) = tokio::io::split(io);
    let listener = Arc::new(Listener::new(Box::new(wr), room.media_cap));
    subscribe(&room, &listener, quality, true).await;
    let mut frames = ClientFrames::new(MAX_CLIENT_FRAME);
    let mut buf = [0u8; 256];
    // The last messages, and whether to wait for the listener to answer our close.
    let goodbye: Option<(Vec<Bytes>, bool)> = 'serve: loop {
        let n = tokio::select! {
            _ = left.cancelled() => {
                let closed = Notice::Closed { reason: "no longer in the room".into() };
                break 'serve Some((vec![notice(&closed), ws::close(CloseCode::Away)], true));
            }
            drained = async {
                listener.backlog().await;
                tokio::time::timeout(WRITE_LIMIT, listener.flush()).await
            } => match drained {
                Ok(Ok(())) => continue,
                // The socket failed or took nothing for WRITE_LIMIT: no goodbye gets through.
                _ => break 'serve None,
            },
            n = rd.read(&mut buf) => match n {
                Ok(0) | Err(_) => break 'serve None,
                Ok(n) => n,
            },
        };
        frames.push(&buf[..n]);
        loop {
            match frames.next_message() {
                Ok(None) => break,
                Ok(Some(ClientMessage::Text(t))) => {
                    // Anything but a quality switch is ignored.
                    if let Ok(Notice::Quality { quality: q }) = serde_json::from_str(&t) {
                        if q != quality {
                            quality = q;
                            subscribe(&room, &listener, q, false).await;
                        }
                    }
                }
                Ok(Some(ClientMessage::Ping(p))) if p.len() <= 125 => {
                    listener.queue([ws::pong(&p)]);
                }
                // The listener's close, answered; nothing more to wait for.
                Ok(Some(ClientMessage::Close)) => {
                    break 'serve Some((vec![ws::close(CloseCode::Normal)], false));
                }
                Ok(Some(_)) => {}
                // What follows a frame we cannot read cannot be read either: no waiting.
                Err(e) => {
                    let closed = Notice::Closed {
                        reason: e.to_string(),
                    };
                    break 'serve Some((vec![notice(&closed), ws::close(e.code())], false));
                }
            }
        }
    };
    if let Some((last, wait_for_close)) = goodbye {
        let bye = async {
            listener.queue(last);
            listener.flush().await.ok()?;
            // Read what the listener already sent until it answers the close: a socket closed
            // with unread bytes is reset by the kernel, and a reset can destroy the notice
            // before the listener reads it.
            if !wait_for_close {
                return Some(());
            }
            loop {
                let n = rd.read(&mut buf).await.ok()?;
                if n == 0 {
                    return Some(());
                }
                frames.push(&buf[..n]);
                while let Some(m) = frames.next_message().ok()? {
                    if m == ClientMessage::Close {
                        return Some(());
                    }
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), bye).await;
    }
    if let Some(mut w) = listener.close() {
        let _ = w.shutdown().await;
    }
    metrics::gauge!("tonearm_room_media_listeners").decrement(1.0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::audio::Broadcast;
    use crate::engine::room::Live;
    use std::time::Instant;

    /// The task answers a ping, switches layers on request, and says goodbye when the
    /// listener leaves the room, over a real in-memory connection.
    #[tokio::test]
    async fn pings_quality_switches_and_leaving() {
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
        let (server, client) = tokio::io::duplex(1 << 16);
        let left = CancellationToken::new();
        let task = tokio::spawn(serve(room.clone(), left.clone(), Quality::High, server));
        let mut c = tokio_tungstenite_client(client).await;
        use futures_util::{SinkExt, StreamExt};
        use tokio_tungstenite::tungstenite::Message;
        c.send(Message::Ping(b"p1".to_vec().into())).await.unwrap();
        match c.next().await.unwrap().unwrap() {
            Message::Pong(p) => assert_eq!(&p[..], b"p1"),
            other => panic!("unexpected {other:?}"),
        }
        c.send(Message::text(r#"{"type":"quality","quality":"low"}"#))
            .await
            .unwrap();
        let until = Instant::now() + Duration::from_secs(5);
        while !room.media[1].has_listeners() {
            assert!(Instant::now() < until, "moved to the low layer");
            tokio::task::yield_now().await;
        }
        room.media[1].send(ws::binary(b"low frame"));
        match c.next().await.unwrap().unwrap() {
            Message::Binary(b) => assert_eq!(&b[..], b"low frame"),
            other => panic!("unexpected {other:?}"),
        }
        left.cancel();
        match c.next().await.unwrap().unwrap() {
            Message::Text(t) => assert!(t.as_str().contains("closed"), "{t}"),
            other => panic!("expected the closed notice, got {other:?}"),
        }
        // The client answers the close; the task ends.
        while let Some(Ok(_)) = c.next().await {}
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("the task ends")
            .unwrap();
    }

    async fn tokio_tungstenite_client(
        io: tokio::io::DuplexStream,
    ) -> tokio_tungstenite::WebSocketStream<tokio::io::DuplexStream> {
        tokio_tungstenite::WebSocketStream::from_raw_socket(
            io,
            tokio_tungstenite::tungstenite::protocol::Role::Client,
            None,
        )
        .await
    }
}
