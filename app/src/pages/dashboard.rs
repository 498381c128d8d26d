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
    // The fleet view follows the fleet and the running costs live.
    crate::components::live::use_live(vec!["fleet".into(), "costs".into()], move |event| {
        if event.kind != "token" {
            data.refetch();
        }
    });
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
        active,
    } = view;
    let active_count = active.len();
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
                label="Active agents"
                value=active_count.to_string()
                hint="working now"
                testid="stat-active"
            />
            <StatCard
                label="Running tasks"
                value=tasks_running.to_string()
                hint=format!("{tasks_queued} queued · {tasks_total} all time")
                testid="stat-running"
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
        <section class="card" aria-labelledby="fleet-title">
            <h2 id="fleet-title">"Fleet, live"</h2>
            {if active.is_empty() {
                view! { <p class="small muted" data-testid="fleet-idle">"No agent is working right now. Submit a task and its agents appear here as they start."</p> }.into_any()
            } else {
                view! {
                    <div class="agent-grid" data-testid="fleet">
                        {active.into_iter().map(|r| view! {
                            <a class="card agent-card step-card step-active live-card" href=format!("/tasks/{}", r.task_id)>
                                <header class="step-head">
                                    <span class=format!("role-pill role-{}", r.role.to_lowercase())>{r.role.clone()}</span>
                                    <span class="status status-active">"active"</span>
                                </header>
                                <h3>{r.agent_name.clone()}</h3>
                                <p class="agent-meta small">{r.model.clone()}
                                    {r.simulated.then(|| view! { " " <span class="badge badge-sim">"Simulated"</span> })}
                                </p>
                                <p class="small task-cell">{r.description.clone()}</p>
                                <p class="small num">{format!("{} tokens · {}", r.tokens, r.cost)}</p>
                            </a>
                        }).collect_view()}
                    </div>
                }.into_any()
            }}
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
