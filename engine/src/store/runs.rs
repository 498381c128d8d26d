//! The records a claimed task's worker writes: step starts and ends, model calls, tool calls
//! and file changes.
//!
//! Every function here takes the worker's [`Lease`] and fences on it in the same transaction
//! (see [`super::queue`]), so a worker whose claim was taken over cannot write for the task.
//! Step counters (tokens, cost) grow in the same transaction as each `llm_calls` row (model
//! calls go through the group-commit writer, [`super::group`]), so a
//! task's cost is always the sum of its steps and each step's the sum of its calls.

use std::sync::Arc;

use crate::events::{Event, Outgoing};
use crate::store::group::{CallRecord, StepFacts};
use crate::store::llm_calls::NewLlmCall;
use crate::store::queue::{self, Fence, Lease};
use crate::store::tasks::PlannedStep;
use crate::{Result, Store, new_id, now_ms};

/// What a step starts with.
#[derive(Debug, Clone)]
pub struct StepStart<'a> {
    /// Owning workspace.
    pub workspace_id: &'a str,
    /// Task.
    pub task_id: &'a str,
    /// Position.
    pub index: i64,
    /// The plan entry.
    pub plan: &'a PlannedStep,
    /// The system prompt it runs with.
    pub system_prompt: &'a str,
    /// Its first user message.
    pub input: &'a str,
    /// The model's context window (0 when unknown).
    pub context_window: i64,
    /// Whether it runs its agent's active prompt version (not a prompt changed for a run).
    pub versioned: bool,
    /// The persona it runs under (its name).
    pub persona: Option<&'a str>,
}

/// Starts (or, after a crash, restarts) a step's agent run, and stores the events `announce`
/// makes for it in the same transaction. Returns the run id (a restarted run keeps its id,
/// calls and counters) and the events to broadcast. Goes through the group-commit writer.
pub async fn start_step(
    store: &Store,
    lease: &Lease,
    step: &StepStart<'_>,
    announce: impl FnOnce(&str) -> Vec<Outgoing>,
) -> Result<(String, Vec<Arc<Event>>)> {
    let mut conn = store.pool().acquire().await?;
    let existing = existing_run(&mut conn, step.task_id, step.index).await?;
    drop(conn);
    start_step_known(store, lease, step, existing, announce).await
}

/// The run already stored for a task's step (a step restarted after a crash keeps its run).
///
/// Only the claim's holder writes its task's runs (every write is fenced), so what this finds
/// cannot change before that holder's next fenced write.
pub async fn existing_run(
    conn: &mut sqlx::AnyConnection,
    task_id: &str,
    index: i64,
) -> Result<Option<String>> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT id FROM agent_runs WHERE task_id = $1 AND step_index = $2")
            .bind(task_id)
            .bind(index)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.map(|(id,)| id))
}

