//! Provider credentials on the Settings page (admins change them; everyone sees them masked).

use leptos::prelude::*;

use crate::model::AppError;
use wire::providers::{Provider, ProviderCheck};

/// The providers of the caller's workspace (keys masked).
#[server(prefix = "/api", endpoint = "providers")]
pub async fn list_providers() -> Result<Vec<Provider>, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    Ok(engine::store::providers::list(cx.store.pool(), &who.workspace_id).await?)
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
    let input = wire::providers::ProviderInput {
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

/// "Test connection": one tiny call to the provider (admins only).
#[server(prefix = "/api", endpoint = "test_provider")]
pub async fn test_provider(id: String) -> Result<ProviderCheck, AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    Ok(cx.runner.test_provider(caller, &id, None).await?)
}
