//! Centered framing and the one STFT every spectral feature shares.
//!
//! librosa pads the signal with `n_fft / 2` zeros on each side (`center=True`,
//! `pad_mode="constant"`) and takes a frame every `hop` samples, so a signal of `n` samples has
//! `1 + n / hop` frames and frame `t` is centred on sample `t * hop`. [`Framer`] produces exactly
//! those frames from samples pushed in blocks of any size, holding only one window's worth.

use crate::params::{HOP, N_BINS, N_FFT};
use realfft::num_complex::Complex64;
use realfft::{RealFftPlanner, RealToComplex};
use std::ops::Range;
use std::sync::Arc;

/// One analysis frame: `N_FFT` samples of the padded signal.
pub struct Frame<'a> {
    /// Frame number (frame `t` is centred on sample `t * HOP`).
    pub index: usize,
    pub samples: &'a [f32],
    /// Which of `samples` are the signal (the rest is padding).
    pub real: Range<usize>,
}

/// Streams samples into centred, zero-padded frames.
pub struct Framer {
    /// The padded signal from padded position `base` on.
    buf: Vec<f32>,
    base: usize,
    /// Next frame to emit.
    next: usize,
    /// Signal samples pushed so far.
    pushed: usize,
    finished: bool,
}

const HALF: usize = N_FFT / 2;

impl Default for Framer {
    fn default() -> Self {
        Framer::new()
    }
}

impl Framer {
    pub fn new() -> Framer {
        let mut buf = Vec::with_capacity(64 * 1024);
        buf.resize(HALF, 0.0);
        Framer {
            buf,
            base: 0,
            next: 0,
            pushed: 0,
            finished: false,
        }
    }

    /// Signal samples pushed so far.
    pub fn samples_pushed(&self) -> usize {
        self.pushed
    }

    /// Frames a signal of `n` samples has.
    pub fn frame_count(n: usize) -> usize {
        1 + n / HOP
    }

