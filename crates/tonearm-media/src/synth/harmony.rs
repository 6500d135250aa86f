//! Chord progressions in a known key: material a musician would label "A minor" at a glance,
//! so a key test can expect exactly the key it asked for.
//!
//! A piece opens and closes on the tonic chord, and in between cycles one of the textbook
//! progressions of its mode, one chord per 4/4 bar. Chords sound on an additive electric-piano
//! voice over a bass note on the root; the seed picks the progression, the register, each
//! chord's inversion and the comping rhythm.

use std::f64::consts::TAU;

use super::rng::Rng;
use super::{fade_out, frames_for, midi_hz, mono_normalized, Pcm, PEAK};

/// Pitch-class names, sharps only.
const NAMES: [&str; 12] = [
    "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
];

/// "C major", "F# minor": `tonic` is a pitch class (0 = C ... 11 = B), taken mod 12.
pub fn key_name(tonic: u8, minor: bool) -> String {
    let mode = if minor { "minor" } else { "major" };
    format!("{} {mode}", NAMES[tonic as usize % 12])
}

/// A triad on a scale degree: its root in semitones above the tonic and the quality of its
/// third. Fifths are all perfect, since the progressions below use no diminished chord.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Triad {
    root: u8,
    minor: bool,
}

impl Triad {
    /// Root, third and fifth in semitones above the root.
    fn intervals(self) -> [u8; 3] {
        [0, if self.minor { 3 } else { 4 }, 7]
    }

    /// Its three pitch classes in the key on `tonic`, root first.
    pub(crate) fn pitch_classes(self, tonic: u8) -> [u8; 3] {
        self.intervals().map(|i| (tonic + self.root + i) % 12)
    }
}

/// Roman numerals, upper case major and lower case minor, as harmony is written.
#[allow(non_upper_case_globals)]
mod numeral {
    use super::Triad;

    const fn major(root: u8) -> Triad {
        Triad { root, minor: false }
    }
    const fn minor(root: u8) -> Triad {
        Triad { root, minor: true }
    }

    pub const I: Triad = major(0);
    pub const ii: Triad = minor(2);
    pub const IV: Triad = major(5);
    /// Also the minor keys' dominant: the harmonic minor's, with the raised leading tone.
    pub const V: Triad = major(7);
    pub const vi: Triad = minor(9);
    pub const i: Triad = minor(0);
    pub const III: Triad = major(3);
    pub const iv: Triad = minor(5);
    pub const VI: Triad = major(8);
    pub const VII: Triad = major(10);

    pub const MAJOR: [[Triad; 4]; 4] =
        [[I, IV, V, I], [I, vi, IV, V], [I, V, vi, IV], [ii, V, I, I]];
    pub const MINOR: [[Triad; 4]; 4] = [
        [i, iv, V, i],
        [i, VI, III, VII],
        [i, iv, VII, III],
        [i, VI, iv, V],
    ];
}

/// A voiced chord: the triad's notes as MIDI numbers and the bass note under it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Chord {
    pub(crate) triad: Triad,
    pub(crate) voicing: [u8; 3],
    pub(crate) bass: u8,
}

/// One chord per bar for `bars` bars: the tonic, the seed's progression cycled, and the tonic
/// again in the last bar, so the piece both opens and closes on the key's home chord (a
/// progression that already starts on it is not preceded by a second one).
pub(crate) fn chord_plan(tonic: u8, minor: bool, bars: usize, rng: &mut Rng) -> Vec<Chord> {
    let (home, progressions) = if minor {
        (numeral::i, &numeral::MINOR)
    } else {
        (numeral::I, &numeral::MAJOR)
    };
    let progression = progressions[rng.below(progressions.len())];
    let lead = (progression[0] != home).then_some(home);
    let mut triads: Vec<Triad> = lead
        .into_iter()
        .chain(progression.into_iter().cycle())
        .take(bars.saturating_sub(1))
        .collect();
    triads.push(home);
    // Chord roots in the octave from C3 or from C4, for the whole piece.
    let register = 48 + 12 * rng.below(2) as u8;
    triads
        .into_iter()
        .map(|triad| {
            let root = triad.pitch_classes(tonic % 12)[0];
            let mut voicing = triad.intervals().map(|i| register + root + i);
            // Inversion: the lowest 0, 1 or 2 notes go up an octave.
            for note in voicing.iter_mut().take(rng.below(3)) {
                *note += 12;
            }
            // The bass is the root in the octave from C2, one to two octaves under the chord.
            Chord {
                triad,
                voicing,
                bass: 36 + root,
            }
        })
        .collect()
}

