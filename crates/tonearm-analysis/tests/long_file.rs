//! A two-hour track is analysed in memory that does not grow with its length: frame
//! features are summarized as they stream, and only the summaries, the onset envelope and two
//! tempo layers (12 bytes per 23 ms frame) are kept. Its own test binary, so the process's
//! peak memory is this test's alone.

use tonearm_analysis::{analyze_source, SAMPLE_RATE};

/// Peak resident memory of this process so far, in KB (`VmHWM`).
fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

#[test]
fn two_hours_in_flat_memory() {
    let sr = SAMPLE_RATE as usize;
    let total = 2 * 3600 * sr;
    let block = 8192;
    // Ten seconds of a rock groove at 120 BPM, repeated: generated once, never the whole.
    let bar = tonearm_media::synth::groove(
        tonearm_media::synth::Groove::Rock,
        120.0,
        10.0,
        SAMPLE_RATE,
        5,
    );
    let feed = |sink: &mut dyn FnMut(&[f32])| -> Result<(), ()> {
        let mut at = 0;
        while at < total {
            for block in bar.samples.chunks(block) {
                let n = block.len().min(total - at);
                sink(&block[..n]);
                at += n;
                if at == total {
                    break;
                }
            }
        }
        Ok(())
    };
    let before = peak_rss_kb();
    let a = analyze_source(feed).unwrap().expect("analysable");
    let grew_mb = (peak_rss_kb().saturating_sub(before)) as f64 / 1024.0;
    println!(
        "2 h analysed: peak RSS grew {grew_mb:.1} MB, tempo {:?}",
        a.tempo
    );
    assert!((a.duration_s - 7200.0).abs() < 0.01);
    // Holding the samples alone would take 635 MB.
    assert!(grew_mb < 48.0, "peak RSS grew {grew_mb:.1} MB");
    let bpm = a.tempo.expect("a tempo").bpm;
    assert!((bpm - 120.0).abs() / 120.0 < 0.04, "{bpm}");
}
