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

pub mod tools;
pub mod workflow;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::{Notify, watch};
use tracing::{error, info, warn};

use crate::auth::Principal;
use crate::auth::secrets::MasterKey;
use crate::domain::{MemberRole, Money, ProviderKind, Role};
use crate::events::{self, EventBus};
use crate::providers::retry::{self, Attempt, RetryPolicy, Target};
use crate::providers::simulator::{SimConfig, Simulator};
use crate::providers::{self, ChatRequest, HttpConfig, Message, Usage};
use crate::store::llm_calls::NewLlmCall;
use crate::store::prices::Price;
use crate::store::tasks::{self, NewTask, PlannedStep, StepStart, Task};
use crate::store::{agents, credits, prices, settings};
use crate::{Error, Result, Store, now_ms};
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
    /// Retries of provider calls.
    pub retry: RetryPolicy,
    /// How often idle workers look for work another process queued.
    pub poll: Duration,
    /// Most model turns per step (each tool round trip is a turn).
    pub max_turns: usize,
    /// How often streamed tokens are published as one `token` event.
    pub token_flush: Duration,
}

impl RunnerConfig {
    /// Defaults with the working directories under `work_root`.
    pub fn new(work_root: PathBuf) -> Self {
        Self {
            workers: 4,
            work_root,
            lease: Duration::from_secs(15),
            retry: RetryPolicy::default(),
            poll: Duration::from_secs(1),
            max_turns: 8,
            token_flush: Duration::from_millis(100),
        }
    }
}

/// A task submission.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct SubmitTask {
    /// What to do.
    pub description: String,
    /// `feature_implementation`, `bug_fix`, `code_review`, `documentation` or `custom`.
    #[serde(default = "default_workflow")]
    pub workflow: String,
    /// Run the ANALYST even for a simple task.
    #[serde(default)]
    pub force_analyst: bool,
    /// Roles of a custom workflow, in order.
    #[serde(default)]
    pub steps: Vec<String>,
}

fn default_workflow() -> String {
    Workflow::FeatureImplementation.as_str().to_owned()
}

/// One step of an estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EstimatedStep {
    /// Role.
    pub role: String,
    /// Agent that would run it.
    pub agent_name: String,
    /// Its model.
    pub model: String,
    /// Its provider kind.
    pub provider_kind: String,
    /// Whether its output would be simulated.
    pub simulated: bool,
    /// Expected prompt tokens.
    pub prompt_tokens: i64,
    /// Expected completion tokens.
    pub completion_tokens: i64,
    /// Expected cost, micro-USD.
    pub cost_micros: i64,
}

