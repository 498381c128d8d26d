//! Group commit: the hot path of recording (DESIGN.md).
//!
//! Recording a call used to be a transaction of eight statements, and every other write a
//! worker makes for a step (start, tool calls, end, finish) one more. With one SQLite writer
//! connection (and row locks on Postgres' task and counter rows) concurrent workers queued
//! behind each other's commits, and each hand-over of the connection cost more than the
//! statements themselves, so throughput stayed flat however many workers ran. Here writers hand
//! their work to one writer task, which takes everything that arrived while the previous batch
//! committed and writes it in **one transaction**:
//!
//! - model-call records are merged: the leased tasks' counters (which are also the fence: a
//!   record whose claim was taken over matches no row and is answered [`Error::LeaseLost`]
//!   without failing the others), one multi-row insert into `llm_calls`, and the hourly rollups
//!   and steps' counters with their deltas merged in memory per row;
//! - other writes ([`crate::Store::write`]) run one after the other, each fenced first;
//! - the events of the whole batch are numbered and stored together, per workspace, by
//!   [`events::stage`], which locks topic counters in one sorted order.
//!
//! Each caller is answered after the commit, so nothing acknowledged is lost. A batch that
//! fails (a constraint one write breaks) is retried write by write, each alone, so one bad
//! write fails only its own caller. Nothing waits for a batch to fill: an idle writer commits a
//! lone write at once, and batches grow only when writes arrive faster than commits end.

use std::any::Any;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use futures_util::future::BoxFuture;
use sqlx::{AnyConnection, AnyPool};
use tokio::sync::{mpsc, oneshot};

use crate::events::{self, Event, Outgoing};
use crate::store::batch::{Batch, Value};
use crate::store::llm_calls::NewLlmCall;
use crate::store::queue::Lease;
use crate::{Error, Result, new_id};

/// Writes gathered into one transaction at most. 128 × 21 call columns stays far below both
/// backends' limits on bound parameters.
const MAX_BATCH: usize = 128;
/// Writes waiting for the writer at most; callers beyond it wait to enqueue (backpressure).
const QUEUE: usize = 4096;

/// The step a call belongs to, and what the call says about it.
#[derive(Debug, Clone, Default)]
pub struct StepFacts {
    /// The agent run.
    pub run_id: String,
    /// Tokens in the step's context after this call (0 leaves the stored value).
    pub context_tokens: i64,
    /// Set on the call that answered the step: which provider row answered (None for the
    /// built-in simulator) and why a fallback did, if one did.
    pub answered: Option<(Option<String>, Option<String>)>,
}

/// One call to record, with what it is attributed to and the events that announce it.
#[derive(Debug, Clone)]
pub struct CallRecord {
    /// The call.
    pub call: NewLlmCall,
    /// The claim it was made under: the record is fenced on it and adds to the task's counters.
    pub lease: Option<Lease>,
    /// The step it served, whose counters it adds to.
    pub step: Option<StepFacts>,
    /// Events stored in the same transaction.
    pub events: Vec<Outgoing>,
}

/// What a recorded call became.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The `llm_calls` row.
    pub id: String,
    /// Its events, numbered, for the caller to broadcast.
    pub events: Vec<Arc<Event>>,
}

/// What a piece of work hands back: its value, and events to store with it.
pub(crate) type Output = (Box<dyn Any + Send>, Vec<Outgoing>);

/// A write run inside a group transaction. It may run twice (alone, after its batch failed), so
/// it is `FnMut` and owns what it needs. It must write nothing before it can fail with
/// [`Error::LeaseLost`] (fence first): that refusal does not fail the batch.
pub(crate) type WorkFn =
    Box<dyn for<'c> FnMut(&'c mut AnyConnection) -> BoxFuture<'c, Result<Output>> + Send>;

/// A write's value and its stored events.
type Done = (Box<dyn Any + Send>, Vec<Arc<Event>>);

