//! A synthesized drum kit playing one-bar 4/4 grooves: material whose tempo a listener would
//! state without hesitation, so a tempo test can expect exactly the `bpm` it asked for.
//!
//! Every drum is built from scratch (swept sines, filtered noise, the TR-808's detuned squares),
//! and every render is a pure function of its arguments, the seed included. The seed also plays
//! drummer: each hit's level varies by up to ±15 % and its timing by up to ±4 ms (see [`Feel`]),
//! which moves no onset off its beat by more than a fraction of a 16th even at 210 bpm (71 ms).

use std::f64::consts::TAU;

use super::rng::Rng;
use super::{frames_for, mix_into, mono_normalized, Pcm, PEAK};

/// A drum style: one bar of 4/4 in 16th-note steps, repeated. In every style `bpm` counts
/// quarter notes, the beat a drummer counts in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Groove {
    /// Kick on 1 and 3, snare on 2 and 4, closed hats on the eighths.
    Rock,
    /// Kick on every beat, clap on 2 and 4, open hats on the off-beat eighths.
    FourOnTheFloor,
    /// Ride in swung eighths (each off-beat at 2/3 of its beat) accenting 2 and 4, hi-hat foot
    /// and snare on 2 and 4, a light kick on 1 and 3.
    Swing,
    /// Funk/breakbeat: kick on 1, the "and" of 2 and the "a" of 3; snare on 2 and 4 with ghost
    /// notes between; closed hats on every 16th, accented on the beats.
    Syncopated,
    /// Kick on 1 and 3, snare on 2 and 4, closed hats on every 16th (dense, for slow tempos).
    Sixteenths,
    /// Kick on 1, snare on 2 and 4, nothing else.
    Sparse,
    /// A quiet rim click on every beat and a kick on 1, nothing else.
    Sparse2,
}

impl Groove {
    pub const ALL: [Groove; 7] = [
        Groove::Rock,
        Groove::FourOnTheFloor,
        Groove::Swing,
        Groove::Syncopated,
        Groove::Sixteenths,
        Groove::Sparse,
        Groove::Sparse2,
    ];

    /// A short lowercase name, for case names and file names.
    pub fn name(self) -> &'static str {
        match self {
            Groove::Rock => "rock",
            Groove::FourOnTheFloor => "four-on-the-floor",
            Groove::Swing => "swing",
            Groove::Syncopated => "syncopated",
            Groove::Sixteenths => "sixteenths",
            Groove::Sparse => "sparse",
            Groove::Sparse2 => "sparse2",
        }
    }

    /// The bar, in drum-machine notation: one character per 16th (`X` accent, `x` normal, `o`
    /// soft, `g` ghost, `.` rest); the beats are steps 0, 4, 8 and 12.
    pub(crate) fn pattern(self) -> Pattern {
        use Drum::*;
        let (swing, lanes): (bool, &'static [(Drum, &str)]) = match self {
            Groove::Rock => (
                false,
                &[
                    (Kick, "X.......X......."),
                    (Snare, "....X.......X..."),
                    (ClosedHat, "x.o.x.o.x.o.x.o."),
                ],
            ),
            Groove::FourOnTheFloor => (
                false,
                &[
                    (Kick, "X...X...X...X..."),
                    (Clap, "....X.......X..."),
                    (OpenHat, "..x...x...x...x."),
                ],
            ),
            Groove::Swing => (
                true,
                &[
                    (Ride, "x.o.X.o.x.o.X.o."),
                    (ClosedHat, "....o.......o..."),
                    (Snare, "....x.......x..."),
                    (Kick, "o.......o......."),
                ],
            ),
            Groove::Syncopated => (
                false,
                &[
                    (Kick, "X.....x....x...."),
                    (Snare, "....X..g.g..X..g"),
                    (ClosedHat, "XoxoXoxoXoxoXoxo"),
                ],
            ),
            Groove::Sixteenths => (
                false,
                &[
                    (Kick, "X.......X......."),
                    (Snare, "....X.......X..."),
                    (ClosedHat, "XoxoXoxoXoxoXoxo"),
                ],
            ),
            Groove::Sparse => (
                false,
                &[(Kick, "X..............."), (Snare, "....X.......X...")],
            ),
            Groove::Sparse2 => (
                false,
                &[(Kick, "x..............."), (Rim, "o...o...o...o...")],
            ),
        };
        Pattern { swing, lanes }
    }
}

