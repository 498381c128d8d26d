//! `/api/v1/tasks`: submit, estimate, list, inspect, cancel, re-run, archive, restore and delete
//! tasks, the working directories a task may choose, and a task's events over SSE.

use std::convert::Infallible;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use engine::actions::Caller;
use engine::events::{self, Delivery, Subscription};
use engine::store::tasks::{self, TaskFilter};
use futures_util::Stream;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::Page;
use wire::tasks::{
    ArchiveOutcome, Estimate, SubmitTask, Task, TaskDetail, TaskIds, TaskRecords, WorkdirOptions,
};

use super::AppState;
use super::auth::{Auth, Client, Developer};
use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery};
use super::list::number;
use super::openapi::{
    ActionErrors, ComputeErrors, PaidErrors, ReadErrors, ReadOneErrors, UpdateErrors,
};

/// The routes under `/api/v1/tasks`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, submit))
        .routes(routes!(estimate))
        .routes(routes!(show, remove))
        .routes(routes!(cancel))
        .routes(routes!(rerun))
        .routes(routes!(archive))
        .routes(routes!(restore))
        .routes(routes!(archive_one))
        .routes(routes!(restore_one))
        .routes(routes!(workdirs))
        .routes(routes!(records))
        .routes(routes!(markdown))
        .routes(routes!(stream, stream_post))
}

const ID: &str = "The task's id";

/// Filters and paging of the task list.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct TaskQuery {
    /// Only this status: `queued`, `running`, `completed`, `failed` or `cancelled`.
    status: Option<String>,
    /// Created at or after (Unix ms).
    #[param(value_type = Option<i64>)]
    from: Option<String>,
    /// Created before (Unix ms).
    #[param(value_type = Option<i64>)]
    to: Option<String>,
    /// Only this workflow.
    workflow: Option<String>,
    /// Only this complexity: `simple`, `medium` or `complex`.
    complexity: Option<String>,
    /// Finished at or after (Unix ms): only finished tasks.
    #[param(value_type = Option<i64>)]
    finished_from: Option<String>,
    /// Finished before (Unix ms): only finished tasks.
    #[param(value_type = Option<i64>)]
    finished_to: Option<String>,
    /// Took longer than this many ms from start to end: only finished tasks.
    #[param(value_type = Option<i64>, minimum = 0)]
    min_duration_ms: Option<String>,
    /// Took at most this many ms: only finished tasks.
    #[param(value_type = Option<i64>, minimum = 0)]
    max_duration_ms: Option<String>,
    /// `true`: the archived tasks instead (archiving takes a task out of the list); `all`: both;
    /// `false` (the default): the list's.
    archived: Option<String>,
    /// Only tasks whose description contains this text (any case, at most 200 characters).
    q: Option<String>,
    /// Items per page, 1–200 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Submits a task (developers and admins; one credit): planned, queued and run by a worker.
#[utoipa::path(post, path = "/", tag = "tasks", request_body = SubmitTask,
    responses((status = 201, description = "Queued", body = Task), PaidErrors))]
async fn submit(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    ApiJson(body): ApiJson<SubmitTask>,
) -> Result<(StatusCode, Json<Task>), ApiError> {
    let task = state
        .runner
        .submit(Caller::new(&who, &client), &body)
        .await?;
    Ok((StatusCode::CREATED, Json(task)))
}

/// What a task would cost and run as (its plan, models and a price range), without running it.
#[utoipa::path(post, path = "/estimate", tag = "tasks", request_body = SubmitTask,
    responses((status = 200, description = "The estimate", body = Estimate), ComputeErrors))]
async fn estimate(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiJson(body): ApiJson<SubmitTask>,
) -> Result<Json<Estimate>, ApiError> {
    Ok(Json(state.runner.estimate(&who.workspace_id, &body).await?))
}

/// The workspace's tasks, newest first.
#[utoipa::path(get, path = "/", tag = "tasks", params(TaskQuery),
    responses((status = 200, description = "A page of tasks", body = Page<Task>), ReadErrors))]
async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiQuery(q): ApiQuery<TaskQuery>,
) -> Result<Json<Page<Task>>, ApiError> {
    let filter = TaskFilter {
        status: q.status.filter(|s| !s.is_empty()),
        from: number("from", q.from.as_deref())?,
        to: number("to", q.to.as_deref())?,
        workflow: q.workflow.filter(|s| !s.is_empty()),
        complexity: q.complexity.filter(|s| !s.is_empty()),
        finished_from: number("finished_from", q.finished_from.as_deref())?,
        finished_to: number("finished_to", q.finished_to.as_deref())?,
        min_duration_ms: number("min_duration_ms", q.min_duration_ms.as_deref())?,
        max_duration_ms: number("max_duration_ms", q.max_duration_ms.as_deref())?,
        archived: match q.archived.as_deref().map(str::trim) {
            None | Some("" | "false") => Some(false),
            Some("true") => Some(true),
            Some("all") => None,
            Some(_) => {
                return Err(
                    engine::Error::invalid("archived", "must be true, false or all").into(),
                );
            }
        },
        search: q.q.filter(|s| !s.trim().is_empty()),
        limit: Some(engine::store::page::PageRequest::parse(q.limit.as_deref(), None)?.limit),
        cursor: q.cursor.filter(|c| !c.is_empty()),
    };
    Ok(Json(
        tasks::list(&state.store, &who.workspace_id, &filter).await?,
    ))
}

