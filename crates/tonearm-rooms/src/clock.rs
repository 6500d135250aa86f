//! Clock sync, NTP style: a client stamps `time:ping` with its clock, the server answers with
//! its receive and send times, and the client keeps the offset of the exchanges with the lowest
//! round trip (the ones least disturbed by queueing).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A client's own clock in epoch milliseconds: monotonic (read from `Instant`, so a wall-clock
/// step mid-session cannot jump playout), anchored to the wall clock once. `skew_ms` shifts it,
/// so tests can act out a device whose clock is wrong.
#[derive(Debug, Clone, Copy)]
pub struct LocalClock {
    base: Instant,
    base_ms: f64,
}

impl LocalClock {
    pub fn new(skew_ms: f64) -> LocalClock {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64()
            * 1000.0;
        LocalClock {
            base: Instant::now(),
            base_ms: wall + skew_ms,
        }
    }

    pub fn now_ms(&self) -> f64 {
        self.at(Instant::now())
    }

    /// The clock's reading at `t`.
    pub fn at(&self, t: Instant) -> f64 {
        self.base_ms + t.saturating_duration_since(self.base).as_secs_f64() * 1000.0
            - self.base.saturating_duration_since(t).as_secs_f64() * 1000.0
    }

    /// The `Instant` at which the clock reads `ms` (for sleeping until a scheduled time).
    pub fn instant_at(&self, ms: f64) -> Instant {
        let d = ms - self.base_ms;
        if d >= 0.0 {
            self.base + Duration::from_secs_f64(d / 1000.0)
        } else {
            self.base
                .checked_sub(Duration::from_secs_f64(-d / 1000.0))
                .unwrap_or(self.base)
        }
    }
}

/// One ping/pong exchange.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// server clock − local clock, ms.
    pub offset_ms: f64,
    /// Round trip minus the server's own processing time, ms.
    pub rtt_ms: f64,
}

impl Sample {
    /// From the four times of an exchange: local send, server receive, server send, local
    /// receive.
    pub fn from_exchange(t0: f64, s_recv: f64, s_send: f64, t1: f64) -> Sample {
        Sample {
            offset_ms: ((s_recv - t0) + (s_send - t1)) / 2.0,
            rtt_ms: ((t1 - t0) - (s_send - s_recv)).max(0.0),
        }
    }
}

/// The current estimate of the server clock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub offset_ms: f64,
    /// The round trip of the samples the estimate rests on.
    pub rtt_ms: f64,
}

/// Keeps recent samples and estimates from the best of them.
#[derive(Debug, Default, Clone)]
pub struct ClockSync {
    samples: Vec<Sample>,
}

/// Samples remembered (older ones fall out, so the estimate follows drift).
const WINDOW: usize = 64;

impl ClockSync {
    pub fn add(&mut self, s: Sample) {
        if self.samples.len() == WINDOW {
            self.samples.remove(0);
        }
        self.samples.push(s);
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The median offset of the lowest-RTT quarter of the samples (at least one).
    pub fn estimate(&self) -> Option<Estimate> {
        let mut best: Vec<Sample> = self.samples.clone();
        if best.is_empty() {
            return None;
        }
        best.sort_by(|a, b| a.rtt_ms.total_cmp(&b.rtt_ms));
        best.truncate((best.len() / 4).max(1));
        let rtt_ms = best.iter().map(|s| s.rtt_ms).sum::<f64>() / best.len() as f64;
        best.sort_by(|a, b| a.offset_ms.total_cmp(&b.offset_ms));
        let offset_ms = best[best.len() / 2].offset_ms;
        Some(Estimate { offset_ms, rtt_ms })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exchange_gives_offset_and_rtt() {
        // Server is 1000 ms ahead; 10 ms each way; 2 ms in the server.
        let s = Sample::from_exchange(0.0, 1010.0, 1012.0, 22.0);
        assert_eq!(s.offset_ms, 1000.0);
        assert_eq!(s.rtt_ms, 20.0);
        // Asymmetric paths bias the offset by half the asymmetry.
        let s = Sample::from_exchange(0.0, 1030.0, 1030.0, 40.0);
        assert_eq!(s.offset_ms, 1010.0);
    }

    #[test]
    fn the_estimate_trusts_the_fastest_exchanges() {
        let mut c = ClockSync::default();
        assert!(c.estimate().is_none());
        for i in 0..12 {
            // Slow exchanges are badly biased; the three fast ones agree.
            let (off, rtt) = if i % 4 == 0 {
                (500.0 + i as f64 * 0.01, 1.0)
            } else {
                (900.0, 80.0)
            };
            c.add(Sample {
                offset_ms: off,
                rtt_ms: rtt,
            });
        }
        let e = c.estimate().unwrap();
        assert!((e.offset_ms - 500.04).abs() < 1e-9, "{e:?}");
        assert_eq!(e.rtt_ms, 1.0);
    }

    #[test]
    fn the_local_clock_maps_both_ways() {
        let c = LocalClock::new(-1234.0);
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
            * 1000.0;
        assert!((c.now_ms() - (wall - 1234.0)).abs() < 50.0);
        let t = Instant::now() + Duration::from_millis(250);
        let back = c.instant_at(c.at(t));
        let diff = if back > t { back - t } else { t - back };
        assert!(diff < Duration::from_micros(5), "{diff:?}");
    }
}
