//! A file as one mono channel at a chosen rate, streamed in blocks: what audio analysis reads
//! (librosa's `load(sr=22050, mono=True)`: the mean of the channels, then resampled).

use crate::decode::AudioReader;
use crate::MediaError;
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// Input frames per resampler call.
const CHUNK_IN: usize = 4096;

/// Decodes `path` to mono at `rate` and hands the samples to `sink` in blocks, in order.
/// Returns the number of samples handed over: the source's length at `rate` (rounded), the
/// resampler's delay removed. Checks `cancel` between blocks.
pub fn stream_mono(
    path: &Path,
    rate: u32,
    cancel: &AtomicBool,
    mut sink: impl FnMut(&[f32]),
) -> Result<u64, MediaError> {
    let mut reader = AudioReader::open(path)?;
    let info = reader.info().clone();
    let ch = info.channels.max(1) as usize;
    let mut decoded = Vec::new();
    let mut mono = Vec::new();
    let mut resampler = if info.sample_rate == rate {
        None
    } else {
        let rs = Fft::<f32>::new(
            info.sample_rate as usize,
            rate as usize,
            CHUNK_IN,
            1,
            FixedSync::Input,
        )
        .map_err(|e| MediaError::Codec(format!("resampler: {e}")))?;
        let scratch = vec![0.0; rs.output_frames_max()];
        Some((rs, Vec::<f32>::new(), scratch))
    };
    let mut delay_left = resampler.as_mut().map_or(0, |(rs, ..)| rs.output_delay());
    let (mut frames_in, mut sent) = (0u64, 0u64);
    let mut done = false;
    while !done {
        if cancel.load(Ordering::Relaxed) {
            return Err(MediaError::Cancelled);
        }
        decoded.clear();
        let n = reader.read(&mut decoded)?;
        frames_in += n as u64;
        mono.clear();
        mono.extend(
            decoded
                .chunks_exact(ch)
                .map(|f| f.iter().sum::<f32>() / ch as f32),
        );
        match &mut resampler {
            None => {
                done = n == 0;
                sent += mono.len() as u64;
                if !mono.is_empty() {
                    sink(&mono);
                }
            }
            Some((rs, pending, scratch)) => {
                pending.extend_from_slice(&mono);
                let want = (frames_in as u128 * rate as u128 / info.sample_rate as u128) as u64;
                if n == 0 {
                    // Flush the filter: feed silence until every wanted sample came out.
                    if sent >= want {
                        done = true;
                        continue;
                    }
                    pending.resize(pending.len() + CHUNK_IN, 0.0);
                }
                let mut used_total = 0;
                while pending.len() - used_total >= rs.input_frames_next() {
                    let need = rs.input_frames_next();
                    let input =
                        InterleavedSlice::new(&pending[used_total..used_total + need], 1, need)
                            .map_err(|e| MediaError::Codec(format!("resampler input: {e}")))?;
                    let cap = scratch.len();
                    let mut output = InterleavedSlice::new_mut(&mut scratch[..], 1, cap)
                        .map_err(|e| MediaError::Codec(format!("resampler output: {e}")))?;
                    let (used, written) = rs
                        .process_into_buffer(&input, &mut output, None)
                        .map_err(|e| MediaError::Codec(format!("resampler: {e}")))?;
                    used_total += used;
                    let skip = delay_left.min(written);
                    delay_left -= skip;
                    let out = &scratch[skip..written];
                    let room = want.saturating_sub(sent) as usize;
                    let out = if n == 0 {
                        &out[..out.len().min(room)]
                    } else {
                        out
                    };
                    if !out.is_empty() {
                        sent += out.len() as u64;
                        sink(out);
                    }
                }
                pending.drain(..used_total);
            }
        }
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth;

    fn wav(dir: &Path, pcm: &synth::Pcm) -> std::path::PathBuf {
        let p = dir.join("a.wav");
        synth::write_wav(std::fs::File::create(&p).unwrap(), pcm).unwrap();
        p
    }

    #[test]
    fn stereo_44k1_becomes_mono_22k05_of_the_right_length_and_pitch() {
        let dir = tempfile::tempdir().unwrap();
        let pcm = synth::sine(1000.0, 3.0, 44_100, 2, 0.5);
        let path = wav(dir.path(), &pcm);
        let mut out = Vec::new();
        let n = stream_mono(&path, 22_050, &AtomicBool::new(false), |b| {
            out.extend_from_slice(b)
        })
        .unwrap();
        assert_eq!(n as usize, out.len());
        assert_eq!(out.len(), 66_150);
        // Zero crossings of a 1 kHz sine over 3 s: 6000, and aligned from the first sample.
        let crossings = out
            .windows(2)
            .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
            .count();
        assert!((crossings as i64 - 6000).abs() <= 4, "{crossings}");
        // The resampler's delay is removed: sample i is the sine at time i / 22,050 s.
        let worst = (1000..60_000)
            .map(|i| {
                let t = i as f64 / 22_050.0;
                (out[i] as f64 - 0.5 * (2.0 * std::f64::consts::PI * 1000.0 * t).sin()).abs()
            })
            .fold(0.0, f64::max);
        assert!(worst < 0.01, "off the ideal sine by {worst}");
    }

    #[test]
    fn a_file_at_the_rate_passes_through() {
        let dir = tempfile::tempdir().unwrap();
        let pcm = synth::sine(440.0, 1.0, 22_050, 1, 0.5);
        let path = wav(dir.path(), &pcm);
        let mut out = Vec::new();
        stream_mono(&path, 22_050, &AtomicBool::new(false), |b| {
            out.extend_from_slice(b)
        })
        .unwrap();
        assert_eq!(out.len(), 22_050);
        assert!((out[100] - pcm.samples[100]).abs() < 1e-4);
    }
}
