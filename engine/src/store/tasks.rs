//! Tasks and what users read of them: the list, one task with its steps, its records.
//!
//! The queue that runs them is [`super::queue`]; the records a worker writes while running one
//! are [`super::runs`].

use serde::{Deserialize, Serialize};
use sqlx::{Any, AnyConnection, Executor, FromRow};

use crate::domain::Role;
use crate::{Error, Result, Store, new_id, now_ms};

pub use wire::tasks::{Step as StepView, TaskDetail, TaskRecords};

/// One planned step of a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedStep {
    /// Role of the step.
    pub role: String,
    /// The agent chosen for it.
    pub agent_id: String,
    /// Its name at planning time.
    pub agent_name: String,
    /// Its model.
    pub model: String,
    /// Its provider kind (`simulator` marks simulated output).
    pub provider_kind: String,
}

/// A task row, as the store holds it (the API's view is [`wire::tasks::Task`], made by
/// [`Task::to_wire`]).
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct Task {
    /// UUIDv7.
    pub id: String,
    /// Owning workspace.
    pub workspace_id: String,
    /// What the user asked for.
    pub description: String,
    /// Workflow template name.
    pub workflow: String,
    /// `simple` or `complex`.
    pub complexity: String,
    /// Whether the ANALYST was forced in.
    pub force_analyst: i64,
    /// JSON list of [`PlannedStep`].
    pub plan: String,
    /// `queued`, `running`, `completed`, `failed` or `cancelled`.
    pub status: String,
    /// Sum over steps.
    pub prompt_tokens: i64,
    /// Sum over steps.
    pub completion_tokens: i64,
    /// Sum over steps.
    pub cached_tokens: i64,
    /// Sum over steps, micro-USD (of the priced calls: see `unpriced_calls`).
    pub cost_micros: i64,
    /// Calls to a model with no price; when not 0 the cost is unknown (a lower bound).
    pub unpriced_calls: i64,
    /// Why it failed.
    pub error: Option<String>,
    /// The task it re-runs.
    pub rerun_of: Option<String>,
    /// Times a worker claimed it (more than 1 after a crash).
    pub attempts: i64,
    /// Incremented by every claim; writes made for a claim carry it (see [`super::queue`]).
    pub lease_epoch: i64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub started_at: Option<i64>,
    /// Unix ms.
    pub finished_at: Option<i64>,
    /// The user who submitted it (their budgets apply to its calls).
    pub created_by: Option<String>,
    /// A playground run's changes to its agent (JSON [`wire::runs::RunOverrides`]).
    pub overrides: Option<String>,
    /// When it was archived (Unix ms), if it is.
    pub archived_at: Option<i64>,
    /// The working directory chosen for it (absolute, canonical); `None`: its own directory.
    pub workdir: Option<String>,
}

pub(crate) const TASK_COLUMNS: &str = "id, workspace_id, description, workflow, complexity, force_analyst, \
     plan, status, prompt_tokens, completion_tokens, cached_tokens, cost_micros, unpriced_calls, error, rerun_of, \
     attempts, lease_epoch, created_at, started_at, finished_at, created_by, overrides, archived_at, working_dir AS workdir";

impl Task {
    /// What a playground run changed for its agent (none for a task).
    pub fn run_overrides(&self) -> Option<wire::runs::RunOverrides> {
        self.overrides
            .as_deref()
            .and_then(|o| serde_json::from_str(o).ok())
    }

    /// The planned steps.
    pub fn planned_steps(&self) -> Vec<PlannedStep> {
        serde_json::from_str(&self.plan).unwrap_or_default()
    }

    /// Whether no more work will happen.
    pub fn is_finished(&self) -> bool {
        matches!(self.status.as_str(), "completed" | "failed" | "cancelled")
    }

    /// The task as the API and the pages read it.
    pub fn to_wire(&self) -> wire::tasks::Task {
        wire::tasks::Task {
            id: self.id.clone(),
            description: self.description.clone(),
            workflow: self.workflow.clone(),
            complexity: self.complexity.clone(),
            force_analyst: self.force_analyst != 0,
            status: self.status.clone(),
            prompt_tokens: self.prompt_tokens,
            completion_tokens: self.completion_tokens,
            cached_tokens: self.cached_tokens,
            cost_micros: self.cost_micros,
            unpriced_calls: self.unpriced_calls,
            error: self.error.clone(),
            rerun_of: self.rerun_of.clone(),
            attempts: self.attempts,
            created_at: self.created_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
            agents: self.agent_count(),
            archived_at: self.archived_at,
            workdir: self.workdir.clone(),
        }
    }

