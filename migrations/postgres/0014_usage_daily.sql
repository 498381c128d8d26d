-- A narrow daily rollup for the cost reports (issue 10). `call_rollups_daily` keeps every
-- dimension with the outcome and 48 histogram columns: a busy fleet has ~600 rows a day there
-- (agents × workflows × outcomes), and a 90-day cost report summed 54,000 wide rows (measured
-- at 10M calls: 114–142 ms). Costs, top agents and the Dashboard need neither the outcome (only
-- how many calls failed) nor the histograms, so `call_usage_daily` holds those sums without
-- them: a third of the rows, a fifth of the width. It is kept from the hourly rollup in the
-- same transaction as each hourly upsert (a trigger, like the daily rollup: no statement of
-- its own from the writer), and filled here from the daily rollup.

CREATE TABLE call_usage_daily (
    workspace_id       TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    day_ms             BIGINT NOT NULL,
    provider_kind      TEXT NOT NULL,
    model              TEXT NOT NULL,
    agent_id           TEXT NOT NULL,
    role               TEXT NOT NULL,
    workflow           TEXT NOT NULL,
    calls              BIGINT NOT NULL DEFAULT 0,
    failed_calls       BIGINT NOT NULL DEFAULT 0,
    prompt_tokens      BIGINT NOT NULL DEFAULT 0,
    completion_tokens  BIGINT NOT NULL DEFAULT 0,
    cached_tokens      BIGINT NOT NULL DEFAULT 0,
    reasoning_tokens   BIGINT NOT NULL DEFAULT 0,
    cost_micros        BIGINT NOT NULL DEFAULT 0,
    unpriced_calls     BIGINT NOT NULL DEFAULT 0,
    ok_latency_ms_sum  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, day_ms, provider_kind, model, agent_id, role, workflow)
);

INSERT INTO call_usage_daily (workspace_id, day_ms, provider_kind, model, agent_id, role, workflow, calls, failed_calls, prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, cost_micros, unpriced_calls, ok_latency_ms_sum)
SELECT workspace_id, day_ms, provider_kind, model, agent_id, role, workflow, SUM(calls), SUM(CASE WHEN outcome = 'success' THEN 0 ELSE calls END), SUM(prompt_tokens), SUM(completion_tokens), SUM(cached_tokens), SUM(reasoning_tokens), SUM(cost_micros), SUM(unpriced_calls), SUM(CASE WHEN outcome = 'success' THEN latency_ms_sum ELSE 0 END)
FROM call_rollups_daily
GROUP BY workspace_id, day_ms, provider_kind, model, agent_id, role, workflow;

