//! Types that cross the wire between the server and the browser, defined once.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// The error every server function returns: typed, so pages can tell "not found" from
/// "invalid" from "the server failed".
///
/// It also reads the SPEC error body (`{"code", "message", …}`) that layers in front of the
/// server functions answer with (rate limit, authentication, CSRF, a NUL in the body), so a
/// page shows such a failure as a clear message instead of failing to decode it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum AppError {
    /// What was asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The input broke a rule; the message says which.
    #[error("{0}")]
    Invalid(String),
    /// Not signed in, or not allowed.
    #[error("{0}")]
    Denied(String),
    /// The server failed; details are in its logs.
    #[error("{0}")]
    Internal(String),
    /// The request did not reach the function or its answer did not come back.
    #[error("could not reach the server: {0}")]
    Transport(String),
}

/// What the sign-in page and the API say when no SMTP server is configured.
pub const EMAIL_NOT_CONFIGURED: &str = "e-mail is not configured on this server, so sign-in \
     links cannot be sent. An admin can create one on the server's terminal with \
     `fleetdeck user magic-link --email <address>`.";

impl<'de> Deserialize<'de> for AppError {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        enum Tagged {
            NotFound(String),
            Invalid(String),
            Denied(String),
            Internal(String),
            Transport(String),
        }
        #[derive(Deserialize)]
        struct Spec {
            code: String,
            message: String,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Tagged(Tagged),
            Spec(Spec),
        }
        Ok(match Wire::deserialize(deserializer)? {
            Wire::Tagged(Tagged::NotFound(m)) => AppError::NotFound(m),
            Wire::Tagged(Tagged::Invalid(m)) => AppError::Invalid(m),
            Wire::Tagged(Tagged::Denied(m)) => AppError::Denied(m),
            Wire::Tagged(Tagged::Internal(m)) => AppError::Internal(m),
            Wire::Tagged(Tagged::Transport(m)) => AppError::Transport(m),
            Wire::Spec(Spec { code, message }) => match code.as_str() {
                "RATE_LIMITED" | "UNAUTHORIZED" | "FORBIDDEN" | "CROSS_ORIGIN" => {
                    AppError::Denied(message)
                }
                c if c.ends_with("NOT_FOUND") => AppError::NotFound(message),
                "INTERNAL" => AppError::Internal(message),
                _ => AppError::Invalid(message),
            },
        })
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

/// Agents with one role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleCount {
    /// Upper-case role name.
    pub role: String,
    /// Number of agents.
    pub count: i64,
}

/// Calls on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCalls {
    /// Short date, e.g. `Nov 22`.
    pub label: String,
    /// LLM calls that day.
    pub calls: i64,
    /// Formatted cost that day.
    pub cost: String,
}

/// Everything the Dashboard shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardView {
    /// Agents in the registry.
    pub agents: i64,
    /// Configured providers.
    pub providers: i64,
    /// Tasks ever submitted.
    pub tasks_total: i64,
    /// Tasks running now.
    pub tasks_running: i64,
    /// Tasks waiting.
    pub tasks_queued: i64,
    /// LLM calls since UTC midnight.
    pub calls_today: i64,
    /// Tokens since UTC midnight.
    pub tokens_today: i64,
    /// Cost since UTC midnight, micro-USD (of priced calls).
    pub cost_today_micros: i64,
    /// Calls since UTC midnight to a model with no price.
    pub unpriced_today: i64,
    /// Agents at work right now (one per active step).
    pub active_agents: i64,
    /// Agents per role.
    pub agents_by_role: Vec<RoleCount>,
    /// The last 14 days, oldest first.
    pub calls_per_day: Vec<DayCalls>,
    /// Agents working right now.
    pub active: Vec<LiveRun>,
}

/// An agent at work, for the fleet view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveRun {
    /// Task id.
    pub task_id: String,
    /// Task description.
    pub description: String,
    /// Role.
    pub role: String,
    /// Agent name.
    pub agent_name: String,
    /// Model.
    pub model: String,
    /// Simulated output.
    pub simulated: bool,
    /// Tokens so far.
    pub tokens: i64,
    /// Formatted cost so far.
    pub cost: String,
}

/// An agent card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentCard {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Upper-case role.
    pub role: String,
    /// Free text.
    pub description: String,
    /// Provider display name, if the provider still exists.
    pub provider: Option<String>,
    /// True when the agent runs on the offline simulator.
    pub simulated: bool,
    /// Model name.
    pub model: String,
    /// Sampling temperature.
    pub temperature: f64,
    /// `idle`, `active`, `completed` or `failed`.
    pub status: String,
    /// Formatted cost of all its calls.
    pub cost: String,
    /// Tokens of all its calls.
    pub tokens: i64,
}

