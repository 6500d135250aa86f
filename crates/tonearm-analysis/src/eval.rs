//! Judging estimates against known answers, as the MIREX tempo and key tasks do; shared by the
//! tests and `make bench` so both count the same way.

use crate::key::Key;

/// How a tempo estimate relates to the true tempo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TempoVerdict {
    /// Within 4 % (Acc1).
    Correct,
    /// Within 4 % of 2×, ½×, 3× or ⅓× the tempo (counts for Acc2 only).
    Octave,
    Wrong,
}

/// Acc1 / Acc2 tolerance.
pub const TEMPO_TOLERANCE: f64 = 0.04;

pub fn tempo_verdict(estimate: Option<f64>, truth: f64) -> TempoVerdict {
    let Some(e) = estimate else {
        return TempoVerdict::Wrong;
    };
    let near = |f: f64| (e / (truth * f) - 1.0).abs() <= TEMPO_TOLERANCE;
    if near(1.0) {
        TempoVerdict::Correct
    } else if [2.0, 0.5, 3.0, 1.0 / 3.0].into_iter().any(near) {
        TempoVerdict::Octave
    } else {
        TempoVerdict::Wrong
    }
}

/// How a key estimate relates to the true key (the MIREX categories).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyVerdict {
    Correct,
    /// A fifth above or below, same mode.
    Fifth,
    /// The relative major/minor (same key signature).
    Relative,
    /// Same tonic, other mode.
    Parallel,
    Wrong,
}

pub fn key_verdict(estimate: Option<Key>, tonic: u8, minor: bool) -> KeyVerdict {
    let Some(k) = estimate else {
        return KeyVerdict::Wrong;
    };
    let diff = (k.tonic + 12 - tonic % 12) % 12;
    if k.minor == minor {
        match diff {
            0 => KeyVerdict::Correct,
            5 | 7 => KeyVerdict::Fifth,
            _ => KeyVerdict::Wrong,
        }
    } else if diff == 0 {
        KeyVerdict::Parallel
    } else if (minor && diff == 3) || (!minor && diff == 9) {
        KeyVerdict::Relative
    } else {
        KeyVerdict::Wrong
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        assert_eq!(tempo_verdict(Some(121.0), 120.0), TempoVerdict::Correct);
        assert_eq!(tempo_verdict(Some(241.0), 120.0), TempoVerdict::Octave);
        assert_eq!(tempo_verdict(Some(61.0), 120.0), TempoVerdict::Octave);
        assert_eq!(tempo_verdict(Some(90.0), 120.0), TempoVerdict::Wrong);
        assert_eq!(tempo_verdict(None, 120.0), TempoVerdict::Wrong);
        let k = |tonic, minor| {
            Some(Key {
                tonic,
                minor,
                strength: 0.0,
            })
        };
        assert_eq!(key_verdict(k(9, true), 9, true), KeyVerdict::Correct);
        assert_eq!(key_verdict(k(0, false), 9, true), KeyVerdict::Relative);
        assert_eq!(key_verdict(k(9, true), 0, false), KeyVerdict::Relative);
        assert_eq!(key_verdict(k(7, false), 0, false), KeyVerdict::Fifth);
        assert_eq!(key_verdict(k(0, true), 0, false), KeyVerdict::Parallel);
        assert_eq!(key_verdict(k(1, false), 0, false), KeyVerdict::Wrong);
    }
}
