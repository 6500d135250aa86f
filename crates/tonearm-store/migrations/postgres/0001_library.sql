-- PostgreSQL version of ../sqlite/0001_library.sql (same schema; types spelled for PostgreSQL).
-- The library: one row per audio file, albums and artists derive from it.
CREATE TABLE tracks (
    id              TEXT PRIMARY KEY,
    path            TEXT NOT NULL UNIQUE,
    size_bytes      BIGINT NOT NULL,
    mtime_ms        BIGINT NOT NULL,
    title           TEXT NOT NULL,
    artist          TEXT NOT NULL,
    artist_id       TEXT NOT NULL,
    album           TEXT NOT NULL,
    album_id        TEXT NOT NULL,
    album_artist    TEXT NOT NULL,
    track_no        BIGINT,
    disc_no         BIGINT,
    year            BIGINT,
    genre           TEXT,
    duration_ms     BIGINT NOT NULL,
    frames          BIGINT NOT NULL,
    codec           TEXT NOT NULL,
    sample_rate     BIGINT NOT NULL,
    bit_depth       BIGINT,
    channels        BIGINT NOT NULL,
    bitrate         BIGINT NOT NULL,
    mb_recording_id TEXT,
    mb_release_id   TEXT,
    mb_artist_id    TEXT,
    rg_track_gain   DOUBLE PRECISION,
    rg_track_peak   DOUBLE PRECISION,
    loudness_lufs   DOUBLE PRECISION,
    true_peak       DOUBLE PRECISION,
    cover           TEXT,
    search_text     TEXT NOT NULL,
    scanned_at_ms   BIGINT NOT NULL
);
CREATE INDEX tracks_album ON tracks(album_id, disc_no, track_no);
CREATE INDEX tracks_artist ON tracks(artist_id);

-- Files the scanner could not use, with why; kept until the file changes or disappears.
CREATE TABLE scan_issues (
    path        TEXT PRIMARY KEY,
    size_bytes  BIGINT NOT NULL,
    mtime_ms    BIGINT NOT NULL,
    reason      TEXT NOT NULL,
    seen_at_ms  BIGINT NOT NULL
);
