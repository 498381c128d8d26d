//! The Dashboard's data.

use leptos::prelude::*;

use crate::model::{AppError, DashboardView};

/// Days of history on the Dashboard's calls chart.
pub const DASHBOARD_DAYS: i64 = 14;

/// Counts, today's usage and the last two weeks of calls for the current workspace.
#[server(prefix = "/api", endpoint = "dashboard")]
pub async fn get_dashboard() -> Result<DashboardView, AppError> {
    use crate::model::{DayCalls, LiveRun, RoleCount};
    use crate::ssr::{context, day_label, money, principal};

    let cx = context()?;
    let who = principal().await?;
    let stats = engine::analytics::dashboard(
        &cx.store,
        &who.workspace_id,
        engine::now_ms(),
        DASHBOARD_DAYS,
    )
    .await?;
    Ok(DashboardView {
        agents: stats.agents,
        providers: stats.providers,
        tasks_total: stats.tasks_total,
        tasks_running: stats.tasks_running,
        tasks_queued: stats.tasks_queued,
        calls_today: stats.calls_today,
        tokens_today: stats.tokens_today,
        cost_today_micros: stats.cost_today_micros,
        unpriced_today: stats.unpriced_today,
        active_agents: stats.active_agents,
        agents_by_role: stats
            .agents_by_role
            .into_iter()
            .map(|(role, count)| RoleCount { role, count })
            .collect(),
        calls_per_day: stats
            .calls_per_day
            .into_iter()
            .map(|d| DayCalls {
                label: day_label(d.day_ms),
                calls: d.calls,
                cost: money(d.cost_micros),
            })
            .collect(),
        active: stats
            .active_runs
            .into_iter()
            .map(|r| LiveRun {
                simulated: r.provider_kind == "simulator",
                task_id: r.task_id,
                description: r.description,
                role: r.role,
                agent_name: r.agent_name,
                model: r.model,
                tokens: r.tokens,
                cost: money(r.cost_micros),
            })
            .collect(),
    })
}
