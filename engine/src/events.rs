//! Live events (SPEC F-05): stored, numbered per topic, and fanned out in process.
//!
//! Every event is committed to the `events` table with the next `seq` of its (workspace,
//! topic) — taken from an atomic counter row (`event_counters`) in the same transaction as the
//! insert, so two processes publishing to one topic never collide or drop an event — and then
//! broadcast to live subscribers. Events a worker publishes for a task it claimed are fenced on
//! its lease like its other writes ([`EventBus::publish_fenced`]).
//!
//! A [`Subscription`] joins the stored backlog and the live broadcast without gaps or repeats,
//! and is cancel-safe: nothing advances until it is handed to the caller, so dropping
//! [`Subscription::next`] mid-way (as a `select!` does) loses nothing. Its memory is bounded: the
//! backlog is read a page at a time, and a reader more than [`EventBus::max_backlog`] events
//! behind on a topic gets a [`Delivery::Reset`] (reload your state) and only the newest events.

use std::collections::VecDeque;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::AnyConnection;
use tokio::sync::broadcast;

use crate::store::queue::{self, Fence, Lease};
use crate::{Error, Result, Store, now_ms};

/// Topics of the fleet view, of the running cost totals, and of one task.
pub const FLEET: &str = "fleet";
/// See [`FLEET`].
pub const COSTS: &str = "costs";

/// The topic of one task.
pub fn task_topic(task_id: &str) -> String {
    format!("task:{task_id}")
}

pub use wire::events::EventKind;

/// One event as the bus holds it: what clients receive ([`Event::to_wire`]) and the
/// workspace it belongs to.
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
    pub kind: EventKind,
    /// Kind-specific data.
    pub data: Value,
    /// Unix milliseconds.
    pub at: i64,
}

impl Event {
    /// The event as clients receive it.
    pub fn to_wire(&self) -> wire::events::Event {
        wire::events::Event {
            topic: self.topic.clone(),
            seq: self.seq,
            kind: self.kind,
            data: self.data.clone(),
            at: self.at,
        }
    }

    /// Whether this event ends its task's stream.
    pub fn is_terminal(&self) -> bool {
        self.kind.is_terminal()
    }
}

/// One event to publish.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// Topic.
    pub topic: String,
    /// Kind.
    pub kind: EventKind,
    /// Data.
    pub data: Value,
}

impl Outgoing {
    /// An event of `kind` on `topic`.
    pub fn new(topic: impl Into<String>, kind: EventKind, data: Value) -> Self {
        Self {
            topic: topic.into(),
            kind,
            data,
        }
    }
}

/// The event bus: persistence plus in-process fan-out.
#[derive(Debug)]
pub struct EventBus {
    store: Store,
    sender: broadcast::Sender<Arc<Event>>,
    max_backlog: i64,
}

/// Events behind on one topic beyond which a reader gets a reset instead of the backlog.
pub const DEFAULT_MAX_BACKLOG: i64 = 10_000;

/// Most events one backlog read returns per topic; bounds a subscription's memory.
const BACKLOG_PAGE: i64 = 500;

impl EventBus {
    /// A bus on `store` with room for `capacity` undelivered events per slow subscriber.
    pub fn new(store: Store, capacity: usize) -> Self {
        Self::with_max_backlog(store, capacity, DEFAULT_MAX_BACKLOG)
    }

