-- Task-centric views (issue 15, seed 002 §13.4, §13.6). A task's chosen working directory is the
-- `working_dir` column the first migration made (an absolute, canonical path under the
-- workspace's `workdir_root` setting; NULL: the task's own directory under the data directory).
-- Archiving hides a finished task from the tasks list without deleting anything: `archived`
-- (0/1) leads the list's index so the plain list and "show archived" are each an index walk
-- newest first; `archived_at` says when.
ALTER TABLE tasks ADD COLUMN archived BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN archived_at BIGINT;
CREATE INDEX tasks_workspace_archived_created ON tasks (workspace_id, archived, created_at);

-- The working directories each user chose lately, offered again by the task form.
CREATE TABLE recent_workdirs (
    workspace_id TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    path         TEXT NOT NULL,
    used_at      BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id, path)
);

-- The daily job also archives tasks finished longer ago than a workspace's
-- `task_archive_after_days`.
ALTER TABLE retention_runs ADD COLUMN archived_tasks BIGINT NOT NULL DEFAULT 0;
