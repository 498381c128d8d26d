//! LLM calls: one row per attempt, plus the hourly rollup kept in step with it
//! ([`super::rollups`]).

use serde::Serialize;

use crate::{Result, Store};

/// One hour in milliseconds: the rollup bucket width.
pub const HOUR_MS: i64 = 3_600_000;

/// One attempt at one provider call, as the runner reports it.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct NewLlmCall {
    /// Owning workspace.
    pub workspace_id: String,
    /// The task the call served, if any.
    pub task_id: Option<String>,
    /// The agent run (task step) the call served, if any.
    pub agent_run_id: Option<String>,
    /// The agent that made the call, if any.
    pub agent_id: Option<String>,
    /// The role of the step it served (`""` for calls outside a task).
    pub role: String,
    /// The workflow of the task it served (`""` for calls outside a task).
    pub workflow: String,
    /// The provider row that answered (None for the built-in simulator or an external source).
    pub provider_id: Option<String>,
    /// Provider kind, e.g. `openai`.
    pub provider_kind: String,
    /// Model name.
    pub model: String,
    /// Prompt tokens (including cached ones).
    pub prompt_tokens: i64,
    /// Completion tokens.
    pub completion_tokens: i64,
    /// Prompt tokens served from the provider's cache.
    pub cached_tokens: i64,
    /// Reasoning tokens, where the provider reports them.
    pub reasoning_tokens: i64,
    /// Prompt tokens written to the provider's cache (part of `prompt_tokens`).
    pub cache_write_tokens: i64,
    /// True when the provider gave no usage and the counts are estimates.
    pub usage_estimated: bool,
    /// Cost in micro-USD (0 when the price is unknown: see `price_known`).
    pub cost_micros: i64,
    /// Whether the price table had this model; an unpriced call's cost is unknown, not free.
    pub price_known: bool,
    /// Wall time of the attempt.
    pub latency_ms: i64,
    /// Time to the first streamed token, when streaming.
    pub ttft_ms: Option<i64>,
    /// Whether the attempt produced a complete answer.
    pub success: bool,
    /// `rate_limited`, `server_error`, `timeout`, … for failures.
    pub error_class: Option<String>,
    /// 1 for the first attempt, 2 for the first retry, …
    pub attempt: i64,
    /// Unix milliseconds when the attempt started.
    pub created_at: i64,
    /// Where it came from: `gateway` for calls proxied for agents running elsewhere; empty for
    /// Fleetdeck's own agents (stored as `agent`).
    pub source: String,
    /// The API key a gateway call came with.
    pub api_key_id: Option<String>,
    /// The caller's session (`x-fleetdeck-session`) or the OTLP trace the call belongs to.
    pub session_id: Option<String>,
    /// The caller's own task label (`x-fleetdeck-task` naming no Fleetdeck task).
    pub external_task: Option<String>,
}

/// Records one call and its rollup through the group-commit writer
/// ([`crate::store::group`]): one transaction, shared with whatever else is being recorded.
pub async fn record(store: &Store, call: &NewLlmCall) -> Result<String> {
    let recorded = store
        .record_call(crate::store::group::CallRecord {
            call: call.clone(),
            lease: None,
            step: None,
            events: Vec::new(),
            reservation: None,
        })
        .await?;
    Ok(recorded.id)
}

/// Records many calls outside any task in one transaction, rollups merged first (imports and
/// benchmarks; not for live traffic, which goes through [`record`] and shares transactions
/// with concurrent writers). Publishes no events.
pub async fn record_bulk(store: &Store, calls: &[NewLlmCall]) -> Result<usize> {
    crate::store::group::commit_bulk(store.writer(), calls).await
}

