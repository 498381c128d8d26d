//! The Health page's data: the same snapshot as `GET /api/v1/system/health`.

use leptos::prelude::*;

use crate::model::AppError;

/// The deployment's health as the caller's workspace sees it.
#[server(prefix = "/api", endpoint = "system_health")]
pub async fn system_health() -> Result<wire::ops::SystemHealth, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    Ok(engine::health::snapshot(&cx.store, &who.workspace_id, cx.runner.started_at_ms()).await?)
}

/// Takes a snapshot and records it as a check (developers and admins).
#[server(prefix = "/api", endpoint = "record_health_check")]
pub async fn record_health_check() -> Result<wire::ops::SystemHealth, AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    Ok(engine::health::record_check(
        &cx.store,
        engine::actions::Caller::new(&who, &client),
        cx.runner.started_at_ms(),
    )
    .await?)
}
