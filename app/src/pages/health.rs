//! Health (`/system`, SPEC F-09; `/health` is the liveness probe): is the deployment working? Status with its problems, uptime,
//! failures of the last 24 hours, the last recorded check, queue, workers with their heartbeat,
//! providers' last success and failure, and the last failed tasks. It reloads when a task ends
//! (the `fleet` topic) and every 15 seconds, so a failure shows within seconds.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::health::{record_health_check, system_health};
use crate::components::stat_card::StatCard;
use crate::components::toast::{ToastKind, use_toasts};
use crate::pages::{PageHeader, Shape, loaded};
use wire::format::timestamp;
use wire::ops::SystemHealth;

/// How often the page reloads without events (heartbeats and queue age change silently).
#[cfg(feature = "hydrate")]
const POLL_MS: u64 = 15_000;

/// `/system`.
#[component]
pub fn HealthPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| system_health());
    let reload = crate::components::live::throttled(500, move || data.refetch());
    crate::components::live::use_live(vec!["fleet".into()], move |event| {
        if event
            .event_kind()
            .is_none_or(wire::events::EventKind::is_task)
        {
            reload();
        }
    });
    #[cfg(feature = "hydrate")]
    {
        let handle = set_interval_with_handle(
            move || data.refetch(),
            std::time::Duration::from_millis(POLL_MS),
        );
        on_cleanup(move || {
            if let Ok(h) = handle {
                h.clear();
            }
        });
    }
    let toasts = use_toasts();
    let check = Action::new(|_: &()| record_health_check());
    Effect::new(move |_| match check.value().get() {
        Some(Ok(h)) => {
            if let Some(t) = toasts {
                t.show(
                    if h.status == "ok" {
                        ToastKind::Success
                    } else {
                        ToastKind::Error
                    },
                    format!("Check recorded: {}", h.status),
                );
            }
            data.refetch();
        }
        Some(Err(e)) => {
            if let Some(t) = toasts {
                t.show(ToastKind::Error, e.to_string());
            }
        }
        None => {}
    });
    view! {
        <Title text="Health" />
        <PageHeader title="Health" subtitle="Is Fleetdeck working: database, queue, workers, providers and recent failures.">
            <button
                class="button button-secondary"
                data-testid="record-check"
                disabled=move || check.pending().get()
                on:click=move |_| {
                    check.dispatch(());
                }
            >
                "Record a check"
            </button>
        </PageHeader>
        {loaded(data, &[Shape::Line, Shape::Stats(6), Shape::Table(3)], |health| view! { <Health health /> })}
    }
}

/// `3 d 4 h`, `5 h 12 min`, `42 s`.
fn uptime(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        s => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}

fn at(ms: Option<i64>) -> String {
    ms.map_or_else(
        || "never".to_owned(),
        |ms| format!("{} UTC", timestamp(ms).get(0..19).unwrap_or_default()),
    )
}

