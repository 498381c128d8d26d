//! Tasks: submitting one, its estimate, the list, one task with its steps, and its records
//! (conversations, tool calls, file changes).

use serde::{Deserialize, Serialize};

/// A task submission. `Default` is what a body with only a description means: the
/// feature-implementation workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubmitTask {
    /// What to do.
    pub description: String,
    /// `feature_implementation`, `bug_fix`, `code_review`, `documentation` or `custom`.
    #[serde(default = "default_workflow")]
    pub workflow: String,
    /// Run the ANALYST even for a simple task.
    #[serde(default)]
    pub force_analyst: bool,
    /// Roles of a custom workflow, in order.
    #[serde(default)]
    pub steps: Vec<String>,
    /// The directory its tools work in: an existing directory under the workspace's
    /// `workdir_root` setting, absolute or relative to it. Unset: the task's own directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workdir: Option<String>,
}

fn default_workflow() -> String {
    "feature_implementation".to_owned()
}

impl Default for SubmitTask {
    fn default() -> Self {
        SubmitTask {
            description: String::new(),
            workflow: default_workflow(),
            force_analyst: false,
            steps: Vec::new(),
            workdir: None,
        }
    }
}

/// One step of an estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EstimatedStep {
    /// Role.
    pub role: String,
    /// Agent that would run it.
    pub agent_name: String,
    /// Its model.
    pub model: String,
    /// Its provider kind.
    pub provider_kind: String,
    /// Whether its output would be simulated.
    pub simulated: bool,
    /// Expected prompt tokens.
    pub prompt_tokens: i64,
    /// Expected completion tokens.
    pub completion_tokens: i64,
    /// Expected cost, micro-USD (0 when the price is unknown).
    pub cost_micros: i64,
    /// Whether the price table knows its model; when not, the estimate leaves it out.
    pub price_known: bool,
}

/// What a task would do and cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Estimate {
    /// `simple` or `complex`.
    pub complexity: String,
    /// Whether the ANALYST is left out.
    pub skips_analyst: bool,
    /// A sentence for the UI, e.g. "Simple task — skipping ANALYST".
    pub message: String,
    /// Planned steps.
    pub steps: Vec<EstimatedStep>,
    /// Sum of the steps (of the priced ones when `price_known` is false).
    pub estimated_cost_micros: i64,
    /// False when some step's model has no price: the cost is then a lower bound.
    pub price_known: bool,
    /// Sum of the steps.
    pub estimated_tokens: i64,
}

/// A task as lists show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Task {
    /// UUIDv7.
    pub id: String,
    /// What the user asked for.
    pub description: String,
    /// Workflow template name.
    pub workflow: String,
    /// `simple` or `complex`.
    pub complexity: String,
    /// Whether the ANALYST was forced in.
    pub force_analyst: bool,
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
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub started_at: Option<i64>,
    /// Unix ms.
    pub finished_at: Option<i64>,
    /// How many distinct agents its plan runs.
    pub agents: i64,
    /// When it was archived (Unix ms); unset while it is in the list.
    pub archived_at: Option<i64>,
    /// The working directory chosen for it (absolute); unset: its own directory.
    pub workdir: Option<String>,
}

impl Task {
    /// Whether every call was priced (else the cost is a lower bound).
    pub fn price_known(&self) -> bool {
        self.unpriced_calls == 0
    }

    /// Prompt + completion tokens.
    pub fn tokens(&self) -> i64 {
        self.prompt_tokens + self.completion_tokens
    }

    /// Whether no more work will happen.
    pub fn is_finished(&self) -> bool {
        matches!(self.status.as_str(), "completed" | "failed" | "cancelled")
    }
}

