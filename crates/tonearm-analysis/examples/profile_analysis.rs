//! Where the analysis spends its time: `cargo run --release -p tonearm-analysis --example profile_analysis -- FILE`.
use std::time::Instant;
use tonearm_analysis::extract::{Calibrator, Extractor};

fn main() {
    let path = std::env::args().nth(1).expect("a file");
    let t = Instant::now();
    let mut held = Vec::new();
    tonearm_media::mono::stream_mono(
        std::path::Path::new(&path),
        tonearm_analysis::SAMPLE_RATE,
        &std::sync::atomic::AtomicBool::new(false),
        |b| held.extend_from_slice(b),
    )
    .unwrap();
    println!("decode + resample  {:>7.3} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let mut c = Calibrator::new();
    c.push(&held);
    let cal = c.finish();
    println!("pass 1             {:>7.3} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let mut e = Extractor::new(&cal);
    let mut n = 0;
    e.push(&held, |_, _| n += 1);
    e.finish(|_, _| n += 1);
    println!("pass 2 ({n} frames) {:>7.3} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let a = tonearm_analysis::analyze(&held).unwrap();
    println!(
        "analyze (both + estimates) {:>7.3} s  {:?}",
        t.elapsed().as_secs_f64(),
        a.tempo
    );
}
