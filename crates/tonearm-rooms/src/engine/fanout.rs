//! The media path's fan-out: one layer's listeners, and the writer that gets each frame to all
//! of them. A frame is framed once (`rooms::ws`) and the same bytes go to every socket.
//!
//! Listeners are spread over a few shards (one per core), each a task that writes a frame to
//! its listeners one after another with a non-blocking write: no per-listener task is woken
//! and nothing is copied per listener. A shard that is behind (frames waiting when it wakes)
//! writes everything waiting to each listener in one write, and a shard whose rounds of writes
//! take too long gathers a few frames per write on purpose ([`Pace`]); a small room's frames
//! are written as they come. A socket that cannot take a frame whole gets a backlog, which
//! that listener's own task drains as the socket allows; while it has one, the shard only
//! appends. A backlog is bounded: when full, the oldest frame not yet started is dropped
//! and the listener is told how many it lost, before the next frame it gets. A slow listener
//! therefore costs the host and the other listeners nothing.

use crate::wire::Notice;
use bytes::Bytes;
use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use tokio::io::AsyncWrite;
use tokio::sync::{mpsc, Notify};

/// Where a listener's bytes go (the write half of its connection).
pub type Writer = Box<dyn AsyncWrite + Send + Unpin>;

/// A listener's pending output.
struct Out {
    /// None once the listener is gone: nothing more is written.
    writer: Option<Writer>,
    /// Framed messages not yet written; the first may be partly written.
    queue: VecDeque<Chunk>,
    /// Audio frames in `queue`.
    queued_frames: usize,
    /// Bytes of `queue[0]` already written.
    written: usize,
    /// Frames dropped since the listener was last told.
    dropped: u64,
    /// Most frames the backlog holds.
    cap: usize,
}

/// Bytes to write whole, and how many audio frames they carry (0 for notices, pongs and
/// closes, which are never dropped).
struct Chunk {
    bytes: Bytes,
    frames: usize,
}

