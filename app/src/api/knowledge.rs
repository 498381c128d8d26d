//! An agent's knowledge sources as the pages see them: the same engine actions and wire types
//! as `/api/v1/agents/{id}/knowledge`.

use leptos::prelude::*;

use crate::model::AppError;
use wire::knowledge::KnowledgeSource;

/// An agent's knowledge sources, in prompt order.
#[server(prefix = "/api", endpoint = "agent_knowledge")]
pub async fn get_agent_knowledge(agent_id: String) -> Result<Vec<KnowledgeSource>, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let mut conn = cx
        .store
        .pool()
        .acquire()
        .await
        .map_err(engine::Error::from)?;
    Ok(engine::store::knowledge::list(&mut conn, &who.workspace_id, &agent_id).await?)
}

/// Adds a knowledge source to an agent.
#[server(prefix = "/api", endpoint = "add_knowledge")]
pub async fn add_knowledge(
    agent_id: String,
    name: String,
    content: String,
) -> Result<KnowledgeSource, AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    let new = wire::knowledge::NewKnowledge { name, content };
    Ok(engine::actions::knowledge::add(&cx.store, caller, &agent_id, &new).await?)
}

/// Removes a knowledge source.
#[server(prefix = "/api", endpoint = "remove_knowledge")]
pub async fn remove_knowledge(agent_id: String, id: String) -> Result<(), AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    Ok(engine::actions::knowledge::delete(&cx.store, caller, &agent_id, &id).await?)
}
