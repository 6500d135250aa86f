//! Listening rooms, the parts both ends share: the binary media frame (`wire`), clock sync
//! (`clock`), the playout rule every guest follows (`playout`), and a small Socket.IO v4 client
//! (`sio`) plus the media-path client (`media`) that the CLI's `broadcast`, `listen` and
//! `loadtest` are built on. The server's room state lives in `tonearm-server::rooms`.

pub mod clock;
pub mod media;
pub mod playout;
pub mod sio;
pub mod wire;

pub use wire::{MediaFrame, Quality};

/// Turns a server base URL (`http://host:port`) into a WebSocket URL for `path_and_query`.
pub fn ws_url(base: &str, path_and_query: &str) -> Result<String, sio::SioError> {
    let base = base.trim_end_matches('/');
    let rest = if let Some(r) = base.strip_prefix("http://") {
        r
    } else if let Some(r) = base.strip_prefix("ws://") {
        r
    } else if base.starts_with("https://") || base.starts_with("wss://") {
        return Err(sio::SioError::Url(
            "TLS is not built into this client; reach the server over http:// (e.g. through a local proxy)".into(),
        ));
    } else {
        return Err(sio::SioError::Url(format!(
            "server URL must start with http:// (got {base:?})"
        )));
    };
    Ok(format!("ws://{rest}{path_and_query}"))
}

#[cfg(test)]
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