/// Work that is not a call record.
pub(crate) struct Work {
    /// Where its events go.
    pub(crate) workspace_id: String,
    /// The write.
    pub(crate) run: WorkFn,
}

enum Job {
    Call {
        record: Box<CallRecord>,
        reply: oneshot::Sender<Result<Recorded>>,
    },
    Work {
        work: Work,
        reply: oneshot::Sender<Result<Done>>,
    },
}

/// The handle writers send through; the writer task ends when every handle is gone.
#[derive(Clone)]
pub(crate) struct GroupWriter {
    tx: mpsc::Sender<Job>,
}

impl std::fmt::Debug for GroupWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupWriter").finish_non_exhaustive()
    }
}

impl GroupWriter {
    /// Starts the writer task on the current runtime. It holds only the write pool, never a
    /// handle, so it stops when the last [`crate::Store`] clone is dropped.
    pub(crate) fn spawn(writer: AnyPool) -> GroupWriter {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(writer, rx));
        GroupWriter { tx }
    }

    /// Records `record` in the next batch and answers after its commit. Hands the record back
    /// when the writer task is gone (its runtime shut down), for the caller to record alone.
    pub(crate) async fn record(&self, record: CallRecord) -> Result<Result<Recorded>, CallRecord> {
        let (reply, answer) = oneshot::channel();
        let record = Box::new(record);
        match self.tx.send(Job::Call { record, reply }).await {
            Ok(()) => Ok(answered(answer.await)),
            Err(mpsc::error::SendError(Job::Call { record, .. })) => Err(*record),
            Err(_) => Ok(Err(Error::Db(sqlx::Error::WorkerCrashed))),
        }
    }

    /// Runs `work` in the next batch and answers after its commit; hands it back when the
    /// writer task is gone.
    pub(crate) async fn write(&self, work: Work) -> Result<Result<Done>, Work> {
        let (reply, answer) = oneshot::channel();
        match self.tx.send(Job::Work { work, reply }).await {
            Ok(()) => Ok(answered(answer.await)),
            Err(mpsc::error::SendError(Job::Work { work, .. })) => Err(work),
            Err(_) => Ok(Err(Error::Db(sqlx::Error::WorkerCrashed))),
        }
    }
}

/// A dropped reply means the writer stopped mid-batch: whether it committed is unknown, so it
/// is an error, never a second attempt that could write twice.
fn answered<T>(answer: std::result::Result<Result<T>, oneshot::error::RecvError>) -> Result<T> {
    answer.unwrap_or(Err(Error::Db(sqlx::Error::WorkerCrashed)))
}

async fn run(writer: AnyPool, mut rx: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut marks = Marks::default();
    loop {
        // Marks held back are written within a second even when no other write comes.
        let received = match marks.deadline() {
            Some(at) => {
                match tokio::time::timeout_at(at.into(), rx.recv_many(&mut batch, MAX_BATCH)).await
                {
                    Ok(n) => n,
                    Err(_) => {
                        let due = marks.take(Instant::now(), true);
                        if let Err(e) = commit_marks(&writer, &due).await {
                            tracing::warn!(error = %e, "providers' last success and failure not written");
                            marks.restore(due);
                        }
                        continue;
                    }
                }
            }
            None => rx.recv_many(&mut batch, MAX_BATCH).await,
        };
        if received == 0 {
            break;
        }
        // One yield lets writers that are ready to send join this batch, at no cost to a lone
        // writer, which is never waited for.
        tokio::task::yield_now().await;
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut calls: Vec<CallRecord> = Vec::new();
        let mut call_replies = Vec::new();
        let mut works: Vec<Work> = Vec::new();
        let mut work_replies = Vec::new();
        for job in batch.drain(..) {
            match job {
                Job::Call { record, reply } => {
                    calls.push(*record);
                    call_replies.push(reply);
                }
                Job::Work { work, reply } => {
                    works.push(work);
                    work_replies.push(reply);
                }
            }
        }
        marks.note(calls.iter().map(|r| &r.call));
        let due = marks.take(Instant::now(), false);
        match commit(&writer, &calls, &mut works, &due).await {
            Ok((recorded, done)) => {
                for (reply, result) in call_replies.into_iter().zip(recorded) {
                    let _ = reply.send(result);
                }
                for (reply, result) in work_replies.into_iter().zip(done) {
                    let _ = reply.send(result);
                }
            }
            Err(e) => {
                marks.restore(due);
                if calls.len() + works.len() > 1 {
                    tracing::warn!(error = %e, writes = calls.len() + works.len(),
                        "a batch of writes failed; writing them one by one");
                }
                for (record, reply) in calls.iter().zip(call_replies) {
                    let _ = reply.send(commit_call(&writer, record).await);
                }
                for (mut work, reply) in works.into_iter().zip(work_replies) {
                    let _ = reply.send(commit_work(&writer, &mut work).await);
                }
            }
        }
    }
}

