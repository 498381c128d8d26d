//! The durable task queue, fenced by lease epochs.
//!
//! The queue is the `tasks` table itself. A worker claims the oldest queued task — or a running
//! one whose lease ran out because its worker died or stalled — with one conditional `UPDATE`
//! that also takes a new **lease epoch**. Every later write made for that claim (step start,
//! call and tool-call records, step end, finish, its events) first runs [`fence`] in the same
//! transaction: an `UPDATE` that matches only while the task still carries the claim's epoch.
//! A worker whose lease was taken over therefore has every write refused with
//! [`Error::LeaseLost`] and stops; two workers can never both record a step.
//!
//! Lease times come from the database's clock ([`Backend::now_ms_sql`]), so processes whose
//! clocks disagree still agree on expiry. On Postgres the claim's sub-select uses
//! `FOR UPDATE SKIP LOCKED` so N workers take N different rows instead of racing for one.

use std::sync::Arc;

use sqlx::AnyConnection;

use crate::events::{Event, Outgoing};

use crate::store::Backend;
use crate::store::tasks::{TASK_COLUMNS, Task};
use crate::{Error, Result, Store};

/// A worker's claim on one task: the task and the epoch its writes must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The claimed task.
    pub task_id: String,
    /// The epoch taken by the claim.
    pub epoch: i64,
}

/// How strictly a write is fenced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fence {
    /// The claim still holds and the task is still running (step writes, finish).
    Running,
    /// The claim still holds, whatever the task's status: a call cut off by a cancel must still
    /// be recorded, because the provider billed it.
    Epoch,
}

/// Refuses the surrounding transaction's writes unless `lease` still holds.
///
/// It is a write (a no-op `UPDATE`), so that it is the first statement of the transaction: on
/// SQLite this takes the write lock up front (a read-then-write transaction can fail with
/// `SQLITE_BUSY`), and on Postgres it locks the task row until commit, so a competing claim
/// waits for this transaction and then sees the new epoch.
pub async fn fence(conn: &mut AnyConnection, lease: &Lease, mode: Fence) -> Result<()> {
    let sql = match mode {
        Fence::Running => {
            "UPDATE tasks SET lease_epoch = lease_epoch WHERE id = $1 AND lease_epoch = $2 \
             AND status = 'running'"
        }
        Fence::Epoch => {
            "UPDATE tasks SET lease_epoch = lease_epoch WHERE id = $1 AND lease_epoch = $2"
        }
    };
    let changed = sqlx::query(sql)
        .bind(&lease.task_id)
        .bind(lease.epoch)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if changed == 0 {
        return Err(Error::LeaseLost(lease.task_id.clone()));
    }
    Ok(())
}

/// Claims the next task for `worker`: the oldest queued one, or a running one whose lease
/// expired. Returns the task and the new lease, or None when there is no work.
#[tracing::instrument(skip(store))]
pub async fn claim(store: &Store, worker: &str, lease_ms: i64) -> Result<Option<(Task, Lease)>> {
    let backend: Backend = store.backend();
    let now = backend.now_ms_sql();
    let claimable = format!("(status = 'queued' OR (status = 'running' AND lease_until < {now}))");
    let lock = backend.skip_locked_sql();
    let task: Option<Task> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE tasks SET status = 'running', claimed_by = $1, lease_until = {now} + $2, \
         lease_epoch = lease_epoch + 1, attempts = attempts + 1, \
         started_at = COALESCE(started_at, {now}) \
         WHERE id = (SELECT id FROM tasks WHERE {claimable} ORDER BY created_at, id LIMIT 1 {lock}) \
         AND {claimable} RETURNING {TASK_COLUMNS}"
    )))
    .bind(worker)
    .bind(lease_ms)
    .fetch_optional(store.writer())
    .await?;
    Ok(task.map(|t| {
        let lease = Lease {
            task_id: t.id.clone(),
            epoch: t.lease_epoch,
        };
        (t, lease)
    }))
}

