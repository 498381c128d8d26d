//! The Dashboard's numbers, read from the hourly rollups.

use serde::{Deserialize, Serialize};

/// Calls and cost of one UTC day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayPoint {
    /// UTC midnight of the day, Unix milliseconds.
    pub day_ms: i64,
    /// LLM calls (attempts) that day.
    pub calls: i64,
    /// Their cost in micro-USD.
    pub cost_micros: i64,
}

/// Agents with one role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleCount {
    /// Upper-case role name.
    pub role: String,
    /// Number of agents.
    pub count: i64,
}

/// An agent run that is working now (the fleet view's live cards).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct ActiveRun {
    /// The task.
    pub task_id: String,
    /// The task's description.
    pub description: String,
    /// Role.
    pub role: String,
    /// Agent name.
    pub agent_name: String,
    /// Model.
    pub model: String,
    /// Provider kind.
    pub provider_kind: String,
    /// Unix ms.
    pub started_at: Option<i64>,
    /// Tokens so far.
    pub tokens: i64,
    /// Cost so far, micro-USD.
    pub cost_micros: i64,
}

/// The numbers on the Dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DashboardStats {
    /// Agents in the registry.
    pub agents: i64,
    /// Agents per role, in role order.
    pub agents_by_role: Vec<RoleCount>,
    /// Configured providers.
    pub providers: i64,
    /// All tasks ever submitted.
    pub tasks_total: i64,
    /// Tasks running now.
    pub tasks_running: i64,
    /// Tasks waiting in the queue.
    pub tasks_queued: i64,
    /// LLM calls since UTC midnight.
    pub calls_today: i64,
    /// Prompt + completion tokens since UTC midnight.
    pub tokens_today: i64,
    /// Cost since UTC midnight, micro-USD (of priced calls).
    pub cost_today_micros: i64,
    /// Calls since UTC midnight to a model with no price: the cost is then a lower bound.
    pub unpriced_today: i64,
    /// Agents at work right now — one per active step, however many (`active_runs` is capped).
    pub active_agents: i64,
    /// The last days, oldest first, zero-filled.
    pub calls_per_day: Vec<DayPoint>,
    /// Agent runs working right now, oldest first.
    pub active_runs: Vec<ActiveRun>,
}
