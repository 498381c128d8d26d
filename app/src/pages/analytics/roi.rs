//! The ANALYST ROI view (`/analytics/roi`): does the ANALYST step pay for itself? Comparable
//! tasks (one workflow at one complexity) with and without it, side by side.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{RangeBar, use_range};
use crate::api::analytics::analyst_roi;
use crate::components::empty_state::EmptyState;
use crate::components::stat_card::StatCard;
use crate::pages::{PageHeader, Shape, loaded};
use wire::analytics::{AnalystRoi, TaskStats};
use wire::format::cost_label;
use wire::format::duration;

/// `/analytics/roi`.
#[component]
pub fn RoiPage() -> impl IntoView {
    let range = use_range();
    let report = Resource::new(move || range.get(), |r| analyst_roi(r.range, r.from, r.to));
    view! {
        <Title text="ANALYST ROI · Analytics" />
        <PageHeader title="Analytics" subtitle="Does the ANALYST pay for itself? Comparable tasks with and without it." />
        <RangeBar path="/analytics/roi" range keep=Signal::derive(Vec::new) />
        {loaded(report, &[Shape::Stats(4), Shape::Panels(1)], |report| view! { <Roi report /> })}
    }
}

fn rate(s: &TaskStats) -> String {
    s.success_rate()
        .map_or_else(|| "—".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

fn per_success(s: &TaskStats) -> String {
    s.cost_per_success_micros().map_or_else(
        || "—".to_owned(),
        |c| cost_label(c.round() as i64, s.unpriced_tasks == 0),
    )
}

/// "+4.0 pts", "−12%": how the side with the ANALYST compares.
fn delta(with: Option<f64>, without: Option<f64>, points: bool) -> String {
    match (with, without) {
        (Some(w), Some(o)) if points => format!("{:+.1} pts", (w - o) * 100.0),
        (Some(w), Some(o)) if o > 0.0 => format!("{:+.0}%", (w / o - 1.0) * 100.0),
        _ => "—".to_owned(),
    }
}

#[component]
fn Roi(report: AnalystRoi) -> impl IntoView {
    if report.rows.is_empty() {
        return view! {
            <EmptyState
                title="No finished tasks in this range"
                message="Once tasks finish, this page compares those that ran an ANALYST step with comparable ones that did not."
                testid="roi-empty"
            />
        }
        .into_any();
    }
    let (w, o) = (report.with_analyst.clone(), report.without_analyst.clone());
    let summary = if report.comparable_kinds == 0 {
        "No workflow and complexity has finished tasks both with and without an ANALYST yet: the comparison needs both.".to_owned()
    } else {
        format!(
            "Over {} comparable kind{} of task: {} with the ANALYST, {} without.",
            report.comparable_kinds,
            if report.comparable_kinds == 1 {
                ""
            } else {
                "s"
            },
            w.tasks,
            o.tasks
        )
    };
    // Totals only mean something over kinds with tasks on both sides.
    let cards = (report.comparable_kinds > 0).then(|| {
        view! {
        <section class="stat-grid" aria-label="With and without the ANALYST">
            <StatCard
                label="Success with / without"
                value=format!("{} / {}", rate(&w), rate(&o))
                hint=delta(w.success_rate(), o.success_rate(), true)
                testid="roi-success"
            />
            <StatCard
                label="Cost per success"
                value=format!("{} / {}", per_success(&w), per_success(&o))
                hint=delta(w.cost_per_success_micros(), o.cost_per_success_micros(), false)
                testid="roi-cost"
            />
            <StatCard
                label="Average duration"
                value=format!("{} / {}", duration(w.avg_duration_ms()), duration(o.avg_duration_ms()))
                hint=delta(w.avg_duration_ms(), o.avg_duration_ms(), false)
                testid="roi-duration"
            />
        </section>
        }
    });
    view! {
        <p class="lead" data-testid="roi-summary">{summary}</p>
{cards}
        <section class="card table-card">
            <h2>"By workflow and complexity"</h2>
            <div class="table-scroll" tabindex="0">
                <table data-testid="roi-table">
                    <thead>
                        <tr>
                            <th scope="col">"Workflow"</th>
                            <th scope="col">"Complexity"</th>
                            <th scope="col" class="num">"Tasks with / without"</th>
                            <th scope="col" class="num">"Success with / without"</th>
                            <th scope="col" class="num">"Cost per success with / without"</th>
                            <th scope="col" class="num">"Avg time with / without"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {report
                            .rows
                            .iter()
                            .map(|r| {
                                let (w, o) = (&r.with_analyst, &r.without_analyst);
                                view! {
                                    <tr>
                                        <td>{r.workflow.replace('_', " ")}</td>
                                        <td>{r.complexity.clone()}</td>
                                        <td class="num">{format!("{} / {}", w.tasks, o.tasks)}</td>
                                        <td class="num">{format!("{} / {}", rate(w), rate(o))}</td>
                                        <td class="num">{format!("{} / {}", per_success(w), per_success(o))}</td>
                                        <td class="num">{format!("{} / {}", duration(w.avg_duration_ms()), duration(o.avg_duration_ms()))}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
            <p class="small muted">
                "Cost per success divides every task's cost (failed ones included) by the completed ones. "
                "Only rows with tasks on both sides count in the totals above."
            </p>
        </section>
    }
    .into_any()
}
