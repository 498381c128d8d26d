//! Operational endpoints: liveness, readiness and Prometheus metrics.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::ops::{Health, Ready, ReadyDatabase};

use super::AppState;
use super::error::ApiError;

/// `/health`, `/ready`, `/metrics` and the event socket `/ws`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(metrics))
        .routes(routes!(super::ws::handler))
}

/// What a `fleetdeck worker` serves: `/health`, `/ready` and `/metrics`.
pub fn worker_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(metrics))
}

/// Liveness: the process is up and serving HTTP.
#[utoipa::path(get, path = "/health", tag = "ops", security(()),
    responses((status = 200, description = "Up", body = Health)))]
pub async fn health(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        uptime_secs: state.started_at.elapsed().as_secs(),
    })
}

/// Readiness: the database answers and its schema is current; 503 otherwise.
#[utoipa::path(get, path = "/ready", tag = "ops", security(()),
    responses((status = 200, description = "Ready", body = Ready),
        (status = 503, description = "Not ready: the database is unreachable or its migrations \
            are not current", body = super::openapi::ErrorBody)))]
pub async fn ready(State(state): State<AppState>) -> Response {
    let latency = match state.store.ping().await {
        Ok(latency) => latency,
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            return not_ready("the database is unreachable");
        }
    };
    match state.store.migration_status().await {
        Ok(status) if status.is_current() => Json(Ready {
            status: "ready".into(),
            database: ReadyDatabase {
                backend: state.store.backend().as_str().to_owned(),
                latency_ms: latency.as_secs_f64() * 1000.0,
                migrations: status,
            },
        })
        .into_response(),
        Ok(status) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "NOT_READY",
            "database migrations are not current; run `fleetdeck migrate`",
        )
        .with_details(json!({ "migrations": status }))
        .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: cannot read migration status");
            not_ready("cannot read the migration status")
        }
    }
}

fn not_ready(message: &str) -> Response {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "NOT_READY", message).into_response()
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "ops", security(()),
    responses((status = 200, description = "Metrics", content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let pool = state.store.pool_stats();
    let backend = state.store.backend().as_str();
    metrics::gauge!("db_pool_connections", "backend" => backend, "state" => "idle")
        .set(f64::from(pool.idle));
    metrics::gauge!("db_pool_connections", "backend" => backend, "state" => "in_use")
        .set(f64::from(pool.size.saturating_sub(pool.idle)));
    metrics::gauge!("db_pool_max_connections", "backend" => backend).set(f64::from(pool.max));
    metrics::gauge!("process_uptime_seconds").set(state.started_at.elapsed().as_secs_f64());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
