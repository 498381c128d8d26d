-- Daily task rollups and task totals (issue 10). `task_rollups_hourly` has a row per hour and kind
-- of task (36 kinds for 4 workflows × 3 complexities × 3 outcomes), so a 90-day ANALYST ROI or
-- Trends report summed ~78,000 rows on a busy fleet. `task_rollups_daily` holds the same rows per
-- UTC day; reports read whole days there and only the partial days at a range's edges from the
-- hourly table (`engine::store::rollups::parts`), as for the call rollups (migration 0008). Its
-- columns are in the hourly table's order. Kept by a trigger on the hourly table, in the
-- transaction that finishes the task; filled here from the hourly rows so far.

CREATE TABLE task_rollups_daily (
    workspace_id       TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    day_ms             INTEGER NOT NULL,
    workflow           TEXT NOT NULL,
    complexity         TEXT NOT NULL,
    analyst            INTEGER NOT NULL,
    status             TEXT NOT NULL,
    tasks              INTEGER NOT NULL DEFAULT 0,
    cost_micros        INTEGER NOT NULL DEFAULT 0,
    unpriced_tasks     INTEGER NOT NULL DEFAULT 0,
    prompt_tokens      INTEGER NOT NULL DEFAULT 0,
    completion_tokens  INTEGER NOT NULL DEFAULT 0,
    duration_ms_sum    INTEGER NOT NULL DEFAULT 0,
    dur_0              INTEGER NOT NULL DEFAULT 0,
    dur_1              INTEGER NOT NULL DEFAULT 0,
    dur_2              INTEGER NOT NULL DEFAULT 0,
    dur_3              INTEGER NOT NULL DEFAULT 0,
    dur_4              INTEGER NOT NULL DEFAULT 0,
    dur_5              INTEGER NOT NULL DEFAULT 0,
    dur_6              INTEGER NOT NULL DEFAULT 0,
    dur_7              INTEGER NOT NULL DEFAULT 0,
    dur_8              INTEGER NOT NULL DEFAULT 0,
    dur_9              INTEGER NOT NULL DEFAULT 0,
    dur_10             INTEGER NOT NULL DEFAULT 0,
    dur_11             INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, day_ms, workflow, complexity, analyst, status)
);

INSERT INTO task_rollups_daily (workspace_id, day_ms, workflow, complexity, analyst, status, tasks, cost_micros, unpriced_tasks, prompt_tokens, completion_tokens, duration_ms_sum, dur_0, dur_1, dur_2, dur_3, dur_4, dur_5, dur_6, dur_7, dur_8, dur_9, dur_10, dur_11)
SELECT workspace_id, hour_ms - hour_ms % 86400000, workflow, complexity, analyst, status, SUM(tasks), SUM(cost_micros), SUM(unpriced_tasks), SUM(prompt_tokens), SUM(completion_tokens), SUM(duration_ms_sum), SUM(dur_0), SUM(dur_1), SUM(dur_2), SUM(dur_3), SUM(dur_4), SUM(dur_5), SUM(dur_6), SUM(dur_7), SUM(dur_8), SUM(dur_9), SUM(dur_10), SUM(dur_11)
FROM task_rollups_hourly
GROUP BY workspace_id, hour_ms - hour_ms % 86400000, workflow, complexity, analyst, status;

