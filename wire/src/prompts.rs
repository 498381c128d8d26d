//! Prompt versions: every saved change of an agent's system prompt and instructions is a
//! numbered version; one is active (what the agent runs with); each step records the version
//! it ran, so a version carries its runs' numbers and a prompt change can be judged by them.

use serde::{Deserialize, Serialize};

/// One version of an agent's prompt, with the numbers of the steps that ran it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromptVersion {
    /// 1, 2, 3… per agent.
    pub version: i64,
    /// The system prompt of this version.
    pub system_prompt: String,
    /// The custom instructions of this version.
    pub custom_instructions: String,
    /// Why it was made ("Created", "Edited", or what its author wrote).
    pub note: String,
    /// Whether the agent runs with it now.
    pub is_active: bool,
    /// E-mail of its author (none for the seed or a deleted user).
    pub created_by: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// What the steps that ran it did.
    pub stats: VersionStats,
}

/// The finished steps (task steps and playground runs) that ran one prompt version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionStats {
    /// Finished steps.
    pub runs: i64,
    /// Of which failed.
    pub failed_runs: i64,
    /// Their priced calls' cost, micro-USD.
    pub cost_micros: i64,
    /// Steps with at least one call of unknown price (their cost is missing from the sum).
    pub unpriced_runs: i64,
    /// Input tokens of their calls.
    pub prompt_tokens: i64,
    /// Output tokens of their calls.
    pub completion_tokens: i64,
    /// Sum of their durations (start to finish), ms.
    pub duration_ms_sum: i64,
}

impl VersionStats {
    /// Share of finished steps that succeeded; `None` before the first.
    pub fn success_rate(&self) -> Option<f64> {
        (self.runs > 0).then(|| (self.runs - self.failed_runs) as f64 / self.runs as f64)
    }

    /// Mean cost per step, micro-USD; `None` before the first step.
    pub fn avg_cost_micros(&self) -> Option<i64> {
        (self.runs > 0).then(|| self.cost_micros / self.runs)
    }

    /// Mean duration per step, ms; `None` before the first step.
    pub fn avg_duration_ms(&self) -> Option<i64> {
        (self.runs > 0).then(|| self.duration_ms_sum / self.runs)
    }
}

/// One line of a diff: `equal`, `insert` (only in the newer) or `delete` (only in the older).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromptDiffLine {
    /// `equal`, `insert` or `delete`.
    pub tag: String,
    /// The line, without its line break.
    pub text: String,
}

/// What changed from one version to another, line by line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromptDiff {
    /// The older side.
    pub from: i64,
    /// The newer side.
    pub to: i64,
    /// The system prompt's lines.
    pub system_prompt: Vec<PromptDiffLine>,
    /// The custom instructions' lines.
    pub custom_instructions: Vec<PromptDiffLine>,
    /// Lines added and removed over both.
    pub added: i64,
    /// Lines removed over both.
    pub removed: i64,
}

/// An agent with its prompt versions, newest first (the versions page reads both at once).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentVersions {
    /// The agent.
    pub agent: crate::agents::Agent,
    /// Its versions, newest first.
    pub versions: Vec<PromptVersion>,
}
