//! The clients' side: a minimal Socket.IO v4 client (`sio`) and the media-path client
//! (`media`), for the CLI's room tools and the tests.

pub mod media;
pub mod sio;
