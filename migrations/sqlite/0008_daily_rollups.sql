-- Daily rollups and hourly totals (issue 10): the hourly rollup keeps every dimension, so a
-- busy fleet has hundreds of rows per hour (agents × workflows × outcomes) and a 30-day report
-- would sum hundreds of thousands of them. `call_rollups_daily` holds the same rows per UTC day
-- (reports read whole days from it and only the partial days at a range's edges from the
-- hourly table); `call_totals_hourly` holds one row per hour (the peak-usage heatmap). Both are
-- written with each batch of calls, in its transaction (triggers below). The
-- daily table's columns are in the hourly table's order, so the two can be read as one.

CREATE TABLE call_rollups_daily (
    workspace_id       TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    day_ms             INTEGER NOT NULL,
    provider_kind      TEXT NOT NULL,
    model              TEXT NOT NULL,
    agent_id           TEXT NOT NULL DEFAULT '',
    role               TEXT NOT NULL DEFAULT '',
    workflow           TEXT NOT NULL DEFAULT '',
    -- `success`, `failed` or `cancelled`.
    outcome            TEXT NOT NULL,
    calls              INTEGER NOT NULL DEFAULT 0,
    prompt_tokens      INTEGER NOT NULL DEFAULT 0,
    completion_tokens  INTEGER NOT NULL DEFAULT 0,
    cached_tokens      INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens   INTEGER NOT NULL DEFAULT 0,
    cost_micros        INTEGER NOT NULL DEFAULT 0,
    unpriced_calls     INTEGER NOT NULL DEFAULT 0,
    latency_ms_sum     INTEGER NOT NULL DEFAULT 0,
    ttft_ms_sum        INTEGER NOT NULL DEFAULT 0,
    ttft_calls         INTEGER NOT NULL DEFAULT 0,
    lat_0  INTEGER NOT NULL DEFAULT 0,
    lat_1  INTEGER NOT NULL DEFAULT 0,
    lat_2  INTEGER NOT NULL DEFAULT 0,
    lat_3  INTEGER NOT NULL DEFAULT 0,
    lat_4  INTEGER NOT NULL DEFAULT 0,
    lat_5  INTEGER NOT NULL DEFAULT 0,
    lat_6  INTEGER NOT NULL DEFAULT 0,
    lat_7  INTEGER NOT NULL DEFAULT 0,
    lat_8  INTEGER NOT NULL DEFAULT 0,
    lat_9  INTEGER NOT NULL DEFAULT 0,
    lat_10 INTEGER NOT NULL DEFAULT 0,
    lat_11 INTEGER NOT NULL DEFAULT 0,
    lat_12 INTEGER NOT NULL DEFAULT 0,
    lat_13 INTEGER NOT NULL DEFAULT 0,
    lat_14 INTEGER NOT NULL DEFAULT 0,
    lat_15 INTEGER NOT NULL DEFAULT 0,
    lat_16 INTEGER NOT NULL DEFAULT 0,
    lat_17 INTEGER NOT NULL DEFAULT 0,
    lat_18 INTEGER NOT NULL DEFAULT 0,
    lat_19 INTEGER NOT NULL DEFAULT 0,
    lat_20 INTEGER NOT NULL DEFAULT 0,
    lat_21 INTEGER NOT NULL DEFAULT 0,
    lat_22 INTEGER NOT NULL DEFAULT 0,
    lat_23 INTEGER NOT NULL DEFAULT 0,
    ttft_0  INTEGER NOT NULL DEFAULT 0,
    ttft_1  INTEGER NOT NULL DEFAULT 0,
    ttft_2  INTEGER NOT NULL DEFAULT 0,
    ttft_3  INTEGER NOT NULL DEFAULT 0,
    ttft_4  INTEGER NOT NULL DEFAULT 0,
    ttft_5  INTEGER NOT NULL DEFAULT 0,
    ttft_6  INTEGER NOT NULL DEFAULT 0,
    ttft_7  INTEGER NOT NULL DEFAULT 0,
    ttft_8  INTEGER NOT NULL DEFAULT 0,
    ttft_9  INTEGER NOT NULL DEFAULT 0,
    ttft_10 INTEGER NOT NULL DEFAULT 0,
    ttft_11 INTEGER NOT NULL DEFAULT 0,
    ttft_12 INTEGER NOT NULL DEFAULT 0,
    ttft_13 INTEGER NOT NULL DEFAULT 0,
    ttft_14 INTEGER NOT NULL DEFAULT 0,
    ttft_15 INTEGER NOT NULL DEFAULT 0,
    ttft_16 INTEGER NOT NULL DEFAULT 0,
    ttft_17 INTEGER NOT NULL DEFAULT 0,
    ttft_18 INTEGER NOT NULL DEFAULT 0,
    ttft_19 INTEGER NOT NULL DEFAULT 0,
    ttft_20 INTEGER NOT NULL DEFAULT 0,
    ttft_21 INTEGER NOT NULL DEFAULT 0,
    ttft_22 INTEGER NOT NULL DEFAULT 0,
    ttft_23 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, day_ms, provider_kind, model, agent_id, role, workflow, outcome)
);

