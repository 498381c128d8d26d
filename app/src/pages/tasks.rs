//! Tasks: what the fleet has been asked to do.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::dashboard::get_dashboard;
use crate::components::empty_state::EmptyState;
use crate::components::stat_card::StatCard;
use crate::model::DashboardView;
use crate::pages::{PageHeader, loaded};

/// `/tasks`.
#[component]
pub fn TasksPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_dashboard());
    view! {
        <Title text="Tasks" />
        <PageHeader title="Tasks" subtitle="Requests run as workflows of agents." />
        {loaded(data, 3, |d| view! { <TaskSummary view=d /> })}
    }
}

#[component]
fn TaskSummary(view: DashboardView) -> impl IntoView {
    if view.tasks_total == 0 {
        return view! {
            <EmptyState
                title="No tasks yet"
                message="Each task runs as a workflow of agents (analyst, planner, builder, tester, reviewer) and appears here with its live status, tokens and cost."
                testid="tasks-empty"
            />
        }
            .into_any();
    }
    view! {
        <section class="stat-grid" aria-label="Tasks">
            <StatCard label="All tasks" value=view.tasks_total.to_string() testid="tasks-total" />
            <StatCard label="Running" value=view.tasks_running.to_string() testid="tasks-running" />
            <StatCard label="Queued" value=view.tasks_queued.to_string() testid="tasks-queued" />
        </section>
    }
    .into_any()
}
