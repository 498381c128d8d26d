//! Tasks: submit a task (with a live complexity and cost estimate) and follow the list live.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::tasks::{SubmitTask, TasksQuery, estimate_task, list_tasks, workdir_options};
use crate::components::live::use_live;
use crate::components::toast::{ToastKind, use_toasts};
use crate::pages::task_table::{MorePages, TaskTable};
use crate::pages::{PageHeader, Shape, loaded};
use wire::format::{cost_label, timestamp};
use wire::tasks::Estimate;

/// The workflow templates the form offers: (name, label, steps).
const WORKFLOWS: [(&str, &str, &str); 5] = [
    (
        "feature_implementation",
        "Feature implementation",
        "analyst → planner → builder → tester → reviewer",
    ),
    (
        "bug_fix",
        "Bug fix",
        "analyst → builder → tester → reviewer",
    ),
    ("code_review", "Code review", "analyst → reviewer"),
    (
        "documentation",
        "Documentation",
        "analyst → planner → builder → reviewer",
    ),
    ("custom", "Custom", "the roles you list"),
];

/// `/tasks`: the form and the newest tasks; with filters in the URL (Analytics links here
/// with the tasks behind a bar), those tasks, 50 at a time.
#[component]
pub fn TasksPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| {
        let p = params.read();
        let get = |name: &str| p.get(name).unwrap_or_default();
        TasksQuery {
            status: get("status"),
            workflow: get("workflow"),
            complexity: get("complexity"),
            finished_from: get("finished_from"),
            finished_to: get("finished_to"),
            min_duration_ms: get("min_duration_ms"),
            max_duration_ms: get("max_duration_ms"),
            q: get("q"),
            archived: get("archived"),
            cursor: get("cursor"),
        }
    });
    let tasks = Resource::new(move || query.get(), list_tasks);
    // Made with the page, not inside the form (which is built when the list is unfiltered):
    // the router then waits for it, and the working-directory field is in the page it shows
    // instead of arriving after it and pushing the list down.
    let workdirs = Resource::new(|| (), |_| workdir_options());
    let more = MorePages::new(query.get_untracked());
    // A new filter forgets the older pages (not on the first run: the first page has just set
    // where they continue from).
    Effect::watch(
        move || query.get(),
        move |q, _, _| more.reset(q.clone()),
        false,
    );
    use_live(vec!["fleet".into()], move |event| {
        // A task's own events, or a (re)connection or reset after which the list reloads —
        // unless the reader is down in older pages: then the list says so and waits.
        if event
            .event_kind()
            .is_none_or(wire::events::EventKind::is_task)
        {
            if more.extended() {
                more.stale.set(true);
            } else {
                tasks.refetch();
            }
        }
    });
    view! {
        <Title text="Tasks" />
        <PageHeader title="Tasks" subtitle="Requests run as workflows of agents, live." />
        {move || {
            let q = query.get();
            if q.is_filtered() {
                view! { <FilterSummary query=q /> }.into_any()
            } else if q.is_archived() {
                ().into_any()
            } else {
                view! { <NewTask workdirs /> }.into_any()
            }
        }}
        {move || view! { <ListBar query=query.get() /> }}
        {loaded(
            tasks,
            &[Shape::Table(10)],
            move |page| {
                view! {
                    <TaskTable page query=query.get_untracked() more changed=Callback::new(move |_| tasks.refetch()) />
                }
            },
        )}
    }
}

/// The list's heading with its search and the way to the archive and back (all in the URL).
#[component]
fn ListBar(query: TasksQuery) -> impl IntoView {
    let archived = query.is_archived();
    let switch = TasksQuery {
        archived: if archived {
            String::new()
        } else {
            "1".to_owned()
        },
        q: query.q.clone(),
        ..TasksQuery::default()
    }
    .url();
    view! {
        <div class="list-bar">
            <h2 class="section-title">{if archived { "Archived tasks" } else { "Recent tasks" }}</h2>
            <form class="list-search" method="get" action="/tasks" role="search" data-testid="task-search-form">
                {archived.then(|| view! { <input type="hidden" name="archived" value="1" /> })}
                <label class="sr-only" for="task-search">
                    {if archived { "Search archived tasks" } else { "Search tasks" }}
                </label>
                <input
                    id="task-search"
                    type="search"
                    name="q"
                    value=query.q.clone()
                    placeholder=if archived { "Search archived tasks" } else { "Search tasks" }
                    data-testid="task-search"
                />
                <button class="button button-secondary" type="submit">"Search"</button>
            </form>
            <a class="button button-secondary" href=switch data-testid="toggle-archived">
                {if archived { "← Back to tasks" } else { "Archived" }}
            </a>
        </div>
    }
}

