//! Tasks: what the fleet has been asked to do.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::dashboard::get_dashboard;
use crate::components::empty_state::EmptyState;
use crate::components::load_error::LoadError;
use crate::components::stat_card::StatCard;
use crate::pages::{PageHeader, Skeleton};

/// `/tasks`.
#[component]
pub fn TasksPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_dashboard());
    let retry = Callback::new(move |_| data.refetch());
    view! {
        <Title text="Tasks" />
        <PageHeader title="Tasks" subtitle="Requests run as workflows of agents." />
        <Suspense fallback=|| view! { <Skeleton count=3 /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) if d.tasks_total == 0 => {
                        view! {
                            <EmptyState
                                title="No tasks yet"
                                message="Each task runs as a workflow of agents (analyst, planner, builder, tester, reviewer) and appears here with its live status, tokens and cost."
                                testid="tasks-empty"
                            />
                        }
                            .into_any()
                    }
                    Ok(d) => {
                        view! {
                            <section class="stat-grid" aria-label="Tasks">
                                <StatCard label="All tasks" value=d.tasks_total.to_string() testid="tasks-total" />
                                <StatCard label="Running" value=d.tasks_running.to_string() testid="tasks-running" />
                                <StatCard label="Queued" value=d.tasks_queued.to_string() testid="tasks-queued" />
                            </section>
                        }
                            .into_any()
                    }
                    Err(error) => view! { <LoadError error retry /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
