//! Tasks as the pages see them: estimate, submit, list, detail, records, cancel and re-run.
//! Each function authenticates, calls the same engine function as the REST API, and shapes
//! the answer for the page.

use leptos::prelude::*;

use crate::model::{AppError, EstimateView, RecordsView, TaskRow, TaskView};

#[cfg(feature = "ssr")]
mod convert {
    use crate::model::{
        EstimateStepView, EstimateView, FileChangeView, MessageView, RecordsView, RunView, StepRow,
        TaskRow, TaskView, ToolCallView,
    };
    use crate::ssr::{cost_label, timestamp};
    use engine::providers::{Message, MessageRole};
    use engine::store::tasks::{Task, TaskDetail, TaskRecords};

    pub fn row(t: &Task) -> TaskRow {
        TaskRow {
            id: t.id.clone(),
            description: t.description.clone(),
            workflow: t.workflow.clone(),
            complexity: t.complexity.clone(),
            status: t.status.clone(),
            cost: cost_label(t.cost_micros, t.unpriced_calls == 0),
            tokens: t.prompt_tokens + t.completion_tokens,
            created: timestamp(t.created_at),
            error: t.error.clone(),
        }
    }

    pub fn detail(d: TaskDetail) -> TaskView {
        TaskView {
            task: row(&d.task),
            prompt_tokens: d.task.prompt_tokens,
            completion_tokens: d.task.completion_tokens,
            rerun_of: d.task.rerun_of.clone(),
            steps: d
                .steps
                .into_iter()
                .map(|s| StepRow {
                    index: s.index,
                    simulated: s.simulated,
                    role: s.role,
                    agent_name: s.agent_name,
                    model: s.model,
                    provider_kind: s.provider_kind,
                    fallback_note: s.fallback_note,
                    status: s.status,
                    prompt_tokens: s.prompt_tokens,
                    completion_tokens: s.completion_tokens,
                    cost: cost_label(s.cost_micros, s.price_known),
                    context_percent: (s.context_window > 0).then(|| {
                        let share = s.context_tokens as f64 * 100.0 / s.context_window as f64;
                        format!("{:.1}%", share.min(100.0))
                    }),
                    started_at: s.started_at,
                    duration_ms: s.duration_ms,
                    output: s.output,
                    error: s.error,
                })
                .collect(),
        }
    }

    pub fn estimate(e: engine::runner::Estimate) -> EstimateView {
        EstimateView {
            complexity: e.complexity,
            message: e.message,
            skips_analyst: e.skips_analyst,
            cost: cost_label(e.estimated_cost_micros, e.price_known),
            tokens: e.estimated_tokens,
            steps: e
                .steps
                .into_iter()
                .map(|s| EstimateStepView {
                    role: s.role,
                    agent_name: s.agent_name,
                    model: s.model,
                    simulated: s.simulated,
                    cost: cost_label(s.cost_micros, s.price_known),
                })
                .collect(),
        }
    }

    fn pretty(raw: &str) -> String {
        serde_json::from_str::<serde_json::Value>(raw)
            .and_then(|v| serde_json::to_string_pretty(&v))
            .unwrap_or_else(|_| raw.to_owned())
    }

