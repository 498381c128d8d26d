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
    day_ms             INTEGER NOT NULL,
    provider_kind      TEXT NOT NULL,
    model              TEXT NOT NULL,
    agent_id           TEXT NOT NULL,
    role               TEXT NOT NULL,
    workflow           TEXT NOT NULL,
    calls              INTEGER NOT NULL DEFAULT 0,
    failed_calls       INTEGER NOT NULL DEFAULT 0,
    prompt_tokens      INTEGER NOT NULL DEFAULT 0,
    completion_tokens  INTEGER NOT NULL DEFAULT 0,
    cached_tokens      INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens   INTEGER NOT NULL DEFAULT 0,
    cost_micros        INTEGER NOT NULL DEFAULT 0,
    unpriced_calls     INTEGER NOT NULL DEFAULT 0,
    ok_latency_ms_sum  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, day_ms, provider_kind, model, agent_id, role, workflow)
) WITHOUT ROWID;

INSERT INTO call_usage_daily (workspace_id, day_ms, provider_kind, model, agent_id, role, workflow, calls, failed_calls, prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, cost_micros, unpriced_calls, ok_latency_ms_sum)
SELECT workspace_id, day_ms, provider_kind, model, agent_id, role, workflow, SUM(calls), SUM(CASE WHEN outcome = 'success' THEN 0 ELSE calls END), SUM(prompt_tokens), SUM(completion_tokens), SUM(cached_tokens), SUM(reasoning_tokens), SUM(cost_micros), SUM(unpriced_calls), SUM(CASE WHEN outcome = 'success' THEN latency_ms_sum ELSE 0 END)
FROM call_rollups_daily
GROUP BY workspace_id, day_ms, provider_kind, model, agent_id, role, workflow;

CREATE TRIGGER call_rollups_hourly_usage_insert AFTER INSERT ON call_rollups_hourly BEGIN
    INSERT INTO call_usage_daily (workspace_id, day_ms, provider_kind, model, agent_id, role, workflow, calls, failed_calls, prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, cost_micros, unpriced_calls, ok_latency_ms_sum)
    VALUES (NEW.workspace_id, NEW.hour_ms - NEW.hour_ms % 86400000, NEW.provider_kind, NEW.model, NEW.agent_id, NEW.role, NEW.workflow, NEW.calls, CASE WHEN NEW.outcome = 'success' THEN 0 ELSE NEW.calls END, NEW.prompt_tokens, NEW.completion_tokens, NEW.cached_tokens, NEW.reasoning_tokens, NEW.cost_micros, NEW.unpriced_calls, CASE WHEN NEW.outcome = 'success' THEN NEW.latency_ms_sum ELSE 0 END)
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
END;

-- An update of an hourly row adds its difference (the row exists: made by the insert above or
-- filled from the daily rollup).
CREATE TRIGGER call_rollups_hourly_usage_update AFTER UPDATE ON call_rollups_hourly BEGIN
    INSERT INTO call_usage_daily (workspace_id, day_ms, provider_kind, model, agent_id, role, workflow, calls, failed_calls, prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, cost_micros, unpriced_calls, ok_latency_ms_sum)
    VALUES (NEW.workspace_id, NEW.hour_ms - NEW.hour_ms % 86400000, NEW.provider_kind, NEW.model, NEW.agent_id, NEW.role, NEW.workflow, (NEW.calls) - (OLD.calls), (CASE WHEN NEW.outcome = 'success' THEN 0 ELSE NEW.calls END) - (CASE WHEN OLD.outcome = 'success' THEN 0 ELSE OLD.calls END), (NEW.prompt_tokens) - (OLD.prompt_tokens), (NEW.completion_tokens) - (OLD.completion_tokens), (NEW.cached_tokens) - (OLD.cached_tokens), (NEW.reasoning_tokens) - (OLD.reasoning_tokens), (NEW.cost_micros) - (OLD.cost_micros), (NEW.unpriced_calls) - (OLD.unpriced_calls), (CASE WHEN NEW.outcome = 'success' THEN NEW.latency_ms_sum ELSE 0 END) - (CASE WHEN OLD.outcome = 'success' THEN OLD.latency_ms_sum ELSE 0 END))
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
END;
