//! Reading one file: audio properties from the decoder (and a check that the audio is really
//! there), tags and pictures from lofty.

use crate::text::{fold, stable_id};
use lofty::prelude::*;
use lofty::probe::Probe;
use std::path::Path;
use tonearm_media::{AudioReader, MediaError};
use tonearm_store::NewTrack;

/// Why a file was skipped. The text is stored and shown to the admin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProbeError(pub String);

impl From<MediaError> for ProbeError {
    fn from(e: MediaError) -> Self {
        ProbeError(e.to_string())
    }
}

/// Image file names taken as an album's cover when no picture is embedded, best first.
pub const FOLDER_IMAGES: &[&str] = &["cover", "folder", "front", "album", "albumart"];
const IMAGE_EXTS: &[&str] = &["jpg", "jpeg", "png"];

/// Finds a folder image next to `path` (case-insensitive names from [`FOLDER_IMAGES`]).
/// A scan probes a folder's tracks one after another on the same thread, so each thread
/// remembers its last folder's answer (keyed by the folder's mtime, which changes when a file
/// is added or removed): an album is listed once, not once per track.
pub fn folder_image(path: &Path) -> Option<std::path::PathBuf> {
    type Memo = Option<(
        std::path::PathBuf,
        std::time::SystemTime,
        Option<std::path::PathBuf>,
    )>;
    thread_local!(static LAST: std::cell::RefCell<Memo> = const { std::cell::RefCell::new(None) });
    let dir = path.parent()?;
    let mtime = std::fs::metadata(dir).and_then(|m| m.modified()).ok()?;
    let known = LAST.with_borrow(|m| match m {
        Some((d, t, found)) if d == dir && *t == mtime => Some(found.clone()),
        _ => None,
    });
    if let Some(found) = known {
        return found;
    }
    let found = list_folder_image(dir);
    LAST.set(Some((dir.to_path_buf(), mtime, found.clone())));
    found
}

/// Whether an embedded picture decodes (`cover::is_decodable`). An album's tracks usually
/// carry the same picture: the last answer is kept per thread by the picture's hash, so a
/// scan decodes each distinct picture about once per prober.
fn picture_decodes(bytes: &[u8]) -> bool {
    thread_local!(static LAST: std::cell::Cell<Option<([u8; 32], bool)>> = const { std::cell::Cell::new(None) });
    let hash = *blake3::hash(bytes).as_bytes();
    if let Some((h, ok)) = LAST.get() {
        if h == hash {
            return ok;
        }
    }
    let ok = crate::cover::is_decodable(bytes);
    LAST.set(Some((hash, ok)));
    ok
}

/// The best-ranked folder image that decodes (a damaged `cover.jpg` gives way to `folder.png`).
fn list_folder_image(dir: &Path) -> Option<std::path::PathBuf> {
    let mut found: Vec<(usize, std::path::PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let p = entry.path();
        let (Some(stem), Some(ext)) = (
            p.file_stem().and_then(|s| s.to_str()),
            p.extension().and_then(|s| s.to_str()),
        ) else {
            continue;
        };
        if !IMAGE_EXTS.contains(&ext.to_ascii_lowercase().as_str()) {
            continue;
        }
        if let Some(rank) = FOLDER_IMAGES
            .iter()
            .position(|n| n.eq_ignore_ascii_case(stem))
        {
            found.push((rank, p));
        }
    }
    found.sort();
    found.into_iter().map(|(_, p)| p).find(|p| {
        // Bounded like uploads of covers would be: a huge file is not read to be judged.
        std::fs::metadata(p).is_ok_and(|m| m.len() <= MAX_FOLDER_IMAGE_BYTES)
            && std::fs::read(p).is_ok_and(|b| crate::cover::is_decodable(&b))
    })
}

/// Folder images larger than this are not taken as covers.
const MAX_FOLDER_IMAGE_BYTES: u64 = 32 * 1024 * 1024;

/// Parses "-6.54 dB" / "+1.2" / "0.98" into a number.
fn parse_gain(s: &str) -> Option<f64> {
    let t = s
        .trim()
        .trim_end_matches(|c: char| c.is_ascii_alphabetic() || c.is_whitespace());
    t.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// The number at the start of "3/10", " 07 ", "2 of 3".
fn leading_number(s: &str) -> Option<i64> {
    let digits: String = s
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok().filter(|n| *n > 0)
}

/// Checks that the audio is actually decodable from start to (declared) end, and returns the
/// playable frame count. A truncated file declares more frames than it holds; seeking near the
/// declared end and decoding finds that without decoding the whole file.
fn verify_audio(path: &Path) -> Result<(tonearm_media::SourceInfo, u64), ProbeError> {
    let mut reader = AudioReader::open(path)?;
    let info = reader.info().clone();
    let mut buf = Vec::new();
    let first = reader.read(&mut buf)?;
    if first == 0 {
        return Err(ProbeError("no audio could be decoded".into()));
    }
    let frames = match info.frames {
        Some(f) if f > 0 => {
            let tail = (info.sample_rate as u64 / 4).min(f);
            reader.seek(f - tail)?;
            buf.clear();
            let mut got = 0u64;
            while got < tail {
                match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => got += n as u64,
                    Err(e) => {
                        return Err(ProbeError(format!(
                            "truncated or damaged near the end: {e}"
                        )))
                    }
                }
            }
            if got + (info.sample_rate as u64 / 50) < tail {
                return Err(ProbeError(
                    "truncated: the audio ends before its declared length".into(),
                ));
            }
            f
        }
        _ => {
            // No declared length (e.g. raw MP3 without a Xing header): count by decoding on.
            let mut n = first as u64;
            loop {
                buf.clear();
                match reader.read(&mut buf)? {
                    0 => break,
                    k => n += k as u64,
                }
            }
            n
        }
    };
    if reader.bad_packets > 0 {
        return Err(ProbeError(format!(
            "{} damaged audio packets",
            reader.bad_packets
        )));
    }
    Ok((info, frames))
}

