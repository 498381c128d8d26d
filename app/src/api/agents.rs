//! The agent registry as the pages see it: the same engine functions and the same wire types
//! as `/api/v1/agents`.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::model::AppError;
use wire::agents::{Agent, AgentInput, AgentSummary, ImportedAgent, PromptPreview};
use wire::prompts::{AgentVersions, PromptDiff};

/// The registry's filters, as the Agents page keeps them in its URL, and where a page starts.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AgentQuery {
    /// Words.
    pub q: String,
    /// Role.
    pub role: String,
    /// Tag.
    pub tag: String,
    /// Provider id or `default`.
    pub provider: String,
    /// `active` or `idle`.
    pub status: String,
    /// The `next_cursor` of the page before (empty: the first page).
    pub cursor: String,
}

impl AgentQuery {
    /// The engine's filter.
    #[cfg(feature = "ssr")]
    fn filter(&self) -> engine::store::agents::AgentFilter {
        engine::store::agents::AgentFilter {
            q: self.q.clone(),
            role: self.role.clone(),
            tag: self.tag.clone(),
            provider: self.provider.clone(),
            status: self.status.clone(),
        }
    }
}

/// The first page of the agents the filters match, with what the filter bar offers.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AgentRegistry {
    /// The matching agents, by name, a page of them.
    pub page: wire::Page<AgentSummary>,
    /// How many agents the workspace has in all.
    pub total: i64,
    /// The tags in use, sorted (the first 500).
    pub tags: Vec<String>,
    /// The workspace's providers (id, name), for the provider filter.
    pub providers: Vec<(String, String)>,
}

/// A page of the agents of the current workspace that `query` matches, with the filter bar's
/// choices.
#[server(prefix = "/api", endpoint = "agent_registry")]
pub async fn get_agent_registry(query: AgentQuery) -> Result<AgentRegistry, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let pool = cx.store.pool();
    let ws = &who.workspace_id;
    Ok(AgentRegistry {
        page: agent_page(&query, ws).await?,
        total: engine::store::agents::count(pool, ws).await?,
        tags: engine::store::agents::tags(pool, ws).await?,
        providers: engine::store::providers::list(pool, ws)
            .await?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect(),
    })
}

/// The next page of the registry (the page's scroller).
#[server(prefix = "/api", endpoint = "agent_page")]
pub async fn get_agent_page(query: AgentQuery) -> Result<wire::Page<AgentSummary>, AppError> {
    let who = crate::ssr::principal().await?;
    agent_page(&query, &who.workspace_id).await
}

/// The page `query` asks for, as `GET /api/v1/agents` reads it.
#[cfg(feature = "ssr")]
async fn agent_page(
    query: &AgentQuery,
    workspace_id: &str,
) -> Result<wire::Page<AgentSummary>, AppError> {
    let cx = crate::ssr::context()?;
    let request = engine::store::page::PageRequest::parse(None, Some(&query.cursor))?;
    Ok(
        engine::store::agents::page(cx.store.pool(), workspace_id, &query.filter(), &request)
            .await?,
    )
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

/// Exactly what an agent being edited would receive for `task` (`agent_id`: a stored agent,
/// whose active persona and knowledge sources join the prompt; `has_tools`: it is offered
/// file tools).
#[server(prefix = "/api", endpoint = "preview_prompt")]
pub async fn preview_prompt(
    role: String,
    system_prompt: String,
    custom_instructions: String,
    task: String,
    agent_id: Option<String>,
    has_tools: bool,
) -> Result<PromptPreview, AppError> {
    let who = crate::ssr::principal().await?;
    // A stored agent's active persona joins the prompt as it will in its runs.
    let (stored, knowledge) = match agent_id {
        Some(id) => {
            let cx = crate::ssr::context()?;
            (
                Some(engine::store::agents::get(cx.store.pool(), &who.workspace_id, &id).await?),
                engine::store::knowledge::for_prompt(cx.store.pool(), &id).await?,
            )
        }
        None => (None, Vec::new()),
    };
    Ok(engine::runner::preview_for(
        &role,
        &system_prompt,
        &custom_instructions,
        stored
            .as_ref()
            .and_then(engine::store::agents::Agent::persona),
        &knowledge,
        has_tools,
        &task,
    )?)
}

/// An agent and its prompt versions, newest first, with their runs' numbers.
#[server(prefix = "/api", endpoint = "agent_versions")]
pub async fn get_agent_versions(id: String) -> Result<AgentVersions, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let mut conn = cx
        .store
        .pool()
        .acquire()
        .await
        .map_err(engine::Error::from)?;
    let agent = engine::store::agents::show(&mut *conn, &who.workspace_id, &id).await?;
    let versions = engine::store::prompt_versions::list(&mut conn, &who.workspace_id, &id).await?;
    Ok(AgentVersions { agent, versions })
}

