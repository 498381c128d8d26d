-- Agent templates (issue 12, seed 002): an agent's configuration saved under a name and a
-- category, from which new agents are made. The body is the agent file of the export format
-- (`fleetdeck.agent` v1's `agent` object: providers by name), so a template made here can be
-- shared as a file and one made from a file behaves the same.
CREATE TABLE agent_templates (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    category      TEXT NOT NULL DEFAULT '',
    body          TEXT NOT NULL,
    created_by    TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at    INTEGER NOT NULL,
    UNIQUE (workspace_id, name)
);