    /// A bus whose readers get a reset when more than `max_backlog` events behind on a topic.
    pub fn with_max_backlog(store: Store, capacity: usize, max_backlog: i64) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(16));
        Self {
            store,
            sender,
            max_backlog: max_backlog.max(1),
        }
    }

    /// Events behind on one topic beyond which a reader is reset.
    pub fn max_backlog(&self) -> i64 {
        self.max_backlog
    }

    /// Stores an event with the next seq of its topic and broadcasts it.
    pub async fn publish(
        &self,
        workspace_id: &str,
        topic: &str,
        kind: EventKind,
        data: Value,
    ) -> Result<Arc<Event>> {
        let mut out = self
            .publish_all(workspace_id, None, vec![Outgoing::new(topic, kind, data)])
            .await?;
        out.pop()
            .ok_or_else(|| Error::Config("an event was not stored".into()))
    }

    /// Stores events for a task claimed with `lease` — refused with [`Error::LeaseLost`] when
    /// the claim was taken over — in one transaction, and broadcasts them.
    pub async fn publish_fenced(
        &self,
        workspace_id: &str,
        lease: &Lease,
        events: Vec<Outgoing>,
    ) -> Result<Vec<Arc<Event>>> {
        self.publish_all(workspace_id, Some(lease), events).await
    }

    /// Stores events in one transaction (one commit for all) and broadcasts them.
    #[tracing::instrument(skip_all, fields(workspace.id = %workspace_id, events = events.len()))]
    pub async fn publish_all(
        &self,
        workspace_id: &str,
        lease: Option<&Lease>,
        events: Vec<Outgoing>,
    ) -> Result<Vec<Arc<Event>>> {
        // Through the group-commit writer: many workers' token flushes share one commit.
        let lease = lease.cloned();
        let ((), stored) = self
            .store
            .write(workspace_id, move |conn| {
                let (lease, events) = (lease.clone(), events.clone());
                Box::pin(async move {
                    if let Some(lease) = &lease {
                        queue::fence(conn, lease, Fence::Epoch).await?;
                    }
                    Ok(((), events))
                })
            })
            .await?;
        self.broadcast(&stored);
        Ok(stored)
    }

    /// Hands committed events to live subscribers.
    ///
    /// Broadcast order may differ from seq order when several transactions commit at once;
    /// a [`Subscription`] that sees a seq ahead of the next one reads the gap from the database
    /// (the counter row lock means every lower seq is committed by then), so order costs a
    /// little latency, never an event.
    pub fn broadcast(&self, events: &[Arc<Event>]) {
        for event in events {
            // No receivers is normal (nobody watching).
            let _ = self.sender.send(event.clone());
        }
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
                    kind: EventKind::parse(&kind).ok_or_else(|| {
                        Error::Config(format!("stored event of unknown kind {kind}"))
                    })?,
                    data: serde_json::from_str(&payload)
                        .map_err(|e| Error::Config(format!("stored event is not JSON: {e}")))?,
                    at,
                })
            })
            .collect()
    }

    /// Topics with events stored since `since` (Unix ms): (workspace, topic, first such seq).
    pub async fn topics_since(&self, since: i64) -> Result<Vec<(String, String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT workspace_id, topic, MIN(seq) FROM events WHERE created_at >= $1 \
             GROUP BY workspace_id, topic",
        )
        .bind(since)
        .fetch_all(self.store.pool())
        .await?)
    }

    /// The last seq of a topic (0 when it has none).
    pub async fn last_seq(&self, workspace_id: &str, topic: &str) -> Result<i64> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT seq FROM event_counters WHERE workspace_id = $1 AND topic = $2")
                .bind(workspace_id)
                .bind(topic)
                .fetch_optional(self.store.pool())
                .await?;
        Ok(row.map_or(0, |(seq,)| seq))
    }

    /// Deletes `token` events older than `before` (Unix ms); the conversation is stored with
    /// its step, so streamed tokens are only needed while a task is watched live. Returns how
    /// many were deleted.
    pub async fn prune_tokens(&self, before: i64) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM events WHERE kind = 'token' AND created_at < $1")
                .bind(before)
                .execute(self.store.writer())
                .await?
                .rows_affected(),
        )
    }
}

