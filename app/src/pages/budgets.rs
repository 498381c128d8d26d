//! `/budgets`: each budget's period as a bar — spent, held by calls under way, the alert
//! thresholds — with the projection to the period's end; admins make and delete budgets.
//! The bars follow the fleet live (task events) and every few seconds.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::budgets::{
    BudgetsView, CreateBudget, DeleteBudget, SetTimeZone, UpdateBudget, list_budgets,
};
use crate::components::agent_search::AgentSearch;
use crate::components::empty_state::EmptyState;
use crate::components::toast::{ToastKind, use_toasts};
use crate::pages::{PageHeader, Shape, loaded};
use wire::budgets::Budget;
use wire::format::{day_label, format_micros};

/// How often the bars are re-read when no event comes.
#[cfg(feature = "hydrate")]
const POLL_MS: u64 = 10_000;

/// `/budgets`.
#[component]
pub fn BudgetsPage() -> impl IntoView {
    let create = ServerAction::<CreateBudget>::new();
    let delete = ServerAction::<DeleteBudget>::new();
    let update = ServerAction::<UpdateBudget>::new();
    let zone = ServerAction::<SetTimeZone>::new();
    let data = Resource::new(
        move || {
            (
                create.version().get(),
                delete.version().get(),
                update.version().get(),
                zone.version().get(),
            )
        },
        |_| list_budgets(),
    );
    let reload = crate::components::live::throttled(1_000, move || data.refetch());
    crate::components::live::use_live(vec!["fleet".into()], move |_| reload());
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
    Effect::new(move |_| {
        if let (Some(result), Some(t)) = (create.value().get(), toasts) {
            match result {
                Ok(b) => t.show(ToastKind::Success, format!("Budget {} created", b.name)),
                Err(e) => t.show(ToastKind::Error, e.to_string()),
            }
        }
    });
    Effect::new(move |_| {
        if let (Some(result), Some(t)) = (update.value().get(), toasts) {
            match result {
                Ok(b) => t.show(ToastKind::Success, format!("Budget {} saved", b.name)),
                Err(e) => t.show(ToastKind::Error, e.to_string()),
            }
        }
    });
    Effect::new(move |_| {
        if let (Some(result), Some(t)) = (zone.value().get(), toasts) {
            match result {
                Ok(()) => t.show(ToastKind::Success, "Time zone saved"),
                Err(e) => t.show(ToastKind::Error, e.to_string()),
            }
        }
    });
    Effect::new(move |_| {
        if let (Some(result), Some(t)) = (delete.value().get(), toasts) {
            match result {
                Ok(()) => t.show(ToastKind::Success, "Budget deleted"),
                Err(e) => t.show(ToastKind::Error, e.to_string()),
            }
        }
    });
    view! {
        <Title text="Budgets" />
        <PageHeader
            title="Budgets"
            subtitle="What the fleet may spend per day, week or month. Hard budgets refuse a call before it starts if its worst case would pass the limit."
        />
        {loaded(data, &[Shape::Cards(2), Shape::Panels(1)], move |view: BudgetsView| {
            let admin = !view.subjects.is_empty();
            let empty = view.budgets.is_empty();
            let time_zone = view.time_zone.clone();
            view! {
                <p class="muted budget-zone" data-testid="budget-zone">
                    {format!("Days, weeks (from Monday) and months follow the workspace's time zone: {time_zone}.")}
                </p>
                {if empty {
                    view! {
                        <EmptyState
                            title="No budgets yet"
                            message="Spending is not limited. An admin can add a budget for the workspace, an agent, a member or an API key below."
                            testid="budgets-empty"
                        />
                    }
                        .into_any()
                } else {
                    view! {
                        <div class="budget-list">
                            {view
                                .budgets
                                .into_iter()
                                .map(|b| view! { <BudgetCard budget=b admin delete update /> })
                                .collect_view()}
                        </div>
                    }
                        .into_any()
                }}
                {admin.then(|| view! { <NewBudget subjects=view.subjects more_agents=view.more_agents create open=empty /> })}
                {admin.then(|| view! {
                    <section class="card">
                        <details>
                            <summary>"Time zone"</summary>
                            <ActionForm action=zone attr:class="inline-form">
                                <label>
                                    "IANA name"
                                    <input name="time_zone" required value=view.time_zone.clone()
                                        placeholder="Europe/Paris" data-testid="budget-zone-input" />
                                </label>
                                <button class="button" type="submit">"Save"</button>
                            </ActionForm>
                            <p class="muted">"Periods under way keep their bounds; the next ones follow the new zone."</p>
                        </details>
                    </section>
                })}
            }
        })}
    }
}

