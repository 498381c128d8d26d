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
