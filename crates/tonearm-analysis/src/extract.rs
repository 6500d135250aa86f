//! The two passes over a signal.
//!
//! librosa clamps decibels at 80 dB below the loudest value of the *whole* signal (MFCC, onset
//! strength, spectral contrast) and tunes chroma with one estimate for the whole signal. To give
//! the same numbers without holding the signal or its spectrogram, [`Calibrator`] first reads the
//! signal for those global values, then [`Extractor`] reads it again and produces every frame's
//! features with them. Memory is constant in the signal's length.

use crate::chroma::{ChromaBank, TuningVotes};
use crate::mel::{power_db, Dct, MelBank};
use crate::params::{N_BINS, N_CHROMA, N_MELS, N_MFCC, TOP_DB};
use crate::spectral::{Spectral, N_BANDS};
use crate::stft::{Frame, Framer, Stft};
use crate::time_domain;

/// Samples further from zero than this are clipped to it (a decoder gives [-1, 1]; a float file
/// may hold anything, and huge values would overflow the spectra).
const SAMPLE_LIMIT: f32 = 64.0;

/// What the first pass learns: the global values the second pass needs, and the signal's size.
#[derive(Debug, Clone)]
pub struct Calibration {
    /// Signal samples (at [`crate::params::SAMPLE_RATE`]).
    pub samples: usize,
    pub frames: usize,
    /// Loudest mel band power of any frame, in dB.
    pub mel_db_max: f32,
    /// Loudest contrast peak and valley of any frame, in dB.
    pub peak_db_max: f32,
    pub valley_db_max: f32,
    /// Chroma tuning, in fractions of a semitone.
    pub tuning: f64,
    /// Samples that were not finite (read as zero).
    pub non_finite: usize,
    /// Largest absolute sample value.
    pub peak_sample: f32,
}

/// Clips a block into `out`, counting non-finite samples.
fn clean(samples: &[f32], out: &mut Vec<f32>, non_finite: &mut usize, peak: &mut f32) {
    out.clear();
    out.extend(samples.iter().map(|&x| {
        if x.is_finite() {
            let x = x.clamp(-SAMPLE_LIMIT, SAMPLE_LIMIT);
            *peak = peak.max(x.abs());
            x
        } else {
            *non_finite += 1;
            0.0
        }
    }));
}

/// The per-frame spectra both passes start from.
struct Spectra {
    stft: Stft,
    power: Vec<f32>,
    magnitude: Vec<f32>,
    mel: [f32; N_MELS],
}

impl Spectra {
    fn new() -> Spectra {
        Spectra {
            stft: Stft::new(),
            power: vec![0.0; N_BINS],
            magnitude: vec![0.0; N_BINS],
            mel: [0.0; N_MELS],
        }
    }

    /// The frame's power and mel spectra, and its magnitudes when `magnitude` (the first pass
    /// needs none).
    fn take(&mut self, frame: &Frame<'_>, bank: &MelBank, magnitude: bool) {
        if magnitude {
            self.stft
                .power_and_magnitude(frame.samples, &mut self.power, &mut self.magnitude);
        } else {
            self.stft.power(frame.samples, &mut self.power);
        }
        bank.apply(&self.power, &mut self.mel);
    }
}

/// The first pass.
pub struct Calibrator {
    framer: Framer,
    spectra: Spectra,
    mels: MelBank,
    spectral: Spectral,
    votes: TuningVotes,
    mel_max: f32,
    peak_max: f32,
    valley_max: f32,
    block: Vec<f32>,
    non_finite: usize,
    peak_sample: f32,
}

impl Default for Calibrator {
    fn default() -> Self {
        Calibrator::new()
    }
}

struct CalibrationState<'a> {
    spectra: &'a mut Spectra,
    mels: &'a MelBank,
    spectral: &'a mut Spectral,
    votes: &'a mut TuningVotes,
    mel_max: &'a mut f32,
    peak_max: &'a mut f32,
    valley_max: &'a mut f32,
}

impl CalibrationState<'_> {
    fn frame(&mut self, frame: Frame<'_>) {
        self.spectra.take(&frame, self.mels, false);
        let s = &*self.spectra;
        *self.mel_max = s.mel.iter().copied().fold(*self.mel_max, f32::max);
        let (mut peak, mut valley) = ([0.0; N_BANDS], [0.0; N_BANDS]);
        self.spectral
            .contrast_bands(&s.power, &mut peak, &mut valley);
        *self.peak_max = peak.iter().copied().fold(*self.peak_max, f32::max);
        *self.valley_max = valley.iter().copied().fold(*self.valley_max, f32::max);
        self.votes.add(&s.power);
    }
}

