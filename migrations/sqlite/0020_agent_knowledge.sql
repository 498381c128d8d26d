-- Knowledge sources (issue 12, SPEC F-02): named text documents an agent is given — reference
-- material added to its system prompt under their names, in the order they were added. Bounded
-- (20 per agent, 100,000 characters each, 200,000 in all) by the engine, so a step's prompt
-- stays within what models read; deleted with their agent.
CREATE TABLE agent_knowledge (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    agent_id      TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    content       TEXT NOT NULL,
    chars         INTEGER NOT NULL,
    created_by    TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at    INTEGER NOT NULL,
    UNIQUE (agent_id, name)
);
