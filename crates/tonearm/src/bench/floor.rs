//! The machine's floor for room fan-out: the same number of guests, frames of the same size
//! at the same rate, over loopback TCP, with nothing but the writes and the reads (no server,
//! no WebSocket, no rooms). What any server pays on this machine to put a 20 ms frame on N
//! sockets, and a reader to take it off, is the reference the fan-out rows are measured
//! against: the server's relay delay and CPU beside the floor's, in the same run.
//!
//! Writers are one thread per core, each with its share of the sockets (as the server's
//! shards); one reader thread takes every frame (as the load tester's default). Each frame
//! carries the time it was due, so a writer that falls behind shows as delay.

use anyhow::Context;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

/// A frame at 128 kbps as the media path carries it: 320 bytes of Opus, the frame header and
/// the WebSocket header.
pub const FRAME_BYTES: usize = 356;
const FRAME: Duration = Duration::from_millis(20);
/// Before measuring: connections settle, socket buffers grow.
const WARMUP: Duration = Duration::from_secs(1);

/// What the floor measured.
#[derive(Debug)]
pub struct Floor {
    /// Delay from when a frame was due to its arrival, ms.
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// The writers' CPU, % of one core (comparable with the server's).
    pub writer_cpu_percent: f64,
    /// Frames that arrived while measuring, of those due: below 1, the writers could not
    /// keep up.
    pub delivered: f64,
}

/// CPU time of the calling thread (from /proc: user and system ticks, at 100 a second).
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces), which ends at the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// Sends `seconds` of 20 ms frames to `guests` loopback sockets, `per_write` frames a write.
pub fn measure(guests: usize, per_write: usize, seconds: f64) -> anyhow::Result<Floor> {
    let per_write = per_write.max(1);
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let writers = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let mut sending: Vec<Vec<std::net::TcpStream>> = (0..writers).map(|_| Vec::new()).collect();
    let mut receiving = Vec::with_capacity(guests);
    for i in 0..guests {
        let c = std::net::TcpStream::connect(addr)?;
        let (s, _) = listener.accept()?;
        s.set_nodelay(true)?;
        s.set_nonblocking(true)?;
        c.set_nonblocking(true)?;
        sending[i % writers].push(s);
        receiving.push(TcpStream::from_std(c));
    }
    let origin = Instant::now();
    let start = origin + Duration::from_millis(50);
    let measure_from = start + WARMUP;
    let end = measure_from + Duration::from_secs_f64(seconds);
    let reader = std::thread::spawn(move || read(receiving, origin, measure_from, end));
    let writer_threads: Vec<_> = sending
        .into_iter()
        .map(|socks| std::thread::spawn(move || write(socks, per_write, origin, start, end)))
        .collect();
    let mut writer_cpu = Duration::ZERO;
    for w in writer_threads {
        writer_cpu += w.join().ok().context("floor writer")?;
    }
    let mut delays = reader.join().ok().context("floor reader")??;
    delays.sort_by(f32::total_cmp);
    let q = |p: f64| {
        delays
            .get(((delays.len().max(1) - 1) as f64 * p) as usize)
            .map_or(f64::NAN, |&d| f64::from(d))
    };
    let due = guests as f64 * seconds / FRAME.as_secs_f64();
    Ok(Floor {
        p50_ms: q(0.5),
        p99_ms: q(0.99),
        max_ms: q(1.0),
        writer_cpu_percent: writer_cpu.as_secs_f64() / (end - start).as_secs_f64() * 100.0,
        delivered: delays.len() as f64 / due,
    })
}