/// Records one call alone, in its own transaction.
pub(crate) async fn commit_call(writer: &AnyPool, record: &CallRecord) -> Result<Recorded> {
    let (mut recorded, _) = commit(writer, std::slice::from_ref(record), &mut [], &[]).await?;
    recorded
        .pop()
        .unwrap_or(Err(Error::Db(sqlx::Error::WorkerCrashed)))
}

/// Writes many calls outside any task (an import, a benchmark's data set) in one transaction:
/// multi-row inserts of 128 calls, their rollup deltas merged in memory across the whole slice
/// first, providers' last success and failure. Returns how many were written.
pub(crate) async fn commit_bulk(writer: &AnyPool, calls: &[NewLlmCall]) -> Result<usize> {
    let mut tx = writer.begin().await?;
    let ids: Vec<String> = calls.iter().map(|_| new_id()).collect();
    let refs: Vec<&NewLlmCall> = calls.iter().collect();
    for (ids, calls) in ids.chunks(MAX_BATCH).zip(refs.chunks(MAX_BATCH)) {
        let mut batch = Batch::new(&tx);
        insert_calls(&mut batch, ids, calls);
        batch.execute(&mut tx).await?;
    }
    let mut marks = Marks::default();
    marks.note(calls.iter());
    let due = marks.take(Instant::now(), true);
    let mut batch = Batch::new(&tx);
    super::rollups::add(&mut batch, &refs);
    mark_providers(&mut batch, &due);
    batch.execute(&mut tx).await?;
    tx.commit().await?;
    Ok(calls.len())
}

/// Runs one write alone, in its own transaction.
pub(crate) async fn commit_work(writer: &AnyPool, work: &mut Work) -> Result<Done> {
    let (_, mut done) = commit(writer, &[], std::slice::from_mut(work), &[]).await?;
    done.pop()
        .unwrap_or(Err(Error::Db(sqlx::Error::WorkerCrashed)))
}

type Answers = (Vec<Result<Recorded>>, Vec<Result<Done>>);

