//! LLM calls: one row per attempt, plus the hourly rollup kept in step with it
//! ([`super::rollups`]).

use serde::Serialize;

use crate::{Result, Store};

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
    /// The role of the step it served (`""` for calls outside a task).
    pub role: String,
    /// The workflow of the task it served (`""` for calls outside a task).
    pub workflow: String,
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

/// Records one call and its rollup through the group-commit writer
/// ([`crate::store::group`]): one transaction, shared with whatever else is being recorded.
pub async fn record(store: &Store, call: &NewLlmCall) -> Result<String> {
    let recorded = store
        .record_call(crate::store::group::CallRecord {
            call: call.clone(),
            lease: None,
            step: None,
            events: Vec::new(),
        })
        .await?;
    Ok(recorded.id)
}
