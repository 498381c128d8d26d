-- Prompt versions carry their runs' numbers (issue 12): each step records the version of its
-- agent's prompt it ran (set from the active version when the step starts), and a step's totals
-- are added to its version when it finishes — and taken back if it is run again — by triggers,
-- so a version's page reads one row however many steps ran it. Steps from before this
-- migration have no version (their prompt is kept on the step itself).

ALTER TABLE agent_runs ADD COLUMN prompt_version BIGINT;
ALTER TABLE prompt_versions ADD COLUMN runs BIGINT NOT NULL DEFAULT 0;
ALTER TABLE prompt_versions ADD COLUMN failed_runs BIGINT NOT NULL DEFAULT 0;
ALTER TABLE prompt_versions ADD COLUMN cost_micros BIGINT NOT NULL DEFAULT 0;
ALTER TABLE prompt_versions ADD COLUMN unpriced_runs BIGINT NOT NULL DEFAULT 0;
ALTER TABLE prompt_versions ADD COLUMN prompt_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE prompt_versions ADD COLUMN completion_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE prompt_versions ADD COLUMN duration_ms_sum BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION agent_runs_version_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.prompt_version IS NOT NULL AND OLD.status IN ('completed', 'failed')
       AND NEW.status NOT IN ('completed', 'failed') THEN
        UPDATE prompt_versions SET
        runs = runs - 1,
        failed_runs = failed_runs - CASE WHEN OLD.status = 'failed' THEN 1 ELSE 0 END,
        cost_micros = cost_micros - OLD.cost_micros,
        unpriced_runs = unpriced_runs - CASE WHEN OLD.unpriced_calls > 0 THEN 1 ELSE 0 END,
        prompt_tokens = prompt_tokens - OLD.prompt_tokens,
        completion_tokens = completion_tokens - OLD.completion_tokens,
        duration_ms_sum = duration_ms_sum - COALESCE(OLD.finished_at - OLD.started_at, 0)
        WHERE agent_id = OLD.agent_id AND version = OLD.prompt_version;
    END IF;
    IF NEW.prompt_version IS NOT NULL AND NEW.status IN ('completed', 'failed')
       AND OLD.status NOT IN ('completed', 'failed') THEN
        UPDATE prompt_versions SET
        runs = runs + 1,
        failed_runs = failed_runs + CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END,
        cost_micros = cost_micros + NEW.cost_micros,
        unpriced_runs = unpriced_runs + CASE WHEN NEW.unpriced_calls > 0 THEN 1 ELSE 0 END,
        prompt_tokens = prompt_tokens + NEW.prompt_tokens,
        completion_tokens = completion_tokens + NEW.completion_tokens,
        duration_ms_sum = duration_ms_sum + COALESCE(NEW.finished_at - NEW.started_at, 0)
        WHERE agent_id = NEW.agent_id AND version = NEW.prompt_version;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER agent_runs_version_totals AFTER UPDATE OF status ON agent_runs
FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
EXECUTE FUNCTION agent_runs_version_totals();
