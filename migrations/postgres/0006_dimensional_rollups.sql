-- Analytics from rollups that carry every dimension the Analytics pages group and filter by
-- (issue 10). Calls record the role and workflow they served; the hourly rollup becomes one
-- row per (workspace, hour, provider kind, model, agent, role, workflow, outcome) with calls,
-- tokens (input, output, cached, reasoning), cost, unpriced calls, latency and time-to-first-
-- token sums, and fixed log-scale histograms of both: bucket 0 holds 0–10 ms, bucket k (1–22)
-- holds (floor(10·1.5^(k-1)), floor(10·1.5^k)] ms, bucket 23 everything above 74818 ms.
-- A percentile read from them is its bucket's upper bound: never below the true value and at
-- most 1.5× above it (from 10 ms up). `engine::store::rollups` writes the same buckets with
-- each call, in the call's transaction.

ALTER TABLE llm_calls ADD COLUMN role TEXT NOT NULL DEFAULT '';
ALTER TABLE llm_calls ADD COLUMN workflow TEXT NOT NULL DEFAULT '';

-- Calls recorded before: their step's role and their task's workflow.
UPDATE llm_calls SET
    role = COALESCE((SELECT r.role FROM agent_runs r WHERE r.id = llm_calls.agent_run_id), ''),
    workflow = COALESCE((SELECT t.workflow FROM tasks t WHERE t.id = llm_calls.task_id), '');

CREATE TABLE call_rollups_hourly (
    workspace_id       TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    hour_ms            BIGINT NOT NULL,
    provider_kind      TEXT NOT NULL,
    model              TEXT NOT NULL,
    agent_id           TEXT NOT NULL DEFAULT '',
    role               TEXT NOT NULL DEFAULT '',
    workflow           TEXT NOT NULL DEFAULT '',
    -- `success`, `failed` or `cancelled`.
    outcome            TEXT NOT NULL,
    calls              BIGINT NOT NULL DEFAULT 0,
    prompt_tokens      BIGINT NOT NULL DEFAULT 0,
    completion_tokens  BIGINT NOT NULL DEFAULT 0,
    cached_tokens      BIGINT NOT NULL DEFAULT 0,
    reasoning_tokens   BIGINT NOT NULL DEFAULT 0,
    cost_micros        BIGINT NOT NULL DEFAULT 0,
    unpriced_calls     BIGINT NOT NULL DEFAULT 0,
    latency_ms_sum     BIGINT NOT NULL DEFAULT 0,
    ttft_ms_sum        BIGINT NOT NULL DEFAULT 0,
    ttft_calls         BIGINT NOT NULL DEFAULT 0,
    lat_0  BIGINT NOT NULL DEFAULT 0,
    lat_1  BIGINT NOT NULL DEFAULT 0,
    lat_2  BIGINT NOT NULL DEFAULT 0,
    lat_3  BIGINT NOT NULL DEFAULT 0,
    lat_4  BIGINT NOT NULL DEFAULT 0,
    lat_5  BIGINT NOT NULL DEFAULT 0,
    lat_6  BIGINT NOT NULL DEFAULT 0,
    lat_7  BIGINT NOT NULL DEFAULT 0,
    lat_8  BIGINT NOT NULL DEFAULT 0,
    lat_9  BIGINT NOT NULL DEFAULT 0,
    lat_10 BIGINT NOT NULL DEFAULT 0,
    lat_11 BIGINT NOT NULL DEFAULT 0,
    lat_12 BIGINT NOT NULL DEFAULT 0,
    lat_13 BIGINT NOT NULL DEFAULT 0,
    lat_14 BIGINT NOT NULL DEFAULT 0,
    lat_15 BIGINT NOT NULL DEFAULT 0,
    lat_16 BIGINT NOT NULL DEFAULT 0,
    lat_17 BIGINT NOT NULL DEFAULT 0,
    lat_18 BIGINT NOT NULL DEFAULT 0,
    lat_19 BIGINT NOT NULL DEFAULT 0,
    lat_20 BIGINT NOT NULL DEFAULT 0,
    lat_21 BIGINT NOT NULL DEFAULT 0,
    lat_22 BIGINT NOT NULL DEFAULT 0,
    lat_23 BIGINT NOT NULL DEFAULT 0,
    ttft_0  BIGINT NOT NULL DEFAULT 0,
    ttft_1  BIGINT NOT NULL DEFAULT 0,
    ttft_2  BIGINT NOT NULL DEFAULT 0,
    ttft_3  BIGINT NOT NULL DEFAULT 0,
    ttft_4  BIGINT NOT NULL DEFAULT 0,
    ttft_5  BIGINT NOT NULL DEFAULT 0,
    ttft_6  BIGINT NOT NULL DEFAULT 0,
    ttft_7  BIGINT NOT NULL DEFAULT 0,
    ttft_8  BIGINT NOT NULL DEFAULT 0,
    ttft_9  BIGINT NOT NULL DEFAULT 0,
    ttft_10 BIGINT NOT NULL DEFAULT 0,
    ttft_11 BIGINT NOT NULL DEFAULT 0,
    ttft_12 BIGINT NOT NULL DEFAULT 0,
    ttft_13 BIGINT NOT NULL DEFAULT 0,
    ttft_14 BIGINT NOT NULL DEFAULT 0,
    ttft_15 BIGINT NOT NULL DEFAULT 0,
    ttft_16 BIGINT NOT NULL DEFAULT 0,
    ttft_17 BIGINT NOT NULL DEFAULT 0,
    ttft_18 BIGINT NOT NULL DEFAULT 0,
    ttft_19 BIGINT NOT NULL DEFAULT 0,
    ttft_20 BIGINT NOT NULL DEFAULT 0,
    ttft_21 BIGINT NOT NULL DEFAULT 0,
    ttft_22 BIGINT NOT NULL DEFAULT 0,
    ttft_23 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, hour_ms, provider_kind, model, agent_id, role, workflow, outcome)
);
CREATE INDEX call_rollups_hourly_agent ON call_rollups_hourly (workspace_id, agent_id);

