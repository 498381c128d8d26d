//! Events across processes (Postgres): several `fleetdeck serve` and `fleetdeck worker`
//! processes on one database see each other's events.
//!
//! Every transaction that stores events also `NOTIFY`s [`events::CHANNEL`] with each topic's
//! new seqs and the publishing process ([`events::stage`]). Each process listens on a
//! connection of its own (sqlx's `PgListener`, beside the `Any` pool), reads the announced
//! events from the `events` table — the notification carries no data, so its size never
//! matters — and hands them to its local bus, where subscriptions join them like their own.
//! A process skips its own notifications (it broadcast those already).
//!
//! Nothing is missed across a dropped connection: the listener reconnects with backoff, then
//! re-reads every topic that got events since shortly before the drop, and broadcasts them;
//! subscriptions ignore seqs they have handed over already, so a repeat costs nothing.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::task::JoinHandle;

use crate::events::{self, EventBus};
use crate::now_ms;

/// Slack before a dropped connection from which events are read again after reconnecting.
const CATCH_UP_SLACK_MS: i64 = 5_000;

/// Starts listening for other processes' events on `url` (a `postgres://` URL) until
/// `stopped` turns true.
pub fn spawn(
    bus: Arc<EventBus>,
    url: String,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        tokio::select! {
            () = run(bus, url) => {}
            _ = stopped.wait_for(|s| *s) => {}
        }
    })
}

async fn run(bus: Arc<EventBus>, url: String) {
    let mut backoff = Duration::from_millis(100);
    // When the previous connection was lost (none on the first).
    let mut lost_at: Option<i64> = None;
    loop {
        match listen(&url).await {
            Ok(mut listener) => {
                backoff = Duration::from_millis(100);
                if let Some(at) = lost_at.take() {
                    let n = catch_up(&bus, at - CATCH_UP_SLACK_MS).await;
                    tracing::info!(events = n, "events listener reconnected and caught up");
                }
                loop {
                    match listener.try_recv().await {
                        Ok(Some(notification)) => deliver(&bus, notification.payload()).await,
                        Ok(None) | Err(_) => {
                            tracing::warn!("events listener lost its connection; reconnecting");
                            lost_at = Some(now_ms());
                            break;
                        }
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "events listener cannot connect; retrying");
                lost_at.get_or_insert_with(now_ms);
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

async fn listen(url: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(events::CHANNEL).await?;
    Ok(listener)
}

/// Reads the events a notification announces and broadcasts them locally.
async fn deliver(bus: &EventBus, payload: &str) {
    let Some((origin, workspace, topic, first, last)) = events::parse_note(payload) else {
        return;
    };
    if origin == events::origin() {
        return;
    }
    match bus
        .replay(workspace, topic, first - 1, last - first + 1)
        .await
    {
        Ok(stored) => {
            let stored: Vec<_> = stored.into_iter().map(Arc::new).collect();
            bus.broadcast(&stored);
        }
        Err(e) => tracing::warn!(error = %e, topic, "announced events could not be read"),
    }
}

/// Broadcasts every event stored since `since` (Unix ms), per topic in seq order; how many.
async fn catch_up(bus: &EventBus, since: i64) -> usize {
    let topics = match bus.topics_since(since).await {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e, "events since the reconnect could not be listed");
            return 0;
        }
    };
    let mut n = 0;
    for (workspace, topic, first) in topics {
        let mut after = first - 1;
        loop {
            match bus.replay(&workspace, &topic, after, 500).await {
                Ok(page) if !page.is_empty() => {
                    after = page.last().map_or(after, |e| e.seq);
                    n += page.len();
                    let page: Vec<_> = page.into_iter().map(Arc::new).collect();
                    bus.broadcast(&page);
                }
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, topic, "events could not be re-read");
                    break;
                }
            }
        }
    }
    n
}