/// One bar of a [`Groove`]; `swing` puts each off-beat 8th (step 2 of a beat) at 2/3 of the beat.
pub(crate) struct Pattern {
    pub(crate) swing: bool,
    lanes: &'static [(Drum, &'static str)],
}

/// Where step `step` (0..16) of bar `bar` falls, in beats from the start.
pub(crate) fn step_beats(bar: usize, step: usize, swing: bool) -> f64 {
    let sub = step % 4;
    let frac = if swing && sub == 2 {
        2.0 / 3.0
    } else {
        sub as f64 / 4.0
    };
    (bar * 4 + step / 4) as f64 + frac
}

fn velocity(mark: char) -> f64 {
    match mark {
        'X' => 1.0,
        'x' => 0.75,
        'o' => 0.5,
        'g' => 0.2,
        '.' => 0.0,
        _ => panic!("unknown pattern mark {mark:?}"),
    }
}

/// How far a render departs from the notated bar, as a drummer would.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Feel {
    /// Each hit's level is scaled by a factor within 1 ± this.
    pub velocity: f64,
    /// Each hit lands within ± this many milliseconds of its grid position.
    pub timing_ms: f64,
}

impl Feel {
    /// What [`groove`] plays: ±15 % level, ±4 ms timing (a tight drummer).
    pub const HUMAN: Feel = Feel {
        velocity: 0.15,
        timing_ms: 4.0,
    };
    /// The notation exactly (hits still vary in timbre): for tests that check onsets to the frame.
    pub const EXACT: Feel = Feel {
        velocity: 0.0,
        timing_ms: 0.0,
    };
}

/// A mono drum groove, humanized by `seed` (see [`Feel::HUMAN`]), peak normalized to 0.8.
pub fn groove(style: Groove, bpm: f64, seconds: f64, sample_rate: u32, seed: u64) -> Pcm {
    groove_with(style, bpm, seconds, sample_rate, seed, Feel::HUMAN)
}

/// [`groove`] with an explicit feel.
pub fn groove_with(
    style: Groove,
    bpm: f64,
    seconds: f64,
    sample_rate: u32,
    seed: u64,
    feel: Feel,
) -> Pcm {
    let frames = frames_for(seconds, sample_rate);
    let mix = drum_mix(style, bpm, frames, sample_rate, seed, feel);
    mono_normalized(&mix, sample_rate, PEAK)
}

/// Round-robin takes per drum, as sample libraries do: hits differ without synthesizing each.
const TAKES: usize = 4;

