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
    workdir: String,
) -> wire::tasks::SubmitTask {
    wire::tasks::SubmitTask {
        description,
        workflow,
        force_analyst,
        workdir: Some(workdir).filter(|w| !w.trim().is_empty()),
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
            &request(description, workflow, force_analyst, steps, String::new()),
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
    #[server(default)] workdir: String,
) -> Result<String, AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    let task = cx
        .runner
        .submit(
            caller,
            &request(description, workflow, force_analyst, steps, workdir),
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
    /// Only descriptions containing this text.
    pub q: String,
    /// `1`: the archived tasks.
    pub archived: String,
    /// The page to continue after.
    pub cursor: String,
}

impl TasksQuery {
    /// Whether the archived tasks are asked for.
    pub fn is_archived(&self) -> bool {
        !self.archived.is_empty()
    }

    /// Whether an Analytics drill-down filter is set (the page then says so and offers to
    /// clear them); search and the archive are the list's own controls.
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
        crate::components::more_pages::list_url(
            "/tasks",
            &[
                ("status", &self.status),
                ("workflow", &self.workflow),
                ("complexity", &self.complexity),
                ("finished_from", &self.finished_from),
                ("finished_to", &self.finished_to),
                ("min_duration_ms", &self.min_duration_ms),
                ("max_duration_ms", &self.max_duration_ms),
                ("q", &self.q),
                ("archived", &self.archived),
                ("cursor", &self.cursor),
            ],
        )
    }
}

impl crate::components::more_pages::PagedQuery for TasksQuery {
    type Item = Task;

    fn at_cursor(&self, cursor: String) -> Self {
        Self {
            cursor,
            ..self.clone()
        }
    }

    fn url(&self) -> String {
        TasksQuery::url(self)
    }

    fn fetch(
        self,
    ) -> impl std::future::Future<Output = Result<wire::Page<Task>, AppError>> + 'static {
        list_tasks(self)
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
        // Analytics' drill-downs count every task, archived or not.
        archived: (!filtered).then_some(!query.archived.is_empty()),
        search: text(query.q),
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

/// Archives finished tasks (all or nothing); how many changed.
#[server(prefix = "/api", endpoint = "archive_tasks")]
pub async fn archive_tasks(ids: Vec<String>) -> Result<i64, AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    Ok(engine::actions::tasks::archive(&cx.store, caller, &ids)
        .await?
        .changed)
}

/// Brings archived tasks back into the list; how many changed.
#[server(prefix = "/api", endpoint = "restore_tasks")]
pub async fn restore_tasks(ids: Vec<String>) -> Result<i64, AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    Ok(engine::actions::tasks::restore(&cx.store, caller, &ids)
        .await?
        .changed)
}

/// The allowed root for working directories and the caller's latest choices.
#[server(prefix = "/api", endpoint = "workdir_options")]
pub async fn workdir_options() -> Result<wire::tasks::WorkdirOptions, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    Ok(
        engine::store::task_archive::workdir_options(&cx.store, &who.workspace_id, &who.user_id)
            .await?,
    )
}

/// The workspace's task settings as the Settings page edits them.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TaskSettingsView {
    /// Finished tasks are archived after this many days (0: never).
    pub archive_after_days: i64,
    /// The allowed root for working directories ("" for none).
    pub workdir_root: String,
    /// Whether the caller may change them (admins).
    pub can_edit: bool,
}

/// Reads the task settings.
#[server(prefix = "/api", endpoint = "task_settings")]
pub async fn task_settings() -> Result<TaskSettingsView, AppError> {
    use engine::store::settings;
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let db = cx.store.pool();
    let ws = &who.workspace_id;
    Ok(TaskSettingsView {
        archive_after_days: settings::get(db, ws, settings::TASK_ARCHIVE_AFTER_DAYS)
            .await?
            .and_then(|v| v.as_i64())
            .unwrap_or(0),
        workdir_root: settings::get(db, ws, settings::WORKDIR_ROOT)
            .await?
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        can_edit: who.role == engine::domain::MemberRole::Admin,
    })
}

/// Saves the task settings (admins): both checked before either is written.
#[server(prefix = "/api", endpoint = "save_task_settings")]
pub async fn save_task_settings(
    archive_after_days: String,
    workdir_root: String,
) -> Result<(), AppError> {
    use engine::store::settings;
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let days: i64 = archive_after_days.trim().parse().map_err(|_| {
        AppError::Invalid("archive after: a whole number of days from 0 to 3,650".into())
    })?;
    let caller = engine::actions::Caller::new(&who, &client);
    engine::actions::settings::set_all(
        &cx.store,
        caller,
        "tasks",
        &[
            (settings::TASK_ARCHIVE_AFTER_DAYS, serde_json::json!(days)),
            (
                settings::WORKDIR_ROOT,
                serde_json::json!(workdir_root.trim()),
            ),
        ],
    )
    .await?;
    Ok(())
}
