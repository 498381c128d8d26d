//! `/alerts/rules`: the rules (every member reads them; admins switch them on and off and set
//! their numbers) and, for admins, the notification channels — webhooks and e-mail — with a
//! "send test" button and each channel's delivery log.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::alerts::{
    AlertSettings, ChannelLog, CreateChannel, DeleteChannel, TestChannel, UpdateAlertRule,
    get_alert_settings,
};
use crate::components::empty_state::EmptyState;
use crate::components::toast::{ToastKind, use_toasts};
use crate::pages::alerts::kind_label;
use crate::pages::{PageHeader, Shape, loaded};
use wire::alerts::{AlertRule, Delivery};
use wire::format::timestamp;

/// `/alerts/rules`.
#[component]
pub fn AlertRulesPage() -> impl IntoView {
    let update = ServerAction::<UpdateAlertRule>::new();
    let create = ServerAction::<CreateChannel>::new();
    let delete = ServerAction::<DeleteChannel>::new();
    let test = ServerAction::<TestChannel>::new();
    let data = Resource::new(
        move || {
            (
                update.version().get(),
                create.version().get(),
                delete.version().get(),
                test.version().get(),
            )
        },
        |_| get_alert_settings(),
    );
    // A new webhook's signing secret, shown once.
    let secret = RwSignal::new(None::<(String, String)>);
    let toasts = use_toasts();
    Effect::new(move |_| {
        if let (Some(result), Some(t)) = (update.value().get(), toasts) {
            match result {
                Ok(rule) => t.show(
                    ToastKind::Success,
                    format!("{} saved", kind_label(&rule.kind)),
                ),
                Err(e) => t.show(ToastKind::Error, e.to_string()),
            }
        }
    });
    Effect::new(move |_| {
        if let (Some(result), Some(t)) = (create.value().get(), toasts) {
            match result {
                Ok(made) => {
                    t.show(
                        ToastKind::Success,
                        format!("Channel {} added", made.channel.name),
                    );
                    secret.set(made.signing_secret.map(|s| (made.channel.name, s)));
                }
                Err(e) => t.show(ToastKind::Error, e.to_string()),
            }
        }
    });
    Effect::new(move |_| {
        if let (Some(result), Some(t)) = (test.value().get(), toasts) {
            match result {
                Ok(d) if d.state == "delivered" => t.show(ToastKind::Success, "Test delivered"),
                Ok(d) => t.show(
                    ToastKind::Error,
                    format!(
                        "Test failed: {}",
                        d.last_error.unwrap_or_else(|| "no answer".to_owned())
                    ),
                ),
                Err(e) => t.show(ToastKind::Error, e.to_string()),
            }
        }
    });
    Effect::new(move |_| {
        if let (Some(result), Some(t)) = (delete.value().get(), toasts) {
            match result {
                Ok(()) => t.show(ToastKind::Success, "Channel deleted"),
                Err(e) => t.show(ToastKind::Error, e.to_string()),
            }
        }
    });
    view! {
        <Title text="Alert rules" />
        <PageHeader
            title="Alert rules"
            subtitle="What opens an alert, and where alerts go besides this app. One alert per rule and subject: a condition that persists never floods anyone."
        >
            <a class="button button-secondary" href="/alerts">"Back to alerts"</a>
        </PageHeader>
        {loaded(data, &[Shape::Panels(2)], move |view: AlertSettings| {
            let admin = view.admin;
            view! {
                <section class="rule-list" aria-label="Rules">
                    {view.rules.into_iter().map(|r| view! { <RuleCard rule=r admin update /> }).collect_view()}
                </section>
                {admin.then(|| view! {
                    <h2 class="section-title">"Notification channels"</h2>
                    <p class="muted">
                        "Every alert shows here and in the bell. Channels also get the alerts at or above their minimum severity, retried with backoff for about half an hour."
                    </p>
                    {move || secret.get().map(|(name, value)| view! {
                        <div class="card secret-once" role="status" data-testid="channel-secret">
                            <p><strong>{format!("Signing secret of {name}")}</strong>" — shown only now. Each request carries "
                                <code>"X-Fleetdeck-Signature: t=…,v1=…"</code>
                                ", the HMAC-SHA256 of "<code>"t.body"</code>" under this secret."</p>
                            <code class="secret-value">{value}</code>
                        </div>
                    })}
                    <ChannelList channels=view.channels.clone() mail=view.mail_configured test delete />
                    <NewChannel create mail=view.mail_configured open=view.channels.is_empty() />
                })}
            }
        })}
    }
}

