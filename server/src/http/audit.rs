//! `/api/v1/audit`: the workspace's audit log, filterable, newest first (admins only).

use axum::Json;
use axum::extract::State;
use engine::store::audit;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Admin;
use super::error::ApiError;
use super::extract::ApiQuery;
use super::openapi::AdminReadErrors;

/// The routes under `/api/v1/audit`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(verify))
}

/// Filters of the audit log.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct Query {
    /// Only this action, e.g. `agent.create`.
    action: Option<String>,
    /// Only this actor's e-mail.
    actor: Option<String>,
    /// At or after (Unix ms).
    since: Option<i64>,
    /// Before (Unix ms).
    until: Option<i64>,
    /// Entries older than this seq (the next page).
    before_seq: Option<i64>,
    /// Page size (default 100).
    limit: Option<i64>,
}

/// A page of the audit log.
#[derive(Serialize, utoipa::ToSchema)]
struct AuditPage {
    /// Newest first.
    entries: Vec<audit::Entry>,
}

/// Whether the audit chain is intact.
#[derive(Serialize, utoipa::ToSchema)]
struct AuditCheck {
    /// True when no entry was changed or removed.
    intact: bool,
    /// What the check found.
    verification: audit::Verification,
}

/// The audit log, newest first (admins).
#[utoipa::path(get, path = "/", tag = "audit", params(Query),
    responses((status = 200, description = "Entries", body = AuditPage), AdminReadErrors))]
async fn list(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiQuery(q): ApiQuery<Query>,
) -> Result<Json<AuditPage>, ApiError> {
    let filter = audit::Filter {
        action: q.action,
        actor: q.actor,
        since: q.since,
        until: q.until,
        before_seq: q.before_seq,
        limit: q.limit.unwrap_or(100),
    };
    let entries = audit::list(&state.store, &who.workspace_id, &filter).await?;
    Ok(Json(AuditPage { entries }))
}

/// Checks the audit log's hash chain (admins).
#[utoipa::path(get, path = "/verify", tag = "audit",
    responses((status = 200, description = "The check", body = AuditCheck), AdminReadErrors))]
async fn verify(
    State(state): State<AppState>,
    Admin(who): Admin,
) -> Result<Json<AuditCheck>, ApiError> {
    let verification = audit::verify(&state.store, &who.workspace_id).await?;
    Ok(Json(AuditCheck {
        intact: verification.first_broken_seq.is_none(),
        verification,
    }))
}
