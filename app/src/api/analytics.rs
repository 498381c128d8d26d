//! The Analytics page's data: the same engine reports as `/api/v1/metrics/*`, over the page's
//! preset ranges (`24h`, `7d`, `30d`, `90d`, ending now).

use leptos::prelude::*;

use crate::model::AppError;

/// Cost and usage over `range`, grouped by `by` (`provider`, `model`, `agent`, `role`,
/// `workflow` or `outcome`).
#[server(prefix = "/api", endpoint = "cost_report")]
pub async fn cost_report(
    range: String,
    by: String,
) -> Result<wire::analytics::CostReport, AppError> {
    use engine::analytics::costs::{self, CostQuery, GroupBy};
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let (from_ms, to_ms, granularity) = costs::preset(&range, engine::now_ms())?;
    let query = CostQuery {
        from_ms,
        to_ms,
        granularity,
        group_by: Some(GroupBy::parse(&by)?),
    };
    Ok(costs::costs(&cx.store, &who.workspace_id, query).await?)
}

/// Latency, time to first token and success per model over `range`.
#[server(prefix = "/api", endpoint = "performance_report")]
pub async fn performance_report(
    range: String,
) -> Result<wire::analytics::PerformanceReport, AppError> {
    use engine::analytics::costs::{self, GroupBy};
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let (from, to, _) = costs::preset(&range, engine::now_ms())?;
    Ok(engine::analytics::performance::performance(
        &cx.store,
        &who.workspace_id,
        from,
        to,
        GroupBy::Model,
    )
    .await?)
}