/// What changed between two prompt versions.
#[server(prefix = "/api", endpoint = "prompt_diff")]
pub async fn get_prompt_diff(id: String, from: i64, to: i64) -> Result<PromptDiff, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let mut conn = cx
        .store
        .pool()
        .acquire()
        .await
        .map_err(engine::Error::from)?;
    Ok(engine::store::prompt_versions::diff(&mut conn, &who.workspace_id, &id, from, to).await?)
}

/// Makes a prompt version the agent's active one (a roll back when it is older).
#[server(prefix = "/api", endpoint = "activate_prompt_version")]
pub async fn activate_prompt_version(id: String, version: i64) -> Result<Agent, AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    Ok(engine::actions::agents::activate_version(&cx.store, caller, &id, version).await?)
}

/// Makes a new agent from the text of an export file. The file's JSON errors name the field
/// (`agent.temperature: invalid type…`), as the REST API's do.
#[server(prefix = "/api", endpoint = "import_agent")]
pub async fn import_agent(file: String) -> Result<ImportedAgent, AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    who.require(engine::domain::MemberRole::Developer)
        .map_err(AppError::from)?;
    let de = &mut serde_json::Deserializer::from_str(&file);
    let file: wire::agents::AgentExport = serde_path_to_error::deserialize(de).map_err(|e| {
        AppError::from(engine::Error::invalid(
            "file",
            format!("{}: {}", e.path(), e.inner()),
        ))
    })?;
    let caller = engine::actions::Caller::new(&who, &client);
    Ok(engine::actions::agent_files::import(&cx.store, caller, file).await?)
}

/// Makes a copy of an agent.
#[server(prefix = "/api", endpoint = "clone_agent")]
pub async fn clone_agent(id: String) -> Result<ImportedAgent, AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    Ok(engine::actions::agent_files::clone(&cx.store, caller, &id).await?)
}

/// The workspace's agent templates.
#[server(prefix = "/api", endpoint = "templates")]
pub async fn list_templates() -> Result<Vec<wire::agents::AgentTemplateInfo>, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    Ok(engine::actions::templates::list(&cx.store, &who).await?)
}

/// Saves an agent as a template.
#[server(prefix = "/api", endpoint = "save_template")]
pub async fn save_template(
    agent_id: String,
    name: String,
    category: String,
) -> Result<wire::agents::AgentTemplateInfo, AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    let req = wire::agents::SaveTemplate {
        agent_id,
        name,
        category,
    };
    Ok(engine::actions::templates::save(&cx.store, caller, &req).await?)
}

/// Makes an agent from a template.
#[server(prefix = "/api", endpoint = "agent_from_template")]
pub async fn agent_from_template(id: String) -> Result<ImportedAgent, AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    Ok(engine::actions::templates::make_agent(&cx.store, caller, &id).await?)
}

/// Deletes a template.
#[server(prefix = "/api", endpoint = "delete_template")]
pub async fn delete_template(id: String) -> Result<(), AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    engine::actions::templates::delete(&cx.store, caller, &id).await?;
    Ok(())
}
