//! How the engine's events leave the node, without the engine knowing the transport.

use super::audio::FrameOut;
use super::room::Room;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// An emit in flight (boxed: `Outlet` is used as a trait object).
pub type Emit<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// This node's sockets, grouped by the keys rooms name (`Room::key`, `Room::layer_key`). The
/// server's Socket.IO adapter implements it; tests may record what is sent.
pub trait Outlet: Send + Sync + 'static {
    /// `event` with `data` to every socket here in the group `to`.
    fn emit<'a>(&'a self, to: &'a str, event: &'a str, data: &'a Value) -> Emit<'a>;
    /// A live frame (`broadcast:audio`, its packet a binary attachment) to the group `to`.
    fn emit_frame<'a>(&'a self, to: &'a str, frame: &'a FrameOut) -> Emit<'a>;
    /// The room has closed: every socket here that was in it forgets it.
    fn detach(&self, room: &Arc<Room>);
}
