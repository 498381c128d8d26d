//! Task-centric views (seed 002 §13.4, §13.6): archiving finished tasks out of the list (by
//! hand, in bulk, or automatically after a workspace's `task_archive_after_days`) and back, and
//! the working directory a task's tools use when its submitter chose one.
//!
//! Archiving changes only the `archived` flag and time: a task's runs, calls and rollups stay as
//! they were, so analytics and the task's own page are unaffected.

use std::path::{Component, Path, PathBuf};

use sqlx::AnyConnection;

use super::settings;
use crate::{Error, Result, Store};

/// Most tasks one archive or restore takes.
pub const MAX_IDS: usize = 500;

/// Recent working directories the form offers.
const RECENT: i64 = 8;

/// Archives (`archived` true) or restores tasks of a workspace, on `conn` (the action's
/// transaction). All or nothing: an unknown id is not found, a task still queued or running
/// cannot be archived (it would vanish while working), and then nothing changes.
pub async fn set_archived(
    conn: &mut AnyConnection,
    workspace_id: &str,
    ids: &[String],
    archived: bool,
    now: i64,
) -> Result<wire::tasks::ArchiveOutcome> {
    if ids.is_empty() || ids.len() > MAX_IDS {
        return Err(Error::invalid("ids", "must list 1 to 500 task ids"));
    }
    let mut ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut changed = 0;
    let mut unchanged = 0;
    for id in ids {
        let row: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT status, workflow, archived FROM tasks WHERE workspace_id = $1 AND id = $2",
        )
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        let (status, workflow, was) = row.ok_or_else(|| Error::not_found("task", id))?;
        if workflow == "playground" {
            // Playground runs live in the Studio's history, not the tasks list.
            return Err(Error::not_found("task", id));
        }
        if (was != 0) == archived {
            unchanged += 1;
            continue;
        }
        if archived && !matches!(status.as_str(), "completed" | "failed" | "cancelled") {
            return Err(Error::Conflict(format!(
                "task {id} is {status}: only finished tasks can be archived"
            )));
        }
        sqlx::query(
            "UPDATE tasks SET archived = $3, archived_at = $4 WHERE workspace_id = $1 AND id = $2",
        )
        .bind(workspace_id)
        .bind(id)
        .bind(i64::from(archived))
        .bind(archived.then_some(now))
        .execute(&mut *conn)
        .await?;
        changed += 1;
    }
    Ok(wire::tasks::ArchiveOutcome { changed, unchanged })
}

/// Archives, in every workspace that set `task_archive_after_days`, the tasks that finished
/// longer ago than that (the daily retention job calls it). How many.
pub async fn auto_archive(store: &Store, now: i64) -> Result<i64> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT workspace_id, value FROM system_settings WHERE key = $1")
            .bind(settings::TASK_ARCHIVE_AFTER_DAYS)
            .fetch_all(store.pool())
            .await?;
    let mut archived = 0;
    for (workspace_id, value) in rows {
        let days = serde_json::from_str::<serde_json::Value>(&value)
            .ok()
            .and_then(|v| v.as_i64())
            .unwrap_or(0);
        if days <= 0 {
            continue;
        }
        let mut tx = store.begin().await?;
        let n = sqlx::query(
            "UPDATE tasks SET archived = 1, archived_at = $3 WHERE workspace_id = $1 AND archived = 0 \
             AND workflow <> 'playground' AND status IN ('completed', 'failed', 'cancelled') \
             AND finished_at < $2",
        )
        .bind(&workspace_id)
        .bind(now - days * 86_400_000)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected() as i64;
        if n > 0 {
            // The system acted, not a person: the log says so and why.
            let entry = super::audit::NewEntry {
                workspace_id: workspace_id.clone(),
                actor: "system".into(),
                action: "task.auto_archive".into(),
                target: "tasks".into(),
                details: serde_json::json!({ "archived": n, "after_days": days }),
                ..Default::default()
            };
            super::audit::append(&mut tx, &entry).await?;
        }
        tx.commit().await?;
        archived += n;
    }
    Ok(archived)
}