/// Reads a file into a catalog row. `size`/`mtime_ms` are the stamp the scanner saw.
/// A decoder bug on a hostile file costs that file (an error), never the caller: every
/// caller (scanner, upload) gets the same protection.
pub fn probe_file(path: &Path, size: i64, mtime_ms: i64) -> Result<NewTrack, ProbeError> {
    std::panic::catch_unwind(|| probe_unguarded(path, size, mtime_ms))
        .unwrap_or_else(|_| Err(ProbeError("the decoder crashed on this file".into())))
}

fn probe_unguarded(path: &Path, size: i64, mtime_ms: i64) -> Result<NewTrack, ProbeError> {
    if size == 0 {
        return Err(ProbeError("empty file".into()));
    }
    let (info, frames) = verify_audio(path)?;
    // Tags are best effort: damaged tags must not hide good audio.
    let tagged = Probe::open(path)
        .and_then(|p| Ok(p.guess_file_type()?))
        .and_then(|p| p.read())
        .ok();
    let tag = tagged
        .as_ref()
        .and_then(|t| t.primary_tag().or_else(|| t.first_tag()));
    let text = |f: &dyn Fn(&lofty::tag::Tag) -> Option<String>| {
        tag.and_then(f)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let key = |k: ItemKey| text(&|t| t.get_string(k).map(str::to_string));
    let path_str = path.to_string_lossy().to_string();
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let title = text(&|t| t.title().map(|s| s.to_string())).unwrap_or(stem);
    let artist =
        text(&|t| t.artist().map(|s| s.to_string())).unwrap_or_else(|| "Unknown Artist".into());
    let album =
        text(&|t| t.album().map(|s| s.to_string())).unwrap_or_else(|| "Unknown Album".into());
    let album_artist = key(ItemKey::AlbumArtist).unwrap_or_else(|| artist.clone());
    let genre = text(&|t| t.genre().map(|s| s.to_string()));
    let year = tag
        .and_then(|t| t.date())
        .map(|d| d.year as i64)
        .filter(|y| *y > 0);
    // Some writers store "3/10" where the reader expects a bare number: take the leading digits.
    let track_no = tag
        .and_then(|t| t.track())
        .map(i64::from)
        .or_else(|| key(ItemKey::TrackNumber).and_then(|s| leading_number(&s)));
    let disc_no = tag
        .and_then(|t| t.disk())
        .map(i64::from)
        .or_else(|| key(ItemKey::DiscNumber).and_then(|s| leading_number(&s)));
    let has_picture = tagged
        .as_ref()
        .and_then(crate::cover::front_picture)
        .is_some_and(|p| picture_decodes(p.data()));
    let cover = if has_picture {
        Some("embedded".to_string())
    } else {
        folder_image(path).map(|p| p.to_string_lossy().to_string())
    };
    let rate = info.sample_rate as i64;
    let duration_ms = (frames as i64 * 1000) / rate.max(1);
    let bitrate = if duration_ms > 0 {
        size * 8 * 1000 / duration_ms
    } else {
        0
    };
    let bit_depth = info.bits_per_sample.map(i64::from).or_else(|| {
        tagged
            .as_ref()
            .and_then(|t| t.properties().bit_depth())
            .map(i64::from)
    });
    let search_text = fold(&format!("{title} {artist} {album} {album_artist}"));
    Ok(NewTrack {
        id: stable_id("track", &path_str),
        path: path_str,
        size_bytes: size,
        mtime_ms,
        artist_id: stable_id("artist", &fold(&artist)),
        album_id: stable_id(
            "album",
            &format!("{}\u{0}{}", fold(&album_artist), fold(&album)),
        ),
        title,
        artist,
        album,
        album_artist,
        track_no,
        disc_no,
        year,
        genre,
        duration_ms,
        frames: frames as i64,
        codec: info.codec,
        sample_rate: rate,
        bit_depth,
        channels: info.channels as i64,
        bitrate,
        mb_recording_id: key(ItemKey::MusicBrainzRecordingId),
        mb_release_id: key(ItemKey::MusicBrainzReleaseId),
        mb_artist_id: key(ItemKey::MusicBrainzArtistId),
        rg_track_gain: key(ItemKey::ReplayGainTrackGain).and_then(|s| parse_gain(&s)),
        rg_track_peak: key(ItemKey::ReplayGainTrackPeak).and_then(|s| parse_gain(&s)),
        cover,
        search_text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gains_parse_with_units() {
        assert_eq!(parse_gain("-6.54 dB"), Some(-6.54));
        assert_eq!(parse_gain("+1.20 dB"), Some(1.2));
        assert_eq!(parse_gain("0.988"), Some(0.988));
        assert_eq!(parse_gain("loud"), None);
        assert_eq!(parse_gain("NaN"), None);
    }

    #[test]
    fn track_numbers_tolerate_totals() {
        assert_eq!(leading_number("3/10"), Some(3));
        assert_eq!(leading_number(" 07 "), Some(7));
        assert_eq!(leading_number("x"), None);
        assert_eq!(leading_number("0"), None);
    }
}
