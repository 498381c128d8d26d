//! One step of a task: the agent loop.
//!
//! The loop sends the system prompt, the task and the earlier steps' outputs to the model,
//! executes the tool calls it asks for in the task's directory, and repeats until the model
//! answers without tools. Before each attempt its worst case is held on the budgets that apply
//! (`budget.rs`); every attempt is recorded by [`super::recorder::Recorder`].

use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::json;
use tokio::sync::{Notify, watch};
use tracing::{error, info};

use super::budget;
use super::chain::{Link, Resolver};
use super::recorder::Recorder;
use super::{Halt, Runner, Stop, both_topics, excerpt, tools, workflow};
use crate::domain::{Money, ProviderKind, Role};
use crate::events::{self, Outgoing};
use crate::providers::retry::{self, Attempt, Target};
use crate::providers::{ChatRequest, Message, Usage};
use crate::store::agents;
use crate::store::prices::Price;
use crate::store::queue::Lease;
use crate::store::runs::{self, NewToolCall, StepEnd, StepStart};
use crate::store::tasks::{PlannedStep, Task};
use crate::{Error, Result};
use wire::events::EventKind;

/// One step being run by a worker that holds `lease`.
pub(super) struct StepRun<'a> {
    pub runner: &'a Runner,
    pub task: &'a Task,
    pub lease: &'a Lease,
    pub index: i64,
    pub step: &'a PlannedStep,
    /// The task's running cost and tokens, for the live totals (no re-read per call).
    pub totals: &'a Mutex<(i64, i64)>,
    /// The step's run from an earlier claim, restarted rather than made again.
    pub existing_run: Option<String>,
}