/// One step of a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Step {
    /// 0-based position.
    pub index: i64,
    /// Role.
    pub role: String,
    /// The agent run's id once started.
    pub run_id: Option<String>,
    /// Agent id.
    pub agent_id: String,
    /// Agent name.
    pub agent_name: String,
    /// The model that answered (the planned one until a call succeeds).
    pub model: String,
    /// The provider kind that answered (the planned one until a call succeeds).
    pub provider_kind: String,
    /// Whether the simulator wrote this step's output.
    pub simulated: bool,
    /// Set when a fallback answered, saying which and why ("openai/gpt-4o: auth … → fell back to …").
    pub fallback_note: Option<String>,
    /// False when some of its calls used a model with no price: its cost is then a lower bound.
    pub price_known: bool,
    /// `pending`, `active`, `completed`, `failed`, or `cancelled`.
    pub status: String,
    /// Tokens and cost of all its calls.
    pub prompt_tokens: i64,
    /// See `prompt_tokens`.
    pub completion_tokens: i64,
    /// See `prompt_tokens`.
    pub cached_tokens: i64,
    /// Micro-USD.
    pub cost_micros: i64,
    /// Tokens in the context at the last call.
    pub context_tokens: i64,
    /// The model's window (0 when unknown).
    pub context_window: i64,
    /// Final answer.
    pub output: String,
    /// Why it failed.
    pub error: Option<String>,
    /// Unix ms.
    pub started_at: Option<i64>,
    /// Unix ms.
    pub finished_at: Option<i64>,
    /// finished − started, or elapsed so far.
    pub duration_ms: Option<i64>,
}

/// A task with its steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskDetail {
    /// The task.
    #[serde(flatten)]
    pub task: Task,
    /// Its steps in order.
    pub steps: Vec<Step>,
    /// False when some of its calls used a model with no price: its cost is then unknown.
    pub price_known: bool,
}

/// A tool call an agent asked for, inside a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageToolCall {
    /// Tool name.
    pub name: String,
    /// Its arguments.
    pub arguments: serde_json::Value,
}

/// One message of a step's conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationMessage {
    /// `user`, `assistant` or `tool`.
    pub role: String,
    /// Text.
    pub content: String,
    /// Tool calls the assistant asked for.
    pub tool_calls: Vec<MessageToolCall>,
}

/// One step's conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunConversation {
    /// Agent run id.
    pub id: String,
    /// Step position.
    pub step_index: i64,
    /// Role.
    pub role: String,
    /// Agent name.
    pub agent_name: String,
    /// The provider kind that answered.
    pub provider_kind: String,
    /// The model that answered.
    pub model: String,
    /// Whether the simulator wrote it.
    pub simulated: bool,
    /// Why a fallback answered, when one did.
    pub fallback_note: Option<String>,
    /// The system prompt.
    pub system_prompt: String,
    /// The messages after the system prompt, in order.
    pub messages: Vec<ConversationMessage>,
    /// Unix ms.
    pub started_at: Option<i64>,
}

/// A recorded tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct ToolCall {
    /// UUIDv7.
    pub id: String,
    /// The agent run.
    pub agent_run_id: Option<String>,
    /// Tool name.
    pub tool: String,
    /// Arguments, JSON text.
    pub input: String,
    /// What the tool returned.
    pub output: String,
    /// `ok` or `error`.
    pub outcome: String,
    /// Wall time.
    pub duration_ms: i64,
    /// Unix ms.
    pub created_at: i64,
}

/// One line of a diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiffLine {
    /// `+` added, `-` removed, ` ` unchanged.
    pub op: String,
    /// The line, without its end.
    pub text: String,
}

/// One recorded file change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileChange {
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
    /// The change as a line diff (empty for reads).
    pub diff: Vec<DiffLine>,
    /// Unix ms.
    pub created_at: i64,
}

/// Conversations, tool calls and file changes of a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskRecords {
    /// Per step.
    pub runs: Vec<RunConversation>,
    /// All tool calls, oldest first.
    pub tool_calls: Vec<ToolCall>,
    /// All file changes, oldest first.
    pub file_changes: Vec<FileChange>,
    /// False when some call used a model with no price.
    pub price_known: bool,
}

impl TaskRecords {
    /// The role of the step whose run is `run_id` ("" when unknown).
    pub fn role_of(&self, run_id: Option<&str>) -> &str {
        self.runs
            .iter()
            .find(|r| Some(r.id.as_str()) == run_id)
            .map_or("", |r| r.role.as_str())
    }
}

/// Tasks to archive or restore together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TaskIds {
    /// 1 to 500 task ids of the workspace.
    pub ids: Vec<String>,
}

/// What an archive or restore changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArchiveOutcome {
    /// Tasks whose state changed.
    pub changed: i64,
    /// Tasks that were already in the state asked for.
    pub unchanged: i64,
}

/// What the task form offers for the working directory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkdirOptions {
    /// The directory chosen ones must lie under (the `workdir_root` setting); unset: tasks
    /// cannot choose one.
    pub root: Option<String>,
    /// The caller's latest choices, newest first (at most 8).
    pub recent: Vec<String>,
}
