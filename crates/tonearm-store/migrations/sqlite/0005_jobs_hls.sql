-- The processing pipeline's queue: one row per (kind, track). Workers on any node claim a row
-- atomically and hold it under a lease they renew; a worker that dies lets its lease run out
-- and the job runs again. `input` is the source file stamp the job was made for, so a changed
-- file re-queues its jobs and an unchanged one never does.
CREATE TABLE jobs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    kind           TEXT NOT NULL,
    track_id       TEXT NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    input          TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('pending', 'processing', 'ready', 'failed')),
    priority       INTEGER NOT NULL DEFAULT 0,
    -- Every claim ever made of this row: never reset, so (worker, attempts) names one claim
    -- and its output prefix is never reused.
    attempts       INTEGER NOT NULL DEFAULT 0,
    -- Claims since the job was last queued (what max_attempts limits; reset on re-queue).
    tries          INTEGER NOT NULL DEFAULT 0,
    run_after_ms   INTEGER NOT NULL,
    lease_until_ms INTEGER,
    worker         TEXT,
    error          TEXT,
    -- Where a running job writes its output: recorded at claim time, before anything is written,
    -- so a sweep that lists stored objects first and reads this second never removes live work.
    output         TEXT,
    created_at_ms  INTEGER NOT NULL,
    updated_at_ms  INTEGER NOT NULL,
    UNIQUE (kind, track_id)
);
CREATE INDEX jobs_runnable ON jobs(state, priority, run_after_ms);
CREATE INDEX jobs_track ON jobs(track_id);

-- A track's published HLS package. The row is written only after every object of the package
-- is stored, in the same transaction that marks its job ready: a row means a whole package.
-- `prefix` is where its objects live (a fresh one per packaging, so a re-package never
-- overwrites what players are fetching). The AES-128 key and IV are per track.
CREATE TABLE hls_packages (
    track_id      TEXT PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
    input         TEXT NOT NULL,
    prefix        TEXT NOT NULL UNIQUE,
    key_hex       TEXT NOT NULL,
    iv_hex        TEXT NOT NULL,
    manifest      TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);