#[component]
fn Health(health: SystemHealth) -> impl IntoView {
    let ok = health.status == "ok";
    let alive = health.workers.iter().filter(|w| w.alive).count();
    let last_check = health.last_check.clone();
    // Type-erased pieces: one view type for the whole page is too deep for the compiler.
    let banner = view! {
        <section
            class=if ok { "status-banner status-ok" } else { "status-banner status-degraded" }
            role="status"
            data-testid="health-status"
        >
            <strong>{if ok { "All systems working" } else { "Degraded" }}</strong>
            {(!ok).then(|| view! {
                <ul>{health.problems.iter().map(|p| view! { <li>{p.clone()}</li> }).collect_view()}</ul>
            })}
        </section>
    }
    .into_any();
    let cards = view! {
        <section class="stat-grid" aria-label="Health">
            <StatCard
                label="Uptime"
                value=uptime(health.uptime_secs)
                hint=format!("version {} · {} {:.1} ms", health.version, health.database, health.database_latency_ms)
                testid="health-uptime"
            />
            <StatCard
                label="Failed tasks, 24 h"
                value=health.failed_tasks_24h.to_string()
                hint=format!("{} of {} calls failed", health.failed_calls_24h, health.calls_24h)
                testid="health-failures"
            />
            <StatCard
                label="Last check"
                value=last_check.as_ref().map_or_else(|| "none yet".to_owned(), |c| {
                    let issues = c.detail.lines().filter(|l| !l.trim().is_empty()).count();
                    match issues {
                        0 => "OK".to_owned(),
                        1 => "1 issue".to_owned(),
                        n => format!("{n} issues"),
                    }
                })
                hint=last_check.as_ref().map_or_else(|| "POST /api/v1/system/health records one".to_owned(), |c| at(Some(c.created_at)))
                testid="health-last-check"
            />
            <StatCard
                label="Queued tasks"
                value=health.queued_tasks.to_string()
                hint=format!(
                    "{} running · {}",
                    health.running_tasks,
                    health.oldest_queued_at.map_or_else(|| "nothing waiting".to_owned(), |t| format!("oldest since {}", at(Some(t))))
                )
                testid="health-queue"
            />
            <StatCard
                label="Workers"
                value=format!("{alive} alive")
                hint=format!("{} known", health.workers.len())
                testid="health-workers"
            />
            <StatCard
                label="Retention"
                value=match &health.retention {
                    None => "not run yet".to_owned(),
                    Some(r) if r.finished_at.is_none() => "unfinished".to_owned(),
                    Some(r) => format!("ran {}", r.day),
                }
                hint=health.retention.as_ref().map_or_else(
                    || "daily, a minute after start and then hourly".to_owned(),
                    |r| format!(
                        "archived {} calls · {} events · {} tasks; filed {} calls · {} events; {} expired sign-ins removed",
                        r.archived_calls, r.archived_events, r.archived_tasks, r.exported_calls, r.exported_events, r.expired_sessions,
                    ),
                )
                testid="health-retention"
            />
        </section>
    }
    .into_any();
    let failures = view! {
        <section class="card table-card">
            <h2>"Recent failures"</h2>
            {if health.recent_failures.is_empty() {
                view! { <p class="small muted" data-testid="no-failures">"No task has failed."</p> }.into_any()
            } else {
                view! {
                    <div class="table-scroll" tabindex="0">
                        <table data-testid="recent-failures">
                            <thead>
                                <tr>
                                    <th scope="col">"Task"</th>
                                    <th scope="col">"Error"</th>
                                    <th scope="col">"When"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {health
                                    .recent_failures
                                    .iter()
                                    .map(|f| view! {
                                        <tr>
                                            <td class="ellipsis"><a href=format!("/tasks/{}", f.task_id) title=f.description.clone()>{f.description.clone()}</a></td>
                                            <td class="ellipsis" title=f.error.clone().unwrap_or_default()>{f.error.clone().unwrap_or_else(|| "—".to_owned())}</td>
                                            <td>{at(Some(f.finished_at))}</td>
                                        </tr>
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                    .into_any()
            }}
        </section>
    }
    .into_any();
    let details = view! {
        <div class="grid-2">
            <section class="card table-card">
                <h2>"Providers"</h2>
                <div class="table-scroll" tabindex="0">
                    <table data-testid="health-providers">
                        <thead>
                            <tr>
                                <th scope="col">"Provider"</th>
                                <th scope="col">"Last success"</th>
                                <th scope="col">"Last failure"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {health
                                .providers
                                .iter()
                                .map(|p| view! {
                                    <tr>
                                        <td>
                                            {p.name.clone()} " "
                                            {p.failing.then(|| view! { <span class="badge badge-bad">"failing"</span> })}
                                            {(!p.enabled).then(|| view! { <span class="badge">"disabled"</span> })}
                                        </td>
                                        <td>{at(p.last_success_at)}</td>
                                        <td>
                                            {at(p.last_failure_at)}
                                            {p.last_error.clone().map(|e| format!(" ({e})"))}
                                        </td>
                                    </tr>
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                </div>
            </section>
            <section class="card table-card">
                <h2>"Workers"</h2>
                <div class="table-scroll" tabindex="0">
                    <table data-testid="health-worker-list">
                        <thead>
                            <tr>
                                <th scope="col">"Host"</th>
                                <th scope="col" class="num">"Slots"</th>
                                <th scope="col">"Heartbeat"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {health
                                .workers
                                .iter()
                                .map(|w| view! {
                                    <tr>
                                        <td title=w.id.clone()>
                                            {format!("{} (pid {})", w.host, w.pid)} " "
                                            {if w.alive {
                                                view! { <span class="badge badge-ok">"alive"</span> }.into_any()
                                            } else {
                                                view! { <span class="badge badge-bad">"silent"</span> }.into_any()
                                            }}
                                        </td>
                                        <td class="num">{w.slots}</td>
                                        <td>{at(Some(w.heartbeat_at))}</td>
                                    </tr>
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                </div>
            </section>
        </div>
    }
    .into_any();
    view! { {banner} {cards} {failures} {details} }
}
