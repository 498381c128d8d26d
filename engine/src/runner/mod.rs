//! The runner (SPEC F-04): accepts tasks, plans them as workflows of agent steps, and runs them
//! on background workers with live events.
//!
//! A task's life: [`Runner::submit`] validates and plans it, takes one credit and inserts it as
//! `queued` in one transaction, then wakes a worker. A worker claims it (see
//! [`crate::store::tasks::claim`]), keeps its lease alive, and runs each step: the agent loop
//! sends the system prompt, the task and the earlier steps' outputs to the model, executes the
//! tool calls it asks for in the task's working directory, and repeats until the model answers
//! without tools. Every provider attempt is recorded before the next starts; every step, token
//! batch, tool call, file change and cost change is published on the event bus.
//!
//! After a crash, the lease expires and the task is claimed again: completed steps are kept and
//! the interrupted step starts over (its already-recorded calls stay recorded and counted).
//! Every write a worker makes is fenced on its claim's lease epoch, so a worker that lost its
//! claim can write nothing more (see [`crate::store::queue`]).
//!
//! Files by concern: this one holds the [`Runner`] and its actions (submit, estimate, cancel,
//! re-run, delete, test connection); [`worker`] the workers, claims and leases; [`step`] the
//! agent loop and the recording of every attempt; [`chain`] the fallback chains; [`export`] the
//! prompt preview and the Markdown export; [`workflow`] the templates and prompts; [`tools`] the
//! file tools.

mod budget;
mod chain;
mod export;
pub mod playground;
mod recorder;
mod step;
pub mod tools;
pub mod totals;
mod worker;
pub mod workflow;

pub use export::{
    PromptPreview, conversation_markdown, preview_for, prompt_preview, task_markdown,
};
pub use step::cost_of;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::{Notify, watch};
use tracing::{error, info};

use crate::actions::Caller;
use crate::auth::secrets::MasterKey;
use crate::domain::{MemberRole, ProviderKind, Role};
use crate::events::{self, EventBus, Outgoing};
use crate::providers::retry::RetryPolicy;
use crate::providers::{self, ChatRequest, Message, Usage};
use crate::store::tasks::{self, NewTask, PlannedStep};
use crate::store::{agents, credits, prices};
use crate::{Error, Result, Store};
use wire::events::EventKind;
use workflow::{Complexity, Workflow};

/// How the runner works.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Background workers (tasks run at once).
    pub workers: usize,
    /// Parent of every task's working directory.
    pub work_root: PathBuf,
    /// A claimed task is re-claimable this long after its worker stops renewing.
    pub lease: Duration,
    /// How often the lease is renewed (None: a third of `lease`). Tests set it longer than the
    /// lease to play a worker that stalls.
    pub renew_every: Option<Duration>,
    /// Retries of provider calls.
    pub retry: RetryPolicy,
    /// How often idle workers look for work another process queued.
    pub poll: Duration,
    /// Most model turns per step (each tool round trip is a turn).
    pub max_turns: usize,
    /// How often streamed tokens are published as one `token` event.
    pub token_flush: Duration,
    /// A task claimed again more than this many times (its worker died or stalled each time)
    /// ends `failed` instead of being retried forever.
    pub max_reclaims: i64,
}

impl RunnerConfig {
    /// Defaults with the working directories under `work_root`.
    pub fn new(work_root: PathBuf) -> Self {
        Self {
            workers: 4,
            work_root,
            lease: Duration::from_secs(15),
            renew_every: None,
            retry: RetryPolicy::default(),
            poll: Duration::from_secs(1),
            max_turns: 8,
            token_flush: Duration::from_millis(100),
            max_reclaims: 3,
        }
    }
}

pub use wire::providers::ProviderCheck;
pub use wire::tasks::{Estimate, EstimatedStep, SubmitTask};

/// Why a step or task stopped before finishing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Run,
    Cancel,
    Shutdown,
    Lost,
}

enum Halt {
    Stopped(Stop),
    Failed(String),
}

impl From<Error> for Halt {
    fn from(e: Error) -> Self {
        if let Error::LeaseLost(task) = &e {
            // Another worker owns the task now: stop without writing anything more.
            tracing::warn!(task.id = %task, "lease lost; this worker stops working on the task");
            return Halt::Stopped(Stop::Lost);
        }
        // The task's error is shown to users; the cause (SQL details) goes to the log only.
        error!(error = ?e, "a task stopped on an internal error");
        Halt::Failed(format!("internal error: {e}"))
    }
}

