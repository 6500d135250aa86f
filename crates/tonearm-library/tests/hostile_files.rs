//! Damaged and hostile files: seeded mutations (bit flips, truncations, splices, zeroed runs) of
//! valid files in every format the demo library and ffmpeg produce. The scan must finish, every
//! file must end up either as a track or as a skipped file with a reason, and nothing is lost.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use tonearm_library::{scan, ScanProgress};
use tonearm_store::{Store, TrackFilter};

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(bytes: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = bytes.to_vec();
    match rng.below(5) {
        0 => {
            for _ in 0..1 + rng.below(20) {
                let i = rng.below(b.len());
                b[i] ^= 1 << rng.below(8);
            }
        }
        1 => b.truncate(rng.below(b.len())),
        2 => {
            // Corrupt the header region, where parsers read sizes and counts.
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(b.len().min(512));
                b[i] = rng.next() as u8;
            }
        }
        3 => {
            let at = rng.below(b.len());
            let len = rng.below(4096).min(b.len() - at);
            b[at..at + len].fill(0xFF);
        }
        _ => {
            let from = rng.below(b.len());
            let to = rng.below(b.len());
            let len = rng.below(2048).min(b.len() - from.max(to));
            let piece = b[from..from + len].to_vec();
            b[to..to + len].copy_from_slice(&piece);
        }
    }
    b
}

fn seeds(dir: &Path) -> Vec<PathBuf> {
    let demo = dir.join("demo");
    let mut files = tonearm_library::demo::write_demo_library(&demo).unwrap();
    let wav = files
        .iter()
        .find(|f| f.extension().is_some_and(|e| e == "wav"))
        .unwrap()
        .clone();
    for (ext, codec) in [
        ("flac", "flac"),
        ("ogg", "libvorbis"),
        ("m4a", "aac"),
        ("aiff", "pcm_s16be"),
    ] {
        let out = demo.join(format!("seed.{ext}"));
        let st = Command::new("ffmpeg")
            .args(["-y", "-v", "error", "-t", "4", "-i"])
            .arg(&wav)
            .args(["-map", "0:a", "-c:a", codec])
            .arg(&out)
            .status()
            .expect("ffmpeg must be installed");
        assert!(st.success());
        files.push(out);
    }
    files
}

#[tokio::test(flavor = "multi_thread")]
async fn scanning_hundreds_of_damaged_files_never_stops_or_loses_one() {
    let dir = tempfile::tempdir().unwrap();
    let seeds = seeds(dir.path());
    let lib = dir.path().join("lib");
    std::fs::create_dir_all(&lib).unwrap();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let per_seed = 40;
    for seed in &seeds {
        let bytes = std::fs::read(seed).unwrap();
        let ext = seed.extension().unwrap().to_string_lossy().to_string();
        for i in 0..per_seed {
            std::fs::write(
                lib.join(format!(
                    "{}-{i}.{ext}",
                    seed.file_stem().unwrap().to_string_lossy()
                )),
                mutate(&bytes, &mut rng),
            )
            .unwrap();
        }
    }
    let total = (seeds.len() * per_seed) as i64;
    let store = Store::open(&dir.path().join("t.db")).await.unwrap();
    let progress = Arc::new(ScanProgress::default());
    progress.try_start().unwrap();
    let report = scan(&store, std::slice::from_ref(&lib), &progress)
        .await
        .expect("scan completes");
    let (tracks, n_tracks) = store
        .tracks(&TrackFilter {
            limit: 10_000,
            ..Default::default()
        })
        .await
        .unwrap();
    let issues = store.scan_issues().await.unwrap();
    assert_eq!(report.found as i64, total);
    assert_eq!(
        n_tracks + issues.len() as i64,
        total,
        "every file is a track or an issue"
    );
    assert!(issues.iter().all(|i| !i.reason.is_empty()));
    assert!(
        !issues.is_empty() && n_tracks > 0,
        "{n_tracks} tracks, {} issues",
        issues.len()
    );
    // Whatever was accepted is playable: the decoder reads it to the end without failing.
    for t in tracks.iter().take(60) {
        let src = store.track_source(&t.id).await.unwrap().unwrap();
        let path = PathBuf::from(&src.path);
        let result = std::panic::catch_unwind(|| {
            tonearm_media::AudioReader::open(&path).and_then(|mut r| r.read_all())
        });
        assert!(
            matches!(result, Ok(Ok(_))),
            "accepted file {} does not decode to the end: {:?}",
            src.path,
            result.map(|r| r.map(|samples| samples.len()))
        );
    }
    // A rescan reads nothing again: damaged files are remembered with their stamps.
    progress.try_start().unwrap();
    let again = scan(&store, &[lib], &progress).await.unwrap();
    assert_eq!(again.unchanged as i64, total);
}
