//! The binary media path (`GET /api/rooms/{id}/media`, a plain WebSocket): each relayed Opus
//! frame is one binary message, a fixed header then the packet. The server serializes a frame
//! once and every listener of the layer gets the same bytes. Text messages carry notices.

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

/// A layer of the host's audio. Guests get `High` unless they ask for `Low`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Quality {
    #[default]
    High,
    Low,
}

impl Quality {
    pub const ALL: [Quality; 2] = [Quality::High, Quality::Low];

    /// `high` (or `medium`, which means high) and `low`.
    pub fn parse(s: &str) -> Option<Quality> {
        match s {
            "high" | "medium" => Some(Quality::High),
            "low" => Some(Quality::Low),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Quality::High => "high",
            Quality::Low => "low",
        }
    }

    /// Position in per-layer arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Version byte that starts every media frame.
pub const MEDIA_VERSION: u8 = 1;
/// version u8, quality u8, seq u64, timestamp f64, duration f32, server time f64 (little endian).
pub const HEADER_LEN: usize = 1 + 1 + 8 + 8 + 4 + 8;

/// One relayed frame as the media path carries it.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaFrame {
    pub quality: Quality,
    /// Position in the layer (gaps mean lost frames).
    pub seq: u64,
    /// Capture time of the first sample, server-clock ms.
    pub timestamp: f64,
    /// Frame length in ms.
    pub duration: f32,
    /// When the server received the frame, server-clock ms.
    pub server_time: f64,
    /// The Opus packet.
    pub data: Bytes,
}

/// A media message that is not a frame we understand.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("media frame shorter than its {HEADER_LEN}-byte header")]
    Short,
    #[error("media frame version {0} (this client speaks {MEDIA_VERSION})")]
    Version(u8),
    #[error("media frame quality byte {0} is unknown")]
    Quality(u8),
}

impl MediaFrame {
    /// The message bytes: header then packet.
    pub fn encode(&self) -> Bytes {
        let mut b = BytesMut::with_capacity(HEADER_LEN + self.data.len());
        b.put_u8(MEDIA_VERSION);
        b.put_u8(self.quality as u8);
        b.put_u64_le(self.seq);
        b.put_f64_le(self.timestamp);
        b.put_f32_le(self.duration);
        b.put_f64_le(self.server_time);
        b.put_slice(&self.data);
        b.freeze()
    }

    /// Parses a message; the packet shares `msg`'s buffer.
    pub fn decode(msg: &Bytes) -> Result<MediaFrame, WireError> {
        if msg.len() < HEADER_LEN {
            return Err(WireError::Short);
        }
        if msg[0] != MEDIA_VERSION {
            return Err(WireError::Version(msg[0]));
        }
        let quality = match msg[1] {
            0 => Quality::High,
            1 => Quality::Low,
            q => return Err(WireError::Quality(q)),
        };
        let u64_at = |i: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&msg[i..i + 8]);
            a
        };
        let mut d = [0u8; 4];
        d.copy_from_slice(&msg[18..22]);
        Ok(MediaFrame {
            quality,
            seq: u64::from_le_bytes(u64_at(2)),
            timestamp: f64::from_le_bytes(u64_at(10)),
            duration: f32::from_le_bytes(d),
            server_time: f64::from_le_bytes(u64_at(22)),
            data: msg.slice(HEADER_LEN..),
        })
    }
}

/// Text messages on the media path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Notice {
    /// Server → client: this listener fell behind and its oldest `frames` were dropped.
    Dropped { frames: u64 },
    /// Server → client: the host stopped broadcasting; every frame of the broadcast came
    /// before this. The path stays open for the next broadcast.
    Stopped,
    /// Server → client: the stream ends (`reason`: left the room, room closed…).
    Closed { reason: String },
    /// Client → server: switch layers.
    Quality { quality: Quality },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_bad_ones_are_refused() {
        let f = MediaFrame {
            quality: Quality::Low,
            seq: 1 << 40,
            timestamp: 1_700_000_000_123.25,
            duration: 20.0,
            server_time: 1_700_000_000_130.5,
            data: Bytes::from_static(b"opus!"),
        };
        let b = f.encode();
        assert_eq!(b.len(), HEADER_LEN + 5);
        assert_eq!(MediaFrame::decode(&b).unwrap(), f);
        assert_eq!(
            MediaFrame::decode(&b.slice(..HEADER_LEN - 1)),
            Err(WireError::Short)
        );
        let mut v = b.to_vec();
        v[0] = 9;
        assert_eq!(
            MediaFrame::decode(&Bytes::from(v.clone())),
            Err(WireError::Version(9))
        );
        v[0] = MEDIA_VERSION;
        v[1] = 7;
        assert_eq!(
            MediaFrame::decode(&Bytes::from(v)),
            Err(WireError::Quality(7))
        );
    }

    /// Seeded random and mutated messages: decoding never panics, and whatever decodes
    /// re-encodes to itself. (The `room_wire` fuzz target explores further.)
    #[test]
    fn arbitrary_messages_never_panic() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let good = MediaFrame {
            quality: Quality::High,
            seq: 7,
            timestamp: 1.0,
            duration: 20.0,
            server_time: 2.0,
            data: Bytes::from_static(&[1, 2, 3, 4]),
        }
        .encode();
        for i in 0..20_000 {
            let msg: Vec<u8> = if i % 2 == 0 {
                (0..next() % 64).map(|_| next() as u8).collect()
            } else {
                let mut m = good.to_vec();
                let at = (next() as usize) % m.len();
                m[at] = next() as u8;
                m.truncate((next() as usize) % (m.len() + 1));
                m
            };
            if let Ok(f) = MediaFrame::decode(&Bytes::from(msg)) {
                let again = MediaFrame::decode(&f.encode()).unwrap();
                assert_eq!(again.seq, f.seq);
                assert_eq!(again.data, f.data);
            }
        }
    }

    #[test]
    fn notices_are_tagged_json() {
        let n = Notice::Dropped { frames: 3 };
        assert_eq!(
            serde_json::to_string(&n).unwrap(),
            r#"{"type":"dropped","frames":3}"#
        );
        let q: Notice = serde_json::from_str(r#"{"type":"quality","quality":"low"}"#).unwrap();
        assert_eq!(
            q,
            Notice::Quality {
                quality: Quality::Low
            }
        );
    }
}
