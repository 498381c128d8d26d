-- The agent registry at 100,000 agents (issue 15): the Agents page and `GET /api/v1/agents`
-- read a keyset page at a time, filtered in SQL, instead of every agent filtered in memory.
--
-- Tags live in the agent's `tags` JSON array. The tag filter and the list of tags to choose
-- from need them one per row: `agent_tags` holds (workspace, lower-cased tag, agent) with the tag
-- as written, kept by triggers from `agents.tags` (every writer, the engine's and a bulk load
-- alike, keeps it true). Its key serves the filter (one range read) and the choice list (a
-- loose index scan: one probe per distinct tag, not one row per agent).
CREATE TABLE agent_tags (
    workspace_id TEXT NOT NULL,
    tag          TEXT NOT NULL,
    agent_id     TEXT NOT NULL,
    label        TEXT NOT NULL,
    PRIMARY KEY (workspace_id, tag, agent_id)
) WITHOUT ROWID;

INSERT OR IGNORE INTO agent_tags (workspace_id, tag, agent_id, label)
SELECT a.workspace_id, lower(j.value), a.id, j.value FROM agents a, json_each(a.tags) j;

CREATE TRIGGER agents_tags_insert AFTER INSERT ON agents BEGIN
    INSERT OR IGNORE INTO agent_tags (workspace_id, tag, agent_id, label)
    SELECT NEW.workspace_id, lower(value), NEW.id, value FROM json_each(NEW.tags);
END;

CREATE TRIGGER agents_tags_update AFTER UPDATE OF tags ON agents BEGIN
    DELETE FROM agent_tags WHERE workspace_id = OLD.workspace_id AND agent_id = OLD.id
        AND tag IN (SELECT lower(value) FROM json_each(OLD.tags));
    INSERT OR IGNORE INTO agent_tags (workspace_id, tag, agent_id, label)
    SELECT NEW.workspace_id, lower(value), NEW.id, value FROM json_each(NEW.tags);
END;

CREATE TRIGGER agents_tags_delete AFTER DELETE ON agents BEGIN
    DELETE FROM agent_tags WHERE workspace_id = OLD.workspace_id AND agent_id = OLD.id
        AND tag IN (SELECT lower(value) FROM json_each(OLD.tags));
END;

-- Each listed agent's cost and tokens are summed from its own rows of the daily usage rollup
-- (50 agents a page) instead of the whole workspace's rollup grouped by agent on every read.
-- Only a new (day, dimensions) row touches this index; the per-call upserts do not.
CREATE INDEX call_usage_daily_agent ON call_usage_daily (workspace_id, agent_id);
