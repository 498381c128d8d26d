//! Analytics answers, read from the hourly rollups.

use serde::{Deserialize, Serialize};

/// Calls, tokens and cost of some slice of calls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Usage {
    /// LLM calls (attempts, failed ones included).
    pub calls: i64,
    /// Calls that did not succeed.
    pub failed_calls: i64,
    /// Prompt tokens (cached ones included).
    pub prompt_tokens: i64,
    /// Completion tokens.
    pub completion_tokens: i64,
    /// Prompt tokens served from a provider's cache.
    pub cached_tokens: i64,
    /// Reasoning tokens, where providers report them.
    pub reasoning_tokens: i64,
    /// Cost of the priced calls, micro-USD.
    pub cost_micros: i64,
    /// Calls to a model with no price: when not 0, `cost_micros` is a lower bound.
    pub unpriced_calls: i64,
}

impl Usage {
    /// Prompt + completion tokens.
    pub fn tokens(&self) -> i64 {
        self.prompt_tokens + self.completion_tokens
    }

    /// Whether every call was priced.
    pub fn price_known(&self) -> bool {
        self.unpriced_calls == 0
    }

    /// Cost per 1,000 tokens in micro-USD, when there were tokens.
    pub fn cost_per_1k_tokens_micros(&self) -> Option<f64> {
        (self.tokens() > 0).then(|| self.cost_micros as f64 * 1000.0 / self.tokens() as f64)
    }

    /// Adds another slice.
    pub fn add(&mut self, other: &Usage) {
        self.calls += other.calls;
        self.failed_calls += other.failed_calls;
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.cached_tokens += other.cached_tokens;
        self.reasoning_tokens += other.reasoning_tokens;
        self.cost_micros += other.cost_micros;
        self.unpriced_calls += other.unpriced_calls;
    }
}

/// One period of one group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CostPoint {
    /// Start of the period, Unix ms (UTC hour, day, Monday of the week, or first of the month).
    pub start_ms: i64,
    /// The group (`""` without `group_by`).
    pub group: String,
    /// What the group's calls used in the period.
    #[serde(flatten)]
    pub usage: Usage,
}

/// One group over the whole range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CostGroup {
    /// The group: a provider kind, a model, an agent id, a role, a workflow or an outcome.
    pub group: String,
    /// A readable name (the agent's name for agents; otherwise the group itself).
    pub label: String,
    /// What the group's calls used in the range.
    #[serde(flatten)]
    pub usage: Usage,
}

/// `GET /api/v1/metrics/costs`: cost and usage over a range, per period and per group, with the
/// trend against the range just before it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CostReport {
    /// Range start, Unix ms (inclusive; rounded down to its hour).
    pub from_ms: i64,
    /// Range end, Unix ms (exclusive; rounded up to its hour).
    pub to_ms: i64,
    /// `hour`, `day`, `week` or `month`.
    pub granularity: String,
    /// `provider`, `model`, `agent`, `role`, `workflow` or `outcome`, if grouped.
    pub group_by: Option<String>,
    /// Every period and group with calls, oldest period first (periods without calls are
    /// absent).
    pub points: Vec<CostPoint>,
    /// Groups over the whole range, most expensive first.
    pub groups: Vec<CostGroup>,
    /// The whole range.
    pub total: Usage,
    /// The range of the same length just before.
    pub previous: Usage,
    /// Cost change against the previous range, percent; none when that cost was 0.
    pub cost_change_percent: Option<f64>,
}

