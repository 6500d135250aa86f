//! Synthesized audio with exactly known content: the demo library and the tests are built from it,
//! so expectations (duration, pitch, tempo) are exact rather than measured from a fixture.
//!
//! Beyond the tones here: [`signals`] (noise, sweeps, a click track), [`drums`] (a synthesized kit
//! playing 4/4 grooves at a known tempo), [`harmony`] (chord progressions in a known key) and
//! [`song`](mod@song) (both at once). Every generator is a pure function of its arguments, a `seed`
//! included ([`rng`]), so a test can name its material and expect exact numbers from it.

use std::io::{self, Write};

pub mod drums;
pub mod harmony;
pub mod rng;
pub mod signals;
pub mod song;

pub use drums::{groove, groove_with, tempo_set, Feel, Groove, TempoCase, TEMPO_CASE_SECONDS};
pub use harmony::{key_name, key_progression, key_set, KeyCase, KEY_CASE_SECONDS};
pub use signals::{chirp, click_track, white_noise};
pub use song::song;

/// The peak the generators normalize to: loud, with headroom for mixing or resampler overshoot.
const PEAK: f64 = 0.8;

/// Frames in `seconds` at `sample_rate`, rounded: the length rule of every generator here.
fn frames_for(seconds: f64, sample_rate: u32) -> usize {
    (seconds.max(0.0) * sample_rate as f64).round() as usize
}

/// Adds `src * gain` into `dst` from frame `at` on, dropping whatever falls past the end.
fn mix_into(dst: &mut [f64], at: usize, src: &[f64], gain: f64) {
    if let Some(tail) = dst.get_mut(at..) {
        for (d, s) in tail.iter_mut().zip(src) {
            *d += gain * s;
        }
    }
}

/// Fades the last `frames` frames linearly to silence, so a piece cut mid-note ends without a click.
fn fade_out(mix: &mut [f64], frames: usize) {
    let n = frames.min(mix.len());
    let from = mix.len() - n;
    for (i, s) in mix[from..].iter_mut().enumerate() {
        *s *= 1.0 - (i + 1) as f64 / n as f64;
    }
}

fn peak(mix: &[f64]) -> f64 {
    mix.iter().fold(0.0, |m, s| m.max(s.abs()))
}

/// A mono `Pcm` of `mix` scaled so its peak is `target` (silence stays silence).
fn mono_normalized(mix: &[f64], sample_rate: u32, target: f64) -> Pcm {
    let p = peak(mix);
    let scale = if p > 0.0 { target / p } else { 0.0 };
    Pcm {
        sample_rate,
        channels: 1,
        samples: mix.iter().map(|s| (s * scale) as f32).collect(),
    }
}

/// A block of interleaved `f32` PCM with its format.
#[derive(Debug, Clone, PartialEq)]
pub struct Pcm {
    pub sample_rate: u32,
    pub channels: u16,
    /// Interleaved samples in [-1, 1].
    pub samples: Vec<f32>,
}

impl Pcm {
    /// Number of sample frames (samples per channel).
    pub fn frames(&self) -> usize {
        self.samples.len() / self.channels.max(1) as usize
    }
}

/// Frequency in Hz of a MIDI note number (A4 = 69 = 440 Hz).
pub fn midi_hz(note: u8) -> f64 {
    440.0 * 2f64.powf((note as f64 - 69.0) / 12.0)
}

/// A steady sine tone.
pub fn sine(freq: f64, seconds: f64, sample_rate: u32, channels: u16, amplitude: f32) -> Pcm {
    let n = (seconds * sample_rate as f64).round() as usize;
    let mut samples = Vec::with_capacity(n * channels as usize);
    for i in 0..n {
        let v = amplitude
            * (2.0 * std::f64::consts::PI * freq * i as f64 / sample_rate as f64).sin() as f32;
        for _ in 0..channels {
            samples.push(v);
        }
    }
    Pcm {
        sample_rate,
        channels,
        samples,
    }
}

/// A melody: one chord (a set of MIDI notes) per beat at `bpm`, each with a short attack/decay
/// envelope so beats are audible and the tempo is exactly `bpm`.
pub fn chord_progression(
    chords: &[&[u8]],
    bpm: f64,
    beats: usize,
    sample_rate: u32,
    channels: u16,
) -> Pcm {
    let beat_len = (60.0 / bpm * sample_rate as f64).round() as usize;
    let total = beat_len * beats;
    let mut samples = vec![0f32; total * channels as usize];
    for beat in 0..beats {
        let chord = chords[beat % chords.len()];
        let gain = 0.5 / chord.len().max(1) as f64;
        for i in 0..beat_len {
            let t = i as f64 / sample_rate as f64;
            // 5 ms attack, exponential decay: a clear onset on every beat.
            let env = (t / 0.005).min(1.0) * (-3.0 * t).exp();
            let v: f64 = chord
                .iter()
                .map(|&n| (2.0 * std::f64::consts::PI * midi_hz(n) * t).sin())
                .sum::<f64>()
                * gain
                * env;
            let frame = beat * beat_len + i;
            for c in 0..channels as usize {
                samples[frame * channels as usize + c] = v as f32;
            }
        }
    }
    Pcm {
        sample_rate,
        channels,
        samples,
    }
}

/// The 44-byte header of a 16-bit PCM WAV with `data_len` bytes of samples (writers that
/// stream fill it in last).
pub fn wav_header(channels: u16, sample_rate: u32, data_len: u32) -> [u8; 44] {
    let block_align = channels * 2;
    let mut h = [0u8; 44];
    let mut at = 0;
    let mut put = |b: &[u8]| {
        h[at..at + b.len()].copy_from_slice(b);
        at += b.len();
    };
    put(b"RIFF");
    put(&(36 + data_len).to_le_bytes());
    put(b"WAVEfmt ");
    put(&16u32.to_le_bytes());
    put(&1u16.to_le_bytes());
    put(&channels.to_le_bytes());
    put(&sample_rate.to_le_bytes());
    put(&(sample_rate * block_align as u32).to_le_bytes());
    put(&block_align.to_le_bytes());
    put(&16u16.to_le_bytes());
    put(b"data");
    put(&data_len.to_le_bytes());
    h
}

/// Writes 16-bit PCM WAV. Used by the demo library and tests; real ingest never writes WAV.
pub fn write_wav<W: Write>(mut w: W, pcm: &Pcm) -> io::Result<()> {
    let data_len = (pcm.samples.len() * 2) as u32;
    w.write_all(&wav_header(pcm.channels, pcm.sample_rate, data_len))?;
    let mut buf = Vec::with_capacity(pcm.samples.len() * 2);
    for s in &pcm.samples {
        let v = (s.clamp(-1.0, 1.0) * 32767.0).round() as i16;
        buf.extend_from_slice(&v.to_le_bytes());
    }
    w.write_all(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_header_sizes_match_data() {
        let pcm = sine(440.0, 0.5, 8000, 2, 0.5);
        assert_eq!(pcm.frames(), 4000);
        let mut out = Vec::new();
        write_wav(&mut out, &pcm).unwrap();
        assert_eq!(out.len(), 44 + 4000 * 4);
        assert_eq!(
            u32::from_le_bytes(out[4..8].try_into().unwrap()) as usize,
            out.len() - 8
        );
    }

    #[test]
    fn progression_has_exact_length() {
        let pcm = chord_progression(&[&[60, 64, 67]], 120.0, 8, 44100, 1);
        assert_eq!(pcm.frames(), 8 * 22050);
        assert!(pcm.samples.iter().all(|s| s.abs() <= 0.5001));
    }
}