impl Out {
    /// Writes what the socket takes now. Ready(Ok) when nothing is left; Pending when the
    /// socket is full (`cx` is woken when it drains).
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            if self.written == 0 && self.dropped > 0 {
                // The gap is here: after the frame that was being written, before the rest.
                let n = std::mem::take(&mut self.dropped);
                metrics::counter!("tonearm_room_media_dropped_frames_total").increment(n);
                self.queue.push_front(Chunk {
                    bytes: notice(&Notice::Dropped { frames: n }),
                    frames: 0,
                });
            }
            // A listener whose connection failed has nothing to drain, whatever is queued.
            let Some(w) = self.writer.as_mut() else {
                return Poll::Ready(Err(io::ErrorKind::NotConnected.into()));
            };
            let Some(head) = self.queue.front() else {
                return Poll::Ready(Ok(()));
            };
            match Pin::new(w).poll_write(cx, &head.bytes[self.written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    self.written += n;
                    if self.written == head.bytes.len() {
                        self.queued_frames -= head.frames;
                        self.queue.pop_front();
                        self.written = 0;
                    }
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Appends to the backlog. Audio beyond `cap` frames drops the oldest audio not yet
    /// started; what carries no audio is always kept.
    fn push(&mut self, chunk: Chunk) {
        // `queue[0]` may be half written: it must finish, or the stream is corrupt.
        let mut i = usize::from(self.written > 0);
        while self.queued_frames + chunk.frames > self.cap && i < self.queue.len() {
            if self.queue[i].frames == 0 {
                i += 1;
                continue;
            }
            if let Some(old) = self.queue.remove(i) {
                self.queued_frames -= old.frames;
                self.dropped += old.frames as u64;
            }
        }
        self.queued_frames += chunk.frames;
        self.queue.push_back(chunk);
    }
}

/// The text notice `n`, framed.
pub fn notice(n: &Notice) -> Bytes {
    super::ws::text(&serde_json::to_string(n).unwrap_or_default())
}

/// One listener of the media path, shared by its shard and its own task.
pub struct Listener {
    out: Mutex<Out>,
    /// Tells the listener's task there is a backlog to drain, or that its socket failed.
    wake: Notify,
    /// Which subscription is current: each move to a layer starts a new one, and a shard
    /// forgets a listener whose entry is not the current one (it moved away, perhaps back).
    subscription: AtomicUsize,
}

impl Listener {
    pub fn new(writer: Writer, cap: usize) -> Listener {
        Listener {
            out: Mutex::new(Out {
                writer: Some(writer),
                queue: VecDeque::new(),
                queued_frames: 0,
                written: 0,
                dropped: 0,
                cap: cap.max(1),
            }),
            wake: Notify::new(),
            subscription: AtomicUsize::new(0),
        }
    }

    fn out(&self) -> MutexGuard<'_, Out> {
        self.out.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues messages that must all arrive (the replay, notices, a pong, a close), past the
    /// backlog's bound, and wakes the task to write them.
    pub fn queue(&self, messages: impl IntoIterator<Item = Bytes>) {
        self.out()
            .queue
            .extend(messages.into_iter().map(|bytes| Chunk { bytes, frames: 0 }));
        self.wake.notify_one();
    }

    /// Offers `frames` framed audio frames from the fan-out: written now when nothing is
    /// waiting and the socket takes them, else added to the backlog. False when the listener
    /// is gone.
    fn offer(&self, bytes: &Bytes, frames: usize) -> bool {
        let mut out = self.out();
        if out.writer.is_none() {
            return false;
        }
        let idle = out.queue.is_empty() && out.dropped == 0;
        out.push(Chunk {
            bytes: bytes.clone(),
            frames,
        });
        if idle {
            // A write with a waker that does nothing is a non-blocking write: when the socket
            // is full, the listener's task takes over and waits with its own waker.
            let mut cx = Context::from_waker(Waker::noop());
            match out.poll_flush(&mut cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(_)) => {
                    out.writer = None;
                    drop(out);
                    self.wake.notify_one();
                    return false;
                }
                Poll::Pending => {
                    metrics::counter!("tonearm_room_media_socket_full_total").increment(1);
                    drop(out);
                    self.wake.notify_one();
                }
            }
        }
        true
    }

    /// Waits until there is a backlog (or a failure) for the task to handle.
    pub async fn backlog(&self) {
        loop {
            {
                let out = self.out();
                if !out.queue.is_empty() || out.dropped > 0 || out.writer.is_none() {
                    return;
                }
            }
            self.wake.notified().await;
        }
    }

    /// Drains the backlog, waiting for the socket as needed.
    pub async fn flush(&self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.out().poll_flush(cx)).await
    }

    /// Ends the listener: nothing more is written, and the connection's write half is dropped.
    pub fn close(&self) -> Option<Writer> {
        let mut out = self.out();
        out.queue.clear();
        out.queued_frames = 0;
        out.writer.take()
    }

    /// Messages waiting.
    #[cfg(test)]
    fn backlog_len(&self) -> usize {
        self.out().queue.len()
    }
}

enum Cmd {
    Frame(Bytes),
    Add(Arc<Listener>, usize),
}

struct Shard {
    tx: mpsc::UnboundedSender<Cmd>,
    /// Listeners it holds (added, not yet forgotten).
    count: Arc<AtomicUsize>,
}

/// One layer's listeners.
pub struct Fanout {
    shards: OnceLock<Vec<Shard>>,
    /// Each shard's pacing to begin with.
    pace: Pace,
}

impl Default for Fanout {
    fn default() -> Fanout {
        Fanout::new()
    }
}

impl Fanout {
    pub fn new() -> Fanout {
        Fanout {
            shards: OnceLock::new(),
            pace: Pace::new(),
        }
    }

    /// A fan-out whose shards begin with `pace` (a test's slow writes, without slow writes).
    #[cfg(test)]
    fn with_pace(pace: Pace) -> Fanout {
        Fanout {
            shards: OnceLock::new(),
            pace,
        }
    }