/// Bars of 4/4 that best fill `frames`: whole bars, the last of them stretched or cut by at
/// most half a bar.
pub(crate) fn bar_count(frames: usize, frames_per_beat: f64) -> usize {
    ((frames as f64 / (4.0 * frames_per_beat)).round() as usize).max(1)
}

/// An additive voice: harmonic partials, each decaying at its own rate (higher ones faster, as
/// on a struck tine or string), under an attack ramp and a 30 ms release.
pub(crate) struct Voice {
    /// Levels of partials 1, 2, 3...
    partials: &'static [f64],
    attack: f64,
    /// Decay rate of the fundamental, per second; partial `k` (from 0) adds `k * brightness`.
    decay: f64,
    brightness: f64,
}

/// An electric piano: bright at the strike, mellowing as the upper partials die away.
pub(crate) const PIANO: Voice = Voice {
    partials: &[1.0, 0.45, 0.22, 0.12, 0.06, 0.035],
    attack: 0.004,
    decay: 1.6,
    brightness: 1.2,
};

/// A pad: a slow swell that barely decays.
pub(crate) const PAD: Voice = Voice {
    partials: &[1.0, 0.35, 0.15, 0.08],
    attack: 0.12,
    decay: 0.15,
    brightness: 0.3,
};

/// A plucked bass.
pub(crate) const BASS: Voice = Voice {
    partials: &[1.0, 0.5, 0.18, 0.07],
    attack: 0.005,
    decay: 2.5,
    brightness: 2.0,
};

impl Voice {
    /// Adds note `midi` at frame `at`, held `hold` frames and then released. Partials at or
    /// above 0.45 × the sample rate are left out rather than aliased.
    pub(crate) fn play(
        &self,
        dst: &mut [f64],
        at: usize,
        hold: usize,
        midi: u8,
        gain: f64,
        sr: f64,
    ) {
        let release = (0.03 * sr).round() as usize;
        let end = (at + hold + release).min(dst.len());
        let Some(out) = dst.get_mut(at..end) else {
            return;
        };
        let envelope = |i: usize| {
            let attack = (i as f64 / sr / self.attack).min(1.0);
            let released = i.saturating_sub(hold) as f64 / release as f64;
            attack * (1.0 - released).max(0.0)
        };
        let f = midi_hz(midi);
        for (k, &level) in self.partials.iter().enumerate() {
            let fk = f * (k + 1) as f64;
            if fk >= 0.45 * sr {
                break;
            }
            let step = (-(self.decay + self.brightness * k as f64) / sr).exp();
            let mut amp = gain * level;
            for (i, o) in out.iter_mut().enumerate() {
                *o += amp * envelope(i) * (TAU * fk * i as f64 / sr).sin();
                amp *= step;
            }
        }
    }
}

