//! The recording of every provider attempt of a step: each attempt becomes one `llm_calls`
//! row — under the provider and model that actually answered (or failed) — in one transaction
//! with its step's and task's counters, the events that announce it and the settlement of its
//! budgets' hold. A record that cannot be written fails the step after a short retry:
//! accounting is never silently dropped.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::json;
use tokio::sync::Notify;
use tracing::error;

use super::budget;
use super::chain::Link;
use super::step::{StepRun, cost_of};
use super::{Halt, excerpt};
use crate::Error;
use crate::domain::ProviderKind;
use crate::events::Outgoing;
use crate::providers::Usage;
use crate::providers::retry::Attempt;
use crate::store::llm_calls::NewLlmCall;
use crate::store::runs::{self, Answered};
use wire::events::EventKind;

/// Records each provider attempt of one step as it ends.
pub(super) struct Recorder<'a> {
    pub(super) step: &'a StepRun<'a>,
    pub(super) chain: &'a [Link],
    pub(super) run_id: &'a str,
    pub(super) agent_id: &'a str,
    pub(super) topic: &'a str,
    pub(super) buffer: &'a Mutex<String>,
    /// Failed attempts so far, by target: what the fallback note says.
    pub(super) failures: Mutex<Vec<(usize, String)>>,
    /// Set when an attempt could not be recorded (or the lease was lost): the step must stop.
    pub(super) failed: Mutex<Option<Halt>>,
    pub(super) failed_signal: Notify,
    /// The budgets' hold of the attempt under way, settled by its record.
    pub(super) held: Mutex<Option<crate::budgets::enforce::Reservation>>,
}

/// Tries to write a record this many times before the step fails.
const RECORD_TRIES: u32 = 3;

