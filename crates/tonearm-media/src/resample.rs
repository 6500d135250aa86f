//! A source as a 48 kHz, 1- or 2-channel stream that can start at any sample.
//!
//! Starting mid-file must give the same samples a full pass would, so that independently encoded
//! chunks join seamlessly. For a rate other than 48 kHz the resampler is restarted at a source
//! position where source and output sample grids coincide (a multiple of `rate / gcd(rate, 48000)`),
//! with enough lead-in that the filter history is real audio, and the lead-in output is discarded.

use crate::decode::AudioReader;
use crate::layout::OUT_RATE;
use crate::MediaError;
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};
use std::path::Path;

/// Input frames per resampler call.
const CHUNK_IN: usize = 1024;
/// Source frames of lead-in before a restart point (well over the filter's half length).
const LEAD_IN: u64 = 1024;

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Output channels for a source: mono stays mono, everything else becomes stereo.
pub fn out_channels(source_channels: u16) -> usize {
    if source_channels <= 1 {
        1
    } else {
        2
    }
}

/// Mixes interleaved `src_ch`-channel audio down to `out_ch` channels, appending to `out`.
/// Stereo keeps L/R; for more channels the centre (3rd) and surrounds (5th, 6th) fold in at -3 dB.
pub(crate) fn downmix(input: &[f32], src_ch: usize, out_ch: usize, out: &mut Vec<f32>) {
    if src_ch == out_ch {
        out.extend_from_slice(input);
        return;
    }
    for f in input.chunks_exact(src_ch) {
        if out_ch == 1 {
            out.push(f.iter().sum::<f32>() / src_ch as f32);
        } else {
            let c = if src_ch >= 3 { f[2] * 0.707 } else { 0.0 };
            let (ls, rs) = if src_ch >= 6 {
                (f[4] * 0.707, f[5] * 0.707)
            } else {
                (0.0, 0.0)
            };
            let norm = if src_ch >= 3 { 1.0 / 1.707 } else { 1.0 };
            out.push((f[0] + c + ls) * norm);
            out.push((f[1] + c + rs) * norm);
        }
    }
}

struct Resampling {
    /// rubato's FFT resampler: a fixed rational ratio, exact integer delay, and several times
    /// faster than its sinc resampler at equal quality (measured: it was the costliest stage).
    rs: Fft<f32>,
    pending: Vec<f32>,
    scratch: Vec<f32>,
}

/// 48 kHz PCM from a file, starting at a given 48 kHz frame and zero after `frames_48k`.
pub struct Pcm48k {
    reader: AudioReader,
    src_ch: usize,
    out_ch: usize,
    resampling: Option<Resampling>,
    /// Output frames still to drop before the requested start.
    discard: u64,
    /// 48 kHz index of the next frame `fill` hands out.
    pos: u64,
    end: u64,
    gain: f32,
    source_done: bool,
    ready: Vec<f32>,
    ready_at: usize,
    decoded: Vec<f32>,
    mixed: Vec<f32>,
}

impl Pcm48k {
    /// Opens `path` positioned at 48 kHz frame `start`. `frames_48k` is the planned length;
    /// `gain` is a linear factor applied to every sample.
    pub fn open(path: &Path, start: u64, frames_48k: u64, gain: f32) -> Result<Pcm48k, MediaError> {
        let reader = AudioReader::open(path)?;
        Self::from_reader(reader, start, frames_48k, gain)
    }

    /// Like [`open`](Self::open) with an already opened reader (positioned at its start).
    pub fn from_reader(
        mut reader: AudioReader,
        start: u64,
        frames_48k: u64,
        gain: f32,
    ) -> Result<Pcm48k, MediaError> {
        let info = reader.info().clone();
        let rate = info.sample_rate as u64;
        let src_ch = info.channels as usize;
        let out_ch = out_channels(info.channels);
        let (resampling, discard) = if rate == OUT_RATE as u64 {
            reader.seek(start)?;
            (None, 0)
        } else {
            let g = gcd(rate, OUT_RATE as u64);
            let (step_in, step_out) = (rate / g, OUT_RATE as u64 / g);
            let want_in = (start * rate / OUT_RATE as u64).saturating_sub(LEAD_IN);
            let s0 = want_in / step_in * step_in;
            let q0 = s0 / step_in * step_out;
            reader.seek(s0)?;
            let rs = Fft::<f32>::new(
                rate as usize,
                OUT_RATE as usize,
                CHUNK_IN,
                out_ch,
                FixedSync::Input,
            )
            .map_err(|e| MediaError::Codec(format!("resampler: {e}")))?;
            let delay = rs.output_delay() as u64;
            let scratch = vec![0.0; out_ch * rs.output_frames_max()];
            (
                Some(Resampling {
                    rs,
                    pending: Vec::new(),
                    scratch,
                }),
                delay + (start - q0),
            )
        };
        Ok(Pcm48k {
            reader,
            src_ch,
            out_ch,
            resampling,
            discard,
            pos: start,
            end: frames_48k,
            gain,
            source_done: false,
            ready: Vec::new(),
            ready_at: 0,
            decoded: Vec::new(),
            mixed: Vec::new(),
        })
    }

