//! The records a claimed task's worker writes: step starts and ends, model calls, tool calls
//! and file changes.
//!
//! Every function here takes the worker's [`Lease`] and fences on it in the same transaction
//! (see [`super::queue`]), so a worker whose claim was taken over cannot write for the task.
//! Step counters (tokens, cost) grow in the same transaction as each `llm_calls` row, so a
//! task's cost is always the sum of its steps and each step's the sum of its calls.

use std::sync::Arc;

use sqlx::AnyConnection;

use crate::events::{self, Event, Outgoing};
use crate::store::llm_calls::{self, NewLlmCall};
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
}

/// Starts (or, after a crash, restarts) a step's agent run, and stores the events `announce`
/// makes for it in the same transaction. Returns the run id (a restarted run keeps its id,
/// calls and counters) and the events to broadcast.
pub async fn start_step(
    store: &Store,
    lease: &Lease,
    step: &StepStart<'_>,
    announce: impl FnOnce(&str) -> Vec<Outgoing>,
) -> Result<(String, Vec<Arc<Event>>)> {
    let now = now_ms();
    let mut tx = store.begin().await?;
    queue::fence(&mut tx, lease, Fence::Running).await?;
    let existing: Option<(String,)> =
        sqlx::query_as("SELECT id FROM agent_runs WHERE task_id = $1 AND step_index = $2")
            .bind(step.task_id)
            .bind(step.index)
            .fetch_optional(&mut *tx)
            .await?;
    let id = match existing {
        Some((id,)) => {
            sqlx::query(
                "UPDATE agent_runs SET status = 'active', error = NULL, finished_at = NULL, \
                 started_at = $2, system_prompt = $3, input = $4 WHERE id = $1",
            )
            .bind(&id)
            .bind(now)
            .bind(step.system_prompt)
            .bind(step.input)
            .execute(&mut *tx)
            .await?;
            id
        }
        None => {
            let id = new_id();
            sqlx::query(
                "INSERT INTO agent_runs (id, workspace_id, task_id, step_index, agent_id, role, status, \
                 input, system_prompt, agent_name, provider_kind, model, context_window, created_at, started_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $9, $10, $11, $12, $13, $13)",
            )
            .bind(&id)
            .bind(step.workspace_id)
            .bind(step.task_id)
            .bind(step.index)
            .bind(&step.plan.agent_id)
            .bind(&step.plan.role)
            .bind(step.input)
            .bind(step.system_prompt)
            .bind(&step.plan.agent_name)
            .bind(&step.plan.provider_kind)
            .bind(&step.plan.model)
            .bind(step.context_window)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            id
        }
    };
    let stored = events::stage(&mut tx, step.workspace_id, announce(&id)).await?;
    tx.commit().await?;
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
pub async fn end_step(
    store: &Store,
    lease: &Lease,
    end: StepEnd<'_>,
    workspace_id: &str,
    announce: Vec<Outgoing>,
) -> Result<Vec<Arc<Event>>> {
    let mut tx = store.begin().await?;
    queue::fence(&mut tx, lease, Fence::Running).await?;
    sqlx::query(
        "UPDATE agent_runs SET status = $2, output = $3, conversation = $4, error = $5, finished_at = $6 \
         WHERE id = $1",
    )
    .bind(end.run_id)
    .bind(end.status)
    .bind(end.output)
    .bind(end.conversation)
    .bind(end.error)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    let stored = events::stage(&mut tx, workspace_id, announce).await?;
    tx.commit().await?;
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
/// counters, atomically (`call.task_id` is the lease's task); a
/// successful call also records which provider and model answered the step. The events that
/// announce it are stored in the same transaction (one commit per call) and returned for the
/// caller to broadcast.
///
/// Fenced on the lease's epoch only: an attempt cut off by a cancel is still recorded.
pub async fn record_call(
    store: &Store,
    lease: &Lease,
    call: &NewLlmCall,
    context_tokens: i64,
    answered: Option<Answered<'_>>,
    events: Vec<Outgoing>,
) -> Result<(String, Vec<Arc<Event>>)> {
    let mut tx = store.begin().await?;
    // The task's counters first: the same statement is the fence (it matches only while the
    // claim holds) and, being a write, takes the locks up front.
    let fenced = sqlx::query(
        "UPDATE tasks SET prompt_tokens = prompt_tokens + $3, completion_tokens = completion_tokens + $4, \
         cached_tokens = cached_tokens + $5, cost_micros = cost_micros + $6, \
         unpriced_calls = unpriced_calls + $7 WHERE id = $1 AND lease_epoch = $2",
    )
    .bind(&lease.task_id)
    .bind(lease.epoch)
    .bind(call.prompt_tokens)
    .bind(call.completion_tokens)
    .bind(call.cached_tokens)
    .bind(call.cost_micros)
    .bind(i64::from(!call.price_known))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if fenced == 0 {
        return Err(crate::Error::LeaseLost(lease.task_id.clone()));
    }
    let id = llm_calls::insert(&mut tx, call).await?;
    if let Some(run_id) = &call.agent_run_id {
        add_to_run(&mut tx, run_id, call, context_tokens, answered).await?;
    }
    // Last, so the topic counters' row locks are held as briefly as possible.
    let stored = events::stage(&mut tx, &call.workspace_id, events).await?;
    tx.commit().await?;
    Ok((id, stored))
}

async fn add_to_run(
    conn: &mut AnyConnection,
    run_id: &str,
    call: &NewLlmCall,
    context_tokens: i64,
    answered: Option<Answered<'_>>,
) -> Result<()> {
    sqlx::query(
        "UPDATE agent_runs SET prompt_tokens = prompt_tokens + $2, completion_tokens = completion_tokens + $3, \
         cached_tokens = cached_tokens + $4, cost_micros = cost_micros + $5, \
         context_tokens = CASE WHEN $6 > 0 THEN $6 ELSE context_tokens END, \
         unpriced_calls = unpriced_calls + $7 WHERE id = $1",
    )
    .bind(run_id)
    .bind(call.prompt_tokens)
    .bind(call.completion_tokens)
    .bind(call.cached_tokens)
    .bind(call.cost_micros)
    .bind(context_tokens)
    .bind(i64::from(!call.price_known))
    .execute(&mut *conn)
    .await?;
    if let Some(answered) = answered {
        sqlx::query(
            "UPDATE agent_runs SET provider_kind = $2, model = $3, provider_id = $4, \
             fallback_note = $5 WHERE id = $1",
        )
        .bind(run_id)
        .bind(&call.provider_kind)
        .bind(&call.model)
        .bind(answered.provider_id)
        .bind(answered.fallback_note)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
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

/// Records a turn's tool calls and the file changes they made, with the events that announce
/// them, atomically.
pub async fn record_tool_calls(
    store: &Store,
    lease: &Lease,
    calls: &[NewToolCall<'_>],
    workspace_id: &str,
    announce: Vec<Outgoing>,
) -> Result<Vec<Arc<Event>>> {
    let now = now_ms();
    let task_id = lease.task_id.as_str();
    let mut tx = store.begin().await?;
    queue::fence(&mut tx, lease, Fence::Running).await?;
    for call in calls {
        sqlx::query(
            "INSERT INTO tool_calls (id, workspace_id, task_id, agent_run_id, tool, input, output, outcome, \
             duration_ms, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(new_id())
        .bind(call.workspace_id)
        .bind(task_id)
        .bind(call.run_id)
        .bind(call.tool)
        .bind(call.input)
        .bind(call.output)
        .bind(if call.ok { "ok" } else { "error" })
        .bind(call.duration_ms)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if let Some(effect) = call.effect {
            sqlx::query(
                "INSERT INTO file_changes (id, workspace_id, task_id, agent_run_id, path, change_kind, \
                 before_content, after_content, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(new_id())
            .bind(call.workspace_id)
            .bind(task_id)
            .bind(call.run_id)
            .bind(&effect.path)
            .bind(effect.kind)
            .bind(&effect.before)
            .bind(&effect.after)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
    }
    let stored = events::stage(&mut tx, workspace_id, announce).await?;
    tx.commit().await?;
    Ok(stored)
}
