//! Agents: what the registry lists, one agent in full, and what a caller sends to create or
//! change one.

use serde::{Deserialize, Serialize};

/// The tools an agent may be offered: the file tools of a task's working directory.
pub const AGENT_TOOLS: [&str; 3] = ["list_files", "read_file", "write_file"];

/// Every tool (what a new agent, or an agent file without a `tools` list, is offered).
pub fn all_tools() -> Vec<String> {
    AGENT_TOOLS.iter().map(|t| (*t).to_owned()).collect()
}

/// An agent as lists and cards show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentSummary {
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
    /// Free-form labels.
    pub tags: Vec<String>,
    /// Listed on the workspace's public pages.
    pub is_public: bool,
    /// The name of its active persona.
    #[serde(default)]
    pub active_persona: Option<String>,
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
    /// Listed on the workspace's public pages.
    pub is_public: bool,
    /// The JSON Schema a task's input must keep (none: any text).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub input_schema: Option<serde_json::Value>,
    /// The JSON Schema the agent's output must keep (none: any text).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub output_schema: Option<serde_json::Value>,
    /// The tools it is offered (of [`AGENT_TOOLS`]); none: it answers from the prompt alone.
    #[serde(default = "all_tools")]
    pub tools: Vec<String>,
    /// The name of the active persona (none: it speaks with its own prompt alone).
    #[serde(default)]
    pub active_persona: Option<String>,
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
    /// The tools it is offered, of `list_files`, `read_file`, `write_file` (all when creating
    /// without the field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<String>>,
    /// The fallback chain, replacing the current one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallbacks: Option<Vec<FallbackTarget>>,
    /// Listed on the workspace's public pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_public: Option<bool>,
    /// A JSON Schema the input must keep; `null` removes it.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub input_schema: Option<Option<serde_json::Value>>,
    /// A JSON Schema the output must keep; `null` removes it.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub output_schema: Option<Option<serde_json::Value>>,
    /// A note for the prompt version a change of the prompt makes ("Edited" when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_note: Option<String>,
}

/// A field that may be absent (keep), `null` (remove) or a value (set): present fields are
/// `Some`, whatever they hold.
fn present<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
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

/// The `format` of an exported agent.
pub const AGENT_EXPORT_FORMAT: &str = "fleetdeck.agent";
/// The version of that format this build writes and reads.
pub const AGENT_EXPORT_VERSION: i64 = 1;

/// An agent as a file another workspace or instance can import: its fields, with providers
/// named (an id means nothing elsewhere). Unknown fields are refused, naming them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AgentExport {
    /// Always `fleetdeck.agent`.
    pub format: String,
    /// The format's version: `1`.
    pub version: i64,
    /// The agent.
    pub agent: AgentTemplate,
}

/// An agent's fields, without anything that belongs to one workspace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AgentTemplate {
    /// Name (on import, a taken name gets " (copy)").
    pub name: String,
    /// Role name.
    pub role: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Its provider by name and kind; none for the workspace default.
    #[serde(default)]
    pub provider: Option<ProviderRef>,
    /// Model name.
    pub model: String,
    /// Sampling temperature.
    pub temperature: f64,
    /// Completion token limit.
    pub max_tokens: i64,
    /// The system prompt.
    pub system_prompt: String,
    /// Extra instructions.
    #[serde(default)]
    pub custom_instructions: String,
    /// Free-form labels.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The tools it is offered (all when absent: files from before the field).
    #[serde(default = "all_tools")]
    pub tools: Vec<String>,
    /// Its knowledge sources, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub knowledge: Vec<crate::knowledge::KnowledgeDoc>,
    /// The fallback chain.
    #[serde(default)]
    pub fallbacks: Vec<FallbackRef>,
    /// The input's JSON Schema.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub input_schema: Option<serde_json::Value>,
    /// The output's JSON Schema.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub output_schema: Option<serde_json::Value>,
}

/// A provider as an export names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProviderRef {
    /// Its display name.
    pub name: String,
    /// Its kind, e.g. `openai`.
    pub kind: String,
}

/// One fallback as an export names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FallbackRef {
    /// Its provider; none for the workspace default.
    #[serde(default)]
    pub provider: Option<ProviderRef>,
    /// Model name.
    pub model: String,
}

/// An imported (or cloned) agent, with what could not be carried over as it was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportedAgent {
    /// The agent made.
    pub agent: Agent,
    /// E.g. that a provider is not in this workspace and the default is used instead.
    pub notes: Vec<String>,
}

/// A saved agent template, as the template library lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentTemplateInfo {
    /// UUIDv7.
    pub id: String,
    /// Unique within the workspace.
    pub name: String,
    /// Free text, e.g. `review` (may be empty).
    pub category: String,
    /// The agent it makes.
    pub agent: AgentTemplate,
    /// E-mail of whoever saved it.
    pub created_by: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// Saving an agent as a template.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SaveTemplate {
    /// The agent to save.
    pub agent_id: String,
    /// The template's name (1–80 characters, unique in the workspace).
    pub name: String,
    /// A category to file it under.
    #[serde(default)]
    pub category: String,
}