/// What a task would do and cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    /// `simple` or `complex`.
    pub complexity: String,
    /// Whether the ANALYST is left out.
    pub skips_analyst: bool,
    /// A sentence for the UI, e.g. "Simple task — skipping ANALYST".
    pub message: String,
    /// Planned steps.
    pub steps: Vec<EstimatedStep>,
    /// Sum of the steps.
    pub estimated_cost_micros: i64,
    /// Sum of the steps.
    pub estimated_tokens: i64,
}

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

    /// Starts the background workers.
    pub fn start(self: &Arc<Self>) -> Vec<tokio::task::JoinHandle<()>> {
        (0..self.config.workers.max(1))
            .map(|n| tokio::spawn(self.clone().worker(n)))
            .collect()
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
                complexity,
                true,
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
            estimated_tokens: out
                .iter()
                .map(|s| s.prompt_tokens + s.completion_tokens)
                .sum(),
            steps: out,
        })
    }

    /// Accepts a task: plans it, takes one credit and queues it in one transaction, announces
    /// it and wakes a worker.
    #[tracing::instrument(skip(self, who, req), fields(user.id = %who.user_id))]
    pub async fn submit(&self, who: &Principal, req: &SubmitTask) -> Result<Task> {
        who.require(MemberRole::Developer)?;
        self.queue(who, req, None).await
    }

    async fn queue(
        &self,
        who: &Principal,
        req: &SubmitTask,
        rerun_of: Option<String>,
    ) -> Result<Task> {
        let (flow, complexity, plan) = self.plan(&who.workspace_id, req).await?;
        let new = NewTask {
            description: req.description.trim().to_owned(),
            workflow: flow.as_str().to_owned(),
            complexity: complexity.as_str().to_owned(),
            force_analyst: req.force_analyst,
            plan,
            created_by: Some(who.user_id.clone()),
            rerun_of,
        };
        let mut tx = self.store.pool().begin().await?;
        credits::deduct_in(&mut tx, who, 1, "task submission").await?;
        let id = tasks::insert(&mut tx, &who.workspace_id, &new).await?;
        let task = tasks::get(&mut *tx, &who.workspace_id, &id).await?;
        tx.commit().await?;
        info!(task.id = %id, workflow = %new.workflow, "task queued");
        let data = json!({
            "task_id": id, "description": task.description, "workflow": task.workflow,
            "complexity": task.complexity, "status": "queued",
            "steps": new.plan.iter().map(|s| &s.role).collect::<Vec<_>>(),
        });
        self.publish2(&who.workspace_id, &id, "task_created", data)
            .await;
        self.wake.notify_one();
        Ok(task)
    }

    /// Queues a new task with the same description and workflow as an earlier one.
    pub async fn rerun(&self, who: &Principal, task_id: &str) -> Result<Task> {
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
        };
        self.queue(who, &req, Some(old.id)).await
    }

    /// Cancels a queued or running task; a running one stops its in-flight call at once.
    pub async fn cancel(&self, who: &Principal, task_id: &str) -> Result<Task> {
        who.require(MemberRole::Developer)?;
        let changed = tasks::cancel(&self.store, &who.workspace_id, task_id).await?;
        if !changed {
            let task = tasks::get(self.store.pool(), &who.workspace_id, task_id).await?;
            return Err(Error::Conflict(format!(
                "the task is already {}",
                task.status
            )));
        }
        if let Ok(running) = self.running.lock()
            && let Some(stop) = running.get(task_id)
        {
            let _ = stop.send(Stop::Cancel);
        }
        self.publish2(
            &who.workspace_id,
            task_id,
            "task_cancelled",
            json!({"task_id": task_id, "status": "cancelled"}),
        )
        .await;
        tasks::get(self.store.pool(), &who.workspace_id, task_id).await
    }

    /// Deletes a task that is not running.
    pub async fn delete(&self, who: &Principal, task_id: &str) -> Result<()> {
        who.require(MemberRole::Developer)?;
        tasks::delete(&self.store, &who.workspace_id, task_id).await?;
        let dir = self.config.work_root.join(task_id);
        if dir.starts_with(&self.config.work_root) && tokio::fs::metadata(&dir).await.is_ok() {
            let _ = tokio::fs::remove_dir_all(&dir).await;
        }
        Ok(())
    }

    /// Publishes on the task's topic and on the fleet topic.
    async fn publish2(
        &self,
        workspace_id: &str,
        task_id: &str,
        kind: &str,
        data: serde_json::Value,
    ) {
        self.publish(
            workspace_id,
            &events::task_topic(task_id),
            kind,
            data.clone(),
        )
        .await;
        self.publish(workspace_id, events::FLEET, kind, data).await;
    }

    async fn publish(&self, workspace_id: &str, topic: &str, kind: &str, data: serde_json::Value) {
        // Events are the live view; the task's rows are the record. A failed publish is logged
        // and the work goes on.
        if let Err(e) = self.bus.publish(workspace_id, topic, kind, data).await {
            error!(error = %e, topic, kind, "publishing an event failed");
        }
    }

    async fn worker(self: Arc<Self>, n: usize) {
        let worker_id = format!("{}-{n}", self.worker_prefix);
        let mut shutdown = self.shutdown.subscribe();
        let lease_ms = i64::try_from(self.config.lease.as_millis()).unwrap_or(15_000);
        loop {
            if *shutdown.borrow() {
                break;
            }
            match tasks::claim(&self.store, &worker_id, lease_ms).await {
                Ok(Some(task)) => self.run_task(&worker_id, task).await,
                Ok(None) => {
                    tokio::select! {
                        () = self.wake.notified() => {}
                        () = tokio::time::sleep(self.config.poll) => {}
                        _ = shutdown.changed() => {}
                    }
                }
                Err(e) => {
                    error!(error = %e, "claiming a task failed");
                    tokio::time::sleep(self.config.poll).await;
                }
            }
        }
    }

    async fn run_task(self: &Arc<Self>, worker: &str, task: Task) {
        info!(task.id = %task.id, attempt = task.attempts, "task started");
        let (stop_tx, stop_rx) = watch::channel(Stop::Run);
        if let Ok(mut running) = self.running.lock() {
            running.insert(task.id.clone(), stop_tx.clone());
        }
        let keeper = {
            let this = self.clone();
            let id = task.id.clone();
            let worker = worker.to_owned();
            tokio::spawn(async move {
                let lease_ms = i64::try_from(this.config.lease.as_millis()).unwrap_or(15_000);
                loop {
                    tokio::time::sleep(this.config.lease / 3).await;
                    match tasks::renew_lease(&this.store, &id, &worker, lease_ms).await {
                        Ok(true) => {}
                        Ok(false) => {
                            // Cancelled elsewhere or taken over: stop working on it.
                            let status = tasks::status(&this.store, &id).await.ok();
                            let _ = stop_tx.send(if status.as_deref() == Some("cancelled") {
                                Stop::Cancel
                            } else {
                                Stop::Lost
                            });
                            break;
                        }
                        Err(e) => warn!(error = %e, task.id = %id, "renewing a lease failed"),
                    }
                }
            })
        };
        let ws = task.workspace_id.clone();
        self.publish2(
            &ws,
            &task.id,
            "task_status",
            json!({"task_id": task.id, "status": "running", "attempt": task.attempts}),
        )
        .await;
        let result = self.run_steps(&task, stop_rx).await;
        keeper.abort();
        if let Ok(mut running) = self.running.lock() {
            running.remove(&task.id);
        }
        match result {
            Ok(()) => match tasks::finish(&self.store, &task.id, worker, "completed", None).await {
                Ok(true) => {
                    let t = tasks::get(self.store.pool(), &ws, &task.id).await.ok();
                    info!(task.id = %task.id, "task completed");
                    self.publish2(
                        &ws,
                        &task.id,
                        "task_completed",
                        json!({
                            "task_id": task.id, "status": "completed",
                            "cost_micros": t.as_ref().map_or(0, |t| t.cost_micros),
                            "prompt_tokens": t.as_ref().map_or(0, |t| t.prompt_tokens),
                            "completion_tokens": t.as_ref().map_or(0, |t| t.completion_tokens),
                        }),
                    )
                    .await;
                }
                Ok(false) => {}
                Err(e) => error!(error = %e, task.id = %task.id, "finishing a task failed"),
            },
            Err(Halt::Failed(message)) => {
                warn!(task.id = %task.id, error = %message, "task failed");
                match tasks::finish(&self.store, &task.id, worker, "failed", Some(&message)).await {
                    Ok(true) => {
                        self.publish2(
                            &ws,
                            &task.id,
                            "task_failed",
                            json!({"task_id": task.id, "status": "failed", "error": message}),
                        )
                        .await;
                    }
                    Ok(false) => {}
                    Err(e) => error!(error = %e, task.id = %task.id, "failing a task failed"),
                }
            }
            Err(Halt::Stopped(Stop::Shutdown)) => {
                info!(task.id = %task.id, "task re-queued for shutdown");
                if let Err(e) = tasks::requeue(&self.store, &task.id, worker).await {
                    error!(error = %e, task.id = %task.id, "re-queueing a task failed");
                }
            }
            // Cancel publishes its own terminal event; a lost lease belongs to another worker.
            Err(Halt::Stopped(_)) => {}
        }
    }

    async fn run_steps(&self, task: &Task, mut stop: watch::Receiver<Stop>) -> Result<(), Halt> {
        let plan = task.planned_steps();
        let done = tasks::completed_steps(&self.store, &task.id).await?;
        let workdir = tools::Workdir::open(self.config.work_root.join(&task.id))
            .await
            .map_err(|e| Halt::Failed(format!("cannot create the task directory: {e}")))?;
        let mut previous: Vec<(String, String)> = Vec::new();
        for (i, step) in plan.iter().enumerate() {
            let index = i64::try_from(i).unwrap_or(0);
            if let Some((_, role, output)) = done.iter().find(|(n, _, _)| *n == index) {
                previous.push((role.clone(), output.clone()));
                continue;
            }
            let state = *stop.borrow();
            if state != Stop::Run {
                return Err(Halt::Stopped(state));
            }
            let output = self
                .run_step(task, index, step, &previous, &workdir, &mut stop)
                .await?;
            previous.push((step.role.clone(), output));
        }
        Ok(())
    }

    /// The fallback chain of an agent: its own provider and model, then the workspace default.
    async fn targets(
        &self,
        workspace_id: &str,
        agent: &agents::Agent,
    ) -> Result<Vec<(Target, ProviderKind, Option<Price>)>> {
        let mut chain = Vec::new();
        let default_provider =
            settings::get(self.store.pool(), workspace_id, settings::DEFAULT_PROVIDER)
                .await?
                .and_then(|v| v.as_str().map(str::to_owned));
        let default_model = settings::get(self.store.pool(), workspace_id, settings::DEFAULT_MODEL)
            .await?
            .and_then(|v| v.as_str().map(str::to_owned));
        let mut candidates = vec![(agent.provider_id.clone(), agent.model.clone())];
        if let (Some(p), Some(m)) = (default_provider, default_model)
            && (Some(&p) != agent.provider_id.as_ref() || m != agent.model)
        {
            candidates.push((Some(p), m));
        }
        for (provider_id, model) in candidates {
            let (kind, provider) = match &provider_id {
                Some(id) => match crate::store::providers::get(&self.store, workspace_id, id).await
                {
                    Ok(p) => (ProviderKind::parse(&p.kind)?, Some(p)),
                    Err(Error::NotFound { .. }) => continue,
                    Err(e) => return Err(e),
                },
                None => (ProviderKind::Simulator, None),
            };
            let client: Arc<dyn providers::Provider> = match (&provider, kind) {
                (_, ProviderKind::Simulator) => Arc::new(Simulator::new(SimConfig::from_base_url(
                    provider.as_ref().and_then(|p| p.base_url.as_deref()),
                ))),
                (Some(p), _) => {
                    let base_url = p
                        .base_url
                        .clone()
                        .or_else(|| providers::default_base_url(kind).map(str::to_owned))
                        .ok_or_else(|| {
                            Error::invalid("base_url", "this provider needs a base URL")
                        })?;
                    let api_key = crate::store::providers::api_key(
                        &self.store,
                        &self.master_key,
                        workspace_id,
                        &p.id,
                    )
                    .await?;
                    providers::client_for(
                        kind,
                        Some(HttpConfig {
                            base_url: base_url.trim_end_matches('/').to_owned(),
                            api_key,
                            client: self.http.clone(),
                        }),
                    )
                }
                (None, _) => continue,
            };
            let price = prices::get(self.store.pool(), kind.as_str(), &model).await?;
            chain.push((
                Target {
                    provider: client,
                    model,
                },
                kind,
                price,
            ));
        }
        Ok(chain)
    }

    #[allow(
        clippy::too_many_lines,
        reason = "the agent loop reads best in one place"
    )]
    async fn run_step(
        &self,
        task: &Task,
        index: i64,
        step: &PlannedStep,
        previous: &[(String, String)],
        workdir: &tools::Workdir,
        stop: &mut watch::Receiver<Stop>,
    ) -> Result<String, Halt> {
        let ws = task.workspace_id.as_str();
        let agent = match agents::get(self.store.pool(), ws, &step.agent_id).await {
            Ok(a) => a,
            Err(Error::NotFound { .. }) => {
                return Err(Halt::Failed(format!(
                    "the {} agent {} was deleted",
                    step.role, step.agent_name
                )));
            }
            Err(e) => return Err(e.into()),
        };
        let role = Role::parse(&step.role)?;
        let complexity = if task.complexity == "complex" {
            Complexity::Complex
        } else {
            Complexity::Simple
        };
        let tool_specs = tools::specs();
        let system = workflow::system_prompt(
            &role,
            &agent.system_prompt,
            &agent.custom_instructions,
            complexity,
            true,
        );
        let input = workflow::step_input(&task.description, previous);
        let chain = self.targets(ws, &agent).await?;
        if chain.is_empty() {
            return Err(Halt::Failed(format!(
                "the {} agent has no usable provider",
                step.role
            )));
        }
        let context_window = chain[0].2.as_ref().map_or(0, |p| p.context_window);
        let run_id = tasks::start_step(
            &self.store,
            &StepStart {
                workspace_id: ws,
                task_id: &task.id,
                index,
                plan: step,
                system_prompt: &system,
                input: &input,
                context_window,
            },
        )
        .await?;
        let started = Instant::now();
        info!(task.id = %task.id, step = %step.role, "step started");
        self.publish2(
            ws,
            &task.id,
            "step_started",
            json!({
                "task_id": task.id, "index": index, "run_id": run_id, "role": step.role,
                "agent_id": agent.id, "agent_name": agent.name, "model": agent.model,
                "provider_kind": step.provider_kind,
                "simulated": step.provider_kind == ProviderKind::Simulator.as_str(),
                "context_window": context_window,
            }),
        )
        .await;

        let targets: Vec<Target> = chain.iter().map(|(t, _, _)| t.clone()).collect();
        let mut messages = vec![Message::user(input.clone())];
        let mut final_text = String::new();
        let topic = events::task_topic(&task.id);
        for turn in 0..self.config.max_turns {
            let request = ChatRequest {
                model: agent.model.clone(),
                system: system.clone(),
                messages: messages.clone(),
                temperature: agent.temperature,
                max_tokens: agent.max_tokens,
                tools: tool_specs.clone(),
            };
            let buffer = Arc::new(Mutex::new(String::new()));
            let flusher = {
                let buffer = buffer.clone();
                let bus = self.bus.clone();
                let (ws, topic) = (ws.to_owned(), topic.clone());
                let every = self.config.token_flush;
                tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(every).await;
                        flush(&bus, &ws, &topic, index, &buffer).await;
                    }
                })
            };
            let sink = {
                let buffer = buffer.clone();
                move |delta: &str| {
                    if let Ok(mut b) = buffer.lock() {
                        b.push_str(delta);
                    }
                }
            };
            let recorder = Recorder {
                runner: self,
                chain: &chain,
                ws,
                task_id: &task.id,
                run_id: &run_id,
                agent_id: &agent.id,
                topic: &topic,
                index,
                buffer: &buffer,
            };
            let record = |attempt: Attempt| recorder.record(attempt);
            let call = retry::complete(&targets, &request, &self.config.retry, &sink, record);
            let result = tokio::select! {
                r = call => r,
                state = wait_stop(stop) => {
                    flusher.abort();
                    return Err(Halt::Stopped(state));
                }
            };
            flusher.abort();
            flush(&self.bus, ws, &topic, index, &buffer).await;
            let completion = match result {
                Ok((_, c)) => c,
                Err(err) => {
                    let message = format!("{} failed: {}", step.role, err.message);
                    let conversation = serde_json::to_string(&messages).unwrap_or_default();
                    tasks::end_step(
                        &self.store,
                        ws,
                        &run_id,
                        &agent.id,
                        "failed",
                        &final_text,
                        &conversation,
                        Some(&message),
                    )
                    .await?;
                    self.publish2(ws, &task.id, "step_failed", json!({
                        "task_id": task.id, "index": index, "role": step.role,
                        "agent_id": agent.id, "error": message, "error_class": err.class.as_str(),
                    }))
                    .await;
                    return Err(Halt::Failed(message));
                }
            };
            if !completion.text.trim().is_empty() {
                final_text.clone_from(&completion.text);
            }
            let calls = completion.tool_calls.clone();
            messages.push(Message::assistant(completion.text, completion.tool_calls));
            if calls.is_empty() {
                break;
            }
            for call in &calls {
                let start = Instant::now();
                let outcome = workdir.call(&call.name, &call.arguments).await;
                let duration = i64::try_from(start.elapsed().as_millis()).unwrap_or(0);
                let input = call.arguments.to_string();
                tasks::record_tool_call(
                    &self.store,
                    ws,
                    &task.id,
                    &run_id,
                    &call.name,
                    &input,
                    &outcome.output,
                    outcome.ok,
                    duration,
                    outcome.effect.as_ref(),
                )
                .await?;
                self.publish(ws, &topic, "tool_call", json!({
                    "index": index, "tool": call.name, "input": call.arguments,
                    "output": excerpt(&outcome.output, 2000), "ok": outcome.ok, "duration_ms": duration,
                }))
                .await;
                if let Some(effect) = outcome.effect.as_ref().filter(|e| e.kind != "read") {
                    self.publish(
                        ws,
                        &topic,
                        "file_change",
                        json!({
                            "index": index, "path": effect.path, "change_kind": effect.kind,
                        }),
                    )
                    .await;
                }
                messages.push(Message::tool_result(call, outcome.output));
            }
            if turn + 1 == self.config.max_turns {
                final_text.push_str("\n\n(Stopped after the maximum number of turns.)");
            }
            if *stop.borrow() != Stop::Run {
                return Err(Halt::Stopped(*stop.borrow()));
            }
        }
        let conversation = serde_json::to_string(&messages).unwrap_or_default();
        tasks::end_step(
            &self.store,
            ws,
            &run_id,
            &agent.id,
            "completed",
            &final_text,
            &conversation,
            None,
        )
        .await?;
        let detail = tasks::detail(&self.store, ws, &task.id).await?;
        let view = detail.steps.iter().find(|s| s.index == index);
        info!(task.id = %task.id, step = %step.role, "step completed");
        self.publish2(
            ws,
            &task.id,
            "step_completed",
            json!({
                "task_id": task.id, "index": index, "role": step.role, "agent_id": agent.id,
                "prompt_tokens": view.map_or(0, |s| s.prompt_tokens),
                "completion_tokens": view.map_or(0, |s| s.completion_tokens),
                "cost_micros": view.map_or(0, |s| s.cost_micros),
                "duration_ms": i64::try_from(started.elapsed().as_millis()).unwrap_or(0),
                "output": excerpt(&final_text, 4000),
            }),
        )
        .await;
        Ok(final_text)
    }

    async fn cost_update(&self, ws: &str, task_id: &str, index: i64, delta: i64, usage: &Usage) {
        let task = tasks::get(self.store.pool(), ws, task_id).await.ok();
        let data = json!({
            "task_id": task_id, "index": index, "delta_micros": delta,
            "prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "task_cost_micros": task.as_ref().map_or(0, |t| t.cost_micros),
            "task_tokens": task.as_ref().map_or(0, |t| t.prompt_tokens + t.completion_tokens),
        });
        self.publish(
            ws,
            &events::task_topic(task_id),
            "cost_update",
            data.clone(),
        )
        .await;
        let mut totals = data;
        if let Ok(stats) = crate::analytics::dashboard(&self.store, ws, now_ms(), 1).await {
            totals["today_cost_micros"] = json!(stats.cost_today_micros);
            totals["today_tokens"] = json!(stats.tokens_today);
            totals["today_calls"] = json!(stats.calls_today);
        }
        self.publish(ws, events::COSTS, "cost_update", totals).await;
    }
}