    /// How many distinct agents the plan runs (a card's "5 agents").
    pub fn agent_count(&self) -> i64 {
        let mut ids: Vec<String> = self
            .planned_steps()
            .into_iter()
            .map(|s| s.agent_id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        i64::try_from(ids.len()).unwrap_or(i64::MAX)
    }
}

#[derive(Debug, Clone, FromRow)]
struct RunRow {
    id: String,
    step_index: i64,
    status: String,
    output: String,
    prompt_tokens: i64,
    completion_tokens: i64,
    cached_tokens: i64,
    cost_micros: i64,
    context_tokens: i64,
    context_window: i64,
    error: Option<String>,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    provider_kind: String,
    model: String,
    fallback_note: Option<String>,
    unpriced_calls: i64,
    calls: i64,
}

/// What to insert for a new task (already validated and planned by the runner).
#[derive(Debug, Clone)]
pub struct NewTask {
    /// Trimmed description.
    pub description: String,
    /// Workflow name.
    pub workflow: String,
    /// `simple` or `complex`.
    pub complexity: String,
    /// Whether the ANALYST was forced.
    pub force_analyst: bool,
    /// The steps.
    pub plan: Vec<PlannedStep>,
    /// The user who submitted it.
    pub created_by: Option<String>,
    /// The task it re-runs.
    pub rerun_of: Option<String>,
    /// A playground run: its agent and what it changed for the run.
    pub run: Option<(String, wire::runs::RunOverrides)>,
    /// The working directory chosen (already resolved by [`super::task_archive::resolve_workdir`]).
    pub workdir: Option<String>,
}

/// Inserts a queued task.
pub async fn insert(
    conn: &mut AnyConnection,
    workspace_id: &str,
    task: &NewTask,
) -> Result<String> {
    let id = new_id();
    let plan =
        serde_json::to_string(&task.plan).map_err(|e| Error::invalid("plan", e.to_string()))?;
    sqlx::query(
        "INSERT INTO tasks (id, workspace_id, description, workflow, complexity, force_analyst, plan, \
         status, created_by, rerun_of, created_at, run_agent_id, overrides, working_dir) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', $8, $9, $10, $11, $12, $13)",
    )
    .bind(&id)
    .bind(workspace_id)
    .bind(&task.description)
    .bind(&task.workflow)
    .bind(&task.complexity)
    .bind(i64::from(task.force_analyst))
    .bind(plan)
    .bind(&task.created_by)
    .bind(&task.rerun_of)
    .bind(now_ms())
    .bind(task.run.as_ref().map(|(agent, _)| agent.clone()))
    .bind(
        task.run
            .as_ref()
            .map(|(_, o)| serde_json::to_string(o).unwrap_or_default()),
    )
    .bind(&task.workdir)
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// One task of a workspace.
pub async fn get<'e>(
    db: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    id: &str,
) -> Result<Task> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {TASK_COLUMNS} FROM tasks WHERE workspace_id = $1 AND id = $2"
    )))
    .bind(workspace_id)
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or_else(|| Error::not_found("task", id))
}

