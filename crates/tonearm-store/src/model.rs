//! Domain types stored in and read from the catalog.

use serde::Serialize;

/// A playable audio file of the library, as the API shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, PartialEq)]
pub struct Track {
    pub id: String,
    pub title: String,
    pub artist: String,
    pub artist_id: String,
    pub album: String,
    pub album_id: String,
    pub album_artist: String,
    pub track_no: Option<i64>,
    pub disc_no: Option<i64>,
    pub year: Option<i64>,
    pub genre: Option<String>,
    pub duration_ms: i64,
    pub codec: String,
    pub sample_rate: i64,
    pub bit_depth: Option<i64>,
    pub channels: i64,
    /// Average bitrate of the file in bit/s.
    pub bitrate: i64,
    pub size_bytes: i64,
    pub mb_recording_id: Option<String>,
    pub mb_release_id: Option<String>,
    pub mb_artist_id: Option<String>,
    pub rg_track_gain: Option<f64>,
    pub rg_track_peak: Option<f64>,
    pub loudness_lufs: Option<f64>,
    /// Measured true peak, linear (1.0 = full scale).
    pub true_peak: Option<f64>,
    /// ReplayGain 2.0 track gain in dB from the measured loudness (-18 LUFS reference).
    pub replay_gain_db: Option<f64>,
    pub has_cover: bool,
    /// Tempo from the audio analysis (none until it ran, or without a steady beat).
    pub bpm: Option<f64>,
    /// Key from the audio analysis ("A minor").
    pub key: Option<String>,
    /// The analysis' energy score, 0 … 1.
    pub energy: Option<f64>,
}

/// A track as the scanner produces it, before it is stored.
#[derive(Debug, Clone, Default)]
pub struct NewTrack {
    pub id: String,
    pub path: String,
    pub size_bytes: i64,
    pub mtime_ms: i64,
    pub title: String,
    pub artist: String,
    pub artist_id: String,
    pub album: String,
    pub album_id: String,
    pub album_artist: String,
    pub track_no: Option<i64>,
    pub disc_no: Option<i64>,
    pub year: Option<i64>,
    pub genre: Option<String>,
    pub duration_ms: i64,
    /// Sample frames at the source rate (what a transcode plans its length from).
    pub frames: i64,
    pub codec: String,
    pub sample_rate: i64,
    pub bit_depth: Option<i64>,
    pub channels: i64,
    pub bitrate: i64,
    pub mb_recording_id: Option<String>,
    pub mb_release_id: Option<String>,
    pub mb_artist_id: Option<String>,
    pub rg_track_gain: Option<f64>,
    pub rg_track_peak: Option<f64>,
    /// `"embedded"`, a path to a folder image, or `None`.
    pub cover: Option<String>,
    /// Lower-cased, accent-stripped title/artist/album for search.
    pub search_text: String,
}

/// What streaming needs to know about a track's file.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TrackSource {
    pub id: String,
    pub path: String,
    pub size_bytes: i64,
    pub mtime_ms: i64,
    pub frames: i64,
    pub sample_rate: i64,
    pub channels: i64,
    pub codec: String,
    pub loudness_lufs: Option<f64>,
    pub true_peak: Option<f64>,
    pub cover: Option<String>,
}

/// An album, derived from its tracks.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Album {
    pub id: String,
    pub name: String,
    pub album_artist: String,
    pub year: Option<i64>,
    pub track_count: i64,
    pub duration_ms: i64,
    /// A track whose cover stands for the album (`/api/tracks/{id}/cover`).
    pub cover_track_id: Option<String>,
}

/// An artist, derived from the tracks credited to them.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Artist {
    pub id: String,
    pub name: String,
    pub album_count: i64,
    pub track_count: i64,
}

/// A file the scanner skipped, and why.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ScanIssue {
    pub path: String,
    pub size_bytes: i64,
    pub mtime_ms: i64,
    pub reason: String,
}

/// Size and modification time: what decides whether a file changed since the last scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    pub size_bytes: i64,
    pub mtime_ms: i64,
}
