-- Fleetdeck core schema (Postgres).
--
-- Portable conventions shared with migrations/postgres (see CONVENTIONS.md):
--   * ids are text UUIDv7 (time-sortable),
--   * timestamps are BIGINT Unix milliseconds,
--   * money is BIGINT micro-USD, tokens are BIGINT counts,
--   * flags are BIGINT 0/1 (one decoding path for both backends), JSON is TEXT.
-- Every tenant table carries workspace_id. This file is never edited after it lands.

CREATE TABLE workspaces (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    display_name   TEXT NOT NULL,
    password_hash  TEXT,
    is_active      BIGINT NOT NULL DEFAULT 1,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

-- A user's role in one workspace: admin, developer or viewer.
CREATE TABLE memberships (
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'developer', 'viewer')),
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);

-- Provider credentials. The API key is stored only as AES-256-GCM ciphertext (nonce || sealed
-- bytes); api_key_last4 is what the UI may show.
CREATE TABLE providers (
    id                 TEXT PRIMARY KEY,
    workspace_id       TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    kind               TEXT NOT NULL,
    base_url           TEXT,
    api_key_encrypted  BYTEA,
    api_key_last4      TEXT,
    key_version        BIGINT NOT NULL DEFAULT 0,
    enabled            BIGINT NOT NULL DEFAULT 1,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);

-- Price per million tokens, per provider kind and model, in micro-USD.
CREATE TABLE prices (
    provider_kind                TEXT NOT NULL,
    model                        TEXT NOT NULL,
    input_per_mtok_micros        BIGINT NOT NULL CHECK (input_per_mtok_micros >= 0),
    output_per_mtok_micros       BIGINT NOT NULL CHECK (output_per_mtok_micros >= 0),
    cached_input_per_mtok_micros BIGINT NOT NULL CHECK (cached_input_per_mtok_micros >= 0),
    context_window               BIGINT NOT NULL DEFAULT 0,
    updated_at                   BIGINT NOT NULL,
    PRIMARY KEY (provider_kind, model)
);

-- Workspace settings such as the default provider, model and temperature; value is JSON.
CREATE TABLE system_settings (
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    value         TEXT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, key)
);

-- The agent registry (SPEC F-02).
CREATE TABLE agents (
    id                   TEXT PRIMARY KEY,
    workspace_id         TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name                 TEXT NOT NULL,
    role                 TEXT NOT NULL,
    description          TEXT NOT NULL DEFAULT '',
    provider_id          TEXT REFERENCES providers(id) ON DELETE SET NULL,
    model                TEXT NOT NULL,
    temperature          DOUBLE PRECISION NOT NULL DEFAULT 0.7,
    max_tokens           BIGINT NOT NULL DEFAULT 4096,
    system_prompt        TEXT NOT NULL DEFAULT '',
    custom_instructions  TEXT NOT NULL DEFAULT '',
    tags                 TEXT NOT NULL DEFAULT '[]',
    tools                TEXT NOT NULL DEFAULT '[]',
    knowledge_sources    TEXT NOT NULL DEFAULT '[]',
    input_schema         TEXT,
    output_schema        TEXT,
    is_public            BIGINT NOT NULL DEFAULT 0,
    status               TEXT NOT NULL DEFAULT 'idle'
                         CHECK (status IN ('idle', 'active', 'completed', 'failed')),
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);
CREATE INDEX agents_workspace_role ON agents (workspace_id, role);

-- Every save of an agent's prompt is a numbered version; one is active.
CREATE TABLE prompt_versions (
    id                   TEXT PRIMARY KEY,
    workspace_id         TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    agent_id             TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    version              BIGINT NOT NULL,
    system_prompt        TEXT NOT NULL,
    custom_instructions  TEXT NOT NULL DEFAULT '',
    note                 TEXT NOT NULL DEFAULT '',
    is_active            BIGINT NOT NULL DEFAULT 0,
    created_by           TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at           BIGINT NOT NULL,
    UNIQUE (agent_id, version)
);

-- A user's request, executed as a workflow of steps. claimed_by/lease_until implement the
-- durable queue: a worker claims a queued task and keeps renewing its lease.
CREATE TABLE tasks (
    id                 TEXT PRIMARY KEY,
    workspace_id       TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    description        TEXT NOT NULL,
    workflow           TEXT NOT NULL,
    complexity         TEXT NOT NULL DEFAULT 'simple',
    force_analyst      BIGINT NOT NULL DEFAULT 0,
    plan               TEXT NOT NULL DEFAULT '[]',
    status             TEXT NOT NULL DEFAULT 'queued'
                       CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    prompt_tokens      BIGINT NOT NULL DEFAULT 0,
    completion_tokens  BIGINT NOT NULL DEFAULT 0,
    cached_tokens      BIGINT NOT NULL DEFAULT 0,
    cost_micros        BIGINT NOT NULL DEFAULT 0,
    error              TEXT,
    working_dir        TEXT,
    claimed_by         TEXT,
    lease_until        BIGINT,
    attempts           BIGINT NOT NULL DEFAULT 0,
    created_by         TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at         BIGINT NOT NULL,
    started_at         BIGINT,
    finished_at        BIGINT
);
CREATE INDEX tasks_workspace_created ON tasks (workspace_id, created_at);
CREATE INDEX tasks_status ON tasks (status, created_at);