/// A mono chord progression in the key of `tonic` (pitch class, 0 = C ... 11 = B) major or
/// (harmonic-dominant) minor, one chord per bar of 4/4 at `bpm`, peak normalized to 0.8.
///
/// The piano comps the chord in whole, half or quarter notes (the seed's choice) over the
/// root in the bass, one note a bar; the final tonic rings out to the end.
pub fn key_progression(
    tonic: u8,
    minor: bool,
    bpm: f64,
    seconds: f64,
    sample_rate: u32,
    seed: u64,
) -> Pcm {
    assert!(bpm > 0.0 && bpm.is_finite(), "bpm must be positive");
    let frames = frames_for(seconds, sample_rate);
    let sr = sample_rate as f64;
    let beat = 60.0 / bpm * sr;
    let bars = bar_count(frames, beat);
    let mut rng = Rng::new(seed);
    let plan = chord_plan(tonic, minor, bars, &mut rng);
    let comp: &[usize] = [&[0][..], &[0, 2], &[0, 1, 2, 3]][rng.below(3)];
    let frame = |beats: usize| (beats as f64 * beat).round() as usize;

    // (frame, chord) of every strike, the last bars' all on the final tonic.
    let strikes: Vec<(usize, &Chord)> = (0..)
        .flat_map(|bar: usize| comp.iter().map(move |&b| (bar, bar * 4 + b)))
        .map(|(bar, b)| (frame(b), &plan[bar.min(bars - 1)]))
        .take_while(|&(at, _)| at < frames)
        .collect();
    let mut mix = vec![0.0; frames];
    for (j, &(at, chord)) in strikes.iter().enumerate() {
        let next = strikes.get(j + 1).map_or(frames, |&(next, _)| next);
        for &note in &chord.voicing {
            PIANO.play(&mut mix, at, next - at, note, 1.0, sr);
        }
    }
    for bar in (0..).take_while(|&bar| frame(bar * 4) < frames) {
        let (at, next) = (frame(bar * 4), frame(bar * 4 + 4).min(frames));
        BASS.play(
            &mut mix,
            at,
            next - at,
            plan[bar.min(bars - 1)].bass,
            1.5,
            sr,
        );
    }
    fade_out(&mut mix, (0.05 * sr) as usize);
    mono_normalized(&mix, sample_rate, PEAK)
}

/// The length of each [`KeyCase`].
pub const KEY_CASE_SECONDS: f64 = 15.0;

/// One case of the key evaluation set: [`key_progression`] with these arguments, lasting
/// [`KEY_CASE_SECONDS`]. The right answer is `key_name(tonic, minor)`.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyCase {
    pub name: String,
    pub tonic: u8,
    pub minor: bool,
    pub bpm: f64,
    pub seed: u64,
}

impl KeyCase {
    pub fn render(&self, sample_rate: u32) -> Pcm {
        key_progression(
            self.tonic,
            self.minor,
            self.bpm,
            KEY_CASE_SECONDS,
            sample_rate,
            self.seed,
        )
    }
}

/// Tempos the key cases cycle through: the key must not depend on them.
const KEY_BPMS: [f64; 7] = [66.0, 78.0, 90.0, 100.0, 112.0, 126.0, 140.0];

