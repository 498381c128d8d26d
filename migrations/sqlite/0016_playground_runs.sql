-- Playground runs (issue 12): a run is a one-step task (workflow `playground`) of one chosen
-- agent, so it is queued, leased, recorded, budgeted, streamed and survives a restart exactly
-- as task steps do. `overrides` holds what the playground changed for this run (prompt,
-- provider, model, temperature, max tokens; JSON) and `run_agent_id` the agent, for its run
-- history. Both stay NULL for tasks.
ALTER TABLE tasks ADD COLUMN overrides TEXT;
ALTER TABLE tasks ADD COLUMN run_agent_id TEXT;
CREATE INDEX tasks_run_agent ON tasks (workspace_id, run_agent_id, created_at);