    /// Channels of the samples `fill` produces.
    pub fn channels(&self) -> usize {
        self.out_ch
    }

    /// Appends exactly `frames` frames to `out` (silence past the end of the source).
    pub fn fill(&mut self, out: &mut Vec<f32>, frames: usize) -> Result<(), MediaError> {
        let ch = self.out_ch;
        let mut left = frames;
        while left > 0 {
            if self.pos >= self.end {
                out.resize(out.len() + left * ch, 0.0);
                self.pos += left as u64;
                return Ok(());
            }
            let avail = (self.ready.len() - self.ready_at) / ch;
            if avail == 0 {
                self.ready.clear();
                self.ready_at = 0;
                self.produce()?;
                continue;
            }
            let take = avail.min(left).min((self.end - self.pos) as usize);
            let slice = &self.ready[self.ready_at..self.ready_at + take * ch];
            if self.gain == 1.0 {
                out.extend_from_slice(slice);
            } else {
                out.extend(slice.iter().map(|s| (s * self.gain).clamp(-1.0, 1.0)));
            }
            self.ready_at += take * ch;
            self.pos += take as u64;
            left -= take;
        }
        Ok(())
    }

    /// Decodes (and resamples) one more block into `ready`, honouring `discard`.
    fn produce(&mut self) -> Result<(), MediaError> {
        self.decoded.clear();
        let n = if self.source_done {
            0
        } else {
            self.reader.read(&mut self.decoded)?
        };
        if n == 0 {
            self.source_done = true;
        }
        self.mixed.clear();
        downmix(&self.decoded, self.src_ch, self.out_ch, &mut self.mixed);
        let ch = self.out_ch;
        match &mut self.resampling {
            None => {
                if self.source_done {
                    // Source shorter than planned: the rest is silence.
                    self.mixed.resize(CHUNK_IN * ch, 0.0);
                }
                std::mem::swap(&mut self.ready, &mut self.mixed);
            }
            Some(r) => {
                r.pending.extend_from_slice(&self.mixed);
                if self.source_done {
                    // Past the end the source is silence; it also flushes the filter tail.
                    r.pending.resize(r.pending.len().max(CHUNK_IN * ch), 0.0);
                }
                let mut consumed_frames = 0;
                while (r.pending.len() / ch) - consumed_frames >= r.rs.input_frames_next() {
                    let need = r.rs.input_frames_next();
                    let input = &r.pending[consumed_frames * ch..(consumed_frames + need) * ch];
                    let input = InterleavedSlice::new(input, ch, need)
                        .map_err(|e| MediaError::Codec(format!("resampler input: {e}")))?;
                    let cap = r.scratch.len() / ch;
                    let mut output = InterleavedSlice::new_mut(&mut r.scratch[..], ch, cap)
                        .map_err(|e| MediaError::Codec(format!("resampler output: {e}")))?;
                    let (used, written) =
                        r.rs.process_into_buffer(&input, &mut output, None)
                            .map_err(|e| MediaError::Codec(format!("resampler: {e}")))?;
                    consumed_frames += used;
                    self.ready.extend_from_slice(&r.scratch[..written * ch]);
                }
                r.pending.drain(..consumed_frames * ch);
            }
        }
        if self.discard > 0 {
            let drop = (self.discard as usize).min(self.ready.len() / ch);
            self.ready.drain(..drop * ch);
            self.discard -= drop as u64;
        }
        Ok(())
    }
}
