//! The tasks list: a workspace's tasks newest first, a keyset page at a time, filtered as the
//! list page and Analytics' drill-downs ask (re-exported from [`super::tasks`]).

use super::page::Page;
use super::tasks::{TASK_COLUMNS, Task};
use crate::{Error, Result, Store};

/// Filters for [`list`]. The finished-time and duration filters are those of the analytics
/// that link here (Trends counts a task in the hour it finished, its duration from its start
/// to its end), so a drill-down lists exactly the tasks behind a bar.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TaskFilter {
    /// Only this status.
    pub status: Option<String>,
    /// Created at or after (Unix ms).
    pub from: Option<i64>,
    /// Created before (Unix ms).
    pub to: Option<i64>,
    /// Only this workflow.
    pub workflow: Option<String>,
    /// Only this complexity: `simple`, `medium` or `complex`.
    pub complexity: Option<String>,
    /// Finished at or after (Unix ms); unfinished tasks are left out when set.
    pub finished_from: Option<i64>,
    /// Finished before (Unix ms); unfinished tasks are left out when set.
    pub finished_to: Option<i64>,
    /// Took longer than this (ms, from start to end); unfinished tasks are left out when set.
    pub min_duration_ms: Option<i64>,
    /// Took at most this (ms); unfinished tasks are left out when set.
    pub max_duration_ms: Option<i64>,
    /// `Some(false)`: the list's tasks; `Some(true)`: the archived ones instead (archiving hides
    /// a task from the list); `None`: both (Analytics' drill-downs count every task).
    pub archived: Option<bool>,
    /// Only tasks whose description contains this text (any case).
    pub search: Option<String>,
    /// Page size (1–200, default 50).
    pub limit: Option<i64>,
    /// Continue after this page (a `next_cursor`).
    pub cursor: Option<String>,
}

/// Task statuses.
pub const STATUSES: [&str; 5] = ["queued", "running", "completed", "failed", "cancelled"];