/// Records each provider attempt of one step as it ends.
struct Recorder<'a> {
    runner: &'a Runner,
    chain: &'a [(Target, ProviderKind, Option<Price>)],
    ws: &'a str,
    task_id: &'a str,
    run_id: &'a str,
    agent_id: &'a str,
    topic: &'a str,
    index: i64,
    buffer: &'a Mutex<String>,
}

impl Recorder<'_> {
    async fn record(&self, attempt: Attempt) -> Attempt {
        let (kind, price) = self
            .chain
            .get(attempt.target)
            .map(|(_, k, p)| (*k, p.clone()))
            .unwrap_or((ProviderKind::Simulator, None));
        let (usage, estimated, error_class, ttft) = match &attempt.result {
            Ok(c) => (c.usage, c.usage.estimated, None, c.ttft_ms),
            Err(e) => (
                e.partial_usage.unwrap_or_default(),
                false,
                Some(e.class.as_str().to_owned()),
                None,
            ),
        };
        let cost = price.as_ref().map_or(0, |p| cost_of(p, &usage));
        let call = NewLlmCall {
            workspace_id: self.ws.to_owned(),
            task_id: Some(self.task_id.to_owned()),
            agent_run_id: Some(self.run_id.to_owned()),
            agent_id: Some(self.agent_id.to_owned()),
            provider_kind: kind.as_str().to_owned(),
            model: attempt.model.clone(),
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            cached_tokens: usage.cached_tokens,
            reasoning_tokens: usage.reasoning_tokens,
            usage_estimated: estimated,
            cost_micros: cost,
            latency_ms: attempt.latency_ms,
            ttft_ms: ttft,
            success: attempt.result.is_ok(),
            error_class: error_class.clone(),
            attempt: i64::from(attempt.number),
            created_at: attempt.started_at,
        };
        let context = usage.prompt_tokens + usage.completion_tokens;
        if let Err(e) = tasks::record_call(&self.runner.store, &call, context).await {
            error!(error = %e, task.id = %self.task_id, "recording an LLM call failed");
        }
        if let Some(class) = &error_class {
            // The partial stream of a failed attempt is not part of the answer.
            if let Ok(mut b) = self.buffer.lock() {
                b.clear();
            }
            self.runner
                .publish(
                    self.ws,
                    self.topic,
                    "step_retry",
                    json!({
                        "index": self.index, "attempt": attempt.number, "error_class": class,
                        "model": attempt.model,
                    }),
                )
                .await;
        }
        self.runner
            .cost_update(self.ws, self.task_id, self.index, cost, &usage)
            .await;
        attempt
    }
}

