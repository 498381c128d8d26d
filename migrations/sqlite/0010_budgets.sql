-- Budgets (issue 11, SPEC F-08): a limit on what a workspace, an agent, a user or an API key
-- may spend per calendar day, week or month (in the workspace's time zone), soft (alerts only)
-- or hard (calls refused before they start).
--
-- Enforcement is exact under concurrency because the check and the change are one statement:
-- a call first reserves its worst-case cost on each budget that applies with
--   UPDATE budget_periods SET reserved = reserved + :worst
--   WHERE … AND (hard = 0 OR spent + reserved + :worst <= amount)
-- (SQLite runs writers one at a time; Postgres re-checks the condition on the row it locked),
-- then the call's record settles it (the real cost added to `spent`, the reservation taken
-- back) in the same transaction as the call. A reservation not settled by its expiry (a crashed
-- worker) is released by a sweep, so nothing stays reserved for ever.

CREATE TABLE budgets (
    id             TEXT PRIMARY KEY,
    workspace_id   TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    -- `workspace`, `agent`, `user` or `api_key`; `subject_id` is '' for the workspace.
    scope          TEXT NOT NULL CHECK (scope IN ('workspace', 'agent', 'user', 'api_key')),
    subject_id     TEXT NOT NULL DEFAULT '',
    period         TEXT NOT NULL CHECK (period IN ('day', 'week', 'month')),
    amount_micros  INTEGER NOT NULL CHECK (amount_micros > 0),
    -- 1: calls that would pass the amount are refused; 0: alerts only.
    hard           INTEGER NOT NULL DEFAULT 1,
    -- Alert thresholds in percent, ascending, comma-separated (`50,80,100`).
    thresholds     TEXT NOT NULL DEFAULT '50,80,100',
    created_by     TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (workspace_id, name)
);
CREATE INDEX budgets_subject ON budgets (workspace_id, scope, subject_id);

-- What each budget's period has spent and holds reserved. Its bounds are fixed when the row is
-- made (the time zone of that moment), so a later change of zone never moves money between
-- periods.
CREATE TABLE budget_periods (
    budget_id        TEXT NOT NULL REFERENCES budgets(id) ON DELETE CASCADE,
    period_start     INTEGER NOT NULL,
    period_end       INTEGER NOT NULL,
    spent_micros     INTEGER NOT NULL DEFAULT 0,
    reserved_micros  INTEGER NOT NULL DEFAULT 0,
    -- Calls settled in the period (for the projection and the history).
    calls            INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (budget_id, period_start)
);

-- Reservations not yet settled or released: one row per call and budget.
CREATE TABLE budget_reservations (
    id             TEXT NOT NULL,
    budget_id      TEXT NOT NULL REFERENCES budgets(id) ON DELETE CASCADE,
    period_start   INTEGER NOT NULL,
    workspace_id   TEXT NOT NULL,
    amount_micros  INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (id, budget_id)
);
CREATE INDEX budget_reservations_expires ON budget_reservations (expires_at);