    /// The shard tasks, started with the first listener (a room nobody listens to over the
    /// media path has none).
    fn shards(&self) -> &[Shard] {
        self.shards.get_or_init(|| {
            let n = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
            (0..n)
                .map(|_| {
                    let (tx, rx) = mpsc::unbounded_channel();
                    let count = Arc::new(AtomicUsize::new(0));
                    // Unconstrained by tokio's cooperative budget: a budgeted task's
                    // writes all return Pending after its first 128 in a poll, and each
                    // such listener would need its own task woken to write the frame.
                    tokio::spawn(tokio::task::unconstrained(run_shard(
                        rx,
                        count.clone(),
                        self.pace,
                    )));
                    Shard { tx, count }
                })
                .collect()
        })
    }

    /// Adds a listener to the least loaded shard, ending its previous subscription (its old
    /// shard forgets it at its next frame). Callers hold the room's relay lock, so the
    /// listener gets exactly the frames sent after its replay.
    pub fn add(&self, listener: Arc<Listener>) {
        let subscription = listener.subscription.fetch_add(1, Ordering::Relaxed) + 1;
        let shards = self.shards();
        if let Some(s) = shards
            .iter()
            .min_by_key(|s| s.count.load(Ordering::Relaxed))
        {
            s.count.fetch_add(1, Ordering::Relaxed);
            let _ = s.tx.send(Cmd::Add(listener, subscription));
        }
    }

    /// Whether any listener may be here (cheap; lets a caller skip framing).
    pub fn has_listeners(&self) -> bool {
        self.shards
            .get()
            .is_some_and(|s| s.iter().any(|s| s.count.load(Ordering::Relaxed) > 0))
    }

    /// Sends framed bytes to every listener of the layer, in order with earlier sends. Never
    /// waits.
    pub fn send(&self, framed: Bytes) {
        if let Some(shards) = self.shards.get() {
            for s in shards {
                if s.count.load(Ordering::Relaxed) > 0 {
                    let _ = s.tx.send(Cmd::Frame(framed.clone()));
                }
            }
        }
    }
}

/// Most frames a shard writes to a listener in one write when it is behind.
const MAX_BATCH: usize = 16;
/// The frame length hosts send (the protocol's 20 ms Opus frames).
const FRAME: Duration = Duration::from_millis(20);
/// The share of the audio's time a shard may spend writing before it gathers frames.
const BUDGET: f64 = 0.6;
/// Most frames a shard gathers into one write (100 ms of audio: it holds the first for at
/// most 80 ms, a fifth of the default room delay).
const MAX_GATHER: usize = 5;

/// How many frames a shard gathers before it writes.
///
/// A write costs about the same whatever it carries: on loopback here, one small write costs
/// ~6–9 µs of kernel TCP work, so a 20 ms frame to 2,500 sockets takes ~20 ms of a core. A
/// shard whose round of writes takes more than [`BUDGET`] of a frame's time therefore gathers
/// frames and writes two or more at once, so a crowd costs a bounded share of the machine
/// instead of all of it (after which everything, joins and other rooms included, falls
/// behind). Small rooms are written frame by frame and wait for nothing. The delay this adds
/// (at most `MAX_GATHER - 1` frames) is in every relay-delay measurement: frames keep their
/// server-receipt time.
#[derive(Debug, Clone, Copy)]
struct Pace {
    /// Time of one round of writes to every listener, smoothed.
    round: Duration,
    /// The length of a host's frame.
    frame: Duration,
}

impl Pace {
    fn new() -> Pace {
        Pace {
            round: Duration::ZERO,
            frame: FRAME,
        }
    }

    /// Folds in how long the latest round took (1/8 weight: a few rounds' memory).
    fn record(&mut self, took: Duration) {
        self.round = (self.round * 7 + took) / 8;
    }

    /// The fewest frames per write that keeps writing within the budget.
    fn frames_per_write(&self) -> usize {
        let k = (self.round.as_secs_f64() / (BUDGET * self.frame.as_secs_f64())).ceil();
        (k as usize).clamp(1, MAX_GATHER)
    }

