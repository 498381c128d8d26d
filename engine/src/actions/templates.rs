//! Agent templates: an agent's configuration saved under a name and a category (the body is
//! the export format's agent, providers by name), listed as a library, and made into new
//! agents through the same path as an import (validation, a free name, notes on what could
//! not be carried over). Developers and admins save, use and delete; everyone reads.

use serde_json::json;
use sqlx::Row as _;
use wire::agents::{AgentTemplate, AgentTemplateInfo, ImportedAgent, SaveTemplate};

use super::Caller;
use crate::auth::Principal;
use crate::domain::MemberRole;
use crate::{Error, Result, Store, new_id, now_ms};

/// Saves an agent as a template.
pub async fn save(
    store: &Store,
    caller: Caller<'_>,
    req: &SaveTemplate,
) -> Result<AgentTemplateInfo> {
    caller.who.require(MemberRole::Developer)?;
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(Error::invalid("name", "must be 1 to 80 characters"));
    }
    let category = req.category.trim();
    if category.chars().count() > 40 {
        return Err(Error::invalid("category", "must be at most 40 characters"));
    }
    let ws = &caller.who.workspace_id;
    let file = super::agent_files::export(store, caller.who, &req.agent_id)
        .await
        .map_err(|e| match e {
            Error::NotFound { .. } => Error::invalid("agent_id", "no such agent here"),
            other => other,
        })?;
    let body = serde_json::to_string(&file.agent)
        .map_err(|e| Error::invalid("agent_id", e.to_string()))?;
    let id = new_id();
    let mut tx = store.begin().await?;
    let taken: Option<(String,)> =
        sqlx::query_as("SELECT id FROM agent_templates WHERE workspace_id = $1 AND name = $2")
            .bind(ws)
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
    if taken.is_some() {
        return Err(Error::Conflict(format!(
            "a template named \"{name}\" exists"
        )));
    }
    sqlx::query(
        "INSERT INTO agent_templates (id, workspace_id, name, category, body, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(ws)
    .bind(name)
    .bind(category)
    .bind(&body)
    .bind(&caller.who.user_id)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    caller
        .audit(
            &mut tx,
            "template.create",
            format!("template:{id}"),
            json!({ "name": name, "agent": file.agent.name }),
        )
        .await?;
    let out = get_in(&mut tx, ws, &id).await?;
    tx.commit().await?;
    Ok(out)
}

const COLUMNS: &str = "t.id, t.name, t.category, t.body, u.email, t.created_at \
     FROM agent_templates t LEFT JOIN users u ON u.id = t.created_by";

fn from_row(row: &sqlx::any::AnyRow) -> Result<AgentTemplateInfo> {
    let body: String = row.try_get(3)?;
    let agent: AgentTemplate = serde_json::from_str(&body)
        .map_err(|e| Error::Config(format!("a stored template is unreadable: {e}")))?;
    Ok(AgentTemplateInfo {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        category: row.try_get(2)?,
        agent,
        created_by: row.try_get(4)?,
        created_at: row.try_get(5)?,
    })
}

async fn get_in(
    conn: &mut sqlx::AnyConnection,
    workspace_id: &str,
    id: &str,
) -> Result<AgentTemplateInfo> {
    let sql = format!("SELECT {COLUMNS} WHERE t.workspace_id = $1 AND t.id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| Error::not_found("template", id))?;
    from_row(&row)
}

/// The workspace's templates, by category then name.
pub async fn list(store: &Store, who: &Principal) -> Result<Vec<AgentTemplateInfo>> {
    let sql = format!("SELECT {COLUMNS} WHERE t.workspace_id = $1 ORDER BY t.category, t.name");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&who.workspace_id)
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// One template.
pub async fn get(store: &Store, who: &Principal, id: &str) -> Result<AgentTemplateInfo> {
    let mut conn = store.pool().acquire().await?;
    get_in(&mut conn, &who.workspace_id, id).await
}

/// Makes a new agent from a template (named after the template's agent, or "… (copy)").
pub async fn make_agent(store: &Store, caller: Caller<'_>, id: &str) -> Result<ImportedAgent> {
    caller.who.require(MemberRole::Developer)?;
    let template = get(store, caller.who, id).await?;
    let note = format!("From template {}", template.name);
    super::agent_files::make_from(
        store,
        caller,
        template.agent,
        "agent.from_template",
        &note,
        Some(id),
    )
    .await
}

/// Deletes a template (agents made from it stay).
pub async fn delete(store: &Store, caller: Caller<'_>, id: &str) -> Result<()> {
    caller.who.require(MemberRole::Developer)?;
    let mut tx = store.begin().await?;
    let done = sqlx::query("DELETE FROM agent_templates WHERE workspace_id = $1 AND id = $2")
        .bind(&caller.who.workspace_id)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if done == 0 {
        return Err(Error::not_found("template", id));
    }
    caller
        .audit(
            &mut tx,
            "template.delete",
            format!("template:{id}"),
            json!({}),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}
