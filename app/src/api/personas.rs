//! An agent's personas as the pages see them: the same engine actions and wire types as
//! `/api/v1/agents/{id}/personas` and `/api/v1/personas/{id}`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::AppError;
use wire::agents::Agent;
use wire::personas::Persona;

/// An agent and its personas (the active one first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentPersonas {
    /// The agent.
    pub agent: Agent,
    /// Its personas.
    pub personas: Vec<Persona>,
}

/// An agent with its personas.
#[server(prefix = "/api", endpoint = "agent_personas")]
pub async fn get_agent_personas(agent_id: String) -> Result<AgentPersonas, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let mut conn = cx
        .store
        .pool()
        .acquire()
        .await
        .map_err(engine::Error::from)?;
    let ws = &who.workspace_id;
    let personas = engine::store::personas::list(&mut conn, ws, &agent_id).await?;
    let agent = engine::store::agents::show(&mut *conn, ws, &agent_id).await?;
    Ok(AgentPersonas { agent, personas })
}

/// A temperature as typed: empty is none (the agent's own).
#[cfg(feature = "ssr")]
fn temperature(raw: &str) -> Result<Option<f64>, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse::<f64>()
        .map(Some)
        .map_err(|_| engine::Error::invalid("temperature", "must be a number from 0 to 2").into())
}

/// Creates a persona (`id` empty) or changes one; `temperature` empty uses the agent's.
#[server(prefix = "/api", endpoint = "save_persona")]
pub async fn save_persona(
    agent_id: String,
    id: String,
    name: String,
    description: String,
    prompt: String,
    temperature: String,
) -> Result<Persona, AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    let temperature = self::temperature(&temperature)?;
    if id.is_empty() {
        let new = wire::personas::NewPersona {
            name,
            description,
            prompt,
            temperature,
            activate: false,
        };
        Ok(engine::actions::personas::create(&cx.store, caller, &agent_id, &new).await?)
    } else {
        let patch = wire::personas::PersonaPatch {
            name: Some(name),
            description: Some(description),
            prompt: Some(prompt),
            temperature: Some(temperature),
        };
        Ok(engine::actions::personas::update(&cx.store, caller, &id, &patch).await?)
    }
}

/// Makes a persona its agent's active one (`active = false`: none).
#[server(prefix = "/api", endpoint = "set_persona_active")]
pub async fn set_persona_active(id: String, active: bool) -> Result<Persona, AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    Ok(engine::actions::personas::activate(&cx.store, caller, &id, active).await?)
}

/// Deletes a persona.
#[server(prefix = "/api", endpoint = "delete_persona")]
pub async fn delete_persona(id: String) -> Result<(), AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    Ok(engine::actions::personas::delete(&cx.store, caller, &id).await?)
}
