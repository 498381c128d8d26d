-- Daily task rollups and task totals (issue 10). `task_rollups_hourly` has a row per hour and kind
-- of task (36 kinds for 4 workflows × 3 complexities × 3 outcomes), so a 90-day ANALYST ROI or
-- Trends report summed ~78,000 rows on a busy fleet. `task_rollups_daily` holds the same rows per
-- UTC day; reports read whole days there and only the partial days at a range's edges from the
-- hourly table (`engine::store::rollups::parts`), as for the call rollups (migration 0008). Its
-- columns are in the hourly table's order. Kept by a trigger on the hourly table, in the
-- transaction that finishes the task; filled here from the hourly rows so far.

CREATE TABLE task_rollups_daily (
    workspace_id       TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    day_ms             BIGINT NOT NULL,
    workflow           TEXT NOT NULL,
    complexity         TEXT NOT NULL,
    analyst            BIGINT NOT NULL,
    status             TEXT NOT NULL,
    tasks              BIGINT NOT NULL DEFAULT 0,
    cost_micros        BIGINT NOT NULL DEFAULT 0,
    unpriced_tasks     BIGINT NOT NULL DEFAULT 0,
    prompt_tokens      BIGINT NOT NULL DEFAULT 0,
    completion_tokens  BIGINT NOT NULL DEFAULT 0,
    duration_ms_sum    BIGINT NOT NULL DEFAULT 0,
    dur_0              BIGINT NOT NULL DEFAULT 0,
    dur_1              BIGINT NOT NULL DEFAULT 0,
    dur_2              BIGINT NOT NULL DEFAULT 0,
    dur_3              BIGINT NOT NULL DEFAULT 0,
    dur_4              BIGINT NOT NULL DEFAULT 0,
    dur_5              BIGINT NOT NULL DEFAULT 0,
    dur_6              BIGINT NOT NULL DEFAULT 0,
    dur_7              BIGINT NOT NULL DEFAULT 0,
    dur_8              BIGINT NOT NULL DEFAULT 0,
    dur_9              BIGINT NOT NULL DEFAULT 0,
    dur_10             BIGINT NOT NULL DEFAULT 0,
    dur_11             BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, day_ms, workflow, complexity, analyst, status)
);

INSERT INTO task_rollups_daily (workspace_id, day_ms, workflow, complexity, analyst, status, tasks, cost_micros, unpriced_tasks, prompt_tokens, completion_tokens, duration_ms_sum, dur_0, dur_1, dur_2, dur_3, dur_4, dur_5, dur_6, dur_7, dur_8, dur_9, dur_10, dur_11)
SELECT workspace_id, hour_ms - hour_ms % 86400000, workflow, complexity, analyst, status, SUM(tasks), SUM(cost_micros), SUM(unpriced_tasks), SUM(prompt_tokens), SUM(completion_tokens), SUM(duration_ms_sum), SUM(dur_0), SUM(dur_1), SUM(dur_2), SUM(dur_3), SUM(dur_4), SUM(dur_5), SUM(dur_6), SUM(dur_7), SUM(dur_8), SUM(dur_9), SUM(dur_10), SUM(dur_11)
FROM task_rollups_hourly
GROUP BY workspace_id, hour_ms - hour_ms % 86400000, workflow, complexity, analyst, status;

-- An update adds its difference to the day.
CREATE FUNCTION task_rollups_hourly_propagate() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o RECORD;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        o := OLD;
    ELSE
        SELECT 0::BIGINT AS tasks, 0::BIGINT AS cost_micros, 0::BIGINT AS unpriced_tasks, 0::BIGINT AS prompt_tokens, 0::BIGINT AS completion_tokens, 0::BIGINT AS duration_ms_sum, 0::BIGINT AS dur_0, 0::BIGINT AS dur_1, 0::BIGINT AS dur_2, 0::BIGINT AS dur_3, 0::BIGINT AS dur_4, 0::BIGINT AS dur_5, 0::BIGINT AS dur_6, 0::BIGINT AS dur_7, 0::BIGINT AS dur_8, 0::BIGINT AS dur_9, 0::BIGINT AS dur_10, 0::BIGINT AS dur_11 INTO o;
    END IF;
    INSERT INTO task_rollups_daily (workspace_id, day_ms, workflow, complexity, analyst, status, tasks, cost_micros, unpriced_tasks, prompt_tokens, completion_tokens, duration_ms_sum, dur_0, dur_1, dur_2, dur_3, dur_4, dur_5, dur_6, dur_7, dur_8, dur_9, dur_10, dur_11)
    VALUES (NEW.workspace_id, NEW.hour_ms - NEW.hour_ms % 86400000, NEW.workflow, NEW.complexity, NEW.analyst, NEW.status, NEW.tasks - o.tasks, NEW.cost_micros - o.cost_micros, NEW.unpriced_tasks - o.unpriced_tasks, NEW.prompt_tokens - o.prompt_tokens, NEW.completion_tokens - o.completion_tokens, NEW.duration_ms_sum - o.duration_ms_sum, NEW.dur_0 - o.dur_0, NEW.dur_1 - o.dur_1, NEW.dur_2 - o.dur_2, NEW.dur_3 - o.dur_3, NEW.dur_4 - o.dur_4, NEW.dur_5 - o.dur_5, NEW.dur_6 - o.dur_6, NEW.dur_7 - o.dur_7, NEW.dur_8 - o.dur_8, NEW.dur_9 - o.dur_9, NEW.dur_10 - o.dur_10, NEW.dur_11 - o.dur_11)
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
    RETURN NULL;
END;
$$;

CREATE TRIGGER task_rollups_hourly_propagate AFTER INSERT OR UPDATE ON task_rollups_hourly
FOR EACH ROW EXECUTE FUNCTION task_rollups_hourly_propagate();

-- How many tasks a workspace has (the Dashboard's total) without counting them: kept by
-- triggers on insert and delete (a status change does not move it). Spread over 16 rows per
-- workspace by a hash of the task id, so that concurrent submissions do not wait for each
-- other's commit on one row; a task's delete takes back from the row its insert added to.
CREATE TABLE task_totals (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    stripe       BIGINT NOT NULL,
    tasks        BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, stripe)
);

INSERT INTO task_totals (workspace_id, stripe, tasks)
SELECT workspace_id, abs(hashtext(id)) % 16, COUNT(*) FROM tasks
GROUP BY workspace_id, abs(hashtext(id)) % 16;

CREATE FUNCTION tasks_total_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO task_totals (workspace_id, stripe, tasks)
        VALUES (NEW.workspace_id, abs(hashtext(NEW.id)) % 16, 1)
        ON CONFLICT (workspace_id, stripe) DO UPDATE SET tasks = task_totals.tasks + 1;
    ELSE
        -- A plain update: when the workspace itself is being deleted its rows are gone.
        UPDATE task_totals SET tasks = tasks - 1
        WHERE workspace_id = OLD.workspace_id AND stripe = abs(hashtext(OLD.id)) % 16;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER tasks_total_count AFTER INSERT OR DELETE ON tasks
FOR EACH ROW EXECUTE FUNCTION tasks_total_count();
