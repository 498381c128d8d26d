-- The gateway (issue 13, SPEC F-19): a call's source (`agent` for steps and playground runs,
-- `gateway` for calls proxied for agents running elsewhere) and the API key it came with; and
-- the routes from a model name clients ask for to providers and models, in fallback order.
ALTER TABLE llm_calls ADD COLUMN source TEXT NOT NULL DEFAULT 'agent';
ALTER TABLE llm_calls ADD COLUMN api_key_id TEXT;

CREATE TABLE gateway_routes (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    model         TEXT NOT NULL,
    targets       TEXT NOT NULL,
    created_by    TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (workspace_id, model)
);
