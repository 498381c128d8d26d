//! Analytics read from the hourly rollups, so dashboards stay fast on millions of calls.
//!
//! Day boundaries are UTC midnights.

pub mod costs;
pub mod performance;
pub mod tasks;

use crate::store::llm_calls::HOUR_MS;
use crate::{Result, Store};

/// One day in milliseconds.
pub const DAY_MS: i64 = 24 * HOUR_MS;

pub use wire::dashboard::{ActiveRun, DashboardStats, DayPoint, RoleCount};

/// Computes the Dashboard for a workspace as of `now_ms`, with `days` days of history.
#[tracing::instrument(skip(store))]
pub async fn dashboard(
    store: &Store,
    workspace_id: &str,
    now_ms: i64,
    days: i64,
) -> Result<DashboardStats> {
    let db = store.pool();
    let (agents,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM agents WHERE workspace_id = $1")
        .bind(workspace_id)
        .fetch_one(db)
        .await?;
    let agents_by_role: Vec<(String, i64)> = sqlx::query_as(
        "SELECT role, COUNT(*) FROM agents WHERE workspace_id = $1 GROUP BY role \
         ORDER BY CASE role WHEN 'ANALYST' THEN 0 WHEN 'PLANNER' THEN 1 WHEN 'BUILDER' THEN 2 \
         WHEN 'TESTER' THEN 3 WHEN 'REVIEWER' THEN 4 ELSE 5 END, role",
    )
    .bind(workspace_id)
    .fetch_all(db)
    .await?;
    let (providers,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM providers WHERE workspace_id = $1")
            .bind(workspace_id)
            .fetch_one(db)
            .await?;
    // The total from the counter the task triggers keep (migration 0009); the open tasks, few,
    // counted through the (workspace, status) index.
    let (tasks_total,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(tasks), 0) AS BIGINT) FROM task_totals WHERE workspace_id = $1",
    )
    .bind(workspace_id)
    .fetch_one(db)
    .await?;
    let (tasks_running, tasks_queued): (i64, i64) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(CASE WHEN status = 'running' THEN 1 ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN status = 'queued' THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM tasks WHERE workspace_id = $1 AND status IN ('queued', 'running')",
    )
    .bind(workspace_id)
    .fetch_one(db)
    .await?;

    let today = now_ms - now_ms.rem_euclid(DAY_MS);
    let first_day = today - (days.max(1) - 1) * DAY_MS;
    let rows: Vec<(i64, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT day_ms, CAST(SUM(calls) AS BIGINT), \
         CAST(SUM(cost_micros) AS BIGINT), CAST(SUM(prompt_tokens + completion_tokens) AS BIGINT), \
         CAST(SUM(unpriced_calls) AS BIGINT) \
         FROM call_usage_daily WHERE workspace_id = $1 AND day_ms >= $2 \
         GROUP BY day_ms ORDER BY day_ms",
    )
    .bind(workspace_id)
    .bind(first_day)
    .fetch_all(db)
    .await?;

    let mut calls_per_day = Vec::new();
    let mut day = first_day;
    while day <= today {
        let found = rows.iter().find(|r| r.0 == day);
        calls_per_day.push(DayPoint {
            day_ms: day,
            calls: found.map_or(0, |r| r.1),
            cost_micros: found.map_or(0, |r| r.2),
        });
        day += DAY_MS;
    }
    let today_row = rows.iter().find(|r| r.0 == today);
    let (active_agents,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM agent_runs r JOIN tasks t ON t.id = r.task_id \
         WHERE r.workspace_id = $1 AND r.status = 'active' AND t.status = 'running'",
    )
    .bind(workspace_id)
    .fetch_one(db)
    .await?;
    let active_runs: Vec<ActiveRun> = sqlx::query_as(
        "SELECT r.task_id, t.description, r.role, r.agent_name, r.model, r.provider_kind, r.started_at, \
         r.prompt_tokens + r.completion_tokens AS tokens, r.cost_micros \
         FROM agent_runs r JOIN tasks t ON t.id = r.task_id \
         WHERE r.workspace_id = $1 AND r.status = 'active' AND t.status = 'running' \
         ORDER BY r.started_at LIMIT 50",
    )
    .bind(workspace_id)
    .fetch_all(db)
    .await?;
    Ok(DashboardStats {
        agents,
        agents_by_role: agents_by_role
            .into_iter()
            .map(|(role, count)| RoleCount { role, count })
            .collect(),
        providers,
        tasks_total,
        tasks_running,
        tasks_queued,
        calls_today: today_row.map_or(0, |r| r.1),
        tokens_today: today_row.map_or(0, |r| r.3),
        cost_today_micros: today_row.map_or(0, |r| r.2),
        unpriced_today: today_row.map_or(0, |r| r.4),
        active_agents,
        calls_per_day,
        active_runs,
    })
}
