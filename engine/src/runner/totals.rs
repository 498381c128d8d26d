//! Live cost totals: the `costs` topic carries deltas, gathered for a moment and published
//! together.
//!
//! Every recorded call changes the workspace's running totals. Publishing a `costs` event per
//! call would make the topic's counter row a lock every worker's record transaction waits for
//! (on Postgres, workers would take turns), so calls add their delta here and a ticker
//! publishes one `cost_update` per workspace every [`TICK`] with the sum. Viewers add the deltas
//! to what they loaded; nothing is recomputed per call. The records themselves are durable
//! whatever happens to a delta not yet published (a crash loses at most one tick of the live
//! view, which the next reload corrects).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::sync::watch;

use crate::events::{self, EventBus};
use wire::events::EventKind;

/// How often gathered deltas are published.
pub const TICK: Duration = Duration::from_millis(250);

/// What calls added since the last tick, per workspace.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delta {
    /// Micro-USD of priced calls.
    pub cost_micros: i64,
    /// Prompt tokens.
    pub prompt_tokens: i64,
    /// Completion tokens.
    pub completion_tokens: i64,
    /// Calls (attempts) recorded.
    pub calls: i64,
    /// Of those, calls to a model with no price.
    pub unpriced_calls: i64,
}

/// The deltas waiting for the next tick.
#[derive(Debug, Default)]
pub struct Totals {
    pending: Mutex<HashMap<String, Delta>>,
}

impl Totals {
    /// Adds one recorded call's figures.
    pub fn add(&self, workspace_id: &str, delta: Delta) {
        if let Ok(mut pending) = self.pending.lock() {
            let d = pending.entry(workspace_id.to_owned()).or_default();
            d.cost_micros += delta.cost_micros;
            d.prompt_tokens += delta.prompt_tokens;
            d.completion_tokens += delta.completion_tokens;
            d.calls += delta.calls;
            d.unpriced_calls += delta.unpriced_calls;
        }
    }

    /// Publishes what was gathered, one event per workspace.
    pub async fn flush(&self, bus: &EventBus) {
        let drained: Vec<(String, Delta)> = match self.pending.lock() {
            Ok(mut pending) => pending.drain().collect(),
            Err(_) => return,
        };
        for (ws, d) in drained {
            let data = json!({
                "delta_micros": d.cost_micros, "prompt_tokens": d.prompt_tokens,
                "completion_tokens": d.completion_tokens, "calls": d.calls,
                "unpriced_calls": d.unpriced_calls,
            });
            if let Err(e) = bus
                .publish(&ws, events::COSTS, EventKind::CostUpdate, data)
                .await
            {
                tracing::warn!(error = %e, "publishing cost totals failed");
            }
        }
    }

    /// Publishes every [`TICK`] until `stopped`, then once more.
    pub async fn run(self: Arc<Self>, bus: Arc<EventBus>, mut stopped: watch::Receiver<bool>) {
        loop {
            if *stopped.borrow_and_update() {
                self.flush(&bus).await;
                return;
            }
            tokio::select! {
                () = tokio::time::sleep(TICK) => self.flush(&bus).await,
                changed = stopped.changed() => {
                    if changed.is_err() {
                        self.flush(&bus).await;
                        return;
                    }
                }
            }
        }
    }
}