/// `width: N%` for a share of the limit (at most the whole bar).
fn share(part: i64, whole: i64) -> f64 {
    if whole <= 0 {
        return 0.0;
    }
    (part.max(0) as f64 * 100.0 / whole as f64).clamp(0.0, 100.0)
}

#[component]
fn BudgetCard(
    budget: Budget,
    admin: bool,
    delete: ServerAction<DeleteBudget>,
    update: ServerAction<UpdateBudget>,
) -> impl IntoView {
    let p = &budget.current;
    let amount = budget.amount_micros;
    let used = p.spent_micros + p.reserved_micros;
    // Any spend shows as a sliver, however small against the limit.
    let spent_pct = match share(p.spent_micros, amount) {
        pct if p.spent_micros > 0 => pct.max(0.6),
        pct => pct,
    };
    let reserved_pct = share(p.reserved_micros, amount).min(100.0 - spent_pct);
    let state = if p.spent_micros >= amount {
        "budget-over"
    } else if used * 100 >= amount * 80 {
        "budget-warn"
    } else {
        "budget-ok"
    };
    let projection = match p.projected_micros {
        Some(projected) if projected > amount => view! {
            <span class="budget-projection budget-projection-over" data-testid="budget-projection">
                {format!("Projected {} by {} — over the limit", format_micros(projected), day_label(p.end_ms - 1))}
            </span>
        }
            .into_any(),
        Some(projected) => view! {
            <span class="budget-projection" data-testid="budget-projection">
                {format!("Projected {} by {}", format_micros(projected), day_label(p.end_ms - 1))}
            </span>
        }
            .into_any(),
        None => view! {
            <span class="budget-projection muted" data-testid="budget-projection">
                "Projection after the period's first hour"
            </span>
        }
            .into_any(),
    };
    let label = format!(
        "{} spent and {} held of {} this {}",
        format_micros(p.spent_micros),
        format_micros(p.reserved_micros),
        format_micros(amount),
        budget.period
    );
    let markers = budget
        .thresholds
        .iter()
        .filter(|t| **t < 100)
        .map(|t| {
            view! { <span class="budget-threshold" style=format!("left: {t}%") title=format!("Alert at {t}%")></span> }
        })
        .collect_view();
    let id = budget.id.clone();
    let name = budget.name.clone();
    let edited = budget.clone();
    view! {
        <article class=format!("card budget-card {state}") data-testid="budget-card">
            <header class="budget-head">
                <h2>{budget.name.clone()}</h2>
                {if budget.hard {
                    view! { <span class="badge badge-bad" title="Calls that would pass the limit are refused">"Hard stop"</span> }.into_any()
                } else {
                    view! { <span class="badge" title="Alerts only: calls are never refused">"Soft"</span> }.into_any()
                }}
            </header>
            <p class="muted budget-subject">
                {format!(
                    "{} · per {} · resets {}",
                    budget.subject_label,
                    budget.period,
                    day_label(p.end_ms).replace(' ', "\u{a0}")
                )}
            </p>
            <div class="budget-bar" role="img" aria-label=label.clone()>
                <div class="budget-spent" style=format!("width: {spent_pct:.2}%") data-testid="budget-spent-bar"></div>
                <div class="budget-reserved" style=format!("width: {reserved_pct:.2}%")></div>
                {markers}
            </div>
            <p class="budget-figures">
                <span data-testid="budget-spent">
                    <strong>{format_micros(p.spent_micros)}</strong>
                    {format!(" spent of {}", format_micros(amount))}
                </span>
                {(p.reserved_micros > 0).then(|| view! {
                    <span class="muted">{format!("{} held by calls under way", format_micros(p.reserved_micros))}</span>
                })}
                <span class="muted">{format!("{} calls", p.calls)}</span>
                {projection}
            </p>
            {admin.then(|| view! {
                <div class="alert-actions">
                    <button class="button button-secondary button-small" type="button"
                        aria-label=format!("Delete budget {name}")
                        on:click=move |_| { delete.dispatch(DeleteBudget { id: id.clone() }); }>
                        "Delete"
                    </button>
                </div>
                <EditBudget budget=edited update />
            })}
        </article>
    }
}

