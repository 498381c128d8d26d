//! Prompt versions (migration 0001, numbers from 0015): an agent's system prompt and
//! instructions as saved over time. A save that changes either makes the next version and
//! activates it ([`super::agents::update`]); [`activate`] makes an older one current again (a
//! roll back) by copying it onto the agent. Each step records the version it ran
//! (`agent_runs.prompt_version`, set when the step starts, from the active version), and a
//! trigger adds a step's totals to its version when it finishes (and takes them back if the
//! step is run again), so a version's numbers are read from one row.

use sqlx::{Any, AnyConnection, Executor};
use wire::prompts::{PromptDiff, PromptDiffLine, PromptVersion, VersionStats};

use crate::{Error, Result};

const COLUMNS: &str = "v.version, v.system_prompt, v.custom_instructions, v.note, v.is_active, \
     u.email, v.created_at, v.runs, v.failed_runs, v.cost_micros, v.unpriced_runs, \
     v.prompt_tokens, v.completion_tokens, v.duration_ms_sum";

fn from_row(row: &sqlx::any::AnyRow) -> Result<PromptVersion> {
    use sqlx::Row as _;
    let stats = VersionStats {
        runs: row.try_get(7)?,
        failed_runs: row.try_get(8)?,
        cost_micros: row.try_get(9)?,
        unpriced_runs: row.try_get(10)?,
        prompt_tokens: row.try_get(11)?,
        completion_tokens: row.try_get(12)?,
        duration_ms_sum: row.try_get(13)?,
    };
    Ok(PromptVersion {
        version: row.try_get(0)?,
        system_prompt: row.try_get(1)?,
        custom_instructions: row.try_get(2)?,
        note: row.try_get(3)?,
        is_active: row.try_get::<i64, _>(4)? != 0,
        created_by: row.try_get(5)?,
        created_at: row.try_get(6)?,
        stats,
    })
}

/// An agent's versions, newest first. `NotFound` when the workspace has no such agent.
pub async fn list(
    conn: &mut AnyConnection,
    workspace_id: &str,
    agent_id: &str,
) -> Result<Vec<PromptVersion>> {
    super::agents::get(&mut *conn, workspace_id, agent_id).await?;
    let sql = format!(
        "SELECT {COLUMNS} FROM prompt_versions v LEFT JOIN users u ON u.id = v.created_by \
         WHERE v.workspace_id = $1 AND v.agent_id = $2 ORDER BY v.version DESC"
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

/// One version of an agent's prompt.
pub async fn get<'e>(
    db: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    agent_id: &str,
    version: i64,
) -> Result<PromptVersion> {
    let sql = format!(
        "SELECT {COLUMNS} FROM prompt_versions v LEFT JOIN users u ON u.id = v.created_by \
         WHERE v.workspace_id = $1 AND v.agent_id = $2 AND v.version = $3"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(workspace_id)
        .bind(agent_id)
        .bind(version)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| Error::not_found("prompt version", version.to_string()))?;
    from_row(&row)
}

/// Appends the next version of an agent's prompt and makes it the active one (inside the
/// caller's transaction, with the agent row's change). Returns its number.
pub(crate) async fn append(
    conn: &mut AnyConnection,
    workspace_id: &str,
    agent_id: &str,
    prompt: (&str, &str),
    note: &str,
    author: Option<&str>,
    now: i64,
) -> Result<i64> {
    let (next,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(MAX(version), 0) + 1 AS BIGINT) FROM prompt_versions WHERE agent_id = $1",
    )
    .bind(agent_id)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query("UPDATE prompt_versions SET is_active = 0 WHERE agent_id = $1 AND is_active = 1")
        .bind(agent_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO prompt_versions (id, workspace_id, agent_id, version, system_prompt, \
         custom_instructions, note, is_active, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9)",
    )
    .bind(crate::new_id())
    .bind(workspace_id)
    .bind(agent_id)
    .bind(next)
    .bind(prompt.0)
    .bind(prompt.1)
    .bind(note)
    .bind(author)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(next)
}

