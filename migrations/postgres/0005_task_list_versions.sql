-- Kept in step with the SQLite migrations. SQLite counts changes to each workspace's tasks
-- (task_list_versions, kept by triggers) so that the tasks list can answer from a cached page;
-- Postgres does not: its readers run in parallel, and one counter row per workspace would make
-- every task write in a workspace wait for the one before it.
SELECT 1;
