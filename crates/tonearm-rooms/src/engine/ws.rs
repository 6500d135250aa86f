//! RFC 6455 framing for the media path, which runs on the raw upgraded connection instead of
//! a WebSocket library's stream: a frame is framed once and the same bytes are written to
//! every listener's socket straight from the fan-out (`rooms::fanout`). A library stream copies
//! each message into a per-connection buffer and needs its own task woken per message, which
//! measured at about 10 µs a frame per guest; the direct write is one system call. Headers are
//! formatted and parsed by `tungstenite`'s frame types; only the loop around them is ours.

use bytes::Bytes;
use std::io::Cursor;
use tungstenite::protocol::frame::coding::{CloseCode, Control, Data, OpCode};
use tungstenite::protocol::frame::{Frame, FrameHeader};

/// A server frame (never masked) carrying `payload` whole.
fn frame(opcode: OpCode, payload: &[u8]) -> Bytes {
    let header = FrameHeader {
        opcode,
        is_final: true,
        ..FrameHeader::default()
    };
    let mut out = Vec::with_capacity(header.len(payload.len() as u64) + payload.len());
    // Writing into a Vec cannot fail.
    let _ = Frame::from_payload(header, Bytes::copy_from_slice(payload)).format(&mut out);
    Bytes::from(out)
}

/// A binary message.
pub fn binary(payload: &[u8]) -> Bytes {
    frame(OpCode::Data(Data::Binary), payload)
}

/// A text message.
pub fn text(s: &str) -> Bytes {
    frame(OpCode::Data(Data::Text), s.as_bytes())
}

/// The answer to a ping.
pub fn pong(payload: &[u8]) -> Bytes {
    frame(OpCode::Control(Control::Pong), payload)
}

/// A close frame with `code`.
pub fn close(code: CloseCode) -> Bytes {
    frame(
        OpCode::Control(Control::Close),
        &u16::from(code).to_be_bytes(),
    )
}

/// Checks a WebSocket upgrade request (RFC 6455 §4.2.1) and returns its
/// `Sec-WebSocket-Accept`, or why it is not one.
pub fn accept_key<B>(req: &http::Request<B>) -> Result<String, &'static str> {
    use http::header::{CONNECTION, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_VERSION, UPGRADE};
    let h = req.headers();
    let has_token = |name, token: &str| {
        h.get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    if req.version() != http::Version::HTTP_11 {
        return Err("an upgrade needs HTTP/1.1");
    }
    if !has_token(CONNECTION, "upgrade") || !has_token(UPGRADE, "websocket") {
        return Err("missing `Connection: upgrade` and `Upgrade: websocket`");
    }
    if h.get(SEC_WEBSOCKET_VERSION).map(|v| v.as_bytes()) != Some(b"13") {
        return Err("Sec-WebSocket-Version must be 13");
    }
    let key = h
        .get(SEC_WEBSOCKET_KEY)
        .ok_or("missing Sec-WebSocket-Key")?;
    use base64::Engine;
    match base64::engine::general_purpose::STANDARD.decode(key.as_bytes()) {
        Ok(k) if k.len() == 16 => Ok(tungstenite::handshake::derive_accept_key(key.as_bytes())),
        _ => Err("Sec-WebSocket-Key must be 16 bytes in base64"),
    }
}

/// What a listener sent, as far as the media path cares.
#[derive(Debug, PartialEq, Eq)]
pub enum ClientMessage {
    Text(String),
    Ping(Bytes),
    Close,
    /// Binary, pong and continuation frames, and partial text: read and ignored.
    Ignored,
}

/// Why a listener's stream was refused (the connection is then closed with `code`).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClientFrameError {
    #[error("malformed frame: {0}")]
    Malformed(String),
    #[error("client frames must be masked")]
    Unmasked,
    #[error("frame of {0} bytes is over the limit")]
    TooBig(u64),
}

impl ClientFrameError {
    /// The close code the listener is told.
    pub fn code(&self) -> CloseCode {
        match self {
            ClientFrameError::TooBig(_) => CloseCode::Size,
            _ => CloseCode::Protocol,
        }
    }
}

/// Splits what a listener sends into frames. Holds at most one frame of `max` bytes.
#[derive(Debug)]
pub struct ClientFrames {
    buf: Vec<u8>,
    max: u64,
}

