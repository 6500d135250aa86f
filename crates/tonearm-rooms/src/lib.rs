//! Listening rooms, both ends of them.
//!
//! - What both ends share: the binary media frame (`wire`), clock sync (`clock`) and the
//!   playout rule every guest follows (`playout`).
//! - `engine`: the server's side, the rooms themselves (registry, state and rules, relay and
//!   replay, fan-out and pacing, chat, the cluster protocol). The server crate only adapts it
//!   to Socket.IO and HTTP.
//! - `client` (feature `client`): a small Socket.IO v4 client and the media-path client that
//!   the CLI's `broadcast`, `listen` and `loadtest` and the tests are built on.
//!
//! One crate, so a wire type and both its producer and its consumer change in one place.

pub mod clock;
pub mod engine;
pub mod playout;
pub mod wire;

#[cfg(feature = "client")]
pub mod client;

pub use wire::{MediaFrame, Quality};

#[cfg(feature = "client")]
/// Turns a server base URL (`http://host:port`) into a WebSocket URL for `path_and_query`.
pub fn ws_url(base: &str, path_and_query: &str) -> Result<String, client::sio::SioError> {
    let base = base.trim_end_matches('/');
    let rest = if let Some(r) = base.strip_prefix("http://") {
        r
    } else if let Some(r) = base.strip_prefix("ws://") {
        r
    } else if base.starts_with("https://") || base.starts_with("wss://") {
        return Err(client::sio::SioError::Url(
            "TLS is not built into this client; reach the server over http:// (e.g. through a local proxy)".into(),
        ));
    } else {
        return Err(client::sio::SioError::Url(format!(
            "server URL must start with http:// (got {base:?})"
        )));
    };
    Ok(format!("ws://{rest}{path_and_query}"))
}

#[cfg(all(test, feature = "client"))]
mod tests {
    #[test]
    fn ws_urls_are_made_from_http_bases() {
        assert_eq!(
            super::ws_url("http://127.0.0.1:8080/", "/socket.io/").unwrap(),
            "ws://127.0.0.1:8080/socket.io/"
        );
        assert!(super::ws_url("https://x", "/").is_err());
        assert!(super::ws_url("ftp://x", "/").is_err());
    }
}