/// [`start_step`] when the caller already knows the step's run ([`existing_run`], or
/// [`super::tasks::stored_runs`] for all of a task's steps at once).
pub async fn start_step_known(
    store: &Store,
    lease: &Lease,
    step: &StepStart<'_>,
    existing: Option<String>,
    announce: impl FnOnce(&str) -> Vec<Outgoing>,
) -> Result<(String, Vec<Arc<Event>>)> {
    let restart = existing.is_some();
    let id = existing.unwrap_or_else(new_id);
    let events = announce(&id);
    let now = now_ms();
    let lease = lease.clone();
    let (ws, task_id, index) = (
        step.workspace_id.to_owned(),
        step.task_id.to_owned(),
        step.index,
    );
    let plan = step.plan.clone();
    let (system, input, window) = (
        step.system_prompt.to_owned(),
        step.input.to_owned(),
        step.context_window,
    );
    // A step whose prompt was changed for a playground run ran no prompt version.
    let versioned = i64::from(step.versioned);
    let persona = step.persona.map(str::to_owned);
    let run_id = id.clone();
    let ((), stored) = store
        .write(step.workspace_id, move |conn| {
            let (lease, ws, task_id, plan) = (lease.clone(), ws.clone(), task_id.clone(), plan.clone());
            let (system, input, run_id, events) =
                (system.clone(), input.clone(), run_id.clone(), events.clone());
            let persona = persona.clone();
            Box::pin(async move {
                queue::fence(conn, &lease, Fence::Running).await?;
                if restart {
                    sqlx::query(
                        "UPDATE agent_runs SET status = 'active', error = NULL, finished_at = NULL, \
                         started_at = $2, system_prompt = $3, input = $4, \
                         prompt_version = CASE WHEN $5 = 1 THEN (SELECT p.version FROM prompt_versions p \
                         WHERE p.agent_id = agent_runs.agent_id AND p.is_active = 1) END, persona = $6 WHERE id = $1",
                    )
                    .bind(&run_id)
                    .bind(now)
                    .bind(&system)
                    .bind(&input)
                    .bind(versioned)
                    .bind(&persona)
                    .execute(&mut *conn)
                    .await?;
                } else {
                    sqlx::query(
                        "INSERT INTO agent_runs (id, workspace_id, task_id, step_index, agent_id, role, status, \
                         input, system_prompt, agent_name, provider_kind, model, context_window, created_at, started_at, \
                         prompt_version, persona) \
                         VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $9, $10, $11, $12, $13, $13, \
                         CASE WHEN $14 = 1 THEN (SELECT version FROM prompt_versions WHERE agent_id = $5 AND is_active = 1) END, $15)",
                    )
                    .bind(&run_id)
                    .bind(&ws)
                    .bind(&task_id)
                    .bind(index)
                    .bind(&plan.agent_id)
                    .bind(&plan.role)
                    .bind(&input)
                    .bind(&system)
                    .bind(&plan.agent_name)
                    .bind(&plan.provider_kind)
                    .bind(&plan.model)
                    .bind(window)
                    .bind(now)
                    .bind(versioned)
                    .bind(&persona)
                    .execute(&mut *conn)
                    .await?;
                }
                Ok(((), events))
            })
        })
        .await?;
    Ok((id, stored))
}

/// How a step ended.
#[derive(Debug, Clone, Copy)]
pub struct StepEnd<'a> {
    /// The agent run.
    pub run_id: &'a str,
    /// `completed` or `failed`.
    pub status: &'a str,
    /// The final answer (or what there was of it).
    pub output: &'a str,
    /// The conversation as JSON.
    pub conversation: &'a str,
    /// Why it failed.
    pub error: Option<&'a str>,
}

/// Ends a step: its output, conversation and status, with the events that announce it.
/// Goes through the group-commit writer.
pub async fn end_step(
    store: &Store,
    lease: &Lease,
    end: StepEnd<'_>,
    workspace_id: &str,
    announce: Vec<Outgoing>,
) -> Result<Vec<Arc<Event>>> {
    let lease = lease.clone();
    let (run_id, status, output, conversation, error) = (
        end.run_id.to_owned(),
        end.status.to_owned(),
        end.output.to_owned(),
        end.conversation.to_owned(),
        end.error.map(str::to_owned),
    );
    let now = now_ms();
    let ((), stored) = store
        .write(workspace_id, move |conn| {
            let lease = lease.clone();
            let (run_id, status, output) = (run_id.clone(), status.clone(), output.clone());
            let (conversation, error, events) =
                (conversation.clone(), error.clone(), announce.clone());
            Box::pin(async move {
                queue::fence(conn, &lease, Fence::Running).await?;
                sqlx::query(
                    "UPDATE agent_runs SET status = $2, output = $3, conversation = $4, error = $5, \
                     finished_at = $6 WHERE id = $1",
                )
                .bind(&run_id)
                .bind(&status)
                .bind(&output)
                .bind(&conversation)
                .bind(&error)
                .bind(now)
                .execute(&mut *conn)
                .await?;
                Ok(((), events))
            })
        })
        .await?;
    Ok(stored)
}

/// Which provider answered a step, recorded with its successful call.
#[derive(Debug, Clone, Copy)]
pub struct Answered<'a> {
    /// The provider row (None for the built-in simulator of an agent that names none).
    pub provider_id: Option<&'a str>,
    /// Why a fallback answered ("openai/gpt-4o: auth (HTTP 401) → fell back to …"), if one did.
    pub fallback_note: Option<&'a str>,
}

