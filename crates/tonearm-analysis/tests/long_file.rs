//! A two-hour signal is analysed in memory that does not grow with its length: frame
//! features are summarized as they stream, and only the onset envelope (8 bytes per 23 ms
//! frame) and the summaries are kept. Its own test binary, so the process's peak memory is
//! this test's alone.

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
    // A click every half second over a tone: generated block by block, never held.
    let feed = |sink: &mut dyn FnMut(&[f32])| -> Result<(), ()> {
        let mut buf = vec![0f32; block];
        let mut at = 0;
        while at < total {
            let n = block.min(total - at);
            for (j, x) in buf[..n].iter_mut().enumerate() {
                let i = at + j;
                let t = i as f32 / sr as f32;
                let click = if i % (sr / 2) < 200 { 0.5 } else { 0.0 };
                *x = 0.2 * (2.0 * std::f32::consts::PI * 220.0 * t).sin() + click;
            }
            sink(&buf[..n]);
            at += n;
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
