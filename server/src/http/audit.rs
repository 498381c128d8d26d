//! `/api/v1/audit`: the workspace's audit log, filterable, newest first (admins only).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use engine::store::audit;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::Admin;
use super::error::ApiError;
use super::extract::ApiQuery;

/// The routes under `/api/v1/audit`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(list))
        .route("/verify", get(verify))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Query {
    action: Option<String>,
    actor: Option<String>,
    since: Option<i64>,
    until: Option<i64>,
    before_seq: Option<i64>,
    limit: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiQuery(q): ApiQuery<Query>,
) -> Result<Json<Value>, ApiError> {
    let filter = audit::Filter {
        action: q.action,
        actor: q.actor,
        since: q.since,
        until: q.until,
        before_seq: q.before_seq,
        limit: q.limit.unwrap_or(100),
    };
    let entries = audit::list(&state.store, &who.workspace_id, &filter).await?;
    Ok(Json(json!({ "entries": entries })))
}

async fn verify(State(state): State<AppState>, Admin(who): Admin) -> Result<Json<Value>, ApiError> {
    let result = audit::verify(&state.store, &who.workspace_id).await?;
    Ok(Json(
        json!({ "intact": result.first_broken_seq.is_none(), "verification": result }),
    ))
}