/// The unnormalized drum mix, `frames` long. Hit `step` of bar `bar` sounds at frame
/// `round(step_beats(bar, step) * 60 / bpm * sr)`, moved by the feel's timing.
pub(crate) fn drum_mix(
    style: Groove,
    bpm: f64,
    frames: usize,
    sample_rate: u32,
    seed: u64,
    feel: Feel,
) -> Vec<f64> {
    assert!(bpm > 0.0 && bpm.is_finite(), "bpm must be positive");
    let sr = sample_rate as f64;
    let pattern = style.pattern();
    let mut noise = Rng::stream(seed, 0);
    let mut human = Rng::stream(seed, 1);
    let frame_of = |beats: f64| beats * 60.0 / bpm * sr;
    let mut mix = vec![0.0; frames];
    for &(drum, lane) in pattern.lanes {
        let takes: Vec<Vec<f64>> = (0..TAKES).map(|_| drum.synth(sr, &mut noise)).collect();
        for bar in (0..).take_while(|&bar| frame_of((bar * 4) as f64) < frames as f64) {
            for (step, mark) in lane.chars().enumerate() {
                let v = velocity(mark);
                if v == 0.0 {
                    continue;
                }
                let shift = feel.timing_ms / 1000.0 * sr * human.bipolar();
                let gain = drum.level() * v * (1.0 + feel.velocity * human.bipolar());
                let take = &takes[human.below(TAKES)];
                let at = (frame_of(step_beats(bar, step, pattern.swing)) + shift).round();
                mix_into(&mut mix, at.max(0.0) as usize, take, gain);
            }
        }
    }
    mix
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Drum {
    Kick,
    Snare,
    Clap,
    ClosedHat,
    OpenHat,
    Ride,
    Rim,
}

impl Drum {
    /// Mix level at full velocity, roughly where each sits in a kit.
    fn level(self) -> f64 {
        match self {
            Drum::Kick => 1.0,
            Drum::Snare => 0.8,
            Drum::Clap => 0.7,
            Drum::ClosedHat | Drum::OpenHat | Drum::Ride => 0.3,
            Drum::Rim => 0.5,
        }
    }

    /// One full-velocity hit (peak about 1), its noise drawn from `rng`.
    fn synth(self, sr: f64, rng: &mut Rng) -> Vec<f64> {
        match self {
            Drum::Kick => kick(sr, rng),
            Drum::Snare => snare(sr, rng),
            Drum::Clap => clap(sr, rng),
            Drum::ClosedHat => hat(sr, rng, 0.012, 0.1),
            Drum::OpenHat => hat(sr, rng, 0.15, 0.6),
            Drum::Ride => ride(sr, rng),
            Drum::Rim => rim(sr, rng),
        }
    }
}

/// `seconds` of `f(t)` sampled at `sr`.
fn shape(seconds: f64, sr: f64, mut f: impl FnMut(f64) -> f64) -> Vec<f64> {
    (0..(seconds * sr).round() as usize)
        .map(|i| f(i as f64 / sr))
        .collect()
}

/// Kick: a sine swept from 150 Hz down to 50 Hz within ~100 ms under a fast decay (the boom),
/// plus 2 ms of noise for the beater's click.
fn kick(sr: f64, rng: &mut Rng) -> Vec<f64> {
    let mut phase = 0.0f64;
    shape(0.4, sr, |t| {
        let body = phase.sin() * (-t / 0.11).exp();
        phase += TAU * (50.0 + 100.0 * (-t / 0.03).exp()) / sr;
        body + 0.35 * rng.bipolar() * (-t / 0.0015).exp()
    })
}

/// Snare: noise with its 2-6 kHz band emphasized (the wires, ~150 ms) over a ~180 Hz tone
/// with its first overtone (the head, shorter).
fn snare(sr: f64, rng: &mut Rng) -> Vec<f64> {
    let mut wires = Biquad::new(Band::Pass, 3500.0, 0.7, sr);
    shape(0.3, sr, |t| {
        let n = rng.bipolar();
        let noise = (0.3 * n + 1.2 * wires.run(n)) * (-t / 0.05).exp();
        let head = ((TAU * 180.0 * t).sin() + 0.4 * (TAU * 330.0 * t).sin()) * (-t / 0.03).exp();
        0.8 * noise + 0.6 * head
    })
}

/// Hand clap: three noise bursts 10 ms apart (several hands, not quite together) and a
/// diffuse tail, band-passed around 1.2 kHz.
fn clap(sr: f64, rng: &mut Rng) -> Vec<f64> {
    let mut body = Biquad::new(Band::Pass, 1200.0, 1.2, sr);
    shape(0.3, sr, |t| {
        let burst = if t < 0.03 {
            (-(t % 0.01) / 0.003).exp()
        } else {
            0.0
        };
        let tail = if t < 0.02 {
            0.0
        } else {
            0.6 * (-(t - 0.02) / 0.06).exp()
        };
        3.0 * body.run(rng.bipolar()) * (burst + tail)
    })
}

/// The TR-808's six detuned square waves: the clangy, inharmonic core of its cymbals.
const METAL_HZ: [f64; 6] = [205.3, 304.4, 369.6, 522.7, 540.0, 800.0];

fn metal(t: f64, ratio: f64) -> f64 {
    METAL_HZ
        .iter()
        .map(|f| {
            if (f * ratio * t).fract() < 0.5 {
                1.0
            } else {
                -1.0
            }
        })
        .sum::<f64>()
        / METAL_HZ.len() as f64
}

/// Hi-hat: metal and noise high-passed at 7 kHz; closed decays in ~40 ms (`tau` 12 ms), open
/// rings for several hundred.
fn hat(sr: f64, rng: &mut Rng, tau: f64, seconds: f64) -> Vec<f64> {
    let mut hp = [7000.0, 7000.0].map(|f| Biquad::new(Band::High, f, 0.7, sr));
    shape(seconds, sr, |t| {
        let x = 0.6 * rng.bipolar() + 0.6 * metal(t, 1.0);
        let once = hp[0].run(x);
        1.5 * hp[1].run(once) * (-t / tau).exp()
    })
}

/// Ride: a stick ping on three bell partials over a long high-passed wash, so successive hits
/// blur together the way a ride's do.
fn ride(sr: f64, rng: &mut Rng) -> Vec<f64> {
    let mut hp = Biquad::new(Band::High, 3500.0, 0.7, sr);
    shape(1.2, sr, |t| {
        let bell: f64 = [2950.0, 4470.0, 5230.0]
            .iter()
            .map(|f| (TAU * f * t).sin())
            .sum();
        let wash = hp.run(0.5 * rng.bipolar() + 0.5 * metal(t, 2.3));
        0.2 * bell * (-t / 0.25).exp() + wash * (0.8 * (-t / 0.006).exp() + 0.5 * (-t / 0.45).exp())
    })
}

/// Side stick: two short resonances (shell and rim) and a tick of noise, ~30 ms in all.
fn rim(sr: f64, rng: &mut Rng) -> Vec<f64> {
    shape(0.08, sr, |t| {
        0.7 * (TAU * 1700.0 * t).sin() * (-t / 0.006).exp()
            + 0.5 * (TAU * 480.0 * t).sin() * (-t / 0.012).exp()
            + 0.4 * rng.bipolar() * (-t / 0.0015).exp()
    })
}

#[derive(Clone, Copy)]
enum Band {
    High,
    Pass,
}

/// An RBJ-cookbook biquad (the band-pass has 0 dB peak gain).
struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
    x: [f64; 2],
    y: [f64; 2],
}

