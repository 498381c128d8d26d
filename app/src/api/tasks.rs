//! Tasks as the pages see them: estimate, submit, list, detail, records, cancel and re-run.
//! Each function authenticates, calls the same engine function as the REST API and answers
//! the same wire type.

use leptos::prelude::*;

use crate::model::AppError;
use wire::tasks::{Estimate, Task, TaskDetail};

#[cfg(feature = "ssr")]
fn request(
    description: String,
    workflow: String,
    force_analyst: bool,
    steps: String,
) -> wire::tasks::SubmitTask {
    wire::tasks::SubmitTask {
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
) -> Result<Estimate, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    Ok(cx
        .runner
        .estimate(
            &who.workspace_id,
            &request(description, workflow, force_analyst, steps),
        )
        .await?)
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

/// Filters of the tasks list, as the page's URL carries them (empty means any): the ones
/// Analytics links with to show the tasks behind a bar.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct TasksQuery {
    /// `queued`, `running`, `completed`, `failed` or `cancelled`.
    pub status: String,
    /// Workflow.
    pub workflow: String,
    /// `simple`, `medium` or `complex`.
    pub complexity: String,
    /// Finished at or after (Unix ms), as text.
    pub finished_from: String,
    /// Finished before (Unix ms), as text.
    pub finished_to: String,
    /// Took longer than (ms), as text.
    pub min_duration_ms: String,
    /// Took at most (ms), as text.
    pub max_duration_ms: String,
    /// The page to continue after.
    pub cursor: String,
}

impl TasksQuery {
    /// Whether any filter is set (the page then says so and offers to clear them).
    pub fn is_filtered(&self) -> bool {
        [
            &self.status,
            &self.workflow,
            &self.complexity,
            &self.finished_from,
            &self.finished_to,
            &self.min_duration_ms,
            &self.max_duration_ms,
        ]
        .iter()
        .any(|v| !v.is_empty())
    }

    /// The page's address for these filters (and cursor).
    pub fn url(&self) -> String {
        let mut url = form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("status", &self.status),
            ("workflow", &self.workflow),
            ("complexity", &self.complexity),
            ("finished_from", &self.finished_from),
            ("finished_to", &self.finished_to),
            ("min_duration_ms", &self.min_duration_ms),
            ("max_duration_ms", &self.max_duration_ms),
            ("cursor", &self.cursor),
        ] {
            if !value.is_empty() {
                url.append_pair(name, value);
            }
        }
        let params = url.finish();
        if params.is_empty() {
            "/tasks".to_owned()
        } else {
            format!("/tasks?{params}")
        }
    }
}

/// A page of tasks, newest first: 100 unfiltered, 50 at a time when filtered.
#[server(prefix = "/api", endpoint = "list_tasks")]
pub async fn list_tasks(
    #[server(default)] query: TasksQuery,
) -> Result<wire::Page<Task>, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let text = |v: String| Some(v).filter(|s| !s.trim().is_empty());
    let number = |field: &str, raw: String| -> Result<Option<i64>, AppError> {
        match text(raw) {
            Some(raw) => raw
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| AppError::Invalid(format!("{field}: must be a whole number"))),
            None => Ok(None),
        }
    };
    let filtered = query.is_filtered();
    let filter = engine::store::tasks::TaskFilter {
        status: text(query.status),
        workflow: text(query.workflow),
        complexity: text(query.complexity),
        finished_from: number("finished_from", query.finished_from)?,
        finished_to: number("finished_to", query.finished_to)?,
        min_duration_ms: number("min_duration_ms", query.min_duration_ms)?,
        max_duration_ms: number("max_duration_ms", query.max_duration_ms)?,
        limit: Some(if filtered { 50 } else { 100 }),
        cursor: text(query.cursor),
        ..Default::default()
    };
    Ok(engine::store::tasks::list(&cx.store, &who.workspace_id, &filter).await?)
}

/// One task with its steps.
#[server(prefix = "/api", endpoint = "get_task")]
pub async fn get_task(id: String) -> Result<TaskDetail, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    Ok(engine::store::tasks::detail(&cx.store, &who.workspace_id, &id).await?)
}

/// Conversations, tool calls and changed files of a task.
#[server(prefix = "/api", endpoint = "task_records")]
pub async fn task_records(id: String) -> Result<wire::tasks::TaskRecords, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    Ok(engine::store::tasks::records(&cx.store, &who.workspace_id, &id).await?)
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
