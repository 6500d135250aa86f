//! The load tester's receiving end of many media paths: a few threads, each an event loop
//! (mio) over thousands of sockets, reading frames and timing their arrival. One task per
//! guest over a WebSocket library costs a wake-up, a buffer and a message copy per frame; at
//! 5,000 guests that is 250,000 a second and the tester, not the server, becomes what is
//! measured. Here a frame costs a share of one `read` and a header parse.
//!
//! With `--reader-tick-ms`, each thread reads on a tick rather than at each arrival (see
//! `read_loop`).
//!
//! The upgrade handshake is written out (a GET with the WebSocket headers, then the 101), so
//! bytes the server sends right after it (the replay) are kept, not lost in a library's buffer.

use anyhow::{bail, Context};
use bytes::{Buf, BytesMut};
use mio::{Events, Interest, Poll, Token, Waker};
use std::io::{Cursor, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;
use tonearm_rooms::clock::LocalClock;
use tonearm_rooms::wire::{MediaFrame, Notice};

/// What the guests of one thread saw while measuring.
#[derive(Debug, Default)]
pub struct Seen {
    /// Per guest: from starting to connect to its first frame, ms.
    pub join_to_first_ms: Vec<f64>,
    pub delays_ms: Vec<f32>,
    pub frames: u64,
    pub lost: u64,
    pub dropped: u64,
    /// Guests whose stream ended or broke before the end.
    pub ended: u64,
}

impl Seen {
    /// Adds what another reader (or guest) saw.
    pub fn absorb(&mut self, other: Seen) {
        self.join_to_first_ms.extend(other.join_to_first_ms);
        self.delays_ms.extend(other.delays_ms);
        self.frames += other.frames;
        self.lost += other.lost;
        self.dropped += other.dropped;
        self.ended += other.ended;
    }
}

/// An open media path, handshake done, ready to hand to a reader.
pub struct Path {
    stream: std::net::TcpStream,
    /// Bytes that came with the handshake's answer.
    early: Vec<u8>,
    /// Local clock ms when the guest started to connect.
    began_ms: f64,
}

/// Opens the media path of `room` for the guest holding session `token`.
pub async fn open(server: &str, room: &str, token: &str, began_ms: f64) -> anyhow::Result<Path> {
    use base64::Engine;
    let host = server
        .trim_end_matches('/')
        .strip_prefix("http://")
        .context("server URL must start with http://")?;
    let mut s = tokio::net::TcpStream::connect(host).await?;
    s.set_nodelay(true)?;
    let key = base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 16]>());
    s.write_all(
        format!(
            "GET /api/rooms/{room}/media?token={token}&quality=high HTTP/1.1\r\nHost: {host}\r\n\
             Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: {key}\r\n\r\n"
        )
        .as_bytes(),
    )
    .await?;
    let mut got = Vec::with_capacity(512);
    let head_end = loop {
        if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if got.len() > 16 * 1024 {
            bail!("the media path's answer has no end of headers");
        }
        let mut chunk = [0u8; 1024];
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            bail!("the server closed the media path during the handshake");
        }
        got.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&got[..head_end]).to_string();
    if !head.starts_with("HTTP/1.1 101") {
        bail!("media path refused: {}", head.lines().next().unwrap_or(""));
    }
    let want = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    if !head
        .lines()
        .any(|l| l.to_ascii_lowercase() == format!("sec-websocket-accept: {}", want.to_lowercase()))
    {
        bail!("media path answered with a wrong Sec-WebSocket-Accept");
    }
    let stream = s.into_std()?;
    stream.set_nonblocking(true)?;
    Ok(Path {
        stream,
        early: got[head_end..].to_vec(),
        began_ms,
    })
}

/// One guest's stream as a reader thread keeps it.
struct Conn {
    stream: mio::net::TcpStream,
    buf: BytesMut,
    began_ms: f64,
    first_seen: bool,
    next_seq: Option<u64>,
    /// Frames the server said it dropped since the last frame.
    told: u64,
    done: bool,
}

/// The readers; dropping it stops them.
pub struct FanIn {
    senders: Vec<(mpsc::Sender<Path>, Arc<Waker>)>,
    next: usize,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<anyhow::Result<Seen>>>,
}

const WAKE: Token = Token(usize::MAX);