CREATE TABLE call_totals_hourly (
    workspace_id       TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    hour_ms            INTEGER NOT NULL,
    calls              INTEGER NOT NULL DEFAULT 0,
    cost_micros        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, hour_ms)
);

-- The history so far, from the hourly rollup.
INSERT INTO call_rollups_daily (workspace_id, day_ms, provider_kind, model, agent_id, role, workflow, outcome, calls, prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, cost_micros, unpriced_calls, latency_ms_sum, ttft_ms_sum, ttft_calls, lat_0, lat_1, lat_2, lat_3, lat_4, lat_5, lat_6, lat_7, lat_8, lat_9, lat_10, lat_11, lat_12, lat_13, lat_14, lat_15, lat_16, lat_17, lat_18, lat_19, lat_20, lat_21, lat_22, lat_23, ttft_0, ttft_1, ttft_2, ttft_3, ttft_4, ttft_5, ttft_6, ttft_7, ttft_8, ttft_9, ttft_10, ttft_11, ttft_12, ttft_13, ttft_14, ttft_15, ttft_16, ttft_17, ttft_18, ttft_19, ttft_20, ttft_21, ttft_22, ttft_23)
SELECT workspace_id, hour_ms - hour_ms % 86400000, provider_kind, model, agent_id, role, workflow, outcome, SUM(calls), SUM(prompt_tokens), SUM(completion_tokens), SUM(cached_tokens), SUM(reasoning_tokens), SUM(cost_micros), SUM(unpriced_calls), SUM(latency_ms_sum), SUM(ttft_ms_sum), SUM(ttft_calls), SUM(lat_0), SUM(lat_1), SUM(lat_2), SUM(lat_3), SUM(lat_4), SUM(lat_5), SUM(lat_6), SUM(lat_7), SUM(lat_8), SUM(lat_9), SUM(lat_10), SUM(lat_11), SUM(lat_12), SUM(lat_13), SUM(lat_14), SUM(lat_15), SUM(lat_16), SUM(lat_17), SUM(lat_18), SUM(lat_19), SUM(lat_20), SUM(lat_21), SUM(lat_22), SUM(lat_23), SUM(ttft_0), SUM(ttft_1), SUM(ttft_2), SUM(ttft_3), SUM(ttft_4), SUM(ttft_5), SUM(ttft_6), SUM(ttft_7), SUM(ttft_8), SUM(ttft_9), SUM(ttft_10), SUM(ttft_11), SUM(ttft_12), SUM(ttft_13), SUM(ttft_14), SUM(ttft_15), SUM(ttft_16), SUM(ttft_17), SUM(ttft_18), SUM(ttft_19), SUM(ttft_20), SUM(ttft_21), SUM(ttft_22), SUM(ttft_23)
FROM call_rollups_hourly
GROUP BY workspace_id, hour_ms - hour_ms % 86400000, provider_kind, model, agent_id, role, workflow, outcome;

INSERT INTO call_totals_hourly (workspace_id, hour_ms, calls, cost_micros)
SELECT workspace_id, hour_ms, SUM(calls), SUM(cost_micros) FROM call_rollups_hourly
GROUP BY workspace_id, hour_ms;