/// Filters of the calls explorer; every one optional.
#[derive(Debug, Clone, Default)]
pub struct CallFilter {
    /// Started at or after (Unix ms).
    pub from: Option<i64>,
    /// Started before (Unix ms).
    pub to: Option<i64>,
    /// Provider kind.
    pub provider: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Agent id.
    pub agent: Option<String>,
    /// Role of the step.
    pub role: Option<String>,
    /// Workflow of the task.
    pub workflow: Option<String>,
    /// Task id.
    pub task: Option<String>,
    /// `success`, `failed` or `cancelled`.
    pub outcome: Option<String>,
    /// Error class.
    pub error_class: Option<String>,
    /// Only calls made in this hour of the week — weekday (0 = Monday), hour (0–23), IANA time
    /// zone — within `from`–`to` (both required with it): the calls behind a cell of Trends'
    /// heatmap, which counts each UTC hour in the local hour it starts in.
    pub hour_of_week: Option<(u8, u8, String)>,
}

/// Hours of the week per range at most: 400 days.
const MAX_WEEKS_MS: i64 = 400 * 24 * HOUR_MS;

/// The UTC hours within `[from, to)` that start in `weekday`/`hour` of `tz`, as windows (hours
/// that follow each other merged: a zone's autumn change repeats a local hour).
fn hour_of_week_windows(
    from: i64,
    to: i64,
    weekday: u8,
    hour: u8,
    tz: &str,
) -> Result<Vec<(i64, i64)>> {
    use crate::Error;
    if weekday > 6 {
        return Err(Error::invalid(
            "weekday",
            "must be 0 (Monday) to 6 (Sunday)",
        ));
    }
    if hour > 23 {
        return Err(Error::invalid("hour", "must be 0 to 23"));
    }
    if to <= from || to - from > MAX_WEEKS_MS {
        return Err(Error::invalid(
            "to",
            "an hour of the week needs from and to, at most 400 days apart",
        ));
    }
    let zone = crate::analytics::tasks::time_zone(tz)?;
    let mut windows: Vec<(i64, i64)> = Vec::new();
    let mut start = from - from.rem_euclid(HOUR_MS);
    while start < to {
        let local = jiff::Timestamp::from_millisecond(start)
            .map_err(|_| Error::invalid("from", "is out of range"))?
            .to_zoned(zone.clone());
        if local.weekday().to_monday_zero_offset() as u8 == weekday && local.hour() as u8 == hour {
            let (lo, hi) = (start.max(from), (start + HOUR_MS).min(to));
            match windows.last_mut() {
                Some(last) if last.1 == lo => last.1 = hi,
                _ => windows.push((lo, hi)),
            }
        }
        start += HOUR_MS;
    }
    Ok(windows)
}

#[derive(sqlx::FromRow)]
struct CallRow {
    id: String,
    task_id: Option<String>,
    agent_run_id: Option<String>,
    agent_id: Option<String>,
    role: String,
    workflow: String,
    provider_id: Option<String>,
    provider_kind: String,
    model: String,
    prompt_tokens: i64,
    completion_tokens: i64,
    cached_tokens: i64,
    reasoning_tokens: i64,
    cache_write_tokens: i64,
    usage_estimated: i64,
    cost_micros: i64,
    price_known: i64,
    latency_ms: i64,
    ttft_ms: Option<i64>,
    success: i64,
    error_class: Option<String>,
    attempt: i64,
    created_at: i64,
    source: String,
    session_id: Option<String>,
    external_task: Option<String>,
}

impl CallRow {
    fn into_wire(self) -> wire::calls::Call {
        let outcome = match (self.success, self.error_class.as_deref()) {
            (1, _) => "success",
            (_, Some("cancelled")) => "cancelled",
            _ => "failed",
        };
        wire::calls::Call {
            outcome: outcome.to_owned(),
            id: self.id,
            task_id: self.task_id,
            agent_run_id: self.agent_run_id,
            agent_id: self.agent_id,
            role: self.role,
            workflow: self.workflow,
            provider_id: self.provider_id,
            provider_kind: self.provider_kind,
            model: self.model,
            prompt_tokens: self.prompt_tokens,
            completion_tokens: self.completion_tokens,
            cached_tokens: self.cached_tokens,
            reasoning_tokens: self.reasoning_tokens,
            cache_write_tokens: self.cache_write_tokens,
            usage_estimated: self.usage_estimated != 0,
            cost_micros: self.cost_micros,
            price_known: self.price_known != 0,
            latency_ms: self.latency_ms,
            ttft_ms: self.ttft_ms,
            error_class: self.error_class,
            attempt: self.attempt,
            created_at: self.created_at,
            source: self.source,
            session_id: self.session_id,
            external_task: self.external_task,
        }
    }
}

