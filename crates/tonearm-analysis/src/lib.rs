//! Audio analysis: what a track sounds like, computed locally.
//!
//! Pure code: it takes mono samples at 22,050 Hz and returns numbers; decoding, storage and
//! scheduling live elsewhere (`tonearm-media`, `tonearm-store`, the server's pipeline).
//!
//! One STFT (n_fft 2048, hop 512, periodic Hann, centred with zero padding: librosa's
//! defaults) feeds every spectral feature; each feature that carries a librosa name is computed
//! as librosa 0.11 computes it, and the tests hold it to librosa's numbers. The signal is read
//! twice ([`extract`]): once for the few values librosa takes over the whole signal, once for
//! the frame features, which are summarized as they stream past. Tempo ([`tempo`]) and key
//! ([`key`]) are Tonearm's own estimators.
//!
//! ```
//! let tone: Vec<f32> = (0..22_050 * 5)
//!     .map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 22_050.0).sin() * 0.5)
//!     .collect();
//! let a = tonearm_analysis::analyze(&tone).unwrap();
//! assert!((a.features.spectral_centroid.mean[0] - 440.0).abs() < 30.0);
//! ```

pub mod chroma;
pub mod embedding;
pub mod eval;
pub mod extract;
pub mod key;
pub mod mel;
pub mod params;
pub mod scores;
pub mod spectral;
pub mod stft;
pub mod summary;
pub mod tempo;
pub mod time_domain;

use extract::{Calibration, Calibrator, Extractor, Flux, FrameFeatures};
use serde::{Deserialize, Serialize};
use summary::{Summaries, SummaryBuilder, Timeline, TimelineBuilder};

pub use key::Key;
pub use params::SAMPLE_RATE;
pub use scores::Scores;
pub use tempo::Tempo;

/// Version of the whole analysis (features, tempo, key, scores, embedding). Stored with every
/// result; results of another version are re-computed.
pub const ALGORITHM_VERSION: u32 = 1;

/// Shortest signal analysed.
pub const MIN_SECONDS: f64 = 0.5;
/// Quieter than this peak level (about −100 dBFS) is silence.
const SILENCE_PEAK: f32 = 1e-5;
/// More than this share of non-finite samples means the decode is garbage.
const MAX_NON_FINITE: f64 = 0.01;

/// Why a signal has no analysis. Stored as the track's "not analysable" reason.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NotAnalysable {
    #[error("too short to analyse ({seconds:.2} s; at least {MIN_SECONDS} s is needed)")]
    TooShort { seconds: f64 },
    #[error("silent audio (peak below -100 dBFS)")]
    Silent,
    #[error("{share:.1} % of the samples are not numbers (NaN or infinite)")]
    InvalidSamples { share: f64 },
}

/// Everything known about one track's sound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub version: u32,
    pub duration_s: f64,
    pub frames: usize,
    /// Chroma tuning in fractions of a semitone (librosa's estimate).
    pub tuning: f64,
    pub features: Summaries,
    pub tempo: Option<Tempo>,
    /// Beat times in seconds.
    pub beats: Vec<f64>,
    pub key: Option<Key>,
    pub scores: Scores,
    pub timeline: Timeline,
    /// See [`embedding`] for the layout of version [`embedding::EMBEDDING_VERSION`].
    pub embedding: Vec<f32>,
}

/// Checks the first pass's findings before the second pass is worth running.
pub fn check(cal: &Calibration) -> Result<(), NotAnalysable> {
    let seconds = cal.samples as f64 / SAMPLE_RATE as f64;
    if cal.samples > 0 && cal.non_finite as f64 / cal.samples as f64 > MAX_NON_FINITE {
        return Err(NotAnalysable::InvalidSamples {
            share: 100.0 * cal.non_finite as f64 / cal.samples as f64,
        });
    }
    if seconds < MIN_SECONDS {
        return Err(NotAnalysable::TooShort { seconds });
    }
    if cal.peak_sample < SILENCE_PEAK {
        return Err(NotAnalysable::Silent);
    }
    Ok(())
}

/// The second pass: frame features into summaries, timeline and onset layers, then the
/// track-level estimates.
pub struct Analyzer {
    extractor: Extractor,
    sink: Sink,
}

struct Sink {
    summary: SummaryBuilder,
    timeline: TimelineBuilder,
    onset: Vec<f32>,
    low: Vec<f32>,
    mid: Vec<f32>,
}

impl Sink {
    fn take(&mut self, f: &FrameFeatures, flux: Flux) {
        self.summary.add(f);
        self.timeline.add(f);
        self.onset.push(f.onset);
        self.low.push(flux.low);
        self.mid.push(flux.mid);
    }
}