    /// How long the first of the frames gathered may wait for the rest: their time, and a
    /// quarter frame for the host's jitter. When the host pauses, what was gathered goes out.
    fn hold(&self) -> Duration {
        self.frame * (self.frames_per_write() as u32 - 1) + self.frame / 4
    }
}

/// A shard's state: its listeners and the frames gathered for them.
struct ShardState {
    /// Each with the subscription it was added for.
    listeners: Vec<(Arc<Listener>, usize)>,
    /// Added while frames were gathered: each gets the gathered frames from its index on
    /// (the ones before were in its replay).
    joining: Vec<(Arc<Listener>, usize, usize)>,
    waiting: Vec<Bytes>,
    pace: Pace,
    count: Arc<AtomicUsize>,
}

impl ShardState {
    /// Writes what is waiting to every listener still subscribed here, forgetting the others.
    fn write(&mut self) {
        let began = Instant::now();
        let before = self.listeners.len() + self.joining.len();
        if !self.waiting.is_empty() {
            let bytes = concat(&self.waiting);
            let frames = self.waiting.len();
            self.listeners.retain(|(l, sub)| {
                l.subscription.load(Ordering::Relaxed) == *sub && l.offer(&bytes, frames)
            });
        }
        for (l, sub, from) in self.joining.drain(..) {
            let theirs = &self.waiting[from..];
            if l.subscription.load(Ordering::Relaxed) == sub
                && (theirs.is_empty() || l.offer(&concat(theirs), theirs.len()))
            {
                self.listeners.push((l, sub));
            }
        }
        self.count
            .fetch_sub(before - self.listeners.len(), Ordering::Relaxed);
        if !self.waiting.is_empty() {
            // Frames over rounds is the gathering's average; the round time is why.
            metrics::counter!("tonearm_room_media_rounds_total").increment(1);
            metrics::counter!("tonearm_room_media_round_frames_total")
                .increment(self.waiting.len() as u64);
            self.waiting.clear();
            self.pace.record(began.elapsed());
            metrics::gauge!("tonearm_room_media_round_seconds").set(self.pace.round.as_secs_f64());
        }
    }
}

/// Framed messages as one buffer (shared, not copied, when there is one).
fn concat(frames: &[Bytes]) -> Bytes {
    match frames {
        [one] => one.clone(),
        many => Bytes::from(many.concat()),
    }
}

