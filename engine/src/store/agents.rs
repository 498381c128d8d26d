//! The agent registry (SPEC F-02): agents and their numbered prompt versions.

use sqlx::{Any, AnyConnection, Executor, FromRow};

use crate::domain::{Role, check_text};
use crate::{Error, Result, new_id, now_ms};

/// What is needed to create an agent; validated by [`NewAgent::validate`].
#[derive(Debug, Clone)]
pub struct NewAgent {
    /// Unique within the workspace, 1–80 characters.
    pub name: String,
    /// Built-in or custom role.
    pub role: Role,
    /// Free text.
    pub description: String,
    /// Provider id (within the same workspace).
    pub provider_id: Option<String>,
    /// Model name as the provider spells it.
    pub model: String,
    /// 0.0–2.0.
    pub temperature: f64,
    /// Completion token limit, 1–1,000,000.
    pub max_tokens: i64,
    /// The role's system prompt.
    pub system_prompt: String,
    /// Extra instructions appended to the system prompt.
    pub custom_instructions: String,
    /// Free-form labels.
    pub tags: Vec<String>,
    /// The tools it is offered (of [`wire::agents::AGENT_TOOLS`]).
    pub tools: Vec<String>,
    /// Tried in order after the agent's own provider and model fails.
    pub fallbacks: Vec<FallbackTarget>,
    /// The caller named the provider (even "none"): clears the "provider deleted" mark.
    pub provider_explicit: bool,
    /// Listed on the workspace's public pages.
    pub is_public: bool,
    /// The input's JSON Schema, as text.
    pub input_schema: Option<String>,
    /// The output's JSON Schema, as text.
    pub output_schema: Option<String>,
}

pub use super::agent_list::{AgentFilter, count, list, names_like, page, tags};
pub use wire::agents::{AgentInput, AgentSummary, FallbackTarget};

/// Who makes the prompt version a change of the prompt makes, and why.
#[derive(Debug, Clone, Copy, Default)]
pub struct VersionNote<'a> {
    /// The user's id.
    pub author: Option<&'a str>,
    /// Their note ("" says "Edited").
    pub note: &'a str,
}

/// Most entries of a fallback chain.
pub const MAX_FALLBACKS: usize = 5;

impl NewAgent {
    /// Checks the rules every stored agent satisfies.
    pub fn validate(&self) -> Result<()> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(Error::invalid("name", "must be 1 to 80 characters"));
        }
        check_text("name", name, 80)?;
        check_text("description", &self.description, 2_000)?;
        check_text("model", &self.model, 200)?;
        check_text("system_prompt", &self.system_prompt, 100_000)?;
        check_text("custom_instructions", &self.custom_instructions, 20_000)?;
        if let Some(schema) = &self.input_schema {
            check_text("input_schema", schema, 100_000)?;
            crate::schemas::check_schema("input_schema", schema)?;
        }
        if let Some(schema) = &self.output_schema {
            check_text("output_schema", schema, 100_000)?;
            crate::schemas::check_schema("output_schema", schema)?;
        }
        if self.tags.len() > 20 {
            return Err(Error::invalid("tags", "at most 20 tags"));
        }
        for tag in &self.tags {
            check_text("tags", tag, 40)?;
        }
        for tool in &self.tools {
            if !wire::agents::AGENT_TOOLS.contains(&tool.as_str()) {
                return Err(Error::invalid(
                    "tools",
                    format!(
                        "unknown tool {tool:?}: the tools are {}",
                        wire::agents::AGENT_TOOLS.join(", ")
                    ),
                ));
            }
        }
        if self.model.trim().is_empty() {
            return Err(Error::invalid("model", "must not be empty"));
        }
        if self.fallbacks.len() > MAX_FALLBACKS {
            return Err(Error::invalid(
                "fallbacks",
                format!("at most {MAX_FALLBACKS} fallback models"),
            ));
        }
        for f in &self.fallbacks {
            if f.model.trim().is_empty() {
                return Err(Error::invalid("fallbacks", "every fallback needs a model"));
            }
            check_text("fallbacks", &f.model, 200)?;
            if f.provider_id == self.provider_id && f.model.trim() == self.model.trim() {
                return Err(Error::invalid(
                    "fallbacks",
                    "a fallback must differ from the agent's own provider and model",
                ));
            }
        }
        if !(0.0..=2.0).contains(&self.temperature) {
            return Err(Error::invalid("temperature", "must be between 0 and 2"));
        }
        if !(1..=1_000_000).contains(&self.max_tokens) {
            return Err(Error::invalid(
                "max_tokens",
                "must be between 1 and 1,000,000",
            ));
        }
        Ok(())
    }
}

