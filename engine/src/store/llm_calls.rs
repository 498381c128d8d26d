//! LLM calls: one row per attempt, plus the hourly rollup kept in step with it.

use serde::Serialize;
use sqlx::AnyConnection;

use crate::{Result, Store, new_id};

/// One hour in milliseconds: the rollup bucket width.
pub const HOUR_MS: i64 = 3_600_000;

/// One attempt at one provider call, as the runner reports it.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct NewLlmCall {
    /// Owning workspace.
    pub workspace_id: String,
    /// The task the call served, if any.
    pub task_id: Option<String>,
    /// The agent run (task step) the call served, if any.
    pub agent_run_id: Option<String>,
    /// The agent that made the call, if any.
    pub agent_id: Option<String>,
    /// The provider row that answered (None for the built-in simulator or an external source).
    pub provider_id: Option<String>,
    /// Provider kind, e.g. `openai`.
    pub provider_kind: String,
    /// Model name.
    pub model: String,
    /// Prompt tokens (including cached ones).
    pub prompt_tokens: i64,
    /// Completion tokens.
    pub completion_tokens: i64,
    /// Prompt tokens served from the provider's cache.
    pub cached_tokens: i64,
    /// Reasoning tokens, where the provider reports them.
    pub reasoning_tokens: i64,
    /// True when the provider gave no usage and the counts are estimates.
    pub usage_estimated: bool,
    /// Cost in micro-USD (0 when the price is unknown: see `price_known`).
    pub cost_micros: i64,
    /// Whether the price table had this model; an unpriced call's cost is unknown, not free.
    pub price_known: bool,
    /// Wall time of the attempt.
    pub latency_ms: i64,
    /// Time to the first streamed token, when streaming.
    pub ttft_ms: Option<i64>,
    /// Whether the attempt produced a complete answer.
    pub success: bool,
    /// `rate_limited`, `server_error`, `timeout`, … for failures.
    pub error_class: Option<String>,
    /// 1 for the first attempt, 2 for the first retry, …
    pub attempt: i64,
    /// Unix milliseconds when the attempt started.
    pub created_at: i64,
}

/// Inserts the call and adds it to its hourly rollup, on the given connection.
///
/// Call inside a transaction (as [`record`] does) so that the raw row and the rollup can never
/// disagree.
#[tracing::instrument(skip_all, fields(workspace.id = %call.workspace_id, model = %call.model))]
pub async fn insert(conn: &mut AnyConnection, call: &NewLlmCall) -> Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO llm_calls (id, workspace_id, task_id, agent_run_id, agent_id, provider_kind, model, \
         prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, usage_estimated, cost_micros, \
         latency_ms, ttft_ms, success, error_class, attempt, created_at, provider_id, price_known) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
    )
    .bind(&id)
    .bind(&call.workspace_id)
    .bind(&call.task_id)
    .bind(&call.agent_run_id)
    .bind(&call.agent_id)
    .bind(&call.provider_kind)
    .bind(&call.model)
    .bind(call.prompt_tokens)
    .bind(call.completion_tokens)
    .bind(call.cached_tokens)
    .bind(call.reasoning_tokens)
    .bind(i64::from(call.usage_estimated))
    .bind(call.cost_micros)
    .bind(call.latency_ms)
    .bind(call.ttft_ms)
    .bind(i64::from(call.success))
    .bind(&call.error_class)
    .bind(call.attempt)
    .bind(call.created_at)
    .bind(&call.provider_id)
    .bind(i64::from(call.price_known))
    .execute(&mut *conn)
    .await?;

    let hour_ms = call.created_at - call.created_at.rem_euclid(HOUR_MS);
    sqlx::query(
        "INSERT INTO metric_rollups_hourly (workspace_id, hour_ms, provider_kind, model, agent_id, calls, \
         failures, prompt_tokens, completion_tokens, cached_tokens, cost_micros, latency_ms_sum, unpriced_calls) \
         VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (workspace_id, hour_ms, provider_kind, model, agent_id) DO UPDATE SET \
         calls = metric_rollups_hourly.calls + 1, \
         failures = metric_rollups_hourly.failures + excluded.failures, \
         prompt_tokens = metric_rollups_hourly.prompt_tokens + excluded.prompt_tokens, \
         completion_tokens = metric_rollups_hourly.completion_tokens + excluded.completion_tokens, \
         cached_tokens = metric_rollups_hourly.cached_tokens + excluded.cached_tokens, \
         cost_micros = metric_rollups_hourly.cost_micros + excluded.cost_micros, \
         latency_ms_sum = metric_rollups_hourly.latency_ms_sum + excluded.latency_ms_sum, \
         unpriced_calls = metric_rollups_hourly.unpriced_calls + excluded.unpriced_calls",
    )
    .bind(&call.workspace_id)
    .bind(hour_ms)
    .bind(&call.provider_kind)
    .bind(&call.model)
    .bind(call.agent_id.as_deref().unwrap_or(""))
    .bind(i64::from(!call.success))
    .bind(call.prompt_tokens)
    .bind(call.completion_tokens)
    .bind(call.cached_tokens)
    .bind(call.cost_micros)
    .bind(call.latency_ms)
    .bind(i64::from(!call.price_known))
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// Records one call and its rollup in one transaction.
pub async fn record(store: &Store, call: &NewLlmCall) -> Result<String> {
    let mut tx = store.begin().await?;
    let id = insert(&mut tx, call).await?;
    tx.commit().await?;
    Ok(id)
}
