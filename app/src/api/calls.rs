//! The calls explorer's data: the same engine function and wire types as `/api/v1/calls`.

use leptos::prelude::*;

use crate::model::AppError;

/// Filters of the explorer, as the page's URL carries them (empty means any).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CallsQuery {
    /// Provider kind.
    pub provider: String,
    /// Model.
    pub model: String,
    /// Agent id.
    pub agent: String,
    /// Role.
    pub role: String,
    /// Workflow.
    pub workflow: String,
    /// Task id.
    pub task: String,
    /// `success`, `failed` or `cancelled`.
    pub outcome: String,
    /// Error class.
    pub error_class: String,
    /// Started at or after (Unix ms), as text.
    pub from: String,
    /// Started before (Unix ms), as text.
    pub to: String,
    /// Weekday (0 = Monday) of an hour of the week, as text (with `hour` and `tz`).
    pub weekday: String,
    /// Hour (0–23) of an hour of the week, as text.
    pub hour: String,
    /// IANA time zone of the hour of the week.
    pub tz: String,
    /// The page to continue after.
    pub cursor: String,
}

/// A page of calls, newest first (50 at a time).
#[server(prefix = "/api", endpoint = "calls", input = leptos::server_fn::codec::Json)]
pub async fn list_calls(query: CallsQuery) -> Result<wire::Page<wire::calls::Call>, AppError> {
    use engine::store::llm_calls::CallFilter;
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let text = |v: String| Some(v).filter(|s| !s.trim().is_empty());
    let time = |field: &str, raw: String| -> Result<Option<i64>, AppError> {
        match text(raw) {
            Some(raw) => raw.trim().parse::<i64>().map(Some).map_err(|_| {
                AppError::Invalid(format!("{field}: must be a time in Unix milliseconds"))
            }),
            None => Ok(None),
        }
    };
    let filter = CallFilter {
        from: time("from", query.from)?,
        to: time("to", query.to)?,
        provider: text(query.provider),
        model: text(query.model),
        agent: text(query.agent),
        role: text(query.role),
        workflow: text(query.workflow),
        task: text(query.task),
        outcome: text(query.outcome),
        error_class: text(query.error_class),
        hour_of_week: match (text(query.weekday), text(query.hour)) {
            (Some(d), Some(h)) => Some((
                d.trim()
                    .parse()
                    .map_err(|_| AppError::Invalid("weekday: must be 0 to 6".into()))?,
                h.trim()
                    .parse()
                    .map_err(|_| AppError::Invalid("hour: must be 0 to 23".into()))?,
                query.tz,
            )),
            _ => None,
        },
    };
    let cursor = text(query.cursor);
    let request = engine::store::page::PageRequest::parse(None, cursor.as_deref())?;
    Ok(engine::store::llm_calls::page(&cx.store, &who.workspace_id, &filter, &request).await?)
}