/// The key evaluation set: all 24 keys, two seeds each (48 cases, 15 s each).
pub fn key_set() -> Vec<KeyCase> {
    (0..12u8)
        .flat_map(|tonic| [false, true].map(|minor| (tonic, minor)))
        .flat_map(|(tonic, minor)| [0, 1].map(|take| (tonic, minor, take)))
        .enumerate()
        .map(|(n, (tonic, minor, take))| {
            let bpm = KEY_BPMS[n % KEY_BPMS.len()];
            KeyCase {
                name: format!("{} #{take} ({bpm} bpm)", key_name(tonic, minor)),
                tonic,
                minor,
                bpm,
                seed: 2000 + n as u64,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_use_sharps() {
        assert_eq!(key_name(0, false), "C major");
        assert_eq!(key_name(6, true), "F# minor");
        assert_eq!(key_name(10, false), "A# major");
        assert_eq!(key_name(11, true), "B minor");
        assert_eq!(key_name(13, false), "C# major");
    }

    #[test]
    fn plans_open_and_close_on_the_tonic_and_stay_in_the_key() {
        for seed in 0..40 {
            for minor in [false, true] {
                let home = if minor { numeral::i } else { numeral::I };
                let allowed: &[u8] = if minor {
                    &[0, 2, 3, 5, 7, 8, 10, 11]
                } else {
                    &[0, 2, 4, 5, 7, 9, 11]
                };
                for bars in [1, 2, 5, 8, 13] {
                    let plan = chord_plan(3, minor, bars, &mut Rng::new(seed));
                    assert_eq!(plan.len(), bars);
                    assert_eq!((plan[0].triad, plan[bars - 1].triad), (home, home));
                    for c in &plan {
                        assert!(c.voicing.iter().all(|&m| (48..=90).contains(&m)));
                        let pcs = c.voicing.map(|m| m % 12);
                        assert!(pcs.iter().all(|&pc| allowed.contains(&((pc + 9) % 12))));
                        assert_eq!(c.bass % 12, c.triad.pitch_classes(3)[0]);
                        assert!(c.voicing.iter().all(|&m| m >= c.bass + 12));
                    }
                }
            }
        }
    }

    #[test]
    fn progressions_are_seeded_exact_length_and_normalized() {
        let a = key_progression(9, true, 97.0, 5.0, 16_000, 4);
        assert_eq!((a.frames(), a.channels), (80_000, 1));
        assert_eq!(a, key_progression(9, true, 97.0, 5.0, 16_000, 4));
        assert_ne!(a, key_progression(9, true, 97.0, 5.0, 16_000, 5));
        assert!(a.samples.iter().all(|s| s.is_finite()));
        let peak = a.samples.iter().fold(0f32, |m, s| m.max(s.abs()));
        assert!((peak - 0.8).abs() < 1e-4, "peak {peak}");
        assert_eq!(*a.samples.last().unwrap(), 0.0, "faded out");
        assert_eq!(
            key_progression(0, false, 120.0, 0.3, 8000, 1).frames(),
            2400
        );
    }

    /// Energy per pitch class: Goertzel power at the equal-tempered notes C3..C6 in Hann-windowed
    /// half-second frames, summed (per frame, so repeated notes add rather than interfere).
    fn chroma(pcm: &Pcm) -> [f64; 12] {
        let sr = pcm.sample_rate as f64;
        let len = (0.5 * sr) as usize;
        let hann: Vec<f64> = (0..len)
            .map(|n| 0.5 - 0.5 * (TAU * n as f64 / len as f64).cos())
            .collect();
        let mut energy = [0.0; 12];
        for frame in pcm.samples.chunks_exact(len) {
            for midi in 48..=84u8 {
                let c = 2.0 * (TAU * midi_hz(midi) / sr).cos();
                let (mut s1, mut s2) = (0.0, 0.0);
                for (&x, w) in frame.iter().zip(&hann) {
                    (s1, s2) = (x as f64 * w + c * s1 - s2, s1);
                }
                energy[midi as usize % 12] += s1 * s1 + s2 * s2 - c * s1 * s2;
            }
        }
        energy
    }

    /// Nearly all the energy is on the scale (in minor, the natural minor plus the leading tone
    /// the dominant raises), and the tonic is among the three strongest pitch classes.
    #[test]
    fn energy_sits_on_the_scale() {
        for tonic in 0..12u8 {
            for minor in [false, true] {
                let degrees: &[u8] = if minor {
                    &[0, 2, 3, 5, 7, 8, 10, 11]
                } else {
                    &[0, 2, 4, 5, 7, 9, 11]
                };
                let key = key_name(tonic, minor);
                let pcm = key_progression(tonic, minor, 100.0, 8.0, 8000, tonic as u64);
                let e = chroma(&pcm);
                let total: f64 = e.iter().sum();
                let in_key: f64 = degrees.iter().map(|d| e[((tonic + d) % 12) as usize]).sum();
                assert!(
                    in_key / total > 0.95,
                    "{key}: {:.3} in the scale",
                    in_key / total
                );
                let mut order: Vec<usize> = (0..12).collect();
                order.sort_by(|&a, &b| e[b].total_cmp(&e[a]));
                assert!(
                    order[..3].contains(&(tonic as usize)),
                    "{key}: tonic not among the strongest pitch classes {:?}",
                    &order[..3]
                );
            }
        }
    }

    #[test]
    fn key_set_has_every_key_twice() {
        let set = key_set();
        assert_eq!(set.len(), 48);
        for tonic in 0..12 {
            for minor in [false, true] {
                let n = set
                    .iter()
                    .filter(|c| (c.tonic, c.minor) == (tonic, minor))
                    .count();
                assert_eq!(n, 2, "{}", key_name(tonic, minor));
            }
        }
        let mut seeds: Vec<u64> = set.iter().map(|c| c.seed).collect();
        seeds.sort();
        seeds.dedup();
        assert_eq!(seeds.len(), 48);
        assert_eq!(set[3].name, "C minor #1 (100 bpm)");
        assert_eq!(set[0].render(8000).frames(), 120_000);
    }
}