impl Recorder<'_> {
    pub(super) fn take_failure(&self) -> Option<Halt> {
        self.failed.lock().ok().and_then(|mut f| f.take())
    }

    /// "openai/gpt-4o: auth (HTTP 401 …) → fell back to simulator/sim-standard".
    pub(super) fn fallback_note(&self, answered: usize) -> Option<String> {
        if answered == 0 {
            return None;
        }
        let failures = self.failures.lock().ok()?;
        let mut parts: Vec<String> = Vec::new();
        for (i, link) in self.chain.iter().enumerate().take(answered) {
            let why = failures
                .iter()
                .rev()
                .find(|(t, _)| *t == i)
                .map_or_else(|| "failed".to_owned(), |(_, w)| w.clone());
            parts.push(format!("{}: {why}", link.label()));
        }
        Some(format!(
            "{} → fell back to {}",
            parts.join("; "),
            self.chain
                .get(answered)
                .map(Link::label)
                .unwrap_or_default()
        ))
    }

    pub(super) async fn record(&self, attempt: Attempt) -> Attempt {
        let step = self.step;
        let ws = step.task.workspace_id.as_str();
        let link = self.chain.get(attempt.target);
        let (kind, price, provider_id) = link.map_or((ProviderKind::Simulator, None, None), |l| {
            (l.kind, l.price.clone(), l.provider_id.clone())
        });
        let (usage, error_class) = match &attempt.result {
            Ok(c) => (c.usage, None),
            Err(e) => (
                e.partial_usage.unwrap_or_default(),
                Some(e.class.as_str().to_owned()),
            ),
        };
        let ttft = attempt.result.as_ref().ok().and_then(|c| c.ttft_ms);
        let cost = price.as_ref().map_or(0, |p| cost_of(p, &usage));
        let call = NewLlmCall {
            workspace_id: ws.to_owned(),
            task_id: Some(step.task.id.clone()),
            agent_run_id: Some(self.run_id.to_owned()),
            agent_id: Some(self.agent_id.to_owned()),
            role: step.step.role.clone(),
            workflow: step.task.workflow.clone(),
            provider_id: provider_id.clone(),
            provider_kind: kind.as_str().to_owned(),
            model: attempt.model.clone(),
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            cached_tokens: usage.cached_tokens,
            reasoning_tokens: usage.reasoning_tokens,
            cache_write_tokens: usage.cache_write_tokens,
            usage_estimated: usage.estimated,
            cost_micros: cost,
            price_known: price.is_some(),
            latency_ms: attempt.latency_ms,
            ttft_ms: ttft,
            success: attempt.result.is_ok(),
            error_class: error_class.clone(),
            attempt: i64::from(attempt.number),
            created_at: attempt.started_at,
            source: String::new(),
            ..NewLlmCall::default()
        };
        if let Err(e) = &attempt.result
            && let Ok(mut f) = self.failures.lock()
        {
            f.push((
                attempt.target,
                format!("{} ({})", e.class.as_str(), excerpt(&e.message, 120)),
            ));
        }
        let note = attempt
            .result
            .is_ok()
            .then(|| self.fallback_note(attempt.target))
            .flatten();
        let answered = attempt.result.is_ok().then_some(Answered {
            provider_id: provider_id.as_deref(),
            fallback_note: note.as_deref(),
        });
        let events = self.events(
            &attempt,
            &usage,
            cost,
            price.is_some(),
            error_class.as_deref(),
        );
        let context = usage.prompt_tokens + usage.completion_tokens;
        let runner = step.runner;
        let reservation = self.held.lock().ok().and_then(|mut h| h.take());
        let mut tries = 0;
        loop {
            tries += 1;
            match runs::record_call(
                &runner.store,
                step.lease,
                &call,
                context,
                answered,
                events.clone(),
                reservation.clone(),
            )
            .await
            {
                Ok((_, stored)) => {
                    runner.bus.broadcast(&stored);
                    runner.totals.add(
                        ws,
                        super::totals::Delta {
                            cost_micros: cost,
                            prompt_tokens: usage.prompt_tokens,
                            completion_tokens: usage.completion_tokens,
                            calls: 1,
                            unpriced_calls: i64::from(price.is_none()),
                        },
                    );
                    break;
                }
                Err(e @ Error::LeaseLost(_)) => {
                    budget::release(&runner.store, reservation.clone()).await;
                    self.fail(e.into());
                    break;
                }
                Err(e) if tries < RECORD_TRIES => {
                    error!(error = %e, task.id = %step.task.id, tries, "recording an LLM call failed; retrying");
                    tokio::time::sleep(Duration::from_millis(50 * u64::from(tries * tries))).await;
                }
                Err(e) => {
                    budget::release(&runner.store, reservation.clone()).await;
                    error!(error = %e, task.id = %step.task.id, "recording an LLM call failed; the step fails");
                    self.fail(Halt::Failed(
                        "a model call could not be recorded (database error); the step was stopped \
                         so that no usage goes unaccounted"
                            .to_owned(),
                    ));
                    break;
                }
            }
        }
        if error_class.is_some() {
            // The partial stream of a failed attempt is not part of the answer.
            if let Ok(mut b) = self.buffer.lock() {
                b.clear();
            }
        }
        if let Ok(mut totals) = self.step.totals.lock() {
            totals.0 += cost;
            totals.1 += usage.prompt_tokens + usage.completion_tokens;
        }
        attempt
    }

    pub(super) fn fail(&self, halt: Halt) {
        if let Ok(mut f) = self.failed.lock()
            && f.is_none()
        {
            *f = Some(halt);
        }
        self.failed_signal.notify_one();
    }

    /// The events announcing one recorded attempt: the text streamed since the last flush, a
    /// retry notice when it failed, and the cost delta on the task's topic.
    pub(super) fn events(
        &self,
        attempt: &Attempt,
        usage: &Usage,
        cost: i64,
        price_known: bool,
        error_class: Option<&str>,
    ) -> Vec<Outgoing> {
        let step = self.step;
        let (task_cost, task_tokens) = step.totals.lock().map_or((0, 0), |t| {
            (
                t.0 + cost,
                t.1 + usage.prompt_tokens + usage.completion_tokens,
            )
        });
        let mut out = Vec::with_capacity(4);
        if error_class.is_none() {
            // The text streamed since the last flush goes out with the record: no extra write.
            let text = self
                .buffer
                .lock()
                .map(|mut b| std::mem::take(&mut *b))
                .unwrap_or_default();
            if !text.is_empty() {
                out.push(Outgoing::new(
                    self.topic,
                    EventKind::Token,
                    json!({"index": step.index, "text": text}),
                ));
            }
        }
        if let Some(class) = error_class {
            out.push(Outgoing::new(
                self.topic,
                EventKind::StepRetry,
                json!({
                    "index": step.index, "attempt": attempt.number, "error_class": class,
                    "model": attempt.model,
                }),
            ));
        }
        let data = json!({
            "task_id": step.task.id, "index": step.index, "delta_micros": cost,
            "price_known": price_known, "success": attempt.result.is_ok(),
            "prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "task_cost_micros": task_cost, "task_tokens": task_tokens,
        });
        // The `costs` topic gets the workspace's deltas in batches (see `totals`).
        out.push(Outgoing::new(self.topic, EventKind::CostUpdate, data));
        out
    }
}
