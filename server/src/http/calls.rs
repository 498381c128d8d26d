//! `/api/v1/calls`: the calls explorer — every recorded model call, newest first, filtered and
//! paged by keyset (everyone in the workspace).

use axum::Json;
use axum::extract::State;
use engine::store::llm_calls::{self, CallFilter};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::Page;
use wire::calls::Call;

use super::AppState;
use super::auth::Auth;
use super::error::ApiError;
use super::extract::ApiQuery;
use super::list::number;
use super::openapi::ReadErrors;

/// The routes under `/api/v1/calls`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// Filters (all optional) and the page.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct CallQuery {
    /// Started at or after (Unix ms).
    #[param(value_type = Option<i64>)]
    from: Option<String>,
    /// Started before (Unix ms).
    #[param(value_type = Option<i64>)]
    to: Option<String>,
    /// Provider kind, e.g. `openai`.
    provider: Option<String>,
    /// Model.
    model: Option<String>,
    /// Agent id.
    agent: Option<String>,
    /// Role of the step, e.g. `BUILDER`.
    role: Option<String>,
    /// Workflow of the task, e.g. `bug_fix`.
    workflow: Option<String>,
    /// Task id.
    task: Option<String>,
    /// `success`, `failed` or `cancelled`.
    outcome: Option<String>,
    /// Error class, e.g. `rate_limited`.
    error_class: Option<String>,
    /// With `hour` (and `from`, `to`): only calls made on this weekday, 0 (Monday) to 6, in `tz`.
    #[param(value_type = Option<u8>, minimum = 0, maximum = 6)]
    weekday: Option<String>,
    /// With `weekday`: only calls made in this hour, 0–23, in `tz`.
    #[param(value_type = Option<u8>, minimum = 0, maximum = 23)]
    hour: Option<String>,
    /// The IANA time zone of `weekday` and `hour` (default UTC).
    tz: Option<String>,
    /// Items per page, 1–200 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The workspace's calls, newest first.
#[utoipa::path(get, path = "/", tag = "metrics", params(CallQuery),
    responses((status = 200, description = "A page of calls", body = Page<Call>), ReadErrors))]
async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiQuery(q): ApiQuery<CallQuery>,
) -> Result<Json<Page<Call>>, ApiError> {
    let text = |v: Option<String>| v.filter(|s| !s.is_empty());
    let filter = CallFilter {
        from: number("from", q.from.as_deref())?,
        to: number("to", q.to.as_deref())?,
        provider: text(q.provider),
        model: text(q.model),
        agent: text(q.agent),
        role: text(q.role),
        workflow: text(q.workflow),
        task: text(q.task),
        outcome: text(q.outcome),
        error_class: text(q.error_class),
        hour_of_week: hour_of_week(q.weekday, q.hour, q.tz)?,
    };
    let request = engine::store::page::PageRequest::parse(q.limit.as_deref(), q.cursor.as_deref())?;
    Ok(Json(
        llm_calls::page(&state.store, &who.workspace_id, &filter, &request).await?,
    ))
}

/// `weekday` and `hour` together, or neither.
fn hour_of_week(
    weekday: Option<String>,
    hour: Option<String>,
    tz: Option<String>,
) -> Result<Option<(u8, u8, String)>, ApiError> {
    let small = |field: &'static str, raw: Option<String>| -> Result<Option<u8>, ApiError> {
        match raw.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(raw) => raw
                .parse::<u8>()
                .map(Some)
                .map_err(|_| engine::Error::invalid(field, "must be a small whole number").into()),
        }
    };
    match (small("weekday", weekday)?, small("hour", hour)?) {
        (Some(d), Some(h)) => Ok(Some((d, h, tz.unwrap_or_default()))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(engine::Error::invalid("hour", "goes with weekday").into()),
        (None, Some(_)) => Err(engine::Error::invalid("weekday", "goes with hour").into()),
    }
}
