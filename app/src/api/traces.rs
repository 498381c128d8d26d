//! External traces as the Traces pages see them: the same engine functions and wire types as
//! `/api/v1/traces`.

use leptos::prelude::*;

use crate::model::AppError;
use wire::Page;
use wire::traces::{TraceDetail, TraceSummary};

/// A page of external traces, newest first (50 at a time); `cursor` continues a listing.
#[server(prefix = "/api", endpoint = "traces")]
pub async fn list_traces(cursor: String) -> Result<Page<TraceSummary>, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let cursor = Some(cursor).filter(|c| !c.trim().is_empty());
    let request = engine::store::page::PageRequest::parse(None, cursor.as_deref())?;
    Ok(engine::gateway::traces::list(&cx.store, &who, &request).await?)
}

/// One trace and its span tree.
#[server(prefix = "/api", endpoint = "trace")]
pub async fn get_trace(trace_id: String) -> Result<TraceDetail, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    Ok(engine::gateway::traces::get(&cx.store, &who, &trace_id).await?)
}
