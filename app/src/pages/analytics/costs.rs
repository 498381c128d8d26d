//! The Costs view: totals with the trend, cost per period (each bar opens its calls), the
//! breakdown by a dimension (each row opens its calls; CSV from the REST API) and speed per
//! model.

use leptos::prelude::*;

use super::{GROUPINGS, RangeParams};
use crate::api::calls::CallsQuery;
use crate::components::chart::BarChart;
use crate::components::empty_state::EmptyState;
use crate::components::stat_card::StatCard;
use crate::pages::calls::calls_url;
use wire::analytics::{CostReport, PerformanceReport, Usage};
use wire::format::{cost_label, day_label, timestamp};

pub(super) fn percent(part: i64, whole: i64) -> String {
    if whole == 0 {
        "—".to_owned()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

fn per_1k(usage: &Usage) -> String {
    match usage.cost_per_1k_tokens_micros() {
        Some(micros) if usage.price_known() => wire::format::format_micros(micros.round() as i64),
        Some(_) => "price unknown".to_owned(),
        None => "—".to_owned(),
    }
}

/// A period's label on the chart: hours as `13:00`, days and weeks as `Nov 16`, months as
/// `Nov 2026`.
pub(super) fn period_label(granularity: &str, start_ms: i64) -> String {
    let stamp = timestamp(start_ms);
    match granularity {
        "hour" => stamp.get(11..16).unwrap_or_default().to_owned(),
        "month" => format!(
            "{} {}",
            day_label(start_ms).split(' ').next().unwrap_or_default(),
            stamp.get(0..4).unwrap_or_default()
        ),
        _ => day_label(start_ms),
    }
}

#[component]
pub(super) fn Costs(
    report: CostReport,
    range_name: String,
    params: RangeParams,
    by: String,
) -> impl IntoView {
    let total = report.total.clone();
    if total.calls == 0 {
        return view! {
            <EmptyState
                title="No LLM calls in this range"
                message="Once agents run, this page breaks their cost, tokens and speed down by model, agent, role and workflow."
                testid="analytics-empty"
            />
        }
        .into_any();
    }
    let change = match report.cost_change_percent {
        Some(p) => format!("{p:+.1}% vs the previous {range_name}"),
        None => format!("nothing spent in the previous {range_name}"),
    };
    // The chart: cost per period, all groups together, every period of the range (a quiet
    // hour is a zero bar, not a missing one).
    let mut periods: Vec<(i64, i64)> = period_starts(&report)
        .into_iter()
        .map(|start| (start, 0))
        .collect();
    for p in &report.points {
        match periods.iter_mut().find(|(start, _)| *start == p.start_ms) {
            Some((_, cost)) => *cost += p.usage.cost_micros,
            None => periods.push((p.start_ms, p.usage.cost_micros)),
        }
    }
    periods.sort_unstable();
    let labels: Vec<String> = periods
        .iter()
        .map(|(start, _)| period_label(&report.granularity, *start))
        .collect();
    // Each bar opens the calls of its period (the next period's start ends it).
    let links: Vec<String> = periods
        .iter()
        .enumerate()
        .map(|(i, (start, _))| {
            let end = periods.get(i + 1).map_or(report.to_ms, |(next, _)| *next);
            calls_url(&CallsQuery {
                from: start.to_string(),
                to: end.to_string(),
                ..CallsQuery::default()
            })
        })
        .collect();
    let values: Vec<f64> = periods
        .iter()
        .map(|(_, cost)| (*cost as f64 / 10_000.0).round() / 100.0)
        .collect();
    let csv = format!(
        "/api/v1/metrics/costs?from={}&to={}&granularity={}&group_by={by}&format=csv",
        report.from_ms, report.to_ms, report.granularity
    );
    let grouping = GROUPINGS
        .iter()
        .find(|(k, _)| *k == by)
        .map_or("Group", |(_, n)| *n);
    let period_rows: Vec<(i64, i64, String)> = periods
        .iter()
        .zip(&links)
        .map(|((start, cost), link)| (*start, *cost, link.clone()))
        .collect();
    let granularity = report.granularity.clone();
    view! {
        <section class="stat-grid" aria-label="Totals">
            <StatCard
                label="Cost"
                value=cost_label(total.cost_micros, total.price_known())
                hint=change
                testid="analytics-cost"
            />
            <StatCard
                label="LLM calls"
                value=total.calls.to_string()
                hint=format!("{} failed ({})", total.failed_calls, percent(total.failed_calls, total.calls))
                testid="analytics-calls"
            />
            <StatCard
                label="Tokens"
                value=total.tokens().to_string()
                hint=format!("{} in · {} out · {} cached", total.prompt_tokens, total.completion_tokens, total.cached_tokens)
                testid="analytics-tokens"
            />
            <StatCard
                label="Cost per 1K tokens"
                value=per_1k(&total)
                hint="prompt + completion"
                testid="analytics-per-1k"
            />
        </section>
        <section class="card">
            <h2>{format!("Cost per {} (UTC)", report.granularity)}</h2>
            <BarChart
                id="chart-analytics-cost"
                aria_label=format!("Bar chart of cost per {}; the table below has the numbers", report.granularity)
                labels
                values
                series="Cost (USD)"
                dollars=true
                links
            />
            <p class="small muted chart-hint">"Click a bar to see its calls."</p>
            <details class="chart-table">
                <summary class="small">"Show the numbers"</summary>
                <table>
                    <thead>
                        <tr>
                            <th scope="col">"Period"</th>
                            <th scope="col" class="num">"Cost"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {period_rows
                            .into_iter()
                            .map(|(start, cost, link)| view! {
                                <tr>
                                    <td><a href=link>{period_label(&granularity, start)}</a></td>
                                    <td class="num">{wire::format::format_micros(cost)}</td>
                                </tr>
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </details>
        </section>
        <section class="card table-card">
            <div class="card-head">
                <h2>"Breakdown"</h2>
                <div class="card-actions">
                    <a class="button button-secondary button-small" href=calls_url(&CallsQuery { from: report.from_ms.to_string(), to: report.to_ms.to_string(), ..CallsQuery::default() })>
                        "Explore the calls"
                    </a>
                    <a class="button button-secondary button-small" href=csv download="fleetdeck-costs.csv" data-testid="download-csv">
                        "Download CSV"
                    </a>
                </div>
            </div>
            <nav class="segmented segmented-small" aria-label="Group by" data-testid="group-picker">
                {GROUPINGS
                    .iter()
                    .map(|(key, name)| {
                        let active = *key == by;
                        view! {
                            <a
                                href=format!("/analytics?{}&by={key}", params.query())
                                class:active=active
                                aria-current=active.then_some("page")
                            >
                                {*name}
                            </a>
                        }
                    })
                    .collect_view()}
            </nav>
            <div class="table-scroll" tabindex="0">
                <table data-testid="breakdown">
                    <thead>
                        <tr>
                            <th scope="col">{grouping}</th>
                            <th scope="col" class="num">"Calls"</th>
                            <th scope="col" class="num">"Failed"</th>
                            <th scope="col" class="num">"Tokens"</th>
                            <th scope="col" class="num">"Cost"</th>
                            <th scope="col" class="num">"Share"</th>
                            <th scope="col" class="num">"Per 1K tokens"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {report
                            .groups
                            .iter()
                            .map(|g| {
                                let u = &g.usage;
                                view! {
                                    <tr>
                                        <td>
                                            {if g.group.is_empty() {
                                                // Calls with no agent (or role…) cannot be filtered for.
                                                g.label.clone().into_any()
                                            } else {
                                                view! {
                                                    <a href=drill(&by, &g.group, report.from_ms, report.to_ms) title="The calls behind this row">
                                                        {g.label.clone()}
                                                    </a>
                                                }
                                                    .into_any()
                                            }}
                                        </td>
                                        <td class="num">{u.calls}</td>
                                        <td class="num">{percent(u.failed_calls, u.calls)}</td>
                                        <td class="num">{u.tokens()}</td>
                                        <td class="num">{cost_label(u.cost_micros, u.price_known())}</td>
                                        <td class="num">{percent(u.cost_micros, total.cost_micros)}</td>
                                        <td class="num">{per_1k(u)}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}

/// Every period start of the report's range, for hours, days and weeks (months vary in
/// length: their periods are the report's own points).
pub(super) fn period_starts(report: &CostReport) -> Vec<i64> {
    const HOUR: i64 = 3_600_000;
    const DAY: i64 = 24 * HOUR;
    let (step, first) = match report.granularity.as_str() {
        "hour" => (HOUR, report.from_ms - report.from_ms.rem_euclid(HOUR)),
        "day" => (DAY, report.from_ms - report.from_ms.rem_euclid(DAY)),
        "week" => {
            let day = report.from_ms - report.from_ms.rem_euclid(DAY);
            // 1970-01-01 was a Thursday: Monday is 3 days before.
            (7 * DAY, day - (day / DAY + 3).rem_euclid(7) * DAY)
        }
        _ => return Vec::new(),
    };
    (0..)
        .map(|i| first + i * step)
        .take_while(|start| *start < report.to_ms)
        .collect()
}

/// The calls explorer showing the calls behind one breakdown row.
fn drill(by: &str, group: &str, from_ms: i64, to_ms: i64) -> String {
    let mut q = CallsQuery {
        from: from_ms.to_string(),
        to: to_ms.to_string(),
        ..CallsQuery::default()
    };
    let value = group.to_owned();
    match by {
        "provider" => q.provider = value,
        "model" => q.model = value,
        "agent" => q.agent = value,
        "role" => q.role = value,
        "workflow" => q.workflow = value,
        _ => q.outcome = value,
    }
    calls_url(&q)
}

pub(super) fn ms(value: Option<i64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{v} ms"))
}

pub(super) fn mean_ms(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{v:.0} ms"))
}

#[component]
pub(super) fn Speed(report: PerformanceReport) -> impl IntoView {
    if report.rows.is_empty() {
        return view! { <p class="small muted">"No calls in this range."</p> }.into_any();
    }
    view! {
        <section class="card table-card">
            <div class="table-scroll" tabindex="0">
                <table data-testid="speed">
                    <thead>
                        <tr>
                            <th scope="col">"Model"</th>
                            <th scope="col" class="num">"Calls"</th>
                            <th scope="col" class="num">"Success"</th>
                            <th scope="col" class="num">"Mean latency"</th>
                            <th scope="col" class="num">"p50"</th>
                            <th scope="col" class="num">"p95"</th>
                            <th scope="col" class="num">"TTFT p50"</th>
                            <th scope="col" class="num">"TTFT p95"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {report
                            .rows
                            .into_iter()
                            .map(|r| {
                                let simulated = r.group.starts_with("simulator/");
                                view! {
                                    <tr>
                                        <td>
                                            {r.label}
                                            {simulated.then(|| view! { " " <span class="badge badge-sim">"Simulated"</span> })}
                                        </td>
                                        <td class="num">{r.calls}</td>
                                        <td class="num">{format!("{:.1}%", r.success_rate * 100.0)}</td>
                                        <td class="num">{mean_ms(r.avg_latency_ms)}</td>
                                        <td class="num">{ms(r.p50_latency_ms)}</td>
                                        <td class="num">{ms(r.p95_latency_ms)}</td>
                                        <td class="num">{ms(r.p50_ttft_ms)}</td>
                                        <td class="num">{ms(r.p95_ttft_ms)}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
            <p class="small muted">
                "Latencies are of successful calls. Percentiles come from the rollups' histograms: "
                {report.percentile_error}
                "."
            </p>
        </section>
    }
    .into_any()
}