/// Stores `events` on `conn` (inside the caller's transaction) with the next seqs of their
/// topics; broadcast them with [`EventBus::broadcast`] once the transaction has committed.
///
/// Two statements whatever the number of events: one upsert takes a block of seqs per topic
/// from the counter rows (atomic on both backends, so two processes publishing to one topic
/// each get their own seqs), one multi-row insert stores the events. Topics are locked in
/// sorted order so that concurrent transactions cannot deadlock on them.
pub async fn stage(
    conn: &mut AnyConnection,
    workspace_id: &str,
    events: Vec<Outgoing>,
) -> Result<Vec<Arc<Event>>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let now = now_ms();
    let mut counts: std::collections::BTreeMap<&str, i64> = std::collections::BTreeMap::new();
    for event in &events {
        *counts.entry(event.topic.as_str()).or_insert(0) += 1;
    }
    let values: Vec<String> = (0..counts.len())
        .map(|i| format!("($1, ${}, ${})", 2 * i + 2, 2 * i + 3))
        .collect();
    // Only placeholders are formatted into the statement.
    let sql = format!(
        "INSERT INTO event_counters (workspace_id, topic, seq) VALUES {} \
         ON CONFLICT (workspace_id, topic) DO UPDATE SET seq = event_counters.seq + excluded.seq \
         RETURNING topic, seq",
        values.join(", ")
    );
    let mut query = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql)).bind(workspace_id);
    for (topic, n) in &counts {
        query = query.bind(*topic).bind(*n);
    }
    let lasts = query.fetch_all(&mut *conn).await?;
    // The first seq of each topic's block.
    let mut next: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    // Each topic's new seqs, as the other processes are told of them (Postgres).
    let mut announced: Vec<(String, i64, i64)> = Vec::with_capacity(lasts.len());
    for (topic, last) in lasts {
        let n = counts.get(topic.as_str()).copied().unwrap_or(0);
        announced.push((topic.clone(), last - n + 1, last));
        next.insert(topic, last - n + 1);
    }
    let mut stored = Vec::with_capacity(events.len());
    for event in events {
        let seq = next
            .get_mut(&event.topic)
            .map(|s| {
                *s += 1;
                *s - 1
            })
            .ok_or_else(|| Error::Config("an event topic got no seq".into()))?;
        stored.push(Arc::new(Event {
            workspace_id: workspace_id.to_owned(),
            topic: event.topic,
            seq,
            kind: event.kind,
            data: event.data,
            at: now,
        }));
    }
    let rows: Vec<String> = (0..stored.len())
        .map(|i| {
            let b = 5 * i + 2;
            format!("($1, ${b}, ${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4)
        })
        .collect();
    let mut sql = format!(
        "INSERT INTO events (workspace_id, topic, seq, kind, payload, created_at) VALUES {}",
        rows.join(", ")
    );
    // On Postgres the same statement announces each topic's new seqs to the other processes
    // (`NOTIFY` is delivered at commit, so a listener never hears of an uncommitted event).
    let notes: Vec<String> = if conn.backend_name().eq_ignore_ascii_case("postgresql") {
        announced
            .iter()
            .map(|(topic, first, last)| note(workspace_id, topic, *first, *last))
            .collect()
    } else {
        Vec::new()
    };
    if !notes.is_empty() {
        let first = 2 + 5 * stored.len();
        let calls: Vec<String> = (0..notes.len())
            .map(|i| format!("pg_notify('{CHANNEL}', ${})", first + i))
            .collect();
        sql = format!("WITH stored AS ({sql}) SELECT {}", calls.join(", "));
    }
    let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(workspace_id);
    for event in &stored {
        insert = insert
            .bind(event.topic.clone())
            .bind(event.seq)
            .bind(event.kind.as_str())
            .bind(event.data.to_string())
            .bind(event.at);
    }
    for n in notes {
        insert = insert.bind(n);
    }
    insert.execute(&mut *conn).await?;
    Ok(stored)
}

/// The Postgres channel new events are announced on.
pub const CHANNEL: &str = "fleetdeck_events";

/// This process, as its notifications name it (so that it skips its own).
pub fn origin() -> &'static str {
    static ORIGIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ORIGIN.get_or_init(crate::new_id)
}

/// A notification's payload: origin, workspace, topic, first and last seq, tab-separated.
fn note(workspace_id: &str, topic: &str, first: i64, last: i64) -> String {
    format!("{}\t{workspace_id}\t{topic}\t{first}\t{last}", origin())
}

/// What [`note`] wrote: (origin, workspace, topic, first, last).
pub fn parse_note(payload: &str) -> Option<(&str, &str, &str, i64, i64)> {
    let mut parts = payload.split('\t');
    let origin = parts.next()?;
    let workspace = parts.next()?;
    let topic = parts.next()?;
    let first = parts.next()?.parse().ok()?;
    let last = parts.next()?.parse().ok()?;
    Some((origin, workspace, topic, first, last))
}

/// What a subscription hands its reader.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// The next event of a topic.
    Event(Arc<Event>),
    /// The reader was too far behind on `topic`: events up to `seq` were skipped, so it must
    /// reload its state; the events after `seq` follow.
    Reset {
        /// The topic.
        topic: String,
        /// The last skipped seq.
        seq: i64,
    },
}

/// One subscriber's view of a set of topics: remembers the last seq handed over per topic so
/// that backlog and live events join without gaps or repeats.
#[derive(Debug)]
pub struct Subscription {
    workspace_id: String,
    /// Topic and the last seq queued for (or handed to) the reader.
    topics: Vec<(String, i64)>,
    live: broadcast::Receiver<Arc<Event>>,
    /// Read from the database but not yet handed over; survives a dropped `next`.
    pending: VecDeque<Delivery>,
    /// Some topic may have stored events past its position (after subscribing, a lag or a gap).
    behind: bool,
}