impl ClientFrames {
    pub fn new(max: usize) -> ClientFrames {
        ClientFrames {
            buf: Vec::new(),
            max: max as u64,
        }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame, if one has arrived.
    pub fn next_message(&mut self) -> Result<Option<ClientMessage>, ClientFrameError> {
        let mut cur = Cursor::new(self.buf.as_slice());
        let Some((header, len)) =
            FrameHeader::parse(&mut cur).map_err(|e| ClientFrameError::Malformed(e.to_string()))?
        else {
            return Ok(None);
        };
        if len > self.max {
            return Err(ClientFrameError::TooBig(len));
        }
        if header.rsv1 || header.rsv2 || header.rsv3 {
            return Err(ClientFrameError::Malformed("reserved bits set".into()));
        }
        let mask = header.mask.ok_or(ClientFrameError::Unmasked)?;
        let start = cur.position() as usize;
        // `len` ≤ `max`, which is a usize.
        let end = start + len as usize;
        if self.buf.len() < end {
            return Ok(None);
        }
        let mut payload: Vec<u8> = self.buf[start..end].to_vec();
        self.buf.drain(..end);
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= mask[i % 4];
        }
        Ok(Some(match header.opcode {
            OpCode::Data(Data::Text) if header.is_final => match String::from_utf8(payload) {
                Ok(s) => ClientMessage::Text(s),
                Err(_) => return Err(ClientFrameError::Malformed("text is not UTF-8".into())),
            },
            OpCode::Control(Control::Ping) => ClientMessage::Ping(Bytes::from(payload)),
            OpCode::Control(Control::Close) => ClientMessage::Close,
            OpCode::Control(Control::Reserved(_)) | OpCode::Data(Data::Reserved(_)) => {
                return Err(ClientFrameError::Malformed("reserved opcode".into()))
            }
            _ => ClientMessage::Ignored,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client frame as a browser sends it: masked.
    fn client(opcode: OpCode, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
        let header = FrameHeader {
            opcode,
            is_final: true,
            mask: Some(mask),
            ..FrameHeader::default()
        };
        let mut out = Vec::new();
        header.format(payload.len() as u64, &mut out).unwrap();
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        out
    }

    #[test]
    fn upgrade_requests_are_checked() {
        let req = |version, key: &str| {
            http::Request::builder()
                .version(version)
                .header("connection", "keep-alive, Upgrade")
                .header("upgrade", "WebSocket")
                .header("sec-websocket-version", "13")
                .header("sec-websocket-key", key)
                .body(())
                .unwrap()
        };
        // RFC 6455's own example.
        assert_eq!(
            accept_key(&req(http::Version::HTTP_11, "dGhlIHNhbXBsZSBub25jZQ==")).as_deref(),
            Ok("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        );
        assert!(accept_key(&req(http::Version::HTTP_11, "c2hvcnQ=")).is_err());
        assert!(accept_key(&req(http::Version::HTTP_10, "dGhlIHNhbXBsZSBub25jZQ==")).is_err());
        let plain = http::Request::builder().body(()).unwrap();
        assert!(accept_key(&plain).is_err());
    }

    #[test]
    fn server_frames_parse_with_tungstenite() {
        for payload in [vec![], vec![7u8; 125], vec![1u8; 126], vec![2u8; 70_000]] {
            let b = binary(&payload);
            let mut cur = Cursor::new(&b[..]);
            let (h, len) = FrameHeader::parse(&mut cur).unwrap().unwrap();
            assert_eq!(h.opcode, OpCode::Data(Data::Binary));
            assert!(h.is_final && h.mask.is_none());
            assert_eq!(len as usize, payload.len());
            assert_eq!(&b[cur.position() as usize..], &payload[..]);
        }
        let c = close(CloseCode::Normal);
        assert_eq!(&c[..], &[0x88, 2, 0x03, 0xe8]);
    }

    #[test]
    fn client_frames_split_across_reads_are_joined() {
        let mut bytes = client(
            OpCode::Data(Data::Text),
            br#"{"type":"quality","quality":"low"}"#,
            [1, 2, 3, 4],
        );
        bytes.extend(client(OpCode::Control(Control::Ping), b"hi", [9, 9, 9, 9]));
        bytes.extend(client(OpCode::Data(Data::Binary), b"xx", [5, 6, 7, 8]));
        bytes.extend(client(OpCode::Control(Control::Close), b"", [0, 0, 0, 0]));
        let mut p = ClientFrames::new(4096);
        let mut got = Vec::new();
        // One byte at a time: every split point.
        for b in &bytes {
            p.push(std::slice::from_ref(b));
            while let Some(m) = p.next_message().unwrap() {
                got.push(m);
            }
        }
        assert_eq!(
            got,
            [
                ClientMessage::Text(r#"{"type":"quality","quality":"low"}"#.into()),
                ClientMessage::Ping(Bytes::from_static(b"hi")),
                ClientMessage::Ignored,
                ClientMessage::Close,
            ]
        );
    }

    #[test]
    fn hostile_client_frames_are_refused() {
        let mut p = ClientFrames::new(64);
        p.push(&client(OpCode::Data(Data::Text), &[b'a'; 65], [1, 1, 1, 1]));
        assert_eq!(p.next_message(), Err(ClientFrameError::TooBig(65)));

        let mut p = ClientFrames::new(64);
        let mut unmasked = Vec::new();
        FrameHeader {
            opcode: OpCode::Data(Data::Text),
            ..FrameHeader::default()
        }
        .format(1, &mut unmasked)
        .unwrap();
        unmasked.push(b'a');
        p.push(&unmasked);
        assert_eq!(p.next_message(), Err(ClientFrameError::Unmasked));

        let mut p = ClientFrames::new(64);
        p.push(&client(
            OpCode::Data(Data::Text),
            &[0xff, 0xfe],
            [3, 3, 3, 3],
        ));
        assert!(matches!(
            p.next_message(),
            Err(ClientFrameError::Malformed(_))
        ));

        // A length that claims 2^63 bytes is refused from its header alone.
        let mut p = ClientFrames::new(64);
        p.push(&[0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert!(p.next_message().is_err());
    }
}
