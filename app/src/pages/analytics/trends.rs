//! The Trends view (`/analytics/trends`): when the fleet works (calls per hour of the week in
//! the viewer's time zone, kept in the URL as `tz`), how tasks end and how long they take,
//! workflow efficiency, success by task type, the most expensive tasks and the best agents.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::costs::{mean_ms, percent, period_label};
use super::{RangeBar, use_range};
use crate::api::analytics::trends_report;
use crate::api::calls::CallsQuery;
use crate::api::tasks::TasksQuery;
use crate::components::chart::BarChart;
use crate::components::empty_state::EmptyState;
use crate::pages::calls::calls_url;
use crate::pages::{PageHeader, Shape, loaded};
use wire::analytics::{TaskKindRow, TaskStats, TrendsReport};
use wire::format::{cost_label, duration, format_micros, timestamp};

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// `/analytics/trends`.
#[component]
pub fn TrendsPage() -> impl IntoView {
    let query = use_query_map();
    let range = use_range();
    let tz = Memo::new(move |_| query.read().get("tz").unwrap_or_default());
    // The server cannot know the viewer's time zone: once in the browser, put it in the URL
    // (replacing the entry), and the heatmap reloads in local hours.
    #[cfg(feature = "hydrate")]
    {
        let navigate = leptos_router::hooks::use_navigate();
        Effect::new(move |_| {
            if tz.get().is_empty()
                && let Some(local) = crate::browser::time_zone()
            {
                let tz: String = form_urlencoded::byte_serialize(local.as_bytes()).collect();
                navigate(
                    &format!(
                        "/analytics/trends?{}&tz={tz}",
                        range.get_untracked().query()
                    ),
                    leptos_router::NavigateOptions {
                        replace: true,
                        scroll: false,
                        ..Default::default()
                    },
                );
            }
        });
    }
    let report = Resource::new(
        move || (range.get(), tz.get()),
        |(r, tz)| trends_report(r.range, r.from, r.to, tz),
    );
    view! {
        <Title text="Trends · Analytics" />
        <PageHeader title="Analytics" subtitle="When the fleet works, how tasks end and what does best." />
        <RangeBar
            path="/analytics/trends"
            range
            keep=Signal::derive(move || {
                let tz = tz.get();
                if tz.is_empty() { Vec::new() } else { vec![("tz".to_owned(), tz)] }
            })
        />
        {loaded(report, &[Shape::Stats(4), Shape::Panels(2)], |report| view! { <Trends report /> })}
    }
}

fn stats_cells(s: &TaskStats) -> impl IntoView + use<> {
    let priced = s.unpriced_tasks == 0;
    view! {
        <td class="num">{s.tasks}</td>
        <td class="num">{s.success_rate().map_or_else(|| "—".to_owned(), |r| format!("{:.1}%", r * 100.0))}</td>
        <td class="num">{s.failed}</td>
        <td class="num">{s.avg_cost_micros().map_or_else(|| "—".to_owned(), |c| cost_label(c.round() as i64, priced))}</td>
        <td class="num">{s.cost_per_success_micros().map_or_else(|| "—".to_owned(), |c| cost_label(c.round() as i64, priced))}</td>
        <td class="num">{duration(s.avg_duration_ms())}</td>
    }
}

/// The tasks list showing the tasks behind a figure: those that finished in `[from, to)`, with
/// the other filters given.
fn tasks_link(from: i64, to: i64, filters: TasksQuery) -> String {
    TasksQuery {
        finished_from: from.to_string(),
        finished_to: to.to_string(),
        ..filters
    }
    .url()
}

/// A bucket bound as an axis label: `10s`, `5m`, `24h`.
fn bound(ms: i64) -> String {
    match ms {
        ms if ms < 60_000 => format!("{}s", ms / 1000),
        ms if ms < 3_600_000 => format!("{}m", ms / 60_000),
        ms => format!("{}h", ms / 3_600_000),
    }
}

