//! `/api/v1/runs`: the Studio's playground runs — start one (an agent, an input and what to
//! change for the run), read one, list an agent's run history, follow one's events over SSE.
//! A run is a one-step task, so `/api/v1/tasks/{id}` and its stream read it too.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use engine::actions::Caller;
use engine::runner::playground;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::Page;
use wire::runs::{RunSummary, StartRun};
use wire::tasks::Task;

use super::AppState;
use super::auth::{Auth, Client, Developer};
use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery};
use super::openapi::{CreateErrors, ReadErrors, ReadOneErrors};

/// The routes under `/api/v1/runs`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, start))
        .routes(routes!(show))
        .routes(routes!(events))
}

/// Starts a run (developers and admins; one credit). Its events stream from
/// `/api/v1/runs/{id}/stream`.
#[utoipa::path(post, path = "/", tag = "runs", request_body = StartRun,
    responses((status = 201, description = "The run's task, queued", body = Task), CreateErrors))]
async fn start(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    ApiJson(body): ApiJson<StartRun>,
) -> Result<(StatusCode, Json<Task>), ApiError> {
    let task = state
        .runner
        .start_run(Caller::new(&who, &client), &body)
        .await?;
    Ok((StatusCode::CREATED, Json(task)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    /// The agent whose runs to list.
    agent_id: String,
}

/// An agent's runs, newest first (the last 100).
#[utoipa::path(get, path = "/", tag = "runs", params(HistoryQuery),
    responses((status = 200, description = "The runs", body = Page<RunSummary>), ReadErrors))]
async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> Result<Json<Page<RunSummary>>, ApiError> {
    let items = playground::history(&state.store, &who.workspace_id, &q.agent_id).await?;
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

/// One run: what answered, its tokens, cost, latency, time to first token and output.
#[utoipa::path(get, path = "/{id}", tag = "runs",
    params(("id" = String, Path, description = "The run's id")),
    responses((status = 200, description = "The run", body = RunSummary), ReadOneErrors))]
async fn show(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<Json<RunSummary>, ApiError> {
    Ok(Json(
        playground::run(&state.store, &who.workspace_id, &id).await?,
    ))
}

/// The run's events as Server-Sent Events, as `/api/v1/tasks/{id}/stream` sends them
/// (`token` events carry the output as it streams; the stream ends with the run).
#[utoipa::path(get, path = "/{id}/stream", tag = "runs",
    params(("id" = String, Path, description = "The run's id")),
    responses((status = 200, description = "The run's events",
        content_type = "text/event-stream", body = wire::events::Event), ReadOneErrors))]
async fn events(
    state: State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<impl axum::response::IntoResponse, ApiError> {
    playground::run(&state.store, &auth.0.workspace_id, &id).await?;
    super::tasks::stream(state, auth, Path(id), headers).await
}
