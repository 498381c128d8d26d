//! `/api/v1/agents/{id}/knowledge`: an agent's knowledge sources — list, add, read, remove.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use engine::actions::{Caller, knowledge};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::Page;
use wire::knowledge::{KnowledgeSource, NewKnowledge};

use super::AppState;
use super::auth::{Auth, Client, Developer};
use super::error::ApiError;
use super::extract::ApiJson;
use super::openapi::{ActionErrors, ReadOneErrors, UpdateErrors};

/// The routes under `/api/v1/agents` for an agent's knowledge sources.
pub fn agent_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, add))
        .routes(routes!(show, remove))
}

/// An agent's knowledge sources, in the order its prompt carries them.
#[utoipa::path(get, path = "/{id}/knowledge", tag = "agents",
    params(("id" = String, Path, description = "The agent's id")),
    responses((status = 200, description = "The sources", body = Page<KnowledgeSource>), ReadOneErrors))]
async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<Json<Page<KnowledgeSource>>, ApiError> {
    let mut conn = state
        .store
        .pool()
        .acquire()
        .await
        .map_err(engine::Error::from)?;
    let items = engine::store::knowledge::list(&mut conn, &who.workspace_id, &id).await?;
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

/// Adds a knowledge source (developers and admins): 409 when the agent has one of that name,
/// 422 past the bounds (20 sources, 100,000 characters each, 200,000 in all).
#[utoipa::path(post, path = "/{id}/knowledge", tag = "agents", request_body = NewKnowledge,
    params(("id" = String, Path, description = "The agent's id")),
    responses((status = 201, description = "Added", body = KnowledgeSource), UpdateErrors))]
async fn add(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewKnowledge>,
) -> Result<(StatusCode, Json<KnowledgeSource>), ApiError> {
    let made = knowledge::add(&state.store, Caller::new(&who, &client), &id, &body).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

/// One knowledge source.
#[utoipa::path(get, path = "/{id}/knowledge/{source}", tag = "agents",
    params(("id" = String, Path, description = "The agent's id"),
        ("source" = String, Path, description = "The source's id")),
    responses((status = 200, description = "The source", body = KnowledgeSource), ReadOneErrors))]
async fn show(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((id, source)): Path<(String, String)>,
) -> Result<Json<KnowledgeSource>, ApiError> {
    Ok(Json(
        engine::store::knowledge::get(state.store.pool(), &who.workspace_id, &id, &source).await?,
    ))
}

/// Removes a knowledge source.
#[utoipa::path(delete, path = "/{id}/knowledge/{source}", tag = "agents",
    params(("id" = String, Path, description = "The agent's id"),
        ("source" = String, Path, description = "The source's id")),
    responses((status = 204, description = "Removed"), ActionErrors))]
async fn remove(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    Path((id, source)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    knowledge::delete(&state.store, Caller::new(&who, &client), &id, &source).await?;
    Ok(StatusCode::NO_CONTENT)
}
