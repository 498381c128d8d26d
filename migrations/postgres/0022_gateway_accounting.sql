-- Gateway accounting and external traces (issue 13, SPEC F-19).
--
-- A call's cache writes (Anthropic's `cache_creation_input_tokens`: part of the prompt, priced
-- above input) and their price; the session (`x-fleetdeck-session`, or an OTLP trace's id) and
-- the caller's own task label (`x-fleetdeck-task` naming no Fleetdeck task) a call came with.
ALTER TABLE llm_calls ADD COLUMN cache_write_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE llm_calls ADD COLUMN session_id TEXT;
ALTER TABLE llm_calls ADD COLUMN external_task TEXT;
ALTER TABLE prices ADD COLUMN cache_write_per_mtok_micros BIGINT;
-- Anthropic's list price for 5-minute cache writes is 1.25 × input.
UPDATE prices SET cache_write_per_mtok_micros = input_per_mtok_micros * 5 / 4
    WHERE provider_kind = 'anthropic';

-- Traces exported by agents running elsewhere over OTLP/HTTP (`POST /v1/traces`): one row per
-- trace, kept up to date as its spans arrive (the Traces page lists these, never the spans),
-- and the spans themselves. A span that is a model call points at its `llm_calls` row.
CREATE TABLE otel_traces (
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    trace_id      TEXT NOT NULL,
    name          TEXT NOT NULL,
    service       TEXT,
    agent_name    TEXT,
    started_at    BIGINT NOT NULL,
    ended_at      BIGINT NOT NULL,
    spans         BIGINT NOT NULL DEFAULT 0,
    calls         BIGINT NOT NULL DEFAULT 0,
    tool_calls    BIGINT NOT NULL DEFAULT 0,
    errors        BIGINT NOT NULL DEFAULT 0,
    prompt_tokens BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    cost_micros   BIGINT NOT NULL DEFAULT 0,
    unpriced_calls BIGINT NOT NULL DEFAULT 0,
    api_key_id    TEXT,
    PRIMARY KEY (workspace_id, trace_id)
);
CREATE INDEX otel_traces_recent ON otel_traces (workspace_id, started_at DESC, trace_id);

CREATE TABLE otel_spans (
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    trace_id      TEXT NOT NULL,
    span_id       TEXT NOT NULL,
    parent_span_id TEXT,
    name          TEXT NOT NULL,
    operation     TEXT,
    agent_name    TEXT,
    tool_name     TEXT,
    provider      TEXT,
    model         TEXT,
    started_at    BIGINT NOT NULL,
    ended_at      BIGINT NOT NULL,
    error         TEXT,
    attributes    TEXT NOT NULL,
    call_id       TEXT,
    PRIMARY KEY (workspace_id, trace_id, span_id)
);
