-- Task facts for Analytics (issue 10): how long tasks took, how they ended, what they cost and
-- whether an ANALYST step ran, per finished hour, so that Trends, workflow efficiency, success by
-- task type and the ANALYST ROI read rollups instead of scanning tasks. One row per (workspace,
-- hour the task finished, workflow, complexity, analyst, status). Durations (finish − start, or
-- − submission for a task cancelled in the queue) go into fixed buckets: bucket 0 holds up to
-- 10 s, then 30 s, 1 min, 2 min, 5 min, 10 min, 30 min, 1 h, 2 h, 6 h, 24 h, and bucket 11
-- everything longer (`engine::analytics::tasks::DURATION_BOUNDS_MS`).
--
-- A trigger writes them when a task reaches a final state, in the same transaction as that
-- change, whichever code path makes it (the runner finishing it, a cancel). Tasks never leave a
-- final state, so the trigger only ever adds. The ten most expensive tasks of each hour are kept
-- beside them (`task_top_hourly`), so "top tasks" over any hour-aligned range is a sort of at
-- most ten rows per hour.

CREATE TABLE task_rollups_hourly (
    workspace_id       TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    hour_ms            BIGINT NOT NULL,
    workflow           TEXT NOT NULL,
    complexity         TEXT NOT NULL,
    -- 1 when the task ran an ANALYST step.
    analyst            BIGINT NOT NULL,
    -- `completed`, `failed` or `cancelled`.
    status             TEXT NOT NULL,
    tasks              BIGINT NOT NULL DEFAULT 0,
    cost_micros        BIGINT NOT NULL DEFAULT 0,
    -- Tasks with at least one unpriced call: their cost is a lower bound.
    unpriced_tasks     BIGINT NOT NULL DEFAULT 0,
    prompt_tokens      BIGINT NOT NULL DEFAULT 0,
    completion_tokens  BIGINT NOT NULL DEFAULT 0,
    duration_ms_sum    BIGINT NOT NULL DEFAULT 0,
    dur_0  BIGINT NOT NULL DEFAULT 0,
    dur_1  BIGINT NOT NULL DEFAULT 0,
    dur_2  BIGINT NOT NULL DEFAULT 0,
    dur_3  BIGINT NOT NULL DEFAULT 0,
    dur_4  BIGINT NOT NULL DEFAULT 0,
    dur_5  BIGINT NOT NULL DEFAULT 0,
    dur_6  BIGINT NOT NULL DEFAULT 0,
    dur_7  BIGINT NOT NULL DEFAULT 0,
    dur_8  BIGINT NOT NULL DEFAULT 0,
    dur_9  BIGINT NOT NULL DEFAULT 0,
    dur_10 BIGINT NOT NULL DEFAULT 0,
    dur_11 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, hour_ms, workflow, complexity, analyst, status)
);

CREATE TABLE task_top_hourly (
    workspace_id       TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    hour_ms            BIGINT NOT NULL,
    task_id            TEXT NOT NULL,
    cost_micros        BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, hour_ms, task_id)
);

-- Health's recent failures: the last failed tasks of a workspace without scanning the others.
CREATE INDEX tasks_workspace_status_finished ON tasks (workspace_id, status, finished_at);

-- Each provider's last answer and last failure, written with the calls (merged per batch).
ALTER TABLE providers ADD COLUMN last_success_at BIGINT;
ALTER TABLE providers ADD COLUMN last_failure_at BIGINT;
ALTER TABLE providers ADD COLUMN last_error TEXT;

