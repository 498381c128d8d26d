//! `/api/v1/audit`: the workspace's audit log, filterable, newest first (admins only).

use axum::Json;
use axum::extract::State;
use engine::store::audit;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::audit::AuditCheck;

use super::AppState;
use super::auth::Admin;
use super::error::ApiError;
use super::extract::ApiQuery;
use super::list::number;
use super::openapi::AdminReadErrors;
use engine::store::page::{Page, PageRequest};

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
    #[param(value_type = Option<i64>)]
    since: Option<String>,
    /// Before (Unix ms).
    #[param(value_type = Option<i64>)]
    until: Option<String>,
    /// Items per page, 1–200 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The audit log, newest first (admins).
#[utoipa::path(get, path = "/", tag = "audit", params(Query),
    responses((status = 200, description = "Entries", body = Page<audit::Entry>), AdminReadErrors))]
async fn list(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiQuery(q): ApiQuery<Query>,
) -> Result<Json<Page<audit::Entry>>, ApiError> {
    let request = PageRequest::parse(q.limit.as_deref(), q.cursor.as_deref())?;
    let filter = audit::Filter {
        action: q.action.filter(|a| !a.is_empty()),
        actor: q.actor.filter(|a| !a.is_empty()),
        since: number("since", q.since.as_deref())?,
        until: number("until", q.until.as_deref())?,
        before_seq: None,
        limit: request.limit,
    };
    Ok(Json(
        audit::page(&state.store, &who.workspace_id, filter, &request).await?,
    ))
}

/// Checks the audit log's hash chain (admins).
#[utoipa::path(get, path = "/verify", tag = "audit",
    responses((status = 200, description = "The check", body = AuditCheck), AdminReadErrors))]
async fn verify(
    State(state): State<AppState>,
    Admin(who): Admin,
) -> Result<Json<AuditCheck>, ApiError> {
    Ok(Json(audit::check(&state.store, &who.workspace_id).await?))
}
