//! Live events (SPEC F-05): stored, numbered per topic, and fanned out in process.
//!
//! Every event is first committed to the `events` table with the next `seq` of its
//! (workspace, topic), then broadcast to live subscribers. A subscriber that asks for events
//! after `since` subscribes to the broadcast *before* reading the backlog from the database and
//! drops live events it already saw, so resuming never leaves a gap and never repeats an event.
//! A subscriber that falls behind the broadcast buffer re-reads from the database.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{Mutex, broadcast};

use crate::{Error, Result, Store, now_ms};

/// Topics of the fleet view, of the running cost totals, and of one task.
pub const FLEET: &str = "fleet";
/// See [`FLEET`].
pub const COSTS: &str = "costs";

/// The topic of one task.
pub fn task_topic(task_id: &str) -> String {
    format!("task:{task_id}")
}

/// Event kinds that end a task's stream.
pub const TERMINAL_KINDS: [&str; 3] = ["task_completed", "task_failed", "task_cancelled"];

/// One event as clients receive it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Workspace it belongs to (not sent to clients).
    #[serde(skip)]
    pub workspace_id: String,
    /// `fleet`, `costs` or `task:{id}`.
    pub topic: String,
    /// Increases by one per (workspace, topic).
    pub seq: i64,
    /// What happened, e.g. `step_started`.
    pub kind: String,
    /// Kind-specific data.
    pub data: Value,
    /// Unix milliseconds.
    pub at: i64,
}

impl Event {
    /// Whether this event ends its task's stream.
    pub fn is_terminal(&self) -> bool {
        TERMINAL_KINDS.contains(&self.kind.as_str())
    }
}

/// The event bus: persistence plus in-process fan-out.
#[derive(Debug)]
pub struct EventBus {
    store: Store,
    sender: broadcast::Sender<Arc<Event>>,
    /// Serialises appends within this process so that seq order equals broadcast order.
    append: Mutex<()>,
}

impl EventBus {
    /// A bus on `store` with room for `capacity` undelivered events per slow subscriber.
    pub fn new(store: Store, capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(16));
        Self {
            store,
            sender,
            append: Mutex::new(()),
        }
    }

    /// Stores an event with the next seq of its topic and broadcasts it.
    #[tracing::instrument(skip(self, data), fields(workspace.id = %workspace_id, topic = %topic))]
    pub async fn publish(
        &self,
        workspace_id: &str,
        topic: &str,
        kind: &str,
        data: Value,
    ) -> Result<Arc<Event>> {
        let payload = data.to_string();
        let _guard = self.append.lock().await;
        let now = now_ms();
        // Another process (a second server on the same Postgres) may take the same seq; the
        // primary key refuses the duplicate and we take the next one.
        let mut tries = 0;
        let seq = loop {
            let row: Result<(i64,)> = sqlx::query_as(
                "INSERT INTO events (workspace_id, topic, seq, kind, payload, created_at) \
                 SELECT $1, $2, COALESCE(MAX(seq), 0) + 1, $3, $4, $5 FROM events \
                 WHERE workspace_id = $1 AND topic = $2 RETURNING seq",
            )
            .bind(workspace_id)
            .bind(topic)
            .bind(kind)
            .bind(&payload)
            .bind(now)
            .fetch_one(self.store.pool())
            .await
            .map_err(Error::from);
            match row {
                Ok((seq,)) => break seq,
                Err(Error::Conflict(_)) if tries < 5 => tries += 1,
                Err(e) => return Err(e),
            }
        };
        let event = Arc::new(Event {
            workspace_id: workspace_id.to_owned(),
            topic: topic.to_owned(),
            seq,
            kind: kind.to_owned(),
            data,
            at: now,
        });
        // No receivers is normal (nobody watching).
        let _ = self.sender.send(event.clone());
        Ok(event)
    }

    /// Live events of every topic, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.sender.subscribe()
    }

    /// Stored events of a topic with `seq > since`, oldest first, at most `limit`.
    pub async fn replay(
        &self,
        workspace_id: &str,
        topic: &str,
        since: i64,
        limit: i64,
    ) -> Result<Vec<Event>> {
        let rows: Vec<(i64, String, String, i64)> = sqlx::query_as(
            "SELECT seq, kind, payload, created_at FROM events \
             WHERE workspace_id = $1 AND topic = $2 AND seq > $3 ORDER BY seq LIMIT $4",
        )
        .bind(workspace_id)
        .bind(topic)
        .bind(since)
        .bind(limit)
        .fetch_all(self.store.pool())
        .await?;
        rows.into_iter()
            .map(|(seq, kind, payload, at)| {
                Ok(Event {
                    workspace_id: workspace_id.to_owned(),
                    topic: topic.to_owned(),
                    seq,
                    kind,
                    data: serde_json::from_str(&payload)
                        .map_err(|e| Error::Config(format!("stored event is not JSON: {e}")))?,
                    at,
                })
            })
            .collect()
    }

    /// The last seq of a topic (0 when it has none).
    pub async fn last_seq(&self, workspace_id: &str, topic: &str) -> Result<i64> {
        let (seq,): (i64,) = sqlx::query_as(
            "SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM events \
             WHERE workspace_id = $1 AND topic = $2",
        )
        .bind(workspace_id)
        .bind(topic)
        .fetch_one(self.store.pool())
        .await?;
        Ok(seq)
    }
}

