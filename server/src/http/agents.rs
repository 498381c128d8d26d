//! `/api/v1/agents`: the agent registry (developers edit, everyone reads).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use engine::actions::{self, Caller};
use engine::store::agents;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::Page;
use wire::agents::{Agent, AgentInput, AgentSummary, PromptPreview};

use super::AppState;
use super::auth::{Auth, Client, Developer};
use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery};
use super::list::ListQuery;
use super::openapi::{ActionErrors, CreateErrors, ReadErrors, ReadOneErrors, UpdateErrors};

/// The routes under `/api/v1/agents`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update, remove))
        .routes(routes!(preview))
}

/// Every agent of the workspace, by name, with its live status.
#[utoipa::path(get, path = "/", tag = "agents", params(ListQuery),
    responses((status = 200, description = "The agents", body = Page<AgentSummary>), ReadErrors))]
async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<AgentSummary>>, ApiError> {
    let agents = agents::list(state.store.pool(), &who.workspace_id).await?;
    Ok(Json(q.page(agents, |a| a.name.clone())?))
}

/// One agent, everything stored about it.
#[utoipa::path(get, path = "/{id}", tag = "agents",
    params(("id" = String, Path, description = "The agent's id")),
    responses((status = 200, description = "The agent", body = Agent), ReadOneErrors))]
async fn show(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<Json<Agent>, ApiError> {
    Ok(Json(
        agents::show(state.store.pool(), &who.workspace_id, &id).await?,
    ))
}

/// Creates an agent (developers and admins). Absent fields take the role's defaults.
#[utoipa::path(post, path = "/", tag = "agents", request_body = AgentInput,
    responses((status = 201, description = "Created", body = Agent), CreateErrors))]
async fn create(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    ApiJson(body): ApiJson<AgentInput>,
) -> Result<(StatusCode, Json<Agent>), ApiError> {
    let agent = actions::agents::create(&state.store, Caller::new(&who, &client), body).await?;
    Ok((StatusCode::CREATED, Json(agent)))
}

/// Changes an agent's fields (absent ones keep their value); a prompt change makes a new
/// prompt version.
#[utoipa::path(patch, path = "/{id}", tag = "agents", request_body = AgentInput,
    params(("id" = String, Path, description = "The agent's id")),
    responses((status = 200, description = "The changed agent", body = Agent), UpdateErrors))]
async fn update(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AgentInput>,
) -> Result<Json<Agent>, ApiError> {
    let caller = Caller::new(&who, &client);
    Ok(Json(
        actions::agents::update(&state.store, caller, &id, body).await?,
    ))
}

/// Deletes an agent.
#[utoipa::path(delete, path = "/{id}", tag = "agents",
    params(("id" = String, Path, description = "The agent's id")),
    responses((status = 204, description = "Deleted"), ActionErrors))]
async fn remove(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    actions::agents::delete(&state.store, Caller::new(&who, &client), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct PreviewQuery {
    /// A task description to preview the prompt with.
    #[serde(default)]
    task: String,
}

/// The exact system prompt and first message the agent would run with for a task.
#[utoipa::path(get, path = "/{id}/prompt-preview", tag = "agents",
    params(("id" = String, Path, description = "The agent's id"), PreviewQuery),
    responses((status = 200, description = "The prompt", body = PromptPreview), ReadOneErrors))]
async fn preview(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PreviewQuery>,
) -> Result<Json<PromptPreview>, ApiError> {
    Ok(Json(
        engine::runner::prompt_preview(&state.store, &who.workspace_id, &id, &q.task).await?,
    ))
}