-- Both are kept from the hourly rollup by triggers, in the same transaction as each hourly
-- upsert: no extra statement from the writer (measured: writing them as statements of their
-- own cost 40–50 % of the records/s at 1 and 8 writers).
CREATE TRIGGER call_rollups_hourly_insert AFTER INSERT ON call_rollups_hourly BEGIN
    INSERT INTO call_rollups_daily (workspace_id, day_ms, provider_kind, model, agent_id, role, workflow, outcome, calls, prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, cost_micros, unpriced_calls, latency_ms_sum, ttft_ms_sum, ttft_calls, lat_0, lat_1, lat_2, lat_3, lat_4, lat_5, lat_6, lat_7, lat_8, lat_9, lat_10, lat_11, lat_12, lat_13, lat_14, lat_15, lat_16, lat_17, lat_18, lat_19, lat_20, lat_21, lat_22, lat_23, ttft_0, ttft_1, ttft_2, ttft_3, ttft_4, ttft_5, ttft_6, ttft_7, ttft_8, ttft_9, ttft_10, ttft_11, ttft_12, ttft_13, ttft_14, ttft_15, ttft_16, ttft_17, ttft_18, ttft_19, ttft_20, ttft_21, ttft_22, ttft_23)
    VALUES (NEW.workspace_id, NEW.hour_ms - NEW.hour_ms % 86400000, NEW.provider_kind, NEW.model, NEW.agent_id, NEW.role, NEW.workflow, NEW.outcome, NEW.calls, NEW.prompt_tokens, NEW.completion_tokens, NEW.cached_tokens, NEW.reasoning_tokens, NEW.cost_micros, NEW.unpriced_calls, NEW.latency_ms_sum, NEW.ttft_ms_sum, NEW.ttft_calls, NEW.lat_0, NEW.lat_1, NEW.lat_2, NEW.lat_3, NEW.lat_4, NEW.lat_5, NEW.lat_6, NEW.lat_7, NEW.lat_8, NEW.lat_9, NEW.lat_10, NEW.lat_11, NEW.lat_12, NEW.lat_13, NEW.lat_14, NEW.lat_15, NEW.lat_16, NEW.lat_17, NEW.lat_18, NEW.lat_19, NEW.lat_20, NEW.lat_21, NEW.lat_22, NEW.lat_23, NEW.ttft_0, NEW.ttft_1, NEW.ttft_2, NEW.ttft_3, NEW.ttft_4, NEW.ttft_5, NEW.ttft_6, NEW.ttft_7, NEW.ttft_8, NEW.ttft_9, NEW.ttft_10, NEW.ttft_11, NEW.ttft_12, NEW.ttft_13, NEW.ttft_14, NEW.ttft_15, NEW.ttft_16, NEW.ttft_17, NEW.ttft_18, NEW.ttft_19, NEW.ttft_20, NEW.ttft_21, NEW.ttft_22, NEW.ttft_23)
    ON CONFLICT (workspace_id, day_ms, provider_kind, model, agent_id, role, workflow, outcome) DO UPDATE SET
        calls = call_rollups_daily.calls + excluded.calls,
        prompt_tokens = call_rollups_daily.prompt_tokens + excluded.prompt_tokens,
        completion_tokens = call_rollups_daily.completion_tokens + excluded.completion_tokens,
        cached_tokens = call_rollups_daily.cached_tokens + excluded.cached_tokens,
        reasoning_tokens = call_rollups_daily.reasoning_tokens + excluded.reasoning_tokens,
        cost_micros = call_rollups_daily.cost_micros + excluded.cost_micros,
        unpriced_calls = call_rollups_daily.unpriced_calls + excluded.unpriced_calls,
        latency_ms_sum = call_rollups_daily.latency_ms_sum + excluded.latency_ms_sum,
        ttft_ms_sum = call_rollups_daily.ttft_ms_sum + excluded.ttft_ms_sum,
        ttft_calls = call_rollups_daily.ttft_calls + excluded.ttft_calls,
        lat_0 = call_rollups_daily.lat_0 + excluded.lat_0,
        lat_1 = call_rollups_daily.lat_1 + excluded.lat_1,
        lat_2 = call_rollups_daily.lat_2 + excluded.lat_2,
        lat_3 = call_rollups_daily.lat_3 + excluded.lat_3,
        lat_4 = call_rollups_daily.lat_4 + excluded.lat_4,
        lat_5 = call_rollups_daily.lat_5 + excluded.lat_5,
        lat_6 = call_rollups_daily.lat_6 + excluded.lat_6,
        lat_7 = call_rollups_daily.lat_7 + excluded.lat_7,
        lat_8 = call_rollups_daily.lat_8 + excluded.lat_8,
        lat_9 = call_rollups_daily.lat_9 + excluded.lat_9,
        lat_10 = call_rollups_daily.lat_10 + excluded.lat_10,
        lat_11 = call_rollups_daily.lat_11 + excluded.lat_11,
        lat_12 = call_rollups_daily.lat_12 + excluded.lat_12,
        lat_13 = call_rollups_daily.lat_13 + excluded.lat_13,
        lat_14 = call_rollups_daily.lat_14 + excluded.lat_14,
        lat_15 = call_rollups_daily.lat_15 + excluded.lat_15,
        lat_16 = call_rollups_daily.lat_16 + excluded.lat_16,
        lat_17 = call_rollups_daily.lat_17 + excluded.lat_17,
        lat_18 = call_rollups_daily.lat_18 + excluded.lat_18,
        lat_19 = call_rollups_daily.lat_19 + excluded.lat_19,
        lat_20 = call_rollups_daily.lat_20 + excluded.lat_20,
        lat_21 = call_rollups_daily.lat_21 + excluded.lat_21,
        lat_22 = call_rollups_daily.lat_22 + excluded.lat_22,
        lat_23 = call_rollups_daily.lat_23 + excluded.lat_23,
        ttft_0 = call_rollups_daily.ttft_0 + excluded.ttft_0,
        ttft_1 = call_rollups_daily.ttft_1 + excluded.ttft_1,
        ttft_2 = call_rollups_daily.ttft_2 + excluded.ttft_2,
        ttft_3 = call_rollups_daily.ttft_3 + excluded.ttft_3,
        ttft_4 = call_rollups_daily.ttft_4 + excluded.ttft_4,
        ttft_5 = call_rollups_daily.ttft_5 + excluded.ttft_5,
        ttft_6 = call_rollups_daily.ttft_6 + excluded.ttft_6,
        ttft_7 = call_rollups_daily.ttft_7 + excluded.ttft_7,
        ttft_8 = call_rollups_daily.ttft_8 + excluded.ttft_8,
        ttft_9 = call_rollups_daily.ttft_9 + excluded.ttft_9,
        ttft_10 = call_rollups_daily.ttft_10 + excluded.ttft_10,
        ttft_11 = call_rollups_daily.ttft_11 + excluded.ttft_11,
        ttft_12 = call_rollups_daily.ttft_12 + excluded.ttft_12,
        ttft_13 = call_rollups_daily.ttft_13 + excluded.ttft_13,
        ttft_14 = call_rollups_daily.ttft_14 + excluded.ttft_14,
        ttft_15 = call_rollups_daily.ttft_15 + excluded.ttft_15,
        ttft_16 = call_rollups_daily.ttft_16 + excluded.ttft_16,
        ttft_17 = call_rollups_daily.ttft_17 + excluded.ttft_17,
        ttft_18 = call_rollups_daily.ttft_18 + excluded.ttft_18,
        ttft_19 = call_rollups_daily.ttft_19 + excluded.ttft_19,
        ttft_20 = call_rollups_daily.ttft_20 + excluded.ttft_20,
        ttft_21 = call_rollups_daily.ttft_21 + excluded.ttft_21,
        ttft_22 = call_rollups_daily.ttft_22 + excluded.ttft_22,
        ttft_23 = call_rollups_daily.ttft_23 + excluded.ttft_23;
    INSERT INTO call_totals_hourly (workspace_id, hour_ms, calls, cost_micros)
    VALUES (NEW.workspace_id, NEW.hour_ms, NEW.calls, NEW.cost_micros)
    ON CONFLICT (workspace_id, hour_ms) DO UPDATE SET
        calls = call_totals_hourly.calls + excluded.calls,
        cost_micros = call_totals_hourly.cost_micros + excluded.cost_micros;
