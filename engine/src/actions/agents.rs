//! Creating, editing and deleting agents (developers and admins).

use serde_json::json;

use super::Caller;
use crate::domain::MemberRole;
use crate::store::agents::{self, AgentInput};
use crate::{Result, Store};
use wire::agents::Agent;

/// Creates an agent from `input`.
pub async fn create(store: &Store, caller: Caller<'_>, input: AgentInput) -> Result<Agent> {
    caller.who.require(MemberRole::Developer)?;
    let ws = &caller.who.workspace_id;
    let agent = agents::resolve(input, None)?;
    agent.validate()?;
    agents::check_providers(store, ws, &agent).await?;
    let mut tx = store.begin().await?;
    let id = agents::create(&mut tx, ws, &agent).await?;
    sqlx::query("UPDATE prompt_versions SET created_by = $2 WHERE agent_id = $1")
        .bind(&id)
        .bind(&caller.who.user_id)
        .execute(&mut *tx)
        .await?;
    let out = agents::show(&mut *tx, ws, &id).await?;
    caller
        .audit(
            &mut tx,
            "agent.create",
            format!("agent:{id}"),
            json!({ "name": out.name, "role": out.role }),
        )
        .await?;
    tx.commit().await?;
    Ok(out)
}

/// Changes an agent: fields absent from `input` keep their value.
pub async fn update(
    store: &Store,
    caller: Caller<'_>,
    id: &str,
    input: AgentInput,
) -> Result<Agent> {
    caller.who.require(MemberRole::Developer)?;
    let ws = &caller.who.workspace_id;
    let before = agents::get(store.pool(), ws, id).await?;
    let note = input.version_note.clone().unwrap_or_default();
    if note.chars().count() > 200 {
        return Err(crate::Error::invalid(
            "version_note",
            "must be at most 200 characters",
        ));
    }
    let agent = agents::resolve(input, Some(&before))?;
    agent.validate()?;
    agents::check_providers(store, ws, &agent).await?;
    let mut tx = store.begin().await?;
    let version = agents::VersionNote {
        author: Some(&caller.who.user_id),
        note: &note,
    };
    let out = agents::update(&mut tx, ws, id, &before, &agent, version)
        .await?
        .into_wire();
    caller
        .audit(
            &mut tx,
            "agent.update",
            format!("agent:{id}"),
            json!({ "name": out.name }),
        )
        .await?;
    tx.commit().await?;
    Ok(out)
}

/// Deletes an agent (its runs keep their records).
pub async fn delete(store: &Store, caller: Caller<'_>, id: &str) -> Result<()> {
    caller.who.require(MemberRole::Developer)?;
    let mut tx = store.begin().await?;
    agents::delete(&mut tx, &caller.who.workspace_id, id).await?;
    caller
        .audit(&mut tx, "agent.delete", format!("agent:{id}"), json!({}))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Makes an earlier (or later) prompt version the agent's active one — a roll back — by copying
/// its text onto the agent; steps started from now on run it and count towards it.
pub async fn activate_version(
    store: &Store,
    caller: Caller<'_>,
    id: &str,
    version: i64,
) -> Result<Agent> {
    caller.who.require(MemberRole::Developer)?;
    let ws = &caller.who.workspace_id;
    let mut tx = store.begin().await?;
    agents::get(&mut *tx, ws, id).await?;
    let before =
        crate::store::prompt_versions::activate(&mut tx, ws, id, version, crate::now_ms()).await?;
    let out = agents::show(&mut *tx, ws, id).await?;
    caller
        .audit(
            &mut tx,
            "agent.prompt_activate",
            format!("agent:{id}"),
            json!({ "name": out.name, "version": version, "previous": before }),
        )
        .await?;
    tx.commit().await?;
    Ok(out)
}
