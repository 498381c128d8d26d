//! Playground runs (F-02, F-04's single-agent part): one agent, one input, with the prompt,
//! provider, model, temperature or max tokens changed for the run only. A run is a one-step
//! task of workflow `playground` — queued, leased, recorded, budgeted and streamed exactly as a
//! task's step, costing one credit (F-13) — whose overrides the step applies to its agent
//! (`step.rs`). A run with a changed prompt runs no prompt version.

use serde_json::json;
use tracing::info;

use super::{Runner, workflow};
use crate::actions::Caller;
use crate::domain::MemberRole;
use crate::store::tasks::{self, NewTask, PlannedStep};
use crate::store::{agents, credits};
use crate::{Error, Result, Store};
use wire::events::EventKind;
use wire::runs::{RunOverrides, RunSummary, StartRun};

/// The workflow name runs carry (their tasks are left out of the Tasks list).
pub const PLAYGROUND: &str = "playground";

/// The most runs a run history returns.
pub const HISTORY_LIMIT: i64 = 100;

impl Runner {
    /// Starts a run: checks the agent, the overrides and the input (its schema included),
    /// takes one credit and queues it in one transaction, announces it and wakes a worker.
    #[tracing::instrument(skip(self, caller, req), fields(user.id = %caller.who.user_id))]
    pub async fn start_run(&self, caller: Caller<'_>, req: &StartRun) -> Result<wire::tasks::Task> {
        let who = caller.who;
        who.require(MemberRole::Developer)?;
        let ws = &who.workspace_id;
        let input = workflow::validate_description(&req.input)
            .map_err(|_| Error::invalid("input", "must be 1 to 20,000 characters"))?;
        let agent = agents::get(self.store.pool(), ws, &req.agent_id)
            .await
            .map_err(|e| match e {
                Error::NotFound { .. } => Error::invalid("agent_id", "no such agent here"),
                other => other,
            })?;
        let o = &req.overrides;
        check(o)?;
        let provider = match &o.provider_id {
            Some(id) => Some(
                crate::store::providers::get(&self.store, ws, id)
                    .await
                    .map_err(|_| {
                        Error::invalid("overrides.provider_id", "no such provider here")
                    })?,
            ),
            None => None,
        };
        if let Some(pid) = &o.persona_id {
            match crate::store::personas::get(self.store.pool(), ws, pid).await {
                Ok(p) if p.agent_id == agent.id => {}
                Ok(_) | Err(Error::NotFound { .. }) => {
                    return Err(Error::invalid(
                        "overrides.persona_id",
                        "no such persona of this agent",
                    ));
                }
                Err(e) => return Err(e),
            }
        }
        if let Some(schema) = &agent.input_schema {
            crate::schemas::check_input(&agent.name, schema, input)
                .map_err(|why| Error::invalid("input", why))?;
        }
        let spender = crate::budgets::enforce::Spender {
            user_id: Some(who.user_id.clone()),
            agent_id: Some(agent.id.clone()),
            ..Default::default()
        };
        crate::budgets::enforce::ensure_open(&self.store, ws, &spender).await?;
        let provider_kind = match (&provider, &agent.provider_kind) {
            (Some(p), _) => p.kind.clone(),
            (None, Some(kind)) => kind.clone(),
            (None, None) => "simulator".to_owned(),
        };
        let new = NewTask {
            description: input.to_owned(),
            workflow: PLAYGROUND.to_owned(),
            complexity: workflow::estimate_complexity(input).as_str().to_owned(),
            force_analyst: false,
            plan: vec![PlannedStep {
                role: agent.role.clone(),
                agent_id: agent.id.clone(),
                agent_name: agent.name.clone(),
                model: o.model.clone().unwrap_or_else(|| agent.model.clone()),
                provider_kind,
            }],
            created_by: Some(who.user_id.clone()),
            rerun_of: None,
            run: Some((agent.id.clone(), o.clone())),
            workdir: None,
        };
        let mut tx = self.store.begin().await?;
        credits::deduct_in(&mut tx, who, 1, "playground run").await?;
        let id = tasks::insert(&mut tx, ws, &new).await?;
        let task = tasks::get(&mut *tx, ws, &id).await?;
        caller
            .audit(
                &mut tx,
                "run.start",
                format!("task:{id}"),
                json!({ "agent": agent.name, "model": new.plan[0].model, "overrides": o }),
            )
            .await?;
        tx.commit().await?;
        info!(task.id = %id, agent = %agent.name, "playground run queued");
        let data = json!({
            "task_id": id, "description": task.description, "workflow": PLAYGROUND,
            "complexity": task.complexity, "status": "queued", "steps": [agent.role],
        });
        self.publish2(ws, &id, EventKind::TaskCreated, data).await;
        self.wake.notify_one();
        Ok(task.to_wire())
    }
}