/// The beat-carrying layer: low and middle band flux, each scaled so its strong onsets (99th
/// percentile) are 1 — a soft kick counts as much as a loud snare, since the pattern they make
/// together (kick on 1, snare on 2 and 4) is what says where the beats are. Aligned with
/// librosa's envelope (two frames after the flux: see `FrameFeatures::onset`).
fn beat_layer(low: &[f32], mid: &[f32]) -> Vec<f32> {
    fn p99(x: &[f32]) -> f32 {
        let mut v: Vec<f32> = x.iter().copied().filter(|&v| v > 0.0).collect();
        if v.is_empty() {
            return 0.0;
        }
        let k = (v.len() * 99 / 100).min(v.len() - 1);
        *v.select_nth_unstable_by(k, f32::total_cmp).1
    }
    // A band is raised at most to a tenth of the other's strength: one without real onsets
    // must not have its faint flux scaled up to look like them.
    let (pl, pm) = (p99(low), p99(mid));
    let floor = 0.1 * pl.max(pm);
    let scale = |p: f32| if floor > 0.0 { 1.0 / p.max(floor) } else { 0.0 };
    let (sl, sm) = (scale(pl), scale(pm));
    let n = low.len();
    let mut out = vec![0.0; n];
    for t in 2..n {
        out[t] = (low[t - 2] * sl).min(1.5) + (mid[t - 2] * sm).min(1.5);
    }
    out
}

impl Analyzer {
    pub fn new(cal: &Calibration) -> Result<Analyzer, NotAnalysable> {
        check(cal)?;
        Ok(Analyzer {
            extractor: Extractor::new(cal),
            sink: Sink {
                summary: SummaryBuilder::default(),
                timeline: TimelineBuilder::new(cal.frames),
                onset: Vec::with_capacity(cal.frames),
                low: Vec::with_capacity(cal.frames),
                mid: Vec::with_capacity(cal.frames),
            },
        })
    }

    pub fn push(&mut self, samples: &[f32]) {
        let sink = &mut self.sink;
        self.extractor.push(samples, |f, flux| sink.take(f, flux));
    }

    pub fn finish(self, cal: &Calibration) -> Analysis {
        let mut sink = self.sink;
        self.extractor.finish(|f, flux| sink.take(f, flux));
        let features = sink.summary.finish();
        let low_mid = beat_layer(&sink.low, &sink.mid);
        let rhythm = tempo::estimate(&tempo::Envelopes {
            all: &sink.onset,
            low_mid: &low_mid,
        });
        let mut chroma = [0f32; params::N_CHROMA];
        chroma.copy_from_slice(&features.chroma.mean);
        let key = key::estimate(&chroma);
        let scores = scores::scores(&features, rhythm.tempo);
        let embedding = embedding::embed(&features, rhythm.tempo, key, &scores);
        Analysis {
            version: ALGORITHM_VERSION,
            duration_s: cal.samples as f64 / SAMPLE_RATE as f64,
            frames: cal.frames,
            tuning: cal.tuning,
            features,
            tempo: rhythm.tempo,
            beats: rhythm.beats,
            key,
            scores,
            timeline: sink.timeline.finish(),
            embedding,
        }
    }
}

/// Analyses a signal that can be read twice: `feed` is called once per pass and must push the
/// same samples (mono, [`SAMPLE_RATE`]) to the sink each time, in blocks of any size. Errors of
/// `feed` (a decode failing) pass through.
pub fn analyze_source<E>(
    mut feed: impl FnMut(&mut dyn FnMut(&[f32])) -> Result<(), E>,
) -> Result<Result<Analysis, NotAnalysable>, E> {
    let mut cal = Calibrator::new();
    feed(&mut |s| cal.push(s))?;
    let cal = cal.finish();
    let mut analyzer = match Analyzer::new(&cal) {
        Ok(a) => a,
        Err(e) => return Ok(Err(e)),
    };
    feed(&mut |s| analyzer.push(s))?;
    Ok(Ok(analyzer.finish(&cal)))
}

/// Analyses samples held in memory (mono, [`SAMPLE_RATE`]).
pub fn analyze(samples: &[f32]) -> Result<Analysis, NotAnalysable> {
    const BLOCK: usize = 1 << 16;
    let r: Result<_, std::convert::Infallible> = analyze_source(|sink| {
        for block in samples.chunks(BLOCK) {
            sink(block);
        }
        Ok(())
    });
    match r {
        Ok(a) => a,
    }
}

/// Frame-by-frame features of samples in memory, for tests and tools that compare frames.
pub fn frame_features(samples: &[f32]) -> (Calibration, Vec<FrameFeatures>) {
    let mut cal = Calibrator::new();
    cal.push(samples);
    let cal = cal.finish();
    let mut out = Vec::with_capacity(cal.frames);
    let mut ex = Extractor::new(&cal);
    ex.push(samples, |f, _| out.push(f.clone()));
    ex.finish(|f, _| out.push(f.clone()));
    (cal, out)
}
