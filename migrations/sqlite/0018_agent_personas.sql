-- Personas (issue 12, seed 004): named voices of an agent — a prompt added to its system prompt
-- under the persona's name, and optionally a temperature of its own. At most one is active per
-- agent (a partial unique index says so to the database, not only to the code); the active one
-- joins every run and step of the agent, and a step records the persona it ran under by name
-- (the name at that time: personas are renamed and deleted, the record stays true).
CREATE TABLE agent_personas (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    agent_id      TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    prompt        TEXT NOT NULL,
    temperature   REAL,
    is_active     INTEGER NOT NULL DEFAULT 0,
    created_by    TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (agent_id, name)
);
CREATE UNIQUE INDEX agent_personas_active ON agent_personas (agent_id) WHERE is_active = 1;

ALTER TABLE agent_runs ADD COLUMN persona TEXT;
