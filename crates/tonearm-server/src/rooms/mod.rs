//! Listening rooms' transport. The rooms themselves (state, rules, relay, fan-out, chat, the
//! cluster) are `tonearm_rooms::engine`; this module adapts them to Socket.IO: `socket` parses
//! and answers events, `turn` keeps a socket's events in arrival order, and [`SioOutlet`] is
//! how the engine's events reach this node's sockets. The media path's route is
//! `routes::rooms`.

pub mod socket;
pub mod turn;

use socketioxide::SocketIo;
use std::sync::Arc;
use tonearm_rooms::engine::audio::FrameOut;
use tonearm_rooms::engine::room::Room;
use tonearm_rooms::engine::{Emit, Outlet};

/// Where Socket.IO (rooms) is served; every request under it is engineioxide's.
pub const SOCKET_PATH: &str = "/socket.io";

/// Gives a Socket.IO request's URI and headers their own memory. engineioxide keeps each
/// connection's request for as long as it is open, and hyper parses the request line and
/// header values as slices of the connection's read buffer, so keeping them keeps that whole
/// buffer (8–16 KB) alive per guest. Copies are a few hundred bytes. (Measured with heaptrack
/// at 1,000 guests: 16 KB of the 37 KB per guest was this buffer.)
pub async fn own_socket_headers(mut req: axum::extract::Request) -> axum::extract::Request {
    use axum::http::{HeaderMap, HeaderName, HeaderValue, Uri};
    if !req.uri().path().starts_with(SOCKET_PATH) {
        return req;
    }
    let headers: HeaderMap = req
        .headers()
        .iter()
        .filter_map(|(k, v)| {
            Some((
                HeaderName::from_bytes(k.as_str().as_bytes()).ok()?,
                HeaderValue::from_bytes(v.as_bytes()).ok()?,
            ))
        })
        .collect();
    *req.headers_mut() = headers;
    if let Ok(uri) = Uri::try_from(req.uri().to_string()) {
        *req.uri_mut() = uri;
    }
    req
}

/// The engine's events, sent through socketioxide: a group is a Socket.IO room of that name.
pub struct SioOutlet(pub SocketIo);

impl Outlet for SioOutlet {
    fn emit<'a>(&'a self, to: &'a str, event: &'a str, data: &'a serde_json::Value) -> Emit<'a> {
        Box::pin(async move {
            let _ = self.0.to(to.to_string()).emit(event, data).await;
        })
    }

    fn emit_frame<'a>(&'a self, to: &'a str, frame: &'a FrameOut) -> Emit<'a> {
        Box::pin(async move {
            let _ = self
                .0
                .to(to.to_string())
                .emit("broadcast:audio", frame)
                .await;
        })
    }

    fn detach(&self, room: &Arc<Room>) {
        for s in self.0.to(room.key.clone()).sockets() {
            socket::forget_room(&s, room);
        }
    }
}