-- One agent working one step of a task.
CREATE TABLE agent_runs (
    id                 TEXT PRIMARY KEY,
    workspace_id       TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    task_id            TEXT REFERENCES tasks(id) ON DELETE CASCADE,
    step_index         BIGINT NOT NULL DEFAULT 0,
    agent_id           TEXT REFERENCES agents(id) ON DELETE SET NULL,
    role               TEXT NOT NULL,
    status             TEXT NOT NULL DEFAULT 'idle'
                       CHECK (status IN ('idle', 'active', 'completed', 'failed')),
    input              TEXT NOT NULL DEFAULT '',
    output             TEXT NOT NULL DEFAULT '',
    prompt_tokens      BIGINT NOT NULL DEFAULT 0,
    completion_tokens  BIGINT NOT NULL DEFAULT 0,
    cached_tokens      BIGINT NOT NULL DEFAULT 0,
    cost_micros        BIGINT NOT NULL DEFAULT 0,
    context_tokens     BIGINT NOT NULL DEFAULT 0,
    context_window     BIGINT NOT NULL DEFAULT 0,
    error              TEXT,
    created_at         BIGINT NOT NULL,
    started_at         BIGINT,
    finished_at        BIGINT
);
CREATE UNIQUE INDEX agent_runs_task_step ON agent_runs (task_id, step_index);
CREATE INDEX agent_runs_workspace_created ON agent_runs (workspace_id, created_at);

-- One attempt at one provider call: the unit of cost and latency accounting.
CREATE TABLE llm_calls (
    id                 TEXT PRIMARY KEY,
    workspace_id       TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    task_id            TEXT REFERENCES tasks(id) ON DELETE SET NULL,
    agent_run_id       TEXT REFERENCES agent_runs(id) ON DELETE SET NULL,
    agent_id           TEXT REFERENCES agents(id) ON DELETE SET NULL,
    provider_kind      TEXT NOT NULL,
    model              TEXT NOT NULL,
    prompt_tokens      BIGINT NOT NULL DEFAULT 0,
    completion_tokens  BIGINT NOT NULL DEFAULT 0,
    cached_tokens      BIGINT NOT NULL DEFAULT 0,
    reasoning_tokens   BIGINT NOT NULL DEFAULT 0,
    usage_estimated    BIGINT NOT NULL DEFAULT 0,
    cost_micros        BIGINT NOT NULL DEFAULT 0,
    latency_ms         BIGINT NOT NULL DEFAULT 0,
    ttft_ms            BIGINT,
    success            BIGINT NOT NULL,
    error_class        TEXT,
    attempt            BIGINT NOT NULL DEFAULT 1,
    created_at         BIGINT NOT NULL
);
CREATE INDEX llm_calls_workspace_created ON llm_calls (workspace_id, created_at);
CREATE INDEX llm_calls_task ON llm_calls (task_id);

CREATE TABLE tool_calls (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    task_id       TEXT REFERENCES tasks(id) ON DELETE CASCADE,
    agent_run_id  TEXT REFERENCES agent_runs(id) ON DELETE CASCADE,
    tool          TEXT NOT NULL,
    input         TEXT NOT NULL,
    output        TEXT NOT NULL DEFAULT '',
    outcome       TEXT NOT NULL,
    duration_ms   BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);
CREATE INDEX tool_calls_run ON tool_calls (agent_run_id, created_at);

CREATE TABLE file_changes (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    task_id         TEXT REFERENCES tasks(id) ON DELETE CASCADE,
    agent_run_id    TEXT REFERENCES agent_runs(id) ON DELETE CASCADE,
    path            TEXT NOT NULL,
    change_kind     TEXT NOT NULL CHECK (change_kind IN ('read', 'created', 'modified', 'deleted')),
    before_content  TEXT,
    after_content   TEXT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX file_changes_task ON file_changes (task_id, created_at);

-- Live events. seq increases per (workspace, topic) so that a client resuming from its last
-- seq misses nothing and sees nothing twice.
CREATE TABLE events (
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    topic         TEXT NOT NULL,
    seq           BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    payload       TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, topic, seq)
);

-- Hourly rollups of llm_calls, maintained in the same transaction as each insert, so that
-- dashboards read a few rows per hour instead of scanning millions of calls. agent_id is ''
-- for calls made outside an agent.
CREATE TABLE metric_rollups_hourly (
    workspace_id       TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    hour_ms            BIGINT NOT NULL,
    provider_kind      TEXT NOT NULL,
    model              TEXT NOT NULL,
    agent_id           TEXT NOT NULL DEFAULT '',
    calls              BIGINT NOT NULL DEFAULT 0,
    failures           BIGINT NOT NULL DEFAULT 0,
    prompt_tokens      BIGINT NOT NULL DEFAULT 0,
    completion_tokens  BIGINT NOT NULL DEFAULT 0,
    cached_tokens      BIGINT NOT NULL DEFAULT 0,
    cost_micros        BIGINT NOT NULL DEFAULT 0,
    latency_ms_sum     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, hour_ms, provider_kind, model, agent_id)
);
