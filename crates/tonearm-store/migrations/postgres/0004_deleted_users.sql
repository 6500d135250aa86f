-- PostgreSQL version of ../sqlite/0004_deleted_users.sql (same schema; types spelled for PostgreSQL).
-- Deleted accounts, remembered for a while: deleting a user removes their sessions, but nodes
-- that check revocations in Redis must still be told (again, if Redis lost it) that tokens
-- naming this user are dead until they expire.
CREATE TABLE deleted_users (
    id TEXT PRIMARY KEY,
    deleted_at_ms BIGINT NOT NULL
);
CREATE INDEX deleted_users_at ON deleted_users (deleted_at_ms);