/// The runner: planning, the queue's workers and cancellation.
pub struct Runner {
    store: Store,
    bus: Arc<EventBus>,
    master_key: MasterKey,
    config: RunnerConfig,
    http: reqwest::Client,
    wake: Notify,
    worker_prefix: String,
    running: Mutex<HashMap<String, watch::Sender<Stop>>>,
    shutdown: watch::Sender<bool>,
    totals: Arc<totals::Totals>,
    started_at_ms: i64,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("worker_prefix", &self.worker_prefix)
            .finish_non_exhaustive()
    }
}

impl Runner {
    /// A runner; call [`Runner::start`] to run its workers.
    pub fn new(
        store: Store,
        bus: Arc<EventBus>,
        master_key: MasterKey,
        config: RunnerConfig,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            bus,
            master_key,
            config,
            http: providers::http_client(),
            wake: Notify::new(),
            worker_prefix: format!("worker-{}", crate::new_id()),
            running: Mutex::new(HashMap::new()),
            shutdown: watch::channel(false).0,
            totals: Arc::new(totals::Totals::default()),
            started_at_ms: crate::now_ms(),
        })
    }

    /// The event bus.
    pub fn bus(&self) -> &Arc<EventBus> {
        &self.bus
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// When this runner (and so its process) started, Unix ms.
    pub fn started_at_ms(&self) -> i64 {
        self.started_at_ms
    }

    /// Starts the background workers, and their heartbeat into the `workers` table (Health).
    /// With no workers (`fleetdeck serve --workers 0`) nothing is claimed here: other
    /// processes on the same Postgres run the tasks.
    pub fn start(self: &Arc<Self>) -> Vec<tokio::task::JoinHandle<()>> {
        let mut handles: Vec<_> = (0..self.config.workers)
            .map(|n| tokio::spawn(self.clone().worker(n)))
            .collect();
        if self.config.workers > 0 {
            handles.push(tokio::spawn(self.clone().heartbeat()));
            handles.push(tokio::spawn(self.clone().watch_events()));
        }
        handles.push(tokio::spawn(
            self.totals
                .clone()
                .run(self.bus.clone(), self.shutdown.subscribe()),
        ));
        handles
    }

    /// Reacts to events published anywhere (another process's arrive through
    /// [`crate::listen`]): a new task wakes an idle worker at once rather than at its next
    /// poll, and a cancel stops the task's work here within moments, not at the next lease
    /// renewal.
    async fn watch_events(self: Arc<Self>) {
        let mut events = self.bus.subscribe();
        let mut stopped = self.shutdown.subscribe();
        loop {
            // A shutdown before this task subscribed is seen here, not by `changed`.
            if *stopped.borrow_and_update() {
                return;
            }
            let event = tokio::select! {
                e = events.recv() => e,
                _ = stopped.changed() => continue,
            };
            match event {
                // One worker (waking them all made every idle worker race for one claim on
                // each new task, contending for SQLite's writer).
                Ok(e) if e.kind == EventKind::TaskCreated => self.wake.notify_one(),
                Ok(e) if e.kind == EventKind::TaskCancelled => {
                    let id = e.data["task_id"].as_str().unwrap_or_default();
                    if let Ok(running) = self.running.lock()
                        && let Some(stop) = running.get(id)
                    {
                        let _ = stop.send(Stop::Cancel);
                    }
                }
                Ok(_) => {}
                // Behind: a missed cancel is still seen at the next lease renewal.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    }

    /// Beats every few seconds while the workers run (and releases expired budget holds), and
    /// leaves the list when they stop. A failed beat is logged and retried at the next tick:
    /// Health then shows the gap.
    async fn heartbeat(self: Arc<Self>) {
        let mut stopped = self.shutdown.subscribe();
        let slots = self.config.workers.max(1) as i64;
        loop {
            if let Err(e) = crate::health::heartbeat(
                &self.store,
                &self.worker_prefix,
                slots,
                self.started_at_ms,
            )
            .await
            {
                tracing::warn!(error = %e, "worker heartbeat failed");
            }
            // Budget holds a crashed worker left behind go back once they expire.
            match crate::budgets::enforce::sweep(&self.store).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(holds = n, "expired budget holds released"),
                Err(e) => tracing::warn!(error = %e, "expired budget holds not released"),
            }
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
                _ = stopped.wait_for(|s| *s) => break,
            }
        }
        if let Err(e) = crate::health::worker_stopped(&self.store, &self.worker_prefix).await {
            tracing::warn!(error = %e, "could not remove the worker from the list");
        }
    }

    /// Becomes true when [`Runner::shutdown`] is called, for background jobs to stop with it.
    pub fn stopped(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Stops claiming work and puts in-flight tasks back in the queue; the returned handles of
    /// [`Runner::start`] finish soon after.
    pub fn shutdown(&self) {
        // send_replace stores the value even when no worker has subscribed yet.
        self.shutdown.send_replace(true);
        if let Ok(running) = self.running.lock() {
            for stop in running.values() {
                let _ = stop.send(Stop::Shutdown);
            }
        }
        self.wake.notify_waiters();
    }

    /// Plans a task: complexity, roles and the agent for each.
    async fn plan(
        &self,
        workspace_id: &str,
        req: &SubmitTask,
    ) -> Result<(Workflow, Complexity, Vec<PlannedStep>)> {
        let description = workflow::validate_description(&req.description)?;
        let flow = Workflow::parse(&req.workflow)?;
        let custom: Vec<Role> = req
            .steps
            .iter()
            .map(|s| Role::parse(s))
            .collect::<Result<_>>()?;
        if flow != Workflow::Custom && !custom.is_empty() {
            return Err(Error::invalid(
                "steps",
                "only a custom workflow takes steps",
            ));
        }
        let complexity = workflow::estimate_complexity(description);
        let roles = workflow::plan_roles(flow, complexity, req.force_analyst, &custom)?;
        let steps = tasks::agents_for_roles(&self.store, workspace_id, &roles).await?;
        Ok((flow, complexity, steps))
    }

    /// What a task would do and cost, without running it.
    pub async fn estimate(&self, workspace_id: &str, req: &SubmitTask) -> Result<Estimate> {
        let (flow, complexity, steps) = self.plan(workspace_id, req).await?;
        let task_tokens = providers::estimate_tokens(req.description.trim());
        let mut previous = 0;
        let mut out = Vec::new();
        for step in steps {
            let role = Role::parse(&step.role)?;
            let agent = agents::get(self.store.pool(), workspace_id, &step.agent_id).await?;
            let system = workflow::system_prompt(
                &role,
                &agent.system_prompt,
                &agent.custom_instructions,
                agent.persona(),
                &crate::store::knowledge::for_prompt(self.store.pool(), &agent.id).await?,
                complexity,
                !agent.tool_list().is_empty(),
            );
            let prompt_tokens = providers::estimate_tokens(&system) + task_tokens + previous + 40;
            let completion_tokens = workflow::expected_completion_tokens(&role, complexity);
            let price = prices::get(self.store.pool(), &step.provider_kind, &step.model).await?;
            let usage = Usage {
                prompt_tokens,
                completion_tokens,
                ..Usage::default()
            };
            out.push(EstimatedStep {
                simulated: step.provider_kind == ProviderKind::Simulator.as_str(),
                role: step.role,
                agent_name: step.agent_name,
                model: step.model,
                provider_kind: step.provider_kind,
                prompt_tokens,
                completion_tokens,
                cost_micros: price.as_ref().map_or(0, |p| cost_of(p, &usage)),
                price_known: price.is_some(),
            });
            previous += completion_tokens;
        }
        let skips_analyst = flow != Workflow::Custom
            && flow.roles().contains(&Role::Analyst)
            && !out.iter().any(|s| s.role == Role::Analyst.as_str());
        let message = match (complexity, skips_analyst) {
            (Complexity::Simple, true) => "Simple task — skipping ANALYST".to_owned(),
            (Complexity::Simple, false) => "Simple task".to_owned(),
            (Complexity::Complex, _) => "Complex task — full workflow".to_owned(),
        };
        Ok(Estimate {
            complexity: complexity.as_str().to_owned(),
            skips_analyst,
            message,
            estimated_cost_micros: out.iter().map(|s| s.cost_micros).sum(),
            price_known: out.iter().all(|s| s.price_known),
            estimated_tokens: out
                .iter()
                .map(|s| s.prompt_tokens + s.completion_tokens)
                .sum(),
            steps: out,
        })
    }

    /// Accepts a task: plans it, takes one credit and queues it in one transaction, announces
    /// it and wakes a worker.
    #[tracing::instrument(skip(self, caller, req), fields(user.id = %caller.who.user_id))]
    pub async fn submit(&self, caller: Caller<'_>, req: &SubmitTask) -> Result<wire::tasks::Task> {
        caller.who.require(MemberRole::Developer)?;
        self.queue(caller, req, None).await
    }

    async fn queue(
        &self,
        caller: Caller<'_>,
        req: &SubmitTask,
        rerun_of: Option<String>,
    ) -> Result<wire::tasks::Task> {
        let who = caller.who;
        let (flow, complexity, plan) = self.plan(&who.workspace_id, req).await?;
        // An agent with an input schema takes only input that keeps it: refused here, before
        // any credit is taken, rather than failing a step later.
        let schemas: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT id, name, input_schema FROM agents \
             WHERE workspace_id = $1 AND input_schema IS NOT NULL",
        )
        .bind(&who.workspace_id)
        .fetch_all(self.store.pool())
        .await?;
        for (id, name, schema) in &schemas {
            if plan.iter().any(|s| &s.agent_id == id) {
                crate::schemas::check_input(name, schema, &req.description)
                    .map_err(|why| Error::invalid("description", why))?;
            }
        }
        // A hard budget already spent refuses the task before any credit is taken; budgets with
        // room left are enforced call by call.
        let spender = crate::budgets::enforce::Spender {
            user_id: Some(who.user_id.clone()),
            ..Default::default()
        };
        crate::budgets::enforce::ensure_open(&self.store, &who.workspace_id, &spender).await?;
        let workdir = crate::store::task_archive::resolve_workdir(
            &self.store,
            &who.workspace_id,
            req.workdir.as_deref(),
        )
        .await?;
        let new = NewTask {
            description: req.description.trim().to_owned(),
            workflow: flow.as_str().to_owned(),
            complexity: complexity.as_str().to_owned(),
            force_analyst: req.force_analyst,
            plan,
            created_by: Some(who.user_id.clone()),
            rerun_of,
            run: None,
            workdir,
        };
        let mut tx = self.store.begin().await?;
        credits::deduct_in(&mut tx, who, 1, "task submission").await?;
        let id = tasks::insert(&mut tx, &who.workspace_id, &new).await?;
        if let Some(dir) = &new.workdir {
            crate::store::task_archive::remember_workdir(
                &mut tx,
                &who.workspace_id,
                &who.user_id,
                dir,
                crate::now_ms(),
            )
            .await?;
        }
        let task = tasks::get(&mut *tx, &who.workspace_id, &id).await?;
        let (action, details) = match &task.rerun_of {
            Some(old) => ("task.rerun", json!({ "rerun_of": old })),
            None => (
                "task.submit",
                json!({
                    "workflow": task.workflow, "complexity": task.complexity,
                    "workdir": task.workdir,
                }),
            ),
        };
        caller
            .audit(&mut tx, action, format!("task:{id}"), details)
            .await?;
        tx.commit().await?;
        info!(task.id = %id, workflow = %new.workflow, "task queued");
        let data = json!({
            "task_id": id, "description": task.description, "workflow": task.workflow,
            "complexity": task.complexity, "status": "queued",
            "steps": new.plan.iter().map(|s| &s.role).collect::<Vec<_>>(),
        });
        self.publish2(&who.workspace_id, &id, EventKind::TaskCreated, data)
            .await;
        self.wake.notify_one();
        Ok(task.to_wire())
    }

    /// Queues a new task with the same description and workflow as an earlier one.
    pub async fn rerun(&self, caller: Caller<'_>, task_id: &str) -> Result<wire::tasks::Task> {
        let who = caller.who;
        who.require(MemberRole::Developer)?;
        let old = tasks::get(self.store.pool(), &who.workspace_id, task_id).await?;
        let steps = if old.workflow == Workflow::Custom.as_str() {
            old.planned_steps().into_iter().map(|s| s.role).collect()
        } else {
            Vec::new()
        };
        let req = SubmitTask {
            description: old.description.clone(),
            workflow: old.workflow.clone(),
            force_analyst: old.force_analyst != 0,
            steps,
            // Checked again: the root may have moved since.
            workdir: old.workdir.clone(),
        };
        self.queue(caller, &req, Some(old.id)).await
    }

    /// Cancels a queued or running task; a running one stops its in-flight call at once.
    pub async fn cancel(&self, caller: Caller<'_>, task_id: &str) -> Result<wire::tasks::Task> {
        let who = caller.who;
        who.require(MemberRole::Developer)?;
        let mut tx = self.store.begin().await?;
        if !tasks::cancel(&mut tx, &who.workspace_id, task_id).await? {
            let task = tasks::get(&mut *tx, &who.workspace_id, task_id).await?;
            return Err(Error::Conflict(format!(
                "the task is already {}",
                task.status
            )));
        }
        caller
            .audit(&mut tx, "task.cancel", format!("task:{task_id}"), json!({}))
            .await?;
        tx.commit().await?;
        if let Ok(running) = self.running.lock()
            && let Some(stop) = running.get(task_id)
        {
            let _ = stop.send(Stop::Cancel);
        }
        self.publish2(
            &who.workspace_id,
            task_id,
            EventKind::TaskCancelled,
            json!({"task_id": task_id, "status": "cancelled"}),
        )
        .await;
        Ok(tasks::get(self.store.pool(), &who.workspace_id, task_id)
            .await?
            .to_wire())
    }

    /// Deletes a task that is not running.
    pub async fn delete(&self, caller: Caller<'_>, task_id: &str) -> Result<()> {
        caller.who.require(MemberRole::Developer)?;
        let mut tx = self.store.begin().await?;
        tasks::delete(&mut tx, &caller.who.workspace_id, task_id).await?;
        caller
            .audit(&mut tx, "task.delete", format!("task:{task_id}"), json!({}))
            .await?;
        tx.commit().await?;
        let dir = self.config.work_root.join(task_id);
        if dir.starts_with(&self.config.work_root) && tokio::fs::metadata(&dir).await.is_ok() {
            let _ = tokio::fs::remove_dir_all(&dir).await;
        }
        Ok(())
    }

    /// Publishes on the task's topic and on the fleet topic, in one transaction. For actions
    /// of users (submit, cancel); workers publish fenced on their lease.
    async fn publish2(
        &self,
        workspace_id: &str,
        task_id: &str,
        kind: EventKind,
        data: serde_json::Value,
    ) {
        let events = both_topics(task_id, kind, data);
        // Events are the live view; the task's rows are the record. A failed publish is logged
        // and the work goes on.
        if let Err(e) = self.bus.publish_all(workspace_id, None, events).await {
            error!(error = %e, kind = kind.as_str(), "publishing an event failed");
        }
    }
}

/// The same event on a task's topic and on the fleet topic.
fn both_topics(task_id: &str, kind: EventKind, data: serde_json::Value) -> Vec<Outgoing> {
    vec![
        Outgoing::new(events::task_topic(task_id), kind, data.clone()),
        Outgoing::new(events::FLEET, kind, data),
    ]
}

/// At most `max` characters of `text`, with an ellipsis when cut.
fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut out: String = text.chars().take(max).collect();
        out.push('…');
        out
    }
}