/// A task with its steps merged from the plan and the agent runs.
pub async fn detail(store: &Store, workspace_id: &str, id: &str) -> Result<TaskDetail> {
    let task = get(store.pool(), workspace_id, id).await?;
    let runs: Vec<RunRow> = sqlx::query_as(
        "SELECT id, step_index, status, output, prompt_tokens, completion_tokens, cached_tokens, \
         cost_micros, context_tokens, context_window, error, started_at, finished_at, provider_kind, \
         model, fallback_note, unpriced_calls, \
         (SELECT COUNT(*) FROM llm_calls c WHERE c.task_id = agent_runs.task_id AND c.agent_run_id = agent_runs.id AND c.success = 1) AS calls \
         FROM agent_runs WHERE workspace_id = $1 AND task_id = $2 ORDER BY step_index",
    )
    .bind(workspace_id)
    .bind(id)
    .fetch_all(store.pool())
    .await?;
    let now = now_ms();
    let steps = task
        .planned_steps()
        .into_iter()
        .enumerate()
        .map(|(i, plan)| {
            let index = i64::try_from(i).unwrap_or(0);
            let run = runs.iter().find(|r| r.step_index == index);
            let status = match (run, task.status.as_str()) {
                (Some(r), _) if r.status != "active" || task.status == "running" => {
                    r.status.clone()
                }
                (Some(_), "cancelled") | (None, "cancelled") => "cancelled".into(),
                (Some(r), _) => r.status.clone(),
                (None, _) => "pending".into(),
            };
            // Until a call has succeeded the step shows what was planned; afterwards, what
            // actually answered.
            let answered = run.filter(|r| r.calls > 0 && !r.provider_kind.is_empty());
            let provider_kind = answered.map_or(plan.provider_kind, |r| r.provider_kind.clone());
            StepView {
                index,
                role: plan.role,
                run_id: run.map(|r| r.id.clone()),
                agent_id: plan.agent_id,
                agent_name: plan.agent_name,
                model: answered.map_or(plan.model, |r| r.model.clone()),
                simulated: provider_kind == "simulator",
                provider_kind,
                fallback_note: run.and_then(|r| r.fallback_note.clone()),
                price_known: run.is_none_or(|r| r.unpriced_calls == 0),
                status,
                prompt_tokens: run.map_or(0, |r| r.prompt_tokens),
                completion_tokens: run.map_or(0, |r| r.completion_tokens),
                cached_tokens: run.map_or(0, |r| r.cached_tokens),
                cost_micros: run.map_or(0, |r| r.cost_micros),
                context_tokens: run.map_or(0, |r| r.context_tokens),
                context_window: run.map_or(0, |r| r.context_window),
                output: run.map(|r| r.output.clone()).unwrap_or_default(),
                error: run.and_then(|r| r.error.clone()),
                started_at: run.and_then(|r| r.started_at),
                finished_at: run.and_then(|r| r.finished_at),
                duration_ms: run.and_then(|r| {
                    r.started_at
                        .map(|s| r.finished_at.unwrap_or(now).saturating_sub(s))
                }),
            }
        })
        .collect();
    Ok(TaskDetail {
        price_known: task.unpriced_calls == 0,
        task: task.to_wire(),
        steps,
    })
}

pub use super::task_list::{STATUSES, TaskFilter, list};

/// Marks a queued or running task cancelled. Returns false when it had already finished.
pub async fn cancel(conn: &mut AnyConnection, workspace_id: &str, id: &str) -> Result<bool> {
    let changed = sqlx::query(
        "UPDATE tasks SET status = 'cancelled', finished_at = $3, claimed_by = NULL, lease_until = NULL \
         WHERE workspace_id = $1 AND id = $2 AND status IN ('queued', 'running')",
    )
    .bind(workspace_id)
    .bind(id)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if changed > 0 {
        sqlx::query(
            "UPDATE agent_runs SET status = 'failed', error = 'cancelled', finished_at = $3 \
             WHERE workspace_id = $1 AND task_id = $2 AND status = 'active'",
        )
        .bind(workspace_id)
        .bind(id)
        .bind(now_ms())
        .execute(&mut *conn)
        .await?;
    }
    if changed == 0 {
        // Nothing changed: tell "already finished" from "no such task".
        get(&mut *conn, workspace_id, id).await?;
    }
    Ok(changed > 0)
}

