//! The Analytics pages' data: the same engine reports as `/api/v1/metrics/*`, over the pages'
//! ranges (`24h`, `7d`, `30d`, `90d` ending now, or `custom` whole UTC days `from`–`to`).

use leptos::prelude::*;

use crate::model::AppError;

/// Cost and usage over the range, grouped by `by` (`provider`, `model`, `agent`, `role`,
/// `workflow` or `outcome`).
#[server(prefix = "/api", endpoint = "cost_report")]
pub async fn cost_report(
    range: String,
    from: String,
    to: String,
    by: String,
) -> Result<wire::analytics::CostReport, AppError> {
    use engine::analytics::costs::{self, CostQuery, GroupBy};
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let (from_ms, to_ms, granularity) = costs::page_range(&range, &from, &to, engine::now_ms())?;
    let query = CostQuery {
        from_ms,
        to_ms,
        granularity,
        group_by: Some(GroupBy::parse(&by)?),
    };
    Ok(costs::costs(&cx.store, &who.workspace_id, query).await?)
}

/// Latency, time to first token and success per model over the range.
#[server(prefix = "/api", endpoint = "performance_report")]
pub async fn performance_report(
    range: String,
    from: String,
    to: String,
) -> Result<wire::analytics::PerformanceReport, AppError> {
    use engine::analytics::costs::{self, GroupBy};
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let (from, to, _) = costs::page_range(&range, &from, &to, engine::now_ms())?;
    Ok(engine::analytics::performance::performance(
        &cx.store,
        &who.workspace_id,
        from,
        to,
        GroupBy::Model,
    )
    .await?)
}

/// Trends over the range, the heatmap in the IANA time zone `tz` (empty: UTC).
#[server(prefix = "/api", endpoint = "trends_report")]
pub async fn trends_report(
    range: String,
    from: String,
    to: String,
    tz: String,
) -> Result<wire::analytics::TrendsReport, AppError> {
    use engine::analytics::{costs, tasks};
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let (from, to, granularity) = costs::page_range(&range, &from, &to, engine::now_ms())?;
    let tz = tasks::time_zone(&tz)?;
    Ok(tasks::trends(&cx.store, &who.workspace_id, from, to, granularity, &tz).await?)
}

/// Tasks with and without an ANALYST step over the range.
#[server(prefix = "/api", endpoint = "analyst_roi")]
pub async fn analyst_roi(
    range: String,
    from: String,
    to: String,
) -> Result<wire::analytics::AnalystRoi, AppError> {
    use engine::analytics::{costs, tasks};
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let (from, to, _) = costs::page_range(&range, &from, &to, engine::now_ms())?;
    Ok(tasks::analyst_roi(&cx.store, &who.workspace_id, from, to).await?)
}
