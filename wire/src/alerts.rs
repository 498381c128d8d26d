//! Alerts (SPEC F-08): the rules that watch a workspace, the alerts they open, and the channels
//! that carry them to people.

use serde::{Deserialize, Serialize};

/// One alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alert {
    /// Its id.
    pub id: String,
    /// The rule that opened it: `budget_threshold`, `cost_spike`, `stuck_agent`,
    /// `context_window`, `failure_rate` or `agent_cost`.
    pub kind: String,
    /// What it is about, e.g. `budget:ID`, `task:ID`, `agent:ID`, `workspace`.
    pub subject: String,
    /// The subject as people read it.
    pub subject_label: String,
    /// `info`, `warning` or `critical`.
    pub severity: String,
    /// One line.
    pub title: String,
    /// The figures behind it.
    pub message: String,
    /// Where to look in the app (a path), or empty.
    pub link: String,
    /// `open`, `acknowledged` or `resolved`.
    pub state: String,
    /// Opened at (Unix ms).
    pub opened_at: i64,
    /// Acknowledged at (Unix ms).
    pub acknowledged_at: Option<i64>,
    /// Who acknowledged it (e-mail).
    pub acknowledged_by: Option<String>,
    /// Resolved at (Unix ms).
    pub resolved_at: Option<i64>,
    /// Who resolved it (e-mail); `None` on a resolved alert when its condition cleared.
    pub resolved_by: Option<String>,
}

/// How many alerts need attention (the bell).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertCounts {
    /// Open (not yet acknowledged).
    pub open: i64,
    /// Acknowledged, not yet resolved.
    pub acknowledged: i64,
}

/// One rule with its settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertRule {
    /// The kind (one rule per kind and workspace).
    pub kind: String,
    /// What it watches, in a sentence.
    pub description: String,
    /// Whether it runs.
    pub enabled: bool,
    /// `info`, `warning` or `critical` (budget thresholds: 100 % and more is always critical).
    pub severity: String,
    /// Its numbers, e.g. `{"minutes": 10}`; every key is listed in `param_help`.
    pub params: serde_json::Value,
    /// What each parameter means, by key.
    pub param_help: std::collections::BTreeMap<String, String>,
    /// Whether it still has the seed's settings.
    pub is_default: bool,
}

/// A change to a rule: any field left out keeps its value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertRuleInput {
    /// Run it or not.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// `info`, `warning` or `critical`.
    #[serde(default)]
    pub severity: Option<String>,
    /// Parameters to change (others keep their value).
    #[serde(default)]
    pub params: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A notification channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Channel {
    /// Its id.
    pub id: String,
    /// Unique in the workspace.
    pub name: String,
    /// `webhook` or `email`.
    pub kind: String,
    /// The webhook URL (its path hidden past the host) or the addresses.
    pub target: String,
    /// Webhooks: `slack`, `discord` or `generic`.
    pub format: String,
    /// The least severity sent.
    pub min_severity: String,
    /// Whether alerts are sent to it.
    pub enabled: bool,
    /// The last delivery's state (`delivered`, `failed`, `pending`), if any.
    pub last_delivery: Option<Delivery>,
    /// Created at (Unix ms).
    pub created_at: i64,
}

/// What a channel is made or changed with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelInput {
    /// 1–100 characters, unique in the workspace.
    pub name: String,
    /// `webhook` or `email`.
    pub kind: String,
    /// An `http(s)` URL, or comma-separated e-mail addresses.
    pub target: String,
    /// Webhooks: `slack` (default), `discord` or `generic`.
    #[serde(default)]
    pub format: Option<String>,
    /// `info`, `warning` (default) or `critical`.
    #[serde(default)]
    pub min_severity: Option<String>,
    /// Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// A channel just made: a webhook's signing secret is shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelCreated {
    /// The channel.
    pub channel: Channel,
    /// Webhooks: the HMAC-SHA256 key that signs every request (`X-Fleetdeck-Signature`).
    pub signing_secret: Option<String>,
}

/// One message to a channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    /// Its id.
    pub id: String,
    /// The channel.
    pub channel_id: String,
    /// The alert; `None` for a test.
    pub alert_id: Option<String>,
    /// The alert's title, or "Test".
    pub title: String,
    /// `pending`, `delivered` or `failed` (after the last retry).
    pub state: String,
    /// Attempts made.
    pub attempts: i64,
    /// The last attempt's HTTP status (webhooks).
    pub last_status: Option<i64>,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// Next attempt (Unix ms) while pending.
    pub next_attempt_at: Option<i64>,
    /// Queued at (Unix ms).
    pub created_at: i64,
    /// Delivered at (Unix ms).
    pub delivered_at: Option<i64>,
}
