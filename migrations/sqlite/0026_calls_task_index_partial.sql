-- Most calls recorded through the gateway belong to no task: the task index holds only calls
-- that do, so recording one of the others writes one b-tree fewer (issue 10, group commit).
-- Every query by task compares `task_id` with a value, which implies it is not null, so the
-- partial index serves them as the full one did.
DROP INDEX llm_calls_task;
CREATE INDEX llm_calls_task ON llm_calls (task_id) WHERE task_id IS NOT NULL;
