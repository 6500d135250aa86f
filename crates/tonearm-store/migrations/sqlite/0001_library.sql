-- The library: one row per audio file, albums and artists derive from it.
CREATE TABLE tracks (
    id              TEXT PRIMARY KEY,
    path            TEXT NOT NULL UNIQUE,
    size_bytes      INTEGER NOT NULL,
    mtime_ms        INTEGER NOT NULL,
    title           TEXT NOT NULL,
    artist          TEXT NOT NULL,
    artist_id       TEXT NOT NULL,
    album           TEXT NOT NULL,
    album_id        TEXT NOT NULL,
    album_artist    TEXT NOT NULL,
    track_no        INTEGER,
    disc_no         INTEGER,
    year            INTEGER,
    genre           TEXT,
    duration_ms     INTEGER NOT NULL,
    frames          INTEGER NOT NULL,
    codec           TEXT NOT NULL,
    sample_rate     INTEGER NOT NULL,
    bit_depth       INTEGER,
    channels        INTEGER NOT NULL,
    bitrate         INTEGER NOT NULL,
    mb_recording_id TEXT,
    mb_release_id   TEXT,
    mb_artist_id    TEXT,
    rg_track_gain   REAL,
    rg_track_peak   REAL,
    loudness_lufs   REAL,
    true_peak       REAL,
    cover           TEXT,
    search_text     TEXT NOT NULL,
    scanned_at_ms   INTEGER NOT NULL
);
CREATE INDEX tracks_album ON tracks(album_id, disc_no, track_no);
CREATE INDEX tracks_artist ON tracks(artist_id);

-- Files the scanner could not use, with why; kept until the file changes or disappears.
CREATE TABLE scan_issues (
    path        TEXT PRIMARY KEY,
    size_bytes  INTEGER NOT NULL,
    mtime_ms    INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    seen_at_ms  INTEGER NOT NULL
);
