//! Personas of an agent: create, change, delete, activate and deactivate (developers and
//! admins; everyone reads). Trying one in the playground is a run
//! ([`crate::runner::Runner::start_run`] with `overrides.persona_id`).

use serde_json::json;
use wire::personas::{NewPersona, Persona, PersonaPatch};

use super::Caller;
use crate::domain::MemberRole;
use crate::store::{agents, personas};
use crate::{Error, Result, Store, new_id, now_ms};

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.chars().count() > 80 {
        return Err(Error::invalid("name", "must be 1 to 80 characters"));
    }
    Ok(())
}

fn check_description(d: &str) -> Result<()> {
    if d.chars().count() > 500 {
        return Err(Error::invalid(
            "description",
            "must be at most 500 characters",
        ));
    }
    Ok(())
}

fn check_prompt(p: &str) -> Result<()> {
    if p.trim().is_empty() || p.chars().count() > 20_000 {
        return Err(Error::invalid("prompt", "must be 1 to 20,000 characters"));
    }
    Ok(())
}

fn check_temperature(t: Option<f64>) -> Result<()> {
    if t.is_some_and(|t| !(0.0..=2.0).contains(&t)) {
        return Err(Error::invalid("temperature", "must be between 0 and 2"));
    }
    Ok(())
}

async fn name_free(
    conn: &mut sqlx::AnyConnection,
    agent_id: &str,
    name: &str,
    except: Option<&str>,
) -> Result<()> {
    let taken: Option<(String,)> =
        sqlx::query_as("SELECT id FROM agent_personas WHERE agent_id = $1 AND name = $2")
            .bind(agent_id)
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?;
    match taken {
        Some((id,)) if Some(id.as_str()) != except => Err(Error::Conflict(format!(
            "this agent has a persona named \"{name}\""
        ))),
        _ => Ok(()),
    }
}

/// Makes the one persona active (none: the agent speaks with its own prompt alone).
async fn set_active(
    conn: &mut sqlx::AnyConnection,
    agent_id: &str,
    id: Option<&str>,
) -> Result<()> {
    // Off first, then on: the partial unique index allows one active row at every moment.
    sqlx::query("UPDATE agent_personas SET is_active = 0 WHERE agent_id = $1 AND is_active = 1")
        .bind(agent_id)
        .execute(&mut *conn)
        .await?;
    if let Some(id) = id {
        sqlx::query("UPDATE agent_personas SET is_active = 1 WHERE agent_id = $1 AND id = $2")
            .bind(agent_id)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Creates a persona of an agent.
pub async fn create(
    store: &Store,
    caller: Caller<'_>,
    agent_id: &str,
    req: &NewPersona,
) -> Result<Persona> {
    caller.who.require(MemberRole::Developer)?;
    let ws = &caller.who.workspace_id;
    let name = req.name.trim();
    check_name(name)?;
    check_description(&req.description)?;
    check_prompt(&req.prompt)?;
    check_temperature(req.temperature)?;
    let mut tx = store.begin().await?;
    let agent = agents::get(&mut *tx, ws, agent_id).await?;
    name_free(&mut tx, agent_id, name, None).await?;
    let id = new_id();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO agent_personas (id, workspace_id, agent_id, name, description, prompt, \
         temperature, is_active, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $9)",
    )
    .bind(&id)
    .bind(ws)
    .bind(agent_id)
    .bind(name)
    .bind(req.description.trim())
    .bind(req.prompt.trim())
    .bind(req.temperature)
    .bind(&caller.who.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if req.activate {
        set_active(&mut tx, agent_id, Some(&id)).await?;
    }
    caller
        .audit(
            &mut tx,
            "persona.create",
            format!("persona:{id}"),
            json!({ "agent": agent.name, "name": name, "active": req.activate }),
        )
        .await?;
    let out = personas::get(&mut *tx, ws, &id).await?;
    tx.commit().await?;
    Ok(out)
}

/// Changes a persona: fields absent keep their value.
pub async fn update(
    store: &Store,
    caller: Caller<'_>,
    id: &str,
    req: &PersonaPatch,
) -> Result<Persona> {
    caller.who.require(MemberRole::Developer)?;
    let ws = &caller.who.workspace_id;
    let name = req.name.as_deref().map(str::trim);
    if let Some(n) = name {
        check_name(n)?;
    }
    if let Some(d) = &req.description {
        check_description(d)?;
    }
    if let Some(p) = &req.prompt {
        check_prompt(p)?;
    }
    if let Some(t) = req.temperature {
        check_temperature(t)?;
    }
    let mut tx = store.begin().await?;
    let before = personas::get(&mut *tx, ws, id).await?;
    if let Some(n) = name {
        name_free(&mut tx, &before.agent_id, n, Some(id)).await?;
    }
    let temperature = req.temperature.unwrap_or(before.temperature);
    sqlx::query(
        "UPDATE agent_personas SET name = $2, description = $3, prompt = $4, temperature = $5, \
         updated_at = $6 WHERE id = $1",
    )
    .bind(id)
    .bind(name.unwrap_or(&before.name))
    .bind(
        req.description
            .as_deref()
            .map_or(before.description.as_str(), str::trim),
    )
    .bind(
        req.prompt
            .as_deref()
            .map_or(before.prompt.as_str(), str::trim),
    )
    .bind(temperature)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    caller
        .audit(
            &mut tx,
            "persona.update",
            format!("persona:{id}"),
            json!({ "name": name.unwrap_or(&before.name), "previous_name": before.name }),
        )
        .await?;
    let out = personas::get(&mut *tx, ws, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// Deletes a persona (runs that used it keep its name).
pub async fn delete(store: &Store, caller: Caller<'_>, id: &str) -> Result<()> {
    caller.who.require(MemberRole::Developer)?;
    let ws = &caller.who.workspace_id;
    let mut tx = store.begin().await?;
    let before = personas::get(&mut *tx, ws, id).await?;
    sqlx::query("DELETE FROM agent_personas WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    caller
        .audit(
            &mut tx,
            "persona.delete",
            format!("persona:{id}"),
            json!({ "name": before.name, "was_active": before.is_active }),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Makes a persona its agent's active one (`active = false`: the agent runs with none).
pub async fn activate(
    store: &Store,
    caller: Caller<'_>,
    id: &str,
    active: bool,
) -> Result<Persona> {
    caller.who.require(MemberRole::Developer)?;
    let ws = &caller.who.workspace_id;
    let mut tx = store.begin().await?;
    let before = personas::get(&mut *tx, ws, id).await?;
    if active {
        set_active(&mut tx, &before.agent_id, Some(id)).await?;
    } else if before.is_active {
        set_active(&mut tx, &before.agent_id, None).await?;
    }
    caller
        .audit(
            &mut tx,
            if active {
                "persona.activate"
            } else {
                "persona.deactivate"
            },
            format!("persona:{id}"),
            json!({ "name": before.name, "agent_id": before.agent_id }),
        )
        .await?;
    let out = personas::get(&mut *tx, ws, id).await?;
    tx.commit().await?;
    Ok(out)
}
