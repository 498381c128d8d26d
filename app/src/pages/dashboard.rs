//! The Dashboard: headline counts from the database and two charts.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::dashboard::get_dashboard;
use crate::components::chart::BarChart;
use crate::components::empty_state::EmptyState;
use crate::components::icons::{Icon, IconName};
use crate::components::role::role_color;
use crate::components::stat_card::StatCard;
use crate::model::DashboardView;
use crate::pages::{PageHeader, loaded};

/// `/`.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_dashboard());
    view! {
        <Title text="Dashboard" />
        <PageHeader title="Dashboard" subtitle="Your fleet at a glance.">
            <button
                class="button button-secondary"
                type="button"
                on:click=move |_| data.refetch()
                data-testid="refresh"
            >
                <Icon name=IconName::Refresh />
                "Refresh"
            </button>
        </PageHeader>
        {loaded(data, 6, |view| view! { <Dashboard view /> })}
    }
}

#[component]
fn Dashboard(view: DashboardView) -> impl IntoView {
    let DashboardView {
        agents,
        providers,
        tasks_total,
        tasks_running,
        tasks_queued,
        calls_today,
        tokens_today,
        cost_today,
        agents_by_role,
        calls_per_day,
    } = view;
    let any_calls = calls_per_day.iter().any(|d| d.calls > 0);
    let role_colors: Vec<String> = agents_by_role
        .iter()
        .map(|r| role_color(&r.role).to_owned())
        .collect();
    let (role_labels, role_values): (Vec<_>, Vec<_>) = agents_by_role
        .into_iter()
        .map(|r| (r.role, r.count))
        .unzip();
    let (day_labels, day_values): (Vec<_>, Vec<_>) = calls_per_day
        .into_iter()
        .map(|d| (d.label, d.calls))
        .unzip();
    view! {
        <section class="stat-grid" aria-label="Totals">
            <StatCard
                label="Agents"
                value=agents.to_string()
                hint=format!("{providers} provider{}", if providers == 1 { "" } else { "s" })
                testid="stat-agents"
            />
            <StatCard
                label="Running tasks"
                value=tasks_running.to_string()
                hint=format!("{tasks_queued} queued")
                testid="stat-running"
            />
            <StatCard
                label="Tasks"
                value=tasks_total.to_string()
                hint="all time"
                testid="stat-tasks"
            />
            <StatCard
                label="LLM calls today"
                value=calls_today.to_string()
                hint="since 00:00 UTC"
                testid="stat-calls"
            />
            <StatCard
                label="Tokens today"
                value=tokens_today.to_string()
                hint="prompt + completion"
                testid="stat-tokens"
            />
            <StatCard label="Cost today" value=cost_today hint="since 00:00 UTC" testid="stat-cost" />
        </section>
        <section class="card-grid">
            <div class="card">
                <h2>"Agents by role"</h2>
                {if agents > 0 {
                    view! {
                        <BarChart
                            id="chart-roles"
                            aria_label=format!("Bar chart of {agents} agents by role")
                            labels=role_labels
                            values=role_values
                            series="Agents"
                            colors=role_colors
                            all_labels=true
                        />
                    }
                        .into_any()
                } else {
                    view! {
                        <EmptyState
                            title="No agents yet"
                            message="Agents you define appear here, grouped by role."
                        />
                    }
                        .into_any()
                }}
            </div>
            <div class="card">
                <h2>"LLM calls, last 14 days"</h2>
                {if any_calls {
                    view! {
                        <BarChart
                            id="chart-calls"
                            aria_label="Bar chart of LLM calls per day over the last 14 days".to_owned()
                            labels=day_labels
                            values=day_values
                            series="Calls"
                        />
                    }
                        .into_any()
                } else {
                    view! {
                        <EmptyState
                            title="No LLM calls yet"
                            message="Every call an agent makes is counted here, per day, with its cost."
                            testid="calls-empty"
                        />
                    }
                        .into_any()
                }}
            </div>
        </section>
    }
}