-- The history so far, from the calls themselves (the old rollup had fewer dimensions).
INSERT INTO call_rollups_hourly (workspace_id, hour_ms, provider_kind, model, agent_id, role,
    workflow, outcome, calls, prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens,
    cost_micros, unpriced_calls, latency_ms_sum, ttft_ms_sum, ttft_calls,
    lat_0, lat_1, lat_2, lat_3, lat_4, lat_5, lat_6, lat_7, lat_8, lat_9, lat_10, lat_11, lat_12, lat_13, lat_14, lat_15, lat_16, lat_17, lat_18, lat_19, lat_20, lat_21, lat_22, lat_23,
    ttft_0, ttft_1, ttft_2, ttft_3, ttft_4, ttft_5, ttft_6, ttft_7, ttft_8, ttft_9, ttft_10, ttft_11, ttft_12, ttft_13, ttft_14, ttft_15, ttft_16, ttft_17, ttft_18, ttft_19, ttft_20, ttft_21, ttft_22, ttft_23)
SELECT workspace_id, hour_ms, provider_kind, model, agent_id, role, workflow, outcome,
    COUNT(*), SUM(prompt_tokens), SUM(completion_tokens), SUM(cached_tokens),
    SUM(reasoning_tokens), SUM(cost_micros), SUM(CASE WHEN price_known = 0 THEN 1 ELSE 0 END),
    SUM(latency_ms), SUM(COALESCE(ttft_ms, 0)), SUM(CASE WHEN ttft_ms IS NULL THEN 0 ELSE 1 END),
    SUM(CASE WHEN latency_ms <= 10 THEN 1 ELSE 0 END),
    SUM(CASE WHEN latency_ms > 10 AND latency_ms <= 15 THEN 1 ELSE 0 END),
    SUM(CASE WHEN latency_ms > 15 AND latency_ms <= 22 THEN 1 ELSE 0 END),
    SUM(CASE WHEN latency_ms > 22 AND latency_ms <= 33 THEN 1 ELSE 0 END),
    SUM(CASE WHEN latency_ms > 33 AND latency_ms <= 50 THEN 1 ELSE 0 END),
    SUM(CASE WHEN latency_ms > 50 AND latency_ms <= 75 THEN 1 ELSE 0 END),
    SUM(CASE WHEN latency_ms > 75 AND latency_ms <= 113 THEN 1 ELSE 0 END),
    SUM(CASE WHEN latency_ms > 113 AND latency_ms <= 170 THEN 1 ELSE 0 END),
    SUM(CASE WHEN latency_ms > 170 AND latency_ms <= 256 THEN 1 ELSE 0 END),
    SUM(CASE WHEN latency_ms > 256 AND latency_ms <= 384 THEN 1 ELSE 0 END),
    SUM(CASE WHEN latency_ms > 384 AND latency_ms <= 576 THEN 1 ELSE 0 END),
    SUM(CASE WHEN latency_ms > 576 AND latency_ms <= 864 THEN 1 ELSE 0 END),
    SUM(CASE WHEN latency_ms > 864 AND latency_ms <= 1297 THEN 1 ELSE 0 END),
    SUM(CASE WHEN latency_ms > 1297 AND latency_ms <= 1946 THEN 1 ELSE 0 END),
    SUM(CASE WHEN latency_ms > 1946 AND latency_ms <= 2919 THEN 1 ELSE 0 END),
    SUM(CASE WHEN latency_ms > 2919 AND latency_ms <= 4378 THEN 1 ELSE 0 END),
    SUM(CASE WHEN latency_ms > 4378 AND latency_ms <= 6568 THEN 1 ELSE 0 END),
    SUM(CASE WHEN latency_ms > 6568 AND latency_ms <= 9852 THEN 1 ELSE 0 END),
    SUM(CASE WHEN latency_ms > 9852 AND latency_ms <= 14778 THEN 1 ELSE 0 END),
    SUM(CASE WHEN latency_ms > 14778 AND latency_ms <= 22168 THEN 1 ELSE 0 END),
    SUM(CASE WHEN latency_ms > 22168 AND latency_ms <= 33252 THEN 1 ELSE 0 END),
    SUM(CASE WHEN latency_ms > 33252 AND latency_ms <= 49878 THEN 1 ELSE 0 END),
    SUM(CASE WHEN latency_ms > 49878 AND latency_ms <= 74818 THEN 1 ELSE 0 END),
    SUM(CASE WHEN latency_ms > 74818 THEN 1 ELSE 0 END),
    SUM(CASE WHEN ttft_ms <= 10 THEN 1 ELSE 0 END),
    SUM(CASE WHEN ttft_ms > 10 AND ttft_ms <= 15 THEN 1 ELSE 0 END),
    SUM(CASE WHEN ttft_ms > 15 AND ttft_ms <= 22 THEN 1 ELSE 0 END),
    SUM(CASE WHEN ttft_ms > 22 AND ttft_ms <= 33 THEN 1 ELSE 0 END),
    SUM(CASE WHEN ttft_ms > 33 AND ttft_ms <= 50 THEN 1 ELSE 0 END),
    SUM(CASE WHEN ttft_ms > 50 AND ttft_ms <= 75 THEN 1 ELSE 0 END),
    SUM(CASE WHEN ttft_ms > 75 AND ttft_ms <= 113 THEN 1 ELSE 0 END),
    SUM(CASE WHEN ttft_ms > 113 AND ttft_ms <= 170 THEN 1 ELSE 0 END),
    SUM(CASE WHEN ttft_ms > 170 AND ttft_ms <= 256 THEN 1 ELSE 0 END),
    SUM(CASE WHEN ttft_ms > 256 AND ttft_ms <= 384 THEN 1 ELSE 0 END),
    SUM(CASE WHEN ttft_ms > 384 AND ttft_ms <= 576 THEN 1 ELSE 0 END),
    SUM(CASE WHEN ttft_ms > 576 AND ttft_ms <= 864 THEN 1 ELSE 0 END),
    SUM(CASE WHEN ttft_ms > 864 AND ttft_ms <= 1297 THEN 1 ELSE 0 END),
    SUM(CASE WHEN ttft_ms > 1297 AND ttft_ms <= 1946 THEN 1 ELSE 0 END),
    SUM(CASE WHEN ttft_ms > 1946 AND ttft_ms <= 2919 THEN 1 ELSE 0 END),
    SUM(CASE WHEN ttft_ms > 2919 AND ttft_ms <= 4378 THEN 1 ELSE 0 END),
    SUM(CASE WHEN ttft_ms > 4378 AND ttft_ms <= 6568 THEN 1 ELSE 0 END),
    SUM(CASE WHEN ttft_ms > 6568 AND ttft_ms <= 9852 THEN 1 ELSE 0 END),
    SUM(CASE WHEN ttft_ms > 9852 AND ttft_ms <= 14778 THEN 1 ELSE 0 END),
    SUM(CASE WHEN ttft_ms > 14778 AND ttft_ms <= 22168 THEN 1 ELSE 0 END),
    SUM(CASE WHEN ttft_ms > 22168 AND ttft_ms <= 33252 THEN 1 ELSE 0 END),
    SUM(CASE WHEN ttft_ms > 33252 AND ttft_ms <= 49878 THEN 1 ELSE 0 END),
    SUM(CASE WHEN ttft_ms > 49878 AND ttft_ms <= 74818 THEN 1 ELSE 0 END),
    SUM(CASE WHEN ttft_ms > 74818 THEN 1 ELSE 0 END)
FROM (
    SELECT workspace_id, created_at - (created_at % 3600000) AS hour_ms, provider_kind, model,
        COALESCE(agent_id, '') AS agent_id, role, workflow,
        CASE WHEN success = 1 THEN 'success' WHEN error_class = 'cancelled' THEN 'cancelled'
             ELSE 'failed' END AS outcome,
        prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, cost_micros, price_known,
        latency_ms, ttft_ms
    FROM llm_calls
) c
GROUP BY workspace_id, hour_ms, provider_kind, model, agent_id, role, workflow, outcome;

DROP TABLE metric_rollups_hourly;