/// The budget's settings as a form (admins): what it applies to stays; what its periods spent
/// stays too.
#[component]
fn EditBudget(budget: Budget, update: ServerAction<UpdateBudget>) -> impl IntoView {
    let amount = format!("{:.2}", budget.amount_micros as f64 / 1_000_000.0);
    // Amounts under a cent keep their digits.
    let amount = if budget.amount_micros % 10_000 == 0 {
        amount
    } else {
        (budget.amount_micros as f64 / 1_000_000.0).to_string()
    };
    let thresholds = budget
        .thresholds
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let period = budget.period.clone();
    view! {
        <details class="budget-edit">
            <summary data-testid="budget-edit">"Edit"</summary>
            <ActionForm action=update attr:class="provider-form">
                <input type="hidden" name="id" value=budget.id.clone() />
                <input type="hidden" name="applies_to" value=format!("{}:{}", budget.scope, budget.subject_id) />
                <label>"Name" <input name="name" required maxlength="100" value=budget.name.clone() /></label>
                <label>
                    "Period"
                    <select name="period">
                        {[("month", "Month"), ("week", "Week (from Monday)"), ("day", "Day")].into_iter().map(|(v, l)| view! {
                            <option value=v selected=period == v>{l}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>"Limit (USD)" <input name="amount_usd" required inputmode="decimal" value=amount data-testid="budget-edit-amount" /></label>
                <label>"Alert at (%)" <input name="thresholds" value=thresholds /></label>
                <label class="checkbox">
                    <input type="checkbox" name="hard" value="on" checked=budget.hard />
                    "Hard stop: refuse calls that would pass the limit"
                </label>
                <button class="button" type="submit" data-testid="budget-edit-submit">"Save"</button>
            </ActionForm>
        </details>
    }
}

#[component]
fn NewBudget(
    subjects: Vec<crate::api::budgets::Subject>,
    more_agents: bool,
    create: ServerAction<CreateBudget>,
    open: bool,
) -> impl IntoView {
    // The select is the form's field; an agent found by the search joins its choices (after
    // "The whole workspace") and is chosen.
    let searchable = more_agents
        || subjects
            .iter()
            .filter(|s| s.value.starts_with("agent:"))
            .count()
            > 12;
    let chosen = RwSignal::new(
        subjects
            .first()
            .map(|s| s.value.clone())
            .unwrap_or_default(),
    );
    let subjects = RwSignal::new(subjects);
    let add_agent = Callback::new(move |a: wire::agents::AgentSummary| {
        let value = format!("agent:{}", a.id);
        subjects.update(|list| {
            if !list.iter().any(|s| s.value == value) {
                let at = list.len().min(1);
                list.insert(
                    at,
                    crate::api::budgets::Subject {
                        value: value.clone(),
                        label: format!("Agent · {}", a.name),
                    },
                );
            }
        });
        chosen.set(value);
    });
    view! {
        <section class="card">
            <details open=open>
                <summary>"New budget"</summary>
                <ActionForm action=create attr:class="provider-form" attr:data-testid="budget-form">
                    <label>"Name" <input name="name" required maxlength="100" placeholder="Monthly fleet spend" data-testid="budget-name" /></label>
                    <label>
                        "Applies to"
                        <select
                            name="applies_to"
                            data-testid="budget-subject"
                            prop:value=move || chosen.get()
                            on:change=move |ev| chosen.set(event_target_value(&ev))
                        >
                            {move || subjects.get().into_iter().map(|s| {
                                let selected = s.value == chosen.get_untracked();
                                view! { <option value=s.value selected=selected>{s.label}</option> }
                            }).collect_view()}
                        </select>
                        {more_agents.then(|| view! {
                            <span class="muted small" data-testid="budget-more-agents">
                                {format!("The list holds the first {} agents by name; “Find any agent” searches them all.", crate::api::budgets::AGENT_CHOICES)}
                            </span>
                        })}
                    </label>
                    {searchable.then(|| view! { <AgentSearch id="budget-find" on_pick=add_agent /> })}
                    <label>
                        "Period"
                        <select name="period" data-testid="budget-period">
                            <option value="month">"Month"</option>
                            <option value="week">"Week (from Monday)"</option>
                            <option value="day">"Day"</option>
                        </select>
                    </label>
                    <label>"Limit (USD)" <input name="amount_usd" required inputmode="decimal" placeholder="50.00" data-testid="budget-amount" /></label>
                    <label>"Alert at (%)" <input name="thresholds" value="50, 80, 100" data-testid="budget-thresholds" /></label>
                    <label class="checkbox">
                        <input type="checkbox" name="hard" value="on" checked data-testid="budget-hard" />
                        "Hard stop: refuse calls that would pass the limit"
                    </label>
                    <button class="button" type="submit" data-testid="budget-submit">"Create budget"</button>
                </ActionForm>
            </details>
        </section>
    }
}