impl Calibrator {
    pub fn new() -> Calibrator {
        Calibrator {
            framer: Framer::new(),
            spectra: Spectra::new(),
            mels: MelBank::new(),
            spectral: Spectral::new(),
            votes: TuningVotes::new(),
            mel_max: 0.0,
            peak_max: 0.0,
            valley_max: 0.0,
            block: Vec::new(),
            non_finite: 0,
            peak_sample: 0.0,
        }
    }

    fn parts(&mut self) -> (&mut Framer, CalibrationState<'_>) {
        (
            &mut self.framer,
            CalibrationState {
                spectra: &mut self.spectra,
                mels: &self.mels,
                spectral: &mut self.spectral,
                votes: &mut self.votes,
                mel_max: &mut self.mel_max,
                peak_max: &mut self.peak_max,
                valley_max: &mut self.valley_max,
            },
        )
    }

    pub fn push(&mut self, samples: &[f32]) {
        let mut block = std::mem::take(&mut self.block);
        clean(
            samples,
            &mut block,
            &mut self.non_finite,
            &mut self.peak_sample,
        );
        let (framer, mut st) = self.parts();
        framer.push(&block, |f| st.frame(f));
        self.block = block;
    }

    pub fn finish(mut self) -> Calibration {
        let (framer, mut st) = self.parts();
        framer.finish(|f| st.frame(f));
        let samples = self.framer.samples_pushed();
        Calibration {
            samples,
            frames: Framer::frame_count(samples),
            mel_db_max: power_db(self.mel_max),
            peak_db_max: power_db(self.peak_max),
            valley_db_max: power_db(self.valley_max),
            tuning: self.votes.estimate(),
            non_finite: self.non_finite,
            peak_sample: self.peak_sample,
        }
    }
}

/// Every feature of one frame, as librosa computes them for frame `index`.
#[derive(Debug, Clone, Default)]
pub struct FrameFeatures {
    pub index: usize,
    pub mfcc: [f32; N_MFCC],
    pub centroid: f32,
    pub bandwidth: f32,
    pub rolloff: f32,
    pub flatness: f32,
    pub contrast: [f32; N_BANDS],
    pub zcr: f32,
    pub rms: f32,
    pub chroma: [f32; N_CHROMA],
    /// librosa's onset strength at this frame (mean positive mel-dB flux; librosa's envelope
    /// lags the spectrum by its centring: frame `t` holds the flux from `t-3` to `t-2`).
    pub onset: f32,
}

/// Onset flux per frame in layers besides librosa's, for the tempo's metrical choice: the low
/// bands (kick, bass) and the middle bands (snare, chords); the high bands (hi-hats, cymbals)
/// are left out, since they mark subdivisions more than beats.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flux {
    pub all: f32,
    pub low: f32,
    pub mid: f32,
}

/// Mel bands of the low layer: below about 420 Hz.
const LOW_BANDS: usize = 16;
/// Mel bands up to the end of the middle layer: below about 3 kHz.
const MID_END: usize = 80;
// The tempo layers compress mel power by a cube root (relative to the loudest band) rather
// than decibels: a ghost note 14 dB under the backbeat stays a third of it, where the dB flux
// of a hit out of silence is nearly as large whatever its level.

/// The second pass.
pub struct Extractor {
    framer: Framer,
    st: ExtractState,
    block: Vec<f32>,
}

struct ExtractState {
    spectra: Spectra,
    mels: MelBank,
    dct: Dct,
    spectral: Spectral,
    chroma: ChromaBank,
    mel_floor: f32,
    peak_floor: f32,
    valley_floor: f32,
    /// 1 / the loudest mel band power (for the tempo layers).
    layer_scale: f32,
    /// Clamped mel dB and tempo-layer dB of the previous frame.
    prev_db: Option<([f32; N_MELS], [f32; N_MELS])>,
    /// librosa's flux of the last three frames (frame `t`'s onset is the flux of `t-2`).
    recent: [f32; 3],
}