/// Writes a batch in one transaction. The outer error fails the whole batch (nothing was
/// committed); the inner ones are per write (a lost lease).
async fn commit(
    writer: &AnyPool,
    records: &[CallRecord],
    works: &mut [Work],
    marks: &[(String, Mark)],
) -> Result<Answers> {
    let mut tx = writer.begin().await?;
    let fenced = fence_tasks(&mut tx, records).await?;
    let kept: Vec<usize> = (0..records.len())
        .filter(|&i| {
            records[i]
                .lease
                .as_ref()
                .is_none_or(|l| fenced.contains(&(l.task_id.clone(), l.epoch)))
        })
        .collect();
    let ids: Vec<String> = kept.iter().map(|_| new_id()).collect();
    let calls: Vec<&NewLlmCall> = kept.iter().map(|&i| &records[i].call).collect();
    let steps: Vec<(&StepFacts, &NewLlmCall)> = kept
        .iter()
        .filter_map(|&i| records[i].step.as_ref().map(|s| (s, &records[i].call)))
        .collect();
    // The calls' writes read nothing back: one round trip on SQLite.
    let mut batch = Batch::new(&tx);
    insert_calls(&mut batch, &ids, &calls);
    super::rollups::add(&mut batch, &calls);
    add_to_steps(&mut batch, &steps);
    mark_providers(&mut batch, marks);
    batch.execute(&mut tx).await?;

    // Other writes, in arrival order; their events join the calls'.
    let mut values: Vec<Result<Box<dyn Any + Send>>> = Vec::with_capacity(works.len());
    let mut outgoing: Vec<(&str, Vec<Outgoing>)> = kept
        .iter()
        .map(|&i| {
            (
                records[i].call.workspace_id.as_str(),
                records[i].events.clone(),
            )
        })
        .collect();
    for work in works.iter_mut() {
        match (work.run)(&mut tx).await {
            Ok((value, events)) => {
                values.push(Ok(value));
                outgoing.push((work.workspace_id.as_str(), events));
            }
            Err(Error::LeaseLost(task)) => {
                values.push(Err(Error::LeaseLost(task)));
                outgoing.push((work.workspace_id.as_str(), Vec::new()));
            }
            Err(e) => return Err(e),
        }
    }
    let mut stored = stage_events(&mut tx, &outgoing).await?.into_iter();
    tx.commit().await?;

    let mut ids = ids.into_iter();
    let recorded = (0..records.len())
        .map(|i| {
            if kept.contains(&i) {
                Ok(Recorded {
                    id: ids.next().unwrap_or_default(),
                    events: stored.next().unwrap_or_default(),
                })
            } else {
                Err(Error::LeaseLost(
                    records[i]
                        .lease
                        .as_ref()
                        .map(|l| l.task_id.clone())
                        .unwrap_or_default(),
                ))
            }
        })
        .collect();
    let done = values
        .into_iter()
        .map(|value| {
            let events = stored.next().unwrap_or_default();
            value.map(|v| (v, events))
        })
        .collect();
    Ok((recorded, done))
}