/// The price of a call: uncached prompt, cached prompt and completion tokens at their rates.
pub fn cost_of(price: &Price, usage: &Usage) -> i64 {
    let cached = usage.cached_tokens.clamp(0, usage.prompt_tokens.max(0));
    let fresh = usage.prompt_tokens.max(0) - cached;
    Money::for_tokens(fresh, price.input_per_mtok_micros).0
        + Money::for_tokens(cached, price.cached_input_per_mtok_micros).0
        + Money::for_tokens(usage.completion_tokens, price.output_per_mtok_micros).0
}

async fn wait_stop(stop: &mut watch::Receiver<Stop>) -> Stop {
    loop {
        let state = *stop.borrow_and_update();
        if state != Stop::Run {
            return state;
        }
        if stop.changed().await.is_err() {
            // The sender is gone only when the task's run ended; never resolve then.
            std::future::pending::<()>().await;
        }
    }
}

async fn flush(bus: &EventBus, ws: &str, topic: &str, index: i64, buffer: &Mutex<String>) {
    let text = match buffer.lock() {
        Ok(mut b) if !b.is_empty() => std::mem::take(&mut *b),
        _ => return,
    };
    if let Err(e) = bus
        .publish(ws, topic, "token", json!({"index": index, "text": text}))
        .await
    {
        error!(error = %e, "publishing tokens failed");
    }
}

fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut out: String = text.chars().take(max).collect();
        out.push('…');
        out
    }
}

/// Exactly what an agent would receive for a task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PromptPreview {
    /// `simple` or `complex`, as estimated from the task.
    pub complexity: String,
    /// The system prompt.
    pub system_prompt: String,
    /// The first user message (as the first step of a workflow).
    pub user_message: String,
    /// Estimated prompt tokens of both.
    pub tokens: i64,
}

/// The prompt preview of a stored agent for `task`.
pub async fn prompt_preview(
    store: &Store,
    workspace_id: &str,
    agent_id: &str,
    task: &str,
) -> Result<PromptPreview> {
    let agent = agents::get(store.pool(), workspace_id, agent_id).await?;
    preview_for(
        &agent.role,
        &agent.system_prompt,
        &agent.custom_instructions,
        task,
    )
}

/// The prompt preview of an agent being edited (not yet saved).
pub fn preview_for(
    role: &str,
    system_prompt: &str,
    custom_instructions: &str,
    task: &str,
) -> Result<PromptPreview> {
    let role = Role::parse(role)?;
    let task = if task.trim().is_empty() {
        "(the task description goes here)"
    } else {
        task
    };
    let complexity = workflow::estimate_complexity(task);
    let system =
        workflow::system_prompt(&role, system_prompt, custom_instructions, complexity, true);
    let user = workflow::step_input(task, &[]);
    Ok(PromptPreview {
        complexity: complexity.as_str().to_owned(),
        tokens: providers::estimate_tokens(&system) + providers::estimate_tokens(&user),
        system_prompt: system,
        user_message: user,
    })
}