/// Makes `version` the agent's active prompt: copies its text onto the agent and flags it
/// (inside the caller's transaction). Returns the version that was active before.
pub(crate) async fn activate(
    conn: &mut AnyConnection,
    workspace_id: &str,
    agent_id: &str,
    version: i64,
    now: i64,
) -> Result<Option<i64>> {
    let target = get(&mut *conn, workspace_id, agent_id, version).await?;
    let before: Option<(i64,)> =
        sqlx::query_as("SELECT version FROM prompt_versions WHERE agent_id = $1 AND is_active = 1")
            .bind(agent_id)
            .fetch_optional(&mut *conn)
            .await?;
    sqlx::query("UPDATE prompt_versions SET is_active = CASE WHEN version = $2 THEN 1 ELSE 0 END WHERE agent_id = $1")
        .bind(agent_id)
        .bind(version)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "UPDATE agents SET system_prompt = $3, custom_instructions = $4, updated_at = $5 \
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(workspace_id)
    .bind(agent_id)
    .bind(&target.system_prompt)
    .bind(&target.custom_instructions)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(before.map(|(v,)| v))
}

/// Line by line, what changed from version `from` to version `to` (either order).
pub async fn diff(
    conn: &mut AnyConnection,
    workspace_id: &str,
    agent_id: &str,
    from: i64,
    to: i64,
) -> Result<PromptDiff> {
    let old = get(&mut *conn, workspace_id, agent_id, from).await?;
    let new = get(&mut *conn, workspace_id, agent_id, to).await?;
    let (system_prompt, a1, r1) = lines(&old.system_prompt, &new.system_prompt);
    let (custom_instructions, a2, r2) = lines(&old.custom_instructions, &new.custom_instructions);
    Ok(PromptDiff {
        from,
        to,
        system_prompt,
        custom_instructions,
        added: a1 + a2,
        removed: r1 + r2,
    })
}

/// A line diff (the `similar` crate's Myers diff) with the counts of added and removed lines.
pub fn lines(old: &str, new: &str) -> (Vec<PromptDiffLine>, i64, i64) {
    // A last line without its line break is the same line as with one.
    let terminated = |text: &str| {
        if text.is_empty() || text.ends_with('\n') {
            text.to_owned()
        } else {
            format!("{text}\n")
        }
    };
    let (old, new) = (terminated(old), terminated(new));
    let (mut added, mut removed) = (0, 0);
    let out = similar::TextDiff::from_lines(&old, &new)
        .iter_all_changes()
        .map(|change| {
            let tag = match change.tag() {
                similar::ChangeTag::Equal => "equal",
                similar::ChangeTag::Insert => {
                    added += 1;
                    "insert"
                }
                similar::ChangeTag::Delete => {
                    removed += 1;
                    "delete"
                }
            };
            PromptDiffLine {
                tag: tag.to_owned(),
                text: change.value().trim_end_matches(['\n', '\r']).to_owned(),
            }
        })
        .collect();
    (out, added, removed)
}

#[cfg(test)]
mod tests {
    use super::lines;

    #[test]
    fn a_diff_marks_changed_lines_and_counts_them() {
        let (out, added, removed) = lines("You review.\nBe brief.", "You review.\nBe thorough.\n");
        let tags: Vec<(&str, &str)> = out
            .iter()
            .map(|l| (l.tag.as_str(), l.text.as_str()))
            .collect();
        assert_eq!(
            tags,
            [
                ("equal", "You review."),
                ("delete", "Be brief."),
                ("insert", "Be thorough.")
            ]
        );
        assert_eq!((added, removed), (1, 1));
        let (same, a, r) = lines("x", "x\n");
        assert_eq!((same.len(), a, r), (1, 0, 0));
    }
}
