//! The tasks list: one row per task with its agents summarised ("5 agents", total tokens and
//! cost) and shown on demand, a working-directory line when one was chosen, and selection for
//! archiving or restoring several tasks at once.

use std::collections::BTreeSet;

use leptos::prelude::*;

use crate::api::tasks::{TasksQuery, archive_tasks, get_task, restore_tasks};
use crate::components::empty_state::EmptyState;
use crate::components::icons::{Icon, IconName};
use crate::components::more_pages::{LoadMore, MorePages as Pages};
use crate::components::toast::{ToastKind, use_toasts};
use wire::Page;
use wire::format::{cost_label, provider_kind_name, timestamp};
use wire::tasks::{Step, Task};

/// The tasks list's older pages.
pub type MorePages = Pages<TasksQuery>;

/// A page of tasks with paging links; `changed` runs after an archive or restore.
#[component]
pub fn TaskTable(
    page: Page<Task>,
    query: TasksQuery,
    more: MorePages,
    changed: Callback<()>,
) -> impl IntoView {
    if page.items.is_empty() {
        let (title, message) = if query.is_archived() && !query.q.is_empty() {
            (
                "No archived task matches",
                "No archived task's description contains these words.",
            )
        } else if query.is_archived() {
            (
                "No archived tasks",
                "Archive finished tasks to keep the list short: select them in the list, or let Settings → Tasks archive them after some days. Their records and costs stay.",
            )
        } else if !query.q.is_empty() {
            (
                "No task matches",
                "No task's description contains these words. Archived tasks are searched under “Archived”.",
            )
        } else if query.is_filtered() {
            (
                "No tasks match",
                "No task matches these filters (yet): tasks appear here as they finish.",
            )
        } else {
            (
                "No tasks yet",
                "Submit a task above: it runs as a workflow of agents and appears here with its live status, tokens and cost.",
            )
        };
        return view! { <EmptyState title=title message=message testid="tasks-empty" /> }
            .into_any();
    }
    let newest = (!query.cursor.is_empty()).then(|| {
        TasksQuery {
            cursor: String::new(),
            ..query.clone()
        }
        .url()
    });
    let archived_view = query.is_archived();
    let selected = RwSignal::new(BTreeSet::<String>::new());
    more.continue_from(&page);
    let first: Vec<String> = page
        .items
        .iter()
        .filter(|t| t.is_finished())
        .map(|t| t.id.clone())
        .collect();
    // Every finished task shown: the first page and those loaded while scrolling.
    let selectable = Memo::new(move |_| {
        let mut ids = first.clone();
        ids.extend(
            more.rows
                .read()
                .iter()
                .filter(|t| t.is_finished())
                .map(|t| t.id.clone()),
        );
        ids
    });
    let all_selected = move || {
        let s = selected.read();
        let ids = selectable.read();
        !ids.is_empty() && ids.iter().all(|id| s.contains(id))
    };
    let rows = page.items;
    view! {
        <Show when=move || more.stale.get()>
            <div class="stale-bar" role="status">
                <span>"Tasks have changed since you scrolled."</span>
                <button
                    class="button button-secondary"
                    type="button"
                    data-testid="show-latest"
                    on:click=move |_| {
                        more.reset(more.query.get_value());
                        changed.run(());
                    }
                >
                    "Show the latest"
                </button>
            </div>
        </Show>
        <BulkBar selected archived_view more changed />
        <div class="card table-scroll" tabindex="0">
            <table class="task-table" data-testid="task-table">
                <thead>
                    <tr>
                        <th class="select-cell">
                            <input
                                type="checkbox"
                                aria-label="Select every finished task shown"
                                data-testid="select-all-tasks"
                                disabled=move || selectable.read().is_empty()
                                prop:checked=all_selected
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    selected.update(|s| {
                                        for id in selectable.read_untracked().iter() {
                                            if on { s.insert(id.clone()); } else { s.remove(id); }
                                        }
                                    });
                                }
                            />
                        </th>
                        <th class="col-task">"Task"</th>
                        <th class="col-wide">"Workflow"</th>
                        <th>"Status"</th>
                        <th class="num col-wide">"Tokens"</th>
                        <th class="num">"Cost"</th>
                        <th class="col-wide">{if archived_view { "Archived" } else { "Created" }}</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|task| view! { <TaskRow task selected /> }).collect_view()}
                    <For each=move || more.rows.get() key=|t| t.id.clone() let:task>
                        <TaskRow task selected />
                    </For>
                </tbody>
            </table>
        </div>
        <LoadMore more newest noun="tasks" />
    }
    .into_any()
}

