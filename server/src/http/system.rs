//! `/api/v1/system/health`: the deployment's health as the caller's workspace sees it, and
//! recorded checks (a cron job `POST`s with an API key; `fleetdeck doctor --url` reads it).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::ops::SystemHealth;

use super::AppState;
use super::auth::{Auth, Client, Developer};
use super::error::ApiError;
use super::openapi::{ActionErrors, ReadErrors};

/// The routes under `/api/v1/system`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health, record_check))
}

/// Status (`ok` or `degraded`, with the problems), uptime, database latency, queue, workers
/// with their last heartbeat, providers with their last success and failure, failures of the
/// last 24 hours, the last failed tasks and the last recorded check.
#[utoipa::path(get, path = "/health", tag = "ops",
    responses((status = 200, description = "The snapshot", body = SystemHealth), ReadErrors))]
async fn health(
    State(state): State<AppState>,
    Auth(who): Auth,
) -> Result<Json<SystemHealth>, ApiError> {
    Ok(Json(
        engine::health::snapshot(
            &state.store,
            &who.workspace_id,
            state.runner.started_at_ms(),
        )
        .await?,
    ))
}

/// Takes a snapshot and records it as a check (developers and admins): for cron.
#[utoipa::path(post, path = "/health", tag = "ops",
    responses((status = 201, description = "The snapshot, with the new check as `last_check`",
        body = SystemHealth), ActionErrors))]
async fn record_check(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
) -> Result<(StatusCode, Json<SystemHealth>), ApiError> {
    let caller = engine::actions::Caller::new(&who, &client);
    let health =
        engine::health::record_check(&state.store, caller, state.runner.started_at_ms()).await?;
    Ok((StatusCode::CREATED, Json(health)))
}
