//! Playground runs: one agent, one input, optionally with its prompt, provider, model,
//! temperature or max tokens changed for the run. A run is a one-step task (workflow
//! `playground`): it streams, records and costs exactly as a task's step does, and its events
//! are on the task's topic (`/api/v1/tasks/{id}/stream`).

use serde::{Deserialize, Serialize};

/// What a run changes of its agent; absent fields keep the agent's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RunOverrides {
    /// System prompt for this run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// Custom instructions for this run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_instructions: Option<String>,
    /// A provider of the workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
    /// Model name as that provider spells it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// 0.0–2.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// 1–1,000,000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<i64>,
    /// One of the agent's personas, for this run instead of its active one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persona_id: Option<String>,
}

impl RunOverrides {
    /// Whether the run's prompt differs from the agent's (then it runs no prompt version).
    pub fn changes_prompt(&self) -> bool {
        self.system_prompt.is_some() || self.custom_instructions.is_some()
    }
}

/// A run to start.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StartRun {
    /// The agent.
    pub agent_id: String,
    /// The input (the run's first message).
    pub input: String,
    /// What to change for this run.
    #[serde(default)]
    pub overrides: RunOverrides,
}

/// A run as its card and the run history show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunSummary {
    /// The run's id (its task's).
    pub id: String,
    /// The agent.
    pub agent_id: String,
    /// `queued`, `running`, `completed`, `failed` or `cancelled`.
    pub status: String,
    /// The input.
    pub input: String,
    /// What the run changed of its agent.
    pub overrides: RunOverrides,
    /// The provider kind that answered (or was tried); none before the step started.
    pub provider_kind: Option<String>,
    /// The model that answered (or was tried).
    pub model: Option<String>,
    /// The persona it ran under (its name then), if any.
    #[serde(default)]
    pub persona: Option<String>,
    /// Input tokens.
    pub prompt_tokens: i64,
    /// Output tokens.
    pub completion_tokens: i64,
    /// Input tokens read from the provider's cache.
    pub cached_tokens: i64,
    /// Cost of its priced calls, micro-USD.
    pub cost_micros: i64,
    /// Calls of unknown price (their cost is missing from `cost_micros`).
    pub unpriced_calls: i64,
    /// Start to finish, ms (none until it finished).
    pub latency_ms: Option<i64>,
    /// Time to the first token of its first successful call, ms (none if not streamed).
    pub ttft_ms: Option<i64>,
    /// The answer (so far).
    pub output: String,
    /// Why it failed.
    pub error: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
}

impl RunSummary {
    /// Whether the answer came from the offline simulator (labelled "Simulated").
    pub fn simulated(&self) -> bool {
        self.provider_kind.as_deref() == Some("simulator")
    }

    /// Whether it has finished.
    pub fn finished(&self) -> bool {
        ["completed", "failed", "cancelled"].contains(&self.status.as_str())
    }
}