-- Running processes that execute tasks, each beating every few seconds (Health's "workers").
CREATE TABLE workers (
    id                 TEXT PRIMARY KEY,
    host               TEXT NOT NULL,
    pid                BIGINT NOT NULL,
    slots              BIGINT NOT NULL,
    version            TEXT NOT NULL,
    started_at         BIGINT NOT NULL,
    heartbeat_at       BIGINT NOT NULL
);

-- Recorded health checks (`POST /api/v1/system/health`, e.g. from cron).
CREATE TABLE system_checks (
    id                 TEXT PRIMARY KEY,
    workspace_id       TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    status             TEXT NOT NULL CHECK (status IN ('ok', 'degraded', 'down')),
    -- The snapshot's problems, one per line (empty when ok).
    detail             TEXT NOT NULL DEFAULT '',
    checked_by         TEXT,
    created_at         BIGINT NOT NULL
);
CREATE INDEX system_checks_workspace_created ON system_checks (workspace_id, created_at);

CREATE FUNCTION tasks_rollup_finish() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    hour BIGINT := NEW.finished_at - NEW.finished_at % 3600000;
    d BIGINT := GREATEST(0, NEW.finished_at - COALESCE(NEW.started_at, NEW.created_at));
BEGIN
    INSERT INTO task_rollups_hourly (workspace_id, hour_ms, workflow, complexity, analyst, status, tasks, cost_micros, unpriced_tasks, prompt_tokens, completion_tokens, duration_ms_sum, dur_0, dur_1, dur_2, dur_3, dur_4, dur_5, dur_6, dur_7, dur_8, dur_9, dur_10, dur_11)
    VALUES (NEW.workspace_id, hour, NEW.workflow, NEW.complexity,
        CASE WHEN EXISTS (SELECT 1 FROM agent_runs r WHERE r.task_id = NEW.id AND r.role = 'ANALYST')
            THEN 1 ELSE 0 END,
        NEW.status, 1, NEW.cost_micros, CASE WHEN NEW.unpriced_calls > 0 THEN 1 ELSE 0 END,
        NEW.prompt_tokens, NEW.completion_tokens, d,
        CASE WHEN d <= 10000 THEN 1 ELSE 0 END,
        CASE WHEN d > 10000 AND d <= 30000 THEN 1 ELSE 0 END,
        CASE WHEN d > 30000 AND d <= 60000 THEN 1 ELSE 0 END,
        CASE WHEN d > 60000 AND d <= 120000 THEN 1 ELSE 0 END,
        CASE WHEN d > 120000 AND d <= 300000 THEN 1 ELSE 0 END,
        CASE WHEN d > 300000 AND d <= 600000 THEN 1 ELSE 0 END,
        CASE WHEN d > 600000 AND d <= 1800000 THEN 1 ELSE 0 END,
        CASE WHEN d > 1800000 AND d <= 3600000 THEN 1 ELSE 0 END,
        CASE WHEN d > 3600000 AND d <= 7200000 THEN 1 ELSE 0 END,
        CASE WHEN d > 7200000 AND d <= 21600000 THEN 1 ELSE 0 END,
        CASE WHEN d > 21600000 AND d <= 86400000 THEN 1 ELSE 0 END,
        CASE WHEN d > 86400000 THEN 1 ELSE 0 END)
    ON CONFLICT (workspace_id, hour_ms, workflow, complexity, analyst, status) DO UPDATE SET
        tasks = task_rollups_hourly.tasks + excluded.tasks,
        cost_micros = task_rollups_hourly.cost_micros + excluded.cost_micros,
        unpriced_tasks = task_rollups_hourly.unpriced_tasks + excluded.unpriced_tasks,
        prompt_tokens = task_rollups_hourly.prompt_tokens + excluded.prompt_tokens,
        completion_tokens = task_rollups_hourly.completion_tokens + excluded.completion_tokens,
        duration_ms_sum = task_rollups_hourly.duration_ms_sum + excluded.duration_ms_sum,
        dur_0 = task_rollups_hourly.dur_0 + excluded.dur_0,
        dur_1 = task_rollups_hourly.dur_1 + excluded.dur_1,
        dur_2 = task_rollups_hourly.dur_2 + excluded.dur_2,
        dur_3 = task_rollups_hourly.dur_3 + excluded.dur_3,
        dur_4 = task_rollups_hourly.dur_4 + excluded.dur_4,
        dur_5 = task_rollups_hourly.dur_5 + excluded.dur_5,
        dur_6 = task_rollups_hourly.dur_6 + excluded.dur_6,
        dur_7 = task_rollups_hourly.dur_7 + excluded.dur_7,
        dur_8 = task_rollups_hourly.dur_8 + excluded.dur_8,
        dur_9 = task_rollups_hourly.dur_9 + excluded.dur_9,
        dur_10 = task_rollups_hourly.dur_10 + excluded.dur_10,
        dur_11 = task_rollups_hourly.dur_11 + excluded.dur_11;
    INSERT INTO task_top_hourly (workspace_id, hour_ms, task_id, cost_micros)
    VALUES (NEW.workspace_id, hour, NEW.id, NEW.cost_micros);
    DELETE FROM task_top_hourly
    WHERE workspace_id = NEW.workspace_id AND hour_ms = hour
        AND task_id NOT IN (
            SELECT task_id FROM task_top_hourly
            WHERE workspace_id = NEW.workspace_id AND hour_ms = hour
            ORDER BY cost_micros DESC, task_id LIMIT 10);
    RETURN NULL;
END;
$$;

CREATE TRIGGER tasks_rollup_finish AFTER UPDATE OF status ON tasks
FOR EACH ROW
WHEN (NEW.status IN ('completed', 'failed', 'cancelled')
    AND OLD.status NOT IN ('completed', 'failed', 'cancelled')
    AND NEW.finished_at IS NOT NULL)
EXECUTE FUNCTION tasks_rollup_finish();

-- The tasks finished so far.
INSERT INTO task_rollups_hourly (workspace_id, hour_ms, workflow, complexity, analyst, status, tasks, cost_micros, unpriced_tasks, prompt_tokens, completion_tokens, duration_ms_sum, dur_0, dur_1, dur_2, dur_3, dur_4, dur_5, dur_6, dur_7, dur_8, dur_9, dur_10, dur_11)
SELECT workspace_id, hour_ms, workflow, complexity, analyst, status, COUNT(*), SUM(cost_micros),
    SUM(CASE WHEN unpriced_calls > 0 THEN 1 ELSE 0 END), SUM(prompt_tokens),
    SUM(completion_tokens), SUM(d),
    SUM(CASE WHEN d <= 10000 THEN 1 ELSE 0 END),
    SUM(CASE WHEN d > 10000 AND d <= 30000 THEN 1 ELSE 0 END),
    SUM(CASE WHEN d > 30000 AND d <= 60000 THEN 1 ELSE 0 END),
    SUM(CASE WHEN d > 60000 AND d <= 120000 THEN 1 ELSE 0 END),
    SUM(CASE WHEN d > 120000 AND d <= 300000 THEN 1 ELSE 0 END),
    SUM(CASE WHEN d > 300000 AND d <= 600000 THEN 1 ELSE 0 END),
    SUM(CASE WHEN d > 600000 AND d <= 1800000 THEN 1 ELSE 0 END),
    SUM(CASE WHEN d > 1800000 AND d <= 3600000 THEN 1 ELSE 0 END),
    SUM(CASE WHEN d > 3600000 AND d <= 7200000 THEN 1 ELSE 0 END),
    SUM(CASE WHEN d > 7200000 AND d <= 21600000 THEN 1 ELSE 0 END),
    SUM(CASE WHEN d > 21600000 AND d <= 86400000 THEN 1 ELSE 0 END),
    SUM(CASE WHEN d > 86400000 THEN 1 ELSE 0 END)
FROM (
    SELECT t.workspace_id, t.finished_at - t.finished_at % 3600000 AS hour_ms, t.workflow,
        t.complexity, CASE WHEN EXISTS (SELECT 1 FROM agent_runs r WHERE r.task_id = t.id AND r.role = 'ANALYST') THEN 1 ELSE 0 END AS analyst,
        t.status, t.cost_micros, t.unpriced_calls, t.prompt_tokens, t.completion_tokens,
        GREATEST(0, t.finished_at - COALESCE(t.started_at, t.created_at)) AS d
    FROM tasks t
    WHERE t.status IN ('completed', 'failed', 'cancelled') AND t.finished_at IS NOT NULL
) f
GROUP BY workspace_id, hour_ms, workflow, complexity, analyst, status;

INSERT INTO task_top_hourly (workspace_id, hour_ms, task_id, cost_micros)
SELECT workspace_id, hour_ms, id, cost_micros FROM (
    SELECT t.workspace_id, t.finished_at - t.finished_at % 3600000 AS hour_ms, t.id,
        t.cost_micros,
        ROW_NUMBER() OVER (PARTITION BY t.workspace_id, t.finished_at - t.finished_at % 3600000
            ORDER BY t.cost_micros DESC, t.id) AS n
    FROM tasks t
    WHERE t.status IN ('completed', 'failed', 'cancelled') AND t.finished_at IS NOT NULL
) ranked
WHERE n <= 10;