/// `SELECT p AS a, p AS b … UNION ALL SELECT …`: a portable derived table of bound rows
/// (SQLite's `VALUES` cannot name its columns). Only placeholders and the fixed names are
/// formatted into the statement.
fn rows_table(batch: &Batch<'_>, names: &[&str], rows: usize) -> String {
    (0..rows)
        .map(|r| {
            let cols: Vec<String> = names
                .iter()
                .enumerate()
                .map(|(c, name)| format!("{} AS {name}", batch.mark(r * names.len() + c + 1)))
                .collect();
            format!("SELECT {}", cols.join(", "))
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

/// Adds the leased records to their tasks' counters, one statement for the batch; the rows it
/// matched (id and epoch still current) are the records whose claim holds.
async fn fence_tasks(
    conn: &mut AnyConnection,
    records: &[CallRecord],
) -> Result<HashSet<(String, i64)>> {
    // (task, epoch) → prompt, completion, cached, cost, unpriced.
    let mut deltas: BTreeMap<(&str, i64), [i64; 5]> = BTreeMap::new();
    for r in records {
        if let Some(lease) = &r.lease {
            let d = deltas
                .entry((lease.task_id.as_str(), lease.epoch))
                .or_default();
            d[0] += r.call.prompt_tokens;
            d[1] += r.call.completion_tokens;
            d[2] += r.call.cached_tokens;
            d[3] += r.call.cost_micros;
            d[4] += i64::from(!r.call.price_known);
        }
    }
    if deltas.is_empty() {
        return Ok(HashSet::new());
    }
    let sql = format!(
        "UPDATE tasks SET prompt_tokens = prompt_tokens + v.dp, completion_tokens = completion_tokens + v.dc, \
         cached_tokens = cached_tokens + v.dca, cost_micros = cost_micros + v.dcost, \
         unpriced_calls = unpriced_calls + v.dun \
         FROM ({}) AS v WHERE tasks.id = v.vid AND tasks.lease_epoch = v.vepoch \
         RETURNING id, lease_epoch",
        rows_table(
            &Batch::new(conn),
            &["vid", "vepoch", "dp", "dc", "dca", "dcost", "dun"],
            deltas.len()
        )
    );
    let mut query = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql));
    for ((task, epoch), d) in &deltas {
        query = query.bind(*task).bind(*epoch);
        for v in d {
            query = query.bind(*v);
        }
    }
    Ok(query.fetch_all(&mut *conn).await?.into_iter().collect())
}

/// Inserts calls in multi-row statements of at most 16 rows on SQLite (see [`Batch`]) and 128 on
/// Postgres.
fn insert_calls<'a>(batch: &mut Batch<'a>, ids: &'a [String], calls: &[&'a NewLlmCall]) {
    const COLUMNS: usize = 23;
    let rows = if batch.is_sqlite() { 16 } else { 128 };
    for (ids, calls) in ids.chunks(rows).zip(calls.chunks(rows)) {
        let sql = format!(
            "INSERT INTO llm_calls (id, workspace_id, task_id, agent_run_id, agent_id, provider_kind, model, \
             prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, usage_estimated, cost_micros, \
             latency_ms, ttft_ms, success, error_class, attempt, created_at, provider_id, price_known, role, workflow) \
             VALUES {}",
            batch.rows(calls.len(), COLUMNS)
        );
        let mut values: Vec<Value<'a>> = Vec::with_capacity(calls.len() * COLUMNS);
        for (id, call) in ids.iter().zip(calls) {
            values.extend([
                Value::from(id),
                Value::from(&call.workspace_id),
                Value::from(&call.task_id),
                Value::from(&call.agent_run_id),
                Value::from(&call.agent_id),
                Value::from(&call.provider_kind),
                Value::from(&call.model),
                Value::Int(call.prompt_tokens),
                Value::Int(call.completion_tokens),
                Value::Int(call.cached_tokens),
                Value::Int(call.reasoning_tokens),
                Value::Int(i64::from(call.usage_estimated)),
                Value::Int(call.cost_micros),
                Value::Int(call.latency_ms),
                Value::OptInt(call.ttft_ms),
                Value::Int(i64::from(call.success)),
                Value::from(&call.error_class),
                Value::Int(call.attempt),
                Value::Int(call.created_at),
                Value::from(&call.provider_id),
                Value::Int(i64::from(call.price_known)),
                Value::from(&call.role),
                Value::from(&call.workflow),
            ]);
        }
        batch.push(sql, values);
    }
}

/// What the calls of a provider said about it and is not written yet: its last success, and
/// its last failure with the failure's class.
#[derive(Debug, Clone, Default)]
pub(crate) struct Mark {
    ok: Option<i64>,
    failed: Option<(i64, String)>,
}

impl Mark {
    fn merge(&mut self, other: Mark) {
        self.ok = self.ok.max(other.ok);
        if let Some((at, class)) = other.failed
            && self.failed.as_ref().is_none_or(|(mine, _)| *mine < at)
        {
            self.failed = Some((at, class));
        }
    }

    /// Whether the provider is failing by these calls: its last failure is later than its
    /// last success.
    fn failing(&self) -> bool {
        self.failed.as_ref().map(|(at, _)| *at) > self.ok
    }
}

/// Providers' last success and last failure for Health, kept by the writer task. A busy
/// provider answers hundreds of calls a second and one row per provider would serialise every
/// batch on it (a statement per batch on SQLite, a row lock on Postgres), so a mark is written
/// at once only when it changes what Health says (a provider starts or stops failing, or is
/// seen for the first time by this process) and otherwise at most once a second; a crash loses
/// at most that second of timestamps, never a call.
#[derive(Default)]
struct Marks {
    pending: BTreeMap<String, Mark>,
    /// Per provider: whether it was failing by the last mark written, and when that was.
    written: std::collections::HashMap<String, (bool, Instant)>,
}

