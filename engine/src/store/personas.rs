//! Personas (migration 0018): rows of `agent_personas`, read with their author's e-mail. At
//! most one per agent has `is_active = 1` (a partial unique index); [`super::agents::get`]
//! joins it, so a step reads its agent and the active persona in one query.

use sqlx::{Any, AnyConnection, Executor};
use wire::personas::Persona;

use crate::{Error, Result};

const SELECT: &str = "SELECT p.id, p.agent_id, p.name, p.description, p.prompt, p.temperature, \
     p.is_active, u.email, p.created_at, p.updated_at \
     FROM agent_personas p LEFT JOIN users u ON u.id = p.created_by";

fn from_row(row: &sqlx::any::AnyRow) -> Result<Persona> {
    use sqlx::Row as _;
    Ok(Persona {
        id: row.try_get(0)?,
        agent_id: row.try_get(1)?,
        name: row.try_get(2)?,
        description: row.try_get(3)?,
        prompt: row.try_get(4)?,
        temperature: row.try_get(5)?,
        is_active: row.try_get::<i64, _>(6)? != 0,
        created_by: row.try_get(7)?,
        created_at: row.try_get(8)?,
        updated_at: row.try_get(9)?,
    })
}

/// One persona of the workspace.
pub async fn get<'e>(
    db: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    id: &str,
) -> Result<Persona> {
    let sql = format!("{SELECT} WHERE p.workspace_id = $1 AND p.id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| Error::not_found("persona", id))?;
    from_row(&row)
}

/// An agent's personas, the active one first, then by name.
pub async fn list(
    conn: &mut AnyConnection,
    workspace_id: &str,
    agent_id: &str,
) -> Result<Vec<Persona>> {
    super::agents::get(&mut *conn, workspace_id, agent_id).await?;
    let sql = format!(
        "{SELECT} WHERE p.workspace_id = $1 AND p.agent_id = $2 ORDER BY p.is_active DESC, p.name"
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
