//! Personas: `/api/v1/agents/{id}/personas` (list, create) and `/api/v1/personas/{id}` (read,
//! change, delete, activate, deactivate, test in the playground).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use engine::actions::{Caller, personas};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::Page;
use wire::personas::{NewPersona, Persona, PersonaPatch, TestPersona};
use wire::runs::StartRun;
use wire::tasks::Task;

use super::AppState;
use super::auth::{Auth, Client, Developer};
use super::error::ApiError;
use super::extract::ApiJson;
use super::openapi::{ActionErrors, PaidErrors, ReadOneErrors, UpdateErrors};

/// The routes under `/api/v1/agents` for an agent's personas.
pub fn agent_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create))
}

/// The routes under `/api/v1/personas`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show, update, remove))
        .routes(routes!(activate))
        .routes(routes!(deactivate))
        .routes(routes!(test))
}

/// An agent's personas, the active one first.
#[utoipa::path(get, path = "/{id}/personas", tag = "agents",
    params(("id" = String, Path, description = "The agent's id")),
    responses((status = 200, description = "The personas", body = Page<Persona>), ReadOneErrors))]
async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<Json<Page<Persona>>, ApiError> {
    let mut conn = state
        .store
        .pool()
        .acquire()
        .await
        .map_err(engine::Error::from)?;
    let items = engine::store::personas::list(&mut conn, &who.workspace_id, &id).await?;
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

/// Creates a persona of an agent (developers and admins); 409 when the agent has one of that
/// name.
#[utoipa::path(post, path = "/{id}/personas", tag = "agents", request_body = NewPersona,
    params(("id" = String, Path, description = "The agent's id")),
    responses((status = 201, description = "Created", body = Persona), UpdateErrors))]
async fn create(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewPersona>,
) -> Result<(StatusCode, Json<Persona>), ApiError> {
    let made = personas::create(&state.store, Caller::new(&who, &client), &id, &body).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

/// One persona.
#[utoipa::path(get, path = "/{id}", tag = "agents",
    params(("id" = String, Path, description = "The persona's id")),
    responses((status = 200, description = "The persona", body = Persona), ReadOneErrors))]
async fn show(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<Json<Persona>, ApiError> {
    Ok(Json(
        engine::store::personas::get(state.store.pool(), &who.workspace_id, &id).await?,
    ))
}

/// Changes a persona: fields absent keep their value; `"temperature": null` returns to the
/// agent's.
#[utoipa::path(patch, path = "/{id}", tag = "agents", request_body = PersonaPatch,
    params(("id" = String, Path, description = "The persona's id")),
    responses((status = 200, description = "Changed", body = Persona), UpdateErrors))]
async fn update(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PersonaPatch>,
) -> Result<Json<Persona>, ApiError> {
    Ok(Json(
        personas::update(&state.store, Caller::new(&who, &client), &id, &body).await?,
    ))
}

/// Deletes a persona (runs that used it keep its name).
#[utoipa::path(delete, path = "/{id}", tag = "agents",
    params(("id" = String, Path, description = "The persona's id")),
    responses((status = 204, description = "Deleted"), ActionErrors))]
async fn remove(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    personas::delete(&state.store, Caller::new(&who, &client), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Makes it its agent's active persona: every run and step of the agent from now on.
#[utoipa::path(post, path = "/{id}/activate", tag = "agents",
    params(("id" = String, Path, description = "The persona's id")),
    responses((status = 200, description = "Active", body = Persona), ActionErrors))]
async fn activate(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<Json<Persona>, ApiError> {
    Ok(Json(
        personas::activate(&state.store, Caller::new(&who, &client), &id, true).await?,
    ))
}

/// Stops using it: the agent runs with its own prompt alone.
#[utoipa::path(post, path = "/{id}/deactivate", tag = "agents",
    params(("id" = String, Path, description = "The persona's id")),
    responses((status = 200, description = "Not active", body = Persona), ActionErrors))]
async fn deactivate(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<Json<Persona>, ApiError> {
    Ok(Json(
        personas::activate(&state.store, Caller::new(&who, &client), &id, false).await?,
    ))
}

/// Tries the persona in the playground without activating it: a run of its agent (one credit)
/// whose events stream from `/api/v1/runs/{id}/stream`.
#[utoipa::path(post, path = "/{id}/test", tag = "agents", request_body = TestPersona,
    params(("id" = String, Path, description = "The persona's id")),
    responses((status = 201, description = "The run's task, queued", body = Task), PaidErrors))]
async fn test(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TestPersona>,
) -> Result<(StatusCode, Json<Task>), ApiError> {
    let persona = engine::store::personas::get(state.store.pool(), &who.workspace_id, &id).await?;
    let mut overrides = body.overrides;
    overrides.persona_id = Some(persona.id);
    let run = StartRun {
        agent_id: persona.agent_id,
        input: body.input,
        overrides,
    };
    let task = state
        .runner
        .start_run(Caller::new(&who, &client), &run)
        .await?;
    Ok((StatusCode::CREATED, Json(task)))
}