/// What the list is filtered by, in words, with a way back to every task.
#[component]
fn FilterSummary(query: TasksQuery) -> impl IntoView {
    let number = |raw: &str| raw.parse::<i64>().ok();
    let mut parts: Vec<String> = Vec::new();
    if !query.status.is_empty() {
        parts.push(query.status.clone());
    }
    if !query.workflow.is_empty() {
        parts.push(query.workflow.replace('_', " "));
    }
    if !query.complexity.is_empty() {
        parts.push(query.complexity.clone());
    }
    let at = |ms: i64| format!("{} UTC", timestamp(ms).get(0..16).unwrap_or_default());
    match (number(&query.finished_from), number(&query.finished_to)) {
        (Some(f), Some(t)) => parts.push(format!("finished {} – {}", at(f), at(t))),
        (Some(f), None) => parts.push(format!("finished since {}", at(f))),
        (None, Some(t)) => parts.push(format!("finished before {}", at(t))),
        (None, None) => {}
    }
    let took = |ms: i64| wire::format::duration(Some(ms as f64));
    match (
        number(&query.min_duration_ms),
        number(&query.max_duration_ms),
    ) {
        (Some(lo), Some(hi)) => parts.push(format!("took {} – {}", took(lo), took(hi))),
        (Some(lo), None) => parts.push(format!("took over {}", took(lo))),
        (None, Some(hi)) => parts.push(format!("took up to {}", took(hi))),
        (None, None) => {}
    }
    view! {
        <p class="card task-filters" data-testid="task-filters">
            "Showing tasks: " <strong>{parts.join(" · ")}</strong> " "
            <a href="/tasks">"All tasks"</a>
        </p>
    }
}

#[component]
fn NewTask(
    /// Where tasks may run and the recent choices (the page's resource).
    workdirs: Resource<Result<wire::tasks::WorkdirOptions, crate::model::AppError>>,
) -> impl IntoView {
    let description = RwSignal::new(String::new());
    let workflow = RwSignal::new("feature_implementation".to_owned());
    let force_analyst = RwSignal::new(false);
    let steps = RwSignal::new(String::new());
    let workdir = RwSignal::new(String::new());
    let estimate = Resource::new(
        move || {
            (
                description.get(),
                workflow.get(),
                force_analyst.get(),
                steps.get(),
            )
        },
        |(d, w, f, s)| async move {
            if d.trim().is_empty() {
                None
            } else {
                Some(estimate_task(d, w, f, s).await)
            }
        },
    );
    let submit = ServerAction::<SubmitTask>::new();
    let toasts = use_toasts();
    let navigate = use_navigate();
    // `?new=1` (the palette, Ctrl/Cmd+T) puts the cursor in the description.
    let field = NodeRef::<leptos::html::Textarea>::new();
    let params = leptos_router::hooks::use_query_map();
    Effect::new(move |_| {
        if params.read().get("new").is_some()
            && let Some(field) = field.get()
        {
            let _ = field.focus();
        }
    });
    Effect::new(move |_| match submit.value().get() {
        Some(Ok(id)) => {
            if let Some(t) = toasts {
                t.show(ToastKind::Success, "Task submitted: 1 credit used");
            }
            navigate(&format!("/tasks/{id}"), Default::default());
        }
        Some(Err(e)) => {
            if let Some(t) = toasts {
                t.show(ToastKind::Error, e.to_string());
            }
        }
        None => {}
    });
    view! {
        <section class="card new-task" aria-labelledby="new-task-title">
            <h2 id="new-task-title">"New task"</h2>
            <form
                class="task-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    submit.dispatch(SubmitTask {
                        description: description.get_untracked(),
                        workflow: workflow.get_untracked(),
                        force_analyst: force_analyst.get_untracked(),
                        steps: steps.get_untracked(),
                        workdir: workdir.get_untracked(),
                    });
                }
            >
                <label for="task-description">"What should the fleet do?"</label>
                <textarea
                    node_ref=field
                    id="task-description"
                    name="description"
                    rows="3"
                    required
                    data-testid="task-description"
                    placeholder="e.g. Add rate limiting to the public API with per-key quotas"
                    prop:value=move || description.get()
                    on:input=move |ev| description.set(event_target_value(&ev))
                ></textarea>
                <div class="task-options">
                    <label>
                        "Workflow"
                        <select
                            name="workflow"
                            data-testid="task-workflow"
                            on:change=move |ev| workflow.set(event_target_value(&ev))
                        >
                            {WORKFLOWS
                                .iter()
                                .map(|(value, label, _)| {
                                    view! {
                                        <option value=*value selected=move || workflow.get() == *value>
                                            {*label}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                    </label>
                    <Show when=move || workflow.get() == "custom">
                        <label>
                            "Steps (roles, comma separated)"
                            <input
                                name="steps"
                                placeholder="BUILDER, REVIEWER"
                                prop:value=move || steps.get()
                                on:input=move |ev| steps.set(event_target_value(&ev))
                            />
                        </label>
                    </Show>
                    <label class="checkbox">
                        <input
                            type="checkbox"
                            data-testid="force-analyst"
                            prop:checked=move || force_analyst.get()
                            on:change=move |ev| force_analyst.set(event_target_checked(&ev))
                        />
                        "Force include ANALYST"
                    </label>
                </div>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        workdirs.await.ok().and_then(|o| o.root.clone().map(|root| (root, o.recent)))
                            .map(|(root, recent)| view! { <WorkdirField value=workdir root recent /> })
                    })}
                </Transition>
                <p class="small muted">
                    {move || {
                        WORKFLOWS
                            .iter()
                            .find(|w| w.0 == workflow.get())
                            .map(|w| w.2)
                            .unwrap_or_default()
                    }}
                </p>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match estimate.await {
                            Some(Ok(e)) => view! { <EstimatePanel estimate=e /> }.into_any(),
                            Some(Err(e)) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                            None => view! {
                                <p class="small muted">"Describe the task to see its plan and estimated cost."</p>
                            }
                                .into_any(),
                        }
                    })}
                </Transition>
                <div class="form-actions">
                    <button
                        class="button"
                        type="submit"
                        data-testid="submit-task"
                        disabled=move || submit.pending().get() || description.get().trim().is_empty()
                    >
                        {move || if submit.pending().get() { "Submitting…" } else { "Run task (1 credit)" }}
                    </button>
                </div>
            </form>
        </section>
    }
}