/// The overrides' own rules (the same as an agent's fields).
fn check(o: &RunOverrides) -> Result<()> {
    if o.temperature.is_some_and(|t| !(0.0..=2.0).contains(&t)) {
        return Err(Error::invalid(
            "overrides.temperature",
            "must be between 0 and 2",
        ));
    }
    if o.max_tokens.is_some_and(|m| !(1..=1_000_000).contains(&m)) {
        return Err(Error::invalid(
            "overrides.max_tokens",
            "must be from 1 to 1,000,000",
        ));
    }
    if o.model
        .as_ref()
        .is_some_and(|m| m.trim().is_empty() || m.len() > 200)
    {
        return Err(Error::invalid(
            "overrides.model",
            "must be 1 to 200 characters",
        ));
    }
    if o.system_prompt.as_ref().is_some_and(|p| p.len() > 100_000) {
        return Err(Error::invalid(
            "overrides.system_prompt",
            "must be at most 100,000 characters",
        ));
    }
    if o.custom_instructions
        .as_ref()
        .is_some_and(|p| p.len() > 20_000)
    {
        return Err(Error::invalid(
            "overrides.custom_instructions",
            "must be at most 20,000 characters",
        ));
    }
    Ok(())
}

const SUMMARY: &str = "SELECT t.id, t.run_agent_id, t.status, t.description, t.overrides, t.error, \
     r.provider_kind, r.model, \
     COALESCE(r.prompt_tokens, 0), COALESCE(r.completion_tokens, 0), COALESCE(r.cached_tokens, 0), \
     COALESCE(r.cost_micros, 0), COALESCE(r.unpriced_calls, 0), \
     t.started_at, t.finished_at, \
     (SELECT c.ttft_ms FROM llm_calls c WHERE c.task_id = t.id AND c.success = 1 \
      AND c.ttft_ms IS NOT NULL ORDER BY c.created_at LIMIT 1), t.created_at, r.output, r.persona \
     FROM tasks t LEFT JOIN agent_runs r ON r.task_id = t.id AND r.step_index = 0";

fn summary(row: &sqlx::any::AnyRow) -> Result<RunSummary> {
    use sqlx::Row;
    let overrides: Option<String> = row.try_get(4)?;
    let started: Option<i64> = row.try_get(13)?;
    let finished: Option<i64> = row.try_get(14)?;
    Ok(RunSummary {
        id: row.try_get(0)?,
        agent_id: row.try_get::<Option<String>, _>(1)?.unwrap_or_default(),
        status: row.try_get(2)?,
        input: row.try_get(3)?,
        overrides: overrides
            .as_deref()
            .and_then(|o| serde_json::from_str(o).ok())
            .unwrap_or_default(),
        error: row.try_get(5)?,
        provider_kind: row.try_get(6)?,
        model: row.try_get(7)?,
        prompt_tokens: row.try_get(8)?,
        completion_tokens: row.try_get(9)?,
        cached_tokens: row.try_get(10)?,
        cost_micros: row.try_get(11)?,
        unpriced_calls: row.try_get(12)?,
        latency_ms: started.zip(finished).map(|(s, f)| f - s),
        ttft_ms: row.try_get(15)?,
        created_at: row.try_get(16)?,
        output: row.try_get::<Option<String>, _>(17)?.unwrap_or_default(),
        persona: row.try_get(18)?,
    })
}

/// One run of the workspace.
pub async fn run(store: &Store, workspace_id: &str, id: &str) -> Result<RunSummary> {
    let sql = format!(
        "{SUMMARY} WHERE t.workspace_id = $1 AND t.id = $2 AND t.workflow = '{PLAYGROUND}'"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(store.pool())
        .await?
        .ok_or_else(|| Error::not_found("run", id))?;
    summary(&row)
}

/// An agent's runs, newest first (at most [`HISTORY_LIMIT`]).
pub async fn history(store: &Store, workspace_id: &str, agent_id: &str) -> Result<Vec<RunSummary>> {
    let sql = format!(
        "{SUMMARY} WHERE t.workspace_id = $1 AND t.run_agent_id = $2 \
         ORDER BY t.created_at DESC, t.id DESC LIMIT {HISTORY_LIMIT}"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(workspace_id)
        .bind(agent_id)
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(summary)
        .collect()
}
