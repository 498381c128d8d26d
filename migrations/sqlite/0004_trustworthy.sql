-- Trustworthy execution (issue 8): a fenced queue, honest provenance, unpriced calls and an
-- atomic per-topic event counter. This file is never edited after it lands.

-- Each claim of a task takes a new lease epoch; every write made for a claim checks it, so a
-- worker whose lease was taken over can no longer write anything for the task.
ALTER TABLE tasks ADD COLUMN lease_epoch INTEGER NOT NULL DEFAULT 0;

-- An agent's explicit fallback chain: a JSON list of {"provider_id", "model"} tried in order
-- after its own provider and model. Nothing is ever appended implicitly.
ALTER TABLE agents ADD COLUMN fallbacks TEXT NOT NULL DEFAULT '[]';
-- Set when the agent's provider is deleted (provider_id then becomes NULL), so that the agent
-- fails with a clear error instead of silently running on the workspace default.
ALTER TABLE agents ADD COLUMN provider_deleted INTEGER NOT NULL DEFAULT 0;

-- Which provider and model actually answered a step, and why a fallback did when one did.
-- agent_runs.provider_kind and agent_runs.model (0003) hold the answering provider once a call
-- has succeeded; these add the provider row and the fallback's reason.
ALTER TABLE agent_runs ADD COLUMN provider_id TEXT;
ALTER TABLE agent_runs ADD COLUMN fallback_note TEXT;

-- Provenance of every recorded call: the provider row that answered, and whether its price was
-- known (an unpriced call's cost is unknown, never $0).
ALTER TABLE llm_calls ADD COLUMN provider_id TEXT;
ALTER TABLE llm_calls ADD COLUMN price_known INTEGER NOT NULL DEFAULT 1;
-- Per task and step, so lists can say "price unknown" without scanning calls.
ALTER TABLE tasks ADD COLUMN unpriced_calls INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agent_runs ADD COLUMN unpriced_calls INTEGER NOT NULL DEFAULT 0;
ALTER TABLE metric_rollups_hourly ADD COLUMN unpriced_calls INTEGER NOT NULL DEFAULT 0;

-- The last seq of each (workspace, topic), taken with an atomic upsert in the same transaction
-- as the event insert, so that two processes publishing to one topic never collide.
CREATE TABLE event_counters (
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    topic         TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, topic)
);
INSERT INTO event_counters (workspace_id, topic, seq)
    SELECT workspace_id, topic, MAX(seq) FROM events GROUP BY workspace_id, topic;

-- Token events are pruned by age (the conversation is stored with the step).
CREATE INDEX events_kind_created ON events (kind, created_at);
