//! Times each stage of the transcode pipeline on one file (decode, resample, LAME, a chunk):
//! `cargo run --release -p tonearm-media --example profile_transcode -- FILE`. For finding the slow stage;
//! `make bench` is the measurement of record.
use std::time::Instant;
fn main() {
    let path = std::path::PathBuf::from(std::env::args().nth(1).unwrap());
    let t = Instant::now();
    let mut r = tonearm_media::AudioReader::open(&path).unwrap();
    let info = r.info().clone();
    let all = r.read_all().unwrap();
    println!("decode: {:?} ({} samples)", t.elapsed(), all.len());
    let frames = info.frames.unwrap();
    let n48 = tonearm_media::layout::frames_at_48k(frames, info.sample_rate);
    let t = Instant::now();
    let mut p = tonearm_media::resample::Pcm48k::open(&path, 0, n48, 1.0).unwrap();
    let mut buf = Vec::new();
    let mut left = n48;
    while left > 0 {
        let n = left.min(48000);
        buf.clear();
        p.fill(&mut buf, n as usize).unwrap();
        left -= n;
    }
    println!("decode+resample: {:?}", t.elapsed());
    let t = Instant::now();
    let _p2 = tonearm_media::resample::Pcm48k::open(&path, 1_000_000, n48, 1.0).unwrap();
    println!("open at offset (incl resampler init): {:?}", t.elapsed());
    let mut enc = tonearm_media::encode::Mp3Encoder::new(128, 2).unwrap();
    let pcm = vec![0.1f32; 48000 * 2];
    let t = Instant::now();
    let mut out = Vec::new();
    for _ in 0..240 {
        enc.encode(&pcm, &mut out).unwrap();
    }
    println!("lame 240 s of 48k stereo: {:?}", t.elapsed());
    let plan = tonearm_media::StreamPlan::new(
        tonearm_media::Format::Mp3,
        tonearm_media::Quality::Medium,
        info.sample_rate,
        info.channels,
        frames,
        312,
    );
    for c in [0u64, 10] {
        let t = Instant::now();
        let mut first = None;
        tonearm_media::encode_chunk(
            &path,
            &plan,
            tonearm_media::TranscodeSpec { gain: 1.0 },
            c,
            &mut |_| {
                if first.is_none() {
                    first = Some(t.elapsed());
                }
                true
            },
        )
        .unwrap();
        println!(
            "chunk {c}: first frame {:?}, whole {:?}",
            first.unwrap(),
            t.elapsed()
        );
    }
}
