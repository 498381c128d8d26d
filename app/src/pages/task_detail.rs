//! `/tasks/:id`: one task, live — workflow progress, one card per agent with its streaming
//! output, running cost and tokens, Cancel and Re-run, the conversation viewer and file diffs.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::api::tasks::{
    archive_tasks, cancel_task, get_task, rerun_task, restore_tasks, task_records,
};
use crate::components::live::use_live;
use crate::components::toast::{ToastKind, use_toasts};
use crate::pages::{Shape, loaded};
use wire::format::{context_percent, cost_label, timestamp};
use wire::tasks::{FileChange, RunConversation, Step, TaskDetail, TaskRecords};

/// `/tasks/:id`.
#[component]
pub fn TaskDetailPage() -> impl IntoView {
    let params = use_params_map();
    // The task's id as a signal, not a view rebuilt per id: the resources are then made with
    // the page, and the router waits for their data before showing it (as for every page).
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let task = Resource::new(move || id.get(), get_task);
    let records = Resource::new(move || id.get(), task_records);
    // Streamed text per step index, appended as token events arrive.
    let streams: RwSignal<HashMap<i64, String>> = RwSignal::new(HashMap::new());
    view! {
        // The live subscription is per task: made again (and the old one dropped) when the
        // address names another task.
        {move || {
            let id = id.get();
            view! { <LiveTask id task records streams /> }
        }}
        {loaded(task, &[Shape::Line, Shape::Stats(4), Shape::Panels(1)], move |t| view! { <TaskBody view=t streams /> })}
        <h2 class="section-title">"Conversation"</h2>
        {loaded(records, &[Shape::Table(3)], |r| view! { <Records records=r /> })}
    }
}

/// Follows one task's events: streamed tokens into `streams`, reloads of the task and its
/// records as steps end. Renders nothing.
#[component]
fn LiveTask(
    id: String,
    task: Resource<Result<TaskDetail, crate::model::AppError>>,
    records: Resource<Result<TaskRecords, crate::model::AppError>>,
    streams: RwSignal<HashMap<i64, String>>,
) -> impl IntoView {
    // Another task's streamed text is not this one's.
    streams.update_untracked(HashMap::clear);
    // Cost updates come with every model call: reload the task for them at most once a second.
    let reload_task = crate::components::live::throttled(1_000, move || task.refetch());
    use_live(vec![format!("task:{id}")], move |event| {
        let index = event.data["index"].as_i64().unwrap_or(-1);
        use wire::events::EventKind as K;
        match event.event_kind() {
            Some(K::Token) => {
                let text = event.data["text"].as_str().unwrap_or_default().to_owned();
                streams.update(|s| s.entry(index).or_default().push_str(&text));
            }
            Some(K::StepRetry) => streams.update(|s| {
                s.remove(&index);
            }),
            Some(K::ToolCall) => {}
            Some(K::FileChange | K::StepCompleted | K::StepFailed) => {
                task.refetch();
                records.refetch();
            }
            Some(kind) if kind.is_task() => {
                task.refetch();
                records.refetch();
            }
            _ => reload_task(),
        }
    });
}

