//! The agent registry as the pages see it.

use leptos::prelude::*;

use crate::model::{AgentCard, AgentForm, AppError, PromptPreviewView};

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
            cost: crate::ssr::money(a.cost_micros),
            tokens: a.tokens,
        })
        .collect())
}

/// One agent's editable fields.
#[server(prefix = "/api", endpoint = "load_agent_form")]
pub async fn load_agent_form(id: String) -> Result<AgentForm, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let a = engine::store::agents::get(cx.store.pool(), &who.workspace_id, &id).await?;
    let fallbacks = a
        .fallback_list()
        .into_iter()
        .map(|f| crate::model::FallbackForm {
            provider_id: f.provider_id.unwrap_or_default(),
            model: f.model,
        })
        .collect();
    Ok(AgentForm {
        fallbacks,
        id: Some(a.id),
        name: a.name,
        role: a.role,
        description: a.description,
        provider_id: a.provider_id.unwrap_or_default(),
        model: a.model,
        temperature: a.temperature,
        max_tokens: a.max_tokens,
        system_prompt: a.system_prompt,
        custom_instructions: a.custom_instructions,
    })
}

/// Creates (no id) or updates an agent; returns its id.
#[server(prefix = "/api", endpoint = "save_agent")]
pub async fn save_agent(form: AgentForm) -> Result<String, AppError> {
    use engine::store::agents::{self, AgentInput};
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    let input = AgentInput {
        name: Some(form.name),
        role: Some(form.role),
        description: Some(form.description),
        provider_id: Some(form.provider_id),
        model: Some(form.model),
        temperature: Some(form.temperature),
        max_tokens: Some(form.max_tokens),
        system_prompt: Some(form.system_prompt),
        custom_instructions: Some(form.custom_instructions),
        tags: None,
        fallbacks: Some(
            form.fallbacks
                .into_iter()
                .filter(|f| !f.model.trim().is_empty())
                .map(|f| agents::FallbackTarget {
                    provider_id: Some(f.provider_id).filter(|p| !p.is_empty()),
                    model: f.model,
                })
                .collect(),
        ),
    };
    let agent = match form.id {
        Some(id) => engine::actions::agents::update(&cx.store, caller, &id, input).await?,
        None => engine::actions::agents::create(&cx.store, caller, input).await?,
    };
    Ok(agent.id)
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
) -> Result<PromptPreviewView, AppError> {
    crate::ssr::principal().await?;
    let p = engine::runner::preview_for(&role, &system_prompt, &custom_instructions, &task)?;
    Ok(PromptPreviewView {
        complexity: p.complexity,
        system_prompt: p.system_prompt,
        user_message: p.user_message,
        tokens: p.tokens,
    })
}