async fn run_shard(mut rx: mpsc::UnboundedReceiver<Cmd>, count: Arc<AtomicUsize>, pace: Pace) {
    let mut s = ShardState {
        listeners: Vec::new(),
        joining: Vec::new(),
        waiting: Vec::new(),
        pace,
        count,
    };
    // When the frames gathered must go, however few.
    let mut due: Option<tokio::time::Instant> = None;
    loop {
        let first = match due {
            None => rx.recv().await,
            Some(at) => match tokio::time::timeout_at(at, rx.recv()).await {
                Ok(cmd) => cmd,
                // The rest did not come in time (the host paused, or jitter): send what is here.
                Err(_) => {
                    s.write();
                    due = None;
                    continue;
                }
            },
        };
        let Some(first) = first else { break };
        let mut next = Some(first);
        while let Some(cmd) = next {
            match cmd {
                Cmd::Frame(b) => {
                    if s.waiting.is_empty() {
                        due = Some(tokio::time::Instant::now() + s.pace.hold());
                    }
                    s.waiting.push(b);
                    if s.waiting.len() == MAX_BATCH {
                        s.write();
                    }
                }
                // Frames gathered before an add are not the newcomer's (its replay had them).
                Cmd::Add(l, sub) => {
                    if s.waiting.is_empty() {
                        s.listeners.push((l, sub));
                    } else {
                        s.joining.push((l, sub, s.waiting.len()));
                    }
                }
            }
            next = rx.try_recv().ok();
        }
        // Gathered enough, or behind (more waiting than it gathers): write now.
        if s.waiting.len() >= s.pace.frames_per_write() {
            s.write();
        }
        if s.waiting.is_empty() {
            due = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    /// Reads `n` framed messages back from a duplex pipe: (opcode, payload).
    /// `buf` keeps bytes of frames not yet whole between calls.
    async fn read_frames(
        r: &mut tokio::io::DuplexStream,
        buf: &mut Vec<u8>,
        n: usize,
    ) -> Vec<(u8, Vec<u8>)> {
        let mut got = Vec::new();
        loop {
            while got.len() < n {
                let mut cur = io::Cursor::new(&buf[..]);
                let Some((h, len)) =
                    tungstenite::protocol::frame::FrameHeader::parse(&mut cur).unwrap()
                else {
                    break;
                };
                let start = cur.position() as usize;
                let end = start + len as usize;
                if buf.len() < end {
                    break;
                }
                got.push((u8::from(h.opcode), buf[start..end].to_vec()));
                buf.drain(..end);
            }
            if got.len() == n {
                break;
            }
            let mut chunk = [0u8; 4096];
            let k = tokio::time::timeout(std::time::Duration::from_secs(5), r.read(&mut chunk))
                .await
                .expect("data within 5 s")
                .unwrap();
            assert!(k > 0, "pipe closed after {got:?}");
            buf.extend_from_slice(&chunk[..k]);
        }
        got
    }

    /// A listener whose socket takes nothing keeps at most `cap` frames; when it reads again it
    /// gets the frame it was half-way through, a notice of what it lost, and the newest
    /// frames, in order. A listener beside it got every frame meanwhile.
    #[tokio::test]
    async fn a_stuck_listener_drops_its_oldest_frames_and_slows_no_one() {
        let fan = Fanout::new();
        // 64 bytes of pipe: the stuck listener's socket fills during the first frames.
        let (slow_w, mut slow_r) = tokio::io::duplex(64);
        let (fast_w, mut fast_r) = tokio::io::duplex(1 << 20);
        let slow = Arc::new(Listener::new(Box::new(slow_w), 3));
        let fast = Arc::new(Listener::new(Box::new(fast_w), 3));
        fan.add(slow.clone());
        fan.add(fast.clone());
        for i in 0..20u8 {
            fan.send(crate::engine::ws::binary(&[i; 40]));
            // One frame per shard round (this runtime has one thread: the shard runs now).
            tokio::task::yield_now().await;
        }
        let fast_got = read_frames(&mut fast_r, &mut Vec::new(), 20).await;
        assert_eq!(
            fast_got.iter().map(|(_, p)| p[0]).collect::<Vec<_>>(),
            (0..20).collect::<Vec<_>>()
        );
        assert!(slow.backlog_len() <= 3, "bounded: {}", slow.backlog_len());
        // The slow listener's task drains when its socket reads again.
        let drain = tokio::spawn({
            let slow = slow.clone();
            async move {
                slow.backlog().await;
                slow.flush().await
            }
        });
        let mut frames = Vec::new();
        let mut dropped = 0;
        let mut buf = Vec::new();
        while frames.last() != Some(&19) {
            for (op, p) in read_frames(&mut slow_r, &mut buf, 1).await {
                match op {
                    2 => frames.push(p[0]),
                    1 => match serde_json::from_slice::<Notice>(&p).unwrap() {
                        Notice::Dropped { frames } => dropped += frames,
                        other => panic!("unexpected {other:?}"),
                    },
                    other => panic!("opcode {other}"),
                }
            }
        }
        drain.await.unwrap().unwrap();
        assert!(dropped > 0, "the stuck listener was told: {frames:?}");
        assert_eq!(frames.len() as u64 + dropped, 20, "{frames:?} + {dropped}");
        // The cap counts the frame being written: it and the two newest are kept.
        assert!(frames.ends_with(&[18, 19]), "newest kept: {frames:?}");
        assert!(frames.windows(2).all(|w| w[0] < w[1]), "{frames:?}");
    }

    /// Frames waiting when the shard wakes go out in one write, and arrive whole and in order.
    #[tokio::test]
    async fn frames_waiting_together_go_out_together_in_order() {
        let fan = Fanout::new();
        let (w, mut r) = tokio::io::duplex(1 << 20);
        fan.add(Arc::new(Listener::new(Box::new(w), 64)));
        for i in 0..40u8 {
            fan.send(crate::engine::ws::binary(&[i; 100]));
        }
        let got = read_frames(&mut r, &mut Vec::new(), 40).await;
        assert!(got.iter().all(|(op, p)| *op == 2 && p.len() == 100));
        assert_eq!(
            got.iter().map(|(_, p)| p[0]).collect::<Vec<_>>(),
            (0..40).collect::<Vec<_>>()
        );
    }

    /// The backlog's bound counts audio frames, whatever the chunks: a full backlog drops
    /// whole chunks of audio, oldest first, never the one being written and never a notice.
    #[test]
    fn the_bound_counts_frames_and_keeps_notices() {
        let (w, _r) = tokio::io::duplex(1);
        let l = Listener::new(Box::new(w), 4);
        let mut out = l.out();
        let chunk = |tag: u8, frames| Chunk {
            bytes: Bytes::from(vec![tag]),
            frames,
        };
        out.written = 1; // the head is half written
        out.push(chunk(1, 1));
        out.push(chunk(2, 0)); // a pong
        out.push(chunk(3, 2));
        assert_eq!(out.queued_frames, 3);
        out.push(chunk(4, 3)); // 6 > 4: drops 3 (2 frames) after the head, keeps the pong
        let tags: Vec<u8> = out.queue.iter().map(|c| c.bytes[0]).collect();
        assert_eq!(tags, [1, 2, 4]);
        assert_eq!((out.queued_frames, out.dropped), (4, 2));
        out.push(chunk(5, 1)); // drops 4 whole (3 frames); the head stays
        let tags: Vec<u8> = out.queue.iter().map(|c| c.bytes[0]).collect();
        assert_eq!(tags, [1, 2, 5]);
        assert_eq!((out.queued_frames, out.dropped), (2, 5));
    }

    /// A listener that moved to another layer (and back) gets each frame once, from where it
    /// is now; one that left is forgotten.
    #[tokio::test]
    async fn moved_and_closed_listeners_are_forgotten() {
        let (high, low) = (Fanout::new(), Fanout::new());
        let (w, mut r) = tokio::io::duplex(1 << 16);
        let l = Arc::new(Listener::new(Box::new(w), 3));
        high.add(l.clone());
        low.add(l.clone());
        high.add(l.clone());
        for (fan, tag) in [(&high, b'x'), (&low, b'y'), (&high, b'z')] {
            fan.send(crate::engine::ws::binary(&[tag]));
            tokio::task::yield_now().await;
        }
        let mut buf = Vec::new();
        let got = read_frames(&mut r, &mut buf, 2).await;
        assert_eq!(got, [(2, b"x".to_vec()), (2, b"z".to_vec())]);
        assert!(buf.is_empty(), "nothing more: {buf:?}");
        let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while low.has_listeners() {
            assert!(std::time::Instant::now() < until, "the old layer forgot it");
            tokio::task::yield_now().await;
        }
        assert!(l.close().is_some());
        high.send(crate::engine::ws::binary(b"w"));
        while high.has_listeners() {
            assert!(std::time::Instant::now() < until, "closed one forgotten");
            tokio::task::yield_now().await;
        }
    }

    /// A writer that takes everything at once and keeps each write, to see how frames were
    /// grouped into writes.
    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<Vec<u8>>>>);

    impl AsyncWrite for Recorder {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.0.lock().unwrap().push(buf.to_vec());
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    impl Recorder {
        /// Waits (up to 5 s) for `n` writes, and gives each as the tags of the frames in it.
        async fn writes(&self, n: usize) -> Vec<Vec<u8>> {
            let until = std::time::Instant::now() + Duration::from_secs(5);
            while self.0.lock().unwrap().len() < n {
                assert!(std::time::Instant::now() < until, "{n} writes");
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let writes = self.0.lock().unwrap().clone();
            // Each test frame is a 2-byte header and 40 bytes of its tag.
            writes
                .iter()
                .map(|w| {
                    assert_eq!(w.len() % 42, 0, "whole frames: {}", w.len());
                    w.chunks(42).map(|f| f[2]).collect()
                })
                .collect()
        }
    }

    /// Slow rounds of writes mean more frames per write; small rooms wait for nothing.
    #[test]
    fn pace_gathers_more_frames_as_rounds_take_longer() {
        let mut p = Pace::new();
        assert_eq!((p.frames_per_write(), p.hold()), (1, FRAME / 4));
        for _ in 0..100 {
            p.record(Duration::from_millis(2)); // a few hundred listeners here
        }
        assert_eq!(p.frames_per_write(), 1);
        for _ in 0..100 {
            p.record(FRAME.mul_f64(BUDGET * 1.5)); // over budget: two frames at a time
        }
        assert_eq!((p.frames_per_write(), p.hold()), (2, FRAME + FRAME / 4));
        for _ in 0..100 {
            p.record(Duration::from_millis(500)); // hopeless: gathering stops at the cap
        }
        assert_eq!(p.frames_per_write(), MAX_GATHER);
        assert_eq!(p.hold(), FRAME * 4 + FRAME / 4);
    }

    /// A shard that gathers writes the gathered frames to each listener in one write, and a
    /// listener added while frames were gathered gets only the ones after it joined.
    #[tokio::test]
    async fn a_busy_shard_writes_what_it_gathered_at_once() {
        // Rounds 3.2 budgets long (of 10 s frames: nothing here waits for a timer): 4 frames
        // per write, then 3 as the fast round below pulls the average down to 2.8.
        let frame = Duration::from_secs(10);
        let fan = Fanout::with_pace(Pace {
            round: frame.mul_f64(BUDGET * 3.2),
            frame,
        });
        let (a, b) = (Recorder::default(), Recorder::default());
        fan.add(Arc::new(Listener::new(Box::new(a.clone()), 64)));
        let framed = |i: u8| crate::engine::ws::binary(&[i; 40]);
        for i in 1..=4 {
            fan.send(framed(i));
            tokio::task::yield_now().await;
        }
        assert_eq!(a.writes(1).await, [vec![1, 2, 3, 4]]);
        fan.send(framed(5));
        tokio::task::yield_now().await;
        // Put `b` on `a`'s shard: the others get a listener first (each goes to the emptiest).
        for _ in 1..fan.shards().len() {
            fan.add(Arc::new(Listener::new(Box::new(Recorder::default()), 64)));
        }
        fan.add(Arc::new(Listener::new(Box::new(b.clone()), 64)));
        for i in 6..=7 {
            fan.send(framed(i));
            tokio::task::yield_now().await;
        }
        assert_eq!(a.writes(2).await, [vec![1, 2, 3, 4], vec![5, 6, 7]]);
        assert_eq!(b.writes(1).await, [vec![6, 7]]);
    }

    /// What was gathered goes out when no more frames come, after the hold and not before.
    #[tokio::test]
    async fn gathered_frames_go_out_when_the_host_pauses() {
        let frame = Duration::from_millis(40);
        let pace = Pace {
            round: frame.mul_f64(BUDGET * 3.5),
            frame,
        };
        assert_eq!(pace.frames_per_write(), 4);
        let fan = Fanout::with_pace(pace);
        let r = Recorder::default();
        fan.add(Arc::new(Listener::new(Box::new(r.clone()), 64)));
        let sent = std::time::Instant::now();
        fan.send(crate::engine::ws::binary(&[9; 40]));
        assert_eq!(r.writes(1).await, [vec![9]]);
        assert!(sent.elapsed() >= pace.hold(), "held {:?}", sent.elapsed());
    }
}
