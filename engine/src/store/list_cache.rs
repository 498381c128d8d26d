//! The tasks list's page cache, on SQLite.
//!
//! Decoding a page of 50 tasks costs sqlx about half a millisecond of the database thread, and
//! API clients poll that page. Triggers keep a per-workspace change counter of the tasks table
//! (`task_list_versions`, migration 0005) in the same transaction as every task write, so a
//! read first asks for the counter (one row by key) and answers from the page it cached when
//! the counter has not moved. Exact, not time-based: any writer — this process or another —
//! moves the counter. The counter is read *before* the page, so a cached page is never older
//! than the counter it is filed under. Postgres keeps no counter (see the migration) and reads
//! the page each time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::page::Page;
use crate::{Result, Store};

/// The pages a process keeps at most (a full cache is emptied, not evicted by age: the pages
/// that matter are the first pages of a few workspaces and filters).
const MAX_PAGES: usize = 512;

/// One list request: workspace, filter (with its limit and cursor).
pub(crate) type Key = (String, super::tasks::TaskFilter);

type Cached = (i64, Arc<Page<wire::tasks::Task>>);

/// Cached pages by request, each with the counter it was read at.
#[derive(Debug, Default)]
pub struct TaskListCache(Mutex<HashMap<Key, Cached>>);

impl TaskListCache {
    /// The page cached for `key` at `version`, if any.
    pub(crate) fn get(&self, key: &Key, version: i64) -> Option<Arc<Page<wire::tasks::Task>>> {
        let map = self.0.lock().ok()?;
        map.get(key)
            .filter(|(at, _)| *at == version)
            .map(|(_, page)| page.clone())
    }

    /// Files `page`, read after the counter said `version`.
    pub(crate) fn put(&self, key: Key, version: i64, page: Arc<Page<wire::tasks::Task>>) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= MAX_PAGES {
                map.clear();
            }
            map.insert(key, (version, page));
        }
    }
}

/// The workspace's tasks counter on SQLite (0 before its first task); `None` on Postgres.
pub(crate) async fn version(store: &Store, workspace_id: &str) -> Result<Option<i64>> {
    if store.backend() != super::Backend::Sqlite {
        return Ok(None);
    }
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT version FROM task_list_versions WHERE workspace_id = $1")
            .bind(workspace_id)
            .fetch_optional(store.pool())
            .await?;
    Ok(Some(row.map_or(0, |(v,)| v)))
}
