//! The demo library: a handful of short synthesized, tagged tracks in several formats, so a new
//! server has something to play at once. Each title names its key and tempo, which are exact.

use crate::cover::{embed_cover, gradient_png};
use lofty::prelude::*;
use lofty::probe::Probe;
use std::path::{Path, PathBuf};
use tonearm_media::encode::opus_lookahead;
use tonearm_media::synth::{chord_progression, write_wav, Pcm};
use tonearm_media::transcode::transcode_to_vec;
use tonearm_media::{Format, Quality, StreamPlan, TranscodeSpec};

/// One demo track's recipe.
pub struct DemoTrack {
    pub file: &'static str,
    pub title: &'static str,
    pub chords: &'static [&'static [u8]],
    pub bpm: f64,
    pub beats: usize,
    pub sample_rate: u32,
    pub channels: u16,
}

const C: &[u8] = &[60, 64, 67];
const F: &[u8] = &[65, 69, 72];
const G: &[u8] = &[67, 71, 74];
const AM: &[u8] = &[57, 60, 64];
const DM: &[u8] = &[62, 65, 69];
const EM: &[u8] = &[64, 67, 71];
const BB: &[u8] = &[58, 62, 65];

/// The demo tracks: WAV, MP3 and Ogg Opus at 44.1 and 48 kHz, mono and stereo.
pub const DEMO_TRACKS: &[DemoTrack] = &[
    DemoTrack {
        file: "01 Sunrise.wav",
        title: "Sunrise (C major, 120 BPM)",
        chords: &[C, F, G, C],
        bpm: 120.0,
        beats: 32,
        sample_rate: 44_100,
        channels: 2,
    },
    DemoTrack {
        file: "02 Evening.mp3",
        title: "Evening (A minor, 90 BPM)",
        chords: &[AM, DM, EM, AM],
        bpm: 90.0,
        beats: 24,
        sample_rate: 44_100,
        channels: 2,
    },
    DemoTrack {
        file: "03 Drift.opus",
        title: "Drift (G major, 100 BPM)",
        chords: &[G, C, DM, G],
        bpm: 100.0,
        beats: 28,
        sample_rate: 48_000,
        channels: 2,
    },
    DemoTrack {
        file: "04 Pulse.wav",
        title: "Pulse (D minor, 140 BPM)",
        chords: &[DM, BB, C, DM],
        bpm: 140.0,
        beats: 40,
        sample_rate: 48_000,
        channels: 1,
    },
    DemoTrack {
        file: "05 Waltz.mp3",
        title: "Waltz (F major, 105 BPM)",
        chords: &[F, BB, C, F],
        bpm: 105.0,
        beats: 30,
        sample_rate: 48_000,
        channels: 2,
    },
];

/// Album and artist of the demo tracks.
pub const DEMO_ALBUM: &str = "Tonearm Demo Sessions";
pub const DEMO_ARTIST: &str = "The Tonearm Ensemble";

/// Errors making the demo library.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("encoding failed: {0}")]
    Media(#[from] tonearm_media::MediaError),
    #[error("tagging failed: {0}")]
    Tag(String),
}

fn encode(pcm: &Pcm, format: Format, dir: &Path) -> Result<Vec<u8>, DemoError> {
    let tmp = dir.join(".demo-source.wav");
    write_wav(std::io::BufWriter::new(std::fs::File::create(&tmp)?), pcm)?;
    let plan = StreamPlan::new(
        format,
        Quality::Medium,
        pcm.sample_rate,
        pcm.channels,
        pcm.frames() as u64,
        opus_lookahead(),
    );
    let bytes = transcode_to_vec(&tmp, &plan, TranscodeSpec { gain: 1.0 }, 2);
    std::fs::remove_file(&tmp)?;
    Ok(bytes?)
}

fn tag(path: &Path, t: &DemoTrack, number: u32) -> Result<(), DemoError> {
    let terr = |e: lofty::error::FileParseError| DemoError::Tag(e.to_string());
    let mut tagged = Probe::open(path)
        .map_err(terr)?
        .guess_file_type()?
        .read()
        .map_err(terr)?;
    let tt = tagged.primary_tag_type();
    if tagged.tag(tt).is_none() {
        tagged.insert_tag(lofty::tag::Tag::new(tt));
    }
    let tag = tagged
        .tag_mut(tt)
        .ok_or_else(|| DemoError::Tag("format cannot hold tags".into()))?;
    tag.set_title(t.title.to_string());
    tag.set_artist(DEMO_ARTIST.to_string());
    tag.set_album(DEMO_ALBUM.to_string());
    tag.set_genre("Demo".to_string());
    tag.set_track(number);
    tag.set_disk(1);
    tag.set_date(lofty::tag::items::Timestamp {
        year: 2026,
        ..Default::default()
    });
    tag.insert_text(ItemKey::AlbumArtist, DEMO_ARTIST.to_string());
    tagged
        .save_to_path(path, lofty::config::WriteOptions::default())
        .map_err(|e| DemoError::Tag(e.to_string()))
}

/// Writes the demo library into `dir` (created if missing) and returns the files written.
/// Files are written under a temporary name and renamed, so a crash never leaves half a file.
pub fn write_demo_library(dir: &Path) -> Result<Vec<PathBuf>, DemoError> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (i, t) in DEMO_TRACKS.iter().enumerate() {
        let pcm = chord_progression(t.chords, t.bpm, t.beats, t.sample_rate, t.channels);
        let final_path = dir.join(t.file);
        let tmp = dir.join(format!(".{}.part", t.file));
        let ext = Path::new(t.file)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("");
        let bytes = match ext {
            "mp3" => encode(&pcm, Format::Mp3, dir)?,
            "opus" => encode(&pcm, Format::Opus, dir)?,
            _ => {
                let mut v = Vec::new();
                write_wav(&mut v, &pcm)?;
                v
            }
        };
        // lofty picks the tag format from the name, so tag a temp file that keeps the extension.
        let tmp_named = tmp.with_extension(ext);
        std::fs::write(&tmp_named, bytes)?;
        tag(&tmp_named, t, i as u32 + 1)?;
        if i == 0 {
            embed_cover(&tmp_named, gradient_png(256, [240, 120, 40], [60, 20, 120]))
                .map_err(|e| DemoError::Tag(e.to_string()))?;
        }
        std::fs::rename(&tmp_named, &final_path)?;
        written.push(final_path);
    }
    let cover_tmp = dir.join(".cover.png.part");
    std::fs::write(
        &cover_tmp,
        gradient_png(300, [30, 90, 160], [200, 220, 120]),
    )?;
    std::fs::rename(&cover_tmp, dir.join("cover.png"))?;
    Ok(written)
}
