//! Adding and removing an agent's knowledge sources (developers and admins; everyone reads).
//! The bounds (count, size, total) are read in the adding transaction after the agent's row is
//! locked (a no-op update), so two adds to one agent at once cannot both slip past them.

use serde_json::json;
use wire::knowledge::{
    KnowledgeDoc, KnowledgeSource, MAX_CHARS, MAX_SOURCES, MAX_TOTAL_CHARS, NewKnowledge,
};

use super::Caller;
use crate::domain::MemberRole;
use crate::store::{agents, knowledge};
use crate::{Error, Result, Store, new_id, now_ms};

/// Checks a whole set of sources (an agent file's): the bounds of one agent's sources.
pub(crate) fn check_set(docs: &[KnowledgeDoc]) -> Result<()> {
    if docs.len() > MAX_SOURCES {
        return Err(Error::invalid(
            "agent.knowledge",
            format!("at most {MAX_SOURCES} knowledge sources"),
        ));
    }
    let mut total = 0;
    for (i, d) in docs.iter().enumerate() {
        let name = d.name.trim();
        if name.is_empty() || name.chars().count() > 120 {
            return Err(Error::invalid(
                "agent.knowledge",
                format!("[{i}].name must be 1 to 120 characters"),
            ));
        }
        if docs[..i].iter().any(|o| o.name.trim() == name) {
            return Err(Error::invalid(
                "agent.knowledge",
                format!("[{i}].name \"{name}\" is used twice"),
            ));
        }
        let chars = d.content.chars().count();
        if d.content.trim().is_empty() || chars > MAX_CHARS {
            return Err(Error::invalid(
                "agent.knowledge",
                format!("[{i}].content must be 1 to {MAX_CHARS} characters"),
            ));
        }
        total += chars;
    }
    if total > MAX_TOTAL_CHARS {
        return Err(Error::invalid(
            "agent.knowledge",
            format!("at most {MAX_TOTAL_CHARS} characters in all"),
        ));
    }
    Ok(())
}

/// Stores one source of a new agent (its set checked by [`check_set`]).
pub(crate) async fn insert_in(
    conn: &mut sqlx::AnyConnection,
    workspace_id: &str,
    agent_id: &str,
    doc: &KnowledgeDoc,
    author: &str,
) -> Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO agent_knowledge (id, workspace_id, agent_id, name, content, chars, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(workspace_id)
    .bind(agent_id)
    .bind(doc.name.trim())
    .bind(&doc.content)
    .bind(i64::try_from(doc.content.chars().count()).unwrap_or(i64::MAX))
    .bind(author)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// Adds a knowledge source to an agent.
pub async fn add(
    store: &Store,
    caller: Caller<'_>,
    agent_id: &str,
    req: &NewKnowledge,
) -> Result<KnowledgeSource> {
    caller.who.require(MemberRole::Developer)?;
    let ws = &caller.who.workspace_id;
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(Error::invalid("name", "must be 1 to 120 characters"));
    }
    let chars = req.content.chars().count();
    if req.content.trim().is_empty() || chars > MAX_CHARS {
        return Err(Error::invalid(
            "content",
            format!("must be 1 to {MAX_CHARS} characters"),
        ));
    }
    let mut tx = store.begin().await?;
    let agent = agents::get(&mut *tx, ws, agent_id).await?;
    // Serialises adds to one agent (a write lock on its row) before the bounds are read.
    sqlx::query("UPDATE agents SET updated_at = updated_at WHERE id = $1")
        .bind(agent_id)
        .execute(&mut *tx)
        .await?;
    let (count, total): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(chars), 0) AS BIGINT) FROM agent_knowledge WHERE agent_id = $1",
    )
    .bind(agent_id)
    .fetch_one(&mut *tx)
    .await?;
    if usize::try_from(count).unwrap_or(usize::MAX) >= MAX_SOURCES {
        return Err(Error::invalid(
            "content",
            format!("an agent has at most {MAX_SOURCES} knowledge sources"),
        ));
    }
    if usize::try_from(total).unwrap_or(usize::MAX) + chars > MAX_TOTAL_CHARS {
        return Err(Error::invalid(
            "content",
            format!(
                "an agent's knowledge sources hold at most {MAX_TOTAL_CHARS} characters in all ({total} used)"
            ),
        ));
    }
    let taken: Option<(String,)> =
        sqlx::query_as("SELECT id FROM agent_knowledge WHERE agent_id = $1 AND name = $2")
            .bind(agent_id)
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
    if taken.is_some() {
        return Err(Error::Conflict(format!(
            "this agent has a knowledge source named \"{name}\""
        )));
    }
    let doc = KnowledgeDoc {
        name: name.to_owned(),
        content: req.content.clone(),
    };
    let id = insert_in(&mut tx, ws, agent_id, &doc, &caller.who.user_id).await?;
    caller
        .audit(
            &mut tx,
            "knowledge.add",
            format!("agent:{agent_id}"),
            json!({ "agent": agent.name, "name": name, "chars": chars }),
        )
        .await?;
    let out = knowledge::get(&mut *tx, ws, agent_id, &id).await?;
    tx.commit().await?;
    Ok(out)
}

/// Removes a knowledge source from its agent.
pub async fn delete(store: &Store, caller: Caller<'_>, agent_id: &str, id: &str) -> Result<()> {
    caller.who.require(MemberRole::Developer)?;
    let ws = &caller.who.workspace_id;
    let mut tx = store.begin().await?;
    let before = knowledge::get(&mut *tx, ws, agent_id, id).await?;
    sqlx::query("DELETE FROM agent_knowledge WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    caller
        .audit(
            &mut tx,
            "knowledge.delete",
            format!("agent:{agent_id}"),
            json!({ "name": before.name }),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}