/// An agent's editable fields, as the form shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AgentForm {
    /// Id (None for a new agent).
    pub id: Option<String>,
    /// Name.
    pub name: String,
    /// Role.
    pub role: String,
    /// Description.
    pub description: String,
    /// Provider id ("" for the simulator default).
    pub provider_id: String,
    /// Model.
    pub model: String,
    /// Temperature.
    pub temperature: f64,
    /// Completion token limit.
    pub max_tokens: i64,
    /// System prompt.
    pub system_prompt: String,
    /// Custom instructions.
    pub custom_instructions: String,
    /// The explicit fallback chain, tried in order when the agent's own model fails. (An empty
    /// list is absent from a form-encoded server-function call: hence the default.)
    #[serde(default)]
    pub fallbacks: Vec<FallbackForm>,
}

/// One entry of an agent's fallback chain.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FallbackForm {
    /// Provider id ("" for the workspace default provider).
    pub provider_id: String,
    /// Model.
    pub model: String,
}

/// What the model would receive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptPreviewView {
    /// `simple` or `complex`.
    pub complexity: String,
    /// System prompt.
    pub system_prompt: String,
    /// First user message.
    pub user_message: String,
    /// Estimated tokens.
    pub tokens: i64,
}

/// One row of the price table, formatted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceRow {
    /// Provider display name.
    pub provider: String,
    /// Model.
    pub model: String,
    /// Per million prompt tokens.
    pub input: String,
    /// Per million completion tokens.
    pub output: String,
    /// Per million cached prompt tokens.
    pub cached_input: String,
    /// Context window, short (`128k`, `1.05M`, `—` when unknown).
    pub context_window: String,
}

/// What the Settings page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsView {
    /// The default provider's name, if set and still present.
    pub default_provider: Option<String>,
    /// True when the default provider is the simulator.
    pub default_provider_simulated: bool,
    /// The default model.
    pub default_model: Option<String>,
    /// The default temperature.
    pub default_temperature: Option<f64>,
    /// The price table.
    pub prices: Vec<PriceRow>,
    /// The default provider's id.
    pub default_provider_id: Option<String>,
    /// The workspace's providers as (id, name), for the defaults form.
    pub provider_choices: Vec<(String, String)>,
    /// Whether the caller may change settings and prices (admins).
    pub can_edit: bool,
}

/// The signed-in user, for the navigation bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// E-mail address.
    pub email: String,
    /// `admin`, `developer` or `viewer`.
    pub role: String,
    /// Credit balance.
    pub credits: i64,
    /// Workspace name.
    pub workspace: String,
}

/// A provider as the Settings page lists it; the key only as its last four characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderRow {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Display name of the kind.
    pub kind: String,
    /// True for the offline simulator.
    pub simulated: bool,
    /// Endpoint override.
    pub base_url: Option<String>,
    /// `••••abcd` when a key is stored.
    pub key_hint: Option<String>,
}

/// One audit log entry, formatted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    /// Position in the chain.
    pub seq: i64,
    /// When, RFC 3339 UTC.
    pub when: String,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what.
    pub target: String,
    /// From where.
    pub ip: String,
}

/// The audit page: entries and whether the chain verifies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditView {
    /// Newest first.
    pub entries: Vec<AuditRow>,
    /// True when the hash chain is intact.
    pub intact: bool,
}

/// An API key as the Settings page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRow {
    /// Id.
    pub id: String,
    /// Label.
    pub name: String,
    /// First characters of the key.
    pub prefix: String,
    /// When created.
    pub created: String,
    /// When last used, if ever.
    pub last_used: Option<String>,
    /// True once revoked.
    pub revoked: bool,
}

/// A workspace member as the Settings page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRow {
    /// User id.
    pub id: String,
    /// E-mail.
    pub email: String,
    /// Role.
    pub role: String,
    /// Credit balance.
    pub credits: i64,
}

/// A task in the list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRow {
    /// Id.
    pub id: String,
    /// What was asked.
    pub description: String,
    /// Workflow template name.
    pub workflow: String,
    /// `simple` or `complex`.
    pub complexity: String,
    /// `queued`, `running`, `completed`, `failed` or `cancelled`.
    pub status: String,
    /// Formatted cost.
    pub cost: String,
    /// Prompt + completion tokens.
    pub tokens: i64,
    /// Human time of creation.
    pub created: String,
    /// Why it failed.
    pub error: Option<String>,
}