/// A workspace's calls, newest first, a keyset page at a time (`created_at`, then `id`): page
/// 1,000 costs what page 1 does.
pub async fn page(
    store: &Store,
    workspace_id: &str,
    filter: &CallFilter,
    request: &super::page::PageRequest,
) -> Result<super::page::Page<wire::calls::Call>> {
    if let Some(o) = &filter.outcome
        && !["success", "failed", "cancelled"].contains(&o.as_str())
    {
        return Err(crate::Error::invalid(
            "outcome",
            "must be success, failed or cancelled",
        ));
    }
    let (after_at, after_id) = match &request.after {
        Some(key) => super::page::parse_time_id(key)?,
        None => (i64::MAX, String::new()),
    };
    let windows = match &filter.hour_of_week {
        Some((weekday, hour, tz)) => {
            let (Some(from), Some(to)) = (filter.from, filter.to) else {
                return Err(crate::Error::invalid(
                    "from",
                    "an hour of the week needs from and to",
                ));
            };
            Some(hour_of_week_windows(from, to, *weekday, *hour, tz)?)
        }
        None => None,
    };
    // The hour of the week as time windows on the indexed column; none in range matches nothing.
    let hours = match &windows {
        None => String::new(),
        Some(w) if w.is_empty() => " AND 1 = 0".to_owned(),
        Some(w) => format!(
            " AND ({})",
            (0..w.len())
                .map(|i| format!(
                    "(created_at >= ${} AND created_at < ${})",
                    15 + 2 * i,
                    16 + 2 * i
                ))
                .collect::<Vec<_>>()
                .join(" OR ")
        ),
    };
    // Empty text means "any": one statement for every combination of filters.
    // The cursor is a row comparison, `(created_at, id) < (…)`, so that both databases seek
    // the `(workspace_id, created_at, id)` index to it: page 1,000 costs what page 1 does.
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    // Only placeholders are formatted into the statement.
    let mut query = sqlx::query_as::<_, CallRow>(sqlx::AssertSqlSafe(format!(
        "SELECT id, task_id, agent_run_id, agent_id, role, workflow, provider_id, provider_kind, model, \
         prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, usage_estimated, cost_micros, \
         price_known, latency_ms, ttft_ms, success, error_class, attempt, created_at, source, \
         cache_write_tokens, session_id, external_task \
         FROM llm_calls WHERE workspace_id = $1 AND created_at >= $2 AND created_at < $3 \
         AND ($4 = '' OR provider_kind = $4) AND ($5 = '' OR model = $5) \
         AND ($6 = '' OR agent_id = $6) AND ($7 = '' OR task_id = $7) \
         AND ($8 = '' OR ($8 = 'success' AND success = 1) \
              OR ($8 = 'cancelled' AND success = 0 AND error_class = 'cancelled') \
              OR ($8 = 'failed' AND success = 0 AND COALESCE(error_class, '') <> 'cancelled')) \
         AND ($9 = '' OR error_class = $9) \
         AND (created_at, id) < ($10, $11) \
         AND ($13 = '' OR role = $13) AND ($14 = '' OR workflow = $14){hours} \
         ORDER BY created_at DESC, id DESC LIMIT $12",
    )))
    .bind(workspace_id)
    .bind(filter.from.unwrap_or(0))
    .bind(filter.to.unwrap_or(i64::MAX))
    .bind(text(&filter.provider))
    .bind(text(&filter.model))
    .bind(text(&filter.agent))
    .bind(text(&filter.task))
    .bind(text(&filter.outcome))
    .bind(text(&filter.error_class))
    .bind(after_at)
    .bind(&after_id)
    .bind(request.limit + 1)
    .bind(text(&filter.role))
    .bind(text(&filter.workflow));
    for (lo, hi) in windows.iter().flatten() {
        query = query.bind(*lo).bind(*hi);
    }
    let rows: Vec<CallRow> = query.fetch_all(store.pool()).await?;
    let page = super::page::from_rows(rows, request.limit, |c| {
        super::page::time_id_key(c.created_at, &c.id)
    });
    Ok(super::page::Page {
        items: page.items.into_iter().map(CallRow::into_wire).collect(),
        next_cursor: page.next_cursor,
    })
}

