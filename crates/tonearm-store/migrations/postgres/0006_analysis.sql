-- PostgreSQL version of ../sqlite/0006_analysis.sql (same schema; types spelled for PostgreSQL).
-- A track's audio analysis (tonearm-analysis): one row per track, for the file version
-- (`input`, the size:mtime stamp) and algorithm `version` it was made from. `state` is 'ready'
-- (numbers present) or 'not_analysable' (with `reason`: silent, too short, undecodable). The
-- columns the catalog filters and sorts by are kept apart; `detail` is the whole result as JSON
-- (summaries, beats, timeline) and `embedding` the similarity vector as little-endian f32s.
CREATE TABLE track_analysis (
    track_id       TEXT PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
    input          TEXT NOT NULL,
    version        BIGINT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('ready', 'not_analysable')),
    reason         TEXT,
    bpm            DOUBLE PRECISION,
    bpm_confidence DOUBLE PRECISION,
    key_name       TEXT,
    key_tonic      BIGINT,
    key_minor      BOOLEAN,
    key_strength   DOUBLE PRECISION,
    energy         DOUBLE PRECISION,
    danceability   DOUBLE PRECISION,
    acousticness   DOUBLE PRECISION,
    embedding      BYTEA,
    detail         TEXT,
    analyzed_at_ms BIGINT NOT NULL
);
CREATE INDEX track_analysis_bpm ON track_analysis(bpm);
CREATE INDEX track_analysis_key ON track_analysis(key_name);
