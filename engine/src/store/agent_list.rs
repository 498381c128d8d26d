//! The agent registry as lists read it: a workspace's agents with their provider, live status
//! and total cost and tokens (from the narrow daily rollup), filtered by words, role, tag,
//! provider and status.
//!
//! A registry can hold 100,000 agents (generated fleets, imports): the Agents page and
//! `GET /api/v1/agents` read it a keyset page at a time ([`page`], by name — unique in a
//! workspace), every filter in SQL, and each page's cost and status from that page's agents
//! only. The tags to choose from come from `agent_tags` (kept by triggers, migration 0025) by a
//! loose index scan ([`tags`]). [`list`] still reads every agent, for the places that need them
//! all (budgets' choices, a run's roster, a tally of names).

use sqlx::{Any, Executor, FromRow};

use super::page::{Page, PageRequest};
use crate::{Error, Result};
use wire::agents::AgentSummary;

/// An agent as lists read it (`tags` still JSON).
#[derive(FromRow)]
struct SummaryRow {
    id: String,
    name: String,
    role: String,
    description: String,
    provider_id: Option<String>,
    provider_name: Option<String>,
    provider_kind: Option<String>,
    model: String,
    temperature: f64,
    status: String,
    created_at: i64,
    cost_micros: i64,
    tokens: i64,
    tags: String,
    is_public: i64,
    active_persona: Option<String>,
}

impl SummaryRow {
    fn into_wire(self) -> AgentSummary {
        AgentSummary {
            tags: serde_json::from_str(&self.tags).unwrap_or_default(),
            id: self.id,
            name: self.name,
            role: self.role,
            description: self.description,
            provider_name: self.provider_name,
            provider_kind: self.provider_kind,
            model: self.model,
            temperature: self.temperature,
            status: self.status,
            created_at: self.created_at,
            cost_micros: self.cost_micros,
            tokens: self.tokens,
            is_public: self.is_public != 0,
            active_persona: self.active_persona,
            provider_id: self.provider_id,
        }
    }
}

/// Which agents a list shows; empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentFilter {
    /// Words found (case-insensitively) in the name, description, model or tags — all of them.
    pub q: String,
    /// A role, exactly (any case).
    pub role: String,
    /// A tag, exactly (any case).
    pub tag: String,
    /// A provider's id, or `default` for agents on the workspace default.
    pub provider: String,
    /// `active` or `idle`.
    pub status: String,
}

/// The most words a search takes, and the longest search.
const MAX_WORDS: usize = 8;
const MAX_SEARCH: usize = 200;

impl AgentFilter {
    /// A 422 naming the field when a filter cannot match anything by construction.
    pub fn validate(&self) -> Result<()> {
        if !["", "active", "idle"].contains(&self.status.as_str()) {
            return Err(Error::invalid("status", "must be active or idle"));
        }
        if self.q.chars().count() > MAX_SEARCH || self.q.split_whitespace().count() > MAX_WORDS {
            return Err(Error::invalid(
                "q",
                format!("must be at most {MAX_SEARCH} characters and {MAX_WORDS} words"),
            ));
        }
        Ok(())
    }
}

/// The columns of a listed agent. Its status: "active" while one of its steps runs in a running
/// task (the workspace's active steps are few, and `agent_runs (workspace_id, status)` finds
/// them once per read). `$1` is the workspace. Its cost and tokens: its rows of the daily usage rollup.
const SUMMARY: &str = "SELECT a.id, a.name, a.role, a.description, a.provider_id, \
     p.name AS provider_name, p.kind AS provider_kind, a.tags, a.is_public, \
     ap.name AS active_persona, a.model, a.temperature, \
     CASE WHEN a.id IN (SELECT r.agent_id FROM agent_runs r JOIN tasks t ON t.id = r.task_id \
       WHERE r.workspace_id = $1 AND r.status = 'active' AND t.status = 'running') \
     THEN 'active' ELSE 'idle' END AS status, a.created_at, \
     CAST(COALESCE((SELECT SUM(u.cost_micros) FROM call_usage_daily u \
       WHERE u.workspace_id = $1 AND u.agent_id = a.id), 0) AS BIGINT) AS cost_micros, \
     CAST(COALESCE((SELECT SUM(u.prompt_tokens + u.completion_tokens) FROM call_usage_daily u \
       WHERE u.workspace_id = $1 AND u.agent_id = a.id), 0) AS BIGINT) AS tokens \
     FROM agents a LEFT JOIN providers p ON p.id = a.provider_id \
     LEFT JOIN agent_personas ap ON ap.agent_id = a.id AND ap.is_active = 1";

/// Every agent of a workspace, in role order then by name.
pub async fn list<'e>(
    db: impl Executor<'e, Database = Any>,
    workspace_id: &str,
) -> Result<Vec<AgentSummary>> {
    let rows: Vec<SummaryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SUMMARY} WHERE a.workspace_id = $1 \
         ORDER BY CASE a.role WHEN 'ANALYST' THEN 0 WHEN 'PLANNER' THEN 1 WHEN 'BUILDER' THEN 2 \
         WHEN 'TESTER' THEN 3 WHEN 'REVIEWER' THEN 4 ELSE 5 END, a.name"
    )))
    .bind(workspace_id)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(SummaryRow::into_wire).collect())
}