/// The directory a task asks to work in, checked: `raw` (absolute, or relative to the
/// workspace's `workdir_root`) must name an existing directory under that root. Answers its
/// canonical path; `None` when none was asked for.
///
/// Containment is checked on the path as written before the file system is asked anything, so
/// the error for a path outside the root says nothing about whether it exists; then again on
/// the canonical path, so a symbolic link cannot lead out.
pub async fn resolve_workdir(
    store: &Store,
    workspace_id: &str,
    raw: Option<&str>,
) -> Result<Option<String>> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    if raw.len() > 4_096 || raw.contains('\0') {
        return Err(Error::invalid("workdir", "must be a directory path"));
    }
    let root = root(store, workspace_id).await?.ok_or_else(|| {
        Error::invalid(
            "workdir",
            "this workspace has no allowed root for working directories: an admin sets one in \
             Settings → Tasks",
        )
    })?;
    let root = PathBuf::from(root);
    let outside = || Error::invalid("workdir", format!("must lie under {}", root.display()));
    let asked = lexical(&root.join(raw));
    if !asked.starts_with(&root) {
        return Err(outside());
    }
    let canonical_root = tokio::fs::canonicalize(&root).await.map_err(|_| {
        Error::invalid(
            "workdir",
            "the allowed root no longer exists: an admin sets it again in Settings → Tasks",
        )
    })?;
    let canonical = tokio::fs::canonicalize(&asked)
        .await
        .map_err(|_| Error::invalid("workdir", format!("{} does not exist", asked.display())))?;
    if !canonical.starts_with(&canonical_root) {
        return Err(outside());
    }
    let is_dir = tokio::fs::metadata(&canonical)
        .await
        .is_ok_and(|m| m.is_dir());
    if !is_dir {
        return Err(Error::invalid(
            "workdir",
            format!("{} is not a directory", canonical.display()),
        ));
    }
    canonical
        .to_str()
        .map(|s| Some(s.to_owned()))
        .ok_or_else(|| Error::invalid("workdir", "must be a path in UTF-8"))
}

/// `path` with `.` and `..` resolved by name alone (no file system access).
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The workspace's allowed root, if set.
async fn root(store: &Store, workspace_id: &str) -> Result<Option<String>> {
    Ok(
        settings::get(store.pool(), workspace_id, settings::WORKDIR_ROOT)
            .await?
            .and_then(|v| v.as_str().map(str::to_owned))
            .filter(|r| !r.is_empty()),
    )
}

/// Remembers a user's choice (in the submission's transaction).
pub async fn remember_workdir(
    conn: &mut AnyConnection,
    workspace_id: &str,
    user_id: &str,
    path: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO recent_workdirs (workspace_id, user_id, path, used_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (workspace_id, user_id, path) DO UPDATE SET used_at = excluded.used_at",
    )
    .bind(workspace_id)
    .bind(user_id)
    .bind(path)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// What the task form offers `user_id`: the root and their latest choices still under it.
pub async fn workdir_options(
    store: &Store,
    workspace_id: &str,
    user_id: &str,
) -> Result<wire::tasks::WorkdirOptions> {
    let root = root(store, workspace_id).await?;
    let recent: Vec<(String,)> = sqlx::query_as(
        "SELECT path FROM recent_workdirs WHERE workspace_id = $1 AND user_id = $2 \
         ORDER BY used_at DESC LIMIT $3",
    )
    .bind(workspace_id)
    .bind(user_id)
    .bind(RECENT)
    .fetch_all(store.pool())
    .await?;
    let recent = match &root {
        Some(r) => recent
            .into_iter()
            .map(|(p,)| p)
            .filter(|p| Path::new(p).starts_with(r))
            .collect(),
        None => Vec::new(),
    };
    Ok(wire::tasks::WorkdirOptions { root, recent })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_resolves_dots_by_name() {
        assert_eq!(
            lexical(Path::new("/srv/work/a/../b/./c")),
            PathBuf::from("/srv/work/b/c")
        );
        assert_eq!(
            lexical(Path::new("/srv/work/../../etc")),
            PathBuf::from("/etc")
        );
        assert!(!lexical(&Path::new("/srv/work").join("../secret")).starts_with("/srv/work"));
        // An absolute path replaces the root altogether (Path::join's rule): still outside.
        let asked: String = ["/", "etc"].concat();
        assert!(!lexical(&Path::new("/srv/work").join(&asked)).starts_with("/srv/work"));
    }
}