END;

CREATE TRIGGER call_rollups_hourly_update AFTER UPDATE ON call_rollups_hourly BEGIN
    UPDATE call_rollups_daily SET
        calls = calls + NEW.calls - OLD.calls,
        prompt_tokens = prompt_tokens + NEW.prompt_tokens - OLD.prompt_tokens,
        completion_tokens = completion_tokens + NEW.completion_tokens - OLD.completion_tokens,
        cached_tokens = cached_tokens + NEW.cached_tokens - OLD.cached_tokens,
        reasoning_tokens = reasoning_tokens + NEW.reasoning_tokens - OLD.reasoning_tokens,
        cost_micros = cost_micros + NEW.cost_micros - OLD.cost_micros,
        unpriced_calls = unpriced_calls + NEW.unpriced_calls - OLD.unpriced_calls,
        latency_ms_sum = latency_ms_sum + NEW.latency_ms_sum - OLD.latency_ms_sum,
        ttft_ms_sum = ttft_ms_sum + NEW.ttft_ms_sum - OLD.ttft_ms_sum,
        ttft_calls = ttft_calls + NEW.ttft_calls - OLD.ttft_calls,
        lat_0 = lat_0 + NEW.lat_0 - OLD.lat_0,
        lat_1 = lat_1 + NEW.lat_1 - OLD.lat_1,
        lat_2 = lat_2 + NEW.lat_2 - OLD.lat_2,
        lat_3 = lat_3 + NEW.lat_3 - OLD.lat_3,
        lat_4 = lat_4 + NEW.lat_4 - OLD.lat_4,
        lat_5 = lat_5 + NEW.lat_5 - OLD.lat_5,
        lat_6 = lat_6 + NEW.lat_6 - OLD.lat_6,
        lat_7 = lat_7 + NEW.lat_7 - OLD.lat_7,
        lat_8 = lat_8 + NEW.lat_8 - OLD.lat_8,
        lat_9 = lat_9 + NEW.lat_9 - OLD.lat_9,
        lat_10 = lat_10 + NEW.lat_10 - OLD.lat_10,
        lat_11 = lat_11 + NEW.lat_11 - OLD.lat_11,
        lat_12 = lat_12 + NEW.lat_12 - OLD.lat_12,
        lat_13 = lat_13 + NEW.lat_13 - OLD.lat_13,
        lat_14 = lat_14 + NEW.lat_14 - OLD.lat_14,
        lat_15 = lat_15 + NEW.lat_15 - OLD.lat_15,
        lat_16 = lat_16 + NEW.lat_16 - OLD.lat_16,
        lat_17 = lat_17 + NEW.lat_17 - OLD.lat_17,
        lat_18 = lat_18 + NEW.lat_18 - OLD.lat_18,
        lat_19 = lat_19 + NEW.lat_19 - OLD.lat_19,
        lat_20 = lat_20 + NEW.lat_20 - OLD.lat_20,
        lat_21 = lat_21 + NEW.lat_21 - OLD.lat_21,
        lat_22 = lat_22 + NEW.lat_22 - OLD.lat_22,
        lat_23 = lat_23 + NEW.lat_23 - OLD.lat_23,
        ttft_0 = ttft_0 + NEW.ttft_0 - OLD.ttft_0,
        ttft_1 = ttft_1 + NEW.ttft_1 - OLD.ttft_1,
        ttft_2 = ttft_2 + NEW.ttft_2 - OLD.ttft_2,
        ttft_3 = ttft_3 + NEW.ttft_3 - OLD.ttft_3,
        ttft_4 = ttft_4 + NEW.ttft_4 - OLD.ttft_4,
        ttft_5 = ttft_5 + NEW.ttft_5 - OLD.ttft_5,
        ttft_6 = ttft_6 + NEW.ttft_6 - OLD.ttft_6,
        ttft_7 = ttft_7 + NEW.ttft_7 - OLD.ttft_7,
        ttft_8 = ttft_8 + NEW.ttft_8 - OLD.ttft_8,
        ttft_9 = ttft_9 + NEW.ttft_9 - OLD.ttft_9,
        ttft_10 = ttft_10 + NEW.ttft_10 - OLD.ttft_10,
        ttft_11 = ttft_11 + NEW.ttft_11 - OLD.ttft_11,
        ttft_12 = ttft_12 + NEW.ttft_12 - OLD.ttft_12,
        ttft_13 = ttft_13 + NEW.ttft_13 - OLD.ttft_13,
        ttft_14 = ttft_14 + NEW.ttft_14 - OLD.ttft_14,
        ttft_15 = ttft_15 + NEW.ttft_15 - OLD.ttft_15,
        ttft_16 = ttft_16 + NEW.ttft_16 - OLD.ttft_16,
        ttft_17 = ttft_17 + NEW.ttft_17 - OLD.ttft_17,
        ttft_18 = ttft_18 + NEW.ttft_18 - OLD.ttft_18,
        ttft_19 = ttft_19 + NEW.ttft_19 - OLD.ttft_19,
        ttft_20 = ttft_20 + NEW.ttft_20 - OLD.ttft_20,
        ttft_21 = ttft_21 + NEW.ttft_21 - OLD.ttft_21,
        ttft_22 = ttft_22 + NEW.ttft_22 - OLD.ttft_22,
        ttft_23 = ttft_23 + NEW.ttft_23 - OLD.ttft_23
    WHERE workspace_id = NEW.workspace_id AND day_ms = NEW.hour_ms - NEW.hour_ms % 86400000 AND provider_kind = NEW.provider_kind AND model = NEW.model AND agent_id = NEW.agent_id AND role = NEW.role AND workflow = NEW.workflow AND outcome = NEW.outcome;
    UPDATE call_totals_hourly SET calls = calls + NEW.calls - OLD.calls,
        cost_micros = cost_micros + NEW.cost_micros - OLD.cost_micros
    WHERE workspace_id = NEW.workspace_id AND hour_ms = NEW.hour_ms;
END;

-- The calls explorer pages by (created_at, id) newest first: with `id` in the index, Postgres
-- walks it backwards and stops after one page instead of sorting every call of the workspace
-- (measured: 300 ms for page 1 at 400,000 calls). Same write cost: it replaces the old index.
DROP INDEX llm_calls_workspace_created;
CREATE INDEX llm_calls_workspace_created_id ON llm_calls (workspace_id, created_at, id);
