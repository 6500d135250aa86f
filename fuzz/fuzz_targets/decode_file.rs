//! Arbitrary bytes as an audio file: opening and decoding returns data or an error, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join("input");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    if let Ok(mut r) = tonearm_media::AudioReader::open(&path) {
        let _ = r.read_all();
    }
});
