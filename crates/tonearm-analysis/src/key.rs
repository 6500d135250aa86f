//! Key and mode from the mean chroma: the Krumhansl–Kessler probe-tone profiles, rotated to each
//! of the 12 tonics, compared with the track's pitch-class distribution by correlation.

use crate::params::N_CHROMA;
use serde::{Deserialize, Serialize};

/// Krumhansl & Kessler (1982): how well each pitch class fits a major or minor key (tonic first).
const MAJOR: [f64; 12] = [
    6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88,
];
const MINOR: [f64; 12] = [
    6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17,
];

/// Pitch-class names, sharps only (as the API and the filters spell them).
pub const PITCH_CLASSES: [&str; 12] = [
    "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
];

/// A key: its tonic pitch class (0 = C), its mode and how clearly the music says so.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Key {
    pub tonic: u8,
    pub minor: bool,
    /// Correlation of the chroma with the key's profile (−1 … 1; music is usually 0.5 … 0.9).
    pub strength: f64,
}

impl Key {
    /// "A minor", "F# major".
    pub fn name(&self) -> String {
        format!(
            "{} {}",
            PITCH_CLASSES[self.tonic as usize % 12],
            if self.minor { "minor" } else { "major" }
        )
    }

    /// The Camelot wheel code DJs use ("8A" = A minor, "8B" = C major).
    pub fn camelot(&self) -> String {
        // Major keys: C = 8B, each fifth up adds one. Minor keys share the number of their
        // relative major (three semitones up).
        let major_tonic = if self.minor {
            (self.tonic + 3) % 12
        } else {
            self.tonic
        };
        let fifths = (major_tonic as u32 * 7) % 12; // C=0, G=1, D=2, …
        let number = (fifths + 7) % 12 + 1;
        format!("{number}{}", if self.minor { 'A' } else { 'B' })
    }

    /// Parses "A minor", "Am", "A min", "F# major", "F#", "Gb major", or a Camelot code.
    pub fn parse(text: &str) -> Option<Key> {
        let t = text.trim();
        let lower = t.to_ascii_lowercase();
        if let Some(k) = parse_camelot(&lower) {
            return Some(k);
        }
        let mut chars = t.chars();
        let letter = chars.next()?.to_ascii_uppercase();
        let base = match letter {
            'C' => 0,
            'D' => 2,
            'E' => 4,
            'F' => 5,
            'G' => 7,
            'A' => 9,
            'B' => 11,
            _ => return None,
        };
        let rest: String = chars.collect();
        let (shift, rest) = if let Some(r) = rest.strip_prefix('#').or(rest.strip_prefix('♯')) {
            (1, r)
        } else if let Some(r) = rest.strip_prefix('b').or(rest.strip_prefix('♭')) {
            (11, r)
        } else {
            (0, rest.as_str())
        };
        let mode = rest.trim().to_ascii_lowercase();
        let minor = match mode.as_str() {
            "" | "maj" | "major" => false,
            "m" | "min" | "minor" => true,
            _ => return None,
        };
        Some(Key {
            tonic: (base + shift) % 12,
            minor,
            strength: 0.0,
        })
    }
}

fn parse_camelot(t: &str) -> Option<Key> {
    let last = t.chars().last()?;
    let (num, letter) = t.split_at(t.len() - last.len_utf8());
    let number: u32 = num.parse().ok().filter(|n| (1..=12).contains(n))?;
    let minor = match letter {
        "a" => true,
        "b" => false,
        _ => return None,
    };
    let fifths = (number + 12 - 8) % 12;
    let major_tonic = (fifths * 7) % 12;
    let tonic = if minor {
        (major_tonic + 9) % 12
    } else {
        major_tonic
    } as u8;
    Some(Key {
        tonic,
        minor,
        strength: 0.0,
    })
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma).powi(2);
        sbb += (y - mb).powi(2);
    }
    if saa <= 0.0 || sbb <= 0.0 {
        0.0
    } else {
        sab / (saa * sbb).sqrt()
    }
}

/// The best-fitting key of a pitch-class distribution, or `None` when it is flat (noise,
/// silence, unpitched sound).
pub fn estimate(chroma: &[f32; N_CHROMA]) -> Option<Key> {
    let c: Vec<f64> = chroma.iter().map(|&v| v as f64).collect();
    let max = c.iter().copied().fold(0.0, f64::max);
    let min = c.iter().copied().fold(f64::MAX, f64::min);
    if max <= 0.0 || (max - min) / max < 0.05 {
        return None;
    }
    let mut best: Option<Key> = None;
    for tonic in 0..12u8 {
        for (minor, profile) in [(false, &MAJOR), (true, &MINOR)] {
            let rotated: Vec<f64> = (0..12)
                .map(|i| profile[(i + 12 - tonic as usize) % 12])
                .collect();
            let r = pearson(&c, &rotated);
            if best.is_none_or(|b| r > b.strength) {
                best = Some(Key {
                    tonic,
                    minor,
                    strength: r,
                });
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_camelot_codes_round_trip() {
        for tonic in 0..12 {
            for minor in [false, true] {
                let k = Key {
                    tonic,
                    minor,
                    strength: 0.0,
                };
                assert_eq!(Key::parse(&k.name()), Some(k), "{}", k.name());
                assert_eq!(Key::parse(&k.camelot()), Some(k), "{}", k.camelot());
            }
        }
        let c = Key::parse("C major").unwrap();
        assert_eq!(c.camelot(), "8B");
        assert_eq!(Key::parse("Am").unwrap().camelot(), "8A");
        assert_eq!(Key::parse("Gb").unwrap().name(), "F# major");
        assert!(Key::parse("H minor").is_none() && Key::parse("13A").is_none());
        assert!(
            Key::parse("C♯").is_some() && Key::parse("").is_none() && Key::parse("8♯").is_none()
        );
    }

    #[test]
    fn a_scale_profile_finds_its_key() {
        // The notes of D major, tonic and fifth stressed.
        let mut c = [0f32; 12];
        for (pc, w) in [
            (2, 1.0),
            (4, 0.5),
            (6, 0.7),
            (7, 0.5),
            (9, 0.9),
            (11, 0.5),
            (1, 0.4),
        ] {
            c[pc] = w;
        }
        let k = estimate(&c).unwrap();
        assert_eq!(k.name(), "D major");
        assert!(estimate(&[0.5; 12]).is_none());
    }
}
