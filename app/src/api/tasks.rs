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

/// The newest tasks.
#[server(prefix = "/api", endpoint = "list_tasks")]
pub async fn list_tasks() -> Result<Vec<Task>, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let filter = engine::store::tasks::TaskFilter {
        limit: Some(100),
        ..Default::default()
    };
    let page = engine::store::tasks::list(&cx.store, &who.workspace_id, &filter).await?;
    Ok(page.items)
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
