//! The agent registry as the pages see it: the same engine functions and the same wire types
//! as `/api/v1/agents`.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::model::AppError;
use wire::agents::{Agent, AgentInput, AgentSummary, PromptPreview};

/// The agents of the current workspace.
#[server(prefix = "/api", endpoint = "agents")]
pub async fn list_agents() -> Result<Vec<AgentSummary>, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    Ok(engine::store::agents::list(cx.store.pool(), &who.workspace_id).await?)
}

/// One agent, everything stored about it.
#[server(prefix = "/api", endpoint = "agent")]
pub async fn get_agent(id: String) -> Result<Agent, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    Ok(engine::store::agents::show(cx.store.pool(), &who.workspace_id, &id).await?)
}

/// Creates (no id) or updates an agent; returns it. JSON-encoded: the input's optional fields
/// and its fallback list do not survive a form encoding.
#[server(prefix = "/api", endpoint = "save_agent", input = Json)]
pub async fn save_agent(id: Option<String>, input: AgentInput) -> Result<Agent, AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    Ok(match id {
        Some(id) => engine::actions::agents::update(&cx.store, caller, &id, input).await?,
        None => engine::actions::agents::create(&cx.store, caller, input).await?,
    })
}

/// Deletes an agent.
#[server(prefix = "/api", endpoint = "delete_agent")]
pub async fn delete_agent(id: String) -> Result<(), AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    engine::actions::agents::delete(&cx.store, caller, &id).await?;
    Ok(())
}

/// Exactly what an agent being edited would receive for `task`.
#[server(prefix = "/api", endpoint = "preview_prompt")]
pub async fn preview_prompt(
    role: String,
    system_prompt: String,
    custom_instructions: String,
    task: String,
) -> Result<PromptPreview, AppError> {
    crate::ssr::principal().await?;
    Ok(engine::runner::preview_for(
        &role,
        &system_prompt,
        &custom_instructions,
        &task,
    )?)
}
