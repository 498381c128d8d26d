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
    let agent = agents::resolve(input, Some(&before))?;
    agent.validate()?;
    agents::check_providers(store, ws, &agent).await?;
    let mut tx = store.begin().await?;
    let out = agents::update(&mut tx, ws, id, &before, &agent)
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