/// A task's conversations as one Markdown document (the viewer's "export as Markdown").
pub fn conversation_markdown(task: &Task, runs: &[tasks::RunConversation]) -> String {
    let mut out = format!(
        "# Task {}\n\n{}\n\n- Workflow: {}\n- Status: {}\n- Cost: {}\n- Tokens: {} prompt, {} completion\n",
        task.id,
        task.description,
        task.workflow,
        task.status,
        Money(task.cost_micros),
        task.prompt_tokens,
        task.completion_tokens
    );
    for run in runs {
        out.push_str(&format!(
            "\n## Step {} — {} ({}, {}{})\n\n### System\n\n{}\n",
            run.step_index + 1,
            run.role,
            run.agent_name,
            run.model,
            if run.provider_kind == "simulator" {
                ", simulated"
            } else {
                ""
            },
            run.system_prompt
        ));
        let messages: Vec<Message> = serde_json::from_str(&run.conversation).unwrap_or_default();
        for m in messages {
            let who = match m.role {
                providers::MessageRole::User => "User",
                providers::MessageRole::Assistant => "Assistant",
                providers::MessageRole::Tool => "Tool result",
            };
            out.push_str(&format!("\n### {who}\n\n{}\n", m.content.trim()));
            for call in &m.tool_calls {
                let args = serde_json::to_string_pretty(&call.arguments).unwrap_or_default();
                out.push_str(&format!(
                    "\n**Tool call** `{}`\n\n```json\n{args}\n```\n",
                    call.name
                ));
            }
        }
    }
    out
}

