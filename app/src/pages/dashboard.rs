//! The Dashboard: headline counts from the database and two charts.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::dashboard::get_dashboard;
use crate::components::chart::BarChart;
use crate::components::empty_state::EmptyState;
use crate::components::icons::{Icon, IconName};
use crate::components::role::role_color;
use crate::components::stat_card::StatCard;
use crate::pages::{PageHeader, Shape, loaded};
use wire::dashboard::DashboardStats;
use wire::format::{day_label, format_micros};

/// What `costs` events added since the Dashboard last loaded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct LiveDelta {
    calls: i64,
    tokens: i64,
    cost_micros: i64,
    unpriced: i64,
}

/// How long the Dashboard waits, after something changed in the fleet, before it reloads: at
/// most one reload per interval however busy the fleet is.
const RELOAD_AFTER_MS: u64 = 2_000;

/// `/`.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_dashboard());
    // Live totals: `costs` events carry deltas, added to what was loaded; fleet changes
    // (tasks and steps starting and ending) schedule one reload, throttled.
    let live = RwSignal::new(LiveDelta::default());
    Effect::new(move |_| {
        if let Some(Ok(_)) = data.get() {
            live.set(LiveDelta::default());
        }
    });
    let schedule_reload =
        crate::components::live::throttled(RELOAD_AFTER_MS, move || data.refetch());
    crate::components::live::use_live(vec!["fleet".into(), "costs".into()], move |event| {
        use wire::events::EventKind as K;
        match (event.topic.as_str(), event.event_kind()) {
            ("costs", Some(K::CostUpdate)) => {
                let d = &event.data;
                let n = |k: &str| d[k].as_i64().unwrap_or(0);
                live.update(|l| {
                    l.calls += n("calls");
                    l.tokens += n("prompt_tokens") + n("completion_tokens");
                    l.cost_micros += n("delta_micros");
                    l.unpriced += n("unpriced_calls");
                });
                // Deltas keep the numbers moving between reloads, but a delta published just
                // after a reload read the database may already be in it: a reload after the
                // last one makes the figures exact again once the fleet is quiet.
                schedule_reload();
            }
            (_, Some(K::Token | K::ToolCall | K::FileChange | K::CostUpdate)) => {}
            // Anything else — a task or step starting or ending, a reconnection, a reset —
            // changes what the fleet view shows.
            _ => schedule_reload(),
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
        {loaded(data, &[Shape::Stats(6), Shape::Panels(1), Shape::Cards(2)], move |view| view! { <Dashboard view live /> })}
    }
}

#[component]
fn Dashboard(view: DashboardStats, live: RwSignal<LiveDelta>) -> impl IntoView {
    let DashboardStats {
        agents,
        providers,
        tasks_total,
        tasks_running,
        tasks_queued,
        calls_today,
        tokens_today,
        cost_today_micros,
        unpriced_today,
        active_agents,
        agents_by_role,
        calls_per_day,
        active_runs: active,
    } = view;
    let calls_live = move || (calls_today + live.get().calls).to_string();
    let tokens_live = move || (tokens_today + live.get().tokens).to_string();
    let cost_live = move || {
        let l = live.get();
        wire::cost_label(
            cost_today_micros + l.cost_micros,
            unpriced_today + l.unpriced == 0,
        )
    };
    let any_calls = calls_per_day.iter().any(|d| d.calls > 0);
    let role_colors: Vec<String> = agents_by_role
        .iter()
        .map(|r| role_color(&r.role).to_owned())
        .collect();
    let (role_labels, role_values): (Vec<_>, Vec<_>) = agents_by_role
        .into_iter()
        .map(|r| (r.role, r.count as f64))
        .unzip();
    let (day_labels, day_values): (Vec<_>, Vec<_>) = calls_per_day
        .into_iter()
        .map(|d| (day_label(d.day_ms), d.calls as f64))
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
                value=active_agents.to_string()
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
                value=calls_live
                hint="since 00:00 UTC"
                testid="stat-calls"
            />
            <StatCard
                label="Tokens today"
                value=tokens_live
                hint="prompt + completion"
                testid="stat-tokens"
            />
            <StatCard label="Cost today" value=cost_live hint="since 00:00 UTC" testid="stat-cost" />
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
                                    {(r.provider_kind == "simulator").then(|| view! { " " <span class="badge badge-sim">"Simulated"</span> })}
                                </p>
                                <p class="small task-cell">{r.description.clone()}</p>
                                <p class="small num">{format!("{} tokens · {}", r.tokens, format_micros(r.cost_micros))}</p>
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
