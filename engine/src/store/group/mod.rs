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
use std::sync::Arc;
use std::time::Instant;

use futures_util::future::BoxFuture;
use sqlx::pool::PoolConnection;
use sqlx::{AnyConnection, AnyPool, Connection};
use tokio::sync::{mpsc, oneshot};

use crate::events::{Event, Outgoing};
use crate::store::batch::Batch;
use crate::store::llm_calls::NewLlmCall;
use crate::store::queue::Lease;
use crate::{Error, Result, new_id};

mod marks;
mod spin;
mod statements;

use marks::{Mark, Marks, commit_marks, mark_providers};
use statements::{add_to_steps, fence_tasks, insert_calls, stage_events};

/// Writes gathered into one transaction at most. 128 × 25 call columns stays far below both
/// backends' limits on bound parameters.
const MAX_BATCH: usize = 128;
/// Writes waiting for the writer at most; callers beyond it wait to enqueue (backpressure).
const QUEUE: usize = 4096;
/// How long the writer keeps the write connection from one batch to the next while writes keep
/// coming, at most: then it hands it back for a turn of the other writers ([`crate::Store::begin`]).
const HOLD: std::time::Duration = std::time::Duration::from_millis(20);

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
    /// The budgets' hold taken before the call, settled to its real cost in the same
    /// transaction ([`crate::budgets::enforce`]).
    pub reservation: Option<crate::budgets::enforce::Reservation>,
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
    /// `sqlite` says whether commits are waited for spinning ([`spin`]).
    pub(crate) fn spawn(writer: AnyPool, sqlite: bool) -> GroupWriter {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(writer, sqlite, rx));
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