/// Speed and reliability of one group of calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PerformanceRow {
    /// The group: `provider_kind/model` for models, else the provider kind, agent id, role or
    /// workflow.
    pub group: String,
    /// A readable name (`openai · gpt-4o`, an agent's name…).
    pub label: String,
    /// Calls (attempts).
    pub calls: i64,
    /// Calls that did not succeed.
    pub failed_calls: i64,
    /// Share of calls that succeeded, 0–1.
    pub success_rate: f64,
    /// Mean latency of the successful calls, ms.
    pub avg_latency_ms: Option<f64>,
    /// Median latency of the successful calls, ms (see `percentile_error`).
    pub p50_latency_ms: Option<i64>,
    /// 95th percentile latency of the successful calls, ms.
    pub p95_latency_ms: Option<i64>,
    /// 99th percentile latency of the successful calls, ms.
    pub p99_latency_ms: Option<i64>,
    /// Successful calls that streamed (and so have a time to first token).
    pub streamed_calls: i64,
    /// Mean time to first token, ms.
    pub avg_ttft_ms: Option<f64>,
    /// Median time to first token, ms.
    pub p50_ttft_ms: Option<i64>,
    /// 95th percentile time to first token, ms.
    pub p95_ttft_ms: Option<i64>,
}

/// `GET /api/v1/metrics/performance`: latency, time to first token and success per group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PerformanceReport {
    /// Range start, Unix ms (hour-aligned).
    pub from_ms: i64,
    /// Range end, Unix ms (exclusive, hour-aligned).
    pub to_ms: i64,
    /// `model` (provider and model), `provider`, `agent`, `role` or `workflow`.
    pub group_by: String,
    /// Groups, most calls first.
    pub rows: Vec<PerformanceRow>,
    /// How far a percentile may be from the true value: they are read from fixed log-scale
    /// histograms.
    pub percentile_error: String,
}

/// Calls and cost in one hour of one weekday (in the viewer's time zone), summed over a range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeatCell {
    /// 0 = Monday … 6 = Sunday.
    pub weekday: u8,
    /// 0–23, local hour.
    pub hour: u8,
    /// Calls started in that local hour.
    pub calls: i64,
    /// Their cost, micro-USD.
    pub cost_micros: i64,
}

/// How many tasks ended each way in one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskPoint {
    /// Start of the period, Unix ms.
    pub start_ms: i64,
    /// Tasks completed.
    pub completed: i64,
    /// Tasks failed.
    pub failed: i64,
    /// Tasks cancelled.
    pub cancelled: i64,
}

/// A count in one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CountPoint {
    /// Start of the period, Unix ms.
    pub start_ms: i64,
    /// How many.
    pub count: i64,
}

/// Finished tasks of one kind (a workflow, or a workflow at one complexity): how they ended,
/// what they cost and how long they took.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskStats {
    /// Tasks that finished (any way).
    pub tasks: i64,
    /// Completed.
    pub completed: i64,
    /// Failed.
    pub failed: i64,
    /// Cancelled.
    pub cancelled: i64,
    /// Cost of all of them, micro-USD.
    pub cost_micros: i64,
    /// Tasks with an unpriced call: when not 0, costs are lower bounds.
    pub unpriced_tasks: i64,
    /// Sum of their durations (finish − start), ms.
    pub duration_ms_sum: i64,
}

impl TaskStats {
    /// Completed share of the tasks that finished, 0–1; none without tasks.
    pub fn success_rate(&self) -> Option<f64> {
        (self.tasks > 0).then(|| self.completed as f64 / self.tasks as f64)
    }

    /// Mean cost per task, micro-USD.
    pub fn avg_cost_micros(&self) -> Option<f64> {
        (self.tasks > 0).then(|| self.cost_micros as f64 / self.tasks as f64)
    }

    /// Cost of every task divided by the completed ones: what one success costs, failures
    /// included. None without a completed task.
    pub fn cost_per_success_micros(&self) -> Option<f64> {
        (self.completed > 0).then(|| self.cost_micros as f64 / self.completed as f64)
    }

    /// Mean duration, ms.
    pub fn avg_duration_ms(&self) -> Option<f64> {
        (self.tasks > 0).then(|| self.duration_ms_sum as f64 / self.tasks as f64)
    }

    /// Adds another slice.
    pub fn add(&mut self, other: &TaskStats) {
        self.tasks += other.tasks;
        self.completed += other.completed;
        self.failed += other.failed;
        self.cancelled += other.cancelled;
        self.cost_micros += other.cost_micros;
        self.unpriced_tasks += other.unpriced_tasks;
        self.duration_ms_sum += other.duration_ms_sum;
    }
}