/// Deletes a finished or queued task with its runs, calls' links, tool calls and events.
pub async fn delete(tx: &mut AnyConnection, workspace_id: &str, id: &str) -> Result<()> {
    let task = get(&mut *tx, workspace_id, id).await?;
    if task.status == "running" {
        return Err(Error::Conflict(
            "the task is running: cancel it before deleting it".into(),
        ));
    }
    for sql in [
        "DELETE FROM file_changes WHERE workspace_id = $1 AND task_id = $2",
        "DELETE FROM tool_calls WHERE workspace_id = $1 AND task_id = $2",
        "UPDATE llm_calls SET task_id = NULL, agent_run_id = NULL WHERE workspace_id = $1 AND task_id = $2",
        "DELETE FROM agent_runs WHERE workspace_id = $1 AND task_id = $2",
        "DELETE FROM tasks WHERE workspace_id = $1 AND id = $2",
    ] {
        sqlx::query(sql)
            .bind(workspace_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    for sql in [
        "DELETE FROM events WHERE workspace_id = $1 AND topic = $2",
        "DELETE FROM event_counters WHERE workspace_id = $1 AND topic = $2",
    ] {
        sqlx::query(sql)
            .bind(workspace_id)
            .bind(crate::events::task_topic(id))
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// The current status of a task (for workers checking for cancellation).
pub async fn status(store: &Store, id: &str) -> Result<String> {
    let row: Option<(String,)> = sqlx::query_as("SELECT status FROM tasks WHERE id = $1")
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    row.map(|(s,)| s)
        .ok_or_else(|| Error::not_found("task", id))
}

/// A step's run as a resuming worker needs it.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct StoredRun {
    /// Position in the plan.
    pub step_index: i64,
    /// The run's id (a restarted step keeps it).
    pub id: String,
    /// `completed`, `failed`, `active`…
    pub status: String,
    /// The role.
    pub role: String,
    /// Its output so far.
    pub output: String,
}

/// Every run a task has, by step: read once when a worker takes the task up. Only the claim's
/// holder writes its task's runs, so this stays true for the claim's steps.
pub async fn stored_runs(store: &Store, task_id: &str) -> Result<Vec<StoredRun>> {
    Ok(sqlx::query_as(
        "SELECT step_index, id, status, role, output FROM agent_runs \
         WHERE task_id = $1 ORDER BY step_index",
    )
    .bind(task_id)
    .fetch_all(store.pool())
    .await?)
}

/// A recorded file change, as stored.
#[derive(Debug, Clone, PartialEq, FromRow)]
struct FileChangeRow {
    /// UUIDv7.
    pub id: String,
    /// The agent run that made it.
    pub agent_run_id: Option<String>,
    /// Path relative to the task directory.
    pub path: String,
    /// `read`, `created`, `modified` or `deleted`.
    pub change_kind: String,
    /// Content before.
    pub before_content: Option<String>,
    /// Content after.
    pub after_content: Option<String>,
    /// Unix ms.
    pub created_at: i64,
}

/// One step's conversation, as stored.
#[derive(Debug, Clone, PartialEq, FromRow)]
struct ConversationRow {
    /// Agent run id.
    pub id: String,
    /// Step position.
    pub step_index: i64,
    /// Role.
    pub role: String,
    /// Agent name.
    pub agent_name: String,
    /// Provider kind.
    pub provider_kind: String,
    /// Model.
    pub model: String,
    /// Why a fallback answered, when one did.
    pub fallback_note: Option<String>,
    /// The system prompt.
    pub system_prompt: String,
    /// JSON list of messages.
    pub conversation: String,
    /// Unix ms.
    pub started_at: Option<i64>,
}

/// Everything the debugging views of a task show: each step's conversation (messages parsed),
/// its tool calls and its file changes with their line diffs.
pub async fn records(store: &Store, workspace_id: &str, task_id: &str) -> Result<TaskRecords> {
    let task = get(store.pool(), workspace_id, task_id).await?;
    let runs: Vec<ConversationRow> = sqlx::query_as(
        "SELECT id, step_index, role, agent_name, provider_kind, model, fallback_note, system_prompt, conversation, started_at \
         FROM agent_runs WHERE workspace_id = $1 AND task_id = $2 ORDER BY step_index",
    )
    .bind(workspace_id)
    .bind(task_id)
    .fetch_all(store.pool())
    .await?;
    let tool_calls = sqlx::query_as(
        "SELECT id, agent_run_id, tool, input, output, outcome, duration_ms, created_at \
         FROM tool_calls WHERE workspace_id = $1 AND task_id = $2 ORDER BY created_at, id",
    )
    .bind(workspace_id)
    .bind(task_id)
    .fetch_all(store.pool())
    .await?;
    let file_changes: Vec<FileChangeRow> = sqlx::query_as(
        "SELECT id, agent_run_id, path, change_kind, before_content, after_content, created_at \
         FROM file_changes WHERE workspace_id = $1 AND task_id = $2 ORDER BY created_at, id",
    )
    .bind(workspace_id)
    .bind(task_id)
    .fetch_all(store.pool())
    .await?;
    Ok(TaskRecords {
        runs: runs.into_iter().map(ConversationRow::into_wire).collect(),
        tool_calls,
        file_changes: file_changes
            .into_iter()
            .map(FileChangeRow::into_wire)
            .collect(),
        price_known: task.unpriced_calls == 0,
    })
}

impl ConversationRow {
    fn into_wire(self) -> wire::tasks::RunConversation {
        use crate::providers::{Message, MessageRole};
        // A conversation that cannot be read shows as empty rather than failing the page.
        let stored: Vec<Message> = serde_json::from_str(&self.conversation).unwrap_or_default();
        wire::tasks::RunConversation {
            simulated: self.provider_kind == "simulator",
            messages: stored
                .into_iter()
                .map(|m| wire::tasks::ConversationMessage {
                    role: match m.role {
                        MessageRole::User => "user",
                        MessageRole::Assistant => "assistant",
                        MessageRole::Tool => "tool",
                    }
                    .to_owned(),
                    tool_calls: m
                        .tool_calls
                        .into_iter()
                        .map(|c| wire::tasks::MessageToolCall {
                            name: c.name,
                            arguments: c.arguments,
                        })
                        .collect(),
                    content: m.content,
                })
                .collect(),
            id: self.id,
            step_index: self.step_index,
            role: self.role,
            agent_name: self.agent_name,
            provider_kind: self.provider_kind,
            model: self.model,
            fallback_note: self.fallback_note,
            system_prompt: self.system_prompt,
            started_at: self.started_at,
        }
    }
}

impl FileChangeRow {
    fn into_wire(self) -> wire::tasks::FileChange {
        let diff = if self.change_kind == "read" {
            Vec::new()
        } else {
            crate::runner::tools::diff(
                self.before_content.as_deref().unwrap_or_default(),
                self.after_content.as_deref().unwrap_or_default(),
            )
            .into_iter()
            .map(|(op, text)| wire::tasks::DiffLine {
                op: op.to_string(),
                text,
            })
            .collect()
        };
        wire::tasks::FileChange {
            id: self.id,
            agent_run_id: self.agent_run_id,
            path: self.path,
            change_kind: self.change_kind,
            before_content: self.before_content,
            after_content: self.after_content,
            diff,
            created_at: self.created_at,
        }
    }
}

/// The agent chosen for each role: the oldest agent of that role in the workspace, with the
/// provider it will run on — its own, or the workspace's default when it names none (the
/// built-in simulator when there is no default).
pub async fn agents_for_roles(
    store: &Store,
    workspace_id: &str,
    roles: &[Role],
) -> Result<Vec<PlannedStep>> {
    let default_kind: Option<String> = match crate::store::settings::get(
        store.pool(),
        workspace_id,
        crate::store::settings::DEFAULT_PROVIDER,
    )
    .await?
    .and_then(|v| v.as_str().map(str::to_owned))
    {
        Some(id) => sqlx::query_as::<_, (String,)>(
            "SELECT kind FROM providers WHERE workspace_id = $1 AND id = $2",
        )
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(store.pool())
        .await?
        .map(|(k,)| k),
        None => None,
    };
    let rows: Vec<(String, String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT a.id, a.name, a.role, a.model, p.kind FROM agents a \
         LEFT JOIN providers p ON p.id = a.provider_id \
         WHERE a.workspace_id = $1 ORDER BY a.created_at, a.id",
    )
    .bind(workspace_id)
    .fetch_all(store.pool())
    .await?;
    roles
        .iter()
        .map(|role| {
            rows.iter()
                .find(|(_, _, r, _, _)| r == role.as_str())
                .map(|(id, name, r, model, kind)| PlannedStep {
                    role: r.clone(),
                    agent_id: id.clone(),
                    agent_name: name.clone(),
                    model: model.clone(),
                    provider_kind: kind
                        .clone()
                        .or_else(|| default_kind.clone())
                        .unwrap_or_else(|| "simulator".into()),
                })
                .ok_or_else(|| {
                    Error::invalid(
                        "workflow",
                        format!("no agent has the role {}: create one first", role.as_str()),
                    )
                })
        })
        .collect()
}
