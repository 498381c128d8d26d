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
use wire::agents::{Agent, AgentExport, AgentInput, AgentSummary, ImportedAgent, PromptPreview};
use wire::prompts::{PromptDiff, PromptVersion};

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
        .routes(routes!(versions))
        .routes(routes!(version_diff))
        .routes(routes!(version))
        .routes(routes!(activate_version))
        .routes(routes!(export))
        .routes(routes!(import))
        .routes(routes!(clone))
}

/// `limit`, `cursor` and the registry's filters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct AgentListQuery {
    /// Items per page, 1–200 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Words found in the name, description, model or tags (all of them).
    #[serde(default)]
    q: String,
    /// A role, e.g. `BUILDER`.
    #[serde(default)]
    role: String,
    /// A tag.
    #[serde(default)]
    tag: String,
    /// A provider's id, or `default` for agents on the workspace default.
    #[serde(default)]
    provider: String,
    /// `active` or `idle`.
    #[serde(default)]
    status: String,
}

/// The workspace's agents by name, a keyset page at a time, with their live status, cost and
/// tokens; filtered by words, role, tag, provider and status.
#[utoipa::path(get, path = "/", tag = "agents", params(AgentListQuery),
    responses((status = 200, description = "The agents", body = Page<AgentSummary>), ReadErrors))]
async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiQuery(q): ApiQuery<AgentListQuery>,
) -> Result<Json<Page<AgentSummary>>, ApiError> {
    let request = ListQuery {
        limit: q.limit,
        cursor: q.cursor,
    }
    .request()?;
    let filter = agents::AgentFilter {
        q: q.q,
        role: q.role,
        tag: q.tag,
        provider: q.provider,
        status: q.status,
    };
    Ok(Json(
        agents::page(state.store.pool(), &who.workspace_id, &filter, &request).await?,
    ))
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

/// An agent's prompt versions, newest first, each with the numbers of the steps that ran it.
#[utoipa::path(get, path = "/{id}/versions", tag = "agents",
    params(("id" = String, Path, description = "The agent's id")),
    responses((status = 200, description = "The versions", body = Page<PromptVersion>), ReadOneErrors))]
async fn versions(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<Json<Page<PromptVersion>>, ApiError> {
    let mut conn = state
        .store
        .pool()
        .acquire()
        .await
        .map_err(engine::Error::from)?;
    let items = engine::store::prompt_versions::list(&mut conn, &who.workspace_id, &id).await?;
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

/// One prompt version.
#[utoipa::path(get, path = "/{id}/versions/{version}", tag = "agents",
    params(("id" = String, Path, description = "The agent's id"),
        ("version" = i64, Path, description = "The version number")),
    responses((status = 200, description = "The version", body = PromptVersion), ReadOneErrors))]
async fn version(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((id, version)): Path<(String, String)>,
) -> Result<Json<PromptVersion>, ApiError> {
    let version = version_number(&version)?;
    Ok(Json(
        engine::store::prompt_versions::get(state.store.pool(), &who.workspace_id, &id, version)
            .await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct DiffQuery {
    /// The older version.
    from: i64,
    /// The newer version.
    to: i64,
}

/// What changed between two prompt versions, line by line.
#[utoipa::path(get, path = "/{id}/versions/diff", tag = "agents",
    params(("id" = String, Path, description = "The agent's id"), DiffQuery),
    responses((status = 200, description = "The diff", body = PromptDiff), ReadOneErrors))]
async fn version_diff(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> Result<Json<PromptDiff>, ApiError> {
    let mut conn = state
        .store
        .pool()
        .acquire()
        .await
        .map_err(engine::Error::from)?;
    Ok(Json(
        engine::store::prompt_versions::diff(&mut conn, &who.workspace_id, &id, q.from, q.to)
            .await?,
    ))
}

/// Makes a version the agent's active prompt (a roll back when it is older): steps started
/// from now on run it.
#[utoipa::path(post, path = "/{id}/versions/{version}/activate", tag = "agents",
    params(("id" = String, Path, description = "The agent's id"),
        ("version" = i64, Path, description = "The version number")),
    responses((status = 200, description = "The agent, with that prompt", body = Agent), ActionErrors))]
async fn activate_version(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    Path((id, version)): Path<(String, String)>,
) -> Result<Json<Agent>, ApiError> {
    let version = version_number(&version)?;
    let caller = Caller::new(&who, &client);
    Ok(Json(
        actions::agents::activate_version(&state.store, caller, &id, version).await?,
    ))
}

/// A version number from a path: anything else names no version (404, in the SPEC's format).
fn version_number(raw: &str) -> Result<i64, ApiError> {
    raw.parse()
        .map_err(|_| engine::Error::not_found("prompt version", raw).into())
}

/// The agent as a file to import elsewhere (`fleetdeck.agent` version 1; providers by name).
#[utoipa::path(get, path = "/{id}/export", tag = "agents",
    params(("id" = String, Path, description = "The agent's id")),
    responses((status = 200, description = "The export file, as an attachment", body = AgentExport), ReadOneErrors))]
async fn export(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<impl axum::response::IntoResponse, ApiError> {
    let file = engine::actions::agent_files::export(&state.store, &who, &id).await?;
    // A file name from the agent's name, reduced to characters every file system takes.
    let stem: String = file
        .agent
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let disposition = format!(
        "attachment; filename=\"{}.fleetdeck-agent.json\"",
        stem.trim_matches('-')
    );
    Ok((
        [(axum::http::header::CONTENT_DISPOSITION, disposition)],
        Json(file),
    ))
}

/// Makes a new agent from an export file; a taken name gets " (copy)", and a provider not in
/// this workspace is replaced (said in `notes`).
#[utoipa::path(post, path = "/import", tag = "agents", request_body = AgentExport,
    responses((status = 201, description = "The agent made", body = ImportedAgent), CreateErrors))]
async fn import(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    ApiJson(file): ApiJson<AgentExport>,
) -> Result<(StatusCode, Json<ImportedAgent>), ApiError> {
    let made = engine::actions::agent_files::import(&state.store, Caller::new(&who, &client), file)
        .await?;
    Ok((StatusCode::CREATED, Json(made)))
}

/// Makes a copy of an agent, named "Name (copy)".
#[utoipa::path(post, path = "/{id}/clone", tag = "agents",
    params(("id" = String, Path, description = "The agent's id")),
    responses((status = 201, description = "The copy", body = ImportedAgent), ActionErrors))]
async fn clone(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<ImportedAgent>), ApiError> {
    let made =
        engine::actions::agent_files::clone(&state.store, Caller::new(&who, &client), &id).await?;
    Ok((StatusCode::CREATED, Json(made)))
}
