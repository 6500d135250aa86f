//! The sync rule every guest follows: the sample captured at server time `T` plays at server
//! time `T + D`, where `D` is the room's delay. Guests that follow it are aligned with each other,
//! not merely "roughly live". A guest whose network cannot deliver frames `D` after capture grows
//! its own `D` (and only its own) instead of playing late or stuttering.

/// Safety margin a frame must arrive ahead of its play time (decode and output take time too).
pub const MARGIN_MS: f64 = 10.0;
/// A grown delay is rounded up to this step, so one slow frame does not nudge it every time.
pub const GROW_STEP_MS: f64 = 10.0;

/// What to do with one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// Play it at this server-clock time.
    Play { at_server_ms: f64 },
    /// It arrived after its play time: skip it.
    Late { by_ms: f64 },
}

/// One guest's playout schedule.
#[derive(Debug, Clone)]
pub struct Playout {
    room_delay_ms: f64,
    delay_ms: f64,
    /// Server time of the join: frames the server received before it are the replay burst,
    /// whose lateness says nothing about the network.
    joined_at_server_ms: f64,
    grown: u32,
}

impl Playout {
    pub fn new(room_delay_ms: f64, joined_at_server_ms: f64) -> Playout {
        Playout {
            room_delay_ms,
            delay_ms: room_delay_ms,
            joined_at_server_ms,
            grown: 0,
        }
    }

    /// Places a frame captured at `timestamp` (server clock), received by the server at
    /// `server_time`, arriving here at `arrival_server_ms` (local arrival mapped to the server
    /// clock).
    pub fn place(&mut self, timestamp: f64, server_time: f64, arrival_server_ms: f64) -> Decision {
        let live = server_time >= self.joined_at_server_ms;
        if live {
            let needed = arrival_server_ms - timestamp + MARGIN_MS;
            if needed > self.delay_ms {
                self.delay_ms = (needed / GROW_STEP_MS).ceil() * GROW_STEP_MS;
                self.grown += 1;
            }
        }
        let at = timestamp + self.delay_ms;
        if at < arrival_server_ms + MARGIN_MS {
            Decision::Late {
                by_ms: arrival_server_ms + MARGIN_MS - at,
            }
        } else {
            Decision::Play { at_server_ms: at }
        }
    }

    /// The delay in force now.
    pub fn delay_ms(&self) -> f64 {
        self.delay_ms
    }

    /// Server time of the join (frames relayed before it are the replay burst).
    pub fn joined_at_server_ms(&self) -> f64 {
        self.joined_at_server_ms
    }

    pub fn room_delay_ms(&self) -> f64 {
        self.room_delay_ms
    }

    /// How many times the delay had to grow.
    pub fn times_grown(&self) -> u32 {
        self.grown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_play_at_capture_plus_delay() {
        let mut p = Playout::new(400.0, 1000.0);
        assert_eq!(
            p.place(1000.0, 1001.0, 1030.0),
            Decision::Play {
                at_server_ms: 1400.0
            }
        );
        assert_eq!(p.times_grown(), 0);
    }

    #[test]
    fn replayed_frames_that_are_past_are_skipped_without_growing() {
        let mut p = Playout::new(400.0, 5000.0);
        // Captured 3 s before the join, relayed from the ring on join.
        let d = p.place(2000.0, 2001.0, 5001.0);
        assert!(matches!(d, Decision::Late { .. }), "{d:?}");
        assert_eq!(p.delay_ms(), 400.0);
    }

    #[test]
    fn a_slow_path_grows_only_this_guests_delay() {
        let mut p = Playout::new(100.0, 0.0);
        // Arrives 145 ms after capture: needs 155 ms, rounded up to 160.
        assert_eq!(
            p.place(1000.0, 1100.0, 1145.0),
            Decision::Play {
                at_server_ms: 1160.0
            }
        );
        assert_eq!(p.delay_ms(), 160.0);
        assert_eq!(p.times_grown(), 1);
        // A faster frame later does not shrink it (guests must not jump around).
        p.place(2000.0, 2001.0, 2010.0);
        assert_eq!(p.delay_ms(), 160.0);
        assert_eq!(p.room_delay_ms(), 100.0);
    }
}

/// Picks a guest's layer from its buffer health: trouble (a frame late or dropped) moves it to
/// the low layer at once; `RECOVER` of clean listening moves it back up. Quick down, slow up, so
/// a flaky link does not flap between layers.
#[derive(Debug, Clone)]
pub struct QualityPolicy {
    current: crate::Quality,
    clean_ms: f64,
}

/// Clean listening needed before trying the high layer again.
pub const RECOVER_MS: f64 = 10_000.0;

impl Default for QualityPolicy {
    fn default() -> Self {
        QualityPolicy {
            current: crate::Quality::High,
            clean_ms: 0.0,
        }
    }
}

impl QualityPolicy {
    pub fn current(&self) -> crate::Quality {
        self.current
    }

    /// Feeds one frame's outcome (`trouble`: it was late, or frames were dropped before it)
    /// and its length; returns the layer to switch to, if it changes.
    pub fn observe(&mut self, trouble: bool, frame_ms: f64) -> Option<crate::Quality> {
        use crate::Quality::{High, Low};
        if trouble {
            self.clean_ms = 0.0;
            if self.current == High {
                self.current = Low;
                return Some(Low);
            }
            return None;
        }
        self.clean_ms += frame_ms;
        if self.current == Low && self.clean_ms >= RECOVER_MS {
            self.current = High;
            self.clean_ms = 0.0;
            return Some(High);
        }
        None
    }
}

#[cfg(test)]
mod quality_tests {
    use super::*;
    use crate::Quality::{High, Low};

    #[test]
    fn trouble_steps_down_at_once_and_clean_time_steps_back_up() {
        let mut q = QualityPolicy::default();
        assert_eq!(q.observe(false, 20.0), None);
        assert_eq!(q.observe(true, 20.0), Some(Low));
        assert_eq!(q.observe(true, 20.0), None, "already low");
        // 9.98 s clean: not yet.
        for _ in 0..499 {
            assert_eq!(q.observe(false, 20.0), None);
        }
        assert_eq!(q.observe(false, 20.0), Some(High));
        assert_eq!(q.current(), High);
        // Trouble during recovery restarts the clock.
        q.observe(true, 20.0);
        for _ in 0..300 {
            q.observe(false, 20.0);
        }
        q.observe(true, 20.0);
        for _ in 0..499 {
            assert_eq!(q.observe(false, 20.0), None);
        }
    }
}
