-- PostgreSQL version of ../sqlite/0002_scan_generation.sql (same schema; types spelled for PostgreSQL).
-- Which scan last saw each file: a scan marks what it sees and then removes what it did not,
-- so it never has to hold the whole library's file list in memory.
ALTER TABLE tracks ADD COLUMN seen_scan BIGINT NOT NULL DEFAULT 0;
ALTER TABLE scan_issues ADD COLUMN seen_scan BIGINT NOT NULL DEFAULT 0;
