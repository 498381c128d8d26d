//! The agent registry as lists read it: every agent of a workspace with its provider, live
//! status and total cost and tokens (from the narrow daily rollup), filtered by words, role,
//! tag, provider and status.

use sqlx::{Any, Executor, FromRow};

use crate::Result;
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

/// Which agents a list shows; empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentFilter {
    /// Words found (case-insensitively) in the name, description, model or tags.
    pub q: String,
    /// A role, exactly.
    pub role: String,
    /// A tag, exactly (case-insensitively).
    pub tag: String,
    /// A provider's id, or `default` for agents on the workspace default.
    pub provider: String,
    /// `active` or `idle`.
    pub status: String,
}

impl AgentFilter {
    /// Whether `agent` is one the filter lets through.
    pub fn matches(&self, row: &AgentSummary) -> bool {
        let tags = &row.tags;
        let q = self.q.trim().to_lowercase();
        let words_found = q.split_whitespace().all(|word| {
            row.name.to_lowercase().contains(word)
                || row.description.to_lowercase().contains(word)
                || row.model.to_lowercase().contains(word)
                || tags.iter().any(|t| t.to_lowercase().contains(word))
        });
        let provider = match self.provider.as_str() {
            "" => true,
            "default" => row.provider_id.is_none(),
            id => row.provider_id.as_deref() == Some(id),
        };
        words_found
            && provider
            && (self.role.is_empty() || row.role.eq_ignore_ascii_case(&self.role))
            && (self.tag.is_empty() || tags.iter().any(|t| t.eq_ignore_ascii_case(&self.tag)))
            && (self.status.is_empty() || row.status == self.status)
    }
}

/// The agents of a workspace, in role order then by name.
pub async fn list<'e>(
    db: impl Executor<'e, Database = Any>,
    workspace_id: &str,
) -> Result<Vec<AgentSummary>> {
    search(db, workspace_id, &AgentFilter::default()).await
}

/// The agents of a workspace that `filter` matches, in role order then by name. A workspace
/// has tens to hundreds of agents: they are filtered here, after one indexed read.
#[tracing::instrument(skip(db))]
pub async fn search<'e>(
    db: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    filter: &AgentFilter,
) -> Result<Vec<AgentSummary>> {
    let rows: Vec<SummaryRow> = sqlx::query_as(
        "SELECT a.id, a.name, a.role, a.description, a.provider_id, p.name AS provider_name, \
         p.kind AS provider_kind, a.tags, a.is_public, ap.name AS active_persona, \
         a.model, a.temperature, CASE WHEN EXISTS (SELECT 1 FROM agent_runs r JOIN tasks t ON t.id = r.task_id \
         WHERE r.agent_id = a.id AND r.status = 'active' AND t.status = 'running') \
         THEN 'active' ELSE 'idle' END AS status, a.created_at, \
         CAST(COALESCE(u.cost, 0) AS BIGINT) AS cost_micros, CAST(COALESCE(u.tokens, 0) AS BIGINT) AS tokens \
         FROM agents a LEFT JOIN providers p ON p.id = a.provider_id \
         LEFT JOIN agent_personas ap ON ap.agent_id = a.id AND ap.is_active = 1 \
         LEFT JOIN (SELECT agent_id, SUM(cost_micros) AS cost, SUM(prompt_tokens + completion_tokens) AS tokens \
                    FROM call_usage_daily WHERE workspace_id = $1 GROUP BY agent_id) u ON u.agent_id = a.id \
         WHERE a.workspace_id = $1 \
         ORDER BY CASE a.role WHEN 'ANALYST' THEN 0 WHEN 'PLANNER' THEN 1 WHEN 'BUILDER' THEN 2 \
         WHEN 'TESTER' THEN 3 WHEN 'REVIEWER' THEN 4 ELSE 5 END, a.name",
    )
    .bind(workspace_id)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| AgentSummary {
            tags: serde_json::from_str(&row.tags).unwrap_or_default(),
            id: row.id,
            name: row.name,
            role: row.role,
            description: row.description,
            provider_name: row.provider_name,
            provider_kind: row.provider_kind,
            model: row.model,
            temperature: row.temperature,
            status: row.status,
            created_at: row.created_at,
            cost_micros: row.cost_micros,
            tokens: row.tokens,
            is_public: row.is_public != 0,
            active_persona: row.active_persona,
            provider_id: row.provider_id,
        })
        .filter(|agent| filter.matches(agent))
        .collect())
}