impl NewAgent {
    /// The tools as stored: a JSON list, in the order of [`wire::agents::AGENT_TOOLS`].
    fn tools_json(&self) -> String {
        let list: Vec<&str> = wire::agents::AGENT_TOOLS
            .into_iter()
            .filter(|t| self.tools.iter().any(|s| s == t))
            .collect();
        serde_json::to_string(&list).unwrap_or_else(|_| "[]".to_owned())
    }
}

/// Creates an agent and its prompt version 1 (active), atomically when `conn` is a transaction.
#[tracing::instrument(skip(conn, agent), fields(agent.name = %agent.name))]
pub async fn create(
    conn: &mut AnyConnection,
    workspace_id: &str,
    agent: &NewAgent,
) -> Result<String> {
    agent.validate()?;
    let id = new_id();
    let now = now_ms();
    let tags =
        serde_json::to_string(&agent.tags).map_err(|e| Error::invalid("tags", e.to_string()))?;
    let fallbacks = serde_json::to_string(&agent.fallbacks)
        .map_err(|e| Error::invalid("fallbacks", e.to_string()))?;
    sqlx::query(
        "INSERT INTO agents (id, workspace_id, name, role, description, provider_id, model, temperature, \
         max_tokens, system_prompt, custom_instructions, tags, created_at, updated_at, fallbacks, is_public, \
         input_schema, output_schema, tools) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15, $16, $17, $18)",
    )
    .bind(&id)
    .bind(workspace_id)
    .bind(agent.name.trim())
    .bind(agent.role.as_str())
    .bind(&agent.description)
    .bind(&agent.provider_id)
    .bind(agent.model.trim())
    .bind(agent.temperature)
    .bind(agent.max_tokens)
    .bind(&agent.system_prompt)
    .bind(&agent.custom_instructions)
    .bind(tags)
    .bind(now)
    .bind(fallbacks)
    .bind(i64::from(agent.is_public))
    .bind(&agent.input_schema)
    .bind(&agent.output_schema)
    .bind(agent.tools_json())
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO prompt_versions (id, workspace_id, agent_id, version, system_prompt, \
         custom_instructions, note, is_active, created_at) VALUES ($1, $2, $3, 1, $4, $5, $6, 1, $7)",
    )
    .bind(new_id())
    .bind(workspace_id)
    .bind(&id)
    .bind(&agent.system_prompt)
    .bind(&agent.custom_instructions)
    .bind("Initial version")
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// How many prompt versions an agent has.
#[tracing::instrument(skip(db))]
pub async fn prompt_version_count<'e>(
    db: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    agent_id: &str,
) -> Result<i64> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM prompt_versions WHERE workspace_id = $1 AND agent_id = $2",
    )
    .bind(workspace_id)
    .bind(agent_id)
    .fetch_one(db)
    .await?;
    Ok(n)
}

