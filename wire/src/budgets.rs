//! Budgets (SPEC F-08): what may be spent per calendar period, and what has been.

use serde::{Deserialize, Serialize};

/// A budget as the API answers it, with its current period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Budget {
    /// Its id.
    pub id: String,
    /// A name unique in the workspace, shown on refusals (`BUDGET_EXCEEDED`) and alerts.
    pub name: String,
    /// `workspace`, `agent`, `user` or `api_key`.
    pub scope: String,
    /// The agent, user or API key it limits; empty for the workspace.
    pub subject_id: String,
    /// The subject as people read it (an agent's name, a user's e-mail, a key's name).
    pub subject_label: String,
    /// `day`, `week` (from Monday) or `month`, in the workspace's time zone.
    pub period: String,
    /// The limit per period, micro-USD.
    pub amount_micros: i64,
    /// Hard: calls that would pass the limit are refused before they start. Soft: alerts only.
    pub hard: bool,
    /// Alert thresholds in percent of the amount, ascending.
    pub thresholds: Vec<u32>,
    /// The current period.
    pub current: BudgetPeriod,
    /// Created at (Unix ms).
    pub created_at: i64,
    /// Last changed at (Unix ms).
    pub updated_at: i64,
}

/// One period of a budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BudgetPeriod {
    /// First instant (Unix ms).
    pub start_ms: i64,
    /// First instant after it (Unix ms).
    pub end_ms: i64,
    /// Settled cost of the period's calls, micro-USD.
    pub spent_micros: i64,
    /// Worst-case cost held by calls under way, micro-USD.
    pub reserved_micros: i64,
    /// Calls settled in the period.
    pub calls: i64,
    /// Spending extended linearly to the period's end (current period only, once an hour of
    /// it has passed); `None` when there is too little to project from.
    pub projected_micros: Option<i64>,
}

/// A budget's past periods, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BudgetHistory {
    /// The budget.
    pub budget: Budget,
    /// Its periods, newest first (the current one included).
    pub periods: Vec<BudgetPeriod>,
}

/// What a budget is made or changed with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BudgetInput {
    /// Unique in the workspace, 1–100 characters.
    pub name: String,
    /// `workspace`, `agent`, `user` or `api_key`.
    pub scope: String,
    /// The agent, user or API key id (empty for the workspace).
    #[serde(default)]
    pub subject_id: String,
    /// `day`, `week` or `month`.
    pub period: String,
    /// The limit per period in dollars (stored exactly, in micro-USD).
    pub amount_usd: f64,
    /// Refuse calls past the limit (default true).
    #[serde(default = "default_hard")]
    pub hard: bool,
    /// Alert thresholds in percent, 1–1000 (default 50, 80, 100).
    #[serde(default = "default_thresholds")]
    pub thresholds: Vec<u32>,
}

fn default_hard() -> bool {
    true
}

/// The thresholds a budget alerts at unless told otherwise.
pub fn default_thresholds() -> Vec<u32> {
    vec![50, 80, 100]
}
