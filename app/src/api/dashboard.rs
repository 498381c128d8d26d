//! The Dashboard's data.

use leptos::prelude::*;

use crate::model::AppError;
use wire::dashboard::DashboardStats;

/// Days of history on the Dashboard's calls chart.
pub const DASHBOARD_DAYS: i64 = 14;

/// Counts, today's usage and the last two weeks of calls for the current workspace.
#[server(prefix = "/api", endpoint = "dashboard")]
pub async fn get_dashboard() -> Result<DashboardStats, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    Ok(engine::analytics::dashboard(
        &cx.store,
        &who.workspace_id,
        engine::now_ms(),
        DASHBOARD_DAYS,
    )
    .await?)
}
