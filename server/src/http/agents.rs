//! `/api/v1/agents`: the agent registry (developers edit, everyone reads).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use engine::actions::{self, Caller};
use engine::runner::PromptPreview;
use engine::store::agents::{self, Agent, AgentInput, AgentSummary};
use serde::Deserialize;

use super::AppState;
use super::auth::{Auth, Client, Developer};
use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery};

/// The routes under `/api/v1/agents`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(list).post(create))
        .route("/{id}", get(show).patch(update).delete(remove))
        .route("/{id}/prompt-preview", get(preview))
}

async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
) -> Result<Json<Vec<AgentSummary>>, ApiError> {
    Ok(Json(
        agents::list(state.store.pool(), &who.workspace_id).await?,
    ))
}

async fn show(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<Json<Agent>, ApiError> {
    Ok(Json(
        agents::get(state.store.pool(), &who.workspace_id, &id).await?,
    ))
}

async fn create(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    ApiJson(body): ApiJson<AgentInput>,
) -> Result<(StatusCode, Json<Agent>), ApiError> {
    let agent = actions::agents::create(&state.store, Caller::new(&who, &client), body).await?;
    Ok((StatusCode::CREATED, Json(agent)))
}

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

async fn remove(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    actions::agents::delete(&state.store, Caller::new(&who, &client), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct PreviewQuery {
    #[serde(default)]
    task: String,
}

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
