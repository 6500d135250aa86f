//! HTTP handlers: thin layers that parse a request, call domain code and shape the answer.

pub mod analysis;
pub mod auth;
pub mod catalog;
pub mod hls;
pub mod jobs;
pub mod library;
pub mod ops;
pub mod rooms;
pub mod stream;
pub mod upload;
pub mod users;