fn elapsed(ms: Option<i64>) -> String {
    match ms {
        None => "—".into(),
        Some(ms) if ms < 1000 => format!("{ms} ms"),
        Some(ms) if ms < 60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        Some(ms) => format!("{}m {}s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

#[component]
fn TaskBody(view: TaskDetail, streams: RwSignal<HashMap<i64, String>>) -> impl IntoView {
    let t = view.task.clone();
    let total = view.steps.len().max(1);
    let done = view
        .steps
        .iter()
        .filter(|s| s.status == "completed")
        .count();
    let percent = done * 100 / total;
    let id = t.id.clone();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let cancel = Action::new({
        move |id: &String| {
            let id = id.clone();
            async move { cancel_task(id).await }
        }
    });
    let rerun = Action::new(move |id: &String| {
        let id = id.clone();
        async move { rerun_task(id).await }
    });
    Effect::new(move |_| {
        if let (Some(Err(e)), Some(toast)) = (cancel.value().get(), toasts) {
            toast.show(ToastKind::Error, e.to_string());
        }
    });
    Effect::new(move |_| match rerun.value().get() {
        Some(Ok(new_id)) => navigate(&format!("/tasks/{new_id}"), Default::default()),
        Some(Err(e)) => {
            if let Some(toast) = toasts {
                toast.show(ToastKind::Error, e.to_string());
            }
        }
        None => {}
    });
    // Archived or not, as this page last set it (the list reads the row again).
    let archived = RwSignal::new(t.archived_at.is_some());
    let archive = Action::new(move |(id, archive): &(String, bool)| {
        let (ids, archive) = (vec![id.clone()], *archive);
        async move {
            let result = if archive {
                archive_tasks(ids).await
            } else {
                restore_tasks(ids).await
            };
            result.map(|_| archive)
        }
    });
    Effect::new(move |_| {
        let (Some(result), Some(toast)) = (archive.value().get(), toasts) else {
            return;
        };
        match result {
            Ok(now) => {
                archived.set(now);
                let text = if now {
                    "Task archived: it is listed under Tasks → Archived"
                } else {
                    "Task restored to the list"
                };
                toast.show(ToastKind::Success, text);
            }
            Err(e) => toast.show(ToastKind::Error, e.to_string()),
        }
    });
    let active = matches!(t.status.as_str(), "queued" | "running");
    let simulated = view.steps.iter().any(|s| s.simulated);
    view! {
        <Title text=format!("Task · {}", t.description.chars().take(40).collect::<String>()) />
        <div class="page-header">
            <div>
                <p class="small muted"><a href="/tasks">"← Tasks"</a></p>
                <h1 class="task-title">{t.description.clone()}</h1>
                <p class="subtitle">
                    <span class=format!("status status-{}", t.status) data-testid="task-status">{t.status.clone()}</span>
                    " · " {t.workflow.replace('_', " ")} " · " {t.complexity.clone()} " · created " {timestamp(t.created_at)}
                    {simulated.then(|| view! { " " <span class="badge badge-sim">"Simulated"</span> })}
                    <Show when=move || archived.get()>
                        " " <span class="badge" data-testid="archived-badge">"Archived"</span>
                    </Show>
                </p>
                {t.workdir.clone().map(|dir| view! {
                    <p class="small muted task-workdir" data-testid="task-workdir">
                        "Working directory " <code>{dir}</code>
                    </p>
                })}
            </div>
            <div class="page-actions">
                {active.then(|| {
                    let id = id.clone();
                    view! {
                        <button class="button button-secondary" data-testid="cancel-task" on:click=move |_| { cancel.dispatch(id.clone()); }>
                            "Cancel"
                        </button>
                    }
                })}
                <button class="button" data-testid="rerun-task" on:click={
                    let id = id.clone();
                    move |_| { rerun.dispatch(id.clone()); }
                }>"Re-run"</button>
                {(!active).then(|| {
                    let id = id.clone();
                    view! {
                        <button class="button button-secondary" data-testid="archive-task"
                            disabled=move || archive.pending().get()
                            on:click=move |_| { archive.dispatch((id.clone(), !archived.get_untracked())); }>
                            {move || if archived.get() { "Restore" } else { "Archive" }}
                        </button>
                    }
                })}
                <a class="button button-secondary" href=format!("/api/v1/tasks/{id}/conversation.md") download>
                    "Export Markdown"
                </a>
            </div>
        </div>
        {t.error.clone().map(|e| view! { <p class="error-panel" role="alert">{e}</p> })}
        <section class="stat-grid" aria-label="Totals">
            <div class="stat-card"><span class="stat-label">"Cost"</span><span class="stat-value num" data-testid="task-cost">{cost_label(t.cost_micros, view.price_known)}</span></div>
            <div class="stat-card"><span class="stat-label">"Tokens"</span><span class="stat-value num" data-testid="task-tokens">{t.tokens().to_string()}</span>
                <span class="stat-hint">{format!("{} prompt · {} completion", t.prompt_tokens, t.completion_tokens)}</span></div>
            <div class="stat-card"><span class="stat-label">"Progress"</span><span class="stat-value num">{format!("{done}/{total}")}</span></div>
        </section>
        <div class="progress" role="progressbar" aria-label="Steps done" aria-valuemin="0" aria-valuemax="100" aria-valuenow=percent.to_string()>
            <div class="progress-fill" style=format!("width: {percent}%")></div>
        </div>
        <ol class="step-indicators" data-testid="step-indicators">
            {view.steps.iter().map(|s| view! {
                <li class=format!("step-indicator step-{}", s.status) title=s.status.clone()>
                    <span class=format!("role-pill role-{}", s.role.to_lowercase())>{s.role.clone()}</span>
                </li>
            }).collect_view()}
        </ol>
        <div class="agent-grid step-grid">
            {view.steps.into_iter().map(|s| view! { <StepCard step=s streams /> }).collect_view()}
        </div>
    }
}

#[component]
fn StepCard(step: Step, streams: RwSignal<HashMap<i64, String>>) -> impl IntoView {
    let index = step.index;
    let active = step.status == "active";
    let output = step.output.clone();
    view! {
        <article class=format!("card agent-card step-card step-{}", step.status) data-testid="step-card" data-status=step.status.clone()>
            <header class="step-head">
                <span class=format!("role-pill role-{}", step.role.to_lowercase())>{step.role.clone()}</span>
                <span class=format!("status status-{}", step.status)>{step.status.clone()}</span>
            </header>
            <h3>{step.agent_name.clone()}</h3>
            <p class="agent-meta small" data-testid="step-provider">
                {format!("{} · {}", step.provider_kind, step.model)}
                {step.simulated.then(|| view! { " " <span class="badge badge-sim">"Simulated"</span> })}
            </p>
            {step.fallback_note.clone().map(|note| view! {
                <p class="fallback-note" data-testid="fallback-note">{format!("Fallback: {note}")}</p>
            })}
            <dl class="step-stats small">
                <div><dt>"Elapsed"</dt><dd class="num">{elapsed(step.duration_ms)}</dd></div>
                <div><dt>"Tokens"</dt><dd class="num">{format!("{} / {}", step.prompt_tokens, step.completion_tokens)}</dd></div>
                <div><dt>"Cost"</dt><dd class="num">{cost_label(step.cost_micros, step.price_known)}</dd></div>
                {context_percent(step.context_tokens, step.context_window).map(|p| view! { <div><dt>"Context"</dt><dd class="num">{p}</dd></div> })}
            </dl>
            {step.error.clone().map(|e| view! { <p class="form-error">{e}</p> })}
            {if active {
                view! {
                    <div class="bubble typing" data-testid="live-stream" aria-live="polite">
                        {move || streams.with(|s| s.get(&index).cloned().unwrap_or_default())}
                        <span class="caret"></span>
                    </div>
                }.into_any()
            } else if !output.is_empty() {
                view! {
                    <details class="step-output">
                        <summary>"Output"</summary>
                        <pre>{output}</pre>
                    </details>
                }.into_any()
            } else {
                ().into_any()
            }}
        </article>
    }
}

#[component]
fn Records(records: TaskRecords) -> impl IntoView {
    if records.runs.is_empty() {
        return view! { <p class="small muted">"The conversation appears here once the first agent starts."</p> }.into_any();
    }
    // Reads are recorded too (for the debugging API) but change nothing.
    let files: Vec<(String, FileChange)> = records
        .file_changes
        .iter()
        .filter(|f| f.change_kind != "read")
        .map(|f| {
            (
                records.role_of(f.agent_run_id.as_deref()).to_owned(),
                f.clone(),
            )
        })
        .collect();
    let tool_calls: Vec<_> = records
        .tool_calls
        .iter()
        .map(|c| {
            (
                records.role_of(c.agent_run_id.as_deref()).to_owned(),
                c.clone(),
            )
        })
        .collect();
    view! {
        <div class="conversation" data-testid="conversation">
            {records.runs.into_iter().map(|r| view! { <RunConversationView run=r /> }).collect_view()}
        </div>
        <h2 class="section-title">"Changed files"</h2>
        {if files.is_empty() {
            view! { <p class="small muted">"No files changed."</p> }.into_any()
        } else {
            view! {
                <div class="files" data-testid="files">
                    {files.into_iter().map(|(role, f)| view! { <FileDiff file=f role /> }).collect_view()}
                </div>
            }.into_any()
        }}
        <h2 class="section-title">"Tool calls"</h2>
        <div class="card table-scroll" tabindex="0">
            <table class="task-table">
                <thead><tr><th>"Agent"</th><th>"Tool"</th><th>"Input"</th><th>"Outcome"</th><th class="num">"Duration"</th></tr></thead>
                <tbody>
                    {tool_calls.into_iter().map(|(role, c)| view! {
                        <tr>
                            <td><span class=format!("role-pill role-{}", role.to_lowercase())>{role.clone()}</span></td>
                            <td><code>{c.tool}</code></td>
                            <td><pre class="json" tabindex="0">{pretty(&c.input)}</pre></td>
                            <td class=format!("outcome-{}", c.outcome)>{c.outcome.clone()}</td>
                            <td class="num">{format!("{} ms", c.duration_ms)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }.into_any()
}

#[component]
fn RunConversationView(run: RunConversation) -> impl IntoView {
    // The system prompt first, folded, then the conversation.
    let messages = std::iter::once(("system".to_owned(), run.system_prompt.clone(), Vec::new()))
        .chain(run.messages.into_iter().map(|m| {
            let calls = m
                .tool_calls
                .into_iter()
                .map(|c| {
                    (
                        c.name,
                        serde_json::to_string_pretty(&c.arguments).unwrap_or_default(),
                    )
                })
                .collect::<Vec<_>>();
            (m.role, m.content, calls)
        }));
    view! {
        <details class="card run" open=run.step_index == 0>
            <summary>
                <span class=format!("role-pill role-{}", run.role.to_lowercase())>{run.role.clone()}</span>
                " " {run.agent_name.clone()} " · " {format!("{} · {}", run.provider_kind, run.model)}
                {run.simulated.then(|| view! { " " <span class="badge badge-sim">"Simulated"</span> })}
                {run.fallback_note.clone().map(|note| view! { <span class="fallback-note">{format!(" · fell back: {note}")}</span> })}
                <span class="small muted">" · " {run.started_at.map(timestamp).unwrap_or_default()}</span>
            </summary>
            {messages.map(|(author, content, tool_calls)| {
                let text = content.clone();
                let is_system = author == "system";
                let body = view! {
                    <div class=format!("message message-{author}")>
                        <div class="message-head">
                            <span class="message-author">{author.clone()}</span>
                            <button class="button button-small button-secondary copy" type="button" title="Copy this message"
                                on:click=move |_| copy(&text)>"Copy"</button>
                        </div>
                        {(!content.is_empty()).then(|| view! { <pre class="message-text">{content.clone()}</pre> })}
                        {tool_calls.into_iter().map(|(name, args)| view! {
                            <div class="tool-call"><span class="small">"Tool call "<code>{name}</code></span><pre class="json" tabindex="0">{args}</pre></div>
                        }).collect_view()}
                    </div>
                };
                if is_system {
                    view! { <details class="system-prompt"><summary class="small">"System prompt"</summary>{body}</details> }.into_any()
                } else {
                    body.into_any()
                }
            }).collect_view()}
        </details>
    }
}

#[component]
fn FileDiff(file: FileChange, role: String) -> impl IntoView {
    view! {
        <details class="card file" open>
            <summary>
                <code>{file.path.clone()}</code>
                " "
                <span class=format!("badge change-{}", file.change_kind)>{file.change_kind.clone()}</span>
                " "
                <span class=format!("role-pill role-{}", role.to_lowercase())>{role.clone()}</span>
            </summary>
            <pre class="diff" tabindex="0" data-testid="diff">
                {file.diff.into_iter().map(|line| {
                    let class = match line.op.as_str() { "+" => "diff-add", "-" => "diff-del", _ => "diff-same" };
                    view! { <span class=class>{format!("{} {}\n", line.op, line.text)}</span> }
                }).collect_view()}
            </pre>
        </details>
    }
}

/// JSON text indented for reading (as it came when it is not JSON).
fn pretty(raw: &str) -> String {
    serde_json::from_str::<serde_json::Value>(raw)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| raw.to_owned())
}

fn copy(text: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().clipboard().write_text(text);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}