impl Biquad {
    /// `freq` is held below Nyquist, so low sample rates (as tests use) stay stable.
    fn new(band: Band, freq: f64, q: f64, sr: f64) -> Self {
        let w = TAU * freq.min(0.45 * sr) / sr;
        let (cos, alpha) = (w.cos(), w.sin() / (2.0 * q));
        let b = match band {
            Band::High => [(1.0 + cos) / 2.0, -(1.0 + cos), (1.0 + cos) / 2.0],
            Band::Pass => [alpha, 0.0, -alpha],
        };
        let a0 = 1.0 + alpha;
        Biquad {
            b: b.map(|v| v / a0),
            a: [-2.0 * cos / a0, (1.0 - alpha) / a0],
            x: [0.0; 2],
            y: [0.0; 2],
        }
    }

    fn run(&mut self, x: f64) -> f64 {
        let y = self.b[0] * x + self.b[1] * self.x[0] + self.b[2] * self.x[1]
            - self.a[0] * self.y[0]
            - self.a[1] * self.y[1];
        self.x = [x, self.x[0]];
        self.y = [y, self.y[0]];
        y
    }
}

/// Tempos of the evaluation set: 50 to 210 bpm in steps of about 8 %, not only round numbers.
pub const TEMPO_BPMS: [f64; 19] = [
    50.0, 56.0, 62.0, 68.0, 74.0, 80.0, 88.0, 96.0, 105.0, 114.0, 123.0, 132.0, 142.0, 152.0,
    163.0, 175.0, 188.0, 200.0, 210.0,
];