/// How long a mark that changes nothing on Health may wait.
const MARK_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

impl Marks {
    fn note<'a>(&mut self, calls: impl Iterator<Item = &'a NewLlmCall>) {
        for call in calls {
            let Some(provider) = call.provider_id.as_deref() else {
                continue;
            };
            let class = call.error_class.as_deref().unwrap_or("error");
            let mark = if call.success {
                Mark {
                    ok: Some(call.created_at),
                    failed: None,
                }
            } else if class == "cancelled" {
                // A cancelled call says nothing about the provider.
                continue;
            } else {
                Mark {
                    ok: None,
                    failed: Some((call.created_at, class.to_owned())),
                }
            };
            match self.pending.get_mut(provider) {
                Some(pending) => pending.merge(mark),
                None => {
                    self.pending.insert(provider.to_owned(), mark);
                }
            }
        }
    }

    /// Takes the marks to write now (`all`: every pending one).
    fn take(&mut self, now: Instant, all: bool) -> Vec<(String, Mark)> {
        let due: Vec<String> = self
            .pending
            .iter()
            .filter(|(provider, mark)| {
                all || self.written.get(*provider).is_none_or(|(failing, at)| {
                    *failing != mark.failing() || now.duration_since(*at) >= MARK_EVERY
                })
            })
            .map(|(provider, _)| provider.clone())
            .collect();
        due.into_iter()
            .filter_map(|provider| {
                let mark = self.pending.remove(&provider)?;
                self.written.insert(provider.clone(), (mark.failing(), now));
                Some((provider, mark))
            })
            .collect()
    }

    /// Puts back marks whose batch failed.
    fn restore(&mut self, marks: Vec<(String, Mark)>) {
        for (provider, mark) in marks {
            self.written.remove(&provider);
            self.pending.entry(provider).or_default().merge(mark);
        }
    }

    /// When the oldest held-back mark must be written.
    fn deadline(&self) -> Option<Instant> {
        self.pending
            .keys()
            .map(|p| {
                self.written
                    .get(p)
                    .map_or_else(Instant::now, |(_, at)| *at + MARK_EVERY)
            })
            .min()
    }
}

/// Keeps each provider's last success and last failure (with its class), only moved forward
/// (batches from several processes may commit out of order).
fn mark_providers<'a>(batch: &mut Batch<'a>, marks: &'a [(String, Mark)]) {
    for (provider, mark) in marks {
        if let Some(at) = mark.ok {
            let sql = format!(
                "UPDATE providers SET last_success_at = {at} WHERE id = {id} \
                 AND (last_success_at IS NULL OR last_success_at < {at2})",
                at = batch.mark(1),
                id = batch.mark(2),
                at2 = batch.mark(3),
            );
            batch.push(
                sql,
                vec![Value::Int(at), Value::from(provider), Value::Int(at)],
            );
        }
        if let Some((at, class)) = &mark.failed {
            let sql = format!(
                "UPDATE providers SET last_failure_at = {at}, last_error = {class} WHERE id = {id} \
                 AND (last_failure_at IS NULL OR last_failure_at < {at2})",
                at = batch.mark(1),
                class = batch.mark(2),
                id = batch.mark(3),
                at2 = batch.mark(4),
            );
            batch.push(
                sql,
                vec![
                    Value::Int(*at),
                    Value::from(class),
                    Value::from(provider),
                    Value::Int(*at),
                ],
            );
        }
    }
}