/// One task with its steps.
#[utoipa::path(get, path = "/{id}", tag = "tasks", params(("id" = String, Path, description = ID)),
    responses((status = 200, description = "The task", body = TaskDetail), ReadOneErrors))]
async fn show(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<Json<TaskDetail>, ApiError> {
    Ok(Json(
        tasks::detail(&state.store, &who.workspace_id, &id).await?,
    ))
}

/// A task's conversations, tool calls and file changes.
#[utoipa::path(get, path = "/{id}/records", tag = "tasks",
    params(("id" = String, Path, description = ID)),
    responses((status = 200, description = "The records", body = TaskRecords), ReadOneErrors))]
async fn records(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<Json<TaskRecords>, ApiError> {
    Ok(Json(
        tasks::records(&state.store, &who.workspace_id, &id).await?,
    ))
}

/// The conversations of a task as a Markdown download.
#[utoipa::path(get, path = "/{id}/conversation.md", tag = "tasks",
    params(("id" = String, Path, description = ID)),
    responses((status = 200, description = "Markdown", content_type = "text/markdown", body = String),
        ReadOneErrors))]
async fn markdown(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<impl axum::response::IntoResponse, ApiError> {
    let body = engine::runner::task_markdown(&state.store, &who.workspace_id, &id).await?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/markdown; charset=utf-8".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"task-{id}.md\""),
            ),
        ],
        body,
    ))
}

/// Cancels a queued or running task; an in-flight model call is cut and recorded.
#[utoipa::path(post, path = "/{id}/cancel", tag = "tasks",
    params(("id" = String, Path, description = ID)),
    responses((status = 200, description = "The cancelled task", body = Task), ActionErrors))]
async fn cancel(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<Json<Task>, ApiError> {
    let task = state.runner.cancel(Caller::new(&who, &client), &id).await?;
    Ok(Json(task))
}

/// Runs a finished task again as a new task (one credit).
#[utoipa::path(post, path = "/{id}/rerun", tag = "tasks",
    params(("id" = String, Path, description = ID)),
    responses((status = 201, description = "The new task", body = Task), PaidErrors))]
async fn rerun(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Task>), ApiError> {
    let task = state.runner.rerun(Caller::new(&who, &client), &id).await?;
    Ok((StatusCode::CREATED, Json(task)))
}

/// Archives finished tasks (developers and admins): out of the list, kept whole — their
/// records, calls and analytics stay. All or nothing: a task still queued or running is a 409
/// and then none is archived.
#[utoipa::path(post, path = "/archive", tag = "tasks", request_body = TaskIds,
    responses((status = 200, description = "What changed", body = ArchiveOutcome), UpdateErrors))]
async fn archive(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    ApiJson(body): ApiJson<TaskIds>,
) -> Result<Json<ArchiveOutcome>, ApiError> {
    let caller = Caller::new(&who, &client);
    Ok(Json(
        engine::actions::tasks::archive(&state.store, caller, &body.ids).await?,
    ))
}

/// Brings archived tasks back into the list (developers and admins).
#[utoipa::path(post, path = "/restore", tag = "tasks", request_body = TaskIds,
    responses((status = 200, description = "What changed", body = ArchiveOutcome), UpdateErrors))]
async fn restore(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    ApiJson(body): ApiJson<TaskIds>,
) -> Result<Json<ArchiveOutcome>, ApiError> {
    let caller = Caller::new(&who, &client);
    Ok(Json(
        engine::actions::tasks::restore(&state.store, caller, &body.ids).await?,
    ))
}

/// Archives one finished task.
#[utoipa::path(post, path = "/{id}/archive", tag = "tasks",
    params(("id" = String, Path, description = ID)),
    responses((status = 200, description = "The task", body = Task), ActionErrors))]
async fn archive_one(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<Json<Task>, ApiError> {
    archive_or_restore_one(&state, &who, &client, &id, true).await
}

/// Brings one archived task back into the list.
#[utoipa::path(post, path = "/{id}/restore", tag = "tasks",
    params(("id" = String, Path, description = ID)),
    responses((status = 200, description = "The task", body = Task), ActionErrors))]
