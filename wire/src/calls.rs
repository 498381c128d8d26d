//! LLM calls as the calls explorer lists them: one per attempt, with what answered and what it
//! cost.

use serde::{Deserialize, Serialize};

/// One recorded attempt at a model call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Call {
    /// UUIDv7.
    pub id: String,
    /// The task it served, if any.
    pub task_id: Option<String>,
    /// The task step (agent run) it served, if any.
    pub agent_run_id: Option<String>,
    /// The agent that made it, if any.
    pub agent_id: Option<String>,
    /// The step's role (`""` outside a task).
    pub role: String,
    /// The task's workflow (`""` outside a task).
    pub workflow: String,
    /// The provider row that answered (none for the built-in simulator).
    pub provider_id: Option<String>,
    /// The provider kind that answered.
    pub provider_kind: String,
    /// The model that answered.
    pub model: String,
    /// Prompt tokens (cached ones included).
    pub prompt_tokens: i64,
    /// Completion tokens.
    pub completion_tokens: i64,
    /// Prompt tokens served from the provider's cache.
    pub cached_tokens: i64,
    /// Reasoning tokens.
    pub reasoning_tokens: i64,
    /// Prompt tokens written to the provider's cache (part of `prompt_tokens`).
    #[serde(default)]
    pub cache_write_tokens: i64,
    /// True when the provider sent no usage and the counts are estimates.
    pub usage_estimated: bool,
    /// Cost, micro-USD (0 when `price_known` is false: the cost is then unknown).
    pub cost_micros: i64,
    /// Whether the price table had the model.
    pub price_known: bool,
    /// Wall time of the attempt.
    pub latency_ms: i64,
    /// Time to the first streamed token, when streamed.
    pub ttft_ms: Option<i64>,
    /// `success`, `failed` or `cancelled`.
    pub outcome: String,
    /// Why it failed: `rate_limited`, `server_error`, `timeout`, `auth`, `cancelled`…
    pub error_class: Option<String>,
    /// 1 for the first attempt, 2 for the first retry…
    pub attempt: i64,
    /// Unix ms when the attempt started.
    pub created_at: i64,
    /// `agent` (Fleetdeck's own agents) or `gateway` (a call proxied for an agent running
    /// elsewhere).
    #[serde(default = "agent_source")]
    pub source: String,
    /// The caller's session (`x-fleetdeck-session`) or the OTLP trace it belongs to.
    #[serde(default)]
    pub session_id: Option<String>,
    /// The caller's own task label (`x-fleetdeck-task` naming no Fleetdeck task).
    #[serde(default)]
    pub external_task: Option<String>,
}

fn agent_source() -> String {
    "agent".to_owned()
}