/// Records one LLM call attempt of the leased task and adds it to its step's and task's
/// counters, atomically (`call.task_id` is the lease's task); a successful call also records
/// which provider and model answered the step. The events that announce it are stored in the
/// same transaction and returned for the caller to broadcast.
///
/// Goes through the group-commit writer ([`crate::store::group`]): concurrent workers' calls
/// share one transaction. Fenced on the lease's epoch only: an attempt cut off by a cancel is
/// still recorded. A budgets' `reservation` taken for the call is settled to its cost with it.
pub async fn record_call(
    store: &Store,
    lease: &Lease,
    call: &NewLlmCall,
    context_tokens: i64,
    answered: Option<Answered<'_>>,
    events: Vec<Outgoing>,
    reservation: Option<crate::budgets::enforce::Reservation>,
) -> Result<(String, Vec<Arc<Event>>)> {
    let step = call.agent_run_id.as_ref().map(|run_id| StepFacts {
        run_id: run_id.clone(),
        context_tokens,
        answered: answered.map(|a| {
            (
                a.provider_id.map(str::to_owned),
                a.fallback_note.map(str::to_owned),
            )
        }),
    });
    let recorded = store
        .record_call(CallRecord {
            call: call.clone(),
            lease: Some(lease.clone()),
            step,
            events,
            reservation,
        })
        .await?;
    Ok((recorded.id, recorded.events))
}

/// One tool call to record, with the file change it made.
#[derive(Debug, Clone, Copy)]
pub struct NewToolCall<'a> {
    /// Owning workspace.
    pub workspace_id: &'a str,
    /// The agent run.
    pub run_id: &'a str,
    /// Tool name.
    pub tool: &'a str,
    /// Arguments JSON.
    pub input: &'a str,
    /// What the tool returned.
    pub output: &'a str,
    /// Whether it succeeded.
    pub ok: bool,
    /// Wall time.
    pub duration_ms: i64,
    /// The file it changed or read.
    pub effect: Option<&'a crate::runner::tools::FileEffect>,
}

/// A tool call as the writer task keeps it (owned: the write may run twice).
#[derive(Clone)]
struct OwnedToolCall {
    workspace_id: String,
    run_id: String,
    tool: String,
    input: String,
    output: String,
    ok: bool,
    duration_ms: i64,
    effect: Option<crate::runner::tools::FileEffect>,
}

/// Records a turn's tool calls and the file changes they made, with the events that announce
/// them, atomically. Goes through the group-commit writer.
pub async fn record_tool_calls(
    store: &Store,
    lease: &Lease,
    calls: &[NewToolCall<'_>],
    workspace_id: &str,
    announce: Vec<Outgoing>,
) -> Result<Vec<Arc<Event>>> {
    let now = now_ms();
    let lease = lease.clone();
    let calls: Arc<Vec<OwnedToolCall>> = Arc::new(
        calls
            .iter()
            .map(|c| OwnedToolCall {
                workspace_id: c.workspace_id.to_owned(),
                run_id: c.run_id.to_owned(),
                tool: c.tool.to_owned(),
                input: c.input.to_owned(),
                output: c.output.to_owned(),
                ok: c.ok,
                duration_ms: c.duration_ms,
                effect: c.effect.cloned(),
            })
            .collect(),
    );
    let ((), stored) = store
        .write(workspace_id, move |conn| {
            let (lease, calls, events) = (lease.clone(), calls.clone(), announce.clone());
            Box::pin(async move {
                queue::fence(conn, &lease, Fence::Running).await?;
                let task_id = lease.task_id.as_str();
                for call in calls.iter() {
                    sqlx::query(
                        "INSERT INTO tool_calls (id, workspace_id, task_id, agent_run_id, tool, input, output, \
                         outcome, duration_ms, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    )
                    .bind(new_id())
                    .bind(&call.workspace_id)
                    .bind(task_id)
                    .bind(&call.run_id)
                    .bind(&call.tool)
                    .bind(&call.input)
                    .bind(&call.output)
                    .bind(if call.ok { "ok" } else { "error" })
                    .bind(call.duration_ms)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                    if let Some(effect) = &call.effect {
                        sqlx::query(
                            "INSERT INTO file_changes (id, workspace_id, task_id, agent_run_id, path, change_kind, \
                             before_content, after_content, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                        )
                        .bind(new_id())
                        .bind(&call.workspace_id)
                        .bind(task_id)
                        .bind(&call.run_id)
                        .bind(&effect.path)
                        .bind(effect.kind)
                        .bind(&effect.before)
                        .bind(&effect.after)
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                    }
                }
                Ok(((), events))
            })
        })
        .await?;
    Ok(stored)
}
