-- A change counter per workspace for the tasks table, kept by triggers in the same
-- transaction as every insert, update and delete of a task. A read of the tasks list asks for
-- it first (one row by key) and answers from the page it cached when the counter has not moved,
-- so a busy API does not decode the same 50 rows thousands of times a second. It is exact —
-- any writer, in this process or another, moves the counter — and costs SQLite writers no
-- contention, since they are serialised anyway. (Postgres has no counter: its readers run in
-- parallel and a shared counter row would serialise its writers.)
CREATE TABLE task_list_versions (
    workspace_id TEXT PRIMARY KEY,
    version      INTEGER NOT NULL
);

CREATE TRIGGER tasks_list_version_insert AFTER INSERT ON tasks BEGIN
    INSERT INTO task_list_versions (workspace_id, version) VALUES (NEW.workspace_id, 1)
        ON CONFLICT (workspace_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER tasks_list_version_update AFTER UPDATE ON tasks BEGIN
    INSERT INTO task_list_versions (workspace_id, version) VALUES (NEW.workspace_id, 1)
        ON CONFLICT (workspace_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER tasks_list_version_delete AFTER DELETE ON tasks BEGIN
    INSERT INTO task_list_versions (workspace_id, version) VALUES (OLD.workspace_id, 1)
        ON CONFLICT (workspace_id) DO UPDATE SET version = version + 1;
END;