async fn restore_one(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<Json<Task>, ApiError> {
    archive_or_restore_one(&state, &who, &client, &id, false).await
}

/// Archives or restores one task; answers it as it now is.
async fn archive_or_restore_one(
    state: &AppState,
    who: &engine::auth::Principal,
    client: &engine::store::sessions::ClientInfo,
    id: &str,
    archive: bool,
) -> Result<Json<Task>, ApiError> {
    let caller = Caller::new(who, client);
    let ids = [id.to_owned()];
    engine::actions::tasks::set_archived(&state.store, caller, &ids, archive).await?;
    Ok(Json(
        tasks::get(state.store.pool(), &who.workspace_id, id)
            .await?
            .to_wire(),
    ))
}

/// The working directories the caller may choose for a task: the allowed root (the
/// `workdir_root` setting; none: tasks use their own) and their latest choices.
#[utoipa::path(get, path = "/workdirs", tag = "tasks",
    responses((status = 200, description = "The choices", body = WorkdirOptions), ReadErrors))]
async fn workdirs(
    State(state): State<AppState>,
    Auth(who): Auth,
) -> Result<Json<WorkdirOptions>, ApiError> {
    Ok(Json(
        engine::store::task_archive::workdir_options(&state.store, &who.workspace_id, &who.user_id)
            .await?,
    ))
}

/// Deletes a finished task and its records.
#[utoipa::path(delete, path = "/{id}", tag = "tasks",
    params(("id" = String, Path, description = ID)),
    responses((status = 204, description = "Deleted"), ActionErrors))]
async fn remove(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.runner.delete(Caller::new(&who, &client), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// [`stream`] over POST, for clients that cannot send GET with headers.
#[utoipa::path(post, path = "/{id}/stream", tag = "tasks",
    params(("id" = String, Path, description = ID),
        ("last-event-id" = Option<i64>, Header, description = "Resume after this seq")),
    responses((status = 200, description = "Server-Sent Events: each `data` is an `Event` \
        (`reset` events carry `{topic, seq}`); the stream ends after the task's terminal event",
        content_type = "text/event-stream", body = wire::events::Event), ReadOneErrors))]
async fn stream_post(
    state: State<AppState>,
    auth: Auth,
    id: Path<String>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    stream(state, auth, id, headers).await
}

/// Server-Sent Events of one task: everything after `Last-Event-ID` (or from the start), then
/// live events, ending after the terminal event.
#[utoipa::path(get, path = "/{id}/stream", tag = "tasks",
    params(("id" = String, Path, description = ID),
        ("last-event-id" = Option<i64>, Header, description = "Resume after this seq")),
    responses((status = 200, description = "Server-Sent Events: each `data` is an `Event` \
        (`reset` events carry `{topic, seq}`); the stream ends after the task's terminal event",
        content_type = "text/event-stream", body = wire::events::Event), ReadOneErrors))]
pub(super) async fn stream(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    tasks::get(state.store.pool(), &who.workspace_id, &id).await?;
    let since = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or(0)
        .max(0);
    let topic = events::task_topic(&id);
    let bus = state.runner.bus().clone();
    let mut sub = Subscription::new(&bus, &who.workspace_id, vec![(topic, since)]);
    let body = async_stream(move |tx| async move {
        loop {
            let deliveries = match sub.next(&bus).await {
                Some(Ok(deliveries)) => deliveries,
                Some(Err(e)) => {
                    tracing::error!(error = %e, "reading a task's events failed");
                    return;
                }
                None => return,
            };
            for delivery in deliveries {
                let (sse, terminal) = match &delivery {
                    Delivery::Event(event) => (
                        SseEvent::default()
                            .id(event.seq.to_string())
                            .event(event.kind.as_str())
                            .json_data(event.to_wire())
                            .unwrap_or_default(),
                        event.is_terminal(),
                    ),
                    // Too far behind: say so (reload the task), then the newest events follow.
                    Delivery::Reset { topic, seq } => (
                        SseEvent::default()
                            .id(seq.to_string())
                            .event("reset")
                            .json_data(wire::events::ServerMessage::Reset {
                                topic: topic.clone(),
                                seq: *seq,
                            })
                            .unwrap_or_default(),
                        false,
                    ),
                };
                if tx.send(Ok(sse)).await.is_err() || terminal {
                    return;
                }
            }
        }
    });
    Ok(Sse::new(body).keep_alive(KeepAlive::default()))
}

/// A stream fed by a producer task through a small channel (ends when the producer returns).
fn async_stream<F, Fut>(
    producer: F,
) -> impl Stream<Item = Result<SseEvent, Infallible>> + Send + 'static
where
    F: FnOnce(tokio::sync::mpsc::Sender<Result<SseEvent, Infallible>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(producer(tx));
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