CREATE TRIGGER task_rollups_hourly_insert AFTER INSERT ON task_rollups_hourly BEGIN
    INSERT INTO task_rollups_daily (workspace_id, day_ms, workflow, complexity, analyst, status, tasks, cost_micros, unpriced_tasks, prompt_tokens, completion_tokens, duration_ms_sum, dur_0, dur_1, dur_2, dur_3, dur_4, dur_5, dur_6, dur_7, dur_8, dur_9, dur_10, dur_11)
    VALUES (NEW.workspace_id, NEW.hour_ms - NEW.hour_ms % 86400000, NEW.workflow, NEW.complexity, NEW.analyst, NEW.status, NEW.tasks, NEW.cost_micros, NEW.unpriced_tasks, NEW.prompt_tokens, NEW.completion_tokens, NEW.duration_ms_sum, NEW.dur_0, NEW.dur_1, NEW.dur_2, NEW.dur_3, NEW.dur_4, NEW.dur_5, NEW.dur_6, NEW.dur_7, NEW.dur_8, NEW.dur_9, NEW.dur_10, NEW.dur_11)
    ON CONFLICT (workspace_id, day_ms, workflow, complexity, analyst, status) DO UPDATE SET
        tasks = task_rollups_daily.tasks + excluded.tasks,
        cost_micros = task_rollups_daily.cost_micros + excluded.cost_micros,
        unpriced_tasks = task_rollups_daily.unpriced_tasks + excluded.unpriced_tasks,
        prompt_tokens = task_rollups_daily.prompt_tokens + excluded.prompt_tokens,
        completion_tokens = task_rollups_daily.completion_tokens + excluded.completion_tokens,
        duration_ms_sum = task_rollups_daily.duration_ms_sum + excluded.duration_ms_sum,
        dur_0 = task_rollups_daily.dur_0 + excluded.dur_0,
        dur_1 = task_rollups_daily.dur_1 + excluded.dur_1,
        dur_2 = task_rollups_daily.dur_2 + excluded.dur_2,
        dur_3 = task_rollups_daily.dur_3 + excluded.dur_3,
        dur_4 = task_rollups_daily.dur_4 + excluded.dur_4,
        dur_5 = task_rollups_daily.dur_5 + excluded.dur_5,
        dur_6 = task_rollups_daily.dur_6 + excluded.dur_6,
        dur_7 = task_rollups_daily.dur_7 + excluded.dur_7,
        dur_8 = task_rollups_daily.dur_8 + excluded.dur_8,
        dur_9 = task_rollups_daily.dur_9 + excluded.dur_9,
        dur_10 = task_rollups_daily.dur_10 + excluded.dur_10,
        dur_11 = task_rollups_daily.dur_11 + excluded.dur_11;
END;

CREATE TRIGGER task_rollups_hourly_update AFTER UPDATE ON task_rollups_hourly BEGIN
    UPDATE task_rollups_daily SET
        tasks = tasks + NEW.tasks - OLD.tasks,
        cost_micros = cost_micros + NEW.cost_micros - OLD.cost_micros,
        unpriced_tasks = unpriced_tasks + NEW.unpriced_tasks - OLD.unpriced_tasks,
        prompt_tokens = prompt_tokens + NEW.prompt_tokens - OLD.prompt_tokens,
        completion_tokens = completion_tokens + NEW.completion_tokens - OLD.completion_tokens,
        duration_ms_sum = duration_ms_sum + NEW.duration_ms_sum - OLD.duration_ms_sum,
        dur_0 = dur_0 + NEW.dur_0 - OLD.dur_0,
        dur_1 = dur_1 + NEW.dur_1 - OLD.dur_1,
        dur_2 = dur_2 + NEW.dur_2 - OLD.dur_2,
        dur_3 = dur_3 + NEW.dur_3 - OLD.dur_3,
        dur_4 = dur_4 + NEW.dur_4 - OLD.dur_4,
        dur_5 = dur_5 + NEW.dur_5 - OLD.dur_5,
        dur_6 = dur_6 + NEW.dur_6 - OLD.dur_6,
        dur_7 = dur_7 + NEW.dur_7 - OLD.dur_7,
        dur_8 = dur_8 + NEW.dur_8 - OLD.dur_8,
        dur_9 = dur_9 + NEW.dur_9 - OLD.dur_9,
        dur_10 = dur_10 + NEW.dur_10 - OLD.dur_10,
        dur_11 = dur_11 + NEW.dur_11 - OLD.dur_11
    WHERE workspace_id = NEW.workspace_id AND day_ms = NEW.hour_ms - NEW.hour_ms % 86400000 AND workflow = NEW.workflow AND complexity = NEW.complexity AND analyst = NEW.analyst AND status = NEW.status;
END;

-- How many tasks a workspace has (the Dashboard's total) without counting them: kept by
-- triggers on insert and delete (a status change does not move it). One row per workspace
-- here, since SQLite writers are serialised anyway; Postgres spreads it over 16 rows.
CREATE TABLE task_totals (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    stripe       INTEGER NOT NULL,
    tasks        INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, stripe)
);

INSERT INTO task_totals (workspace_id, stripe, tasks)
SELECT workspace_id, 0, COUNT(*) FROM tasks GROUP BY workspace_id;

CREATE TRIGGER tasks_total_insert AFTER INSERT ON tasks BEGIN
    INSERT INTO task_totals (workspace_id, stripe, tasks) VALUES (NEW.workspace_id, 0, 1)
        ON CONFLICT (workspace_id, stripe) DO UPDATE SET tasks = tasks + 1;
END;

-- A plain update: when the workspace itself is being deleted its row is already gone.
CREATE TRIGGER tasks_total_delete AFTER DELETE ON tasks BEGIN
    UPDATE task_totals SET tasks = tasks - 1 WHERE workspace_id = OLD.workspace_id AND stripe = 0;
END;