/// The calls recorded for an external trace's spans (OTLP), by id.
pub async fn of_trace(
    store: &Store,
    workspace_id: &str,
    trace_id: &str,
) -> Result<std::collections::HashMap<String, wire::calls::Call>> {
    let rows: Vec<CallRow> = sqlx::query_as(
        "SELECT c.id, c.task_id, c.agent_run_id, c.agent_id, c.role, c.workflow, c.provider_id, \
         c.provider_kind, c.model, c.prompt_tokens, c.completion_tokens, c.cached_tokens, \
         c.reasoning_tokens, c.usage_estimated, c.cost_micros, c.price_known, c.latency_ms, \
         c.ttft_ms, c.success, c.error_class, c.attempt, c.created_at, c.source, \
         c.cache_write_tokens, c.session_id, c.external_task \
         FROM otel_spans s JOIN llm_calls c ON c.id = s.call_id \
         WHERE s.workspace_id = $1 AND s.trace_id = $2",
    )
    .bind(workspace_id)
    .bind(trace_id)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id.clone(), r.into_wire()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_hour_of_the_week_is_each_matching_utc_hour_in_the_range() {
        // 2026-11-02 is a Monday. Two weeks of Mondays 14:00 UTC.
        let monday = 1_793_577_600_000;
        let windows =
            hour_of_week_windows(monday, monday + 14 * 24 * HOUR_MS, 0, 14, "UTC").unwrap();
        assert_eq!(
            windows,
            vec![
                (monday + 14 * HOUR_MS, monday + 15 * HOUR_MS),
                (
                    monday + (7 * 24 + 14) * HOUR_MS,
                    monday + (7 * 24 + 15) * HOUR_MS
                )
            ]
        );
        // Paris is UTC+1 in November: 14:00 there is 13:00 UTC.
        let paris =
            hour_of_week_windows(monday, monday + 7 * 24 * HOUR_MS, 0, 14, "Europe/Paris").unwrap();
        assert_eq!(paris, vec![(monday + 13 * HOUR_MS, monday + 14 * HOUR_MS)]);
        // The range cuts an hour at its edges.
        let cut = hour_of_week_windows(
            monday + 14 * HOUR_MS + 5,
            monday + 15 * HOUR_MS - 5,
            0,
            14,
            "UTC",
        )
        .unwrap();
        assert_eq!(
            cut,
            vec![(monday + 14 * HOUR_MS + 5, monday + 15 * HOUR_MS - 5)]
        );
        assert!(hour_of_week_windows(monday, monday + HOUR_MS, 7, 0, "UTC").is_err());
        assert!(hour_of_week_windows(monday, monday + HOUR_MS, 0, 24, "UTC").is_err());
        assert!(hour_of_week_windows(monday, monday + HOUR_MS, 0, 0, "Mars/Olympus").is_err());
        assert!(hour_of_week_windows(monday, monday + 500 * 24 * HOUR_MS, 0, 0, "UTC").is_err());
    }
}
