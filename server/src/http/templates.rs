//! `/api/v1/templates`: the agent template library — save an agent as a template, list and
//! read them, make an agent from one, delete one.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use engine::actions::{Caller, templates};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::Page;
use wire::agents::{AgentTemplateInfo, ImportedAgent, SaveTemplate};

use super::AppState;
use super::auth::{Auth, Client, Developer};
use super::error::ApiError;
use super::extract::ApiJson;
use super::openapi::{ActionErrors, CreateErrors, ReadErrors, ReadOneErrors};

/// The routes under `/api/v1/templates`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, save))
        .routes(routes!(show, remove))
        .routes(routes!(make_agent))
}

/// The workspace's templates, by category then name.
#[utoipa::path(get, path = "/", tag = "agents",
    responses((status = 200, description = "The templates", body = Page<AgentTemplateInfo>), ReadErrors))]
async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
) -> Result<Json<Page<AgentTemplateInfo>>, ApiError> {
    Ok(Json(Page {
        items: templates::list(&state.store, &who).await?,
        next_cursor: None,
    }))
}

/// Saves an agent as a template (developers and admins); 409 when the name is taken.
#[utoipa::path(post, path = "/", tag = "agents", request_body = SaveTemplate,
    responses((status = 201, description = "Saved", body = AgentTemplateInfo), CreateErrors))]
async fn save(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    ApiJson(body): ApiJson<SaveTemplate>,
) -> Result<(StatusCode, Json<AgentTemplateInfo>), ApiError> {
    let saved = templates::save(&state.store, Caller::new(&who, &client), &body).await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

/// One template, with the agent it makes.
#[utoipa::path(get, path = "/{id}", tag = "agents",
    params(("id" = String, Path, description = "The template's id")),
    responses((status = 200, description = "The template", body = AgentTemplateInfo), ReadOneErrors))]
async fn show(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<Json<AgentTemplateInfo>, ApiError> {
    Ok(Json(templates::get(&state.store, &who, &id).await?))
}

/// Deletes a template (agents made from it stay).
#[utoipa::path(delete, path = "/{id}", tag = "agents",
    params(("id" = String, Path, description = "The template's id")),
    responses((status = 204, description = "Deleted"), ActionErrors))]
async fn remove(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    templates::delete(&state.store, Caller::new(&who, &client), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Makes a new agent from a template.
#[utoipa::path(post, path = "/{id}/agents", tag = "agents",
    params(("id" = String, Path, description = "The template's id")),
    responses((status = 201, description = "The agent made", body = ImportedAgent), ActionErrors))]
async fn make_agent(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<ImportedAgent>), ApiError> {
    let made = templates::make_agent(&state.store, Caller::new(&who, &client), &id).await?;
    Ok((StatusCode::CREATED, Json(made)))
}