/// The result of "test connection".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderCheck {
    /// Whether the provider answered with a complete reply.
    pub ok: bool,
    /// The model asked.
    pub model: String,
    /// Wall time of the call.
    pub latency_ms: i64,
    /// The reply (short) or why it failed (`auth`, `rate_limited`, … and an excerpt).
    pub message: String,
    /// The error class when it failed.
    pub error_class: Option<String>,
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
        who: &Principal,
        provider_id: &str,
        model: Option<String>,
    ) -> Result<ProviderCheck> {
        who.require(MemberRole::Admin)?;
        let provider =
            crate::store::providers::get(&self.store, &who.workspace_id, provider_id).await?;
        let kind = ProviderKind::parse(&provider.kind)?;
        let model = model
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| probe_model(kind).to_owned());
        let client: Arc<dyn providers::Provider> = if kind == ProviderKind::Simulator {
            Arc::new(Simulator::new(SimConfig::from_base_url(
                provider.base_url.as_deref(),
            )))
        } else {
            let base_url = provider
                .base_url
                .clone()
                .or_else(|| providers::default_base_url(kind).map(str::to_owned))
                .ok_or_else(|| Error::invalid("base_url", "this provider needs a base URL"))?;
            let api_key = crate::store::providers::api_key(
                &self.store,
                &self.master_key,
                &who.workspace_id,
                provider_id,
            )
            .await?;
            providers::client_for(
                kind,
                Some(HttpConfig {
                    base_url: base_url.trim_end_matches('/').to_owned(),
                    api_key,
                    client: self.http.clone(),
                }),
            )
        };
        let request = ChatRequest {
            model: model.clone(),
            system: "You are a connection test. Reply with the single word OK.".into(),
            messages: vec![Message::user("Say OK.")],
            temperature: 0.0,
            max_tokens: 8,
            tools: Vec::new(),
        };
        let start = Instant::now();
        let result =
            tokio::time::timeout(Duration::from_secs(20), client.complete(&request, &|_| {})).await;
        let latency_ms = i64::try_from(start.elapsed().as_millis()).unwrap_or(0);
        Ok(match result {
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
        })
    }
}
