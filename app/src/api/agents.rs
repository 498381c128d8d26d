//! The agent registry as the pages see it.

use leptos::prelude::*;

use crate::model::{AgentCard, AppError};

/// The agents of the current workspace.
#[server(prefix = "/api", endpoint = "agents")]
pub async fn list_agents() -> Result<Vec<AgentCard>, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let agents = engine::store::agents::list(cx.store.pool(), &who.workspace_id).await?;
    Ok(agents
        .into_iter()
        .map(|a| AgentCard {
            simulated: a.provider_kind.as_deref() == Some("simulator"),
            id: a.id,
            name: a.name,
            role: a.role,
            description: a.description,
            provider: a.provider_name,
            model: a.model,
            temperature: a.temperature,
            status: a.status,
        })
        .collect())
}