async fn run(writer: AnyPool, sqlite: bool, mut rx: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut marks = Marks::default();
    // The write connection, kept from one batch to the next while writes keep coming: handing
    // it back to the pool costs sqlx a ping of the connection (a round trip to its thread), and
    // the next batch waited for it every time. It goes back when no write is waiting (after one
    // yield, for writers answered by the last commit to send their next), after [`HOLD`], or
    // after a failed batch.
    let mut held: Option<(PoolConnection<sqlx::Any>, Instant)> = None;
    loop {
        if held.is_some() && rx.is_empty() {
            tokio::task::yield_now().await;
            if rx.is_empty() {
                held = None;
            }
        }
        if held
            .as_ref()
            .is_some_and(|(_, since)| since.elapsed() > HOLD)
        {
            held = None;
        }
        // Marks held back are written within a second even when no other write comes.
        let received = match marks.deadline() {
            Some(at) => {
                match tokio::time::timeout_at(at.into(), rx.recv_many(&mut batch, MAX_BATCH)).await
                {
                    Ok(n) => n,
                    Err(_) => {
                        // The marks are written through the pool: the connection goes back first.
                        held = None;
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
        // Yielding lets writers that are ready to send join this batch: again while each yield
        // brings more (writers answered by the last commit are still arriving), at the cost of
        // one yield to a lone writer, which is never waited for.
        loop {
            tokio::task::yield_now().await;
            let before = batch.len();
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            if batch.len() == before || batch.len() == MAX_BATCH {
                break;
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
        // Marks of earlier batches' calls ride along with this one; this batch's calls are
        // noted once they are recorded (a refused record says nothing on Health).
        let due = marks.take(Instant::now(), false);
        let conn = match held.take() {
            Some(held) => Ok(held),
            None => writer.acquire().await.map(|c| (c, Instant::now())),
        };
        let committed = match conn {
            Ok((mut conn, since)) => {
                let result = spin::spin(commit(&mut conn, &calls, &mut works, &due), sqlite).await;
                // After a failure the connection goes back to the pool, which checks it.
                if result.is_ok() {
                    held = Some((conn, since));
                }
                result
            }
            Err(e) => Err(e.into()),
        };
        match committed {
            Ok((recorded, done)) => {
                for ((reply, result), record) in call_replies.into_iter().zip(recorded).zip(&calls)
                {
                    if result.is_ok() {
                        marks.note(std::iter::once(&record.call));
                    }
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
                    let result = commit_call(&writer, record).await;
                    if result.is_ok() {
                        marks.note(std::iter::once(&record.call));
                    }
                    let _ = reply.send(result);
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
    let mut conn = writer.acquire().await?;
    let (mut recorded, _) = commit(&mut conn, std::slice::from_ref(record), &mut [], &[]).await?;
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
    insert_bulk(&mut tx, &ids, calls).await?;
    tx.commit().await?;
    Ok(calls.len())
}

/// Writes calls under the given ids, their rollups merged first, on the caller's transaction
/// (so what they belong to — imported spans — commits or rolls back with them).
pub(crate) async fn insert_bulk(
    tx: &mut AnyConnection,
    ids: &[String],
    calls: &[NewLlmCall],
) -> Result<()> {
    let refs: Vec<&NewLlmCall> = calls.iter().collect();
    for (ids, calls) in ids.chunks(MAX_BATCH).zip(refs.chunks(MAX_BATCH)) {
        let mut batch = Batch::new(tx);
        insert_calls(&mut batch, ids, calls);
        batch.execute(tx).await?;
    }
    let mut marks = Marks::default();
    marks.note(calls.iter());
    let due = marks.take(Instant::now(), true);
    let mut batch = Batch::new(tx);
    super::rollups::add(&mut batch, &refs);
    mark_providers(&mut batch, &due);
    batch.execute_each(tx).await?;
    Ok(())
}

/// Runs one write alone, in its own transaction.
pub(crate) async fn commit_work(writer: &AnyPool, work: &mut Work) -> Result<Done> {
    let mut conn = writer.acquire().await?;
    let (_, mut done) = commit(&mut conn, &[], std::slice::from_mut(work), &[]).await?;
    done.pop()
        .unwrap_or(Err(Error::Db(sqlx::Error::WorkerCrashed)))
}

type Answers = (Vec<Result<Recorded>>, Vec<Result<Done>>);

/// Writes a batch in one transaction. The outer error fails the whole batch (nothing was
/// committed); the inner ones are per write (a lost lease).
async fn commit(
    conn: &mut PoolConnection<sqlx::Any>,
    records: &[CallRecord],
    works: &mut [Work],
    marks: &[(String, Mark)],
) -> Result<Answers> {
    if works.is_empty()
        && records.iter().all(|r| {
            r.lease.is_none()
                && r.step.is_none()
                && r.events.is_empty()
                && r.reservation.as_ref().is_none_or(|h| h.holds.is_empty())
        })
    {
        return commit_calls(conn, records, marks).await;
    }
    let mut tx = (**conn).begin().await?;
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
    // Budgets' holds become the calls' real costs, with them (only where budgets apply).
    let settled: Vec<(&crate::budgets::enforce::Reservation, i64)> = kept
        .iter()
        .filter_map(|&i| {
            records[i]
                .reservation
                .as_ref()
                .filter(|r| !r.holds.is_empty())
                .map(|r| (r, records[i].call.cost_micros))
        })
        .collect();
    crate::budgets::enforce::settle_all(&mut tx, &settled).await?;

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

/// Writes calls that belong to no task and announce nothing (the gateway's, imports) with
/// their rollups: nothing to fence or read back, so one round trip on SQLite.
async fn commit_calls(
    conn: &mut PoolConnection<sqlx::Any>,
    records: &[CallRecord],
    marks: &[(String, Mark)],
) -> Result<Answers> {
    let ids: Vec<String> = records.iter().map(|_| new_id()).collect();
    let calls: Vec<&NewLlmCall> = records.iter().map(|r| &r.call).collect();
    let mut batch = Batch::new(conn);
    insert_calls(&mut batch, &ids, &calls);
    super::rollups::add(&mut batch, &calls);
    mark_providers(&mut batch, marks);
    batch.execute_atomic(conn).await?;
    let recorded = ids
        .into_iter()
        .map(|id| {
            Ok(Recorded {
                id,
                events: Vec::new(),
            })
        })
        .collect();
    Ok((recorded, Vec::new()))
}
