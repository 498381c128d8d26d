//! Operational endpoints: liveness, readiness and Prometheus metrics.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::error::ApiError;

/// `GET /health`: the process is up and serving HTTP.
pub async fn health(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_secs": state.started_at.elapsed().as_secs(),
    }))
}

/// `GET /ready`: the database answers and its schema is current; 503 otherwise.
pub async fn ready(State(state): State<AppState>) -> Response {
    let latency = match state.store.ping().await {
        Ok(latency) => latency,
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            return not_ready("the database is unreachable");
        }
    };
    match state.store.migration_status().await {
        Ok(status) if status.is_current() => Json(json!({
            "status": "ready",
            "database": {
                "backend": state.store.backend(),
                "latency_ms": latency.as_secs_f64() * 1000.0,
                "migrations": status,
            },
        }))
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

/// `GET /metrics`: Prometheus text exposition.
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
