//! Analytics: usage and cost over time, from the hourly rollups.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::dashboard::get_dashboard;
use crate::components::chart::BarChart;
use crate::components::empty_state::EmptyState;
use crate::pages::{PageHeader, loaded};
use wire::dashboard::DashboardStats;
use wire::format::{day_label, format_micros};

/// `/analytics`.
#[component]
pub fn AnalyticsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_dashboard());
    view! {
        <Title text="Analytics" />
        <PageHeader title="Analytics" subtitle="Cost, tokens and calls over time." />
        {loaded(data, 2, |d| view! { <Usage view=d /> })}
    }
}

#[component]
fn Usage(view: DashboardStats) -> impl IntoView {
    if view.calls_per_day.iter().all(|day| day.calls == 0) {
        return view! {
            <EmptyState
                title="No LLM calls recorded yet"
                message="Once agents run, this page breaks their calls, tokens and cost down by day, provider, model and agent."
                testid="analytics-empty"
            />
        }
            .into_any();
    }
    let rows = view.calls_per_day.clone();
    let (labels, values): (Vec<_>, Vec<_>) = view
        .calls_per_day
        .into_iter()
        .map(|day| (day_label(day.day_ms), day.calls))
        .unzip();
    view! {
        <div class="card">
            <h2>"LLM calls per day"</h2>
            <BarChart
                id="chart-analytics-calls"
                aria_label="Bar chart of LLM calls per day".to_owned()
                labels
                values
                series="Calls"
            />
        </div>
        <div class="card table-card">
            <h2>"By day"</h2>
            <table>
                <thead>
                    <tr>
                        <th scope="col">"Day"</th>
                        <th scope="col" class="num">"Calls"</th>
                        <th scope="col" class="num">"Cost"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .rev()
                        .map(|day| {
                            view! {
                                <tr>
                                    <td>{day_label(day.day_ms)}</td>
                                    <td class="num">{day.calls}</td>
                                    <td class="num">{format_micros(day.cost_micros)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