impl ExtractState {
    fn frame(&mut self, frame: Frame<'_>, out: &mut impl FnMut(&FrameFeatures, Flux)) {
        self.spectra.take(&frame, &self.mels, true);
        let s = &self.spectra;
        let mut f = FrameFeatures {
            index: frame.index,
            ..Default::default()
        };
        let mut db = [0f32; N_MELS];
        let mut layer = [0f32; N_MELS];
        for ((d, l), &m) in db.iter_mut().zip(layer.iter_mut()).zip(&s.mel) {
            let v = power_db(m);
            *d = v.max(self.mel_floor);
            *l = (m * self.layer_scale).cbrt();
        }
        self.dct.apply(&db, &mut f.mfcc);
        let shape = self.spectral.shape(&s.magnitude, &s.power);
        f.centroid = shape.centroid;
        f.bandwidth = shape.bandwidth;
        f.rolloff = shape.rolloff;
        f.flatness = shape.flatness;
        let (mut peak, mut valley) = ([0.0; N_BANDS], [0.0; N_BANDS]);
        self.spectral
            .contrast_bands(&s.power, &mut peak, &mut valley);
        for k in 0..N_BANDS {
            f.contrast[k] =
                power_db(peak[k]).max(self.peak_floor) - power_db(valley[k]).max(self.valley_floor);
        }
        self.chroma.apply(&s.power, &mut f.chroma);
        f.rms = time_domain::rms(&frame);
        f.zcr = time_domain::zero_crossing_rate(&frame);

        let mut flux = Flux::default();
        if let Some((pd, pl)) = &self.prev_db {
            let rise = |a: &[f32], b: &[f32]| -> f32 {
                a.iter().zip(b).map(|(x, y)| (x - y).max(0.0)).sum::<f32>()
            };
            // Tempo layers take the median rise over their bands: a drum hit raises nearly
            // all of them, a bass note or chord only its partials' (librosa's beat_track takes
            // the median for the same reason).
            let band = |r: std::ops::Range<usize>| {
                let mut rises = [0f32; N_MELS];
                let rises = &mut rises[..r.len()];
                for ((d, x), y) in rises.iter_mut().zip(&layer[r.clone()]).zip(&pl[r.clone()]) {
                    *d = (x - y).max(0.0);
                }
                let mid = rises.len() * 3 / 4;
                *rises.select_nth_unstable_by(mid, f32::total_cmp).1
            };
            flux.all = rise(&db, pd) / N_MELS as f32;
            flux.low = band(0..LOW_BANDS);
            flux.mid = band(LOW_BANDS..MID_END);
        }
        self.recent = [self.recent[1], self.recent[2], flux.all];
        f.onset = if frame.index >= 3 {
            self.recent[0]
        } else {
            0.0
        };
        self.prev_db = Some((db, layer));
        out(&f, flux);
    }
}

impl Extractor {
    pub fn new(cal: &Calibration) -> Extractor {
        Extractor {
            framer: Framer::new(),
            st: ExtractState {
                spectra: Spectra::new(),
                mels: MelBank::new(),
                dct: Dct::new(),
                spectral: Spectral::new(),
                chroma: ChromaBank::new(cal.tuning),
                mel_floor: cal.mel_db_max - TOP_DB,
                peak_floor: cal.peak_db_max - TOP_DB,
                valley_floor: cal.valley_db_max - TOP_DB,
                layer_scale: 10f32.powf(-cal.mel_db_max / 10.0),
                prev_db: None,
                recent: [0.0; 3],
            },
            block: Vec::new(),
        }
    }

    /// Pushes samples; `out` gets each finished frame's features and tempo-layer flux.
    pub fn push(&mut self, samples: &[f32], mut out: impl FnMut(&FrameFeatures, Flux)) {
        let mut block = std::mem::take(&mut self.block);
        // The first pass counted the bad samples and found the peak; here they are only cleaned.
        let (mut non_finite, mut peak) = (0, 0.0);
        clean(samples, &mut block, &mut non_finite, &mut peak);
        let st = &mut self.st;
        self.framer.push(&block, |f| st.frame(f, &mut out));
        self.block = block;
    }

    pub fn finish(mut self, mut out: impl FnMut(&FrameFeatures, Flux)) {
        let st = &mut self.st;
        self.framer.finish(|f| st.frame(f, &mut out));
    }
}
