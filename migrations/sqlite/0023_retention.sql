-- Retention tiers (issue 14, seed 002): raw calls and events are hot for 90 days (configurable),
-- then moved here (queryable, e.g. `fleetdeck export calls --archived`), then after 365 days
-- written to compressed JSON Lines files and deleted. Rollups are never touched, so analytics
-- keep every period. The archive tables copy their source's columns in order (rows move with
-- `INSERT … SELECT *`): a column added to `llm_calls` or `events` must be added here too.
CREATE TABLE llm_calls_archive AS SELECT * FROM llm_calls WHERE 0;
CREATE INDEX llm_calls_archive_created ON llm_calls_archive (created_at);
CREATE TABLE events_archive AS SELECT * FROM events WHERE 0;
CREATE INDEX events_archive_created ON events_archive (created_at);

-- One row per day the retention job ran (the process whose insert wins runs it).
CREATE TABLE retention_runs (
    day              TEXT PRIMARY KEY,
    started_at       INTEGER NOT NULL,
    finished_at      INTEGER,
    archived_calls   INTEGER NOT NULL DEFAULT 0,
    archived_events  INTEGER NOT NULL DEFAULT 0,
    exported_calls   INTEGER NOT NULL DEFAULT 0,
    exported_events  INTEGER NOT NULL DEFAULT 0,
    expired_sessions INTEGER NOT NULL DEFAULT 0
);
