//! Provider credentials on the Settings page (admins change them; everyone sees them masked).

use leptos::prelude::*;

use crate::model::{AppError, ProviderRow};

/// The providers of the caller's workspace.
#[server(prefix = "/api", endpoint = "providers")]
pub async fn list_providers() -> Result<Vec<ProviderRow>, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let providers = engine::store::providers::list(cx.store.pool(), &who.workspace_id).await?;
    Ok(providers
        .into_iter()
        .map(|p| ProviderRow {
            simulated: p.kind == "simulator",
            kind: crate::ssr::provider_kind_name(&p.kind),
            id: p.id,
            name: p.name,
            base_url: p.base_url,
            key_hint: p.api_key_last4.map(|tail| format!("••••{tail}")),
        })
        .collect())
}

/// Adds a provider (admins only); the key is sealed before it is stored.
#[server(prefix = "/api", endpoint = "add_provider")]
pub async fn add_provider(
    name: String,
    kind: String,
    base_url: String,
    api_key: String,
) -> Result<(), AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    let blank = |s: String| if s.trim().is_empty() { None } else { Some(s) };
    let input = engine::store::providers::ProviderInput {
        name: Some(name),
        kind: Some(kind),
        base_url: blank(base_url),
        api_key: blank(api_key),
    };
    engine::actions::providers::create(&cx.store, &cx.master_key, caller, &input).await?;
    Ok(())
}

/// Deletes a provider (admins only).
#[server(prefix = "/api", endpoint = "delete_provider")]
pub async fn delete_provider(id: String) -> Result<(), AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    engine::actions::providers::delete(&cx.store, caller, &id).await?;
    Ok(())
}

/// "Test connection": one tiny call to the provider; returns a sentence for a toast and
/// whether it worked (admins only).
#[server(prefix = "/api", endpoint = "test_provider")]
pub async fn test_provider(id: String) -> Result<(bool, String), AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    let check = cx.runner.test_provider(caller, &id, None).await?;
    let text = if check.ok {
        format!(
            "Connection OK: {} answered in {} ms",
            check.model, check.latency_ms
        )
    } else {
        format!(
            "Connection failed ({}): {}",
            check.error_class.unwrap_or_default(),
            check.message
        )
    };
    Ok((check.ok, text))
}