/// Tasks of a workspace, newest first, a keyset page at a time (`created_at`, then `id`).
pub async fn list(
    store: &Store,
    workspace_id: &str,
    filter: &TaskFilter,
) -> Result<Page<wire::tasks::Task>> {
    if let Some(s) = &filter.status
        && !STATUSES.contains(&s.as_str())
    {
        return Err(Error::invalid(
            "status",
            "must be queued, running, completed, failed or cancelled",
        ));
    }
    if let Some(c) = &filter.complexity
        && !["simple", "medium", "complex"].contains(&c.as_str())
    {
        return Err(Error::invalid(
            "complexity",
            "must be simple, medium or complex",
        ));
    }
    for (field, value) in [
        ("min_duration_ms", filter.min_duration_ms),
        ("max_duration_ms", filter.max_duration_ms),
    ] {
        if value.is_some_and(|v| v < 0) {
            return Err(Error::invalid(field, "must be 0 or more milliseconds"));
        }
    }
    let limit = filter.limit.unwrap_or(super::page::DEFAULT_LIMIT);
    if !(1..=super::page::MAX_LIMIT).contains(&limit) {
        return Err(Error::invalid("limit", "must be a number from 1 to 200"));
    }
    // The cursor is the last row's (created_at, id).
    let (after_at, after_id) = match &filter.cursor {
        Some(cursor) => super::page::parse_time_id(&super::page::decode_cursor(cursor)?)?,
        None => (i64::MAX, String::new()),
    };
    // The change counter first, then the page (see `list_cache`): a page filed under a
    // counter is never older than it.
    let version = super::list_cache::version(store, workspace_id).await?;
    let key: super::list_cache::Key = (
        workspace_id.to_owned(),
        TaskFilter {
            limit: Some(limit),
            ..filter.clone()
        },
    );
    if let Some(v) = version
        && let Some(page) = store.task_lists.get(&key, v)
    {
        return Ok((*page).clone());
    }
    if filter
        .search
        .as_ref()
        .is_some_and(|q| q.chars().count() > 200)
    {
        return Err(Error::invalid("q", "must be at most 200 characters"));
    }
    // `archived` leads the list's index with the workspace, so either view walks it newest
    // first; the search is a filter on that walk (a page stops at its 51st match).
    let archived = match filter.archived {
        Some(_) => "archived = $14",
        None => "$14 = $14",
    };
    let conditions = format!(
        "workspace_id = $1 AND {archived} AND ($2 = '' OR status = $2) \
         AND created_at >= $3 AND created_at < $4 \
         AND ($15 = '' OR LOWER(description) LIKE $15 ESCAPE '\\')"
    );
    // The drill-down filters, only when one is set (the plain list stays the index walk it was).
    let finishing = filter.finished_from.is_some()
        || filter.finished_to.is_some()
        || filter.min_duration_ms.is_some()
        || filter.max_duration_ms.is_some();
    // Playground runs are tasks too (one step each) but live in the Studio's run history: the
    // list leaves them out unless asked for by workflow.
    let kind = if filter.workflow.is_some() || filter.complexity.is_some() {
        " AND ($8 = '' OR workflow = $8) AND ($9 = '' OR complexity = $9) \
         AND ($8 <> '' OR workflow <> 'playground')"
    } else {
        " AND $8 = $8 AND $9 = $9 AND workflow <> 'playground'"
    };
    let finished = if finishing {
        " AND finished_at IS NOT NULL AND finished_at >= $10 AND finished_at < $11 \
         AND finished_at - COALESCE(started_at, created_at) > $12 \
         AND finished_at - COALESCE(started_at, created_at) <= $13"
    } else {
        " AND $10 = $10 AND $11 = $11 AND $12 = $12 AND $13 = $13"
    };
    let status = filter.status.clone().unwrap_or_default();
    let from = filter.from.unwrap_or(0);
    let to = filter.to.unwrap_or(i64::MAX);
    let items: Vec<Task> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {TASK_COLUMNS} FROM tasks WHERE {conditions}{kind}{finished} \
         AND (created_at < $5 OR (created_at = $5 AND $6 <> '' AND id < $6)) \
         ORDER BY created_at DESC, id DESC LIMIT $7"
    )))
    .bind(workspace_id)
    .bind(&status)
    .bind(from)
    .bind(to)
    .bind(after_at)
    .bind(&after_id)
    .bind(limit + 1)
    .bind(filter.workflow.clone().unwrap_or_default())
    .bind(filter.complexity.clone().unwrap_or_default())
    .bind(filter.finished_from.unwrap_or(i64::MIN))
    .bind(filter.finished_to.unwrap_or(i64::MAX))
    .bind(filter.min_duration_ms.unwrap_or(i64::MIN))
    .bind(filter.max_duration_ms.unwrap_or(i64::MAX))
    .bind(i64::from(filter.archived.unwrap_or(false)))
    .bind(like_pattern(filter.search.as_deref()))
    .fetch_all(store.pool())
    .await?;
    // No total: counting every matching row on each page is the raw scan a list must not
    // make; the Dashboard's figures come from rollups.
    let page = super::page::from_rows(items, limit, |t| {
        super::page::time_id_key(t.created_at, &t.id)
    });
    let page = Page {
        items: page.items.iter().map(Task::to_wire).collect(),
        next_cursor: page.next_cursor,
    };
    if let Some(v) = version {
        store
            .task_lists
            .put(key, v, std::sync::Arc::new(page.clone()));
    }
    Ok(page)
}

/// `%text%` for a case-insensitive LIKE, with LIKE's own characters escaped; "" for no search.
fn like_pattern(search: Option<&str>) -> String {
    let Some(q) = search.map(str::trim).filter(|q| !q.is_empty()) else {
        return String::new();
    };
    let mut out = String::from("%");
    for c in q.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}
