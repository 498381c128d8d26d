//! `/alerts`: what the rules opened — active alerts (open, then acknowledged) with Acknowledge
//! and Resolve, and the resolved history. The list follows the `alerts` topic live.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::alerts::{AcknowledgeAlert, AlertsView, ResolveAlert, list_alerts};
use crate::components::empty_state::EmptyState;
use crate::components::toast::{ToastKind, use_toasts};
use crate::pages::{PageHeader, Shape, loaded};
use wire::alerts::Alert;
use wire::format::timestamp;

/// What the rules are called on the page.
pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "budget_threshold" => "Budget threshold",
        "cost_spike" => "Cost spike",
        "stuck_agent" => "Stuck agent",
        "context_window" => "Context window",
        "failure_rate" => "Failure rate",
        "agent_cost" => "High cost per agent",
        _ => "Alert",
    }
}

/// The badge class of a severity.
pub fn severity_class(severity: &str) -> &'static str {
    match severity {
        "critical" => "badge badge-bad",
        "warning" => "badge badge-warn",
        _ => "badge",
    }
}

/// `/alerts` (`?state=resolved` for the history).
#[component]
pub fn AlertsPage() -> impl IntoView {
    let query = use_query_map();
    let history = Memo::new(move |_| query.read().get("state").as_deref() == Some("resolved"));
    let acknowledge = ServerAction::<AcknowledgeAlert>::new();
    let resolve = ServerAction::<ResolveAlert>::new();
    let data = Resource::new(
        move || {
            (
                history.get(),
                acknowledge.version().get(),
                resolve.version().get(),
            )
        },
        |(history, _, _)| list_alerts(if history { "resolved" } else { "active" }.to_owned()),
    );
    let reload = crate::components::live::throttled(500, move || data.refetch());
    crate::components::live::use_live(vec!["alerts".into()], move |_| reload());
    let toasts = use_toasts();
    Effect::new(move |_| {
        if let (Some(Err(e)), Some(t)) = (acknowledge.value().get(), toasts) {
            t.show(ToastKind::Error, e.to_string());
        }
    });
    Effect::new(move |_| {
        if let (Some(Err(e)), Some(t)) = (resolve.value().get(), toasts) {
            t.show(ToastKind::Error, e.to_string());
        }
    });
    view! {
        <Title text="Alerts" />
        <PageHeader
            title="Alerts"
            subtitle="What the rules noticed: budgets passing a threshold, cost spikes, stuck agents, full context windows, failing calls."
        >
            <a class="button button-secondary" href="/alerts/rules" data-testid="alert-rules-link">"Rules and channels"</a>
        </PageHeader>
        <nav class="tabs" aria-label="Alert states">
            <a href="/alerts" class:active=move || !history.get()
                aria-current=move || (!history.get()).then_some("page")>"Active"</a>
            <a href="/alerts?state=resolved" class:active=move || history.get()
                aria-current=move || history.get().then_some("page") data-testid="alerts-history">"History"</a>
        </nav>
        {loaded(data, &[Shape::Table(4)], move |view: AlertsView| {
            let empty = view.alerts.is_empty();
            let can_act = view.can_act;
            if empty {
                let (title, message) = if history.get_untracked() {
                    ("Nothing resolved yet", "Alerts land here once they are resolved, by someone or because their condition cleared.")
                } else {
                    ("All clear", "No alert is open. Rules watch budgets, spending, stuck agents, context windows and failures; new alerts appear here at once.")
                };
                view! { <EmptyState title message testid="alerts-empty" /> }.into_any()
            } else {
                view! {
                    <ul class="alert-list" data-testid="alert-list">
                        {view
                            .alerts
                            .into_iter()
                            .map(|a| view! { <AlertItem alert=a can_act acknowledge resolve /> })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }
        })}
    }
}

#[component]
fn AlertItem(
    alert: Alert,
    can_act: bool,
    acknowledge: ServerAction<AcknowledgeAlert>,
    resolve: ServerAction<ResolveAlert>,
) -> impl IntoView {
    let state_line = match alert.state.as_str() {
        "acknowledged" => format!(
            "Acknowledged by {} · {}",
            alert.acknowledged_by.clone().unwrap_or_default(),
            timestamp(alert.acknowledged_at.unwrap_or(alert.opened_at))
        ),
        "resolved" => match &alert.resolved_by {
            Some(who) => format!(
                "Resolved by {who} · {}",
                timestamp(alert.resolved_at.unwrap_or(alert.opened_at))
            ),
            None => format!(
                "Cleared by itself · {}",
                timestamp(alert.resolved_at.unwrap_or(alert.opened_at))
            ),
        },
        _ => "Open".to_owned(),
    };
    let (ack_id, resolve_id) = (alert.id.clone(), alert.id.clone());
    let open = alert.state == "open";
    let active = alert.state != "resolved";
    let title = alert.title.clone();
    view! {
        <li class=format!("card alert-item alert-{}", alert.state) data-testid="alert-item">
            <div class="alert-head">
                <span class=severity_class(&alert.severity)>{alert.severity.clone()}</span>
                <span class="muted">{kind_label(&alert.kind)}</span>
                <span class="muted alert-time">{timestamp(alert.opened_at)}</span>
            </div>
            <h2 class="alert-title">{alert.title.clone()}</h2>
            <p class="alert-message">{alert.message.clone()}</p>
            <p class="muted alert-state" data-testid="alert-state">{state_line}</p>
            <div class="alert-actions">
                {(!alert.link.is_empty()).then(|| view! {
                    <a class="button button-secondary button-small" href=alert.link.clone()>"View"</a>
                })}
                {(can_act && open).then(|| {
                    let label = format!("Acknowledge: {title}");
                    view! {
                        <button class="button button-small" type="button" aria-label=label
                            data-testid="alert-acknowledge"
                            on:click=move |_| { acknowledge.dispatch(AcknowledgeAlert { id: ack_id.clone() }); }>
                            "Acknowledge"
                        </button>
                    }
                })}
                {(can_act && active).then(|| {
                    let label = format!("Resolve: {}", alert.title);
                    view! {
                        <button class="button button-secondary button-small" type="button" aria-label=label
                            data-testid="alert-resolve"
                            on:click=move |_| { resolve.dispatch(ResolveAlert { id: resolve_id.clone() }); }>
                            "Resolve"
                        </button>
                    }
                })}
            </div>
        </li>
    }
}