/// What to do with the selected tasks: archive them (or restore them, in the archive).
#[component]
fn BulkBar(
    selected: RwSignal<BTreeSet<String>>,
    archived_view: bool,
    more: MorePages,
    changed: Callback<()>,
) -> impl IntoView {
    let toasts = use_toasts();
    let act = Action::new(move |ids: &Vec<String>| {
        let ids = ids.clone();
        async move {
            if archived_view {
                restore_tasks(ids).await
            } else {
                archive_tasks(ids).await
            }
        }
    });
    Effect::new(move |_| {
        let Some(result) = act.value().get() else {
            return;
        };
        match result {
            Ok(n) => {
                let verb = if archived_view {
                    "restored"
                } else {
                    "archived"
                };
                let noun = if n == 1 { "task" } else { "tasks" };
                if let Some(t) = toasts {
                    t.show(ToastKind::Success, format!("{n} {noun} {verb}"));
                }
                // They leave this view, wherever they were shown.
                let gone = selected.get_untracked();
                more.rows
                    .update(|rows| rows.retain(|t| !gone.contains(&t.id)));
                selected.set(BTreeSet::new());
                changed.run(());
            }
            Err(e) => {
                if let Some(t) = toasts {
                    t.show(ToastKind::Error, e.to_string());
                }
            }
        }
    });
    let count = move || selected.read().len();
    let bar_class = move || {
        if count() > 0 {
            "bulk-bar bulk-bar-open"
        } else {
            "bulk-bar"
        }
    };
    view! {
        <div class=bar_class role="region" aria-label="Selected tasks" data-testid="bulk-bar">
            <span aria-live="polite">
                {move || match count() {
                    0 => String::new(),
                    1 => "1 task selected".to_owned(),
                    n => format!("{n} tasks selected"),
                }}
            </span>
            <Show when=move || { count() > 0 }>
                <button
                    class="button"
                    type="button"
                    data-testid="bulk-archive"
                    disabled=move || act.pending().get()
                    on:click=move |_| {
                        act.dispatch(selected.get_untracked().into_iter().collect());
                    }
                >
                    {if archived_view { "Restore" } else { "Archive" }}
                </button>
                <button class="button button-secondary" type="button" on:click=move |_| selected.set(BTreeSet::new())>
                    "Clear selection"
                </button>
            </Show>
        </div>
    }
    .into_any()
}