/// One writer: a frame is due every 20 ms; every `per_write` of them go to each socket in one
/// write. Returns the thread's CPU time.
fn write(
    socks: Vec<std::net::TcpStream>,
    per_write: usize,
    origin: Instant,
    start: Instant,
    end: Instant,
) -> Duration {
    let cpu = thread_cpu();
    let mut socks: Vec<Option<std::net::TcpStream>> = socks.into_iter().map(Some).collect();
    let mut buf = vec![0u8; FRAME_BYTES * per_write];
    let mut gathered = 0;
    for tick in 0u32.. {
        let due = start + FRAME * tick;
        // Past the end, frames gathered still go (they may be due before it).
        if due >= end && gathered == 0 {
            break;
        }
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let stamp = (due - origin).as_nanos() as u64;
        buf[gathered * FRAME_BYTES..][..8].copy_from_slice(&stamp.to_le_bytes());
        gathered += 1;
        if gathered < per_write {
            continue;
        }
        gathered = 0;
        for s in &mut socks {
            // A socket that cannot take the write loses it (the floor does not queue); one
            // that took part of it is broken and closed.
            if let Some(sock) = s {
                if matches!(sock.write(&buf), Ok(n) if n > 0 && n < buf.len()) {
                    *s = None;
                }
            }
        }
    }
    thread_cpu().saturating_sub(cpu)
    // The sockets close here: the reader sees each end.
}

/// Most a reader waits for the writers to finish and close, past the end.
const READ_LIMIT: Duration = Duration::from_secs(60);

/// The reader, until every socket has closed: each frame's delay (ms) from when it was due,
/// for frames due while measuring.
fn read(
    mut socks: Vec<TcpStream>,
    origin: Instant,
    from: Instant,
    to: Instant,
) -> anyhow::Result<Vec<f32>> {
    let mut poll = Poll::new()?;
    for (i, s) in socks.iter_mut().enumerate() {
        poll.registry().register(s, Token(i), Interest::READABLE)?;
    }
    let (from_ns, to_ns) = ((from - origin).as_nanos(), (to - origin).as_nanos());
    // Bytes of a frame not yet whole, per socket.
    let mut partial: Vec<Vec<u8>> = vec![Vec::new(); socks.len()];
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 64 * 1024];
    let mut delays = Vec::new();
    let mut open = socks.len();
    let mut ended = vec![false; socks.len()];
    while open > 0 {
        anyhow::ensure!(to.elapsed() < READ_LIMIT, "floor writers did not finish");
        poll.poll(&mut events, Some(Duration::from_millis(100)))?;
        for e in events.iter() {
            let i = e.token().0;
            while !ended[i] {
                let n = match socks[i].read(&mut buf) {
                    Ok(n) if n > 0 => n,
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    // Closed by its writer (or broken): nothing more comes.
                    _ => {
                        ended[i] = true;
                        open -= 1;
                        break;
                    }
                };
                let now = origin.elapsed().as_nanos();
                let p = &mut partial[i];
                p.extend_from_slice(&buf[..n]);
                let whole = p.len() / FRAME_BYTES * FRAME_BYTES;
                for f in p[..whole].chunks_exact(FRAME_BYTES) {
                    let mut stamp = [0u8; 8];
                    stamp.copy_from_slice(&f[..8]);
                    let due = u128::from(u64::from_le_bytes(stamp));
                    if (from_ns..to_ns).contains(&due) {
                        delays.push((now.saturating_sub(due)) as f32 / 1e6);
                    }
                }
                p.drain(..whole);
            }
        }
    }
    Ok(delays)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_every_frame_came(f: &Floor) {
        assert!((f.delivered - 1.0).abs() < 1e-9, "delivered: {f:?}");
    }

    /// A handful of guests is far below this machine's floor: every frame arrives, in about
    /// the time the writer took to be scheduled.
    #[test]
    fn a_small_floor_delivers_every_frame() {
        let f = measure(4, 1, 0.5).unwrap();
        assert_every_frame_came(&f);
        assert!(f.p50_ms >= 0.0 && f.p50_ms <= f.p99_ms && f.p99_ms <= f.max_ms);
    }

    /// Gathering two frames a write holds the first of each pair for a frame's time.
    #[test]
    fn gathered_frames_carry_their_wait() {
        let f = measure(2, 2, 0.5).unwrap();
        assert_every_frame_came(&f);
        assert!(f.max_ms >= 20.0, "the first of a pair waited: {f:?}");
    }
}
