//! Pure media code for Tonearm: decoding, resampling, loudness and the seekable transcoders.
//!
//! Nothing here touches the network or the database: functions take paths or samples and return
//! bytes or numbers, so they are quick to test and to benchmark in isolation.

pub mod decode;
pub mod encode;
pub mod hls;
pub mod layout;
pub mod loudness;
pub mod mono;
pub mod ogg;
pub mod quality;
pub mod resample;
pub mod synth;
pub mod transcode;

pub use decode::{AudioReader, OpusPacketDecoder, SourceInfo};
pub use layout::StreamPlan;
pub use quality::{Format, Quality};
pub use transcode::{encode_chunk, TranscodeSpec};

/// What can go wrong reading or encoding audio. Every variant is a clean error, never a panic.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("not an audio file (no known container or audio track)")]
    NotAudio,
    #[error("unsupported: {0}")]
    Unsupported(String),
    #[error("corrupt audio: {0}")]
    Corrupt(String),
    #[error("codec error: {0}")]
    Codec(String),
    #[error("cancelled")]
    Cancelled,
}