/// A page of the agents `filter` matches, by name (a name is unique in its workspace, so it is
/// the cursor's key). The filters are conditions on the walk of `(workspace_id, name)`: a page
/// stops at its 51st match, however many agents there are.
#[tracing::instrument(skip(db))]
pub async fn page<'e>(
    db: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    filter: &AgentFilter,
    request: &PageRequest,
) -> Result<Page<AgentSummary>> {
    filter.validate()?;
    // Each word must be found in one of the fields; `$n` numbers follow the fixed ones.
    let words: Vec<String> = filter.q.split_whitespace().map(like_pattern).collect();
    let mut conditions = String::new();
    for n in 0..words.len() {
        let p = n + 8;
        conditions.push_str(&format!(
            " AND (LOWER(a.name) LIKE LOWER(${p}) ESCAPE '\\' \
             OR LOWER(a.description) LIKE LOWER(${p}) ESCAPE '\\' \
             OR LOWER(a.model) LIKE LOWER(${p}) ESCAPE '\\' \
             OR LOWER(a.tags) LIKE LOWER(${p}) ESCAPE '\\')"
        ));
    }
    let status = match filter.status.as_str() {
        "" => "$5 = $5",
        _ => {
            "(CASE WHEN a.id IN (SELECT r.agent_id FROM agent_runs r JOIN tasks t ON t.id = r.task_id \
             WHERE r.workspace_id = $1 AND r.status = 'active' AND t.status = 'running') \
             THEN 'active' ELSE 'idle' END) = $5"
        }
    };
    let provider = match filter.provider.as_str() {
        "" => "$4 = $4",
        "default" => "($4 = $4 AND a.provider_id IS NULL)",
        _ => "a.provider_id = $4",
    };
    let sql = format!(
        "{SUMMARY} WHERE a.workspace_id = $1 AND a.name > $2 \
         AND ($3 = '' OR UPPER(a.role) = UPPER($3)) AND {provider} AND {status} \
         AND ($6 = '' OR a.id IN (SELECT g.agent_id FROM agent_tags g \
              WHERE g.workspace_id = $1 AND g.tag = LOWER($6))){conditions} \
         ORDER BY a.name LIMIT $7"
    );
    let mut query = sqlx::query_as::<_, SummaryRow>(sqlx::AssertSqlSafe(sql))
        .bind(workspace_id)
        .bind(request.after.clone().unwrap_or_default())
        .bind(filter.role.trim())
        .bind(&filter.provider)
        .bind(&filter.status)
        .bind(filter.tag.trim())
        .bind(request.limit + 1);
    for word in words {
        query = query.bind(word);
    }
    let rows = query.fetch_all(db).await?;
    let page = super::page::from_rows(rows, request.limit, |a| a.name.clone());
    Ok(Page {
        items: page.items.into_iter().map(SummaryRow::into_wire).collect(),
        next_cursor: page.next_cursor,
    })
}

/// `%word%` for LIKE, LIKE's own characters escaped.
fn like_pattern(word: &str) -> String {
    format!("%{}%", like_escaped(word))
}

/// `text` with LIKE's own characters escaped by a backslash.
fn like_escaped(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The names in the workspace that an agent named `name` could collide with: `name` itself and
/// its copies (`name (copy)`, `name (copy 2)`…), any case — what an import or a clone needs to
/// pick a free name, without reading a registry of 100,000.
pub async fn names_like<'e>(
    db: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    name: &str,
) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM agents WHERE workspace_id = $1 \
         AND (LOWER(name) = LOWER($2) OR LOWER(name) LIKE LOWER($3) ESCAPE '\\')",
    )
    .bind(workspace_id)
    .bind(name)
    .bind(format!("{} (copy%", like_escaped(name)))
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|(n,)| n).collect())
}

/// The most tags offered to choose from.
pub const MAX_TAGS: i64 = 500;

/// The workspace's tags in use, as first written, in order, at most [`MAX_TAGS`]: a loose
/// index scan over `agent_tags`' key — each step asks the index for the next tag after the
/// last, so 100,000 agents sharing 20 tags cost 20 probes, not 100,000 rows.
pub async fn tags<'e>(
    db: impl Executor<'e, Database = Any>,
    workspace_id: &str,
) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "WITH RECURSIVE t(tag, n) AS ( \
           SELECT (SELECT MIN(tag) FROM agent_tags WHERE workspace_id = $1), 1 \
           UNION ALL \
           SELECT (SELECT MIN(tag) FROM agent_tags WHERE workspace_id = $1 AND tag > t.tag), n + 1 \
           FROM t WHERE t.tag IS NOT NULL AND n < $2) \
         SELECT (SELECT label FROM agent_tags g WHERE g.workspace_id = $1 AND g.tag = t.tag LIMIT 1) \
         FROM t WHERE t.tag IS NOT NULL ORDER BY t.tag",
    )
    .bind(workspace_id)
    .bind(MAX_TAGS)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|(label,)| label).collect())
}

/// How many agents the workspace has.
pub async fn count<'e>(db: impl Executor<'e, Database = Any>, workspace_id: &str) -> Result<i64> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM agents WHERE workspace_id = $1")
        .bind(workspace_id)
        .fetch_one(db)
        .await?;
    Ok(n)
}