/// Everything stored about an agent, as the store holds it (the API's view is
/// [`wire::agents::Agent`], made by [`Agent::into_wire`]).
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct Agent {
    /// UUIDv7.
    pub id: String,
    /// Unique name within the workspace.
    pub name: String,
    /// Upper-case role name.
    pub role: String,
    /// Free text.
    pub description: String,
    /// Provider id.
    pub provider_id: Option<String>,
    /// Provider display name.
    pub provider_name: Option<String>,
    /// Provider kind.
    pub provider_kind: Option<String>,
    /// Model name.
    pub model: String,
    /// Sampling temperature.
    pub temperature: f64,
    /// Completion token limit.
    pub max_tokens: i64,
    /// The role's system prompt.
    pub system_prompt: String,
    /// Extra instructions.
    pub custom_instructions: String,
    /// JSON list of labels.
    pub tags: String,
    /// JSON list of the tools it is offered.
    pub tools: String,
    /// JSON list of [`FallbackTarget`].
    pub fallbacks: String,
    /// 1 when its provider was deleted: it cannot run until a provider is chosen again.
    pub provider_deleted: i64,
    /// 1 when listed on the workspace's public pages.
    pub is_public: i64,
    /// The input's JSON Schema, as text.
    pub input_schema: Option<String>,
    /// The output's JSON Schema, as text.
    pub output_schema: Option<String>,
    /// The active persona's name.
    pub persona_name: Option<String>,
    /// The active persona's prompt.
    pub persona_prompt: Option<String>,
    /// The active persona's temperature (none: the agent's).
    pub persona_temperature: Option<f64>,
    /// `active` while one of its runs is working on a running task, else `idle`.
    pub status: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

impl Agent {
    /// The active persona as (name, prompt), as the system prompt takes it.
    pub fn persona(&self) -> Option<(&str, &str)> {
        self.persona_name
            .as_deref()
            .zip(self.persona_prompt.as_deref())
    }

    /// Puts a persona in the place of the active one; its temperature (when it has one) becomes
    /// the agent's.
    pub fn wear(&mut self, p: &wire::personas::Persona) {
        self.persona_name = Some(p.name.clone());
        self.persona_prompt = Some(p.prompt.clone());
        self.persona_temperature = p.temperature;
    }

    /// The temperature it runs with: its persona's, else its own.
    pub fn effective_temperature(&self) -> f64 {
        self.persona_temperature.unwrap_or(self.temperature)
    }
    /// The tools it is offered.
    pub fn tool_list(&self) -> Vec<String> {
        serde_json::from_str(&self.tools).unwrap_or_default()
    }

    /// The tags as a list.
    pub fn tag_list(&self) -> Vec<String> {
        serde_json::from_str(&self.tags).unwrap_or_default()
    }

    /// The explicit fallback chain, in order.
    pub fn fallback_list(&self) -> Vec<FallbackTarget> {
        serde_json::from_str(&self.fallbacks).unwrap_or_default()
    }

    /// The agent as the API and the pages read it.
    pub fn into_wire(self) -> wire::agents::Agent {
        wire::agents::Agent {
            tags: self.tag_list(),
            tools: self.tool_list(),
            fallbacks: self.fallback_list(),
            provider_deleted: self.provider_deleted != 0,
            is_public: self.is_public != 0,
            input_schema: self
                .input_schema
                .as_deref()
                .and_then(|t| serde_json::from_str(t).ok()),
            output_schema: self
                .output_schema
                .as_deref()
                .and_then(|t| serde_json::from_str(t).ok()),
            active_persona: self.persona_name,
            id: self.id,
            name: self.name,
            role: self.role,
            description: self.description,
            provider_id: self.provider_id,
            provider_name: self.provider_name,
            provider_kind: self.provider_kind,
            model: self.model,
            temperature: self.temperature,
            max_tokens: self.max_tokens,
            system_prompt: self.system_prompt,
            custom_instructions: self.custom_instructions,
            status: self.status,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// One agent of a workspace as the API and the pages read it.
pub async fn show<'e>(
    db: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    id: &str,
) -> Result<wire::agents::Agent> {
    Ok(get(db, workspace_id, id).await?.into_wire())
}

/// One agent of a workspace.
#[tracing::instrument(skip(db))]
pub async fn get<'e>(
    db: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    id: &str,
) -> Result<Agent> {
    sqlx::query_as(
        "SELECT a.id, a.name, a.role, a.description, a.provider_id, p.name AS provider_name, \
         p.kind AS provider_kind, a.model, a.temperature, a.max_tokens, a.system_prompt, \
         a.custom_instructions, a.tags, a.tools, a.fallbacks, a.provider_deleted, a.is_public, \
         a.input_schema, a.output_schema, \
         ap.name AS persona_name, ap.prompt AS persona_prompt, ap.temperature AS persona_temperature, \
         CASE WHEN EXISTS (SELECT 1 FROM agent_runs r JOIN tasks t ON t.id = r.task_id \
         WHERE r.agent_id = a.id AND r.status = 'active' AND t.status = 'running') \
         THEN 'active' ELSE 'idle' END AS status, a.created_at, a.updated_at \
         FROM agents a LEFT JOIN providers p ON p.id = a.provider_id \
         LEFT JOIN agent_personas ap ON ap.agent_id = a.id AND ap.is_active = 1 \
         WHERE a.workspace_id = $1 AND a.id = $2",
    )
    .bind(workspace_id)
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or_else(|| Error::not_found("agent", id))
}

/// Replaces an agent's editable fields; a changed prompt becomes a new active prompt version.
///
/// `before` is the agent as read before the transaction (to tell whether the prompt changed);
/// the caller checks the providers with [`check_providers`].
#[tracing::instrument(skip(tx, before, agent), fields(agent.id = %id))]
pub async fn update(
    tx: &mut AnyConnection,
    workspace_id: &str,
    id: &str,
    before: &Agent,
    agent: &NewAgent,
    version: VersionNote<'_>,
) -> Result<Agent> {
    agent.validate()?;
    let tags =
        serde_json::to_string(&agent.tags).map_err(|e| Error::invalid("tags", e.to_string()))?;
    let fallbacks = serde_json::to_string(&agent.fallbacks)
        .map_err(|e| Error::invalid("fallbacks", e.to_string()))?;
    let now = now_ms();
    sqlx::query(
        "UPDATE agents SET name = $3, role = $4, description = $5, provider_id = $6, model = $7, \
         temperature = $8, max_tokens = $9, system_prompt = $10, custom_instructions = $11, tags = $12, \
         updated_at = $13, fallbacks = $14, is_public = $16, input_schema = $17, output_schema = $18, \
         tools = $19, \
         provider_deleted = CASE WHEN $15 = 1 THEN 0 ELSE provider_deleted END \
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(workspace_id)
    .bind(id)
    .bind(agent.name.trim())
    .bind(agent.role.as_str())
    .bind(&agent.description)
    .bind(&agent.provider_id)
    .bind(agent.model.trim())
    .bind(agent.temperature)
    .bind(agent.max_tokens)
    .bind(&agent.system_prompt)
    .bind(&agent.custom_instructions)
    .bind(tags)
    .bind(now)
    .bind(fallbacks)
    .bind(i64::from(agent.provider_explicit))
    .bind(i64::from(agent.is_public))
    .bind(&agent.input_schema)
    .bind(&agent.output_schema)
    .bind(agent.tools_json())
    .execute(&mut *tx)
    .await?;
    if before.system_prompt != agent.system_prompt
        || before.custom_instructions != agent.custom_instructions
    {
        let note = version.note.trim();
        super::prompt_versions::append(
            tx,
            workspace_id,
            id,
            (&agent.system_prompt, &agent.custom_instructions),
            if note.is_empty() { "Edited" } else { note },
            version.author,
            now,
        )
        .await?;
    }
    get(&mut *tx, workspace_id, id).await
}

/// Deletes an agent (its runs keep their records; their agent link is cleared).
#[tracing::instrument(skip(conn))]
pub async fn delete(conn: &mut AnyConnection, workspace_id: &str, id: &str) -> Result<()> {
    let done = sqlx::query("DELETE FROM agents WHERE workspace_id = $1 AND id = $2")
        .bind(workspace_id)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if done == 0 {
        return Err(Error::not_found("agent", id));
    }
    Ok(())
}

/// Checks that the agent's provider and every fallback's provider belong to the workspace.
pub async fn check_providers(
    store: &crate::Store,
    workspace_id: &str,
    agent: &NewAgent,
) -> Result<()> {
    if let Some(p) = &agent.provider_id {
        crate::store::providers::get(store, workspace_id, p).await?;
    }
    for f in &agent.fallbacks {
        if let Some(p) = &f.provider_id {
            crate::store::providers::get(store, workspace_id, p)
                .await
                .map_err(|e| match e {
                    Error::NotFound { .. } => {
                        Error::invalid("fallbacks", format!("no provider {p} in this workspace"))
                    }
                    other => other,
                })?;
        }
    }
    Ok(())
}

/// The full agent `input` describes, on top of `base` (None when creating).
pub fn resolve(input: AgentInput, base: Option<&Agent>) -> Result<NewAgent> {
    let role = match (&input.role, base) {
        (Some(r), _) => Role::parse(r)?,
        (None, Some(b)) => Role::parse(&b.role)?,
        (None, None) => return Err(Error::invalid("role", "is required")),
    };
    let name = match (input.name, base) {
        (Some(n), _) => n,
        (None, Some(b)) => b.name.clone(),
        (None, None) => return Err(Error::invalid("name", "is required")),
    };
    let provider_explicit = input.provider_id.is_some();
    let provider_id = match input.provider_id {
        Some(p) if p.trim().is_empty() => None,
        Some(p) => Some(p),
        None => base.and_then(|b| b.provider_id.clone()),
    };
    Ok(NewAgent {
        name,
        description: input
            .description
            .or_else(|| base.map(|b| b.description.clone()))
            .unwrap_or_default(),
        provider_id,
        model: input
            .model
            .or_else(|| base.map(|b| b.model.clone()))
            .unwrap_or_else(|| crate::seed::DEFAULT_SIMULATOR_MODEL.to_owned()),
        temperature: input
            .temperature
            .or_else(|| base.map(|b| b.temperature))
            .unwrap_or(0.7),
        max_tokens: input
            .max_tokens
            .or_else(|| base.map(|b| b.max_tokens))
            .unwrap_or(4096),
        system_prompt: input
            .system_prompt
            .or_else(|| base.map(|b| b.system_prompt.clone()))
            .unwrap_or_else(|| crate::seed::role_prompt(&role).to_owned()),
        custom_instructions: input
            .custom_instructions
            .or_else(|| base.map(|b| b.custom_instructions.clone()))
            .unwrap_or_default(),
        tags: input
            .tags
            .or_else(|| base.map(Agent::tag_list))
            .unwrap_or_default(),
        tools: input
            .tools
            .or_else(|| base.map(Agent::tool_list))
            .unwrap_or_else(wire::agents::all_tools),
        fallbacks: input
            .fallbacks
            .map(|list| {
                list.into_iter()
                    .map(|f| FallbackTarget {
                        provider_id: f.provider_id.filter(|p| !p.trim().is_empty()),
                        model: f.model.trim().to_owned(),
                    })
                    .collect()
            })
            .or_else(|| base.map(Agent::fallback_list))
            .unwrap_or_default(),
        is_public: input
            .is_public
            .or_else(|| base.map(|b| b.is_public != 0))
            .unwrap_or(false),
        input_schema: schema_text(
            input.input_schema,
            base.and_then(|b| b.input_schema.clone()),
        ),
        output_schema: schema_text(
            input.output_schema,
            base.and_then(|b| b.output_schema.clone()),
        ),
        provider_explicit,
        role,
    })
}

/// A schema as stored: absent keeps `current`, `null` removes it, a value is stored as text.
fn schema_text(sent: Option<Option<serde_json::Value>>, current: Option<String>) -> Option<String> {
    match sent {
        None => current,
        Some(None) => None,
        Some(Some(value)) => Some(value.to_string()),
    }
}