/// Extends a lease. Returns false when the claim no longer holds (cancelled, finished, or
/// claimed by another worker after a stall): the worker must stop.
pub async fn renew(store: &Store, lease: &Lease, lease_ms: i64) -> Result<bool> {
    let now = store.backend().now_ms_sql();
    Ok(sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE tasks SET lease_until = {now} + $3 \
         WHERE id = $1 AND lease_epoch = $2 AND status = 'running'"
    )))
    .bind(&lease.task_id)
    .bind(lease.epoch)
    .bind(lease_ms)
    .execute(store.writer())
    .await?
    .rows_affected()
        > 0)
}

/// Puts a task back in the queue (graceful shutdown). The claim does not count as an attempt,
/// and the interrupted step's run goes back to idle until the next claim restarts it.
pub async fn requeue(store: &Store, lease: &Lease) -> Result<bool> {
    let mut tx = store.begin().await?;
    let changed = sqlx::query(
        "UPDATE tasks SET status = 'queued', claimed_by = NULL, lease_until = NULL, \
         attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END \
         WHERE id = $1 AND lease_epoch = $2 AND status = 'running'",
    )
    .bind(&lease.task_id)
    .bind(lease.epoch)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed > 0 {
        sqlx::query(
            "UPDATE agent_runs SET status = 'idle' WHERE task_id = $1 AND status = 'active'",
        )
        .bind(&lease.task_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(changed > 0)
}

/// Ends a claimed task with `status` (`completed` or `failed`). Returns false when the claim no
/// longer holds (cancelled or taken over meanwhile).
pub async fn finish(
    store: &Store,
    lease: &Lease,
    status: &str,
    error: Option<&str>,
) -> Result<bool> {
    let (done, _) = finish_announced(store, lease, "", status, error, |_| Vec::new()).await?;
    Ok(done.is_some())
}

/// A finished task's totals, for the event that announces the end.
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow)]
pub struct Finished {
    /// What the task cost, in micro-USD.
    pub cost_micros: i64,
    /// Prompt tokens over all its calls.
    pub prompt_tokens: i64,
    /// Completion tokens over all its calls.
    pub completion_tokens: i64,
}

/// [`finish`], storing the events `announce` makes from the task's totals in the same
/// transaction (through the group-commit writer). `None` when the claim no longer held.
pub async fn finish_announced(
    store: &Store,
    lease: &Lease,
    workspace_id: &str,
    status: &str,
    error: Option<&str>,
    announce: impl Fn(Finished) -> Vec<Outgoing> + Send + Sync + 'static,
) -> Result<(Option<Finished>, Vec<Arc<Event>>)> {
    let now = store.backend().now_ms_sql();
    let sql = format!(
        "UPDATE tasks SET status = $3, error = $4, finished_at = {now}, lease_until = NULL \
         WHERE id = $1 AND lease_epoch = $2 AND status = 'running' \
         RETURNING cost_micros, prompt_tokens, completion_tokens"
    );
    let (lease, status, error) = (lease.clone(), status.to_owned(), error.map(str::to_owned));
    let announce = Arc::new(announce);
    store
        .write(workspace_id, move |conn| {
            let (sql, lease, status, error) =
                (sql.clone(), lease.clone(), status.clone(), error.clone());
            let announce = announce.clone();
            Box::pin(async move {
                // The statement is its own fence: it matches only while the claim holds.
                let finished: Option<Finished> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(&lease.task_id)
                    .bind(lease.epoch)
                    .bind(&status)
                    .bind(&error)
                    .fetch_optional(&mut *conn)
                    .await?;
                let Some(finished) = finished else {
                    return Ok((None, Vec::new()));
                };
                if status == "failed" {
                    // A step left active by a stopped worker is not running any more.
                    sqlx::query(
                        "UPDATE agent_runs SET status = 'failed', error = COALESCE(error, $2), \
                         finished_at = COALESCE(finished_at, $3) WHERE task_id = $1 \
                         AND status IN ('active', 'idle')",
                    )
                    .bind(&lease.task_id)
                    .bind(&error)
                    .bind(crate::now_ms())
                    .execute(&mut *conn)
                    .await?;
                }
                Ok((Some(finished), announce(finished)))
            })
        })
        .await
}
