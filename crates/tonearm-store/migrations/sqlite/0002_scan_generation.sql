-- Which scan last saw each file: a scan marks what it sees and then removes what it did not,
-- so it never has to hold the whole library's file list in memory.
ALTER TABLE tracks ADD COLUMN seen_scan INTEGER NOT NULL DEFAULT 0;
ALTER TABLE scan_issues ADD COLUMN seen_scan INTEGER NOT NULL DEFAULT 0;
