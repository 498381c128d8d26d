//! `/api/v1/metrics/*`: analytics read from the hourly rollups (everyone in the workspace).

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use engine::analytics::costs::{self, CostQuery, Granularity, GroupBy};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::analytics::{AnalystRoi, CostReport, PerformanceReport, TrendsReport};

use super::AppState;
use super::auth::Auth;
use super::error::ApiError;
use super::extract::ApiQuery;
use super::list::number;
use super::openapi::ReadErrors;

/// The routes under `/api/v1/metrics`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(cost_report))
        .routes(routes!(performance_report))
        .routes(routes!(trends_report))
        .routes(routes!(analyst_roi))
}

/// The range and shape of a report.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ReportQuery {
    /// Range start, Unix ms (default: 30 days before `to`); rounded down to its hour.
    #[param(value_type = Option<i64>)]
    from: Option<String>,
    /// Range end, Unix ms, exclusive (default: now); rounded up to its hour.
    #[param(value_type = Option<i64>)]
    to: Option<String>,
    /// `hour` (ranges up to 35 days), `day` (default), `week` (from Monday) or `month`, in UTC.
    granularity: Option<String>,
    /// `provider`, `model`, `agent`, `role`, `workflow` or `outcome`.
    group_by: Option<String>,
    /// `json` (default) or `csv`: one row per period and group, for spreadsheets.
    format: Option<String>,
}

/// Cost and usage per period (and group), the groups over the whole range most expensive
/// first, the totals, and the change against the range of the same length just before.
#[utoipa::path(get, path = "/costs", tag = "metrics", params(ReportQuery),
    responses((status = 200, description = "The report (CSV with `format=csv`)",
        content((CostReport = "application/json"), (String = "text/csv"))), ReadErrors))]
async fn cost_report(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    let csv = match q.format.as_deref() {
        None | Some("" | "json") => false,
        Some("csv") => true,
        Some(_) => return Err(engine::Error::invalid("format", "must be json or csv").into()),
    };
    let to = number("to", q.to.as_deref())?.unwrap_or_else(engine::now_ms);
    let from = number("from", q.from.as_deref())?.unwrap_or(to - 30 * engine::analytics::DAY_MS);
    let query = CostQuery {
        from_ms: from,
        to_ms: to,
        granularity: Granularity::parse(q.granularity.as_deref().unwrap_or("day"))?,
        group_by: q
            .group_by
            .as_deref()
            .filter(|g| !g.is_empty())
            .map(GroupBy::parse)
            .transpose()?,
    };
    let report = costs::costs(&state.store, &who.workspace_id, query).await?;
    if !csv {
        return Ok(Json(report).into_response());
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"fleetdeck-costs.csv\"",
            ),
        ],
        costs::to_csv(&report)?,
    )
        .into_response())
}

/// The range of a report and its grouping.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct PerformanceQuery {
    /// Range start, Unix ms (default: 30 days before `to`); rounded down to its hour.
    #[param(value_type = Option<i64>)]
    from: Option<String>,
    /// Range end, Unix ms, exclusive (default: now); rounded up to its hour.
    #[param(value_type = Option<i64>)]
    to: Option<String>,
    /// `model` (default: provider and model together), `provider`, `agent`, `role` or
    /// `workflow`.
    group_by: Option<String>,
}

/// Latency and time to first token (mean, p50/p95/p99 of successful calls) and success rate
/// per group; the percentiles' bucket error is stated in the answer.
#[utoipa::path(get, path = "/performance", tag = "metrics", params(PerformanceQuery),
    responses((status = 200, description = "The report", body = PerformanceReport), ReadErrors))]
async fn performance_report(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiQuery(q): ApiQuery<PerformanceQuery>,
) -> Result<Json<PerformanceReport>, ApiError> {
    let to = number("to", q.to.as_deref())?.unwrap_or_else(engine::now_ms);
    let from = number("from", q.from.as_deref())?.unwrap_or(to - 30 * engine::analytics::DAY_MS);
    let group_by = GroupBy::parse(
        q.group_by
            .as_deref()
            .filter(|g| !g.is_empty())
            .unwrap_or("model"),
    )?;
    Ok(Json(
        engine::analytics::performance::performance(
            &state.store,
            &who.workspace_id,
            from,
            to,
            group_by,
        )
        .await?,
    ))
}

/// The range, periods and time zone of the trends.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct TrendsQuery {
    /// Range start, Unix ms (default: 30 days before `to`); rounded down to its hour.
    #[param(value_type = Option<i64>)]
    from: Option<String>,
    /// Range end, Unix ms, exclusive (default: now); rounded up to its hour.
    #[param(value_type = Option<i64>)]
    to: Option<String>,
    /// `hour` (ranges up to 35 days), `day` (default), `week` or `month`, in UTC.
    granularity: Option<String>,
    /// The viewer's IANA time zone for the heatmap (`Europe/Paris`; default UTC).
    tz: Option<String>,
}

/// When the fleet works (calls per hour of the week in the viewer's time zone), tasks finished
/// per period by outcome, agents created per period, workflow efficiency, success and failure
/// by task type (workflow and complexity), the completion-time histogram, the ten most
/// expensive tasks and the top-performing agents.
#[utoipa::path(get, path = "/trends", tag = "metrics", params(TrendsQuery),
    responses((status = 200, description = "The trends", body = TrendsReport), ReadErrors))]
async fn trends_report(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiQuery(q): ApiQuery<TrendsQuery>,
) -> Result<Json<TrendsReport>, ApiError> {
    let to = number("to", q.to.as_deref())?.unwrap_or_else(engine::now_ms);
    let from = number("from", q.from.as_deref())?.unwrap_or(to - 30 * engine::analytics::DAY_MS);
    let granularity = Granularity::parse(q.granularity.as_deref().unwrap_or("day"))?;
    let tz = engine::analytics::tasks::time_zone(q.tz.as_deref().unwrap_or_default())?;
    Ok(Json(
        engine::analytics::tasks::trends(
            &state.store,
            &who.workspace_id,
            from,
            to,
            granularity,
            &tz,
        )
        .await?,
    ))
}

/// The range of the comparison.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct RangeQuery {
    /// Range start, Unix ms (default: 30 days before `to`); rounded down to its hour.
    #[param(value_type = Option<i64>)]
    from: Option<String>,
    /// Range end, Unix ms, exclusive (default: now); rounded up to its hour.
    #[param(value_type = Option<i64>)]
    to: Option<String>,
}

/// Does the ANALYST pay for itself? Tasks that finished in the range, per workflow and
/// complexity, with and without an ANALYST step: how many, success rate, cost and duration;
/// summed over the kinds that have tasks on both sides.
#[utoipa::path(get, path = "/analyst-roi", tag = "metrics", params(RangeQuery),
    responses((status = 200, description = "The comparison", body = AnalystRoi), ReadErrors))]
async fn analyst_roi(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> Result<Json<AnalystRoi>, ApiError> {
    let to = number("to", q.to.as_deref())?.unwrap_or_else(engine::now_ms);
    let from = number("from", q.from.as_deref())?.unwrap_or(to - 30 * engine::analytics::DAY_MS);
    Ok(Json(
        engine::analytics::tasks::analyst_roi(&state.store, &who.workspace_id, from, to).await?,
    ))
}