    /// Appends samples and calls `each` for every frame now complete.
    pub fn push(&mut self, samples: &[f32], mut each: impl FnMut(Frame<'_>)) {
        debug_assert!(!self.finished, "push after finish");
        self.buf.extend_from_slice(samples);
        self.pushed += samples.len();
        self.emit(&mut each);
        // Keep the buffer short: drop what no future frame reads.
        let keep_from = self.next * HOP - self.base;
        if keep_from >= 32 * 1024 {
            self.buf.drain(..keep_from);
            self.base += keep_from;
        }
    }

    /// Pads the end and emits the remaining frames.
    pub fn finish(&mut self, mut each: impl FnMut(Frame<'_>)) {
        if self.finished {
            return;
        }
        self.finished = true;
        self.buf.resize(self.buf.len() + HALF, 0.0);
        self.emit(&mut each);
    }

    fn emit(&mut self, each: &mut impl FnMut(Frame<'_>)) {
        // Padded positions of the signal: [HALF, HALF + pushed).
        let real_end = HALF + self.pushed;
        loop {
            if self.finished && self.next >= Self::frame_count(self.pushed) {
                return;
            }
            let start = self.next * HOP;
            let at = start - self.base;
            if at + N_FFT > self.buf.len() {
                return;
            }
            let lo = HALF.max(start).min(start + N_FFT) - start;
            let hi = real_end.clamp(start, start + N_FFT) - start;
            each(Frame {
                index: self.next,
                samples: &self.buf[at..at + N_FFT],
                real: lo..hi.max(lo),
            });
            self.next += 1;
        }
    }
}

/// A periodic Hann window (`scipy.signal.get_window("hann", n, fftbins=True)`).
pub fn hann(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos())
        .collect()
}

/// The STFT of one frame: windowing and a real FFT, reusing its buffers.
///
/// The FFT runs in f64, as librosa's does (its window is f64, so numpy promotes the frames):
/// an f32 FFT has an absolute noise floor near 1e-7 of the peak, which is where spectral
/// contrast's valleys live (off by up to 19 dB on a chirp). Results are rounded to f32 after.
pub struct Stft {
    fft: Arc<dyn RealToComplex<f64>>,
    window: Vec<f64>,
    input: Vec<f64>,
    scratch: Vec<Complex64>,
    spectrum: Vec<Complex64>,
}

impl Default for Stft {
    fn default() -> Self {
        Stft::new()
    }
}

impl Stft {
    pub fn new() -> Stft {
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(N_FFT);
        Stft {
            scratch: fft.make_scratch_vec(),
            spectrum: fft.make_output_vec(),
            input: vec![0.0; N_FFT],
            window: hann(N_FFT),
            fft,
        }
    }

    /// Writes the frame's power spectrum `|X|²` (`N_BINS` values).
    pub fn power(&mut self, frame: &[f32], power: &mut [f32]) {
        for ((x, &s), &w) in self.input.iter_mut().zip(frame).zip(&self.window) {
            *x = s as f64 * w;
        }
        self.fft
            .process_with_scratch(&mut self.input, &mut self.spectrum, &mut self.scratch)
            .expect("buffer sizes come from the plan");
        for (c, p) in self.spectrum.iter().zip(power.iter_mut()) {
            *p = (c.re * c.re + c.im * c.im) as f32;
        }
        debug_assert_eq!(power.len(), N_BINS);
    }

    /// Writes the frame's power spectrum `|X|²` and magnitude `|X|` (`N_BINS` each).
    pub fn power_and_magnitude(&mut self, frame: &[f32], power: &mut [f32], magnitude: &mut [f32]) {
        self.power(frame, power);
        // f32 square roots vectorize; the magnitudes librosa starts from are f32 too.
        for (m, &p) in magnitude.iter_mut().zip(power.iter()) {
            *m = p.sqrt();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames_of(signal: &[f32], block: usize) -> Vec<(usize, Vec<f32>, Range<usize>)> {
        let mut f = Framer::new();
        let mut out = Vec::new();
        for chunk in signal.chunks(block.max(1)) {
            f.push(chunk, |fr| {
                out.push((fr.index, fr.samples.to_vec(), fr.real.clone()))
            });
        }
        f.finish(|fr| out.push((fr.index, fr.samples.to_vec(), fr.real.clone())));
        out
    }

    #[test]
    fn frames_match_a_padded_signal_whatever_the_block_size() {
        let signal: Vec<f32> = (0..10_000).map(|i| (i as f32 * 0.01).sin()).collect();
        let mut padded = vec![0.0; HALF];
        padded.extend_from_slice(&signal);
        padded.extend(std::iter::repeat_n(0.0, HALF));
        let want = Framer::frame_count(signal.len());
        for block in [1, 7, 512, 4096, 100_000] {
            let got = frames_of(&signal, block);
            assert_eq!(got.len(), want, "block {block}");
            for (i, (idx, s, real)) in got.iter().enumerate() {
                assert_eq!(*idx, i);
                assert_eq!(&s[..], &padded[i * HOP..i * HOP + N_FFT]);
                let lo = HALF.saturating_sub(i * HOP);
                let hi = (HALF + signal.len()).saturating_sub(i * HOP).min(N_FFT);
                assert_eq!(*real, lo..hi);
            }
        }
    }

    #[test]
    fn an_empty_signal_has_one_frame() {
        let got = frames_of(&[], 10);
        assert_eq!(got.len(), 1);
        assert!(got[0].1.iter().all(|&x| x == 0.0));
        assert!(got[0].2.is_empty());
    }

    #[test]
    fn a_sine_peaks_in_its_bin() {
        let k = 93;
        let f = crate::params::bin_hz(k);
        let frame: Vec<f32> = (0..N_FFT)
            .map(|i| (2.0 * std::f64::consts::PI * f * i as f64 / 22_050.0).sin() as f32)
            .collect();
        let (mut p, mut m) = (vec![0.0; N_BINS], vec![0.0; N_BINS]);
        Stft::new().power_and_magnitude(&frame, &mut p, &mut m);
        let peak = (0..N_BINS).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
        assert_eq!(peak, k);
        // Hann's coherent gain is 1/2: the peak magnitude is N/4.
        assert!((m[k] - N_FFT as f32 / 4.0).abs() < 1.0, "{}", m[k]);
    }
}