/// One kind of task: a workflow (`complexity` empty) or a workflow at one complexity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskKindRow {
    /// The workflow.
    pub workflow: String,
    /// `simple`, `medium` or `complex`; empty for a whole workflow.
    pub complexity: String,
    /// The numbers.
    #[serde(flatten)]
    pub stats: TaskStats,
}

/// One bar of the completion-time histogram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DurationBucket {
    /// Lower bound, ms (exclusive; 0 for the first).
    pub above_ms: i64,
    /// Upper bound, ms (inclusive); none for the last bucket.
    pub up_to_ms: Option<i64>,
    /// Completed tasks that took that long.
    pub tasks: i64,
}

/// One of the most expensive tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TopTask {
    /// Task id.
    pub id: String,
    /// What was asked.
    pub description: String,
    /// Its workflow.
    pub workflow: String,
    /// How it ended.
    pub status: String,
    /// What it cost, micro-USD.
    pub cost_micros: i64,
    /// Whether every call it made was priced (else the cost is a lower bound).
    pub price_known: bool,
    /// When it finished, Unix ms.
    pub finished_at: i64,
}

/// An agent's record over the range, from its calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentScore {
    /// Agent id.
    pub agent_id: String,
    /// Its name.
    pub label: String,
    /// Calls it made.
    pub calls: i64,
    /// Share of them that succeeded, 0–1.
    pub success_rate: f64,
    /// Their cost, micro-USD.
    pub cost_micros: i64,
    /// Calls without a price (cost is then a lower bound).
    pub unpriced_calls: i64,
    /// Mean latency of its successful calls, ms.
    pub avg_latency_ms: Option<f64>,
}

/// `GET /api/v1/metrics/trends`: when the fleet works, how tasks end and how long they take,
/// which workflows and agents do best, and the most expensive tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrendsReport {
    /// Range start, Unix ms (hour-aligned).
    pub from_ms: i64,
    /// Range end, Unix ms (exclusive, hour-aligned).
    pub to_ms: i64,
    /// `hour`, `day`, `week` or `month` (UTC periods).
    pub granularity: String,
    /// The IANA time zone of the heatmap.
    pub time_zone: String,
    /// 168 cells, Monday 00:00 first, in `time_zone`.
    pub heatmap: Vec<HeatCell>,
    /// Tasks finished per period, by how they ended (periods without any are absent).
    pub tasks: Vec<TaskPoint>,
    /// Agents created per period (periods without any are absent).
    pub agents_created: Vec<CountPoint>,
    /// Per workflow, most tasks first ("workflow efficiency").
    pub workflows: Vec<TaskKindRow>,
    /// Per workflow and complexity ("success and failure by task type").
    pub task_types: Vec<TaskKindRow>,
    /// How long completed tasks took.
    pub completion_times: Vec<DurationBucket>,
    /// The ten most expensive tasks that finished in the range.
    pub top_tasks: Vec<TopTask>,
    /// Agents with the best success rate (at least five calls), then most calls.
    pub top_agents: Vec<AgentScore>,
}

/// Comparable tasks (one workflow, one complexity) with and without an ANALYST step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoiRow {
    /// The workflow.
    pub workflow: String,
    /// The complexity.
    pub complexity: String,
    /// Tasks that ran an ANALYST step.
    pub with_analyst: TaskStats,
    /// Tasks that did not.
    pub without_analyst: TaskStats,
}

/// `GET /api/v1/metrics/analyst-roi`: does the ANALYST pay for itself? Cost, duration and
/// success of comparable tasks with and without it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnalystRoi {
    /// Range start, Unix ms (hour-aligned).
    pub from_ms: i64,
    /// Range end, Unix ms (exclusive, hour-aligned).
    pub to_ms: i64,
    /// Each workflow and complexity with finished tasks, most tasks first.
    pub rows: Vec<RoiRow>,
    /// Summed over the rows that have tasks on both sides (the comparable ones).
    pub with_analyst: TaskStats,
    /// Summed over the same rows.
    pub without_analyst: TaskStats,
    /// Comparable rows (tasks on both sides).
    pub comparable_kinds: i64,
}