-- The hourly rollup's trigger function (migration 0008) with one more upsert: one trigger call
-- per hourly row, as before. An update adds its difference (an hourly row's outcome never
-- changes: it is part of its key).
CREATE OR REPLACE FUNCTION call_rollups_hourly_propagate() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o RECORD;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        o := OLD;
    ELSE
        SELECT 0::BIGINT AS calls, 0::BIGINT AS prompt_tokens, 0::BIGINT AS completion_tokens, 0::BIGINT AS cached_tokens, 0::BIGINT AS reasoning_tokens, 0::BIGINT AS cost_micros, 0::BIGINT AS unpriced_calls, 0::BIGINT AS latency_ms_sum, 0::BIGINT AS ttft_ms_sum, 0::BIGINT AS ttft_calls, 0::BIGINT AS lat_0, 0::BIGINT AS lat_1, 0::BIGINT AS lat_2, 0::BIGINT AS lat_3, 0::BIGINT AS lat_4, 0::BIGINT AS lat_5, 0::BIGINT AS lat_6, 0::BIGINT AS lat_7, 0::BIGINT AS lat_8, 0::BIGINT AS lat_9, 0::BIGINT AS lat_10, 0::BIGINT AS lat_11, 0::BIGINT AS lat_12, 0::BIGINT AS lat_13, 0::BIGINT AS lat_14, 0::BIGINT AS lat_15, 0::BIGINT AS lat_16, 0::BIGINT AS lat_17, 0::BIGINT AS lat_18, 0::BIGINT AS lat_19, 0::BIGINT AS lat_20, 0::BIGINT AS lat_21, 0::BIGINT AS lat_22, 0::BIGINT AS lat_23, 0::BIGINT AS ttft_0, 0::BIGINT AS ttft_1, 0::BIGINT AS ttft_2, 0::BIGINT AS ttft_3, 0::BIGINT AS ttft_4, 0::BIGINT AS ttft_5, 0::BIGINT AS ttft_6, 0::BIGINT AS ttft_7, 0::BIGINT AS ttft_8, 0::BIGINT AS ttft_9, 0::BIGINT AS ttft_10, 0::BIGINT AS ttft_11, 0::BIGINT AS ttft_12, 0::BIGINT AS ttft_13, 0::BIGINT AS ttft_14, 0::BIGINT AS ttft_15, 0::BIGINT AS ttft_16, 0::BIGINT AS ttft_17, 0::BIGINT AS ttft_18, 0::BIGINT AS ttft_19, 0::BIGINT AS ttft_20, 0::BIGINT AS ttft_21, 0::BIGINT AS ttft_22, 0::BIGINT AS ttft_23 INTO o;
    END IF;
    INSERT INTO call_rollups_daily (workspace_id, day_ms, provider_kind, model, agent_id, role, workflow, outcome, calls, prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, cost_micros, unpriced_calls, latency_ms_sum, ttft_ms_sum, ttft_calls, lat_0, lat_1, lat_2, lat_3, lat_4, lat_5, lat_6, lat_7, lat_8, lat_9, lat_10, lat_11, lat_12, lat_13, lat_14, lat_15, lat_16, lat_17, lat_18, lat_19, lat_20, lat_21, lat_22, lat_23, ttft_0, ttft_1, ttft_2, ttft_3, ttft_4, ttft_5, ttft_6, ttft_7, ttft_8, ttft_9, ttft_10, ttft_11, ttft_12, ttft_13, ttft_14, ttft_15, ttft_16, ttft_17, ttft_18, ttft_19, ttft_20, ttft_21, ttft_22, ttft_23)
    VALUES (NEW.workspace_id, NEW.hour_ms - NEW.hour_ms % 86400000, NEW.provider_kind, NEW.model, NEW.agent_id, NEW.role, NEW.workflow, NEW.outcome, NEW.calls - o.calls, NEW.prompt_tokens - o.prompt_tokens, NEW.completion_tokens - o.completion_tokens, NEW.cached_tokens - o.cached_tokens, NEW.reasoning_tokens - o.reasoning_tokens, NEW.cost_micros - o.cost_micros, NEW.unpriced_calls - o.unpriced_calls, NEW.latency_ms_sum - o.latency_ms_sum, NEW.ttft_ms_sum - o.ttft_ms_sum, NEW.ttft_calls - o.ttft_calls, NEW.lat_0 - o.lat_0, NEW.lat_1 - o.lat_1, NEW.lat_2 - o.lat_2, NEW.lat_3 - o.lat_3, NEW.lat_4 - o.lat_4, NEW.lat_5 - o.lat_5, NEW.lat_6 - o.lat_6, NEW.lat_7 - o.lat_7, NEW.lat_8 - o.lat_8, NEW.lat_9 - o.lat_9, NEW.lat_10 - o.lat_10, NEW.lat_11 - o.lat_11, NEW.lat_12 - o.lat_12, NEW.lat_13 - o.lat_13, NEW.lat_14 - o.lat_14, NEW.lat_15 - o.lat_15, NEW.lat_16 - o.lat_16, NEW.lat_17 - o.lat_17, NEW.lat_18 - o.lat_18, NEW.lat_19 - o.lat_19, NEW.lat_20 - o.lat_20, NEW.lat_21 - o.lat_21, NEW.lat_22 - o.lat_22, NEW.lat_23 - o.lat_23, NEW.ttft_0 - o.ttft_0, NEW.ttft_1 - o.ttft_1, NEW.ttft_2 - o.ttft_2, NEW.ttft_3 - o.ttft_3, NEW.ttft_4 - o.ttft_4, NEW.ttft_5 - o.ttft_5, NEW.ttft_6 - o.ttft_6, NEW.ttft_7 - o.ttft_7, NEW.ttft_8 - o.ttft_8, NEW.ttft_9 - o.ttft_9, NEW.ttft_10 - o.ttft_10, NEW.ttft_11 - o.ttft_11, NEW.ttft_12 - o.ttft_12, NEW.ttft_13 - o.ttft_13, NEW.ttft_14 - o.ttft_14, NEW.ttft_15 - o.ttft_15, NEW.ttft_16 - o.ttft_16, NEW.ttft_17 - o.ttft_17, NEW.ttft_18 - o.ttft_18, NEW.ttft_19 - o.ttft_19, NEW.ttft_20 - o.ttft_20, NEW.ttft_21 - o.ttft_21, NEW.ttft_22 - o.ttft_22, NEW.ttft_23 - o.ttft_23)
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
    VALUES (NEW.workspace_id, NEW.hour_ms, NEW.calls - o.calls, NEW.cost_micros - o.cost_micros)
    ON CONFLICT (workspace_id, hour_ms) DO UPDATE SET
        calls = call_totals_hourly.calls + excluded.calls,
        cost_micros = call_totals_hourly.cost_micros + excluded.cost_micros;
    INSERT INTO call_usage_daily (workspace_id, day_ms, provider_kind, model, agent_id, role, workflow, calls, failed_calls, prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, cost_micros, unpriced_calls, ok_latency_ms_sum)
    VALUES (NEW.workspace_id, NEW.hour_ms - NEW.hour_ms % 86400000, NEW.provider_kind, NEW.model, NEW.agent_id, NEW.role, NEW.workflow, NEW.calls - o.calls, CASE WHEN NEW.outcome = 'success' THEN 0 ELSE NEW.calls END - CASE WHEN NEW.outcome = 'success' THEN 0 ELSE o.calls END, NEW.prompt_tokens - o.prompt_tokens, NEW.completion_tokens - o.completion_tokens, NEW.cached_tokens - o.cached_tokens, NEW.reasoning_tokens - o.reasoning_tokens, NEW.cost_micros - o.cost_micros, NEW.unpriced_calls - o.unpriced_calls, CASE WHEN NEW.outcome = 'success' THEN NEW.latency_ms_sum ELSE 0 END - CASE WHEN NEW.outcome = 'success' THEN o.latency_ms_sum ELSE 0 END)
    ON CONFLICT (workspace_id, day_ms, provider_kind, model, agent_id, role, workflow) DO UPDATE SET
        calls = call_usage_daily.calls + excluded.calls,
        failed_calls = call_usage_daily.failed_calls + excluded.failed_calls,
        prompt_tokens = call_usage_daily.prompt_tokens + excluded.prompt_tokens,
        completion_tokens = call_usage_daily.completion_tokens + excluded.completion_tokens,
        cached_tokens = call_usage_daily.cached_tokens + excluded.cached_tokens,
        reasoning_tokens = call_usage_daily.reasoning_tokens + excluded.reasoning_tokens,
        cost_micros = call_usage_daily.cost_micros + excluded.cost_micros,
        unpriced_calls = call_usage_daily.unpriced_calls + excluded.unpriced_calls,
        ok_latency_ms_sum = call_usage_daily.ok_latency_ms_sum + excluded.ok_latency_ms_sum;
    RETURN NULL;
END;
$$;

ALTER TABLE call_usage_daily SET (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.02);
