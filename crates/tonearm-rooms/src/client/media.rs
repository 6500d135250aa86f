//! Client of the binary media path, `GET /api/rooms/{id}/media?token=…&quality=…`: a plain
//! WebSocket carrying one binary message per frame (see `wire`). A guest opens it after joining
//! the room over Socket.IO (the token is its `session` token) and then gets audio here instead of
//! as `broadcast:audio` events.

use super::sio::SioError;
use crate::wire::{MediaFrame, Notice, Quality};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// What the media path delivers.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaMessage {
    Frame(MediaFrame),
    Notice(Notice),
}

/// An open media path.
pub struct MediaStream {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// Opens the media path of `room_id` for the guest holding session `token`.
pub async fn connect(
    base: &str,
    room_id: &str,
    token: &str,
    quality: Quality,
) -> Result<MediaStream, SioError> {
    let url = crate::ws_url(
        base,
        &format!(
            "/api/rooms/{room_id}/media?token={token}&quality={}",
            quality.as_str()
        ),
    )?;
    // Frames are small: small buffers let one process hold thousands of listeners.
    let config = WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        .write_buffer_size(0)
        .max_message_size(Some(64 * 1024));
    let (ws, _) = tokio_tungstenite::connect_async_with_config(url.as_str(), Some(config), true)
        .await
        .map_err(|e| SioError::Connect(e.to_string()))?;
    Ok(MediaStream { ws })
}

impl MediaStream {
    /// The next frame or notice; `None` when the stream ends.
    pub async fn next(&mut self) -> Option<Result<MediaMessage, SioError>> {
        loop {
            let msg = match self.ws.next().await? {
                Ok(m) => m,
                Err(e) => return Some(Err(SioError::Connect(e.to_string()))),
            };
            return Some(match msg {
                Message::Binary(b) => MediaFrame::decode(&b)
                    .map(MediaMessage::Frame)
                    .map_err(|e| SioError::Protocol(e.to_string())),
                Message::Text(t) => serde_json::from_str::<Notice>(t.as_str())
                    .map(MediaMessage::Notice)
                    .map_err(|e| SioError::Protocol(format!("bad notice: {e}"))),
                Message::Close(_) => return None,
                _ => continue,
            });
        }
    }

    /// Asks for another layer.
    pub async fn set_quality(&mut self, quality: Quality) -> Result<(), SioError> {
        let body = serde_json::to_string(&Notice::Quality { quality })
            .map_err(|e| SioError::Protocol(e.to_string()))?;
        self.ws
            .send(Message::text(body))
            .await
            .map_err(|e| SioError::Connect(e.to_string()))
    }
}
