//! API keys and workspace members on the Settings page. Same engine functions as the REST API.

use leptos::prelude::*;

use crate::model::AppError;
use wire::access::{ApiKey, CreatedKey, Member};

/// The caller's keys (all of the workspace's for admins); never the keys themselves.
#[server(prefix = "/api", endpoint = "api_keys")]
pub async fn list_api_keys() -> Result<Vec<ApiKey>, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    Ok(engine::store::api_keys::list(&cx.store, &who).await?)
}

/// Creates a key for the caller (developers and admins); returns it — the only time it is shown.
#[server(prefix = "/api", endpoint = "create_api_key")]
pub async fn create_api_key(name: String) -> Result<CreatedKey, AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    Ok(engine::actions::access::create_api_key(&cx.store, caller, &name).await?)
}

/// Revokes a key (its owner or an admin).
#[server(prefix = "/api", endpoint = "revoke_api_key")]
pub async fn revoke_api_key(id: String) -> Result<(), AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    engine::actions::access::revoke_api_key(&cx.store, caller, &id).await?;
    Ok(())
}

/// The workspace's members (admins).
#[server(prefix = "/api", endpoint = "members")]
pub async fn list_members() -> Result<Vec<Member>, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    who.require(engine::domain::MemberRole::Admin)?;
    Ok(engine::store::users::list(cx.store.pool(), &who.workspace_id).await?)
}

/// Adds a member with a password (admins).
#[server(prefix = "/api", endpoint = "add_member")]
pub async fn add_member(email: String, password: String, role: String) -> Result<(), AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    engine::actions::access::add_member(&cx.store, caller, &email, Some(&password), &role).await?;
    Ok(())
}

/// Adds credits to a member (admins).
#[server(prefix = "/api", endpoint = "top_up")]
pub async fn top_up(user_id: String, amount: i64) -> Result<i64, AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    Ok(engine::actions::access::top_up(&cx.store, caller, &user_id, amount).await?)
}