impl FanIn {
    /// Starts `threads` readers, each reading what arrived every `tick` (zero: as it arrives).
    /// Frames count while `measuring` is set; `offset_ms` maps the local clock to the server's.
    pub fn start(
        threads: usize,
        tick: Duration,
        offset_ms: f64,
        measuring: Arc<AtomicBool>,
    ) -> anyhow::Result<FanIn> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut senders = Vec::new();
        let mut handles = Vec::new();
        for i in 0..threads.max(1) {
            let poll = Poll::new()?;
            let waker = Arc::new(Waker::new(poll.registry(), WAKE)?);
            let (tx, rx) = mpsc::channel();
            let (stop, measuring) = (stop.clone(), measuring.clone());
            handles.push(
                std::thread::Builder::new()
                    .name(format!("fanin-{i}"))
                    .spawn(move || read_loop(poll, rx, stop, measuring, tick, offset_ms))?,
            );
            senders.push((tx, waker));
        }
        Ok(FanIn {
            senders,
            next: 0,
            stop,
            threads: handles,
        })
    }

    /// Hands an open path to the next reader.
    pub fn add(&mut self, path: Path) -> anyhow::Result<()> {
        let (tx, waker) = &self.senders[self.next % self.senders.len()];
        self.next += 1;
        tx.send(path).ok().context("a reader thread ended")?;
        waker.wake()?;
        Ok(())
    }

    /// Tells the readers to stop.
    fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        for (_, w) in &self.senders {
            let _ = w.wake();
        }
    }

    /// Stops the readers and gathers what they saw.
    pub fn finish(mut self) -> anyhow::Result<Seen> {
        self.stop();
        let mut all = Seen::default();
        for t in self.threads.drain(..) {
            let s = t
                .join()
                .map_err(|_| anyhow::anyhow!("a reader thread panicked"))??;
            all.absorb(s);
        }
        Ok(all)
    }
}

impl Drop for FanIn {
    fn drop(&mut self) {
        self.stop();
    }
}

fn read_loop(
    mut poll: Poll,
    incoming: mpsc::Receiver<Path>,
    stop: Arc<AtomicBool>,
    measuring: Arc<AtomicBool>,
    tick: Duration,
    offset_ms: f64,
) -> anyhow::Result<Seen> {
    let clock = LocalClock::new(0.0);
    let mut conns: Vec<Conn> = Vec::new();
    let mut seen = Seen::default();
    let mut events = Events::with_capacity(1024);
    let mut scratch = vec![0u8; 64 * 1024];
    while !stop.load(Ordering::Relaxed) {
        if tick.is_zero() {
            poll.poll(&mut events, Some(Duration::from_millis(100)))?;
        } else {
            // Reading on a tick instead of at each arrival: a frame is timed up to `tick`
            // late (its delay is overstated, never flattered), and the sender's writes find
            // no thread to wake, which on one machine is much of what each write costs.
            std::thread::sleep(tick);
            poll.poll(&mut events, Some(Duration::ZERO))?;
        }
        let now = clock.now_ms();
        let counting = measuring.load(Ordering::Relaxed);
        for ev in events.iter() {
            if ev.token() == WAKE {
                for p in incoming.try_iter() {
                    let mut stream = mio::net::TcpStream::from_std(p.stream);
                    let token = Token(conns.len());
                    poll.registry()
                        .register(&mut stream, token, Interest::READABLE)?;
                    let mut c = Conn {
                        stream,
                        buf: BytesMut::from(&p.early[..]),
                        began_ms: p.began_ms,
                        first_seen: false,
                        next_seq: None,
                        told: 0,
                        done: false,
                    };
                    // The early bytes, and whatever arrived before registering.
                    drain(&mut c, &mut scratch, now, counting, offset_ms, &mut seen);
                    conns.push(c);
                }
                continue;
            }
            if let Some(c) = conns.get_mut(ev.token().0) {
                drain(c, &mut scratch, now, counting, offset_ms, &mut seen);
            }
        }
    }
    Ok(seen)
}

/// Reads everything a socket has and takes in its whole frames.
fn drain(
    c: &mut Conn,
    scratch: &mut [u8],
    now: f64,
    counting: bool,
    offset_ms: f64,
    seen: &mut Seen,
) {
    if c.done {
        return;
    }
    loop {
        match c.stream.read(scratch) {
            Ok(0) => {
                c.done = true;
                seen.ended += 1;
                break;
            }
            Ok(n) => c.buf.extend_from_slice(&scratch[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => {
                c.done = true;
                seen.ended += 1;
                break;
            }
        }
    }
    loop {
        let mut cur = Cursor::new(&c.buf[..]);
        let Ok(Some((header, len))) = FrameHeader::parse(&mut cur) else {
            break;
        };
        let start = cur.position() as usize;
        let end = start + len as usize;
        if c.buf.len() < end {
            break;
        }
        let mut msg = c.buf.split_to(end);
        msg.advance(start);
        match header.opcode {
            OpCode::Data(Data::Binary) => {
                let Ok(f) = MediaFrame::decode(&msg.freeze()) else {
                    continue;
                };
                if !c.first_seen {
                    c.first_seen = true;
                    seen.join_to_first_ms.push(now - c.began_ms);
                }
                if counting {
                    seen.frames += 1;
                    seen.delays_ms
                        .push((now + offset_ms - f.server_time) as f32);
                    if let Some(want) = c.next_seq {
                        // A gap the server told us about is counted as dropped, not lost.
                        seen.lost += f.seq.saturating_sub(want).saturating_sub(c.told);
                    }
                }
                c.next_seq = Some(f.seq + 1);
                c.told = 0;
            }
            OpCode::Data(Data::Text) => {
                if let Ok(Notice::Dropped { frames }) = serde_json::from_slice(&msg) {
                    c.told += frames;
                    if counting {
                        seen.dropped += frames;
                    }
                }
            }
            _ => {}
        }
    }
}