/// One subscriber's view of a set of topics: remembers the last seq delivered per topic so that
/// backlog and live events join without gaps or repeats.
#[derive(Debug)]
pub struct Subscription {
    workspace_id: String,
    topics: Vec<(String, i64)>,
    live: broadcast::Receiver<Arc<Event>>,
}

/// Most events one backlog read returns; a client far behind gets the rest in later reads.
const BACKLOG_PAGE: i64 = 1000;

impl Subscription {
    /// Subscribes to `topics`, each resuming after its own `since`.
    pub fn new(bus: &EventBus, workspace_id: &str, topics: Vec<(String, i64)>) -> Self {
        Self {
            workspace_id: workspace_id.to_owned(),
            live: bus.subscribe(),
            topics,
        }
    }

    /// Adds topics to an existing subscription.
    pub fn add(&mut self, topics: Vec<(String, i64)>) {
        for (topic, since) in topics {
            match self.topics.iter_mut().find(|(t, _)| *t == topic) {
                Some(entry) => entry.1 = since,
                None => self.topics.push((topic, since)),
            }
        }
    }

    /// Removes topics.
    pub fn remove(&mut self, topics: &[String]) {
        self.topics.retain(|(t, _)| !topics.contains(t));
    }

    /// Topics and the last seq delivered for each.
    pub fn positions(&self) -> &[(String, i64)] {
        &self.topics
    }

    /// Everything stored after each topic's position (the catch-up after (re)subscribing).
    pub async fn backlog(&mut self, bus: &EventBus) -> Result<Vec<Arc<Event>>> {
        let mut out = Vec::new();
        for (topic, since) in &mut self.topics {
            loop {
                let page = bus
                    .replay(&self.workspace_id, topic, *since, BACKLOG_PAGE)
                    .await?;
                let full = i64::try_from(page.len()).unwrap_or(0) == BACKLOG_PAGE;
                for event in page {
                    *since = event.seq;
                    out.push(Arc::new(event));
                }
                if !full {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Waits for the next live event of a subscribed topic; after falling behind, returns the
    /// missed events from the database instead. Returns `None` when the bus is gone.
    pub async fn next(&mut self, bus: &EventBus) -> Option<Result<Vec<Arc<Event>>>> {
        loop {
            match self.live.recv().await {
                Ok(event) => {
                    if event.workspace_id != self.workspace_id {
                        continue;
                    }
                    let Some(entry) = self.topics.iter_mut().find(|(t, _)| *t == event.topic)
                    else {
                        continue;
                    };
                    if event.seq <= entry.1 {
                        continue;
                    }
                    if event.seq > entry.1 + 1 {
                        // Published before our backlog read finished but not in it: read the gap.
                        return Some(self.backlog(bus).await);
                    }
                    entry.1 = event.seq;
                    return Some(Ok(vec![event]));
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    return Some(self.backlog(bus).await);
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}