fn kind_table(
    rows: Vec<TaskKindRow>,
    with_complexity: bool,
    testid: &'static str,
    (from, to): (i64, i64),
) -> impl IntoView {
    view! {
        <div class="table-scroll" tabindex="0">
            <table data-testid=testid>
                <thead>
                    <tr>
                        <th scope="col">"Workflow"</th>
                        {with_complexity.then(|| view! { <th scope="col">"Complexity"</th> })}
                        <th scope="col" class="num">"Tasks"</th>
                        <th scope="col" class="num">"Success"</th>
                        <th scope="col" class="num">"Failed"</th>
                        <th scope="col" class="num">"Avg cost"</th>
                        <th scope="col" class="num">"Per success"</th>
                        <th scope="col" class="num">"Avg time"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|r| view! {
                            <tr>
                                <td>
                                    <a href=tasks_link(from, to, TasksQuery {
                                        workflow: r.workflow.clone(),
                                        complexity: if with_complexity { r.complexity.clone() } else { String::new() },
                                        ..TasksQuery::default()
                                    })>
                                        {r.workflow.replace('_', " ")}
                                    </a>
                                </td>
                                {with_complexity.then(|| view! { <td>{r.complexity.clone()}</td> })}
                                {stats_cells(&r.stats)}
                            </tr>
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn Trends(report: TrendsReport) -> impl IntoView {
    let calls: i64 = report.heatmap.iter().map(|c| c.calls).sum();
    let finished: i64 = report.workflows.iter().map(|w| w.stats.tasks).sum();
    if calls == 0 && finished == 0 && report.agents_created.is_empty() {
        return view! {
            <EmptyState
                title="Nothing happened in this range"
                message="Once tasks run, this page shows when the fleet works, how tasks end and how long they take."
                testid="trends-empty"
            />
        }
        .into_any();
    }
    let mut total = TaskStats::default();
    for w in &report.workflows {
        total.add(&w.stats);
    }
    let max = report
        .heatmap
        .iter()
        .map(|c| c.calls)
        .max()
        .unwrap_or(0)
        .max(1);
    let tz = report.time_zone.clone();
    let histogram_labels: Vec<String> = report
        .completion_times
        .iter()
        .map(|b| match b.up_to_ms {
            Some(up) => format!("≤{}", bound(up)),
            None => format!(">{}", bound(b.above_ms)),
        })
        .collect();
    let histogram_values: Vec<f64> = report
        .completion_times
        .iter()
        .map(|b| b.tasks as f64)
        .collect();
    let granularity = report.granularity.clone();
    let range = (report.from_ms, report.to_ms);
    // Each duration bar opens the completed tasks that took that long.
    let histogram_links: Vec<String> = report
        .completion_times
        .iter()
        .enumerate()
        .map(|(k, b)| {
            tasks_link(
                range.0,
                range.1,
                TasksQuery {
                    status: "completed".into(),
                    min_duration_ms: if k == 0 {
                        String::new()
                    } else {
                        b.above_ms.to_string()
                    },
                    max_duration_ms: b.up_to_ms.map(|ms| ms.to_string()).unwrap_or_default(),
                    ..TasksQuery::default()
                },
            )
        })
        .collect();
    // Type-erased pieces: one view type for the whole page is too deep for the compiler.
    let cards = view! {
        <section class="stat-grid" aria-label="Tasks">
            <crate::components::stat_card::StatCard
                label="Tasks finished"
                value=total.tasks.to_string()
                hint=format!("{} completed · {} failed · {} cancelled", total.completed, total.failed, total.cancelled)
                testid="trends-finished"
            />
            <crate::components::stat_card::StatCard
                label="Success rate"
                value=total.success_rate().map_or_else(|| "—".to_owned(), |r| format!("{:.1}%", r * 100.0))
                hint="completed of finished"
                testid="trends-success"
            />
            <crate::components::stat_card::StatCard
                label="Cost per completed task"
                value=total.cost_per_success_micros().map_or_else(|| "—".to_owned(), |c| cost_label(c.round() as i64, total.unpriced_tasks == 0))
                hint="failed tasks' cost included"
                testid="trends-per-success"
            />
            <crate::components::stat_card::StatCard
                label="Average duration"
                value=duration(total.avg_duration_ms())
                hint="submit or start to finish"
                testid="trends-duration"
            />
        </section>
    }
    .into_any();
    let heat = view! {
        <section class="card">
            <h2>{format!("When the fleet works ({tz})")}</h2>
            <div class="table-scroll" tabindex="0">
                <table class="heatmap" data-testid="heatmap">
                    <caption class="sr-only">
                        {format!("LLM calls per hour of the week, {tz} time; each cell says how many")}
                    </caption>
                    <thead>
                        <tr>
                            <th scope="col"><span class="sr-only">"Day"</span></th>
                            {(0..24)
                                .map(|h| view! { <th scope="col">{if h % 3 == 0 { format!("{h:02}") } else { String::new() }}<span class="sr-only">{format!("{h:02}:00")}</span></th> })
                                .collect_view()}
                        </tr>
                    </thead>
                    <tbody>
                        {(0..7)
                            .map(|d| {
                                let cells: Vec<_> = report.heatmap.iter().filter(|c| usize::from(c.weekday) == d).cloned().collect();
                                view! {
                                    <tr>
                                        <th scope="row">{WEEKDAYS[d]}</th>
                                        {cells
                                            .into_iter()
                                            .map(|c| {
                                                let heat = c.calls as f64 / max as f64;
                                                let title = format!(
                                                    "{} {:02}:00 — {} calls, {}",
                                                    WEEKDAYS[d], c.hour, c.calls, format_micros(c.cost_micros)
                                                );
                                                // A busy cell opens its calls: that hour of
                                                // each of those weekdays in the range.
                                                let inner = if c.calls > 0 {
                                                    let href = calls_url(&CallsQuery {
                                                        from: range.0.to_string(),
                                                        to: range.1.to_string(),
                                                        weekday: d.to_string(),
                                                        hour: c.hour.to_string(),
                                                        tz: tz.clone(),
                                                        ..CallsQuery::default()
                                                    });
                                                    view! { <a href=href aria-label=title.clone()><span class="sr-only">{c.calls}</span></a> }.into_any()
                                                } else {
                                                    view! { <span class="sr-only">{c.calls}</span> }.into_any()
                                                };
                                                view! {
                                                    <td style=format!("--heat: {heat:.3}") title=title>
                                                        {inner}
                                                    </td>
                                                }
                                            })
                                            .collect_view()}
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
            <p class="small muted">"Darker is busier; hover a cell for its calls and cost, click it for the calls."</p>
        </section>
    }
    .into_any();
    let charts = view! {
        <div class="grid-2">
            <section class="card">
                <h2>"How long completed tasks took"</h2>
                <BarChart
                    id="chart-completion-times"
                    aria_label="Bar chart of completed tasks by duration; the table below has the numbers".to_owned()
                    labels=histogram_labels.clone()
                    values=histogram_values
                    series="Tasks"
                    all_labels=true
                    links=histogram_links.clone()
                />
                <details class="chart-table">
                    <summary class="small">"Show the numbers"</summary>
                    <table>
                        <thead><tr><th scope="col">"Duration"</th><th scope="col" class="num">"Tasks"</th></tr></thead>
                        <tbody>
                            {histogram_labels
                                .into_iter()
                                .zip(report.completion_times.iter().map(|b| b.tasks))
                                .zip(histogram_links)
                                .map(|((label, n), href)| view! { <tr><td><a href=href>{label}</a></td><td class="num">{n}</td></tr> })
                                .collect_view()}
                        </tbody>
                    </table>
                </details>
            </section>
            <section class="card table-card">
                <h2>{format!("Tasks and agents per {granularity} (UTC)")}</h2>
                <div class="table-scroll" tabindex="0">
                    <table data-testid="tasks-per-period">
                        <thead>
                            <tr>
                                <th scope="col">"Period"</th>
                                <th scope="col" class="num">"Completed"</th>
                                <th scope="col" class="num">"Failed"</th>
                                <th scope="col" class="num">"Cancelled"</th>
                                <th scope="col" class="num">"Agents created"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {
                                let rows = periods(&report);
                                // A period ends where the next listed one starts (periods in
                                // between finished no task).
                                let ends: Vec<i64> = rows
                                    .iter()
                                    .skip(1)
                                    .map(|r| r.0)
                                    .chain(std::iter::once(range.1))
                                    .collect();
                                rows.into_iter()
                                    .zip(ends)
                                    .map(|((start, c, f, x, a), end)| {
                                        let count = move |n: i64, status: &str| {
                                            if n == 0 {
                                                view! { <span>{n}</span> }.into_any()
                                            } else {
                                                let href = tasks_link(start.max(range.0), end, TasksQuery {
                                                    status: status.to_owned(),
                                                    ..TasksQuery::default()
                                                });
                                                view! { <a href=href>{n}</a> }.into_any()
                                            }
                                        };
                                        view! {
                                            <tr>
                                                <td>{period_label(&granularity, start)}</td>
                                                <td class="num">{count(c, "completed")}</td>
                                                <td class="num">{count(f, "failed")}</td>
                                                <td class="num">{count(x, "cancelled")}</td>
                                                <td class="num">{a}</td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()
                            }
                        </tbody>
                    </table>
                </div>
            </section>
        </div>
    }
    .into_any();
    let workflows = view! {
        <section class="card table-card">
            <h2>"Workflow efficiency"</h2>
            {kind_table(report.workflows.clone(), false, "workflows", range)}
        </section>
    }
    .into_any();
    let types = view! {
        <section class="card table-card">
            <h2>"Success and failure by task type"</h2>
            {kind_table(report.task_types.clone(), true, "task-types", range)}
        </section>
    }
    .into_any();
    let tops = view! {
        <div class="grid-2">
            <section class="card table-card">
                <h2>"Most expensive tasks"</h2>
                <div class="table-scroll" tabindex="0">
                    <table data-testid="top-tasks">
                        <thead>
                            <tr>
                                <th scope="col">"Task"</th>
                                <th scope="col">"Outcome"</th>
                                <th scope="col" class="num">"Cost"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {report
                                .top_tasks
                                .iter()
                                .map(|t| view! {
                                    <tr>
                                        <td class="ellipsis">
                                            <a href=format!("/tasks/{}", t.id) title=t.description.clone()>{t.description.clone()}</a>
                                        </td>
                                        <td title=timestamp(t.finished_at)>{t.status.clone()}</td>
                                        <td class="num">{cost_label(t.cost_micros, t.price_known)}</td>
                                    </tr>
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                </div>
            </section>
            <section class="card table-card">
                <h2>"Top-performing agents"</h2>
                <div class="table-scroll" tabindex="0">
                    <table data-testid="top-agents">
                        <thead>
                            <tr>
                                <th scope="col">"Agent"</th>
                                <th scope="col" class="num">"Calls"</th>
                                <th scope="col" class="num">"Success"</th>
                                <th scope="col" class="num">"Mean latency"</th>
                                <th scope="col" class="num">"Cost"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {report
                                .top_agents
                                .iter()
                                .map(|a| view! {
                                    <tr>
                                        <td>
                                            <a href=calls_url(&CallsQuery {
                                                agent: a.agent_id.clone(),
                                                from: range.0.to_string(),
                                                to: range.1.to_string(),
                                                ..CallsQuery::default()
                                            })>{a.label.clone()}</a>
                                        </td>
                                        <td class="num">{a.calls}</td>
                                        <td class="num">{percent((a.success_rate * 10_000.0).round() as i64, 10_000)}</td>
                                        <td class="num">{mean_ms(a.avg_latency_ms)}</td>
                                        <td class="num">{cost_label(a.cost_micros, a.unpriced_calls == 0)}</td>
                                    </tr>
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                </div>
                <p class="small muted">
                    {if report.top_agents.is_empty() {
                        "No agent has made 5 calls in this range yet."
                    } else {
                        "Agents with at least 5 calls, best success rate first."
                    }}
                </p>
            </section>
        </div>
    }
    .into_any();
    view! { {cards} {heat} {charts} {workflows} {types} {tops} }.into_any()
}

/// Periods with finished tasks or new agents: (start, completed, failed, cancelled, agents).
fn periods(report: &TrendsReport) -> Vec<(i64, i64, i64, i64, i64)> {
    let mut rows: std::collections::BTreeMap<i64, (i64, i64, i64, i64)> = Default::default();
    for p in &report.tasks {
        let row = rows.entry(p.start_ms).or_default();
        row.0 += p.completed;
        row.1 += p.failed;
        row.2 += p.cancelled;
    }
    for p in &report.agents_created {
        rows.entry(p.start_ms).or_default().3 += p.count;
    }
    rows.into_iter()
        .map(|(start, (c, f, x, a))| (start, c, f, x, a))
        .collect()
}