/// The length of each [`TempoCase`].
pub const TEMPO_CASE_SECONDS: f64 = 20.0;

/// One case of the tempo evaluation set: [`groove`] of `style` at `bpm` with `seed`, lasting
/// [`TEMPO_CASE_SECONDS`]. The right answer is `bpm`.
#[derive(Debug, Clone, PartialEq)]
pub struct TempoCase {
    pub name: String,
    pub style: Groove,
    pub bpm: f64,
    pub seed: u64,
}

impl TempoCase {
    pub fn render(&self, sample_rate: u32) -> Pcm {
        groove(
            self.style,
            self.bpm,
            TEMPO_CASE_SECONDS,
            sample_rate,
            self.seed,
        )
    }
}

/// The tempo evaluation set: every style at every one of [`TEMPO_BPMS`], one seed per case
/// (133 cases, 20 s each).
pub fn tempo_set() -> Vec<TempoCase> {
    Groove::ALL
        .iter()
        .flat_map(|&style| TEMPO_BPMS.iter().map(move |&bpm| (style, bpm)))
        .enumerate()
        .map(|(i, (style, bpm))| TempoCase {
            name: format!("{}-{bpm}bpm", style.name()),
            style,
            bpm,
            seed: 1000 + i as u64,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lane(style: Groove, drum: Drum) -> Vec<usize> {
        let p = style.pattern();
        let (_, marks) = p.lanes.iter().find(|(d, _)| *d == drum).unwrap();
        marks
            .chars()
            .enumerate()
            .filter(|&(_, m)| velocity(m) > 0.0)
            .map(|(i, _)| i)
            .collect()
    }

    #[test]
    fn patterns_are_as_notated() {
        use Drum::*;
        for style in Groove::ALL {
            let p = style.pattern();
            assert!(p.lanes.iter().all(|(_, m)| m.len() == 16), "{style:?}");
            assert_eq!(lane(style, Kick)[0], 0, "{style:?}: kick on 1");
        }
        let quarters = vec![0, 4, 8, 12];
        let eighths: Vec<usize> = (0..16).step_by(2).collect();
        let sixteenths: Vec<usize> = (0..16).collect();
        let backbeat = vec![4, 12];
        assert_eq!(lane(Groove::Rock, Kick), [0, 8]);
        assert_eq!(lane(Groove::Rock, Snare), backbeat);
        assert_eq!(lane(Groove::Rock, ClosedHat), eighths);
        assert_eq!(lane(Groove::FourOnTheFloor, Kick), quarters);
        assert_eq!(lane(Groove::FourOnTheFloor, Clap), backbeat);
        assert_eq!(lane(Groove::FourOnTheFloor, OpenHat), [2, 6, 10, 14]);
        assert_eq!(lane(Groove::Swing, Ride), eighths);
        assert_eq!(lane(Groove::Swing, Snare), backbeat);
        assert_eq!(lane(Groove::Swing, Kick), [0, 8]);
        assert_eq!(lane(Groove::Syncopated, Kick), [0, 6, 11]);
        assert_eq!(lane(Groove::Syncopated, ClosedHat), sixteenths);
        assert_eq!(lane(Groove::Sixteenths, ClosedHat), sixteenths);
        assert_eq!(lane(Groove::Sparse, Kick), [0]);
        assert_eq!(lane(Groove::Sparse, Snare), backbeat);
        assert_eq!(lane(Groove::Sparse2, Rim), quarters);
        assert_eq!(Groove::Sparse2.pattern().lanes.len(), 2);
        // Swing: off-beats sit at 2/3 of the beat; the straight styles keep them at 1/2.
        assert_eq!(step_beats(3, 6, true), 13.0 + 2.0 / 3.0);
        assert_eq!(step_beats(3, 6, false), 13.5);
        assert_eq!(step_beats(0, 15, false), 3.75);
    }

    #[test]
    fn renders_are_seeded_exact_length_and_normalized() {
        for style in Groove::ALL {
            let a = groove(style, 123.0, 3.0, 16_000, 9);
            assert_eq!((a.frames(), a.channels), (48_000, 1), "{style:?}");
            assert_eq!(a, groove(style, 123.0, 3.0, 16_000, 9), "{style:?}");
            assert_ne!(a, groove(style, 123.0, 3.0, 16_000, 10), "{style:?}");
            assert!(a.samples.iter().all(|s| s.is_finite()), "{style:?}");
            let peak = a.samples.iter().fold(0f32, |m, s| m.max(s.abs()));
            assert!((peak - 0.8).abs() < 1e-4, "{style:?}: peak {peak}");
        }
        assert_eq!(groove(Groove::Rock, 120.0, 0.0, 8000, 1).frames(), 0);
    }

    /// Starts of sound after at least 5 ms of exact silence.
    fn onsets(pcm: &Pcm) -> Vec<usize> {
        let gap = pcm.sample_rate as usize / 200;
        let mut quiet = gap;
        let mut found = Vec::new();
        for (i, &s) in pcm.samples.iter().enumerate() {
            if s == 0.0 {
                quiet += 1;
            } else {
                if quiet >= gap {
                    found.push(i);
                }
                quiet = 0;
            }
        }
        found
    }

    #[test]
    fn hits_land_on_the_grid() {
        // Sparse at 100 bpm leaves silence before every hit, so its onsets can be read exactly.
        let (bpm, sr) = (100.0, 48_000);
        let grid: Vec<usize> = (0..4)
            .flat_map(|bar| [0, 4, 12].map(|s| step_beats(bar, s, false)))
            .map(|b| (b * 60.0 / bpm * sr as f64).round() as usize)
            .collect();
        let exact = groove_with(Groove::Sparse, bpm, 9.6, sr, 5, Feel::EXACT);
        assert_eq!(onsets(&exact), grid);
        // Humanized, every hit stays within 4 ms of its beat.
        let human = groove(Groove::Sparse, bpm, 9.6, sr, 5);
        let got = onsets(&human);
        assert_eq!(got.len(), grid.len());
        let slack = 0.004 * sr as f64 + 1.0;
        assert!(got
            .iter()
            .zip(&grid)
            .all(|(&g, &w)| (g as f64 - w as f64).abs() <= slack));
        assert!(got != grid, "humanized timing moved nothing");
    }

    #[test]
    fn tempo_set_covers_every_style_and_tempo() {
        let set = tempo_set();
        assert_eq!(set.len(), Groove::ALL.len() * TEMPO_BPMS.len());
        for style in Groove::ALL {
            let bpms: Vec<f64> = set
                .iter()
                .filter(|c| c.style == style)
                .map(|c| c.bpm)
                .collect();
            assert_eq!(bpms, TEMPO_BPMS);
        }
        let mut names: Vec<&str> = set.iter().map(|c| c.name.as_str()).collect();
        let mut seeds: Vec<u64> = set.iter().map(|c| c.seed).collect();
        names.sort();
        names.dedup();
        seeds.sort();
        seeds.dedup();
        assert_eq!((names.len(), seeds.len()), (set.len(), set.len()));
        assert_eq!(set[0].name, "rock-50bpm");
        assert_eq!(set[0].render(8000).frames(), 160_000);
    }
}
