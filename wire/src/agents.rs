//! Agents: what the registry lists, one agent in full, and what a caller sends to create or
//! change one.

use serde::{Deserialize, Serialize};

/// An agent as lists and cards show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct AgentSummary {
    /// UUIDv7.
    pub id: String,
    /// Unique name within the workspace.
    pub name: String,
    /// Upper-case role name.
    pub role: String,
    /// Free text.
    pub description: String,
    /// Provider display name (none when the provider was deleted or none is set).
    pub provider_name: Option<String>,
    /// Provider kind, e.g. `simulator`.
    pub provider_kind: Option<String>,
    /// Model name.
    pub model: String,
    /// Sampling temperature.
    pub temperature: f64,
    /// `active` while one of its runs is working on a running task, else `idle`.
    pub status: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Cost of all its priced calls, micro-USD (from the hourly rollups).
    pub cost_micros: i64,
    /// Prompt + completion tokens of all its calls.
    pub tokens: i64,
}

impl AgentSummary {
    /// Whether it runs on the offline simulator (its output is labelled "Simulated").
    pub fn simulated(&self) -> bool {
        self.provider_kind.as_deref() == Some("simulator")
    }
}

/// Everything stored about an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Agent {
    /// UUIDv7.
    pub id: String,
    /// Unique name within the workspace.
    pub name: String,
    /// Upper-case role name.
    pub role: String,
    /// Free text.
    pub description: String,
    /// Provider id (none: the workspace default).
    pub provider_id: Option<String>,
    /// Provider display name.
    pub provider_name: Option<String>,
    /// Provider kind.
    pub provider_kind: Option<String>,
    /// True when its provider was deleted: it cannot run until a provider is chosen again.
    pub provider_deleted: bool,
    /// Model name.
    pub model: String,
    /// Sampling temperature.
    pub temperature: f64,
    /// Completion token limit.
    pub max_tokens: i64,
    /// The role's system prompt.
    pub system_prompt: String,
    /// Extra instructions.
    pub custom_instructions: String,
    /// Free-form labels.
    pub tags: Vec<String>,
    /// Tried in order when the agent's own provider and model fail.
    pub fallbacks: Vec<FallbackTarget>,
    /// `active` while one of its runs is working on a running task, else `idle`.
    pub status: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

/// One entry of an agent's fallback chain.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FallbackTarget {
    /// A provider of the workspace; none for the workspace default provider.
    #[serde(default)]
    pub provider_id: Option<String>,
    /// Model name as that provider spells it.
    pub model: String,
}

/// Fields of an agent as a caller sends them; absent fields keep their current value (PATCH) or
/// take defaults (create).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AgentInput {
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Role name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Provider id; an empty string clears it (the workspace default is used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
    /// Model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Completion token limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<i64>,
    /// System prompt; empty means the role template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// Custom instructions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_instructions: Option<String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// The fallback chain, replacing the current one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallbacks: Option<Vec<FallbackTarget>>,
}

/// Exactly what an agent would receive for a task: its system prompt and first message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromptPreview {
    /// `simple` or `complex`, as the planner judges the task.
    pub complexity: String,
    /// The system prompt.
    pub system_prompt: String,
    /// The first user message.
    pub user_message: String,
    /// Estimated prompt tokens.
    pub tokens: i64,
}
