//! The Studio's playground as the pages see it: the same engine functions and wire types as
//! `/api/v1/runs`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::AppError;
use wire::agents::{Agent, AgentSummary};
use wire::personas::Persona;
use wire::providers::Provider;
use wire::runs::RunSummary;

/// How many agents the Studio's picker offers.
pub const STUDIO_CHOICES: i64 = 200;

/// What the Studio page reads at once: the agents to pick from, the chosen one, the providers
/// a run may switch to, and the chosen agent's run history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudioView {
    /// The agents to pick from: the first [`STUDIO_CHOICES`] by name (a registry can hold
    /// 100,000; any agent opens here from its card's "Try").
    pub agents: Vec<AgentSummary>,
    /// Whether the workspace has more agents than those.
    pub more_agents: bool,
    /// The chosen agent.
    pub agent: Option<Agent>,
    /// The workspace's providers.
    pub providers: Vec<Provider>,
    /// The chosen agent's runs, newest first.
    pub history: Vec<RunSummary>,
    /// The chosen agent's personas (the active one first).
    pub personas: Vec<Persona>,
}

/// The Studio's data for `agent` (none: the first agent).
#[server(prefix = "/api", endpoint = "studio")]
pub async fn get_studio(agent: String) -> Result<StudioView, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let ws = &who.workspace_id;
    let request = engine::store::page::PageRequest {
        limit: STUDIO_CHOICES,
        after: None,
    };
    let first = engine::store::agents::page(
        cx.store.pool(),
        ws,
        &engine::store::agents::AgentFilter::default(),
        &request,
    )
    .await?;
    let (agents, more_agents) = (first.items, first.next_cursor.is_some());
    let chosen = if agent.is_empty() {
        agents.first().map(|a| a.id.clone())
    } else {
        Some(agent)
    };
    let (agent, history, personas) = match chosen {
        Some(id) => {
            let mut conn = cx
                .store
                .pool()
                .acquire()
                .await
                .map_err(engine::Error::from)?;
            (
                Some(engine::store::agents::show(&mut *conn, ws, &id).await?),
                engine::runner::playground::history(&cx.store, ws, &id).await?,
                engine::store::personas::list(&mut conn, ws, &id).await?,
            )
        }
        None => (None, Vec::new(), Vec::new()),
    };
    let providers = engine::store::providers::list(cx.store.pool(), ws).await?;
    Ok(StudioView {
        agents,
        more_agents,
        agent,
        providers,
        history,
        personas,
    })
}

/// One model column of the playground: what that run changes besides the prompt.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// Provider id ("" keeps the agent's).
    pub provider_id: String,
    /// Model.
    pub model: String,
    /// Temperature, as typed.
    pub temperature: String,
    /// Max tokens, as typed.
    pub max_tokens: String,
}

/// Starts one run per column with the same input and prompt; a prompt equal to the agent's
/// is not an override (the run then counts towards the active prompt version); `persona_id`
/// ("" for the agent's active one) is tried without being activated. JSON-encoded: the
/// columns do not survive a form encoding.
#[server(prefix = "/api", endpoint = "start_runs", input = leptos::server_fn::codec::Json)]
pub async fn start_runs(
    agent_id: String,
    input: String,
    system_prompt: String,
    custom_instructions: String,
    persona_id: String,
    columns: Vec<Column>,
) -> Result<Vec<String>, AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let agent = engine::store::agents::show(cx.store.pool(), &who.workspace_id, &agent_id).await?;
    if columns.is_empty() || columns.len() > 3 {
        return Err(engine::Error::invalid("columns", "one to three models at a time").into());
    }
    let mut ids = Vec::new();
    for c in &columns {
        let temperature: Option<f64> = typed(
            &c.temperature,
            "overrides.temperature",
            "must be a number between 0 and 2",
        )?;
        let max_tokens: Option<i64> = typed(
            &c.max_tokens,
            "overrides.max_tokens",
            "must be a whole number from 1 to 1,000,000",
        )?;
        let overrides = wire::runs::RunOverrides {
            system_prompt: (system_prompt != agent.system_prompt).then(|| system_prompt.clone()),
            custom_instructions: (custom_instructions != agent.custom_instructions)
                .then(|| custom_instructions.clone()),
            provider_id: Some(c.provider_id.clone()).filter(|p| !p.is_empty()),
            model: Some(c.model.trim().to_owned()).filter(|m| !m.is_empty() && *m != agent.model),
            temperature: temperature.filter(|t| (*t - agent.temperature).abs() > f64::EPSILON),
            max_tokens: max_tokens.filter(|m| *m != agent.max_tokens),
            persona_id: Some(persona_id.clone()).filter(|p| !p.is_empty()),
        };
        let request = wire::runs::StartRun {
            agent_id: agent_id.clone(),
            input: input.clone(),
            overrides,
        };
        let caller = engine::actions::Caller::new(&who, &client);
        ids.push(cx.runner.start_run(caller, &request).await?.id);
    }
    Ok(ids)
}

/// One run's figures and output.
#[server(prefix = "/api", endpoint = "run")]
pub async fn get_run(id: String) -> Result<RunSummary, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    Ok(engine::runner::playground::run(&cx.store, &who.workspace_id, &id).await?)
}

/// A number typed in a column: none when blank, a 422 naming `field` when not a number.
#[cfg(feature = "ssr")]
fn typed<T: std::str::FromStr>(
    raw: &str,
    field: &'static str,
    rule: &'static str,
) -> Result<Option<T>, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse()
        .map(Some)
        .map_err(|_| engine::Error::invalid(field, rule).into())
}

/// Two runs and what changed from the first's output to the second's, line by line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunComparison {
    /// The older run.
    pub a: RunSummary,
    /// The newer run.
    pub b: RunSummary,
    /// Their outputs' line diff.
    pub diff: Vec<wire::prompts::PromptDiffLine>,
}

/// Compares two runs (the older first).
#[server(prefix = "/api", endpoint = "compare_runs")]
pub async fn get_run_comparison(a: String, b: String) -> Result<RunComparison, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let ws = &who.workspace_id;
    let mut a = engine::runner::playground::run(&cx.store, ws, &a).await?;
    let mut b = engine::runner::playground::run(&cx.store, ws, &b).await?;
    if a.created_at > b.created_at {
        std::mem::swap(&mut a, &mut b);
    }
    let (diff, _, _) = engine::store::prompt_versions::lines(&a.output, &b.output);
    Ok(RunComparison { a, b, diff })
}

/// An agent's runs, newest first (the last 100).
#[server(prefix = "/api", endpoint = "run_history")]
pub async fn get_run_history(agent_id: String) -> Result<Vec<RunSummary>, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    Ok(engine::runner::playground::history(&cx.store, &who.workspace_id, &agent_id).await?)
}