#[component]
fn RuleCard(rule: AlertRule, admin: bool, update: ServerAction<UpdateAlertRule>) -> impl IntoView {
    let params: Vec<(String, String, String)> = rule
        .param_help
        .iter()
        .map(|(key, help)| {
            // Whole numbers without a trailing `.0`.
            let value = rule
                .params
                .get(key)
                .and_then(serde_json::Value::as_f64)
                .map(|n| {
                    if n.fract() == 0.0 {
                        format!("{n:.0}")
                    } else {
                        n.to_string()
                    }
                })
                .unwrap_or_default();
            (key.clone(), help.clone(), value)
        })
        .collect();
    let kind = rule.kind.clone();
    let id = format!("rule-{}", rule.kind);
    let summary = if params.is_empty() {
        String::new()
    } else {
        params
            .iter()
            .map(|(k, _, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(" · ")
    };
    view! {
        <article class="card rule-card" data-testid="rule-card" data-kind=rule.kind.clone()>
            <header class="rule-head">
                <h2 id=id.clone()>{kind_label(&rule.kind)}</h2>
                {if rule.enabled {
                    view! { <span class="badge badge-ok" data-testid="rule-state">"On"</span> }.into_any()
                } else {
                    view! { <span class="badge" data-testid="rule-state">"Off"</span> }.into_any()
                }}
            </header>
            <p class="muted">{rule.description.clone()}</p>
            {if admin {
                view! {
                    <ActionForm action=update attr:class="rule-form" attr:aria-labelledby=id>
                        <input type="hidden" name="kind" value=kind.clone() />
                        <label class="checkbox">
                            <input type="checkbox" name="enabled" value="on" checked=rule.enabled
                                data-testid="rule-enabled" />
                            "On"
                        </label>
                        <label>
                            "Severity"
                            <select name="severity">
                                {["info", "warning", "critical"].into_iter().map(|s| view! {
                                    <option value=s selected=rule.severity == s>{s}</option>
                                }).collect_view()}
                            </select>
                        </label>
                        {params.into_iter().map(|(key, help, value)| {
                            view! {
                                <label>
                                    {help}
                                    <input name=format!("params[{key}]") value=value inputmode="decimal" required
                                        data-testid=format!("rule-param-{key}") />
                                </label>
                            }
                        }).collect_view()}
                        <button class="button button-small" type="submit" data-testid="rule-save">"Save"</button>
                    </ActionForm>
                }
                    .into_any()
            } else {
                view! { <p class="rule-params">{summary}</p> }.into_any()
            }}
        </article>
    }
}

fn delivery_line(d: &Delivery) -> String {
    let status = d
        .last_status
        .map(|s| format!(" · HTTP {s}"))
        .unwrap_or_default();
    let error = d
        .last_error
        .as_ref()
        .map(|e| format!(" · {e}"))
        .unwrap_or_default();
    format!(
        "{} · {} · {} attempt{}{status}{error}",
        timestamp(d.created_at),
        d.title,
        d.attempts,
        if d.attempts == 1 { "" } else { "s" }
    )
}

#[component]
fn ChannelList(
    channels: Vec<ChannelLog>,
    mail: bool,
    test: ServerAction<TestChannel>,
    delete: ServerAction<DeleteChannel>,
) -> impl IntoView {
    if channels.is_empty() {
        return view! {
            <EmptyState
                title="No channels yet"
                message="Alerts show in the app only. Add a Slack or Discord webhook, any HTTPS endpoint, or e-mail addresses below."
                testid="channels-empty"
            />
        }
        .into_any();
    }
    view! {
        <div class="channel-list">
            {channels.into_iter().map(|log| {
                let c = log.channel;
                let (test_id, delete_id) = (c.id.clone(), c.id.clone());
                let name = c.name.clone();
                let kind = if c.kind == "webhook" {
                    format!("Webhook ({})", c.format)
                } else {
                    "E-mail".to_owned()
                };
                let warn_mail = c.kind == "email" && !mail;
                view! {
                    <article class="card channel-card" data-testid="channel-card">
                        <header class="rule-head">
                            <h3>{c.name.clone()}</h3>
                            <span class="badge">{kind}</span>
                            {(!c.enabled).then(|| view! { <span class="badge">"Off"</span> })}
                        </header>
                        <p class="muted channel-target">{format!("{} · {} and above", c.target, c.min_severity)}</p>
                        {warn_mail.then(|| view! {
                            <p class="fallback-note">"No SMTP server is configured (FLEETDECK_SMTP_URL): e-mails cannot be sent."</p>
                        })}
                        <div class="alert-actions">
                            <button class="button button-small" type="button" data-testid="channel-test"
                                aria-label=format!("Send test to {name}")
                                on:click=move |_| { test.dispatch(TestChannel { id: test_id.clone() }); }>
                                "Send test"
                            </button>
                            <button class="button button-secondary button-small" type="button"
                                aria-label=format!("Delete channel {name}")
                                on:click=move |_| { delete.dispatch(DeleteChannel { id: delete_id.clone() }); }>
                                "Delete"
                            </button>
                        </div>
                        <details>
                            <summary>{format!("Delivery log ({})", log.deliveries.len())}</summary>
                            {if log.deliveries.is_empty() {
                                view! { <p class="muted">"Nothing sent yet."</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="delivery-log" data-testid="delivery-log">
                                        {log.deliveries.iter().map(|d| {
                                            let badge = match d.state.as_str() {
                                                "delivered" => "badge badge-ok",
                                                "failed" => "badge badge-bad",
                                                _ => "badge",
                                            };
                                            view! {
                                                <li>
                                                    <span class=badge>{d.state.clone()}</span>
                                                    " "
                                                    <span class="muted">{delivery_line(d)}</span>
                                                </li>
                                            }
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                        </details>
                    </article>
                }
            }).collect_view()}
        </div>
    }
    .into_any()
}

#[component]
fn NewChannel(create: ServerAction<CreateChannel>, mail: bool, open: bool) -> impl IntoView {
    view! {
        <section class="card">
            <details open=open>
                <summary>"New channel"</summary>
                <ActionForm action=create attr:class="provider-form" attr:data-testid="channel-form">
                    <label>"Name" <input name="name" required maxlength="100" placeholder="On-call Slack" data-testid="channel-name" /></label>
                    <label>
                        "Kind"
                        <select name="kind" data-testid="channel-kind">
                            <option value="webhook">"Webhook"</option>
                            <option value="email">{if mail { "E-mail" } else { "E-mail (needs SMTP)" }}</option>
                        </select>
                    </label>
                    <label>"URL or addresses" <input name="target" required placeholder="https://hooks.slack.com/services/… or ops@example.com" data-testid="channel-target" /></label>
                    <label>
                        "Webhook format"
                        <select name="format">
                            <option value="slack">"Slack"</option>
                            <option value="discord">"Discord"</option>
                            <option value="generic">"Generic JSON"</option>
                        </select>
                    </label>
                    <label>
                        "Send from"
                        <select name="min_severity">
                            <option value="info">"Info"</option>
                            <option value="warning" selected>"Warning"</option>
                            <option value="critical">"Critical"</option>
                        </select>
                    </label>
                    <button class="button" type="submit" data-testid="channel-submit">"Add channel"</button>
                </ActionForm>
            </details>
        </section>
    }
}
