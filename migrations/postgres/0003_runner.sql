-- The runner (issue 3): conversations of agent runs and task lineage.
--
-- agent_runs.conversation holds the messages of the run as JSON (system prompt, task, assistant
-- turns with tool calls, tool results) for the conversation viewer; it is written when the step
-- ends. tasks.rerun_of links a re-run to the task it repeats. This file is never edited after it
-- lands.
ALTER TABLE agent_runs ADD COLUMN system_prompt TEXT NOT NULL DEFAULT '';
ALTER TABLE agent_runs ADD COLUMN conversation TEXT NOT NULL DEFAULT '[]';
ALTER TABLE agent_runs ADD COLUMN agent_name TEXT NOT NULL DEFAULT '';
ALTER TABLE agent_runs ADD COLUMN provider_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE agent_runs ADD COLUMN model TEXT NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN rerun_of TEXT;
-- The fleet view lists active runs across tasks.
CREATE INDEX agent_runs_workspace_status ON agent_runs (workspace_id, status);
-- Tool calls shown per task.
CREATE INDEX tool_calls_task ON tool_calls (task_id, created_at);