/// The working directory: under the workspace's allowed root, with the user's recent choices.
#[component]
fn WorkdirField(value: RwSignal<String>, root: String, recent: Vec<String>) -> impl IntoView {
    view! {
        <div class="workdir-field">
            <label for="task-workdir">"Working directory (optional)"</label>
            <input
                id="task-workdir"
                name="workdir"
                list="recent-workdirs"
                autocomplete="off"
                spellcheck="false"
                data-testid="task-workdir"
                placeholder=format!("{root}/…")
                aria-describedby="task-workdir-hint"
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
            <datalist id="recent-workdirs">
                {recent.iter().map(|p| view! { <option value=p.clone()></option> }).collect_view()}
            </datalist>
            <p class="small muted" id="task-workdir-hint">
                "An existing directory under " <code>{root.clone()}</code>
                ", absolute or relative to it. Empty: the task gets a directory of its own."
            </p>
            {(!recent.is_empty()).then(|| view! {
                <div class="recent-workdirs" data-testid="recent-workdirs">
                    <span class="small muted">"Recent:"</span>
                    {recent
                        .into_iter()
                        .map(|p| {
                            let pick = p.clone();
                            view! {
                                <button type="button" class="chip" on:click=move |_| value.set(pick.clone())>{p}</button>
                            }
                        })
                        .collect_view()}
                </div>
            })}
        </div>
    }
}

#[component]
fn EstimatePanel(estimate: Estimate) -> impl IntoView {
    let simulated = estimate.steps.iter().any(|s| s.simulated);
    view! {
        <div class="estimate" data-testid="estimate">
            <p class="estimate-message">
                <strong data-testid="complexity-message">{estimate.message.clone()}</strong>
                " · estimated "
                <span class="num" data-testid="estimate-cost">{cost_label(estimate.estimated_cost_micros, estimate.price_known)}</span>
                " · ~"
                {estimate.estimated_tokens.to_string()}
                " tokens"
                {simulated.then(|| view! { <span class="badge badge-sim">"Simulated"</span> })}
            </p>
            <ol class="plan">
                {estimate
                    .steps
                    .into_iter()
                    .map(|s| {
                        view! {
                            <li class="plan-step">
                                <span class=format!("role-pill role-{}", s.role.to_lowercase())>{s.role.clone()}</span>
                                <span class="small">{s.agent_name} " · " {s.model}</span>
                                <span class="num small">{cost_label(s.cost_micros, s.price_known)}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </div>
    }
}