/// A small, cheap model of each kind for connection tests when none is given.
fn probe_model(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::Openai => "gpt-4o-mini",
        ProviderKind::Anthropic => "claude-3-5-haiku-latest",
        ProviderKind::Gemini => "gemini-2.0-flash",
        ProviderKind::OpenaiCompatible => "default",
        ProviderKind::Simulator => "sim-fast",
    }
}

impl Runner {
    /// "Test connection": one tiny request to the provider, no retries, 20 s limit. Admins only.
    pub async fn test_provider(
        &self,
        caller: Caller<'_>,
        provider_id: &str,
        model: Option<String>,
    ) -> Result<ProviderCheck> {
        let who = caller.who;
        who.require(MemberRole::Admin)?;
        let provider =
            crate::store::providers::get(&self.store, &who.workspace_id, provider_id).await?;
        let kind = ProviderKind::parse(&provider.kind)?;
        let model = model
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| probe_model(kind).to_owned());
        let api_key = if kind == ProviderKind::Simulator {
            None
        } else {
            crate::store::providers::api_key(
                &self.store,
                &self.master_key,
                &who.workspace_id,
                provider_id,
            )
            .await?
        };
        let client = providers::connect(kind, provider.base_url.as_deref(), api_key, &self.http)?;
        let request = ChatRequest {
            model: model.clone(),
            system: "You are a connection test. Reply with the single word OK.".into(),
            messages: vec![Message::user("Say OK.")],
            temperature: 0.0,
            max_tokens: 8,
            tools: Vec::new(),
            response_schema: None,
        };
        let start = Instant::now();
        let result =
            tokio::time::timeout(Duration::from_secs(20), client.complete(&request, &|_| {})).await;
        let latency_ms = i64::try_from(start.elapsed().as_millis()).unwrap_or(0);
        let check = match result {
            Ok(Ok(done)) => ProviderCheck {
                ok: true,
                model,
                latency_ms,
                message: excerpt(done.text.trim(), 200),
                error_class: None,
            },
            Ok(Err(e)) => ProviderCheck {
                ok: false,
                model,
                latency_ms,
                message: excerpt(&e.message, 300),
                error_class: Some(e.class.as_str().to_owned()),
            },
            Err(_) => ProviderCheck {
                ok: false,
                model,
                latency_ms,
                message: "no answer within 20 s".into(),
                error_class: Some("timeout".into()),
            },
        };
        crate::actions::providers::record_test(&self.store, caller, provider_id, &check).await?;
        Ok(check)
    }
}