impl StepRun<'_> {
    #[allow(
        clippy::too_many_lines,
        reason = "the agent loop reads best in one place"
    )]
    pub async fn run(
        &self,
        previous: &[(String, String)],
        workdir: &tools::Workdir,
        stop: &mut watch::Receiver<Stop>,
    ) -> Result<String, Halt> {
        let (runner, task, step, index) = (self.runner, self.task, self.step, self.index);
        let ws = task.workspace_id.as_str();
        // The step's lookups share one pooled connection: each acquire and release of a pooled
        // connection costs more than the small query itself.
        let mut conn = runner.store.pool().acquire().await.map_err(Error::from)?;
        let mut agent = match agents::get(&mut *conn, ws, &step.agent_id).await {
            Ok(a) => a,
            Err(Error::NotFound { .. }) => {
                return Err(Halt::Failed(format!(
                    "the {} agent {} was deleted",
                    step.role, step.agent_name
                )));
            }
            Err(e) => return Err(e.into()),
        };
        // A playground run: what it changes of its agent, for this run only.
        let overrides = task.run_overrides();
        if let Some(o) = &overrides {
            if let Some(pid) = &o.persona_id {
                match crate::store::personas::get(&mut *conn, ws, pid).await {
                    Ok(p) if p.agent_id == agent.id => agent.wear(&p),
                    Ok(_) | Err(Error::NotFound { .. }) => {
                        return Err(Halt::Failed(
                            "the persona chosen for this run was deleted".to_owned(),
                        ));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            apply(&mut agent, o);
        }
        // The schema may have changed since the task was accepted.
        if let Some(schema) = &agent.input_schema {
            crate::schemas::check_input(&agent.name, schema, &task.description)
                .map_err(Halt::Failed)?;
        }
        let role = Role::parse(&step.role)?;
        // The file tools the agent is offered (its choice; none: it answers from the prompt).
        let offered = agent.tool_list();
        let knowledge = crate::store::knowledge::for_prompt(&mut *conn, &agent.id).await?;
        let complexity = if task.complexity == "complex" {
            workflow::Complexity::Complex
        } else {
            workflow::Complexity::Simple
        };
        let system = workflow::system_prompt(
            &role,
            &agent.system_prompt,
            &agent.custom_instructions,
            agent.persona(),
            &knowledge,
            complexity,
            !offered.is_empty(),
        );
        let input = workflow::step_input(&task.description, previous);
        let resolver = Resolver {
            master_key: &runner.master_key,
            http: &runner.http,
        };
        let chain = match resolver.chain(&mut conn, ws, &agent).await? {
            Ok(chain) if !chain.is_empty() => chain,
            Ok(_) => {
                return Err(Halt::Failed(format!(
                    "the {} agent has no usable provider",
                    step.role
                )));
            }
            Err(reason) => return Err(Halt::Failed(reason)),
        };
        let primary = &chain[0];
        let context_window = primary.price.as_ref().map_or(0, |p| p.context_window);
        let planned = PlannedStep {
            provider_kind: primary.kind.as_str().to_owned(),
            model: primary.target.model.clone(),
            ..step.clone()
        };
        let fallbacks: Vec<String> = chain[1..].iter().map(Link::label).collect();
        drop(conn);
        let existing = self.existing_run.clone();
        let (run_id, stored) = runs::start_step_known(
            &runner.store,
            self.lease,
            &StepStart {
                workspace_id: ws,
                task_id: &task.id,
                index,
                plan: &planned,
                system_prompt: &system,
                input: &input,
                context_window,
                versioned: !overrides.as_ref().is_some_and(|o| o.changes_prompt()),
                persona: agent.persona_name.as_deref(),
            },
            existing,
            |run_id| {
                both_topics(
                    &task.id,
                    EventKind::StepStarted,
                    json!({
                        "task_id": task.id, "index": index, "run_id": run_id, "role": step.role,
                        "agent_id": agent.id, "agent_name": agent.name, "persona": agent.persona_name,
                        "model": primary.target.model, "provider_kind": primary.kind.as_str(),
                        "simulated": primary.kind == ProviderKind::Simulator,
                        "fallbacks": fallbacks, "context_window": context_window,
                    }),
                )
            },
        )
        .await?;
        runner.bus.broadcast(&stored);
        let started = Instant::now();
        info!(task.id = %task.id, step = %step.role, "step started");

        let targets: Vec<Target> = chain.iter().map(|l| l.target.clone()).collect();
        // Whose budgets the step's calls count against.
        let spender = crate::budgets::enforce::Spender {
            agent_id: Some(agent.id.clone()),
            user_id: task.created_by.clone(),
            api_key_id: None,
            task_id: Some(task.id.clone()),
        };
        let tool_specs: Vec<_> = tools::specs()
            .into_iter()
            .filter(|t| offered.contains(&t.name))
            .collect();
        // JSON mode where the agent has an output schema (checked on save: it parses).
        let response_schema: Option<serde_json::Value> = agent
            .output_schema
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok());
        let mut messages = vec![Message::user(input.clone())];
        let mut final_text = String::new();
        let topic = events::task_topic(&task.id);
        let mut answered_by: Option<usize> = None;
        for turn in 0..runner.config.max_turns {
            let request = ChatRequest {
                model: agent.model.clone(),
                system: system.clone(),
                messages: messages.clone(),
                temperature: agent.effective_temperature(),
                max_tokens: agent.max_tokens,
                tools: tool_specs.clone(),
                response_schema: response_schema.clone(),
            };
            let buffer = Arc::new(Mutex::new(String::new()));
            let flusher = {
                let buffer = buffer.clone();
                let bus = runner.bus.clone();
                let (ws, topic, lease) = (ws.to_owned(), topic.clone(), self.lease.clone());
                let every = runner.config.token_flush;
                tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(every).await;
                        flush(&bus, &ws, &lease, &topic, index, &buffer).await;
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
                step: self,
                chain: &chain,
                run_id: &run_id,
                agent_id: &agent.id,
                topic: &topic,
                buffer: &buffer,
                failures: Mutex::new(Vec::new()),
                failed: Mutex::new(None),
                failed_signal: Notify::new(),
                held: Mutex::new(None),
            };
            // Each attempt first holds its worst case on the budgets that apply.
            let gate = |target: usize, sent: &ChatRequest| {
                let price = chain.get(target).and_then(|l| l.price.as_ref());
                let worst = budget::worst_cost(price, sent);
                let (recorder, spender) = (&recorder, &spender);
                async move {
                    match budget::hold(&runner.store, ws, spender, worst).await {
                        Ok(reservation) => {
                            if let Ok(mut held) = recorder.held.lock() {
                                *held = Some(reservation);
                            }
                            Ok(())
                        }
                        Err(Ok(refused)) => Err(refused),
                        Err(Err(e)) => {
                            recorder.fail(e.into());
                            Err(crate::providers::ProviderError::new(
                                crate::providers::ErrorClass::Cancelled,
                                "budgets could not be checked",
                            ))
                        }
                    }
                }
            };
            let record = |attempt: Attempt| recorder.record(attempt);
            // Stop on a cancel or shutdown, or as soon as an attempt could not be recorded.
            let stopping = {
                let mut stop = stop.clone();
                let signal = &recorder.failed_signal;
                async move {
                    tokio::select! {
                        _ = wait_stop(&mut stop) => {}
                        () = signal.notified() => {}
                    }
                }
            };
            let result = retry::complete(
                &targets,
                &request,
                &runner.config.retry,
                &sink,
                gate,
                record,
                stopping,
            )
            .await;
            flusher.abort();
            // A hold whose attempt was never recorded (none should be) is given back.
            let left = recorder.held.lock().ok().and_then(|mut h| h.take());
            budget::release(&runner.store, left).await;
            if let Some(halt) = recorder.take_failure() {
                return Err(halt);
            }
            let state = *stop.borrow();
            if state != Stop::Run {
                return Err(Halt::Stopped(state));
            }
            // What was streamed since the last flush went out with the call's record.
            let completion = match result {
                Ok((target, c)) => {
                    answered_by = Some(target);
                    c
                }
                Err(err) => {
                    let message = format!("{} failed: {}", step.role, err.message);
                    let failed = Failed {
                        run_id: &run_id,
                        agent_id: &agent.id,
                        output: &final_text,
                        messages: &messages,
                        class: err.class.as_str(),
                    };
                    return Err(self.fail(failed, message).await?);
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
            // Run the turn's tools, then record them all with their events in one transaction.
            let mut done = Vec::with_capacity(calls.len());
            for call in &calls {
                let start = Instant::now();
                let outcome = workdir.call(&call.name, &call.arguments).await;
                let duration = i64::try_from(start.elapsed().as_millis()).unwrap_or(0);
                done.push((call, call.arguments.to_string(), outcome, duration));
            }
            let mut out = Vec::with_capacity(done.len() * 2);
            for (call, _, outcome, duration) in &done {
                out.push(Outgoing::new(
                    topic.clone(),
                    EventKind::ToolCall,
                    json!({
                        "index": index, "tool": call.name, "input": call.arguments,
                        "output": excerpt(&outcome.output, 2000), "ok": outcome.ok,
                        "duration_ms": duration,
                    }),
                ));
                if let Some(effect) = outcome.effect.as_ref().filter(|e| e.kind != "read") {
                    out.push(Outgoing::new(
                        topic.clone(),
                        EventKind::FileChange,
                        json!({"index": index, "path": effect.path, "change_kind": effect.kind}),
                    ));
                }
            }
            let records: Vec<NewToolCall<'_>> = done
                .iter()
                .map(|(call, input, outcome, duration)| NewToolCall {
                    workspace_id: ws,
                    run_id: &run_id,
                    tool: &call.name,
                    input,
                    output: &outcome.output,
                    ok: outcome.ok,
                    duration_ms: *duration,
                    effect: outcome.effect.as_ref(),
                })
                .collect();
            let stored =
                runs::record_tool_calls(&runner.store, self.lease, &records, ws, out).await?;
            runner.bus.broadcast(&stored);
            for (call, _, outcome, _) in done {
                messages.push(Message::tool_result(call, outcome.output));
            }
            if turn + 1 == runner.config.max_turns {
                final_text.push_str("\n\n(Stopped after the maximum number of turns.)");
            }
            let state = *stop.borrow();
            if state != Stop::Run {
                return Err(Halt::Stopped(state));
            }
        }
        // An output schema: the answer must be JSON that keeps it, or the step fails naming
        // the path and the rule.
        if let Some(Err(why)) = agent
            .output_schema
            .as_ref()
            .map(|schema| crate::schemas::check_output(schema, &final_text))
        {
            let failed = Failed {
                run_id: &run_id,
                agent_id: &agent.id,
                output: &final_text,
                messages: &messages,
                class: "output_schema",
            };
            return Err(self
                .fail(failed, format!("{} failed: {why}", step.role))
                .await?);
        }
        let conversation = serde_json::to_string(&messages).unwrap_or_default();
        // The step's totals as recorded (a resumed step includes its earlier attempts' calls).
        let detail = crate::store::tasks::detail(&runner.store, ws, &task.id).await?;
        let view = detail.steps.iter().find(|s| s.index == index);
        let answered = answered_by.and_then(|i| chain.get(i)).unwrap_or(primary);
        let fallback_note = answered_by
            .filter(|i| *i > 0)
            .and_then(|_| view.and_then(|s| s.fallback_note.clone()));
        let stored = runs::end_step(
            &runner.store,
            self.lease,
            StepEnd {
                run_id: &run_id,
                status: "completed",
                output: &final_text,
                conversation: &conversation,
                error: None,
            },
            ws,
            both_topics(
                &task.id,
                EventKind::StepCompleted,
                json!({
                    "task_id": task.id, "index": index, "role": step.role, "agent_id": agent.id,
                    "provider_kind": answered.kind.as_str(), "model": answered.target.model,
                    "simulated": answered.kind == ProviderKind::Simulator,
                    "fallback_note": fallback_note,
                    "price_known": view.is_none_or(|s| s.price_known),
                    "prompt_tokens": view.map_or(0, |s| s.prompt_tokens),
                    "completion_tokens": view.map_or(0, |s| s.completion_tokens),
                    "cost_micros": view.map_or(0, |s| s.cost_micros),
                    "duration_ms": i64::try_from(started.elapsed().as_millis()).unwrap_or(0),
                    "output": excerpt(&final_text, 4000),
                }),
            ),
        )
        .await?;
        runner.bus.broadcast(&stored);
        info!(task.id = %task.id, step = %step.role, provider = %answered.label(), "step completed");
        Ok(final_text)
    }
}

/// A playground run's changes, onto its agent. A run on another provider or model tries only
/// that target: the agent's fallbacks would blur a comparison of models.
fn apply(agent: &mut agents::Agent, o: &wire::runs::RunOverrides) {
    if let Some(p) = &o.system_prompt {
        agent.system_prompt.clone_from(p);
    }
    if let Some(c) = &o.custom_instructions {
        agent.custom_instructions.clone_from(c);
    }
    if o.provider_id.is_some() || o.model.is_some() {
        agent.fallbacks = "[]".to_owned();
    }
    if let Some(p) = &o.provider_id {
        agent.provider_id = Some(p.clone());
    }
    if let Some(m) = &o.model {
        agent.model.clone_from(m);
    }
    if let Some(t) = o.temperature {
        // Chosen for this run: it wins over the persona's too.
        agent.temperature = t;
        agent.persona_temperature = None;
    }
    if let Some(m) = o.max_tokens {
        agent.max_tokens = m;
    }
}

/// A started step that failed: what its end records.
struct Failed<'a> {
    run_id: &'a str,
    agent_id: &'a str,
    output: &'a str,
    messages: &'a [Message],
    /// `error_class` of the `step_failed` event.
    class: &'a str,
}

impl StepRun<'_> {
    /// Ends a started step as failed with `message` (its run, conversation and `step_failed`
    /// event stored together) and returns the halt that fails the task.
    async fn fail(&self, failed: Failed<'_>, message: String) -> Result<Halt, Halt> {
        let (task, index) = (self.task, self.index);
        let conversation = serde_json::to_string(failed.messages).unwrap_or_default();
        let stored = runs::end_step(
            &self.runner.store,
            self.lease,
            StepEnd {
                run_id: failed.run_id,
                status: "failed",
                output: failed.output,
                conversation: &conversation,
                error: Some(&message),
            },
            &task.workspace_id,
            both_topics(
                &task.id,
                EventKind::StepFailed,
                json!({
                    "task_id": task.id, "index": index, "role": self.step.role,
                    "agent_id": failed.agent_id, "error": message,
                    "error_class": failed.class,
                }),
            ),
        )
        .await?;
        self.runner.bus.broadcast(&stored);
        Ok(Halt::Failed(message))
    }
}

/// The price of a call: uncached prompt, cached prompt and completion tokens at their rates.
pub fn cost_of(price: &Price, usage: &Usage) -> i64 {
    let prompt = usage.prompt_tokens.max(0);
    let cached = usage.cached_tokens.clamp(0, prompt);
    let written = usage.cache_write_tokens.clamp(0, prompt - cached);
    let fresh = prompt - cached - written;
    // Without a cache-write price, writes are billed as fresh input (what providers without
    // a surcharge do).
    let write_price = price
        .cache_write_per_mtok_micros
        .unwrap_or(price.input_per_mtok_micros);
    Money::for_tokens(fresh, price.input_per_mtok_micros).0
        + Money::for_tokens(cached, price.cached_input_per_mtok_micros).0
        + Money::for_tokens(written, write_price).0
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

/// Publishes the streamed text gathered since the last flush as one `token` event.
async fn flush(
    bus: &events::EventBus,
    ws: &str,
    lease: &Lease,
    topic: &str,
    index: i64,
    buffer: &Mutex<String>,
) {
    let text = match buffer.lock() {
        Ok(mut b) if !b.is_empty() => std::mem::take(&mut *b),
        _ => return,
    };
    let event = Outgoing::new(
        topic,
        EventKind::Token,
        json!({"index": index, "text": text}),
    );
    match bus.publish_fenced(ws, lease, vec![event]).await {
        // A lost lease is noticed by the step's own next write.
        Ok(_) | Err(Error::LeaseLost(_)) => {}
        Err(e) => error!(error = %e, "publishing tokens failed"),
    }
}