/// One task: its description, agents summary (expandable), working directory and figures.
#[component]
fn TaskRow(task: Task, selected: RwSignal<BTreeSet<String>>) -> impl IntoView {
    let open = RwSignal::new(false);
    let id = task.id.clone();
    let finished = task.is_finished();
    let check_id = id.clone();
    let toggle_id = id.clone();
    let agents = task.agents;
    let panel_id = format!("agents-{}", task.id);
    let when = task.archived_at.unwrap_or(task.created_at);
    // Signals, not closures over the id, so the row and its checkbox can each hold one.
    let is_selected = Memo::new({
        let id = id.clone();
        move |_| selected.read().contains(&id)
    });
    view! {
        <tr class:row-selected=is_selected data-testid="task-row">
            <td class="select-cell">
                {finished.then(|| view! {
                    <input
                        type="checkbox"
                        aria-label=format!("Select “{}”", short(&task.description))
                        data-testid="select-task"
                        prop:checked=is_selected
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            let id = check_id.clone();
                            selected.update(|s| { if on { s.insert(id); } else { s.remove(&id); } });
                        }
                    />
                })}
            </td>
            <td class="task-cell">
                <a href=format!("/tasks/{}", task.id)>{task.description.clone()}</a>
                <div class="task-meta small muted">
                    <button
                        type="button"
                        class="link-button"
                        aria-expanded=move || open.get().to_string()
                        aria-controls=panel_id.clone()
                        data-testid="show-agents"
                        on:click=move |_| open.update(|o| *o = !*o)
                    >
                        {move || format!(
                            "{} {} {}",
                            if open.get() { "Hide" } else { "Show" },
                            if agents == 1 { "1 agent".to_owned() } else { format!("{agents} agents") },
                            if open.get() { "▴" } else { "▾" },
                        )}
                    </button>
                    {task.workdir.clone().map(|dir| view! {
                        <span class="task-workdir" data-testid="task-workdir">
                            <Icon name=IconName::Folder />
                            <span class="sr-only">"Working directory "</span>
                            {dir}
                        </span>
                    })}
                </div>
            </td>
            <td class="col-wide">{task.workflow.replace('_', " ")}</td>
            <td class="col-status">
                <span class=format!("status status-{}", task.status) data-testid="task-status">
                    {task.status.clone()}
                </span>
            </td>
            <td class="num col-wide">{task.tokens().to_string()}</td>
            <td class="num col-cost">{cost_label(task.cost_micros, task.price_known())}</td>
            <td class="small col-wide">{timestamp(when)}</td>
        </tr>
        <Show when=move || open.get()>
            <tr class="agents-row" id=format!("agents-{toggle_id}")>
                <td></td>
                <td colspan="6">
                    <TaskAgents id=toggle_id.clone() />
                </td>
            </tr>
        </Show>
    }
    // Erased: a page of rows is otherwise one type too deep for the compiler (and bigger wasm).
    .into_any()
}

/// The agents of one task, each with the roles it ran, its model and its tokens and cost
/// (read when the row opens).
#[component]
fn TaskAgents(id: String) -> impl IntoView {
    let detail = Resource::new(move || id.clone(), get_task);
    view! {
        <Suspense fallback=|| view! { <div class="skeleton skeleton-line" aria-hidden="true"></div> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! { <AgentSummary steps=d.steps /> }.into_any(),
                    Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Steps grouped by agent, in plan order.
#[component]
fn AgentSummary(steps: Vec<Step>) -> impl IntoView {
    let mut agents: Vec<(Step, Vec<String>, i64, i64, bool)> = Vec::new();
    for s in steps {
        match agents.iter_mut().find(|a| a.0.agent_id == s.agent_id) {
            Some(a) => {
                a.1.push(s.role.clone());
                a.2 += s.prompt_tokens + s.completion_tokens;
                a.3 += s.cost_micros;
                a.4 &= s.price_known;
            }
            None => {
                let tokens = s.prompt_tokens + s.completion_tokens;
                let (cost, known) = (s.cost_micros, s.price_known);
                agents.push((s.clone(), vec![s.role], tokens, cost, known));
            }
        }
    }
    view! {
        <ul class="task-agents" data-testid="task-agents">
            {agents
                .into_iter()
                .map(|(s, roles, tokens, cost, known)| {
                    view! {
                        <li>
                            <span class="task-agent-roles">
                                {roles
                                    .into_iter()
                                    .map(|r| view! { <span class=format!("role-pill role-{}", r.to_lowercase())>{r.clone()}</span> })
                                    .collect_view()}
                            </span>
                            <a href=format!("/agents?edit={}", s.agent_id)>{s.agent_name.clone()}</a>
                            <span class="small muted">
                                {format!("{} · {}", provider_kind_name(&s.provider_kind), s.model)}
                            </span>
                            {s.simulated.then(|| view! { <span class="badge badge-sim">"Simulated"</span> })}
                            <span class="num small">{format!("{tokens} tokens")}</span>
                            <span class="num small">{cost_label(cost, known)}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// The first words of a description, for labels.
fn short(text: &str) -> String {
    let mut out: String = text.chars().take(60).collect();
    if text.chars().count() > 60 {
        out.push('…');
    }
    out
}
