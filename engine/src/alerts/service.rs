//! The background loop of alerts: evaluates the rules every `every` and soon after events that
//! may change what fires (a call's cost, a step or task ending), and sends due deliveries
//! every second. Several processes may run it on one database: opening is de-duplicated by the
//! alerts' unique key and each delivery is claimed before it is sent.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use super::evaluate;
use super::notify::{self, Notifier};
use crate::events::{EventBus, EventKind};
use crate::{Store, now_ms};

/// Deliveries sent per tick at most (the rest wait for the next second).
const DELIVERIES_PER_TICK: i64 = 50;

/// Whether an event may change what a rule sees.
fn relevant(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::CostUpdate
            | EventKind::StepCompleted
            | EventKind::StepFailed
            | EventKind::StepRetry
            | EventKind::StepStarted
            | EventKind::TaskCompleted
            | EventKind::TaskFailed
            | EventKind::TaskCancelled
    )
}

/// Starts the loop; it ends when `stop` turns true.
pub fn spawn(
    store: Store,
    bus: Arc<EventBus>,
    notifier: Arc<Notifier>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut events = bus.subscribe();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let every_ms = i64::try_from(every.as_millis()).unwrap_or(i64::MAX);
        // Evaluate at once on start: a condition may have arisen while nothing ran.
        let mut next_evaluation = 0_i64;
        let mut dirty = false;
        loop {
            tokio::select! {
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                }
                event = events.recv() => match event {
                    Ok(event) => dirty |= relevant(event.kind),
                    Err(broadcast::error::RecvError::Lagged(_)) => dirty = true,
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                _ = tick.tick() => {
                    let now = now_ms();
                    if dirty || now >= next_evaluation {
                        dirty = false;
                        next_evaluation = now.saturating_add(every_ms);
                        if let Err(e) = evaluate::all(&store, &bus, now).await {
                            tracing::error!(error = %e, "alert evaluation failed");
                        }
                    }
                    if let Err(e) = notify::deliver_due(&store, &notifier, DELIVERIES_PER_TICK).await {
                        tracing::error!(error = %e, "alert deliveries failed");
                    }
                }
            }
        }
    })
}