/// Writes held-back marks in a transaction of their own (nothing else came within a second).
async fn commit_marks(writer: &AnyPool, marks: &[(String, Mark)]) -> Result<()> {
    if marks.is_empty() {
        return Ok(());
    }
    let mut tx = writer.begin().await?;
    let mut batch = Batch::new(&tx);
    mark_providers(&mut batch, marks);
    batch.execute(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Adds the calls to their steps' counters; the call that answered a step also records which
/// provider and model did. One statement for the batch.
fn add_to_steps<'a>(batch: &mut Batch<'a>, steps: &[(&'a StepFacts, &'a NewLlmCall)]) {
    #[derive(Default)]
    struct Merged<'a> {
        d: [i64; 5],
        context: i64,
        answered: Option<(&'a str, &'a str, Option<&'a str>, Option<&'a str>)>,
    }
    let mut runs: BTreeMap<&str, Merged<'_>> = BTreeMap::new();
    for (facts, call) in steps {
        let m = runs.entry(facts.run_id.as_str()).or_default();
        m.d[0] += call.prompt_tokens;
        m.d[1] += call.completion_tokens;
        m.d[2] += call.cached_tokens;
        m.d[3] += call.cost_micros;
        m.d[4] += i64::from(!call.price_known);
        // In arrival order, so the latest call's context and answer win, as one by one.
        if facts.context_tokens > 0 {
            m.context = facts.context_tokens;
        }
        if let Some((provider_id, note)) = &facts.answered {
            m.answered = Some((
                call.provider_kind.as_str(),
                call.model.as_str(),
                provider_id.as_deref(),
                note.as_deref(),
            ));
        }
    }
    if runs.is_empty() {
        return;
    }
    let names = [
        "vid", "dp", "dc", "dca", "dcost", "dun", "vctx", "vans", "vkind", "vmodel", "vpid",
        "vnote",
    ];
    let sql = format!(
        "UPDATE agent_runs SET prompt_tokens = prompt_tokens + v.dp, completion_tokens = completion_tokens + v.dc, \
         cached_tokens = cached_tokens + v.dca, cost_micros = cost_micros + v.dcost, \
         unpriced_calls = unpriced_calls + v.dun, \
         context_tokens = CASE WHEN v.vctx > 0 THEN v.vctx ELSE context_tokens END, \
         provider_kind = CASE WHEN v.vans = 1 THEN v.vkind ELSE provider_kind END, \
         model = CASE WHEN v.vans = 1 THEN v.vmodel ELSE model END, \
         provider_id = CASE WHEN v.vans = 1 THEN v.vpid ELSE provider_id END, \
         fallback_note = CASE WHEN v.vans = 1 THEN v.vnote ELSE fallback_note END \
         FROM ({}) AS v WHERE agent_runs.id = v.vid",
        rows_table(batch, &names, runs.len())
    );
    let mut values: Vec<Value<'a>> = Vec::with_capacity(runs.len() * names.len());
    for (run_id, m) in &runs {
        values.push(Value::Text(run_id));
        values.extend(m.d.iter().map(|v| Value::Int(*v)));
        let (kind, model, pid, note) = m.answered.unwrap_or(("", "", None, None));
        values.extend([
            Value::Int(m.context),
            Value::Int(i64::from(m.answered.is_some())),
            Value::Text(kind),
            Value::Text(model),
            Value::OptText(pid),
            Value::OptText(note),
        ]);
    }
    batch.push(sql, values);
}

/// Numbers and stores each write's events, per workspace (one [`events::stage`] each), and
/// hands each write its own, in the order given.
async fn stage_events(
    conn: &mut AnyConnection,
    outgoing: &[(&str, Vec<Outgoing>)],
) -> Result<Vec<Vec<Arc<Event>>>> {
    let mut by_workspace: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, (ws, events)) in outgoing.iter().enumerate() {
        if !events.is_empty() {
            by_workspace.entry(*ws).or_default().push(i);
        }
    }
    let mut out: Vec<Vec<Arc<Event>>> = vec![Vec::new(); outgoing.len()];
    for (ws, members) in by_workspace {
        let all: Vec<Outgoing> = members
            .iter()
            .flat_map(|&i| outgoing[i].1.iter().cloned())
            .collect();
        let mut stored = events::stage(conn, ws, all).await?.into_iter();
        for &i in &members {
            out[i] = stored.by_ref().take(outgoing[i].1.len()).collect();
        }
    }
    Ok(out)
}
