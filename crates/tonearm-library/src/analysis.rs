//! Analysing a library file: decode to mono 22,050 Hz (`tonearm_media::mono`) and run
//! `tonearm_analysis` over it. The analysis reads its input twice; a file of up to
//! [`HOLD_SECONDS`] is decoded once and held (about 5 MB a minute), a longer one is decoded
//! twice, so memory stays bounded whatever the file's length.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use tonearm_analysis::{Analysis, NotAnalysable, SAMPLE_RATE};
use tonearm_media::{AudioReader, MediaError};

/// Files up to this long are decoded once and held in memory for both passes.
pub const HOLD_SECONDS: u64 = 10 * 60;

/// Analyses the audio file at `path`. The outer error is a decode failure (the file is damaged
/// or not audio); the inner one says why decoded audio has no analysis.
pub fn analyze_file(
    path: &Path,
    cancel: &AtomicBool,
) -> Result<Result<Analysis, NotAnalysable>, MediaError> {
    let declared = {
        let r = AudioReader::open(path)?;
        let info = r.info();
        info.frames
            .map(|f| f / info.sample_rate.max(1) as u64)
            .unwrap_or(u64::MAX)
    };
    if declared <= HOLD_SECONDS {
        let mut held = Vec::with_capacity((declared + 1) as usize * SAMPLE_RATE as usize);
        tonearm_media::mono::stream_mono(path, SAMPLE_RATE, cancel, |b| held.extend_from_slice(b))?;
        return Ok(tonearm_analysis::analyze(&held));
    }
    tonearm_analysis::analyze_source(|sink| {
        tonearm_media::mono::stream_mono(path, SAMPLE_RATE, cancel, |b| sink(b)).map(|_| ())
    })
}