    pub fn records(task: &Task, r: TaskRecords) -> RecordsView {
        let role_of = |run_id: &Option<String>| {
            r.runs
                .iter()
                .find(|run| Some(&run.id) == run_id.as_ref())
                .map(|run| run.role.clone())
                .unwrap_or_default()
        };
        let runs = r
            .runs
            .iter()
            .map(|run| {
                let mut messages = vec![MessageView {
                    author: "system".into(),
                    content: run.system_prompt.clone(),
                    tool_calls: Vec::new(),
                }];
                let stored: Vec<Message> =
                    serde_json::from_str(&run.conversation).unwrap_or_default();
                messages.extend(stored.into_iter().map(|m| {
                    MessageView {
                        author: match m.role {
                            MessageRole::User => "user",
                            MessageRole::Assistant => "assistant",
                            MessageRole::Tool => "tool",
                        }
                        .into(),
                        tool_calls: m
                            .tool_calls
                            .iter()
                            .map(|c| {
                                (
                                    c.name.clone(),
                                    serde_json::to_string_pretty(&c.arguments).unwrap_or_default(),
                                )
                            })
                            .collect(),
                        content: m.content,
                    }
                }));
                RunView {
                    index: run.step_index,
                    role: run.role.clone(),
                    agent_name: run.agent_name.clone(),
                    model: run.model.clone(),
                    provider_kind: run.provider_kind.clone(),
                    fallback_note: run.fallback_note.clone(),
                    simulated: run.provider_kind == "simulator",
                    started: run.started_at.map(timestamp).unwrap_or_default(),
                    messages,
                }
            })
            .collect();
        let tool_calls = r
            .tool_calls
            .iter()
            .map(|c| ToolCallView {
                role: role_of(&c.agent_run_id),
                tool: c.tool.clone(),
                input: pretty(&c.input),
                output: c.output.chars().take(4000).collect(),
                outcome: c.outcome.clone(),
                duration_ms: c.duration_ms,
            })
            .collect();
        let files = r
            .file_changes
            .iter()
            .filter(|f| f.change_kind != "read")
            .map(|f| FileChangeView {
                path: f.path.clone(),
                change_kind: f.change_kind.clone(),
                role: role_of(&f.agent_run_id),
                diff: engine::runner::tools::diff(
                    f.before_content.as_deref().unwrap_or_default(),
                    f.after_content.as_deref().unwrap_or_default(),
                ),
            })
            .collect();
        RecordsView {
            markdown: engine::runner::conversation_markdown(task, &r.runs, r.price_known),
            runs,
            tool_calls,
            files,
        }
    }
}

#[cfg(feature = "ssr")]
fn request(
    description: String,
    workflow: String,
    force_analyst: bool,
    steps: String,
) -> engine::runner::SubmitTask {
    engine::runner::SubmitTask {
        description,
        workflow,
        force_analyst,
        steps: steps
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    }
}

/// What a task would do and cost.
#[server(prefix = "/api", endpoint = "estimate_task")]
pub async fn estimate_task(
    description: String,
    workflow: String,
    force_analyst: bool,
    steps: String,
) -> Result<EstimateView, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let estimate = cx
        .runner
        .estimate(
            &who.workspace_id,
            &request(description, workflow, force_analyst, steps),
        )
        .await?;
    Ok(convert::estimate(estimate))
}

/// Submits a task (one credit) and returns its id.
#[server(prefix = "/api", endpoint = "submit_task")]
pub async fn submit_task(
    description: String,
    workflow: String,
    #[server(default)] force_analyst: bool,
    #[server(default)] steps: String,
) -> Result<String, AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    let task = cx
        .runner
        .submit(
            caller,
            &request(description, workflow, force_analyst, steps),
        )
        .await?;
    Ok(task.id)
}

/// The newest tasks.
#[server(prefix = "/api", endpoint = "list_tasks")]
pub async fn list_tasks() -> Result<Vec<TaskRow>, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let filter = engine::store::tasks::TaskFilter {
        limit: Some(100),
        ..Default::default()
    };
    let page = engine::store::tasks::list(&cx.store, &who.workspace_id, &filter).await?;
    Ok(page.items.iter().map(convert::row).collect())
}

/// One task with its steps.
#[server(prefix = "/api", endpoint = "get_task")]
pub async fn get_task(id: String) -> Result<TaskView, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let detail = engine::store::tasks::detail(&cx.store, &who.workspace_id, &id).await?;
    Ok(convert::detail(detail))
}

/// Conversations, tool calls and changed files of a task.
#[server(prefix = "/api", endpoint = "task_records")]
pub async fn task_records(id: String) -> Result<RecordsView, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let task = engine::store::tasks::get(cx.store.pool(), &who.workspace_id, &id).await?;
    let records = engine::store::tasks::records(&cx.store, &who.workspace_id, &id).await?;
    Ok(convert::records(&task, records))
}

/// Cancels a task.
#[server(prefix = "/api", endpoint = "cancel_task")]
pub async fn cancel_task(id: String) -> Result<(), AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    cx.runner
        .cancel(engine::actions::Caller::new(&who, &client), &id)
        .await?;
    Ok(())
}

/// Re-runs a task; returns the new task's id.
#[server(prefix = "/api", endpoint = "rerun_task")]
pub async fn rerun_task(id: String) -> Result<String, AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let task = cx
        .runner
        .rerun(engine::actions::Caller::new(&who, &client), &id)
        .await?;
    Ok(task.id)
}
