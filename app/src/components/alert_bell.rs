//! The bell in the top bar: how many alerts are open (not yet acknowledged), kept live over
//! the `alerts` topic, and a toast when a new one opens.

use leptos::prelude::*;

use crate::api::alerts::get_alert_counts;
use crate::components::icons::{Icon, IconName};
use crate::components::toast::{ToastKind, use_toasts};

/// The bell, linking to `/alerts`.
#[component]
pub fn AlertBell() -> impl IntoView {
    let counts = Resource::new(|| (), |_| get_alert_counts());
    // What live events said since the page loaded (newer than the resource's answer).
    let live = RwSignal::new(None::<i64>);
    let connected = StoredValue::new(false);
    let toasts = use_toasts();
    crate::components::live::use_live(vec!["alerts".into()], move |event| {
        if let Some(open) = event.data["counts"]["open"].as_i64() {
            live.set(Some(open));
        } else if event.event_kind().is_none() {
            // Reconnected (or reset): what the server says now. The first connection follows
            // the server-rendered count, which is fresh: no request for it (every page has
            // the bell, and `/api` is rate-limited per client).
            if connected.get_value() || event.kind == "reset" {
                live.set(None);
                counts.refetch();
            }
            connected.set_value(true);
        }
        if event.data["action"] == "opened"
            && let Some(t) = toasts
        {
            let alert = &event.data["alert"];
            let kind = if alert["severity"] == "critical" {
                ToastKind::Error
            } else {
                ToastKind::Info
            };
            t.show(
                kind,
                format!("Alert: {}", alert["title"].as_str().unwrap_or("new alert")),
            );
        }
    });
    view! {
        // Read in a transition: the count renders on the server, and hydrates without a
        // mismatch; live events override it from then on.
        <Transition fallback=move || view! { <BellLink open=Signal::derive(move || live.get()) /> }>
            {move || Suspend::new(async move {
                let fetched = counts.await.ok().map(|c| c.open);
                view! { <BellLink open=Signal::derive(move || live.get().or(fetched)) /> }
            })}
        </Transition>
    }
}

/// The bell itself, with `open` alerts.
#[component]
fn BellLink(open: Signal<Option<i64>>) -> impl IntoView {
    view! {
        <a
            class="bell"
            href="/alerts"
            data-testid="alert-bell"
            aria-label=move || match open.get() {
                Some(n) if n > 0 => format!("Alerts: {n} open"),
                _ => "Alerts: none open".to_owned(),
            }
        >
            <Icon name=IconName::Bell />
            {move || {
                open.get()
                    .filter(|n| *n > 0)
                    .map(|n| {
                        view! {
                            <span class="bell-count" data-testid="alert-bell-count">
                                {if n > 99 { "99+".to_owned() } else { n.to_string() }}
                            </span>
                        }
                    })
            }}
        </a>
    }
}