impl Subscription {
    /// Subscribes to `topics`, each resuming after its own `since`.
    pub fn new(bus: &EventBus, workspace_id: &str, topics: Vec<(String, i64)>) -> Self {
        Self {
            workspace_id: workspace_id.to_owned(),
            live: bus.subscribe(),
            behind: !topics.is_empty(),
            topics,
            pending: VecDeque::new(),
        }
    }

    /// Adds topics to an existing subscription (their backlog comes with the next `next`).
    pub fn add(&mut self, topics: Vec<(String, i64)>) {
        for (topic, since) in topics {
            self.pending.retain(|d| match d {
                Delivery::Event(e) => e.topic != topic,
                Delivery::Reset { topic: t, .. } => *t != topic,
            });
            match self.topics.iter_mut().find(|(t, _)| *t == topic) {
                Some(entry) => entry.1 = since,
                None => self.topics.push((topic, since)),
            }
            self.behind = true;
        }
    }

    /// Removes topics.
    pub fn remove(&mut self, topics: &[String]) {
        self.topics.retain(|(t, _)| !topics.contains(t));
        self.pending.retain(|d| match d {
            Delivery::Event(e) => !topics.contains(&e.topic),
            Delivery::Reset { topic, .. } => !topics.contains(topic),
        });
    }

    /// Topics and the last seq queued for each.
    pub fn positions(&self) -> &[(String, i64)] {
        &self.topics
    }

    /// Reads the next page of stored events for every topic that may be behind.
    ///
    /// Cancel-safe: the only await is the database read; positions and the pending queue change
    /// together afterwards, with no await in between.
    async fn catch_up(&mut self, bus: &EventBus) -> Result<()> {
        for i in 0..self.topics.len() {
            let (topic, since) = self.topics[i].clone();
            let last = bus.last_seq(&self.workspace_id, &topic).await?;
            let mut from = since;
            let mut reset = None;
            if last - since > bus.max_backlog {
                from = last - bus.max_backlog;
                reset = Some(Delivery::Reset {
                    topic: topic.clone(),
                    seq: from,
                });
            }
            let page = bus
                .replay(&self.workspace_id, &topic, from, BACKLOG_PAGE)
                .await?;
            // Nothing above awaited after mutating; from here on nothing awaits.
            if let Some(reset) = reset {
                self.pending.push_back(reset);
                self.topics[i].1 = from;
            }
            for event in page {
                // A hole in the stored seqs (pruned token events): say so, so that a reader
                // checking continuity resets instead of waiting for what no longer exists.
                if event.seq > self.topics[i].1 + 1 {
                    self.pending.push_back(Delivery::Reset {
                        topic: topic.clone(),
                        seq: event.seq - 1,
                    });
                }
                self.topics[i].1 = event.seq;
                self.pending.push_back(Delivery::Event(Arc::new(event)));
            }
        }
        // Behind until a page comes back short for every topic; checked against the counters
        // again on the next call, which is cheap (one primary-key read per topic).
        self.behind = self.pending.len() >= usize::try_from(BACKLOG_PAGE).unwrap_or(500);
        Ok(())
    }

    /// The next page of stored events the reader has not had; empty once it has caught up
    /// (live events then come from [`Subscription::next`]). Lets a server send the backlog
    /// before acknowledging a subscription, a page at a time. Cancel-safe.
    pub async fn next_backlog(&mut self, bus: &EventBus) -> Result<Vec<Delivery>> {
        if self.pending.is_empty() && self.behind {
            self.catch_up(bus).await?;
            if self.pending.is_empty() {
                self.behind = false;
            }
        }
        Ok(self.pending.drain(..).collect())
    }

    /// The next deliveries: first anything stored that the reader has not had, then live events
    /// as they are published. Returns `None` when the bus is gone. Cancel-safe.
    pub async fn next(&mut self, bus: &EventBus) -> Option<Result<Vec<Delivery>>> {
        loop {
            if !self.pending.is_empty() {
                return Some(Ok(self.pending.drain(..).collect()));
            }
            if self.behind {
                if let Err(e) = self.catch_up(bus).await {
                    return Some(Err(e));
                }
                if self.pending.is_empty() {
                    self.behind = false;
                }
                continue;
            }
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
                        // Published by another process, or before our backlog read finished:
                        // read the gap from the database.
                        self.behind = true;
                        continue;
                    }
                    entry.1 = event.seq;
                    return Some(Ok(vec![Delivery::Event(event)]));
                }
                Err(broadcast::error::RecvError::Lagged(_)) => self.behind = true,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}
