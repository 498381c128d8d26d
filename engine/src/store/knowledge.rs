//! Knowledge sources (migration 0020): an agent's reference documents, read in the order they
//! were added — by the pages and API with their author, by a step as (name, text) pairs.

use sqlx::{Any, AnyConnection, Executor};
use wire::knowledge::KnowledgeSource;

use crate::{Error, Result};

const SELECT: &str = "SELECT k.id, k.agent_id, k.name, k.content, k.chars, u.email, k.created_at \
     FROM agent_knowledge k LEFT JOIN users u ON u.id = k.created_by";

fn from_row(row: &sqlx::any::AnyRow) -> Result<KnowledgeSource> {
    use sqlx::Row as _;
    let content: String = row.try_get(3)?;
    Ok(KnowledgeSource {
        estimated_tokens: crate::providers::estimate_tokens(&content),
        id: row.try_get(0)?,
        agent_id: row.try_get(1)?,
        name: row.try_get(2)?,
        content,
        chars: row.try_get(4)?,
        created_by: row.try_get(5)?,
        created_at: row.try_get(6)?,
    })
}

/// An agent's sources, oldest first. `NotFound` when the workspace has no such agent.
pub async fn list(
    conn: &mut AnyConnection,
    workspace_id: &str,
    agent_id: &str,
) -> Result<Vec<KnowledgeSource>> {
    super::agents::get(&mut *conn, workspace_id, agent_id).await?;
    let sql = format!(
        "{SELECT} WHERE k.workspace_id = $1 AND k.agent_id = $2 ORDER BY k.created_at, k.id"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(workspace_id)
        .bind(agent_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// One source of an agent.
pub async fn get<'e>(
    db: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    agent_id: &str,
    id: &str,
) -> Result<KnowledgeSource> {
    let sql = format!("{SELECT} WHERE k.workspace_id = $1 AND k.agent_id = $2 AND k.id = $3");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(workspace_id)
        .bind(agent_id)
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| Error::not_found("knowledge source", id))?;
    from_row(&row)
}

/// What a step's system prompt carries: (name, text) in the order they were added.
pub async fn for_prompt<'e>(
    db: impl Executor<'e, Database = Any>,
    agent_id: &str,
) -> Result<Vec<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT name, content FROM agent_knowledge WHERE agent_id = $1 ORDER BY created_at, id",
    )
    .bind(agent_id)
    .fetch_all(db)
    .await?)
}