/// One step of a task as the detail page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRow {
    /// Position.
    pub index: i64,
    /// Role.
    pub role: String,
    /// Agent name.
    pub agent_name: String,
    /// The model that answered (the planned one until a call succeeded).
    pub model: String,
    /// The provider kind that answered (the planned one until a call succeeded).
    pub provider_kind: String,
    /// Whether its output is simulated.
    pub simulated: bool,
    /// Which fallback answered and why, when one did.
    pub fallback_note: Option<String>,
    /// `pending`, `active`, `completed`, `failed` or `cancelled`.
    pub status: String,
    /// Prompt tokens.
    pub prompt_tokens: i64,
    /// Completion tokens.
    pub completion_tokens: i64,
    /// Formatted cost.
    pub cost: String,
    /// Context use, e.g. "0.4%" (None when the window is unknown).
    pub context_percent: Option<String>,
    /// Unix ms when it started.
    pub started_at: Option<i64>,
    /// Elapsed or total milliseconds.
    pub duration_ms: Option<i64>,
    /// Final answer.
    pub output: String,
    /// Why it failed.
    pub error: Option<String>,
}

/// A task with its steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskView {
    /// The task.
    pub task: TaskRow,
    /// Prompt tokens.
    pub prompt_tokens: i64,
    /// Completion tokens.
    pub completion_tokens: i64,
    /// The task it re-runs.
    pub rerun_of: Option<String>,
    /// Steps.
    pub steps: Vec<StepRow>,
}

/// One step of an estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EstimateStepView {
    /// Role.
    pub role: String,
    /// Agent.
    pub agent_name: String,
    /// Model.
    pub model: String,
    /// Simulated output.
    pub simulated: bool,
    /// Formatted expected cost.
    pub cost: String,
}

/// A task estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EstimateView {
    /// `simple` or `complex`.
    pub complexity: String,
    /// "Simple task — skipping ANALYST" and the like.
    pub message: String,
    /// Whether the ANALYST is skipped.
    pub skips_analyst: bool,
    /// Planned steps.
    pub steps: Vec<EstimateStepView>,
    /// Formatted total.
    pub cost: String,
    /// Expected tokens.
    pub tokens: i64,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageView {
    /// `system`, `user`, `assistant` or `tool`.
    pub author: String,
    /// Text.
    pub content: String,
    /// Tool calls, pretty JSON each (`name(args)`).
    pub tool_calls: Vec<(String, String)>,
}

/// The conversation of one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunView {
    /// Position.
    pub index: i64,
    /// Role.
    pub role: String,
    /// Agent.
    pub agent_name: String,
    /// The model that answered.
    pub model: String,
    /// The provider kind that answered.
    pub provider_kind: String,
    /// Simulated output.
    pub simulated: bool,
    /// Which fallback answered and why, when one did.
    pub fallback_note: Option<String>,
    /// Start time, human.
    pub started: String,
    /// Messages, system prompt first.
    pub messages: Vec<MessageView>,
}

/// One line of a diff: `+`, `-` or ` ` and the text.
pub type DiffLine = (char, String);

/// One changed file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileChangeView {
    /// Path.
    pub path: String,
    /// `created`, `modified` or `deleted`.
    pub change_kind: String,
    /// Role of the step that changed it.
    pub role: String,
    /// Unified diff lines.
    pub diff: Vec<DiffLine>,
}

/// Tool call as the viewer shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCallView {
    /// Role of the step.
    pub role: String,
    /// Tool.
    pub tool: String,
    /// Pretty input JSON.
    pub input: String,
    /// Output excerpt.
    pub output: String,
    /// `ok` or `error`.
    pub outcome: String,
    /// Duration.
    pub duration_ms: i64,
}

/// Everything the debugging views of a task show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordsView {
    /// Conversations per step.
    pub runs: Vec<RunView>,
    /// Tool calls.
    pub tool_calls: Vec<ToolCallView>,
    /// Changed files.
    pub files: Vec<FileChangeView>,
    /// The whole conversation as Markdown, for export.
    pub markdown: String,
}

#[cfg(test)]
mod tests {
    use super::AppError;

    #[test]
    fn errors_round_trip_and_layer_errors_are_readable() {
        for e in [
            AppError::NotFound("a".into()),
            AppError::Invalid("b".into()),
            AppError::Denied("c".into()),
            AppError::Internal("d".into()),
            AppError::Transport("e".into()),
        ] {
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(serde_json::from_str::<AppError>(&json).unwrap(), e);
        }
        // What the rate limit (or any layer) answers a server function call with.
        let spec = r#"{"code":"RATE_LIMITED","message":"too many requests; retry in 3 s","details":null,"request_id":"x","timestamp":"t"}"#;
        assert_eq!(
            serde_json::from_str::<AppError>(spec).unwrap(),
            AppError::Denied("too many requests; retry in 3 s".into())
        );
        let spec =
            r#"{"code":"VALIDATION_FAILED","message":"the request body contains a NUL character"}"#;
        assert!(matches!(
            serde_json::from_str::<AppError>(spec).unwrap(),
            AppError::Invalid(_)
        ));
    }
}
